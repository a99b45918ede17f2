import uuid

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django_cryptography.fields import encrypt

from core.db import TsTzRange
from doctors.models import CutoffInstants, Doctor
from patients.models import Patient
from scheduling.models import Slot


class AppointmentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CONFIRMED = "confirmed", "Confirmed"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"
    RESCHEDULED = "rescheduled", "Rescheduled"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"


ACTIVE_STATUSES = (AppointmentStatus.PENDING, AppointmentStatus.CONFIRMED)
_ACTIVE = Q(status__in=ACTIVE_STATUSES)


class SeriesStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CANCELLED = "cancelled", "Cancelled"


class AppointmentSeries(models.Model):
    """A patient's recurring visits with one doctor: every `every_weeks` weeks on the weekday
    and at the clinic-local wall time of the first, `count` times or through the clinic-local
    day `until` (one of the two). Booked all or nothing (`appointments.services.series_book`);
    each visit is then an ordinary appointment with its own lifecycle, linked by `series`.
    `status` becomes `cancelled` when a cancel of the series (`series_cancel`) leaves none of
    its visits pending or confirmed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="series")
    doctor = models.ForeignKey(Doctor, on_delete=models.PROTECT, related_name="series")
    every_weeks = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    count = models.PositiveSmallIntegerField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=SeriesStatus.choices, default=SeriesStatus.ACTIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "appointment series"
        indexes = [
            models.Index(fields=["patient", "created_at"], name="appointments_series_patient"),
            models.Index(fields=["doctor", "created_at"], name="appointments_series_doctor"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(every_weeks__gte=1, every_weeks__lte=4),
                name="appointments_series_every_1_4_weeks",
            ),
            # A count or an end date, never both nor neither.
            models.CheckConstraint(
                condition=Q(count__isnull=False, until__isnull=True)
                | Q(count__isnull=True, until__isnull=False),
                name="appointments_series_count_or_until",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} with {self.doctor} every {self.every_weeks} week(s)"


class Appointment(CutoffInstants, models.Model):
    """A patient's booking of a doctor's slot, moving through `appointments.transitions`.

    `doctor`, `start` and `end` copy the slot's at booking time: the appointment keeps its
    history if the slot's window is later removed, and the database can check overlaps on the
    appointment itself. Three constraints make a double booking impossible whatever the code
    path: one active appointment per slot, and no two active appointments of one doctor or of
    one patient whose times overlap.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    doctor = models.ForeignKey(Doctor, on_delete=models.PROTECT, related_name="appointments")
    slot = models.ForeignKey(
        Slot, null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.PENDING
    )
    # The reason for the visit is clinical free text, encrypted at rest like the notes below.
    reason = encrypt(models.TextField(blank=True, max_length=2000))
    rescheduled_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rescheduled_to"
    )
    is_override = models.BooleanField(default=False)
    series = models.ForeignKey(
        AppointmentSeries,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    diagnosis = encrypt(models.TextField(blank=True))
    treatment_notes = encrypt(models.TextField(blank=True))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["doctor", "start"], name="appointments_doctor_start"),
            models.Index(fields=["patient", "start"], name="appointments_patient_start"),
            models.Index(fields=["status", "end"], name="appointments_status_end"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="appointments_end_after_start"
            ),
            models.UniqueConstraint(
                fields=["slot"], condition=_ACTIVE, name="appointments_one_active_per_slot"
            ),
            ExclusionConstraint(
                name="appointments_doctor_no_overlap",
                expressions=[
                    ("doctor", RangeOperators.EQUAL),
                    (TsTzRange("start", "end"), RangeOperators.OVERLAPS),
                ],
                condition=_ACTIVE,
            ),
            ExclusionConstraint(
                name="appointments_patient_no_overlap",
                expressions=[
                    ("patient", RangeOperators.EQUAL),
                    (TsTzRange("start", "end"), RangeOperators.OVERLAPS),
                ],
                condition=_ACTIVE,
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.patient} with {self.doctor} at {self.start:%Y-%m-%d %H:%M} UTC ({self.status})"
        )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class AppointmentStatusChange(models.Model):
    """One move of an appointment's status, written in the same transaction as the move.
    The first row of every appointment has no `from_status` (its booking). Its `note` (a
    cancellation's or a rejection's reason) is free text about the visit: encrypted at rest."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=16, choices=AppointmentStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=AppointmentStatus.choices)
    # Null when the system made the move (the no-show sweep).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    note = encrypt(models.TextField(blank=True, max_length=2000))

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status} at {self.at:%Y-%m-%d %H:%M}"


class IdempotencyRecord(models.Model):
    """The first successful answer to a booking sent with an `Idempotency-Key`, replayed to
    retries of the same request for `IDEMPOTENCY_KEY_TTL` and purged after it
    (`appointments.sweeps.idempotency_records_purge`). The answer holds the visit's reason: it
    is encrypted at rest, and the request is known only by a keyed hash
    (`appointments.api.idempotency`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = encrypt(models.JSONField(null=True))
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], name="appointments_idempotency_user_key"
            ),
        ]
        # The purge finds the expired records by their age.
        indexes = [models.Index(fields=["created_at"], name="appointments_idempotency_age")]

    def __str__(self) -> str:
        return f"{self.key} ({self.user_id})"


class Feedback(models.Model):
    """A patient's rating of a completed appointment; at most one per appointment. Its
    `comments` are shown publicly without the patient's identity, but are still free text a
    patient wrote about a visit: encrypted at rest (and never searched)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appointment = models.OneToOneField(
        Appointment, on_delete=models.CASCADE, related_name="feedback"
    )
    doctor = models.ForeignKey(Doctor, on_delete=models.CASCADE, related_name="feedback")
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comments = encrypt(models.TextField(blank=True, max_length=2000))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="appointments_feedback_rating_1_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 for {self.appointment_id}"


class PenaltyKind(models.TextChoices):
    NO_SHOW = "no_show", "No-show"
    LATE_CANCELLATION = "late_cancellation", "Late cancellation"


class Penalty(models.Model):
    """One per missed or late-cancelled appointment (unique), counted against the patient's
    bookings until an admin resolves it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="penalties")
    appointment = models.OneToOneField(
        Appointment, on_delete=models.CASCADE, related_name="penalty"
    )
    kind = models.CharField(max_length=20, choices=PenaltyKind.choices, default=PenaltyKind.NO_SHOW)
    created_at = models.DateTimeField(auto_now_add=True)
    # True only once the penalty's email was handed to the mail server.
    email_sent = models.BooleanField(default=False)
    resolved = models.BooleanField(default=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "penalties"
        indexes = [models.Index(fields=["patient", "resolved"], name="appointments_penalty_open")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} penalty for {self.appointment_id}"
