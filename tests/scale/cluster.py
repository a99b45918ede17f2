"""A small CareSlot cluster on this machine, each host a Linux network namespace with an
address of its own, as docs/deployment.md lays the hosts out:

    this machine (10.X.Y.1)   PostgreSQL (the test database), PgBouncer in transaction mode
                              in front of it, the test's SMTP server and the test itself
    lb       (.10)            HAProxy in front of web1 and web2, health-checking them
    web1/2   (.11, .12)       gunicorn
    redis    (.20)            Redis: broker, cache, beat's schedule and lock
    worker1/2 (.31, .32)      a Celery worker and a beat each

Every namespace has a veth pair whose other end is on one bridge of this machine: the hosts
reach each other, and this machine, over it. Needs root and iproute2's `ip netns`; HAProxy,
PgBouncer and Redis are Debian's packages (`make test-scale` installs what is missing).
"""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.background import Mailbox
from tests.pooler import PooledDatabase

BASE_DIR = Path(__file__).resolve().parent.parent.parent
BIN_DIR = Path(sys.executable).parent
STARTUP_SECONDS = 45
HTTP_PORT = 80
WEB_PORT = 8000
REDIS_PORT = 6379
POOLER_PORT = 6432

WEB = PooledDatabase("careslot_web", statement_timeout_ms=5000)
WORKER = PooledDatabase("careslot_worker", statement_timeout_ms=20000)
HOSTS = {"lb": 10, "web1": 11, "web2": 12, "redis": 20, "worker1": 31, "worker2": 32}
# The packages whose programs the cluster runs, by the program's path.
PACKAGES = {
    "/usr/sbin/haproxy": "haproxy",
    "/usr/sbin/pgbouncer": "pgbouncer",
    "/usr/bin/redis-server": "redis-server",
    "/usr/bin/ip": "iproute2",
}


def unavailable_reason() -> str | None:
    """Why the cluster cannot be built here, or None."""
    if os.geteuid() != 0:
        return "building network namespaces needs root"
    missing = [package for path, package in PACKAGES.items() if not Path(path).exists()]
    if missing:
        return f"missing Debian packages: {', '.join(missing)} (`make test-scale` installs them)"
    probe = f"csprobe{os.getpid() % 100000}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` fails here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True)
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass
class Process:
    """A program running on a host of the cluster, in a process group of its own (a host
    killed is every process of the group)."""

    name: str
    host: str
    popen: subprocess.Popen
    log: Path
    ended_by_test: bool = False

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL to every process of it: the host dies without a word."""
        self.ended_by_test = True
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def stop(self) -> None:
        self.ended_by_test = True
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self, tail: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-tail:] if self.log.exists() else ""


@dataclass
class Cluster:
    directory: Path
    # The test's SMTP server, on this machine's bridge address: its mailbox and port.
    mailbox: Mailbox | None = None
    smtp_port: int = 0
    subnet: str = field(init=False)
    tag: str = field(init=False)
    processes: dict[str, Process] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # One subnet and one set of interface names per run, so that runs never meet.
        number = os.getpid() % 200 + 20
        self.subnet, self.tag = f"10.231.{number}", f"cs{number}"

    # Addresses ---------------------------------------------------------------------------

    @property
    def gateway(self) -> str:
        """This machine, on the bridge: PostgreSQL's host (PgBouncer), the SMTP server."""
        return f"{self.subnet}.1"

    def address(self, host: str) -> str:
        return f"{self.subnet}.{HOSTS[host]}"

    @property
    def base(self) -> str:
        """The load balancer's URL: where clients send their requests."""
        return f"http://{self.address('lb')}:{HTTP_PORT}"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.address('redis')}:{REDIS_PORT}/0"

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, socket_timeout=5)

    def _namespace(self, host: str) -> str:
        return f"{self.tag}{host}"

    # The network -------------------------------------------------------------------------

    def network_up(self) -> None:
        bridge = f"{self.tag}br"
        _ip("link", "add", bridge, "type", "bridge")
        _ip("addr", "add", f"{self.gateway}/24", "dev", bridge)
        _ip("link", "set", bridge, "up")
        for number, host in enumerate(HOSTS):
            namespace, outside, inside = (
                self._namespace(host),
                f"{self.tag}v{number}",
                f"{self.tag}h{number}",
            )
            _ip("netns", "add", namespace)
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            _ip("link", "set", inside, "netns", namespace)
            _ip("link", "set", outside, "master", bridge, "up")
            _ip("-n", namespace, "addr", "add", f"{self.address(host)}/24", "dev", inside)
            _ip("-n", namespace, "link", "set", inside, "up")
            _ip("-n", namespace, "link", "set", "lo", "up")

    def network_down(self) -> None:
        for host in HOSTS:
            subprocess.run(["ip", "netns", "delete", self._namespace(host)], capture_output=True)
        subprocess.run(["ip", "link", "delete", f"{self.tag}br"], capture_output=True)

    # Processes ---------------------------------------------------------------------------

    def start(self, name: str, host: str, argv: list[str], env: dict[str, str]) -> Process:
        log = self.directory / f"{name}.log"
        with log.open("a") as output:
            popen = subprocess.Popen(
                ["ip", "netns", "exec", self._namespace(host), *argv],
                cwd=BASE_DIR,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name, host, popen, log)
        self.processes[name] = process
        return process

    def stop_all(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()

    def _app_env(self, database: PooledDatabase, **extra: str) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "*",
            "USE_X_FORWARDED_FOR": "true",
            "DATABASE_URL": (f"postgres://postgres@{self.gateway}:{POOLER_PORT}/{database.name}"),
            "DATABASE_POOLER": "transaction",
            "REDIS_URL": self.redis_url,
            "RATE_LIMITS_ENABLED": "false",
            "STATIC_ROOT": str(self.directory / "static"),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": self.gateway,
            "EMAIL_PORT": str(self.smtp_port),
            "EMAIL_TIMEOUT": "10",
            "LOG_LEVEL": "INFO",
            **extra,
        }

    def redis_start(self) -> Process:
        return self.start(
            "redis",
            "redis",
            [
                "/usr/bin/redis-server",
                "--bind",
                self.address("redis"),
                "--port",
                str(REDIS_PORT),
                "--protected-mode",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            {"PATH": "/usr/bin:/bin"},
        )

    def web_start(self, host: str) -> Process:
        return self.start(
            host,
            host,
            [
                str(BIN_DIR / "gunicorn"),
                "config.wsgi",
                "--bind",
                f"{self.address(host)}:{WEB_PORT}",
                "--workers",
                "2",
                "--no-control-socket",
                "--graceful-timeout",
                "5",
            ],
            self._app_env(WEB, DB_STATEMENT_TIMEOUT_MS=str(WEB.statement_timeout_ms)),
        )

    def worker_start(self, host: str) -> Process:
        return self.start(
            f"{host}-celery",
            host,
            [
                str(BIN_DIR / "celery"),
                "-A",
                "config",
                "worker",
                "--concurrency",
                "2",
                f"--hostname={host}@%h",
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "INFO",
            ],
            self._worker_env(),
        )

    def beat_start(self, host: str, name: str, *, key_prefix: str) -> Process:
        """A beat on `host` keeping its schedule and lock under `key_prefix` in Redis (a new
        prefix: every periodic task is due at once, as on a first deployment)."""
        return self.start(
            name,
            host,
            [str(BIN_DIR / "celery"), "-A", "config", "beat", "--loglevel", "INFO"],
            self._worker_env(BEAT_KEY_PREFIX=key_prefix),
        )

    def _worker_env(self, **extra: str) -> dict[str, str]:
        return self._app_env(
            WORKER,
            DB_LONG_STATEMENT_TIMEOUT_MS=str(WORKER.statement_timeout_ms),
            BEAT_LOCK_TIMEOUT="8",
            BEAT_MAX_LOOP_SECONDS="1",
            # A delivery claimed by a worker that died is taken over by the relay this soon,
            # and the relay runs this often (production: 10 min and 60 s).
            NOTIFICATION_CLAIM_TIMEOUT="6",
            NOTIFICATION_RELAY_SECONDS="2",
            **extra,
        )

    def haproxy_start(self) -> Process:
        config = self.directory / "haproxy.cfg"
        config.write_text(haproxy_config(self))
        return self.start(
            "haproxy", "lb", ["/usr/sbin/haproxy", "-db", "-f", str(config)], {"PATH": "/usr/bin"}
        )

    # Waiting -----------------------------------------------------------------------------

    def wait_for(self, condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return
            for process in self.processes.values():
                if not process.alive() and not process.ended_by_test:
                    raise AssertionError(
                        f"{process.name} exited ({process.popen.returncode}):\n{process.output()}"
                    )
            time.sleep(0.2)
        logs = "\n".join(f"--- {p.name}\n{p.output(1500)}" for p in self.processes.values())
        raise AssertionError(f"No {what} within {seconds} s.\n{logs}")

    def web_serving(self, host: str) -> bool:
        return http_status(f"http://{self.address(host)}:{WEB_PORT}/api/v1/health/") == 200

    def balanced(self, hosts: tuple[str, ...]) -> bool:
        """Whether HAProxy sends requests to exactly `hosts` (its health checks say they
        are up, the others down)."""
        served = {served_by(self.base) for _ in range(2 * len(HOSTS))}
        return served == set(hosts)

    def worker_ready(self, host: str) -> bool:
        return "ready." in self.processes[f"{host}-celery"].output(100_000)


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 (cluster URL)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def served_by(base: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{base}/api/v1/health/", timeout=3) as response:  # noqa: S310
            return response.headers.get("X-Served-By")
    except OSError:
        return None


HAPROXY_CONF = BASE_DIR / "deploy" / "haproxy.cfg"


def haproxy_config(cluster: Cluster) -> str:
    """deploy/haproxy.cfg with the cluster's addresses."""
    config = HAPROXY_CONF.read_text()
    lines = {
        "  bind *:80\n": f"  bind {cluster.address('lb')}:{HTTP_PORT}\n",
        **{
            f"  server {host} {host}:8000 check\n": (
                f"  server {host} {cluster.address(host)}:{WEB_PORT} check\n"
            )
            for host in ("web1", "web2")
        },
    }
    for line, replacement in lines.items():
        assert config.count(line) == 1, f"{HAPROXY_CONF} has no single {line!r}"
        config = config.replace(line, replacement)
    return config
