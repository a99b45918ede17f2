import uuid

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q

from core.db import TsTzRange
from doctors.models import CutoffInstants, Doctor


class WeeklyRule(models.Model):
    """A recurring weekly window in clinic local time, from which dated windows and their
    slots are generated through the booking horizon (`scheduling.services.slots_extend`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    doctor = models.ForeignKey(Doctor, on_delete=models.CASCADE, related_name="weekly_rules")
    day_of_week = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(6)], help_text="Monday is 0, Sunday is 6."
    )
    start_time = models.TimeField()
    end_time = models.TimeField()
    effective_from = models.DateField()
    effective_until = models.DateField(null=True, blank=True)
    # The last clinic-local day for which this rule's windows exist.
    generated_through = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["day_of_week", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(day_of_week__gte=0, day_of_week__lte=6),
                name="scheduling_weeklyrule_day_of_week_0_6",
            ),
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")),
                name="scheduling_weeklyrule_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True)
                | Q(effective_until__gte=F("effective_from")),
                name="scheduling_weeklyrule_until_after_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.doctor} weekday {self.day_of_week} {self.start_time}-{self.end_time}"


class AvailabilityWindow(models.Model):
    """A stretch of time a doctor offers, split into slots. Published directly, or made by a
    weekly rule for one clinic-local day (`weekly_rule`, `rule_date`): one window a day, or
    several where windows that were there first (an override, one published by hand) split
    the rule's hours."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="availability_windows"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    weekly_rule = models.ForeignKey(
        WeeklyRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="windows"
    )
    rule_date = models.DateField(null=True, blank=True)
    # Made by an admin's override booking outside published availability: one slot, exactly
    # the booked time, so the window constraint keeps later windows off it too.
    is_override = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["doctor", "start"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="scheduling_window_end_after_start"
            ),
            # The database, not only the service, refuses two overlapping windows of one doctor,
            # so two overlapping windows published at the same moment cannot both land.
            ExclusionConstraint(
                name="scheduling_window_no_overlap",
                expressions=[
                    ("doctor", RangeOperators.EQUAL),
                    (TsTzRange("start", "end"), RangeOperators.OVERLAPS),
                ],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.doctor} {self.start:%Y-%m-%d %H:%M}-{self.end:%H:%M} UTC"


class Slot(CutoffInstants, models.Model):
    """One bookable unit of a window (`SLOT_MINUTES` long).

    `is_booked` is true exactly while a pending or confirmed appointment holds the slot. Only
    the appointment services write it, under the slot's row lock and in the same transaction
    as the status change; the database's partial unique constraint on appointments is what
    makes a double booking impossible. Whether a slot is offered also depends on time off,
    holidays, lead time, horizon and the doctor's standing (`slot_list_free`).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    doctor = models.ForeignKey(Doctor, on_delete=models.CASCADE, related_name="slots")
    window = models.ForeignKey(AvailabilityWindow, on_delete=models.CASCADE, related_name="slots")
    start = models.DateTimeField()
    end = models.DateTimeField()
    is_booked = models.BooleanField(default=False)

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(
                fields=["start"], condition=Q(is_booked=False), name="scheduling_slot_free_start"
            ),
            models.Index(fields=["doctor", "start"], name="scheduling_slot_doctor_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="scheduling_slot_end_after_start"
            ),
            ExclusionConstraint(
                name="scheduling_slot_no_overlap",
                expressions=[
                    ("doctor", RangeOperators.EQUAL),
                    (TsTzRange("start", "end"), RangeOperators.OVERLAPS),
                ],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.doctor} {self.start:%Y-%m-%d %H:%M} UTC"


class TimeOff(models.Model):
    """A doctor's absence: free slots inside it are not offered."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    doctor = models.ForeignKey(Doctor, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "time off"
        indexes = [models.Index(fields=["doctor", "start"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="scheduling_timeoff_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.doctor} off {self.start:%Y-%m-%d %H:%M}-{self.end:%Y-%m-%d %H:%M} UTC"


class Holiday(models.Model):
    """A clinic-wide closed day (clinic local date): no doctor's slot that day is offered."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    date = models.DateField(unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"
