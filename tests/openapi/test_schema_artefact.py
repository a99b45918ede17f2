"""`openapi.yaml` is the contract clients generate from: it is checked in, so that every change
to it shows in review, and it must be exactly what the code generates (`make schema`)."""

from pathlib import Path

from django.core.management import call_command

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.yaml"


def test_the_committed_schema_is_the_codes_schema(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(generated))
    assert generated.read_text() == COMMITTED.read_text(), (
        "openapi.yaml differs from the schema the code generates: run `make schema`, review "
        "the difference and commit it"
    )
