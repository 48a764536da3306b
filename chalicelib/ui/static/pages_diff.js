// The diff of two versions with the breaking-change findings (buf's rule IDs) inline at their lines.
import {api, seg} from "./api.js";
import {diffLines, hunks, splitLines} from "./diff.js";
import {add, emptyState, h, notice, route, withQuery} from "./dom.js";
import {highlightLines, lineNodes} from "./highlight.js";

const MAX_FILES = 200;  // changed files fetched and shown; more are listed by name

async function readFile(name, version, path) {
  return api.text(`/modules/${seg(name)}/versions/${seg(version)}/files/${seg(path)}`);
}

async function inBatches(items, size, work) {
  const results = [];
  for (let i = 0; i < items.length; i += size) results.push(...await Promise.all(items.slice(i, i + size).map(work)));
  return results;
}

function findingNode(finding) {
  return h("div", {class: "finding", "data-rule": finding.rule, role: "note"},
    h("span", {class: "rule"}, finding.rule), " ",
    h("span", {class: "meta"}, `${finding.category} · line ${finding.line}:${finding.column}`), " ",
    h("span", {class: "message"}, finding.message));
}

function fileDiff(path, oldText, newText, findings) {
  const oldLines = oldText === null ? [] : splitLines(oldText);
  const newLines = newText === null ? [] : splitLines(newText);
  const rows = diffLines(oldLines, newLines);
  const byLine = new Map();
  for (const finding of findings) {
    if (!byLine.has(finding.line)) byLine.set(finding.line, []);
    byLine.get(finding.line).push(finding);
  }
  const oldTokens = highlightLines(oldLines.join("\n"));
  const newTokens = highlightLines(newLines.join("\n"));
  const status = oldText === null ? "added" : newText === null ? "deleted" : "changed";
  const table = h("tbody", {});
  const shown = hunks(rows, 3, new Set(byLine.keys()));
  shown.forEach((hunk, index) => {
    if (index > 0 || (hunk[0] && (hunk[0].oldLine || hunk[0].newLine || 1) > 1)) {
      table.append(h("tr", {class: "gap"}, h("td", {colspan: "3"}, "⋯")));
    }
    for (const row of hunk) {
      const tokens = row.op === "-" ? oldTokens[row.oldLine - 1] : newTokens[row.newLine - 1];
      const sign = row.op === "=" ? " " : row.op;
      table.append(h("tr", {class: `d d-${row.op === "+" ? "add" : row.op === "-" ? "del" : "same"}`,
        "data-new-line": row.newLine || null, "data-old-line": row.oldLine || null},
      h("td", {class: "ln"}, row.oldLine || ""), h("td", {class: "ln"}, row.newLine || ""),
      h("td", {class: "code"}, h("code", {}, h("span", {class: "sign", "aria-hidden": "true"}, sign),
        row.op === "+" ? h("span", {class: "sr-only"}, "added: ") : row.op === "-" ? h("span", {class: "sr-only"}, "removed: ") : null,
        lineNodes(tokens || [])))));
      if (row.newLine && byLine.has(row.newLine)) {
        table.append(h("tr", {class: "finding-row", "data-line": row.newLine},
          h("td", {colspan: "3"}, byLine.get(row.newLine).map(findingNode))));
        byLine.delete(row.newLine);
      }
    }
  });
  const unplaced = [...byLine.values()].flat();
  return h("section", {class: "card file-diff", "data-path": path},
    h("h2", {class: "path"}, path, " ", h("span", {class: `badge ${status}`}, status)),
    unplaced.length ? h("div", {}, unplaced.map(findingNode)) : null,
    shown.length ? h("div", {class: "scroll"}, h("table", {class: "diff"}, table)) : h("p", {class: "muted"}, "No line changed."));
}

export async function page(view, [name], query, ctx) {
  const from = query.get("from") || "";
  const to = query.get("to") || "";
  document.title = `${name} ${from}…${to} · Spoke`;
  add(view, h("nav", {class: "crumbs", "aria-label": "Breadcrumb"}, h("a", {href: "#/"}, "Modules"), " / ",
    h("a", {href: route("modules", name)}, name), " / diff"), h("h1", {}, `${name}: ${from} → ${to}`));
  if (!from || !to) {
    add(view, notice("error", "Choose two versions to compare on the module's page."));
    return;
  }
  const [older, newer] = await Promise.all([api.get(`/modules/${seg(name)}/versions/${seg(from)}`),
    api.get(`/modules/${seg(name)}/versions/${seg(to)}`)]);
  if (!ctx.current()) return;
  add(view, h("p", {}, h("a", {href: withQuery(route("modules", name, "diff"), {from: to, to: from})}, "Swap the versions")));
  const verdictBox = h("div", {id: "verdict"}, h("p", {class: "muted"}, "Checking compatibility…"));
  add(view, verdictBox);
  let findings = [];
  try {
    const verdict = await api.post(`/modules/${seg(name)}/compatibility/check`, {version1: from, version2: to});
    findings = verdict.breaking_changes || [];
    verdictBox.replaceChildren(verdict.compatible
      ? notice("ok", `${to} is compatible with ${from} under the rules ${(verdict.use || []).join(", ")}.`)
      : notice("warning", h("strong", {}, `${findings.length} breaking change${findings.length === 1 ? "" : "s"}`),
        ` from ${from} to ${to} under the rules ${(verdict.use || []).join(", ")}.`));
  } catch (error) {
    verdictBox.replaceChildren(notice(error.status === 401 ? "info" : "error",
      error.status === 401 ? "Sign in to see the breaking changes (the check runs the breaking-change engine)."
        : `${error.code}: ${error.message}`));
  }
  if (!ctx.current()) return;
  const oldFiles = new Map(older.files.map((f) => [f.path, f.checksum]));
  const newFiles = new Map(newer.files.map((f) => [f.path, f.checksum]));
  const withFindings = new Set(findings.map((f) => f.file));
  const paths = [...new Set([...oldFiles.keys(), ...newFiles.keys()])].sort()
    .filter((p) => oldFiles.get(p) !== newFiles.get(p) || withFindings.has(p));
  const unchanged = [...newFiles.keys()].filter((p) => oldFiles.get(p) === newFiles.get(p) && !withFindings.has(p)).length;
  add(view, h("p", {class: "meta", id: "diff-summary"},
    `${paths.length} file${paths.length === 1 ? "" : "s"} changed, ${unchanged} unchanged`));
  if (!paths.length) {
    add(view, emptyState("The two versions have the same files."));
    return;
  }
  const shownPaths = paths.slice(0, MAX_FILES);
  const contents = await inBatches(shownPaths, 4, async (path) => [
    oldFiles.has(path) ? await readFile(name, from, path) : null,
    newFiles.has(path) ? await readFile(name, to, path) : null]);
  if (!ctx.current()) return;
  shownPaths.forEach((path, index) => {
    const [oldText, newText] = contents[index];
    add(view, fileDiff(path, oldText, newText, findings.filter((f) => f.file === path)));
  });
  if (paths.length > MAX_FILES) {
    add(view, notice("info", `${paths.length - MAX_FILES} more changed files are not shown: `,
      h("ul", {}, paths.slice(MAX_FILES).map((p) => h("li", {}, p)))));
  }
  const elsewhere = findings.filter((f) => !paths.includes(f.file));
  if (elsewhere.length) add(view, h("section", {class: "card"}, h("h2", {}, "Other findings"), elsewhere.map(findingNode)));
}
