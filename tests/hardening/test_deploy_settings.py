"""Production settings: Django's deployment checks pass, secrets are required and may not be
the public development defaults, and logs are one JSON object per line carrying the request
id."""

import json
import logging
import os
import secrets

import pytest

from core.logging import JsonFormatter
from tests.servers import manage

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "FIELD_ENCRYPTION_KEY": secrets.token_urlsafe(32),
    "ALLOWED_HOSTS": "api.clinic.example",
    "CORS_ALLOWED_ORIGINS": "https://app.clinic.example",
}


def _env(**overrides):
    return {**os.environ, **PRODUCTION, **overrides}


def test_the_deployment_checks_pass_with_production_variables():
    result = manage(_env(), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    # The one silenced check is HSTS preloading, explained in config/settings/production.py.
    assert "(1 silenced)" in result.stdout


def test_production_refuses_to_start_without_its_secrets():
    for missing in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "ALLOWED_HOSTS"):
        env = _env()
        del env[missing]
        result = manage(env, "check")
        assert result.returncode != 0
        assert missing in result.stderr


# The development defaults of config/settings/base.py, public in README.md's settings table.
PUBLIC_SECRET_KEY = "careslot-development-secret-key-change-me-in-production"
PUBLIC_FIELD_ENCRYPTION_KEY = "careslot-development-field-key-change-me-in-production"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", PUBLIC_SECRET_KEY),
        ("FIELD_ENCRYPTION_KEY", PUBLIC_FIELD_ENCRYPTION_KEY),
        ("JWT_SIGNING_KEY", PUBLIC_SECRET_KEY),
    ],
)
def test_production_refuses_to_start_with_a_public_development_secret(name, value):
    result = manage(_env(**{name: value}), "check")
    assert result.returncode != 0
    refusal = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in refusal
    assert name in refusal
    assert "public development default" in refusal


def test_the_deploy_check_reports_public_development_secrets_as_errors():
    env = _env(DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="false")
    # Unset, as a deployment that forgot them: the development defaults apply.
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "JWT_SIGNING_KEY"):
        env.pop(name, None)
    result = manage(env, "check", "--deploy")
    assert result.returncode != 0
    errors = {line for line in result.stderr.splitlines() if "careslot.E001" in line}
    assert errors == {
        "?: (careslot.E001) SECRET_KEY is the public development default.",
        "?: (careslot.E001) FIELD_ENCRYPTION_KEY is the public development default.",
        "?: (careslot.E001) JWT_SIGNING_KEY is the public development default.",
    }, result.stderr


def test_log_lines_are_json_with_the_request_id():
    record = logging.makeLogRecord(
        {"name": "careslot", "levelname": "WARNING", "msg": "Booking refused: %s", "args": ("x",)}
    )
    record.request_id = "req-abc12345"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "Booking refused: x"
    assert line["request_id"] == "req-abc12345"
    assert line["level"] == "WARNING"
    assert "time" in line
