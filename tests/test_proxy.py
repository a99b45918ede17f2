"""The documented stack: deploy/nginx.conf (Debian's nginx) in front of gunicorn with two sync
workers, as docker-compose.yml runs them.

Slow clients cannot starve the workers, a chunked body is read (gunicorn alone refuses it
with 411 rather than reading it as empty), and what nginx or Django refuses before any view
answers in the error envelope. Real processes and real time: the slow clients are slow by the
clock, so this module waits for real where it must.
"""

import json
import socket
import time
import urllib.error
import urllib.request

import pytest

from patients.models import Patient
from tests.background import free_port
from tests.factories import PASSWORD
from tests.servers import (
    gunicorn_serving,
    nginx_serving,
    production_env,
    raw_exchange,
    read_response,
)

WORKERS = 2
SLOW_CLIENTS = WORKERS + 2
# Each slow client sends a header line this often, for this long: far longer than any request
# takes, and shorter than nginx's client_header_timeout and client_body_timeout (10 s), which
# would end the slow clients and the half-sent real request.
SLOW_LINE_SECONDS = 2
SLOW_FOR_SECONDS = 6
# A health check that does not answer within this is a hang (it answers in milliseconds).
HEALTH_TIMEOUT_SECONDS = 5


@pytest.fixture(scope="module")
def stack(django_db_setup, tmp_path_factory):
    """(gunicorn's base URL, nginx's base URL) for the whole module."""
    directory = tmp_path_factory.mktemp("stack")
    with (
        gunicorn_serving(production_env(directory / "static"), workers=WORKERS) as gunicorn,
        nginx_serving(gunicorn, directory / "nginx") as nginx,
    ):
        yield gunicorn, nginx


def _request(method: str, path: str, *, headers: dict | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _envelope_codes(headers: dict, body: bytes) -> list[str]:
    assert headers.get("content-type") == "application/json", (headers, body[:300])
    envelope = json.loads(body)
    assert set(envelope) == {"type", "errors"}, envelope
    return [error["code"] for error in envelope["errors"]]


def _chunked(body: bytes) -> bytes:
    middle = len(body) // 2
    return b"".join(
        f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (body[:middle], body[middle:])
    ) + (b"0\r\n\r\n")


def _registration(username: str) -> bytes:
    return json.dumps(
        {
            "username": username,
            "email": f"{username}@example.test",
            "password": PASSWORD,
            "first_name": "Chunky",
            "last_name": "Body",
            "date_of_birth": "1990-01-01",
        }
    ).encode()


def _post_chunked(base: str, username: str) -> tuple[int, dict, bytes]:
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    request = _request(
        "POST", "/api/v1/patients/", headers=headers, body=_chunked(_registration(username))
    )
    return raw_exchange(base, request)


# Chunked bodies -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_gunicorn_alone_refuses_a_chunked_body_with_411(stack):
    gunicorn, _ = stack
    status, headers, body = _post_chunked(gunicorn, "chunked.direct")
    assert status == 411, body[:300]
    assert _envelope_codes(headers, body) == ["length_required"]
    assert not Patient.objects.filter(user__username="chunked.direct").exists()


@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_through_nginx_is_read(stack):
    _, nginx = stack
    status, _, body = _post_chunked(nginx, "chunked.proxied")
    assert status == 201, body[:300]
    assert json.loads(body)["username"] == "chunked.proxied"
    assert Patient.objects.filter(user__username="chunked.proxied").exists()


# What is refused before any view ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GARBAGE\r\n\r\n", 400, "bad_request"),
        (b"GET /api/v1/\x01 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400, "bad_request"),
        (_request("GET", "/api/v1/doctors/?q=" + "a" * 9000), 414, "uri_too_long"),
        (
            _request("GET", "/api/v1/doctors/", headers={"X-Big": "a" * 9000}),
            431,
            "headers_too_large",
        ),
        (
            _request("GET", "/", headers={f"X-Header-{n}": "a" * 4000 for n in range(10)}),
            431,
            "headers_too_large",
        ),
        (
            _request("POST", "/api/v1/patients/", headers={"Content-Length": "2000000"}),
            413,
            "request_too_large",
        ),
        (
            b"GET /api/v1/health/ HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n",
            505,
            "http_version_not_supported",
        ),
        (_request("GET", "/_careslot_errors/bad_request.json"), 404, "not_found"),
    ],
    ids=[
        "request-line",
        "control-character",
        "long-url",
        "long-header",
        "many-headers",
        "body",
        "version",
        "error-page",
    ],
)
def test_what_nginx_refuses_answers_in_the_envelope(stack, request_bytes, status, code):
    _, nginx = stack
    answer_status, headers, body = raw_exchange(nginx, request_bytes)
    assert answer_status == status, body[:300]
    assert _envelope_codes(headers, body) == [code]


@pytest.mark.django_db(transaction=True)
def test_a_disallowed_host_through_nginx_is_djangos_400_in_the_envelope(stack):
    _, nginx = stack
    status, headers, body = raw_exchange(
        nginx, _request("GET", "/api/v1/health/").replace(b"Host: 127.0.0.1", b"Host: evil.example")
    )
    assert status == 400, body[:300]
    assert _envelope_codes(headers, body) == ["bad_request"]


@pytest.mark.django_db(transaction=True)
def test_gunicorn_down_is_a_502_in_the_envelope(tmp_path):
    with nginx_serving(f"http://127.0.0.1:{free_port()}", tmp_path / "nginx") as nginx:
        status, headers, body = raw_exchange(nginx, _request("GET", "/api/v1/health/"))
    assert status == 502
    assert _envelope_codes(headers, body) == ["bad_gateway"]


# Slow clients -----------------------------------------------------------------------------------


def _connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=HEALTH_TIMEOUT_SECONDS * 3)


def _health(base: str) -> int:
    """The status of /health/; a hang past HEALTH_TIMEOUT_SECONDS raises."""
    url = f"{base}/api/v1/health/"
    try:
        with urllib.request.urlopen(url, timeout=HEALTH_TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.django_db(transaction=True)
def test_slow_clients_never_starve_the_workers(stack):
    _, nginx = stack
    registration = _registration("patient.during.slowloris")

    # A real request under way before the slow clients come (a registration whose body is
    # half sent), finished once they have held their connections for a while.
    real = _connect(nginx)
    real.sendall(
        _request(
            "POST",
            "/api/v1/patients/",
            headers={"Content-Type": "application/json", "Content-Length": str(len(registration))},
            body=registration[: len(registration) // 2],
        )
    )
    slow = [_connect(nginx) for _ in range(SLOW_CLIENTS)]
    for connection in slow:
        connection.sendall(b"GET /api/v1/health/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")

    statuses = []
    started = time.monotonic()
    next_line = started + SLOW_LINE_SECONDS
    try:
        while time.monotonic() - started < SLOW_FOR_SECONDS:
            statuses.append(_health(nginx))
            if time.monotonic() >= next_line:
                for number, connection in enumerate(slow):
                    connection.sendall(f"X-Slow-{number}: still here\r\n".encode())
                next_line += SLOW_LINE_SECONDS
            time.sleep(0.25)  # a health check every quarter second, as a load balancer might

        real.sendall(registration[len(registration) // 2 :])
        status, _, body = read_response(real)
    finally:
        for connection in [real, *slow]:
            connection.close()

    assert set(statuses) == {200}
    assert status == 201, body[:300]
    assert Patient.objects.filter(user__username="patient.during.slowloris").exists()
