"""The sources ZIP (download/proto) and the `latest` alias: pure parts."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest

from chalicelib.domain.errors import InvalidVersion
from chalicelib.domain.source_archive import MANIFEST_NAME, build_source_zip
from chalicelib.domain.versions import is_latest, is_release_key, parse_version

FILES = {"b/v1/b.proto": b'syntax = "proto3";\npackage b.v1;\n', "a.proto": b'syntax = "proto3";\n'}
DEPENDENCIES = [{"module": "common", "version": "v1.0.0", "sort_key": "ignored"}]


def test_the_same_sources_give_the_same_bytes_whatever_their_order() -> None:
    # Given the same files listed in two orders
    first = build_source_zip("user", "v1.0.0", FILES, DEPENDENCIES)
    second = build_source_zip("user", "v1.0.0", dict(reversed(list(FILES.items()))), DEPENDENCIES)
    # Then the ZIPs are byte-identical
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()


def test_other_sources_give_other_bytes() -> None:
    changed = {**FILES, "a.proto": b'syntax = "proto2";\n'}
    assert build_source_zip("user", "v1.0.0", FILES, []) != build_source_zip("user", "v1.0.0", changed, [])
    assert build_source_zip("user", "v1.0.0", FILES, []) != build_source_zip("user", "v1.0.1", FILES, [])


def test_entries_are_sorted_fixed_and_carry_the_manifest() -> None:
    archive = zipfile.ZipFile(io.BytesIO(build_source_zip("user", "v1.0.0", FILES, DEPENDENCIES)))
    assert archive.namelist() == ["a.proto", "b/v1/b.proto", MANIFEST_NAME]
    for info in archive.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o100644 and info.extra == b""
    assert json.loads(archive.read(MANIFEST_NAME)) == {
        "module": "user", "version": "v1.0.0",
        "files": [{"path": p, "size": len(FILES[p]), "sha256": hashlib.sha256(FILES[p]).hexdigest()}
                  for p in ("a.proto", "b/v1/b.proto")],
        "dependencies": [{"module": "common", "version": "v1.0.0"}]}
    assert archive.read("b/v1/b.proto") == FILES["b/v1/b.proto"]


def test_latest_is_an_alias_spelled_exactly() -> None:
    assert is_latest("latest")
    assert not is_latest("Latest") and not is_latest("LATEST") and not is_latest(" latest") and not is_latest(None)


@pytest.mark.parametrize("text", ["latest", " latest "])
def test_latest_is_never_a_version_to_write(text: str) -> None:
    with pytest.raises(InvalidVersion, match="must be pinned"):
        parse_version(text)


@pytest.mark.parametrize("text,release", [("v1.0.0", True), ("v1.0.0+build.7", True), ("v1.0.0-rc.1", False),
                                          ("v2.0.0-alpha", False), ("v0.0.1-0", False)])
def test_a_release_is_told_apart_by_its_sort_key(text: str, release: bool) -> None:
    assert is_release_key(parse_version(text).sort_key) is release
