"""Schemathesis runs every operation of /api/schema/ in-process, as each role: no 5xx, and
every response conforms to the schema (documented status codes, bodies that match).

Each call is rolled back, so examples are independent; positive examples are first brought in
line with the rules a schema cannot state (tests/fuzz/runtime_rules.py)."""

from contextlib import contextmanager

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation

from config.wsgi import application
from tests.conftest import client_for
from tests.factories import PASSWORD, AdminUserFactory, DoctorFactory, PatientFactory
from tests.fuzz.runtime_rules import World, satisfy_runtime_rules
from tests.schedule import slot_published

# Per operation and role. 30 since the schema doubled with v1's additions (series, waitlist,
# webhooks, FHIR): 50 took the whole suite to 15 minutes on CI's two cores.
EXAMPLES_PER_OPERATION = 30

# Loaded from the app itself through its WSGI handler (schema generation needs no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def connection_kept_open(db):
    """Django closes the database connection at the end of each request; the test client
    keeps it open by disconnecting that handler, and so does this, so the test's transaction
    (and its rollback) survives the calls made through the WSGI handler."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(connection_kept_open):
    patient, doctor = PatientFactory(), DoctorFactory()
    slot_published(doctor)
    users = [None, patient.user, doctor.user, AdminUserFactory()]
    world = World(
        specialization=doctor.specialization_id,
        doctor=str(doctor.pk),
        patient=str(patient.pk),
        password=PASSWORD,
    )
    return world, [client_for(user)._credentials.get("HTTP_AUTHORIZATION") for user in users]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_for_every_role(case, seeded):
    world, authorizations = seeded
    satisfy_runtime_rules(case, world)
    for authorization in authorizations:
        if authorization and negates_credentials(case):
            # The case is about how missing or broken credentials are refused (the anonymous call
            # sends it as generated); signed with a role's token it would be another request than
            # the one schemathesis generated and judges.
            continue
        headers = {"Authorization": authorization} if authorization else {}
        with rolled_back():
            case.call_and_validate(headers=headers)


def negates_credentials(case) -> bool:
    """Whether schemathesis left out or mangled the Authorization header of this case."""
    meta = case.meta
    if meta is None or not meta.is_negative_at(ParameterLocation.HEADER):
        return False
    data = meta.phase.data
    mutated = [data.parameter, *(mutation.parameter for mutation in data.mutations)]
    return any(name and name.lower() == "authorization" for name in mutated)


@contextmanager
def rolled_back():
    """Each call starts from the same database: Hypothesis replays and shrinks examples on the
    assumption that one's outcome does not depend on what earlier ones left behind (a patient
    registered by one call made the same, valid, registration a 400 "username taken" in the
    next)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
