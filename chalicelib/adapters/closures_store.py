"""S3 for dependency closures: reads of stored compiled ZIPs, and the pointer from a closure's inputs to
the closure ZIP built from them (a small JSON object; the ZIP itself is an artifact like any other)."""
from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters import aws
from chalicelib.adapters.blobs import artifact_key_for
from chalicelib.adapters.keys import closure_pointer_key


class ClosureStore:
    def __init__(self, bucket: str) -> None:
        self._bucket = bucket

    def read_artifact(self, sha256: str) -> bytes:
        body: bytes = aws.client("s3").get_object(Bucket=self._bucket, Key=artifact_key_for(sha256))["Body"].read()
        return body

    def get_pointer(self, inputs_sha256: str) -> dict[str, Any] | None:
        try:
            body = aws.client("s3").get_object(Bucket=self._bucket, Key=closure_pointer_key(inputs_sha256))["Body"]
        except ClientError as error:
            if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        found = json.loads(body.read())
        return found if isinstance(found, dict) else None

    def put_pointer(self, inputs_sha256: str, artifact: dict[str, Any]) -> None:
        """Deterministic bytes: two first requests at once write the same pointer to the same ZIP."""
        aws.client("s3").put_object(Bucket=self._bucket, Key=closure_pointer_key(inputs_sha256),
                                    Body=json.dumps(artifact, sort_keys=True).encode(),
                                    ContentType="application/json")
