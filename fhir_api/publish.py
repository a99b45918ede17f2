"""The SMART Scheduling Links publication (smart-on-fhir/smart-scheduling-links,
specification.md): a `$bulk-publish` manifest and NDJSON files of the clinic's Location, one
Schedule per doctor and every free Slot.

The files are streamed: the slot file is read in keyset pages of `SMART_PUBLISH_PAGE_SIZE`
rows, each written out before the next is read, so a publication's memory is one page and each
query's time does not grow with the slot table (bench/README.md, "SMART Scheduling Links").
"""

import json
from collections.abc import Iterator

from django.conf import settings

from fhir_api import resources
from fhir_api.selectors import fhir_schedule_list, smart_free_slot_page

# (file name, resource type), in the order the manifest lists them.
FILES = [("locations", "Location"), ("schedules", "Schedule"), ("slots", "Slot")]


def _line(resource: dict) -> str:
    return json.dumps(resource, separators=(",", ":"), ensure_ascii=False) + "\n"


def manifest(*, request_url: str, file_url, transaction_time: str) -> dict:
    """The manifest; `file_url(name)` is the address of each file. Every file is for the one
    clinic, so each is tagged with its state when `CLINIC_STATE` is set."""
    extension = {"state": [settings.CLINIC_STATE]} if settings.CLINIC_STATE else None
    output = []
    for name, resource_type in FILES:
        item = {"type": resource_type, "url": file_url(name)}
        if extension:
            item["extension"] = extension
        output.append(item)
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


def slots_ndjson() -> Iterator[str]:
    """Every free slot, a page of `SMART_PUBLISH_PAGE_SIZE` at a time (one query each)."""
    size = settings.SMART_PUBLISH_PAGE_SIZE
    booking = resources.SlotBooking()
    after = None
    while True:
        page = smart_free_slot_page(after=after, size=size)
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
