"""Settings read once from the environment into a typed object.

Every stage sets these in `.chalice/config.json`; the defaults are the local stage's, so
that tests and tools importing the app need no configuration."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

LOCAL_ACCOUNT_ID = "123456789012"
"""The emulator's AWS account: part of the local stage's archive bucket name."""


@dataclass(frozen=True)
class DeadLetterQueue:
    """One dead-letter queue of the stage (docs/api.md section 11): its short stable `name`
    (the API's `{name}`), the queue's name, and how its records are redriven: `stream`
    (Lambda's on-failure records of the transactions stream's consumers), `schedule`
    (failed asynchronous invocations of the scheduled jobs) or `queue` (messages an SQS
    consumer gave up on, moved back to `source`, the queue it consumes)."""

    name: str
    queue: str
    redrive: str
    source: str | None = None


def dead_letter_queues(prefix: str) -> tuple[DeadLetterQueue, ...]:
    """Every dead-letter queue the stage has, one line each; the queues themselves are
    in infra/resources.json (a test checks that the two lists agree)."""
    return (
        DeadLetterQueue("stream-failures", f"{prefix}-stream-failures", "stream"),
        DeadLetterQueue("schedule", f"{prefix}-schedule-dlq", "schedule"),
        DeadLetterQueue("payment-alerts", f"{prefix}-payment-alerts-dlq", "queue", f"{prefix}-payment-alerts-queue"),
        DeadLetterQueue("risk-assessments", f"{prefix}-risk-assessments-dlq", "queue", f"{prefix}-risk-assessments"),
    )


@dataclass(frozen=True)
class Settings:
    stage: str
    events_table: str
    transactions_table: str
    webhook_secrets_id: str
    cursor_key_secret_id: str
    max_body_bytes: int
    signature_tolerance_seconds: int
    event_retention_days: int
    secrets_cache_seconds: int
    analytics_table: str
    transactions_stream_arn: str
    archive_bucket: str
    archive_after_days: int
    # --- payment alerts (docs/api.md section 9) ---
    alerts_table: str = "payment-webhooks-local-alerts"
    payment_alerts_topic_arn: str = ""
    payment_alerts_queue: str = "payment-webhooks-local-payment-alerts-queue"
    # X-Ray: `xray` in deployed stages (with `xray: true`); off locally, at no cost.
    tracing: bool = False
    # The change feed's EventBridge bus (docs/api.md section 7): `payment-webhooks-<stage>`.
    change_feed_bus: str = "payment-webhooks-local"
    dead_letters: tuple[DeadLetterQueue, ...] = ()
    # Deployed functions are named `<function_prefix><function>` (Chalice's rule).
    function_prefix: str = ""
    # The risk consumer's queue (docs/api.md section 8), by name: its handler's decorator
    # needs it when app.py is imported, and the name is known before the queue exists.
    risk_assessments_queue: str = ""

    @classmethod
    def from_environment(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        stage = env.get("STAGE", "local")
        prefix = f"payment-webhooks-{stage}"
        return cls(
            stage=stage,
            events_table=env.get("EVENTS_TABLE", f"{prefix}-events"),
            transactions_table=env.get("TRANSACTIONS_TABLE", f"{prefix}-transactions"),
            webhook_secrets_id=env.get("WEBHOOK_SECRETS_ID", f"{prefix}-webhook-secrets"),
            cursor_key_secret_id=env.get("CURSOR_KEY_SECRET_ID", f"{prefix}-cursor-key"),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", 256 * 1024)),
            signature_tolerance_seconds=int(env.get("SIGNATURE_TOLERANCE_SECONDS", 300)),
            event_retention_days=int(env.get("EVENT_RETENTION_DAYS", 90)),
            secrets_cache_seconds=int(env.get("SECRETS_CACHE_SECONDS", 60)),
            analytics_table=env.get("ANALYTICS_TABLE", f"{prefix}-analytics"),
            # Needed when app.py is imported (the stream decorator's argument); the
            # placeholder keeps imports working where no stream exists (unit tests, tools).
            transactions_stream_arn=env.get(
                "TRANSACTIONS_STREAM_ARN",
                f"arn:aws:dynamodb:us-east-1:000000000000:table/{prefix}-transactions/stream/placeholder"),
            # Bucket names are global, so the template suffixes the account id; deployed
            # stages must be told the name (stack output ArchiveBucketName).
            archive_bucket=env.get(
                "ARCHIVE_BUCKET",
                f"{prefix}-archive-{LOCAL_ACCOUNT_ID}" if stage == "local" else "",
            ),
            archive_after_days=int(env.get("ARCHIVE_AFTER_DAYS", 30)),
            tracing=env.get("TRACING", "off") == "xray",
            change_feed_bus=env.get("CHANGE_FEED_BUS", prefix),
            # --- payment alerts (docs/api.md section 9) ---
            alerts_table=env.get("ALERTS_TABLE", f"{prefix}-alerts"),
            # Deployed stages are told the ARN (the stack's PaymentAlertsTopicArn, set by
            # both deploy paths); the local stage's is derived: the emulator's account.
            payment_alerts_topic_arn=env.get(
                "PAYMENT_ALERTS_TOPIC_ARN",
                _local_topic_arn(env, f"{prefix}-payment-alerts") if stage == "local" else "",
            ),
            dead_letters=dead_letter_queues(prefix),
            function_prefix=f"{prefix}-",
            # A name, not a setting: the queue send_payment_alerts reads (its decorator's argument).
            payment_alerts_queue=f"{prefix}-payment-alerts-queue",
            risk_assessments_queue=env.get("RISK_ASSESSMENTS_QUEUE", f"{prefix}-risk-assessments"),
        )


def _local_topic_arn(env: dict[str, str], name: str) -> str:
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    return f"arn:aws:sns:{region}:{LOCAL_ACCOUNT_ID}:{name}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_environment()


# --- risk (docs/api.md section 8) ---

if TYPE_CHECKING:
    from chalicelib.domain.risk import RiskThresholds

class InvalidSetting(ValueError):
    """A stage variable whose value cannot be used; the message names the variable."""


def risk_thresholds(env: dict[str, str] | None = None) -> RiskThresholds:
    """The risk rules' thresholds from `RISK_*` variables (docs/risk.md). Read when the
    risk consumer is built, not at import: a mistyped threshold stops risk assessment (its
    messages wait in the queue, then the dead-letter queue, and alarm), never the API."""
    from datetime import timedelta

    from chalicelib.domain.risk import DEFAULT_AMOUNT_THRESHOLDS, RiskThresholds

    env = dict(os.environ if env is None else env)
    amounts = (
        _amount_thresholds(env["RISK_AMOUNT_THRESHOLDS"]) if env.get("RISK_AMOUNT_THRESHOLDS", "").strip()
        else dict(DEFAULT_AMOUNT_THRESHOLDS)
    )
    return RiskThresholds(
        amount=amounts,
        velocity_max=_positive_int(env, "RISK_VELOCITY_MAX", 5),
        velocity_window=timedelta(seconds=_positive_int(env, "RISK_VELOCITY_WINDOW_SECONDS", 600)),
        failures_max=_positive_int(env, "RISK_FAILURES_MAX", 3),
    )


def _positive_int(env: dict[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise InvalidSetting(f"{name} must be a whole number, not {text[:40]!r}") from None
    if value < 1:
        raise InvalidSetting(f"{name} must be at least 1, not {value}")
    return value


def _amount_thresholds(text: str) -> dict[str, int]:
    """A JSON object of ISO 4217 code -> threshold in the currency's minor units. It
    replaces the defaults whole, so a stage lists every currency it wants checked."""
    import json

    from chalicelib.domain.currencies import UnknownCurrency, normalise_currency

    name = "RISK_AMOUNT_THRESHOLDS"
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise InvalidSetting(f"{name} is not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(parsed, dict):
        raise InvalidSetting(f'{name} must be a JSON object such as {{"USD": 1000000}}')
    thresholds: dict[str, int] = {}
    for code, limit in parsed.items():
        try:
            currency = normalise_currency(code)
        except UnknownCurrency:
            raise InvalidSetting(f"{name}: {code[:10]!r} is not an ISO 4217 currency code") from None
        if type(limit) is not int or limit < 1:
            raise InvalidSetting(f"{name}: {currency} must be a whole number of minor units above 0, "
                                 f"not {json.dumps(limit)[:40]}")
        if currency in thresholds:
            raise InvalidSetting(f"{name}: {currency} is listed twice")
        thresholds[currency] = limit
    return thresholds
