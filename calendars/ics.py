"""A calendar feed as RFC 5545 text (the `icalendar` package).

Each appointment is one VEVENT whose UID is its id (stable for its whole life) and whose
SEQUENCE counts its status moves, so a calendar application replaces what it holds when the
appointment changes. Times are written in UTC; the owner's own zone is named in
X-WR-TIMEZONE for the applications that show it. A visit's reason and notes are never written:
the address is a bearer secret, and calendars are synced to places the clinic does not control.
"""

from datetime import UTC

from django.conf import settings
from icalendar import Calendar, Event, vDuration

from accounts.models import User, full_name
from appointments.models import AppointmentStatus

PRODUCT_ID = "-//CareSlot//Calendar feed 1.0//EN"

_EVENT_STATUS = {
    AppointmentStatus.PENDING: "TENTATIVE",
    AppointmentStatus.CONFIRMED: "CONFIRMED",
    AppointmentStatus.COMPLETED: "CONFIRMED",
    AppointmentStatus.NO_SHOW: "CONFIRMED",
    AppointmentStatus.CANCELLED: "CANCELLED",
    AppointmentStatus.REJECTED: "CANCELLED",
    AppointmentStatus.RESCHEDULED: "CANCELLED",
}


def calendar_feed_render(*, owner: User, rows) -> bytes:
    """The iCalendar object of `owner`'s feed from `calendars.selectors.
    calendar_feed_appointments` rows."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"CareSlot: {owner.get_full_name() or owner.username}")
    calendar.add("x-wr-timezone", owner.time_zone)
    # How often to poll (RFC 7986, and its older Microsoft spelling).
    calendar.add(
        "refresh-interval", vDuration(settings.CALENDAR_FEED_REFRESH), {"VALUE": "DURATION"}
    )
    calendar.add("x-published-ttl", vDuration(settings.CALENDAR_FEED_REFRESH))
    for row in rows:
        calendar.add_component(_event(owner, row))
    return calendar.to_ical()


def _event(owner: User, row: dict) -> Event:
    other = full_name(row["other_first_name"], row["other_last_name"])
    title = f"Appointment with Dr {other}" if owner.is_patient else f"Appointment with {other}"
    event = Event()
    event.add("uid", f"{row['id']}@{settings.CALENDAR_UID_DOMAIN}")
    event.add("sequence", row["sequence"])
    # The last change, not the time of the request: the same state reads the same bytes.
    event.add("dtstamp", row["changed_at"].astimezone(UTC))
    event.add("created", row["created_at"].astimezone(UTC))
    event.add("last-modified", row["changed_at"].astimezone(UTC))
    event.add("dtstart", row["start"].astimezone(UTC))
    event.add("dtend", row["end"].astimezone(UTC))
    event.add("summary", title)
    event.add("status", _EVENT_STATUS[row["status"]])
    event.add("transp", "OPAQUE")
    if settings.CLINIC_NAME:
        event.add("location", settings.CLINIC_NAME)
    return event
