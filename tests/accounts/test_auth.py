"""Sign-in, token refresh and rotation, sign-out, `me`, password change, sign-in lockout and
`createsuperuser` (docs/api.md, "Authentication")."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import LoginFailure, Role, User
from tests.conftest import client_for, error_attrs, error_codes
from tests.factories import PASSWORD, AdminUserFactory, DoctorFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
LOGOUT_URL = "/api/v1/auth/logout/"
ME_URL = "/api/v1/auth/me/"
PASSWORD_URL = "/api/v1/auth/password/"
NEW_PASSWORD = "a-much-longer-new-secret-77"


def sign_in(username: str, password: str = PASSWORD, *, ip: str = "127.0.0.1"):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip)


def token_pair(user: User) -> dict:
    response = sign_in(user.username)
    assert response.status_code == 200, response.json()
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def claims(access: str) -> dict:
    return jwt.decode(access, settings.SIMPLE_JWT["SIGNING_KEY"], algorithms=["HS256"])


def refresh(token: str):
    return APIClient().post(REFRESH_URL, {"refresh": token})


# Sign-in ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_user", "role"),
    [
        (lambda: PatientFactory().user, "patient"),
        (lambda: DoctorFactory().user, "doctor"),
        (lambda: AdminUserFactory(), "admin"),
        # A Django superuser counts as an admin whatever its role field says.
        (lambda: UserFactory(role=Role.PATIENT, is_superuser=True, is_staff=True), "admin"),
    ],
    ids=["patient", "doctor", "admin", "superuser"],
)
def test_sign_in_returns_a_token_pair_whose_access_token_carries_the_role(make_user, role):
    user = make_user()
    body = token_pair(user)
    assert set(body) == {"access", "refresh"}
    access = claims(body["access"])
    assert access["role"] == role
    assert access["user_id"] == str(user.pk)
    assert claims(body["refresh"])["role"] == role


def test_wrong_password_is_401_in_the_envelope(patient):
    response = sign_in(patient.user.username, "not-the-password")
    assert response.status_code == 401
    assert error_codes(response) == ["no_active_account"]


def test_unknown_username_is_the_same_401_as_a_wrong_password(db):
    response = sign_in("nobody-by-this-name")
    assert response.status_code == 401
    assert error_codes(response) == ["no_active_account"]


def test_inactive_account_cannot_sign_in_even_with_the_right_password(patient):
    patient.user.is_active = False
    patient.user.save()
    response = sign_in(patient.user.username)
    assert response.status_code == 401
    assert error_codes(response) == ["no_active_account"]


def test_sign_in_without_a_password_is_400_on_password(patient):
    response = APIClient().post(TOKEN_URL, {"username": patient.user.username})
    assert response.status_code == 400
    assert error_codes(response) == ["required"]
    assert error_attrs(response) == ["password"]


# Refresh and rotation -----------------------------------------------------------------------


def test_refresh_rotates_and_the_old_refresh_token_is_rejected_afterwards(patient):
    old = token_pair(patient.user)["refresh"]

    response = refresh(old)
    assert response.status_code == 200, response.json()
    rotated = response.json()
    assert set(rotated) == {"access", "refresh"}
    assert rotated["refresh"] != old
    assert claims(rotated["access"])["user_id"] == str(patient.pk)
    assert bearer(rotated["access"]).get(ME_URL).status_code == 200

    again = refresh(old)
    assert again.status_code == 401
    assert error_codes(again) == ["token_not_valid"]
    assert refresh(rotated["refresh"]).status_code == 200


def test_refresh_with_a_malformed_token_is_401(db):
    response = refresh("not-a-jwt")
    assert response.status_code == 401
    assert error_codes(response) == ["token_not_valid"]


def test_refresh_with_an_access_token_is_401(patient):
    response = refresh(token_pair(patient.user)["access"])
    assert response.status_code == 401
    assert error_codes(response) == ["token_not_valid"]


def test_refresh_for_a_deactivated_account_is_401(patient):
    old = token_pair(patient.user)["refresh"]
    User.objects.filter(pk=patient.pk).update(is_active=False)
    response = refresh(old)
    assert response.status_code == 401
    assert error_codes(response) == ["no_active_account"]


def test_refresh_for_a_deleted_account_is_401(patient):
    old = token_pair(patient.user)["refresh"]
    patient.user.delete()
    response = refresh(old)
    assert response.status_code == 401
    assert error_codes(response) == ["no_active_account"]


def test_refresh_without_a_token_is_400(db):
    response = APIClient().post(REFRESH_URL, {})
    assert response.status_code == 400
    assert error_attrs(response) == ["refresh"]


# Sign-out -----------------------------------------------------------------------------------


def test_logout_blacklists_the_refresh_token(patient):
    pair = token_pair(patient.user)
    response = bearer(pair["access"]).post(LOGOUT_URL, {"refresh": pair["refresh"]})
    assert response.status_code == 204
    assert response.content == b""

    after = refresh(pair["refresh"])
    assert after.status_code == 401
    assert error_codes(after) == ["token_not_valid"]


def test_logout_with_another_users_refresh_token_is_401_and_leaves_it_working(
    patient, other_patient
):
    theirs = token_pair(other_patient.user)["refresh"]
    response = client_for(patient.user).post(LOGOUT_URL, {"refresh": theirs})
    assert response.status_code == 401
    error_codes(response)
    assert refresh(theirs).status_code == 200


def test_logout_without_a_body_is_400_on_refresh(patient_client):
    response = patient_client.post(LOGOUT_URL, {})
    assert response.status_code == 400
    assert error_codes(response) == ["required"]
    assert error_attrs(response) == ["refresh"]


def test_logout_with_a_malformed_token_is_401(patient_client):
    response = patient_client.post(LOGOUT_URL, {"refresh": "garbage"})
    assert response.status_code == 401
    assert error_codes(response) == ["token_not_valid"]


def test_logout_needs_a_signed_in_caller(patient):
    pair = token_pair(patient.user)
    response = APIClient().post(LOGOUT_URL, {"refresh": pair["refresh"]})
    assert response.status_code == 401
    assert error_codes(response) == ["not_authenticated"]
    assert refresh(pair["refresh"]).status_code == 200


# Me -----------------------------------------------------------------------------------------


def test_me_shows_the_patient_and_their_profile(patient, patient_client):
    response = patient_client.get(ME_URL)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "id",
        "username",
        "email",
        "first_name",
        "last_name",
        "role",
        "time_zone",
        "profile",
    }
    assert body["id"] == str(patient.pk)
    assert body["username"] == patient.user.username
    assert body["email"] == patient.user.email
    assert body["role"] == "patient"
    assert body["profile"]["id"] == str(patient.pk)
    assert body["profile"]["date_of_birth"] == "1985-04-12"
    assert "password" not in body
    assert "password" not in body["profile"]


def test_me_shows_the_doctor_profile(doctor):
    response = client_for(doctor.user).get(ME_URL)
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "doctor"
    assert body["profile"]["id"] == str(doctor.pk)
    assert body["profile"]["license_number"] == doctor.license_number
    assert body["profile"]["specialization"] == doctor.specialization_id


def test_me_for_an_admin_has_no_profile(admin_user, admin_client):
    response = admin_client.get(ME_URL)
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "admin"
    assert body["id"] == str(admin_user.pk)
    assert body["profile"] is None


def test_me_for_a_superuser_says_admin_whatever_the_role_field(db):
    superuser = UserFactory(role=Role.PATIENT, is_superuser=True, is_staff=True)
    body = client_for(superuser).get(ME_URL).json()
    assert body["role"] == "admin"
    assert body["profile"] is None


def test_me_is_401_for_an_anonymous_caller(anon_client):
    response = anon_client.get(ME_URL)
    assert response.status_code == 401
    assert error_codes(response) == ["not_authenticated"]


def test_me_is_401_with_a_garbage_bearer_token(db):
    response = bearer("garbage").get(ME_URL)
    assert response.status_code == 401
    assert error_codes(response) == ["token_not_valid"]


# Password change ----------------------------------------------------------------------------


def test_password_change_with_a_wrong_old_password_is_400_on_old_password(patient, patient_client):
    response = patient_client.post(
        PASSWORD_URL, {"old_password": "wrong", "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert error_attrs(response) == ["old_password"]
    patient.user.refresh_from_db()
    assert patient.user.check_password(PASSWORD)


@pytest.mark.parametrize(
    "weak", ["short1", "password123", "12345678901", "patientusername"], ids=str
)
def test_password_change_to_a_weak_password_is_400_on_new_password(weak, db):
    patient = PatientFactory(user__username="patientusername")
    response = client_for(patient.user).post(
        PASSWORD_URL, {"old_password": PASSWORD, "new_password": weak}
    )
    assert response.status_code == 400
    assert set(error_attrs(response)) == {"new_password"}
    patient.user.refresh_from_db()
    assert patient.user.check_password(PASSWORD)


def test_password_change_needs_both_fields(patient_client):
    response = patient_client.post(PASSWORD_URL, {})
    assert response.status_code == 400
    assert sorted(error_attrs(response)) == ["new_password", "old_password"]


def test_password_change_needs_a_signed_in_caller(anon_client):
    response = anon_client.post(
        PASSWORD_URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 401
    assert error_codes(response) == ["not_authenticated"]


def test_password_change_revokes_every_refresh_and_access_token(patient):
    first = token_pair(patient.user)
    second = token_pair(patient.user)
    client = bearer(first["access"])

    response = client.post(PASSWORD_URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 204

    for pair in (first, second):
        assert refresh(pair["refresh"]).status_code == 401
    again = client.get(ME_URL)
    assert again.status_code == 401
    error_codes(again)
    assert bearer(second["access"]).get(ME_URL).status_code == 401

    assert sign_in(patient.user.username, PASSWORD).status_code == 401
    fresh = sign_in(patient.user.username, NEW_PASSWORD)
    assert fresh.status_code == 200
    assert bearer(fresh.json()["access"]).get(ME_URL).status_code == 200
    assert refresh(fresh.json()["refresh"]).status_code == 200


def test_a_refresh_token_rotated_before_a_password_change_is_revoked_too(patient):
    rotated = refresh(token_pair(patient.user)["refresh"]).json()["refresh"]
    response = client_for(patient.user).post(
        PASSWORD_URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 204
    assert refresh(rotated).status_code == 401


# Sign-in lockout ----------------------------------------------------------------------------


def fail_sign_ins(usernames: list[str], ips: list[str]) -> None:
    for username, ip in zip(usernames, ips, strict=True):
        response = sign_in(username, "wrong-password", ip=ip)
        assert response.status_code == 401, response.json()


def assert_locked_out(response) -> None:
    assert response.status_code == 429, response.json()
    assert error_codes(response) == ["throttled"]
    assert 1 <= int(response["Retry-After"]) <= 15 * 60


def test_five_failures_for_one_username_lock_it_out_even_with_the_right_password(patient):
    username = patient.user.username
    # From five addresses, so that only the username can be what locks.
    fail_sign_ins([username] * 5, [f"10.0.0.{n}" for n in range(1, 6)])

    assert_locked_out(sign_in(username, ip="10.0.0.99"))
    # Another account on the same address is not locked by this username's failures.
    assert sign_in(PatientFactory().user.username, ip="10.0.0.1").status_code == 200


def test_four_failures_do_not_lock_out(patient):
    fail_sign_ins([patient.user.username] * 4, ["10.0.0.1"] * 4)
    assert sign_in(patient.user.username, ip="10.0.0.1").status_code == 200


def test_five_failures_from_one_address_across_usernames_lock_the_address_out(patient):
    fail_sign_ins([f"guess{n}" for n in range(5)], ["10.0.0.7"] * 5)

    assert_locked_out(sign_in(patient.user.username, ip="10.0.0.7"))
    assert sign_in(patient.user.username, ip="10.0.0.8").status_code == 200


def test_the_lockout_lifts_after_the_window(patient):
    username = patient.user.username
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        fail_sign_ins([username] * 5, ["10.0.0.1"] * 5)
        assert_locked_out(sign_in(username))

        traveller.move_to(start + timedelta(minutes=14, seconds=59))
        locked = sign_in(username)
        assert_locked_out(locked)
        assert int(locked["Retry-After"]) <= 1

        traveller.move_to(start + timedelta(minutes=15, seconds=1))
        response = sign_in(username)
        assert response.status_code == 200, response.json()
        assert bearer(response.json()["access"]).get(ME_URL).status_code == 200


def test_retry_after_counts_down_from_the_oldest_failure_in_the_window(patient):
    username = patient.user.username
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        fail_sign_ins([username] * 5, ["10.0.0.1"] * 5)
        traveller.move_to(start + timedelta(minutes=5))
        assert int(sign_in(username)["Retry-After"]) == 10 * 60


def test_locked_out_attempts_are_not_counted_as_more_failures(patient):
    username = patient.user.username
    fail_sign_ins([username] * 5, ["10.0.0.1"] * 5)
    for _ in range(3):
        assert sign_in(username, "wrong-password").status_code == 429
    assert LoginFailure.objects.filter(username=username).count() == 5


def test_rate_limits_disabled_switches_the_lockout_off(settings, patient):
    settings.RATE_LIMITS_ENABLED = False
    username = patient.user.username
    fail_sign_ins([username] * 6, ["10.0.0.1"] * 6)
    assert sign_in(username, ip="10.0.0.1").status_code == 200


# createsuperuser ----------------------------------------------------------------------------


def test_createsuperuser_noinput_makes_an_admin_who_can_sign_in(monkeypatch, db):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "clinic-root")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "root@clinic.test")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", NEW_PASSWORD)

    call_command("createsuperuser", "--noinput", verbosity=0)

    user = User.objects.get(username="clinic-root")
    assert user.role == Role.ADMIN
    assert user.is_superuser
    assert user.is_staff
    assert user.email == "root@clinic.test"
    response = sign_in("clinic-root", NEW_PASSWORD)
    assert response.status_code == 200
    assert claims(response.json()["access"])["role"] == "admin"
    me = bearer(response.json()["access"]).get(ME_URL).json()
    assert me["role"] == "admin"
    assert me["profile"] is None
