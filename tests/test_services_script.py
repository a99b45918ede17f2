"""scripts/services.py's choice of database, with the PostgreSQL it would use absent: the
default address pointed at a port where nothing listens, and no local server to start."""

import importlib.util

import psycopg
import pytest

from core import embedded_db
from tests.background import free_port
from tests.servers import BASE_DIR


@pytest.fixture
def services(monkeypatch, embedded_workdir):
    """scripts/services.py on a machine with no PostgreSQL: nothing answers at its default
    address, no server is installed to start, and the embedded one keeps its data in
    `embedded_workdir` (stopped afterwards)."""
    spec = importlib.util.spec_from_file_location("services", BASE_DIR / "scripts" / "services.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(
        module, "DEFAULT_DATABASE_URL", f"postgres://postgres@127.0.0.1:{free_port()}/careslot"
    )
    monkeypatch.setattr(module, "_start_local_postgres", lambda: False)
    monkeypatch.setattr(module, "_env_file_value", lambda name: None)
    monkeypatch.setattr(embedded_db, "DATA_DIR", embedded_workdir / "postgres")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    yield module
    embedded_db.embedded_stop()


def test_unset_and_nothing_answering_starts_the_embedded_postgresql(services, capsys):
    url, started = services.postgres_ensure(embedded_allowed=True)

    assert started
    assert "DATABASE_URL is unset and nothing answers at 127.0.0.1:" in capsys.readouterr().out
    with psycopg.connect(url) as connection:
        assert connection.info.server_version >= 180000
        assert connection.info.dbname == "careslot"
        # What the schema's exclusion constraints need.
        connection.execute("CREATE EXTENSION btree_gist")
    # A second start finds it running, and leaves stopping it to whoever started it.
    assert services.postgres_ensure(embedded_allowed=True) == (url, False)


def test_a_configured_database_that_does_not_answer_is_not_replaced(services, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", services.DEFAULT_DATABASE_URL)

    assert services.postgres_ensure(embedded_allowed=True) == (None, False)
    assert "PostgreSQL is not reachable at 127.0.0.1:" in capsys.readouterr().out
    assert embedded_db.embedded_url() is None


def test_without_a_command_to_stop_it_with_no_embedded_server_is_left_behind(services):
    assert services.postgres_ensure(embedded_allowed=False) == (None, False)
    assert embedded_db.embedded_url() is None
