"""What a client downloads besides compiled code: a version's sources and its descriptor set.

- `proto`: a deterministic ZIP of the version's `.proto` files and `spoke.manifest.json` (Spoke's
  `buf export`, see domain/source_archive.py). Built in the API on the first request (one read of the
  version's pack, the ZIP in memory: at most `max_files_per_version` files, as large as the version's
  sources), stored content-addressed with the compiled ZIPs, and remembered on the version item
  (`source_archive`), so every later request is a presigned URL at once. Two first requests at once
  both build it: the same bytes under the same key, the same values on the item.
- `descriptor_set`: the binary FileDescriptorSet publish stored (imports and source info included),
  presigned under its existing key: nothing to build.

Neither is a compile output: they are not languages (GET /languages does not list them, and the
compile function never makes them).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain.models import RequestContext
from chalicelib.domain.roles import Action
from chalicelib.domain.source_archive import DESCRIPTOR_SET, PROTO, build_source_zip
from chalicelib.services.common import iso_utc, require
from chalicelib.services.modules import ModulesService
from chalicelib.services.ports import BlobsPort, RegistryPort
from chalicelib.services.schemas import stored_manifest


class SourceArchivesService:
    def __init__(self, registry: RegistryPort, blobs: BlobsPort, modules: ModulesService, url_ttl_seconds: int,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._registry = registry
        self._blobs = blobs
        self._modules = modules
        self._url_ttl = url_ttl_seconds
        self._clock = clock or (lambda: datetime.now(UTC))

    def download(self, ctx: RequestContext, module_name: str, version_text: str, kind: str) -> dict[str, Any]:
        """Where the `proto` ZIP or the `descriptor_set` of a version is: {url, size, sha256, expires_at}
        (and the concrete `version`, which `latest` resolved to)."""
        require(ctx, Action.READ)
        item = self._modules.find_version(ctx, self._modules.find(ctx, module_name), version_text)
        if kind == PROTO:
            sha256, size = self._source_archive(item)
            url = self._blobs.artifact_url(sha256, f"{item['module']}-{item['version']}-proto.zip", self._url_ttl)
        elif kind == DESCRIPTOR_SET:
            sha256 = item["descriptor_set_sha256"]
            size = self._blobs.descriptor_set_size(sha256)
            url = self._blobs.descriptor_set_url(sha256, f"{item['module']}-{item['version']}.binpb", self._url_ttl)
        else:
            raise ValueError(f"not a source download: {kind!r}")
        expires_at = iso_utc(self._clock() + timedelta(seconds=self._url_ttl))
        return {"module": item["module"], "version": item["version"], "format": kind, "url": url, "size": size,
                "sha256": sha256, "expires_in": self._url_ttl, "expires_at": expires_at}

    def _source_archive(self, item: dict[str, Any]) -> tuple[str, int]:
        """The stored ZIP's sha256 and size; built and stored on the version's first request."""
        known = item.get("source_archive")
        if known:
            return str(known["sha256"]), int(known["size"])
        files = self._blobs.read_files(stored_manifest(self._blobs, item))
        body = build_source_zip(item["module"], item["version"], files, list(item.get("dependencies", [])))
        sha256 = self._blobs.put_artifact(body)
        self._registry.set_source_archive(item["org_id"], item["module"], item["sort_key"],
                                          {"sha256": sha256, "size": len(body)})
        return sha256, len(body)
