"""The slot file at 240,000 free slots: read in keyset pages, so the number of queries is the
number of pages, each page's query costs what the first one did, and the memory held while
streaming is one page's, not the file's (bench/README.md, "SMART Scheduling Links")."""

import statistics
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import DoctorFactory, in_future

pytestmark = pytest.mark.django_db

DOCTORS = 100
SLOTS_PER_DOCTOR = 2_400  # a quarter-hour each: 25 days, inside the 90-day horizon
SLOTS = DOCTORS * SLOTS_PER_DOCTOR


def _slots_bulk_create(doctors, start) -> None:
    """One window per doctor and its quarter-hour slots, written by two INSERT ... SELECT
    statements (the services would take minutes to publish this many)."""
    with connection.cursor() as cursor:
        # The rows do not overlap by construction, and checking so through the exclusion
        # constraint's GiST index is most of the insert's time: the test's transaction drops
        # it, and rolling back at the end restores it.
        cursor.execute("ALTER TABLE scheduling_slot DROP CONSTRAINT scheduling_slot_no_overlap")
        cursor.execute(
            """
            INSERT INTO scheduling_availabilitywindow (id, doctor_id, start, "end", is_override,
                                                       created_at)
            SELECT gen_random_uuid(), doctor_id, %(start)s,
                   %(start)s + %(slots)s * interval '15 minutes', false, now()
            FROM unnest(%(doctors)s::uuid[]) AS doctor_id
            """,
            {"start": start, "slots": SLOTS_PER_DOCTOR, "doctors": [d.pk for d in doctors]},
        )
        cursor.execute(
            """
            INSERT INTO scheduling_slot (id, doctor_id, window_id, start, "end", is_booked)
            SELECT gen_random_uuid(), w.doctor_id, w.id,
                   w.start + n * interval '15 minutes', w.start + (n + 1) * interval '15 minutes',
                   false
            FROM scheduling_availabilitywindow w, generate_series(0, %(last)s) AS n
            WHERE w.doctor_id = ANY(%(doctors)s::uuid[])
            """,
            {"last": SLOTS_PER_DOCTOR - 1, "doctors": [d.pk for d in doctors]},
        )
        cursor.execute("ANALYZE scheduling_slot")


def _status_bytes(field: str) -> int:
    """A figure of this process's /proc/self/status (Linux), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def _rss_peak_reset() -> int:
    """Restart the kernel's count of this process's peak resident memory (VmHWM) from now,
    and answer the resident memory now."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_bytes("VmRSS")


@pytest.mark.timeout(300)  # about a minute alone; more on a busy machine
def test_the_slot_file_streams_240000_slots_in_flat_pages(anon_client, settings):
    settings.SMART_BOOKING_URL = "https://book.example.test/slots/{slot}"
    page_size = settings.SMART_PUBLISH_PAGE_SIZE
    _slots_bulk_create([DoctorFactory() for _ in range(DOCTORS)], in_future(hours=3))
    response = anon_client.get("/api/v1/fhir/R4/$bulk-publish/slots.ndjson")
    assert response.status_code == 200

    lines = size = 0
    before = _rss_peak_reset()
    began = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        for chunk in response.streaming_content:
            lines += chunk.count(b"\n")
            size += len(chunk)
    elapsed = time.perf_counter() - began
    grown = _status_bytes("VmHWM") - before

    pages = SLOTS // page_size
    print(
        f"\n{lines} slots, {size / 2**20:.1f} MiB in {elapsed:.1f} s, "
        f"{len(queries.captured_queries)} queries, peak memory +{grown / 2**20:.1f} MiB"
    )
    assert lines == SLOTS
    # One query per page, and one that finds the end (the last page was full).
    assert len(queries.captured_queries) == pages + 1
    # What streaming holds is about one page, a small part of the whole file.
    assert grown < 32 * 2**20
    assert size > 2 * grown
    # Keyset pages: the last pages' queries cost what the first ones did.
    times = [float(q["time"]) for q in queries.captured_queries[:pages]]
    assert statistics.median(times[-20:]) <= 3 * statistics.median(times[:20]) + 0.05
