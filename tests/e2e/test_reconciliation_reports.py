"""GET /admin/reconciliations: the nightly job's latest reports, newest first, as counts."""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib import wiring
from chalicelib.services.reconcile.scheduled import ScheduledValidation
from tests.support.reconciliation import as_csv, deliver, record


def test_the_latest_reports_are_listed_newest_first_with_their_counts(client) -> None:
    deliver(wiring, "g-1")
    s3, bucket = wiring.aws_client("s3"), wiring.get_settings().archive_bucket
    s3.put_object(Bucket=bucket, Key="reconciliation/incoming/2026-11-20.csv", Body=as_csv([record("g-1")]))
    s3.put_object(Bucket=bucket, Key="reconciliation/incoming/2026-11-21.csv",
                  Body=as_csv([record("g-1", amount=1), record("g-2")]))
    times = iter([datetime(2026, 11, 21, 3, tzinfo=timezone.utc), datetime(2026, 11, 22, 3, tzinfo=timezone.utc)])
    job = ScheduledValidation(wiring.reconciliation_service(), wiring.reconciliation_exports(),
                              wiring.alert_raiser(), clock=lambda: next(times))  # one report a night
    assert job.run(lambda: 900_000).complete

    listed = client.http.get("/admin/reconciliations")
    assert listed.status_code == 200
    assert listed.json_body == {"items": [
        {"name": "2026-11-21.csv", "at": "2026-11-22T03:00:00Z", "checked": 2, "matched": 0, "missing": 1,
         "mismatched": 1, "extra": 0},
        {"name": "2026-11-20.csv", "at": "2026-11-21T03:00:00Z", "checked": 1, "matched": 1, "missing": 0,
         "mismatched": 0, "extra": 0}]}
    assert [i["name"] for i in client.http.get("/admin/reconciliations?limit=1").json_body["items"]] == ["2026-11-21.csv"]
    for bad in ("0", "51", "x", "1.5"):
        refused = client.http.get(f"/admin/reconciliations?limit={bad}")
        assert (refused.status_code, refused.json_body["error"]) == (400, "invalid_request"), bad
