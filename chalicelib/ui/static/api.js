// The public API, same origin: its root is the parent of /ui/ (stage or base path included).

export const apiRoot = new URL("../", document.baseURI);
const SESSION_KEY = "spoke.session";
const ORG_KEY = "spoke.organization";

export class ApiError extends Error {
  constructor(status, code, message, details, validationErrors) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
    this.validationErrors = validationErrors || [];
  }
}

export function session() {
  try {
    const saved = JSON.parse(localStorage.getItem(SESSION_KEY) || "null");
    if (saved && saved.token && (!saved.expires_at || Date.parse(saved.expires_at) > Date.now())) return saved;
  } catch { /* a damaged entry is no session */ }
  return null;
}

export function saveSession(data) {
  localStorage.setItem(SESSION_KEY, JSON.stringify({token: data.token, expires_at: data.expires_at,
    email: data.user && data.user.email}));
}

export function forgetSession() {
  localStorage.removeItem(SESSION_KEY);
}

/** The organization chosen in the switcher: its slug, or "" for the shared default organization. */
export function organization() {
  return localStorage.getItem(ORG_KEY) || "";
}

export function setOrganization(slug) {
  if (slug) localStorage.setItem(ORG_KEY, slug);
  else localStorage.removeItem(ORG_KEY);
}

export function apiUrl(path, query) {
  const url = new URL(path.replace(/^\//, ""), apiRoot);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
  }
  return url;
}

/** Encode each segment of a module, version or file path for a URL path. */
export function seg(...parts) {
  return parts.map((p) => String(p).split("/").map(encodeURIComponent).join("/")).join("/");
}

function headers(extra, {org = true} = {}) {
  const sent = new Headers(extra || {});
  const current = session();
  if (current) sent.set("Authorization", `Bearer ${current.token}`);
  const chosen = organization();
  if (org && chosen) sent.set("X-Organization-ID", chosen);
  return sent;
}

let onUnauthorized = () => {};
export function whenUnauthorized(callback) { onUnauthorized = callback; }

async function send(method, path, {query, body, accept, org, raw} = {}) {
  const init = {method, headers: headers(accept ? {Accept: accept} : {}, {org})};
  if (body !== undefined) {
    init.headers.set("Content-Type", "application/json");
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(apiUrl(path, query), init);
  } catch (error) {
    throw new ApiError(0, "NETWORK_ERROR", "The registry could not be reached: check your connection and retry");
  }
  if (raw && response.ok) return response;
  if (response.status === 204) return null;
  let parsed = null;
  try { parsed = await response.json(); } catch { parsed = null; }
  if (!response.ok || (parsed && parsed.error)) {
    const error = (parsed && parsed.error) || {};
    const failure = new ApiError(response.status, error.code || `HTTP_${response.status}`,
      error.message || `The registry answered ${response.status}`, error.details, error.validation_errors);
    if (response.status === 401 && session()) onUnauthorized(failure);
    throw failure;
  }
  return {data: parsed ? parsed.data : null, status: response.status, headers: response.headers};
}

export const api = {
  get: (path, options) => send("GET", path, options).then((r) => r.data),
  getFull: (path, options) => send("GET", path, options),
  post: (path, body, options) => send("POST", path, {...options, body}).then((r) => (r ? r.data : null)),
  patch: (path, body, options) => send("PATCH", path, {...options, body}).then((r) => (r ? r.data : null)),
  delete: (path, options) => send("DELETE", path, options),
  text: async (path) => (await send("GET", path, {raw: true})).text(),
};
