"""How the schema states what the API's strict input handling accepts (core.api.fields,
core.api.input_serializers, core.api.guards): bodies without unknown fields, strings without
NUL characters (names and free text without control characters either: core.validators),
trimmed strings that are not blank, integer ids within a bigint, bounded query filters; a body
`validate` reads in more than one shape as a `oneOf` of one named schema per shape; a body
field's default in its description (generators make a field with a `default` required)."""

import json
from dataclasses import dataclass, field

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance
from rest_framework import serializers
from rest_framework.fields import empty

from core.api.input_serializers import MAX_BIGINT, RejectUnknownFieldsMixin
from core.validators import RefusedCharactersValidator


def _character_class(characters: set[str]) -> str:
    ordered = sorted(ord(c) for c in characters)
    ranges: list[list[int]] = []
    for code in ordered:
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(f"\\u{lo:04x}" if lo == hi else f"\\u{lo:04x}-\\u{hi:04x}" for lo, hi in ranges)


# A string with at least one character that str.strip() keeps (DRF trims CharFields).
NOT_BLANK_PATTERN = f"[^{_character_class({chr(n) for n in range(0x10000) if chr(n).isspace()})}]"


@dataclass(frozen=True)
class BodyShape:
    """One shape of a body whose serializer accepts several (its `body_shapes`): the schema
    component `name` holds the serializer's fields but `without`, requires `required`, and
    allows only the given value of each field in `fixed`. Clients get one type per shape, so a
    body missing a field its shape needs does not compile."""

    name: str
    required: tuple[str, ...]
    without: tuple[str, ...] = ()
    fixed: dict = field(default_factory=dict)


def _default_note(default) -> str:
    return f"Defaults to `{json.dumps(default)}` when left out."


def _default_described(schema: dict) -> None:
    """A request field's `default` moved into its description: openapi-typescript makes a
    property with a default required (its `defaultNonNullable`), though a client may leave it
    out."""
    note = _default_note(schema.pop("default"))
    schema["description"] = f"{schema.get('description', '')} {note}".lstrip()


def _shape_property(prop: dict, field: serializers.Field, shape: BodyShape, name: str) -> dict:
    """A field as one body shape has it: only its fixed value, if the shape fixes one; and no
    default stated where the shape requires it."""
    prop = {**prop}
    if name in shape.fixed:
        prop["enum"] = [shape.fixed[name]]
    if name in shape.required and field.default is not empty:
        prop["description"] = prop["description"].removesuffix(_default_note(field.default))
        prop["description"] = prop["description"].strip()
        if not prop["description"]:
            del prop["description"]
    return prop


def _model_field_allows_blank(field: serializers.Field) -> bool:
    """Whether a ModelSerializer field reads a model field with `blank=True`. DRF leaves
    `allow_blank` off the fields it makes read-only, so a blank choice (a patient who gave no
    gender, an appointment's first status change) would go undocumented."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not isinstance(field.source, str) or "." in field.source:
        return False
    try:
        return model._meta.get_field(field.source).blank
    except FieldDoesNotExist:
        return False


class BoundedFilterExtension(DjangoFilterExtension):
    """drf-spectacular's django-filter parameters, with a CharFilter's `max_length` (a longer
    value is a 400) stated as the parameter's `maxLength`."""

    priority = DjangoFilterExtension.priority + 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )
        max_length = filter_field.extra.get("max_length")
        if max_length:
            for parameter in parameters:
                parameter["schema"]["maxLength"] = max_length
        return parameters


class StrictInputSchema(AutoSchema):
    """Parameters and request bodies exactly as the API reads them (module doc)."""

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            if parameter["in"] != "query":
                continue
            if not parameter.get("required"):
                # Filters, query serializers and paginators all read `?name=` as `name` left out.
                parameter["allowEmptyValue"] = True
            schema = parameter.get("schema", {})
            if schema.get("type") == "string" and not {"enum", "format", "pattern"} & set(schema):
                # The request guard refuses a NUL character anywhere in the query string.
                schema["not"] = {"pattern": "\\u0000"}
        return parameters

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            isinstance(field, serializers.PrimaryKeyRelatedField)
            and schema.get("type") == "integer"
        ):
            # core.api.input_serializers refuses an integer id outside a bigint's range.
            schema.update(minimum=1, maximum=MAX_BIGINT)
        if direction == "request" and "default" in schema:
            _default_described(schema)
        if direction == "request" and isinstance(field, serializers.CharField):
            # DRF refuses a NUL character in any string (names and free text refuse more
            # characters, NUL among them), and reads one that is blank once its surrounding
            # whitespace is trimmed as blank.
            refused = [
                v.refused for v in field.validators if isinstance(v, RefusedCharactersValidator)
            ]
            schema["not"] = {"pattern": refused[0] if refused else "\\u0000"}
            if (
                field.trim_whitespace
                and not field.allow_blank
                and "pattern" not in schema
                and "format" not in schema
            ):
                schema["pattern"] = NOT_BLANK_PATTERN
        if (
            direction == "response"
            and isinstance(field, serializers.ChoiceField)
            and "" not in schema.get("enum", [""])
            and _model_field_allows_blank(field)
        ):
            schema["enum"] = [*schema["enum"], ""]
        return schema

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(serializer, RejectUnknownFieldsMixin):
            schema["additionalProperties"] = False  # any other field is a 400 `unknown_field`
        shapes = getattr(serializer, "body_shapes", None)
        if direction == "request" and shapes:
            return self._body_shapes_one_of(serializer, schema, shapes)
        return schema

    def _body_shapes_one_of(self, serializer, schema: dict, shapes: list[BodyShape]) -> dict:
        """`schema` as a `oneOf` of its shapes, each a component of its own."""
        references = []
        for shape in shapes:
            properties = {
                name: _shape_property(prop, serializer.fields[name], shape, name)
                for name, prop in schema["properties"].items()
                if name not in shape.without
            }
            component = ResolvedComponent(
                name=shape.name,
                type=ResolvedComponent.SCHEMA,
                object=shape.name,
                schema={
                    "type": "object",
                    "properties": properties,
                    "required": list(shape.required),
                    "additionalProperties": False,
                },
            )
            self.registry.register_on_missing(component)
            references.append(component.ref)
        return {"oneOf": references, "description": schema.get("description", "")}

    def _get_request_for_media_type(self, serializer, direction="request"):
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if getattr(force_instance(serializer), "body_shapes", None):
            required = True  # each shape requires some field, so a body is needed
        return schema, required
