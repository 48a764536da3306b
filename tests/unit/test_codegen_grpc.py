"""gRPC stubs for every language whose plugin the layer carries, and runtime-matched protoc releases:
the protoc flags each language gets (fake plugin binaries, no protoc run), the layer's description, and
the runtime each release's output needs."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from chalicelib.adapters.codegen import LANGUAGES, CodeGenerator
from chalicelib.adapters.codegen.generator import _Generation
from chalicelib.adapters.codegen.releases import (
    grpc_runtime,
    read_layer,
    release_runtime,
    runtime_version,
    supports_editions,
)
from chalicelib.domain.compile_status import (
    compiled_languages,
    status_language,
    status_name,
)

SERVICE = b'syntax = "proto3";\npackage a.v1;\nmessage P { string id = 1; }\nservice S { rpc Call(P) returns (P); }\n'
PLAIN = b'syntax = "proto3";\npackage a.v1;\nmessage Q { string id = 1; }\n'
# language -> (the plugin's protoc name, its output flag)
GRPC = {"java": ("protoc-gen-grpc-java", "--grpc-java_out={out}"),
        "kotlin": ("protoc-gen-grpc-java", "--grpc-java_out={out}"),
        "cpp": ("protoc-gen-grpc-cpp", "--grpc-cpp_out={out}"),
        "csharp": ("protoc-gen-grpc-csharp", "--grpc-csharp_out={out}"),
        "ruby": ("protoc-gen-grpc-ruby", "--grpc-ruby_out={out}"),
        "php": ("protoc-gen-grpc-php", "--grpc-php_out={out}"),
        "objc": ("protoc-gen-grpc-objc", "--grpc-objc_out={out}")}


def _executable(path: Path, text: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Given a layer with two protoc releases and every gRPC plugin (some listed with their versions in
    spoke-protoc-layer.json, the others only present in bin/), and nothing else on PATH."""
    root = tmp_path / "opt"
    _executable(root / "bin" / "protoc", "#!/bin/sh\necho libprotoc 36.2\n")
    _executable(root / "protoc" / "3.21.12" / "bin" / "protoc", "#!/bin/sh\necho libprotoc 3.21.12\n")
    for name in ("grpc_cpp_plugin", "grpc_csharp_plugin", "grpc_ruby_plugin", "grpc_php_plugin",
                 "grpc_objective_c_plugin", "protoc-gen-grpc-java"):
        _executable(root / "bin" / name)
    (root / "spoke-protoc-layer.json").write_text(json.dumps({
        "releases": [{"release": "3.21.12", "protoc": "protoc/3.21.12/bin/protoc", "include": "protoc/3.21.12/include"},
                     {"release": "36.2", "protoc": "bin/protoc", "include": "include", "default": True}],
        "grpc_plugins": {"cpp": "bin/grpc_cpp_plugin",
                         "java": "bin/protoc-gen-grpc-java",
                         "ruby": {"path": "bin/grpc_ruby_plugin", "version": "1.51.2"}},
        "grpc_plugin_versions": {"cpp": "1.51.1"},
        "sources": {"protobuf-compiler-grpc-java-plugin": {"version": "1.41.3"}}}))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    return root


def _plans(generator: CodeGenerator, tmp_path: Path, files: dict[str, bytes]) -> dict[str, object]:
    generation = _Generation(generator, str(tmp_path / "work"), files, {}, list(GRPC), None, "m", "v1.0.0", {})
    generation.with_services = sorted(name for name, content in files.items() if b"service " in content)
    return {name: generation.plan(name) for name in GRPC}


def test_every_language_with_a_plugin_gets_its_grpc_flags_for_files_with_services(layer: Path, tmp_path: Path):
    # When a file with a service is planned
    plans = _plans(CodeGenerator(str(layer / "bin" / "protoc")), tmp_path, {"a/v1/s.proto": SERVICE})
    # Then each language runs its own plugin, under a protoc name of its own (one protoc run drives all)
    for name, (protoc_name, out_flag) in GRPC.items():
        plan = plans[name]
        binary = LANGUAGES[name].grpc
        plugin = next(flag for flag in plan.flags if flag.startswith(f"--plugin={protoc_name}="))
        assert os.path.basename(plugin.split("=", 2)[2]) == binary
        assert out_flag in plan.flags and plan.notes == [] and plan.grpc_missing is None
        assert binary in plan.plugins
    # And the manifest's plugin versions come from the layer's description (or its sources)
    assert plans["cpp"].plugins == {"grpc_cpp_plugin": "1.51.1"}
    assert plans["java"].plugins == {"protoc-gen-grpc-java": "1.41.3"}
    assert plans["ruby"].plugins == {"grpc_ruby_plugin": "1.51.2"}


def test_files_without_services_run_no_grpc_plugin(layer: Path, tmp_path: Path):
    plans = _plans(CodeGenerator(str(layer / "bin" / "protoc")), tmp_path, {"a/v1/q.proto": PLAIN})
    for name, plan in plans.items():
        assert not any("grpc" in flag for flag in plan.flags), name
        assert plan.plugins == {}


def test_a_missing_plugin_means_messages_only_said_in_the_notes_and_in_languages(layer: Path, tmp_path: Path):
    # Given a layer without the C++ and Objective-C plugins
    (layer / "bin" / "grpc_cpp_plugin").unlink()
    (layer / "bin" / "grpc_objective_c_plugin").unlink()
    generator = CodeGenerator(str(layer / "bin" / "protoc"))
    plans = _plans(generator, tmp_path, {"a/v1/s.proto": SERVICE})
    # Then their messages are still planned, and the missing stubs are named
    for name, binary in (("cpp", "grpc_cpp_plugin"), ("objc", "grpc_objective_c_plugin")):
        assert plans[name].grpc_missing == binary and plans[name].flags == list(LANGUAGES[name].protoc_flags)
        assert plans[name].notes == [
            f"gRPC stubs not generated for a/v1/s.proto: {binary} is not in the layer (messages only)"]
    # And /languages' catalog says which languages get stubs
    grpc = generator.catalog(list(GRPC))["grpc"]
    assert (grpc["cpp"]["available"], grpc["objc"]["available"], grpc["ruby"]["available"]) == (False, False, True)
    assert "messages only" in grpc["cpp"]["note"]


def test_cpp_keeps_grpc_files_only_for_files_with_services(layer: Path, tmp_path: Path):
    generation = _Generation(CodeGenerator(str(layer / "bin" / "protoc")), str(tmp_path / "w"),
                             {"a/s.proto": SERVICE, "a/q.proto": PLAIN}, {}, ["cpp"], None, "m", "v1.0.0", {})
    generation.with_services = ["a/s.proto"]
    generated = {name: b"" for name in ("a/s.pb.h", "a/s.grpc.pb.h", "a/s.grpc.pb.cc", "a/q.pb.h",
                                        "a/q.grpc.pb.h", "a/q.grpc.pb.cc")}
    assert sorted(generation.grpc_of_services_only("cpp", generated)) == [
        "a/q.pb.h", "a/s.grpc.pb.cc", "a/s.grpc.pb.h", "a/s.pb.h"]


def test_csharp_stubs_go_beside_their_messages(layer: Path, tmp_path: Path):
    generation = _Generation(CodeGenerator(str(layer / "bin" / "protoc")), str(tmp_path / "w"),
                             {"a/v1/svc.proto": SERVICE}, {}, ["csharp"], None, "m", "v1.0.0", {})
    generated = {"A/V1/Svc.cs": b"m", "SvcGrpc.cs": b"g", "B/Other.cs": b"o", "LoneGrpc.cs": b"l"}
    assert generation.grpc_of_services_only("csharp", generated) == {
        "A/V1/Svc.cs": b"m", "A/V1/SvcGrpc.cs": b"g", "B/Other.cs": b"o", "LoneGrpc.cs": b"l"}


# --- releases -------------------------------------------------------------------------------------

def test_the_layer_lists_its_releases_newest_first_with_one_default(layer: Path):
    generator = CodeGenerator(str(layer / "bin" / "protoc"))
    assert [(r.release, r.default) for r in generator.releases()] == [("36.2", True), ("3.21.12", False)]
    assert generator.for_release(None) is generator and generator.for_release("36.2") is generator
    older = generator.for_release("3.21.12")
    assert older.protoc == str(layer / "protoc" / "3.21.12" / "bin" / "protoc") and older.release() == "3.21.12"
    # (the plugins stay the layer's)
    assert older.grpc_plugin("cpp") == (str(layer / "bin" / "grpc_cpp_plugin"), "1.51.1")
    with pytest.raises(ValueError, match="unknown protoc release '2.6.1'"):
        generator.for_release("2.6.1")


def test_a_layer_without_a_description_has_one_release_its_protoc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    protoc = _executable(tmp_path / "bin" / "protoc", "#!/bin/sh\necho libprotoc 36.2\n")
    (tmp_path / "include" / "google" / "protobuf").mkdir(parents=True)
    (tmp_path / "include" / "google" / "protobuf" / "descriptor.proto").write_text("")
    assert read_layer(str(tmp_path)).releases == ()
    generator = CodeGenerator(str(protoc))
    assert [(r.release, r.default) for r in generator.releases()] == [("36.2", True)]


def test_a_release_before_27_refuses_editions_with_a_clear_message(layer: Path):
    older = CodeGenerator(str(layer / "bin" / "protoc")).for_release("3.21.12")
    refusal = older.editions_refusal({"e.proto": b'edition = "2023";\npackage e;\n', "p.proto": PLAIN})
    assert refusal is not None and refusal.startswith("protoc 3.21.12 cannot compile editions")
    assert "e.proto" in refusal and "p.proto" not in refusal and "27.0" in refusal
    assert older.editions_refusal({"p.proto": PLAIN}) is None
    assert CodeGenerator(str(layer / "bin" / "protoc")).editions_refusal({"e.proto": b'edition = "2023";'}) is None
    assert (supports_editions("3.21.12"), supports_editions("27.5"), supports_editions("36.2")) == (False, True, True)


@pytest.mark.parametrize(("language", "release", "version"), [
    ("python", "3.21.12", "4.21.12"), ("java", "3.21.12", "3.21.12"), ("cpp", "3.21.12", "3.21.12"),
    ("php", "3.21.12", "3.21.12"), ("ruby", "3.21.12", "3.21.12"), ("csharp", "3.21.12", "3.21.12"),
    ("python", "27.5", "5.27.5"), ("java", "27.5", "4.27.5"), ("cpp", "27.5", "5.27.5"),
    ("cpp", "31.1", "6.31.1"), ("python", "33.1", "6.33.1"),
    ("python", "36.2", "7.36.2"), ("cpp", "36.2", "7.36.2"), ("java", "36.2", "4.36.2"),
    ("csharp", "36.2", "3.36.2"), ("php", "36.2", "4.36.2")])
def test_the_runtime_table_follows_protobuf_dev(language: str, release: str, version: str):
    assert runtime_version(language, release) == version


def test_table_entries_take_the_releases_runtime_and_say_where_they_come_from():
    table = [{"ecosystem": "pypi", "package": "protobuf", "version": "7.3.21.12",
              "requirement": "protobuf>=7.3.21.12,<8", "source": "table"}]
    [python] = release_runtime("python", "3.21.12", {}, table)
    assert (python["version"], python["requirement"], python["runtime_source"]) == (
        "4.21.12", "protobuf>=4.21.12,<5", "table")
    gencode = [{"ecosystem": "maven", "package": "com.google.protobuf:protobuf-java", "version": "4.36.2",
                "requirement": "com.google.protobuf:protobuf-java:4.36.2", "source": "gencode"}]
    assert release_runtime("java", "36.2", {}, gencode)[0] == {**gencode[0], "runtime_source": "generated code"}


def test_cpp_names_abseil_from_22_on():
    entry = [{"ecosystem": "c++", "package": "protobuf", "version": "7.36.2", "requirement": "protobuf==7.36.2",
              "source": "gencode"}]
    assert [e["package"] for e in release_runtime("cpp", "36.2", {}, entry)] == ["protobuf", "abseil-cpp"]
    assert [e["package"] for e in release_runtime("cpp", "3.21.12", {}, entry)] == ["protobuf"]


def test_objective_c_states_the_version_its_generated_code_checks():
    generated = {"A.pbobjc.h": b"#if GOOGLE_PROTOBUF_OBJC_VERSION < 40311\n#error too old\n#endif\n"}
    table = [{"ecosystem": "cocoapods", "package": "Protobuf", "version": "4.36.2",
              "requirement": "Protobuf >= 4.36.2", "source": "table"}]
    [objc] = release_runtime("objc", "36.2", generated, table)
    assert (objc["runtime_source"], objc["gencode_check"]) == (
        "generated code", "GOOGLE_PROTOBUF_OBJC_VERSION >= 40311")
    assert release_runtime("ruby", "36.2", {"a_pb.rb": b"require 'google/protobuf'\n"},
                           [{**table[0], "ecosystem": "rubygems"}])[0]["runtime_source"] == "table"


def test_stubs_name_the_grpc_library_at_their_plugins_version():
    assert [(e["package"], e["requirement"], e["runtime_source"]) for e in grpc_runtime(
        "java", "protoc-gen-grpc-java", "1.41.3")] == [
        ("io.grpc:grpc-stub", "io.grpc:grpc-stub:1.41.3", "plugin"),
        ("io.grpc:grpc-protobuf", "io.grpc:grpc-protobuf:1.41.3", "plugin")]
    assert [e["requirement"] for e in grpc_runtime("csharp", "grpc_csharp_plugin", "1.51.1")] == [
        "Grpc.Core.Api >= 2.51.0"]
    assert [e["requirement"] for e in grpc_runtime("ruby", "grpc_ruby_plugin", "1.51.1")] == ["grpc >= 1.51.1"]
    assert grpc_runtime("ruby", None, "") == [] and grpc_runtime("cpp", "grpc_cpp_plugin", "") == []


def test_statuses_are_named_by_language_and_release():
    assert status_name("java") == "java" and status_name("java", "3.21.12") == "java@3.21.12"
    assert status_language("java@3.21.12") == ("java", "3.21.12") and status_language("go") == ("go", None)
    statuses = {"java": {"status": "succeeded"}, "java@3.21.12": {"status": "succeeded"}, "go": {"status": "failed"}}
    assert compiled_languages(statuses) == ["java"]
