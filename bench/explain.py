"""EXPLAIN ANALYZE the slot searches exactly as the API builds them, and name the indexes.

    python -m bench.explain --data DATA.json --out PLANS.json

Run by `bench/run.py` with the benchmark's environment, at each table size. For each of
`GET /slots/` (one specialization, one day) and `GET /doctors/{id}/slots/` (one week) it
explains the one query the view sends for the first page: the page with its count
(`core.api.pagination.CountingPaginator`).
"""

import argparse
import json
import os
import re
import sys
from datetime import date
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from core.api.pagination import CountingPaginator  # noqa: E402
from scheduling.selectors import slot_list_free  # noqa: E402

PAGE_SIZE = 20  # the API's default page size, as the benchmark's requests use it

INDEX_USE = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan) (?:using|on) (\w+)")


def _plan_ms(phase: str, plan: str) -> float:
    """The planning or execution time EXPLAIN ANALYZE reports, in milliseconds."""
    found = re.search(rf"{phase} Time: ([\d.]+)", plan)
    if found is None:
        raise ValueError(f"no {phase} Time in the plan")
    return float(found.group(1))


def explain(run) -> dict:
    """EXPLAIN ANALYZE the one query `run()` sends, as sent (psycopg binds on the client)."""
    with CaptureQueriesContext(connection) as captured:
        run()
    (query,) = captured.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])  # warms the caches
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return {
        "indexes": sorted(set(INDEX_USE.findall(plan))),
        "planning_ms": _plan_ms("Planning", plan),
        "execution_ms": _plan_ms("Execution", plan),
        "plan": plan,
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.explain")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    data = json.loads(args.data.read_text())
    day = date.fromisoformat(data["search"]["date"])
    week = data["doctor_week"]
    searches = {
        "slot_search": slot_list_free(
            specialization_id=data["search"]["specialization"], date_from=day, date_to=day
        ),
        "doctor_slots_week": slot_list_free(
            doctor_id=data["doctors"][0],
            date_from=date.fromisoformat(week["date_from"]),
            date_to=date.fromisoformat(week["date_to"]),
        ),
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM scheduling_slot")
        slots = cursor.fetchone()[0]
    plans = {"slots_in_table": slots}
    for name, queryset in searches.items():
        plans[name] = {
            "page": explain(lambda q=queryset: CountingPaginator(q, PAGE_SIZE).page(1)),
        }
    args.out.write_text(json.dumps(plans, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
