"""payment-webhooks: routes and event handlers. Each hands its input to one service."""
from __future__ import annotations

from typing import Any, Callable

from chalice import Chalice, Cron, Response

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


# --- change feed (docs/api.md section 7) ---
@app.on_dynamodb_record(stream_arn=Settings.from_environment().transactions_stream_arn,
                        batch_size=100, starting_position="TRIM_HORIZON")
def publish_payment_changes(event: Any) -> dict[str, Any]:
    """Business changes of transactions published to the EventBridge bus; records the bus
    would not take go back to Lambda. One stream consumer (chalicelib/api/stream_consumers.py)."""
    return stream_consumers.deliver("publish_payment_changes", event.to_dict())
