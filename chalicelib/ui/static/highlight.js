// A small .proto highlighter: a tokenizer for display only (protoc parses; this only colours text).

const KEYWORDS = new Set(["syntax", "edition", "package", "import", "option", "message", "enum", "service", "rpc",
  "returns", "stream", "oneof", "map", "reserved", "extensions", "extend", "optional", "repeated", "required",
  "weak", "public", "to", "max", "group"]);
const TYPES = new Set(["double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32",
  "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes"]);
const CONSTANTS = new Set(["true", "false", "inf", "nan"]);

const PATTERNS = [
  ["comment", /\/\/[^\n]*/y],
  ["comment", /\/\*[\s\S]*?(?:\*\/|$)/y],
  ["string", /"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?/y],
  ["number", /-?(?:0[xX][0-9a-fA-F]+|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)/y],
  ["word", /[A-Za-z_][A-Za-z0-9_.]*/y],
  ["space", /\s+/y],
  ["punct", /[^\sA-Za-z0-9_"'/]+|\//y],
];

/** Tokens [{kind, text}] covering `source` exactly. */
export function tokenize(source) {
  const tokens = [];
  let at = 0;
  while (at < source.length) {
    let matched = false;
    for (const [kind, pattern] of PATTERNS) {
      pattern.lastIndex = at;
      const found = pattern.exec(source);
      if (!found || found[0] === "") continue;
      let tokenKind = kind;
      if (kind === "word") {
        tokenKind = KEYWORDS.has(found[0]) ? "keyword" : TYPES.has(found[0]) ? "type"
          : CONSTANTS.has(found[0]) ? "number" : "ident";
      }
      tokens.push({kind: tokenKind, text: found[0]});
      at += found[0].length;
      matched = true;
      break;
    }
    if (!matched) { tokens.push({kind: "punct", text: source[at]}); at += 1; }
  }
  return tokens;
}

/** The source split into lines, each a list of tokens (a block comment spanning lines is cut at each). */
export function highlightLines(source) {
  const lines = [[]];
  for (const token of tokenize(source.replace(/\r\n?/g, "\n"))) {
    const parts = token.text.split("\n");
    parts.forEach((part, index) => {
      if (index > 0) lines.push([]);
      if (part) lines[lines.length - 1].push({kind: token.kind, text: part});
    });
  }
  if (lines.length > 1 && lines[lines.length - 1].length === 0) lines.pop();  // the final newline
  return lines;
}

/** One line's tokens as spans (text nodes only: nothing is parsed as HTML). */
export function lineNodes(tokens) {
  return tokens.map((token) => {
    if (token.kind === "space" || token.kind === "ident" || token.kind === "punct") {
      return document.createTextNode(token.text);
    }
    const span = document.createElement("span");
    span.className = `tok-${token.kind}`;
    span.textContent = token.text;
    return span;
  });
}
