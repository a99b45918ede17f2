"""The idempotency store of bookings: it keeps nothing of a booking in plaintext, and its
records expire (an expired key is unused) and are purged, by beat or by hand, safely twice at
once."""

import hashlib
import json
import threading
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.utils import timezone

from appointments import sweeps
from appointments.models import Appointment, IdempotencyRecord
from appointments.sweeps import idempotency_records_purge
from tests.concurrency import run_at_once
from tests.conftest import client_for
from tests.factories import UserFactory, in_future
from tests.schedule import slot_published

URL = "/api/v1/appointments/"
REASON = "Lump-in-breast-IDEM-4410"


@pytest.fixture
def slot(doctor):
    return slot_published(doctor, start=in_future(days=2).replace(hour=10))


def _stored_record_text() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT t::text FROM appointments_idempotencyrecord t")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
class TestWhatIsStored:
    def test_the_answer_is_kept_encrypted_and_replayed_as_first_given(self, patient_client, slot):
        body = {"slot": str(slot.pk), "reason": REASON}
        first = patient_client.post(URL, body, HTTP_IDEMPOTENCY_KEY="enc-1")

        stored = _stored_record_text()
        assert REASON not in stored
        assert REASON.encode().hex() not in stored
        again = patient_client.post(URL, body, HTTP_IDEMPOTENCY_KEY="enc-1")
        assert again["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert again.json()["reason"] == REASON

    def test_the_request_is_known_by_a_keyed_hash_that_a_guess_cannot_confirm(
        self, patient_client, slot
    ):
        body = {"slot": str(slot.pk), "reason": REASON}
        patient_client.post(URL, body, HTTP_IDEMPOTENCY_KEY="enc-2")

        fingerprint = IdempotencyRecord.objects.get().request_hash
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        assert len(fingerprint) == 64
        assert fingerprint != hashlib.sha256(canonical.encode()).hexdigest()


@pytest.mark.django_db
def test_an_expired_key_is_unused(patient, doctor, slot, settings):
    settings.IDEMPOTENCY_KEY_TTL = timedelta(hours=1)
    other = slot_published(doctor, start=slot.start + timedelta(hours=2))
    client_for(patient.user).post(URL, {"slot": str(slot.pk)}, HTTP_IDEMPOTENCY_KEY="old")

    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        later = client_for(patient.user).post(
            URL, {"slot": str(other.pk)}, HTTP_IDEMPOTENCY_KEY="old"
        )

    assert later.status_code == 201
    assert "Idempotent-Replayed" not in later
    assert Appointment.objects.count() == 2


def _records(user, *, count: int, age: timedelta, prefix: str) -> None:
    IdempotencyRecord.objects.bulk_create(
        IdempotencyRecord(
            user=user,
            key=f"{prefix}-{n}",
            request_hash="0" * 64,
            response_status=201,
            response_body={"reason": REASON},
            created_at=timezone.now() - age,
        )
        for n in range(count)
    )


@pytest.mark.django_db
def test_the_purge_deletes_the_expired_records_only(settings):
    user = UserFactory()
    expired_age = settings.IDEMPOTENCY_KEY_TTL + timedelta(seconds=1)
    _records(user, count=3, age=expired_age, prefix="expired")
    _records(user, count=2, age=settings.IDEMPOTENCY_KEY_TTL - timedelta(minutes=1), prefix="live")
    out = StringIO()

    call_command("purge_idempotency_records", stdout=out)
    call_command("purge_idempotency_records", stdout=out)

    assert out.getvalue().splitlines() == [
        "Purged 3 expired idempotency record(s).",
        "Purged 0 expired idempotency record(s).",
    ]
    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == ["live-0", "live-1"]


@pytest.mark.django_db(transaction=True)
def test_two_purges_at_once_share_the_work(settings, monkeypatch):
    monkeypatch.setattr(sweeps, "PURGE_BATCH", 20)
    user = UserFactory()
    _records(user, count=500, age=settings.IDEMPOTENCY_KEY_TTL + timedelta(hours=1), prefix="x")
    _records(user, count=5, age=timedelta(minutes=1), prefix="live")

    purged = run_at_once([idempotency_records_purge, idempotency_records_purge])

    assert sum(purged) == 500
    assert IdempotencyRecord.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_purge_passes_over_a_record_another_transaction_holds(settings):
    """A second purge (or a booking claiming an expired key) holds one record: the purge
    neither waits for it (any wait past the lock timeout would fail it) nor fails, and a later
    run takes it."""
    user = UserFactory()
    _records(user, count=4, age=settings.IDEMPOTENCY_KEY_TTL + timedelta(hours=1), prefix="x")
    held_key = "x-0"
    holding, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.select_for_update().get(key=held_key)
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '500ms'")
        try:
            first = idempotency_records_purge()
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        assert first == 3
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == [held_key]
    finally:
        release.set()
        holder.join()

    assert idempotency_records_purge() == 1
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
def test_a_key_is_claimed_again_after_the_purge(patient, doctor, slot, settings):
    settings.IDEMPOTENCY_KEY_TTL = timedelta(hours=1)
    client = client_for(patient.user)
    client.post(URL, {"slot": str(slot.pk)}, HTTP_IDEMPOTENCY_KEY="purged")

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert idempotency_records_purge() == 1
        other = slot_published(doctor, start=slot.start + timedelta(hours=2))
        response = client_for(patient.user).post(
            URL, {"slot": str(other.pk)}, HTTP_IDEMPOTENCY_KEY="purged"
        )

    assert response.status_code == 201
    assert IdempotencyRecord.objects.get(key="purged").response_body["slot"] == str(other.pk)
