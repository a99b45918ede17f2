"""The one place that maps every error to the API's envelope.

`CareSlotExceptionHandler` turns domain errors (`core.errors`), DRF's own errors and the
database failures a client can retry into the drf-standardized-errors envelope (wired in
through `DRF_STANDARDIZED_ERRORS["EXCEPTION_HANDLER_CLASS"]`):
`{"type", "errors": [{"code", "detail", "attr"}]}`. A `FieldInvalid` becomes a
`validation_error` on its field, a `Forbidden` DRF's 403, any other domain error a
`client_error` with its code, status and `attr` (an `ItemisedConflict` followed by one error
per refused item).
"""

from collections import defaultdict
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError
from drf_standardized_errors.handler import ExceptionHandler
from psycopg import errors as pg_errors
from rest_framework import exceptions, status
from rest_framework.settings import api_settings
from rest_framework_simplejwt import exceptions as jwt_exceptions

from core.errors import DomainError, FieldInvalid, FieldsInvalid, Forbidden, ItemisedConflict


class ServiceUnavailable(exceptions.APIException):
    """A transient failure (a lock wait timed out, the database went away): retry shortly."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"
    default_detail = "The service is briefly unavailable; retry shortly."

    def __init__(self, detail: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(detail=detail)
        self.wait = retry_after


class LockTimeout(ServiceUnavailable):
    default_code = "lock_timeout"
    default_detail = "The record is busy; retry shortly."


def _cause_is(exc: BaseException | None, kind: type[BaseException]) -> bool:
    while exc is not None:
        if isinstance(exc, kind):
            return True
        exc = exc.__cause__
    return False


def _jwt_error_flatten(
    exc: jwt_exceptions.AuthenticationFailed, detail: dict[str, Any]
) -> exceptions.APIException:
    """simplejwt's errors carry a dict (`detail`, `code`, the token types tried) that the
    formatter would spread into one bogus error per key; clients get one error whose `code` is
    simplejwt's (`token_not_valid`, `user_inactive`, `no_active_account`, ...)."""
    flat = exceptions.AuthenticationFailed(
        detail=str(detail.get("detail", exc.default_detail)),
        code=str(detail.get("code", exc.default_code)),
    )
    flat.status_code = exc.status_code
    # DRF set the WWW-Authenticate challenge on the original exception.
    flat.auth_header = getattr(exc, "auth_header", None)  # type: ignore[attr-defined]
    return flat


class DomainErrorResponse(exceptions.APIException):
    """A domain error as DRF raises errors: its status, code, message and `attr`."""

    def __init__(self, error: DomainError) -> None:
        self.status_code = error.status
        self.attr = error.attr
        self.items = error.items if isinstance(error, ItemisedConflict) else []
        super().__init__(detail=error.message, code=error.code)


def _domain_error_convert(error: DomainError) -> exceptions.APIException:
    if isinstance(error, FieldInvalid):
        by_field: dict[str, list[exceptions.ErrorDetail]] = defaultdict(list)
        for field_error in error.errors if isinstance(error, FieldsInvalid) else [error]:
            by_field[field_error.attr or api_settings.NON_FIELD_ERRORS_KEY].append(
                exceptions.ErrorDetail(field_error.message, code=field_error.code)
            )
        return exceptions.ValidationError(dict(by_field))
    if isinstance(error, Forbidden):
        return exceptions.PermissionDenied(error.message, code=error.code)
    return DomainErrorResponse(error)


class CareSlotExceptionHandler(ExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DomainError):
            return _domain_error_convert(exc)
        if isinstance(exc, jwt_exceptions.AuthenticationFailed) and isinstance(exc.detail, dict):
            return _jwt_error_flatten(exc, exc.detail)
        if isinstance(exc, DatabaseError | InterfaceError):
            if _cause_is(exc, pg_errors.LockNotAvailable):
                return LockTimeout()
            if _cause_is(exc, pg_errors.DeadlockDetected):
                return ServiceUnavailable("The request met a competing one; retry it.")
            if _cause_is(exc, pg_errors.QueryCanceled):
                # Past its statement timeout (DB_STATEMENT_TIMEOUT_MS): the database is busy.
                return ServiceUnavailable("The request took too long; retry shortly.")
            if isinstance(exc, OperationalError | InterfaceError):
                # The connection went away mid-request; the transaction did not commit.
                return ServiceUnavailable("The database is unreachable; retry shortly.")
        return super().convert_known_exceptions(exc)

    def format_exception(self, exc: exceptions.APIException) -> dict:
        data = super().format_exception(exc)
        if isinstance(exc, DomainErrorResponse):
            if exc.attr:
                for error in data["errors"]:
                    error["attr"] = exc.attr
            data["errors"].extend(
                {"code": item.code, "detail": item.message, "attr": attr}
                for attr, item in exc.items
            )
        return data
