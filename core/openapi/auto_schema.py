"""The project's `DEFAULT_SCHEMA_CLASS`: every error the API answers
(`error_envelopes`), request bodies and parameters as strictly as the API reads them
(`strict_input`), and the names and security clients are generated with (`operation_ids`)."""

from core.openapi.error_envelopes import ErrorResponsesSchema
from core.openapi.operation_ids import operation_id
from core.openapi.strict_input import StrictInputSchema


class AutoSchema(StrictInputSchema, ErrorResponsesSchema):
    """The schema of every operation: strict input, every error it can answer, a stable
    operationId, and its security stated even where it is none."""

    def get_operation_id(self):
        return operation_id(self.method, self.path, super().get_operation_id())

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and "security" not in operation:
            # Sign-in and refresh read no token: an empty list says so (the document sets no
            # top-level security, so leaving it out would leave it unsaid).
            operation["security"] = []
        return operation
