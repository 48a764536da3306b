// A version: file tree, compile status with downloads, dependencies, CLI and curl snippets; a file view.
import {api, apiRoot, apiUrl, organization, seg} from "./api.js";
import {add, copyable, emptyState, formatBytes, formatTime, h, notice, route, withQuery} from "./dom.js";
import {highlightLines, lineNodes} from "./highlight.js";

const fileCache = new Map();  // pinned versions never change: a file read once is kept for the page's life

function crumbs(name, version, ...rest) {
  return h("nav", {class: "crumbs", "aria-label": "Breadcrumb"}, h("a", {href: "#/"}, "Modules"), " / ",
    h("a", {href: route("modules", name)}, name), " / ",
    rest.length ? h("a", {href: route("modules", name, "versions", version)}, version) : version,
    ...rest.flatMap((part) => [" / ", part]));
}

/** Paths as a nested tree: {dirs: Map(name -> tree), files: [entry]}. */
function buildTree(files) {
  const root = {dirs: new Map(), files: []};
  for (const file of files) {
    const parts = file.path.split("/");
    let node = root;
    for (const dir of parts.slice(0, -1)) {
      if (!node.dirs.has(dir)) node.dirs.set(dir, {dirs: new Map(), files: []});
      node = node.dirs.get(dir);
    }
    node.files.push({...file, name: parts[parts.length - 1]});
  }
  return root;
}

function treeList(node, name, version) {
  const items = [];
  for (const [dir, child] of [...node.dirs.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    items.push(h("li", {class: "dir"}, h("details", {open: true}, h("summary", {}, `${dir}/`), treeList(child, name, version))));
  }
  for (const file of node.files.sort((a, b) => a.name.localeCompare(b.name))) {
    items.push(h("li", {class: "file"}, h("a", {href: route("modules", name, "versions", version, "files", file.path)}, file.name),
      h("span", {class: "meta"}, ` ${formatBytes(file.size)}`)));
  }
  return h("ul", {class: "tree"}, items);
}

function shellQuote(text) {
  return `'${String(text).replace(/'/g, "'\\''")}'`;
}

async function download(name, version, language, button, status) {
  button.disabled = true;
  status.textContent = "Preparing the download…";
  try {
    const reply = await api.getFull(`/modules/${seg(name)}/versions/${seg(version)}/download/${seg(language)}`,
      {accept: "application/json"});
    if (reply.status === 202) {
      status.textContent = "Still compiling: try again in a few seconds.";
      return;
    }
    const link = h("a", {href: reply.data.url, download: `${name}-${version}-${language}.zip`, hidden: true});
    document.body.append(link);
    link.click();
    link.remove();
    status.textContent = `Downloading ${formatBytes(reply.data.size)}.`;
  } catch (error) {
    status.textContent = `${error.code}: ${error.message}`;
  } finally {
    button.disabled = false;
  }
}

function compileTable(name, version, compilation) {
  const entries = Object.entries(compilation || {}).sort(([a], [b]) => a.localeCompare(b));
  if (!entries.length) return emptyState("Not compiled yet.");
  const rows = entries.map(([language, state]) => {
    const status = h("span", {class: "dl-status", "aria-live": "polite"});
    const button = state.status === "succeeded"
      ? h("button", {type: "button", class: "small", "data-language": language,
        "aria-label": `Download ${language} ZIP`}, "Download ZIP") : null;
    if (button) button.addEventListener("click", () => download(name, version, language, button, status));
    const [lang, release] = language.split("@");
    const detail = state.status === "failed"
      ? h("details", {class: "failure"}, h("summary", {}, "Why it failed"), h("pre", {}, state.error || "no message"))
      : state.status === "succeeded" ? h("span", {class: "meta"}, formatBytes(state.size)) : null;
    return h("tr", {"data-language": language},
      h("th", {scope: "row"}, lang, release ? h("span", {class: "meta"}, ` protoc ${release}`) : null),
      h("td", {}, h("span", {class: `state state-${state.status}`}, state.status), " ", detail),
      h("td", {}, button ? button : h("span", {class: "muted"}, state.status === "failed" ? "no download" : "—"), status));
  });
  return h("div", {class: "scroll"}, h("table", {class: "compile", id: "compile-status"},
    h("thead", {}, h("tr", {}, h("th", {scope: "col"}, "Language"), h("th", {scope: "col"}, "Status"), h("th", {scope: "col"}, "Code"))),
    h("tbody", {}, rows)));
}

const POLL_MS = 3000;
const unfinished = (compilation) => Object.values(compilation || {}).some((s) => s.status === "pending" || s.status === "running");

/** While a language is pending or running, read the version again every few seconds (this page only). */
function watchCompilation(name, version, compilation, box, ctx) {
  if (!unfinished(compilation)) return;
  setTimeout(async () => {
    if (!ctx.current()) return;
    try {
      const fresh = await api.get(`/modules/${seg(name)}/versions/${seg(version)}`);
      if (!ctx.current()) return;
      box.replaceChildren(compileTable(name, version, fresh.compilation));
      watchCompilation(name, version, fresh.compilation, box, ctx);
    } catch (error) {
      if (ctx.current()) box.append(notice("error", `${error.code}: ${error.message}`));
    }
  }, POLL_MS);
}

function snippets(name, version) {
  const base = apiRoot.href.replace(/\/$/, "");
  const org = organization();
  const global = `--url ${shellQuote(base)}${org ? ` --org ${shellQuote(org)}` : ""}`;
  const orgHeader = org ? ` -H ${shellQuote(`X-Organization-ID: ${org}`)}` : "";
  const path = `modules/${seg(name)}/versions/${seg(version)}`;
  return [
    copyable("Pull the files", `spoke ${global} pull ${name}@${version}`),
    copyable("Generate Python code", `spoke ${global} generate ${name}@${version} --lang python -o gen`),
    copyable("Check your changes against this version", `spoke ${global} breaking proto/ --against spoke://${name}@${version}`),
    copyable("Download the Python ZIP with curl",
      `curl -sSL --fail-with-body ${shellQuote(`${base}/${path}/download/python`)} -H "Authorization: Bearer $TOKEN"${orgHeader} -o ${name}-python.zip`),
    copyable("The version as JSON", `curl -sS ${shellQuote(`${base}/${path}`)} -H "Authorization: Bearer $TOKEN"${orgHeader}`),
  ];
}

export async function page(view, [name, version], _query, ctx) {
  document.title = `${name}@${version} · Spoke`;
  const [data, deps] = await Promise.all([
    api.get(`/modules/${seg(name)}/versions/${seg(version)}`),
    api.get(`/modules/${seg(name)}/versions/${seg(version)}/dependencies`).catch((error) => ({error}))]);
  if (!ctx.current()) return;
  add(view, crumbs(name, data.version), h("h1", {}, `${name}@${data.version}`),
    data.description ? h("p", {class: "description"}, data.description) : null,
    h("p", {class: "meta"}, `Published ${formatTime(data.created_at)} · ${data.files.length} file${data.files.length === 1 ? "" : "s"}`));
  const grid = h("div", {class: "grid"});
  add(view, grid);
  const filesBox = h("section", {class: "card", "aria-labelledby": "files-h"}, h("h2", {id: "files-h"}, "Files"));
  if (data.files.length > 30) {
    const filter = h("input", {type: "search", id: "file-filter", placeholder: "Filter files", "aria-label": "Filter files"});
    filter.addEventListener("input", () => {
      const needle = filter.value.toLowerCase();
      for (const item of filesBox.querySelectorAll("li.file")) {
        item.hidden = !!needle && !item.querySelector("a").textContent.toLowerCase().includes(needle)
          && !decodeURIComponent(item.querySelector("a").getAttribute("href")).toLowerCase().includes(needle);
      }
    });
    add(filesBox, filter);
  }
  add(filesBox, h("nav", {"aria-label": "File tree", id: "file-tree"}, treeList(buildTree(data.files), name, data.version)));
  add(grid, filesBox);
  const compileBox = h("div", {}, compileTable(name, data.version, data.compilation));
  add(grid, h("section", {class: "card", "aria-labelledby": "compile-h"}, h("h2", {id: "compile-h"}, "Compiled code"),
    compileBox));
  watchCompilation(name, data.version, data.compilation, compileBox, ctx);
  const depsBox = h("section", {class: "card", "aria-labelledby": "deps-h"}, h("h2", {id: "deps-h"}, "Dependencies"));
  if (deps.error) add(depsBox, notice("error", deps.error.message));
  else if (!deps.dependencies.length) add(depsBox, emptyState("No dependencies."));
  else {
    const direct = new Set((data.dependencies || []).map((d) => `${d.module}@${d.version}`));
    add(depsBox, h("ul", {id: "dependencies"}, deps.dependencies.map((d) => h("li", {},
      h("a", {href: route("modules", d.module, "versions", d.version)}, `${d.module}@${d.version}`),
      direct.has(`${d.module}@${d.version}`) ? null : h("span", {class: "meta"}, " (transitive)")))));
  }
  add(grid, depsBox);
  add(view, h("section", {class: "card", "aria-labelledby": "use-h"}, h("h2", {id: "use-h"}, "Use it"), snippets(name, data.version)));
}

export async function file(view, [name, version, path], query, ctx) {
  const line = Number.parseInt(query.get("line") || "", 10);
  document.title = `${path} · ${name}@${version} · Spoke`;
  const key = `${organization()}|${name}|${version}|${path}`;
  let text = fileCache.get(key);
  if (text === undefined) {
    text = await api.text(`/modules/${seg(name)}/versions/${seg(version)}/files/${seg(path)}`);
    if (version !== "latest") fileCache.set(key, text);
  }
  if (!ctx.current()) return;
  const lines = highlightLines(text);
  const rawUrl = apiUrl(`/modules/${seg(name)}/versions/${seg(version)}/files/${seg(path)}`);
  add(view, crumbs(name, version, path), h("h1", {class: "path"}, path),
    h("p", {class: "meta"}, `${lines.length} line${lines.length === 1 ? "" : "s"} · `,
      organization() ? h("span", {}, "raw: ", h("code", {}, rawUrl.pathname)) : h("a", {href: rawUrl.href}, "raw")));
  const body = h("tbody", {}, lines.map((tokens, index) => {
    const number = index + 1;
    return h("tr", {id: `L${number}`, class: number === line ? "line target" : "line"},
      h("td", {class: "ln"}, h("a", {href: withQuery(route("modules", name, "versions", version, "files", path), {line: number}),
        "aria-label": `Line ${number}`}, String(number))),
      h("td", {class: "code"}, h("code", {}, lineNodes(tokens))));
  }));
  add(view, h("div", {class: "source scroll"}, h("table", {class: "source-table", id: "source"}, body)));
  if (line) {
    const target = view.querySelector(`#L${line}`);
    if (target) {
      target.scrollIntoView({block: "center"});
      target.querySelector("a").focus({preventScroll: true});
    } else view.prepend(notice("info", `This file has no line ${line}.`));
  }
}
