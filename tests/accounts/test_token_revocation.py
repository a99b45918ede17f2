"""A token issued before a blacklisting, a password change or a deactivation in the admin site
never works again, whatever happens to the account or the token's blacklisting afterwards;
tokens issued after it work (API.md, "Additions of v1")."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from audit.models import AuditLog
from tests.conftest import error_codes
from tests.factories import PASSWORD
from tests.schedule import slot_published

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
ME_URL = "/api/v1/auth/me/"
PASSWORD_URL = "/api/v1/auth/password/"
NEW_PASSWORD = "a-much-longer-new-secret-77"


def sign_in(username: str, password: str = PASSWORD) -> dict:
    response = APIClient().post(TOKEN_URL, {"username": username, "password": password})
    assert response.status_code == 200, response.json()
    return response.json()


def me(access: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get(ME_URL)


def refresh(token: str):
    return APIClient().post(REFRESH_URL, {"refresh": token})


def assert_refused(pair: dict) -> None:
    """Neither token of `pair` works: the access token on a request, the refresh token at the
    refresh endpoint. (After a password change simplejwt's check of the password hash an access
    token carries may answer first, with its own code.)"""
    for response in (me(pair["access"]), refresh(pair["refresh"])):
        assert response.status_code == 401, response.json()
        assert error_codes(response)[0] in {"token_not_valid", "password_changed"}


def assert_works(pair: dict) -> None:
    assert me(pair["access"]).status_code == 200
    assert refresh(pair["refresh"]).status_code == 200


def unblacklist_every_refresh_token() -> None:
    """What deleting the rows under "Blacklisted tokens" in the admin site does."""
    BlacklistedToken.objects.all().delete()


def test_tokens_from_before_a_blacklisting_stay_dead_after_the_unblacklisting(admin_client, doctor):
    before = sign_in(doctor.user.username)
    rotated = refresh(sign_in(doctor.user.username)["refresh"]).json()

    blacklisted = admin_client.post(
        f"/api/v1/doctors/{doctor.pk}/blacklist/", {"reason": "Licence suspended"}
    )
    assert blacklisted.status_code == 200, blacklisted.json()
    assert admin_client.post(f"/api/v1/doctors/{doctor.pk}/unblacklist/").status_code == 200

    assert_refused(before)
    assert_refused(rotated)
    unblacklist_every_refresh_token()
    assert_refused(before)
    assert_works(sign_in(doctor.user.username))


def test_tokens_from_before_a_password_change_stay_dead_and_new_ones_work(patient):
    before = sign_in(patient.user.username)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {before['access']}")
    changed = client.post(PASSWORD_URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 204

    assert_refused(before)
    unblacklist_every_refresh_token()
    assert_refused(before)
    assert_works(sign_in(patient.user.username, NEW_PASSWORD))


def test_within_one_second_the_revocation_parts_tokens_issued_before_from_those_after(patient):
    # `iat` counts whole seconds; the issue before and the one after share it here.
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, 0, 250_000, tzinfo=UTC), tick=False):
        before = sign_in(patient.user.username)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {before['access']}")
        changed = client.post(
            PASSWORD_URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
        )
        assert changed.status_code == 204
        after = sign_in(patient.user.username, NEW_PASSWORD)

        assert_refused(before)
        assert_works(after)


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def admin_account_save(staff, user, **changes):
    """Post the admin site's change form of `user` with `changes` (the rest as stored)."""
    data = {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "time_zone": user.time_zone,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on" if user.is_superuser else "",
        **changes,
    }
    data = {field: value for field, value in data.items() if value != ""}
    response = staff.post(reverse("admin:accounts_user_change", args=[user.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()


def test_tokens_from_before_a_password_set_in_the_admin_site_stay_dead(staff, patient):
    before = sign_in(patient.user.username)

    response = staff.post(
        reverse("admin:auth_user_password_change", args=[patient.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "set_usable_password": "true"},
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert_refused(before)
    unblacklist_every_refresh_token()
    assert_refused(before)
    assert_works(sign_in(patient.user.username, NEW_PASSWORD))
    assert AuditLog.objects.filter(action="password_change", target_id=str(patient.pk)).exists()


def test_tokens_from_before_a_deactivation_in_the_admin_site_stay_dead_after_reactivation(
    staff, patient
):
    before = sign_in(patient.user.username)

    admin_account_save(staff, patient.user, is_active="")
    assert not patient.user.is_active
    assert AuditLog.objects.filter(
        action="update", target_type="user", target_id=str(patient.pk)
    ).exists()
    admin_account_save(staff, patient.user, is_active="on")
    assert patient.user.is_active

    assert_refused(before)
    unblacklist_every_refresh_token()
    assert_refused(before)
    assert_works(sign_in(patient.user.username))


def test_reactivating_a_blacklisted_doctors_account_in_the_admin_site_unblacklists_them(
    staff, admin_client, admin_user, doctor, anon_client
):
    slot = slot_published(doctor)
    before = sign_in(doctor.user.username)
    admin_client.post(f"/api/v1/doctors/{doctor.pk}/blacklist/", {"reason": "Under review"})
    assert anon_client.get(f"/api/v1/doctors/{doctor.pk}/").status_code == 404

    admin_account_save(staff, doctor.user, is_active="on")

    doctor.refresh_from_db()
    assert (doctor.is_blacklisted, doctor.blacklist_reason, doctor.user.is_active) == (
        False,
        "",
        True,
    )
    unblacklisted = AuditLog.objects.get(action="unblacklist", target_id=str(doctor.pk))
    assert unblacklisted.actor_id == admin_user.pk
    assert anon_client.get(f"/api/v1/doctors/{doctor.pk}/").status_code == 200
    free = anon_client.get(f"/api/v1/doctors/{doctor.pk}/slots/").json()["results"]
    assert [row["id"] for row in free] == [str(slot.pk)]
    assert_refused(before)
    assert_works(sign_in(doctor.user.username))
