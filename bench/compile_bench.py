"""Compilation figures (printed, never asserted):

1. publish -> every language succeeded, for a 10-file and a 500-file module, on the local stack
   (chalice local + the local worker + the embedded AWS), through real HTTP;
2. protoc time per language, each in its own run, against one run with every output together.

Run: .venv/bin/python bench/compile_bench.py [--sizes 10,500]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chalicelib.adapters.codegen import LANGUAGES, CodeGenerator  # noqa: E402
from localdev.stack import free_port, local_protoc, running_stack  # noqa: E402


def module_files(count: int) -> dict[str, str]:
    """A realistic-ish module: each file a few messages, an enum and a service, importing its neighbour."""
    files = {}
    for i in range(count):
        imports = f'import "bench/v1/file{i - 1}.proto";\n' if i else ""
        previous = f"  Item{i - 1} previous = 4;\n" if i else ""
        files[f"bench/v1/file{i}.proto"] = (
            f'syntax = "proto3";\npackage bench.v1;\noption go_package = "example.com/bench/v1;benchv1";\n{imports}'
            f"enum Kind{i} {{ KIND{i}_UNSPECIFIED = 0; KIND{i}_A = 1; KIND{i}_B = 2; }}\n"
            f"message Item{i} {{\n  string id = 1;\n  Kind{i} kind = 2;\n  map<string, int64> counts = 3;\n{previous}"
            f"  repeated string tags = 5;\n  oneof value {{ string text = 6; int64 number = 7; }}\n}}\n"
            f"message Get{i}Request {{ string id = 1; }}\n"
            f"service Service{i} {{ rpc Get(Get{i}Request) returns (Item{i}); }}\n")
    return files


def publish_to_compiled(api_url: str, token: str, name: str, files: dict[str, str]) -> tuple[float, float, dict]:
    headers = {"Authorization": f"Bearer {token}"}
    requests.post(f"{api_url}/modules", json={"name": name}, headers=headers, timeout=30).raise_for_status()
    started = time.perf_counter()
    reply = requests.post(f"{api_url}/modules/{name}/versions", headers=headers, timeout=300,
                          json={"version": "v1.0.0", "files": files})
    reply.raise_for_status()
    published = time.perf_counter() - started
    while True:
        statuses = requests.get(f"{api_url}/modules/{name}/versions/v1.0.0", timeout=30).json()["data"]["compilation"]
        if all(s["status"] in ("succeeded", "failed") for s in statuses.values()):
            return published, time.perf_counter() - started, {k: v["status"] for k, v in statuses.items()}
        if time.perf_counter() - started > 900:
            raise RuntimeError("compilation did not finish within 900 s")
        time.sleep(0.25)


def per_language(files: dict[str, str]) -> None:
    generator = CodeGenerator(protoc_path=local_protoc())
    sources = {path: text.encode() for path, text in files.items()}
    languages = sorted(LANGUAGES)
    print(f"\n== protoc per language, {len(files)} files (layer protoc {generator.versions().get('protoc')})")
    total = 0.0
    for language in languages:
        started = time.perf_counter()
        result = generator.generate(sources, {}, [language], module="bench", version="v1.0.0")
        elapsed = time.perf_counter() - started
        total += elapsed
        print(f"  {language:15s} {elapsed * 1000:9.0f} ms  {'ok' if result.outputs[language].ok else 'FAILED'}")
    started = time.perf_counter()
    together = generator.generate(sources, {}, languages, module="bench", version="v1.0.0")
    elapsed = time.perf_counter() - started
    print(f"  {'sum of the above':15s} {total * 1000:9.0f} ms")
    print(f"  {'all together':15s} {elapsed * 1000:9.0f} ms  ({len(together.succeeded)}/{len(languages)} ok), "
          f"{total / elapsed:.2f}x faster than one run per language")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,500")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    with running_stack(api_port=free_port(), aws_port=free_port(), quiet=True) as stack:
        requests.post(f"{stack.api_url}/auth/register",
                      json={"email": "bench@example.com", "password": "long-bench-pass"}, timeout=30)
        token = requests.post(f"{stack.api_url}/auth/login", json={"email": "bench@example.com",
                                                                    "password": "long-bench-pass"}, timeout=30).json()
        token = token["data"]["token"]
        print("== publish -> all languages succeeded (local stack, real HTTP)")
        for size in sizes:
            published, compiled, statuses = publish_to_compiled(stack.api_url, token, f"bench-{size}",
                                                                module_files(size))
            failed = sorted(k for k, v in statuses.items() if v != "succeeded")
            print(f"  {size:4d} files: publish answered in {published:6.2f} s, all {len(statuses)} languages "
                  f"done in {compiled:6.2f} s" + (f"  FAILED: {failed}" if failed else ""))
    for size in sizes:
        per_language(module_files(size))


if __name__ == "__main__":
    main()
