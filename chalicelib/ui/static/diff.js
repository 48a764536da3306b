// Line diff (Myers' O(ND) algorithm) and unified hunks with context.

/** [{op: "=" | "-" | "+", text, oldLine, newLine}] turning `a` into `b` (arrays of lines). */
export function diffLines(a, b) {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace = [];
  let found = false;
  for (let d = 0; d <= max && !found; d += 1) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = (k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1])) ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) { x += 1; y += 1; }
      v[offset + k] = x;
      if (x >= n && y >= m) { found = true; break; }
    }
  }
  // Walk back through the saved frontiers.
  const edits = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d -= 1) {
    const frontier = trace[d];
    const k = x - y;
    const prevK = (k === -d || (k !== d && frontier[offset + k - 1] < frontier[offset + k + 1])) ? k + 1 : k - 1;
    const prevX = frontier[offset + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) { edits.push({op: "=", text: a[x - 1], oldLine: x, newLine: y}); x -= 1; y -= 1; }
    if (d > 0) {
      if (x === prevX) edits.push({op: "+", text: b[y - 1], oldLine: null, newLine: y});
      else edits.push({op: "-", text: a[x - 1], oldLine: x, newLine: null});
    }
    x = prevX;
    y = prevY;
  }
  return edits.reverse();
}

/** Hunks of a diff: the changed rows and `context` rows around them, plus rows the caller marks (findings). */
export function hunks(rows, context = 3, keepNewLines = new Set()) {
  const keep = new Array(rows.length).fill(false);
  rows.forEach((row, index) => {
    if (row.op !== "=" || (row.newLine && keepNewLines.has(row.newLine))) {
      for (let i = Math.max(0, index - context); i <= Math.min(rows.length - 1, index + context); i += 1) keep[i] = true;
    }
  });
  const result = [];
  let current = null;
  rows.forEach((row, index) => {
    if (!keep[index]) { current = null; return; }
    if (!current) { current = []; result.push(current); }
    current.push(row);
  });
  return result;
}

export function splitLines(text) {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}
