"""payment-webhooks: routes and event handlers. Each hands its input to one service."""
from __future__ import annotations

from typing import Any, Callable

from chalice import Chalice, Cron, Response

from chalicelib import wiring
from chalicelib.api import analytics, params, views
from chalicelib.api.responses import contract_shape, json_errors
from chalicelib.observability.logs import configure, log
from chalicelib.settings import Settings
from chalicelib.storage.transaction_stream import read_batch

app = Chalice(app_name="payment-webhooks")
app.log = configure()

WEBHOOK_CONTENT_TYPES = ["application/json"]


def route(path: str, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """`app.route` whose view answers domain errors in the contract's shape."""
    return lambda view: app.route(path, **options)(json_errors(view))


@app.middleware("http")
def contract_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    return contract_shape(get_response(event))


@route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@route("/webhooks/{provider}", methods=["POST"], content_types=WEBHOOK_CONTENT_TYPES)
def receive_webhook(provider: str) -> Any:
    request = app.current_request
    receipt = wiring.ingest_service().receive(provider, request.raw_body, request.headers)
    for event in receipt.events:
        log("webhook", request_id=request.context.get("requestId"), provider=provider,
            event_id=event.event_id, transaction=event.transaction, outcome=event.outcome.value)
    return views.receipt(receipt)


@route("/transactions/{provider}/{payment_id}", methods=["GET"])
def get_transaction(provider: str, payment_id: str) -> dict[str, Any]:
    return views.transaction(wiring.query_service().transaction(
        params.path_id("provider", provider), params.path_id("id", payment_id)))


@route("/transactions", methods=["GET"])
def list_transactions() -> dict[str, Any]:
    query = params.transaction_query(app.current_request.query_params)
    return views.transaction_list(wiring.query_service().transactions(query))


@route("/events/{provider}/{event_id}", methods=["GET"])
def get_event(provider: str, event_id: str) -> dict[str, Any]:
    return views.event(wiring.query_service().event(
        params.path_id("provider", provider), params.path_id("event_id", event_id)))


@route("/events/{provider}/{event_id}/replay", methods=["POST"])
def replay_event(provider: str, event_id: str) -> dict[str, Any]:
    return views.replay(wiring.replay_service().replay(
        params.path_id("provider", provider), params.path_id("event_id", event_id)))


@route("/analytics/daily", methods=["GET"])
def daily_analytics() -> dict[str, Any]:
    query = analytics.daily_query(app.current_request.query_params)
    return analytics.daily_view(wiring.analytics_service().daily(query))


@app.on_dynamodb_record(stream_arn=Settings.from_environment().transactions_stream_arn,
                        batch_size=100, starting_position="TRIM_HORIZON")
def update_daily_analytics(event: Any) -> dict[str, Any]:
    """The transactions stream, applied to the daily figures exactly once (see
    chalicelib/services/analytics.py); failed records go back to Lambda by sequence number."""
    batch = read_batch(event.to_dict())
    return analytics.stream_response(wiring.analytics_service().apply(batch), batch.windowed)


@app.schedule(Cron(0, 2, "*", "*", "?", "*"))
def archive_transactions(event: Any) -> dict[str, Any]:
    """Daily at 02:00 UTC (contract section 4); stops itself before the Lambda timeout."""
    return wiring.archival_service().run(event.context.get_remaining_time_in_millis).as_dict()
