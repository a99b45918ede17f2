"""The role profile shown by `GET /auth/me/`.

`accounts` sits below `doctors` and `patients`, so it cannot import their serializers; those
apps register how their profile is rendered when they load (AppConfig.ready).
"""

from collections.abc import Callable
from typing import Any

from accounts.models import User

ProfileRenderer = Callable[[User], dict[str, Any] | None]
_renderers: dict[str, ProfileRenderer] = {}


def profile_renderer_register(*, role: str, renderer: ProfileRenderer) -> None:
    _renderers[role] = renderer


def profile_render(*, user: User) -> dict[str, Any] | None:
    renderer = _renderers.get(user.role)
    return renderer(user) if renderer else None
