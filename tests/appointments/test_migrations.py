"""The migrations that encrypt the free text of visits (appointments 0002) and mask it in the
audit log (0003), run forwards and backwards on a database holding rows written before them."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import DoctorFactory, PatientFactory

BEFORE = [("appointments", "0001_initial")]
ENCRYPTED = [("appointments", "0002_encrypt_visit_free_text")]
MASKED = [("appointments", "0003_audit_mask_visit_free_text")]

REASON = "Reason-MIG-5127"
NOTE = "Cancel-MIG-8830"
COMMENTS = "Comment-MIG-2264"
TABLES = [
    "appointments_appointment",
    "appointments_appointmentstatuschange",
    "appointments_feedback",
    "appointments_idempotencyrecord",
]


def _migrate(targets):
    """Migrate to `targets` and return every app's models as they are then."""
    return MigrationExecutor(connection).migrate(targets).apps


def _text_of(*tables: str) -> str:
    with connection.cursor() as cursor:
        dumps: list[str] = []
        for table in tables:
            cursor.execute(f'SELECT t::text FROM "{table}" t')  # noqa: S608 - names above
            dumps.extend(row[0] for row in cursor.fetchall())
    return "\n".join(dumps)


def _plaintext_rows_written(apps, doctor, patient) -> dict:
    """What the code before 0002 wrote: a visit with a reason, cancelled with a note and rated
    with comments, one without any text, an idempotency record and the audit entries."""
    appointment_model = apps.get_model("appointments", "Appointment")
    start = timezone.now().replace(microsecond=0) - timedelta(days=1)
    written = appointment_model.objects.create(
        patient_id=patient.pk,
        doctor_id=doctor.pk,
        start=start,
        end=start + timedelta(hours=1),
        status="completed",
        reason=REASON,
    )
    silent = appointment_model.objects.create(
        patient_id=patient.pk,
        doctor_id=doctor.pk,
        start=start + timedelta(hours=2),
        end=start + timedelta(hours=3),
        status="cancelled",
    )
    changes = apps.get_model("appointments", "AppointmentStatusChange").objects
    changes.create(appointment=written, from_status="", to_status="confirmed", at=start)
    changes.create(appointment=silent, from_status="confirmed", to_status="cancelled", at=start)
    changes.create(
        appointment=written, from_status="confirmed", to_status="completed", at=start, note=NOTE
    )
    apps.get_model("appointments", "Feedback").objects.create(
        appointment=written, doctor_id=doctor.pk, rating=4, comments=COMMENTS
    )
    apps.get_model("appointments", "IdempotencyRecord").objects.create(
        user_id=patient.pk,
        key="before",
        request_hash="0" * 64,
        response_status=201,
        response_body={"id": str(written.pk), "reason": REASON},
        created_at=timezone.now(),
    )
    log = apps.get_model("audit", "AuditLog").objects
    moved = log.create(
        action="transition",
        target_type="appointment",
        target_id=str(written.pk),
        changes={"status": ["confirmed", "completed"], "note": NOTE},
    )
    rated = log.create(
        action="create",
        target_type="feedback",
        target_id="1",
        changes={"rating": [None, 4], "comments": [None, COMMENTS]},
    )
    rated_silently = log.create(
        action="create",
        target_type="feedback",
        target_id="2",
        changes={"rating": [None, 5], "comments": [None, ""]},
    )
    return {
        "written": written.pk,
        "silent": silent.pk,
        "moved": moved.pk,
        "rated": rated.pk,
        "rated_silently": rated_silently.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_free_text_is_encrypted_masked_in_the_log_and_decrypted_again_backwards():
    doctor, patient = DoctorFactory(), PatientFactory()
    try:
        ids = _plaintext_rows_written(_migrate(BEFORE), doctor, patient)

        apps = _migrate(ENCRYPTED)
        stored = _text_of(*TABLES)
        for text in (REASON, NOTE, COMMENTS):
            assert text not in stored
            assert text.encode().hex() not in stored
        appointments = apps.get_model("appointments", "Appointment").objects
        assert appointments.get(pk=ids["written"]).reason == REASON
        assert appointments.get(pk=ids["silent"]).reason == ""
        notes = apps.get_model("appointments", "AppointmentStatusChange").objects
        assert sorted(notes.values_list("note", flat=True)) == ["", "", NOTE]
        feedback = apps.get_model("appointments", "Feedback").objects.get()
        assert feedback.comments == COMMENTS
        assert not apps.get_model("appointments", "IdempotencyRecord").objects.exists()

        apps = _migrate(MASKED)
        log = apps.get_model("audit", "AuditLog").objects
        assert log.get(pk=ids["moved"]).changes == {
            "status": ["confirmed", "completed"],
            "note": "(changed)",
        }
        assert log.get(pk=ids["rated"]).changes == {"rating": [None, 4], "comments": "(changed)"}
        assert log.get(pk=ids["rated_silently"]).changes == {"rating": [None, 5], "comments": None}
        assert NOTE not in _text_of("audit_auditlog")
        assert COMMENTS not in _text_of("audit_auditlog")

        apps = _migrate(BEFORE)
        appointments = apps.get_model("appointments", "Appointment").objects
        assert appointments.get(pk=ids["written"]).reason == REASON
        assert appointments.get(pk=ids["silent"]).reason == ""
        notes = apps.get_model("appointments", "AppointmentStatusChange").objects
        assert sorted(notes.values_list("note", flat=True)) == ["", "", NOTE]
        assert apps.get_model("appointments", "Feedback").objects.get().comments == COMMENTS
        assert REASON in _text_of("appointments_appointment")  # plain text columns again
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
