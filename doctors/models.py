from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Lower

from core.validators import FreeTextCharactersValidator, NameCharactersValidator


class CutoffInstants:
    """For a model with `start` and `doctor` (a slot, an appointment): the instants after
    which the patient's cancel and reschedule are late. Read from the row's annotations where
    a list selector added them (`doctors.selectors.doctor_cutoffs_annotate`), so a page needs
    no Doctor per row; else from its doctor."""

    start: datetime
    doctor: "Doctor"

    @property
    def cancel_by(self) -> datetime:
        cutoff = self.__dict__.get("doctor_cancel_cutoff")
        return self.start - (self.doctor.cancel_cutoff_effective if cutoff is None else cutoff)

    @property
    def reschedule_by(self) -> datetime:
        cutoff = self.__dict__.get("doctor_reschedule_cutoff")
        if cutoff is None:
            cutoff = self.doctor.reschedule_cutoff_effective
        return self.start - cutoff


class Specialization(models.Model):
    name = models.CharField(max_length=100, validators=[NameCharactersValidator()])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="doctors_specialization_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Doctor(models.Model):
    """A doctor's professional profile. Its id is its user's id (docs/api.md, "Identifiers")."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="doctor"
    )
    specialization = models.ForeignKey(
        Specialization, on_delete=models.PROTECT, related_name="doctors"
    )
    license_number = models.CharField(max_length=64, unique=True)
    years_of_experience = models.PositiveSmallIntegerField(validators=[MaxValueValidator(80)])
    bio = models.TextField(blank=True, max_length=4000, validators=[FreeTextCharactersValidator()])
    # A new booking with this doctor starts `pending` and waits for them; when false it starts
    # `confirmed`.
    requires_approval = models.BooleanField(default=True)
    # How long before an appointment a patient's cancel or reschedule becomes late (refused, or
    # penalised: LATE_CANCELLATION_POLICY). Empty: the clinic's CANCEL_CUTOFF and
    # RESCHEDULE_CUTOFF. Zero: never late.
    cancel_cutoff = models.DurationField(null=True, blank=True)
    reschedule_cutoff = models.DurationField(null=True, blank=True)
    # Mean of the patients' feedback ratings, kept in step by the feedback service.
    rating = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    rating_count = models.PositiveIntegerField(default=0)
    is_blacklisted = models.BooleanField(default=False)
    blacklisted_at = models.DateTimeField(null=True, blank=True)
    blacklist_reason = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        indexes = [models.Index(fields=["specialization", "is_blacklisted"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="doctors_doctor_rating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"Dr {self.user.get_full_name() or self.user.username}"

    @property
    def id(self):
        return self.user_id

    @property
    def cancel_cutoff_effective(self) -> timedelta:
        return settings.CANCEL_CUTOFF if self.cancel_cutoff is None else self.cancel_cutoff

    @property
    def reschedule_cutoff_effective(self) -> timedelta:
        if self.reschedule_cutoff is None:
            return settings.RESCHEDULE_CUTOFF
        return self.reschedule_cutoff
