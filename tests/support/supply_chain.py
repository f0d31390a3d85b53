"""What the project ships and depends on, for the supply-chain checks: the pinned
requirements' full dependency closure as installed, audited by pip-audit against the package
index; bandit over the code that runs in Lambda or on a developer's machine."""
from __future__ import annotations

import json
import subprocess  # nosec B404 # the audit tools are run with fixed argument lists
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS = Path(sys.executable).parent
BANDIT_TARGETS = ("chalicelib", "app.py", "local", "deploy")
INDEX_JSON = "https://pypi.org/pypi/{name}/json"


def pinned(requirements: Path) -> list[Requirement]:
    """The requirement lines of a file and of the files it includes with `-r`."""
    found: list[Requirement] = []
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += pinned(requirements.parent / line.removeprefix("-r ").strip())
        elif line:
            found.append(Requirement(line))
    return found


def closure(requirements: list[Requirement]) -> dict[str, str]:
    """Every distribution the requirements pull in, name -> installed version, walking the
    installed metadata (this environment is installed from exactly these files)."""
    versions: dict[str, str] = {}
    walked: set[tuple[str, tuple[str, ...]]] = set()
    pending = [(requirement, "") for requirement in requirements]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        name, extras = canonicalize_name(requirement.name), tuple(sorted(requirement.extras))
        if (name, extras) in walked:
            continue
        walked.add((name, extras))
        distribution = metadata.distribution(requirement.name)
        versions[name] = distribution.version
        for needed in map(Requirement, distribution.requires or []):
            pending += [(needed, wanted) for wanted in ("", *extras)]
    return dict(sorted(versions.items()))


@dataclass(frozen=True)
class Audit:
    """pip-audit's findings: `vulnerable` maps `name==version` to vulnerability ids;
    `unaudited` maps names pip-audit could not look up to its reason."""

    vulnerable: dict[str, list[str]]
    unaudited: dict[str, str]
    audited: int


def pip_audit(versions: dict[str, str], ignored: dict[str, str]) -> Audit:
    """pip-audit over exact pins (no resolution: the closure is already known)."""
    report = _pip_audit(versions, ignored)
    vulnerable = {f"{entry['name']}=={entry['version']}": [v["id"] for v in entry["vulns"]]
                  for entry in report if entry.get("vulns")}
    unaudited = {entry["name"]: entry["skip_reason"] for entry in report if "skip_reason" in entry}
    return Audit(vulnerable, unaudited, len(report) - len(unaudited))


def _pip_audit(versions: dict[str, str], ignored: dict[str, str]) -> list[dict]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as frozen:
        frozen.write("".join(f"{name}=={version}\n" for name, version in versions.items()))
        frozen.flush()
        argv = [str(TOOLS / "pip-audit"), "--no-deps", "--disable-pip", "-r", frozen.name,
                "--format", "json", "--progress-spinner", "off", "--timeout", "30"]
        argv += [flag for vulnerability in ignored for flag in ("--ignore-vuln", vulnerability)]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=300)  # nosec B603 # fixed argv
    if result.returncode not in (0, 1):  # 1: vulnerabilities found, reported in the JSON
        raise RuntimeError(result.stderr[-2000:])
    return json.loads(result.stdout)["dependencies"]


def index_vulnerabilities(name: str, version: str) -> list[str] | None:
    """The index's own vulnerability ids for `version`, when the index can say: its project
    document lists them for the latest release only, so None for any other version."""
    with urllib.request.urlopen(INDEX_JSON.format(name=name), timeout=30) as response:  # nosec B310 # https, fixed host
        document = json.load(response)
    if document["info"]["version"] != version:
        return None
    return [vulnerability["id"] for vulnerability in document.get("vulnerabilities", [])]


def bandit() -> dict:
    """bandit's JSON report over the shipped and developer code (findings justified inline
    with `# nosec <id> # why` count as skipped, not as results)."""
    argv = [str(TOOLS / "bandit"), "-q", "-r", *BANDIT_TARGETS, "-f", "json"]
    result = subprocess.run(argv, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)  # nosec B603 # fixed argv
    return json.loads(result.stdout)
