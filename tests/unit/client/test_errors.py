"""Errors: a caller can branch on the class or the code and quote the request id to support."""
from __future__ import annotations

import httpx
import pytest

from spoke_client import (
    Conflict,
    Forbidden,
    NotFound,
    ServerError,
    SpokeClient,
    SpokeError,
    Unauthorized,
    VersionExists,
)
from tests.unit.client.fakes import BASE, Server, error


def test_errors_carry_code_message_details_and_request_id(server: Server, client: SpokeClient) -> None:
    # Given a module that does not exist
    server.on("GET", f"{BASE}/modules/ghost", error(404, "MODULE_NOT_FOUND", "Module 'ghost' not found",
                                                    request_id="req-42", details={"module": "ghost"}))

    # When the user reads it
    with pytest.raises(NotFound) as raised:
        client.get_module("ghost")

    # Then the error says what the envelope said
    err = raised.value
    assert (err.status, err.code, err.message, err.request_id) == (404, "MODULE_NOT_FOUND", "Module 'ghost' not found",
                                                                   "req-42")
    assert err.details == {"module": "ghost"} and isinstance(err, SpokeError)


@pytest.mark.parametrize(("status", "code", "cls"), [
    (401, "UNAUTHORIZED", Unauthorized), (403, "FORBIDDEN", Forbidden), (409, "MODULE_EXISTS", Conflict),
    (409, "VERSION_EXISTS", VersionExists), (504, "TIMEOUT", ServerError)])
def test_status_and_code_choose_the_class(server: Server, client: SpokeClient, status: int, code: str,
                                          cls: type[SpokeError]) -> None:
    # Given a refusal, when the user publishes (a POST: never retried on these), then the class fits it
    server.on("POST", f"{BASE}/modules", error(status, code))
    with pytest.raises(cls) as raised:
        client.create_module("user")
    assert raised.value.code == code


def test_a_non_json_error_body_still_becomes_a_spoke_error(server: Server, client: SpokeClient) -> None:
    # Given a proxy in front of the API answering with HTML
    server.on("DELETE", f"{BASE}/auth/tokens/tok1", httpx.Response(403, text="<html>Forbidden by proxy</html>",
                                                                  headers={"X-Request-ID": "req-proxy"}))

    # When the user revokes a token
    with pytest.raises(Forbidden) as raised:
        client.revoke_token("tok1")

    # Then the status names the code and the text is the message
    assert raised.value.code == "FORBIDDEN" and "Forbidden by proxy" in raised.value.message
    assert raised.value.request_id == "req-proxy"


def test_validation_errors_are_exposed(server: Server, client: SpokeClient) -> None:
    # Given a refused body listing field errors
    response = httpx.Response(400, json={"data": None, "error": {
        "code": "VALIDATION_ERROR", "message": "Invalid", "details": {},
        "validation_errors": [{"field": "slug", "message": "too short", "code": "TOO_SHORT"}]},
        "meta": {"request_id": "req-v"}})
    server.on("POST", f"{BASE}/organizations", response)

    # When the user creates an organization, then they can show which field was wrong
    with pytest.raises(SpokeError) as raised:
        client.create_organization("A", "a")
    assert raised.value.validation_errors[0]["field"] == "slug"
