from http import HTTPStatus

from core.errors import DomainError, ItemisedConflict
from scheduling.exceptions import SlotInPast

__all__ = [
    "AppointmentLimitReached",
    "BeyondBookingHorizon",
    "BookingRestricted",
    "ClinicClosed",
    "DoctorUnavailable",
    "DuplicateFeedback",
    "IdempotencyKeyReused",
    "InsideCutoff",
    "InvalidTransition",
    "LeadTimeViolation",
    "PatientConflict",
    "SeriesConflict",
    "SlotHeld",
    "SlotInPast",
    "SlotUnavailable",
]


class SlotUnavailable(DomainError):
    code = "slot_unavailable"
    message = "That slot is not free."


class LeadTimeViolation(DomainError):
    code = "lead_time_violation"
    status = HTTPStatus.BAD_REQUEST
    message = "That slot starts too soon to be booked."


class BeyondBookingHorizon(DomainError):
    code = "beyond_booking_horizon"
    status = HTTPStatus.BAD_REQUEST
    message = "That slot is too far ahead to be booked yet."


class DoctorUnavailable(DomainError):
    code = "doctor_unavailable"
    message = "That doctor is not taking bookings."


class PatientConflict(DomainError):
    code = "patient_conflict"
    message = "The patient already has an appointment at that time."


class ClinicClosed(DomainError):
    """A series' date on a clinic holiday (a single booking answers `slot_unavailable`)."""

    code = "clinic_closed"
    message = "The clinic is closed that day."


class SeriesConflict(ItemisedConflict):
    """Some visits of a series cannot be booked, so none is: one item per such visit, `attr`
    its clinic-local date, `code` why (`slot_unavailable`, `clinic_closed`,
    `doctor_unavailable`, `patient_conflict`)."""

    code = "series_conflict"
    message = "Some visits of the series cannot be booked; nothing was booked."


class BookingRestricted(DomainError):
    code = "booking_restricted"
    status = HTTPStatus.FORBIDDEN
    message = "Booking is restricted: too many unresolved no-show penalties."


class AppointmentLimitReached(DomainError):
    code = "appointment_limit_reached"
    message = "You already hold the most upcoming appointments one patient may hold."


class InvalidTransition(DomainError):
    code = "invalid_transition"
    message = "The appointment cannot make that move now."


class DuplicateFeedback(DomainError):
    code = "duplicate_feedback"
    message = "This appointment already has feedback."


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    message = "This Idempotency-Key was used with a different request."


class InsideCutoff(DomainError):
    """A patient's cancel or reschedule later than their doctor's cutoff, where the clinic
    refuses late moves (`LATE_CANCELLATION_POLICY=refuse`)."""

    code = "inside_cutoff"
    message = "It is too late to make this change online: please call the clinic."


class SlotHeld(DomainError):
    code = "slot_held"
    message = "That slot is held for a patient on the waitlist."
