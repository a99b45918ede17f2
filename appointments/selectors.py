"""Shared reads about appointments."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from django.db.models import F, Prefetch, QuerySet

from accounts.models import User
from appointments.models import ACTIVE_STATUSES, Appointment, AppointmentSeries, Penalty
from appointments.transitions import CALLED_OFF
from audit.services import encrypted_fields
from core.clinic_time import day_bounds
from core.statements import Statement
from doctors.models import Doctor
from doctors.selectors import doctor_cutoffs_annotate
from patients.models import Patient
from scheduling.models import Slot

# Appointments and series are seen alike, by their `patient` and `doctor`.
_Row = TypeVar("_Row", Appointment, AppointmentSeries)

ENCRYPTED_APPOINTMENT_FIELDS = sorted(encrypted_fields(Appointment))
ENCRYPTED_PATIENT_FIELDS = sorted(encrypted_fields(Patient))


@dataclass(frozen=True)
class PatientActiveCounts:
    """The patient's active appointments, as booking checks them: how many are still to
    come, and which of the slots being booked one of them overlaps."""

    upcoming: int
    overlapping: frozenset[UUID]


_ACTIVE_COUNTS_SQL = """
SELECT c.upcoming, s.id
FROM (SELECT count(*) AS upcoming FROM appointments_appointment
      WHERE patient_id = %(patient)s AND status = ANY(%(active)s) AND start > %(now)s) c
LEFT JOIN scheduling_slot s ON s.id = ANY(%(slots)s) AND EXISTS (
    SELECT 1 FROM appointments_appointment a
    WHERE a.patient_id = %(patient)s AND a.status = ANY(%(active)s)
    AND a.start < s."end" AND a."end" > s.start)
"""


def _active_counts_read(rows: list[tuple[Any, ...]]) -> PatientActiveCounts:
    return PatientActiveCounts(
        upcoming=rows[0][0], overlapping=frozenset(slot_id for _, slot_id in rows if slot_id)
    )


def patient_active_counts_statement(
    *, patient_id: UUID, slot_ids: Sequence[UUID], now: datetime
) -> Statement[PatientActiveCounts]:
    """The patient's active appointments starting after `now`, and which of `slot_ids` one
    of them overlaps: one statement, sent right after the patient's lock (where no booking of
    theirs can add to either meanwhile; a cancellation may only lower them)."""
    params = {
        "patient": patient_id,
        "active": [status.value for status in ACTIVE_STATUSES],
        "now": now,
        "slots": list(slot_ids),
    }
    return Statement(_ACTIVE_COUNTS_SQL, params, _active_counts_read)


def _visible_to(rows: QuerySet[_Row], user: User) -> QuerySet[_Row]:
    """Rows of appointments (or series) `user` may see, by their `patient` and `doctor`."""
    if user.is_admin:
        return rows
    if user.is_doctor:
        return rows.filter(doctor_id=user.pk)
    if user.is_patient:
        return rows.filter(patient_id=user.pk)
    return rows.none()


def appointment_list_visible(*, user: User) -> QuerySet[Appointment]:
    """Appointments `user` may see: a patient their own, a doctor their own, admins all."""
    return _visible_to(Appointment.objects.select_related("patient__user", "doctor__user"), user)


# What a list page shows: the appointment without its encrypted clinical notes (and who
# created it), and of the patient and the doctor only their names.
_LIST_FIELDS = [
    f.name
    for f in Appointment._meta.concrete_fields
    if f.name not in ("diagnosis", "treatment_notes", "created_by")
]


def appointment_list_page(*, user: User) -> QuerySet[Appointment]:
    """The appointments `user` may see, shaped for a list page: the encrypted clinical notes,
    which a list never shows, are not read, and the patient's and the doctor's names come as
    columns of the row (`patient_first_name`, `patient_last_name`, `doctor_first_name`,
    `doctor_last_name`) rather than as four related objects per row (why: bench/README.md,
    "`GET /appointments/`"), and so do the doctor's cutoffs (`cancel_by`, `reschedule_by`).
    One query for the page whatever its size, which also counts the rows
    (`core.api.pagination.CountingPaginator`)."""
    return _visible_to(_list_shaped(), user)


def _list_shaped() -> QuerySet[Appointment]:
    return doctor_cutoffs_annotate(
        Appointment.objects.only(*_LIST_FIELDS).annotate(
            patient_first_name=F("patient__user__first_name"),
            patient_last_name=F("patient__user__last_name"),
            doctor_first_name=F("doctor__user__first_name"),
            doctor_last_name=F("doctor__user__last_name"),
        )
    )


def series_list_visible(*, user: User) -> QuerySet[AppointmentSeries]:
    """Series `user` may see, as appointments are seen (a patient their own, a doctor their
    own, admins all), each with its visits shaped as a list page's rows, by start: three
    queries for a page of series however many visits they hold."""
    series = AppointmentSeries.objects.select_related("patient__user", "doctor__user")
    return _visible_to(series, user).prefetch_related(
        Prefetch("appointments", queryset=_list_shaped().order_by("start", "pk"))
    )


def appointment_list_in_days(
    *, user: User, date_from: date | None, date_to: date | None
) -> QuerySet[Appointment]:
    """The list page's appointments (`appointment_list_page`) starting on the clinic-local
    days from `date_from` to `date_to` (both included; None: unbounded), by start."""
    lower, upper = day_bounds(date_from, date_to)
    appointments = appointment_list_page(user=user)
    if lower is not None:
        appointments = appointments.filter(start__gte=lower)
    if upper is not None:
        appointments = appointments.filter(start__lt=upper)
    return appointments.order_by("start", "pk")


def penalty_list_visible(*, user: User) -> QuerySet[Penalty]:
    """Penalties: admins all, a patient their own, nobody else any."""
    penalties = Penalty.objects.all()
    if user.is_admin:
        return penalties
    if user.is_patient:
        return penalties.filter(patient_id=user.pk)
    return penalties.none()


@dataclass(frozen=True)
class DayBoardCell:
    """One doctor's hour on the board: their slot then, if any, and the appointment that
    holds it (pending, confirmed, completed or missed), if any."""

    slot: Slot | None
    appointment: Appointment | None


@dataclass(frozen=True)
class DayBoard:
    day: date
    doctors: list[Doctor]
    starts: list[datetime]
    cells: dict[tuple[UUID, datetime], DayBoardCell]

    def rows(self) -> list[tuple[datetime, list[DayBoardCell]]]:
        """Each start time of the day with one cell per doctor, in the doctors' order."""
        empty = DayBoardCell(slot=None, appointment=None)
        return [
            (start, [self.cells.get((doctor.pk, start), empty) for doctor in self.doctors])
            for start in self.starts
        ]


def appointment_day_board(*, day: date) -> DayBoard:
    """Reception's view of one clinic-local day: every doctor in good standing, every slot of
    theirs that day, and the appointment holding each (called-off ones have given their hour
    back). Three queries whatever the number of doctors and slots; no encrypted field is read."""
    lower, upper = day_bounds(day, day)
    doctors = list(
        Doctor.objects.filter(is_blacklisted=False)
        .select_related("user")
        .order_by("user__last_name", "user__first_name")
    )
    slots = Slot.objects.filter(start__gte=lower, start__lt=upper, doctor__in=doctors)
    holding = (
        Appointment.objects.filter(start__gte=lower, start__lt=upper, doctor__in=doctors)
        .exclude(status__in=CALLED_OFF)
        .select_related("patient__user")
        .defer(*ENCRYPTED_APPOINTMENT_FIELDS, *(f"patient__{f}" for f in ENCRYPTED_PATIENT_FIELDS))
    )
    by_id = {doctor.pk: doctor for doctor in doctors}
    by_slot = {}
    for appointment in holding:
        appointment.doctor = by_id[appointment.doctor_id]  # loaded above: no query per row
        by_slot[appointment.slot_id] = appointment
    cells = {
        (slot.doctor_id, slot.start): DayBoardCell(slot=slot, appointment=by_slot.get(slot.pk))
        for slot in slots
    }
    return DayBoard(
        day=day,
        doctors=doctors,
        starts=sorted({start for _, start in cells}),
        cells=cells,
    )
