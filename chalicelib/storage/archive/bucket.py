"""The archive bucket: the only code that knows its key layout (docs/api.md section 4).

`transactions/provider=<provider>/dt=<YYYY-MM-DD>/part-<nnnnn>.jsonl.gz` and, beside the
parts, `_manifest.json`. Every object is uploaded with an S3 SHA-256 checksum (S3 refuses
bytes that do not match it) and every part is then read back and hashed before anything
relies on it."""
from __future__ import annotations

import base64
import hashlib
from datetime import date
from typing import Any

from botocore.exceptions import ClientError, FlexibleChecksumError

from chalicelib.domain.archive import Manifest
from chalicelib.storage.archive.parts import SealedPart
from chalicelib.storage.errors import is_code

MAX_PARTS = 100_000  # part-<nnnnn>
REPLACED_METADATA = "replaced-parts"
_CHUNK = 1024 * 1024


class ArchiveIntegrityError(RuntimeError):
    """A stored object is not the bytes that were written (or that the manifest names)."""


class ArchiveBucket:
    def __init__(self, client: Any, bucket: str) -> None:
        if not bucket:
            raise ValueError("ARCHIVE_BUCKET is not set")
        self._client = client
        self.name = bucket

    @staticmethod
    def prefix(provider: str, day: date) -> str:
        return f"transactions/provider={provider}/dt={day.isoformat()}/"

    def part_key(self, provider: str, day: date, number: int) -> str:
        if not 0 <= number < MAX_PARTS:
            raise ValueError(f"part number {number} is out of range")
        return f"{self.prefix(provider, day)}part-{number:05d}.jsonl.gz"

    def manifest_key(self, provider: str, day: date) -> str:
        return f"{self.prefix(provider, day)}_manifest.json"

    def object_url(self, key: str) -> str:
        return f"s3://{self.name}/{key}"

    def put_part(self, key: str, part: SealedPart) -> None:
        self._put(key, part.body, "application/gzip")

    def verify_part(self, key: str, part: SealedPart) -> None:
        """Read the stored object back and hash it: proof that these exact bytes are stored."""
        self.read_part(key, part.sha256)

    def read_part(self, key: str, sha256_hex: str) -> bytes:
        """The stored bytes, if they hash to `sha256_hex` (botocore also checks them
        against the object's stored checksum while reading)."""
        body = self._client.get_object(Bucket=self.name, Key=key, ChecksumMode="ENABLED")["Body"]
        digest, chunks = hashlib.sha256(), []
        try:
            for chunk in iter(lambda: body.read(_CHUNK), b""):
                digest.update(chunk)
                chunks.append(chunk)
        except FlexibleChecksumError as exc:
            raise ArchiveIntegrityError(f"{key} does not match its stored checksum") from exc
        if digest.hexdigest() != sha256_hex:
            raise ArchiveIntegrityError(f"{key} does not hash to {sha256_hex}")
        return b"".join(chunks)

    def manifest(self, provider: str, day: date) -> Manifest | None:
        try:
            response = self._client.get_object(Bucket=self.name, Key=self.manifest_key(provider, day))
        except ClientError as exc:
            if is_code(exc, "NoSuchKey", "404"):
                return None
            raise
        replaced = response.get("Metadata", {}).get(REPLACED_METADATA)
        manifest = Manifest.from_json(response["Body"].read(), int(replaced) if replaced else None)
        if (manifest.provider, manifest.day) != (provider, day):
            raise ArchiveIntegrityError(f"the manifest of {provider} {day} names another partition")
        return manifest

    def put_manifest(self, manifest: Manifest) -> None:
        self._put(self.manifest_key(manifest.provider, manifest.day), manifest.to_json(),
                  "application/json", {REPLACED_METADATA: str(manifest.replaced)})

    def delete_uncommitted(self, manifest: Manifest) -> list[str]:
        """Remove part objects the manifest does not list: leftovers of a run that died
        between an upload and its commit. Their transactions are still live, so they will
        be written again; keeping the leftovers would hold them twice."""
        committed = {part.key for part in manifest.parts}
        prefix = self.prefix(manifest.provider, manifest.day)
        stray = [
            obj["Key"]
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix)
            for obj in page.get("Contents", [])
            if obj["Key"].endswith(".jsonl.gz") and obj["Key"] not in committed
        ]
        for start in range(0, len(stray), 1000):
            response = self._client.delete_objects(Bucket=self.name, Delete={
                "Objects": [{"Key": key} for key in stray[start:start + 1000]], "Quiet": True})
            refused = response.get("Errors", [])
            if refused:
                # A leftover that stays would hold its transactions twice once they are
                # written again: stop this run rather than archive on top of it.
                raise ArchiveIntegrityError(
                    f"could not delete {len(refused)} uncommitted part(s) under {prefix}: "
                    f"{refused[0].get('Code', 'unknown')}")
        return stray

    def _put(self, key: str, body: bytes, content_type: str,
             metadata: dict[str, str] | None = None) -> None:
        checksum = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
        self._client.put_object(
            Bucket=self.name, Key=key, Body=body, ContentType=content_type,
            ChecksumAlgorithm="SHA256", ChecksumSHA256=checksum, Metadata=metadata or {},
        )
