"""Content negotiation for endpoints that answer one format whatever `Accept` asks for."""

from rest_framework.negotiation import BaseContentNegotiation


class FirstRendererNegotiation(BaseContentNegotiation):
    """Always the view's first renderer. Calendar applications ask for `text/calendar`, FHIR
    clients for `application/json` or `application/fhir+json`, bulk-data clients for
    `application/fhir+ndjson`: each is answered, never refused with a 406 (the SMART
    Scheduling Links specification requires that much of a manifest and its files)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
