"""System checks of CareSlot's own settings (registered in `core.apps.CoreConfig.ready`)."""

from collections.abc import Mapping

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
def development_secrets_check(app_configs, **kwargs) -> list[Error]:
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
