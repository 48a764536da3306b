"""Seeded random identifiers, linted by buf and by spoke: buf's case conversions (PascalCase,
lower_snake_case, UPPER_SNAKE_CASE, package and file names) are reproduced character for character.

Each seed writes a proto2 module (proto2: JSON-name clashes between random fields are allowed) whose
files, packages, messages, fields, oneofs, enums, values, services and RPCs have random names made of
upper and lower case letters, digits and underscores; both tools lint it with STANDARD.
"""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from .harness import run_buf, run_spoke

SEEDS = (1, 2, 3)
ALPHABET = "aAbBcCxXyYzZ0123456789__"


def identifier(rng: random.Random, taken: set[str]) -> str:
    """A fresh identifier: a letter or underscore, then 0-9 characters with runs of capitals and digits."""
    while True:
        first = rng.choice("abcxyzABCXYZ_")
        rest = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 9)))
        name = first + rest
        if name.lower() not in taken and not name.isdigit():
            taken.add(name.lower())
            return name


def enum_values(rng: random.Random, enum: str, count: int, scope: set[str]) -> list[str]:
    """Values protoc accepts together: distinct once case, underscores and the enum's name prefix go."""
    prefix = enum.lower().replace("_", "")
    values: list[str] = []
    keys: set[str] = set()
    while len(values) < count:
        value = identifier(rng, scope)
        key = value.lower().replace("_", "")
        key = key[len(prefix):] if key.startswith(prefix) else key
        if key and key not in keys:
            keys.add(key)
            values.append(value)
    return values


def write_module(root: Path, seed: int) -> None:
    rng = random.Random(seed)
    taken: set[str] = {"option", "optional", "required", "repeated", "message", "enum", "service", "rpc",
                       "returns", "group", "oneof", "map", "extend", "extensions", "reserved", "to", "max",
                       "syntax", "import", "package", "public", "weak", "stream", "true", "false", "inf", "nan"}
    (root / "buf.yaml").write_text("version: v2\nlint:\n  use: [STANDARD]\n")
    for file_index in range(4):
        package = ".".join(identifier(rng, taken) for _ in range(rng.randint(1, 3)))
        lines = ['syntax = "proto2";', "", f"package {package};", ""]
        for _ in range(12):
            message = identifier(rng, taken)
            scope: set[str] = set()  # fields, the oneof, the enum and its values share the message's scope
            fields = [identifier(rng, scope) for _ in range(6)]
            oneof = identifier(rng, scope)
            lines.append(f"message {message} {{")
            lines += [f"  optional string {name} = {number};" for number, name in enumerate(fields[:4], 1)]
            lines.append(f"  oneof {oneof} {{")
            lines += [f"    string {name} = {number};" for number, name in enumerate(fields[4:], 5)]
            lines.append("  }")
            enum = identifier(rng, scope)
            values = enum_values(rng, enum, 4, scope)
            lines.append(f"  enum {enum} {{")
            lines += [f"    {value} = {number};" for number, value in enumerate(values)]
            lines += ["  }", "}"]
        service = identifier(rng, taken)
        rpcs = [identifier(rng, taken) for _ in range(3)]
        lines.append(f"message {service}Msg {{}}")
        lines.append(f"service {service} {{")
        lines += [f"  rpc {rpc}({service}Msg) returns ({service}Msg);" for rpc in rpcs]
        lines.append("}")
        stem = identifier(rng, set())
        directory = root / f"dir{file_index}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{stem}.proto").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("seed", SEEDS)
def test_random_names_are_judged_like_buf(seed: int, tmp_path: Path) -> None:
    # Given a module of random names, When buf and spoke lint it, Then the same findings, byte for byte
    module = tmp_path / "module"
    module.mkdir()
    write_module(module, seed)
    theirs = run_buf(module, tmp_path, ("json",))
    ours = run_spoke(module, ("json",))
    assert theirs.exit_code == 100 and theirs.stdout["json"].count("\n") > 100
    assert ours.stdout["json"] == theirs.stdout["json"]
