"""The base of every domain error: a broken business rule with a stable code."""

from rest_framework import exceptions, status


class DomainError(exceptions.APIException):
    """A broken business rule. Subclasses set `code`, `status_code` and `default_detail`."""

    code: str = "domain_error"
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    attr: str | None = None

    def __init__(self, detail: str | None = None, *, attr: str | None = None) -> None:
        super().__init__(detail=detail or self.default_detail, code=self.code)
        if attr is not None:
            self.attr = attr
