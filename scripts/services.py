"""Make sure the services CareSlot needs are up, and run a command beside them:
`python scripts/services.py [--redis] [-- COMMAND ...]` (`make run`, `make test`).

PostgreSQL: `DATABASE_URL=embedded` asks for the embedded PostgreSQL (core/embedded_db.py).
Otherwise DATABASE_URL (else postgres://postgres@127.0.0.1:5432/careslot) must answer; a
stopped local server is started where one is installed. When DATABASE_URL is unset and still
nothing answers there, the embedded PostgreSQL is started instead, with a COMMAND to run only:
alone, this script leaves no server behind. The database is created when missing.

With --redis, Redis (REDIS_URL, else redis://127.0.0.1:6379/0) is checked the same way;
with --redis-optional (`make test`) too, but a Redis that cannot be had is only reported.

A COMMAND runs with DATABASE_URL set to the database chosen (the embedded server's socket URL,
when it is that one); SIGTERM and SIGHUP are passed on to it (SIGINT from a terminal reaches it
directly). When it ends, the embedded server is stopped if this script started it, and the
script exits with the command's code. When a service cannot be had, one line says what to
start, and the exit code is 1. `--redis-url` only prints the Redis URL if it answers (nothing
otherwise, and nothing when REDIS_URL is set empty), for `run.sh`.
"""

import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis

# core/embedded_db.py is imported from the repository, which a script does not have on its path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import embedded_db

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


def setting(name: str) -> str | None:
    """The environment's value of `name`, else the .env file's, else None (unset)."""
    if name in os.environ:
        return os.environ[name]
    return _env_file_value(name)


def _wait_for(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return check()


def _postgres_answers(url: str) -> bool:
    try:
        with psycopg.connect(urlsplit(url)._replace(path="/postgres").geturl(), connect_timeout=3):
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


def _embedded_start(reason: str) -> tuple[str, bool]:
    url, started = embedded_db.embedded_start()
    version = embedded_db.embedded_version()
    data_dir = embedded_db.DATA_DIR
    if data_dir.is_relative_to(embedded_db.BASE_DIR):
        data_dir = data_dir.relative_to(embedded_db.BASE_DIR)
    where = f"{data_dir}/, over its Unix socket"
    if started:
        print(f"{reason}: started the embedded PostgreSQL {version} ({where}); stopped at the end.")
    else:
        print(f"{reason}: the embedded PostgreSQL {version} is already running ({where}).")
    return url, started


def postgres_ensure(*, embedded_allowed: bool) -> tuple[str | None, bool]:
    """The URL of a database that answers, and whether the embedded server was started for
    it here; (None, False) when there is none."""
    configured = setting("DATABASE_URL")
    if configured == embedded_db.EMBEDDED:
        return _embedded_start("DATABASE_URL=embedded")
    url = configured or DEFAULT_DATABASE_URL
    host, port = urlsplit(url).hostname, urlsplit(url).port or 5432
    if not _postgres_answers(url):
        if _start_local_postgres() and _wait_for(lambda: _postgres_answers(url), 20):
            print("Started the local PostgreSQL server.")
        elif not configured and embedded_allowed:
            return _embedded_start(f"DATABASE_URL is unset and nothing answers at {host}:{port}")
        else:
            embedded = "or set DATABASE_URL=embedded"
            print(f"PostgreSQL is not reachable at {host}:{port}: {HINT}, {embedded}.")
            return None, False
    name = urlsplit(url).path.lstrip("/")
    if embedded_db.database_create_missing(url):
        print(f"Created the database {name}.")
    print(f"Using the PostgreSQL at {host or 'its Unix socket'}:{port}, database {name}.")
    return url, False


def _redis_url() -> str:
    configured = setting("REDIS_URL")
    return DEFAULT_REDIS_URL if configured is None else configured


def _redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def redis_ensure() -> bool:
    url = _redis_url() or DEFAULT_REDIS_URL
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
    """The Redis URL (REDIS_URL, else the local default) if that Redis answers, else ""; ""
    when REDIS_URL is set empty (no Redis wanted)."""
    url = _redis_url()
    return url if url and _redis_answers(url) else ""


def command_run(command: list[str], *, database_url: str) -> int:
    """Run `command` with DATABASE_URL set, passing SIGTERM and SIGHUP on; its exit code."""
    child = subprocess.Popen(command, env={**os.environ, "DATABASE_URL": database_url})

    def pass_on(signum, frame) -> None:
        child.send_signal(signum)

    signal.signal(signal.SIGTERM, pass_on)
    signal.signal(signal.SIGHUP, pass_on)
    # A terminal's Ctrl-C reaches the whole foreground process group, the command included:
    # this script only waits for the command to finish its own shutdown.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return child.wait()


def main(argv: list[str]) -> int:
    # Its lines go out in order with those of the command it runs, whatever stdout is.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    if "--redis-url" in argv:
        print(reachable_redis_url())
        return 0
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    options = argv[: argv.index("--")] if "--" in argv else argv
    database_url, embedded_started = postgres_ensure(embedded_allowed=bool(command))
    ok = database_url is not None
    if "--redis" in options:
        ok = redis_ensure() and ok
    elif "--redis-optional" in options and not redis_ensure():
        print("The tests that need a live Redis are skipped, each saying so.")
    if not ok:
        if embedded_started:
            embedded_db.embedded_stop()
        return 1
    if not command or database_url is None:
        return 0
    try:
        return command_run(command, database_url=database_url)
    finally:
        if embedded_started:
            embedded_db.embedded_stop()
            print("Stopped the embedded PostgreSQL.")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
