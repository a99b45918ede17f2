"""CareSlot scaled out over several hosts (tests/scale/cluster.py builds them in network
namespaces): races, a web host and a worker killed under load, and two beats.

Real processes, real network, real time; each test says what it measured on one line
(`pytest -s`, or `make test-scale`, shows them). Skipped, saying why, where the cluster
cannot be built (no root, no `ip netns`, a package missing).
"""

import logging
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import redis
from celery import Celery
from django.utils import timezone
from redbeat.schedulers import RedBeatSchedulerEntry

from appointments.models import Appointment, AppointmentStatus
from notifications.models import Notification
from scheduling.models import Slot
from tests.background import smtp_server
from tests.booking_load import Booking, access_token, book_at_once
from tests.factories import DoctorFactory, PatientFactory, in_future
from tests.pooler import pgbouncer_serving
from tests.scale.cluster import POOLER_PORT, WEB, WORKER, Cluster, unavailable_reason
from tests.schedule import slot_published

REASON = unavailable_reason()
pytestmark = [
    pytest.mark.skipif(REASON is not None, reason=f"The cluster cannot be built: {REASON}"),
    pytest.mark.timeout(600),
]
BOTH_WEB_HOSTS = ("web1", "web2")


def report(what: str, **figures) -> None:
    print(f"\n[cluster] {what}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


@pytest.fixture(scope="module")
def cluster(django_db_setup, tmp_path_factory):
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # a line per SMTP command
    directory = tmp_path_factory.mktemp("cluster")
    cluster = Cluster(directory)
    try:
        cluster.network_up()
        with (
            pgbouncer_serving(
                directory / "pgbouncer",
                [WEB, WORKER],
                host=cluster.gateway,
                port=POOLER_PORT,
                pool_size=10,
            ),
            smtp_server(host=cluster.gateway) as (mailbox, smtp_port),
        ):
            cluster.mailbox, cluster.smtp_port = mailbox, smtp_port
            cluster.redis_start()
            cluster.wait_for(lambda: _pings(cluster), "Redis answer")
            for host in BOTH_WEB_HOSTS:
                cluster.web_start(host)
            for host in ("worker1", "worker2"):
                cluster.worker_start(host)
                cluster.beat_start(host, f"{host}-beat", key_prefix="careslot:beat:first:")
            cluster.haproxy_start()
            cluster.wait_for(lambda: cluster.balanced(BOTH_WEB_HOSTS), "balancing over both")
            cluster.wait_for(
                lambda: all(cluster.worker_ready(h) for h in ("worker1", "worker2")),
                "workers ready",
            )
            yield cluster
            cluster.stop_all()
    finally:
        cluster.stop_all()
        cluster.network_down()


def _pings(cluster: Cluster) -> bool:
    try:
        return bool(cluster.redis().ping())
    except redis.RedisError:
        return False


def _booking(slot: Slot) -> Booking:
    """A booking of `slot` by a patient of its own."""
    return Booking(token=access_token(PatientFactory().user), slot_id=str(slot.pk))


def _slots(count: int) -> list[Slot]:
    """`count` free slots of one doctor, an hour each, on days from three days ahead."""
    doctor = DoctorFactory.create()
    return [
        slot_published(doctor, start=in_future(days=3 + n // 8).replace(hour=8 + n % 8))
        for n in range(count)
    ]


@pytest.mark.django_db(transaction=True)
def test_fifty_patients_racing_for_one_slot_over_two_web_hosts_get_one_booking(cluster):
    slot = slot_published(DoctorFactory())
    bookings = [_booking(slot) for _ in range(50)]

    book_at_once(cluster.base, bookings)

    statuses = Counter(b.status for b in bookings)
    hosts = Counter(b.attempts[-1][1] for b in bookings)
    report("race", statuses=dict(statuses), hosts=dict(hosts))
    assert statuses == {201: 1, 409: 49}, [b.body for b in bookings if b.status != 409]
    assert {b.body["errors"][0]["code"] for b in bookings if b.status == 409} == {
        "slot_unavailable"
    }
    assert set(hosts) == set(BOTH_WEB_HOSTS)
    assert Appointment.objects.filter(slot=slot).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_web_host_killed_under_load_loses_nothing_acknowledged(cluster):
    slots = _slots(60)
    bookings = [
        Booking(token=access_token(PatientFactory().user), slot_id=str(s.pk)) for s in slots
    ]
    load = ThreadPoolExecutor(max_workers=1).submit(
        book_at_once, cluster.base, bookings, retries=10, threads=8
    )

    cluster.wait_for(lambda: Appointment.objects.count() >= 15, "a quarter of the bookings")
    cluster.processes["web1"].kill()
    load.result(timeout=300)

    statuses = Counter(b.status for b in bookings)
    failed_attempts = Counter(a[0] for b in bookings for a in b.attempts[:-1])
    retried = sum(1 for b in bookings if len(b.attempts) > 1)
    report(
        "web1 killed",
        statuses=dict(statuses),
        retried_bookings=retried,
        replayed=sum(b.replayed for b in bookings),
        failed_attempts=dict(failed_attempts),
        hosts=dict(Counter(b.attempts[-1][1] for b in bookings)),
    )
    assert statuses == {201: 60}, [b.attempts for b in bookings if b.status != 201]
    assert retried > 0, "web1 died with nothing in flight: the test proved nothing"
    # Every 201 is in the database, once; every appointment was answered with its 201.
    answered = {b.body["id"] for b in bookings}
    stored = {str(pk) for pk in Appointment.objects.values_list("pk", flat=True)}
    assert answered == stored
    assert len(stored) == 60
    # Nothing half written: each booked slot has its appointment and each appointment its
    # booked slot and the notifications of a booking.
    assert Slot.objects.filter(is_booked=True).count() == 60
    for appointment in Appointment.objects.select_related("slot"):
        assert appointment.slot.is_booked
    assert Notification.objects.count() == 2 * 60

    cluster.web_start("web1")
    cluster.wait_for(lambda: cluster.balanced(BOTH_WEB_HOSTS), "web1 back behind HAProxy")


def _mailed(cluster) -> Counter:
    return Counter((m["X-Envelope-To"], m["Subject"]) for m in cluster.mailbox.messages)


def _all_sent() -> bool:
    return not Notification.objects.exclude(email_status="sent").exists()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_delivering_loses_no_notification(cluster):
    cluster.mailbox.delay_seconds = 0.2  # a slow mail server: the worker dies mid-send
    slots = [slot_published(DoctorFactory()) for _ in range(40)]
    bookings = [
        Booking(token=access_token(PatientFactory().user), slot_id=str(s.pk)) for s in slots
    ]
    before = _mailed(cluster)
    try:
        book_at_once(cluster.base, bookings, retries=5, threads=8)
        assert Counter(b.status for b in bookings) == {201: 40}
        cluster.wait_for(
            lambda: sum(_mailed(cluster).values()) - sum(before.values()) >= 15, "the first emails"
        )
        killed_at = timezone.now()
        cluster.processes["worker1-celery"].kill()
        # Far longer than one send takes: what was claimed before the kill and is still
        # claimed now is what the dead worker held.
        time.sleep(2)
        orphaned = Notification.objects.filter(
            email_status="sending", claimed_at__lte=killed_at
        ).count()
        cluster.wait_for(_all_sent, "every notification sent", seconds=120)
    finally:
        cluster.mailbox.delay_seconds = 0

    expected = Counter(
        (n.recipient.email, n.title) for n in Notification.objects.select_related("recipient")
    )
    mailed = _mailed(cluster) - before
    lost = expected - mailed
    twice = mailed - expected
    report(
        "worker1 killed",
        notifications=sum(expected.values()),
        emails_received=sum(mailed.values()),
        claimed_by_the_dead_worker=orphaned,
        lost=sum(lost.values()),
        sent_twice=sum(twice.values()),
    )
    assert orphaned >= 1, "worker1 died between deliveries: the test proved nothing"
    assert not lost, lost
    # Only an email whose send the kill cut off between the SMTP server's answer and the
    # worker's mark can go out twice: at most each delivery the dead worker held.
    assert sum(twice.values()) <= orphaned, twice
    assert set(mailed) == set(expected)

    cluster.worker_start("worker1")
    cluster.wait_for(lambda: cluster.worker_ready("worker1"), "worker1 back")


def _sends(cluster, names: list[str], entry: str) -> int:
    return sum(
        cluster.processes[name].output(1_000_000).count(f"Sending due task {entry} ")
        for name in names
    )


@pytest.mark.django_db(transaction=True)
def test_two_beats_send_each_periodic_task_once(cluster):
    now = timezone.now()
    missed = [_appointment_now(now - timedelta(hours=3)) for _ in range(3)]
    reminded = [_appointment_now(now + timedelta(hours=20)) for _ in range(5)]
    # Booked days ago: the longest lead time was still ahead then, so its reminder is due.
    Appointment.objects.filter(pk__in=[a.pk for a in reminded]).update(
        created_at=now - timedelta(days=3)
    )
    for name in ("worker1-beat", "worker2-beat"):
        cluster.processes[name].stop()

    # Both beats start on a schedule whose sweeps last ran two hours ago (as after a pause of
    # every beat): both sweeps are due at once.
    prefix = f"careslot:beat:{uuid.uuid4().hex[:8]}:"
    _schedule_left(cluster, prefix, ["no-show-sweep", "reminders"], timedelta(hours=2))
    beats = ["worker1-beat2", "worker2-beat2"]
    for host, name in zip(("worker1", "worker2"), beats, strict=True):
        cluster.beat_start(host, name, key_prefix=prefix)
    cluster.wait_for(lambda: _sends(cluster, beats, "no-show-sweep") >= 1, "a no-show sweep")
    cluster.wait_for(_all_sent, "every notification sent")
    time.sleep(6)  # a few relay periods (2 s) for a second beat to show itself, if it sent

    holders = [n for n in beats if "beat: Acquired lock" in cluster.processes[n].output(1_000_000)]
    relays = {n: _sends(cluster, [n], "notification-relay") for n in beats}
    report(
        "two beats",
        lock_holders=len(holders),
        no_show_sweeps=_sends(cluster, beats, "no-show-sweep"),
        reminder_sweeps=_sends(cluster, beats, "reminders"),
        relay_runs=relays,
    )
    assert len(holders) == 1
    assert _sends(cluster, beats, "no-show-sweep") == 1
    assert _sends(cluster, beats, "reminders") == 1
    assert [n for n, count in relays.items() if count] == holders
    for appointment in missed:
        appointment.refresh_from_db()
        assert appointment.status == AppointmentStatus.NO_SHOW
    reminders = Counter(
        Notification.objects.filter(kind="reminder").values_list("recipient_id", flat=True)
    )
    assert set(reminders.values()) == {1}
    assert len(reminders) >= len(reminded)
    mailed = Counter(m["Subject"] for m in cluster.mailbox.messages)
    report(
        "two beats, emails",
        reminders=mailed["Appointment reminder"],
        missed_appointment=mailed["Missed appointment"],
    )
    assert mailed["Appointment reminder"] == len(reminders)
    assert mailed["Missed appointment"] == len(missed)

    # The holder dies: the other takes the lock over and runs the schedule, and what ran
    # already is not run again.
    holder = holders[0]
    standby = next(n for n in beats if n != holder)
    cluster.processes[holder].kill()
    cluster.wait_for(
        lambda: "beat: Acquired lock" in cluster.processes[standby].output(1_000_000),
        "the standby beat taking the lock over",
        seconds=30,
    )
    relayed = _sends(cluster, [standby], "notification-relay")
    cluster.wait_for(
        lambda: _sends(cluster, [standby], "notification-relay") > relayed,
        "a relay sent by the new holder",
    )
    assert _sends(cluster, beats, "no-show-sweep") == 1
    report("beat holder killed", new_holder=standby)


def _appointment_now(start) -> Appointment:
    from tests.appointments.timeline import appointment_at

    return appointment_at(DoctorFactory(), PatientFactory(), start=start.replace(microsecond=0))


def _schedule_left(cluster, prefix: str, names: list[str], ago: timedelta) -> None:
    """Write into the cluster's Redis the schedule a beat leaves under `prefix` (through
    celery-redbeat's own entries, from an app of their own), the entries `names` last run
    `ago`."""
    from django.conf import settings

    app = Celery("schedule-left", set_as_current=False)
    app.conf.update(
        broker_url=cluster.redis_url,
        redbeat_redis_url=cluster.redis_url,
        redbeat_key_prefix=prefix,
        beat_schedule=settings.CELERY_BEAT_SCHEDULE,
    )
    for name in names:
        entry = settings.CELERY_BEAT_SCHEDULE[name]
        left = RedBeatSchedulerEntry(name, entry["task"], entry["schedule"], app=app)
        left.save()
        left.reschedule(last_run_at=timezone.now() - ago)
