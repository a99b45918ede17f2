"""Post-processing of the generated document, for the clients generated from it
(SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]): names that stay put, and types as exact as the
generators can read them. `error_codes_named` runs before drf-standardized-errors' enum hook,
`client_types` after it."""

import re

from drf_spectacular.plumbing import ResolvedComponent

# An operation's own error, `AppointmentBookError409` (core.openapi.error_envelopes).
_OPERATION_ERROR = re.compile(r"^(?P<operation>[A-Za-z0-9]+)Error(?P<status>[0-9]{3})$")

# Every error body, whatever the operation (the `type` and `code` an operation's own error
# narrows): the one type a client's generic error handling reads.
SHARED_ERROR_COMPONENTS = {
    "ErrorResponse": {
        "type": "object",
        "description": "Every 4xx and 5xx body. Each operation's errors narrow `type` and "
        "`code` to what that operation answers.",
        "properties": {
            "type": {
                "type": "string",
                "enum": ["validation_error", "client_error", "server_error"],
            },
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ErrorDetail"}},
        },
        "required": ["type", "errors"],
    },
    "ErrorDetail": {
        "type": "object",
        "properties": {
            "code": {"type": "string", "description": "Stable; docs/api.md lists them."},
            "detail": {"type": "string", "description": "For a person."},
            "attr": {
                "type": "string",
                "nullable": True,
                "description": "The input field the error is about, or null.",
            },
        },
        "required": ["code", "detail", "attr"],
    },
}


def _schemas(result: dict) -> dict:
    return result.setdefault("components", {}).setdefault("schemas", {})


def error_codes_named(result, generator, **kwargs):
    """An operation's own error codes as a component named after the operation and status,
    `AppointmentBookError409Code`: otherwise the enum hook names a choice set that two
    operations share after a hash of its values, a name that changes with every new code."""
    schemas = _schemas(result)
    for name, schema in list(schemas.items()):
        code = schema.get("properties", {}).get("code", {})
        if _OPERATION_ERROR.match(name) and "enum" in code:
            enum = {"type": "string", "enum": code["enum"]}
            component = ResolvedComponent(
                name=f"{name}Code", type=ResolvedComponent.SCHEMA, object=f"{name}Code", schema=enum
            )
            generator.registry.register_on_missing(component)
            schemas[component.name] = enum
            schema["properties"]["code"] = component.ref
    return result


def _walk(node):
    """Every mapping in the document, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _member_name(value: str) -> str:
    """`-start` → `START_DESC`, `` → `BLANK`: a name that does not depend on the value's
    position (openapi-python-client numbers the members it cannot name, `VALUE_0`)."""
    if value == "":
        return "BLANK"
    name = re.sub(r"[^A-Za-z0-9]+", "_", value).strip("_").upper()
    return f"{name}_DESC" if value.startswith("-") else name


def _boolean_enums_inlined(result: dict) -> None:
    """A boolean `enum` (a body shape's fixed `override`, core.openapi.strict_input) inline:
    the enum hook makes it a component of one value, which generators turn into a type of its
    own for what is `true` or `false`."""
    schemas = _schemas(result)
    booleans = {
        f"#/components/schemas/{name}": schema
        for name, schema in schemas.items()
        if schema.get("type") == "boolean" and "enum" in schema
    }
    for node in _walk(result):
        for branch in node.get("allOf", []):
            if branch.get("$ref") in booleans:
                node.pop("allOf")
                node.update(booleans[branch["$ref"]])
                break
    for reference in booleans:
        del schemas[reference.rsplit("/", 1)[1]]


def _parameter_enums_named(result: dict) -> None:
    """A query parameter's enum that is a component's too (`?status=`, `AppointmentStatusEnum`)
    as a reference to it, so that clients get one type, not two."""
    named = {
        tuple(sorted(schema["enum"])): f"#/components/schemas/{name}"
        for name, schema in _schemas(result).items()
        if schema.get("type") == "string" and "enum" in schema
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                reference = named.get(tuple(sorted(schema.get("enum", []))))
                if reference:
                    parameter["schema"] = {"$ref": reference}


def client_types(result, generator, **kwargs):
    """The shared error envelope, boolean enums inline, query enums by reference, and a name
    for every enum member that a value cannot name (`x-enum-varnames`)."""
    _boolean_enums_inlined(result)
    _parameter_enums_named(result)
    _schemas(result).update(SHARED_ERROR_COMPONENTS)
    for node in _walk(result):
        values = node.get("enum")
        if (
            isinstance(values, list)
            and values
            and all(isinstance(value, str) for value in values)
            and not all(value[:1].isalpha() for value in values)
        ):
            node["x-enum-varnames"] = [_member_name(value) for value in values]
    return result


def operation_paths_literal(result, generator, request, public):
    """drf-spectacular reads a route as a regex and drops its `$`: the SMART Scheduling Links
    routes are at `$bulk-publish` (the name the specification requires), and the schema says
    so."""
    result["paths"] = {
        path.replace("/fhir/R4/bulk-publish", "/fhir/R4/$bulk-publish"): item
        for path, item in result["paths"].items()
    }
    return result
