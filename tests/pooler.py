"""PgBouncer (Debian's package) in transaction mode in front of the test database, for the
tests of CareSlot behind a pooler (tests/hardening/test_pooler.py, tests/scale)."""

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings

PGBOUNCER = "/usr/sbin/pgbouncer"
STARTUP_SECONDS = 10


def pgbouncer_binary() -> str | None:
    """Debian's pgbouncer (`.ci/run` installs it), or None."""
    return shutil.which("pgbouncer", path=f"{Path(PGBOUNCER).parent}:/usr/bin")


@dataclass(frozen=True)
class PooledDatabase:
    """A database of the pooler: its name for clients, and the statement timeout its server
    connections carry (PgBouncer's connect_query), as docs/deployment.md configures one per
    process role."""

    name: str
    statement_timeout_ms: int


@dataclass(frozen=True)
class Pooler:
    host: str
    port: int

    def url(self, database: PooledDatabase) -> str:
        return f"postgres://postgres@{self.host}:{self.port}/{database.name}"


@contextmanager
def pgbouncer_serving(
    directory: Path,
    databases: list[PooledDatabase],
    *,
    host: str,
    port: int,
    pool_size: int,
) -> Iterator[Pooler]:
    """PgBouncer in transaction mode on `host:port`, each of `databases` the test database
    on the local PostgreSQL with at most `pool_size` server connections: yields once it
    accepts connections, and stops it afterwards."""
    binary = pgbouncer_binary()
    if binary is None:
        pytest.skip("pgbouncer is not installed (.ci/run installs Debian's pgbouncer package)")
    db = settings.DATABASES["default"]
    server = str(db.get("HOST") or db.get("OPTIONS", {}).get("host") or "")
    if not server or server.startswith("/"):
        # The embedded PostgreSQL listens on a socket in its data directory, which PgBouncer
        # (running as `nobody`) is not given; the pooler is a deployment's, over TCP.
        pytest.skip("the test database is on a Unix socket (the embedded PostgreSQL)")
    backend = f"host={server} port={db.get('PORT') or 5432}"
    lines = ["[databases]"]
    for database in databases:
        lines.append(
            f"{database.name} = {backend} dbname={db['NAME']} "
            f"connect_query='SET statement_timeout = {database.statement_timeout_ms}'"
        )
    directory.mkdir(parents=True, exist_ok=True)
    users = directory / "users.txt"
    users.write_text(f'"{db["USER"] or "postgres"}" ""\n')
    lines += [
        "[pgbouncer]",
        f"listen_addr = {host}",
        f"listen_port = {port}",
        "unix_socket_dir =",
        "auth_type = trust",
        f"auth_file = {users}",
        "pool_mode = transaction",
        f"default_pool_size = {pool_size}",
        "max_client_conn = 500",
        "server_check_delay = 0",
        "logfile =",
        "pidfile =",
    ]
    config = directory / "pgbouncer.ini"
    config.write_text("\n".join(lines) + "\n")
    log = directory / "pgbouncer.log"
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 (fixed arguments)
            [binary, *_unprivileged(), str(config)], stdout=output, stderr=subprocess.STDOUT
        )
    pooler = Pooler(host, port)
    try:
        _wait_until_pooling(process, pooler.url(databases[0]), log)
        yield pooler
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _unprivileged() -> list[str]:
    """PgBouncer refuses to run as root: as root, it reads its files and then becomes
    `nobody`."""
    return ["-u", "nobody"] if os.geteuid() == 0 else []


def _wait_until_pooling(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"pgbouncer exited with {process.returncode}:\n{log.read_text()}")
        try:
            with psycopg.connect(url, connect_timeout=2, autocommit=True) as connection:
                connection.execute("SELECT 1")
                return
        except psycopg.OperationalError:
            time.sleep(0.1)
    pytest.fail(f"pgbouncer did not pool {url} within {STARTUP_SECONDS} s:\n{log.read_text()}")


def _value(client: psycopg.Connection, sql: str) -> Any:
    """The one value `sql` answers."""
    row = client.execute(sql).fetchone()
    assert row is not None
    return row[0]


def server_connections_state(pooler: Pooler, database: PooledDatabase, count: int) -> list[dict]:
    """What each of the `count` server connections of `database` carries beyond a fresh
    connection of the pooler's: settings set in the session other than its connect_query's
    and those PgBouncer itself restores for each client (it tracks them), session-level
    advisory locks, open cursors, prepared statements and temporary tables. Holding `count`
    transactions open at once reaches `count` distinct server connections (a pool of that
    size)."""
    tracked = {"client_encoding", "DateStyle", "TimeZone", "standard_conforming_strings"}
    tracked |= {"application_name", "statement_timeout"}
    clients = [psycopg.connect(pooler.url(database), autocommit=True) for _ in range(count)]
    try:
        for client in clients:
            client.execute("BEGIN")
        states = []
        for client in clients:
            settings_left = client.execute(
                "SELECT name, setting FROM pg_settings WHERE source = 'session'"
            ).fetchall()
            timeout = _value(
                client, "SELECT setting FROM pg_settings WHERE name = 'statement_timeout'"
            )
            states.append(
                {
                    "backend": _value(client, "SELECT pg_backend_pid()"),
                    "settings": sorted(
                        (name, value) for name, value in settings_left if name not in tracked
                    ),
                    "statement_timeout_ms": int(timeout),
                    "advisory_locks": _value(
                        client,
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND pid = pg_backend_pid()",
                    ),
                    "cursors": _value(client, "SELECT count(*) FROM pg_cursors"),
                    "prepared": _value(client, "SELECT count(*) FROM pg_prepared_statements"),
                    "temporary_tables": _value(
                        client,
                        "SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()",
                    ),
                }
            )
        return states
    finally:
        for client in clients:
            client.close()
