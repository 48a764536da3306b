"""The web UI's static files: complete, served under the right base, and never parsing data as HTML."""
from __future__ import annotations

import re

import pytest

from chalicelib.ui.assets import STATIC_DIR, assets, index, ui_base

IMPORT = re.compile(r"""(?:^|\n)\s*import\s[^;]*?from\s+"\./([^"]+)";""")
HTML_SINKS = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function")


@pytest.mark.parametrize(("request_path", "base"), [
    ("/ui", "/ui/"), ("/ui/", "/ui/"), ("/ui/index.html", "/ui/"),      # chalice local
    ("/dev/ui/", "/dev/ui/"), ("/prod/ui", "/prod/ui/"),                # API Gateway: the stage in the path
    ("/registry/v1/ui/", "/registry/v1/ui/"),                           # a custom domain's base path
    (None, "/ui/"), ("/something/else", "/ui/"),
])
def test_the_base_is_where_the_browser_sees_ui(request_path: str | None, base: str) -> None:
    assert ui_base(request_path) == base


def test_the_base_from_the_request_is_escaped_in_the_page() -> None:
    page = index('/x"><script>alert(1)</script>/ui/').body
    assert "<script>alert(1)</script>" not in page
    assert '<base href="/x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;/ui/">' in page


def test_every_module_the_page_loads_is_served() -> None:
    # Given the page's script and everything it imports, transitively
    served = assets()
    wanted, seen = ["app.js"], set()
    while wanted:
        name = wanted.pop()
        assert name in served, f"{name} is imported but not served"
        seen.add(name)
        wanted += [found for found in IMPORT.findall(served[name].body) if found not in seen]
    # Then every JavaScript file of the folder is reached (none is dead), and the stylesheet is served
    assert seen == {name for name in served if name.endswith(".js")}
    assert "style.css" in served and 'href="style.css"' in index("/ui/").body


def test_no_script_parses_text_as_html_or_code() -> None:
    for name, asset in assets().items():
        if name.endswith(".js"):
            assert not [sink for sink in HTML_SINKS if sink in asset.body], name


def test_only_known_text_types_are_served() -> None:
    assert {path.suffix for path in STATIC_DIR.iterdir()} <= {".html", ".js", ".css"}
    assert all(a.content_type.endswith("; charset=utf-8") for a in assets().values())
