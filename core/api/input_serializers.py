"""Base classes for the serializers that read request bodies and query strings."""

import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.db import models
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

# The largest value of a bigint column (integer primary keys).
MAX_BIGINT = 2**63 - 1

# The mixins below go in front of a serializer class; to mypy they are serializers.
if TYPE_CHECKING:
    _SerializerMixinBase = serializers.Serializer
else:
    _SerializerMixinBase = object


class RejectUnknownFieldsMixin(_SerializerMixinBase):
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


_STRING_FIELDS = (
    serializers.CharField
    | serializers.DateField
    | serializers.DateTimeField
    | serializers.TimeField
    | serializers.UUIDField
)


def _json_type_error(field: serializers.Field, value) -> ErrorDetail | None:
    """Why `value` is not of the JSON type the schema gives `field`, if it is not.

    DRF coerces what it can: `0` becomes the string "0", "5" the integer 5, "true" a boolean,
    "7" a specialization's id. The schema promises a type per field, so a value of another
    type is refused, with a code the field's own errors already use (and the schema lists)."""
    if value is None:
        return None  # DRF's own `null` handling applies
    if isinstance(field, serializers.PrimaryKeyRelatedField) and field.queryset is not None:
        return _primary_key_error(field, value)
    if isinstance(field, serializers.ChoiceField):
        if isinstance(value, str):
            return None
        return ErrorDetail(f'"{value}" is not a valid choice.', code="invalid_choice")
    if isinstance(field, serializers.BooleanField):
        ok = isinstance(value, bool)
    elif isinstance(field, serializers.IntegerField):
        # OpenAPI 3.0's integer has no fraction: 5.0 is a number, not an integer.
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(field, serializers.FloatField):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif isinstance(field, _STRING_FIELDS):
        ok = isinstance(value, str)
    else:
        return None
    if ok:
        return None
    message = field.error_messages["invalid"]
    if "{" in message:  # date and time fields name their formats
        message = "Must be a string."
    return ErrorDetail(str(message), code="invalid")


def _primary_key_error(field: serializers.PrimaryKeyRelatedField, value) -> ErrorDetail | None:
    """An id of the type of the model's primary key; a UUID that cannot be one names no row."""
    assert field.queryset is not None  # the caller's check
    pk = field.queryset.model._meta.pk
    while pk.is_relation:  # a doctor's or patient's id is its user's
        pk = pk.target_field
    if isinstance(pk, models.UUIDField):
        if not isinstance(value, str):
            return ErrorDetail("Give the id as a string.", code="incorrect_type")
        try:
            uuid.UUID(value)
        except ValueError:
            return ErrorDetail(f'Invalid pk "{value}" - object does not exist.', "does_not_exist")
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        return ErrorDetail("Give the id as an integer.", code="incorrect_type")
    if not 1 <= value <= MAX_BIGINT:  # no such row, and PostgreSQL could not even compare it
        return ErrorDetail(f'Invalid pk "{value}" - object does not exist.', "does_not_exist")
    return None


class JsonTypesMixin(_SerializerMixinBase):
    """Refuse a field whose JSON type is not the one the schema gives it (`_json_type_error`)."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {}
            for name, field in self.fields.items():
                if name in data and not field.read_only:
                    error = _json_type_error(field, data[name])
                    if error is not None:
                        errors[name] = [error]
            if errors:
                raise ValidationError(errors)
        return super().to_internal_value(data)


class StrictInputMixin(RejectUnknownFieldsMixin, JsonTypesMixin):
    """A request body exactly as the schema describes it: only the declared fields, each of its
    declared JSON type."""


class InputSerializer(StrictInputMixin, serializers.Serializer):
    """A request body: only the declared fields are accepted."""


class ModelInputSerializer(StrictInputMixin, serializers.ModelSerializer):
    """A model serializer that also reads request bodies (read-only fields are refused)."""


class QuerySerializer(serializers.Serializer):
    """Reads a query string (`parameters=[...]` documents it). A query's values are text, which
    DRF's fields read generously; an integer is read as the schema writes one, so `1.0` or
    ` 7` is a 400 like any other value that is not an integer."""

    def to_internal_value(self, data):
        errors = {}
        for name, field in self.fields.items():
            value = data.get(name) if hasattr(data, "get") else None
            if (
                isinstance(field, serializers.IntegerField)
                and isinstance(value, str)
                and value != ""  # left out (see core.openapi.strict_input: allowEmptyValue)
                and not re.fullmatch(r"-?[0-9]+", value)
            ):
                errors[name] = [ErrorDetail(str(field.error_messages["invalid"]), code="invalid")]
        if errors:
            raise ValidationError(errors)
        return super().to_internal_value(data)
