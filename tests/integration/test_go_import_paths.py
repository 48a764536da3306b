"""Go code for every version: registry-derived import paths, and a recompile under the module's current prefix.

The compile function runs in-process (chalice.test.Client) with protoc and protoc-gen-go from the same
layer Lambda runs (localdev.stack.local_protoc), so the .go files checked here are what users download.
"""
from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
import requests
from chalice.test import Client

from chalicelib import wiring
from tests.integration.api import Api, multipart
from tests.integration.outbox import compile_queued

# The README's walk-through: two files at the root, one package, no go_package.
README_USER = ('syntax = "proto3";\npackage user.v1;\nimport "types.proto";\n'
               'message User { string id = 1; string email = 2; }\n')
README_TYPES = 'syntax = "proto3";\npackage user.v1;\nmessage Money { int64 units = 1; }\n'


def _go_zip(api: Api, module: str, version: str, org: str | None = None, token: str | None = None
            ) -> dict[str, bytes]:
    redirect = api.get(f"/modules/{module}/versions/{version}/download/go", org=org, token=token)
    assert redirect.status == 302, redirect.body
    archive = zipfile.ZipFile(io.BytesIO(requests.get(redirect.headers["Location"], timeout=10).content))
    return {name: archive.read(name) for name in archive.namelist()}


def _go_package_line(source: bytes) -> str:
    match = re.search(rb"^package (\w+)$", source, re.MULTILINE)
    assert match, source[:300]
    return match.group(1).decode()


def _publish_readme_module(api: Api, token: str) -> None:
    """As the README does: `curl -F file1=@proto/user.proto -F file2=@proto/types.proto`."""
    api.module(token, "user", description="User service")
    body, content_type = multipart({"version": "v1.0.0", "description": "Initial release"},
                                   [("file1", "user.proto", README_USER.encode()),
                                    ("file2", "types.proto", README_TYPES.encode())])
    reply = api.call("POST", "/modules/user/versions", token=token, raw=body,
                     headers={"Content-Type": content_type})
    assert reply.status == 201, reply.body


def test_the_readme_protos_compile_to_go_under_the_registry_path(api: Api, client: Client, aws_env: dict[str, str],
                                                                  layer_protoc: str) -> None:
    # Given the README's module: no go_package in its files, no go_package_prefix on the module
    token = api.signed_up()[0]
    _publish_readme_module(api, token)
    # When the compile function handles its job
    assert compile_queued(client, aws_env) == 1
    status = api.get("/modules/user/versions/v1.0.0").data["compilation"]["go"]
    assert status["status"] == "succeeded", status
    # Then the Go ZIP is a module at the registry's path for the default organization
    files = _go_zip(api, "user", "v1.0.0")
    assert files["go.mod"].decode().startswith("module spoke.local/gen/go/default/user\n")
    # And both files are one Go package, named after the proto package as buf's managed mode names it
    assert _go_package_line(files["user.pb.go"]) == "userv1"
    assert _go_package_line(files["types.pb.go"]) == "userv1"
    manifest = json.loads(files["spoke-manifest.json"])
    assert manifest["go"]["import_paths"] == {"types.proto": "spoke.local/gen/go/default/user",
                                              "user.proto": "spoke.local/gen/go/default/user"}
    # And download/go answers a redirect to that ZIP, not 422 as before
    assert api.get("/modules/user/versions/v1.0.0/download/go").status == 302


def test_files_in_directories_get_one_go_package_per_directory(api: Api, client: Client,
                                                               aws_env: dict[str, str], layer_protoc: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a configured host, and an organization (its slug names the path) with a module in directories
    monkeypatch.setenv("SPOKE_GO_MODULE_HOST", "go.acme.test/protos")
    wiring.reset()
    token = api.signed_up()[0]
    assert api.post("/organizations", {"name": "Acme", "slug": "acme"}, token=token).status == 201
    api.module(token, "shop", org="acme")
    reply = api.publish(token, "shop", "v1.0.0", org="acme", files={
        "acme/shop/v1/order.proto": 'syntax = "proto3";\npackage acme.shop.v1;\nimport "acme/money/money.proto";\n'
                                    'message Order { string id = 1; acme.money.Money total = 2; }\n',
        "acme/money/money.proto": 'syntax = "proto3";\npackage acme.money;\nmessage Money { int64 units = 1; }\n'})
    assert reply.status == 201, reply.body
    # When it compiles
    assert compile_queued(client, aws_env) == 1
    files = _go_zip(api, "shop", "v1.0.0", org="acme", token=token)
    # Then each directory is a Go package under <host>/gen/go/<org slug>/<module>/<directory>
    root = "go.acme.test/protos/gen/go/acme/shop"
    assert files["go.mod"].decode().startswith(f"module {root}\n")
    assert _go_package_line(files["acme/shop/v1/order.pb.go"]) == "shopv1"
    assert _go_package_line(files["acme/money/money.pb.go"]) == "money"
    # And the importing file imports the other under that path
    assert f'"{root}/acme/money"'.encode() in files["acme/shop/v1/order.pb.go"]


def test_a_recompile_uses_the_modules_current_prefix(api: Api, client: Client, aws_env: dict[str, str],
                                                     layer_protoc: str) -> None:
    # Given the README's version, compiled under the registry's path
    token = api.signed_up()[0]
    _publish_readme_module(api, token)
    compile_queued(client, aws_env)
    assert b"module spoke.local/gen/go/default/user\n" in _go_zip(api, "user", "v1.0.0")["go.mod"]
    # When the owner sets a go_package_prefix and asks for Go again
    patched = api.patch("/modules/user", {"go_package_prefix": "github.com/acme/protos/user"}, token=token)
    assert patched.status == 200, patched.body
    requested = api.post("/modules/user/versions/v1.0.0/compile", {"languages": ["go"]}, token=token)
    assert requested.status == 202, requested.body
    assert compile_queued(client, aws_env) == 1
    # Then the version's Go code is under the new prefix
    files = _go_zip(api, "user", "v1.0.0")
    assert files["go.mod"].decode().startswith("module github.com/acme/protos/user\n")
    assert json.loads(files["spoke-manifest.json"])["go"]["import_paths"]["user.proto"] == "github.com/acme/protos/user"
    # And the version's other languages were left as they were
    compilation = api.get("/modules/user/versions/v1.0.0").data["compilation"]
    assert compilation["python"]["status"] == "succeeded" and compilation["go"]["status"] == "succeeded"


def test_a_files_own_go_package_still_wins(api: Api, client: Client, aws_env: dict[str, str],
                                           layer_protoc: str) -> None:
    # Given a file that names its go_package, in a module without a prefix
    token = api.signed_up()[0]
    api.module(token, "named")
    reply = api.publish(token, "named", "v1.0.0", files={"named.proto": (
        'syntax = "proto3";\npackage named.v1;\noption go_package = "example.com/named;namedpb";\n'
        'message Named { string id = 1; }\n')})
    assert reply.status == 201, reply.body
    # When it compiles
    compile_queued(client, aws_env)
    files = _go_zip(api, "named", "v1.0.0")
    # Then its own path and name are used, not the registry's
    assert _go_package_line(files["named.pb.go"]) == "namedpb"
    assert files["go.mod"].decode().startswith("module example.com/named\n")


def test_a_bad_go_module_host_is_refused_at_start(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOKE_GO_MODULE_HOST", "../evil")
    wiring.reset()
    with pytest.raises(ValueError, match="SPOKE_GO_MODULE_HOST"):
        wiring.services()


def test_a_dependencys_files_are_imported_from_their_own_modules_go_path(api: Api, client: Client,
                                                                         aws_env: dict[str, str],
                                                                         layer_protoc: str) -> None:
    # Given module `common` (no go_package, no prefix) and `shop`, with a prefix, that depends on it
    token = api.signed_up()[0]
    api.module(token, "common")
    assert api.publish(token, "common", "v1.0.0", files={"common/v1/money.proto": (
        'syntax = "proto3";\npackage common.v1;\nmessage Money { int64 units = 1; }\n')}).status == 201
    assert api.post("/modules", {"name": "shop", "go_package_prefix": "github.com/acme/shop"},
                    token=token).status == 201
    published = api.post("/modules/shop/versions", {"version": "v1.0.0", "dependencies": ["common@v1.0.0"],
                                                    "files": {"shop/v1/order.proto": (
        'syntax = "proto3";\npackage shop.v1;\nimport "common/v1/money.proto";\n'
        'message Order { common.v1.Money total = 1; }\n')}}, token=token)
    assert published.status == 201, published.body
    # When both compile
    assert compile_queued(client, aws_env) == 2
    common, shop = _go_zip(api, "common", "v1.0.0"), _go_zip(api, "shop", "v1.0.0")
    # Then shop's Go code imports common's from where common's own Go module puts it
    assert common["go.mod"].decode().startswith("module spoke.local/gen/go/default/common\n")
    assert _go_package_line(common["common/v1/money.pb.go"]) == "commonv1"
    assert b'"spoke.local/gen/go/default/common/common/v1"' in shop["shop/v1/order.pb.go"]
    assert shop["go.mod"].decode().startswith("module github.com/acme/shop\n")
    assert json.loads(shop["spoke-manifest.json"])["go"]["external_imports"] == [
        "spoke.local/gen/go/default/common/common/v1"]
