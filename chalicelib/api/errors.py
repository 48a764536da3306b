"""The one place that maps domain errors to HTTP status codes."""
from __future__ import annotations

from chalicelib.domain import errors

_STATUS_BY_ERROR: tuple[tuple[type[errors.DomainError], int], ...] = (
    (errors.PayloadTooLarge, 413),
    (errors.UnsupportedMediaType, 415),
    (errors.BadRequest, 400),
    (errors.Unauthorized, 401),
    (errors.Forbidden, 403),  # QuotaExceeded included: a quota is not lifted by waiting
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.UploadExpired, 410),
    (errors.BusinessRuleViolated, 422),
    (errors.TooManyRequests, 429),
)


def status_for(error: errors.DomainError) -> int:
    return status_for_type(type(error))


def status_for_type(error_type: type[errors.DomainError]) -> int:
    """The status of a kind of error (the OpenAPI document lists each route's by class)."""
    for mapped, status in _STATUS_BY_ERROR:
        if issubclass(error_type, mapped):
            return status
    return 400
