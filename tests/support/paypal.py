"""PayPal as the tests play it: a certificate authority, PayPal's signing certificate, a
certificate host on 127.0.0.1 and deliveries signed the way PayPal signs them.

The authority is built here with cryptography's x509 builder (a root, and an intermediate
that the host serves with the leaf, as PayPal's host does), along with the certificates a
forger or a mistake would offer: one from another authority, an expired one, one that
names someone else. Keys and the host are made once per test process."""
from __future__ import annotations

import base64
import threading
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from chalicelib.domain.timestamps import format_iso
from tests.support.local_stack import free_port

WEBHOOK_ID = "1JE4291016473214C"
"""The dev webhook id `local/secrets.json` configures."""
OTHER_WEBHOOK_ID = "8PT597110X687430LKGECATA"
SIGNER = "messageverificationcerts.paypal.com"
VALID_FROM = datetime(2020, 1, 1, tzinfo=timezone.utc)
VALID_UNTIL = datetime(2099, 1, 1, tzinfo=timezone.utc)
EXPIRED_AT = datetime(2025, 1, 1, tzinfo=timezone.utc)

CERTIFICATES = ("valid", "expired", "other-ca", "not-paypal", "self-signed")
"""Certificate chains the host serves, by the last segment of their URL."""


@cache
def _key(name: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: x509.Name, key: rsa.RSAPrivateKey, issuer: x509.Name, issuer_key: rsa.RSAPrivateKey,
                 *, authority: bool, dns_name: str | None = None,
                 until: datetime = VALID_UNTIL) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(VALID_FROM).not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=authority, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_encipherment=not authority, key_cert_sign=authority, crl_sign=authority,
            content_commitment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
    )
    if dns_name is not None:
        builder = (builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                         ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


@dataclass(frozen=True)
class TestAuthority:
    """The roots the service is configured with (`ca_pem`) and the chains the host serves."""

    ca_pem: str
    chains: dict[str, bytes]


@cache
def authority() -> TestAuthority:
    root_name, intermediate_name = _name("Test Root CA", "Test CA"), _name("Test TLS CA", "Test CA")
    root = _certificate(root_name, _key("root"), root_name, _key("root"), authority=True)
    intermediate = _certificate(intermediate_name, _key("intermediate"), root_name, _key("root"), authority=True)
    paypal, other_name = _name(SIGNER, "PayPal, Inc."), _name("Other Root CA", "Other CA")

    def leaf(issuer: x509.Name, issuer_key: str, until: datetime = VALID_UNTIL,
             subject: x509.Name = paypal, dns_name: str = SIGNER) -> x509.Certificate:
        return _certificate(subject, _key("signer"), issuer, _key(issuer_key), authority=False,
                            dns_name=dns_name, until=until)

    return TestAuthority(ca_pem=_pem(root).decode(), chains={
        "valid": _pem(leaf(intermediate_name, "intermediate"), intermediate),
        "expired": _pem(leaf(intermediate_name, "intermediate", until=EXPIRED_AT), intermediate),
        "other-ca": _pem(leaf(other_name, "other")),
        "not-paypal": _pem(leaf(intermediate_name, "intermediate", subject=_name("certs.example.com", "Someone"),
                                dns_name="certs.example.com"), intermediate),
        "self-signed": _pem(leaf(paypal, "signer")),
    })


# --- the certificate host ----------------------------------------------------------------

class CertificateHost(ThreadingHTTPServer):
    """Serves `CERT-<name>` (any query string aside) as the chain of that name in
    `CERTIFICATES`; `CERT-status-<code>` answers that status (a 3xx redirecting to the valid
    chain); `CERT-slow` serves the valid chain after 2 s; `CERT-flaky` answers 503 the first
    time each URL is asked for, then the valid chain; anything else is 404. `requests` lists
    the paths asked for, in order."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[str] = []

    @property
    def prefix(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/notifications/certs/"

    def url(self, certificate: str = "valid") -> str:
        return self.prefix + f"CERT-{certificate}"


class _Handler(BaseHTTPRequestHandler):
    server: CertificateHost

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.requests.append(self.path)
        name = self.path.split("?", 1)[0].rsplit("/CERT-", 1)[-1]
        if name == "slow":
            time.sleep(2)
            name = "valid"
        if name == "flaky":
            name = "status-503" if self.server.requests.count(self.path) == 1 else "valid"
        body, status, headers = authority().chains.get(name), 200, {"Content-Type": "application/x-pem-file"}
        if name.startswith("status-"):
            body, status = b"unavailable", int(name.removeprefix("status-"))
            headers = {"Content-Type": "text/plain", "Location": self.server.url("valid")}
        if body is None:
            body, status = b"no such certificate", 404
        self.send_response(status)
        for header, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(header, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (the slow certificate)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@cache
def certificate_host() -> CertificateHost:
    """Started on first use, in a daemon thread of the test process (it ends with it)."""
    server = CertificateHost()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def unreachable_prefix() -> str:
    """A prefix on a port nothing listens on (connection refused)."""
    return f"http://127.0.0.1:{free_port()}/v1/notifications/certs/"


def paypal_secrets(**overrides: object) -> dict[str, object]:
    """The `paypal` section that trusts the test authority and its host."""
    return {"webhook_ids": [WEBHOOK_ID], "cert_url_prefixes": [certificate_host().prefix],
            "ca_pem": authority().ca_pem, **overrides}


# --- deliveries ----------------------------------------------------------------------------

def paypal_headers(body: bytes, at: int | None = None, *, webhook_id: str = WEBHOOK_ID,
                   cert_url: str | None = None, key: str = "signer",
                   transmission_id: str | None = None) -> dict[str, str]:
    """The headers PayPal sends with `body`: its signature over
    `transmission id|transmission time|webhook id|CRC32(body)` at unix time `at`."""
    sent = datetime.fromtimestamp(int(time.time()) if at is None else at, tz=timezone.utc)
    transmission_id = transmission_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{zlib.crc32(body)}-{at}"))
    transmission_time = format_iso(sent)
    message = f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}".encode()
    signature = _key(key).sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "Content-Type": "application/json",
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": transmission_time,
        "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
        "PAYPAL-CERT-URL": cert_url or certificate_host().url(),
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    }

