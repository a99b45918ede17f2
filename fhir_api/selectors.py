"""Reads behind the FHIR API and the SMART Scheduling Links publication."""

from datetime import date
from typing import Any

from django.db.models import Case, Exists, F, OuterRef, QuerySet, Value, When

from doctors.models import Doctor
from scheduling.models import Slot
from scheduling.selectors import slot_list_free

# FHIR's Slot.status: booked, bookable, or neither (past, inside the lead time, beyond the
# horizon, under time off or a holiday, of a blacklisted doctor).
SLOT_STATUSES = ("free", "busy", "busy-unavailable")


def fhir_slot_list() -> QuerySet[Slot, dict[str, Any]]:
    """Every slot as plain rows with its FHIR `fhir_status`, in (start, id) order. *Free* is
    exactly what `slot_list_free` offers, so the FHIR API and the REST API never disagree."""
    bookable = slot_list_free().filter(pk=OuterRef("pk"))
    return (
        Slot.objects.annotate(
            fhir_status=Case(
                When(is_booked=True, then=Value("busy")),
                When(Exists(bookable), then=Value("free")),
                default=Value("busy-unavailable"),
            )
        )
        .values("id", "doctor_id", "start", "end", "fhir_status")
        .order_by("start", "id")
    )


def fhir_schedule_list(*, include_blacklisted: bool) -> QuerySet[Doctor, Any]:
    """One Schedule per doctor, as plain rows (`doctor_id`, names, `specialization_name`,
    `is_blacklisted`), in id order."""
    doctors = Doctor.objects.all()
    if not include_blacklisted:
        doctors = doctors.filter(is_blacklisted=False)
    return doctors.values(
        "is_blacklisted",
        doctor_id=F("user_id"),
        first_name=F("user__first_name"),
        last_name=F("user__last_name"),
        specialization_name=F("specialization__name"),
    ).order_by("user_id")


def smart_free_slot_page(*, day: date, after: tuple | None, size: int) -> list[tuple]:
    """One page of the slots SMART Scheduling Links publishes for the clinic-local `day`
    (the free ones), as
    `(id, doctor_id, start, end)` tuples in (start, doctor) order, after the key `after`
    (the last row's `(start, doctor_id)`). Keyset paging: each page is one query that starts
    where the last one stopped, so reading page n costs no more than page 1 (the partial index
    on free slots' start serves it)."""
    slots = slot_list_free(date_from=day, date_to=day)
    if after is not None:
        start, doctor_id = after
        slots = slots.filter(start__gte=start).exclude(start=start, doctor_id__lte=doctor_id)
    return list(slots.values_list("id", "doctor_id", "start", "end")[:size])
