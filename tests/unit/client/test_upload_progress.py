"""An upload reports its progress as the archive is sent, and a retried upload sends (and counts) it again
from the start."""
from __future__ import annotations

import itertools
import secrets

import httpx

from spoke_client import SpokeClient
from tests.unit.client.fakes import BASE, S3, Server, envelope

GRANT = {"upload_id": "up-1", "url": f"{S3}/", "file_field": "file", "fields": {"key": "uploads/up-1"}}


def test_the_upload_reports_bytes_sent_up_to_the_whole_archive(server: Server, client: SpokeClient) -> None:
    # Given an upload S3 refuses once (503) and then takes
    server.on("POST", f"{BASE}/modules/user/uploads", envelope(GRANT, 201))
    server.on("POST", f"{S3}/", httpx.Response(503), httpx.Response(204))
    server.on("POST", f"{BASE}/modules/user/versions", envelope({"module": "user", "version": "v1.0.0"}, 201))
    seen: list[tuple[int, int]] = []
    # (random text: the archive stays large enough to be sent in several chunks)
    files = {f"big/f{i}.proto": f'syntax = "proto3";\n// {secrets.token_hex(2500)}\nmessage M{i} {{}}\n'
             for i in range(50)}
    # When publishing through the upload with a progress callback
    client.publish("user", "v1.0.0", files, method="upload", progress=lambda sent, total: seen.append((sent, total)))
    # Then the count climbs to the archive's size, and restarts for the retry
    total = seen[-1][1]
    assert total > 2 * 65536
    assert seen[-1] == (total, total)
    assert all(t == total for _, t in seen)
    restarts = sum(1 for before, after in itertools.pairwise(seen) if after[0] < before[0])
    assert restarts == 1
    assert len(server.sent("POST", f"{S3}/")) == 2
    assert all(len(r.content) > total for r in server.sent("POST", f"{S3}/"))  # the whole archive, both times
