"""The Celery app as beat and the workers see it: what is scheduled, and that each task runs."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from appointments.models import Appointment, IdempotencyRecord
from config.celery import app
from tests.appointments.timeline import appointment_at
from tests.factories import DoctorFactory, PatientFactory, UserFactory


@pytest.fixture(autouse=True)
def _tasks_loaded():
    """Load every app's tasks module, as `celery worker` and `celery beat` do at start."""
    app.loader.import_default_modules()


def test_beat_schedules_every_background_job_as_a_bounded_retrying_task(settings):
    schedule = app.conf.beat_schedule

    assert {entry["task"] for entry in schedule.values()} == {
        "appointments.no_show_sweep",
        "appointments.reminders_send",
        "notifications.relay",
        "scheduling.slots_extend",
        "accounts.expired_tokens_flush",
        "appointments.idempotency_records_purge",
        "waitlist.offers_expire",
        "webhooks.relay",
    }
    assert schedule["no-show-sweep"]["schedule"] == timedelta(
        minutes=settings.NO_SHOW_SWEEP_MINUTES
    )
    assert schedule["expire-waitlist-offers"]["schedule"] == timedelta(minutes=1)
    for name in [entry["task"] for entry in schedule.values()] + ["notifications.deliver"]:
        task = app.tasks[name]
        assert task.acks_late
        assert 0 < task.soft_time_limit < task.time_limit
        assert task.retry_backoff
        assert task.autoretry_for


@pytest.mark.django_db
def test_each_scheduled_task_runs_in_process(mailoutbox, settings):
    missed = appointment_at(DoctorFactory(), PatientFactory(), hours=-3)
    user = UserFactory()
    expired = RefreshToken.for_user(user)
    OutstandingToken.objects.filter(jti=expired["jti"]).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    valid = RefreshToken.for_user(user)
    IdempotencyRecord.objects.create(
        user=user,
        key="expired",
        request_hash="0" * 64,
        created_at=timezone.now() - settings.IDEMPOTENCY_KEY_TTL - timedelta(minutes=1),
    )
    kept = IdempotencyRecord.objects.create(
        user=user, key="kept", request_hash="0" * 64, created_at=timezone.now()
    )

    results = {
        name: app.tasks[name].apply().get()
        for name in (
            "appointments.no_show_sweep",
            "appointments.reminders_send",
            "notifications.relay",
            "scheduling.slots_extend",
            "accounts.expired_tokens_flush",
            "appointments.idempotency_records_purge",
            "waitlist.offers_expire",
            "webhooks.relay",
        )
    }

    assert results["appointments.no_show_sweep"] == {"no_shows": 1, "cancelled": 0}
    assert Appointment.objects.get(pk=missed.pk).status == "no_show"
    assert results["notifications.relay"] == 1  # the no-show email, waiting in the outbox
    assert [m.subject for m in mailoutbox] == ["Missed appointment"]
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [valid["jti"]]
    assert results["appointments.idempotency_records_purge"] == 1
    assert list(IdempotencyRecord.objects.all()) == [kept]
    assert results["waitlist.offers_expire"] == 0  # no offer was open
    assert results["webhooks.relay"] == 0  # no endpoint wants anything


def test_beat_sends_the_schedule_only_while_it_holds_its_lock_in_redis(settings):
    """Any number of beats may run (one per worker host): celery-redbeat's lock lets one send
    (tests/scale shows two beats sending each task once)."""
    assert app.conf.beat_scheduler == "redbeat.RedBeatScheduler"
    # Given to redbeat by their bare names, which it looks for (config/celery.py).
    assert app.conf.redbeat_lock_timeout == settings.CELERY_REDBEAT_LOCK_TIMEOUT
    assert app.conf.redbeat_key_prefix == settings.CELERY_REDBEAT_KEY_PREFIX
    # The holder renews its lock every loop, well within the lock's life.
    assert app.conf.beat_max_loop_interval < app.conf.redbeat_lock_timeout
