"""The code generator's pure parts: the language table, Go import paths, manifests, runtimes, ZIPs."""
from __future__ import annotations

import io
import json
import zipfile

import pytest

from chalicelib.adapters import codegen
from chalicelib.adapters.codegen import (
    LANGUAGES,
    build_manifest,
    check_proto_paths,
    deterministic_zip,
    go_import_plan,
    go_m_flags,
    go_module_root,
    manifest_bytes,
    render_go_mod,
    runtime_requirements,
    trim_error,
)


def test_the_language_table():
    assert set(LANGUAGES) == {"go", "python", "pyi", "java", "kotlin", "cpp", "csharp", "ruby", "php", "objc",
                              "descriptor_set"}
    for name, language in LANGUAGES.items():
        assert language.name == name and language.description and language.runtime_note
        assert any("{out}" in flag for flag in language.protoc_flags)
    assert LANGUAGES["go"].plugin == "protoc-gen-go" and LANGUAGES["go"].grpc == "protoc-gen-go-grpc"
    assert "--go_opt=paths=source_relative" in LANGUAGES["go"].protoc_flags
    assert "--go-grpc_opt=paths=source_relative" in LANGUAGES["go"].grpc_flags
    assert LANGUAGES["python"].grpc == "grpcio-tools"
    # Kotlin's DSL extends the Java classes: both go in its ZIP.
    assert LANGUAGES["kotlin"].protoc_flags[:2] == ("--java_out={out}", "--kotlin_out={out}")
    assert {"--include_imports", "--include_source_info"} <= set(LANGUAGES["descriptor_set"].protoc_flags)


def test_go_import_plan_prefers_go_package_and_maps_the_rest_to_the_prefix():
    plan = go_import_plan({
        "acme/shop/v1/order.proto": None,
        "acme/shop/v1/service.proto": None,
        "top.proto": None,
        "common/v1/money.proto": "example.com/common/v1;commonv1",
        "google/protobuf/timestamp.proto": "google.golang.org/protobuf/types/known/timestamppb",
    }, "example.com/gen/")
    assert plan.missing == ()
    assert plan.mappings == {"acme/shop/v1/order.proto": "example.com/gen/acme/shop/v1",
                             "acme/shop/v1/service.proto": "example.com/gen/acme/shop/v1",
                             "top.proto": "example.com/gen"}
    assert plan.import_paths["common/v1/money.proto"] == "example.com/common/v1"
    assert plan.import_paths["google/protobuf/timestamp.proto"] == "google.golang.org/protobuf/types/known/timestamppb"
    assert go_m_flags(plan.mappings) == [
        "--go_opt=Macme/shop/v1/order.proto=example.com/gen/acme/shop/v1",
        "--go_opt=Macme/shop/v1/service.proto=example.com/gen/acme/shop/v1",
        "--go_opt=Mtop.proto=example.com/gen",
    ]
    assert go_m_flags({"a/b.proto": "x.com/a"}, "go-grpc_opt") == ["--go-grpc_opt=Ma/b.proto=x.com/a"]


def test_go_import_plan_without_prefix_reports_the_files_it_cannot_place():
    plan = go_import_plan({"a/x.proto": None, "b/y.proto": "example.com/b", "c/z.proto": ""}, None)
    assert plan.missing == ("a/x.proto", "c/z.proto") and plan.mappings == {}
    assert go_import_plan({"a/x.proto": None}, "  ").missing == ("a/x.proto",)


def test_go_module_root():
    paths = {"acme/v1/a.proto": "example.com/gen/acme/v1", "acme/v1/b.proto": "example.com/gen/acme/v1",
             "root.proto": "example.com/gen"}
    assert go_module_root(paths, paths) == "example.com/gen"
    assert go_module_root(["acme/v1/a.proto"], {"acme/v1/a.proto": "github.com/acme/apis/acme/v1"}) \
        == "github.com/acme/apis"
    # An own go_package that does not end with the file's directory: no root.
    assert go_module_root(["acme/v1/a.proto"], {"acme/v1/a.proto": "example.com/acmepb"}) is None
    # Two roots disagree.
    assert go_module_root(["a/x.proto", "b/y.proto"], {"a/x.proto": "one.com/a", "b/y.proto": "two.com/b"}) is None
    assert go_module_root(["a/x.proto"], {}) is None


def test_render_go_mod():
    assert render_go_mod("example.com/gen", "1.28.1") == (
        "module example.com/gen\n\ngo 1.21\n\nrequire (\n\tgoogle.golang.org/protobuf v1.28.1\n)\n")
    text = render_go_mod("example.com/gen", "v1.28.1", "v1.32.0")
    assert "\tgoogle.golang.org/grpc v1.32.0\n\tgoogle.golang.org/protobuf v1.28.1\n" in text


def test_runtime_requirements_read_the_generated_code():
    python = {"a/x_pb2.py": b"# Protobuf Python Version: 7.36.2\n",
              "a/s_pb2_grpc.py": b"GRPC_GENERATED_VERSION = '1.85.1'\n"}
    assert [item["requirement"] for item in runtime_requirements("python", python, "36.2", {})] == [
        "protobuf>=7.36.2,<8", "grpcio>=1.85.1"]
    # pyi has no version marker: the table for protoc 36.
    assert runtime_requirements("pyi", {"a/x_pb2.pyi": b""}, "36.2", {})[0]["requirement"] == "protobuf>=7.36.2,<8"
    java = {"com/x/X.java": b"// Protobuf Java Version: 4.36.2\n"}
    assert [item["requirement"] for item in runtime_requirements("kotlin", java, "36.2", {})] == [
        "com.google.protobuf:protobuf-java:4.36.2", "com.google.protobuf:protobuf-kotlin:4.36.2"]
    cpp = runtime_requirements("cpp", {"a/x.pb.h": b"// Protobuf C++ Version: 7.36.2\n"}, "36.2", {})
    assert cpp[0]["requirement"] == "protobuf==7.36.2" and cpp[0]["source"] == "gencode"
    go = runtime_requirements("go", {"a/s_grpc.pb.go": b"const _ = grpc.SupportPackageIsVersion7\n"}, "36.2",
                              {"protoc-gen-go": "1.28.1"})
    assert [item["requirement"] for item in go] == ["google.golang.org/grpc v1.32.0",
                                                    "google.golang.org/protobuf v1.28.1"]
    assert [item["requirement"] for item in runtime_requirements("go", {}, "36.2", {"protoc-gen-go": "1.28.1"})] \
        == ["google.golang.org/protobuf v1.28.1"]
    assert runtime_requirements("csharp", {}, "36.2", {})[0]["requirement"] == "Google.Protobuf >= 3.36.2"
    assert runtime_requirements("ruby", {}, "36.2", {})[0]["package"] == "google-protobuf"
    assert runtime_requirements("php", {}, "36.2", {})[0]["requirement"] == "google/protobuf ^4.36.2"
    objc = runtime_requirements("objc", {"a/X.pbobjc.h": b"#if GOOGLE_PROTOBUF_OBJC_VERSION < 40311\n"}, "36.2", {})
    assert "40311" in objc[0]["note"]
    assert runtime_requirements("descriptor_set", {}, "36.2", {}) == []


def test_manifest_lists_every_generated_file_with_its_sha256():
    generated = {"b/y_pb2.py": b"y", "a/x_pb2.py": b"x"}
    manifest = build_manifest(module="acme/shop", version="1.2.0", language="python", protoc_version="36.2",
                              plugins={"grpcio-tools": "1.85.1"}, generated=generated,
                              sources={"a/x.proto": b"syntax"}, runtime=[{"requirement": "protobuf>=7.36.2,<8"}],
                              extras=["requirements.txt"], notes=["n"])
    assert manifest["module"] == "acme/shop" and manifest["version"] == "1.2.0"
    assert manifest["language"] == "python" and manifest["schema"] == 1
    assert manifest["generator"] == {"protoc": "36.2", "plugins": {"grpcio-tools": "1.85.1"}}
    assert [item["path"] for item in manifest["files"]] == ["a/x_pb2.py", "b/y_pb2.py"]
    assert manifest["files"][0] == {"path": "a/x_pb2.py", "size": 1,
                                    "sha256": "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"}
    assert manifest["sources"][0]["path"] == "a/x.proto" and manifest["extras"] == ["requirements.txt"]
    assert "go" not in manifest
    # Serialised the same way every time, keys sorted.
    assert manifest_bytes(manifest) == manifest_bytes(json.loads(manifest_bytes(manifest)))
    assert manifest_bytes(manifest).startswith(b'{\n  "dependencies": []')


def test_zips_are_deterministic_whatever_the_insertion_order():
    one = deterministic_zip({"b.txt": b"b", "a/x.txt": b"x" * 1000, "spoke-manifest.json": b"{}"})
    two = deterministic_zip({"spoke-manifest.json": b"{}", "a/x.txt": b"x" * 1000, "b.txt": b"b"})
    assert one == two
    with zipfile.ZipFile(io.BytesIO(one)) as archive:
        infos = archive.infolist()
        assert [info.filename for info in infos] == ["a/x.txt", "b.txt", "spoke-manifest.json"]
        assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {(info.external_attr >> 16) & 0o777 for info in infos} == {0o644}
        assert archive.read("a/x.txt") == b"x" * 1000
    assert deterministic_zip({"a": b"1"}) != deterministic_zip({"a": b"2"})


def test_trim_error_hides_private_paths_and_caps_the_length():
    text = "/tmp/spoke-codegen-x/src/a/x.proto:3:1: Expected \";\".\n/tmp/spoke-codegen-x/deps/b.proto: gone\n"
    trimmed = trim_error(text, ["/tmp/spoke-codegen-x", "/tmp/spoke-codegen-x/src", "/tmp/spoke-codegen-x/deps"])
    assert trimmed == 'a/x.proto:3:1: Expected ";".\nb.proto: gone'
    long = trim_error("e" * 10_000)
    assert len(long) < 4200 and long.endswith("(truncated)")
    assert trim_error("  ") == "failed with no message"


@pytest.mark.parametrize("path", ["/abs.proto", "../up.proto", "a/../b.proto", "a//b.proto", "a\\b.proto",
                                  "a/b.txt", "./a.proto"])
def test_unsafe_paths_are_refused(path):
    with pytest.raises(ValueError):
        check_proto_paths([path])


def test_unknown_languages_are_refused_before_anything_runs():
    generator = codegen.CodeGenerator(protoc_path="/nonexistent/protoc")
    with pytest.raises(ValueError, match="unknown languages"):
        generator.generate({"a.proto": b""}, {}, ["go", "rust"])


@pytest.mark.parametrize("option", ["../../x", "example.com/a/../b", "-flag/x;x"])
def test_a_go_package_go_would_refuse_fails_go_alone_with_the_reason(option):
    # Given a file whose go_package is no Go import path, When it is compiled to go and python
    source = f'syntax = "proto3";\npackage a.v1;\noption go_package = "{option}";\nmessage A {{}}\n'.encode()
    result = codegen.CodeGenerator().generate({"a/v1/a.proto": source}, {}, ["go", "python"])
    # Then go fails naming the file and the path, no go.mod is made from it, and python still succeeds
    go = result.outputs["go"]
    assert go.zip_bytes is None and "a/v1/a.proto" in go.error and "is not a Go import path" in go.error
    assert result.outputs["python"].error is None
