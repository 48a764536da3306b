"""One way to run protoc: no file name, option value or dependency path can add an argument or become
an option; the well-known types cannot be shadowed; every run is bounded in time and memory; protoc's
crash text never reaches a client."""
from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chalicelib.adapters import protoc as protoc_module
from chalicelib.adapters.codegen import CodeGenerator
from chalicelib.adapters.protoc import (
    INTERNAL_ERROR,
    ProtocLimits,
    ProtocRunner,
    find_protoc,
    find_well_known_include,
    input_name_problem,
    protoc_invocation,
    run_protoc,
)
from chalicelib.cli.compile_dir import CompileError, compile_directory
from chalicelib.domain.errors import CompileLimitExceeded, InvalidProto
from chalicelib.domain.schema import CompilerMessage
from chalicelib.domain.uploads import UploadedFile
from chalicelib.services.schemas import ResolvedDependencies, SchemaService

WKT = "/opt/include"
OWN, DEPS = "/work/x/src", "/work/x/deps"
ARGFILE = "/work/x/arguments"
PROGRAM = ["/opt/bin/protoc"]
OPTION_LIKE = ["-h.proto", "-Ijunk.proto", "--descriptor_set_out=x.proto", "@x.proto", "--plugin=x.proto",
               "-o.proto", "--.proto", "-", "@", "--"]
A = b'syntax = "proto3";\npackage a.v1;\nimport "google/protobuf/timestamp.proto";\n' \
    b'message A { google.protobuf.Timestamp at = 1; }\n'
EVIL_TIMESTAMP = b'syntax = "proto3";\npackage google.protobuf;\nmessage Timestamp { string evil = 1; }\n'


def _big(messages: int = 1500) -> bytes:
    """About 1 MB of dense messages: seconds of protoc work and hundreds of MiB of address space."""
    fields = " ".join(f"string f{j} = {j + 1};" for j in range(40))
    return ("syntax = \"proto3\";\npackage big.v1;\n"
            + "\n".join(f"message M{i} {{ {fields} }}" for i in range(messages))).encode()


def _names(descriptor_set: bytes) -> list[str]:
    return [f.name for f in descriptor_pb2.FileDescriptorSet.FromString(descriptor_set).file]


# --- the command line, for any input -----------------------------------------------------------------

hostile_text = st.text(alphabet=st.one_of(st.sampled_from(list("-@=/.\\\n\r\x00 \t:;,'\"$`*?~")),
                                          st.characters()), max_size=40)
segment = st.one_of(hostile_text, st.sampled_from(["-I", "--", "-h", "@x", "..", ".", "", "google", "protobuf",
                                                   "a", "b_2", "ünï", "-Ijunk.proto", "x.proto"]))
file_name = st.one_of(
    st.sampled_from(OPTION_LIKE + ["a.proto", "a/b.proto", "a\n--plugin=x.proto", "a\x00.proto", "a/../b.proto",
                                   "/abs.proto", "google/protobuf/timestamp.proto", "ünï/cödé.proto"]),
    hostile_text.map(lambda t: t + ".proto"),
    st.lists(segment, min_size=1, max_size=4).map(lambda parts: "/".join(parts) + ".proto"),
    hostile_text)
flag = st.one_of(st.sampled_from(["--include_imports", "--descriptor_set_out", "--go_opt", "--python_out",
                                  "--plugin", "--go-grpc_out", "--csharp_opt"]),
                 st.sampled_from(["-I", "--proto_path", "-o", "@x", "--a\nb", "--x=y", "-", ""]), hostile_text)
value = st.one_of(st.none(), hostile_text, st.sampled_from(["", "=", "a\n--plugin=x", "x\x00y", "@args",
                                                            "/out", "Ma.proto=example.com/a"]))


def _as_protoc_reads(content: bytes) -> list[str]:
    """The arguments protoc reads from an @file: one per line (std::getline), never expanded further."""
    assert content.endswith(b"\n")
    return [os.fsdecode(line) for line in content[:-1].split(b"\n")]


def _check(names: list[tuple[str, str]], options: list[tuple[str, str | None]]) -> bool:
    """The invariant: refused with ValueError, or exactly the roots, the options asked for and one absolute
    path under its root per input. True when the command line was built."""
    try:
        argv, content = protoc_invocation(PROGRAM, ARGFILE, WKT, [OWN, DEPS], options, names)
    except ValueError:
        return False  # refused before anything could run
    # argv is the program and the @file, nothing else
    assert argv == [*PROGRAM, f"@{ARGFILE}"]
    arguments = _as_protoc_reads(content)
    # exactly: the include roots (well-known types first), the options asked for, one line per input
    assert len(arguments) == 3 + len(options) + len(names)
    assert arguments[:3] == [f"-I{WKT}", f"-I{OWN}", f"-I{DEPS}"]
    rendered = arguments[3:3 + len(options)]
    assert rendered == [f if v is None else f"{f}={v}" for f, v in options]
    for text, (wanted_flag, wanted_value) in zip(rendered, options, strict=True):
        assert text.startswith("--") and text.partition("=")[0] == wanted_flag   # protoc splits at the first =
        assert (text.partition("=")[2] if wanted_value is not None else None) == wanted_value
    for text, (root, name) in zip(arguments[3 + len(options):], names, strict=True):
        assert text == f"{root}/{name}" and text.startswith(root + "/")
        assert os.path.normpath(text) == text            # under its root: no '..', '.' or empty segment
        assert input_name_problem(name) is None
        assert not any(part.startswith("-") for part in name.split("/")) and not name.startswith("@")
    return True


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(st.tuples(st.sampled_from([OWN, DEPS]), file_name), max_size=6),
       options=st.lists(st.tuples(flag, value), max_size=5))
@example(names=[(OWN, name) for name in OPTION_LIKE], options=[])
@example(names=[(OWN, "a.proto")], options=[("--go_opt", "Ma.proto=x\n--plugin=protoc-gen-go=/tmp/evil")])
def test_no_name_or_option_value_adds_an_argument(names: list[tuple[str, str]],
                                                  options: list[tuple[str, str | None]]) -> None:
    _check(names, options)


@settings(max_examples=1500, deadline=None)
@given(root=st.sampled_from([OWN, DEPS]), name=file_name)
def test_any_single_name_is_refused_or_an_absolute_path_under_its_root(root: str, name: str) -> None:
    _check([(root, name)], [("--include_imports", None), ("--descriptor_set_out", "/out/set.binpb")])


@settings(max_examples=1500, deadline=None)
@given(option=st.tuples(flag, value))
def test_any_single_option_is_refused_or_exactly_one_argument(option: tuple[str, str | None]) -> None:
    _check([(OWN, "a/b.proto")], [("--include_imports", None), option])


@pytest.mark.parametrize("name", OPTION_LIKE + ["a/-h.proto", "a\nb.proto", "a\x00.proto", "../a.proto",
                                                "a//b.proto", "./a.proto", "/a.proto", "a\\b.proto", "a.txt", ""])
def test_option_like_and_unsafe_names_are_refused(name: str) -> None:
    assert input_name_problem(name) is not None
    with pytest.raises(ValueError):
        protoc_invocation(PROGRAM, ARGFILE, WKT, [OWN], [], [(OWN, name)])


@pytest.mark.parametrize("option", [("-I", "/x"), ("--proto_path", "/x"), ("--go_opt", "a\nb"), ("--x", "\x00"),
                                    ("--a=b", "c"), ("@x", None), ("-h", None)])
def test_options_are_flags_from_code_with_single_line_values(option: tuple[str, str | None]) -> None:
    with pytest.raises(ValueError):
        protoc_invocation(PROGRAM, ARGFILE, WKT, [OWN], [option], [])


def test_an_input_must_be_under_one_of_the_roots() -> None:
    with pytest.raises(ValueError):
        protoc_invocation(PROGRAM, ARGFILE, WKT, [OWN], [], [("/elsewhere", "a.proto")])
    with pytest.raises(ValueError):
        protoc_invocation(PROGRAM, ARGFILE, WKT, [OWN], [], [(WKT, "google/protobuf/timestamp.proto")])
    with pytest.raises(ValueError):
        protoc_invocation(PROGRAM, ARGFILE, WKT, ["relative/root"], [], [])


# --- real protoc -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def protoc() -> str:
    return find_protoc()


@pytest.fixture(scope="module")
def well_known(protoc: str) -> str:
    return find_well_known_include(protoc)


def test_descriptor_set_names_are_the_relative_paths(protoc: str) -> None:
    files = {"acme/v1/a.proto": A.replace(b"package a.v1;", b"package acme.v1;\nimport \"common/m.proto\";"),
             "b.proto": b'syntax = "proto3";\nmessage B {}\n'}
    outcome = ProtocRunner(protoc).descriptor_set(files, {"common/m.proto": b'syntax = "proto3";\nmessage M {}\n'})
    assert outcome.ok, outcome.errors
    assert sorted(_names(outcome.descriptor_set)) == ["acme/v1/a.proto", "b.proto", "common/m.proto",
                                                      "google/protobuf/timestamp.proto"]


def test_errors_are_located_at_the_relative_paths(protoc: str) -> None:
    outcome = ProtocRunner(protoc).descriptor_set({"acme/v1/a.proto": b'syntax = "proto3";\nmessage A { B b = 1; }\n'})
    assert outcome.errors == [CompilerMessage("acme/v1/a.proto", 2, 13, '"B" is not defined.')]


def test_option_like_uploads_are_refused_not_run(protoc: str) -> None:
    good = b'syntax = "proto3";\nmessage Good {}\n'
    files = {"good.proto": good, **{name: b"this is not protobuf {{{" for name in OPTION_LIKE[:5]}}
    outcome = ProtocRunner(protoc).descriptor_set(files)
    assert not outcome.ok and outcome.descriptor_set is None
    assert sorted(e.file for e in outcome.errors) == sorted(OPTION_LIKE[:5])


@pytest.mark.parametrize("name", ["-h.proto", "-Ijunk.proto", "--descriptor_set_out=x.proto", "@x.proto"])
def test_without_the_name_check_an_option_like_name_is_still_only_a_file(
        protoc: str, well_known: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    # Given the name check switched off, so that only the absolute-path rule stands
    monkeypatch.setattr(protoc_module, "check_input_name", lambda n: n)
    root = tmp_path / "src"
    root.mkdir()
    (root / name).write_bytes(b'syntax = "proto3";\nmessage Junk {}\n')
    out = tmp_path / "out.binpb"
    # When protoc is given it as an input
    run = run_protoc([protoc], well_known=well_known, include=[str(root)], inputs=[(str(root), name)],
                     options=[("--descriptor_set_out", str(out))], cwd=str(root))
    # Then protoc compiled it as a file (no help text, no include root, no other output, no @file)
    assert run.ok and run.stdout == "", run.stderr
    assert _names(out.read_bytes()) == [name]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.binpb", "src"]


def test_an_uploaded_well_known_type_cannot_replace_the_real_one(protoc: str, well_known: str,
                                                                 tmp_path: Path) -> None:
    runner = ProtocRunner(protoc)
    # An upload under google/protobuf/ is refused
    uploaded = runner.descriptor_set({"a.proto": A, "google/protobuf/timestamp.proto": EVIL_TIMESTAMP})
    assert not uploaded.ok and [e.file for e in uploaded.errors] == ["google/protobuf/timestamp.proto"]
    # A dependency that brings one is shadowed by the real one
    with_dependency = runner.descriptor_set({"a.proto": A}, {"google/protobuf/timestamp.proto": EVIL_TIMESTAMP})
    assert with_dependency.ok, with_dependency.errors
    files = descriptor_pb2.FileDescriptorSet.FromString(with_dependency.descriptor_set).file
    timestamp = next(f for f in files if f.name == "google/protobuf/timestamp.proto")
    assert [field.name for field in timestamp.message_type[0].field] == ["seconds", "nanos"]
    # And even given as an input under an own root, protoc refuses it: its include root comes first
    root = tmp_path / "src"
    (root / "google" / "protobuf").mkdir(parents=True)
    (root / "google" / "protobuf" / "timestamp.proto").write_bytes(EVIL_TIMESTAMP)
    out = tmp_path / "out.binpb"
    run = run_protoc([protoc], well_known=well_known, include=[str(root)],
                     inputs=[(str(root), "google/protobuf/timestamp.proto")],
                     options=[("--descriptor_set_out", str(out))])
    assert not run.ok and "shadowed" in run.stderr and not out.exists()


def test_5000_files_go_through_the_argument_file(protoc: str) -> None:
    # 5,000 paths of ~480 characters: as arguments they would be far over ARG_MAX (usually 2 MiB)
    directory = "/".join(["d" * 110] * 4)
    files = {f"{directory}/p{i // 100}/file_{i:05d}.proto":
             f'syntax = "proto3";\npackage p{i};\nmessage M {{}}\n'.encode() for i in range(5000)}
    assert sum(len(name) for name in files) > os.sysconf("SC_ARG_MAX")
    outcome = ProtocRunner(protoc).descriptor_set(files)
    assert outcome.ok, outcome.errors[:3]
    assert sorted(_names(outcome.descriptor_set)) == sorted(files)


# --- bounds --------------------------------------------------------------------------------------------

def test_a_run_over_its_time_bound_is_its_own_outcome(protoc: str) -> None:
    outcome = ProtocRunner(protoc, ProtocLimits(timeout_seconds=0.001)).descriptor_set({"big.proto": _big()})
    assert outcome.limit_exceeded == "protoc went over its time limit of 0.001 s"
    assert not outcome.ok and outcome.descriptor_set is None and outcome.errors == []


@pytest.mark.parametrize("memory_mib, source", [(1, A), (8, A), (32, _big())])
def test_a_run_over_its_memory_bound_is_its_own_outcome(protoc: str, memory_mib: int, source: bytes) -> None:
    outcome = ProtocRunner(protoc, ProtocLimits(timeout_seconds=20, memory_mib=memory_mib)).descriptor_set(
        {"a.proto": source})
    assert outcome.limit_exceeded == f"protoc went over its memory limit of {memory_mib} MiB"
    assert not outcome.ok and outcome.errors == []


def test_the_same_sources_compile_within_the_default_bounds(protoc: str) -> None:
    assert ProtocLimits() == ProtocLimits(timeout_seconds=20.0, memory_mib=768)
    assert ProtocRunner(protoc).descriptor_set({"big.proto": _big(300)}).ok


def test_the_service_turns_a_limit_into_compile_limit_exceeded(protoc: str) -> None:
    service = SchemaService(None, None, ProtocRunner(protoc, ProtocLimits(timeout_seconds=0.001)))  # type: ignore[arg-type]
    with pytest.raises(CompileLimitExceeded) as raised:
        service.compile([UploadedFile("big.proto", _big())], ResolvedDependencies())
    assert raised.value.code == "COMPILE_LIMIT_EXCEEDED"
    assert "time limit of 0.001 s" in raised.value.message
    assert raised.value.details == {"limit": "protoc went over its time limit of 0.001 s"}


def test_generation_over_a_bound_fails_its_languages_with_the_bound() -> None:
    own = {"a/v1/a.proto": b'syntax = "proto3";\npackage a.v1;\nmessage A {}\nservice S { rpc Get(A) returns (A); }\n'}
    slow = CodeGenerator(timeout=0.001).generate(own, {}, ["python", "cpp", "descriptor_set"])
    assert slow.failed == {name: "protoc went over its time limit of 0.001 s"
                           for name in ("python", "cpp", "descriptor_set")}
    small = CodeGenerator(memory_mib=8).generate(own, {}, ["python", "java"])
    assert small.failed == {name: "protoc went over its memory limit of 8 MiB" for name in ("python", "java")}


# --- one way everywhere --------------------------------------------------------------------------------

@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every process the protoc module starts, and no protoc started any other way."""
    seen: list[list[str]] = []
    real_popen = subprocess.Popen

    def recording(argv, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(list(argv))
        return real_popen(argv, *args, **kwargs)

    def refused(*args, **kwargs):  # type: ignore[no-untyped-def]
        command = args[0] if args else kwargs.get("args")
        assert "protoc" not in os.path.basename(str(command[0])), f"protoc run outside run_protoc: {command}"
        return real_run(*args, **kwargs)

    real_run = subprocess.run
    monkeypatch.setattr(protoc_module.subprocess, "Popen", recording)
    from chalicelib.adapters.codegen import generator
    monkeypatch.setattr(generator.subprocess, "run", refused)
    return seen


def test_every_generation_run_is_the_program_and_one_argument_file(launched: list[list[str]]) -> None:
    own = {"a/v1/a.proto": b'syntax = "proto3";\npackage a.v1;\nmessage A {}\nservice S { rpc Get(A) returns (A); }\n'}
    result = CodeGenerator().generate(own, {}, ["python", "cpp", "descriptor_set"])
    assert result.succeeded == ["python", "cpp", "descriptor_set"], result.failed
    assert "a/v1/a_pb2_grpc.py" in result.outputs["python"].files
    programs = [argv[:-1] for argv in launched]
    assert [sys.executable, "-m", "grpc_tools.protoc"] in programs and any(len(p) == 1 for p in programs)
    protoc_runs = [argv for argv in launched if os.path.basename(argv[0]) == "protoc" or "grpc_tools.protoc" in argv]
    assert len(protoc_runs) >= 2  # a plugin's `--version` (a plugin on PATH) is not a protoc run
    for argv in protoc_runs:
        assert argv[-1].startswith("@/") and not any(a.startswith("-") for a in argv[1:] if a not in ("-m",))


def test_the_cli_runs_protoc_the_same_way(launched: list[list[str]], tmp_path: Path) -> None:
    (tmp_path / "google" / "protobuf").mkdir(parents=True)
    (tmp_path / "google" / "protobuf" / "timestamp.proto").write_bytes(EVIL_TIMESTAMP)   # vendored, not used
    (tmp_path / "a.proto").write_bytes(A)
    fds = compile_directory(tmp_path)
    assert [f.name for f in fds.file] == ["google/protobuf/timestamp.proto", "a.proto"]
    assert [field.name for field in fds.file[0].message_type[0].field] == ["seconds", "nanos"]
    assert len(launched) == 1 and len(launched[0]) == 2 and launched[0][1].startswith("@/")
    (tmp_path / "-h.proto").write_bytes(b'syntax = "proto3";\n')
    with pytest.raises(CompileError, match="starting with '-'"):
        compile_directory(tmp_path)


def test_the_cli_reports_a_bound(tmp_path: Path) -> None:
    (tmp_path / "big.proto").write_bytes(_big())
    with pytest.raises(CompileError, match="time limit of 0.001 s"):
        compile_directory(tmp_path, limits=ProtocLimits(timeout_seconds=0.001))


# --- crash text ----------------------------------------------------------------------------------------

CRASH = """\
a.proto:3:5: "Foo" is not defined.
F1130 12:00:00.000000   123 descriptor.cc:4242] Check failed: !IsPlaceholder() secret/internal/state
*** Check failure stack trace: ***
    @     0x5566778899aa  google::protobuf::DescriptorBuilder::BuildFile()
    @     0x5566778899bb  main
"""


def _fake_protoc(tmp_path: Path, script: str) -> str:
    fake = tmp_path / "bin" / "protoc"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return str(fake)


def test_crash_text_never_reaches_the_client(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    protoc = _fake_protoc(tmp_path, f"cat >&2 <<'EOF'\n{CRASH}EOF\nkill -ABRT $$\n")
    with caplog.at_level(logging.WARNING, logger="chalicelib.adapters.protoc"):
        outcome = ProtocRunner(protoc).descriptor_set({"a.proto": A})
    # The located error comes through; the crash becomes one plain message
    assert outcome.errors == [CompilerMessage("a.proto", 3, 5, '"Foo" is not defined.'),
                              CompilerMessage("", 0, 0, INTERNAL_ERROR)]
    assert outcome.limit_exceeded is None
    # and the raw text is in the log, at WARNING
    assert any("Check failed" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    with pytest.raises(InvalidProto) as raised:
        SchemaService(None, None, ProtocRunner(protoc)).compile(  # type: ignore[arg-type]
            [UploadedFile("a.proto", A)], ResolvedDependencies())
    assert "Check failed" not in str(raised.value.details) and "0x55667" not in str(raised.value.details)


@pytest.mark.parametrize("stderr, code", [
    ("[libprotobuf FATAL google/protobuf/descriptor.cc:1234] CHECK failed: (a) == (b):\n", 1),
    ("terminate called after throwing an instance of 'std::runtime_error'\n  what():  internal\n", -6),
    ("W1130 12:00:00.000000 1 file.cc:1] noise\nF1130 12:00:00.000000 1 file.cc:2] boom\n", 1),
    ("panic: runtime error: index out of range\n\ngoroutine 1 [running]:\nmain.main()\n\t/src/main.go:12\n"
     "--go_out: protoc-gen-go: Plugin failed with status code 2.\n", 1),
])
def test_fatal_lines_and_signals_become_the_plain_message(tmp_path: Path, stderr: str, code: int) -> None:
    exit_line = "kill -ABRT $$" if code < 0 else f"exit {code}"
    protoc = _fake_protoc(tmp_path, f"cat >&2 <<'EOF'\n{stderr}EOF\n{exit_line}\n")
    run = run_protoc([protoc], well_known=find_well_known_include(find_protoc()))
    assert not run.ok and run.limit_exceeded is None and run.stderr == INTERNAL_ERROR


def test_an_allocation_failure_is_the_memory_bound(tmp_path: Path) -> None:
    protoc = _fake_protoc(tmp_path, "echo \"terminate called after throwing an instance of 'std::bad_alloc'\" >&2\n"
                                    "kill -ABRT $$\n")
    run = run_protoc([protoc], well_known=find_well_known_include(find_protoc()), limits=ProtocLimits(5, 64))
    assert run.limit_exceeded == "protoc went over its memory limit of 64 MiB" and run.stderr == ""


def test_a_timed_out_run_leaves_no_process_behind(tmp_path: Path) -> None:
    marker = tmp_path / "still-running"
    protoc = _fake_protoc(tmp_path, f"(sleep 2; touch {marker}) &\nsleep 30\n")
    run = run_protoc([protoc], well_known=find_well_known_include(find_protoc()), limits=ProtocLimits(0.5, 256))
    assert run.limit_exceeded == "protoc went over its time limit of 0.5 s"
    time.sleep(2.5)
    assert not marker.exists()       # the whole process group was killed, the child's child included
