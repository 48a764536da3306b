"""What a publish costs at size: wall time over real HTTP, and AWS calls per publish (printed, never asserted).

1. Time, on the local stack (`make run`'s embedded AWS, `chalice local` and the local worker, started
   here on free ports): a 1,000-file JSON publish, its compatibility-checked successor (1,001 files,
   checked against it under the default BACKWARD policy), and 5,000 files through the upload path
   (`POST /modules/{name}/uploads`, the archive posted straight to S3, then `{"upload_id"}`), or as
   JSON when the stack has no upload path. The issue's targets: <= 3 s, <= 5 s, <= 15 s.
2. AWS calls per publish at 10, 1,000 and 5,000 files, and of a 10-file publish that depends on a
   10- or a 1,000-file module: the same application in this process (chalice.test.Client) against
   the same embedded AWS, a botocore `before-call` handler counting each S3, DynamoDB and SQS call.
   Flat is the goal. The reads of one version (GET version, GET file) are counted too.

Run from the repository root: `.venv/bin/python bench/publish_bench.py [--sizes 10,1000,5000]`.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tarfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from localdev.stack import free_port, running_stack  # noqa: E402

PASSWORD = "correct-horse-battery-staple"
TIMEOUT = 600


def module_files(count: int, package: str = "bench.v1", prefix: str = "bench/v1") -> dict[str, str]:
    """Small realistic files: a message and an enum each, most importing an earlier file."""
    files = {}
    for i in range(count):
        parent = i // 2
        imports = f'import "{prefix}/f{parent}.proto";\n' if i else ""
        uses = f"  Item{parent} parent = 4;\n" if i else ""
        files[f"{prefix}/f{i}.proto"] = (
            f'syntax = "proto3";\npackage {package};\n{imports}'
            f"enum Kind{i} {{ KIND{i}_UNSPECIFIED = 0; KIND{i}_A = 1; }}\n"
            f"message Item{i} {{\n  string id = 1;\n  Kind{i} kind = 2;\n  repeated string tags = 3;\n{uses}}}\n")
    return files


def tar_gz(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# ---------------------------------------------------------------- HTTP side

class Http:
    """A signed-in user of a running stack, over real HTTP."""

    def __init__(self, api_url: str) -> None:
        self.url = api_url
        email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
        requests.post(f"{api_url}/auth/register", json={"email": email, "password": PASSWORD},
                      timeout=30).raise_for_status()
        login = requests.post(f"{api_url}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
        self.headers = {"Authorization": f"Bearer {login.json()['data']['token']}"}

    def post(self, path: str, body: Any) -> requests.Response:
        return requests.post(f"{self.url}{path}", json=body, headers=self.headers, timeout=TIMEOUT)

    def module(self, name: str) -> None:
        self.post("/modules", {"name": name}).raise_for_status()

    def has_uploads(self, module: str) -> bool:
        return self.post(f"/modules/{module}/uploads", {}).status_code == 201

    def upload(self, module: str, archive: bytes) -> str:
        """The archive straight to S3 with the presigned POST; returns the upload id."""
        grant = self.post(f"/modules/{module}/uploads", {})
        grant.raise_for_status()
        data = grant.json()["data"]
        posted = requests.post(data["url"], data=data["fields"],
                               files={"file": ("module.tar.gz", archive, "application/gzip")}, timeout=TIMEOUT)
        if posted.status_code >= 300:
            raise RuntimeError(f"S3 refused the upload: {posted.status_code} {posted.text[:300]}")
        return data["upload_id"]


def timed(label: str, action: Callable[[], requests.Response], target: float | None = None) -> float:
    started = time.perf_counter()
    reply = action()
    elapsed = time.perf_counter() - started
    status = reply.status_code
    if status >= 300:
        print(f"  {label:<58} FAILED {status}: {reply.text[:300]}")
        return elapsed
    goal = f"   target <= {target:g} s: {'met' if elapsed <= target else 'MISSED'}" if target else ""
    print(f"  {label:<58} {elapsed:7.2f} s  [{status}]{goal}")
    return elapsed


def time_publishes(api_url: str) -> None:
    http = Http(api_url)
    print("== Wall time over real HTTP, local stack (the worker compiles in the background, as under make run)")
    first, later = module_files(1000), module_files(1001)
    http.module("bench-a")
    timed("1,000 files, JSON, v1.0.0", lambda: http.post("/modules/bench-a/versions", {
        "version": "v1.0.0", "files": first}), 3)
    timed("1,001 files, JSON, v1.1.0 (BACKWARD-checked against v1.0.0)",
          lambda: http.post("/modules/bench-a/versions", {"version": "v1.1.0", "files": later}), 5)
    timed("the same v1.1.0 again (identical retry)",
          lambda: http.post("/modules/bench-a/versions", {"version": "v1.1.0", "files": later}))
    big = module_files(5000)
    http.module("bench-b")
    if http.has_uploads("bench-b"):
        archive = tar_gz(big)
        started = time.perf_counter()
        upload_id = http.upload("bench-b", archive)
        posted = time.perf_counter() - started
        print(f"  {'5,000 files: tar.gz (' + format(len(archive), ',') + ' bytes) to S3 by presigned POST':<58} "
              f"{posted:7.2f} s")
        timed("5,000 files, publish {upload_id}", lambda: http.post("/modules/bench-b/versions", {
            "version": "v1.0.0", "upload_id": upload_id}), 15)
        print(f"  {'  = upload + publish':<58} {time.perf_counter() - started:7.2f} s")
    else:
        print("  (no upload path on this stack)")
    http.module("bench-c")
    timed("5,000 files, JSON (as before uploads existed)", lambda: http.post("/modules/bench-c/versions", {
        "version": "v1.0.0", "files": big}))
    print()


# ---------------------------------------------------------------- in-process call counts

class Counts:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def before(self, event_name: str, **_: Any) -> None:
        service, operation = event_name.split(".")[1:3]
        self.calls[f"{service}.{operation}"] += 1

    def by_service(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for name, count in self.calls.items():
            totals[name.split(".")[0]] += count
        return dict(totals)


class InProcess:
    """The application in this process against the stack's embedded AWS, every AWS call counted."""

    def __init__(self, environment: dict[str, str]) -> None:
        os.environ.update(environment)
        from chalice.test import Client

        from app import app
        from chalicelib import wiring
        from chalicelib.adapters import aws

        aws.reset_clients()
        wiring.reset()
        self.counts = Counts()
        aws.session().events.register("before-call.*.*", self.counts.before)
        self.client = Client(app)
        email = f"count-{uuid.uuid4().hex[:10]}@example.com"
        self.request("POST", "/auth/register", {"email": email, "password": PASSWORD})
        self.token = self.request("POST", "/auth/login", {"email": email, "password": PASSWORD})[1]["data"]["token"]

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
                ) -> tuple[int, Any, Counter[str]]:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if getattr(self, "token", None):
            sent["Authorization"] = f"Bearer {self.token}"
        self.counts.calls.clear()
        response = self.client.http.request(method, path, headers=sent,
                                            body=json.dumps(body).encode() if body is not None else b"")
        parsed = json.loads(response.body) if response.body[:1] == b"{" else None
        return response.status_code, parsed, Counter(self.counts.calls)

    def publish(self, module: str, files: dict[str, str], via_upload: bool = False,
                dependencies: list[str] | None = None) -> tuple[int, Counter[str], Counter[str]]:
        """(status, calls of the publish, calls of the upload grant)"""
        self.request("POST", "/modules", {"name": module})
        grant: Counter[str] = Counter()
        body: dict[str, Any] = {"version": "v1.0.0", "dependencies": dependencies or []}
        if via_upload:
            status, reply, grant = self.request("POST", f"/modules/{module}/uploads", {})
            if status != 201:
                return status, Counter(), grant
            data = reply["data"]
            requests.post(data["url"], data=data["fields"], files={"file": ("m.tar.gz", tar_gz(files))},
                          timeout=TIMEOUT).raise_for_status()
            body["upload_id"] = data["upload_id"]
        else:
            body["files"] = files
        status, reply, calls = self.request("POST", f"/modules/{module}/versions", body)
        if status >= 300:
            print(f"    publish of {module} -> {status}: {json.dumps(reply)[:300]}")
        return status, calls, grant


def _row(label: str, status: int, calls: Counter[str]) -> str:
    services: Counter[str] = Counter()
    for name, count in calls.items():
        services[name.split(".")[0]] += count
    detail = ", ".join(f"{name.split('.')[1]} {count}" for name, count in sorted(calls.items()))
    return (f"  {label:<44} [{status}]  S3 {services['s3']:>5}  DynamoDB {services['dynamodb']:>3}  "
            f"SQS {services['sqs']:>2}   ({detail})")


def count_calls(environment: dict[str, str], sizes: list[int]) -> None:
    app = InProcess(environment)
    run = uuid.uuid4().hex[:6]
    print("== AWS calls per publish (in-process app on the same embedded AWS; botocore before-call)")
    uploads = None
    for size in sizes:
        files = module_files(size)
        status, calls, _ = app.publish(f"count-{run}-json-{size}", files)
        print(_row(f"{size:,} files, JSON", status, calls))
        if uploads is not False:
            status, calls, grant = app.publish(f"count-{run}-up-{size}", files, via_upload=True)
            uploads = status < 400
            if uploads:
                print(_row(f"{size:,} files, upload path: the grant", 201, grant))
                print(_row(f"{size:,} files, upload path: the publish", status, calls))
    for size in (10, 1000):
        base = f"count-{run}-dep-{size}"
        app.publish(base, module_files(size, package="dep.v1", prefix="dep/v1"))
        status, calls, _ = app.publish(f"count-{run}-uses-{size}", module_files(10),
                                       dependencies=[f"{base}@v1.0.0"])
        print(_row(f"10 files + a dependency of {size:,} files", status, calls))
    print("== AWS calls per read (signed in, default organization)")
    for size in (10, sizes[-1]):
        module = f"count-{run}-json-{size}"
        status, _, calls = app.request("GET", f"/modules/{module}/versions/v1.0.0")
        print(_row(f"GET version of {size:,} files", status, calls))
        status, _, calls = app.request("GET", f"/modules/{module}/versions/v1.0.0/files/bench/v1/f{size - 1}.proto")
        print(_row(f"GET one file of {size:,}", status, calls))
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,1000,5000", help="file counts for the call counts")
    parser.add_argument("--skip-timing", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with running_stack(api_port=free_port(), aws_port=free_port(), quiet=True) as stack:
        if not args.skip_timing:
            time_publishes(stack.api_url)
        count_calls(stack.environment, sizes)


if __name__ == "__main__":
    main()
