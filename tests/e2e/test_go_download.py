"""Go code for every version, and CI's check of local files, over real HTTP against the local stack."""
from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections.abc import Callable
from typing import Any

import requests

USER = ('syntax = "proto3";\npackage user.v1;\nimport "types.proto";\n'
        'message User { string id = 1; string email = 2; }\n')
TYPES = 'syntax = "proto3";\npackage user.v1;\nmessage Money { int64 units = 1; }\n'


def _wait_go(api_url: str, module: str, version: str, headers: dict[str, str], job: str | None = None
             ) -> dict[str, Any]:
    """The go status once it is finished (of `job`, when given)."""
    deadline, status = time.monotonic() + 120, {}
    while time.monotonic() < deadline:
        status = requests.get(f"{api_url}/modules/{module}/versions/{version}", headers=headers,
                              timeout=10).json()["data"]["compilation"]["go"]
        if status["status"] in ("succeeded", "failed") and (job is None or status.get("job") == job):
            return status
        time.sleep(0.5)
    raise AssertionError(f"{module} {version} go still compiling: {status}")


def _go_files(api_url: str, module: str, version: str) -> dict[str, bytes]:
    """As `curl -L .../download/go -o go-code.zip` and unzip."""
    reply = requests.get(f"{api_url}/modules/{module}/versions/{version}/download/go", timeout=10)
    assert reply.status_code == 200, reply.text
    archive = zipfile.ZipFile(io.BytesIO(reply.content))
    return {name: archive.read(name) for name in archive.namelist()}


def test_the_readme_module_downloads_as_go_and_a_new_prefix_recompiles_it(
        api_url: str, token: str, unique: Callable[[str], str]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    module = unique("gouser")
    # Given the README's module, pushed as curl -F pushes it: no go_package, no go_package_prefix
    assert requests.post(f"{api_url}/modules", json={"name": module}, headers=headers, timeout=10).status_code == 201
    pushed = requests.post(f"{api_url}/modules/{module}/versions", headers=headers, timeout=60,
                           data={"version": "v1.0.0"},
                           files=[("file1", ("user.proto", USER.encode())), ("file2", ("types.proto", TYPES.encode()))])
    assert pushed.status_code == 201, pushed.text
    # When the worker has compiled it
    assert _wait_go(api_url, module, "v1.0.0", headers)["status"] == "succeeded"
    # Then download/go gives a Go module at the registry's path, one package named after user.v1
    files = _go_files(api_url, module, "v1.0.0")
    assert files["go.mod"].decode().startswith(f"module spoke.local/gen/go/default/{module}\n")
    for name in ("user.pb.go", "types.pb.go"):
        assert re.search(rb"^package userv1$", files[name], re.MULTILINE), name
    # When its owner sets a go_package_prefix and asks for Go again
    patched = requests.patch(f"{api_url}/modules/{module}", headers=headers, timeout=10,
                             json={"go_package_prefix": f"github.com/acme/{module}"})
    assert patched.status_code == 200, patched.text
    requested = requests.post(f"{api_url}/modules/{module}/versions/v1.0.0/compile", headers=headers, timeout=10,
                              json={"languages": ["go"]})
    assert requested.status_code == 202, requested.text
    job = requested.json()["data"]["compilation"]["go"]["job"]
    assert _wait_go(api_url, module, "v1.0.0", headers, job)["status"] == "succeeded"
    # Then the same version's Go code lives under the new prefix
    manifest = json.loads(_go_files(api_url, module, "v1.0.0")["spoke-manifest.json"])
    assert manifest["go"]["module_path"] == f"github.com/acme/{module}"


def test_ci_checks_local_files_against_the_latest_version(api_url: str, token: str,
                                                          unique: Callable[[str], str]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    module = unique("cicheck")
    assert requests.post(f"{api_url}/modules", json={"name": module}, headers=headers, timeout=10).status_code == 201
    assert requests.post(f"{api_url}/modules/{module}/versions", headers=headers, timeout=60, json={
        "version": "v1.0.0", "files": {"user.proto": USER, "types.proto": TYPES}}).status_code == 201
    # When CI sends its working copy, which drops User.email, as multipart against `latest`
    edited = USER.replace(" string email = 2;", "")
    reply = requests.post(f"{api_url}/modules/{module}/compatibility/check", headers=headers, timeout=60,
                          data={"against": "latest"},
                          files=[("file", ("user.proto", edited.encode())), ("file", ("types.proto", TYPES.encode()))])
    # Then it learns, before pushing, that the change breaks v1.0.0
    assert reply.status_code == 200, reply.text
    data = reply.json()["data"]
    assert (data["compatible"], data["against"]) == (False, "v1.0.0")
    assert [(c["rule"], c["file"]) for c in data["breaking_changes"]] == [("FIELD_NO_DELETE", "user.proto")]
    # And nothing was published
    versions = requests.get(f"{api_url}/modules/{module}", timeout=10).json()["data"]["versions"]
    assert versions == ["v1.0.0"]
