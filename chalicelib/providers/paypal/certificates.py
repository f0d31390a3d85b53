"""PayPal's signing certificates: fetched from `PAYPAL-CERT-URL`, trusted only by their chain.

The URL comes from the request, so anyone can send one; two rules make that safe:
- it must start with a configured prefix (by default PayPal's API hosts over https), so
  a request cannot make the service fetch from a host of the sender's choosing (its own,
  or an address inside AWS such as the instance metadata endpoint);
- what is fetched is trusted only if it chains to the configured root CAs, is within its
  validity at the request's time and names PayPal's signing service. A certificate
  anyone can make (self-signed, or from another CA) verifies nothing.

Certificates are kept per URL for the life of the process (PayPal names a new URL when it
rotates its certificate); only a successful fetch is kept, and only a bounded number of
URLs. The chain is checked on every request, against that request's time, so a kept
certificate that expires stops verifying.

`cryptography` is imported here on first use only: the other routes never pay for it."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.errors import CertificateUnavailable, SignatureError

if TYPE_CHECKING:
    from cryptography.x509 import Certificate
    from cryptography.x509.verification import Store

SHIPPED_CA_BUNDLE = Path(__file__).with_name("digicert-roots.pem")
SIGNER_NAMES = ("messageverificationcerts.paypal.com", "messageverificationcerts.sandbox.paypal.com")
"""What PayPal's signing certificates name (live and sandbox), as PayPal's own SDKs check."""

MAX_CERTIFICATE_BYTES = 64 * 1024  # a PEM chain is a few KB
FETCH_TIMEOUT_SECONDS = 3.0
MAX_KEPT_URLS = 16
_MAX_URL_LENGTH = 500  # PayPal's own limit for cert_url
HEADER = "PAYPAL-CERT-URL"


def check_url(url: str, prefixes: Sequence[str]) -> None:
    """`SignatureError` unless `url` starts with one of `prefixes` and is a plain URL
    (no spaces or control characters, no `..` segment, no backslash)."""
    if not url:
        raise SignatureError(f"missing {HEADER} header")
    plain = (len(url) <= _MAX_URL_LENGTH and url.isascii() and url.isprintable() and " " not in url
             and "\\" not in url and "/../" not in url and not url.endswith("/.."))
    if not plain or not any(url.startswith(prefix) for prefix in prefixes):
        raise SignatureError(f"{HEADER} is not under a configured PayPal certificate URL prefix")


class CertificateSource:
    """Certificate chains by URL, fetched once each (see the module docstring)."""

    def __init__(self, timeout_seconds: float = FETCH_TIMEOUT_SECONDS, max_kept: int = MAX_KEPT_URLS) -> None:
        self._timeout = timeout_seconds
        self._max_kept = max_kept
        self._kept: dict[str, list[Certificate]] = {}

    def chain(self, url: str) -> list[Certificate]:
        """The certificates at `url`, leaf first. `CertificateUnavailable` (503) when the
        host could not be reached or failed; `SignatureError` when it answered with
        something that is not a certificate chain."""
        chain = self._kept.get(url)
        if chain is None:
            chain = _load_chain(fetch_over_http(url, self._timeout))
            if len(self._kept) >= self._max_kept:
                self._kept.pop(next(iter(self._kept)))
            self._kept[url] = chain
        return chain


def signer_key(chain: Sequence[Certificate], ca_pem: str, now: datetime) -> Any:
    """The RSA public key of `chain`'s leaf, once the chain is proven: it chains to a root
    of `ca_pem` (the shipped bundle when empty) through the certificates sent with it,
    every certificate is valid at `now`, and the leaf names PayPal's signing service
    (cryptography's path building, with the checks of a TLS server certificate)."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.x509.verification import DNSName, PolicyBuilder, VerificationError

    leaf, intermediates = chain[0], list(chain[1:])
    policy = PolicyBuilder().store(trust_store(ca_pem)).time(now)
    for name in SIGNER_NAMES:
        try:
            policy.build_server_verifier(DNSName(name)).verify(leaf, intermediates)
            break
        except VerificationError:
            continue
    else:
        raise SignatureError(f"the {HEADER} certificate {_refusal(chain, now)}")
    key = leaf.public_key()
    if not isinstance(key, RSAPublicKey):
        raise SignatureError(f"the {HEADER} certificate does not hold an RSA key")
    return key


def _refusal(chain: Sequence[Certificate], now: datetime) -> str:
    """Why a chain failed, as far as the operator needs to know."""
    from cryptography.x509 import DNSName, ExtensionNotFound, SubjectAlternativeName

    if any(not c.not_valid_before_utc <= now <= c.not_valid_after_utc for c in chain):
        return "has expired or is not valid yet"
    try:
        names = chain[0].extensions.get_extension_for_class(SubjectAlternativeName).value.get_values_for_type(DNSName)
    except ExtensionNotFound:
        names = []
    if not set(names) & set(SIGNER_NAMES):
        return "does not name PayPal's signing service"
    return "does not chain to the configured PayPal CA bundle"


def verify_rsa_sha256(key: Any, signature: bytes, message: bytes) -> bool:
    """Whether `signature` is `key`'s PKCS#1 v1.5 RSA-SHA256 signature of `message`."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.hashes import SHA256

    try:
        key.verify(signature, message, PKCS1v15(), SHA256())
    except InvalidSignature:
        return False
    return True


@lru_cache(maxsize=4)  # the document is re-read every minute; its bundle rarely changes
def trust_store(ca_pem: str) -> Store:
    from cryptography.x509 import load_pem_x509_certificates
    from cryptography.x509.verification import Store

    text = ca_pem.encode() if ca_pem else SHIPPED_CA_BUNDLE.read_bytes()
    try:
        return Store(load_pem_x509_certificates(text))
    except ValueError:
        raise SignatureError("the configured PayPal CA bundle (paypal.ca_pem) holds no valid certificate") from None


def _load_chain(body: bytes) -> list[Certificate]:
    from cryptography.x509 import load_pem_x509_certificates

    try:
        return load_pem_x509_certificates(body)
    except ValueError:
        raise SignatureError(f"{HEADER} does not hold a PEM certificate chain") from None


def fetch_over_http(url: str, timeout_seconds: float = FETCH_TIMEOUT_SECONDS) -> bytes:
    """GET `url` with a short timeout, no redirects (the prefix check is on this URL) and
    a size cap. A 3xx or 4xx answer means the URL names no certificate (`SignatureError`);
    a timeout, a network error, a 5xx, 408 or 429 is the host failing for now
    (`CertificateUnavailable`, so PayPal retries)."""
    import http.client
    import urllib.error
    import urllib.request

    refuse_redirects = urllib.request.HTTPRedirectHandler()
    refuse_redirects.redirect_request = lambda *args, **kwargs: None  # type: ignore[method-assign]
    opener = urllib.request.build_opener(refuse_redirects)  # replaces the default handler
    request = urllib.request.Request(url, headers={"Accept": "application/x-pem-file, */*"})
    try:
        with opener.open(request, timeout=timeout_seconds) as response:
            body = response.read(MAX_CERTIFICATE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 500 and exc.code not in (408, 429):
            raise SignatureError(f"{HEADER} names no certificate (HTTP {exc.code})") from None
        raise CertificateUnavailable(f"PayPal's certificate host answered HTTP {exc.code}; retry later") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:  # timeouts, resets, bad URLs
        raise CertificateUnavailable(
            f"PayPal's certificate could not be fetched ({type(exc).__name__}); retry later"
        ) from None
    if len(body) > MAX_CERTIFICATE_BYTES:
        raise SignatureError(f"{HEADER} holds more than {MAX_CERTIFICATE_BYTES} bytes")
    return body
