"""Browser fixtures: the registry exactly as `make run` starts it (tests/e2e's `stack`), Debian's
Chromium driven by Playwright, and the data a person would find there.

Chromium is Debian's package, launched by its path (Playwright downloads no browser); the session
installs it with apt-get when it is missing (as root, as `make toolchains` does for its compilers).
Screenshots of every page, at desktop and at a phone's width, go to build/screenshots/.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, sync_playwright

from localdev.stack import Stack, free_port, running_stack
from tests.e2e.conftest import NOT_ABOUT_PLANS, PASSWORD, api_url  # noqa: F401 - api_url: the e2e fixture
from tests.integration.test_webhooks_receiver import Receiver, running_receiver

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
COMPILE_WAIT_SECONDS = 90


@pytest.fixture(scope="session")
def other_origin() -> Iterator[str]:
    """A page on another origin of this machine (a web app that calls the registry from the browser)."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            body = b"<!doctype html><title>another app</title><p>app</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def stack(other_origin: str) -> Iterator[Stack]:
    """The e2e suite's stack (running_stack, its settings), allowing that other origin by CORS as well."""
    allowed = f"{other_origin},http://localhost:3000"
    with running_stack(api_port=free_port(), aws_port=free_port(), quiet=True,
                       environment={**NOT_ABOUT_PLANS, "SPOKE_CORS_ALLOWED_ORIGINS": allowed}) as running:
        yield running


def ensure_chromium() -> str:
    """Debian's chromium, installed when missing (a no-op once it is there)."""
    if not CHROMIUM.exists():
        apt = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], env=apt, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=apt, check=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], env=apt, check=True)
    assert CHROMIUM.exists(), "apt-get did not install /usr/bin/chromium"
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = ensure_chromium()
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, api_url: str) -> Iterator[Page]:  # noqa: F811 - the fixture imported above
    """A fresh browser profile (no session saved) at desktop size; the UI's errors fail the test."""
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.set_default_timeout(15_000)
    yield opened
    context.close()
    assert errors == [], f"the page raised: {errors}"


def shoot(page: Page, name: str) -> None:
    """Screenshots at desktop and phone width; at the phone's width nothing may scroll sideways."""
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(100)  # one layout at the new width
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(DESKTOP)
    assert overflow <= PHONE["width"], f"{name} is {overflow}px wide at a phone's {PHONE['width']}px"


def call(api_url: str, method: str, path: str, token: str | None = None,  # noqa: F811
         org: str | None = None, body: Any = None) -> requests.Response:
    headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **({"X-Organization-ID": org} if org else {})}
    return requests.request(method, f"{api_url}{path}", json=body, headers=headers, timeout=60)


USER_V1 = """syntax = "proto3";
package acme.user.v1;

import "acme/user/v1/types.proto";

// A person with an account.
message User {
  string id = 1;
  string email = 2;
  Money balance = 3;
}
"""
USER_V2 = """syntax = "proto3";
package acme.user.v1;

import "acme/user/v1/types.proto";

// A person with an account.
// The email moved to the contact service.
message User {
  string id = 1;
  Money balance = 3;
}
"""
TYPES = 'syntax = "proto3";\npackage acme.user.v1;\n\nmessage Money {\n  int64 units = 1;\n  string currency = 2;\n}\n'
ORDERS = ('syntax = "proto3";\npackage acme.orders.v1;\n\nimport "acme/user/v1/user.proto";\n\n'
          'message Order {\n  string id = 1;\n  acme.user.v1.User buyer = 2;\n}\n')
NOGO = {"a.proto": 'syntax = "proto3";\noption go_package = "example.com/x;a";\nmessage A { int32 x = 1; }\n',
        "b.proto": 'syntax = "proto3";\noption go_package = "example.com/x;b";\nmessage B { int32 x = 1; }\n'}
HOSTILE_DESCRIPTION = '<img src=x onerror="window.__xss = 1">Users & accounts <script>window.__xss = 2</script>'
HOSTILE_ORG_NAME = 'Acme <b onmouseover="window.__xss=3">Schemas</b> & "Co"'
FILLERS = 21  # with `user`, `orders`, `nogo` and `catalog`: 25 modules, two pages of 20
CATALOG_FILES = 35  # a long file list: the version page offers a filter


@dataclass
class World:
    """What a person finds in the registry: a team with modules, versions and a failed compile."""

    api_url: str
    email: str
    token: str
    org_slug: str
    org_name: str
    empty_org_slug: str
    default_module: str  # a module of the shared default organization (the README's browser example)

    def call(self, method: str, path: str, body: Any = None, org: str | None = "team") -> requests.Response:
        return call(self.api_url, method, path, self.token, self.org_slug if org == "team" else org, body)

    def compiled(self, module: str, version: str, org: str | None = "team") -> dict[str, Any]:
        """The version's compile statuses once every language is done."""
        deadline = time.monotonic() + COMPILE_WAIT_SECONDS
        while True:
            statuses = self.call("GET", f"/modules/{module}/versions/{version}", org=org).json()["data"]["compilation"]
            if statuses and all(s["status"] in ("succeeded", "failed") for s in statuses.values()):
                return statuses
            assert time.monotonic() < deadline, f"{module}@{version} did not compile within {COMPILE_WAIT_SECONDS}s"
            time.sleep(0.5)


def _created(reply: requests.Response) -> dict[str, Any]:
    assert reply.status_code in (200, 201), reply.text
    return reply.json()["data"]


@pytest.fixture(scope="session")
def world(api_url: str) -> World:  # noqa: F811
    email = f"ui-{uuid.uuid4().hex[:10]}@example.com"
    _created(call(api_url, "POST", "/auth/register", body={"email": email, "password": PASSWORD,
                                                            "first_name": "Ada", "last_name": "Browser"}))
    token = _created(call(api_url, "POST", "/auth/login", body={"email": email, "password": PASSWORD}))["token"]
    slug = f"team-{uuid.uuid4().hex[:8]}"
    _created(call(api_url, "POST", "/organizations", token, body={"name": HOSTILE_ORG_NAME, "slug": slug}))
    empty = f"empty-{uuid.uuid4().hex[:8]}"
    _created(call(api_url, "POST", "/organizations", token, body={"name": "Empty team", "slug": empty}))
    default_module = f"readme-{uuid.uuid4().hex[:8]}"
    world = World(api_url, email, token, slug, HOSTILE_ORG_NAME, empty, default_module)
    _created(world.call("POST", "/modules", {"name": "user", "description": HOSTILE_DESCRIPTION,
                                             "compatibility": {"mode": "NONE"}}))
    for version, user in (("v1.0.0", USER_V1), ("v1.2.0", USER_V2), ("v1.10.0", USER_V2)):
        _created(world.call("POST", "/modules/user/versions", {"version": version, "files": {
            "acme/user/v1/user.proto": user, "acme/user/v1/types.proto": TYPES}}))
    _created(world.call("POST", "/modules", {"name": "orders", "description": "Orders of users"}))
    _created(world.call("POST", "/modules/orders/versions", {"version": "v1.0.0", "files": {
        "acme/orders/v1/orders.proto": ORDERS}, "dependencies": ["user@v1.0.0"]}))
    _created(world.call("POST", "/modules", {"name": "nogo", "description": "Two Go package names in one path"}))
    _created(world.call("POST", "/modules/nogo/versions", {"version": "v1.0.0", "files": NOGO}))
    _created(world.call("POST", "/modules", {"name": "catalog", "description": "Many small files"}))
    _created(world.call("POST", "/modules/catalog/versions", {"version": "v1.0.0", "files": {
        f"catalog/v1/item_{index:02d}.proto": f'syntax = "proto3";\npackage catalog.v1;\nmessage Item{index:02d} {{}}\n'
        for index in range(CATALOG_FILES)}}))
    for index in range(FILLERS):
        _created(world.call("POST", "/modules", {"name": f"svc-{index:02d}", "description": f"Filler service {index}"}))
    _created(world.call("POST", "/modules", {"name": default_module}, org=None))
    _created(world.call("POST", f"/modules/{default_module}/versions",
                        {"version": "v1.0.0", "files": {"user.proto": TYPES}}, org=None))
    return world


@pytest.fixture
def signed_in(page: Page, api_url: str, world: World) -> Page:  # noqa: F811
    """Given the team's member signed in through the form, with the team chosen in the switcher."""
    page.goto(f"{api_url}/ui/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill(world.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#org-switcher").select_option(world.org_slug)
    page.get_by_role("heading", name=f"Modules in {world.org_name}").wait_for()
    return page


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as started:
        yield started


def no_script_ran(page: Page) -> bool:
    return page.evaluate("window.__xss === undefined")

