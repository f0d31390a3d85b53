"""Domain exceptions, each carrying the contract's stable error code and HTTP status.

Raised anywhere below `app.py`; turned into `{"error", "message"}` responses in exactly one
place (`chalicelib/api/responses.py`). Messages are written for the caller and never include a
secret, a signature or card data."""
from __future__ import annotations


class ServiceError(Exception):
    code = "internal_error"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SignatureError(ServiceError):
    code, status = "invalid_signature", 401


class InvalidPayload(ServiceError):
    code, status = "invalid_payload", 400


class InvalidRequest(ServiceError):
    code, status = "invalid_request", 400


class UnknownProvider(ServiceError):
    code, status = "unknown_provider", 404


class NotFound(ServiceError):
    code, status = "not_found", 404


class PayloadTooLarge(ServiceError):
    code, status = "payload_too_large", 413


class StorageUnavailable(ServiceError):
    """Storage failed or is unreachable: answer 503 so the provider retries."""

    code, status = "unavailable", 503


class CertificateUnavailable(ServiceError):
    """The provider's signing certificate could not be fetched (PayPal's certificate host
    timed out or failed): nothing was verified, so nothing is stored, and 503 makes the
    provider retry, as for storage."""

    code, status = "unavailable", 503
