"""S3: file bytes content-addressed by sha256, and each version's file manifest.

Keys never change meaning and objects are never overwritten: a put is conditional on the key
being new (If-None-Match: *), and an existing object under a sha256 key already holds these bytes.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters import aws


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

    def put_manifest(self, files: list[dict[str, Any]]) -> str:
        body = json.dumps({"files": files}, separators=(",", ":"), sort_keys=True).encode()
        sha256 = hashlib.sha256(body).hexdigest()
        self._put_once(manifest_key_for(sha256), body, "application/json")
        return sha256

    def get_manifest(self, sha256: str) -> list[dict[str, Any]]:
        body = self._s3.get_object(Bucket=self._bucket, Key=manifest_key_for(sha256))["Body"].read()
        return json.loads(body)["files"]

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

    def ping(self) -> None:
        self._s3.head_bucket(Bucket=self._bucket)
