"""Waitlists built through the real services, for the waitlist's tests."""

from datetime import date, datetime, time

from appointments.models import Appointment
from appointments.services import appointment_book, appointment_transition
from appointments.transitions import Action
from core.clinic_time import clinic_zone
from doctors.models import Doctor
from patients.models import Patient
from scheduling.models import Slot
from waitlist.models import WaitlistEntry
from waitlist.services import waitlist_join


def clinic_day(at: datetime) -> date:
    return at.astimezone(clinic_zone()).date()


def entry_for(
    patient: Patient,
    doctor: Doctor,
    *,
    day: date,
    last_day: date | None = None,
    earliest: time | None = None,
    latest: time | None = None,
) -> WaitlistEntry:
    return waitlist_join(
        patient=patient,
        doctor=doctor,
        date_from=day,
        date_to=last_day or day,
        earliest_time=earliest,
        latest_time=latest,
    )


def booked(patient: Patient, slot: Slot) -> Appointment:
    return appointment_book(actor=patient.user, patient=patient, slot_id=slot.pk)


def cancel(appointment: Appointment) -> Appointment:
    return appointment_transition(
        appointment_id=appointment.pk, action=Action.CANCEL, actor=appointment.patient.user
    )
