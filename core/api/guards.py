"""Request guards that run before any view of the API."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from core.api.error_pages import error_envelope


class ApiRequestGuardMiddleware:
    """Refuse, in the API's envelope and before anything parses them:

    - a request body over `MAX_REQUEST_BODY_BYTES` (413);
    - a body sent with `Transfer-Encoding` (chunked) instead of a Content-Length (411):
      gunicorn passes it on, but Django reads only CONTENT_LENGTH bytes, so the view would
      see an empty body and act on it. Behind the proxy (deploy/nginx.conf) this never
      happens: nginx reads the chunks and sends the body with a Content-Length;
    - a NUL character in the query string (400): PostgreSQL cannot hold one in text, and no
      legitimate filter contains one.

    The admin site is left to Django's own limits.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.MAX_REQUEST_BODY_BYTES:
                detail = f"Request bodies are limited to {settings.MAX_REQUEST_BODY_BYTES} bytes."
                return error_envelope("client_error", "request_too_large", detail, 413)
            if "HTTP_TRANSFER_ENCODING" in request.META:
                return error_envelope(
                    "client_error",
                    "length_required",
                    "Send the request body with a Content-Length, not chunked.",
                    411,
                )
            if any(
                "\x00" in key or any("\x00" in value for value in values)
                for key, values in request.GET.lists()
            ):
                return error_envelope(
                    "validation_error",
                    "null_characters_not_allowed",
                    "Query parameters may not contain NUL characters.",
                    400,
                )
        return self.get_response(request)
