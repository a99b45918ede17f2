"""Domain errors: broken business rules, as plain exceptions that speak no web framework.

Services raise them; `core.api.exception_handler` is the one place that maps them to the API's
error envelope, and `core.admin` shows them as messages. Each error class carries:

- `code`: stable and published (docs/api.md), never renamed once clients depend on it;
- `status`: the HTTP status it maps to;
- `message`: for a person;
- `attr`: the input field it is about, or None.

A `FieldInvalid` is about the value of one input field, judged by a rule only a service can
check (it needs the database, the clock or the whole request): the API answers it as a
`validation_error` on that field, exactly as a serializer's own error.
"""

from collections.abc import Iterable
from http import HTTPStatus


class DomainError(Exception):
    """A broken business rule. Subclasses set `code`, `status` and `message`."""

    code: str = "domain_error"
    status: int = HTTPStatus.CONFLICT
    message: str = "The request conflicts with the current state."
    attr: str | None = None

    def __init__(self, message: str | None = None, *, attr: str | None = None) -> None:
        if message is not None:
            self.message = message
        if attr is not None:
            self.attr = attr
        super().__init__(self.message)


class ItemisedConflict(DomainError):
    """A refusal of a request about several items, made of one refusal per item: the envelope
    answers this error's own `code` first, then one error per refused item, its `attr` naming
    the item and its `code` and `detail` saying why (a series' dates, each with its reason)."""

    def __init__(self, items: Iterable[tuple[str, DomainError]], message: str | None = None):
        self.items = list(items)
        super().__init__(message)


class Forbidden(DomainError):
    """The caller can see the record but may not do this to it (a 403; docs/api.md, "Roles and
    who sees what")."""

    code = "permission_denied"
    status = HTTPStatus.FORBIDDEN
    message = "You may not do this."


class NotFound(DomainError):
    """The record the request names is not there (a 404, as for an unknown id in a URL)."""

    code = "not_found"
    status = HTTPStatus.NOT_FOUND
    message = "Not found."


class FieldInvalid(DomainError):
    """A field's value breaks a rule (a 400 `validation_error` on `attr`)."""

    code = "invalid"
    status = HTTPStatus.BAD_REQUEST
    message = "This value is not valid."


class FieldsInvalid(FieldInvalid):
    """Several field errors found at once (a taken username and a taken email, or each of the
    password validators' complaints), reported together."""

    def __init__(self, errors: Iterable[FieldInvalid]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(error.message for error in self.errors))


class EndNotAfterStart(FieldInvalid):
    message = "The end must be after the start."
    attr = "end"


class ValueTaken(FieldInvalid):
    """A value that must be unique (a username, an email, a licence number, a name) is taken:
    `unique`, the code DRF's UniqueValidator gives it."""

    code = "unique"

    message = "This value is already taken."
