"""Errors of the FHIR API as OperationOutcome resources (FHIR R4, "OperationOutcome").

The same errors as the rest of the API, through the same handler, then reshaped: one issue per
error of the envelope, its `details.text` the envelope's stable `code`, its `expression` the
parameter it is about. The status and headers (`WWW-Authenticate`, `Retry-After`) are kept.
"""

from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from fhir_api.resources import operation_outcome

# HTTP status to FHIR's IssueType.
_ISSUE_TYPE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    429: "throttled",
    503: "transient",
}


def not_found(resource_type: str, resource_id: str) -> NotFound:
    return NotFound(f"No {resource_type} with id {resource_id!r}.")


def operation_outcome_reshape(response: Response) -> Response:
    """An error answer of the API's envelope, as an OperationOutcome."""
    issue_type = _ISSUE_TYPE.get(response.status_code, "exception")
    issues = []
    for error in response.data.get("errors", []):
        issue = {
            "severity": "error",
            "code": issue_type,
            "details": {"text": error["code"]},
            "diagnostics": error["detail"],
        }
        if error.get("attr"):
            issue["expression"] = [error["attr"]]
        issues.append(issue)
    response.data = operation_outcome(issues)
    return response
