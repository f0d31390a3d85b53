"""X-Ray: nothing at all when the stage does not trace; botocore only, and named
subsegments, when it does. Each case runs in a fresh interpreter, because patching
botocore is process-wide."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.signing import REPO_ROOT

UNTRACED = """
import json, sys, os
import app
from chalicelib import wiring
wiring.aws_client("dynamodb")
from chalicelib.observability import tracing
with tracing.subsegment("verify"):
    pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("aws_xray_sdk", "pydantic", "boto3"))))
"""

TRACED = """
import json
from chalicelib.observability import tracing
from chalicelib.services.ingest import IngestService
from datetime import datetime, timedelta, timezone
from aws_xray_sdk.core import xray_recorder
from aws_xray_sdk.core import patcher

class Provider:
    acknowledgement = None
    dedupe_forever = False
    def verify(self, request, secrets, now): pass
    def parse(self, request): return []

class Secrets:
    def current(self): return None

tracing.install()
service = IngestService(lambda name: Provider(), Secrets(), None, None, lambda: datetime.now(timezone.utc),
                        1024, timedelta(days=1), trace=tracing.subsegment)
segment = xray_recorder.begin_segment("test")
service.receive("stripe", b"{}", {})
xray_recorder.end_segment()
print(json.dumps({"subsegments": [[s.name, s.annotations] for s in segment.subsegments],
                  "patched": sorted(patcher._PATCHED_MODULES)}))
"""


def run(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TRACING", "STAGE", "API_AUTH"))}
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True, capture_output=True,
                          text=True, env={**clean, "AWS_DEFAULT_REGION": "us-east-1", "AWS_XRAY_SDK_ENABLED": "true",
                                          "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR", **env}).stdout


def test_without_tracing_the_xray_sdk_is_never_imported() -> None:
    loaded = json.loads(run(UNTRACED).splitlines()[-1])
    assert not [m for m in loaded if m.startswith("aws_xray_sdk")]
    assert "boto3" in loaded  # the client was built, so this is not a vacuous check


def test_importing_the_app_loads_neither_pydantic_nor_boto3() -> None:
    loaded = json.loads(run("import app, sys, json; print(json.dumps(sorted(sys.modules)))").splitlines()[-1])
    assert not {"pydantic", "boto3", "botocore", "aws_xray_sdk"} & set(loaded)


def test_with_tracing_only_botocore_is_patched_and_ingest_has_its_subsegments() -> None:
    result = json.loads(run(TRACED, TRACING="xray").splitlines()[-1])
    assert result["patched"] == ["botocore"]
    assert result["subsegments"] == [["verify", {"provider": "stripe"}], ["parse", {"provider": "stripe"}],
                                     ["store", {"provider": "stripe"}]]
