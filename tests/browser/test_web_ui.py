"""The web UI used as a person uses it: Debian's Chromium against the registry `make run` starts."""
from __future__ import annotations

import hashlib
import io
import json
import re
import time
import zipfile

from playwright.sync_api import Page, expect

from tests.browser.conftest import CATALOG_FILES, NOGO, PASSWORD, USER_V2, World, no_script_ran, shoot
from tests.integration.test_webhooks_receiver import Receiver
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider


def test_sign_in_then_find_a_module_by_search_and_page_through_the_list(signed_in: Page, world: World) -> None:
    page = signed_in
    # Given the team chosen in the switcher, its name shown as text (it holds markup)
    expect(page.locator("h1")).to_have_text(f"Modules in {world.org_name}")
    assert no_script_ran(page) and page.locator("h1 b").count() == 0
    # Then the first page shows 20 of the 25 modules, and the next page the other 5
    expect(page.locator("#result-count")).to_have_text("25 modules")
    expect(page.locator("#module-list > li")).to_have_count(20)
    shoot(page, "modules")
    page.get_by_role("link", name="Next →").click()
    expect(page.locator("#module-list > li")).to_have_count(5)
    expect(page.locator(".pager")).to_contain_text("Page 2 of 2")
    # When they search for a description word
    page.get_by_label("Search modules").fill("accounts")
    page.get_by_role("button", name="Search").click()
    # Then only the module whose description holds it is listed, its description shown as text
    expect(page.locator("#module-list > li")).to_have_count(1)
    expect(page.locator("#module-list a.title")).to_have_text("user")
    expect(page.locator("#module-list .description")).to_contain_text('<img src=x onerror="window.__xss = 1">Users')
    assert no_script_ran(page) and page.locator("#module-list img, #module-list script").count() == 0
    shoot(page, "search")
    # And a search that matches nothing says so
    page.get_by_label("Search modules").fill("zebra")
    page.keyboard.press("Enter")
    expect(page.locator(".empty")).to_contain_text("No module matches “zebra”")


def test_the_module_page_lists_versions_in_semver_order_with_policy_and_dependents(signed_in: Page) -> None:
    page = signed_in
    page.get_by_label("Search modules").fill("user")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="user", exact=True).click()
    # Then the versions are highest first by semver (v1.10.0 above v1.2.0), the policy and the dependents shown
    expect(page.locator("#version-list > li > a")).to_have_text(["v1.10.0", "v1.2.0", "v1.0.0"])
    expect(page.locator("#module-description")).to_contain_text("<script>window.__xss = 2</script>")
    expect(page.locator(".pairs")).to_contain_text("NONE")
    expect(page.locator("#dependents")).to_contain_text("orders@v1.0.0")
    assert no_script_ran(page)
    shoot(page, "module")


def test_open_a_version_read_a_file_and_follow_a_line_anchor(signed_in: Page, world: World) -> None:
    page = signed_in
    page.goto(f"{world.api_url}/ui/#/modules/user")
    page.get_by_role("link", name="v1.0.0", exact=True).click()
    # Then the version shows its file tree, its compile status, and copyable CLI and curl snippets
    expect(page.locator("h1")).to_have_text("user@v1.0.0")
    expect(page.locator("main")).not_to_contain_text("null")  # no description: nothing shown for it
    expect(page.locator("#file-tree summary")).to_have_text(["acme/", "user/", "v1/"])
    expect(page.locator("#file-tree li.file a")).to_have_text(["types.proto", "user.proto"])
    snippets = page.locator(".snippet pre")
    expect(snippets.first).to_have_text(f"spoke --url '{world.api_url}' --org '{world.org_slug}' pull user@v1.0.0")
    expect(snippets.nth(3)).to_contain_text(f"-H 'X-Organization-ID: {world.org_slug}'")
    shoot(page, "version")
    # When they open a file
    page.get_by_role("link", name="user.proto").click()
    # Then its lines are numbered and highlighted
    expect(page.locator("h1")).to_have_text("acme/user/v1/user.proto")
    expect(page.locator("#source tr")).to_have_count(11)
    expect(page.locator("#L7 .tok-keyword")).to_have_text("message")
    expect(page.locator("#L6 .tok-comment")).to_have_text("// A person with an account.")
    expect(page.locator("#L1 .tok-string")).to_have_text('"proto3"')
    # And a line number is a link to that line, which a reload keeps
    page.get_by_role("link", name="Line 9", exact=True).click()
    expect(page).to_have_url(re.compile(r"files/acme/user/v1/user\.proto\?line=9$"))
    expect(page.locator("#L9")).to_have_class(re.compile(r"\btarget\b"))
    page.reload()
    expect(page.locator("#L9")).to_have_class(re.compile(r"\btarget\b"))
    shoot(page, "file")


def test_a_diff_shows_the_deleted_field_as_a_breaking_finding_at_its_line(signed_in: Page, world: World) -> None:
    page = signed_in
    page.goto(f"{world.api_url}/ui/#/modules/user")
    # When they compare v1.0.0 with v1.2.0 (the email field deleted)
    page.locator("#diff-from").select_option("v1.0.0")
    page.locator("#diff-to").select_option("v1.2.0")
    page.get_by_role("button", name="Show diff").click()
    # Then the check names the breaking change, inline right below the line it points at in the new file
    expect(page.locator("#verdict")).to_contain_text("1 breaking change")
    finding = page.locator('.finding-row .finding[data-rule="FIELD_NO_DELETE"]')
    expect(finding).to_have_count(1)
    expect(finding).to_contain_text('Previously present field "2" with name "email" on message "User" was deleted.')
    message_line = USER_V2.splitlines().index("message User {") + 1
    row = page.locator(".finding-row")
    expect(row).to_have_attribute("data-line", str(message_line))
    line_above = page.locator(f'.file-diff[data-path="acme/user/v1/user.proto"] tr.d[data-new-line="{message_line}"]')
    expect(line_above).to_contain_text("message User {")
    assert line_above.evaluate("row => row.nextElementSibling.classList.contains('finding-row')")
    # And the diff itself: the deleted line and the added comment, the unchanged file not listed
    expect(page.locator(".d-del")).to_contain_text(["string email = 2;"])
    expect(page.locator(".d-add")).to_contain_text(["// The email moved to the contact service."])
    expect(page.locator("#diff-summary")).to_have_text("1 file changed, 1 unchanged")
    shoot(page, "diff")


def test_download_the_python_zip_of_a_compiled_version(signed_in: Page, world: World) -> None:
    page = signed_in
    statuses = world.compiled("user", "v1.0.0")
    assert statuses["python"]["status"] == "succeeded"
    page.goto(f"{world.api_url}/ui/#/modules/user/versions/v1.0.0")
    expect(page.locator('tr[data-language="python"] .state')).to_have_text("succeeded")
    with page.expect_download() as started:
        page.get_by_role("button", name="Download python ZIP").click()
    download = started.value
    body = open(download.path(), "rb").read()
    # Then the bytes are the ZIP the registry compiled: its sha256, the module's Python code and manifest
    assert hashlib.sha256(body).hexdigest() == statuses["python"]["sha256"].removeprefix("sha256:")
    archive = zipfile.ZipFile(io.BytesIO(body))
    names = set(archive.namelist())
    assert {"acme/user/v1/user_pb2.py", "acme/user/v1/types_pb2.py", "spoke-manifest.json"} <= names, names
    manifest = json.loads(archive.read("spoke-manifest.json"))
    assert (manifest["module"], manifest["version"], manifest["language"]) == ("user", "v1.0.0", "python")


def test_a_compile_failure_is_shown_with_protocs_message_and_no_download(signed_in: Page, world: World) -> None:
    page = signed_in
    statuses = world.compiled("nogo", "v1.0.0")
    assert statuses["go"]["status"] == "failed"
    page.goto(f"{world.api_url}/ui/#/modules/nogo/versions/v1.0.0")
    go = page.locator('tr[data-language="go"]')
    expect(go.locator(".state")).to_have_text("failed")
    expect(go).to_contain_text("no download")
    expect(go.get_by_role("button")).to_have_count(0)
    go.get_by_text("Why it failed").click()
    expect(go.locator("pre")).to_contain_text("inconsistent names")
    expect(page.locator('tr[data-language="python"] button')).to_have_text("Download ZIP")
    shoot(page, "compile-failure")


def test_the_compile_status_updates_without_a_reload(signed_in: Page, world: World) -> None:
    # Given a version published a moment ago, its page open while it compiles
    reply = world.call("POST", "/modules/nogo/versions", {"version": "v1.1.0", "files": NOGO})
    assert reply.status_code == 201, reply.text
    page = signed_in
    page.goto(f"{world.api_url}/ui/#/modules/nogo/versions/v1.1.0")
    expect(page.locator("h1")).to_have_text("nogo@v1.1.0")
    page.evaluate("window.__same_page = true")
    # Then, with nobody reloading, every language ends succeeded or failed and the downloads appear
    expect(page.locator('tr[data-language="python"] .state')).to_have_text("succeeded", timeout=90_000)
    expect(page.locator('tr[data-language="go"] .state')).to_have_text("failed", timeout=90_000)
    expect(page.locator(".state-pending, .state-running")).to_have_count(0, timeout=90_000)
    assert page.evaluate("window.__same_page") is True


def test_a_long_file_list_can_be_filtered(signed_in: Page, world: World) -> None:
    page = signed_in
    page.goto(f"{world.api_url}/ui/#/modules/catalog/versions/v1.0.0")
    files = page.locator("#file-tree li.file")
    expect(files).to_have_count(CATALOG_FILES)
    page.get_by_label("Filter files").fill("item_3")
    expect(page.locator("#file-tree li.file:visible a")).to_have_text([f"item_3{i}.proto" for i in range(5)])
    page.get_by_label("Filter files").fill("")
    expect(page.locator("#file-tree li.file:visible")).to_have_count(CATALOG_FILES)


def test_the_version_page_shows_dependencies(signed_in: Page, world: World) -> None:
    page = signed_in
    page.goto(f"{world.api_url}/ui/#/modules/orders/versions/v1.0.0")
    expect(page.locator("#dependencies a")).to_have_text(["user@v1.0.0"])
    page.get_by_role("link", name="user@v1.0.0").click()
    expect(page.locator("h1")).to_have_text("user@v1.0.0")


def test_webhook_admin_pings_and_redelivers(signed_in: Page, world: World, receiver: Receiver) -> None:
    page = signed_in
    page.get_by_role("link", name="Webhooks").click()
    expect(page.locator(".empty")).to_contain_text("No webhooks yet")
    shoot(page, "webhooks")
    # When an admin adds a webhook for pings only
    page.get_by_label("Payload URL").fill(receiver.url)
    page.get_by_label(re.compile("^Secret")).fill("ui-webhook-secret-0123456789")
    page.get_by_label("every event (*)").uncheck()
    page.get_by_label("webhook.ping").check()
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("h1")).to_have_text(receiver.url)
    # And sends a ping
    page.get_by_role("button", name="Send a ping").click()
    deliveries = page.locator("#delivery-list > li.delivery")
    _refresh_until(page, lambda: page.locator('#delivery-list > li[data-status="succeeded"]').count() == 1)
    assert len(receiver.received) == 1
    # Then redelivering it sends the same event again, listed as a redelivery
    deliveries.first.get_by_role("button", name=re.compile("^Redeliver")).click()
    expect(page.locator(".notice.ok")).to_contain_text("Queued a redelivery of webhook.ping")
    _refresh_until(page, lambda: page.locator('#delivery-list > li[data-status="succeeded"]').count() == 2)
    expect(deliveries.first).to_contain_text("redelivery of")
    assert len(receiver.received) == 2
    first, again = (json.loads(received.body) for received in receiver.received)
    assert first["id"] == again["id"] and first["event"] == again["event"] == "webhook.ping"
    shoot(page, "webhook")
    # And pausing it says so
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("p.meta").first).to_contain_text("paused")
    expect(page.get_by_role("button", name="Activate")).to_be_visible()
    # And the list of webhooks shows it
    page.get_by_role("link", name="Webhooks", exact=True).first.click()
    expect(page.locator("#webhook-list a.title")).to_have_text([receiver.url])


def _refresh_until(page: Page, done: object, seconds: float = 45) -> None:
    deadline = time.monotonic() + seconds
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not shown within {seconds}s"
        page.wait_for_timeout(500)
        page.get_by_role("button", name="Refresh").click()
        # the list says it is settled once the refreshed answer is shown (the page's fetch is not a page load)
        expect(page.locator("#delivery-list")).to_have_attribute("aria-busy", "false")


def test_empty_states_and_errors_are_explained(signed_in: Page, world: World) -> None:
    page = signed_in
    page.locator("#org-switcher").select_option(world.empty_org_slug)
    expect(page.locator(".empty")).to_contain_text("No modules here yet.")
    shoot(page, "empty")
    page.goto(f"{world.api_url}/ui/#/modules/no-such-module")
    expect(page.get_by_role("alert")).to_contain_text("MODULE_NOT_FOUND")
    page.goto(f"{world.api_url}/ui/#/nowhere")
    expect(page.locator("h1")).to_have_text("Page not found")
    shoot(page, "not-found")


def test_keyboard_only_search_and_open(page: Page, world: World) -> None:
    # Given the shared default organization, read without signing in
    page.goto(f"{world.api_url}/ui/")
    expect(page.locator("h1")).to_have_text("Modules in default")
    expect(page.locator("h1")).to_be_focused()
    # When a person tabs to the search box, types and presses Enter, then tabs to the result and presses Enter
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "module-search":
            break
    assert page.evaluate("document.activeElement.id") == "module-search"
    page.keyboard.type(world.default_module)
    page.keyboard.press("Enter")
    expect(page.locator("#module-list a.title")).to_have_text([world.default_module])
    expect(page.locator("h1")).to_be_focused()  # the new page's heading: the next Tab goes on from there
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == world.default_module:
            break
    assert page.evaluate("document.activeElement.textContent") == world.default_module
    page.keyboard.press("Enter")
    # Then the module's page opens, its heading focused for screen readers
    expect(page.locator("h1")).to_have_text(world.default_module)
    expect(page.locator("h1")).to_be_focused()


def test_create_an_account_from_the_sign_in_page(page: Page, world: World) -> None:
    page.goto(f"{world.api_url}/ui/#/signin")
    page.get_by_role("link", name="Create one").click()
    shoot(page, "register")
    email = f"new-{time.monotonic_ns()}@example.com"
    page.get_by_label("Email").fill(email)
    # A weak password is refused with the registry's reason
    page.get_by_label(re.compile("^Password")).fill("password")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("password")
    page.get_by_label(re.compile("^Password")).fill(PASSWORD)
    page.get_by_label("First name").fill("Grace")
    page.get_by_role("button", name="Create account").click()
    # Then they are signed in, in the shared default organization
    expect(page.locator("#sign-out")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Modules in default")


def test_an_ended_session_asks_to_sign_in_again_and_returns_to_the_page(page: Page, world: World) -> None:
    # Given a browser holding a session the registry no longer accepts
    page.add_init_script("""if (!sessionStorage.getItem('seeded')) {
      sessionStorage.setItem('seeded', '1');
      localStorage.setItem('spoke.session', JSON.stringify({token: 'revoked.or.forged', email: 'x'}));
    }""")
    page.goto(f"{world.api_url}/ui/#/modules/{world.default_module}")
    # Then the sign-in page says why, and signing in leads back to the page they were on
    expect(page.get_by_role("note").filter(has_text="Your session ended")).to_be_visible()
    page.get_by_label("Email").fill(world.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text(world.default_module)


def test_sign_in_errors_and_sign_out(page: Page, world: World) -> None:
    page.goto(f"{world.api_url}/ui/#/signin")
    shoot(page, "signin")
    page.get_by_label("Email").fill(world.email)
    page.get_by_label("Password").fill("not-the-password-at-all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#sign-out")).to_be_visible()
    page.locator("#sign-out").click()
    expect(page.get_by_role("heading", name="Sign in to Spoke")).to_be_visible()
    assert page.evaluate("localStorage.getItem('spoke.session')") is None


def test_the_readmes_browser_example_works_from_an_allowed_origin_only(page: Page, world: World,
                                                                      other_origin: str) -> None:
    # Given a page of a web app on another origin, one the deployment allows (SPOKE_CORS_ALLOWED_ORIGINS)
    page.goto(f"{other_origin}/")
    # When it runs the README's snippet against the registry
    example = f"""async () => {{
      const res = await fetch("{world.api_url}/modules/{world.default_module}/versions/v1.0.0");
      const {{ data }} = await res.json();
      return data.files.map(f => `${{f.path}} ${{f.checksum}}`);
    }}"""
    files = page.evaluate(example)
    # Then it reads the answer
    assert len(files) == 1 and files[0].startswith("user.proto sha256:")
    # And the same page on an origin the deployment does not allow (another host name) is refused by the browser
    page.goto(other_origin.replace("127.0.0.1", "localhost") + "/")
    refused = page.evaluate(f"() => ({example})().then(() => 'read', (error) => error.name)")
    assert refused == "TypeError"


def test_single_sign_on_through_the_organizations_issuer(page: Page, world: World) -> None:
    # Given the team's admin connected the team to its OpenID Connect issuer
    with OidcProvider(email=f"sso-{time.monotonic_ns()}@example.com") as provider:
        configured = world.call("PUT", f"/organizations/{world.org_slug}/sso", {
            "issuer": provider.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "allowed_domains": ["example.com"], "default_role": "developer"})
        assert configured.status_code == 200, configured.text
        # When a colleague chooses single sign-on with the team's slug
        page.goto(f"{world.api_url}/ui/#/signin")
        page.get_by_label("Organization (its slug)").fill(world.org_slug)
        page.get_by_role("button", name="Continue with SSO").click()
        # Then the issuer sends them back signed in, in the team, the one-time code gone from the address
        expect(page.locator("#sign-out")).to_be_visible()
        expect(page.locator("h1")).to_have_text(f"Modules in {world.org_name}")
        assert "code=" not in page.url and "state=" not in page.url
        expect(page.locator(".who")).to_have_text(provider.email)


def test_a_return_from_an_issuer_this_tab_did_not_start_signs_nobody_in(page: Page, world: World) -> None:
    # Given a link that carries someone else's code and state (a forced login)
    page.goto(f"{world.api_url}/ui/?code=stolen-code&state=someone-elses-state")
    # Then nothing is exchanged: the sign-in page says why, and nobody is signed in
    expect(page.get_by_role("alert")).to_contain_text("not started in this tab")
    assert page.evaluate("localStorage.getItem('spoke.session')") is None
    assert "code=" not in page.url
