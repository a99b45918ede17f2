"""The SMART Scheduling Links publication, fetched whole from the benchmark's gunicorn as a
slot-discovery client would: the manifest, then every day's slot file. How long the whole
takes and the slowest file, how fast slots come, and how much the workers' memory grows
meanwhile (their kernel high-water mark, restarted just before; bench/README.md, "SMART
Scheduling Links"). Run at 24,000 slots and again at 240,000: the whole grows with the free
slots published; the slowest file and the memory must not."""

import json
import time
import urllib.request
from pathlib import Path

MANIFEST = "/api/v1/fhir/R4/$bulk-publish"


def _status_bytes(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def _fetch(url: str) -> tuple[int, int, float]:
    """(bytes, lines, seconds) of one answer, read as it streams."""
    began = time.perf_counter()
    size = lines = 0
    with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 (loopback, built here)
        while chunk := answer.read(1 << 20):
            size += len(chunk)
            lines += chunk.count(b"\n")
    return size, lines, time.perf_counter() - began


def publication_fetch(server) -> dict:
    workers = [worker.pid for worker in server.workers()]
    before = {}
    for pid in workers:
        # Restart the worker's VmHWM from its resident memory now (Linux, same user).
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        before[pid] = _status_bytes(pid, "VmRSS")
    began = time.perf_counter()
    with urllib.request.urlopen(server.url + MANIFEST, timeout=60) as answer:  # noqa: S310
        manifest = json.load(answer)
    slot_files = [item["url"] for item in manifest["output"] if item["type"] == "Slot"]
    size = lines = 0
    slowest, largest = 0.0, 0
    for url in slot_files:
        file_size, file_lines, seconds = _fetch(url)
        size, lines = size + file_size, lines + file_lines
        slowest, largest = max(slowest, seconds), max(largest, file_lines)
    seconds = time.perf_counter() - began
    growth = max(_status_bytes(pid, "VmHWM") - before[pid] for pid in workers)
    return {
        "slots": lines,
        "files": len(slot_files),
        "mib": round(size / 2**20, 1),
        "seconds": round(seconds, 2),
        "slots_per_s": round(lines / seconds),
        "largest_file_slots": largest,
        "slowest_file_s": round(slowest, 2),
        "worker_memory_growth_mib": round(growth / 2**20, 1),
    }
