"""`?format=csv` and `Accept: text/csv` on the API's list and report views."""

from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView


class CSVRenderer(BaseRenderer):
    """Lets content negotiation choose CSV (by `Accept: text/csv` or `?format=csv`). The view
    then streams the CSV itself (`core.spreadsheet`); a `Response` left for this renderer is
    an error, which `CSVNegotiationMixin` sends as JSON instead."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data, "application/json", renderer_context)


class CSVNegotiationMixin(APIView):
    """A view that answers CSV when asked (`csv_requested`) in its `csv_actions` (a viewset's;
    None: every method of an APIView). Its errors (a 400, a 401, a 403) stay in the JSON error
    envelope whatever was asked for."""

    csv_actions: tuple[str, ...] | None = None

    def get_renderers(self):
        renderers = super().get_renderers()
        # A method the view does not have (no action) still gets its 405, not a 404 for an
        # unknown format.
        action = getattr(self, "action", None)
        if self.csv_actions is None or action is None or action in self.csv_actions:
            renderers.append(CSVRenderer())
        return renderers

    def csv_requested(self, request) -> bool:
        return isinstance(getattr(request, "accepted_renderer", None), CSVRenderer)

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and self.csv_requested(request):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
