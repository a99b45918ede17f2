"""Bookings sent over HTTP from threads, as many patients' apps send them at once: for the
tests of the stack as deployed (tests/hardening/test_pooler.py, tests/scale)."""

import http.client
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from rest_framework_simplejwt.tokens import RefreshToken

URL = "/api/v1/appointments/"
# What a client retries with the same Idempotency-Key: the request may or may not have been
# done (the connection broke, or the proxy found no server to finish it).
RETRIED_STATUSES = {502, 503, 504}


def access_token(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


@dataclass
class Booking:
    """One patient's booking of one slot, with the answers of every attempt."""

    token: str
    slot_id: str
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    attempts: list[tuple[int | str, str]] = field(default_factory=list)  # (status, served by)
    body: dict = field(default_factory=dict)
    # Whether the last answer replayed an earlier one (`Idempotent-Replayed`): an attempt
    # whose answer was lost had booked.
    replayed: bool = False

    @property
    def status(self) -> int | str:
        return self.attempts[-1][0]


def _post(base: str, booking: Booking, timeout: float) -> tuple[int, dict, str, bool]:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(str(parts.hostname), parts.port, timeout=timeout)
    try:
        connection.request(
            "POST",
            URL,
            body=json.dumps({"slot": booking.slot_id}),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {booking.token}",
                "Idempotency-Key": booking.key,
                "Connection": "close",
            },
        )
        response = connection.getresponse()
        payload = response.read()
        # What a proxy answers itself (its 502 page) may not be JSON.
        is_json = response.getheader("Content-Type", "").startswith("application/json")
        return (
            response.status,
            json.loads(payload) if is_json else {"text": payload.decode(errors="replace")},
            response.getheader("X-Served-By", ""),
            response.getheader("Idempotent-Replayed") == "true",
        )
    finally:
        connection.close()


def book(base: str, booking: Booking, *, retries: int = 0, timeout: float = 20) -> Booking:
    """POST the booking; while the answer is a broken connection or a 502/503/504, try again
    (up to `retries` times) with the same Idempotency-Key, as the API's clients do."""
    for attempt in range(retries + 1):
        try:
            status, body, served_by, replayed = _post(base, booking, timeout)
        except OSError as error:  # refused, reset, or no answer: the outcome is unknown
            booking.attempts.append((type(error).__name__, ""))
        else:
            booking.attempts.append((status, served_by))
            booking.body, booking.replayed = body, replayed
            if status not in RETRIED_STATUSES:
                return booking
        if attempt < retries:
            time.sleep(0.2 * (attempt + 1))
    return booking


def book_at_once(
    base: str, bookings: list[Booking], *, retries: int = 0, threads: int | None = None
) -> list[Booking]:
    """Send every booking from its own thread, all released together; with `threads`, at
    most that many at once, one after another."""
    barrier = threading.Barrier(len(bookings)) if threads is None else None

    def send(booking: Booking) -> Booking:
        if barrier is not None:
            barrier.wait(timeout=30)
        return book(base, booking, retries=retries)

    with ThreadPoolExecutor(max_workers=threads or len(bookings)) as pool:
        return list(pool.map(send, bookings))
