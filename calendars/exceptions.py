from core.errors import Forbidden


class CalendarFeedNotAllowed(Forbidden):
    message = "Only doctors and patients have a calendar of their own."
