"""The load of each benchmark scenario, for locust (headless, started by `bench/run.py`).

    locust -f bench/locustfile.py --headless -u 10 -r 10 -t 20s --host URL ScenarioClass

Environment: BENCH_DATA is the JSON `bench.seed` wrote (tokens, ids, planned bookings);
BENCH_SAMPLES is where every request's start, latency and status are written when locust
quits, so that `bench/run.py` computes exact percentiles and draws the distributions itself.
Users send requests back to back (no think time): the server is kept saturated, and
requests per second measure what it can serve.
"""

import json
import os
import random
import time
from itertools import count
from pathlib import Path

import gevent
from gevent.event import Event
from locust import constant, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

DATA = json.loads(Path(os.environ["BENCH_DATA"]).read_text())
# (start time, latency in ms, HTTP status, error code of a 409, contention round or -1)
SAMPLES: list[tuple[float, float, int, str, int]] = []
CONTENTION_DEADLINE_SECONDS = float(os.environ.get("BENCH_DURATION", "20"))


@events.request.add_listener
def _sample(
    request_type, name, response_time, response, exception, context=None, start_time=None, **kw
):
    status = getattr(response, "status_code", 0) or 0
    body = ""
    if status == 409:
        try:
            body = response.json()["errors"][0]["code"]
        except (ValueError, KeyError, IndexError, TypeError):
            body = "?"
    round_ = (context or {}).get("round", -1)
    SAMPLES.append((start_time or time.time(), response_time, status, body, round_))


@events.quitting.add_listener
def _write_samples(environment, **kwargs):
    with Path(os.environ["BENCH_SAMPLES"]).open("w") as out:
        json.dump(SAMPLES, out)


def bearer(user_id: str) -> dict:
    return {"Authorization": f"Bearer {DATA['tokens'][user_id]}"}


class BenchUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    connection_timeout = 30.0
    network_timeout = 30.0

    def get(self, path: str, user_id: str, name: str):
        with self.client.get(path, headers=bearer(user_id), name=name, catch_response=True) as r:
            if r.status_code == 200:
                r.success()


class Baseline(BenchUser):
    """An authenticated minimal endpoint: GET /auth/me/ as a random patient."""

    @task
    def me(self):
        self.get("/api/v1/auth/me/", random.choice(DATA["patients"]), "GET /auth/me/")


class SlotSearch(BenchUser):
    """GET /slots/ for one specialization and one clinic-local day, as a signed-in patient."""

    @task
    def search(self):
        search = DATA["search"]
        path = (
            f"/api/v1/slots/?specialization={search['specialization']}"
            f"&date_from={search['date']}&date_to={search['date']}"
        )
        self.get(path, random.choice(DATA["patients"]), "GET /slots/")


class DoctorSlots(BenchUser):
    """GET /doctors/{id}/slots/ for one week, a random doctor each time."""

    @task
    def week(self):
        week = DATA["doctor_week"]
        doctor = random.choice(DATA["doctors"][:100])
        path = (
            f"/api/v1/doctors/{doctor}/slots/?date_from={week['date_from']}"
            f"&date_to={week['date_to']}"
        )
        self.get(path, random.choice(DATA["patients"]), "GET /doctors/{id}/slots/")


class PatientAppointments(BenchUser):
    @task
    def mine(self):
        self.get("/api/v1/appointments/", random.choice(DATA["patients"]), "GET /appointments/")


class DoctorAppointments(BenchUser):
    @task
    def mine(self):
        self.get(
            "/api/v1/appointments/", random.choice(DATA["doctors"][:100]), "GET /appointments/"
        )


class UncontendedBooking(BenchUser):
    """POST /appointments/ on distinct free slots. User k of N books for the patients whose
    index is k modulo N, so no two users ever wait on one patient's row lock; every pair was
    planned so that no booking meets `patient_conflict`."""

    numbers = count()

    def on_start(self):
        users = int(os.environ["BENCH_USERS"])
        index = next(self.numbers)
        patients = {p: n for n, p in enumerate(DATA["patients"])}
        self.pairs = iter(
            [pair for pair in DATA["booking_pairs"] if patients[pair[0]] % users == index]
        )

    @task
    def book(self):
        pair = next(self.pairs, None)
        if pair is None:
            raise StopUser()
        patient, slot = pair
        with self.client.post(
            "/api/v1/appointments/",
            json={"slot": slot},
            headers=bearer(patient),
            name="POST /appointments/",
            catch_response=True,
        ) as response:
            if response.status_code == 201:
                response.success()


class _Barrier:
    """Releases the waiting users together once all have arrived (gevent, one process); the
    last to arrive first runs `on_release`, so every user reads the same decision."""

    def __init__(self, parties: int, on_release):
        self.parties, self.on_release = parties, on_release
        self.arrived, self.released = 0, Event()

    def wait(self) -> None:
        released = self.released
        self.arrived += 1
        if self.arrived == self.parties:
            self.on_release()
            self.arrived, self.released = 0, Event()
            released.set()
        else:
            released.wait()


class ContendedBooking(BenchUser):
    """Rounds of 50 patients booking one slot at the same instant, each once per round, on a
    new slot each round, until BENCH_DURATION seconds have passed or the planned rounds run
    out. Exactly one booking per round may succeed."""

    numbers = count()
    barrier = None
    rounds = DATA["contention_rounds"]
    started = None
    next_round = 0  # the round the barrier last released, or None once it is over

    @classmethod
    def _release(cls):
        cls.started = cls.started or time.monotonic()
        over = time.monotonic() - cls.started > CONTENTION_DEADLINE_SECONDS
        if cls.next_round is not None and (over or cls.next_round >= len(cls.rounds)):
            cls.next_round = None
        cls.current = cls.next_round
        if cls.next_round is not None:
            cls.next_round += 1

    def on_start(self):
        self.index = next(self.numbers)
        cls = type(self)
        if cls.barrier is None:
            cls.barrier = _Barrier(int(os.environ["BENCH_USERS"]), cls._release)

    @task
    def contend(self):
        cls = type(self)
        cls.barrier.wait()
        if cls.current is None:
            if self.index == 0:
                gevent.spawn_later(0.5, self.environment.runner.quit)
            raise StopUser()
        plan = self.rounds[cls.current]
        patient = plan["patients"][self.index]
        with self.client.post(
            "/api/v1/appointments/",
            json={"slot": plan["slot"]},
            headers=bearer(patient),
            name="POST /appointments/ (one slot)",
            catch_response=True,
            context={"round": cls.current},
        ) as response:
            if response.status_code in (201, 409):
                response.success()
