"""The project's `DEFAULT_SCHEMA_CLASS`: every error the API answers
(`error_envelopes`), and request bodies and parameters as strictly as the API reads them
(`strict_input`)."""

from core.openapi.error_envelopes import ErrorResponsesSchema
from core.openapi.strict_input import StrictInputSchema


class AutoSchema(StrictInputSchema, ErrorResponsesSchema):
    """The schema of every operation: strict input, and every error it can answer."""
