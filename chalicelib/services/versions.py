"""Use cases of versions: publish, list, read, and read one file."""
from __future__ import annotations

import uuid
from typing import Any

from chalicelib.domain.dependencies import parse_dependencies
from chalicelib.domain.errors import FileNotFound, InvalidProto, UnresolvedImport, VersionExists
from chalicelib.domain.models import FileEntry, ModuleVersion, RequestContext, VersionSummary
from chalicelib.domain.roles import Action
from chalicelib.domain.uploads import validate_upload
from chalicelib.domain.versions import parse_version
from chalicelib.services.common import PageRequest, next_cursor, require, require_principal, resume_after, utc_now
from chalicelib.services.modules import ModulesService, validate_description
from chalicelib.services.ports import BlobsPort, CursorsPort, RegistryPort
from chalicelib.services.compatibility import CompatibilityService
from chalicelib.services.compilation import CompilationService
from chalicelib.services.events import EventPublisher, file_list
from chalicelib.services.schemas import SchemaService


class VersionsService:
    def __init__(self, registry: RegistryPort, blobs: BlobsPort, modules: ModulesService,
                 cursors: CursorsPort, schemas: SchemaService, compatibility: CompatibilityService,
                 compilation: CompilationService, events: EventPublisher, max_files: int) -> None:
        self._events = events
        self._compilation = compilation
        self._compatibility = compatibility
        self._registry = registry
        self._schemas = schemas
        self._blobs = blobs
        self._modules = modules
        self._cursors = cursors
        self._max_files = max_files

    def publish(self, ctx: RequestContext, module_name: str, version_text: Any, description: Any,
                files: list[tuple[str, bytes]], dependencies: list[Any] | None = None) -> ModuleVersion:
        """protoc's judgement, then bytes (content-addressed, never overwritten), then metadata in one
        transaction.

        A loser of a race leaves only unreferenced blobs behind; the winner's manifest is the one
        the version item points at.
        """
        require(ctx, Action.PUBLISH)
        version = parse_version(version_text)
        description = validate_description(description)
        uploads = validate_upload(files, self._max_files)
        refs = parse_dependencies(dependencies or [])
        module = self._modules.find(ctx, module_name)
        if self._registry.version_exists(ctx.org.id, module.name, version.sort_key):
            raise VersionExists(f"Version '{version.name}' of module '{module.name}' already exists",
                                details={"module": module.name, "version": version.name})
        resolved = self._schemas.resolve(ctx.org.id, refs, {u.path for u in uploads})
        compiled = self._schemas.compile(uploads, resolved)
        checked_against = self._compatibility.enforce(ctx.org.id, module, version, compiled.descriptor_set or b"",
                                                      {u.path for u in uploads})
        for upload in uploads:
            self._blobs.put_blob(upload.sha256, upload.content)
        entries = tuple(FileEntry(path=u.path, size=len(u.content), sha256=u.sha256) for u in uploads)
        manifest_sha = self._blobs.put_manifest([e.model_dump() for e in entries])
        descriptor_sha = self._blobs.put_descriptor_set(compiled.descriptor_set or b"")
        languages, job = self._compilation.default_languages, uuid.uuid4().hex
        now = utc_now()
        record = ModuleVersion(org_id=ctx.org.id, module=module.name, version=version.name,
                               sort_key=version.sort_key, description=description, created_at=now,
                               created_by=ctx.principal.user_id if ctx.principal else "", files=entries,
                               dependencies=tuple(resolved.direct), checked_against=tuple(checked_against))
        self._registry.create_version({
            "org_id": record.org_id, "module": record.module, "version": record.version,
            "sort_key": record.sort_key, "description": record.description, "created_at": now,
            "created_by": record.created_by, "manifest_sha256": manifest_sha, "file_count": len(entries),
            "descriptor_set_sha256": descriptor_sha, "dependencies": resolved.direct,
            "resolved_dependencies": resolved.closure, "compiled_languages": [],
            "compilation": self._compilation.pending(languages, job), "compilation_rev": 0,
            "go_package_prefix": module.go_package_prefix,
        }, updated_at=now)
        self._compilation.enqueue(ctx.org.id, module.name, version.name, version.sort_key, languages, job)
        self._events.emit(ctx.org.id, "version.published", {
            "module": module.name, "version": version.name, **file_list([e.path for e in entries]),
            "dependencies": resolved.direct, "checked_against": checked_against})
        return record

    def validate(self, ctx: RequestContext, files: list[tuple[str, bytes]], dependencies: list[Any] | None
                 ) -> dict[str, Any]:
        """The same judgement as publish, storing nothing. Signed-in callers only: it runs protoc."""
        require(ctx, Action.READ)
        require_principal(ctx.principal)
        uploads = validate_upload(files, self._max_files)
        refs = parse_dependencies(dependencies or [])
        resolved = self._schemas.resolve(ctx.org.id, refs, {u.path for u in uploads})
        try:
            outcome = self._schemas.compile(uploads, resolved)
        except (InvalidProto, UnresolvedImport) as refused:
            return {"valid": False, "errors": refused.details.get("errors", []),
                    "warnings": refused.details.get("warnings", [])}
        return {"valid": True, "errors": [], "warnings": [w.as_dict() for w in outcome.warnings]}

    def dependencies(self, ctx: RequestContext, module_name: str, version_text: str) -> list[dict[str, str]]:
        """The resolved transitive set, as protoc saw it at publish time."""
        item = self._version_item(ctx, module_name, version_text)
        return [{"module": d["module"], "version": d["version"]} for d in item.get("resolved_dependencies", [])]

    def dependents(self, ctx: RequestContext, module_name: str) -> list[dict[str, str]]:
        require(ctx, Action.READ)
        module = self._modules.find(ctx, module_name)
        return self._registry.dependents_of(ctx.org.id, module.name)

    def list(self, ctx: RequestContext, module_name: str, page: PageRequest
             ) -> tuple[list[VersionSummary], str | None]:
        require(ctx, Action.READ)
        module = self._modules.find(ctx, module_name)
        scope = {"org": ctx.org.id, "module": module.name}
        after = resume_after(self._cursors, page.cursor, scope)
        if after is not None:
            rows, more = self._registry.list_versions(ctx.org.id, module.name, after_sort_key=after,
                                                      limit=page.page_size)
        else:
            rows, more = self._registry.list_versions(ctx.org.id, module.name, after_sort_key=None,
                                                      limit=page.offset + page.page_size)
            rows = rows[page.offset:]
        return ([summary for _, summary in rows],
                next_cursor(self._cursors, scope, rows[-1][0] if rows else None, more))

    def _version_item(self, ctx: RequestContext, module_name: str, version_text: str) -> dict[str, Any]:
        require(ctx, Action.READ)
        return self._modules.find_version(ctx, self._modules.find(ctx, module_name), version_text)

    def request_compilation(self, ctx: RequestContext, module_name: str, version_text: str, languages: Any
                            ) -> dict[str, Any]:
        return self._compilation.request(ctx, self._version_item(ctx, module_name, version_text), languages)

    def download(self, ctx: RequestContext, module_name: str, version_text: str, language: str
                 ) -> tuple[str, dict[str, Any]]:
        return self._compilation.download(self._version_item(ctx, module_name, version_text), language)

    def get(self, ctx: RequestContext, module_name: str, version_text: str) -> ModuleVersion:
        item = self._version_item(ctx, module_name, version_text)
        files = tuple(FileEntry(**f) for f in self._blobs.get_manifest(item["manifest_sha256"]))
        return ModuleVersion(org_id=item["org_id"], module=item["module"], version=item["version"],
                             sort_key=item["sort_key"], description=item.get("description", ""),
                             created_at=item["created_at"], created_by=item.get("created_by", ""),
                             files=files, dependencies=tuple(item.get("dependencies", [])),
                             compiled_languages=tuple(item.get("compiled_languages", [])),
                             compilation=item.get("compilation", {}))

    def get_file(self, ctx: RequestContext, module_name: str, version_text: str, path: str,
                 held_sha256s: frozenset[str] = frozenset()) -> tuple[FileEntry, bytes | None]:
        """The file's entry, and its bytes unless the caller already holds them (matching ETag)."""
        record = self.get(ctx, module_name, version_text)
        entry = next((f for f in record.files if f.path == path), None)
        if entry is None:
            raise FileNotFound(f"File '{path}' not found in {record.module} {record.version}",
                               details={"path": path})
        if entry.sha256 in held_sha256s:
            return entry, None
        return entry, self._blobs.get_blob(entry.sha256)
