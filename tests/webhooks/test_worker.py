"""End to end, as deployed: a booking and its confirmation over HTTP are delivered by a real
Celery worker process, through the real Redis, to a real receiver started by the test, each
signed, retried after a failure, and never again after a 2xx."""

import pytest
from django.conf import settings

from tests.background import celery_publishing_to, celery_worker, smtp_server
from tests.conftest import client_for
from tests.factories import DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published
from tests.webhooks.receiver import SECRET, webhook_receiver
from webhooks import tasks
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.services import webhook_endpoint_create


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_each_event_once_and_retries_a_failure(worker_queue, tmp_path):
    broker = settings.TEST_REDIS_URL
    patient, doctor = PatientFactory(), DoctorFactory(requires_approval=True)
    slot = slot_published(doctor, start=in_future(days=3).replace(hour=9))

    with (
        webhook_receiver(204, 503, 200) as receiver,
        smtp_server() as (_, smtp_port),
        celery_worker(
            broker_url=broker,
            queue=worker_queue,
            smtp_port=smtp_port,
            log=tmp_path / "worker.log",
            extra_env={"WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1", "WEBHOOK_RETRY_BACKOFF": "0"},
        ) as worker,
        celery_publishing_to(broker, queue=worker_queue),
    ):
        webhook_endpoint_create(url=receiver.url, events=list(EventType.values), secret=SECRET)
        response = client_for(patient.user).post("/api/v1/appointments/", {"slot": str(slot.pk)})
        assert response.status_code == 201
        appointment = response.json()["id"]
        worker.wait_for(lambda: len(receiver.requests()) == 1, "the booking's delivery")

        # The confirmation's first attempt meets a 503; the relay (beat) makes the second.
        response = client_for(doctor.user).post(f"/api/v1/appointments/{appointment}/confirm/")
        assert response.status_code == 200
        worker.wait_for(lambda: len(receiver.requests()) == 2, "the confirmation's 1st attempt")
        worker.wait_for(
            lambda: WebhookDelivery.objects.filter(status="pending", attempts=1).exists(),
            "the failure recorded",
        )
        tasks.webhooks_relay.delay()
        worker.wait_for(lambda: len(receiver.requests()) == 3, "the confirmation's retry")
        worker.wait_for(
            lambda: not WebhookDelivery.objects.exclude(status="sent").exists(), "both sent"
        )

        # Deliver tasks delivered again call nobody. A last delivery, made by a relay queued
        # behind them, shows the worker has handled them all.
        for delivery in WebhookDelivery.objects.all():
            tasks.webhook_deliver.delay(delivery_id=str(delivery.pk))
            tasks.webhook_deliver.delay(delivery_id=str(delivery.pk))
        last = WebhookEvent.objects.create(type="penalty.created", data={"last": True})
        WebhookDelivery.objects.create(event=last, endpoint=WebhookEndpoint.objects.get())
        tasks.webhooks_relay.delay()
        worker.wait_for(lambda: len(receiver.requests()) == 4, "the last delivery")

    *bodies, last_body = receiver.verified()  # every request carries a valid signature
    assert last_body["data"] == {"last": True}
    assert [(b["type"], b["data"]["appointment"]["id"]) for b in bodies] == [
        ("appointment.booked", appointment),
        ("appointment.confirmed", appointment),
        ("appointment.confirmed", appointment),
    ]
    assert bodies[1] == bodies[2]  # the retry is the same message, same webhook-id
    ids = [r.headers["webhook-id"] for r in receiver.requests()[:3]]
    assert ids[1] == ids[2] != ids[0]
    assert sorted(WebhookDelivery.objects.values_list("status", "attempts")) == [
        ("sent", 1),
        ("sent", 1),
        ("sent", 2),
    ]
