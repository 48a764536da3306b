"""Semantic versions and their DynamoDB sort key."""
from __future__ import annotations

import pytest
import semver
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import InvalidVersion
from chalicelib.domain.versions import parse_version


@pytest.mark.parametrize("text,name", [
    ("v1.2.3", "v1.2.3"), ("1.2.3", "v1.2.3"), ("V0.0.1", "v0.0.1"),
    ("1.0.0-rc.1+build.5", "v1.0.0-rc.1+build.5"), ("v1.0.0+20130313144700", "v1.0.0+20130313144700"),
])
def test_accepted_spellings_have_one_canonical_name(text: str, name: str) -> None:
    assert parse_version(text).name == name


@pytest.mark.parametrize("text", ["", "1", "1.2", "v1.2.3.4", "01.2.3", "1.2.3-", "1.2.3-01", "latest", "vv1.0.0",
                                  None, 3, "1.2.3 ", "99999999999.0.0"])
def test_invalid_versions_are_refused(text: object) -> None:
    if text == "1.2.3 ":  # surrounding space is tolerated
        assert parse_version(text).name == "v1.2.3"
        return
    with pytest.raises(InvalidVersion):
        parse_version(text)


def test_build_metadata_does_not_change_the_key() -> None:
    assert parse_version("1.0.0+a").sort_key == parse_version("v1.0.0+b").sort_key == parse_version("1.0.0").sort_key


identifier = st.one_of(st.integers(0, 10**6).map(str),
                       st.from_regex(r"[0-9A-Za-z-]*[A-Za-z-][0-9A-Za-z-]*", fullmatch=True)
                       .filter(lambda s: len(s) < 8))
version_text = st.builds(
    lambda a, b, c, pre: f"{a}.{b}.{c}" + (f"-{'.'.join(pre)}" if pre else ""),
    st.integers(0, 30), st.integers(0, 30), st.integers(0, 12000), st.lists(identifier, max_size=3))


@given(version_text, version_text)
def test_sort_key_order_is_semver_precedence(left: str, right: str) -> None:
    # Byte order of the keys, as DynamoDB sorts them, equals semver.org precedence.
    expected = semver.Version.parse(left).compare(right)
    a, b = parse_version(left).sort_key.encode(), parse_version(right).sort_key.encode()
    assert (a > b) - (a < b) == expected
