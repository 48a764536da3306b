"""What a request costs Spoke: cold-start time, and AWS API calls per endpoint.

Run from the repo root: `.venv/bin/python bench/api_costs.py [--cold-only] [--app-dir DIR]` (or
`make bench`). Everything runs against moto (the cold start against the embedded AWS in another
process, the call counts in process), so it needs no account and prints figures only: nothing here
asserts a timing, because timings depend on the machine.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Fake credentials and no endpoint override: moto must intercept every call, never a real account.
os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
for _var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(_var, None)

COLD_RUNS = 9
SIZES = (10, 1000)
FILE_PATH = "bench/v1/bench.proto"


# ---------------------------------------------------------------- 1. cold start

def start_moto() -> Any:
    """Start moto and provision the template's resources, as a deployed stage would have them."""
    import boto3
    from moto import mock_aws

    from infra.provision import provision

    mock = mock_aws()
    mock.start()
    env = provision("bench", boto3.session.Session(region_name="us-east-1"))
    # Every request is counted against its rate limit (one counter UpdateItem) and every write against
    # its quotas (conditions of its transaction), but none is refused: the bench makes hundreds of
    # requests in one hour, in organizations of up to thousands of modules.
    from chalicelib.domain.plans import LIMIT_NAMES, PLAN_NAMES

    unlimited = {plan: {limit: 10 ** 12 for limit in LIMIT_NAMES} for plan in PLAN_NAMES}
    os.environ.update(env, SPOKE_JWT_SECRET=secrets.token_urlsafe(48), SPOKE_STAGE="bench",
                      SPOKE_PLANS=json.dumps(unlimited))
    return mock


# One cold start, as Lambda has one: a fresh interpreter imports the app and serves its first
# GET /health through chalice.test.Client. The AWS it talks to is the embedded one in another
# process (as AWS is, for Lambda), so nothing of moto is in the measured process. The bare app is
# Chalice with one /health route that makes one DynamoDB GetItem (the item Spoke's health check
# reads), so the ratio is what Spoke adds on top of "Chalice + boto3 + one AWS call".
COLD_CHILD = """\
import json, resource, sys, time
started = time.perf_counter()
kind = sys.argv[1]
from chalice.test import Client
harness = time.perf_counter()
if kind == "spoke":
    from app import app
else:
    import os
    import boto3
    from chalice import Chalice
    app = Chalice(app_name="bare")

    @app.route("/health")
    def health():
        boto3.client("dynamodb").get_item(TableName=os.environ["SPOKE_TABLE_NAME"],
                                          Key={"PK": {"S": "HEALTH"}, "SK": {"S": "PROBE"}})
        return {"status": "ok"}
imported = time.perf_counter()
with Client(app) as client:
    status = client.http.get("/health").status_code
done = time.perf_counter()
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"status": status, "harness_ms": (harness - started) * 1000,
                  "import_ms": (imported - harness) * 1000, "request_ms": (done - imported) * 1000,
                  "cpu_ms": (usage.ru_utime + usage.ru_stime) * 1000, "peak_mib": usage.ru_maxrss / 1024,
                  "modules": len(sys.modules)}), flush=True)
"""


def cold_run(kind: str, env: dict[str, str], app_dir: Path) -> dict[str, float]:
    """One child process. `cold_ms`: from spawn to its first response (the line it prints then), which is
    what a Lambda cold start costs; `exit_ms`: until the process has exited (interpreter teardown too,
    which Lambda never waits for). `peak_mib`: the child's ru_maxrss when it answered."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", COLD_CHILD, kind], cwd=app_dir, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = child.stdout.readline() if child.stdout else ""
    answered = time.perf_counter()
    rest, errors = child.communicate(timeout=120)
    exited = time.perf_counter()
    if child.returncode != 0 or not line:
        raise RuntimeError(f"cold {kind} child failed:\n{errors}")
    result = json.loads(line)
    result.update(cold_ms=(answered - started) * 1000, exit_ms=(exited - started) * 1000)
    return result


def cold_start(app_dir: Path = ROOT) -> None:
    """Alternate spoke/bare children against one embedded AWS, so that machine noise hits both alike."""
    import boto3

    from infra.provision import provision

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    aws_url = f"http://127.0.0.1:{port}"
    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                   "AWS_DEFAULT_REGION": "us-east-1"}
    server = subprocess.Popen([sys.executable, "-m", "localdev.embedded_aws", "--port", str(port)], cwd=ROOT,
                              env={**os.environ, **credentials}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="testing",
                                        aws_secret_access_key="testing")
        for _ in range(150):
            try:
                settings = provision("cold", session, endpoint_url=aws_url)
                break
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.1)
        else:
            raise RuntimeError("the embedded AWS did not start")
        env = {"PATH": os.environ.get("PATH", ""), **credentials, **settings, "AWS_ENDPOINT_URL": aws_url,
               "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
               "SPOKE_JWT_SECRET": secrets.token_urlsafe(48), "SPOKE_STAGE": "bench"}
        runs: dict[str, list[dict[str, float]]] = {"spoke": [], "bare": []}
        for kind in runs:  # one untimed warm-up each: the OS page cache, __pycache__
            cold_run(kind, env, app_dir)
        for _ in range(COLD_RUNS):
            for kind, results in runs.items():
                results.append(cold_run(kind, env, app_dir))
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"== Cold start: a fresh process (interpreter, import, first GET /health via chalice.test.Client) "
          f"to its first response, {COLD_RUNS} runs each{'' if app_dir == ROOT else f'; app from {app_dir}'}")
    print("   AWS is the embedded one in another process; bare = Chalice + one DynamoDB GetItem in /health;")
    print("   peak = the process's ru_maxrss when it answered; cpu = its user+system CPU time by then (what a")
    print("   busy machine disturbs least); exit = until the process had exited")
    medians: dict[str, dict[str, float]] = {}
    for kind, results in runs.items():
        medians[kind] = {key: statistics.median(r[key] for r in results) for key in results[0]}
        m = medians[kind]
        print(f"  {kind:<6} cold median {m['cold_ms']:6.0f} ms (min {min(r['cold_ms'] for r in results):4.0f})  "
              f"cpu {m['cpu_ms']:5.0f} ms  peak {m['peak_mib']:5.1f} MiB  exit {m['exit_ms']:5.0f} ms  | "
              f"harness {m['harness_ms']:4.0f}, "
              f"import {m['import_ms']:4.0f}, first request {m['request_ms']:4.0f} ms; "
              f"{m['modules']:.0f} modules; statuses {sorted({int(r['status']) for r in results})}")
    spoke, bare = medians["spoke"], medians["bare"]
    print(f"  ratio spoke/bare: cold start {spoke['cold_ms'] / bare['cold_ms']:.2f}x "
          f"({spoke['cold_ms']:.0f} vs {bare['cold_ms']:.0f} ms), cpu {spoke['cpu_ms'] / bare['cpu_ms']:.2f}x, "
          f"peak memory {spoke['peak_mib'] / bare['peak_mib']:.2f}x "
          f"({spoke['peak_mib']:.0f} vs {bare['peak_mib']:.0f} MiB), whole process with exit "
          f"{spoke['exit_ms'] / bare['exit_ms']:.2f}x\n")


# ---------------------------------------------------------------- 2. AWS calls per request

RATE_COUNTER = "UpdateItem(rate counter)"


class CallCounter:
    """botocore handlers: `before-call` fires once per API call (whatever the retries do);
    `after-call` of Query adds ScannedCount, since one call can read a whole partition."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.scanned = 0

    def before(self, event_name: str, params: dict[str, Any] | None = None, **_: Any) -> None:
        operation = event_name.split(".")[-1]
        body = (params or {}).get("body")
        if operation == "UpdateItem" and isinstance(body, bytes) and b'"COUNTER#' in body:
            operation = RATE_COUNTER  # the rate limit's one call per request, told apart from the rest
        self.calls[operation] += 1

    def after_query(self, parsed: dict[str, Any], **_: Any) -> None:
        self.scanned += parsed.get("ScannedCount", 0)


class RecordingTable:
    """Stands in for RegistryStore's Table and keeps the transactions it would run: moto copies
    every table on each TransactWriteItems, so 2,000 real ones take minutes. `flush` writes the
    same puts with BatchWriteItem and sums each `ADD counter :one` into one UpdateItem."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pending: list[dict[str, Any]] = []

    def transact(self, operations: list[dict[str, Any]]) -> list[str]:
        self.pending += operations
        return []

    def flush(self) -> None:
        from chalicelib.adapters import aws
        from chalicelib.adapters.dynamo import to_item

        ddb = aws.client("dynamodb")
        puts = [{"PutRequest": {"Item": to_item(op["Put"]["Item"])}} for op in self.pending if "Put" in op]
        for start in range(0, len(puts), 25):
            request = {self.name: puts[start:start + 25]}
            while request:
                request = ddb.batch_write_item(RequestItems=request).get("UnprocessedItems")
        adds: Counter[tuple[str, str]] = Counter()
        for op in (o["Update"] for o in self.pending if "Update" in o):
            if op["ExpressionAttributeValues"] != {":one": 1} or "ConditionExpression" in op:
                raise ValueError(f"RecordingTable cannot batch {op}")
            adds[(json.dumps(op["Key"], sort_keys=True), op["UpdateExpression"])] += 1
        for (key, expression), count in adds.items():
            ddb.update_item(TableName=self.name, Key=to_item(json.loads(key)), UpdateExpression=expression,
                            ExpressionAttributeValues=to_item({":one": count}))
        self.pending = []


class Bench:
    """A Spoke app on moto with a signed-in owner of one named org; records calls per endpoint."""

    def __init__(self) -> None:
        from chalice.test import Client

        self.published_sizes: dict[str, list[int]] = {}

        from app import app
        from chalicelib import wiring
        from chalicelib.adapters import aws
        from chalicelib.adapters.registry_store import RegistryStore

        aws.reset_clients()
        wiring.reset()
        self.counter = CallCounter()
        # Clients copy the session's handlers when created, so register before the first request.
        aws.session().events.register("before-call.*.*", self.counter.before)
        aws.session().events.register("after-call.dynamodb.Query", self.counter.after_query)
        self.client = Client(app)
        self.table = RecordingTable(os.environ["SPOKE_TABLE_NAME"])
        self.registry = RegistryStore(self.table)  # type: ignore[arg-type]  # duck-typed Table
        self.results: dict[str, dict[int, tuple[Counter[str], int, int]]] = {}
        self.token = ""  # set below, then sent on every request
        login = self.call("POST", "/auth/login", self._register("owner@bench.test"))
        self.token, self.user_id = login["token"], login["user"]["id"]
        self.org_id = self.call("POST", "/organizations", {"name": "Bench", "slug": "bench"})["id"]
        self.module_count = {"default": 0, self.org_id: 0}

    def _register(self, email: str) -> dict[str, str]:
        credentials = {"email": email, "password": "correct-horse-battery-staple"}
        self.call("POST", "/auth/register", credentials)
        return credentials

    def call(self, method: str, path: str, body: Any = None, org: str | None = None,
             token: str | None = None, label: str | None = None, size: int = 0) -> Any:
        """One request (it must succeed); when labelled, its AWS calls are recorded under (label, size)."""
        headers = {"Content-Type": "application/json"}
        if token or self.token:
            headers["Authorization"] = f"Bearer {token or self.token}"
        if org and org != "default":
            headers["X-Organization-ID"] = org
        self.counter.calls.clear()
        self.counter.scanned = 0
        response = self.client.http.request(method, path, headers=headers,
                                            body=json.dumps(body).encode() if body is not None else b"")
        if label:
            self.results.setdefault(label, {})[size] = (Counter(self.counter.calls), response.status_code,
                                                        self.counter.scanned)
        if response.status_code >= 400:  # a failing request would measure the wrong path: stop
            raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.body[:400]!r}")
        payload = json.loads(response.body) if response.body.startswith(b"{") else {}
        return payload.get("data") if isinstance(payload, dict) else None

    def populate(self, org_id: str, total: int) -> None:
        """Write modules through RegistryStore (so items and counters are the real ones), in bulk."""
        from chalicelib.domain.models import Module

        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        for i in range(self.module_count[org_id], total):
            self.registry.create_module(Module(org_id=org_id, name=f"mod-{i:04d}", created_at=now, updated_at=now,
                                               description=f"Benchmark module number {i} of the registry",
                                               owner_id=self.user_id))
        self.table.flush()
        if self.module_count[org_id] == 0:  # one version to read back, published through the API
            self.call("POST", "/modules/mod-0000/versions", org=org_id, body={
                "version": "1.0.0", "files": {FILE_PATH: 'syntax = "proto3";\npackage bench.v1;\n'}})
        self.module_count[org_id] = total

    def account_round(self, size: int) -> None:
        """Endpoints that do not depend on how many modules an org holds (run at each size anyway)."""
        def run(method: str, path: str, label: str, body: Any = None, token: str | None = None) -> Any:
            return self.call(method, path, body, token=token, label=label, size=size)

        credentials = self._register(f"user{size}@bench.test")
        run("POST", "/auth/register", "POST /auth/register", {"email": f"x{size}@bench.test",
                                                               "password": "correct-horse-battery-staple"})
        token = run("POST", "/auth/login", "POST /auth/login", credentials)["token"]
        run("POST", "/auth/logout", "POST /auth/logout", token=token)
        run("POST", "/organizations", "POST /organizations", {"name": f"Org {size}", "slug": f"bench-n{size}"})
        run("GET", "/organizations", "GET /organizations")
        run("GET", f"/organizations/{self.org_id}", "GET /organizations/{id}")
        members = f"/organizations/{self.org_id}/members"
        user_id = run("POST", members, "POST /organizations/{id}/members",
                      {"email": credentials["email"], "role": "viewer"})["user_id"]
        run("GET", members, "GET /organizations/{id}/members")
        run("DELETE", f"{members}/{user_id}", "DELETE /organizations/{id}/members/{uid}")
        run("GET", "/health", "GET /health")
        run("GET", "/metrics", "GET /metrics")

    def modules_round(self, org: str, size: int) -> None:
        """Every /modules endpoint, in one org holding `size` modules."""
        tag = "default org" if org == "default" else "named org"

        def run(method: str, path: str, label: str, body: Any = None) -> Any:
            return self.call(method, path, body, org=org, label=f"{label} [{tag}]", size=size)

        # Each round adds a message and keeps the earlier ones, so the module's policy (FILE, BACKWARD)
        # passes and the count includes the compatibility check against the previous version.
        sizes = self.published_sizes.setdefault(org, [])
        sizes.append(size)
        messages = "".join(f"message M{n} {{}}\n" for n in sizes)
        proto = {FILE_PATH: f'syntax = "proto3";\npackage bench.v1;\n{messages}'}
        importer = {"bench/v2/uses.proto": 'syntax = "proto3";\nimport "bench/v1/bench.proto";\n'}
        run("POST", "/modules", "POST /modules", {"name": f"new-{size}", "description": "made by bench"})
        run("GET", "/modules?page_size=20", "GET /modules (page 1, size 20)")
        run("GET", "/modules?page=3&page_size=20", "GET /modules?page=3")
        cursor = self.call("GET", "/modules?page_size=5", org=org)["pagination"]["next_cursor"]
        run("GET", f"/modules?page_size=5&cursor={cursor}", "GET /modules?cursor= (size 5)")
        run("GET", "/modules?q=mod-0007", "GET /modules?q=mod-0007 (name prefix)")
        run("GET", "/modules/mod-0000", "GET /modules/{name}")
        run("PATCH", "/modules/mod-0000", "PATCH /modules/{name}", {"description": f"edited at {size}"})
        run("POST", "/modules/mod-0000/versions", "POST .../versions", {"version": f"1.{size}.0", "files": proto})
        run("POST", "/modules/mod-0001/versions", "POST .../versions (1 dependency)",
            {"version": f"1.{size}.0", "files": importer, "dependencies": ["mod-0000@1.0.0"]})
        run("POST", "/validate", "POST /validate (1 dependency)",
            {"files": importer, "dependencies": ["mod-0000@1.0.0"]})
        run("GET", "/modules/mod-0000/versions", "GET /modules/{name}/versions")
        run("GET", "/modules/mod-0000/versions/1.0.0", "GET .../versions/{v}")
        run("GET", f"/modules/mod-0000/versions/1.0.0/files/{FILE_PATH}", "GET .../files/{path}")
        run("GET", f"/modules/mod-0001/versions/1.{size}.0/dependencies", "GET .../versions/{v}/dependencies")
        run("GET", "/modules/mod-0000/dependents", "GET /modules/{name}/dependents")

    def partition_kb(self, org_id: str) -> float:
        """Rough size of an org's module items (JSON length), to compare with Query's 1 MB page."""
        from chalicelib.adapters.dynamo import Table

        items = Table(self.table.name).query(f"ORG#{org_id}", "MOD#")
        return sum(len(json.dumps(item)) for item in items) / 1024


def describe(calls: Counter[str]) -> str:
    return ", ".join(f"{op} x{n}" for op, n in sorted(calls.items())) or "-"


def aws_calls() -> None:
    """Count API calls per endpoint with each org at 10, then at 1,000 modules."""
    mock = start_moto()
    bench = Bench()
    started = time.perf_counter()
    for size in SIZES:
        for org in ("default", bench.org_id):
            bench.populate(org, size)
        bench.account_round(size)
        for org in ("default", bench.org_id):
            bench.modules_round(org, size)
    print(f"== AWS API calls per request (moto; every request sends a bearer token; "
          f"took {time.perf_counter() - started:.0f} s)")
    print(f"   module items in the named org's partition at the end: ~{bench.partition_kb(bench.org_id):.0f} KB "
          "(DynamoDB pages a Query at 1 MB)")
    report(bench.results)
    mock.stop()


def report(results: dict[str, dict[int, tuple[Counter[str], int, int]]]) -> None:
    """The table, then which endpoints' call counts (and Query items read) grew with the org."""
    width = max(map(len, results)) + 2
    print(f"  {'endpoint':<{width}}{'@10':>5}{'@1000':>7}  {'status':<9}{'read@10/@1000':<15}operations")
    grew, read_more = [], []
    for label, by_size in results.items():
        (small, s_status, s_read), (large, l_status, l_read) = by_size[SIZES[0]], by_size[SIZES[1]]
        ops = describe(large) if small == large else f"@10: {describe(small)} | @1000: {describe(large)}"
        read = f"{s_read}/{l_read}" if s_read or l_read else ""
        print(f"  {label:<{width}}{sum(small.values()):>5}{sum(large.values()):>7}  "
              f"{f'{s_status}/{l_status}':<9}{read:<15}{ops}")
        if sum(large.values()) > sum(small.values()):
            grew.append(label)
        if l_read > s_read * 10:
            read_more.append(f"{label} ({s_read} -> {l_read})")
    print("\n  read = items a Query read (ScannedCount) before any FilterExpression")
    counted = [label for label, by_size in results.items() if by_size[SIZES[1]][0][RATE_COUNTER]]
    print(f"  {RATE_COUNTER}: the rate limit's atomic counter, one per request on {len(counted)} of "
          f"{len(results)} endpoints (not on {', '.join(sorted(set(results) - set(counted))) or '-'})")
    print(f"Counts that grew from 10 to 1000 modules: {', '.join(grew) if grew else 'none'}")
    print(f"Items read that grew with the org (>10x): {'; '.join(read_more) if read_more else 'none'}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-only", action="store_true", help="only the cold start")
    parser.add_argument("--app-dir", type=Path, default=ROOT,
                        help="measure the cold start of the app in another checkout (e.g. an older commit)")
    args = parser.parse_args()
    cold_start(args.app_dir.resolve())
    if not args.cold_only:
        aws_calls()
