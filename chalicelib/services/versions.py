"""Use cases of versions: publish, list, read, and read one file.

A version's files are stored as one pack (see adapters/blobs.py) with a manifest of offsets; a small
manifest is also kept inline in the version item, so reading a version or a file needs no manifest
read. Versions stored before packs (one blob per file) are read the same way.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.domain.dependencies import DependencyRef, parse_dependencies
from chalicelib.domain.errors import FileNotFound, InvalidProto, UnresolvedImport, ValidationFailed, VersionExists
from chalicelib.domain.models import FileEntry, Module, ModuleVersion, RequestContext, VersionSummary
from chalicelib.domain.policy import LintPolicy
from chalicelib.domain.roles import Action
from chalicelib.domain.uploads import UploadedFile, validate_upload
from chalicelib.domain.versions import Version, parse_version
from chalicelib.services.common import PageRequest, next_cursor, require, require_principal, resume_after, utc_now
from chalicelib.services.compatibility import CompatibilityService
from chalicelib.services.compilation import CompilationService
from chalicelib.services.events import EventPublisher, file_list
from chalicelib.services.linting import MAX_REPORTED as MAX_LINT_REPORTED
from chalicelib.services.linting import lint_findings, require_lint
from chalicelib.services.modules import ModulesService, validate_description
from chalicelib.services.ports import BlobsPort, CursorsPort, Manifest, MetricsPort, NoMetrics, RegistryPort
from chalicelib.services.quotas import Plans, quotas_for
from chalicelib.services.schemas import INLINE_MANIFEST, SchemaService, inline_manifest, stored_manifest

if TYPE_CHECKING:  # publishing from an upload is rare: its module (and the archive readers) load on first use
    from chalicelib.services.uploads import UploadsService

INLINE_MANIFEST_MAX_FILES = 200


@dataclass(frozen=True)
class FileRead:
    """One file of a version as a read found it: the concrete version, the entry, its bytes (None: the
    caller holds them already, or asked for the entry only)."""
    version: str
    entry: FileEntry
    content: bytes | None
INLINE_MANIFEST_MAX_BYTES = 32 * 1024


class VersionsService:
    def __init__(self, registry: RegistryPort, blobs: BlobsPort, modules: ModulesService,
                 cursors: CursorsPort, schemas: SchemaService, compatibility: CompatibilityService,
                 compilation: CompilationService, events: EventPublisher, max_files: int,
                 uploads: UploadsService | None = None, inline_max_files: int = INLINE_MANIFEST_MAX_FILES,
                 inline_max_bytes: int = INLINE_MANIFEST_MAX_BYTES, plans: Plans | None = None,
                 metrics: MetricsPort | None = None) -> None:
        self._metrics = metrics or NoMetrics()  # Publishes: each version this service created
        self._plans = plans  # the plan table (quotas); None: no quotas
        self._uploads = uploads
        self._inline_limits = (inline_max_files, inline_max_bytes)
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
                files: list[tuple[str, bytes]], dependencies: list[Any] | None = None,
                upload_id: Any = None) -> tuple[ModuleVersion, bool]:
        """The version and whether this call created it: False when it is an identical retry (same version,
        description, dependencies and files by sha256) of one already published, which is safe to repeat;
        any other content under an existing version is 409 VERSION_EXISTS.

        The files come from the request, or from the archive posted under `upload_id`.
        """
        require(ctx, Action.PUBLISH)
        version = parse_version(version_text)
        description = validate_description(description)
        uploads = validate_upload(files, self._max_files) if upload_id is None else []
        refs = parse_dependencies(dependencies or [])
        module = self._modules.writable(ctx, module_name)  # in the default organization: its owner or collaborators
        archive = self._uploads_service().claim(ctx, module, upload_id, version) if upload_id is not None else None
        existing = self._registry.get_version(ctx.org.id, module.name, version.sort_key)
        if archive is not None:
            if archive.used_version is not None:  # this grant published this very version: its files are these
                return self._retried(module, existing, version, description, refs, None), False
            uploads = validate_upload(self._uploads_service().files(archive), self._max_files)
        if existing is not None:
            return self._retried(module, existing, version, description, refs, uploads), False
        try:
            record = self._store(ctx, module, version, description, uploads, refs)
        except VersionExists:
            # A concurrent publish of the same version committed first: identical content is a retry.
            existing = self._registry.get_version(ctx.org.id, module.name, version.sort_key)
            return self._retried(module, existing, version, description, refs, uploads), False
        if archive is not None:
            self._uploads_service().used(archive, version)
        self._metrics.count("Publishes")
        return record, True

    def _uploads_service(self) -> UploadsService:
        if self._uploads is None:
            raise RuntimeError("VersionsService was built without uploads")
        return self._uploads

    def _retried(self, module: Module, item: dict[str, Any] | None, version: Version, description: str,
                 refs: list[DependencyRef], uploads: list[UploadedFile] | None) -> ModuleVersion:
        """The stored version when this publish repeats it exactly (`uploads` None: the files are known to
        be the same), else VERSION_EXISTS."""
        def pairs(dependencies: list[dict[str, str]]) -> list[tuple[str, str]]:
            return sorted((d["module"], d["version"]) for d in dependencies)

        same = (item is not None and item["version"] == version.name and item.get("description", "") == description
                and pairs(item.get("dependencies", [])) == pairs([r.as_dict() for r in refs]))
        manifest = stored_manifest(self._blobs, item) if same and item is not None else None
        if manifest is not None and uploads is not None:
            same = sorted((f.path, f.sha256) for f in manifest.files) == sorted((u.path, u.sha256) for u in uploads)
        if not same or item is None or manifest is None:
            raise VersionExists(f"Version '{version.name}' of module '{module.name}' already exists with other "
                                "content (versions are immutable)", details={"module": module.name,
                                                                              "version": version.name})
        return self._record(item, manifest)

    def _store(self, ctx: RequestContext, module: Module, version: Version, description: str,
               uploads: list[UploadedFile], refs: list[DependencyRef]) -> ModuleVersion:
        """protoc's judgement, then bytes (one content-addressed pack, never overwritten), then metadata in
        one transaction.

        A loser of a race leaves only an unreferenced pack behind; the winner's manifest is the one
        the version item points at.
        """
        resolved = self._schemas.resolve(ctx.org.id, refs, {u.path for u in uploads})
        compiled = self._schemas.compile(uploads, resolved)
        require_lint(module, version, compiled.descriptor_set or b"", {u.path for u in uploads})
        checked_against = self._compatibility.enforce(ctx.org.id, module, version, compiled.descriptor_set or b"",
                                                      {u.path for u in uploads})
        manifest = self._blobs.put_pack([(u.path, u.content) for u in uploads])
        entries = tuple(FileEntry(path=f.path, size=f.size, sha256=f.sha256) for f in manifest.files)
        manifest_sha = self._blobs.put_manifest(manifest)
        descriptor_sha = self._blobs.put_descriptor_set(compiled.descriptor_set or b"")
        layout = self._layout(manifest, checked_against)
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
            "go_package_prefix": module.go_package_prefix, **layout,
        }, updated_at=now, quotas=quotas_for(ctx, self._plans, owner_id=module.owner_id), outbox=[
            # the compile job and the event commit with the version, or not at all; so do the plan's
            # quotas (versions per module, stored bytes, compiles today): conditions of that transaction
            self._compilation.job_message(ctx.org.id, module.name, version.name, version.sort_key, languages, job),
            self._events.message(ctx.org.id, "version.published", {
                "module": module.name, "version": version.name, **file_list([e.path for e in entries]),
                "dependencies": resolved.direct, "checked_against": checked_against})])
        return record

    def _layout(self, manifest: Manifest, checked_against: list[str]) -> dict[str, Any]:
        """What the version item holds besides the contract's fields: where its pack is, the manifest itself
        when small, and what the policy checked it against (so a retry answers the same)."""
        values: dict[str, Any] = {"pack_sha256": manifest.pack_sha256, "pack_size": manifest.pack_size,
                                  "checked_against": list(checked_against)}
        inline = inline_manifest(manifest, *self._inline_limits)
        if inline is not None:
            values[INLINE_MANIFEST] = inline
        return values

    def validate(self, ctx: RequestContext, files: list[tuple[str, bytes]], dependencies: list[Any] | None,
                 module_name: Any = None) -> dict[str, Any]:
        """The same judgement as publish, storing nothing, plus buf's lint findings as warnings: under the
        lint policy of `module_name` when it names a module that has one, else buf's default (STANDARD).
        Signed-in callers only: it runs protoc."""
        require(ctx, Action.READ)
        require_principal(ctx.principal)
        lint_policy = self._lint_policy(ctx, module_name)
        uploads = validate_upload(files, self._max_files)
        refs = parse_dependencies(dependencies or [])
        resolved = self._schemas.resolve(ctx.org.id, refs, {u.path for u in uploads})
        try:
            outcome = self._schemas.compile(uploads, resolved)
        except (InvalidProto, UnresolvedImport) as refused:
            return {"valid": False, "errors": refused.details.get("errors", []),
                    "warnings": refused.details.get("warnings", [])}
        lint = lint_findings(outcome.descriptor_set or b"", {u.path for u in uploads}, lint_policy)
        return {"valid": True, "errors": [], "warnings": [w.as_dict() for w in outcome.warnings]
                + lint[:MAX_LINT_REPORTED]}

    def _lint_policy(self, ctx: RequestContext, module_name: Any) -> LintPolicy | None:
        """The named module's lint policy (None: none named, or it requires none)."""
        if module_name is None:
            return None
        if not isinstance(module_name, str):
            raise ValidationFailed("module must be a module name", validation_errors=[
                {"field": "module", "code": "INVALID_TYPE", "message": "the name of a module"}])
        return self._modules.find(ctx, module_name).compatibility.lint

    def dependencies(self, ctx: RequestContext, module_name: str, version_text: str) -> list[dict[str, str]]:
        """The resolved transitive set, as protoc saw it at publish time."""
        return self.version_dependencies(ctx, module_name, version_text)[1]

    def version_dependencies(self, ctx: RequestContext, module_name: str, version_text: str
                             ) -> tuple[str, list[dict[str, str]]]:
        """The concrete version (`latest` resolved) and its resolved transitive dependencies."""
        item = self._version_item(ctx, module_name, version_text)
        return item["version"], [{"module": d["module"], "version": d["version"]}
                                 for d in item.get("resolved_dependencies", [])]

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

    def request_compilation(self, ctx: RequestContext, module_name: str, version_text: str, languages: Any,
                            protoc: Any = None) -> dict[str, Any]:
        module = self._modules.writable(ctx, module_name)  # a recompile is a write: same rule as publish
        return self._compilation.request(ctx, self._modules.find_version(ctx, module, version_text), languages,
                                         protoc)

    def download(self, ctx: RequestContext, module_name: str, version_text: str, language: str,
                 protoc: str | None = None) -> tuple[str, dict[str, Any], str]:
        """The compiled ZIP's state and data (see CompilationService.download), and the concrete version.
        A protoc release not compiled yet for this language is enqueued (see CompilationService.download)."""
        item = self._version_item(ctx, module_name, version_text)
        state, data = self._compilation.download(item, language, protoc, ctx)
        return state, data, item["version"]

    def get(self, ctx: RequestContext, module_name: str, version_text: str) -> ModuleVersion:
        item = self._compilation.as_seen(self._version_item(ctx, module_name, version_text))
        return self._record(item, stored_manifest(self._blobs, item))

    @staticmethod
    def _record(item: dict[str, Any], manifest: Manifest) -> ModuleVersion:
        files = tuple(FileEntry(path=f.path, size=f.size, sha256=f.sha256) for f in manifest.files)
        return ModuleVersion(org_id=item["org_id"], module=item["module"], version=item["version"],
                             sort_key=item["sort_key"], description=item.get("description", ""),
                             created_at=item["created_at"], created_by=item.get("created_by", ""),
                             files=files, dependencies=tuple(item.get("dependencies", [])),
                             compiled_languages=tuple(item.get("compiled_languages", [])),
                             checked_against=tuple(item.get("checked_against", [])),
                             compilation=item.get("compilation", {}))

    def get_file(self, ctx: RequestContext, module_name: str, version_text: str, path: str,
                 held_sha256s: frozenset[str] = frozenset()) -> tuple[FileEntry, bytes | None]:
        """The file's entry, and its bytes unless the caller already holds them (matching ETag): one ranged
        read of the version's pack (a small version's manifest is in its item)."""
        found = self.read_file(ctx, module_name, version_text, path, held_sha256s)
        return found.entry, found.content

    def read_file(self, ctx: RequestContext, module_name: str, version_text: str, path: str,
                  held_sha256s: frozenset[str] = frozenset(), with_content: bool = True) -> FileRead:
        """As `get_file`, naming the concrete version (`latest` resolved); `with_content` False (HEAD):
        the entry alone, no read of the pack."""
        item = self._version_item(ctx, module_name, version_text)
        manifest = stored_manifest(self._blobs, item)
        packed = manifest.find(path)
        if packed is None:
            raise FileNotFound(f"File '{path}' not found in {item['module']} {item['version']}",
                               details={"path": path})
        entry = FileEntry(path=packed.path, size=packed.size, sha256=packed.sha256)
        if entry.sha256 in held_sha256s or not with_content:
            return FileRead(item["version"], entry, None)
        return FileRead(item["version"], entry, self._blobs.read_file(manifest, packed))
