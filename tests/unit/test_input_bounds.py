"""Bounds on what a request may send: JSON shape, text, versions, policies, Go paths, emails."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import InvalidJson, InvalidVersion, ValidationFailed
from chalicelib.domain.go_paths import go_import_path_problem
from chalicelib.domain.json_text import MAX_JSON_DEPTH, parse_json
from chalicelib.domain.policy import parse_policy
from chalicelib.domain.text import bounded_text
from chalicelib.domain.versions import MAX_VERSION_LENGTH, parse_version
from chalicelib.services.accounts import normalise_email


@pytest.mark.parametrize("raw,fragment", [
    ("[" * 100_000, "deeper than"),
    ('{"a": ' * 40 + "1" + "}" * 40, "deeper than"),
    ('{"n": ' + "9" * 5001 + "}", "more than 38 digits"),
    ('{"n": 1e999}', "too large"),
    ('{"n": NaN}', "finite"),
    ('{"n": -Infinity}', "finite"),
    ('{"s": "\\ud800"}', "surrogate"),
    ('{"\\udfff": 1}', "surrogate"),
    ("{'single': 1}", "not valid JSON"),
    (b"\xff\xfe{}", "not"),
])
def test_hostile_json_is_refused_with_a_plain_message(raw: str | bytes, fragment: str) -> None:
    # Given a body Python's parser mishandles, When it is parsed, Then InvalidJson says what is wrong
    with pytest.raises(InvalidJson) as error:
        parse_json(raw)
    assert fragment in error.value.message
    assert "sys.set_int_max_str_digits" not in error.value.message and "Traceback" not in error.value.message


def test_json_at_the_depth_limit_parses() -> None:
    nested = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert parse_json(nested) is not None
    with pytest.raises(InvalidJson):
        parse_json("[" + nested + "]")


@settings(max_examples=300)
@given(st.recursive(st.none() | st.booleans() | st.integers(-10**38 + 1, 10**38 - 1)
                    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
                    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=30))
def test_ordinary_json_round_trips(value: object) -> None:
    assert parse_json(json.dumps(value)) == value


@given(st.text(max_size=300))
def test_any_text_either_parses_or_is_invalid_json(raw: str) -> None:
    try:
        parse_json(raw)
    except InvalidJson:
        pass


@pytest.mark.parametrize("value,fragment", [
    ("x" * 101, "at most 100"), ("a\x00b", "control"), ("line\nbreak", "control"), (5, "must be text"),
])
def test_single_line_text_is_bounded_and_printable(value: object, fragment: str) -> None:
    with pytest.raises(ValidationFailed, match=fragment):
        bounded_text("name", value, 100, single_line=True)


def test_descriptions_keep_their_lines_but_not_other_control_characters() -> None:
    assert bounded_text("description", "two\nlines\r\n\tand a tab", 1000) == "two\nlines\r\n\tand a tab"
    with pytest.raises(ValidationFailed):
        bounded_text("description", "bell\x07", 1000)
    with pytest.raises(ValidationFailed, match="required"):
        bounded_text("name", "  ", 100, required=True)


@pytest.mark.parametrize("text", ["v1.0.0-" + "a" * 1100, "v1.0.0+" + "b" * 300_000])
def test_versions_are_bounded_before_anything_else(text: str) -> None:
    with pytest.raises(InvalidVersion, match=f"at most {MAX_VERSION_LENGTH}"):
        parse_version(text)


def test_the_longest_version_fits_a_dynamodb_sort_key() -> None:
    longest = "v1.0.0-" + ".".join(["1"] * ((MAX_VERSION_LENGTH - 7) // 2 + 1))
    version = parse_version(longest[:MAX_VERSION_LENGTH].rstrip("."))
    assert len(version.sort_key.encode()) <= 1024


@pytest.mark.parametrize("change", [{"allow_breaking_major": "no"}, {"allow_breaking_major": 0},
                                    {"allow_breaking_major": "false"}, {"use": "FILE"}, {"use": [1]},
                                    {"use": ["X" * 65]}, {"except": ["FILE"] * 101}])
def test_policies_refuse_loose_values(change: dict) -> None:
    with pytest.raises(ValidationFailed):
        parse_policy(change)


@pytest.mark.parametrize("path,ok", [("github.com/acme/protos", True), ("example.com/a_b/c~d/e+f", True),
                                     ("a/../b", False), ("../../x", False), ("./x", False), ("a//b", False),
                                     ("-flag/x", False), (".hidden/x", False), ("x./y", False),
                                     ("a b/c", False), ("x" * 257, False), ("", False)])
def test_go_import_paths_follow_gos_rule(path: str, ok: bool) -> None:
    assert (go_import_path_problem(path) is None) is ok


@pytest.mark.parametrize("email", ["a\x00b@example.com", "<script>@example.com", "x@<script>.com",
                                   "no-at-sign", "a@b", "a" * 250 + "@example.com", "two@@example.com"])
def test_emails_are_judged_by_a_real_validator(email: str) -> None:
    with pytest.raises(ValidationFailed):
        normalise_email(email)


def test_emails_are_normalised_to_lower_case() -> None:
    assert normalise_email("  John.Doe@Example.COM ") == "john.doe@example.com"
