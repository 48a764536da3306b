"""spoke_client: a Python client for the Spoke protobuf registry (httpx + the standard library only).

    from spoke_client import SpokeClient
    with SpokeClient.from_env() as spoke:
        for module in spoke.iter_modules():
            print(module.name)
"""
from spoke_client.client import LATEST, UPLOAD_THRESHOLD_BYTES, SpokeClient
from spoke_client.errors import (
                                 BadRequest,
                                 Conflict,
                                 DownloadTimeout,
                                 Forbidden,
                                 IntegrityError,
                                 NotFound,
                                 QuotaExceeded,
                                 RateLimited,
                                 ServerError,
                                 SpokeConnectionError,
                                 SpokeError,
                                 Unauthorized,
                                 VersionExists,
)
from spoke_client.models import (
                                 ApiToken,
                                 Artifact,
                                 CompatibilityReport,
                                 FileEntry,
                                 Me,
                                 Module,
                                 Organization,
                                 Page,
                                 RateLimit,
                                 Session,
                                 UploadGrant,
                                 User,
                                 ValidationReport,
                                 Version,
)
from spoke_client.retry import RetryPolicy, parse_retry_after

__all__ = [
    "LATEST", "UPLOAD_THRESHOLD_BYTES", "SpokeClient", "RetryPolicy", "parse_retry_after",
    "SpokeError", "BadRequest", "Unauthorized", "Forbidden", "QuotaExceeded", "NotFound", "Conflict",
    "VersionExists", "RateLimited", "ServerError", "SpokeConnectionError", "IntegrityError", "DownloadTimeout",
    "ApiToken", "Artifact", "CompatibilityReport", "FileEntry", "Me", "Module", "Organization", "Page", "RateLimit",
    "Session", "UploadGrant", "User", "ValidationReport", "Version",
]
