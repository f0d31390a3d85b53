"""The environment of a benchmark that runs against in-process moto (`mock_aws`): no real
endpoint or profile can be reached by accident, and the local stage's settings apply."""
from __future__ import annotations

import os


def use_in_process_moto() -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="us-east-1", AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
                      STAGE="local")
