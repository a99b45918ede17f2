"""Run calls at the same moment on real threads, each with its own database connection; open
another database session beside the code under test."""

import threading
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
