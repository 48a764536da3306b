"""The multi-step flows: publishing a large module through a presigned S3 POST, and downloading a
compiled artifact (wait out the compile, then fetch the presigned URL and verify it)."""
from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from spoke_client._http import HttpCore, segment, unwrap
from spoke_client.errors import DownloadTimeout, SpokeConnectionError, SpokeError, error_from_response
from spoke_client.models import Artifact, UploadGrant, Version
from spoke_client.retry import parse_retry_after
from spoke_client.transfer import FileSet, normalize_sha256, sha256_hex, verify, write_verified, zip_files

Progress = Callable[[Mapping[str, Any], float], None]
Transferred = Callable[[int, int], None]  # (bytes so far, total bytes)
Dependencies = Sequence[str | Mapping[str, str]] | None
POLL_FIRST = 1.0
POLL_GROWTH = 1.5
POLL_CAP = 15.0


class ReportingReader(io.BytesIO):
    """An in-memory body that reports how much of it httpx has read (sent), for an upload's progress bar;
    a retry seeks back to 0 and the count starts over with it."""

    def __init__(self, data: bytes, report: Transferred) -> None:
        super().__init__(data)
        self._report = report
        self._total = len(data)

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        if chunk:
            self._report(self.tell(), self._total)
        return chunk


class FlowsMixin(HttpCore):
    # -- upload ---------------------------------------------------------------------------------------
    def request_upload(self, module: str) -> UploadGrant:
        """A presigned POST for one archive of `module`'s files, valid for this caller only."""
        return UploadGrant.from_json(self.call("POST", f"/modules/{segment(module)}/uploads", json={}))

    def upload_archive(self, grant: UploadGrant, archive: bytes, filename: str = "module.zip", *,
                       progress: Transferred | None = None) -> None:
        """POST the archive to S3 with the grant's fields first and the file last (S3 requires that order;
        httpx writes data fields before files). No token: the fields are the credential. `progress`
        hears (bytes sent, total) as httpx reads the archive."""
        if grant.max_bytes is not None and len(archive) > grant.max_bytes:
            raise SpokeError(413, "ARCHIVE_TOO_LARGE", f"The archive is {len(archive)} bytes; the upload takes "
                             f"at most {grant.max_bytes}", {"limit": "archive_bytes", "max_bytes": grant.max_bytes})
        content_type = "application/gzip" if filename.endswith(".gz") else "application/zip"
        body = archive if progress is None else ReportingReader(archive, progress)
        self.send("POST", grant.url, api=False, idempotent=True, data=dict(grant.fields),
                  files={grant.file_field: (filename, body, content_type)})

    def publish_upload(self, module: str, version: str, upload_id: str, *, description: str | None = None,
                       dependencies: Dependencies = None) -> Version:
        body: dict[str, Any] = {"version": version, "upload_id": upload_id}
        if description is not None:
            body["description"] = description
        if dependencies:
            body["dependencies"] = list(dependencies)
        # An identical retry answers 200 with the stored version, so a publish may be retried.
        data = self.call("POST", f"/modules/{segment(module)}/versions", json=body, idempotent=True)
        return Version.from_json(data, module)

    def publish_via_upload(self, module: str, version: str, files: FileSet, *, description: str | None = None,
                           dependencies: Dependencies = None, progress: Transferred | None = None) -> Version:
        """Zip in memory, post it to the presigned URL, publish with the upload id: for sets over 4 MiB."""
        grant = self.request_upload(module)
        self.upload_archive(grant, zip_files(files), progress=progress)
        return self.publish_upload(module, version, grant.upload_id, description=description,
                                   dependencies=dependencies)

    # -- download -------------------------------------------------------------------------------------
    def request_compilation(self, module: str, version: str, languages: Sequence[str] | None = None) -> Any:
        body = {"languages": list(languages)} if languages else {}
        return self.call("POST", f"/modules/{segment(module)}/versions/{segment(version)}/compile", json=body,
                         idempotent=True)

    def artifact(self, module: str, version: str, language: str, *, deadline: float = 300.0,
                 progress: Progress | None = None, compile_if_needed: bool = True) -> Artifact:
        """Where the artifact is, once it exists: polls the 202s (honouring Retry-After, growing the
        wait otherwise) until `deadline` seconds have passed, then DownloadTimeout."""
        path = f"/modules/{segment(module)}/versions/{segment(version)}/download/{segment(language)}"
        started, polls, requested = self._clock(), 0, False
        while True:
            response = self.send("GET", path, ok=(302,), follow_redirects=False)
            if response.status_code == 302:  # a server that ignored Accept: the URL alone, nothing to verify
                return Artifact(response.headers["location"], None, None)
            data = unwrap(response) or {}
            if response.status_code != 202:
                return Artifact(str(data["url"]), data.get("size"), data.get("sha256"))
            elapsed = self._clock() - started
            if progress is not None:
                progress(data, elapsed)
            if data.get("status") == "not_requested":
                if not compile_if_needed:
                    raise SpokeError(202, "NOT_COMPILED", str(data.get("message") or "Not compiled yet"), dict(data))
                if not requested:
                    self.request_compilation(module, version, [language])
                    requested = True
            remaining = deadline - elapsed
            if remaining <= 0:
                raise DownloadTimeout(202, "DOWNLOAD_TIMEOUT", f"{module} {version} {language} was not ready "
                                      f"within {deadline:g} s (last status: {data.get('status')})", dict(data))
            wait = min(POLL_CAP, POLL_FIRST * POLL_GROWTH ** min(polls, 32))  # capped: no float overflow
            wait = max(wait, parse_retry_after(response.headers.get("retry-after")) or 0.0)
            self._sleep(min(wait, remaining))
            polls += 1

    def download(self, module: str, version: str, language: str, destination: str | os.PathLike[str] | None = None,
                 *, deadline: float = 300.0, progress: Progress | None = None,
                 compile_if_needed: bool = True) -> bytes | Path:
        """A compiled ZIP (`language`, or "proto" for the sources), verified against the announced size and
        sha256: the bytes, or the Path it was written to (atomically: nothing on a mismatch)."""
        found = self.artifact(module, version, language, deadline=deadline, progress=progress,
                              compile_if_needed=compile_if_needed)
        return self.fetch_presigned(found, destination, what=f"{module} {version} {language}")

    def fetch_presigned(self, artifact: Artifact, destination: str | os.PathLike[str] | None = None, *,
                        what: str = "download") -> bytes | Path:
        """GET a presigned URL with the bare client (never the token), retrying what S3 may refuse
        transiently; an integrity failure is not retried."""
        attempt = 0
        while True:
            try:
                with self._bare.stream("GET", artifact.url) as response:
                    if response.status_code >= 400:
                        response.read()
                        retry_after = parse_retry_after(response.headers.get("retry-after"))
                        if attempt < self.retry.max_retries and \
                                self.retry.retryable_status("GET", response.status_code):
                            delay = self.retry.delay(attempt, retry_after)
                            if delay is not None:
                                self._sleep(delay)
                                attempt += 1
                                continue
                        raise error_from_response(response, retry_after)
                    return self._store(response.iter_bytes(), artifact, destination, what)
            except httpx.TransportError as error:
                if attempt < self.retry.max_retries:
                    self._sleep(self.retry.backoff(attempt))
                    attempt += 1
                    continue
                raise SpokeConnectionError(None, "CONNECTION_ERROR", f"GET {what}: {error!r}") from error

    @staticmethod
    def _store(chunks: Iterator[bytes], artifact: Artifact, destination: str | os.PathLike[str] | None,
               what: str) -> bytes | Path:
        if destination is not None:
            return write_verified(chunks, destination, artifact.size, artifact.sha256, what)
        buffer = io.BytesIO()
        for chunk in chunks:
            buffer.write(chunk)
        data = buffer.getvalue()
        verify(len(data), sha256_hex(data), artifact.size, normalize_sha256(artifact.sha256), what)
        return data
