"""schemathesis hooks (SCHEMATHESIS_HOOKS=tests.fuzz.hooks): who the fuzzer is.

Routes only a person may call (the document's `security: [{session: []}]`: logout, password, API
tokens, creating organizations) get a session from POST /auth/login; every other route gets the API
token of the fuzzer's own organization (admin, write, read), so org-scoped routes reach their logic
instead of answering 403. A fuzzed logout revokes the session: the 401 that follows makes schemathesis
sign in again (`retry_on`). test_schemathesis.py sets up the account and passes it in the environment.
"""
from __future__ import annotations

import os
from typing import Any

import requests
import schemathesis

ANONYMOUS_ROUTES = r"^/(auth/(login|register|sso/)|health|metrics|languages|openapi\.json|docs)"


def _kind(case: Any, _context: Any = None) -> str:
    security = (case.operation.definition.raw or {}).get("security") or []
    return "session" if security == [{"session": []}] else "token"


@schemathesis.auth(refresh_interval=600, cache_by_key=_kind, retry_on=[401]).skip_for(path_regex=ANONYMOUS_ROUTES)
class SpokeAuth:
    def get(self, case: Any, context: Any) -> str:
        if _kind(case) == "token":
            return os.environ["SPOKE_FUZZ_API_TOKEN"]
        login = requests.post(f"{os.environ['SPOKE_FUZZ_API_URL']}/auth/login", timeout=30, json={
            "email": os.environ["SPOKE_FUZZ_EMAIL"], "password": os.environ["SPOKE_FUZZ_PASSWORD"]})
        login.raise_for_status()
        return str(login.json()["data"]["token"])

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
