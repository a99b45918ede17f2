"""Patient self-registration, encryption at rest, and the scoped list, detail and update
(docs/api.md, "Roles and who sees what")."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role, User
from appointments.models import AppointmentStatus
from patients.models import Patient
from tests.conftest import client_for, error_attrs, error_codes
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db

PATIENTS_URL = "/api/v1/patients/"
TOKEN_URL = "/api/v1/auth/token/"
STRONG_PASSWORD = "violet-harbour-lantern-93"
INSURANCE_FIELDS = {"insurance_provider", "insurance_policy_number"}


def detail_url(patient_or_id) -> str:
    return f"{PATIENTS_URL}{getattr(patient_or_id, 'pk', patient_or_id)}/"


def registration(**overrides) -> dict:
    data = {
        "username": "ada.lovelace",
        "email": "ada@example.test",
        "password": STRONG_PASSWORD,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1990-12-10",
        "gender": "female",
        "contact_number": "+44 20 7946 0123",
        "insurance_provider": "Analytical Mutual",
        "insurance_policy_number": "AM-1843-0042",
    }
    data.update(overrides)
    return data


def register(**overrides):
    return APIClient().post(PATIENTS_URL, registration(**overrides))


def ids(response) -> set[str]:
    return {row["id"] for row in response.json()["results"]}


# Registration -------------------------------------------------------------------------------


def test_registration_creates_a_patient_who_can_sign_in():
    response = register()
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "password" not in body
    assert STRONG_PASSWORD not in response.content.decode()
    assert body["username"] == "ada.lovelace"
    assert body["email"] == "ada@example.test"
    assert body["date_of_birth"] == "1990-12-10"
    assert body["insurance_policy_number"] == "AM-1843-0042"

    user = User.objects.get(username="ada.lovelace")
    assert str(user.pk) == body["id"]
    assert user.role == Role.PATIENT
    assert not user.is_staff
    assert not user.is_superuser
    assert user.is_active
    assert Patient.objects.filter(pk=user.pk).exists()

    signed_in = APIClient().post(
        TOKEN_URL, {"username": "ada.lovelace", "password": STRONG_PASSWORD}
    )
    assert signed_in.status_code == 200
    me = client_for(user).get("/api/v1/auth/me/").json()
    assert me["role"] == "patient"
    assert me["profile"]["id"] == body["id"]


def test_registration_needs_only_the_required_fields():
    data = registration()
    for optional in ("gender", "contact_number", *INSURANCE_FIELDS):
        del data[optional]
    response = APIClient().post(PATIENTS_URL, data)
    assert response.status_code == 201, response.json()
    assert response.json()["insurance_provider"] == ""


def test_a_taken_username_is_400_on_username(patient):
    response = register(username=patient.user.username)
    assert response.status_code == 400
    assert error_attrs(response) == ["username"]
    assert error_codes(response) == ["unique"]  # DRF's name for it (API.md)
    assert User.objects.filter(username=patient.user.username).count() == 1


def test_a_taken_email_in_another_case_is_400_on_email(patient):
    response = register(email=patient.user.email.upper())
    assert response.status_code == 400
    assert error_attrs(response) == ["email"]
    assert error_codes(response) == ["unique"]
    assert not User.objects.filter(username="ada.lovelace").exists()


@pytest.mark.parametrize("username", ["ada lovelace", "ada/lovelace", "x" * 151], ids=str)
def test_an_invalid_username_is_400_on_username(username):
    response = register(username=username)
    assert response.status_code == 400
    assert error_attrs(response) == ["username"]


@pytest.mark.parametrize("email", ["not-an-email", "ada@", ""], ids=str)
def test_an_invalid_email_is_400_on_email(email):
    response = register(email=email)
    assert response.status_code == 400
    assert error_attrs(response) == ["email"]


@pytest.mark.parametrize(
    "password",
    ["short7", "password1234", "98765432109", "ada.lovelace"],
    ids=["too-short", "common", "numeric", "like-the-username"],
)
def test_a_weak_password_is_400_on_password_and_creates_nothing(password):
    response = register(password=password)
    assert response.status_code == 400
    assert set(error_attrs(response)) == {"password"}
    assert not User.objects.filter(username="ada.lovelace").exists()


def test_a_future_date_of_birth_is_400():
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = register(date_of_birth=tomorrow.isoformat())
    assert response.status_code == 400
    assert error_attrs(response) == ["date_of_birth"]


def test_missing_required_fields_are_400_each_on_its_field():
    response = APIClient().post(PATIENTS_URL, {})
    assert response.status_code == 400
    assert set(error_codes(response)) == {"required"}
    assert set(error_attrs(response)) == {
        "username",
        "email",
        "password",
        "first_name",
        "last_name",
        "date_of_birth",
    }


def test_an_invalid_gender_is_400_on_gender():
    response = register(gender="robot")
    assert response.status_code == 400
    assert error_codes(response) == ["invalid_choice"]
    assert error_attrs(response) == ["gender"]


def test_privileged_fields_sent_at_registration_are_refused():
    response = register(
        role="admin", is_staff=True, is_superuser=True, is_active=False, id="not-mine"
    )
    assert response.status_code == 400, response.json()
    assert sorted(error_attrs(response)) == ["id", "is_active", "is_staff", "is_superuser", "role"]
    assert set(error_codes(response)) == {"unknown_field"}
    assert not User.objects.filter(username="ada.lovelace").exists()
    assert register().status_code == 201
    user = User.objects.get(username="ada.lovelace")
    assert user.role == Role.PATIENT
    assert not user.is_staff
    assert user.is_active


def test_registration_is_open_to_signed_in_callers_too(doctor_client):
    assert doctor_client.post(PATIENTS_URL, registration()).status_code == 201


# Encryption at rest -------------------------------------------------------------------------


def test_insurance_and_medical_fields_are_stored_encrypted():
    response = register(insurance_provider="Analytical Mutual", insurance_policy_number="AM-99")
    patient_id = response.json()["id"]
    Patient.objects.filter(pk=patient_id).update(
        allergies="Penicillin", medical_history="Appendectomy 2004"
    )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT insurance_provider, insurance_policy_number, allergies, medical_history "
            "FROM patients_patient WHERE user_id = %s",
            [patient_id],
        )
        columns = cursor.fetchone()
    raw = b"".join(bytes(column) for column in columns)
    for plaintext in (b"Analytical Mutual", b"AM-99", b"Penicillin", b"Appendectomy"):
        assert plaintext not in raw

    patient = Patient.objects.get(pk=patient_id)
    assert patient.insurance_provider == "Analytical Mutual"
    assert patient.insurance_policy_number == "AM-99"
    assert patient.allergies == "Penicillin"
    assert patient.medical_history == "Appendectomy 2004"


# List ---------------------------------------------------------------------------------------


def test_an_admin_lists_every_patient(admin_client, patient, other_patient):
    response = admin_client.get(PATIENTS_URL)
    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert ids(response) == {str(patient.pk), str(other_patient.pk)}


def test_a_patient_lists_only_themselves(patient, patient_client, other_patient):
    response = patient_client.get(PATIENTS_URL)
    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert ids(response) == {str(patient.pk)}


def test_a_doctor_lists_only_patients_they_have_or_had_an_appointment_with(
    doctor, doctor_client, other_doctor
):
    current = AppointmentFactory(doctor=doctor, status=AppointmentStatus.CONFIRMED).patient
    past = AppointmentFactory(doctor=doctor, status=AppointmentStatus.CANCELLED).patient
    AppointmentFactory(doctor=doctor, patient=current, status=AppointmentStatus.COMPLETED)
    elsewhere = AppointmentFactory(doctor=other_doctor).patient
    PatientFactory()

    response = doctor_client.get(PATIENTS_URL)
    assert response.status_code == 200
    assert response.json()["count"] == 2  # each patient once, however many appointments
    assert ids(response) == {str(current.pk), str(past.pk)}
    assert str(elsewhere.pk) not in ids(response)
    for row in response.json()["results"]:
        assert not INSURANCE_FIELDS & set(row)


def test_a_doctor_without_appointments_lists_nobody(doctor_client, patient):
    response = doctor_client.get(PATIENTS_URL)
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_the_list_needs_a_signed_in_caller(anon_client, patient):
    response = anon_client.get(PATIENTS_URL)
    assert response.status_code == 401
    assert error_codes(response) == ["not_authenticated"]


@pytest.mark.parametrize(
    ("term", "expected"),
    [("grace", {"grace"}), ("HOPPER", {"grace"}), ("babbage@", {"charles"}), ("zzz", set())],
)
def test_admins_search_patients_by_name_and_email(admin_client, term, expected):
    people = {
        "grace": PatientFactory(user__first_name="Grace", user__last_name="Hopper"),
        "charles": PatientFactory(
            user__first_name="Charles", user__last_name="Xavier", user__email="babbage@x.test"
        ),
    }
    response = admin_client.get(PATIENTS_URL, {"search": term})
    assert response.status_code == 200
    assert ids(response) == {str(people[name].pk) for name in expected}


def test_search_stays_within_the_callers_scope(patient, patient_client, other_patient):
    response = patient_client.get(PATIENTS_URL, {"search": other_patient.user.last_name})
    assert str(other_patient.pk) not in ids(response)


# Detail -------------------------------------------------------------------------------------


def test_a_patient_reads_their_own_record_with_insurance(patient, patient_client):
    response = patient_client.get(detail_url(patient))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(patient.pk)
    assert body["insurance_policy_number"] == patient.insurance_policy_number
    assert "password" not in body


def test_a_patient_cannot_see_another_patient(patient_client, other_patient):
    response = patient_client.get(detail_url(other_patient))
    assert response.status_code == 404
    assert error_codes(response) == ["not_found"]


def test_a_doctor_without_an_appointment_gets_404(doctor_client, patient):
    response = doctor_client.get(detail_url(patient))
    assert response.status_code == 404
    assert error_codes(response) == ["not_found"]


def test_a_doctor_with_an_appointment_sees_the_patient_without_insurance(
    doctor, doctor_client, patient
):
    AppointmentFactory(doctor=doctor, patient=patient)
    response = doctor_client.get(detail_url(patient))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(patient.pk)
    assert body["email"] == patient.user.email
    assert not INSURANCE_FIELDS & set(body)


def test_an_admin_reads_any_patient(admin_client, patient):
    response = admin_client.get(detail_url(patient))
    assert response.status_code == 200
    assert response.json()["insurance_provider"] == "Acme Health"


def test_the_detail_of_an_unknown_patient_is_404(admin_client):
    response = admin_client.get(detail_url("00000000-0000-0000-0000-000000000000"))
    assert response.status_code == 404
    assert error_codes(response) == ["not_found"]


def test_a_path_id_that_is_not_a_uuid_is_a_404_envelope(admin_client):
    response = admin_client.get(f"{PATIENTS_URL}not-a-uuid/")
    assert response.status_code == 404
    assert error_codes(response) == ["not_found"]


def test_a_doctors_id_is_not_a_patients(admin_client, doctor):
    assert admin_client.get(detail_url(doctor)).status_code == 404


# Update -------------------------------------------------------------------------------------


def test_a_patient_updates_their_details(patient, patient_client):
    response = patient_client.patch(
        detail_url(patient),
        {"first_name": "Augusta", "contact_number": "+44 1", "insurance_provider": "New Co"},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["first_name"] == "Augusta"
    assert response.json()["insurance_provider"] == "New Co"
    patient.refresh_from_db()
    patient.user.refresh_from_db()
    assert patient.user.first_name == "Augusta"
    assert patient.contact_number == "+44 1"
    assert patient.insurance_provider == "New Co"


def test_an_admin_updates_a_patient(admin_client, patient):
    response = admin_client.patch(detail_url(patient), {"email": "new.address@example.test"})
    assert response.status_code == 200, response.json()
    patient.user.refresh_from_db()
    assert patient.user.email == "new.address@example.test"


def test_another_patient_cannot_update_and_gets_404(patient, other_patient):
    response = client_for(other_patient.user).patch(detail_url(patient), {"first_name": "X"})
    assert response.status_code == 404
    patient.user.refresh_from_db()
    assert patient.user.first_name != "X"


def test_a_doctor_with_an_appointment_may_read_but_not_update(doctor, doctor_client, patient):
    AppointmentFactory(doctor=doctor, patient=patient)
    response = doctor_client.patch(detail_url(patient), {"first_name": "X"})
    assert response.status_code == 403
    assert error_codes(response) == ["permission_denied"]
    patient.user.refresh_from_db()
    assert patient.user.first_name != "X"


def test_a_doctor_without_an_appointment_gets_404_on_update(doctor_client, patient):
    assert doctor_client.patch(detail_url(patient), {"first_name": "X"}).status_code == 404


def test_role_activity_ids_and_credentials_are_not_writable(patient, patient_client):
    original_username = patient.user.username
    response = patient_client.patch(
        detail_url(patient),
        {
            "role": "admin",
            "is_active": False,
            "is_staff": True,
            "id": "00000000-0000-0000-0000-000000000000",
            "username": "someone-else",
            "password": "changed-through-the-back-door-1",
            "last_name": "Byron",
        },
    )
    assert response.status_code == 400, response.json()
    assert sorted(error_attrs(response)) == [
        "id",
        "is_active",
        "is_staff",
        "password",
        "role",
        "username",
    ]
    user = User.objects.get(pk=patient.pk)
    assert user.role == Role.PATIENT
    assert user.is_active
    assert not user.is_staff
    assert user.username == original_username
    assert user.last_name != "Byron"
    assert not user.check_password("changed-through-the-back-door-1")


def test_updating_the_email_to_a_taken_one_is_400_on_email(patient, patient_client, other_patient):
    response = patient_client.patch(
        detail_url(patient), {"email": other_patient.user.email.upper()}
    )
    assert response.status_code == 400
    assert error_attrs(response) == ["email"]
    assert error_codes(response) == ["unique"]


def test_keeping_ones_own_email_in_another_case_is_fine(patient, patient_client):
    response = patient_client.patch(detail_url(patient), {"email": patient.user.email.upper()})
    assert response.status_code == 200, response.json()


def test_an_update_is_validated_like_registration(patient, patient_client):
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = patient_client.patch(detail_url(patient), {"date_of_birth": future, "email": "nope"})
    assert response.status_code == 400
    assert sorted(error_attrs(response)) == ["date_of_birth", "email"]


def test_put_is_405(patient, patient_client):
    response = patient_client.put(detail_url(patient), registration())
    assert response.status_code == 405
    assert error_codes(response) == ["method_not_allowed"]


def test_delete_is_405(patient, patient_client):
    response = patient_client.delete(detail_url(patient))
    assert response.status_code == 405
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_update_needs_a_signed_in_caller(anon_client, patient):
    assert anon_client.patch(detail_url(patient), {"first_name": "X"}).status_code == 401
