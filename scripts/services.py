"""Make sure the services CareSlot needs are up: `python scripts/services.py [--redis]`.

PostgreSQL (from DATABASE_URL, else postgres://postgres@127.0.0.1:5432/careslot) must answer;
a stopped local server is started where one is installed, and the database is created when
missing. With --redis, Redis (REDIS_URL, else redis://127.0.0.1:6379/0) is checked the same
way. When a service cannot be started here, one line says what to start, and the exit code is 1.
`--redis-url` only prints that Redis URL if it answers (nothing otherwise), for `run.sh`.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis
from psycopg import sql

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/careslot"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
HINT = "start it with `docker compose up -d db redis`, or install it locally"


def _env_file_value(name: str) -> str | None:
    env_file = Path(__file__).resolve().parent.parent / ".env"
    if not env_file.exists():
        return None
    for line in env_file.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == name:
            return value.strip().strip("'\"")
    return None


def setting(name: str, default: str) -> str:
    return os.environ.get(name) or _env_file_value(name) or default


def _wait_for(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return check()


def _postgres_server_url(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path="/postgres").geturl()


def _postgres_answers(url: str) -> bool:
    try:
        with psycopg.connect(_postgres_server_url(url), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _start_local_postgres() -> bool:
    if not shutil.which("pg_ctlcluster") or not Path("/etc/postgresql").is_dir():
        return False
    for version in sorted(os.listdir("/etc/postgresql")):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            check=False,
            capture_output=True,
        )
    return True


def ensure_postgres() -> bool:
    url = setting("DATABASE_URL", DEFAULT_DATABASE_URL)
    if not _postgres_answers(url):
        started = _start_local_postgres()
        if not (started and _wait_for(lambda: _postgres_answers(url), 20)):
            host = urlsplit(url).hostname
            print(f"PostgreSQL is not reachable at {host}:{urlsplit(url).port or 5432}: {HINT}.")
            return False
        print("Started the local PostgreSQL server.")
    name = urlsplit(url).path.lstrip("/") or "careslot"
    with psycopg.connect(_postgres_server_url(url), autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created the database {name}.")
    return True


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def ensure_redis() -> bool:
    url = setting("REDIS_URL", "") or DEFAULT_REDIS_URL
    if _redis_answers(url):
        return True
    parts = urlsplit(url)
    if shutil.which("redis-server") and parts.hostname in ("127.0.0.1", "localhost"):
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                str(parts.port or 6379),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=False,
            capture_output=True,
        )
        if _wait_for(lambda: _redis_answers(url), 10):
            print("Started the local Redis server.")
            return True
    print(f"Redis is not reachable at {parts.hostname}:{parts.port or 6379}: {HINT}.")
    return False


def reachable_redis_url() -> str:
    """The Redis URL (REDIS_URL, else the local default) if that Redis answers, else ""."""
    url = setting("REDIS_URL", "") or DEFAULT_REDIS_URL
    return url if _redis_answers(url) else ""


def main(argv: list[str]) -> int:
    if "--redis-url" in argv:
        print(reachable_redis_url())
        return 0
    ok = ensure_postgres()
    if "--redis" in argv:
        ok = ensure_redis() and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
