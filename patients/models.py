from django.conf import settings
from django.db import models
from django_cryptography.fields import encrypt


class Gender(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNDISCLOSED = "undisclosed", "Prefer not to say"


class Patient(models.Model):
    """A patient's profile. Its id is its user's id (docs/api.md, "Identifiers").

    Insurance details, allergies and medical history are protected health information:
    encrypted at rest with `FIELD_ENCRYPTION_KEY` (django-cryptography-5), so the database and
    its backups hold only ciphertext.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="patient"
    )
    date_of_birth = models.DateField()
    gender = models.CharField(max_length=16, choices=Gender.choices, blank=True)
    contact_number = models.CharField(max_length=32, blank=True)
    insurance_provider = encrypt(models.CharField(max_length=200, blank=True))
    insurance_policy_number = encrypt(models.CharField(max_length=100, blank=True))
    allergies = encrypt(models.TextField(blank=True))
    medical_history = encrypt(models.TextField(blank=True))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.username

    @property
    def id(self):
        return self.user_id
