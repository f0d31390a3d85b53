"""The archive bucket's `reconciliation/` prefix: exports waiting, their reports, and
exports done (docs/api.md section 10).

    reconciliation/incoming/<name>     placed by an operator or the legacy system
    reconciliation/reports/<name>.json the report, written once per export
    reconciliation/processed/<name>    the export, moved here once its report is written
    reconciliation/rejected/<name>     an export that could not be read (malformed)

A report's counts, the time it was written and the ETag of the export it describes are also
its object metadata, so the listing (`GET /admin/reconciliations`) and a rerun after a crash
read them with a HEAD instead of downloading reports that may be large."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.timestamps import format_iso, parse_iso
from chalicelib.storage.errors import is_code, storage_errors

PREFIX = "reconciliation/"
INCOMING, REPORTS, PROCESSED, REJECTED = (PREFIX + part for part in ("incoming/", "reports/", "processed/", "rejected/"))
COUNTS = ("checked", "matched", "missing", "mismatched", "extra")


@dataclass(frozen=True)
class ExportObject:
    name: str
    """The key under `reconciliation/incoming/`: the export's name in reports and alerts."""
    key: str
    etag: str
    size: int


@dataclass(frozen=True)
class ReportSummary:
    name: str
    at: datetime
    counts: dict[str, int]
    export_etag: str

    @property
    def differs(self) -> bool:
        return any(self.counts[name] for name in ("missing", "mismatched", "extra"))

    def as_item(self) -> dict[str, Any]:
        return {"name": self.name, "at": format_iso(self.at), **self.counts}


class ReconciliationBucket:
    def __init__(self, client: Any, bucket: str) -> None:
        if not bucket:
            raise ValueError("ARCHIVE_BUCKET is not set")
        self._client = client
        self._bucket = bucket

    def incoming(self) -> Iterator[ExportObject]:
        """Exports waiting, in key order."""
        for entry in self._list(INCOMING):
            if entry["Key"].endswith("/"):
                continue  # a "folder" placeholder made by the console
            yield ExportObject(entry["Key"][len(INCOMING):], entry["Key"], entry["ETag"], entry["Size"])

    def lines(self, export: ExportObject) -> Iterator[bytes]:
        """The export's lines, streamed (never the whole object in memory)."""
        with storage_errors():
            body = self._client.get_object(Bucket=self._bucket, Key=export.key, IfMatch=export.etag)["Body"]
        try:
            yield from body.iter_lines(chunk_size=256 * 1024)
        finally:
            body.close()

    def report(self, name: str) -> ReportSummary | None:
        with storage_errors():
            try:
                head = self._client.head_object(Bucket=self._bucket, Key=self._report_key(name))
            except ClientError as exc:
                if is_code(exc, "404", "NoSuchKey", "NotFound"):
                    return None  # the usual case: not reconciled yet
                raise
        return _summary(name, head["Metadata"])

    def put_report(self, name: str, export: ExportObject, report: dict[str, Any], counts: dict[str, int],
                   at: datetime) -> ReportSummary:
        summary = ReportSummary(name, at, dict(counts), export.etag)
        metadata = {**{key: str(value) for key, value in counts.items()}, "at": format_iso(at),
                    "export-etag": export.etag.strip('"')}
        with storage_errors():
            self._client.put_object(
                Bucket=self._bucket, Key=self._report_key(name), Body=json.dumps(report).encode(),
                ContentType="application/json", Metadata=metadata)
        return summary

    def move(self, export: ExportObject, to: str) -> None:
        """Copy the export under `processed/` or `rejected/` (`to`), then delete it from
        `incoming/`; a rerun after a crash between the two copies it again, harmlessly."""
        destination = {"processed": PROCESSED, "rejected": REJECTED}[to] + export.name
        with storage_errors():
            self._client.copy_object(Bucket=self._bucket, Key=destination,
                                     CopySource={"Bucket": self._bucket, "Key": export.key})
            self._client.delete_object(Bucket=self._bucket, Key=export.key)

    def latest_reports(self, limit: int) -> list[ReportSummary]:
        """The newest `limit` reports by the time they were written."""
        entries = sorted(self._list(REPORTS), key=lambda e: (e["LastModified"], e["Key"]), reverse=True)
        summaries = []
        for entry in entries[:limit]:
            name = entry["Key"][len(REPORTS):].removesuffix(".json")
            with storage_errors():
                head = self._client.head_object(Bucket=self._bucket, Key=entry["Key"])
            summaries.append(_summary(name, head["Metadata"]))
        return sorted(summaries, key=lambda s: s.at, reverse=True)

    def _list(self, prefix: str) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {"Bucket": self._bucket, "Prefix": prefix}
        while True:
            with storage_errors():
                response = self._client.list_objects_v2(**request)
            yield from response.get("Contents", [])
            if not response.get("IsTruncated"):
                return
            request["ContinuationToken"] = response["NextContinuationToken"]

    @staticmethod
    def _report_key(name: str) -> str:
        return f"{REPORTS}{name}.json"


def _summary(name: str, metadata: dict[str, str]) -> ReportSummary:
    return ReportSummary(name, parse_iso(metadata["at"]), {key: int(metadata[key]) for key in COUNTS},
                         f'"{metadata["export-etag"]}"')
