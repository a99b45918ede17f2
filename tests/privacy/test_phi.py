"""Protected health information stays out of everything but its encrypted columns: a full
flow writes known values through the API, then every table is scanned over SQL and every log
line captured during the flow is searched for them."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from tests.conftest import client_for
from tests.factories import PASSWORD, AdminUserFactory, DoctorFactory, in_future
from tests.schedule import slot_published

SECRETS = {
    "insurance_provider": "Mutual-PHI-7781",
    "insurance_policy_number": "POLICY-PHI-5520",
    "allergies": "Allergy-PHI-5512",
    "medical_history": "History-PHI-3390",
    "diagnosis": "Diagnosis-PHI-4471",
    "treatment_notes": "Notes-PHI-9026",
}


def _all_table_text() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        tables = [row[0] for row in cursor.fetchall()]
        dumps = []
        for table in tables:
            cursor.execute(f'SELECT t::text FROM "{table}" t')  # noqa: S608 - names from pg_tables
            dumps.extend(row[0] for row in cursor.fetchall())
    return "\n".join(dumps)


@pytest.mark.django_db
def test_no_plaintext_in_any_table_or_log_line(caplog):
    caplog.set_level(logging.DEBUG)
    anon = client_for()
    registered = anon.post(
        "/api/v1/patients/",
        {
            "username": "phi-patient",
            "email": "phi@example.test",
            "password": PASSWORD,
            "first_name": "Pat",
            "last_name": "Ient",
            "date_of_birth": "1980-02-02",
            "insurance_provider": SECRETS["insurance_provider"],
            "insurance_policy_number": SECRETS["insurance_policy_number"],
        },
    )
    assert registered.status_code == 201
    patient_id = registered.json()["id"]
    token = anon.post(
        "/api/v1/auth/token/", {"username": "phi-patient", "password": PASSWORD}
    ).json()["access"]
    patient = client_for()
    patient.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    doctor = DoctorFactory(requires_approval=False)
    slot = slot_published(doctor, start=in_future(days=2).replace(hour=10))
    booked = patient.post("/api/v1/appointments/", {"slot": str(slot.pk), "reason": "Check-up"})
    assert booked.status_code == 201
    appointment_id = booked.json()["id"]

    record = f"/api/v1/patients/{patient_id}/medical-record/"
    update = client_for(doctor.user).patch(
        record,
        {"allergies": SECRETS["allergies"], "medical_history": SECRETS["medical_history"]},
    )
    assert update.status_code == 200
    with time_machine.travel(slot.end + timedelta(minutes=5)):
        done = client_for(doctor.user).post(
            f"/api/v1/appointments/{appointment_id}/complete/",
            {"diagnosis": SECRETS["diagnosis"], "treatment_notes": SECRETS["treatment_notes"]},
        )
        assert done.status_code == 200, done.json()
        assert (
            client_for(AdminUserFactory()).get(record).json()["allergies"] == SECRETS["allergies"]
        )
        too_long = client_for(doctor.user).patch(
            record, {"allergies": SECRETS["allergies"] + "x" * 20000}
        )
        assert too_long.status_code == 400

    stored = _all_table_text()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for name, value in SECRETS.items():
        assert value not in stored, f"{name} is stored in plaintext"
        assert value.encode().hex() not in stored, f"{name} is stored as unencrypted bytes"
        assert value not in logged, f"{name} appears in a log line"
        assert value not in str(too_long.content), f"{name} is echoed in an error"
