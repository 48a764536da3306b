"""The API's OpenAPI 3.1 description, built from the code when `/openapi.json` is first asked for.

`models` holds the pydantic models of every request and response body, `operations` what each route
takes and answers (its error classes come from `chalicelib.domain.errors`, their statuses from
`chalicelib.api.errors`), and `document` assembles them against the app's own route table. Nothing
here is imported by a cold start: `chalicelib/api/openapi.py` imports it inside its views.
"""
