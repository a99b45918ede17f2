"""Usernames are one and the same after NFKC and case folding: unique that way (the database
enforces it), and sign-in and its lockout find them that way."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import LoginFailure, User
from tests.conftest import error_attrs
from tests.factories import PASSWORD, PatientFactory, SpecializationFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
ME_URL = "/api/v1/auth/me/"
FULLWIDTH = "\uff41\uff4c\uff49\uff43\uff45.\uff4d\uff4f\uff52\uff47\uff41\uff4e"  # alice.morgan
FULLWIDTH_UPPER = "\uff21\uff2c\uff29\uff23\uff25.\uff2d\uff2f\uff32\uff27\uff21\uff2e"
SAME_AS_ALICE = ["alice.morgan", "ALICE.MORGAN", "Alice.Morgan", FULLWIDTH, FULLWIDTH_UPPER]


@pytest.fixture
def alice(db):
    return PatientFactory(user__username="alice.morgan")


def register(username: str, n: int = 0):
    body = {
        "username": username,
        "email": f"someone{n}@example.test",
        "password": PASSWORD,
        "first_name": "Some",
        "last_name": "One",
        "date_of_birth": "1990-01-01",
    }
    return APIClient().post("/api/v1/patients/", body)


@pytest.mark.parametrize("username", SAME_AS_ALICE, ids=ascii)
def test_a_username_differing_only_by_case_or_unicode_form_is_taken(alice, username):
    response = register(username)
    assert response.status_code == 400, response.json()
    assert error_attrs(response) == ["username"]
    assert User.objects.count() == 1


@pytest.mark.parametrize("username", SAME_AS_ALICE[1:], ids=ascii)
def test_an_admin_cannot_create_a_doctor_under_a_username_that_folds_alike(
    alice, admin_client, username
):
    response = admin_client.post(
        "/api/v1/doctors/",
        {
            "username": username,
            "email": "dr@example.test",
            "password": PASSWORD,
            "first_name": "Dr",
            "last_name": "Who",
            "specialization": SpecializationFactory().pk,
            "license_number": "LIC-FOLD",
            "years_of_experience": 3,
        },
    )
    assert response.status_code == 400, response.json()
    assert error_attrs(response) == ["username"]


@pytest.mark.parametrize("username", SAME_AS_ALICE[1:], ids=ascii)
def test_the_database_refuses_usernames_that_fold_alike(alice, username):
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username=username, email="someone.else@example.test")


def test_a_username_is_kept_in_nfkc_form(db):
    response = register(FULLWIDTH)
    assert response.status_code == 201, response.json()
    assert response.json()["username"] == "alice.morgan"


def test_other_usernames_are_not_taken(alice):
    assert register("alice.morgan2").status_code == 201


@pytest.mark.parametrize("username", SAME_AS_ALICE, ids=ascii)
def test_sign_in_finds_the_account_however_the_username_is_cased_or_written(alice, username):
    response = APIClient().post(TOKEN_URL, {"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert client.get(ME_URL).json()["id"] == str(alice.pk)


def test_the_lockout_counts_failures_per_folded_username(alice):
    for n, username in enumerate(SAME_AS_ALICE):
        response = APIClient().post(
            TOKEN_URL, {"username": username, "password": "wrong"}, REMOTE_ADDR=f"10.0.1.{n}"
        )
        assert response.status_code == 401, response.json()

    assert set(LoginFailure.objects.values_list("username", flat=True)) == {"alice.morgan"}
    locked = APIClient().post(
        TOKEN_URL, {"username": "alice.morgan", "password": PASSWORD}, REMOTE_ADDR="10.0.1.99"
    )
    assert locked.status_code == 429, locked.json()


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_admin_site_refuses_renaming_an_account_to_a_username_that_folds_alike(staff, alice):
    bob = PatientFactory(user__username="bob").user
    response = staff.post(
        reverse("admin:accounts_user_change", args=[bob.pk]),
        {
            "username": "ALICE.MORGAN",
            "email": bob.email,
            "time_zone": bob.time_zone,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"username"}
    bob.refresh_from_db()
    assert bob.username == "bob"


def test_the_admin_site_refuses_adding_an_account_under_a_username_that_folds_alike(staff, alice):
    response = staff.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "ALICE.MORGAN",
            "email": "other@example.test",
            "role": "patient",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
        },
    )
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"username"}
    assert User.objects.count() == 2  # alice and the admin


# The migration that adds the folded column, on a database that already holds accounts ----


BEFORE = [("accounts", "0002_user_token_generation")]
AFTER = [("accounts", "0003_username_folded_and_name_characters")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_to_latest():
    """Every app at its last migration, as the models in this process expect it."""
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.fixture
def before_folding(transactional_db):
    """The database as the migration finds it; put back at the latest state afterwards."""
    apps = migrate(BEFORE)
    yield apps.get_model("accounts", "User")
    migrate_to_latest()


def test_the_migration_folds_every_existing_username(before_folding):
    OldUser = before_folding
    for username in ["alice.morgan", "Bob", FULLWIDTH.replace(".", "-")]:
        OldUser.objects.create(username=username, email=f"{username}@example.test")

    migrate(AFTER)
    migrate_to_latest()

    folded = dict(User.objects.values_list("username", "username_folded"))
    assert folded == {
        "alice.morgan": "alice.morgan",
        "Bob": "bob",
        FULLWIDTH.replace(".", "-"): "alice-morgan",
    }
    assert User.objects.get_by_natural_key("BOB").username == "Bob"


def test_the_migration_stops_and_names_usernames_that_fold_alike(before_folding):
    OldUser = before_folding
    for n, username in enumerate(["alice.morgan", "ALICE.MORGAN", "carol"]):
        OldUser.objects.create(username=username, email=f"u{n}@example.test")

    with pytest.raises(RuntimeError, match=r"'ALICE\.MORGAN', 'alice\.morgan'"):
        migrate(AFTER)

    assert OldUser.objects.count() == 3
    OldUser.objects.filter(username="ALICE.MORGAN").update(username="alice.morgan.2")
    migrate(AFTER)
    migrate_to_latest()
    assert User.objects.get(username="alice.morgan.2").username_folded == "alice.morgan.2"
