"""Two beats and two workers, as on two hosts: each reminder is written and emailed once.

Two beats each fire the reminder sweep on every tick, so each tick puts two
`appointments.reminders_send` messages on the queue; two real Celery worker processes take
them at the same moment, against the test database and a real SMTP server.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from appointments import tasks
from appointments.models import Appointment
from notifications.models import Notification
from tests.appointments.test_sweeps import confirmed_booking
from tests.background import celery_publishing_to, celery_worker, smtp_server
from tests.factories import DoctorFactory, PatientFactory, in_future

APPOINTMENTS = 8
BEATS = 2
TICKS = 3


@pytest.mark.django_db(transaction=True)
def test_two_beats_and_two_workers_send_each_reminder_once(worker_queue, tmp_path):
    doctor = DoctorFactory(requires_approval=False)
    patients = [PatientFactory() for _ in range(APPOINTMENTS)]
    for n, patient in enumerate(patients):
        confirmed_booking(patient, doctor, start=in_future(hours=30 + n))
    # Booked three days ago, so their 48h reminders are due now and had not passed then.
    Appointment.objects.update(created_at=timezone.now() - timedelta(days=3))
    broker = settings.TEST_REDIS_URL
    env = {"REMINDER_LEAD_TIMES": "48h,2h"}

    with (
        smtp_server() as (mailbox, smtp_port),
        celery_worker(
            broker_url=broker,
            queue=worker_queue,
            smtp_port=smtp_port,
            log=tmp_path / "worker-1.log",
            extra_env=env,
        ) as first,
        celery_worker(
            broker_url=broker,
            queue=worker_queue,
            smtp_port=smtp_port,
            log=tmp_path / "worker-2.log",
            extra_env=env,
        ) as second,
        celery_publishing_to(broker, queue=worker_queue),
    ):
        for _ in range(TICKS * BEATS):
            tasks.reminders_send.delay()

        def sweeps_done() -> int:
            return sum(
                line.startswith("Task appointments.reminders_send[") and " succeeded " in line
                for worker in (first, second)
                for line in worker.log.read_text().splitlines()
                for line in [line.split("] ", 1)[-1]]
            )

        first.wait_for(lambda: sweeps_done() == TICKS * BEATS, "every sweep")
        first.wait_for(
            lambda: (
                len(mailbox.messages) == APPOINTMENTS
                and not Notification.objects.exclude(email_status="sent").exists()
            ),
            "one reminder email per appointment",
        )
        both_took_sweeps = all("appointments.reminders_send" in w.output() for w in (first, second))

    assert both_took_sweeps
    reminders = Notification.objects.filter(kind="reminder")
    assert reminders.count() == APPOINTMENTS
    assert sorted(r.recipient_id for r in reminders) == sorted(p.pk for p in patients)
    assert sorted(m["X-Envelope-To"] for m in mailbox.messages) == sorted(
        p.user.email for p in patients
    )
