"""Serving the app for real in tests: a production-like environment, manage.py commands and
gunicorn on a free local port, for tests that look at the app from outside its process."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.background import database_url, free_port

BASE_DIR = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent
STARTUP_SECONDS = 20


def production_env(static_root: Path) -> dict[str, str]:
    """The environment of a production process, pinned so a developer's .env cannot leak in."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url(),
        "DB_CONN_MAX_AGE": "0",
        "REDIS_URL": "",
        "STATIC_ROOT": str(static_root),
    }


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def http_get(url: str) -> tuple[int, str, bytes]:
    """(status, content type, body) of a GET, for error statuses too."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (local http URL)
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def http_json(
    method: str, url: str, *, body: dict | None = None, token: str = "", timeout: float = 10
) -> tuple[int, dict]:
    """(status, decoded JSON body) of a JSON request, for error statuses too; `token` signs it
    in. A request that does not answer within `timeout` raises TimeoutError."""
    request = urllib.request.Request(  # noqa: S310 (local http URL)
        url,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    return status, json.loads(payload) if payload else {}


def _wait_until_serving(server: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stdout.read() if server.stdout else ""
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{output}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (local http URL)
                return
        except urllib.error.HTTPError:
            return  # it answers; the test looks at the status itself
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer {url} within {STARTUP_SECONDS} s")


@contextmanager
def gunicorn_serving(env: dict[str, str], *, workers: int = 1) -> Iterator[str]:
    """gunicorn serving `config.wsgi` with `env` on a free local port: yields its base URL
    once it answers, and stops it afterwards."""
    base = f"http://127.0.0.1:{free_port()}"
    server = subprocess.Popen(  # noqa: S603 (fixed arguments)
        [
            str(BIN_DIR / "gunicorn"),
            "config.wsgi",
            "--bind",
            base.removeprefix("http://"),
            "--workers",
            str(workers),
            # gunicorn's control socket has one default path per user: a second server would
            # delete the socket of a developer's running `make run`.
            "--no-control-socket",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_until_serving(server, f"{base}/api/v1/health/")
        yield base
    finally:
        server.terminate()
        try:
            server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


NGINX_CONF = BASE_DIR / "deploy" / "nginx.conf"
# What the test changes in deploy/nginx.conf: where it listens, and where gunicorn is.
NGINX_LISTEN = "listen 8080;"
NGINX_UPSTREAM = "server web:8000;"


def nginx_binary() -> str | None:
    """Debian's nginx (`.ci/run` installs it), or None."""
    return shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")


def _nginx_main_config(directory: Path, site: Path) -> str:
    """The main context the nginx image provides around deploy/nginx.conf, with every path
    in `directory` so that runs never share a pid file or a temporary directory."""
    paths = "\n".join(
        f"  {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, nginx's workers would otherwise drop to a user that cannot reach `directory`.
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""daemon off;
{user}
worker_processes 1;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} info;
events {{ worker_connections 512; }}
http {{
  access_log {directory / "access.log"};
{paths}
  include {site};
}}
"""


@contextmanager
def nginx_serving(upstream: str, directory: Path) -> Iterator[str]:
    """Debian's nginx with deploy/nginx.conf in front of `upstream` (gunicorn's base URL),
    changing only the addresses: yields its base URL once it accepts connections."""
    binary = nginx_binary()
    if binary is None:
        pytest.skip("nginx is not installed (.ci/run installs Debian's nginx package)")
    base = f"http://127.0.0.1:{free_port()}"
    site = NGINX_CONF.read_text()
    for line in (NGINX_LISTEN, NGINX_UPSTREAM):
        assert site.count(line) == 1, f"{NGINX_CONF} has no single {line!r}"
    site = site.replace(NGINX_LISTEN, f"listen {base.removeprefix('http://')};")
    site = site.replace(NGINX_UPSTREAM, f"server {upstream.removeprefix('http://')};")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "careslot.conf").write_text(site)
    main = directory / "nginx.conf"
    main.write_text(_nginx_main_config(directory, directory / "careslot.conf"))
    server = subprocess.Popen(  # noqa: S603 (fixed arguments)
        [binary, "-p", str(directory), "-c", str(main), "-e", str(directory / "error.log")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_until_accepting(server, base, directory / "error.log")
        yield base
    finally:
        server.terminate()
        try:
            server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


def _wait_until_accepting(server: subprocess.Popen, base: str, log: Path) -> None:
    host, port = base.removeprefix("http://").split(":")
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output = server.stdout.read() if server.stdout else ""
            errors = log.read_text() if log.exists() else ""
            pytest.fail(f"nginx exited with {server.returncode}:\n{output}\n{errors}")
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nginx did not accept connections on {base} within {STARTUP_SECONDS} s")


def raw_exchange(base: str, request: bytes, *, timeout: float = 10) -> tuple[int, dict, bytes]:
    """Send `request` as it is (the caller ends its headers with `Connection: close`) and read
    the answer to the end: (status, headers with lower-case names, body)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        connection.sendall(request)
        return read_response(connection)


def read_response(connection: socket.socket) -> tuple[int, dict, bytes]:
    """The answer on `connection`, read until the server closes it."""
    answer = b""
    while chunk := connection.recv(65536):
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = _dechunk(body)
    return int(status_line.split()[1]), headers, body


def _dechunk(body: bytes) -> bytes:
    whole = b""
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return whole
        whole, body = whole + body[:size], body[size + 2 :]
