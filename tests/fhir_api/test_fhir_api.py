"""The read-only FHIR R4 API: every resource it answers is validated by `fhir.resources`."""

from datetime import timedelta

import pytest

from appointments.services import appointment_book, appointment_transition
from appointments.transitions import Action
from doctors.services import doctor_blacklist
from scheduling.services import time_off_create
from tests.conftest import client_for
from tests.factories import DoctorFactory, in_future
from tests.fhir_api.fhir import bundle_resources, fhir_valid, outcome_codes
from tests.schedule import window_published

pytestmark = pytest.mark.django_db

BASE = "/api/v1/fhir/R4"
SECRET_REASON = "Shortness of breath on exertion"


@pytest.fixture
def day(doctor, patient):
    """Doctor's day in three days: 09:00 booked (confirmed), 10:00 and 11:00 free, 12:00
    under time off."""
    start = in_future(days=3).replace(hour=9)
    window = window_published(doctor, start=start, hours=4)
    booked, free_a, free_b, off = window.slots.order_by("start")
    appointment = appointment_book(
        actor=patient.user, patient=patient, slot_id=booked.pk, reason=SECRET_REASON
    )
    appointment_transition(appointment_id=appointment.pk, action=Action.CONFIRM, actor=doctor.user)
    time_off_create(doctor=doctor, start=off.start, end=off.end)
    return {
        "start": start,
        "booked": booked,
        "free": [free_a, free_b],
        "off": off,
        "appointment": appointment,
    }


def _get(client, path, **params):
    response = client.get(f"{BASE}/{path}", params, HTTP_ACCEPT="application/fhir+json")
    return response


def test_the_capability_statement(anon_client):
    response = _get(anon_client, "metadata")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    statement = fhir_valid(response.json())
    assert statement["fhirVersion"] == "4.0.1"
    served = {r["type"] for r in statement["rest"][0]["resource"]}
    assert served == {"Practitioner", "Schedule", "Slot", "Appointment", "Location"}


def test_a_plain_json_client_gets_fhir_json_too(anon_client):
    response = anon_client.get(f"{BASE}/metadata", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"


def test_practitioners_are_the_directory(anon_client, admin_client, doctor):
    barred = DoctorFactory()
    doctor_blacklist(doctor=barred, reason="Review")

    listed = bundle_resources(_get(anon_client, "Practitioner").json())
    read = fhir_valid(_get(anon_client, f"Practitioner/{doctor.pk}").json())

    assert [p["id"] for p in listed] == [str(doctor.pk)]
    assert read["name"][0]["family"] == doctor.user.last_name
    assert read["identifier"][0]["value"] == doctor.license_number
    assert _get(anon_client, f"Practitioner/{barred.pk}").status_code == 404
    admin_view = fhir_valid(_get(admin_client, f"Practitioner/{barred.pk}").json())
    assert admin_view["active"] is False


def test_one_schedule_per_doctor(anon_client, doctor, other_doctor):
    everyone = bundle_resources(_get(anon_client, "Schedule").json())
    mine = bundle_resources(_get(anon_client, "Schedule", actor=f"Practitioner/{doctor.pk}").json())
    read = fhir_valid(_get(anon_client, f"Schedule/{doctor.pk}").json())

    assert {s["id"] for s in everyone} == {str(doctor.pk), str(other_doctor.pk)}
    assert [s["id"] for s in mine] == [str(doctor.pk)]
    assert read["actor"][0]["reference"] == f"Practitioner/{doctor.pk}"
    assert read["actor"][1]["reference"] == "Location/clinic"


def test_slots_free_and_busy_by_schedule_and_start(anon_client, doctor, other_doctor, day):
    window_published(other_doctor, start=day["start"], hours=2)
    params = {
        "schedule": f"Schedule/{doctor.pk}",
        "start": [
            f"ge{day['start'].isoformat()}",
            f"lt{(day['start'] + timedelta(hours=4)).isoformat()}",
        ],
    }

    every = bundle_resources(_get(anon_client, "Slot", **params).json())
    free = bundle_resources(_get(anon_client, "Slot", **params, status="free").json())
    busy = bundle_resources(_get(anon_client, "Slot", **params, status="busy").json())

    assert [(s["id"], s["status"]) for s in every] == [
        (str(day["booked"].pk), "busy"),
        (str(day["free"][0].pk), "free"),
        (str(day["free"][1].pk), "free"),
        (str(day["off"].pk), "busy-unavailable"),
    ]
    assert [s["id"] for s in free] == [str(slot.pk) for slot in day["free"]]
    assert [s["id"] for s in busy] == [str(day["booked"].pk)]
    assert all(s["schedule"]["reference"] == f"Schedule/{doctor.pk}" for s in every)
    assert every[0]["start"] == day["start"].strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_date_is_a_clinic_day_and_ranges_narrow(anon_client, doctor, day):
    local_day = day["start"].date().isoformat()
    following = (day["start"] + timedelta(days=1)).date().isoformat()

    that_day = bundle_resources(_get(anon_client, "Slot", start=f"eq{local_day}").json())
    after_it = bundle_resources(_get(anon_client, "Slot", start=f"gt{local_day}").json())
    before_next = bundle_resources(_get(anon_client, "Slot", start=f"lt{following}").json())

    assert len(that_day) == 4
    assert after_it == []
    assert len(before_next) == 4


def test_free_slots_carry_the_booking_link(anon_client, settings, day):
    settings.SMART_BOOKING_URL = "https://book.example.test/slots/{slot}?from=fhir"
    free = day["free"][0]

    read = fhir_valid(_get(anon_client, f"Slot/{free.pk}").json())
    busy = fhir_valid(_get(anon_client, f"Slot/{day['booked'].pk}").json())

    assert read["extension"] == [
        {
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-deep-link",
            "valueUrl": f"https://book.example.test/slots/{free.pk}?from=fhir",
        }
    ]
    assert "extension" not in busy


def test_paging_follows_the_next_link(anon_client, day):
    first = _get(anon_client, "Slot", _count=3).json()
    links = {link["relation"]: link["url"] for link in first["link"]}
    second = anon_client.get(links["next"]).json()

    assert len(first["entry"]) == 3
    assert [e["resource"]["id"] for e in second["entry"]] == [str(day["off"].pk)]
    assert "next" not in {link["relation"] for link in second["link"]}


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"start": "ge2026-13-01"}, "start"),
        ({"start": "ne2026-12-01"}, "start"),
        ({"start": "ge2026-12-01T09:00:00"}, "start"),
        ({"start": "ge1066-10-14"}, "start"),
        ({"status": "maybe"}, "status"),
        ({"schedule": "Schedule/nope"}, "schedule"),
        ({"_count": "0"}, "_count"),
        ({"_count": "1000"}, "_count"),
        ({"_offset": "-1"}, "_offset"),
        ({"_offset": "99999999"}, "_offset"),
    ],
)
def test_a_bad_search_is_a_400_operation_outcome(anon_client, params, parameter):
    response = _get(anon_client, "Slot", **params)

    assert response.status_code == 400
    assert outcome_codes(response) == ["invalid"]
    assert response.json()["issue"][0]["expression"] == [parameter]


def test_an_unknown_id_is_a_404_operation_outcome(anon_client):
    for path in ("Slot/not-a-uuid", f"Slot/{'0' * 8}-0000-0000-0000-{'0' * 12}", "Location/x"):
        response = _get(anon_client, path)
        assert response.status_code == 404
        assert outcome_codes(response) == ["not_found"]


def test_appointments_are_scoped_as_the_rest_api(
    patient, other_patient, doctor, other_doctor, admin_user, day, anon_client
):
    appointment = day["appointment"]

    def ids(user, **params):
        return [
            a["id"]
            for a in bundle_resources(_get(client_for(user), "Appointment", **params).json())
        ]

    assert ids(patient.user) == [str(appointment.pk)]
    assert ids(doctor.user) == [str(appointment.pk)]
    assert ids(admin_user) == [str(appointment.pk)]
    assert ids(other_patient.user) == []
    assert ids(other_doctor.user) == []
    assert ids(patient.user, status="booked") == [str(appointment.pk)]
    assert ids(patient.user, status="pending,cancelled") == []
    assert _get(client_for(other_patient.user), f"Appointment/{appointment.pk}").status_code == 404
    anonymous = _get(anon_client, "Appointment")
    assert anonymous.status_code == 401
    assert outcome_codes(anonymous) == ["not_authenticated"]


def test_an_appointment_reads_without_clinical_text(patient, day):
    appointment = day["appointment"]
    response = _get(client_for(patient.user), f"Appointment/{appointment.pk}")

    resource = fhir_valid(response.json())
    assert resource["status"] == "booked"
    assert resource["slot"] == [{"reference": f"Slot/{day['booked'].pk}"}]
    actors = [p["actor"]["reference"] for p in resource["participant"]]
    assert actors == [f"Patient/{patient.pk}", f"Practitioner/{appointment.doctor_id}"]
    assert SECRET_REASON not in response.content.decode()


def test_the_location_is_the_clinic(anon_client, settings):
    settings.CLINIC_NAME = "Northside Clinic"
    settings.CLINIC_PHONE = "+44 20 7946 0123"
    settings.CLINIC_ADDRESS_LINES = ["1 High Street"]
    settings.CLINIC_CITY = "London"

    location = fhir_valid(_get(anon_client, "Location/clinic").json())
    listed = bundle_resources(_get(anon_client, "Location").json())

    assert location["name"] == "Northside Clinic"
    assert location["telecom"] == [{"system": "phone", "value": "+44 20 7946 0123"}]
    assert location["address"] == {"line": ["1 High Street"], "city": "London"}
    assert listed == [location]
