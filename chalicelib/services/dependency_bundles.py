"""GET .../download/{language}?with_dependencies=true: one ZIP of a version's compiled code and of every
module of its dependency closure (resolved_dependencies, transitive), laid out as domain/zips.py says.

Built in the API from the stored ZIPs, only when every ZIP of the closure is compiled (otherwise the
pending answer of a download, naming what is pending; a failed one is COMPILATION_FAILED naming it),
and only within SPOKE_CLOSURE_MAX_BYTES (the stored ZIPs' sizes, known before any read) and
SPOKE_CLOSURE_MAX_UNPACKED_BYTES. The result is deterministic, stored content-addressed with the
compiled ZIPs, and found again through a pointer keyed by its inputs (the language and each module's
ZIP sha256): a second request reads one small object, and a recompile (new ZIPs) builds a new closure.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from chalicelib.domain.errors import ClosureTooLarge, CompilationFailed, VersionNotFound
from chalicelib.domain.models import RequestContext
from chalicelib.domain.roles import Action
from chalicelib.services.common import require
from chalicelib.services.compilation import CompilationService
from chalicelib.services.modules import ModulesService
from chalicelib.services.ports import BlobsPort, ClosuresPort, RegistryPort

LAYOUT = 1  # the closure ZIP's layout (domain/zips.py): part of the cache key, so a new layout rebuilds


class DependencyBundlesService:
    def __init__(self, registry: RegistryPort, blobs: BlobsPort, closures: ClosuresPort, modules: ModulesService,
                 compilation: CompilationService, url_ttl_seconds: int, max_bytes: int,
                 max_unpacked_bytes: int) -> None:
        self._registry = registry
        self._blobs = blobs
        self._closures = closures
        self._modules = modules
        self._compilation = compilation
        self._url_ttl = url_ttl_seconds
        self._max_bytes = max_bytes
        self._max_unpacked = max_unpacked_bytes

    def download(self, ctx: RequestContext, module_name: str, version_text: str, language: str,
                 protoc: str | None = None) -> tuple[str, dict[str, Any], str]:
        """('ready', {url, size, sha256, modules...}) or ('pending', {pending: [...]}), and the concrete version.
        `protoc`: the release, as a download names it; each module's ZIP of it is read as its own download
        would (one not compiled yet is enqueued, and pending)."""
        require(ctx, Action.READ)
        item = self._modules.find_version(ctx, self._modules.find(ctx, module_name), version_text)
        ready, pending, failed = self._states(ctx, item, language, protoc)
        if failed:
            names = ", ".join(f"{f['module']} {f['version']}" for f in failed)
            raise CompilationFailed(f"Compiling the dependency closure of {item['module']} {item['version']} to "
                                    f"{language} failed for {names}: recompile them (POST .../compile)",
                                    details={"language": language, "failed": failed})
        if pending:
            names = ", ".join(f"{p['module']} {p['version']}" for p in pending)
            return "pending", {"language": language, "status": "pending", "with_dependencies": True,
                               "pending": pending, "message": f"Not every ZIP of the closure is compiled yet: {names}"
                               }, item["version"]
        total = sum(int(r["size"]) for r in ready)
        if total > self._max_bytes:
            raise ClosureTooLarge(f"The ZIPs of {item['module']} {item['version']} and its dependencies total {total} "
                                  f"bytes, above the {self._max_bytes} this registry serves as one ZIP: download "
                                  "each module's ZIP (the manifest's dependencies list them)",
                                  details={"size": total, "max_bytes": self._max_bytes})
        release = self._compilation.protoc_release(protoc)
        artifact = self._closure(item["module"], language, ready)  # a release's ZIPs have their own sha256s
        suffix = f"-protoc-{release}" if release else ""
        filename = f"{item['module']}-{item['version']}-{language}{suffix}-with-dependencies.zip"
        return "ready", {"language": language, "with_dependencies": True,
                         **({"protoc_release": release} if release else {}),
                         "url": self._blobs.artifact_url(artifact["sha256"], filename, self._url_ttl),
                         "expires_in": self._url_ttl, "size": artifact["size"], "sha256": artifact["sha256"],
                         "modules": [{"module": r["module"], "version": r["version"], "sha256": r["sha256"]}
                                     for r in ready]}, item["version"]

    def _states(self, ctx: RequestContext, item: dict[str, Any], language: str, protoc: str | None
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """(ready, pending, failed) members of the closure, the version first: each as its own download sees it."""
        members = [item]
        for dependency in item.get("resolved_dependencies", []):
            found = self._registry.get_version(ctx.org.id, dependency["module"], dependency["sort_key"])
            if found is None:  # versions are immutable and never deleted: a storage fault, said plainly
                raise VersionNotFound(f"Dependency {dependency['module']} {dependency['version']} of "
                                      f"{item['module']} {item['version']} was not found",
                                      details={"module": dependency["module"], "version": dependency["version"]})
            members.append(found)
        ready, pending, failed = [], [], []
        for member in members:
            named = {"module": member["module"], "version": member["version"]}
            try:
                state, data = self._compilation.download(member, language, protoc, ctx)
            except CompilationFailed as error:
                failed.append({**named, "error": str(error.details.get("error", ""))[:500]})
                continue
            if state == "ready":
                ready.append({**named, "sha256": data["sha256"], "size": data["size"]})
            else:
                pending.append({**named, "status": data.get("status", "pending")})
        return ready, pending, failed

    def _closure(self, top: str, language: str, ready: list[dict[str, Any]]) -> dict[str, Any]:
        """The stored closure ZIP of these inputs ({"sha256", "size"}), built and stored on the first request."""
        inputs = json.dumps({"layout": LAYOUT, "language": language, "top": top,
                             "parts": sorted([r["module"], r["version"], r["sha256"]] for r in ready)},
                            sort_keys=True)
        key = hashlib.sha256(inputs.encode()).hexdigest()
        known = self._closures.get_pointer(key)
        if known is not None and known.get("sha256") and known.get("size") is not None:
            return {"sha256": str(known["sha256"]), "size": int(known["size"])}
        from chalicelib.domain.zips import (  # zipfile: only the first request of a closure
            ClosurePart,
            closure_zip,
        )

        parts = [ClosurePart(r["module"], r["version"], r["sha256"], self._closures.read_artifact(r["sha256"]))
                 for r in ready]
        body = closure_zip(language, top, parts, self._max_unpacked)
        artifact = {"sha256": self._blobs.put_artifact(body), "size": len(body)}
        self._closures.put_pointer(key, artifact)
        return artifact
