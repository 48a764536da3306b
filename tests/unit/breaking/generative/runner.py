"""Runs one seed: generate a schema, mutate it, compile both versions into images, and compare the pinned
`buf breaking` with our engine (`check_breaking`) and our CLI (`spoke breaking`) on the very same images.

One seed is one module of several files with several mutations, checked under three buf.yaml configurations
(all four categories, then two random ones): one buf run per configuration. Compared exactly: findings
(rule, path, positions, message, order), the CLI's json output and exit code; the second configuration
also in text format, the third also on the source directories (buf compiles them with its own compiler,
spoke with protoc). Images come from protoc, from `buf build` for every fourth seed, mixed for one in eight.
When buf rejects a configuration, spoke must fail too (exit 1) with the same reason.
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import random
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chalicelib.domain.breaking import BreakingConfig, InvalidBreakingConfig, check_breaking
from chalicelib.domain.breaking.catalogue import catalogue
from chalicelib.domain.errors import DomainError

from ..harness import build_image, tool
from .generate import Generator
from .model import Schema
from .mutate import mutate
from .render import render

CATEGORIES = ("FILE", "PACKAGE", "WIRE", "WIRE_JSON")
# buf fails this way (exit 1) when a configuration selects no rule; we fail with exit 1 and a plain message.
BUF_INTERNAL_ERROR = "it looks like you have found a bug in buf"
_CLI_LOCK = threading.Lock()  # the CLI prints to sys.stdout, which redirect_stdout swaps process-wide


@dataclass
class Difference:
    seed: int
    config: str
    what: str
    buf: list[Any]
    ours: list[Any]

    def explain(self) -> str:
        lines = [f"seed {self.seed} ({self.what}) config {self.config}"]
        if isinstance(self.buf, list) and isinstance(self.ours, list):
            lines += [f"  only buf:  {x}" for x in self.buf if x not in self.ours]
            lines += [f"  only ours: {x}" for x in self.ours if x not in self.buf]
            if all(x in self.ours for x in self.buf) and all(x in self.buf for x in self.ours):
                lines.append("  same findings, different order or count")
        else:
            lines.append(f"  buf: {self.buf!r}\n  ours: {self.ours!r}")
        return "\n".join(lines)


@dataclass
class SeedResult:
    seed: int
    mutations: list[str]
    findings: int = 0
    differences: list[Difference] = field(default_factory=list)
    rules: set[str] = field(default_factory=set)


def random_config(rng: random.Random, paths: list[str]) -> str:
    """A buf.yaml with a random version and a random selection of categories, rules, excepts and ignores
    (`paths`: the files of the pair, whose names and directories the ignores pick from)."""
    version = rng.choice(["v1beta1", "v1", "v2", "v2", "v2"])
    rules = [rule.id for rule in catalogue(version)]
    roll = rng.random()
    if roll < 0.45:
        use = rng.sample(CATEGORIES, rng.randint(1, 4))
    elif roll < 0.7:
        use = rng.sample(rules, rng.randint(1, 6))
    elif roll < 0.8:
        use = []  # the version's defaults
    else:
        use = [*rng.sample(CATEGORIES, 1), *rng.sample(rules, rng.randint(1, 3))]
    section: dict[str, Any] = {"use": use} if use else {}
    if rng.random() < 0.35:
        try:
            selected = BreakingConfig.from_buf_yaml({"use": use} if use else {}, version).resolve().rule_ids
        except InvalidBreakingConfig:  # e.g. only deprecated rules without replacements: buf fails too
            selected = ()
        if len(selected) > 1:
            section["except"] = rng.sample(sorted(selected), rng.randint(1, min(4, len(selected) - 1)))
            if len(use) > 1 and set(use) <= set(CATEGORIES) and rng.random() < 0.3:
                section["except"] = [rng.choice(use)]  # a whole category, while another stays in use
    if rng.random() < 0.2:
        section["ignore_unstable_packages"] = True
    targets = sorted({*paths, *(p.rsplit("/", 1)[0] for p in paths), "gen"})
    if rng.random() < 0.1:
        section["ignore"] = rng.sample(targets, 1)
    if rng.random() < 0.15:
        section["ignore_only"] = {rng.choice([*CATEGORIES, *rules]): rng.sample(targets, rng.randint(1, 2))}
    return json.dumps({"version": version, "breaking": section})


def write_schema(schema: Schema, directory: Path, style: random.Random | None = None) -> None:
    for path, text in render(schema, style).items():
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def _compiles(schema: Schema, directory: Path, image: Path) -> bool:
    write_schema(schema, directory)
    try:
        build_image(directory, image)
    except RuntimeError:
        return False
    return True


def build_pair(seed: int, work: Path) -> tuple[Schema, Schema, list[str]]:
    """The (old, new) pair of a seed, written under work/{old,new} and compiled to work/{old,new}.binpb."""
    rng = random.Random(seed)
    base = Generator(rng).schema()
    if not _compiles(base, work / "base", work / "base.binpb"):
        raise RuntimeError(f"seed {seed}: the generated schema does not compile (generator bug), see {work}/base")
    for attempt in range(12):
        mutation_rng = random.Random(f"{seed}/{attempt}")
        mutated = copy.deepcopy(base)
        mutations = mutate(mutated, mutation_rng, mutation_rng.choice([1, 2, 3, 4, 6, 10, 16]))
        target = work / f"mutated{attempt}"
        if _compiles(mutated, target, work / f"mutated{attempt}.binpb"):
            break
    else:
        raise RuntimeError(f"seed {seed}: no valid mutation in 12 attempts (generator bug), see {work}")
    if rng.random() < 0.3:  # the other direction too: additions become deletions
        old, new = mutated, base
        mutations = ["reversed", *mutations]
    else:
        old, new = base, mutated
    # Every fourth seed compiles with `buf build` (buf's own compiler: other source info, no implied json_name),
    # every eighth builds the old side with buf and the new side with protoc (json_name appears on one side).
    builders = {3: ("buf", "buf"), 7: ("buf", "buf"), 5: ("buf", "protoc")}.get(seed % 8, ("protoc", "protoc"))
    for name, schema, builder in (("old", old, builders[0]), ("new", new, builders[1])):
        write_schema(schema, work / name, random.Random(f"{seed}/style/{name}") if seed % 2 else None)
        try:
            build_image(work / name, work / f"{name}.binpb", builder)
        except RuntimeError:  # buf's compiler refuses a few things protoc accepts
            builders = ("protoc", "protoc")
    if builders == ("protoc", "protoc"):
        for name in ("old", "new"):
            build_image(work / name, work / f"{name}.binpb")
    builder = "/".join(builders)
    return old, new, [*mutations, f"built with {builder}"]


def _inputs(work: Path, config: str, directories: bool) -> list[str]:
    """NEW, --against and the configuration: the two images and --config, or the two source directories
    (each tool compiles them) with the configuration as each one's own buf.yaml."""
    if directories:
        for side in ("new", "old"):
            (work / side / "buf.yaml").write_text(config)
        return ["new", "--against", "old"]
    return [str(work / "new.binpb"), "--against", str(work / "old.binpb"), "--config", config]


def run_buf(work: Path, config: str, error_format: str, directories: bool = False,
            flags: tuple[str, ...] = ()) -> tuple[int, str]:
    """buf's exit code and output: stdout, or stderr when it fails (exit 1, e.g. a configuration it rejects)."""
    env = dict(os.environ, BUF_CACHE_DIR=str(work / "bufcache"), NO_COLOR="1")
    command = [tool("buf"), "breaking", *_inputs(work, config, directories), "--error-format", error_format, *flags]
    proc = subprocess.run(command, capture_output=True, text=True, cwd=work, env=env)
    if proc.returncode not in (0, 1, 100):
        raise RuntimeError(f"buf failed (exit {proc.returncode}) in {work}: {proc.stderr}")
    return proc.returncode, proc.stdout if proc.returncode != 1 else proc.stdout + proc.stderr


def run_cli(work: Path, config: str, error_format: str, directories: bool = False,
            flags: tuple[str, ...] = ()) -> tuple[int, str]:
    """`spoke breaking` in this process: exit code and output (directories are named relative to `work`)."""
    from chalicelib.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with _CLI_LOCK, contextlib.chdir(work), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["breaking", *_inputs(work, config, directories), "--error-format", error_format, *flags])
    return code, out.getvalue() + err.getvalue()


def _lines(outcome: tuple[int, str]) -> list[str]:
    return [f"exit {outcome[0]}", *outcome[1].splitlines()]


def run_seed(seed: int, work: Path, configs: int = 3) -> SeedResult:
    """Everything for one seed; differences are collected, not raised."""
    from google.protobuf import descriptor_pb2

    work.mkdir(parents=True, exist_ok=True)
    old, new, mutations = build_pair(seed, work)
    paths = [file.path for file in old.files + new.files]
    result = SeedResult(seed, mutations)
    new_fds, old_fds = descriptor_pb2.FileDescriptorSet(), descriptor_pb2.FileDescriptorSet()
    new_fds.ParseFromString((work / "new.binpb").read_bytes())
    old_fds.ParseFromString((work / "old.binpb").read_bytes())
    config_rng = random.Random(f"{seed}/config")
    all_rules = json.dumps({"version": "v2", "breaking": {"use": list(CATEGORIES)}})
    for index in range(configs):
        config = all_rules if index == 0 else random_config(config_rng, paths)
        buf_code, buf_out = run_buf(work, config, "json")
        if buf_code == 1:  # buf rejects the configuration: so must we, with the same exit code and reason
            cli = run_cli(work, config, "json")
            reason = cli[1].strip().removeprefix("Failure: ")
            same_reason = buf_out.strip().endswith(reason) or BUF_INTERNAL_ERROR in buf_out
            if cli[0] != buf_code or not reason or not same_reason:
                result.differences.append(Difference(seed, config, "CLI error", [buf_code, buf_out], list(cli)))
            continue
        buf = [json.loads(line) for line in buf_out.splitlines() if line.strip()]
        result.rules.update(f["type"] for f in buf)
        result.findings += len(buf)
        try:
            parsed = BreakingConfig.from_buf_yaml_document(yaml.safe_load(config))
            ours = [f.to_buf_json() for f in check_breaking(new_fds, old_fds, parsed)]
        except DomainError as error:  # buf accepted the configuration: so must we
            result.differences.append(Difference(seed, config, "check_breaking raised", buf, [error.message]))
            continue
        if ours != buf:
            result.differences.append(Difference(seed, config, "check_breaking", buf, ours))
            continue
        cli_code, cli_out = run_cli(work, config, "json")
        if (cli_code, cli_out) != (buf_code, buf_out):
            result.differences.append(Difference(seed, config, "CLI json", [buf_code, buf_out], [cli_code, cli_out]))
        flags: list[tuple[str, ...]] = []
        if index == 0 and "built with buf" in mutations[-1]:  # buf marks the imports in its images
            flags.append(("--exclude-imports",))
        if index == 0 and seed % 3 == 0:
            flags.append(("--limit-to-input-files",))
            if flags[0] == ("--exclude-imports",):
                flags.append(("--limit-to-input-files", "--exclude-imports"))
        for flag in flags:
            buf_flagged = run_buf(work, config, "json", flags=flag)
            cli_flagged = run_cli(work, config, "json", flags=flag)
            if cli_flagged != buf_flagged:
                result.differences.append(Difference(seed, config, f"CLI {' '.join(flag)}", _lines(buf_flagged),
                                                     _lines(cli_flagged)))
        if index == 1:
            buf_text = run_buf(work, config, "text")
            cli_text = run_cli(work, config, "text")
            if cli_text != buf_text:
                result.differences.append(Difference(seed, config, "CLI text", list(buf_text), list(cli_text)))
        if index == 2:  # directories: buf compiles with its own compiler, spoke with protoc
            buf_dirs = run_buf(work, config, "json", directories=True)
            cli_dirs = run_cli(work, config, "json", directories=True)
            if cli_dirs != buf_dirs:
                result.differences.append(Difference(seed, config, "CLI directories", _lines(buf_dirs),
                                                     _lines(cli_dirs)))
    return result
