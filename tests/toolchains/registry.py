"""The registry as the toolchain tests use it: publish over HTTP, wait for the worker, download ZIPs."""
from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.toolchains.protos import VERSION

PASSWORD = "correct-horse-battery-staple"
COMPILE_DEADLINE_SECONDS = 240
# Debian bookworm's protobuf runtimes (libprotobuf, protobuf-java, ruby/php google-protobuf) are 3.21.12:
# code for them is asked for with ?protoc=3.21.12 (protoc 36.2's, the default, needs 4.x/7.x runtimes).
DEBIAN_PROTOC = "3.21.12"


@dataclass(frozen=True)
class Registry:
    """A signed-in user of a running registry."""
    api_url: str
    headers: dict[str, str]

    @classmethod
    def sign_up(cls, api_url: str) -> Registry:
        email = "toolchains@example.com"
        created = requests.post(f"{api_url}/auth/register", timeout=30, json={
            "email": email, "password": PASSWORD, "first_name": "Tool", "last_name": "Chains"})
        assert created.status_code == 201, created.text
        login = requests.post(f"{api_url}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
        assert login.status_code == 200, login.text
        return cls(api_url, {"Authorization": f"Bearer {login.json()['data']['token']}"})

    def publish(self, module: str, files: dict[str, str], dependencies: tuple[str, ...] = ()) -> None:
        created = requests.post(f"{self.api_url}/modules", json={"name": module}, headers=self.headers, timeout=30)
        assert created.status_code == 201, created.text
        parts: list[tuple[str, tuple[str | None, str | bytes]]] = [("version", (None, VERSION))]
        parts += [("dependency", (None, dependency)) for dependency in dependencies]
        parts += [("file", (path, text.encode())) for path, text in files.items()]
        published = requests.post(f"{self.api_url}/modules/{module}/versions", files=parts, headers=self.headers,
                                  timeout=60)
        assert published.status_code == 201, published.text

    def wait_compiled(self, module: str) -> dict[str, Any]:
        """Every language's status once none is still pending or running."""
        deadline, statuses = time.monotonic() + COMPILE_DEADLINE_SECONDS, {}
        while time.monotonic() < deadline:
            reply = requests.get(f"{self.api_url}/modules/{module}/versions/{VERSION}", headers=self.headers,
                                 timeout=30)
            statuses = reply.json()["data"]["compilation"]
            if all(status["status"] in ("succeeded", "failed") for status in statuses.values()):
                return statuses
            time.sleep(0.5)
        raise AssertionError(f"{module} {VERSION} still compiling: {statuses}")

    def content(self, module: str, language: str, protoc: str | None = None, with_dependencies: bool = False
                ) -> bytes:
        """download/<language> as a user fetches it: the 302, then the presigned URL. With a protoc release
        not compiled yet the download starts that compilation and answers 202: asked again until done."""
        url = f"{self.api_url}/modules/{module}/versions/{VERSION}/download/{language}"
        params = {"protoc": protoc} if protoc else {}
        if with_dependencies:
            params["with_dependencies"] = "true"
        deadline = time.monotonic() + COMPILE_DEADLINE_SECONDS
        while True:
            redirect = requests.get(url, params=params, headers=self.headers, allow_redirects=False, timeout=30)
            if redirect.status_code != 202 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert redirect.status_code == 302, redirect.text
        body = requests.get(redirect.headers["Location"], timeout=60)
        assert body.status_code == 200, body.text
        return body.content

    def archive(self, module: str, language: str, protoc: str | None = None, with_dependencies: bool = False
                ) -> zipfile.ZipFile:
        return zipfile.ZipFile(io.BytesIO(self.content(module, language, protoc, with_dependencies)))

    def unpack(self, module: str, language: str, into: Path, protoc: str | None = None,
               with_dependencies: bool = False) -> dict[str, Any]:
        """Unzips one download into `into` and returns its spoke-manifest.json ({} when it has none)."""
        archive = self.archive(module, language, protoc, with_dependencies)
        archive.extractall(into)
        names = archive.namelist()
        return json.loads(archive.read("spoke-manifest.json")) if "spoke-manifest.json" in names else {}
