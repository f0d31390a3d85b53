"""Settings read once from the environment into a typed object.

Every stage sets these in `.chalice/config.json`; the defaults are the local stage's, so
that tests and tools importing the app need no configuration."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

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
        )


def _local_topic_arn(env: dict[str, str], name: str) -> str:
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    return f"arn:aws:sns:{region}:{LOCAL_ACCOUNT_ID}:{name}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_environment()
