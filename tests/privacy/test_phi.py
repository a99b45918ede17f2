"""Protected health information stays out of everything but its encrypted columns: a full
flow writes known values through the API, then every table is scanned over SQL and every log
line captured during the flow is searched for them. Besides the medical record and the clinical
notes, that is every free text written about a visit: its reason (also through an idempotent
booking, whose answer is stored to be replayed), the notes of its moves (a cancellation's, a
rejection's) and the patient's feedback."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from accounts.models import User
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
    "reason": "Reason-PHI-6204",
    "reschedule_reason": "Moved-PHI-2291",
    "cancel_reason": "Cancel-PHI-1187",
    "reject_reason": "Reject-PHI-7350",
    "feedback_comments": "Comment-PHI-8843",
}


def _all_table_text() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        tables = [row[0] for row in cursor.fetchall()]
        dumps: list[str] = []
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

    doctor = DoctorFactory.create(requires_approval=False)
    slot = slot_published(doctor, start=in_future(days=2).replace(hour=10))
    booking = {"slot": str(slot.pk), "reason": SECRETS["reason"]}
    booked = patient.post("/api/v1/appointments/", booking, HTTP_IDEMPOTENCY_KEY="phi-booking")
    assert booked.status_code == 201
    assert booked.json()["reason"] == SECRETS["reason"]
    replayed = patient.post("/api/v1/appointments/", booking, HTTP_IDEMPOTENCY_KEY="phi-booking")
    assert replayed["Idempotent-Replayed"] == "true"
    assert replayed.json() == booked.json()
    appointment_id = booked.json()["id"]

    _cancelled_rejected_and_rescheduled(patient, doctor)

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
        # The sign-in's token has expired by now: the patient signs in again.
        rated = client_for(User.objects.get(username="phi-patient")).post(
            f"/api/v1/appointments/{appointment_id}/feedback/",
            {"rating": 4, "comments": SECRETS["feedback_comments"]},
        )
        assert rated.status_code == 201
        public = client_for().get(f"/api/v1/doctors/{doctor.pk}/feedback/").json()["results"]
        assert [row["comments"] for row in public] == [SECRETS["feedback_comments"]]
        assert (
            client_for(AdminUserFactory.create()).get(record).json()["allergies"]
            == SECRETS["allergies"]
        )
        too_long = client_for(doctor.user).patch(
            record, {"allergies": SECRETS["allergies"] + "x" * 20000}
        )
        assert too_long.status_code == 400

    stored = _all_table_text()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    leaks = []
    for name, value in SECRETS.items():
        for text, needle, where in (
            (stored, value, "stored in plaintext"),
            (stored, value.encode().hex(), "stored as unencrypted bytes"),
            (logged, value, "in a log line"),
            (str(too_long.content), value, "echoed in an error"),
        ):
            if needle in text:
                leaks.append(f"{name} {where}")
    assert not leaks, ", ".join(leaks)


def _cancelled_rejected_and_rescheduled(patient, doctor) -> None:
    """The patient cancels a visit and reschedules another, each with a reason of their own; a
    doctor rejects a third with theirs. Each is shown back through the API in plaintext."""
    day = in_future(days=3)
    cancelled = patient.post(
        "/api/v1/appointments/",
        {"slot": str(slot_published(doctor, start=day.replace(hour=9)).pk)},
    ).json()["id"]
    assert (
        patient.post(
            f"/api/v1/appointments/{cancelled}/cancel/", {"reason": SECRETS["cancel_reason"]}
        ).status_code
        == 200
    )
    history = patient.get(f"/api/v1/appointments/{cancelled}/history/").json()
    assert history[-1]["note"] == SECRETS["cancel_reason"]

    moving = patient.post(
        "/api/v1/appointments/",
        {"slot": str(slot_published(doctor, start=day.replace(hour=11)).pk)},
    ).json()["id"]
    moved = patient.post(
        f"/api/v1/appointments/{moving}/reschedule/",
        {
            "slot": str(slot_published(doctor, start=day.replace(hour=13)).pk),
            "reason": SECRETS["reschedule_reason"],
        },
    )
    assert moved.json()["reason"] == SECRETS["reschedule_reason"]

    approving = DoctorFactory.create(requires_approval=True)
    pending = patient.post(
        "/api/v1/appointments/",
        {"slot": str(slot_published(approving, start=day.replace(hour=15)).pk)},
    ).json()["id"]
    rejected = client_for(approving.user).post(
        f"/api/v1/appointments/{pending}/reject/", {"reason": SECRETS["reject_reason"]}
    )
    assert rejected.json()["status"] == "rejected"
    history = patient.get(f"/api/v1/appointments/{pending}/history/").json()
    assert history[-1]["note"] == SECRETS["reject_reason"]
