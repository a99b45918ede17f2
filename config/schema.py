"""OpenAPI documentation of the domain errors an operation can answer.

drf-standardized-errors documents the framework's errors (400, 401, 403, 404, 405, 415, 429,
500) on its own. `error_responses` adds, per operation, the envelope of each domain error it
can raise, with the exact `code`s as an enum, so integrators see them in Swagger and Redoc.
"""

from collections import defaultdict
from functools import cache

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum
from rest_framework import serializers
from rest_framework.exceptions import APIException


def _camel(code: str) -> str:
    return "".join(part.capitalize() for part in code.split("_"))


@cache
def _envelope_serializer(status_code: int, codes: tuple[str, ...]):
    """One component per (status, codes), reused by every operation that answers it."""
    name = "".join(_camel(code) for code in codes)
    kinds = ServerErrorEnum if status_code >= 500 else ClientErrorEnum
    item = inline_serializer(
        f"{name}Error{status_code}",
        {
            "code": serializers.ChoiceField(choices=list(codes)),
            "detail": serializers.CharField(),
            "attr": serializers.CharField(allow_null=True),
        },
    )
    return inline_serializer(
        f"{name}ErrorResponse{status_code}",
        {
            "type": serializers.ChoiceField(choices=kinds.choices),
            "errors": serializers.ListField(child=item),
        },
    )


def error_responses(*errors: type[APIException]) -> dict[int, OpenApiResponse]:
    by_status: dict[int, set[str]] = defaultdict(set)
    for error in errors:
        by_status[error.status_code].add(getattr(error, "code", None) or error.default_code)
    return {
        status_code: OpenApiResponse(
            response=_envelope_serializer(status_code, tuple(sorted(codes))),
            description=", ".join(f"`{code}`" for code in sorted(codes)),
        )
        for status_code, codes in sorted(by_status.items())
    }
