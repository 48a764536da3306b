// The single page: hash routes, the header (session, organization switcher) and each page's view.
import {api, forgetSession, organization, session, setOrganization, whenUnauthorized} from "./api.js";
import {clear, h, notice} from "./dom.js";
import * as auth from "./pages_auth.js";
import * as diff from "./pages_diff.js";
import * as modules from "./pages_modules.js";
import * as version from "./pages_version.js";
import * as webhooks from "./pages_webhooks.js";

const ROUTES = [
  [/^\/signin$/, auth.signIn],
  [/^\/register$/, auth.register],
  [/^\/$/, modules.list],
  [/^\/modules\/([^/]+)$/, modules.module],
  [/^\/modules\/([^/]+)\/diff$/, diff.page],
  [/^\/modules\/([^/]+)\/versions\/([^/]+)$/, version.page],
  [/^\/modules\/([^/]+)\/versions\/([^/]+)\/files\/(.+)$/, version.file],
  [/^\/webhooks$/, webhooks.list],
  [/^\/webhooks\/([^/]+)$/, webhooks.detail],
];

let me = null;          // GET /auth/me of the current session (organizations for the switcher)
let rendering = 0;      // the latest navigation; an older page's late answers are dropped with its view

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, query = ""] = raw.split("?", 2);
  return {path: path || "/", query: new URLSearchParams(query)};
}

function decodeSegments(text) {
  return text.split("/").map((part) => decodeURIComponent(part)).join("/");
}

export function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

async function loadMe() {
  if (!session()) { me = null; return; }
  try {
    me = await api.get("/auth/me", {org: false});
  } catch (error) {
    me = null;
  }
  const chosen = organization();
  if (chosen && me && !me.organizations.some((org) => org.slug === chosen || org.id === chosen)) setOrganization("");
}

function renderSession() {
  const box = clear(document.getElementById("session"));
  const current = session();
  if (!current) {
    box.append(h("a", {href: "#/signin", class: "btn"}, "Sign in"));
    return;
  }
  const select = h("select", {id: "org-switcher", "aria-label": "Organization"},
    h("option", {value: ""}, "default (shared)"),
    ...((me && me.organizations) || []).map((org) => h("option", {value: org.slug}, `${org.name} (${org.slug})`)));
  select.value = organization();
  select.addEventListener("change", () => {
    setOrganization(select.value);
    navigate("#/");
  });
  const who = (me && me.user && me.user.email) || current.email || "signed in";
  box.append(h("label", {class: "org", for: "org-switcher"}, "Organization"), select,
    h("span", {class: "who", title: who}, who),
    h("button", {type: "button", class: "small", id: "sign-out", onclick: signOut}, "Sign out"));
}

async function signOut() {
  try { await api.post("/auth/logout", undefined, {org: false}); } catch { /* the session ends here anyway */ }
  forgetSession();
  setOrganization("");
  me = null;
  renderSession();
  navigate("#/signin");
}

export async function signedIn() {
  await loadMe();
  renderSession();
}

export function currentOrganizationLabel() {
  const chosen = organization();
  if (!chosen) return "default";
  const org = me && me.organizations.find((o) => o.slug === chosen || o.id === chosen);
  return org ? org.name : chosen;
}

async function render() {
  const ticket = ++rendering;
  const {path, query} = parseHash();
  const main = document.getElementById("main");
  const view = h("div", {class: "view"});
  clear(main).append(view);
  document.getElementById("status").textContent = "";
  for (const link of document.querySelectorAll(".nav a")) {
    const active = link.getAttribute("href") === `#${path}` || (path.startsWith("/modules") && link.getAttribute("href") === "#/");
    if (active) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  const match = ROUTES.map(([pattern, page]) => [path.match(pattern), page]).find(([found]) => found);
  if (!match) {
    view.append(h("h1", {tabindex: "-1"}, "Page not found"), notice("error", "No page at this address. ",
      h("a", {href: "#/"}, "Back to the modules")));
    return;
  }
  const [found, page] = match;
  const params = found.slice(1).map(decodeSegments);
  try {
    await page(view, params, query, {current: () => ticket === rendering, navigate, signedIn,
      organizationLabel: currentOrganizationLabel});
  } catch (error) {
    if (ticket !== rendering) return;
    view.append(notice("error", h("strong", {}, error.code ? `${error.code}: ` : "Error: "), error.message || String(error)));
  }
  if (ticket === rendering && !query.has("line")) {
    const heading = view.querySelector("h1");
    if (heading && document.activeElement === document.body) { heading.tabIndex = -1; heading.focus({preventScroll: true}); }
  }
}

whenUnauthorized(() => {
  forgetSession();
  me = null;
  renderSession();
  const back = location.hash && !location.hash.startsWith("#/signin") ? location.hash : "#/";
  navigate(`#/signin?expired=1&next=${encodeURIComponent(back)}`);
});

window.addEventListener("hashchange", () => { document.activeElement?.blur?.(); render(); });
document.getElementById("skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  document.getElementById("main").focus();
});
auth.finishSso().then(async (next) => {
  if (next) history.replaceState(null, "", `${location.pathname}${next}`);
  await signedIn();
  await render();
});
