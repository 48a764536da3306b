// The module list (search, pagination) and a module's page (versions, policy, dependents, compare).
import {api, organization, seg} from "./api.js";
import {add, emptyState, formatTime, h, notice, route, withQuery} from "./dom.js";

const PAGE_SIZE = 20;

export async function list(view, _params, query, ctx) {
  const q = query.get("q") || "";
  const page = Math.max(1, Number.parseInt(query.get("page") || "1", 10) || 1);
  document.title = q ? `“${q}” · Modules · Spoke` : "Modules · Spoke";
  const input = h("input", {id: "module-search", type: "search", name: "q", value: q, maxlength: "100",
    placeholder: "Name prefix or description words", autocomplete: "off"});
  const form = h("form", {class: "search", role: "search"},
    h("label", {for: "module-search"}, "Search modules"), input, h("button", {type: "submit"}, "Search"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.navigate(withQuery("#/", {q: input.value.trim()}));
  });
  add(view, h("h1", {}, `Modules in ${ctx.organizationLabel()}`), form);
  const results = h("div", {class: "results", "aria-busy": "true"}, h("p", {class: "muted"}, "Loading…"));
  add(view, results);
  const data = await api.get("/modules", {query: {q, page, page_size: PAGE_SIZE, cursor: query.get("cursor")}});
  if (!ctx.current()) return;
  results.removeAttribute("aria-busy");
  results.replaceChildren();
  if (!data.modules.length) {
    add(results, q ? emptyState(`No module matches “${q}”.`, h("p", {}, h("a", {href: "#/"}, "Show every module")))
      : emptyState(page > 1 ? "No modules on this page." : "No modules here yet.",
        h("p", {class: "muted"}, "Publish one with the CLI: ", h("code", {}, "spoke push proto --bump minor"))));
    return;
  }
  const p = data.pagination;
  add(results, h("p", {class: "muted", id: "result-count"},
    `${p.total_items} module${p.total_items === 1 ? "" : "s"}${q ? ` matching “${q}”` : ""}`));
  add(results, h("ul", {class: "cards", id: "module-list"}, data.modules.map((m) => h("li", {class: "card"},
    h("a", {href: route("modules", m.name), class: "title"}, m.name),
    m.description ? h("p", {class: "description"}, m.description) : h("p", {class: "muted"}, "No description"),
    h("p", {class: "meta"}, `${m.version_count} version${m.version_count === 1 ? "" : "s"} · updated ${formatTime(m.updated_at)}`)))));
  const nav = h("nav", {class: "pager", "aria-label": "Pages"});
  if (page > 1) nav.append(h("a", {href: withQuery("#/", {q, page: page - 1}), rel: "prev"}, "← Previous"));
  nav.append(h("span", {}, `Page ${page} of ${p.total_pages}`));
  if (p.has_more) nav.append(h("a", {href: withQuery("#/", {q, page: page + 1, cursor: p.next_cursor}), rel: "next"}, "Next →"));
  add(results, nav);
}

function policyList(policy) {
  return h("dl", {class: "pairs"}, Object.entries(policy || {}).flatMap(([key, value]) => [
    h("dt", {}, key),
    h("dd", {}, Array.isArray(value) ? (value.length ? value.join(", ") : "none")
      : value && typeof value === "object" ? JSON.stringify(value) : String(value))]));
}

export async function module(view, [name], _query, ctx) {
  document.title = `${name} · Spoke`;
  const [info, dependents] = await Promise.all([api.get(`/modules/${seg(name)}`),
    api.get(`/modules/${seg(name)}/dependents`).catch((error) => ({error}))]);
  if (!ctx.current()) return;
  add(view, h("nav", {class: "crumbs", "aria-label": "Breadcrumb"}, h("a", {href: "#/"}, "Modules"), " / ", name),
    h("h1", {}, name),
    info.description ? h("p", {class: "description", id: "module-description"}, info.description)
      : h("p", {class: "muted"}, "No description"));
  const grid = h("div", {class: "grid"});
  add(view, grid);

  const versionsBox = h("section", {class: "card", "aria-labelledby": "versions-h"}, h("h2", {id: "versions-h"}, "Versions"));
  add(grid, versionsBox);
  if (!info.versions.length) {
    add(versionsBox, emptyState("No versions published yet.",
      h("p", {class: "muted"}, "Publish with ", h("code", {}, `spoke push DIR`), " (spoke.yaml: ", h("code", {}, `module: ${name}`), ")")));
  } else {
    const listEl = h("ol", {class: "versions", id: "version-list"});
    const more = h("button", {type: "button", class: "small", hidden: true}, "Show more versions");
    add(versionsBox, listEl, more);
    let cursor = null;
    const loadPage = async () => {
      more.disabled = true;
      const data = await api.get(`/modules/${seg(name)}/versions`, {query: {page_size: 50, cursor}});
      for (const v of data.versions) {
        listEl.append(h("li", {}, h("a", {href: route("modules", name, "versions", v.version)}, v.version),
          v.version === info.latest_version ? h("span", {class: "badge"}, "latest") : null,
          h("span", {class: "meta"}, ` ${formatTime(v.created_at)} · ${v.file_count} file${v.file_count === 1 ? "" : "s"}`),
          v.description ? h("div", {class: "muted"}, v.description) : null));
      }
      cursor = data.pagination.next_cursor;
      more.hidden = !data.pagination.has_more;
      more.disabled = false;
    };
    more.addEventListener("click", () => loadPage().catch((error) => add(versionsBox, notice("error", error.message))));
    await loadPage();
    if (info.versions.length >= 2) add(versionsBox, compareForm(name, info.versions, ctx));
  }

  add(grid, h("section", {class: "card", "aria-labelledby": "policy-h"}, h("h2", {id: "policy-h"}, "Compatibility policy"),
    policyList(info.compatibility),
    info.go_package_prefix ? h("p", {}, "Go package prefix: ", h("code", {}, info.go_package_prefix)) : null));

  const dependentsBox = h("section", {class: "card", "aria-labelledby": "dependents-h"}, h("h2", {id: "dependents-h"}, "Dependents"));
  add(grid, dependentsBox);
  if (dependents.error) add(dependentsBox, notice("error", dependents.error.message));
  else if (!dependents.dependents.length) add(dependentsBox, emptyState("No module depends on this one."));
  else {
    add(dependentsBox, h("ul", {id: "dependents"}, dependents.dependents.map((d) => h("li", {},
      h("a", {href: route("modules", d.module, "versions", d.version)}, `${d.module}@${d.version}`),
      d.depends_on ? h("span", {class: "meta"}, ` uses ${d.depends_on}`) : null))));
  }
  if (organization()) {
    add(grid, h("p", {class: "muted"}, "Organization: ", h("code", {}, organization())));
  }
}

function compareForm(name, versions, ctx) {
  const ordered = [...versions];  // semver order, lowest first
  const options = (selected) => ordered.map((v) => h("option", {value: v, selected: v === selected}, v));
  const from = h("select", {id: "diff-from", name: "from"}, options(ordered[ordered.length - 2]));
  const to = h("select", {id: "diff-to", name: "to"}, options(ordered[ordered.length - 1]));
  const form = h("form", {class: "compare"},
    h("h3", {}, "Compare two versions"),
    h("label", {for: "diff-from"}, "From"), from, h("label", {for: "diff-to"}, "to"), to,
    h("button", {type: "submit"}, "Show diff"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.navigate(withQuery(route("modules", name, "diff"), {from: from.value, to: to.value}));
  });
  return form;
}
