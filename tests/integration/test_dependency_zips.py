"""Dependencies wired into compiled code: `orders` depends on `common`.

Each ZIP's manifest names the dependency ZIPs, Go's go.mod requires common's Go module, the Python ZIP
builds a wheel that depends on common's distribution, the Java ZIP's pom.xml on common's artifact, and
`?with_dependencies=true` serves one ZIP of the closure (byte-identical every time, pending until every
ZIP of the closure is compiled, refused above its bound). The compile function runs in-process with the
layer's protoc, as in test_go_import_paths.py.
"""
from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests
from chalice.test import Client

from chalicelib import wiring
from tests.integration.api import Api
from tests.integration.outbox import compile_queued

COMMON = {"acme/common/v1/money.proto": 'syntax = "proto3";\npackage acme.common.v1;\n'
                                        'message Money { string currency = 1; int64 units = 2; }\n'}
ORDERS = {"acme/orders/v1/orders.proto": (
    'syntax = "proto3";\npackage acme.orders.v1;\nimport "acme/common/v1/money.proto";\n'
    'message Order { string id = 1; acme.common.v1.Money total = 2; map<string, string> labels = 3;\n'
    '  oneof payment { string card = 4; string invoice = 5; } }\n'
    'service Orders { rpc Get(Order) returns (Order); rpc Watch(Order) returns (stream Order); }\n')}


def _zip(api: Api, path: str) -> bytes:
    redirect = api.get(path)
    assert redirect.status == 302, redirect.body
    return requests.get(redirect.headers["Location"], timeout=10).content


def _entries(body: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(body))
    return {name: archive.read(name) for name in archive.namelist()}


def _publish_both(api: Api) -> str:
    token = api.signed_up()[0]
    api.module(token, "common")
    assert api.post("/modules/common/versions", {"version": "v1.0.0", "files": COMMON}, token=token).status == 201
    api.module(token, "orders")
    published = api.post("/modules/orders/versions", {"version": "v1.0.0", "dependencies": ["common@v1.0.0"],
                                                      "files": ORDERS}, token=token)
    assert published.status == 201, published.body
    return token


@pytest.fixture
def compiled(api: Api, client: Client, aws_env: dict[str, str], layer_protoc: str) -> str:
    """common v1.0.0 and orders v1.0.0 (depending on it), both compiled to every language; the token."""
    token = _publish_both(api)
    assert compile_queued(client, aws_env) == 2
    return token


def test_each_zip_names_its_dependency_zips_and_go_mod_requires_common(api: Api, compiled: str) -> None:
    # When orders' Go and C++ ZIPs are downloaded
    go = _entries(_zip(api, "/modules/orders/versions/v1.0.0/download/go"))
    cpp = _entries(_zip(api, "/modules/orders/versions/v1.0.0/download/cpp"))
    # Then their manifests name common's ZIP of the same language, with the path to download it from
    for language, entries in (("go", go), ("cpp", cpp)):
        assert json.loads(entries["spoke-manifest.json"])["dependencies"] == [
            {"module": "common", "version": "v1.0.0", "language": language, "direct": True,
             "download_path": f"/modules/common/versions/v1.0.0/download/{language}"}]
    # And go.mod requires common's Go module, as common's own go.mod names it, at v1.0.0
    common_go = _entries(_zip(api, "/modules/common/versions/v1.0.0/download/go"))
    common_module = common_go["go.mod"].decode().splitlines()[0].removeprefix("module ")
    assert f"\t{common_module} v1.0.0\n" in go["go.mod"].decode()
    assert f"\nreplace {common_module} => ../common\n" in go["go.mod"].decode()
    # And common, which depends on nothing, names no dependency
    assert json.loads(common_go["spoke-manifest.json"])["dependencies"] == []


def test_the_python_zip_builds_a_wheel_that_depends_on_commons_distribution(api: Api, compiled: str,
                                                                            tmp_path: Path) -> None:
    # Given orders' Python ZIP unpacked
    source = tmp_path / "orders"
    zipfile.ZipFile(io.BytesIO(_zip(api, "/modules/orders/versions/v1.0.0/download/python"))).extractall(source)
    manifest = json.loads((source / "spoke-manifest.json").read_text())
    assert manifest["package"] == {"ecosystem": "pypi", "name": "spoke-default-orders", "version": "1.0.0"}
    # When pip builds it with setuptools (no index, no isolation: setuptools is in this venv)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                            "-q", "-w", str(tmp_path / "wheels"), str(source)], check=False, capture_output=True,
                           text=True,
                           timeout=300)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "wheels").glob("spoke_default_orders-1.0.0-*.whl"))
    archive = zipfile.ZipFile(wheel)
    metadata = archive.read("spoke_default_orders-1.0.0.dist-info/METADATA").decode()
    # Then the wheel holds the generated namespace packages, stubs included, and requires common's package
    assert "acme/orders/v1/orders_pb2.py" in archive.namelist()
    assert "acme/orders/v1/orders_pb2_grpc.py" in archive.namelist()
    assert "Requires-Dist: spoke-default-common==1.0.0" in metadata
    assert "Requires-Dist: protobuf" in metadata and "Requires-Dist: grpcio" in metadata


def test_the_java_zip_has_a_pom_with_the_runtime_and_commons_artifact(api: Api, compiled: str) -> None:
    from xml.etree import ElementTree

    pom = ElementTree.fromstring(_entries(_zip(api, "/modules/orders/versions/v1.0.0/download/java"))["pom.xml"])
    ns = "{http://maven.apache.org/POM/4.0.0}"
    coordinates = [(d.findtext(f"{ns}groupId"), d.findtext(f"{ns}artifactId"), d.findtext(f"{ns}version"))
                   for d in pom.iter(f"{ns}dependency")]
    assert ("spoke.default", "common", "1.0.0") in coordinates
    assert any(group == "com.google.protobuf" and artifact == "protobuf-java" for group, artifact, _ in coordinates)


def test_with_dependencies_serves_one_closure_zip_the_same_bytes_every_time(api: Api, compiled: str) -> None:
    # When the closure of orders is downloaded twice, for Go and for Python
    first = _zip(api, "/modules/orders/versions/v1.0.0/download/go?with_dependencies=true")
    second = _zip(api, "/modules/orders/versions/v1.0.0/download/go?with_dependencies=true")
    # Then both are the same bytes: each module its own Go module directory, a go.work using both
    assert first == second
    go = _entries(first)
    assert go["go.work"].startswith(b"go 1.21\n\nuse (\n\t./common\n\t./orders\n)\n\nreplace (\n")
    assert "common/go.mod" in go and "orders/go.mod" in go and "orders/acme/orders/v1/orders.pb.go" in go
    assert "common/acme/common/v1/money.pb.go" in go
    # And Python's closure is one tree with both modules' generated code
    python = _entries(_zip(api, "/modules/orders/versions/v1.0.0/download/python?with_dependencies=true"))
    assert {"acme/orders/v1/orders_pb2.py", "acme/common/v1/money_pb2.py", "requirements.txt"} <= set(python)
    # And the JSON answer names every module's ZIP it holds
    described = api.get("/modules/orders/versions/v1.0.0/download/go?with_dependencies=true",
                        headers={"Accept": "application/json"})
    assert described.status == 200, described.body
    assert [m["module"] for m in described.data["modules"]] == ["orders", "common"]
    assert described.data["with_dependencies"] is True and described.data["size"] == len(first)


def test_the_closure_is_pending_until_every_zip_of_it_is_compiled(api: Api, client: Client,
                                                                   aws_env: dict[str, str], layer_protoc: str) -> None:
    # Given both published, nothing compiled yet
    token = _publish_both(api)
    # Then the closure is pending, naming both modules
    pending = api.get("/modules/orders/versions/v1.0.0/download/go?with_dependencies=true")
    assert pending.status == 202, pending.body
    assert sorted(p["module"] for p in pending.data["pending"]) == ["common", "orders"]
    assert pending.headers.get("Retry-After") == "5"
    # When both compile, and then common is asked to recompile Go (pending again)
    assert compile_queued(client, aws_env) == 2
    again = api.post("/modules/common/versions/v1.0.0/compile", {"languages": ["go"]}, token=token)
    assert again.status == 202, again.body
    # Then only common is named pending, and another language's closure is ready meanwhile
    waiting = api.get("/modules/orders/versions/v1.0.0/download/go?with_dependencies=true")
    assert waiting.status == 202 and [p["module"] for p in waiting.data["pending"]] == ["common"]
    assert api.get("/modules/orders/versions/v1.0.0/download/ruby?with_dependencies=true").status == 302


def test_a_closure_above_the_bound_is_refused_and_bad_flags_are_400(api: Api, compiled: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a registry that serves closures of at most 1 KiB
    monkeypatch.setenv("SPOKE_CLOSURE_MAX_BYTES", "1024")
    wiring.reset()
    refused = api.get("/modules/orders/versions/v1.0.0/download/go?with_dependencies=true")
    assert refused.status == 413 and refused.code == "CLOSURE_TOO_LARGE", refused.body
    # And each module's own ZIP is still served
    assert api.get("/modules/orders/versions/v1.0.0/download/go").status == 302
    # And a flag that is not a boolean, or on a source download, is a 400 saying so
    for path in ("download/go?with_dependencies=yes", "download/proto?with_dependencies=true"):
        bad = api.get(f"/modules/orders/versions/v1.0.0/{path}")
        assert bad.status == 400 and bad.code == "VALIDATION_ERROR", bad.body


def test_a_failing_s3_write_of_the_closure_is_a_500_and_the_next_request_serves_the_same_bytes(
        api: Api, compiled: str) -> None:
    from botocore.exceptions import ClientError

    from chalicelib.adapters import aws

    # Given S3 refusing the write that remembers a built closure
    def fail(params: dict[str, object], **_: object) -> None:
        if str(params.get("Key", "")).startswith("closures/"):
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "secret internal text"}}, "PutObject")

    events = aws.client("s3").meta.events
    events.register("before-parameter-build.s3.PutObject", fail, unique_id="closure-pointer-fail")
    try:
        failed = api.get("/modules/orders/versions/v1.0.0/download/go?with_dependencies=true")
    finally:
        events.unregister("before-parameter-build.s3.PutObject", unique_id="closure-pointer-fail")
    # Then the caller gets a plain 500, and the next request builds and serves the closure, the same bytes twice
    assert (failed.status, failed.code) == (500, "INTERNAL_ERROR")
    assert "secret internal text" not in str(failed.body)
    first = _zip(api, "/modules/orders/versions/v1.0.0/download/go?with_dependencies=true")
    assert first == _zip(api, "/modules/orders/versions/v1.0.0/download/go?with_dependencies=true")
    assert "common/go.mod" in _entries(first)


def test_two_closure_builds_at_once_store_one_closure_and_serve_the_same_bytes(api: Api, compiled: str) -> None:
    from chalicelib.adapters import aws

    # Given a first closure download that has built its ZIP, and a second one that runs (and builds and
    # stores the same closure) just before the first writes the pointer that remembers it
    path = "/modules/orders/versions/v1.0.0/download/ruby?with_dependencies=true"
    state: dict[str, object] = {}

    def second_build_first(params: dict[str, object], **_: object) -> None:
        if str(params.get("Key", "")).startswith("closures/") and "second" not in state:
            state["second"] = "running"
            state["second"] = api.get(path, headers={"Accept": "application/json"})

    events = aws.client("s3").meta.events
    events.register("before-parameter-build.s3.PutObject", second_build_first, unique_id="second-closure")
    try:
        first = api.get(path, headers={"Accept": "application/json"})
    finally:
        events.unregister("before-parameter-build.s3.PutObject", unique_id="second-closure")
    second = state["second"]
    assert isinstance(second, type(first))
    # Then both are served the same ZIP, and the stored closure is those bytes (no torn or second object)
    assert (first.status, second.status) == (200, 200)
    assert first.data["sha256"] == second.data["sha256"] and first.data["size"] == second.data["size"]
    served = requests.get(first.data["url"], timeout=10).content
    assert hashlib.sha256(served).hexdigest() == first.data["sha256"] and len(served) == first.data["size"]
    assert served == _zip(api, path)


def test_a_dependency_that_failed_to_compile_fails_the_closure_naming_it(api: Api, client: Client,
                                                                         aws_env: dict[str, str],
                                                                         layer_protoc: str) -> None:
    # Given common, whose go_package Go refuses (its Go compile fails), and orders depending on it
    token = api.signed_up()[0]
    api.module(token, "common")
    bad = {"common.proto": 'syntax = "proto3";\npackage common;\noption go_package = "../../x";\nmessage M {}\n'}
    assert api.post("/modules/common/versions", {"version": "v1.0.0", "files": bad}, token=token).status == 201
    api.module(token, "orders")
    assert api.post("/modules/orders/versions", {"version": "v1.0.0", "dependencies": ["common@v1.0.0"], "files": {
        "orders.proto": 'syntax = "proto3";\nimport "common.proto";\nmessage O { common.M m = 1; }\n'}},
        token=token).status == 201
    assert compile_queued(client, aws_env) == 2
    # When the Go closure of orders is asked for
    reply = api.get("/modules/orders/versions/v1.0.0/download/go?with_dependencies=true")
    # Then it is COMPILATION_FAILED naming common; Python's closure, which compiled, is served
    assert reply.code == "COMPILATION_FAILED", reply.body
    assert "common" in [f["module"] for f in reply.body["error"]["details"]["failed"]]
    assert api.get("/modules/orders/versions/v1.0.0/download/python?with_dependencies=true").status == 302


def test_a_closure_of_a_protoc_release_compiles_it_for_every_module_and_links_that_releases_zips(
        api: Api, client: Client, aws_env: dict[str, str], compiled: str) -> None:
    # When the Python closure is asked for with protoc 3.21.12, which nothing was compiled with yet
    path = "/modules/orders/versions/v1.0.0/download/python?with_dependencies=true&protoc=3.21.12"
    first = api.get(path, token=compiled)
    # Then it is pending for both modules, whose compiles of that release the request enqueued
    assert first.status == 202, first.body
    assert sorted(p["module"] for p in first.data["pending"]) == ["common", "orders"]
    assert compile_queued(client, aws_env) == 2
    # And once compiled, the closure holds that release's code, and orders' manifest links common's ZIP of it
    redirect = api.get(path, token=compiled)
    assert redirect.status == 302, redirect.body
    entries = _entries(requests.get(redirect.headers["Location"], timeout=10).content)
    assert {"acme/orders/v1/orders_pb2.py", "acme/common/v1/money_pb2.py"} <= set(entries)
    manifest = json.loads(entries["spoke-modules/orders/spoke-manifest.json"])
    assert manifest["generator"]["protoc"] == "3.21.12"
    assert manifest["dependencies"][0]["download_path"] == \
        "/modules/common/versions/v1.0.0/download/python?protoc=3.21.12"
