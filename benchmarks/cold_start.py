"""Cold start: importing `app.py` plus building the first DynamoDB client, against the
floor any boto3 Lambda pays (`import boto3` plus one client).

Each sample is a fresh interpreter (nothing cached in-process; the OS file cache is warm
after the first run, as on a warm Lambda host); the two kinds alternate so drift hits
both alike. The figure is the ratio of the medians; the target is <= 1.3. Interpreter
start-up is outside the timed region on both sides. A third, informational row shows
what tracing (`TRACING=xray`, deployed stages) adds: importing aws-xray-sdk.

Last, the prod deployment package is built as `make package` builds it, and its zip and
unzipped sizes are printed: what Lambda fetches and unpacks on a cold start (Lambda's
limits: 50 MB zipped for a direct upload, 250 MB unzipped).

Run: `python benchmarks/cold_start.py [--runs 15]` (or `make bench`)."""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
MB = 1_000_000
TARGET_RATIO = 1.3

_TIMED = """
import time
t0 = time.perf_counter()
{body}
print(time.perf_counter() - t0)
"""
APP = _TIMED.format(body="import app\nfrom chalicelib import wiring\nwiring.aws_client('dynamodb')")
BOTO3 = _TIMED.format(body="import boto3\nboto3.session.Session().client('dynamodb')")


def sample(code: str, extra_env: dict[str, str] | None = None) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRACING", "API_AUTH", "STAGE"))}
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "PYTHONDONTWRITEBYTECODE": "1", **(extra_env or {})})
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def package_sizes(stage: str = "prod") -> tuple[int, int]:
    """(zipped, unzipped) bytes of the stage's deployment package."""
    from deploy.package import package

    with tempfile.TemporaryDirectory(prefix="cold-start-package-") as tmp:
        bundle = package(stage, Path(tmp)).with_name("deployment.zip")
        with zipfile.ZipFile(bundle) as archive:
            return bundle.stat().st_size, sum(entry.file_size for entry in archive.infolist())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    sample(APP), sample(BOTO3)  # warm the OS file cache and .pyc files; not counted
    app_times, boto3_times, traced_times = [], [], []
    for _ in range(args.runs):
        app_times.append(sample(APP))
        boto3_times.append(sample(BOTO3))
    for _ in range(max(3, args.runs // 3)):
        traced_times.append(sample(APP, {"TRACING": "xray"}))
    app_median, boto3_median = statistics.median(app_times), statistics.median(boto3_times)
    ratio = app_median / boto3_median
    print(f"cold start over {args.runs} alternating runs (median, min-max):")
    for label, times in (("import app + first DynamoDB client", app_times),
                         ("import boto3 + one client (floor)", boto3_times),
                         ("same as first, TRACING=xray (info)", traced_times)):
        print(f"  {label:<38} {statistics.median(times) * 1000:7.1f} ms"
              f"  ({min(times) * 1000:.1f}-{max(times) * 1000:.1f})")
    verdict = "ok" if ratio <= TARGET_RATIO else "OVER TARGET"
    print(f"  ratio app/floor                        {ratio:7.3f}   target <= {TARGET_RATIO} ({verdict})")
    zipped, unzipped = package_sizes()
    print(f"prod deployment package: {zipped / MB:.1f} MB zipped, {unzipped / MB:.1f} MB unzipped")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
