"""System checks of CareSlot's own settings (registered in `core.apps.CoreConfig.ready`)."""

from collections.abc import Mapping, Sequence

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import Error, Tags, register


def public_secrets(secrets: Mapping[str, str | None], development: Mapping[str, str]) -> list[str]:
    """The names of `secrets` whose value is one of the public `development` defaults
    (`DEVELOPMENT_SECRETS` in config/settings/base.py). Used by the check below and by the
    production settings, which refuse to start with any."""
    return [name for name, value in secrets.items() if value in development.values()]


def deployment_secrets() -> dict[str, str | None]:
    """The secrets a deployment sets, as configured (the JWT signing key defaults to
    SECRET_KEY, so a public one would let anyone sign an admin's token)."""
    return {
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": getattr(settings, "FIELD_ENCRYPTION_KEY", None),
        "JWT_SIGNING_KEY": settings.SIMPLE_JWT.get("SIGNING_KEY"),
    }


@register(Tags.security, deploy=True)
def development_secrets_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: object
) -> list[Error]:
    """`manage.py check --deploy`: a public development secret is an error.

    Django's own `security.W009` lets these defaults pass (they are long and varied enough),
    yet anyone can read them: with SECRET_KEY or the JWT signing key known, anyone can sign
    an admin's access token; with FIELD_ENCRYPTION_KEY, read every encrypted clinical note.
    """
    development = getattr(settings, "DEVELOPMENT_SECRETS", {})
    return [
        Error(
            f"{name} is the public development default.",
            hint=f"Set {name} in the environment to a long random secret of your own.",
            id="careslot.E001",
        )
        for name in public_secrets(deployment_secrets(), development)
    ]


@register()
def transaction_pooler_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: object
) -> list[Error]:
    """Behind PgBouncer in transaction mode (`DATABASE_POOLER=transaction`), nothing of a
    connection may outlive its transaction: each transaction may run on another server
    connection, and the one it ran on goes to another client next. CareSlot's own code takes
    transaction-level advisory locks only and sets its timeouts with `SET LOCAL` (core.locks,
    core.db); these are the settings that would carry state across transactions anyway."""
    if getattr(settings, "DATABASE_POOLER", "") != "transaction":
        return []
    database = settings.DATABASES["default"]
    options = database.get("OPTIONS", {})
    errors = []
    if not database.get("DISABLE_SERVER_SIDE_CURSORS"):
        errors.append(
            Error(
                "DATABASE_POOLER=transaction with server-side cursors enabled: a named cursor "
                "of `.iterator()` lives across transactions.",
                hint="Set DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS'] = True.",
                id="careslot.E002",
            )
        )
    if options.get("server_side_binding") and options.get("prepare_threshold") is not None:
        errors.append(
            Error(
                "DATABASE_POOLER=transaction with prepared statements: a statement prepared "
                "on one server connection is missing on the next.",
                hint="Leave OPTIONS['prepare_threshold'] unset (Django's default: None).",
                id="careslot.E003",
            )
        )
    if options.get("assume_role"):
        errors.append(
            Error(
                "DATABASE_POOLER=transaction with OPTIONS['assume_role']: SET ROLE is session "
                "state, left on the server connection for other clients and lost for this one.",
                hint="Connect as the role instead (the user in DATABASE_URL).",
                id="careslot.E004",
            )
        )
    return errors
