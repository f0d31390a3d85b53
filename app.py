"""payment-webhooks: routes and event handlers. Each hands its input to one service."""
from __future__ import annotations

from typing import Any, Callable

from chalice import Chalice, Cron, Rate, Response

from chalicelib import wiring
from chalicelib.api.auth import route_authorizer
from chalicelib.api.responses import contract_shape, json_errors
from chalicelib.lazy import LazyModule
from chalicelib.observability.correlation import correlation_fields
from chalicelib.observability.logs import configure, correlated
from chalicelib.observability.webhooks import observe_webhook
from chalicelib.settings import Settings

# Imported on first use: they pull in pydantic models and boto3 (cold start).
analytics = LazyModule("chalicelib.api.analytics")
params = LazyModule("chalicelib.api.params")
views = LazyModule("chalicelib.api.views")
stream_consumers = LazyModule("chalicelib.api.stream_consumers")
reconciliations = LazyModule("chalicelib.api.reconciliations")

app = Chalice(app_name="payment-webhooks")
app.log = configure()

WEBHOOK_CONTENT_TYPES = ["application/json"]
# SigV4 on every non-webhook route in deployed stages; None (open) locally.
PROTECTED = route_authorizer()


def route(path: str, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """`app.route` whose view answers domain errors in the contract's shape."""
    return lambda view: app.route(path, **options)(json_errors(view))


@app.middleware("all")
def correlation(event: Any, get_response: Callable[[Any], Any]) -> Any:
    with correlated(**correlation_fields(event)):
        return get_response(event)


@app.middleware("http")
def contract_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    return contract_shape(get_response(event))


@route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@route("/webhooks/{provider}", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES)
def receive_webhook(provider: str) -> Any:
    request = app.current_request
    with observe_webhook(provider, wiring.metrics()) as observed:
        receipt = observed.record(
            wiring.ingest_service().receive(provider, request.raw_body, request.headers))
    return views.receipt(receipt)


@route("/transactions/{provider}/{payment_id}", methods=["GET"], authorizer=PROTECTED)
def get_transaction(provider: str, payment_id: str) -> dict[str, Any]:
    return views.transaction(wiring.query_service().transaction(
        params.path_id("provider", provider), params.path_id("id", payment_id)))


@route("/transactions/{provider}", methods=["GET"], authorizer=PROTECTED)
def transaction_without_id(provider: str) -> None:
    """`/transactions/stripe/` (API Gateway drops the trailing slash): an empty id, 400."""
    params.path_id("id", "")  # raises InvalidRequest: the one wording of that rule


@route("/transactions", methods=["GET"], authorizer=PROTECTED)
def list_transactions() -> dict[str, Any]:
    query = params.transaction_query(app.current_request.query_params)
    return views.transaction_list(wiring.query_service().transactions(query))


@route("/events/{provider}/{event_id}", methods=["GET"], authorizer=PROTECTED)
def get_event(provider: str, event_id: str) -> dict[str, Any]:
    return views.event(wiring.query_service().event(
        params.path_id("provider", provider), params.path_id("event_id", event_id)))


@route("/events/{provider}", methods=["GET"], authorizer=PROTECTED)
def event_without_id(provider: str) -> None:
    """`/events/stripe/`: an empty event id, 400."""
    params.path_id("event_id", "")  # raises InvalidRequest


@route("/events/{provider}/{event_id}/replay", methods=["POST"], authorizer=PROTECTED)
def replay_event(provider: str, event_id: str) -> dict[str, Any]:
    return views.replay(wiring.replay_service().replay(
        params.path_id("provider", provider), params.path_id("event_id", event_id)))


@route("/analytics/daily", methods=["GET"], authorizer=PROTECTED)
def daily_analytics() -> dict[str, Any]:
    query = analytics.daily_query(app.current_request.query_params)
    return analytics.daily_view(wiring.analytics_service().daily(query))


@app.on_dynamodb_record(stream_arn=Settings.from_environment().transactions_stream_arn,
                        batch_size=100, starting_position="TRIM_HORIZON")
def update_daily_analytics(event: Any) -> dict[str, Any]:
    """Transaction changes applied to the daily figures exactly once; failed records go
    back to Lambda by sequence number. One stream consumer (chalicelib/api/stream_consumers.py)."""
    return stream_consumers.deliver("update_daily_analytics", event.to_dict())


@app.schedule(Cron(0, 2, "*", "*", "?", "*"))
def archive_transactions(event: Any) -> dict[str, Any]:
    """Daily at 02:00 UTC (contract section 4); stops itself before the Lambda timeout."""
    return wiring.archival_service().run(event.context.get_remaining_time_in_millis).as_dict()


# --- payment alerts (docs/api.md section 9) ---
alerts = LazyModule("chalicelib.api.alerts")


@app.on_sqs_message(queue=Settings.from_environment().payment_alerts_queue, batch_size=10)
def send_payment_alerts(event: Any) -> dict[str, Any]:
    """Change-feed events (disputed, failed, risk flagged) to payment alerts, each incident
    once; failed messages go back to SQS by id (chalicelib/services/alerts.py)."""
    return alerts.send(event.to_dict())


@route("/admin/alerts", methods=["GET"], authorizer=PROTECTED)
def list_alerts() -> dict[str, Any]:
    limit = params.page_limit(app.current_request.query_params)
    return alerts.recent_view(wiring.payment_alert_service().recent(limit))


# --- change feed (docs/api.md section 7) ---
@app.on_dynamodb_record(stream_arn=Settings.from_environment().transactions_stream_arn,
                        batch_size=100, starting_position="TRIM_HORIZON")
def publish_payment_changes(event: Any) -> dict[str, Any]:
    """Business changes of transactions published to the EventBridge bus; records the bus
    would not take go back to Lambda. One stream consumer (chalicelib/api/stream_consumers.py)."""
    return stream_consumers.deliver("publish_payment_changes", event.to_dict())


# --- operator console (docs/api.md section 11) ---
console = LazyModule("chalicelib.api.console")


@route("/console", methods=["GET"], authorizer=PROTECTED)
def operator_console() -> Response:
    page = console.console_page()
    return Response(body=page.body, status_code=200, headers=page.headers)


# --- operations (docs/api.md section 11) ---
operations = LazyModule("chalicelib.api.operations")
wiring.run_functions_in_process(app.handler_map)  # used on the local stage only (no Lambda)


@route("/admin/dead-letters", methods=["GET"], authorizer=PROTECTED)
def list_dead_letters() -> dict[str, Any]:
    return operations.dead_letters(wiring.dead_letter_service().depths())


@route("/admin/dead-letters/{name}/redrive", methods=["POST"], authorizer=PROTECTED)
def redrive_dead_letters(name: str) -> dict[str, Any]:
    return operations.redrive(wiring.dead_letter_service().redrive(params.path_id("name", name)))


@route("/admin/replay", methods=["POST"], authorizer=PROTECTED)
def bulk_replay() -> dict[str, Any]:
    request = operations.bulk_replay(app.current_request.raw_body)
    return operations.replay_report(wiring.bulk_replay_service().run(request))


@app.schedule(Rate(5, unit=Rate.MINUTES))
def watch_dead_letters(event: Any) -> dict[str, Any]:
    """One `dead_letter` alert per queue incident (docs/api.md section 9)."""
    return operations.watch_report(wiring.dead_letter_watch().check())
# --- reconciliation (docs/api.md sections 10 and 11) ---

@app.schedule(Cron(0, 3, "*", "*", "?", "*"))
def validate_reconciliations(event: Any) -> dict[str, Any]:
    """Daily at 03:00 UTC: every export under reconciliation/incoming/ reconciled, reported
    and moved; stops itself before the Lambda timeout and continues on the next run."""
    return wiring.scheduled_validation().run(event.context.get_remaining_time_in_millis).as_dict()


@route("/admin/reconciliations", methods=["GET"], authorizer=PROTECTED)
def list_reconciliations() -> dict[str, Any]:
    limit = reconciliations.limit(app.current_request.query_params)
    return reconciliations.reports_view(wiring.reconciliation_exports().latest_reports(limit))
