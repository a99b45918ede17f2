"""The app as it is deployed: production settings (DEBUG off) served by gunicorn.

These tests start real processes against the test database, so what they check is what a
client of `make run` or the `web` container sees: the API answers, the docs and the admin load
their static assets through whitenoise, and an unknown API URL answers in the error envelope.
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.background import database_url, free_port

BASE_DIR = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent
STARTUP_SECONDS = 20


def _production_env(static_root: Path) -> dict[str, str]:
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


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def _get(url: str) -> tuple[int, str, bytes]:
    """(status, content type, body) of a GET, for error statuses too."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (local http URL)
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


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


def test_system_check_passes_with_debug_off(tmp_path):
    result = _manage(_production_env(tmp_path), "check")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db(transaction=True)
def test_gunicorn_serves_the_api_docs_admin_and_static_files_with_debug_off(tmp_path):
    static_root = tmp_path / "static"
    env = _production_env(static_root)
    collected = _manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    assert collected.returncode == 0, collected.stdout + collected.stderr

    base = f"http://127.0.0.1:{free_port()}"
    server = subprocess.Popen(  # noqa: S603 (fixed arguments)
        [
            str(BIN_DIR / "gunicorn"),
            "config.wsgi",
            "--bind",
            base.removeprefix("http://"),
            "--workers",
            "1",
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

        status, content_type, body = _get(f"{base}/api/v1/health/")
        assert (status, content_type) == (200, "application/json"), body
        assert json.loads(body)["status"] == "ok"

        status, _, body = _get(f"{base}/api/docs/")
        assert status == 200
        assets = re.findall(r"/static/[^\"']+/swagger-ui-bundle[^\"']*\.js", body.decode())
        assert assets, "the Swagger UI page links no static swagger-ui-bundle script"
        status, content_type, _ = _get(base + assets[0])
        assert status == 200
        assert "javascript" in content_type

        status, _, body = _get(f"{base}/admin/login/")
        assert status == 200
        assert b"/static/admin/css/" in body
        status, content_type, _ = _get(f"{base}/static/admin/css/base.css")
        assert (status, content_type.split(";")[0]) == (200, "text/css")

        status, content_type, body = _get(f"{base}/api/v1/nope/")
        assert (status, content_type) == (404, "application/json"), body
        envelope = json.loads(body)
        assert envelope["type"] == "client_error"
        assert [error["code"] for error in envelope["errors"]] == ["not_found"]
    finally:
        server.terminate()
        try:
            server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
