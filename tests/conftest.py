import uuid
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import AdminUserFactory, DoctorFactory, PatientFactory


def client_for(user=None) -> APIClient:
    """An API client signed in as `user` with a real JWT access token (anonymous if None)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def admin_user(db):
    return AdminUserFactory()


@pytest.fixture
def admin_client(admin_user) -> APIClient:
    return client_for(admin_user)


@pytest.fixture
def patient(db):
    return PatientFactory()


@pytest.fixture
def patient_client(patient) -> APIClient:
    return client_for(patient.user)


@pytest.fixture
def other_patient(db):
    return PatientFactory()


@pytest.fixture
def doctor(db):
    return DoctorFactory()


@pytest.fixture
def doctor_client(doctor) -> APIClient:
    return client_for(doctor.user)


@pytest.fixture
def other_doctor(db):
    return DoctorFactory()


def error_codes(response) -> list[str]:
    """The `code`s of an error envelope, asserting the envelope's shape on the way."""
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    assert body["type"] in {"validation_error", "client_error", "server_error"}
    return [error["code"] for error in body["errors"]]


def error_attrs(response) -> list[str | None]:
    return [error["attr"] for error in response.json()["errors"]]


@pytest.fixture
def worker_queue() -> Iterator[str]:
    """A Redis queue of this test's own for its Celery workers (tests/background.py), so that
    suites run side by side on one Redis never take each other's tasks."""
    queue = f"careslot-test-{uuid.uuid4().hex[:12]}"
    yield queue
    redis.Redis.from_url(settings.TEST_REDIS_URL).delete(
        queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
    )
