"""Push, compile, download: the whole pipeline on the local stack (chalice local + worker + moto)."""
from __future__ import annotations

import importlib
import io
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

COMMON = {"acme/common/v1/money.proto": 'syntax = "proto3";\npackage acme.common.v1;\n'
          'option go_package = "example.com/protos/acme/common/v1;commonv1";\n'
          'message Money { string currency = 1; int64 units = 2; }\n'}
SHOP = {
    "acme/shop/v1/order.proto": 'syntax = "proto3";\npackage acme.shop.v1;\n'
    'import "acme/common/v1/money.proto";\nimport "google/protobuf/timestamp.proto";\n'
    'message Order { string id = 1; acme.common.v1.Money total = 2; google.protobuf.Timestamp placed = 3; }\n',
    "acme/shop/v1/service.proto": 'syntax = "proto3";\npackage acme.shop.v1;\nimport "acme/shop/v1/order.proto";\n'
    'service Shop { rpc Get(Order) returns (Order); }\n',
    "acme/shop/v1/status.proto": 'syntax = "proto3";\npackage acme.shop.v1;\nenum Status { STATUS_UNSPECIFIED = 0; '
    'STATUS_PAID = 1; }\n',
}
# One file's expected outputs per language (the other files follow the same naming).
EXPECTED = {
    "python": ["acme/shop/v1/order_pb2.py", "acme/shop/v1/service_pb2.py", "acme/shop/v1/status_pb2.py",
               "acme/shop/v1/service_pb2_grpc.py", "requirements.txt"],
    "pyi": ["acme/shop/v1/order_pb2.pyi", "acme/shop/v1/service_pb2.pyi", "acme/shop/v1/status_pb2.pyi"],
    "go": ["acme/shop/v1/order.pb.go", "acme/shop/v1/service.pb.go", "acme/shop/v1/status.pb.go",
           "acme/shop/v1/service_grpc.pb.go", "go.mod"],
    "cpp": ["acme/shop/v1/order.pb.h", "acme/shop/v1/order.pb.cc", "acme/shop/v1/service.pb.h",
            "acme/shop/v1/status.pb.cc"],
    "ruby": ["acme/shop/v1/order_pb.rb", "acme/shop/v1/service_pb.rb", "acme/shop/v1/status_pb.rb"],
    "objc": ["acme/shop/v1/Order.pbobjc.h", "acme/shop/v1/Service.pbobjc.m", "acme/shop/v1/Status.pbobjc.h"],
    "csharp": ["Acme/Shop/V1/Order.cs", "Acme/Shop/V1/Service.cs", "Acme/Shop/V1/Status.cs"],
    "java": ["acme/shop/v1/OrderOuterClass.java", "acme/shop/v1/Service.java",
             "acme/shop/v1/StatusOuterClass.java"],
    "kotlin": ["acme/shop/v1/OrderKt.kt", "acme/shop/v1/OrderOuterClass.java"],
    "php": ["GPBMetadata/Acme/Shop/V1/Order.php", "Acme/Shop/V1/Order.php", "Acme/Shop/V1/Status.php"],
}


def _wait_compiled(api_url: str, module: str, version: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        compilation = requests.get(f"{api_url}/modules/{module}/versions/{version}", headers=headers,
                                   timeout=10).json()["data"]["compilation"]
        if all(s["status"] in ("succeeded", "failed") for s in compilation.values()):
            return compilation
        time.sleep(0.5)
    raise AssertionError(f"{module} {version} still compiling: {compilation}")


def _zip(api_url: str, module: str, version: str, language: str, headers: dict[str, str]) -> zipfile.ZipFile:
    redirect = requests.get(f"{api_url}/modules/{module}/versions/{version}/download/{language}",
                            headers=headers, allow_redirects=False, timeout=10)
    assert redirect.status_code == 302, redirect.text
    body = requests.get(redirect.headers["Location"], timeout=10)
    assert body.status_code == 200
    return zipfile.ZipFile(io.BytesIO(body.content))


def _publish(api_url: str, headers: dict[str, str], module: str, files: dict[str, str], **fields: str) -> None:
    assert requests.post(f"{api_url}/modules", json={"name": module, "go_package_prefix": "example.com/protos"},
                         headers=headers, timeout=10).status_code == 201
    parts = [(key, (None, value)) for key, value in {"version": "v1.0.0", **fields}.items()]
    parts += [("file", (path, text.encode())) for path, text in files.items()]
    reply = requests.post(f"{api_url}/modules/{module}/versions", files=parts, headers=headers, timeout=60)
    assert reply.status_code == 201, reply.text


def test_every_language_compiles_and_downloads(api_url: str, token: str, unique: Callable[[str], str],
                                               tmp_path: Path) -> None:
    # Given a module of several files depending on another module
    headers = {"Authorization": f"Bearer {token}"}
    common, shop = unique("common"), unique("shop")
    _publish(api_url, headers, common, COMMON)
    _publish(api_url, headers, shop, SHOP, dependency=f"{common}@v1.0.0")
    # When the worker has compiled both
    _wait_compiled(api_url, common, "v1.0.0", headers)
    statuses = _wait_compiled(api_url, shop, "v1.0.0", headers)
    # Then every language succeeded and each ZIP holds the expected generated files
    assert {lang: s["status"] for lang, s in statuses.items()} == {lang: "succeeded" for lang in EXPECTED}
    version = requests.get(f"{api_url}/modules/{shop}/versions/v1.0.0", timeout=10).json()["data"]
    assert sorted(version["compiled_languages"]) == sorted(EXPECTED)
    for language, names in EXPECTED.items():
        archive = _zip(api_url, shop, "v1.0.0", language, headers)
        missing = set(names) - set(archive.namelist())
        assert not missing, (language, missing, archive.namelist())
        assert "spoke-manifest.json" in archive.namelist()
    # And the python code, unpacked with its dependency's, imports and round-trips a message
    for module in (common, shop):
        _zip(api_url, module, "v1.0.0", "python", headers).extractall(tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        order_pb2 = importlib.import_module("acme.shop.v1.order_pb2")
        order = order_pb2.Order(id="o-1")
        order.total.currency, order.total.units = "EUR", 42
        again = order_pb2.Order.FromString(order.SerializeToString())
        assert (again.id, again.total.currency, again.total.units) == ("o-1", "EUR", 42)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.startswith("acme")]:
            del sys.modules[name]


def test_a_plugin_failure_shows_failed_and_download_says_so(api_url: str, token: str,
                                                             unique: Callable[[str], str]) -> None:
    # Given a module whose files give one Go import path two package names: protoc-gen-go must refuse it
    headers = {"Authorization": f"Bearer {token}"}
    module = unique("nogo")
    assert requests.post(f"{api_url}/modules", json={"name": module}, headers=headers, timeout=10).status_code == 201
    reply = requests.post(f"{api_url}/modules/{module}/versions", headers=headers, timeout=60, json={
        "version": "v1.0.0", "files": {
            "a.proto": 'syntax = "proto3";\noption go_package = "example.com/x;a";\nmessage A { int32 x = 1; }\n',
            "b.proto": 'syntax = "proto3";\noption go_package = "example.com/x;b";\nmessage B { int32 x = 1; }\n'}})
    assert reply.status_code == 201, reply.text
    statuses = _wait_compiled(api_url, module, "v1.0.0", headers)
    # Then go failed with protoc-gen-go's own message while the others succeeded
    assert statuses["go"]["status"] == "failed"
    assert "inconsistent names" in statuses["go"]["error"]
    assert statuses["python"]["status"] == "succeeded"
    download = requests.get(f"{api_url}/modules/{module}/versions/v1.0.0/download/go", timeout=10)
    assert download.status_code == 422 and download.json()["error"]["code"] == "COMPILATION_FAILED"
    assert statuses["go"]["error"][:40] in download.json()["error"]["message"]


@pytest.mark.parametrize("accept", ["application/json"])
def test_download_as_json_gives_the_url(api_url: str, token: str, unique: Callable[[str], str], accept: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    module = unique("jsonurl")
    _publish(api_url, headers, module, COMMON)
    _wait_compiled(api_url, module, "v1.0.0", headers)
    reply = requests.get(f"{api_url}/modules/{module}/versions/v1.0.0/download/descriptor_set",
                         headers={"Accept": accept}, timeout=10).json()["data"]
    assert reply["url"].startswith("http://127.0.0.1") and reply["size"] > 0
    assert requests.get(reply["url"], timeout=10).status_code == 200
