"""Each notification is emailed exactly once: with a task delivered twice, with workers
racing, and across a mail server's refusals, whose attempts and last error are kept."""

from datetime import timedelta
from functools import partial

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from appointments.models import Penalty
from appointments.services import appointment_transition
from appointments.transitions import Action
from core import tasks as core_tasks
from notifications import tasks
from notifications.delivery import Outcome, notification_deliver, notifications_relay
from notifications.models import Notification
from tests.appointments.timeline import appointment_at
from tests.background import smtp_server, smtp_settings
from tests.concurrency import run_at_once
from tests.factories import DoctorFactory, PatientFactory, UserFactory


def waiting_notification(recipient=None, **fields) -> Notification:
    """A notification whose email waits, as one does while the broker is down."""
    return Notification.objects.create(
        recipient=recipient or UserFactory.create(),
        kind="booked",
        title="Appointment booked",
        body="Your appointment with Dr Who on Monday is booked.",
        **fields,
    )


@pytest.mark.django_db
def test_a_deliver_task_delivered_twice_sends_one_email(mailoutbox):
    notification = waiting_notification()

    first = tasks.notification_deliver.apply(kwargs={"notification_id": str(notification.pk)})
    second = tasks.notification_deliver.apply(kwargs={"notification_id": str(notification.pk)})

    assert (first.get(), second.get()) == (Outcome.SENT, Outcome.SKIPPED)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [notification.recipient.email]
    assert mailoutbox[0].subject == "Appointment booked"
    notification.refresh_from_db()
    assert (notification.email_status, notification.attempts) == ("sent", 1)
    assert notification.sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_eight_workers_delivering_one_notification_at_once_send_it_once(mailoutbox):
    for round_number in range(3):
        notification = waiting_notification()
        deliver = partial(notification_deliver, notification_id=notification.pk)
        results = run_at_once([deliver] * 8)
        assert sorted(results) == sorted([Outcome.SENT] + [Outcome.SKIPPED] * 7)
        assert len(mailoutbox) == round_number + 1
        notification.refresh_from_db()
        assert notification.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_two_relays_at_once_send_every_waiting_email_once(mailoutbox):
    waiting = [waiting_notification() for _ in range(12)]

    sent = run_at_once([notifications_relay, notifications_relay])

    assert sum(sent) == 12
    assert sorted(m.to[0] for m in mailoutbox) == sorted(n.recipient.email for n in waiting)


@pytest.mark.django_db
def test_a_refused_no_show_email_is_retried_with_backoff_and_sent_once(
    settings, django_capture_on_commit_callbacks
):
    """The mail server refuses the first attempt: the attempt and its error are recorded, the
    penalty does not claim an email was sent, and the retry waits for its backoff."""
    settings.NOTIFICATION_RETRY_BACKOFF = timedelta(minutes=1)
    patient, doctor = PatientFactory(), DoctorFactory()
    appointment = appointment_at(doctor, patient, hours=-3)
    with smtp_server() as (mailbox, port), time_machine.travel(timezone.now(), tick=False) as clock:
        smtp_settings(settings, port)
        mailbox.refusals = 1
        with django_capture_on_commit_callbacks(execute=True):
            appointment_transition(
                appointment_id=appointment.pk, action=Action.NO_SHOW, actor=doctor.user
            )

        notification = Notification.objects.get(kind="no_show")
        assert notification.email_status == "pending"
        assert notification.attempts == 1
        assert "451" in notification.last_error
        assert notification.next_attempt_at == timezone.now() + timedelta(minutes=1)
        assert Penalty.objects.get(appointment=appointment).email_sent is False
        assert mailbox.messages == []

        assert notifications_relay() == 0  # not due yet
        clock.shift(timedelta(seconds=61))
        call_command("send_notifications")
        call_command("send_notifications")

    assert mailbox.subjects_to(patient.user.email) == ["Missed appointment"]
    notification.refresh_from_db()
    assert (notification.email_status, notification.attempts) == ("sent", 2)
    assert "451" in notification.last_error  # kept
    assert Penalty.objects.get(appointment=appointment).email_sent is True


@pytest.mark.django_db
def test_the_wait_doubles_and_the_last_attempt_fails_for_good(settings):
    settings.NOTIFICATION_RETRY_BACKOFF = timedelta(minutes=1)
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    notification = waiting_notification()
    with smtp_server() as (mailbox, port), time_machine.travel(timezone.now(), tick=False) as clock:
        smtp_settings(settings, port)
        mailbox.refusals = 99
        waits = []
        for _ in range(3):
            assert notifications_relay() == 0
            notification.refresh_from_db()
            waits.append(notification.next_attempt_at - timezone.now())
            clock.shift(waits[-1])

    assert waits[:2] == [timedelta(minutes=1), timedelta(minutes=2)]
    assert (notification.email_status, notification.attempts) == ("failed", 3)
    assert notification_deliver(notification_id=notification.pk) == Outcome.SKIPPED


@pytest.mark.django_db
def test_an_unreachable_mail_server_counts_as_a_failed_attempt(settings):
    with smtp_server() as (_, port):
        pass  # nothing listens on the port any more
    smtp_settings(settings, port)
    notification = waiting_notification()

    assert notification_deliver(notification_id=notification.pk) == Outcome.RETRY

    notification.refresh_from_db()
    assert notification.email_status == "pending"
    assert "ConnectionRefusedError" in notification.last_error


@pytest.mark.django_db
def test_a_claim_left_by_a_dead_worker_is_taken_over_after_the_timeout(settings, mailoutbox):
    settings.NOTIFICATION_CLAIM_TIMEOUT = timedelta(minutes=10)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        notification = waiting_notification(
            email_status="sending", claimed_at=timezone.now(), attempts=1
        )
        assert notifications_relay() == 0
        clock.shift(timedelta(minutes=11))
        assert notifications_relay() == 1

    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert (notification.email_status, notification.attempts) == ("sent", 2)


@pytest.mark.django_db
def test_one_transactions_message_starts_no_row_past_its_time_budget(monkeypatch, mailoutbox):
    """`outbox.deliver` sends a transaction's rows one after another, and leaves those it
    would start past its budget to the relay, pending, so that no send is cut off by the
    task's time limit."""
    first, second = waiting_notification(), waiting_notification()
    clock = iter([0.0, 0.0, core_tasks.TIME_BUDGET + 1])  # started, first row, second row
    monkeypatch.setattr(core_tasks, "monotonic", lambda: next(clock))

    result = core_tasks.outbox_deliver.apply(
        kwargs={"rows": {"notifications.deliver": [str(first.pk), str(second.pk)]}}
    )

    assert result.get() == {"notifications.deliver": ["sent", "left"]}
    assert [m.to for m in mailoutbox] == [[first.recipient.email]]
    second.refresh_from_db()
    assert second.email_status == "pending"
    assert notifications_relay() == 1
    assert len(mailoutbox) == 2
