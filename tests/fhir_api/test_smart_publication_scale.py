"""The publication at 240,000 free slots: each day's file holds that day's slots whatever the
table holds, each is read in keyset pages (queries: the pages), each page's query costs what
the first one did, and the memory held while streaming is one page's, not the publication's
(bench/README.md, "SMART Scheduling Links")."""

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
        # Building 240,000 rows is this test's own set-up, not a request: no request's
        # statement timeout (DB_STATEMENT_TIMEOUT_MS) on a loaded CI machine.
        cursor.execute("SET LOCAL statement_timeout = 0")
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
def test_240000_slots_are_published_in_flat_daily_files(anon_client, settings):
    settings.SMART_BOOKING_URL = "https://book.example.test/slots/{slot}"
    page_size = settings.SMART_PUBLISH_PAGE_SIZE
    _slots_bulk_create([DoctorFactory() for _ in range(DOCTORS)], in_future(hours=3))
    manifest = anon_client.get("/api/v1/fhir/R4/$bulk-publish").json()
    urls = [item["url"] for item in manifest["output"] if item["type"] == "Slot"]

    lines = size = 0
    largest = 0
    page_times: list[float] = []
    before = _rss_peak_reset()
    began = time.perf_counter()
    for url in urls:
        response = anon_client.get(url)
        assert response.status_code == 200
        file_lines = 0
        with CaptureQueriesContext(connection) as queries:
            for chunk in response.streaming_content:
                file_lines += chunk.count(b"\n")
                size += len(chunk)
        # One query a page, and one more to find the end when the last page was full.
        assert len(queries.captured_queries) == file_lines // page_size + 1
        page_times += [float(q["time"]) for q in queries.captured_queries]
        lines += file_lines
        largest = max(largest, file_lines)
    elapsed = time.perf_counter() - began
    grown = _status_bytes("VmHWM") - before

    print(
        f"\n{lines} slots in {len(urls)} files, {size / 2**20:.1f} MiB in {elapsed:.1f} s, "
        f"largest file {largest} slots, {len(page_times)} queries, "
        f"peak memory +{grown / 2**20:.1f} MiB"
    )
    assert lines == SLOTS
    # A file is one clinic-local day: at most a day of quarter-hours per doctor, whatever
    # the table holds.
    assert largest <= DOCTORS * 24 * 4 + DOCTORS * 4  # a 25-hour day when clocks go back
    # What streaming holds is about one page, a small part of the whole publication.
    assert grown < 32 * 2**20
    assert size > 2 * grown
    # Keyset pages: the last pages' queries cost what the first ones did.
    assert statistics.median(page_times[-20:]) <= 3 * statistics.median(page_times[:20]) + 0.05
