"""OpenID Connect over HTTP: the issuer's discovery document, its token endpoint and its JWKS, and the
ID token's verification (joserfc, the JOSE library of Authlib's maintainers, which Authlib itself now
builds on: no hand-written JOSE here).

Every outbound URL is vetted like a webhook's: https (http only on loopback where allowed), the host
resolved once and every address judged by `domain.webhooks.address_refusal` (never private,
link-local or a metadata address; loopback only where allowed), and the connection made to that
vetted address (TLS still verifies the URL's host name). Redirects are not followed, proxies not used;
each exchange has a deadline and a response size cap. The issuer's raw answers never reach the caller:
failures name the step that failed.
"""
from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from chalicelib.adapters.http_delivery import PinnedHTTPSConnection
from chalicelib.domain.errors import DomainError, InvalidSsoConfig, SsoLoginFailed
from chalicelib.domain.sso import ID_TOKEN_ALGORITHMS, ProviderMetadata, discovery_url, provider_metadata, url_refusal
from chalicelib.domain.webhooks import address_refusal

TIMEOUT_SECONDS = 5.0
MAX_RESPONSE_BYTES = 256 * 1024
USER_AGENT = "Spoke-OIDC/1.0"
_ERROR_CODE = re.compile(r"^[a-z_]{1,64}$")
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="oidc-dns")  # getaddrinfo has no timeout


class _Refused(Exception):
    """A URL that may not be contacted, or an exchange that failed: the reason, in words."""


class OidcClient:
    """The OidcPort."""

    def __init__(self, allow_http: bool, timeout_seconds: float = TIMEOUT_SECONDS,
                 max_response_bytes: int = MAX_RESPONSE_BYTES) -> None:
        self._allow_http = allow_http
        self._timeout = timeout_seconds
        self._max_bytes = max_response_bytes
        self._tls = ssl.create_default_context()

    # the OidcPort

    def discover(self, issuer: str) -> ProviderMetadata:
        try:
            status, body = self._request("GET", discovery_url(issuer))
        except _Refused as refused:
            raise InvalidSsoConfig(f"The issuer's OpenID configuration could not be read: {refused}",
                                   details={"issuer": issuer, "reason": str(refused)}) from None
        if status != 200:
            reason = f"{discovery_url(issuer)} answered HTTP {status}"
            raise InvalidSsoConfig(f"The issuer's OpenID configuration could not be read: {reason}",
                                   details={"issuer": issuer, "reason": reason})
        return provider_metadata(issuer, _json(body), self._allow_http)

    def exchange_code(self, provider: ProviderMetadata, client_id: str, client_secret: str, code: str,
                      code_verifier: str, redirect_uri: str) -> str:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": code_verifier}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if provider.token_auth_method == "client_secret_post":
            form.update(client_id=client_id, client_secret=client_secret)
        else:  # RFC 6749 2.3.1: each part form-encoded before base64
            pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        try:
            status, body = self._request("POST", provider.token_endpoint, urlencode(form).encode(), headers)
        except _Refused as refused:
            raise _login_failed(f"the token endpoint could not be reached ({refused})") from None
        answer = _json(body)
        if status != 200:
            error = answer.get("error") if isinstance(answer, dict) else None
            named = f" ({error})" if isinstance(error, str) and _ERROR_CODE.match(error) else ""
            raise _login_failed(f"the identity provider refused the authorization code: HTTP {status}{named}")
        id_token = answer.get("id_token") if isinstance(answer, dict) else None
        if not isinstance(id_token, str) or not id_token:
            raise _login_failed("the token endpoint's answer holds no id_token")
        return id_token

    def verify_id_token(self, provider: ProviderMetadata, client_id: str, id_token: str, nonce: str
                        ) -> dict[str, Any]:
        from joserfc import errors, jwt
        from joserfc.jwk import KeySet

        try:
            status, body = self._request("GET", provider.jwks_uri)
        except _Refused as refused:
            raise _login_failed(f"the issuer's keys (jwks_uri) could not be read ({refused})") from None
        try:
            if status != 200:
                raise ValueError(f"HTTP {status}")
            keys = KeySet.import_key_set(_json(body))
        except (ValueError, TypeError, KeyError, errors.JoseError) as error:
            raise _login_failed(f"the issuer's keys (jwks_uri) are not a usable JWK set ({str(error)[:100]})") from None
        try:
            token = jwt.decode(id_token, keys, algorithms=list(ID_TOKEN_ALGORITHMS))
        except errors.BadSignatureError:
            raise _login_failed("the ID token's signature does not verify against the issuer's keys") from None
        except (errors.JoseError, ValueError, TypeError):
            raise _login_failed("the ID token is not a JWT signed with one of the issuer's keys") from None
        claims = token.claims
        registry = jwt.JWTClaimsRegistry(
            leeway=60, iss={"essential": True, "value": provider.issuer}, aud={"essential": True, "value": client_id},
            exp={"essential": True}, iat={"essential": True}, sub={"essential": True},
            nonce={"essential": True, "value": nonce})
        try:
            registry.validate(claims)
        except errors.ExpiredTokenError:
            raise _login_failed("the ID token has expired") from None
        except errors.MissingClaimError as error:
            raise _login_failed(f"the ID token lacks a required claim ({error.description})") from None
        except errors.InvalidClaimError as error:
            claim = getattr(error, "claim", "") or str(error)
            raise _login_failed(f"the ID token's {_claim_name(claim)} does not match") from None
        except errors.JoseError:
            raise _login_failed("the ID token's claims do not hold") from None
        audience = claims.get("aud")
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != client_id:
            raise _login_failed("the ID token names several audiences but is not authorized for this client (azp)")
        return dict(claims)

    # HTTP

    def _request(self, method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
                 ) -> tuple[int, bytes]:
        refusal = url_refusal(url, self._allow_http)
        if refusal:
            raise _Refused(f"{url[:200]} is refused: {refusal}")
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = self._vetted_address(host, port)
        deadline = time.monotonic() + self._timeout
        connection: http.client.HTTPConnection = (
            PinnedHTTPSConnection(address, port, host, self._timeout, self._tls) if parts.scheme == "https"
            else http.client.HTTPConnection(address, port, timeout=self._timeout))
        host_header = f"[{host}]" if ":" in host else host
        if parts.port:
            host_header += f":{parts.port}"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(method, path, body=body, headers={
                "Host": host_header, "Accept": "application/json", "User-Agent": USER_AGENT, "Connection": "close",
                **(headers or {})})
            response = connection.getresponse()
            data = response.read(self._max_bytes + 1)
            if len(data) > self._max_bytes:
                raise _Refused(f"{host} answered more than {self._max_bytes} bytes")
            if time.monotonic() > deadline:
                raise _Refused(f"{host} did not answer within {self._timeout:g}s")
            return response.status, data
        except TimeoutError:
            raise _Refused(f"{host} did not answer within {self._timeout:g}s") from None
        except ssl.SSLError as failure:
            raise _Refused(f"TLS with {host} failed: {failure.reason or type(failure).__name__}") from None
        except (OSError, http.client.HTTPException) as failure:
            raise _Refused(f"connecting to {host} failed: {type(failure).__name__}") from None
        finally:
            connection.close()

    def _vetted_address(self, host: str, port: int) -> str:
        try:
            infos = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM
                                     ).result(timeout=self._timeout)
        except (socket.gaierror, UnicodeError, FutureTimeout):
            raise _Refused(f"'{host}' does not resolve") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            reason = address_refusal(address, self._allow_http)
            if reason:
                raise _Refused(f"'{host}' resolves to {address}, {reason}")
        if not addresses:
            raise _Refused(f"'{host}' has no address")
        return addresses[0]


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _claim_name(claim: str) -> str:
    names = {"iss": "issuer (iss)", "aud": "audience (aud)", "nonce": "nonce", "sub": "subject (sub)"}
    return next((label for key, label in names.items() if key in claim), f"claim {claim[:40]}")


def _login_failed(reason: str) -> DomainError:
    return SsoLoginFailed(f"SSO login failed: {reason}", details={"reason": reason})
