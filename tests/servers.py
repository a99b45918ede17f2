"""Serving the app for real in tests: a production-like environment, manage.py commands and
gunicorn on a free local port, for tests that look at the app from outside its process."""

import json
import os
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
