"""What PayPal's receiver costs the service: cold start of each kind of route, and the
deployment package, with and without `cryptography` (which PayPal's verification needs).

1. Cold start, each sample a fresh interpreter, the series alternating (as in
   benchmarks/cold_start.py): the floor any boto3 Lambda pays (`import boto3` plus one
   client); `import app` plus the first DynamoDB client (benchmarks/cold_start.py's
   figure, target within 1.3 of the floor); the same plus every provider module (what a
   webhook's first request imports: the registry finds providers by importing them); plus
   what PayPal's verification imports from `cryptography` (the PayPal route's first
   request). PayPal's own modules' share of the webhook row, and what `cryptography` adds,
   are also timed alone.
   `cryptography` must be imported by none but the last.
2. The prod deployment package, built as `make package` builds it, against the same zip
   without the entries of `cryptography` and what it brings (`cffi`, `pycparser`), with
   the platform tag of the `cryptography` wheel that was packaged (Lambda's Python 3.11
   runs on glibc 2.26: it needs a manylinux2014 wheel, not the manylinux_2_34 one a recent
   Linux installs locally).

Run: `.venv/bin/python benchmarks/paypal.py [--runs 15] [--no-package]` (or `make bench`)."""
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
TARGET_RATIO = 1.3
MB = 1_000_000
CRYPTOGRAPHY_OWNS = ("cryptography", "cffi", "_cffi_backend", "pycparser")
"""Top-level names in the package that exist only because of `cryptography`."""

_TIMED = """
import sys, time
t0 = time.perf_counter()
{body}
elapsed = time.perf_counter() - t0
print("cryptography" in sys.modules)
print(elapsed)
"""
_APP = "import app\nfrom chalicelib import wiring\nwiring.aws_client('dynamodb')"
_PROVIDERS = "\nfrom chalicelib.providers.registry import registrations\nregistrations()"
_PAYPAL_VERIFY = ("\nfrom cryptography.x509 import load_pem_x509_certificates\n"
                  "from cryptography.x509.verification import PolicyBuilder, Store, DNSName\n"
                  "from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15\n"
                  "from cryptography.hazmat.primitives.hashes import SHA256")
FLOOR, APP, WEBHOOK, PAYPAL = (
    "import boto3 + one client (floor)", "import app + first DynamoDB client",
    "+ every provider module (webhook)", "+ PayPal's cryptography imports",
)
SERIES = {
    FLOOR: "import boto3\nboto3.session.Session().client('dynamodb')",
    APP: _APP,
    WEBHOOK: _APP + _PROVIDERS,
    PAYPAL: _APP + _PROVIDERS + _PAYPAL_VERIFY,
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRACING", "API_AUTH", "STAGE"))}
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def marginal_seconds(setup: str, timed: str) -> float:
    """What `timed` adds once `setup` has run, timed alone in a fresh interpreter (the
    difference of two noisy medians would drown it)."""
    code = f"{setup}\nimport time\nt0 = time.perf_counter()\n{timed}\nprint(time.perf_counter() - t0)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=_env(), check=True,
                         capture_output=True, text=True).stdout
    return float(out.split()[-1])


_OTHER_PROVIDERS = "".join(f"\nimport chalicelib.providers.{name}" for name in ("adyen", "generic", "square", "stripe"))


def sample(body: str) -> tuple[float, bool]:
    """(seconds, whether cryptography got imported) for one fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", _TIMED.format(body=body)], cwd=REPO_ROOT, env=_env(),
                         check=True, capture_output=True, text=True).stdout.split()
    return float(out[-1]), out[-2] == "True"


def cold_start(runs: int) -> bool:
    for body in SERIES.values():
        sample(body)  # warm the OS file cache and .pyc files; not counted
    times: dict[str, list[float]] = {label: [] for label in SERIES}
    imported: dict[str, bool] = {}
    paypal_modules, paypal_cryptography = [], []
    for _ in range(runs):
        for label, body in SERIES.items():
            seconds, imported[label] = sample(body)
            times[label].append(seconds)
        paypal_modules.append(marginal_seconds(_APP + _OTHER_PROVIDERS, "import chalicelib.providers.paypal"))
        paypal_cryptography.append(marginal_seconds(_APP + _PROVIDERS, _PAYPAL_VERIFY))
    median = {label: statistics.median(series) for label, series in times.items()}
    print(f"cold start over {runs} alternating runs (median, min-max, ratio to the floor, cryptography imported):")
    for label, series in times.items():
        print(f"  {label:<40} {median[label] * 1000:7.1f} ms  ({min(series) * 1000:.1f}-{max(series) * 1000:.1f})"
              f"  {median[label] / median[FLOOR]:5.3f}  {'yes' if imported[label] else 'no'}")
    ratio = median[APP] / median[FLOOR]
    lazy = not any(imported[label] for label in (APP, WEBHOOK))
    print(f"  ratio app/floor {ratio:.3f}: {'ok' if ratio <= TARGET_RATIO else 'OVER TARGET'} (target <= {TARGET_RATIO});"
          f" cryptography imported by the other routes: {'no (ok)' if lazy else 'YES'}")
    ok = ratio <= TARGET_RATIO and lazy
    print(f"  PayPal's modules in every webhook's first request: +{statistics.median(paypal_modules) * 1000:.1f} ms"
          f"; cryptography on the PayPal route's first request: +{statistics.median(paypal_cryptography) * 1000:.1f} ms"
          " (each timed alone)")
    return ok


def package_sizes() -> None:
    from deploy.package import package

    with tempfile.TemporaryDirectory(prefix="paypal-package-") as tmp:
        bundle = package("prod", Path(tmp) / "prod").with_name("deployment.zip")
        without = Path(tmp) / "without-cryptography.zip"
        tags: list[str] = []
        with zipfile.ZipFile(bundle) as archive, zipfile.ZipFile(without, "w") as smaller:
            kept = [e for e in archive.infolist() if e.filename.split("/")[0].split("-")[0].split(".")[0]
                    not in CRYPTOGRAPHY_OWNS]
            for entry in kept:
                smaller.writestr(entry, archive.read(entry), compress_type=entry.compress_type)
            for entry in archive.infolist():
                if entry.filename.startswith("cryptography-") and entry.filename.endswith(".dist-info/WHEEL"):
                    tags = [line.split(": ", 1)[1] for line in archive.read(entry).decode().splitlines()
                            if line.startswith("Tag: ")]
            unzipped = sum(e.file_size for e in archive.infolist())
            unzipped_without = sum(e.file_size for e in kept)
        zipped, zipped_without = bundle.stat().st_size, without.stat().st_size
    print("prod deployment package (Lambda limits: 50 MB zipped for a direct upload, 250 MB unzipped):")
    print(f"  with cryptography     {zipped / MB:6.1f} MB zipped  {unzipped / MB:6.1f} MB unzipped")
    print(f"  without cryptography  {zipped_without / MB:6.1f} MB zipped  {unzipped_without / MB:6.1f} MB unzipped")
    print(f"  cryptography adds     {(zipped - zipped_without) / MB:6.1f} MB zipped  "
          f"{(unzipped - unzipped_without) / MB:6.1f} MB unzipped")
    print(f"  packaged cryptography wheel tags: {', '.join(tags) or 'none found'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-package", action="store_true", help="skip building the package")
    args = parser.parse_args(argv)
    ok = cold_start(args.runs)
    if not args.no_package:
        package_sizes()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
