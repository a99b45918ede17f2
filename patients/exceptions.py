"""Domain errors of patients' own records (core/errors.py maps them to HTTP)."""

from core.errors import FieldInvalid


class LeadTimeNotOffered(FieldInvalid):
    """A reminder lead time the clinic does not send (`REMINDER_LEAD_TIMES`)."""

    message = "The clinic does not send reminders at this lead time."
    attr = "reminder_lead_times"
