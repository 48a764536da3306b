"""Benchmark: Spoke's breaking-change engine against `buf breaking` on a large generated module.

Generates a realistic module (thousands of files with messages, nested messages, enums, maps, oneofs and
services across many packages), derives a second version with a realistic number of breaking (and
additive) changes, compiles both with protoc into images, then times each tool on the same two images in
its own process and reports wall time and peak RSS (os.wait4 rusage) side by side. It also checks that
both report the same findings. Figures are printed, never asserted.

    .venv/bin/python bench/breaking_bench.py                      # ~2000 files
    .venv/bin/python bench/breaking_bench.py --files 500 --mutations 30 --repeat 3
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = {"version": "v2", "breaking": {"use": ["FILE", "PACKAGE", "WIRE_JSON", "WIRE"]}}
SCALARS = ["string", "int32", "int64", "uint32", "uint64", "bool", "double", "float", "bytes", "sint64", "fixed64"]
DOMAINS = ["billing", "orders", "users", "catalog", "payments", "shipping", "inventory", "reviews", "search",
           "notifications", "accounts", "analytics", "support", "pricing", "identity", "media", "geo", "ads"]


# --------------------------------------------------------------------------------------------- model
@dataclass
class FieldSpec:
    name: str
    number: int
    type: str
    label: str = ""  # "", "repeated", "optional"
    oneof: str | None = None
    json_name: str | None = None


@dataclass
class EnumSpec:
    name: str
    values: list[tuple[str, int]]
    reserved: list[int] = field(default_factory=list)


@dataclass
class MessageSpec:
    name: str
    fields: list[FieldSpec]
    nested: list[MessageSpec] = field(default_factory=list)
    enums: list[EnumSpec] = field(default_factory=list)
    reserved: list[int] = field(default_factory=list)


@dataclass
class RpcSpec:
    name: str
    request: str
    response: str
    client_streaming: bool = False
    server_streaming: bool = False


@dataclass
class ServiceSpec:
    name: str
    rpcs: list[RpcSpec]


@dataclass
class FileSpec:
    path: str
    package: str
    imports: list[str]
    go_package: str
    messages: list[MessageSpec]
    enums: list[EnumSpec]
    services: list[ServiceSpec]


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _upper(name: str) -> str:
    return _snake(name).upper()


# ------------------------------------------------------------------------------------------ generate
def generate(files: int, messages_per_file: int, fields_per_message: int, seed: int) -> list[FileSpec]:
    rng = random.Random(seed)
    common = FileSpec(
        path="acme/common/v1/common.proto", package="acme.common.v1", imports=[], go_package="acme/common/v1",
        messages=[
            MessageSpec("Money", [FieldSpec("currency_code", 1, "string"), FieldSpec("units", 2, "int64"),
                                  FieldSpec("nanos", 3, "int32")]),
            MessageSpec("PageRequest", [FieldSpec("page_size", 1, "int32"), FieldSpec("page_token", 2, "string")]),
            MessageSpec("Address", [FieldSpec("line", 1, "string", "repeated"), FieldSpec("city", 2, "string"),
                                    FieldSpec("country", 3, "string")]),
        ],
        enums=[EnumSpec("Region", [("REGION_UNSPECIFIED", 0), ("REGION_EU", 1), ("REGION_US", 2)])],
        services=[],
    )
    result = [common]
    for index in range(files - 1):
        domain = DOMAINS[index % len(DOMAINS)]
        version = "v1" if index % 7 else "v1beta1"
        group = index // len(DOMAINS) % 40
        package = f"acme.{domain}.g{group}.{version}"
        base = f"acme/{domain}/g{group}/{version}"
        prefix = f"{domain.capitalize()}{index}"
        messages: list[MessageSpec] = []
        enums = [EnumSpec(f"{prefix}State", [(f"{_upper(prefix)}_STATE_UNSPECIFIED", 0)] +
                          [(f"{_upper(prefix)}_STATE_S{v}", v) for v in range(1, rng.randint(3, 8))])]
        for m in range(messages_per_file):
            fields: list[FieldSpec] = [FieldSpec("id", 1, "string")]
            number = 2
            for f in range(fields_per_message - 1):
                roll = rng.random()
                if roll < 0.08:
                    ftype, label = "acme.common.v1.Money", ""
                elif roll < 0.12:
                    ftype, label = "google.protobuf.Timestamp", ""
                elif roll < 0.18:
                    ftype, label = f"{prefix}State", ""
                elif roll < 0.22:
                    ftype, label = f"map<string, {rng.choice(['string', 'int64'])}>", ""
                elif roll < 0.30:
                    ftype, label = rng.choice(SCALARS), "repeated"
                elif roll < 0.34:
                    ftype, label = rng.choice(SCALARS), "optional"
                else:
                    ftype, label = rng.choice(SCALARS), ""
                fields.append(FieldSpec(f"field_{f}", number, ftype, label))
                number += 1
            for k in range(2):  # a oneof with two members
                fields.append(FieldSpec(f"choice_{k}", number, rng.choice(["string", "int64"]), "", oneof="kind"))
                number += 1
            nested = [MessageSpec("Detail", [FieldSpec("note", 1, "string"), FieldSpec("weight", 2, "double"),
                                             FieldSpec("tags", 3, "string", "repeated")])]
            fields.append(FieldSpec("detail", number, "Detail"))
            messages.append(MessageSpec(f"{prefix}Entity{m}", fields, nested=nested, reserved=[number + 10]))
        services: list[ServiceSpec] = []
        if index % 3 == 0:
            rpcs = [RpcSpec(f"Get{message.name}", message.name, message.name) for message in messages[:3]]
            rpcs.append(RpcSpec(f"Watch{prefix}", messages[0].name, messages[0].name, server_streaming=True))
            services.append(ServiceSpec(f"{prefix}Service", rpcs))
        result.append(FileSpec(
            path=f"{base}/{domain}_{index}.proto", package=package,
            imports=["acme/common/v1/common.proto", "google/protobuf/timestamp.proto"],
            go_package=f"github.com/acme/gen/{domain}/g{group}/{version};{domain}{version}",
            messages=messages, enums=enums, services=services,
        ))
    return result


# -------------------------------------------------------------------------------------------- mutate
def mutate(files: list[FileSpec], mutations: int, seed: int) -> tuple[list[FileSpec], list[str]]:
    """A new version with `mutations` changes, mostly breaking, some additive; returns it and a log."""
    rng = random.Random(seed + 1)
    new = deepcopy(files)
    log: list[str] = []
    candidates = new[1:]
    kinds = ["delete_field", "change_type", "rename_field", "json_name", "delete_enum_value", "rename_enum_value",
             "delete_message", "rpc_type", "rpc_streaming", "delete_rpc", "delete_file", "go_package",
             "repeated", "into_oneof", "add_field", "add_message", "add_enum_value", "unreserve"]
    for _ in range(mutations):
        kind = rng.choice(kinds)
        spec = rng.choice(candidates)
        message = rng.choice(spec.messages) if spec.messages else None
        if kind == "delete_file" and len(candidates) > 10:
            candidates.remove(spec)
            new.remove(spec)
            log.append(f"delete file {spec.path}")
            continue
        if message is None:
            continue
        plain = [f for f in message.fields if f.oneof is None and f.name != "detail" and f.number > 1]
        if kind == "delete_field" and plain:
            victim = rng.choice(plain)
            message.fields.remove(victim)
            log.append(f"delete field {message.name}.{victim.name}")
        elif kind == "change_type" and plain:
            victim = rng.choice(plain)
            victim.type = "bytes" if victim.type != "bytes" else "string"
            log.append(f"change type {message.name}.{victim.name}")
        elif kind == "rename_field" and plain:
            victim = rng.choice(plain)
            victim.name += "_renamed"
            log.append(f"rename field {message.name}.{victim.name}")
        elif kind == "json_name" and plain:
            victim = rng.choice(plain)
            victim.json_name = victim.name.upper()
            log.append(f"json_name {message.name}.{victim.name}")
        elif kind in ("delete_enum_value", "rename_enum_value", "add_enum_value") and spec.enums:
            enum = spec.enums[0]
            if kind == "add_enum_value":
                added = max(n for _, n in enum.values) + 1
                enum.values.append((f"{enum.values[0][0].rsplit('_', 1)[0]}_ADDED{added}", added))
            elif len(enum.values) > 2:
                position = rng.randrange(1, len(enum.values))
                name, number = enum.values[position]
                if kind == "delete_enum_value":
                    del enum.values[position]
                else:
                    enum.values[position] = (name + "_RENAMED", number)
            log.append(f"{kind} {enum.name}")
        elif kind == "delete_message" and len(spec.messages) > 1 and not spec.services:
            spec.messages.remove(message)
            log.append(f"delete message {message.name}")
        elif kind in ("rpc_type", "rpc_streaming", "delete_rpc") and spec.services:
            service = spec.services[0]
            rpc = rng.choice(service.rpcs)
            if kind == "rpc_type":
                rpc.response = "acme.common.v1.Money"
            elif kind == "rpc_streaming":
                rpc.client_streaming = not rpc.client_streaming
            elif len(service.rpcs) > 1:
                service.rpcs.remove(rpc)
            log.append(f"{kind} {service.name}.{rpc.name}")
        elif kind == "go_package":
            spec.go_package += "x"
            log.append(f"go_package {spec.path}")
        elif kind == "repeated" and plain:
            victim = rng.choice([f for f in plain if not f.type.startswith("map<")] or plain)
            if not victim.type.startswith("map<"):
                victim.label = "repeated" if victim.label != "repeated" else ""
                log.append(f"label {message.name}.{victim.name}")
        elif kind == "into_oneof" and plain:
            victim = rng.choice([f for f in plain if f.label == "" and not f.type.startswith("map<")] or plain)
            if victim.label == "" and not victim.type.startswith("map<"):
                victim.oneof = "kind"
                log.append(f"into oneof {message.name}.{victim.name}")
        elif kind == "add_field":
            message.fields.append(FieldSpec("added_field", max(f.number for f in message.fields) + 50, "string"))
            log.append(f"add field {message.name}.added_field")
        elif kind == "add_message":
            spec.messages.append(MessageSpec(f"Added{len(spec.messages)}{spec.messages[0].name}",
                                             [FieldSpec("id", 1, "string")]))
            log.append(f"add message in {spec.path}")
        elif kind == "unreserve" and message.reserved:
            message.reserved.clear()
            log.append(f"unreserve {message.name}")
    return new, log


# -------------------------------------------------------------------------------------------- render
def _render_field(f: FieldSpec, indent: str) -> str:
    label = f"{f.label} " if f.label and not f.type.startswith("map<") and f.oneof is None else ""
    options = f' [json_name = "{f.json_name}"]' if f.json_name else ""
    return f"{indent}{label}{f.type} {f.name} = {f.number}{options};\n"


def _render_enum(enum: EnumSpec, indent: str) -> str:
    out = f"{indent}enum {enum.name} {{\n"
    for name, number in enum.values:
        out += f"{indent}  {name} = {number};\n"
    if enum.reserved:
        out += f"{indent}  reserved {', '.join(map(str, enum.reserved))};\n"
    return out + f"{indent}}}\n"


def _render_message(message: MessageSpec, indent: str = "") -> str:
    out = f"{indent}message {message.name} {{\n"
    inner = indent + "  "
    if message.reserved:
        out += f"{inner}reserved {', '.join(map(str, message.reserved))};\n"
    oneofs: dict[str, list[FieldSpec]] = {}
    for f in message.fields:
        if f.oneof:
            oneofs.setdefault(f.oneof, []).append(f)
        else:
            out += _render_field(f, inner)
    for name, members in oneofs.items():
        out += f"{inner}oneof {name} {{\n" + "".join(_render_field(f, inner + "  ") for f in members) + f"{inner}}}\n"
    for nested in message.nested:
        out += _render_message(nested, inner)
    for enum in message.enums:
        out += _render_enum(enum, inner)
    return out + f"{indent}}}\n"


def render(spec: FileSpec) -> str:
    out = f'syntax = "proto3";\n\npackage {spec.package};\n\n'
    out += "".join(f'import "{imp}";\n' for imp in spec.imports)
    out += f'\noption go_package = "{spec.go_package}";\noption java_multiple_files = true;\n\n'
    out += "".join(_render_enum(e, "") for e in spec.enums)
    out += "".join(_render_message(m) for m in spec.messages)
    for service in spec.services:
        out += f"service {service.name} {{\n"
        for rpc in service.rpcs:
            request = ("stream " if rpc.client_streaming else "") + rpc.request
            response = ("stream " if rpc.server_streaming else "") + rpc.response
            out += f"  rpc {rpc.name}({request}) returns ({response});\n"
        out += "}\n"
    return out


def write_module(specs: list[FileSpec], directory: Path) -> None:
    for spec in specs:
        target = directory / spec.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(spec))


# --------------------------------------------------------------------------------------------- timing
def tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def build_image(directory: Path, out: Path) -> float:
    sys.path.insert(0, str(ROOT))
    from chalicelib.cli.compile_dir import proto_files

    include = Path(sys.executable).parent.parent / "include"
    start = time.perf_counter()
    args_file = out.with_suffix(".args")
    args_file.write_text("\n".join(proto_files(directory)))
    proc = subprocess.run([tool("protoc"), f"-I{directory}", f"-I{include}", "--include_imports",
                           "--include_source_info", f"--descriptor_set_out={out}", f"@{args_file}"],
                          cwd=directory, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"protoc failed on {directory}:\n{proc.stderr}")
    return time.perf_counter() - start


@dataclass
class Measurement:
    seconds: float
    peak_mb: float
    output: str


def measure(command: list[str], cwd: Path) -> Measurement:
    """Run one process; wall time and its own peak RSS (Linux ru_maxrss is in KiB)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as stdout:
        proc = subprocess.Popen(command, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        if proc.returncode not in (0, 100):
            raise RuntimeError(f"{command[0]} failed ({proc.returncode}): {stderr}")
        stdout.seek(0)
        return Measurement(elapsed, usage.ru_maxrss / 1024, stdout.read().decode())


OURS = """
import json, sys
from google.protobuf import descriptor_pb2
from chalicelib.domain.breaking import BreakingConfig, check_breaking
new, old = descriptor_pb2.FileDescriptorSet(), descriptor_pb2.FileDescriptorSet()
new.ParseFromString(open(sys.argv[1], "rb").read())
old.ParseFromString(open(sys.argv[2], "rb").read())
config = BreakingConfig.from_buf_yaml_document(json.loads(sys.argv[3]))
for finding in check_breaking(new, old, config):
    print(json.dumps(finding.to_buf_json(), separators=(",", ":"), ensure_ascii=False))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--messages-per-file", type=int, default=6)
    parser.add_argument("--fields-per-message", type=int, default=12)
    parser.add_argument("--mutations", type=int, default=80)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the best time is reported")
    parser.add_argument("--workdir", type=Path, help="keep the generated module and images here")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="spoke-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        old_specs = generate(args.files, args.messages_per_file, args.fields_per_message, args.seed)
        new_specs, log = mutate(old_specs, args.mutations, args.seed)
        for name, specs in (("old", old_specs), ("new", new_specs)):
            shutil.rmtree(workdir / name, ignore_errors=True)
            write_module(specs, workdir / name)
        old_build = build_image(workdir / "old", workdir / "old.binpb")
        new_build = build_image(workdir / "new", workdir / "new.binpb")
        messages = sum(len(s.messages) + sum(len(m.nested) for m in s.messages) for s in new_specs)
        fields = sum(len(m.fields) for s in new_specs for m in s.messages)
        print(f"module: {len(old_specs)} -> {len(new_specs)} files, ~{messages} messages, ~{fields} fields, "
              f"{sum(len(s.enums) for s in new_specs)} enums, {sum(len(s.services) for s in new_specs)} services")
        print(f"mutations applied: {len(log)}; images: old {os.path.getsize(workdir / 'old.binpb') / 1e6:.1f} MB, "
              f"new {os.path.getsize(workdir / 'new.binpb') / 1e6:.1f} MB (protoc {old_build:.1f}s + {new_build:.1f}s)")

        config = json.dumps(CONFIG)
        ours_cmd = [sys.executable, "-c", OURS, str(workdir / "new.binpb"), str(workdir / "old.binpb"), config]
        buf_cmd = [tool("buf"), "breaking", str(workdir / "new.binpb"), "--against", str(workdir / "old.binpb"),
                   "--error-format", "json", "--config", config]
        env_cwd = ROOT
        ours = min((measure(ours_cmd, env_cwd) for _ in range(args.repeat)), key=lambda m: m.seconds)
        buf = min((measure(buf_cmd, workdir) for _ in range(args.repeat)), key=lambda m: m.seconds)
        ours_lines = sorted(ours.output.splitlines())
        buf_lines = sorted(buf.output.splitlines())
        print(f"{'tool':<8}{'wall s':>10}{'peak MB':>10}{'findings':>10}")
        print(f"{'spoke':<8}{ours.seconds:>10.2f}{ours.peak_mb:>10.0f}{len(ours_lines):>10}")
        print(f"{'buf':<8}{buf.seconds:>10.2f}{buf.peak_mb:>10.0f}{len(buf_lines):>10}")
        print(f"ratio spoke/buf: time {ours.seconds / buf.seconds:.2f}x, peak memory {ours.peak_mb / buf.peak_mb:.2f}x")
        print(f"findings identical to buf: {ours_lines == buf_lines}")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
