"""A large module over real HTTP: its archive goes straight to the embedded S3 with the presigned POST, the
publish names the upload, and every file reads back byte for byte from the version's pack."""
from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from collections.abc import Callable

import requests

FILES = 2000


def module_files(count: int) -> dict[str, bytes]:
    files = {}
    for i in range(count):
        imports = f'import "big/v1/f{i // 2}.proto";\n' if i else ""
        parent = f"  M{i // 2} parent = 2;\n" if i else ""
        files[f"big/v1/f{i}.proto"] = (f'syntax = "proto3";\npackage big.v1;\n{imports}'
                                       f"message M{i} {{\n  string id = 1; // № {i}\n{parent}}}\n").encode()
    return files


def tar_gz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def grant_and_post(api_url: str, headers: dict[str, str], module: str, archive: bytes) -> str:
    grant = requests.post(f"{api_url}/modules/{module}/uploads", json={}, headers=headers, timeout=30)
    assert grant.status_code == 201, grant.text
    data = grant.json()["data"]
    assert data["url"].startswith("http://127.0.0.1:")  # the embedded AWS, not a real bucket
    posted = requests.post(data["url"], data=data["fields"], files={"file": ("module.tar.gz", archive)}, timeout=60)
    assert posted.status_code in (200, 201, 204), posted.text
    return data["upload_id"]


def test_a_large_module_published_from_an_archive_reads_back_exactly(
        api_url: str, token: str, unique: Callable[[str], str]) -> None:
    # Given a module and 2,000 files packed as a .tar.gz, posted straight to S3
    name = unique("big")
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.post(f"{api_url}/modules", json={"name": name}, headers=headers, timeout=30).status_code == 201
    files = module_files(FILES)
    upload_id = grant_and_post(api_url, headers, name, tar_gz(files))

    # When the version is published from the upload
    body = {"version": "v1.0.0", "upload_id": upload_id, "description": "from an archive"}
    published = requests.post(f"{api_url}/modules/{name}/versions", json=body, headers=headers, timeout=120)

    # Then it holds every file, in archive order, and each reads back byte for byte with its sha256 ETag
    assert published.status_code == 201, published.text
    assert published.json()["data"]["files"] == list(files)
    listed = requests.get(f"{api_url}/modules/{name}/versions/v1.0.0", timeout=30).json()["data"]["files"]
    assert len(listed) == FILES
    for path in ("big/v1/f0.proto", "big/v1/f1234.proto", f"big/v1/f{FILES - 1}.proto"):
        reply = requests.get(f"{api_url}/modules/{name}/versions/v1.0.0/files/{path}", timeout=30)
        assert reply.status_code == 200 and reply.content == files[path]
        assert reply.headers["ETag"] == f'"{hashlib.sha256(files[path]).hexdigest()}"'
        cached = requests.get(f"{api_url}/modules/{name}/versions/v1.0.0/files/{path}", timeout=30,
                              headers={"If-None-Match": reply.headers["ETag"]})
        assert cached.status_code == 304

    # And a retry of the same publish is a 200, while the upload cannot publish another version
    again = requests.post(f"{api_url}/modules/{name}/versions", json=body, headers=headers, timeout=120)
    assert again.status_code == 200 and again.json()["data"] == published.json()["data"]
    other = requests.post(f"{api_url}/modules/{name}/versions", json={**body, "version": "v1.1.0"}, headers=headers,
                          timeout=30)
    assert (other.status_code, other.json()["error"]["code"]) == (409, "UPLOAD_ALREADY_USED")


def test_a_zip_bomb_is_refused_and_nothing_is_published(api_url: str, token: str,
                                                        unique: Callable[[str], str]) -> None:
    # Given a zip whose one entry inflates a thousandfold
    name = unique("bomb")
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.post(f"{api_url}/modules", json={"name": name}, headers=headers, timeout=30).status_code == 201
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.proto", b"\0" * (40 * 1024 * 1024))
    upload_id = grant_and_post(api_url, headers, name, buffer.getvalue())
    # When it is published
    reply = requests.post(f"{api_url}/modules/{name}/versions", json={"version": "v1.0.0", "upload_id": upload_id},
                          headers=headers, timeout=60)
    # Then it is refused as too large, naming the ratio, and the module has no version
    assert reply.status_code == 413, reply.text
    assert reply.json()["error"]["code"] == "ARCHIVE_TOO_LARGE"
    assert reply.json()["error"]["details"]["limit"] == "compression_ratio"
    assert requests.get(f"{api_url}/modules/{name}", timeout=30).json()["data"]["versions"] == []
