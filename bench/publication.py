"""The SMART Scheduling Links slot file, fetched whole from the benchmark's gunicorn: how long
it takes, how fast slots come, and how much the serving worker's memory grows while it
streams (its kernel high-water mark, restarted just before; bench/README.md, "SMART
Scheduling Links"). Run at 24,000 slots and again at 240,000: the time grows with the free
slots published, the memory must not."""

import time
import urllib.request
from pathlib import Path

SLOT_FILE = "/api/v1/fhir/R4/$bulk-publish/slots.ndjson"


def _status_bytes(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def slot_file_measure(server) -> dict:
    workers = [worker.pid for worker in server.workers()]
    before = {}
    for pid in workers:
        # Restart the worker's VmHWM from its resident memory now (Linux, same user).
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        before[pid] = _status_bytes(pid, "VmRSS")
    began = time.perf_counter()
    first_byte = None
    size = lines = 0
    with urllib.request.urlopen(server.url + SLOT_FILE, timeout=60) as answer:  # noqa: S310
        while chunk := answer.read(1 << 20):
            first_byte = first_byte or time.perf_counter() - began
            size += len(chunk)
            lines += chunk.count(b"\n")
    seconds = time.perf_counter() - began
    growth = max(_status_bytes(pid, "VmHWM") - before[pid] for pid in workers)
    return {
        "slots": lines,
        "mib": round(size / 2**20, 1),
        "seconds": round(seconds, 2),
        "first_byte_ms": round(1000 * (first_byte or seconds), 1),
        "slots_per_s": round(lines / seconds),
        "worker_memory_growth_mib": round(growth / 2**20, 1),
    }
