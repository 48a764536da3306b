"""S3: each version's files as one content-addressed pack, its file manifest, descriptor sets, ZIPs.

A pack is the version's file bytes concatenated in manifest order; the manifest gives each file's
offset, size and sha256, so one PUT stores a version of any size, one GET reads it whole and one
ranged GET serves a single file. Versions published before packs keep one blob per file
(blobs/sha256/..) and an offset-less manifest; both layouts are read here, and only here.

Keys never change meaning and objects are never overwritten: a put is conditional on the key
being new (If-None-Match: *), and an existing object under a sha256 key already holds these bytes.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters import aws
from chalicelib.adapters.keys import pack_object_key
from chalicelib.services.ports import Manifest, PackedFile


def blob_key_for(sha256: str) -> str:
    return f"blobs/sha256/{sha256[:2]}/{sha256}"


def manifest_key_for(sha256: str) -> str:
    return f"manifests/sha256/{sha256}.json"


def artifact_key_for(sha256: str) -> str:
    return f"artifacts/sha256/{sha256}.zip"


def descriptor_set_key_for(sha256: str) -> str:
    return f"descriptors/sha256/{sha256}.binpb"


class BlobStore:
    def __init__(self, bucket: str) -> None:
        self._bucket = bucket

    @property
    def _s3(self) -> Any:
        return aws.client("s3")

    def _put_once(self, key: str, body: bytes, content_type: str) -> None:
        try:
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type,
                                IfNoneMatch="*")
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise

    def put_blob(self, sha256: str, body: bytes) -> None:
        self._put_once(blob_key_for(sha256), body, "text/plain; charset=utf-8")

    def get_blob(self, sha256: str) -> bytes:
        return self._s3.get_object(Bucket=self._bucket, Key=blob_key_for(sha256))["Body"].read()

    def put_pack(self, files: Sequence[tuple[str, bytes]]) -> Manifest:
        """One object for every file of a version: their bytes back to back, in the order given."""
        body, manifest = Manifest.pack(files)
        self._put_once(pack_object_key(str(manifest.pack_sha256)), body, "application/octet-stream")
        return manifest

    def read_file(self, manifest: Manifest, entry: PackedFile) -> bytes:
        """One file's bytes: a ranged GET of the pack (or the old layout's blob), checked against its sha256."""
        if manifest.pack_sha256 is None or entry.offset is None:
            content = self.get_blob(entry.sha256)
        elif entry.size == 0:
            content = b""
        else:
            content = self._s3.get_object(Bucket=self._bucket, Key=pack_object_key(manifest.pack_sha256),
                                          Range=f"bytes={entry.offset}-{entry.offset + entry.size - 1}")["Body"].read()
        return _checked(entry, content)

    def read_files(self, manifest: Manifest) -> dict[str, bytes]:
        """Every file of a version: one GET of its pack (the old layout: one per file)."""
        if manifest.pack_sha256 is None:
            return {entry.path: _checked(entry, self.get_blob(entry.sha256)) for entry in manifest.files}
        pack = self._s3.get_object(Bucket=self._bucket, Key=pack_object_key(manifest.pack_sha256))["Body"].read()
        if len(pack) != manifest.pack_size:
            raise RuntimeError(f"pack {manifest.pack_sha256} holds {len(pack)} bytes, its manifest says "
                               f"{manifest.pack_size}")
        return {entry.path: _checked(entry, pack[entry.offset:entry.offset + entry.size])  # type: ignore[operator]
                for entry in manifest.files}

    def put_manifest(self, manifest: Manifest) -> str:
        body = manifest.to_text().encode()
        sha256 = hashlib.sha256(body).hexdigest()
        self._put_once(manifest_key_for(sha256), body, "application/json")
        return sha256

    def read_manifest(self, sha256: str) -> Manifest:
        return Manifest.from_text(self._s3.get_object(Bucket=self._bucket, Key=manifest_key_for(sha256))["Body"].read())

    def get_manifest(self, sha256: str) -> list[dict[str, Any]]:
        """The files (path, size, sha256) of a manifest of either layout."""
        return [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.read_manifest(sha256).files]

    def put_descriptor_set(self, body: bytes) -> str:
        sha256 = hashlib.sha256(body).hexdigest()
        self._put_once(descriptor_set_key_for(sha256), body, "application/x-protobuf")
        return sha256

    def get_descriptor_set(self, sha256: str) -> bytes:
        return self._s3.get_object(Bucket=self._bucket, Key=descriptor_set_key_for(sha256))["Body"].read()

    def put_artifact(self, body: bytes) -> str:
        """Compiled ZIPs are deterministic and content-addressed: a duplicate compile rewrites nothing."""
        sha256 = hashlib.sha256(body).hexdigest()
        self._put_once(artifact_key_for(sha256), body, "application/zip")
        return sha256

    def artifact_url(self, sha256: str, filename: str, expires_in: int) -> str:
        return self._s3.generate_presigned_url("get_object", ExpiresIn=expires_in, Params={
            "Bucket": self._bucket, "Key": artifact_key_for(sha256),
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
            "ResponseContentType": "application/zip"})

    def descriptor_set_url(self, sha256: str, filename: str, expires_in: int) -> str:
        """A presigned GET of a version's stored FileDescriptorSet (binary), under its existing key."""
        return self._s3.generate_presigned_url("get_object", ExpiresIn=expires_in, Params={
            "Bucket": self._bucket, "Key": descriptor_set_key_for(sha256),
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
            "ResponseContentType": "application/x-protobuf"})

    def descriptor_set_size(self, sha256: str) -> int:
        return int(self._s3.head_object(Bucket=self._bucket, Key=descriptor_set_key_for(sha256))["ContentLength"])

    def ping(self) -> None:
        self._s3.head_bucket(Bucket=self._bucket)


def _checked(entry: PackedFile, content: bytes) -> bytes:
    """Bytes served are the bytes published: a mismatch is a storage fault, never a silent wrong answer."""
    if len(content) != entry.size or hashlib.sha256(content).hexdigest() != entry.sha256:
        raise RuntimeError(f"stored bytes of {entry.path!r} do not match their sha256 {entry.sha256}")
    return content
