"""One tree of domain errors. Each has a stable code; `api/errors.py` alone maps them to HTTP."""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "DOMAIN_ERROR"

    def __init__(
        self,
        message: str,
        details: dict[str, Any] | None = None,
        validation_errors: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.validation_errors = validation_errors or []


# 400: the request itself is wrong
class BadRequest(DomainError):
    code = "BAD_REQUEST"


class ValidationFailed(BadRequest):
    code = "VALIDATION_ERROR"


class InvalidJson(BadRequest):
    code = "INVALID_JSON"


class InvalidVersion(BadRequest):
    code = "INVALID_VERSION"


class InvalidPath(BadRequest):
    code = "INVALID_PATH"


class InvalidFile(BadRequest):
    code = "INVALID_FILE"


class NoFiles(BadRequest):
    code = "NO_FILES"


class DuplicatePath(BadRequest):
    code = "DUPLICATE_PATH"


class InvalidCursor(BadRequest):
    code = "INVALID_CURSOR"


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(DomainError):
    code = "UNSUPPORTED_MEDIA_TYPE"


# 401 / 403
class Unauthorized(DomainError):
    code = "UNAUTHORIZED"


class InvalidCredentials(Unauthorized):
    code = "INVALID_CREDENTIALS"


class Forbidden(DomainError):
    code = "FORBIDDEN"


# 404
class NotFound(DomainError):
    code = "NOT_FOUND"


class ModuleNotFound(NotFound):
    code = "MODULE_NOT_FOUND"


class VersionNotFound(NotFound):
    code = "VERSION_NOT_FOUND"


class FileNotFound(NotFound):
    code = "FILE_NOT_FOUND"


class OrganizationNotFound(NotFound):
    code = "ORGANIZATION_NOT_FOUND"


class UserNotFound(NotFound):
    code = "USER_NOT_FOUND"


class MemberNotFound(NotFound):
    code = "MEMBER_NOT_FOUND"


# 409: the state of the registry forbids it
class Conflict(DomainError):
    code = "CONFLICT"


class ModuleExists(Conflict):
    code = "MODULE_EXISTS"


class VersionExists(Conflict):
    code = "VERSION_EXISTS"


class EmailExists(Conflict):
    code = "EMAIL_EXISTS"


class OrganizationExists(Conflict):
    code = "ORGANIZATION_EXISTS"


class MemberExists(Conflict):
    code = "MEMBER_EXISTS"


# 422: well-formed, but a business rule says no
class BusinessRuleViolated(DomainError):
    code = "BUSINESS_RULE_VIOLATED"


class LastOwner(BusinessRuleViolated):
    code = "LAST_OWNER"


class QuotaExceeded(Forbidden):
    """A plan's quota (modules, versions per module, stored bytes, members, webhooks, compiles per day)
    would be exceeded: details carry `quota`, `usage` and `limit`."""
    code = "QUOTA_EXCEEDED"


# 429: too many requests; `retry_after` (seconds) becomes the Retry-After header
class TooManyRequests(DomainError):
    code = "TOO_MANY_REQUESTS"

    def __init__(self, message: str, retry_after: int, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details={**(details or {}), "retry_after_seconds": retry_after})
        self.retry_after = retry_after


class RateLimitExceeded(TooManyRequests):
    code = "RATE_LIMIT_EXCEEDED"


class TooManyLoginAttempts(TooManyRequests):
    code = "TOO_MANY_LOGIN_ATTEMPTS"


# Credentials for machines and companies
class WeakPassword(BadRequest):
    code = "WEAK_PASSWORD"


class TokenNotFound(NotFound):
    code = "TOKEN_NOT_FOUND"


class SsoNotConfigured(NotFound):
    code = "SSO_NOT_CONFIGURED"


class SsoLoginFailed(Unauthorized):
    """The identity provider's answer did not hold (state, code, ID token signature, iss, aud, exp,
    nonce, or an email outside the allowed domains)."""
    code = "SSO_LOGIN_FAILED"


class InvalidSsoConfig(BadRequest):
    code = "INVALID_SSO_CONFIG"


class CollaboratorNotFound(NotFound):
    code = "COLLABORATOR_NOT_FOUND"


# Protobuf judgement
class InvalidProto(BadRequest):
    code = "INVALID_PROTO"


class UnresolvedImport(BadRequest):
    code = "UNRESOLVED_IMPORT"


class DependencyNotFound(BadRequest):
    code = "DEPENDENCY_NOT_FOUND"


class DependencyConflict(BadRequest):
    code = "DEPENDENCY_CONFLICT"


class BreakingChange(Conflict):
    code = "BREAKING_CHANGE"


class CompilationFailed(BusinessRuleViolated):
    code = "COMPILATION_FAILED"


class UnknownLanguage(BadRequest):
    code = "UNKNOWN_LANGUAGE"


# Webhooks
class InvalidWebhookUrl(BadRequest):
    code = "INVALID_WEBHOOK_URL"


class UnknownEvent(BadRequest):
    code = "UNKNOWN_EVENT"


class WebhookNotFound(NotFound):
    code = "WEBHOOK_NOT_FOUND"


class DeliveryNotFound(NotFound):
    code = "DELIVERY_NOT_FOUND"


class WebhookInactive(Conflict):
    code = "WEBHOOK_INACTIVE"


class WebhookLimitReached(BusinessRuleViolated):
    code = "WEBHOOK_LIMIT_REACHED"


# Bounds on the work one request may cost
class CompileLimitExceeded(BusinessRuleViolated):
    """protoc went over its time or memory bound for one request: the sources are too big or too complex."""
    code = "COMPILE_LIMIT_EXCEEDED"


# Archives and upload grants (large modules go to S3 directly, then publish names the upload)
class InvalidArchive(BadRequest):
    """Not a .zip or .tar.gz, unreadable, encrypted, or an entry that is a link, a device or a bad name."""
    code = "INVALID_ARCHIVE"


class ArchiveTooLarge(PayloadTooLarge):
    """Too many entries, too many bytes once uncompressed, or a compression ratio of a decompression bomb."""
    code = "ARCHIVE_TOO_LARGE"


class UploadNotFound(NotFound):
    code = "UPLOAD_NOT_FOUND"


class UploadForbidden(Forbidden):
    """The upload was granted to another organization, module or user."""
    code = "UPLOAD_FORBIDDEN"


class UploadExpired(DomainError):
    """The grant's time ran out before the archive was published (410 Gone)."""
    code = "UPLOAD_EXPIRED"


class UploadNotReceived(Conflict):
    """The grant exists, but no archive has reached S3 under it (yet)."""
    code = "UPLOAD_NOT_RECEIVED"


class UploadAlreadyUsed(Conflict):
    """An upload publishes one version; another version needs a new upload."""
    code = "UPLOAD_ALREADY_USED"


# Module ownership in the default organization (collaborators)
class CollaboratorLimitReached(BusinessRuleViolated):
    """A module of the default organization has as many collaborators as it may have."""
    code = "COLLABORATOR_LIMIT_REACHED"


class CollaboratorsOnlyInDefault(BadRequest):
    """Collaborators exist only in the default organization: in a named one, roles govern writes."""
    code = "COLLABORATORS_ONLY_IN_DEFAULT"


class TokenLimitReached(BusinessRuleViolated):
    """A user holds as many API tokens as they may (expired ones count until deleted)."""
    code = "TOKEN_LIMIT_REACHED"


class MetricsAccessDenied(Forbidden):
    """The deployment restricts /metrics to its operators (a token or networks) and the caller is neither."""
    code = "METRICS_ACCESS_DENIED"


# Dependency closures (GET .../download/{language}?with_dependencies=true)
class ClosureTooLarge(PayloadTooLarge):
    """The closure's ZIPs together exceed SPOKE_CLOSURE_MAX_BYTES: each ZIP is still downloadable alone."""
    code = "CLOSURE_TOO_LARGE"


class ClosureConflict(Conflict):
    """Two modules of a closure generate the same file with different content: they cannot share one tree."""
    code = "CLOSURE_CONFLICT"


# Runtime-matched generation (?protoc=<release> on compile and download)
class UnknownProtocRelease(BadRequest):
    """A protoc release the layer does not carry: the message and details list the known ones."""
    code = "UNKNOWN_PROTOC_RELEASE"


# Lint at publish (a module policy's `compatibility.lint`)
class LintFailed(BadRequest):
    """The version fails lint rules its module's policy requires; details.findings lists them (buf's rule IDs)."""
    code = "LINT_FAILED"
