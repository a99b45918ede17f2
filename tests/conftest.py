import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

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
def live_redis_url() -> str:
    """TEST_REDIS_URL, for a test that needs a real Redis. Where none answers (a machine without
    Redis, which `make test` says at its start) the test is skipped, saying so; never under CI
    (`CI=true`), where Redis is part of the machine and missing it is a failure."""
    url = settings.TEST_REDIS_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no Redis answers at {url} ({type(error).__name__}); install Redis to run it")
    return url


@pytest.fixture
def embedded_workdir():
    """A directory for an embedded PostgreSQL's data, outside pytest's temporary directories:
    as root the server runs as its own user, who must reach its directory whenever the server
    is started, and pytest makes its base directory private to root again at each session's
    start (another run's included)."""
    path = Path(tempfile.mkdtemp(prefix="careslot-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def worker_queue(live_redis_url) -> Iterator[str]:
    """A Redis queue of this test's own for its Celery workers (tests/background.py), so that
    suites run side by side on one Redis never take each other's tasks."""
    queue = f"careslot-test-{uuid.uuid4().hex[:12]}"
    yield queue
    redis.Redis.from_url(live_redis_url).delete(
        queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
    )
