"""The client check: `openapi.yaml` as the web and mobile teams use it, through the generators
they use, pinned in clients/ (package-lock.json for the npm tools, the dev extra for
openapi-python-client).

- it is valid OpenAPI to openapi-spec-validator and passes Redocly's recommended rules
  (clients/redocly.yaml and its ignore file say what is deliberate);
- every `pattern` is a regex to Python's `re` and to JavaScript without flags;
- openapi-typescript's client compiles under `tsc --strict --noUncheckedIndexedAccess` with a
  typed walk of a whole flow and compile-time checks (clients/typescript/types-check.ts: a
  booking without `slot` or with an unknown field must not compile), and the walk runs with
  openapi-fetch against gunicorn;
- openapi-python-client generates its client without a warning, and the same walk runs with it.

The npm tools are installed (`npm ci`) when clients/node_modules is missing or older than the
lock file. Skipped, saying why, where Node.js is not installed (`.ci/run` installs it).
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from core.openapi.operation_ids import OPERATION_IDS
from tests.factories import PASSWORD, AdminUserFactory
from tests.servers import BASE_DIR, BIN_DIR, gunicorn_serving, production_env

SCHEMA = BASE_DIR / "openapi.yaml"
CLIENTS = BASE_DIR / "clients"
NODE = shutil.which("node")
NPM = shutil.which("npm")
# Bookable at once, so that the walk's first visit can start, and be completed, seconds later.
SERVER_SETTINGS = {"DJANGO_SETTINGS_MODULE": "config.settings.test", "BOOKING_LEAD_TIME": "0"}
METHODS = ("get", "post", "put", "patch", "delete")


def _run(*args: str, cwd: Path = BASE_DIR, env: dict | None = None, timeout: float = 180) -> str:
    """Run a command, failing the test with its output if it fails; its output otherwise."""
    result = subprocess.run(  # noqa: S603 (fixed tools and arguments)
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(args)} exited with {result.returncode}:\n{output}"
    return output


@pytest.fixture(scope="module")
def npm_bin() -> Path:
    """clients/node_modules/.bin as clients/package-lock.json pins it."""
    if NODE is None or NPM is None:
        pytest.skip("Node.js and npm not found (.ci/run installs Debian's nodejs and npm)")
    lock = hashlib.sha1((CLIENTS / "package-lock.json").read_bytes()).hexdigest()[:12]  # noqa: S324 (a cache key)
    stamp = CLIENTS / "node_modules" / f".installed-{lock}"
    if not stamp.exists():
        _run(NPM, "ci", "--no-audit", "--no-fund", cwd=CLIENTS, timeout=600)
        stamp.touch()
    return CLIENTS / "node_modules" / ".bin"


@pytest.fixture(scope="module")
def schema() -> dict:
    return yaml.safe_load(SCHEMA.read_text())


def _operations(schema: dict):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in METHODS:
                yield method.upper(), path, operation


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


# The document itself -------------------------------------------------------------------------


def test_openapi_spec_validator_accepts_the_schema():
    document, _ = read_from_filename(str(SCHEMA))
    validate(document)


def test_redocly_recommended_rules_pass(npm_bin):
    output = _run(
        str(npm_bin / "redocly"),
        "lint",
        str(SCHEMA),
        "--config",
        str(CLIENTS / "redocly.yaml"),
        "--format=stylish",
    )
    assert "Your API description is valid" in output, output


def test_every_pattern_is_a_regex_in_python_and_in_javascript_without_flags(npm_bin, schema):
    patterns = sorted({node["pattern"] for node in _walk(schema) if "pattern" in node})
    for pattern in patterns:
        re.compile(pattern)
    username = schema["components"]["schemas"]["PatientRegisterRequest"]["properties"]["username"]
    script = """
        const [patterns, username] = JSON.parse(require("fs").readFileSync(0, "utf8"));
        for (const p of patterns) new RegExp(p);
        const u = new RegExp(username);
        const verdicts = ["alice", "zoë.o'neil", "a b", "ali/ce"].map((s) => u.test(s));
        console.log(JSON.stringify(verdicts));
    """
    result = subprocess.run(  # noqa: S603 (a fixed script)
        [NODE, "-e", script],
        input=json.dumps([patterns, username["pattern"]]),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [True, False, False, False]


def test_every_operation_is_named_summarised_and_secured(schema):
    named = {(method, path) for method, path, _ in _operations(schema)}
    assert named == set(OPERATION_IDS), "core/openapi/operation_ids.py names every route, once"
    ids = [operation["operationId"] for _, _, operation in _operations(schema)]
    assert sorted(ids) == sorted(OPERATION_IDS.values())
    assert len(set(ids)) == len(ids)
    for method, path, operation in _operations(schema):
        assert operation.get("summary"), f"{method} {path} has no summary"
        assert "security" in operation, f"{method} {path} does not say its security"
    assert schema["servers"]


def test_component_names_are_plain_and_short(schema):
    """A name clients can spell, stable when an error code is added: error components are named
    after their operation, never after their codes."""
    for name in schema["components"]["schemas"]:
        assert re.fullmatch(r"[A-Za-z0-9]+", name), name
        assert len(name) <= 60, name
    assert "AppointmentBookErrorResponse409" in schema["components"]["schemas"]


def test_request_bodies_state_no_default(schema):
    """openapi-typescript makes a property with a `default` required: defaults are described."""
    bodies = [
        component
        for name, component in schema["components"]["schemas"].items()
        if name.endswith("Request")
    ]
    for body in bodies:
        for name, prop in body.get("properties", {}).items():
            assert "default" not in prop, name


def test_no_enum_member_is_named_after_its_position(schema):
    """openapi-python-client names a member `VALUE_<index>` when its value cannot name it."""
    for node in _walk(schema):
        values = node.get("enum")
        if isinstance(values, list) and all(isinstance(value, str) for value in values):
            assert all(value[:1].isalpha() for value in values) or node.get("x-enum-varnames")


# The generated clients, against the live app ---------------------------------------------------


@pytest.fixture
def server(tmp_path):
    """The app under gunicorn on the test database, with an admin to start the walk."""
    AdminUserFactory(username="walk.admin")
    env = {**production_env(tmp_path / "static"), **SERVER_SETTINGS}
    with gunicorn_serving(env, workers=2) as base:
        yield base


@pytest.mark.django_db(transaction=True)
def test_the_typescript_client_compiles_strictly_and_walks_the_flow(npm_bin, server, tmp_path):
    project = tmp_path / "ts"
    shutil.copytree(CLIENTS / "typescript", project / "typescript")
    for name in ("tsconfig.json", "package.json"):
        shutil.copy(CLIENTS / name, project / name)
    (project / "node_modules").symlink_to(CLIENTS / "node_modules")
    _run(str(npm_bin / "openapi-typescript"), str(SCHEMA), "-o", "typescript/api.d.ts", cwd=project)
    _run(
        str(npm_bin / "tsc"),
        "-p",
        "tsconfig.json",
        "--strict",
        "--noUncheckedIndexedAccess",
        cwd=project,
    )
    walked = _run(NODE, "build/walk.js", server, "walk.admin", PASSWORD, "ts", cwd=project)
    assert "walk done" in walked


@pytest.mark.django_db(transaction=True)
def test_the_python_client_generates_cleanly_and_walks_the_flow(server, tmp_path):
    env = {**os.environ, "PATH": f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}"}
    generated = _run(
        str(BIN_DIR / "openapi-python-client"),
        "generate",
        "--path",
        str(SCHEMA),
        "--config",
        str(CLIENTS / "openapi-python-client.yaml"),
        "--output-path",
        str(tmp_path / "py" / "careslot_client"),
        "--meta",
        "none",
        env=env,
    )
    assert "Warning" not in generated, generated
    walked = _run(
        sys.executable,
        str(CLIENTS / "python" / "walk.py"),
        server,
        "walk.admin",
        PASSWORD,
        "py",
        env={**env, "PYTHONPATH": str(tmp_path / "py")},
    )
    assert "walk done" in walked
