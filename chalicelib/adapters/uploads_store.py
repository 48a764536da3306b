"""Upload grants (DynamoDB) and the archives posted under them (S3, uploads/ prefix).

A grant item lives until a day after the grant expires (the table's TTL), so that an expired or used
grant is still answered as such for a while; the archive objects are left to the bucket's lifecycle
rule on uploads/ (nothing else is ever stored under that prefix).
"""
from __future__ import annotations

from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib.adapters import aws, keys
from chalicelib.adapters.dynamo import Table
from chalicelib.services.ports import UploadGrant

GRACE_SECONDS = 24 * 3600   # how long an expired or used grant is remembered
_FIELDS = ("upload_id", "org_id", "module", "user_id", "created_at", "expires_at", "used_version")


class UploadsStore:
    def __init__(self, table: Table, bucket: str) -> None:
        self._table = table
        self._bucket = bucket
        self._signer: Any = None

    @property
    def _post_signer(self) -> Any:
        """An S3 client that signs POST policies with SigV4 (every region accepts it; SigV2 is legacy)."""
        if self._signer is None:
            self._signer = aws.session().client("s3", config=Config(signature_version="s3v4"))
        return self._signer

    @property
    def _s3(self) -> Any:
        return aws.client("s3")

    def create(self, grant: UploadGrant) -> None:
        self._table.put({**keys.upload_key(grant.upload_id), "type": "upload",
                         **{name: getattr(grant, name) for name in _FIELDS},
                         "expires_at_epoch": grant.expires_at + GRACE_SECONDS})

    def get(self, upload_id: str) -> UploadGrant | None:
        item = self._table.get(keys.upload_key(upload_id), consistent=True)
        if item is None:
            return None
        return UploadGrant(**{name: item[name] for name in _FIELDS if name in item})

    def mark_used(self, upload_id: str, version: str) -> bool:
        """Once: False when the grant was already used (or is gone)."""
        return self._table.update_if(keys.upload_key(upload_id), "SET used_version = :v",
                                     "attribute_exists(PK) AND attribute_not_exists(used_version)", {":v": version})

    def presigned_post(self, grant: UploadGrant, max_bytes: int, expires_in: int) -> dict[str, Any]:
        """A browser-style POST policy: exactly this key, at most `max_bytes`, within `expires_in` seconds."""
        post = self._post_signer.generate_presigned_post(
            Bucket=self._bucket, Key=self._object_key(grant),
            Conditions=[["content-length-range", 1, max_bytes]], ExpiresIn=expires_in)
        return {"url": post["url"], "fields": post["fields"]}

    def read_archive(self, grant: UploadGrant, max_bytes: int) -> bytes | None:
        """The posted archive, or None when nothing was posted; never more than max_bytes + 1 bytes are read."""
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=self._object_key(grant))
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        with response["Body"] as body:
            return body.read(max_bytes + 1)

    @staticmethod
    def _object_key(grant: UploadGrant) -> str:
        return keys.upload_object_key(grant.org_id, grant.module, grant.user_id, grant.upload_id)
