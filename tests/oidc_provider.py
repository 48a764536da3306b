"""A real OpenID Connect issuer for the tests, on 127.0.0.1 over HTTP, with its own RSA key.

It speaks what the registry relies on: discovery (`/.well-known/openid-configuration`), `/jwks`,
`/authorize` (records the nonce and the PKCE challenge, answers 302 to the redirect_uri with a code and
the state, for the test user `email`) and `/token` (checks the client's credentials, the code, the
redirect_uri and the PKCE verifier; issues an ID token with iss, sub, aud, exp, iat, nonce, email and
email_verified). `misbehave` makes the next tokens wrong in one way (nonce, expiry, audience, signing
key, email), so tests can see each check of the registry refuse them.
"""
from __future__ import annotations

import base64
import hashlib
import http.client
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

CLIENT_ID = "spoke-test-client"
CLIENT_SECRET = "test-client-secret-0123456789"


@dataclass
class Misbehaviour:
    """How the next ID tokens are wrong (None/False: right)."""
    nonce: str | None = None            # a nonce other than the one of the authorization request
    expired: bool = False               # exp in the past
    audience: str | None = None         # aud other than the client id
    wrong_key: bool = False             # signed with a key that is not in the JWKS (same kid)
    email_verified: bool | None = None  # False: the issuer says it has not verified the address
    omit_email: bool = False
    extra_audience: str | None = None   # aud lists this too, without azp
    hs256_with_secret: bool = False     # signed HS256 with the client secret (an algorithm confusion attempt)


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str
    code_challenge: str
    email: str


@dataclass
class OidcProvider:
    email: str = "alice@example.com"
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    auth_methods: tuple[str, ...] = ("client_secret_basic", "client_secret_post")
    misbehave: Misbehaviour = field(default_factory=Misbehaviour)
    discovery_overrides: dict[str, Any] = field(default_factory=dict)   # e.g. {"issuer": "https://other"}
    token_requests: list[dict[str, str]] = field(default_factory=list)  # what /token received (form fields)

    def __post_init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        self._impostor = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-provider", daemon=True)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> OidcProvider:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # what the endpoints answer

    def discovery(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": list(self.auth_methods),
                "scopes_supported": ["openid", "email", "profile"], **self.discovery_overrides}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str]]:
        """302 to the redirect_uri with a code and the state; 400 for a request the issuer refuses."""
        if (query.get("response_type") != "code" or query.get("client_id") != self.client_id
                or query.get("code_challenge_method") != "S256" or not query.get("code_challenge")
                or "openid" not in query.get("scope", "").split() or not query.get("redirect_uri")):
            return 400, {}
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(self.client_id, query["redirect_uri"], query.get("nonce", ""),
                                        query["code_challenge"], self.email)
        target = query["redirect_uri"]
        separator = "&" if urlsplit(target).query else "?"
        return 302, {"Location": f"{target}{separator}{urlencode({'code': code, 'state': query.get('state', '')})}"}

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(dict(form))
        client_id, client_secret = _client_credentials(form, authorization)
        if client_id != self.client_id or client_secret != self.client_secret:
            return 401, {"error": "invalid_client"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)
        if form.get("grant_type") != "authorization_code" or grant is None:
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri differs"}
        if _s256(form.get("code_verifier", "")) != grant.code_challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verifier does not match"}
        return 200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                     "id_token": self.id_token(grant)}

    def id_token(self, grant: _Grant) -> str:
        wrong = self.misbehave
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "sub": hashlib.sha256(grant.email.encode()).hexdigest()[:24],
            "aud": wrong.audience or grant.client_id, "iat": now - (1000 if wrong.expired else 0),
            "exp": now - 600 if wrong.expired else now + 300, "nonce": wrong.nonce or grant.nonce,
            "email": grant.email, "email_verified": True if wrong.email_verified is None else wrong.email_verified,
            "given_name": "Alice", "family_name": "Example"}
        if wrong.omit_email:
            del claims["email"]
        if wrong.extra_audience:
            claims["aud"] = [claims["aud"], wrong.extra_audience]
        if wrong.hs256_with_secret:
            secret = OctKey.import_key(self.client_secret.encode() * 2)
            return jwt.encode({"alg": "HS256", "kid": "test-key", "typ": "JWT"}, claims, secret)
        key = self._impostor if wrong.wrong_key else self.key
        return jwt.encode({"alg": "RS256", "kid": "test-key", "typ": "JWT"}, claims, key)


def follow_authorization(authorization_url: str) -> dict[str, str]:
    """What a browser does: GET the authorization URL, and read (not follow) the redirect's query."""
    parts = urlsplit(authorization_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        response.read()
        assert response.status == 302, f"the issuer answered {response.status}"
        location = response.getheader("Location") or ""
    finally:
        connection.close()
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _client_credentials(form: dict[str, str], authorization: str | None) -> tuple[str | None, str | None]:
    if authorization and authorization.lower().startswith("basic "):
        decoded = base64.b64decode(authorization[6:]).decode()
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)
    return form.get("client_id"), form.get("client_secret")


def _handler(provider: OidcProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:  # quiet
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            if parts.path == "/.well-known/openid-configuration":
                self._json(200, provider.discovery())
            elif parts.path == "/jwks":
                self._json(200, provider.jwks())
            elif parts.path == "/authorize":
                status, headers = provider.authorize({k: v[0] for k, v in parse_qs(parts.query).items()})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:  # noqa: N802
            if urlsplit(self.path).path != "/token":
                self._json(404, {"error": "not_found"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            status, body = provider.token(form, self.headers.get("Authorization"))
            self._json(status, body)

    return Handler
