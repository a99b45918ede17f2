"""Errors raised outside DRF's views answer in the API's envelope too, under /api/: Django's
own 400 (a disallowed `Host`, a suspicious request), 403, 404 (an unknown URL) and 500 (a
crash in middleware), wired in as `handler400`...`handler500` in config/urls.py. The admin
site and the other pages people open in a browser keep Django's HTML pages.

What never reaches Django (a request line gunicorn cannot read, a URL or headers too large
for it) is answered by the proxy in front, in the same envelope (deploy/nginx.conf).
"""

from django.http import HttpRequest, JsonResponse
from django.views import defaults

API_PREFIX = "/api/"


def error_envelope(kind: str, code: str, detail: str, status: int) -> JsonResponse:
    """One error in the API's envelope, for code outside DRF's exception handler."""
    return JsonResponse(
        {"type": kind, "errors": [{"code": code, "detail": detail, "attr": None}]}, status=status
    )


def _for_a_browser(request: HttpRequest) -> bool:
    return not request.path.startswith(API_PREFIX)


def json_bad_request(request, exception=None):
    if _for_a_browser(request):
        return defaults.bad_request(request, exception)
    return error_envelope("client_error", "bad_request", "The request is malformed.", 400)


def json_permission_denied(request, exception=None):
    if _for_a_browser(request):
        return defaults.permission_denied(request, exception)
    return error_envelope(
        "client_error",
        "permission_denied",
        "You do not have permission to perform this action.",
        403,
    )


def json_not_found(request, exception=None):
    if _for_a_browser(request):
        return defaults.page_not_found(request, exception)
    return error_envelope("client_error", "not_found", "Not found.", 404)


def json_server_error(request):
    if _for_a_browser(request):
        return defaults.server_error(request)
    return error_envelope("server_error", "error", "A server error occurred.", 500)
