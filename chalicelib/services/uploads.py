"""Large modules: an archive goes straight to S3 under a short-lived grant, and a publish names the grant.

API Gateway and Lambda cap request bodies at 10 MB and 6 MB; an archive posted to S3 with a presigned
POST is bounded only by the policy's content-length-range. The API function reads it back once, when
the version is published. A grant belongs to one organization, one module and the user it was given
to; it publishes one version, within its lifetime.
"""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.archives import ArchiveLimits, read_archive
from chalicelib.domain.errors import (
    ArchiveTooLarge,
    UploadAlreadyUsed,
    UploadExpired,
    UploadForbidden,
    UploadNotFound,
    UploadNotReceived,
)
from chalicelib.domain.models import Module, RequestContext
from chalicelib.domain.roles import Action
from chalicelib.domain.versions import Version
from chalicelib.services.common import iso_utc, require, require_principal, utc_now
from chalicelib.services.modules import ModulesService
from chalicelib.services.ports import UploadGrant, UploadsPort

UPLOAD_ID = re.compile(r"^up_[0-9a-f]{32}$")
FORMATS = ("zip", "tar.gz")


@dataclass(frozen=True)
class UploadPolicy:
    """How long a grant lives (to post and to publish), how long its POST URL is valid, and the archive bounds."""
    ttl_seconds: int = 3600
    url_ttl_seconds: int = 900
    max_archive_bytes: int = 32 * 1024 * 1024
    archive: ArchiveLimits = ArchiveLimits()


class UploadsService:
    def __init__(self, uploads: UploadsPort, modules: ModulesService, policy: UploadPolicy,
                 clock: Callable[[], float] = time.time) -> None:
        self._uploads = uploads
        self._modules = modules
        self._policy = policy
        self._clock = clock

    def grant(self, ctx: RequestContext, module_name: str) -> dict[str, Any]:
        """A presigned S3 POST for one archive of this module's files, for the caller only."""
        require(ctx, Action.PUBLISH)
        principal = require_principal(ctx.principal)
        module = self._modules.writable(ctx, module_name)  # a grant is for publishing: the same rule applies
        now = int(self._clock())
        grant = UploadGrant(upload_id=f"up_{uuid.uuid4().hex}", org_id=ctx.org.id, module=module.name,
                            user_id=principal.user_id, created_at=utc_now(), expires_at=now + self._policy.ttl_seconds)
        self._uploads.create(grant)
        url_ttl = min(self._policy.url_ttl_seconds, self._policy.ttl_seconds)
        post = self._uploads.presigned_post(grant, self._policy.max_archive_bytes, url_ttl)
        limits = self._policy.archive
        return {"upload_id": grant.upload_id, "module": module.name, "method": "POST", "url": post["url"],
                "fields": post["fields"], "file_field": "file",
                "url_expires_at": _iso(now + url_ttl), "expires_at": _iso(grant.expires_at),
                "formats": list(FORMATS), "max_bytes": self._policy.max_archive_bytes,
                "limits": {"max_entries": limits.max_entries, "max_uncompressed_bytes": limits.max_total_bytes,
                           "max_compression_ratio": limits.max_ratio}}

    def claim(self, ctx: RequestContext, module: Module, upload_id: Any, version: Version) -> UploadGrant:
        """The caller's grant for this module, usable for this version (or already used by it: a retry)."""
        if not isinstance(upload_id, str) or not UPLOAD_ID.match(upload_id):
            raise UploadNotFound("upload_id is not an id POST /modules/{name}/uploads gave",
                                 details={"upload_id": str(upload_id)[:40]})
        grant = self._uploads.get(upload_id)
        if grant is None:
            raise UploadNotFound(f"Upload '{upload_id}' does not exist (or expired a day ago)",
                                 details={"upload_id": upload_id})
        principal = require_principal(ctx.principal)
        if (grant.org_id, grant.module, grant.user_id) != (ctx.org.id, module.name, principal.user_id):
            raise UploadForbidden(f"Upload '{upload_id}' was granted for another organization, module or user",
                                  details={"upload_id": upload_id})
        if grant.used_version is not None:
            if grant.used_version == version.name:
                return grant
            raise UploadAlreadyUsed(f"Upload '{upload_id}' already published {grant.used_version}: request a new "
                                    "upload for another version", details={"upload_id": upload_id,
                                                                           "version": grant.used_version})
        if int(self._clock()) >= grant.expires_at:
            raise UploadExpired(f"Upload '{upload_id}' expired at {_iso(grant.expires_at)}: request a new upload",
                                details={"upload_id": upload_id, "expired_at": _iso(grant.expires_at)})
        return grant

    def files(self, grant: UploadGrant) -> list[tuple[str, bytes]]:
        """The archive's files as (path, bytes), judged by the archive bounds (paths are judged by the caller)."""
        data = self._uploads.read_archive(grant, self._policy.max_archive_bytes)
        if data is None:
            raise UploadNotReceived(f"No archive has been posted for upload '{grant.upload_id}': POST it to the "
                                    "url with the fields it came with, then publish",
                                    details={"upload_id": grant.upload_id})
        if len(data) > self._policy.max_archive_bytes:
            raise ArchiveTooLarge(f"The archive is {len(data)} bytes; the limit is {self._policy.max_archive_bytes}",
                                  details={"limit": "archive_bytes", "max_bytes": self._policy.max_archive_bytes})
        return read_archive(data, self._policy.archive)

    def used(self, grant: UploadGrant, version: Version) -> None:
        """The grant published this version: any other version needs a new upload. (Marked after the version
        commits, so a refused publish leaves the grant usable until it expires.)"""
        self._uploads.mark_used(grant.upload_id, version.name)


def _iso(epoch: int) -> str:
    return iso_utc(datetime.fromtimestamp(epoch, UTC))
