"""Who is asking, from where, under which request id: kept for the audit log and log lines.

The request id comes from a trusted `X-Request-ID` header when it looks like one, else a new
UUID; it is echoed back on every response so a client can quote it in a support ticket.
"""

import ipaddress
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

_REQUEST_ID_FORMAT = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None
    request: HttpRequest | None = None

    @property
    def user(self) -> "AbstractBaseUser | None":
        """The signed-in user of the request (session or JWT: DRF sets it on the Django
        request once it has authenticated), or None."""
        user = getattr(self.request, "user", None)
        signed_in: AbstractBaseUser | None = (
            user if user is not None and user.is_authenticated else None
        )
        return signed_in


_OUTSIDE_REQUEST = RequestContext()
_current: ContextVar[RequestContext | None] = ContextVar("careslot_request", default=None)


def current_request() -> RequestContext:
    """The request being served, or an empty context outside one (a worker, a command)."""
    return _current.get() or _OUTSIDE_REQUEST


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address: the one every per-client rule uses (the throttles, the sign-in
    lockout, the audit log).

    The connection's peer (`REMOTE_ADDR`), unless `USE_X_FORWARDED_FOR` says reverse proxies
    stand in front. Each proxy appends the address it received the request from to
    `X-Forwarded-For`, so the client's address is the `TRUSTED_PROXY_COUNT`th entry from the
    right; whatever lies to its left the client wrote itself and is never believed. A header
    with fewer entries than there are proxies, or an entry that is not an address, did not
    come through them as configured: the peer's address is used then.
    """
    peer = request.META.get("REMOTE_ADDR") or None
    if not settings.USE_X_FORWARDED_FOR:
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    if len(forwarded) < settings.TRUSTED_PROXY_COUNT:
        return peer
    try:
        return str(ipaddress.ip_address(forwarded[-settings.TRUSTED_PROXY_COUNT].strip()))
    except ValueError:
        return peer


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get("X-Request-ID", "")
        request_id = offered if _REQUEST_ID_FORMAT.match(offered) else uuid.uuid4().hex
        token = _current.set(
            RequestContext(request_id=request_id, ip=client_ip(request), request=request)
        )
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestContextLogFilter(logging.Filter):
    """Puts the current request id on every log record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request().request_id or "-"
        return True
