"""The SMART Scheduling Links publication (smart-on-fhir/smart-scheduling-links,
specification.md): a `$bulk-publish` manifest and NDJSON files of the clinic's Location, one
Schedule per doctor and every free Slot.

Slots come in one file per clinic-local day, from today through the booking horizon (the
specification leaves the split to the publisher; its example has a file a week). A file's
size and the time to serve it depend on one day's slots, not on how many the table holds, so
no answer outgrows a worker's timeout as the schedule grows. Each file is streamed in keyset
pages of `SMART_PUBLISH_PAGE_SIZE` rows, each written out before the next is read, so a
worker holds one page at a time (bench/README.md, "SMART Scheduling Links").
"""

import json
from collections.abc import Callable, Iterator
from datetime import date, timedelta

from django.conf import settings

from core.clinic_time import clinic_today
from fhir_api import resources
from fhir_api.selectors import fhir_schedule_list, smart_free_slot_page

# The files besides the slots' (name, resource type).
FILES = [("locations", "Location"), ("schedules", "Schedule")]


def _line(resource: dict) -> str:
    return json.dumps(resource, separators=(",", ":"), ensure_ascii=False) + "\n"


def slot_days() -> list[date]:
    """The days that can have free slots: today through the booking horizon."""
    today = clinic_today()
    return [today + timedelta(days=n) for n in range(settings.BOOKING_HORIZON_DAYS + 1)]


def manifest(
    *,
    request_url: str,
    file_url: Callable[[str], str],
    slot_file_url: Callable[[date], str],
    transaction_time: str,
) -> dict:
    """The manifest: the Location and Schedule files, then one Slot file a day. Every file
    is for the one clinic, so each is tagged with its state when `CLINIC_STATE` is set."""
    extension = {"extension": {"state": [settings.CLINIC_STATE]}} if settings.CLINIC_STATE else {}
    output = [
        {"type": resource_type, "url": file_url(name), **extension} for name, resource_type in FILES
    ]
    output += [{"type": "Slot", "url": slot_file_url(day), **extension} for day in slot_days()]
    return {
        "transactionTime": transaction_time,
        "request": request_url,
        "output": output,
        "error": [],
    }


def locations_ndjson(*, identifier_system: str) -> Iterator[str]:
    yield _line(resources.location_resource(identifier_system=identifier_system))


def schedules_ndjson() -> Iterator[str]:
    """Blacklisted doctors' schedules are not published: their slots are not bookable."""
    for row in fhir_schedule_list(include_blacklisted=False).iterator(chunk_size=500):
        yield _line(
            resources.schedule_resource(
                doctor_id=row["doctor_id"],
                first_name=row["first_name"],
                last_name=row["last_name"],
                specialization=row["specialization_name"],
                active=True,
                with_practitioner=False,
            )
        )


def slots_ndjson(*, day: date) -> Iterator[str]:
    """The free slots starting on the clinic-local `day`, a page of `SMART_PUBLISH_PAGE_SIZE`
    at a time (one query each)."""
    size = settings.SMART_PUBLISH_PAGE_SIZE
    booking = resources.SlotBooking()
    after = None
    while True:
        page = smart_free_slot_page(day=day, after=after, size=size)
        if not page:
            return
        yield "".join(
            _line(
                resources.slot_resource(
                    slot_id=slot_id,
                    doctor_id=doctor_id,
                    start=start,
                    end=end,
                    status="free",
                    booking=booking,
                )
            )
            for slot_id, doctor_id, start, end in page
        )
        if len(page) < size:
            return
        _, doctor_id, start, _ = page[-1]
        after = (start, doctor_id)
