"""OpenAPI documentation of the domain errors an operation can answer.

drf-standardized-errors documents the framework's errors (400, 401, 403, 404, 405, 415, 429,
500) on its own. `error_responses` adds, per operation, the envelope of each domain error it
can raise, with the exact `code`s as an enum, so integrators see them in Swagger and Redoc.
"""

from collections import defaultdict

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import APIException


def _camel(code: str) -> str:
    return "".join(part.capitalize() for part in code.split("_"))


def error_responses(*errors: type[APIException]) -> dict[int, OpenApiResponse]:
    by_status: dict[int, set[str]] = defaultdict(set)
    for error in errors:
        by_status[error.status_code].add(getattr(error, "code", None) or error.default_code)
    responses = {}
    for status_code, codes in sorted(by_status.items()):
        codes_sorted = sorted(codes)
        name = "".join(_camel(code) for code in codes_sorted)
        kind = "server_error" if status_code >= 500 else "client_error"
        item = inline_serializer(
            f"{name}Error{status_code}",
            {
                "code": serializers.ChoiceField(choices=codes_sorted),
                "detail": serializers.CharField(),
                "attr": serializers.CharField(allow_null=True),
            },
        )
        envelope = inline_serializer(
            f"{name}ErrorResponse{status_code}",
            {
                "type": serializers.ChoiceField(choices=[kind]),
                "errors": serializers.ListField(child=item),
            },
        )
        responses[status_code] = OpenApiResponse(
            response=envelope, description=", ".join(f"`{code}`" for code in codes_sorted)
        )
    return responses
