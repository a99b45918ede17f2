from rest_framework import status

from core.errors import DomainError
from scheduling.exceptions import SlotInPast

__all__ = [
    "AppointmentLimitReached",
    "BeyondBookingHorizon",
    "BookingRestricted",
    "DoctorUnavailable",
    "DuplicateFeedback",
    "IdempotencyKeyReused",
    "InvalidTransition",
    "LeadTimeViolation",
    "PatientConflict",
    "SlotInPast",
    "SlotUnavailable",
]


class SlotUnavailable(DomainError):
    code = "slot_unavailable"
    default_detail = "That slot is not free."


class LeadTimeViolation(DomainError):
    code = "lead_time_violation"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "That slot starts too soon to be booked."


class BeyondBookingHorizon(DomainError):
    code = "beyond_booking_horizon"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "That slot is too far ahead to be booked yet."


class DoctorUnavailable(DomainError):
    code = "doctor_unavailable"
    default_detail = "That doctor is not taking bookings."


class PatientConflict(DomainError):
    code = "patient_conflict"
    default_detail = "The patient already has an appointment at that time."


class BookingRestricted(DomainError):
    code = "booking_restricted"
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "Booking is restricted: too many unresolved no-show penalties."


class AppointmentLimitReached(DomainError):
    code = "appointment_limit_reached"
    default_detail = "You already hold the most upcoming appointments one patient may hold."


class InvalidTransition(DomainError):
    code = "invalid_transition"
    default_detail = "The appointment cannot make that move now."


class DuplicateFeedback(DomainError):
    code = "duplicate_feedback"
    default_detail = "This appointment already has feedback."


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used with a different request."
