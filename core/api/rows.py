"""Serializers that build each row as one dict, from their declared fields.

For the busiest lists (free slots, appointments; why: bench/README.md, "Profiles"),
`HandBuiltRows` reads a serializer's declared fields once per class, not on every request, and
builds each row from them directly; the fields still make the schema, and
`tests/test_representation.py` checks that the JSON is the one DRF's fields give.
"""

import uuid
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from rest_framework import serializers
from rest_framework.relations import PrimaryKeyRelatedField, RelatedField

# A mixin in front of a serializer class; to mypy it is one.
if TYPE_CHECKING:
    _SerializerMixinBase = serializers.Serializer
else:
    _SerializerMixinBase = object

Column = tuple[str, Callable[[Any], Any], Callable[[Any], Any]]

# Fields whose `to_representation` is exactly a builtin (spared a Python call per value).
_BUILTIN_WRITES = {
    serializers.CharField: str,
    serializers.IntegerField: int,
    serializers.UUIDField: str,
}


def _whole_row(row):
    return row


def _pk_text(pk):
    """A related row's key as DRF's `PrimaryKeyRelatedField` gives it once rendered as JSON."""
    return str(pk) if isinstance(pk, uuid.UUID) else pk


# A serializer mixin: `to_representation` builds the row as one dict, each key a declared
# field's name and each value read with one attribute lookup and written by that field's own
# `to_representation` (a related key as its text); `None` stays `None`, as in DRF. Fields with
# `source="*"` get the whole row; related fields must be plain `PrimaryKeyRelatedField`s on one
# model attribute (they read its `<name>_id` column). Comments, not a docstring: the schema
# takes a serializer's description from the first docstring of its classes.
class HandBuiltRows(_SerializerMixinBase):
    _row_columns: tuple[Column, ...]

    @classmethod
    def row_columns(cls) -> tuple[Column, ...]:
        """(key, read, write) per readable declared field, in their order; built once per
        class (a subclass with other fields has its own)."""
        columns = cls.__dict__.get("_row_columns")
        if columns is None:
            fields = cls().fields.values()
            columns = tuple(cls._row_column(field) for field in fields if not field.write_only)
            cls._row_columns = columns
        return columns

    @classmethod
    def _row_column(cls, field: serializers.Field[Any, Any, Any, Any]) -> Column:
        # Bound fields (`cls().fields`) have their name and source set.
        name, source = str(field.field_name), str(field.source)
        if source == "*":
            return name, _whole_row, field.to_representation
        if isinstance(field, RelatedField):
            if type(field) is not PrimaryKeyRelatedField or field.pk_field is not None:
                raise TypeError(f"{cls.__name__}.{name}: not a plain key field")
            # Related fields are on model serializers, whose Meta names the model.
            model = cls.Meta.model  # type: ignore[attr-defined]
            column = model._meta.get_field(source).attname
            return name, attrgetter(column), _pk_text
        write = _BUILTIN_WRITES.get(type(field), field.to_representation)
        if isinstance(field, serializers.UUIDField) and field.uuid_format != "hex_verbose":
            write = field.to_representation
        return name, attrgetter(source), write

    def to_representation(self, instance: Any) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for key, read, write in self.row_columns():
            value = read(instance)
            row[key] = None if value is None else write(value)
        return row
