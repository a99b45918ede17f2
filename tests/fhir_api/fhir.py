"""Checking what the FHIR API publishes with `fhir.resources` (its FHIR R4B models: the
package's R4 models need pydantic 1, and R4B changed none of the resources used here)."""

from fhir.resources.R4B import get_fhir_model_class


def fhir_valid(resource: dict) -> dict:
    """`resource`, after its model of `fhir.resources` has accepted it (required elements,
    types, formats, no unknown element)."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def bundle_resources(bundle: dict) -> list[dict]:
    fhir_valid(bundle)
    assert bundle["type"] == "searchset"
    return [fhir_valid(entry["resource"]) for entry in bundle.get("entry", [])]


def outcome_codes(response) -> list[str]:
    """The envelope codes carried by an OperationOutcome answer."""
    assert response["Content-Type"] == "application/fhir+json"
    outcome = fhir_valid(response.json())
    assert outcome["resourceType"] == "OperationOutcome"
    return [issue["details"]["text"] for issue in outcome["issue"]]
