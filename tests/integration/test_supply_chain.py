"""The supply chain (issue: reliability proof; docs/supply-chain.md): every pinned
dependency, with everything it pulls in, has no known vulnerability; bandit finds nothing in
the code that is not justified on its line; the Lambda package carries only the app and
what requirements.txt installs.

pip-audit asks the package index per release; an index that answers only per project
(whose document lists the latest release's vulnerabilities) is asked that way for packages
pinned at their latest release. A finding is fixed by bumping the pin, or justified in
docs/supply-chain.md and listed in IGNORED with the reason."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.support.report import publish
from tests.support.supply_chain import (
    REPO_ROOT, bandit, closure, index_vulnerabilities, pinned, pip_audit,
)

IGNORED: dict[str, str] = {}
"""Vulnerability id -> why it does not apply (each one also in docs/supply-chain.md)."""


def test_no_pinned_dependency_or_what_it_pulls_in_has_a_known_vulnerability() -> None:
    versions = closure(pinned(REPO_ROOT / "requirements-dev.txt"))
    assert closure(pinned(REPO_ROOT / "requirements.txt")).items() <= versions.items()
    with ThreadPoolExecutor(max_workers=16) as pool:  # the index's answers, while pip-audit runs
        asked = {name: pool.submit(index_vulnerabilities, name, version) for name, version in versions.items()}
        audit = pip_audit(versions, IGNORED)
        by_index = {name: asked[name].result() for name in audit.unaudited}
    assert audit.vulnerable == {}, audit.vulnerable
    found = {name: [v for v in ids if v not in IGNORED] for name, ids in by_index.items() if ids}
    assert {name: ids for name, ids in found.items() if ids} == {}
    checked = audit.audited + sum(ids is not None for ids in by_index.values())
    unchecked = sorted(f"{name}=={versions[name]}" for name, ids in by_index.items() if ids is None)
    publish("supply chain: pip-audit", f"{len(versions)} distributions, {audit.audited} audited by pip-audit, "
          f"{checked - audit.audited} by the index's project documents, {len(unchecked)} by neither: "
          f"{', '.join(unchecked)}")
    assert checked > 0, "the index answered for no package: nothing was audited"


def test_bandit_finds_nothing_unjustified_in_the_shipped_and_developer_code() -> None:
    report = bandit()
    findings = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in report["results"]]
    assert findings == []
    assert report["metrics"]["_totals"]["loc"] > 1000  # it did scan the code
