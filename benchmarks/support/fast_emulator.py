"""Benchmark-only launcher: local/emulator.py with moto's Query and BatchGetItem responses
encoded directly.

moto 5.2.5 encodes DynamoDB responses with a generic serializer that costs ~9 ms per item
of a Query page (or of a BatchGetItem answer); those results are already wire JSON, so they
are dumped as is. This changes only how moto serialises the JSON of those responses, not
what it answers. Everything else is the project's emulator (`local.emulator.main`), unchanged.

    python -m benchmarks.support.fast_emulator --host 127.0.0.1 --port 0
"""
from __future__ import annotations

import json
from typing import Any


_DIRECT = ("Query", "BatchGetItem")


_DIRECT = ("Query", "BatchGetItem")


def fast_query_responses() -> None:
    from moto.dynamodb.responses import DynamoHandler

    generic = DynamoHandler.serialized

    def serialized(self: Any, action_result: Any) -> Any:
        if isinstance(action_result.result, dict) and self._get_action() in _DIRECT:
            return 200, {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}, \
                json.dumps(action_result.result)
        return generic(self, action_result)

    DynamoHandler.serialized = serialized


if __name__ == "__main__":
    fast_query_responses()
    from local.emulator import main

    main()
