from rest_framework import status

from core.errors import DomainError


class SlotInPast(DomainError):
    code = "slot_in_past"
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "That time has already passed."


class OverlappingAvailability(DomainError):
    code = "overlapping_availability"
    default_detail = "This overlaps another availability window of the same doctor."


class HasActiveAppointments(DomainError):
    code = "has_active_appointments"
    default_detail = "A pending or confirmed appointment would be stranded; cancel it first."
