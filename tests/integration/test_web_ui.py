"""The web UI's files as the app serves them under /ui/ (the pages themselves: tests/browser)."""
from __future__ import annotations

import pytest

from tests.integration.api import Api


def test_the_page_is_html_with_its_base_at_ui_and_a_strict_content_security_policy(api: Api) -> None:
    # When a browser opens /ui/
    page = api.get("/ui/")
    # Then it gets the page, whose relative URLs resolve under /ui/, allowed to run only its own scripts
    assert page.status == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'<base href="/ui/">' in page.raw and b'<script type="module" src="app.js">' in page.raw
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "default-src 'none'" in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["X-Frame-Options"] == "DENY"
    # And /ui without the slash is the same page
    assert api.get("/ui").raw == page.raw


@pytest.mark.parametrize(("asset", "content_type"), [("app.js", "text/javascript; charset=utf-8"),
                                                     ("style.css", "text/css; charset=utf-8")])
def test_assets_have_their_type_and_revalidate_by_etag(api: Api, asset: str, content_type: str) -> None:
    first = api.get(f"/ui/{asset}")
    assert first.status == 200 and first.headers["Content-Type"] == content_type
    assert first.headers["Cache-Control"] == "no-cache" and first.headers["ETag"]
    again = api.get(f"/ui/{asset}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304 and not again.raw


def test_ui_files_are_not_rate_counted(api: Api) -> None:
    reply = api.get("/ui/app.js")
    assert not any(name.lower().startswith("x-ratelimit") for name in reply.headers)


@pytest.mark.parametrize("name", ["nope.js", "..%2Fapp.py", "__init__.py", "assets.py", "%2e%2e"])
def test_an_unknown_asset_is_a_404_envelope(api: Api, name: str) -> None:
    reply = api.get(f"/ui/{name}")
    assert reply.status == 404 and reply.code == "NOT_FOUND"
