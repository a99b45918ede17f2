"""The SMART Scheduling Links publication (smart-on-fhir/smart-scheduling-links,
specification.md): the manifest, and NDJSON files whose every line `fhir.resources` accepts."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.services import appointment_book
from core.clinic_time import clinic_today, clinic_zone
from doctors.services import doctor_blacklist
from scheduling.services import time_off_create
from tests.factories import DoctorFactory, in_future
from tests.fhir_api.fhir import fhir_valid
from tests.schedule import window_published

pytestmark = pytest.mark.django_db

MANIFEST = "/api/v1/fhir/R4/$bulk-publish"
DEEP_LINK = "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-deep-link"


def ndjson(client, url: str) -> list[dict]:
    response = client.get(url, HTTP_ACCEPT="application/fhir+ndjson")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+ndjson"
    text = b"".join(response.streaming_content).decode()
    assert text == "" or text.endswith("\n")
    return [fhir_valid(json.loads(line)) for line in text.splitlines()]


def _files(client) -> dict[str, list[str]]:
    """The manifest's files by type."""
    files: dict[str, list[str]] = {}
    for item in client.get(MANIFEST).json()["output"]:
        files.setdefault(item["type"], []).append(item["url"])
    return files


def _published_slots(client) -> list[dict]:
    return [slot for url in _files(client)["Slot"] for slot in ndjson(client, url)]


@pytest.fixture
def clinic(settings):
    settings.CLINIC_NAME = "Northside Clinic"
    settings.CLINIC_PHONE = "+44 20 7946 0123"
    settings.CLINIC_WEBSITE = "https://northside.example.test"
    settings.CLINIC_ADDRESS_LINES = ["1 High Street"]
    settings.CLINIC_CITY = "London"
    settings.CLINIC_STATE = "LND"
    settings.CLINIC_POSTAL_CODE = "N1 1AA"
    settings.SMART_BOOKING_URL = "https://book.example.test/?from=smart"


@pytest.mark.parametrize("accept", [None, "application/json"])
def test_the_manifest(anon_client, clinic, settings, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = anon_client.get(MANIFEST, **headers)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "public, max-age=300"
    manifest = response.json()
    assert manifest["request"] == f"http://testserver{MANIFEST}"
    assert manifest["transactionTime"].endswith("Z")
    assert manifest["error"] == []
    output = manifest["output"]
    assert [o["type"] for o in output[:2]] == ["Location", "Schedule"]
    assert all(o["extension"] == {"state": ["LND"]} for o in output)
    assert all(o["url"].startswith(f"http://testserver{MANIFEST}/") for o in output)
    # A slot file a clinic-local day, today through the booking horizon.
    today = clinic_today()
    days = [today + timedelta(days=n) for n in range(settings.BOOKING_HORIZON_DAYS + 1)]
    assert [o["url"] for o in output[2:]] == [
        f"http://testserver{MANIFEST}/slots/{day.isoformat()}.ndjson" for day in days
    ]
    assert {o["type"] for o in output[2:]} == {"Slot"}


def test_files_are_answered_whatever_the_client_accepts(anon_client):
    (url,) = _files(anon_client)["Location"]

    for accept in ({}, {"HTTP_ACCEPT": "application/fhir+ndjson"}, {"HTTP_ACCEPT": "*/*"}):
        assert anon_client.get(url, **accept).status_code == 200


def test_the_location_and_one_schedule_per_bookable_doctor(anon_client, clinic, doctor):
    barred = DoctorFactory()
    doctor_blacklist(doctor=barred, reason="Review")
    files = _files(anon_client)

    (location,) = ndjson(anon_client, files["Location"][0])
    schedules = ndjson(anon_client, files["Schedule"][0])

    assert location["id"] == "clinic"
    assert location["name"] == "Northside Clinic"
    assert {t["system"] for t in location["telecom"]} == {"phone", "url"}
    assert location["address"] == {
        "line": ["1 High Street"],
        "city": "London",
        "state": "LND",
        "postalCode": "N1 1AA",
    }
    assert location["identifier"][0]["value"] == "clinic"
    assert [s["id"] for s in schedules] == [str(doctor.pk)]
    assert schedules[0]["actor"] == [
        {"reference": "Location/clinic", "display": "Northside Clinic"}
    ]


def test_only_free_slots_with_their_booking_links_and_no_patient_data(
    anon_client, clinic, doctor, patient
):
    start = in_future(days=3).replace(hour=9)
    booked, free, off = window_published(doctor, start=start, hours=3).slots.order_by("start")
    appointment_book(actor=patient.user, patient=patient, slot_id=booked.pk)
    time_off_create(doctor=doctor, start=off.start, end=off.end)
    files = _files(anon_client)

    (slot,) = _published_slots(anon_client)

    assert slot["id"] == str(free.pk)
    assert slot["status"] == "free"
    assert slot["schedule"] == {"reference": f"Schedule/{doctor.pk}"}
    assert slot["start"] == free.start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert slot["extension"] == [
        {"url": DEEP_LINK, "valueUrl": f"https://book.example.test/?from=smart&slot={free.pk}"},
        {
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-phone",
            "valueString": "+44 20 7946 0123",
        },
    ]
    published = "".join(
        b"".join(anon_client.get(url).streaming_content).decode()
        for urls in files.values()
        for url in urls
    )
    for private in (str(patient.pk), patient.user.last_name, patient.user.email):
        assert private not in published


def test_slot_pages_meet_at_equal_starts_without_loss_or_repeat(anon_client, settings):
    """Keyset pages of two rows over five slots, three of them at the same start (one per
    doctor): the key is (start, doctor), so a page boundary inside the tie loses nothing."""
    settings.SMART_PUBLISH_PAGE_SIZE = 2
    start = in_future(days=3).replace(hour=9)
    doctors = [DoctorFactory() for _ in range(3)]
    slots = [window_published(d, start=start, hours=1).slots.get() for d in doctors]
    slots += list(
        window_published(doctors[0], start=start + timedelta(hours=2), hours=2).slots.all()
    )
    url = f"{MANIFEST}/slots/{start.astimezone(clinic_zone()).date().isoformat()}.ndjson"

    with CaptureQueriesContext(connection) as queries:
        published = ndjson(anon_client, url)

    assert sorted(s["id"] for s in published) == sorted(str(s.pk) for s in slots)
    assert len(published) == 5
    # Pages of 2, 2 and 1: three queries, the last one short.
    assert len(queries.captured_queries) == 3


def test_a_slot_file_has_its_days_slots_only(anon_client, doctor):
    start = in_future(days=3).replace(hour=12)
    today_slot = window_published(doctor, start=start, hours=1).slots.get()
    window_published(doctor, start=start + timedelta(days=1), hours=1)
    day = start.astimezone(clinic_zone()).date()

    published = ndjson(anon_client, f"{MANIFEST}/slots/{day.isoformat()}.ndjson")
    empty = ndjson(anon_client, f"{MANIFEST}/slots/{(day - timedelta(days=1)).isoformat()}.ndjson")

    assert [s["id"] for s in published] == [str(today_slot.pk)]
    assert empty == []


@pytest.mark.parametrize("name", ["2026-13-01", "tomorrow", "2026-1-1"])
def test_a_slot_file_named_by_no_date_is_404(anon_client, name):
    assert anon_client.get(f"{MANIFEST}/slots/{name}.ndjson").status_code == 404
