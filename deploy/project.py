"""A build copy of the Chalice project with the stage's policy files rendered.

Why a copy: the checked-in policy files keep `${AWS::Region}`/`${AWS::AccountId}` (one
file for every account, see deploy.policies), and Chalice reads them verbatim. So both
deploy paths run Chalice in a copy whose `.chalice/` holds the rendered files: concrete
ARNs for `chalice deploy`, `Fn::Sub` objects for `chalice package` (Chalice embeds the
document as-is in the template, so CloudFormation completes it). The copy also gets the
optional webhook allowlist as `api_gateway_policy_file`.

Chalice's deployment state (`.chalice/deployed/`) and its dependency-zip cache
(`.chalice/deployments/`) are links to the repository's own, so `chalice url`,
`chalice logs` and `chalice delete` from the repository root see what was deployed, and
dependencies are built once."""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from deploy.edge import webhook_resource_policy
from deploy.stage import REPO_ROOT, load_chalice_config

APP_SOURCES = ("app.py", "chalicelib", "requirements.txt", "vendor")
SHARED_STATE = ("deployed", "deployments")

Document = dict[str, Any]


def assemble(
    stage: str,
    dest: Path,
    render_policy: Callable[[Document], Document],
    allowlist: Mapping[str, list[str]] | None = None,
    environment: Mapping[str, str] | None = None,
    repo_root: Path = REPO_ROOT,
) -> Path:
    """Write the build copy for `stage` into `dest` (emptied first); return `dest`.

    `environment` adds stage environment variables known only at deploy time (e.g. a
    stream ARN from the stack outputs)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in APP_SOURCES:
        source = repo_root / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.exists():
            shutil.copy2(source, dest / name)
    chalice_dir = dest / ".chalice"
    chalice_dir.mkdir()
    repo_chalice = repo_root / ".chalice"
    for name in SHARED_STATE:
        (repo_chalice / name).mkdir(exist_ok=True)
        (chalice_dir / name).symlink_to((repo_chalice / name).resolve(), target_is_directory=True)

    config = load_chalice_config(repo_chalice)
    stage_config = config["stages"][stage]
    for name in policy_files(stage_config):
        document = json.loads((repo_chalice / name).read_text(encoding="utf-8"))
        _write_json(chalice_dir / name, render_policy(document))
    if allowlist:
        name = f"api-policy-{stage}.json"
        _write_json(chalice_dir / name, webhook_resource_policy(allowlist))
        stage_config["api_gateway_policy_file"] = name
    if environment:
        stage_config["environment_variables"] = {**stage_config.get("environment_variables", {}), **environment}
    _write_json(chalice_dir / "config.json", config)
    return dest


def policy_files(stage_config: Mapping[str, Any]) -> list[str]:
    """Every `iam_policy_file` the stage names (stage-wide and per function)."""
    names = {stage_config.get("iam_policy_file")}
    names |= {f.get("iam_policy_file") for f in stage_config.get("lambda_functions", {}).values()}
    return sorted(n for n in names if n)


def _write_json(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
