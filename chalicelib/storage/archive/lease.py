"""One archival run at a time, through an S3 conditional write.

Two runs at once could both write the next part of a partition under the same key and
replace transactions with pointers to bytes the other run then overwrote. A scheduled
event may be delivered twice and `make archive` may coincide with the local scheduler, so
a run first takes a lease: an object created with `If-None-Match: *`, or taken over with
`If-Match: <etag>` once it has expired. Its time to live is longer than any run (a run stops
itself well before the 15-minute Lambda limit), so a lease only expires when its holder died.

A conditional write whose answer is lost (a read timeout; the SDK's own retry then meets
the condition failing on the object its first attempt wrote) may still have taken the lease:
before giving up, the run reads the lease back, and if it names this run, it holds it.
Otherwise that lease would stand until it expired and hold back every rerun meanwhile."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from chalicelib.domain.timestamps import format_iso, parse_iso
from chalicelib.storage.errors import is_code, storage_errors

LEASE_KEY = "locks/archival.json"
LEASE_TTL = timedelta(minutes=20)
_LOST_RACE = ("PreconditionFailed", "ConditionalRequestConflict", "412", "409")


class ArchiveLease:
    def __init__(self, client: Any, bucket: str, key: str = LEASE_KEY) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key

    def acquire(self, holder: str, now: datetime, ttl: timedelta = LEASE_TTL) -> bool:
        body = json.dumps({"holder": holder, "expires_at": format_iso(now + ttl)}).encode()
        if self._put_or_ours(holder, body, IfNoneMatch="*"):
            return True
        current = self._current()
        if current is None:  # released meanwhile: try once more from scratch
            return self._put_or_ours(holder, body, IfNoneMatch="*")
        document, etag = current
        if document["holder"] == holder:
            return True
        if parse_iso(document["expires_at"]) > now:
            return False
        return self._put_or_ours(holder, body, IfMatch=etag)

    def holder(self) -> str | None:
        current = self._current()
        return current[0]["holder"] if current else None

    def release(self, holder: str) -> None:
        """Delete the lease if it is still ours (a run that outlived it must not delete the
        lease of the run that took over). A failure is StorageUnavailable."""
        with storage_errors():
            if self.holder() == holder:
                self._client.delete_object(Bucket=self._bucket, Key=self._key)

    def _put_or_ours(self, holder: str, body: bytes, **condition: str) -> bool:
        """`_put`; when its answer is lost, whether the lease it may have written is ours."""
        try:
            return self._put(body, **condition)
        except (ReadTimeoutError, ConnectionClosedError):
            current = self._current()
            if current is not None and current[0]["holder"] == holder:
                return True
            raise

    def _put(self, body: bytes, **condition: str) -> bool:
        try:
            self._client.put_object(Bucket=self._bucket, Key=self._key, Body=body,
                                    ContentType="application/json", **condition)
        except ClientError as exc:
            if is_code(exc, *_LOST_RACE):
                return False
            raise
        return True

    def _current(self) -> tuple[dict[str, Any], str] | None:
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=self._key)
        except ClientError as exc:
            if is_code(exc, "NoSuchKey", "404"):
                return None
            raise
        return json.loads(response["Body"].read()), response["ETag"]
