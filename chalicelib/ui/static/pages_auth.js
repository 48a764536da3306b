// Sign in (password) and create an account.
import {api, saveSession, setOrganization} from "./api.js";
import {add, h, notice} from "./dom.js";

function field(label, props) {
  const id = `f-${props.name}`;
  return h("div", {class: "field"}, h("label", {for: id}, label), h("input", {id, ...props}));
}

function safeNext(query) {
  const next = query.get("next") || "#/";
  return next.startsWith("#/") && !next.startsWith("#/signin") ? next : "#/";
}

export async function signIn(view, _params, query, ctx) {
  document.title = "Sign in · Spoke";
  const errors = h("div", {});
  const form = h("form", {class: "card narrow", novalidate: true},
    field("Email", {name: "email", type: "email", autocomplete: "username", required: true}),
    field("Password", {name: "password", type: "password", autocomplete: "current-password", required: true}),
    h("button", {type: "submit", class: "primary"}, "Sign in"),
    h("p", {class: "muted"}, "No account yet? ", h("a", {href: "#/register"}, "Create one")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.replaceChildren();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const data = await api.post("/auth/login", {email: form.email.value.trim(), password: form.password.value},
        {org: false});
      saveSession(data);
      await ctx.signedIn();
      ctx.navigate(safeNext(query));
    } catch (error) {
      add(errors, notice("error", error.message));
      form.password.focus();
    } finally {
      button.disabled = false;
    }
  });
  add(view, h("h1", {}, "Sign in to Spoke"),
    query.get("expired") ? notice("info", "Your session ended: sign in again.") : null,
    query.get("sso") === "failed" ? notice("error", ssoFailure()) : null, errors, form, ssoForm(query));
  form.email.focus();
}

const SSO_KEY = "spoke.sso";  // the state this tab started a single sign-on with (this tab only)
const SSO_ERROR_KEY = "spoke.sso_error";  // why the last return from the issuer failed (never from the URL)

function ssoFailure() {
  const message = sessionStorage.getItem(SSO_ERROR_KEY) || "Single sign-on did not complete.";
  sessionStorage.removeItem(SSO_ERROR_KEY);
  return message;
}

/** Single sign-on through an organization's OpenID Connect issuer: the issuer sends the browser back
 * to this page with ?code=&state=, which finishSso hands to the registry. */
function ssoForm(query) {
  const errors = h("div", {});
  const form = h("form", {class: "card narrow", id: "sso-form", novalidate: true},
    h("h2", {}, "Single sign-on"),
    field("Organization (its slug)", {name: "org", type: "text", autocomplete: "organization", required: true}),
    h("button", {type: "submit"}, "Continue with SSO"), errors);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.replaceChildren();
    const org = form.org.value.trim();
    if (!org) { errors.append(notice("error", "Enter your organization's slug.")); return; }
    try {
      const started = await api.post(`/auth/sso/${encodeURIComponent(org)}/start`,
        {redirect_uri: `${location.origin}${location.pathname}`}, {org: false});
      sessionStorage.setItem(SSO_KEY, JSON.stringify({state: started.state, next: safeNext(query)}));
      location.assign(started.authorization_url);
    } catch (error) {
      errors.append(notice("error", `${error.code}: ${error.message}`));
    }
  });
  return form;
}

/** Back from the issuer (?code=&state= on the page's URL): exchange them for a session, once. Returns the
 * route to show next, or null when this load is not a return from the issuer. */
export async function finishSso() {
  const params = new URLSearchParams(location.search);
  if (!params.has("state") || !(params.has("code") || params.has("error"))) return null;
  let started = null;
  try { started = JSON.parse(sessionStorage.getItem(SSO_KEY) || "null"); } catch { started = null; }
  sessionStorage.removeItem(SSO_KEY);
  history.replaceState(null, "", `${location.pathname}${location.hash}`);  // the code is used once
  const fail = (message) => {
    sessionStorage.setItem(SSO_ERROR_KEY, message);
    return "#/signin?sso=failed";
  };
  if (params.has("error")) {
    return fail(`The identity provider refused: ${params.get("error_description") || params.get("error")}`);
  }
  if (!started || started.state !== params.get("state")) {
    return fail("This sign-in was not started in this tab: start it again.");  // no login forced on anyone
  }
  try {
    const data = await api.post("/auth/sso/callback", {state: params.get("state"), code: params.get("code")},
      {org: false});
    saveSession(data);
    setOrganization(data.organization && data.organization.slug);
    return started.next || "#/";
  } catch (error) {
    return fail(`${error.code}: ${error.message}`);
  }
}


export async function register(view, _params, _query, ctx) {
  document.title = "Create an account · Spoke";
  const errors = h("div", {});
  const form = h("form", {class: "card narrow", novalidate: true},
    field("Email", {name: "email", type: "email", autocomplete: "username", required: true}),
    field("Password (at least 10 characters, not a common one)", {name: "password", type: "password",
      autocomplete: "new-password", required: true, minlength: "10"}),
    field("First name", {name: "first_name", type: "text", autocomplete: "given-name"}),
    field("Last name", {name: "last_name", type: "text", autocomplete: "family-name"}),
    h("button", {type: "submit", class: "primary"}, "Create account"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.replaceChildren();
    const body = {email: form.email.value.trim(), password: form.password.value,
      first_name: form.first_name.value.trim(), last_name: form.last_name.value.trim()};
    try {
      await api.post("/auth/register", body, {org: false});
      saveSession(await api.post("/auth/login", {email: body.email, password: body.password}, {org: false}));
      await ctx.signedIn();
      ctx.navigate("#/");
    } catch (error) {
      add(errors, notice("error", error.message,
        error.validationErrors.length ? h("ul", {}, error.validationErrors.map((v) => h("li", {}, `${v.field}: ${v.message}`))) : null));
    }
  });
  add(view, h("h1", {}, "Create an account"), errors, form);
}
