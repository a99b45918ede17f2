"""Run calls at the same moment on real threads, each with its own database connection; open
another database session beside the code under test."""

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import psycopg
from django.db import connection, connections


def run_at_once(calls: Sequence[Callable[[], object]], *, workers: int | None = None) -> list:
    """Start every call together (a barrier releases them) and return their results in order.

    Each thread opens its own PostgreSQL connection, as concurrent web workers would, and
    closes it when done. `workers` caps the threads (PostgreSQL allows 100 connections here);
    a worker then runs its calls back to back.
    """
    workers = min(workers or len(calls), len(calls))
    barrier = threading.Barrier(workers)

    def run(index_calls: list[tuple[int, Callable[[], object]]]) -> list[tuple[int, object]]:
        try:
            barrier.wait(timeout=30)
            return [(index, call()) for index, call in index_calls]
        finally:
            connections.close_all()

    batches = [list(enumerate(calls))[i::workers] for i in range(workers)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = [pair for batch in pool.map(run, batches) for pair in batch]
    return [result for _, result in sorted(results, key=lambda pair: pair[0])]


def other_session() -> psycopg.Connection:
    """A psycopg connection to the test database, outside Django: another session, to hold a
    lock while the code under test (in this process or another) runs."""
    params = connection.get_connection_params()
    for name in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(name, None)
    return psycopg.connect(**params)


class RunAfter:
    """Saleor's `RunAfter` (tests/race_condition.py): patch `name` on `owner` so that its
    first call runs `callback` to completion after the real function returns and before its
    caller goes on (later calls, the callback's own included, just call the real function).
    A competing write thus lands at an exact point of the code under test."""

    def __init__(self, owner, name: str, callback: Callable[[], object]) -> None:
        self.owner, self.name, self.callback = owner, name, callback
        self.real = getattr(owner, name)
        self.fired = threading.Event()
        self.result: object = None

    def _wrapper(self, *args, **kwargs):
        result = self.real(*args, **kwargs)
        if not self.fired.is_set():
            self.fired.set()
            self.result = self.callback()
        return result

    def __enter__(self) -> "RunAfter":
        setattr(self.owner, self.name, self._wrapper)
        return self

    def __exit__(self, *exc_info) -> None:
        setattr(self.owner, self.name, self.real)


class InThread:
    """Run `call` on a thread of its own, with its own database connection; `join()`
    returns its result (or raises its exception)."""

    def __init__(self, call: Callable[[], object]) -> None:
        self.done = threading.Event()
        self._outcome: tuple[bool, object] = (False, None)

        def run() -> None:
            try:
                self._outcome = (True, call())
            except BaseException as error:  # handed to join()
                self._outcome = (False, error)
            finally:
                connections.close_all()
                self.done.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout: float = 60) -> object:
        self.thread.join(timeout)
        assert self.done.is_set(), "the thread did not finish"
        ok, value = self._outcome
        if not ok:
            assert isinstance(value, BaseException)
            raise value
        return value


def run_to_completion(call: Callable[[], object]) -> object:
    """`call` on another thread and connection, waited for: a competing request that
    commits (or fails) before the caller goes on."""
    return InThread(call).join()


def lock_wait_awaited(other: InThread, *, timeout: float = 30) -> bool:
    """Wait until some session of this test database is waiting for a lock (row, advisory or
    other), or until `other` has finished; True if a lock wait was seen. Polls
    pg_stat_activity from a connection of its own, outside any transaction, so that each
    look is fresh."""
    params = connections["default"].get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    give_up = time.monotonic() + timeout
    with psycopg.connect(autocommit=True, **params) as watcher:
        while time.monotonic() < give_up:
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if row and row[0]:
                return True
            if other.done.wait(0.01):
                return False
    raise AssertionError("no lock wait was seen, and the other thread did not finish")
