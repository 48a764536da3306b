"""SpokeClient: one method per thing a user (or the `spoke` CLI) does with the registry."""
from __future__ import annotations

import io
import os
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import httpx

from spoke_client._http import file_path, segment
from spoke_client.errors import BadRequest, DownloadTimeout, IntegrityError, NotFound
from spoke_client.flows import Dependencies, FlowsMixin, Transferred
from spoke_client.models import (
    ApiToken,
    CompatibilityReport,
    FileEntry,
    Me,
    Module,
    Organization,
    Page,
    Session,
    ValidationReport,
    Version,
)
from spoke_client.retry import RetryPolicy
from spoke_client.semver import bump, highest_release
from spoke_client.transfer import (
    FileSet,
    as_bytes,
    as_text,
    check_entry,
    estimated_body_bytes,
    normalize_sha256,
    sha256_hex,
)

T = TypeVar("T")
LATEST = "latest"
# A request body holds 4 MiB: above this estimate a publish goes through the presigned upload.
UPLOAD_THRESHOLD_BYTES = 3 * 1024 * 1024


def _page(data: Mapping[str, Any], key: str, parse: Callable[[Any], T]) -> Page[T]:
    info = data.get("pagination") or {}
    cursor = info.get("next_cursor")
    return Page(tuple(parse(item) for item in data.get(key) or []), cursor,
                bool(info.get("has_more", cursor is not None)) and cursor is not None, info.get("total_items"))


def _follow(fetch: Callable[[str | None], Page[T]]) -> Iterator[T]:
    """Every item of a listing, page after page, until the server says there is no more."""
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        page = fetch(cursor)
        yield from page.items
        if not page.has_more or page.next_cursor is None or page.next_cursor in seen:
            return  # a repeated cursor would loop forever: stop rather than spin
        seen.add(page.next_cursor)
        cursor = page.next_cursor


def _dependency_strings(dependencies: Dependencies) -> list[str]:
    return [d if isinstance(d, str) else f"{d['module']}@{d['version']}" for d in dependencies or []]


class SpokeClient(FlowsMixin):
    """A Spoke API client. Use it as a context manager (or call close()) to release connections.

    `organization` (an id or slug) is sent as X-Organization-ID on every API call; `sleep` and
    `clock` are injectable so tests and callers control waiting; a `retry_policy` replaces the
    default one built from `max_retries`. `rate_limit` holds the last API response's X-RateLimit-*.
    """

    def __init__(self, base_url: str, token: str | None = None, organization: str | None = None, *,
                 timeout: float = 30.0, max_retries: int = 3, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 retry_policy: RetryPolicy | None = None) -> None:
        super().__init__(base_url, token, organization, timeout=timeout, max_retries=max_retries,
                         transport=transport, sleep=sleep, clock=clock, retry_policy=retry_policy)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kwargs: Any) -> SpokeClient:
        """SPOKE_URL (default http://localhost:8080), SPOKE_TOKEN and SPOKE_ORG, as the CLI reads them."""
        env = os.environ if env is None else env
        return cls(env.get("SPOKE_URL") or "http://localhost:8080", env.get("SPOKE_TOKEN") or None,
                   env.get("SPOKE_ORG") or None, **kwargs)

    def __enter__(self) -> SpokeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- accounts and tokens --------------------------------------------------------------------------
    def login(self, email: str, password: str) -> str:
        """Sign in; the client uses the returned token from then on."""
        session = Session.from_json(self.call("POST", "/auth/login", json={"email": email, "password": password}))
        self.token = session.token
        return session.token

    def logout(self) -> None:
        self.call("POST", "/auth/logout")
        self.token = None

    def me(self) -> Me:
        return Me.from_json(self.call("GET", "/auth/me"))

    def create_token(self, name: str, organization: str | None = None, scopes: Sequence[str] | None = None,
                     expires_in_days: int | None = None) -> ApiToken:
        """A new API token; its secret is in `.token`, shown this once."""
        body: dict[str, Any] = {"name": name}
        for key, value in (("organization", organization), ("scopes", list(scopes) if scopes is not None else None),
                           ("expires_in_days", expires_in_days)):
            if value is not None:
                body[key] = value
        return ApiToken.from_json(self.call("POST", "/auth/tokens", json=body))

    def list_tokens(self) -> list[ApiToken]:
        return [ApiToken.from_json(t) for t in (self.call("GET", "/auth/tokens") or {}).get("tokens", [])]

    def revoke_token(self, token_id: str) -> None:
        self.call("DELETE", f"/auth/tokens/{segment(token_id)}")

    # -- organizations --------------------------------------------------------------------------------
    def create_organization(self, name: str, slug: str) -> Organization:
        return Organization.from_json(self.call("POST", "/organizations", json={"name": name, "slug": slug}))

    def list_organizations(self) -> list[Organization]:
        data = self.call("GET", "/organizations") or {}
        return [Organization.from_json(o) for o in data.get("organizations", [])]

    def get_organization(self, id_or_slug: str) -> Organization:
        return Organization.from_json(self.call("GET", f"/organizations/{segment(id_or_slug)}"))

    # -- modules --------------------------------------------------------------------------------------
    def create_module(self, name: str, description: str | None = None, *,
                      compatibility: Mapping[str, Any] | None = None, go_package_prefix: str | None = None) -> Module:
        body: dict[str, Any] = {"name": name}
        for key, value in (("description", description), ("compatibility", compatibility),
                           ("go_package_prefix", go_package_prefix)):
            if value is not None:
                body[key] = value
        return Module.from_json(self.call("POST", "/modules", json=body))

    def get_module(self, name: str) -> Module:
        return Module.from_json(self.call("GET", f"/modules/{segment(name)}"))

    def update_module(self, name: str, **changes: Any) -> Module:
        """PATCH `description`, `compatibility` or `go_package_prefix`: setting values, so safe to retry."""
        return Module.from_json(self.call("PATCH", f"/modules/{segment(name)}", json=changes, idempotent=True))

    def list_modules(self, *, q: str | None = None, page_size: int | None = None, cursor: str | None = None,
                     org: str | None = None) -> Page[Module]:
        params = {k: v for k, v in (("q", q), ("page_size", page_size), ("cursor", cursor), ("org", org))
                  if v is not None}
        return _page(self.call("GET", "/modules", params=params), "modules", Module.from_json)

    def iter_modules(self, *, q: str | None = None, page_size: int = 100, org: str | None = None) -> Iterator[Module]:
        return _follow(lambda cursor: self.list_modules(q=q, page_size=page_size, cursor=cursor, org=org))

    # -- versions and files ---------------------------------------------------------------------------
    def list_versions(self, module: str, *, page_size: int | None = None, cursor: str | None = None) -> Page[Version]:
        params = {k: v for k, v in (("page_size", page_size), ("cursor", cursor)) if v is not None}
        data = self.call("GET", f"/modules/{segment(module)}/versions", params=params)
        return _page(data, "versions", lambda v: Version.from_json(v, module))

    def iter_versions(self, module: str, *, page_size: int = 100) -> Iterator[Version]:
        """Highest version first, every page."""
        return _follow(lambda cursor: self.list_versions(module, page_size=page_size, cursor=cursor))

    def get_version(self, module: str, version: str = LATEST) -> Version:
        return Version.from_json(self.call("GET", f"/modules/{segment(module)}/versions/{segment(version)}"), module)

    def dependencies(self, module: str, version: str = LATEST) -> list[Any]:
        """The resolved transitive dependency set of a version."""
        path = f"/modules/{segment(module)}/versions/{segment(version)}/dependencies"
        return list((self.call("GET", path) or {}).get("dependencies", []))

    def publish(self, module: str, version: str, files: FileSet, *, description: str | None = None,
                dependencies: Dependencies = None, method: str = "auto",
                upload_threshold: int = UPLOAD_THRESHOLD_BYTES, progress: Transferred | None = None) -> Version:
        """Publish `files` (path -> bytes or text). `method`: "multipart", "json", "upload" (presigned
        archive), or "auto": multipart, unless the body would come near the 4 MiB request limit.
        `progress` hears (bytes sent, total) of an upload's archive."""
        if method == "auto":
            method = "upload" if estimated_body_bytes(files) > upload_threshold else "multipart"
        if method == "upload":
            return self.publish_via_upload(module, version, files, description=description,
                                           dependencies=dependencies, progress=progress)
        path = f"/modules/{segment(module)}/versions"
        if method == "json":
            body: dict[str, Any] = {"version": version, "files": {p: as_text(p, c) for p, c in files.items()}}
            if description is not None:
                body["description"] = description
            if dependencies:
                body["dependencies"] = list(dependencies)
            return Version.from_json(self.call("POST", path, json=body, idempotent=True), module)
        if method != "multipart":
            raise ValueError(f"method must be auto, multipart, json or upload, not {method!r}")
        fields: dict[str, Any] = {"version": version}
        if description is not None:
            fields["description"] = description
        if dependencies:
            fields["dependency"] = _dependency_strings(dependencies)
        parts = [("file", (p, as_bytes(c), "application/octet-stream")) for p, c in files.items()]
        return Version.from_json(self.call("POST", path, data=fields, files=parts, idempotent=True), module)

    def resolve_version(self, module: str, version: str = LATEST) -> str:
        """`latest` made concrete (the highest release, pre-releases excluded), computed here from the
        module's versions so it works against any server; any other version is returned as given."""
        if version != LATEST:
            return version
        found = highest_release(self.get_module(module).versions)
        if found is None:
            raise NotFound(404, "NO_RELEASE", f"Module '{module}' has no release yet (pre-releases do not count "
                           "as latest)", {"module": module})
        return found

    def next_version(self, module: str, part: str) -> str:
        """The version `--bump part` publishes: after the highest release, or from v0.0.0 when there is
        none (or the module does not exist yet)."""
        try:
            versions = self.get_module(module).versions
        except NotFound:
            versions = ()
        return bump(highest_release(versions), part)

    def version_files(self, module: str, version: str, *, progress: Callable[[int, int], None] | None = None,
                      workers: int = 8, archive_deadline: float = 60.0) -> tuple[Version, dict[str, bytes]]:
        """A version and every file's bytes, each checked against the sha256 the version lists. One ZIP
        through the presigned `proto` download when the server offers it, else one GET per file."""
        record = self.get_version(module, version)
        expected = {entry.path: entry for entry in record.files}
        try:
            archive = self.download(module, record.version, "proto", deadline=archive_deadline)
            files = self._from_archive(bytes(archive) if isinstance(archive, bytes) else b"", expected)
            if progress is not None:
                progress(len(files), len(expected))
        except (BadRequest, NotFound, DownloadTimeout) as error:
            if isinstance(error, NotFound) and error.code in ("MODULE_NOT_FOUND", "VERSION_NOT_FOUND"):
                raise
            files = self._one_by_one(module, record.version, expected, progress, workers)
        for path, entry in expected.items():
            check_entry(entry, files[path])
        return record, files

    @staticmethod
    def _from_archive(archive: bytes, expected: Mapping[str, FileEntry]) -> dict[str, bytes]:
        with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
            names = set(zipped.namelist())
            missing = sorted(set(expected) - names)
            if missing:
                raise IntegrityError(None, "ARCHIVE_INCOMPLETE", f"the proto archive lacks {len(missing)} file(s), "
                                     f"e.g. {missing[0]}", {"missing": missing[:20]})
            return {path: zipped.read(path) for path in expected}

    def _one_by_one(self, module: str, version: str, expected: Mapping[str, FileEntry],
                    progress: Callable[[int, int], None] | None, workers: int) -> dict[str, bytes]:
        from concurrent.futures import ThreadPoolExecutor  # only a pull without the archive route needs it

        files: dict[str, bytes] = {}
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            contents = pool.map(lambda p: self.get_file(module, version, p), expected)
            for path, content in zip(expected, contents, strict=True):
                files[path] = content
                if progress is not None:
                    progress(len(files), len(expected))
        return files

    def get_file(self, module: str, version: str, path: str) -> bytes:
        """A file's bytes, checked against the ETag (its sha256) so a corrupted read is never returned."""
        url = f"/modules/{segment(module)}/versions/{segment(version)}/files/{file_path(path)}"
        response = self.send("GET", url, headers={"Accept": "*/*"})
        expected = normalize_sha256(response.headers.get("x-checksum-sha256") or response.headers.get("etag"))
        actual = sha256_hex(response.content)
        if expected is not None and actual != expected:
            raise IntegrityError(response.status_code, "CHECKSUM_MISMATCH",
                                 f"{path}: sha256 {actual} does not match the ETag {expected}",
                                 {"expected": expected, "actual": actual})
        return response.content

    def file_info(self, module: str, version: str, path: str) -> FileEntry:
        """HEAD a file: its size and sha256 without its bytes."""
        url = f"/modules/{segment(module)}/versions/{segment(version)}/files/{file_path(path)}"
        response = self.send("HEAD", url, headers={"Accept": "*/*"})
        length = response.headers.get("content-length")
        sha = normalize_sha256(response.headers.get("x-checksum-sha256") or response.headers.get("etag"))
        return FileEntry(path, int(length) if length and length.isdigit() else None,
                         f"sha256:{sha}" if sha else None)

    # -- judgement ------------------------------------------------------------------------------------
    def check_compatibility(self, module: str, version1: str, version2: str, *, use: Sequence[str] | None = None,
                            except_: Sequence[str] | None = None, mode: str | None = None) -> CompatibilityReport:
        """Would `version2` break users of `version1`? Stores nothing. `mode`: a compatibility mode
        (BACKWARD, FORWARD, FULL...) instead of the module's, for its direction(s)."""
        body: dict[str, Any] = {"version1": version1, "version2": version2}
        if use is not None:
            body["use"] = list(use)
        if except_ is not None:
            body["except"] = list(except_)
        if mode is not None:
            body["mode"] = mode.upper()
        return CompatibilityReport.from_json(self.call(
            "POST", f"/modules/{segment(module)}/compatibility/check", json=body, idempotent=True))

    def check_files_compatibility(self, module: str, files: FileSet, *, against: str = LATEST,
                                  dependencies: Dependencies = None) -> CompatibilityReport:
        """Would these unpublished files break users of the stored version `against`?"""
        body: dict[str, Any] = {"version1": against, "files": {p: as_text(p, c) for p, c in files.items()}}
        if dependencies:
            body["dependencies"] = list(dependencies)
        return CompatibilityReport.from_json(self.call(
            "POST", f"/modules/{segment(module)}/compatibility/check", json=body, idempotent=True))

    def validate(self, files: FileSet, dependencies: Dependencies = None) -> ValidationReport:
        body: dict[str, Any] = {"files": {p: as_text(p, c) for p, c in files.items()}}
        if dependencies:
            body["dependencies"] = list(dependencies)
        return ValidationReport.from_json(self.call("POST", "/validate", json=body, idempotent=True))

    def descriptor_set(self, module: str, version: str = LATEST) -> bytes:
        """The version's stored FileDescriptorSet (binary, with its imports and source info), as published:
        fetched through the presigned URL and verified against the announced size and sha256."""
        found = self.artifact(module, version, "descriptor_set", compile_if_needed=False)
        data = self.fetch_presigned(found, what=f"{module} {version} descriptor set")
        assert isinstance(data, bytes)  # no destination: the bytes themselves
        return data

    # -- the server -----------------------------------------------------------------------------------
    def languages(self) -> dict[str, Any]:
        """The compile outputs (`languages`: name, description) and the protoc/plugin `versions`."""
        return dict(self.call("GET", "/languages") or {})

    def health(self) -> dict[str, Any]:
        """The health report, degraded (503) included: a health check wants the answer, not a retry."""
        return dict(self.call("GET", "/health", ok=(503,), retry=False) or {})
