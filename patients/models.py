from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
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
    reminder_lead_times = ArrayField(
        models.DurationField(),
        null=True,
        blank=True,
        size=10,
        help_text="Which of the clinic's reminder lead times (REMINDER_LEAD_TIMES) this patient "
        "wants: empty for no reminders, unset for all of them.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.username

    @property
    def id(self):
        return self.user_id

    def reminder_lead_times_wanted(self) -> list[timedelta]:
        """The lead times this patient is reminded at, longest first: the clinic's, less those
        the patient turned off. A lead time the clinic no longer offers is not sent."""
        offered = settings.REMINDER_LEAD_TIMES
        if self.reminder_lead_times is None:
            return list(offered)
        return [lead for lead in offered if lead in self.reminder_lead_times]
