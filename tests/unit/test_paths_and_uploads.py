"""Upload paths and the rules of one upload."""
from __future__ import annotations

import pytest

from chalicelib.domain.errors import DuplicatePath, InvalidFile, InvalidPath, NoFiles
from chalicelib.domain.paths import validate_proto_path
from chalicelib.domain.uploads import validate_upload


@pytest.mark.parametrize("path", ["user.proto", "acme/v1/user.proto", "a_b-c.d/x.proto"])
def test_ordinary_paths_are_kept_as_given(path: str) -> None:
    assert validate_proto_path(path) == path


@pytest.mark.parametrize("path,fragment", [
    ("../user.proto", "'..'"), ("a/../../user.proto", "'..'"), ("/etc/user.proto", "absolute"),
    ("C:/x.proto", "absolute"), ("a\\b.proto", "backslash"), ("a\x00.proto", "NUL"), ("a//b.proto", "empty"),
    ("./a.proto", "'.'"), ("notes.txt", "not a .proto"), (".proto", "not a .proto"), ("a b.proto", "may only"),
    ("", "needs a path"), ("x" * 600 + ".proto", "longer than"),
])
def test_unsafe_paths_are_refused_with_a_reason(path: str, fragment: str) -> None:
    with pytest.raises(InvalidPath) as error:
        validate_proto_path(path)
    assert fragment in error.value.message


def test_upload_rules() -> None:
    with pytest.raises(NoFiles):
        validate_upload([], 10)
    with pytest.raises(DuplicatePath):
        validate_upload([("a.proto", b"x"), ("a.proto", b"y")], 10)
    with pytest.raises(InvalidFile, match="empty"):
        validate_upload([("a.proto", b"")], 10)
    with pytest.raises(InvalidFile, match="UTF-8"):
        validate_upload([("a.proto", b"\xff")], 10)
    with pytest.raises(InvalidFile, match="at most 1 files"):
        validate_upload([("a.proto", b"x"), ("b.proto", b"y")], 1)
    [single] = validate_upload([("a.proto", b"abc")], 10)
    assert single.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
