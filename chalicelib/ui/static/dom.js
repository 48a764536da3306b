// Building the DOM without ever parsing data as HTML: every value becomes a text node or a property.

/** h("a", {href: "#/x", class: "btn"}, "text", child): an element; strings become text nodes. */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") element.addEventListener(key.slice(2), value);
    else if (key in element && typeof value !== "string") element[key] = value;
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function clear(element) {
  element.replaceChildren();
  return element;
}

/** A route link: "#/" + path segments, each encoded (names and paths are user text). */
export function route(...segments) {
  return "#/" + segments.map((s) => String(s).split("/").map(encodeURIComponent).join("/")).join("/");
}

export function withQuery(hash, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${hash}?${text}` : hash;
}

export function formatBytes(size) {
  if (typeof size !== "number") return "";
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${unit ? value.toFixed(1) : value} ${units[unit]}`;
}

export function formatTime(text) {
  if (!text) return "";
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? String(text) : date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/** A notice in the page: kind "error" is announced at once (role=alert). */
export function notice(kind, ...children) {
  return h("div", {class: `notice ${kind}`, role: kind === "error" ? "alert" : "note"}, ...children);
}

export function emptyState(text, ...more) {
  return h("div", {class: "empty"}, h("p", {}, text), ...more);
}

/** A snippet with a Copy button (the clipboard when the browser grants it, else the text selected). */
export function copyable(label, text) {
  const code = h("code", {}, text);
  const status = h("span", {class: "copied", "aria-live": "polite"});
  const button = h("button", {type: "button", class: "small", "aria-label": `Copy: ${label}`}, "Copy");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = "Copied";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(code);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      status.textContent = "Selected: press Ctrl+C";
    }
  });
  return h("div", {class: "snippet"}, h("div", {class: "snippet-head"}, h("span", {}, label), button, status),
    h("pre", {}, code));
}

/** parent.append(...) that skips null, undefined and false (the DOM's own append writes "null"). */
export function add(parent, ...children) {
  return append(parent, children);
}
