"""The analytics table: one item per (day, provider, currency) bucket.

Key: `pk` = month `YYYY-MM`, `sk` = `YYYY-MM-DD#<provider>#<currency>`. A day's rows sit
together and sort by date, so the contract's longest range (366 days) is at most 13 queries,
one per month, and a month partition holds at most 31 x providers x currencies small items.

Attributes: `day`, `provider`, `currency`, `count`, `gross_volume`, `refunded_volume`,
`status_<status>` (flat counters, so one UpdateItem can ADD to a bucket that may not exist
yet), and `applied_<lane>`: per stream shard, the zero-padded position of the last stream
record whose change this bucket includes (the high-water mark; see services/analytics.py).
A recount (services/table_redrive.py) sets the figures outright and leaves the marks be.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.analytics import DailyFigures, DayBucket
from chalicelib.domain.status import Status
from chalicelib.storage.codec import from_attributes, to_attributes, to_value
from chalicelib.storage.errors import PreconditionFailed, is_code, storage_errors

STATUS_PREFIX = "status_"
MARK_PREFIX = "applied_"
_FIGURES = ("day", "provider", "currency", "count", "gross_volume", "refunded_volume")


def bucket_key(bucket: DayBucket) -> dict[str, str]:
    day = bucket.day.isoformat()
    return {"pk": day[:7], "sk": f"{day}#{bucket.provider}#{bucket.currency}"}


class AnalyticsRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def add_unseen(self, bucket: DayBucket, figures: DailyFigures, lane: str, first: str, last: str) -> None:
        """Add `figures` (records `first`..`last` of `lane`) unless the bucket has already
        taken a record at or after `first`: `PreconditionFailed` then."""
        self._add(bucket, figures, lane, last, "attribute_not_exists(#mark) OR #mark < :expected", first)

    def add_after(self, bucket: DayBucket, figures: DailyFigures, lane: str, mark: str | None, last: str) -> None:
        """Add `figures`, moving `lane`'s mark from exactly `mark` (None: none yet) to
        `last`: `PreconditionFailed` if the mark is elsewhere by now."""
        if mark is None:
            self._add(bucket, figures, lane, last, "attribute_not_exists(#mark)", None)
        else:
            self._add(bucket, figures, lane, last, "#mark = :expected", mark)

    def mark(self, bucket: DayBucket, lane: str) -> str | None:
        """Where `lane`'s records stand in this bucket (strongly consistent)."""
        with storage_errors():
            response = self._client.get_item(
                TableName=self._table, Key=to_attributes(bucket_key(bucket)), ConsistentRead=True,
                ProjectionExpression="#mark", ExpressionAttributeNames={"#mark": MARK_PREFIX + lane},
            )
        return from_attributes(response.get("Item", {})).get(MARK_PREFIX + lane)

    def daily(self, first_day: date, last_day: date) -> list[tuple[DayBucket, DailyFigures]]:
        """Every stored bucket from `first_day` to `last_day` (inclusive), in key order."""
        return [_from_item(item) for month in _months(first_day, last_day)
                for item in self._query_month(month, first_day.isoformat(), last_day.isoformat() + "#\uffff")]

    def day_buckets(self, day: date, provider: str) -> dict[DayBucket, DailyFigures]:
        """The provider's stored buckets of `day`, every currency (strongly consistent)."""
        low = f"{day.isoformat()}#{provider}#"
        return dict(_from_item(item) for item in self._query_month(day.isoformat()[:7], low, low + "\uffff",
                                                                    consistent=True))

    def replace(self, bucket: DayBucket, figures: DailyFigures, expected: DailyFigures | None) -> None:
        """Set the bucket's figures to `figures` if they are still `expected` (None: no
        bucket yet), else `PreconditionFailed`; the marks are left as they are."""
        names = {"#day": "day", "#provider": "provider", "#currency": "currency"}
        values = {":day": to_value(bucket.day.isoformat()), ":provider": to_value(bucket.provider),
                  ":currency": to_value(bucket.currency)}
        sets, conditions = ["#day = :day", "#provider = :provider", "#currency = :currency"], []
        for n, (name, value) in enumerate(_attributes(figures).items()):
            names[f"#f{n}"] = name
            values[f":f{n}"] = to_value(value)
            sets.append(f"#f{n} = :f{n}")
            if expected is not None:
                was = _attributes(expected)[name]
                values[f":e{n}"] = to_value(was)
                conditions.append(f"#f{n} = :e{n}" if was else f"(attribute_not_exists(#f{n}) OR #f{n} = :e{n})")
        if expected is None:
            names["#pk"] = "pk"
            conditions.append("attribute_not_exists(#pk)")
        with storage_errors():
            try:
                self._client.update_item(
                    TableName=self._table, Key=to_attributes(bucket_key(bucket)),
                    UpdateExpression="SET " + ", ".join(sets), ConditionExpression=" AND ".join(conditions),
                    ExpressionAttributeNames=names, ExpressionAttributeValues=values,
                )
            except ClientError as exc:
                if is_code(exc, "ConditionalCheckFailedException"):
                    raise PreconditionFailed() from exc
                raise

    def _add(self, bucket: DayBucket, figures: DailyFigures, lane: str, last: str,
             condition: str, expected: str | None) -> None:
        names = {"#mark": MARK_PREFIX + lane, "#day": "day", "#provider": "provider",
                 "#currency": "currency", "#count": "count", "#gross": "gross_volume",
                 "#refunded": "refunded_volume"}
        values = {
            ":last": to_value(last), ":day": to_value(bucket.day.isoformat()),
            ":provider": to_value(bucket.provider), ":currency": to_value(bucket.currency),
            ":count": to_value(figures.count), ":gross": to_value(figures.gross_volume),
            ":refunded": to_value(figures.refunded_volume),
        }
        adds = ["#count :count", "#gross :gross", "#refunded :refunded"]
        for n, (status, count) in enumerate(sorted(figures.by_status.items())):
            names[f"#s{n}"] = STATUS_PREFIX + status.value
            values[f":s{n}"] = to_value(count)
            adds.append(f"#s{n} :s{n}")
        if expected is not None:
            values[":expected"] = to_value(expected)
        with storage_errors():
            try:
                self._client.update_item(
                    TableName=self._table, Key=to_attributes(bucket_key(bucket)),
                    UpdateExpression=("SET #mark = :last, #day = :day, #provider = :provider, "
                                      "#currency = :currency ADD " + ", ".join(adds)),
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names, ExpressionAttributeValues=values,
                )
            except ClientError as exc:
                if is_code(exc, "ConditionalCheckFailedException"):
                    raise PreconditionFailed() from exc
                raise

    def _query_month(self, month: str, low: str, high: str, consistent: bool = False) -> Iterator[dict[str, Any]]:
        attributes = [*_FIGURES, *(STATUS_PREFIX + s.value for s in Status)]
        names = {f"#a{n}": name for n, name in enumerate(attributes)}
        request: dict[str, Any] = dict(
            TableName=self._table,
            KeyConditionExpression="#pk = :month AND #sk BETWEEN :from AND :to",
            ProjectionExpression=", ".join(names),
            ExpressionAttributeNames={**names, "#pk": "pk", "#sk": "sk"},
            ExpressionAttributeValues={
                ":month": to_value(month), ":from": to_value(low), ":to": to_value(high),
            },
            ConsistentRead=consistent,
        )
        while True:
            with storage_errors():
                response = self._client.query(**request)
            yield from (from_attributes(item) for item in response.get("Items", []))
            if not response.get("LastEvaluatedKey"):
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _from_item(item: dict[str, Any]) -> tuple[DayBucket, DailyFigures]:
    bucket = DayBucket(date.fromisoformat(item["day"]), item["provider"], item["currency"])
    return bucket, DailyFigures(
        count=item.get("count", 0),
        by_status={s: item.get(STATUS_PREFIX + s.value, 0) for s in Status},
        gross_volume=item.get("gross_volume", 0), refunded_volume=item.get("refunded_volume", 0),
    )


def _attributes(figures: DailyFigures) -> dict[str, int]:
    """Every figure attribute of a bucket, zeros included (a recount sets them all)."""
    return {"count": figures.count, "gross_volume": figures.gross_volume,
            "refunded_volume": figures.refunded_volume,
            **{STATUS_PREFIX + s.value: figures.by_status.get(s, 0) for s in Status}}


def _months(first_day: date, last_day: date) -> list[str]:
    months, year, month = [], first_day.year, first_day.month
    while (year, month) <= (last_day.year, last_day.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
