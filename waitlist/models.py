import uuid

from django.db import models
from django.db.models import F, Q

from doctors.models import Doctor, Specialization
from patients.models import Patient
from scheduling.models import Slot


class EntryStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    BOOKED = "booked", "Booked"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"


class OfferStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"


class WaitlistEntry(models.Model):
    """A patient waiting for a slot of one doctor, or of any doctor of one specialization,
    starting on a clinic-local day from `date_from` to `date_to` and, when given, not before
    `earliest_time` and ending by `latest_time` (clinic wall times). Matched until
    `expires_at`, in join order (`created_at`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="waitlist_entries")
    doctor = models.ForeignKey(
        Doctor, null=True, blank=True, on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    specialization = models.ForeignKey(
        Specialization,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="waitlist_entries",
    )
    date_from = models.DateField()
    date_to = models.DateField()
    earliest_time = models.TimeField(null=True, blank=True)
    latest_time = models.TimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=EntryStatus.choices, default=EntryStatus.WAITING
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "waitlist entries"
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(status=EntryStatus.WAITING),
                name="waitlist_waiting_join_order",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(doctor__isnull=True, specialization__isnull=False)
                | Q(doctor__isnull=False, specialization__isnull=True),
                name="waitlist_doctor_or_specialization",
            ),
            models.CheckConstraint(
                condition=Q(date_to__gte=F("date_from")), name="waitlist_dates_in_order"
            ),
            models.CheckConstraint(
                condition=Q(earliest_time__isnull=True)
                | Q(latest_time__isnull=True)
                | Q(latest_time__gt=F("earliest_time")),
                name="waitlist_times_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} waiting for {self.doctor or self.specialization}"


class WaitlistOffer(models.Model):
    """A free slot held for the patient of one entry until `expires_at`: nobody else can book
    it meanwhile. The database holds it: one open offer per slot and per entry, no slot
    offered to one entry twice, and a trigger (migration 0002) refuses another patient's
    active appointment on a slot with an open offer (`waitlist_slot_held`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    # The entry's patient, copied so that the trigger compares one row with the appointment.
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="waitlist_offers")
    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="waitlist_offers")
    appointment = models.OneToOneField(
        "appointments.Appointment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="waitlist_offer",
    )
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=Q(status=OfferStatus.OPEN),
                name="waitlist_open_offers_expiry",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["slot"],
                condition=Q(status=OfferStatus.OPEN),
                name="waitlist_one_open_offer_per_slot",
            ),
            models.UniqueConstraint(
                fields=["entry"],
                condition=Q(status=OfferStatus.OPEN),
                name="waitlist_one_open_offer_per_entry",
            ),
            models.UniqueConstraint(
                fields=["entry", "slot"], name="waitlist_slot_offered_once_per_entry"
            ),
        ]

    def __str__(self) -> str:
        return f"Offer of {self.slot_id} to {self.patient_id} ({self.status})"
