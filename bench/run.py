"""The CareSlot benchmark: the real stack under load, on this one machine (`make bench`).

    python -m bench.run [--duration 20] [--users 10] [--workers N] [--only a,b] [--profile S]

1. A fresh PostgreSQL database (`careslot_bench`, dropped and created), migrated.
2. Seeded (`bench.seed`): 100 doctors x 30 days x 8 slots (24,000, 30 % booked), 1,000
   patients, one admin; JWT access tokens and the planned bookings go to a file.
3. gunicorn with the deployment's settings (`config.settings.base`, as the Dockerfile and
   docker-compose run it, DEBUG=false) and 2 x cores + 1 sync workers, as gunicorn's
   deployment guide says.
4. Each scenario is driven by locust (headless, its own process) for a fixed time, every
   request's latency recorded; the booking transaction also runs in plain SQL through
   pgbench. While they run, every gunicorn worker's memory is sampled, and the CPU time of
   the workers, PostgreSQL and the load generator is counted.
5. The slot table is grown to 240,000 rows and the slot searches are run again.
6. Results: bench/results/latest.json, latest.md and latest.png (see bench/README.md).

Settings of the run, beyond the defaults: RATE_LIMITS_ENABLED=false (docs/api.md: for load
tests); ACCESS_TOKEN_LIFETIME long enough for the run; MAX_ACTIVE_APPOINTMENTS_PER_PATIENT
raised (the run books about a dozen appointments per patient); EMAIL_BACKEND the dummy one,
so no mail leaves the machine. Notifications: by default REDIS_URL points at a Redis
database of the benchmark's own (BENCH_REDIS_URL, db 13, emptied before and after), so a
booking writes its outbox rows and queues their delivery as the docker-compose deployment
does, and with no Celery worker running the rows stay in the outbox. `--broker eager` leaves
REDIS_URL empty instead: Celery then runs the delivery task in-process, after the commit but
on the request's path (about ten more queries and four more commits per booking). `--broker
relay` is `make run` without Redis: REDIS_URL empty and RELAY_IN_PROCESS, so a booking wakes
the background process with one NOTIFY after its commit (none runs here: the rows wait).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psutil
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
DATABASE = "careslot_bench"
SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
SCALED_SLOTS = 240_000


def database_url() -> str:
    return SERVER_URL.rsplit("/", 1)[0] + "/" + DATABASE


def bench_env(args) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": database_url(),
        "DEBUG": "false",
        "RATE_LIMITS_ENABLED": "false",
        "REDIS_URL": BENCH_REDIS_URL if args.broker == "redis" else "",
        "RELAY_IN_PROCESS": "true" if args.broker == "relay" else "false",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "ACCESS_TOKEN_LIFETIME": str(6 * 3600),
        # The run books about ten appointments per patient on top of the seeded ones.
        "MAX_ACTIVE_APPOINTMENTS_PER_PATIENT": "1000",
        # Every published free slot carries its booking link, as a deployment's would.
        "SMART_BOOKING_URL": "https://book.example.test/slots/{slot}",
        "PYTHONPATH": str(ROOT),
    }
    return env


# Scenarios ------------------------------------------------------------------------------------

SCENARIOS = {
    # name: (locust user class, label, expected status)
    "baseline": ("Baseline", "GET /auth/me/ (baseline)", {200}),
    "slot_search": ("SlotSearch", "GET /slots/ (1 specialization, 1 day)", {200}),
    "doctor_slots_week": ("DoctorSlots", "GET /doctors/{id}/slots/ (1 week)", {200}),
    "appointments_patient": ("PatientAppointments", "GET /appointments/ as a patient", {200}),
    "appointments_doctor": ("DoctorAppointments", "GET /appointments/ as a doctor", {200}),
    "booking_uncontended": ("UncontendedBooking", "POST /appointments/ distinct slots", {201}),
    "booking_contended": ("ContendedBooking", "POST /appointments/ 50 on one slot", {201, 409}),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn with the benchmark's settings; its workers' memory sampled all along."""

    def __init__(self, env: dict, workers: int, worker_class: str, threads: int, work: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (work / "gunicorn.log").open("w")
        command = [
            str(Path(PYTHON).parent / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--graceful-timeout",
            "10",
        ]
        if worker_class == "gthread":
            command += ["--threads", str(threads)]
        self.process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=self.log, stderr=self.log
        )
        self.peak_rss: dict[int, int] = {}
        self._stop = threading.Event()
        self._wait_ready()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn stopped; see {self.log.name}")
            try:
                health = self.url + "/api/v1/health/"  # http on loopback, built here
                with urllib.request.urlopen(health, timeout=2) as answer:  # noqa: S310
                    if answer.status == 200 and len(self.workers()) > 0:
                        return
            except OSError:
                time.sleep(0.3)
        raise SystemExit("gunicorn did not answer within 60 s")

    def workers(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return []

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            for worker in self.workers():
                try:
                    rss = worker.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
                self.peak_rss[worker.pid] = max(self.peak_rss.get(worker.pid, 0), rss)

    def memory(self) -> list[dict]:
        """Each worker's resident memory now and its peak: the kernel's high-water mark
        (VmHWM) where readable, else the highest of our samples."""
        rows = []
        for worker in self.workers():
            hwm = None
            try:
                status = Path(f"/proc/{worker.pid}/status").read_text()
                hwm = next(
                    int(line.split()[1]) * 1024
                    for line in status.splitlines()
                    if line.startswith("VmHWM:")
                )
                rss = worker.memory_info().rss
            except (OSError, StopIteration, psutil.NoSuchProcess):
                continue
            peak = max(hwm or 0, self.peak_rss.get(worker.pid, 0))
            rows.append({"pid": worker.pid, "rss_mb": mb(rss), "peak_rss_mb": mb(peak)})
        return rows

    def cpu_seconds(self) -> float:
        total = 0.0
        for worker in self.workers():
            try:
                times = worker.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        self._stop.set()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def mb(value: int) -> float:
    return round(value / 2**20, 1)


def postgres_cpu() -> dict[int, float]:
    """CPU seconds of every PostgreSQL process, by pid."""
    seconds = {}
    for process in psutil.process_iter(["name", "cpu_times"]):
        times = process.info["cpu_times"]
        if times and (process.info["name"] or "").startswith("postgres"):
            seconds[process.pid] = times.user + times.system
    return seconds


def bench_backends() -> set[int]:
    """Server processes working for the benchmark: its database's connections and the
    shared background processes (WAL writer, checkpointer...); not other databases'."""
    with psycopg.connect(SERVER_URL, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s OR backend_type <> "
            "'client backend'",
            [DATABASE],
        ).fetchall()
    return {row[0] for row in rows}


def machine_busy_seconds() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


# Running a scenario --------------------------------------------------------------------------


def locust(server: Server, work: Path, data: Path, user_class: str, users: int, seconds: float):
    """Run locust headless in its own process; return its samples and its CPU seconds."""
    samples = work / f"samples-{user_class}-{time.monotonic_ns()}.json"
    env = {
        **os.environ,
        "BENCH_DATA": str(data),
        "BENCH_SAMPLES": str(samples),
        "BENCH_USERS": str(users),
        "BENCH_DURATION": str(seconds),
    }
    command = [
        str(Path(PYTHON).parent / "locust"),
        "-f",
        str(BENCH / "locustfile.py"),
        "--headless",
        "--only-summary",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{int(seconds) + 30 if user_class == 'ContendedBooking' else int(seconds)}s",
        "--stop-timeout",
        "10",
        "--host",
        server.url,
        "--loglevel",
        "WARNING",
        user_class,
    ]
    log = (work / f"locust-{user_class}.log").open("a")
    process = psutil.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
    cpu = 0.0
    while process.poll() is None:
        try:
            times = process.cpu_times()
            cpu = times.user + times.system
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    log.close()
    if not samples.exists():
        raise SystemExit(f"locust wrote no samples; see {log.name}")
    return json.loads(samples.read_text()), cpu


def summarize(samples: list, expected: set[int]) -> dict:
    """Throughput over the measured window (first request sent to last answer received) and
    exact latency percentiles over every request."""
    starts = np.array([s[0] for s in samples])
    latency = np.array([s[1] for s in samples])
    status = np.array([s[2] for s in samples])
    ends = starts + latency / 1000
    window = float(ends.max() - starts.min()) if len(samples) else 0.0
    return {
        "requests": len(samples),
        "seconds": round(float(window), 2),
        "rps": round(len(samples) / window, 1) if window else 0.0,
        "p50_ms": pct(latency, 50),
        "p95_ms": pct(latency, 95),
        "p99_ms": pct(latency, 99),
        "max_ms": round(float(latency.max()), 1) if len(latency) else None,
        "errors": int(sum(1 for code in status if code not in expected)),
        "status_counts": {
            str(k): int(v) for k, v in zip(*np.unique(status, return_counts=True), strict=True)
        },
    }


def pct(values, q) -> float | None:
    return round(float(np.percentile(values, q)), 2) if len(values) else None


def contention_check(samples: list, booking_p50: float | None) -> dict:
    """Per round: exactly one 201 and the rest 409 `slot_unavailable`, no 5xx."""
    rounds: dict[int, list] = {}
    for sample in samples:
        rounds.setdefault(sample[4], []).append(sample)
    good = 0
    bad_rounds = []
    for number, round_samples in sorted(rounds.items()):
        statuses = [s[2] for s in round_samples]
        winners = statuses.count(201)
        losers = [s for s in round_samples if s[2] == 409 and s[3] == "slot_unavailable"]
        if winners == 1 and len(losers) == len(round_samples) - 1:
            good += 1
        else:
            bad_rounds.append({"round": number, "statuses": sorted(set(statuses))})
    loser_latency = np.array([s[1] for s in samples if s[2] == 409])
    loser_p95 = pct(loser_latency, 95)
    return {
        "rounds": len(rounds),
        "clients_per_round": max((len(r) for r in rounds.values()), default=0),
        "rounds_exactly_one_winner": good,
        "bad_rounds": bad_rounds[:10],
        "server_errors": sum(1 for s in samples if s[2] >= 500),
        "losers_p50_ms": pct(loser_latency, 50),
        "losers_p95_ms": loser_p95,
        "winners_p50_ms": pct(np.array([s[1] for s in samples if s[2] == 201]), 50),
        "limit_ms": round(2 * booking_p50, 2) if booking_p50 else None,
    }


def pgbench_path() -> str | None:
    found = shutil.which("pgbench")
    if found:
        return found
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))
    return str(installed[-1]) if installed else None


def pgbench(env: dict, work: Path, clients: int, seconds: int) -> dict:
    """The booking transaction in SQL (bench/pgbench/booking.sql) through pgbench, for
    `seconds`, or over every planned pair if there are too few free slots for that long."""
    planned = subprocess.run(
        [PYTHON, "-m", "bench.seed", "pgbench-pairs", "--count", "150000"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    pairs = int(planned.stdout.strip().splitlines()[-1])
    length = ["-T", str(seconds)] if pairs >= 2000 * seconds else ["-t", str(pairs // clients)]
    prefix = work / "pgbench"
    executable = pgbench_path()
    if executable is None:  # the caller runs this only where pgbench is installed
        raise RuntimeError("pgbench is not installed")
    command = [
        executable,
        "-n",
        "-M",
        "simple",
        "-f",
        str(BENCH / "pgbench" / "booking.sql"),
        "-c",
        str(clients),
        "-j",
        "2",
        *length,
        "-l",
        f"--log-prefix={prefix}",
        database_url(),
    ]
    out = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
    (work / "pgbench.out").write_text(out.stdout + out.stderr)
    latencies = []
    for log in work.glob("pgbench.*"):
        if log.name == "pgbench.out":
            continue
        for line in log.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[2].isdigit():
                latencies.append(int(fields[2]) / 1000)
    latency = np.array(latencies)
    tps = next(
        (
            float(line.split("=")[1].split()[0])
            for line in out.stdout.splitlines()
            if line.startswith("tps =")
        ),
        0.0,
    )
    failed = next(
        (
            int(line.split(":")[1].split()[0])
            for line in out.stdout.splitlines()
            if line.startswith("number of failed transactions")
        ),
        0,
    )
    return {
        "requests": len(latencies),
        "seconds": seconds,
        "rps": round(tps, 1),
        "p50_ms": pct(latency, 50),
        "p95_ms": pct(latency, 95),
        "p99_ms": pct(latency, 99),
        "max_ms": round(float(latency.max()), 1) if len(latency) else None,
        "errors": failed + (0 if out.returncode == 0 else 1),
        "status_counts": {},
        "clients": clients,
    }


def profile_start(server: Server, work: Path, name: str, seconds: float):
    """py-spy on every gunicorn worker while a scenario runs (`--profile NAME`)."""
    out = work / f"profile-{name}.txt"
    command = [
        str(Path(PYTHON).parent / "py-spy"),
        "record",
        "--pid",
        str(server.process.pid),
        "--subprocesses",
        "--duration",
        str(max(1, int(seconds) - 3)),
        "--rate",
        "200",
        "--format",
        "raw",
        "--nonblocking",
        "--output",
        str(out),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), out


def run_scenario(name, args, server, work, data, label=None, booking_p50=None) -> dict:
    user_class, title, expected = SCENARIOS[name.removesuffix("_240k")]
    users = 50 if user_class == "ContendedBooking" else args.users
    print(f"\n== {label or name}: {title}, {users} users, {args.duration:g} s", flush=True)
    worker_cpu, pg_before, busy = server.cpu_seconds(), postgres_cpu(), machine_busy_seconds()
    started = time.monotonic()
    spy = None
    if args.profile == (label or name):
        spy, profile = profile_start(server, work, label or name, args.duration)
    samples, locust_cpu = locust(server, work, data, user_class, users, args.duration)
    elapsed = time.monotonic() - started
    if spy:
        spy.wait()
        print(f"   py-spy profile of the workers: {profile}", flush=True)
    result = summarize(samples, expected)
    ours = bench_backends()
    pg_after = postgres_cpu()
    postgres = sum(t - pg_before.get(pid, 0.0) for pid, t in pg_after.items() if pid in ours)
    workers = server.cpu_seconds() - worker_cpu
    busy = machine_busy_seconds() - busy
    other = max(0.0, busy - workers - postgres - locust_cpu)
    result.update(
        name=label or name,
        title=title,
        users=users,
        cpu={
            "wall_s": round(elapsed, 1),
            "gunicorn_workers_s": round(workers, 1),
            "postgres_s": round(postgres, 1),
            "locust_s": round(locust_cpu, 1),
            # Everything else the machine did meanwhile (the kernel's network work, and any
            # other process): when this is large, the run was disturbed.
            "other_s": round(other, 1),
            "machine_capacity_s": round(elapsed * (os.cpu_count() or 1), 1),
        },
    )
    result["samples"] = [s[1] for s in samples]
    if user_class == "ContendedBooking":
        result["contention"] = contention_check(samples, booking_p50)
    print(
        f"   {result['rps']:.1f} req/s, p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, "
        f"p99 {result['p99_ms']} ms, errors {result['errors']}, statuses {result['status_counts']}"
        f"; CPU s workers {workers:.1f}, postgres {postgres:.1f}, locust {locust_cpu:.1f}, "
        f"other {other:.1f} of {result['cpu']['machine_capacity_s']}",
        flush=True,
    )
    return result


def publication_measure(server) -> dict:
    """The SMART publication fetched whole, once (bench/publication.py)."""
    from bench.publication import publication_fetch

    print("\n== SMART Scheduling Links: the manifest and every slot file", flush=True)
    result = publication_fetch(server)
    print(
        f"   {result['slots']:,} slots in {result['files']} files, {result['mib']} MiB in "
        f"{result['seconds']} s ({result['slots_per_s']:,}/s); largest file "
        f"{result['largest_file_slots']:,} slots, slowest {result['slowest_file_s']} s; worker "
        f"memory +{result['worker_memory_growth_mib']} MiB",
        flush=True,
    )
    return result


def reset_database() -> None:
    with psycopg.connect(SERVER_URL, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=20, help="seconds per scenario")
    parser.add_argument("--users", type=int, default=10, help="concurrent clients (not contended)")
    cores = os.cpu_count() or 1
    parser.add_argument("--workers", type=int, default=2 * cores + 1)
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=4, help="with --worker-class gthread")
    parser.add_argument(
        "--broker",
        default="redis",
        choices=["redis", "eager", "relay"],
        help="redis: notifications queued to a local Redis, as deployed (default); eager: "
        "REDIS_URL empty, emails delivered in-process on the request's path; relay: "
        "REDIS_URL empty and RELAY_IN_PROCESS, as `make run` without Redis",
    )
    parser.add_argument("--only", default="", help="comma-separated scenarios (baseline always)")
    parser.add_argument("--skip-scale", action="store_true", help="no 240,000-slot runs")
    parser.add_argument("--skip-pgbench", action="store_true")
    parser.add_argument("--profile", default="", help="py-spy the workers during this scenario")
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    parser.add_argument("--label", default="latest", help="file name of the results")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    only = {s for s in args.only.split(",") if s}

    env = bench_env(args)
    before = machine_busy_seconds()
    time.sleep(3)
    idle_load = (machine_busy_seconds() - before) / (3 * cores)
    if idle_load > 0.1:
        print(
            f"WARNING: before the run the machine was already {idle_load:.0%} busy with other "
            "work; the numbers will be disturbed (see each scenario's 'other' CPU).",
            flush=True,
        )
    work = Path(tempfile.mkdtemp(prefix="careslot-bench-"))
    data = work / "data.json"
    started = datetime.now(UTC)
    print(
        f"CareSlot bench: {cores} cores, {args.workers} {args.worker_class} workers, "
        f"work files in {work}",
        flush=True,
    )

    print(f"\n== fresh database {DATABASE}", flush=True)
    reset_database()
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True
    )
    if args.broker == "redis":
        import redis

        redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    subprocess.run(
        [PYTHON, "-m", "bench.seed", "base", "--out", str(data)], env=env, cwd=ROOT, check=True
    )
    plans = {}
    subprocess.run(
        [PYTHON, "-m", "bench.explain", "--data", str(data), "--out", str(work / "plans-24k.json")],
        env=env,
        cwd=ROOT,
        check=True,
    )
    plans["24k"] = json.loads((work / "plans-24k.json").read_text())

    server = Server(env, args.workers, args.worker_class, args.threads, work)
    results: list[dict] = []
    try:
        print("\n== warm-up (not measured)", flush=True)
        for user_class in ["Baseline", "SlotSearch", "DoctorSlots", "PatientAppointments"]:
            locust(server, work, data, user_class, args.users, 3)

        def wanted(name: str) -> bool:
            return not only or name in only or name == "baseline"

        for name in [
            "baseline",
            "slot_search",
            "doctor_slots_week",
            "appointments_patient",
            "appointments_doctor",
            "booking_uncontended",
        ]:
            if wanted(name):
                results.append(run_scenario(name, args, server, work, data))
        if wanted("booking_contended"):
            uncontended = next((r for r in results if r["name"] == "booking_uncontended"), None)
            results.append(
                run_scenario(
                    "booking_contended",
                    args,
                    server,
                    work,
                    data,
                    booking_p50=uncontended["p50_ms"] if uncontended else None,
                )
            )
        results.append(run_scenario("baseline", args, server, work, data, label="baseline_again"))
        publication = {}
        if wanted("smart_publication"):
            publication["24k"] = publication_measure(server)

        scaled = ("slot_search", "doctor_slots_week", "smart_publication")
        if not args.skip_scale and any(wanted(name) for name in scaled):
            print(f"\n== growing the slot table to {SCALED_SLOTS:,} rows", flush=True)
            subprocess.run(
                [PYTHON, "-m", "bench.seed", "scale", "--slots", str(SCALED_SLOTS)],
                env=env,
                cwd=ROOT,
                check=True,
            )
            out = work / "plans-240k.json"
            subprocess.run(
                [PYTHON, "-m", "bench.explain", "--data", str(data), "--out", str(out)],
                env=env,
                cwd=ROOT,
                check=True,
            )
            plans["240k"] = json.loads(out.read_text())
            locust(server, work, data, "SlotSearch", args.users, 3)  # warm the new rows
            for name in ["slot_search", "doctor_slots_week"]:
                if wanted(name):
                    results.append(
                        run_scenario(f"{name}_240k", args, server, work, data, label=f"{name}_240k")
                    )
            if wanted("smart_publication"):
                publication["240k"] = publication_measure(server)

        if not args.skip_pgbench and pgbench_path():
            print(f"\n== pgbench: the booking transaction in SQL, {args.users} clients", flush=True)
            result = pgbench(env, work, args.users, int(args.duration))
            result.update(
                name="pgbench_booking",
                title="booking transaction in SQL (pgbench)",
                users=args.users,
                cpu={},
            )
            results.append(result)
            print(
                f"   {result['rps']:.1f} tps, p50 {result['p50_ms']} ms, "
                f"p95 {result['p95_ms']} ms, errors {result['errors']}",
                flush=True,
            )
        memory = server.memory()
    finally:
        server.stop()
        if args.broker == "redis":
            import redis

            redis.Redis.from_url(BENCH_REDIS_URL).flushdb()  # the undelivered task messages

    from bench import report

    meta = {
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cores": cores,
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": sys.version.split()[0],
            "busy_before_run_pct": round(100 * idle_load, 1),
        },
        "server": {
            "workers": args.workers,
            "worker_class": args.worker_class,
            "threads": args.threads if args.worker_class == "gthread" else 1,
            "settings": "config.settings.base, DEBUG=false, RATE_LIMITS_ENABLED=false",
            "broker": args.broker,
            "email_backend": "dummy",
        },
        "load": {
            "tool": "locust (FastHttpUser, no think time)",
            "users": args.users,
            "duration_s": args.duration,
        },
        "smart_publication": publication,
    }
    paths = report.write(args.out, args.label, meta, results, memory, plans)
    for path in paths:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print((args.out / f"{args.label}.md").read_text())
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
