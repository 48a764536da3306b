"""Generative differential test: random valid schemas and random mutations of them, checked by our engine,
our CLI and the pinned `buf breaking` on the very same protoc images, under random buf.yaml configurations.

Given a seed, when the generator builds a module and mutates it, then `check_breaking`, `spoke breaking`
(json and text) and buf agree exactly: rule, path, positions, message, order and exit code. The seeds
here are fixed (SEEDS); `make fuzz-breaking SEEDS=...` runs many more and keeps every difference found.
"""
from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from chalicelib.domain.breaking import ALL_RULE_IDS, rules_service

from .generative.generate import Generator
from .generative.model import Oneof, all_enums, all_extends, all_messages
from .generative.render import render
from .generative.runner import SeedResult, run_seed
from .generative.shrink import differing_rules, shrink

SEEDS = range(1000, 1030)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[int, SeedResult]:
    """All seeds at once, two at a time: buf and protoc run in subprocesses, so two threads overlap them."""
    work = tmp_path_factory.mktemp("generative")
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(SEEDS, pool.map(lambda seed: run_seed(seed, work / f"seed{seed}"), SEEDS), strict=True))


@pytest.mark.parametrize("seed", SEEDS)
def test_engine_and_cli_match_buf_on_generated_changes(seed: int, results: dict[int, SeedResult]) -> None:
    result = results[seed]
    assert not result.differences, "\n".join(
        [f"mutations: {result.mutations}"] + [difference.explain() for difference in result.differences])


def test_the_same_seed_generates_the_same_schema() -> None:
    first = render(Generator(random.Random(7)).schema())
    second = render(Generator(random.Random(7)).schema())
    assert first == second
    assert first != render(Generator(random.Random(8)).schema())


def test_generated_schemas_cover_the_features_buf_checks() -> None:
    """Across the fixed seeds the generator produces every kind of element the brief lists."""
    seen: set[str] = set()
    for seed in SEEDS:
        schema = Generator(random.Random(seed)).schema()
        seen |= {f"syntax {file.syntax}" for file in schema.files}
        seen |= {"package over files"} if len({f.package for f in schema.files}) < len(schema.files) else set()
        for message in all_messages(schema):
            seen |= {"nested message"} if message.messages else set()
            seen |= {"oneof"} if any(isinstance(item, Oneof) for item in message.items) else set()
            seen |= {"reserved"} if message.reserved_ranges and message.reserved_names else set()
            seen |= {"map"} if any(field.type == "map" for field in message.all_fields()) else set()
            seen |= {"group"} if any(field.type == "group" for field in message.all_fields()) else set()
            seen |= {"field option"} if any(field.options for field in message.all_fields()) else set()
        seen |= {"enum alias"} if any(e.options.get("allow_alias") for e in all_enums(schema)) else set()
        seen |= {"extension"} if all_extends(schema) else set()
        seen |= {"file option"} if any(file.options for file in schema.files) else set()
        methods = [m for file in schema.files for service in file.services for m in service.methods]
        seen |= {"streaming"} if any(m.client_streaming or m.server_streaming for m in methods) else set()
    assert sorted(seen) == sorted({
        "syntax proto2", "syntax proto3", "syntax 2023", "syntax 2024", "package over files", "nested message",
        "oneof", "reserved", "map", "group", "field option", "enum alias", "extension", "file option", "streaming"})


def test_the_fixed_seeds_make_buf_report_many_rules(results: dict[int, SeedResult]) -> None:
    """The comparison is only as good as what buf reports: the fixed seeds must trigger most rules."""
    rules = set().union(*(result.rules for result in results.values()))
    assert len(rules) >= 40, sorted(ALL_RULE_IDS - rules)


def test_the_shrinker_keeps_the_difference_and_drops_the_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given an engine that misses a rule (RPC_SAME_SERVER_STREAMING patched out) and a case with more in it,
    when the case is shrunk, then what is left still shows that difference and little else."""
    monkeypatch.setitem(rules_service.SERVICE_PAIR_RULES, "RPC_SAME_SERVER_STREAMING", lambda ctx, new, old: None)
    body = ('syntax = "proto3";\npackage a;\nmessage Req {\n  string id = 1;\n  int32 n = 2;\n}\n'
            "message Res {\n  repeated string items = 1;\n}\nenum Color {\n  COLOR_UNSPECIFIED = 0;\n}\n"
            "service Api {\n  rpc Get(Req) returns (Res);\n  rpc List(Req) returns ({stream}Res);\n}\n")
    case = tmp_path / "case"
    for side, stream in (("old", ""), ("new", "stream ")):
        (case / side).mkdir(parents=True)
        (case / side / "a.proto").write_text(body.replace("{stream}", stream))
    (case / "buf.yaml").write_text("version: v2\nbreaking:\n  use: [FILE]\n")

    shrink(case, budget=40, log=lambda line: None)

    new_text = (case / "new" / "a.proto").read_text()
    assert "rpc List(Req) returns (stream Res);" in new_text
    assert "Color" not in new_text and "rpc Get" not in new_text
    assert differing_rules(case, tmp_path / "check") == {"RPC_SAME_SERVER_STREAMING"}
