"""CORS over real HTTP under `chalice local`: the local stage allows a UI dev server on port 3000."""
from __future__ import annotations

import requests

UI = "http://localhost:3000"


def test_a_browser_on_the_allowed_origin_can_preflight_and_read(api_url: str) -> None:
    # Given the browser's preflight of a signed-in POST from the UI's origin
    preflight = requests.options(f"{api_url}/modules", timeout=30, headers={
        "Origin": UI, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, x-organization-id"})
    # Then chalice local hands it to the app's OPTIONS route, which allows the route's methods and headers
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == UI
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, OPTIONS, POST"
    assert "x-organization-id" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "X-RateLimit-Remaining" not in preflight.headers  # not counted
    # And the request itself can be read by that origin, its rate headers included
    listed = requests.get(f"{api_url}/modules", headers={"Origin": UI}, timeout=30)
    assert listed.status_code == 200 and listed.headers["Access-Control-Allow-Origin"] == UI
    assert "X-RateLimit-Remaining" in listed.headers["Access-Control-Expose-Headers"]
    assert listed.headers["Cache-Control"] == "no-store" and "Origin" in listed.headers["Vary"]
    # While another origin gets no CORS header: the browser blocks it
    other = requests.options(f"{api_url}/modules", timeout=30, headers={
        "Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"})
    assert other.status_code == 204 and "Access-Control-Allow-Origin" not in other.headers
