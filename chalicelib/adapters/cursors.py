"""Opaque, signed pagination cursors: clients cannot forge or edit a position."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from chalicelib.domain.errors import InvalidCursor


class CursorSigner:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"spoke-cursor-v1", hashlib.sha256).digest()

    def encode(self, position: dict[str, Any]) -> str:
        payload = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
        mac = hmac.new(self._key, payload, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")

    def decode(self, cursor: str) -> dict[str, Any]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            mac, payload = raw[:16], raw[16:]
            if not hmac.compare_digest(mac, hmac.new(self._key, payload, hashlib.sha256).digest()[:16]):
                raise ValueError("bad signature")
            position = json.loads(payload)
            if not isinstance(position, dict):
                raise ValueError("not an object")
            return position
        except (ValueError, TypeError, UnicodeDecodeError):
            raise InvalidCursor("Cursor is invalid or was modified: use next_cursor as returned") from None
