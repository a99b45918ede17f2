"""Base classes for the serializers that read request bodies."""

from collections.abc import Mapping

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError


class RejectUnknownFieldsMixin:
    """Refuse a body that carries fields this endpoint does not accept, with a 400
    `unknown_field` on each: a misspelt field is not silently dropped, and a privileged one
    (`role`, `is_staff`, `status`, `rating`, ids) changes nothing (OWASP API3)."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            accepted = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - accepted)
            if unknown:
                raise ValidationError(
                    {
                        name: [
                            ErrorDetail("This field is not accepted here.", code="unknown_field")
                        ]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class InputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A request body: only the declared fields are accepted."""


class ModelInputSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    """A model serializer that also reads request bodies (read-only fields are refused)."""
