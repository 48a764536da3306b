"""The OpenAPI document describes exactly the app's routes, is valid OpenAPI 3.1, and holds the app's answers.

schemathesis fuzzes the running stack against the same document (`make fuzz-api`, tests/fuzz); these
are the fast checks that run with every `make test`.
"""
from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import jsonschema
from chalice.test import Client
from openapi_spec_validator import validate

from chalicelib.openapi.operations import NOT_API_PREFIXES
from tests.integration.api import Api

PREFLIGHT = "OPTIONS"  # every path's CORS preflight (api/cors.py): named in info.description, not listed


def _routes() -> set[tuple[str, str]]:
    from app import app

    return {(path, method) for path, entries in app.routes.items() for method in entries
            if method != PREFLIGHT and not path.startswith(NOT_API_PREFIXES)}


def _described(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, item in document["paths"].items() for method in item}


def _document(client: Client) -> dict[str, Any]:
    response = client.http.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.body)


def _response(document: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    """An operation's answer for a status (shared error answers are components/responses)."""
    response = document["paths"][path][method]["responses"][str(status)]
    ref = response.get("$ref", "")
    return document["components"]["responses"][ref.rsplit("/", 1)[1]] if ref else response


def _schema_of(document: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    """The response schema, resolvable on its own: the document's components come along."""
    schema = _response(document, path, method, status)["content"]["application/json"]["schema"]
    return {**schema, "components": document["components"]}


def _holds(document: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    jsonschema.validate(body, _schema_of(document, path, method, status),
                        cls=jsonschema.Draft202012Validator)


def test_every_route_is_described_and_nothing_else(client: Client) -> None:
    # Given the app's routes (without the preflights and the web UI's pages)
    routes = _routes()
    assert ("/modules", "POST") in routes and ("/modules/{name}/versions/{version}/files/{p0}", "HEAD") in routes
    # When the document is fetched
    document = _document(client)
    # Then it describes each route, and no route the app does not have
    described = _described(document)
    assert sorted(routes - described) == [], "routes the document does not describe"
    assert sorted(described - routes) == [], "operations the app does not serve"


def test_the_document_is_valid_openapi_3_1_with_unique_operation_ids(client: Client) -> None:
    # When the document is fetched
    document = _document(client)
    # Then it is OpenAPI 3.1 by the specification's own schema, and every operation can be linked to
    assert document["openapi"].startswith("3.1.")
    validate(document)
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    # And it names the security schemes, the organization header and the rate-limit headers
    components = document["components"]
    assert set(components["securitySchemes"]) == {"session", "apiToken"}
    assert components["parameters"]["OrganizationHeader"]["name"] == "X-Organization-ID"
    listed = _response(document, "/modules", "get", 200)
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(listed["headers"])
    assert "Retry-After" in _response(document, "/modules", "get", 429)["headers"]


def test_each_route_lists_its_error_codes_by_status(client: Client) -> None:
    # When the document is fetched
    document = _document(client)

    def codes(status: str) -> set[str]:
        schema = _schema_of(document, "/modules/{name}/versions", "post", int(status))
        return set(schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"])

    # Then publish names its codes under the status each is answered with
    assert {"INVALID_PROTO", "INVALID_VERSION", "INVALID_JSON", "VALIDATION_ERROR"} <= codes("400")
    assert {"VERSION_EXISTS", "BREAKING_CHANGE"} <= codes("409")
    assert codes("404") >= {"MODULE_NOT_FOUND", "ORGANIZATION_NOT_FOUND"}
    assert codes("413") >= {"PAYLOAD_TOO_LARGE"} and codes("429") == {"RATE_LIMIT_EXCEEDED"}
    assert "VERSION_EXISTS" not in codes("400")


def test_answers_of_a_walk_through_hold_to_the_document(api: Api) -> None:
    # Given the document and a signed-in user
    document = _document(api.client)
    token, _ = api.signed_up()
    # When the user creates a module, publishes a version and reads them back
    created = api.module(token, "openapi-walk", description="described")
    published = api.publish(token, "openapi-walk", "v1.0.0")
    module = api.get("/modules/openapi-walk", token=token)
    version = api.get("/modules/openapi-walk/versions/v1.0.0", token=token)
    missing = api.get("/modules/no-such-module", token=token)
    # Then every answer matches the schema the document gives its route and status
    _holds(document, "/modules", "post", 201, created.body)
    _holds(document, "/modules/{name}/versions", "post", 201, published.body)
    _holds(document, "/modules/{name}", "get", 200, module.body)
    _holds(document, "/modules/{name}/versions/{version}", "get", 200, version.body)
    _holds(document, "/modules/{name}", "get", 404, missing.body)
    # And an error code the route does not list would not hold
    wrong = {**missing.body, "error": {**missing.body["error"], "code": "VERSION_EXISTS"}}
    try:
        _holds(document, "/modules/{name}", "get", 404, wrong)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("an unlisted error code passed the document's schema")


def test_docs_page_serves_swagger_ui_from_the_package(client: Client) -> None:
    # When a browser opens /docs
    page = client.http.get("/docs")
    # Then it is an HTML page that loads only this API's own files (no CDN), under a strict CSP
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.body.decode()
    assert 'src="docs/swagger-ui-bundle.js"' in html and "http" not in html.split("<body>")[1]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    bundle = client.http.get("/docs/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and b"SwaggerUIBundle" in bundle.body
    initializer = client.http.get("/docs/spoke-docs.js")
    assert b'url: "openapi.json"' in initializer.body
    # And anything else under /docs is a 404 in the envelope
    other = client.http.get("/docs/..%2Fapp.py")
    assert other.status_code == 404 and json.loads(other.body)["error"]["code"] == "NOT_FOUND"



def test_the_document_names_the_stage_it_is_served_under(client: Client) -> None:
    # Given API Gateway's event for GET /openapi.json on its default domain, under the stage `dev`
    from app import app

    event = {"resource": "/openapi.json", "path": "/openapi.json", "httpMethod": "GET",
             "headers": {"host": "abc.execute-api.us-east-1.amazonaws.com"}, "multiValueHeaders": {},
             "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
             "stageVariables": None, "body": None, "isBase64Encoded": False,
             "requestContext": {"resourcePath": "/openapi.json", "httpMethod": "GET", "path": "/dev/openapi.json",
                                "stage": "dev", "requestId": "gw-1", "identity": {"sourceIp": "198.51.100.7"}}}
    # When the app answers it
    answer = app(event, SimpleNamespace(aws_request_id="lambda-1"))
    # Then the document's server is the stage's prefix (Swagger UI's requests keep it); locally it is the root
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["servers"] == [{"url": "/dev"}]
    assert _document(client)["servers"] == [{"url": "/"}]
