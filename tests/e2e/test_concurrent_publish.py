"""Racing publishers: a version is published once, and what is stored is the winner's upload."""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests

PUBLISHERS = 20
VERSION = "v2.0.0"


def proto_of(publisher: int) -> bytes:
    return (f'syntax = "proto3";\n\npackage race;\n\n// written by publisher {publisher}\n'
            f"message Publisher{publisher} {{\n  string id = 1;\n}}\n").encode()


def test_concurrent_uploads_of_one_version_publish_exactly_one(
        api_url: str, token: str, unique: Callable[[str], str]) -> None:
    # Given a module, and twenty publishers each holding a different race.proto for the same new version
    name = unique("race")
    headers = {"Authorization": f"Bearer {token}"}
    created = requests.post(f"{api_url}/modules", json={"name": name, "description": "race"},
                            headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    # Each publisher opens its keep-alive connection beforehand, one after the other: `chalice local`
    # listens with a backlog of 5, and twenty simultaneous connects overflow it (connections reset
    # before any request is read). Connected first, the twenty requests then leave together.
    sessions = [requests.Session() for _ in range(PUBLISHERS)]
    for session in sessions:
        assert session.get(f"{api_url}/health", timeout=30).status_code == 200
    barrier = threading.Barrier(PUBLISHERS, timeout=30)

    def publish(publisher: int) -> tuple[int, requests.Response]:
        files = {"file": ("race.proto", proto_of(publisher), "application/octet-stream")}
        data = {"version": VERSION, "description": f"publisher {publisher}"}
        barrier.wait()
        return publisher, sessions[publisher].post(f"{api_url}/modules/{name}/versions", headers=headers,
                                                   data=data, files=files, timeout=60)

    # When they all upload at the same moment, over real HTTP
    try:
        with ThreadPoolExecutor(max_workers=PUBLISHERS) as pool:
            results = list(pool.map(publish, range(PUBLISHERS)))
    finally:
        for session in sessions:
            session.close()

    # Then exactly one upload is accepted and the nineteen others are told the version exists
    statuses = sorted(response.status_code for _, response in results)
    assert statuses == [201] + [409] * (PUBLISHERS - 1), [(p, r.status_code, r.text) for p, r in results]
    for _, response in results:
        if response.status_code == 409:
            assert response.json()["error"]["code"] == "VERSION_EXISTS", response.text
    winner = next(publisher for publisher, response in results if response.status_code == 201)
    expected = proto_of(winner)

    # And the stored version is the winner's: its description, checksum and exact bytes
    details = requests.get(f"{api_url}/modules/{name}/versions/{VERSION}", timeout=30)
    assert details.status_code == 200, details.text
    data = details.json()["data"]
    assert data["description"] == f"publisher {winner}"
    assert [(f["path"], f["checksum"]) for f in data["files"]] == [
        ("race.proto", f"sha256:{hashlib.sha256(expected).hexdigest()}")]
    download = requests.get(f"{api_url}/modules/{name}/versions/{VERSION}/files/race.proto", timeout=30)
    assert download.status_code == 200, download.text
    assert download.content == expected

    # And the module counts one version, not twenty
    module = requests.get(f"{api_url}/modules/{name}", timeout=30).json()["data"]
    assert module["versions"] == [VERSION]
    listing = requests.get(f"{api_url}/modules", params={"q": name}, timeout=30).json()["data"]
    assert [(m["name"], m["version_count"]) for m in listing["modules"]] == [(name, 1)]
