"""How the schema documents every error the API answers.

Every 4xx and 5xx answer is the drf-standardized-errors envelope `{"type", "errors": [{"code",
"detail", "attr"}]}`. drf-standardized-errors documents DRF's own errors; `ErrorResponsesSchema`
extends that to what this API really answers, for every operation:

- each error status lists every `code` it can carry: the framework's (`FRAMEWORK_ERROR_CODES`,
  e.g. simplejwt's 401 codes, the request guard's 411 and 413) plus the domain errors an operation
  declares with `error_responses(...)` (merged into one envelope per status: a booking's 403 is
  `permission_denied` or `booking_restricted`, its 400 a validation error or `slot_in_past`);
- a validation error (400) lists, per `attr`, the codes of the body's fields or of the query
  parameters (django-filter forms and query serializers given as `parameters=[...]`), plus
  `unknown_field` for a body field the endpoint does not accept and `null_characters_not_allowed`
  for a NUL character in the query string;
- 411 (a chunked body) and 413 on every operation with a request body, 503 on every operation
  (the database is unreachable or a statement ran past its timeout; `lock_timeout` too where a
  write waits for a row lock).
"""

import re
from collections import defaultdict
from functools import cache

from django.db import models
from drf_spectacular.plumbing import force_instance, is_basic_serializer
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer
from drf_standardized_errors import openapi as standardized
from drf_standardized_errors.openapi_serializers import (
    ClientErrorEnum,
    ServerErrorEnum,
    ValidationErrorEnum,
)
from drf_standardized_errors.openapi_utils import (
    get_error_serializer,
    get_flat_serializer_fields,
    get_serializer_fields_with_error_codes,
)
from inflection import camelize
from rest_framework import serializers
from rest_framework.exceptions import APIException

from core.errors import DomainError

# The codes each status carries whatever the operation, as DRF, simplejwt and the request guard
# (core.api.guards) raise them. 401: DRF's two, and simplejwt's, which the exception handler
# passes through unchanged (core.api.exception_handler._jwt_error_flatten).
FRAMEWORK_ERROR_CODES: dict[str, tuple[str, ...]] = {
    "401": (
        "authentication_failed",
        "not_authenticated",
        "bad_authorization_header",
        "token_not_valid",
        "user_not_found",
        "user_inactive",
        "password_changed",
        "no_active_account",
    ),
    "403": ("permission_denied",),
    "404": ("not_found",),
    "405": ("method_not_allowed",),
    "406": ("not_acceptable",),
    # A body sent chunked instead of with a Content-Length (core.api.guards).
    "411": ("length_required",),
    "413": ("request_too_large",),
    "415": ("unsupported_media_type",),
    "429": ("throttled",),
    "500": ("error",),
    # The database went away, a competing request deadlocked with this one, or a statement ran
    # past its timeout (DB_STATEMENT_TIMEOUT_MS).
    "503": ("service_unavailable",),
}
# A write can also time out waiting for a row lock (core.api.exception_handler.LockTimeout).
WRITE_503_CODES = ("lock_timeout", "service_unavailable")
PARSE_ERROR_CODES = ("parse_error",)
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _code_choices(codes: tuple[str, ...]) -> list[tuple[str, str]]:
    # Labelled as TextChoices label its members, so a ChoiceField built from these matches the
    # enums below in ENUM_NAME_OVERRIDES.
    return [(code, code.replace("_", " ").title()) for code in codes]


def _code_enum(name: str, codes: tuple[str, ...]) -> type[models.TextChoices]:
    # Enum's functional API, which django-stubs does not declare for TextChoices.
    members = [(code.upper(), code) for code in sorted(codes)]
    return models.TextChoices(name, members)  # type: ignore[call-overload]


# Named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"], so each choice set keeps one stable name.
ErrorCode401Enum = _code_enum("ErrorCode401Enum", FRAMEWORK_ERROR_CODES["401"])
ErrorCode411Enum = _code_enum("ErrorCode411Enum", FRAMEWORK_ERROR_CODES["411"])
ErrorCode413Enum = _code_enum("ErrorCode413Enum", FRAMEWORK_ERROR_CODES["413"])
ErrorCode503Enum = _code_enum("ErrorCode503Enum", FRAMEWORK_ERROR_CODES["503"])


def _shared_stem(status_code: str, codes: tuple[str, ...]) -> str | None:
    """The stem of a component every operation shares: `ErrorResponse401` for a status's
    framework codes alone (the names drf-standardized-errors uses), `ParseErrorResponse`, and
    `WriteErrorResponse503`; None for a set with an operation's own codes."""
    if codes == PARSE_ERROR_CODES:
        return "ParseError"
    if codes == tuple(sorted(FRAMEWORK_ERROR_CODES.get(status_code, ()))):
        return ""
    if status_code == "503" and codes == WRITE_503_CODES:
        return "Write"
    return None


def _component_stem(status_code: str, codes: tuple[str, ...], operation_id: str | None) -> str:
    """A shared stem, or for a set with an operation's own codes the operation's name
    (`AppointmentBookErrorResponse409`), not the codes', so that a new code renames nothing."""
    shared = _shared_stem(status_code, codes)
    if shared is not None:
        return shared
    if operation_id is None:  # asked without one only for the shared sets
        raise ValueError(f"The {status_code} codes {codes} are an operation's own: name it.")
    # A 400's client errors sit beside its validation errors, `...ErrorResponse400`.
    return camelize(operation_id) + ("Client" if status_code == "400" else "")


@cache
def error_envelope(
    status_code: str, codes: tuple[str, ...], operation_id: str | None
) -> type[serializers.Serializer]:
    """The envelope of an error that is not a validation error: one component per status for
    the framework's codes, shared by every operation that answers only those, and one per
    operation and status where the operation adds codes of its own."""
    stem = _component_stem(status_code, codes, operation_id)
    kinds = ServerErrorEnum if int(status_code) >= 500 else ClientErrorEnum

    class Error(serializers.Serializer):
        code = serializers.ChoiceField(choices=_code_choices(codes))
        detail = serializers.CharField()
        attr = serializers.CharField(allow_null=True)

        class Meta:
            ref_name = f"{stem}Error{status_code}" if stem != "ParseError" else "ParseError"

    class ErrorResponse(serializers.Serializer):
        type = serializers.ChoiceField(choices=kinds.choices)
        # Schema only (never validated), so the field may shadow `Serializer.errors`.
        errors = Error(many=True)  # type: ignore[assignment]

        class Meta:
            ref_name = (
                f"{stem}ErrorResponse{status_code}"
                if stem != "ParseError"
                else "ParseErrorResponse"
            )

    return ErrorResponse


class DomainErrors:
    """What `error_responses` puts into `extend_schema(responses=...)`: the domain codes of one
    status, which `AutoSchema` merges with the framework's codes for that status."""

    def __init__(self, codes: set[str]) -> None:
        self.codes = frozenset(codes)


def error_responses(*errors: type[DomainError | APIException]) -> dict[int, DomainErrors]:
    """The errors an operation can raise besides the framework's (domain errors, and the
    503 `lock_timeout` of a write), for its `extend_schema(responses=...)`."""
    by_status: dict[int, set[str]] = defaultdict(set)
    for error in errors:
        if issubclass(error, DomainError):
            by_status[int(error.status)].add(error.code)
        else:
            by_status[error.status_code].add(error.default_code)
    return {status_code: DomainErrors(codes) for status_code, codes in by_status.items()}


def _field_error_serializer(operation_id: str, attr: str, codes: set[str]):
    """drf-standardized-errors' error of one field, its component named in letters and digits
    only (a header's `Idempotency-Key` made a name with a hyphen, which generators mangle)."""
    serializer = get_error_serializer(operation_id, attr, codes)
    # drf-standardized-errors makes each with a Meta naming its component.
    meta = serializer.Meta  # type: ignore[attr-defined]
    meta.ref_name = re.sub(r"[^A-Za-z0-9]", "", meta.ref_name)
    return serializer


# Refused by core.api.input_serializers.RejectUnknownFieldsMixin. The docstring is the schema's
# description, written for client developers.
class UnknownFieldError(serializers.Serializer):
    """A body field the endpoint does not accept: `attr` is the field's name, whatever it is."""

    attr = serializers.CharField()
    code = serializers.ChoiceField(choices=[("unknown_field", "unknown_field")])
    detail = serializers.CharField()

    class Meta:
        ref_name = "UnknownFieldErrorComponent"


# Refused by core.api.guards.ApiRequestGuardMiddleware.
class NullCharactersError(serializers.Serializer):
    """A NUL character in the query string."""

    attr = serializers.CharField(allow_null=True, help_text="Always null.")
    code = serializers.ChoiceField(
        choices=[("null_characters_not_allowed", "null_characters_not_allowed")]
    )
    detail = serializers.CharField()

    class Meta:
        ref_name = "NullCharactersErrorComponent"


class ErrorResponsesSchema(standardized.AutoSchema):
    """drf-standardized-errors' schema, documenting every error this API answers (module doc)."""

    def _domain_errors(self) -> dict[str, frozenset[str]]:
        # `extend_schema` overrides get_response_serializers() in a subclass of this one.
        responses = self.get_response_serializers()
        if not isinstance(responses, dict):
            return {}
        return {
            str(status_code): response.codes
            for status_code, response in responses.items()
            if isinstance(response, DomainErrors)
        }

    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        if isinstance(serializer, DomainErrors):
            # The status's whole envelope: its framework codes and the domain's together.
            serializer = self._get_error_response_serializer(status_code)
        if str(status_code).startswith(("4", "5")):
            # Errors are JSON whatever the success answers in (a CSV download's too).
            media_types = ["application/json"]
        return super()._get_response_for_code(serializer, status_code, media_types, direction)

    # Which error statuses an operation documents ------------------------------------------------

    def _has_request_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None

    def _query_parameters(self) -> list[dict]:
        return [p for p in self._get_parameters() if p["in"] == "query"]

    def _query_serializers(self) -> list[serializers.Serializer]:
        """Serializers given as `parameters=[...]`: the view validates the query with them."""
        return [
            force_instance(parameter)
            for parameter in self.get_override_parameters()
            if is_basic_serializer(parameter)
        ]

    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code in responses:
            # Documented already: an operation's domain errors (merged with the framework's in
            # _get_response_for_code), or by hand (the health check's own 503).
            return False
        if status_code in ("409", "422"):
            return False  # domain errors only
        if status_code in ("411", "413"):
            return self._has_request_body()
        if status_code == "503":
            return True
        return super()._should_add_error_response(responses, status_code)

    def _should_add_http403_error_response(self) -> bool:
        # Besides permission classes, a view or the transition table refuses a write the caller
        # may not do (`permission_denied` on a record they can see, docs/api.md "Roles and who sees
        # what").
        return super()._should_add_http403_error_response() or (
            self.method in UNSAFE_METHODS and bool(self.get_auth() and any(self.get_auth()))
        )

    def _should_add_validation_error_response(self) -> bool:
        # Any query parameter can carry a NUL character, which the request guard refuses.
        return super()._should_add_validation_error_response() or bool(self._query_parameters())

    # The envelope of each status --------------------------------------------------------------

    def _framework_codes(self, status_code: str) -> tuple[str, ...]:
        if status_code == "503" and self.method in UNSAFE_METHODS:
            return WRITE_503_CODES
        if status_code == "403" and not self._should_add_http403_error_response():
            return ()  # only the domain's own 403 (nothing stops the caller otherwise)
        return FRAMEWORK_ERROR_CODES.get(status_code, ())

    def _operation_of(self, status_code: str, codes: tuple[str, ...]) -> str | None:
        """The operationId where the component is the operation's own; None for a shared one,
        so that error_envelope's cache hands every operation the same serializer."""
        return None if _shared_stem(status_code, codes) is not None else self.get_operation_id()

    def _get_error_response_serializer(self, status_code: str):
        if status_code == "400":
            return self._get_http400_serializer()
        codes = tuple(
            sorted(
                set(self._framework_codes(status_code))
                | self._domain_errors().get(status_code, set())
            )
        )
        return OpenApiResponse(
            response=error_envelope(status_code, codes, self._operation_of(status_code, codes)),
            description=", ".join(f"`{code}`" for code in codes),
        )

    def _get_http400_serializer(self):
        kinds = {}
        if self._should_add_validation_error_response():
            kinds[ValidationErrorEnum.VALIDATION_ERROR.value] = (
                self._get_serializer_for_validation_error_response()
            )
        client_codes = set(self._domain_errors().get("400", set()))
        if self._should_add_parse_error_response():
            client_codes |= set(PARSE_ERROR_CODES)
        if client_codes:
            codes = tuple(sorted(client_codes))
            kinds[ClientErrorEnum.CLIENT_ERROR.value] = error_envelope(
                "400", codes, self._operation_of("400", codes)
            )
        return PolymorphicProxySerializer(
            component_name=f"{camelize(self.get_operation_id())}ErrorResponse400",
            serializers=kinds,
            resource_type_field_name="type",
        )

    # Validation errors ------------------------------------------------------------------------

    def _determine_fields_with_error_codes(self):
        fields = super()._determine_fields_with_error_codes()
        for serializer in self._query_serializers():
            fields.extend(
                get_serializer_fields_with_error_codes(get_flat_serializer_fields(serializer))
            )
        return fields

    def _get_validation_error_codes_by_field(self, data_fields):
        codes_by_field = super()._get_validation_error_codes_by_field(data_fields)
        if self.method in ("POST", "PUT", "PATCH"):
            serializer = force_instance(self.get_request_serializer())
            for shape in getattr(serializer, "body_shapes", None) or []:
                for name in shape.required:
                    codes_by_field[name].add("required")
        if not self._has_request_body():
            # The request guard refuses a NUL anywhere in the query before any field reads it
            # (NullCharactersError, `attr` null): no query field answers that code itself.
            for parameter in self._query_parameters():
                codes_by_field.get(parameter["name"], set()).discard("null_characters_not_allowed")
        paginator = self._get_paginator()
        page_size = getattr(paginator, "page_size_query_param", None)
        if page_size and any(p["name"] == page_size for p in self._query_parameters()):
            # core.api.pagination.PageSizeMixin refuses a page size it cannot read.
            codes_by_field[page_size].add("invalid")
        return codes_by_field

    def _get_serializer_for_validation_error_response(self):
        operation_id = self.get_operation_id()
        codes_by_field = self._get_validation_error_codes_by_field(
            self._determine_fields_with_error_codes()
        )
        items = [
            _field_error_serializer(operation_id, name, codes)
            for name, codes in sorted(codes_by_field.items())
        ]
        if self._has_request_body():
            items.append(UnknownFieldError)
        if self._query_parameters():
            items.append(NullCharactersError)

        class ValidationErrorResponse(serializers.Serializer):
            type = serializers.ChoiceField(choices=ValidationErrorEnum.choices)
            # No discriminator: an unknown field's `attr` is whatever the client sent, and the
            # request guard's is null; the `code`s keep the variants apart.
            errors = PolymorphicProxySerializer(  # type: ignore[assignment]  # as ErrorResponse's
                component_name=f"{camelize(operation_id)}Error",
                serializers=items,
                resource_type_field_name=None,
                many=True,
            )

            class Meta:
                ref_name = f"{camelize(operation_id)}ValidationError"

        return ValidationErrorResponse
