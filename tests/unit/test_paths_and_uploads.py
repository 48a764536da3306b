"""Upload paths and the rules of one upload."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import DuplicatePath, InvalidFile, InvalidPath, NoFiles
from chalicelib.domain.paths import validate_proto_path
from chalicelib.domain.uploads import validate_upload


@pytest.mark.parametrize("path", ["user.proto", "acme/v1/user.proto", "a_b-c.d/x.proto"])
def test_ordinary_paths_are_kept_as_given(path: str) -> None:
    assert validate_proto_path(path) == path


@pytest.mark.parametrize("path,fragment", [
    ("../user.proto", "'..'"), ("a/../../user.proto", "'..'"), ("/etc/user.proto", "absolute"),
    ("C:/x.proto", "absolute"), ("a\\b.proto", "backslash"), ("a\x00.proto", "NUL"), ("a//b.proto", "empty"),
    ("./a.proto", "'.'"), ("notes.txt", "not a .proto"), (".proto", "must start with"), ("a b.proto", "may only"),
    ("", "needs a path"), ("x" * 600 + ".proto", "longer than"),
    # Nothing that could read as a command-line option, in any segment
    ("-h.proto", "must start with"), ("-Ijunk.proto", "must start with"),
    ("a/--include_imports.proto", "must start with"),
    ("@args.proto", "may only"), ("a/.hidden.proto", "must start with"),
    # Fits every file system and the file route
    ("a/" + "x" * 129 + ".proto", "at most 128"), ("/".join(["d"] * 12) + "/x.proto", "13 segments"),
    # The well-known types are protoc's, whatever the case
    ("google/protobuf/timestamp.proto", "well-known"), ("Google/Protobuf/any.proto", "well-known"),
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


@pytest.mark.parametrize("path", ["_private.proto", "9lives/x.proto", "/".join(["d"] * 11) + "/x.proto",
                                  "a/" + "x" * 122 + ".proto", "google/api/annotations.proto",
                                  "google/protobufx/a.proto"])
def test_paths_at_the_edges_of_the_grammar_are_accepted(path: str) -> None:
    assert validate_proto_path(path) == path


@given(st.text(max_size=200))
def test_no_accepted_path_can_read_as_an_option_or_leave_its_root(path: str) -> None:
    # Given any text, When it is accepted as a path, Then every segment is a safe file name
    try:
        accepted = validate_proto_path(path)
    except InvalidPath:
        return
    for segment in accepted.split("/"):
        assert segment[0].isascii() and (segment[0].isalnum() or segment[0] == "_")
        assert segment not in ("..", ".") and len(segment) <= 128
    assert accepted.endswith(".proto") and not accepted.lower().startswith("google/protobuf/")


@pytest.mark.parametrize("paths,fragment", [
    (["A.proto", "a.proto"], "differ only in case"),
    (["acme/V1/x.proto", "acme/v1/X.proto"], "differ only in case"),
    (["x.proto", "x.proto/y.proto"], "uses it as a directory"),
    (["X.proto/y.proto", "x.proto"], "uses it as a directory"),
])
def test_paths_that_collide_when_unpacked_are_duplicates(paths: list[str], fragment: str) -> None:
    # Given an upload whose paths would land on one file on some file system, Then it is refused
    with pytest.raises(DuplicatePath, match=fragment):
        validate_upload([(p, b"x") for p in paths], 10)


def test_directories_that_differ_in_case_only_hold_distinct_files() -> None:
    assert len(validate_upload([("A/x.proto", b"x"), ("a/y.proto", b"y")], 10)) == 2
