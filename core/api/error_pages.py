"""Errors raised outside DRF's views (an unknown URL, a crash in middleware) still answer in
the API's envelope under /api/; the admin site keeps Django's HTML pages."""

from django.http import JsonResponse
from django.views import defaults


def error_envelope(kind: str, code: str, detail: str, status: int) -> JsonResponse:
    """One error in the API's envelope, for code outside DRF's exception handler."""
    return JsonResponse(
        {"type": kind, "errors": [{"code": code, "detail": detail, "attr": None}]}, status=status
    )


def json_not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return error_envelope("client_error", "not_found", "Not found.", 404)
    return defaults.page_not_found(request, exception)


def json_server_error(request):
    if request.path.startswith("/api/"):
        return error_envelope("server_error", "error", "A server error occurred.", 500)
    return defaults.server_error(request)
