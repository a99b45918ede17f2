"""Test doubles for background work that are real servers: an SMTP server (aiosmtpd) that
records or refuses messages, a broker (Redis) that refuses connections or never answers, real
Celery worker processes, and ways to make this process publish Celery tasks to a broker
instead of running them in-process and use Redis as its cache."""

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from kombu import pools

from config.celery import app as celery_app
from core.outbox import broker_breaker


def database_url() -> str:
    """The URL of the database this test runs against (the test database), for processes
    the test starts."""
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    name = quote(db["NAME"], safe="")
    socket_dir = db.get("OPTIONS", {}).get("host")
    if socket_dir:
        # A Unix socket (the embedded PostgreSQL): the directory goes in the query.
        return f"postgres://{credentials}@/{name}?host={quote(socket_dir)}"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{name}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler: keeps what it accepts; refuses the next `refusals` messages with
    a temporary failure (451), as a mail server under load does; takes `delay_seconds` to
    answer each message, as a slow one does."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[Message] = []
        self.refusals = 0
        self.delay_seconds = 0.0

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        with self._lock:
            if self.refusals:
                self.refusals -= 1
                return "451 4.3.0 Try again later"
            message = message_from_bytes(envelope.content)
            message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
            self._messages.append(message)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[Message]:
        with self._lock:
            return list(self._messages)

    def subjects_to(self, address: str) -> list[str]:
        return [m["Subject"] for m in self.messages if m["X-Envelope-To"] == address]


@contextmanager
def smtp_server(host: str = "127.0.0.1") -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on `host` for the duration: (its mailbox, its port)."""
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname=host, port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def smtp_settings(settings, port: int) -> None:
    """Point Django's email at the test's SMTP server (through the pytest `settings`)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_TIMEOUT = 5


def _producer_pools_reset() -> None:
    # The app keeps its broker connection pools once made; drop them so that the next publish
    # connects to the broker now configured.
    pools.reset()
    # Celery's private pools, which celery-types does not declare.
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@contextmanager
def celery_publishing_to(broker_url: str, *, queue: str | None = None) -> Iterator[None]:
    """Make this process publish tasks to `broker_url` (into `queue`) instead of running them
    in-process, as the web process does when REDIS_URL is set."""
    conf = celery_app.conf
    saved = {name: conf[name] for name in ("broker_url", "task_always_eager", "task_default_queue")}
    _producer_pools_reset()
    broker_breaker.reset()
    conf.update(broker_url=broker_url, task_always_eager=False)
    if queue:
        conf.task_default_queue = queue
    try:
        yield
    finally:
        conf.update(saved)
        _producer_pools_reset()
        broker_breaker.reset()


def redis_cache(url: str) -> dict:
    """`CACHES` as the settings make them with `REDIS_URL=url`."""
    return {
        "default": {
            "BACKEND": "core.cache.RedisCacheWithFallback",
            "LOCATION": url,
            "OPTIONS": {
                "socket_connect_timeout": settings.REDIS_CONNECT_TIMEOUT,
                "socket_timeout": settings.REDIS_READ_TIMEOUT,
            },
        }
    }


def refusing_broker_url() -> str:
    """A Redis URL where nothing listens: connections are refused at once."""
    return f"redis://127.0.0.1:{free_port()}/0"


@contextmanager
def hung_broker_url() -> Iterator[str]:
    """A Redis URL whose server accepts connections and never answers (a broker that hangs)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


BASE_DIR = Path(__file__).resolve().parent.parent
CELERY = Path(sys.executable).parent / "celery"
WAIT_SECONDS = 30


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path) -> None:
        self.process, self.log = process, log

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        """Poll `condition` until it holds, for at most WAIT_SECONDS; fail with the worker's
        log if it does not, or if the worker dies."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                pytest.fail(f"The worker exited ({self.process.returncode}):\n{self.output()}")
            time.sleep(0.1)
        pytest.fail(f"No {what} within {WAIT_SECONDS} s. Worker log:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text()[-5000:]


@contextmanager
def celery_worker(
    *,
    broker_url: str,
    queue: str,
    smtp_port: int,
    log: Path,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Worker]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": database_url(),
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": broker_url,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_TIMEOUT": "5",
        # What the worker queues (a notification's email) stays on the test's own queue.
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        **(extra_env or {}),
    }
    command = [
        str(CELERY),
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        f"--queues={queue}",
        f"--hostname={queue}@%h",
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
        "--loglevel=INFO",
    ]
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 (fixed arguments)
            command, cwd=BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield Worker(process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
