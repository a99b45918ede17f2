"""The error envelope, as a test checks it."""


def envelope(response, status: int, kind: str) -> list[dict]:
    """The errors of an envelope with `type` `kind`, after checking the status and shape."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    assert body["type"] == kind
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"code", "detail", "attr"}, error
        assert isinstance(error["code"], str)
        assert error["code"]
        assert isinstance(error["detail"], str)
        assert error["detail"]
    return body["errors"]
