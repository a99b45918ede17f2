import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditLog
from audit.services import audit_record
from doctors.services import specialization_create
from tests.appointments.timeline import appointment_at
from tests.conftest import client_for
from tests.factories import PASSWORD, PatientFactory

pytestmark = pytest.mark.django_db


def entries(**filters) -> list[AuditLog]:
    return list(AuditLog.objects.filter(**filters).order_by("at", "id"))


class TestAppendOnly:
    def test_the_model_refuses_to_change_or_delete_an_entry(self):
        entry = audit_record(action="test", target_type="thing", actor=None)
        entry.action = "rewritten"
        with pytest.raises(PermissionError):
            entry.save()
        with pytest.raises(PermissionError):
            entry.delete()
        with pytest.raises(PermissionError):
            AuditLog.objects.filter(pk=entry.pk).update(action="rewritten")
        with pytest.raises(PermissionError):
            AuditLog.objects.filter(pk=entry.pk).delete()

    @pytest.mark.parametrize(
        "statement",
        ["UPDATE audit_auditlog SET action = 'rewritten'", "DELETE FROM audit_auditlog"],
    )
    def test_the_database_refuses_it_too(self, statement):
        audit_record(action="test", target_type="thing", actor=None)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(statement)
        assert AuditLog.objects.get().action == "test"

    def test_a_rolled_back_change_leaves_no_entry_and_a_committed_one_always_has_one(self):
        def create_then_fail():
            with transaction.atomic():
                specialization_create(name="Neurology")
                raise RuntimeError("the surrounding work failed")

        with pytest.raises(RuntimeError):
            create_then_fail()
        assert entries(target_type="specialization") == []
        specialization_create(name="Neurology")
        [entry] = entries(target_type="specialization")
        assert entry.action == "create"
        assert entry.changes == {"name": [None, "Neurology"]}

    def test_the_admin_site_shows_it_read_only(self, client, admin_user):
        audit_record(action="test", target_type="thing", actor=None)
        admin_user.is_staff = True
        admin_user.save()
        client.force_login(admin_user)
        assert client.get("/admin/audit/auditlog/").status_code == 200
        assert client.get("/admin/audit/auditlog/add/").status_code == 403
        entry = AuditLog.objects.get(action="test")
        response = client.post(f"/admin/audit/auditlog/{entry.pk}/delete/", {"post": "yes"})
        assert response.status_code == 403
        assert AuditLog.objects.filter(pk=entry.pk).exists()


class TestAccountEvents:
    def test_sign_in_success_failure_logout_and_password_change(self, anon_client, patient):
        username = patient.user.username
        anon_client.post("/api/v1/auth/token/", {"username": username, "password": "wrong"})
        tokens = anon_client.post(
            "/api/v1/auth/token/",
            {"username": username, "password": PASSWORD},
            REMOTE_ADDR="203.0.113.9",
        ).json()
        client = client_for(patient.user)
        client.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]})
        client.post(
            "/api/v1/auth/password/",
            {"old_password": PASSWORD, "new_password": "brand-new-Passw0rd"},
        )
        actions = [(e.action, e.target_id) for e in entries(target_type="user")]
        pk = str(patient.pk)
        assert actions[-4:] == [
            ("sign_in_failed", pk),
            ("sign_in", pk),
            ("logout", pk),
            ("password_change", pk),
        ]
        sign_in = entries(action="sign_in")[-1]
        assert sign_in.ip == "203.0.113.9"
        assert sign_in.actor_id == patient.pk
        assert len(sign_in.request_id) >= 8

    def test_each_request_has_its_id_in_the_entry_and_the_response(self, admin_client):
        response = admin_client.post(
            "/api/v1/specializations/", {"name": "Oncology"}, HTTP_X_REQUEST_ID="req-1234567890"
        )
        assert response["X-Request-ID"] == "req-1234567890"
        assert entries(target_type="specialization")[0].request_id == "req-1234567890"


class TestProtectedValuesStayOut:
    def test_encrypted_fields_are_logged_as_changed_only(self, patient_client, patient):
        patient_client.patch(
            f"/api/v1/patients/{patient.pk}/",
            {"insurance_provider": "Secret Mutual ZQ-88", "contact_number": "+44 7700 900123"},
        )
        [entry] = entries(target_type="patient", action="update")
        assert entry.changes["insurance_provider"] == "(changed)"
        assert entry.changes["contact_number"][1] == "+44 7700 900123"
        assert "ZQ-88" not in str(entry.changes)

    def test_the_note_of_a_move_is_logged_as_changed_only(self, patient, doctor):
        appointment = appointment_at(doctor, patient, hours=30)
        client_for(patient.user).post(
            f"/api/v1/appointments/{appointment.pk}/cancel/", {"reason": "Panic attacks QK-17"}
        )

        [entry] = entries(target_type="appointment", action="transition")
        assert entry.changes == {"status": ["confirmed", "cancelled"], "note": "(changed)"}

    def test_feedback_comments_are_logged_as_changed_only(self, patient, doctor):
        appointment = appointment_at(doctor, patient, hours=-3, status="completed")
        client_for(patient.user).post(
            f"/api/v1/appointments/{appointment.pk}/feedback/",
            {"rating": 2, "comments": "Rash came back VX-40"},
        )

        [entry] = entries(target_type="feedback", action="create")
        assert entry.changes["comments"] == "(changed)"
        assert entry.changes["rating"] == [None, 2]


class TestAuditLogApi:
    def test_admins_filter_and_page_with_a_cursor(self, admin_client, admin_user):
        for n in range(5):
            specialization_create(name=f"Field {n}")
        response = admin_client.get(
            "/api/v1/audit-logs/", {"target_type": "specialization", "page_size": 2}
        )
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"next", "previous", "results"}
        assert len(body["results"]) == 2
        assert body["results"][0]["changes"] == {"name": [None, "Field 4"]}
        follow = admin_client.get(body["next"])
        assert len(follow.json()["results"]) == 2
        assert admin_client.get("/api/v1/audit-logs/", {"action": "nope"}).json()["results"] == []
        assert admin_client.get("/api/v1/audit-logs/", {"actor": "bad"}).status_code == 400

    def test_nobody_else_reads_it(self, patient_client, doctor_client):
        assert patient_client.get("/api/v1/audit-logs/").status_code == 403
        assert doctor_client.get("/api/v1/audit-logs/").status_code == 403


def test_reading_a_medical_record_is_audited(patient):
    other = PatientFactory()
    client = client_for(patient.user)
    client.get(f"/api/v1/patients/{patient.pk}/medical-record/")
    client.get(f"/api/v1/patients/{other.pk}/medical-record/")  # 404: nothing was read
    reads = entries(action="read", target_type="medical_record")
    assert [(r.target_id, r.actor_id) for r in reads] == [(str(patient.pk), patient.pk)]


def test_account_changes_in_the_admin_site_are_audited(client, admin_user, patient):
    client.force_login(admin_user)
    user = patient.user
    response = client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "username": user.username,
            "first_name": user.first_name,
            "last_name": "Renamed",
            "email": user.email,
            "time_zone": user.time_zone,
            "is_active": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )
    assert response.status_code == 302, response.content[:500]
    [entry] = entries(target_type="user", action="update")
    assert entry.changes["last_name"][1] == "Renamed"
    assert entry.changes["is_active"] == [True, False]
    assert entry.actor_id == admin_user.pk
