"""End to end, as deployed: a booking over HTTP is emailed by a real Celery worker process,
through the real Redis, to a real SMTP server started by the test.

The worker runs `celery -A config worker` with the production settings against the test
database. It consumes a queue of its own, so that runs of the suite side by side on one
Redis never take each other's tasks; this process publishes to that queue.
"""

import pytest
from django.conf import settings

from notifications import tasks
from notifications.models import Notification
from tests.background import (
    celery_publishing_to,
    celery_worker,
    refusing_broker_url,
    smtp_server,
)
from tests.concurrency import other_session
from tests.conftest import client_for
from tests.factories import DoctorFactory, PatientFactory, UserFactory, in_future
from tests.schedule import slot_published

URL = "/api/v1/appointments/"


@pytest.mark.django_db(transaction=True)
def test_a_booking_is_emailed_by_a_real_worker_once_even_across_a_broker_outage(
    worker_queue, tmp_path
):
    broker = settings.TEST_REDIS_URL
    patient, doctor = PatientFactory(), DoctorFactory()
    slots = [slot_published(doctor, start=in_future(days=d).replace(hour=9)) for d in (3, 4)]
    client = client_for(patient.user)

    with (
        smtp_server() as (mailbox, smtp_port),
        celery_worker(
            broker_url=broker, queue=worker_queue, smtp_port=smtp_port, log=tmp_path / "worker.log"
        ) as worker,
        celery_publishing_to(broker, queue=worker_queue),
    ):
        # A booking over HTTP: the worker emails the patient and the doctor.
        assert client.post(URL, {"slot": str(slots[0].pk)}).status_code == 201
        worker.wait_for(lambda: len(mailbox.messages) == 2, "booking emails")
        assert mailbox.subjects_to(patient.user.email) == ["Appointment requested"]
        assert mailbox.subjects_to(doctor.user.email) == ["New booking"]

        # The broker goes down during a booking: 201 all the same, and the emails wait...
        with celery_publishing_to(refusing_broker_url()):
            assert client.post(URL, {"slot": str(slots[1].pk)}).status_code == 201
        assert Notification.objects.filter(email_status="pending").count() == 2

        # ...until it is back and beat's relay reaches the worker.
        tasks.notifications_relay.delay()
        worker.wait_for(lambda: len(mailbox.messages) == 4, "emails after the outage")

        # Every deliver task delivered twice more sends nothing more. A last email, sent
        # by a relay queued behind them, shows the worker has handled them all.
        for notification in Notification.objects.all():
            tasks.notification_deliver.delay(notification_id=str(notification.pk))
            tasks.notification_deliver.delay(notification_id=str(notification.pk))
        last = UserFactory()
        Notification.objects.create(recipient=last, kind="reminder", title="Last", body="-")
        tasks.notifications_relay.delay()
        worker.wait_for(lambda: mailbox.subjects_to(last.email) == ["Last"], "the last email")

    assert len(mailbox.messages) == 5
    assert set(Notification.objects.values_list("email_status", "attempts")) == {("sent", 1)}


@pytest.mark.django_db(transaction=True)
def test_a_worker_statement_past_its_timeout_is_cancelled_and_the_task_retried(
    worker_queue, tmp_path
):
    """Workers bound each statement to DB_LONG_STATEMENT_TIMEOUT_MS (here tiny): a relay that
    meets a table locked by another session is cancelled, not held for ever, and retried."""
    broker = settings.TEST_REDIS_URL
    user = UserFactory()
    Notification.objects.create(recipient=user, kind="reminder", title="Due", body="-")

    with (
        smtp_server() as (mailbox, smtp_port),
        celery_worker(
            broker_url=broker,
            queue=worker_queue,
            smtp_port=smtp_port,
            log=tmp_path / "worker.log",
            extra_env={"DB_LONG_STATEMENT_TIMEOUT_MS": "300"},
        ) as worker,
        celery_publishing_to(broker, queue=worker_queue),
    ):
        with other_session() as holder, holder.transaction():
            holder.execute("LOCK TABLE notifications_notification IN ACCESS EXCLUSIVE MODE")
            tasks.notifications_relay.delay()
            worker.wait_for(
                lambda: "canceling statement due to statement timeout" in worker.output(),
                "cancelled statement",
            )
        worker.wait_for(lambda: mailbox.subjects_to(user.email) == ["Due"], "email after the retry")
