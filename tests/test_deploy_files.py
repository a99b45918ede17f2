"""The deployment files say what README.md says they do. No Docker engine runs here, so the
files are read as compose and Docker read them: production settings, no fallback secrets,
migrations once in a one-shot service that the rest waits for, nginx the only way in, and a
health check on every long-running service."""

import re
from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker", "beat")
REQUIRED_SECRETS = ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "ALLOWED_HOSTS")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _command(service: dict) -> str:
    command = service.get("command", "")
    return command if isinstance(command, str) else " ".join(command)


def _dockerfile() -> list[str]:
    return (BASE_DIR / "Dockerfile").read_text().splitlines()


def test_everything_runs_the_production_settings(services):
    settings_modules = re.findall(r"DJANGO_SETTINGS_MODULE=(\S+)", "\n".join(_dockerfile()))
    # The image's default, and the base settings only to collect the static files at build.
    assert settings_modules == ["config.settings.production", "config.settings.base"]
    assert "collectstatic" in next(line for line in _dockerfile() if "settings.base" in line)
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production", name


def test_secrets_have_no_fallback_and_compose_refuses_to_start_without_them(services):
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        for secret in REQUIRED_SECRETS:
            # ${NAME:?message}: compose stops with the message when NAME is unset or empty.
            assert re.match(rf"^\$\{{{secret}:\?[^}}]+\}}", environment[secret]), (name, secret)
    text = (BASE_DIR / "docker-compose.yml").read_text()
    for secret in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "JWT_SIGNING_KEY"):
        assert not re.search(rf"\$\{{{secret}:?-", text), f"{secret} has a fallback"
    assert "careslot-development" not in text


def test_migrations_run_once_in_a_one_shot_service_the_others_wait_for(services):
    migrate = services["migrate"]
    assert _command(migrate).split()[-3:] == ["manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"  # a one-shot: done once it has migrated
    runs_migrations = {name for name, s in services.items() if "migrate" in _command(s).split()}
    assert runs_migrations == {"migrate"}
    assert not any("migrate" in line for line in _dockerfile() if line.startswith("CMD"))
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }, name
    assert services["migrate"]["depends_on"]["db"] == {"condition": "service_healthy"}


def test_nginx_is_the_only_way_in_and_serves_deploy_nginx_conf(services):
    nginx = services["nginx"]
    assert nginx["image"].startswith("nginx:")
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in nginx["volumes"]
    assert nginx["depends_on"]["web"] == {"condition": "service_healthy"}
    conf = (BASE_DIR / "deploy" / "nginx.conf").read_text()
    listen = re.search(r"^\s*listen (\d+);", conf, re.MULTILINE).group(1)
    assert [port.split(":")[-1] for port in nginx["ports"]] == [listen]
    # nginx's upstream is gunicorn's address, and gunicorn publishes nothing itself.
    upstream = re.search(r"^\s*server (web:\d+);", conf, re.MULTILINE).group(1)
    assert f"--bind 0.0.0.0:{upstream.split(':')[1]}" in _command(services["web"])
    assert "ports" not in services["web"]
    for name, service in services.items():
        if name not in ("nginx", "db", "redis"):
            assert "ports" not in service, name
    # db and redis are published on loopback only, for `make run` on the host.
    for name in ("db", "redis"):
        assert all(port.startswith("127.0.0.1:") for port in services[name]["ports"]), name


def test_every_long_running_service_has_a_health_check(services):
    for name in ("db", "redis", "web", "nginx"):
        assert services[name]["healthcheck"]["test"], name
    health = "/api/v1/health/"
    assert health in " ".join(services["web"]["healthcheck"]["test"])
    assert health in " ".join(services["nginx"]["healthcheck"]["test"])
