"""The SMART Scheduling Links publication (smart-on-fhir/smart-scheduling-links,
specification.md): the manifest, and NDJSON files whose every line `fhir.resources` accepts."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.services import appointment_book
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


def _files(client) -> dict[str, str]:
    manifest = client.get(MANIFEST).json()
    return {item["type"]: item["url"] for item in manifest["output"]}


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
def test_the_manifest(anon_client, clinic, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = anon_client.get(MANIFEST, **headers)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "public, max-age=300"
    manifest = response.json()
    assert manifest["request"] == f"http://testserver{MANIFEST}"
    assert manifest["transactionTime"].endswith("Z")
    assert manifest["error"] == []
    assert [(o["type"], o["extension"]) for o in manifest["output"]] == [
        ("Location", {"state": ["LND"]}),
        ("Schedule", {"state": ["LND"]}),
        ("Slot", {"state": ["LND"]}),
    ]
    assert all(o["url"].startswith(f"http://testserver{MANIFEST}/") for o in manifest["output"])


def test_files_are_answered_whatever_the_client_accepts(anon_client):
    url = _files(anon_client)["Location"]

    for accept in ({}, {"HTTP_ACCEPT": "application/fhir+ndjson"}, {"HTTP_ACCEPT": "*/*"}):
        assert anon_client.get(url, **accept).status_code == 200


def test_the_location_and_one_schedule_per_bookable_doctor(anon_client, clinic, doctor):
    barred = DoctorFactory()
    doctor_blacklist(doctor=barred, reason="Review")
    files = _files(anon_client)

    (location,) = ndjson(anon_client, files["Location"])
    schedules = ndjson(anon_client, files["Schedule"])

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

    (slot,) = ndjson(anon_client, files["Slot"])

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
        b"".join(anon_client.get(url).streaming_content).decode() for url in files.values()
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
    url = _files(anon_client)["Slot"]

    with CaptureQueriesContext(connection) as queries:
        published = ndjson(anon_client, url)

    assert sorted(s["id"] for s in published) == sorted(str(s.pk) for s in slots)
    assert len(published) == 5
    # Pages of 2, 2 and 1: three queries, the last one short.
    assert len(queries.captured_queries) == 3
