"""What a 503 means for an Adyen batch (the README's promise, corrected): the items before
the failing one are stored, and Adyen's retry of the whole batch answers them as
duplicates, so nothing is lost or counted twice."""
from __future__ import annotations

import pytest
from botocore.awsrequest import AWSResponse

from chalicelib.errors import StorageUnavailable
from tests.support.signing import adyen_body, adyen_item

HEADERS = {"Content-Type": "application/json"}


def test_a_batch_failing_on_its_second_item_keeps_the_first_and_the_retry_dedupes_it(services) -> None:
    batch = adyen_body(adyen_item("PSP_B1", "AUTHORISATION", 100), adyen_item("PSP_B2", "AUTHORISATION", 200))
    calls = [0]

    def fail_second(model, **_):
        calls[0] += 1
        if calls[0] != 2:
            return None
        return (AWSResponse("", 500, {}, None), {"Error": {"Code": "InternalServerError", "Message": "injected"},
                                               "ResponseMetadata": {"HTTPStatusCode": 500}})

    client = services.aws_client("dynamodb")
    client.meta.events.register("before-call.dynamodb.TransactWriteItems", fail_second, unique_id="fail")
    with pytest.raises(StorageUnavailable):
        services.ingest_service().receive("adyen", batch, HEADERS)
    client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="fail")
    assert services.transactions().get("adyen", "PSP_B1") is not None
    assert services.transactions().get("adyen", "PSP_B2") is None

    retried = services.ingest_service().receive("adyen", batch, HEADERS)
    assert [e.outcome.value for e in retried.events] == ["duplicate", "applied"]
