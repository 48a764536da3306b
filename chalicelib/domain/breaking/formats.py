"""buf's `--error-format`s, byte for byte: how `buf breaking` and `buf lint` print their annotations.

One renderer for both commands (`spoke breaking`, `spoke lint`). An annotation is anything with the
attributes `path, start_line, start_column, end_line, end_column, type, message` and, optionally,
`policy` (the policy file a finding came from; buf appends ` (<policy>)` to the message in the
text-like formats and adds a `"policy"` key in JSON). `path` is the file as the module names it (empty
when there is no file, e.g. a deleted file); `prefix(path)` returns what buf prints before it (the
input directory, a workspace module's path). An annotation without a file, or with line 0, has no
position: buf prints `<input>` and 1:1 where a position is required, and leaves it out where it is not.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from typing import Protocol

from .text import go_json

ERROR_FORMATS = ("text", "json", "msvs", "junit", "github-actions", "gitlab-code-quality", "config-ignore-yaml")
NO_FILE = "<input>"


class Annotation(Protocol):
    """What a renderer reads of a finding (lint or breaking)."""

    @property
    def path(self) -> str: ...
    @property
    def start_line(self) -> int: ...
    @property
    def start_column(self) -> int: ...
    @property
    def end_line(self) -> int: ...
    @property
    def end_column(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def message(self) -> str: ...


Prefix = Callable[[str], str]


class UnknownErrorFormat(ValueError):
    """An --error-format buf does not know (buf: `--error-format: invalid format: "x"`)."""


def _policy(annotation: Annotation) -> str:
    return str(getattr(annotation, "policy", "") or "")


def _positions(annotation: Annotation) -> tuple[int, int, int, int]:
    """Start line, start column, end line, end column; all 0 when the annotation has no position."""
    if not annotation.path or annotation.start_line <= 0:
        return 0, 0, 0, 0
    return annotation.start_line, annotation.start_column, annotation.end_line, annotation.end_column


def _external_path(annotation: Annotation, prefix: Prefix) -> str:
    return prefix(annotation.path) + annotation.path if annotation.path else NO_FILE


def _message(annotation: Annotation) -> str:
    """The message as text, msvs, github-actions and junit print it: with ` (policy)` appended."""
    message = annotation.message or annotation.type or "FAILURE"
    policy = _policy(annotation)
    return f"{message} ({policy})" if policy else message


def _at_least_1(value: int) -> int:
    return value if value > 0 else 1


def _text_line(annotation: Annotation, prefix: Prefix) -> str:
    start_line, start_column, _, _ = _positions(annotation)
    return (f"{_external_path(annotation, prefix)}:{_at_least_1(start_line)}:{_at_least_1(start_column)}:"
            f"{_message(annotation)}")


def _json_line(annotation: Annotation, prefix: Prefix) -> str:
    start_line, start_column, end_line, end_column = _positions(annotation)
    out: dict[str, object] = {}
    if annotation.path:
        out["path"] = prefix(annotation.path) + annotation.path
    out.update(start_line=_at_least_1(start_line), start_column=_at_least_1(start_column),
               end_line=_at_least_1(end_line), end_column=_at_least_1(end_column))
    if annotation.type:
        out["type"] = annotation.type
    if annotation.message:
        out["message"] = annotation.message
    if _policy(annotation):
        out["policy"] = _policy(annotation)
    return go_json(out)


def _msvs_line(annotation: Annotation, prefix: Prefix) -> str:
    start_line, start_column, _, _ = _positions(annotation)
    return (f"{_external_path(annotation, prefix)}({_at_least_1(start_line)},{_at_least_1(start_column)}) : "
            f"error {annotation.type or 'FAILURE'} : {_message(annotation)}")


def _github_actions_line(annotation: Annotation, prefix: Prefix) -> str:
    start_line, start_column, end_line, end_column = _positions(annotation)
    where = f"file={_external_path(annotation, prefix)}"
    if start_line > 0:
        where += f",line={start_line}"
        if start_column > 0:
            where += f",col={start_column}"
        if end_line > 0:
            where += f",endLine={end_line}"
            if end_column > 0:
                where += f",endColumn={end_column}"
    return f"::error {where}::{_message(annotation)}"


# Go's encoding/xml EscapeText, as used for attribute values.
_XML_ESCAPES = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\t": "&#x9;",
                "\n": "&#xA;", "\r": "&#xD;"}
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_attr(value: str) -> str:
    value = _XML_INVALID.sub("\ufffd", value)
    return "".join(_XML_ESCAPES.get(char, char) for char in value)


def _junit(annotations: list[Annotation], prefix: Prefix) -> str:
    """buf's JUnit XML: one testsuite per file (first-seen order, `.proto` trimmed), one testcase each."""
    groups: dict[str, list[Annotation]] = {}
    for annotation in annotations:
        groups.setdefault(_external_path(annotation, prefix), []).append(annotation)
    lines = ["<testsuites>"]
    for path, members in groups.items():
        name = path[: -len(".proto")] if path.endswith(".proto") else path
        lines.append(f'  <testsuite name="{_xml_attr(name)}" tests="{len(members)}" failures="{len(members)}"'
                     ' errors="0">')
        for annotation in members:
            start_line, start_column, _, _ = _positions(annotation)
            case = annotation.type
            if start_column != 0:
                case += f"_{start_line}_{start_column}"
            elif start_line != 0:
                case += f"_{start_line}"
            lines.append(f'    <testcase name="{_xml_attr(case)}">')
            lines.append(f'      <failure message="{_xml_attr(_text_line(annotation, prefix))}"'
                         f' type="{_xml_attr(annotation.type)}"></failure>')
            lines.append("    </testcase>")
        lines.append("  </testsuite>")
    lines.append("</testsuites>")
    return "\n".join(lines) + "\n"


def _gitlab_issue(annotation: Annotation, prefix: Prefix) -> dict[str, object]:
    """One GitLab Code Quality issue; its fingerprint is the SHAKE-256 (64 bytes) of the issue's JSON
    without it, as buf computes it. Zero positions are left out (Go's omitempty); no policy is shown."""
    start_line, start_column, end_line, end_column = _positions(annotation)
    location: dict[str, object] = {}
    if annotation.path:
        location["path"] = prefix(annotation.path) + annotation.path
    location["positions"] = {
        "begin": {key: value for key, value in (("line", start_line), ("column", start_column)) if value},
        "end": {key: value for key, value in (("line", end_line), ("column", end_column)) if value},
    }
    issue: dict[str, object] = {}
    if annotation.message:
        issue["description"] = annotation.message
    if annotation.type:
        issue["check_name"] = annotation.type
    issue.update(location=location, severity="minor")
    fingerprint = hashlib.shake_256(go_json(issue).encode()).hexdigest(64)
    return {key: issue[key] for key in ("description", "check_name") if key in issue} | {
        "fingerprint": fingerprint, "location": location, "severity": "minor"}


def _yaml_scalar(value: str) -> str:
    """A string as Go's yaml.v3 writes it: plain when libyaml's analysis allows it and it reads back as a
    string (PyYAML runs the same analysis), else double-quoted."""
    import yaml

    dumped = yaml.safe_dump(value, width=2**31, allow_unicode=True)
    if not dumped.startswith(("'", '"')) and "\n" not in dumped.rstrip("\n").removesuffix("\n..."):
        return value
    return json.dumps(value, ensure_ascii=False)


def _config_ignore_yaml(annotations: list[Annotation], section: str) -> str:
    """The `ignore_only` section that would silence every annotation (buf: module-relative paths, sorted)."""
    by_type: dict[str, set[str]] = {}
    for annotation in annotations:
        if annotation.path:
            by_type.setdefault(annotation.type, set()).add(annotation.path)
    lines = ["version: v1", f"{section}:", "  ignore_only:"]
    for rule in sorted(by_type):
        lines.append(f"    {_yaml_scalar(rule)}:")
        lines.extend(f"      - {_yaml_scalar(path)}" for path in sorted(by_type[rule]))
    return "\n".join(lines) + "\n"


_LINE_RENDERERS: dict[str, Callable[[Annotation, Prefix], str]] = {
    "text": _text_line,
    "json": _json_line,
    "msvs": _msvs_line,
    "github-actions": _github_actions_line,
}


def render(annotations: Iterable[Annotation], error_format: str, prefix: Prefix = lambda _path: "",
           section: str = "lint") -> str:
    """Everything buf prints on stdout for these annotations (already in buf's order) in `error_format`;
    "" when there are none. `section` names the config-ignore-yaml section (buf prints it for lint)."""
    items = list(annotations)
    if error_format not in ERROR_FORMATS:
        raise UnknownErrorFormat(f'--error-format: invalid format: "{error_format}"')
    if not items:
        return ""
    if error_format == "junit":
        return _junit(items, prefix)
    if error_format == "config-ignore-yaml":
        return _config_ignore_yaml(items, section)
    if error_format == "gitlab-code-quality":
        return go_json([_gitlab_issue(annotation, prefix) for annotation in items]) + "\n"
    line = _LINE_RENDERERS[error_format]
    return "".join(line(annotation, prefix) + "\n" for annotation in items)
