"""Every DynamoDB key layout of the single table, in one place.

PK/SK carry a type prefix; GSI1 answers "the organizations of a user". Versions are stored under
their semver sort key so a Query returns them in precedence order.
"""
from __future__ import annotations

Key = dict[str, str]


def user_key(user_id: str) -> Key:
    return {"PK": f"USER#{user_id}", "SK": "PROFILE"}


def email_key(email: str) -> Key:
    return {"PK": f"EMAIL#{email}", "SK": "EMAIL"}


def revoked_token_key(token_id: str) -> Key:
    return {"PK": f"TOKEN#{token_id}", "SK": "REVOKED"}


def org_key(org_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": "META"}


def slug_key(slug: str) -> Key:
    return {"PK": f"SLUG#{slug}", "SK": "SLUG"}


def member_key(org_id: str, user_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": f"MEMBER#{user_id}"}


def member_index_key(org_id: str, user_id: str) -> Key:
    return {"GSI1PK": f"USER#{user_id}", "GSI1SK": f"ORG#{org_id}"}


def members_prefix() -> str:
    return "MEMBER#"


def modules_partition(org_id: str) -> str:
    return f"ORG#{org_id}"


def module_key(org_id: str, name: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": f"MOD#{name}"}


def modules_prefix() -> str:
    return "MOD#"


def search_word_partition(org_id: str, word: str) -> str:
    """Modules whose description holds `word`: one small item each, sorted by module name."""
    return f"ORG#{org_id}#WORD#{word}"


def search_word_key(org_id: str, word: str, module: str) -> Key:
    return {"PK": search_word_partition(org_id, word), "SK": f"MOD#{module}"}


def versions_partition(org_id: str, module: str) -> str:
    return f"ORG#{org_id}#MOD#{module}"


def version_key(org_id: str, module: str, sort_key: str) -> Key:
    return {"PK": versions_partition(org_id, module), "SK": f"VER#{sort_key}"}


def versions_prefix() -> str:
    return "VER#"


def stats_key() -> Key:
    """The registry's totals: written only by the stream consumer (one update per batch), never in a request."""
    return {"PK": "STATS", "SK": "GLOBAL"}


SHARED_PARTITION_PREFIXES = ("STATS",)  # partitions every tenant's writes would touch: never in a transaction
# Items every user's writes would touch: the shared default organization's counters (its module and
# version totals come from the table's stream; its quotas are counted per user).
SHARED_ITEMS = (("ORG#default", "META"),)


def outbox_key(message_id: str) -> Key:
    """One partition per outbox message: written in its write's transaction, deleted once forwarded."""
    return {"PK": f"OUTBOX#{message_id}", "SK": "OUTBOX"}


def health_key() -> Key:
    return {"PK": "HEALTH", "SK": "PROBE"}


def dependents_partition(org_id: str, module: str) -> str:
    return f"ORG#{org_id}#DEPENDENTS#{module}"


def dependent_key(org_id: str, dependency: str, dependent: str, dependent_sort_key: str) -> Key:
    """One item per (dependency module, dependent version): who depends on a module is one Query."""
    return {"PK": dependents_partition(org_id, dependency), "SK": f"DEP#{dependent}#{dependent_sort_key}"}


def webhook_key(org_id: str, webhook_id: str) -> Key:
    """Webhooks live in their organization's partition: the fan-out's Query reads them all."""
    return {"PK": f"ORG#{org_id}", "SK": f"WEBHOOK#{webhook_id}"}


def webhooks_prefix() -> str:
    return "WEBHOOK#"


def deliveries_partition(org_id: str, webhook_id: str) -> str:
    return f"ORG#{org_id}#WEBHOOK#{webhook_id}"


def delivery_key(org_id: str, webhook_id: str, delivery_id: str) -> Key:
    """Delivery ids sort by time: a descending Query is the history, most recent first (items carry a TTL)."""
    return {"PK": deliveries_partition(org_id, webhook_id), "SK": f"DELIVERY#{delivery_id}"}


def deliveries_prefix() -> str:
    return "DELIVERY#"


def upload_key(upload_id: str) -> Key:
    """An upload grant: who may publish the archive posted under it, until when, and whether it was used."""
    return {"PK": f"UPLOAD#{upload_id}", "SK": "UPLOAD"}


# S3 object keys added with packs and uploads (the older ones, blobs/, manifests/, descriptors/ and
# artifacts/, are in blobs.py and never change meaning).

def pack_object_key(sha256: str) -> str:
    """One version's file bytes, concatenated in manifest order, content-addressed."""
    return f"packs/sha256/{sha256[:2]}/{sha256}.pack"


def upload_object_key(org_id: str, module: str, user_id: str, upload_id: str) -> str:
    """Where a presigned POST puts an archive: bound to the organization, module and caller of its grant."""
    return f"uploads/{org_id}/{module}/{user_id}/{upload_id}"


# Tenancy: rate and throttle counters, API tokens, SSO, quotas, module collaborators.

def counter_key(scope: str, window_start: int) -> Key:
    """One atomic counter per scope (`org#<id>`, `user#<id>`, `ip#<address>`, `login-email#<email>`,
    `login-ip#<address>`) and window: each scope its own partition, so one busy organization is never
    a hot partition for the others. Items carry a TTL (`expires_at_epoch`)."""
    return {"PK": f"COUNTER#{scope}#{window_start}", "SK": "COUNTER"}


def api_token_key(token_hash: str) -> Key:
    """An API token, found by the sha256 of its secret (the secret itself is never stored)."""
    return {"PK": f"APITOKEN#{token_hash}", "SK": "APITOKEN"}


def user_api_token_key(user_id: str, token_id: str) -> Key:
    """A user's list of their API tokens (name, scopes, last use; the hash to revoke it by)."""
    return {"PK": f"USER#{user_id}", "SK": f"APITOKEN#{token_id}"}


def user_api_tokens_prefix() -> str:
    return "APITOKEN#"


def sso_config_key(org_id: str) -> Key:
    """An organization's OpenID Connect settings (the client secret lives in SSM, named here)."""
    return {"PK": f"ORG#{org_id}", "SK": "SSO"}


def sso_state_key(state: str) -> Key:
    """A login in progress: its nonce and PKCE verifier until the callback (TTL)."""
    return {"PK": f"SSOSTATE#{state}", "SK": "SSOSTATE"}


def sso_secret_parameter(stage: str, org_id: str) -> str:
    """The SSM SecureString holding an organization's OIDC client secret."""
    return f"/spoke/{stage}/sso/{org_id}/client-secret"


def daily_quota_key(org_id: str, quota: str, day: str) -> Key:
    """A per-day quota counter (compiles per day): one item per organization and UTC day (TTL)."""
    return {"PK": f"ORG#{org_id}#QUOTA#{quota}", "SK": f"DAY#{day}"}


def owner_modules_key(org_id: str, user_id: str) -> Key:
    """In the default organization, quotas count per user: the modules a user owns there."""
    return {"PK": f"ORG#{org_id}#OWNER#{user_id}", "SK": "COUNTS"}


def collaborator_key(org_id: str, module: str, user_id: str) -> Key:
    """Someone a default-organization module's owner lets publish and edit it."""
    return {"PK": f"ORG#{org_id}#MOD#{module}", "SK": f"COLLAB#{user_id}"}


def collaborators_prefix() -> str:
    return "COLLAB#"


def collaborator_count_key(org_id: str, module: str) -> Key:
    """How many collaborators a module has: the condition that bounds them lives here, in the module's
    collaborator partition, not on the module item its publishes update."""
    return {"PK": f"ORG#{org_id}#MOD#{module}", "SK": "COLLABCOUNT"}


def owner_daily_quota_key(org_id: str, user_id: str, quota: str, day: str) -> Key:
    """A per-day quota counter of one user in the default organization (its quotas count per user)."""
    return {"PK": f"ORG#{org_id}#OWNER#{user_id}#QUOTA#{quota}", "SK": f"DAY#{day}"}


def audit_partition(org_id: str) -> str:
    """An organization's audit trail: one partition, its sort keys in time order (newest first is a
    descending Query); items carry `expires_at_epoch`, the table's TTL attribute."""
    return f"AUDIT#{org_id}"


def audit_key(org_id: str, at_ms: str, request_id: str) -> Key:
    """`at_ms`: the mutation's time as ISO 8601 UTC with milliseconds, so sort keys sort by time."""
    return {"PK": audit_partition(org_id), "SK": f"{audit_prefix()}{at_ms}#{request_id}"}


def audit_prefix() -> str:
    return "AT#"



# Dependency closures: the closure ZIP is stored with the compiled ZIPs (artifacts/, content-addressed);
# this small object remembers which one a closure's inputs (language, every module's ZIP sha256) built.

def closure_pointer_key(inputs_sha256: str) -> str:
    return f"closures/sha256/{inputs_sha256}.json"
