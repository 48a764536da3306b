"""In-memory fakes of the SSO ports (SsoPort, SsoSecretsPort, OidcPort), with their adapters' semantics:
a login state is taken at most once and only before it expires; the fake issuer verifies as the real
adapter does, by refusing with SsoLoginFailed, and records what it was asked."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.errors import InvalidSsoConfig, SsoLoginFailed
from chalicelib.domain.sso import LoginState, ProviderMetadata, SsoConfig


class FakeSsoStore:
    """SsoPort: settings by organization, logins in progress by state."""

    def __init__(self) -> None:
        self.configs: dict[str, SsoConfig] = {}
        self.states: dict[str, LoginState] = {}

    def put_config(self, config: SsoConfig) -> None:
        self.configs[config.org_id] = config

    def get_config(self, org_id: str) -> SsoConfig | None:
        return self.configs.get(org_id)

    def delete_config(self, org_id: str) -> bool:
        return self.configs.pop(org_id, None) is not None

    def put_state(self, login: LoginState) -> None:
        assert login.state not in self.states  # the adapter's attribute_not_exists(PK)
        self.states[login.state] = login

    def take_state(self, state: str, now: int) -> LoginState | None:
        login = self.states.get(state)
        if login is None or login.expires_at <= now:  # the adapter's condition on expires_at_epoch
            return None
        return self.states.pop(state)


class FakeSsoSecrets:
    """SsoSecretsPort: the secrets SSM would hold."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}

    def put_client_secret(self, org_id: str, secret: str) -> None:
        self.secrets[org_id] = secret

    def get_client_secret(self, org_id: str) -> str | None:
        return self.secrets.get(org_id)

    def delete_client_secret(self, org_id: str) -> None:
        self.secrets.pop(org_id, None)


@dataclass
class FakeIssuer:
    """OidcPort: an issuer that accepts one code and vouches for `claims` (plus the nonce it was given
    with the code); `refuse` makes verification fail with that reason, `refuse_discovery` configuration."""
    issuer: str = "https://idp.example.com"
    claims: dict[str, Any] = field(default_factory=lambda: {"email": "alice@example.com", "email_verified": True,
                                                            "sub": "alice"})
    refuse: str | None = None
    refuse_discovery: str | None = None
    exchanges: list[dict[str, str]] = field(default_factory=list)

    def discover(self, issuer: str) -> ProviderMetadata:
        if self.refuse_discovery:
            raise InvalidSsoConfig(f"The issuer's OpenID configuration was refused: {self.refuse_discovery}")
        return ProviderMetadata(issuer=issuer, authorization_endpoint=f"{issuer}/authorize",
                                token_endpoint=f"{issuer}/token", jwks_uri=f"{issuer}/jwks",
                                token_auth_method="client_secret_basic")

    def exchange_code(self, provider: ProviderMetadata, client_id: str, client_secret: str, code: str,
                      code_verifier: str, redirect_uri: str) -> str:
        self.exchanges.append({"client_id": client_id, "client_secret": client_secret, "code": code,
                               "code_verifier": code_verifier, "redirect_uri": redirect_uri})
        return f"id-token-for-{code}"

    def verify_id_token(self, provider: ProviderMetadata, client_id: str, id_token: str, nonce: str
                        ) -> dict[str, Any]:
        if self.refuse:
            raise SsoLoginFailed(f"SSO login failed: {self.refuse}")
        return {**self.claims, "iss": provider.issuer, "aud": client_id, "nonce": nonce}
