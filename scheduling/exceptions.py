from http import HTTPStatus

from core.errors import DomainError, FieldInvalid, ValueTaken


class SlotInPast(DomainError):
    code = "slot_in_past"
    status = HTTPStatus.BAD_REQUEST
    message = "That time has already passed."


class OverlappingAvailability(DomainError):
    code = "overlapping_availability"
    message = "This overlaps another availability window of the same doctor."


class HasActiveAppointments(DomainError):
    code = "has_active_appointments"
    message = "A pending or confirmed appointment would be stranded; cancel it first."


class BeyondScheduleReach(FieldInvalid):
    """Schedules reach `SCHEDULE_MAX_DAYS_AHEAD` days ahead; anything later is a typo or a
    probe."""

    message = "Schedules do not reach that far ahead."


class SpanTooShort(FieldInvalid):
    """A window or a rule shorter than one slot makes no slot."""

    message = "Shorter than one slot."


class HolidayTaken(ValueTaken):
    message = "That day is already a holiday."
    attr = "date"
