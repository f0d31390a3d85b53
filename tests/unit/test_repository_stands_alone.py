"""A newcomer has only this repository: no tracked file may point at a path on the machine it
was written on, or at a sibling directory outside the repository."""
from __future__ import annotations

import re
import subprocess

from tests.support.signing import REPO_ROOT

# Spelled in pieces so that this file does not match itself.
OUTSIDE = re.compile("|".join([
    re.escape("/" + "work/"),
    re.escape(".." + "/shared"),
    r"/" + r"home/[a-z_][\w.-]*/",
    r"/" + r"Users/[\w.-]+/",
    r"/" + r"root/",
]))


def tracked_text_files() -> dict[str, str]:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    texts = {}
    for name in filter(None, names):
        path = REPO_ROOT / name
        if not path.is_file():  # deleted in the working tree, not yet committed
            continue
        data = path.read_bytes()
        if b"\0" not in data:
            texts[name] = data.decode("utf-8", errors="replace")
    return texts


def machine_paths(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if OUTSIDE.search(line)]


def test_the_pattern_catches_machine_paths_and_sibling_directories() -> None:
    assert machine_paths("see ../" + "shared/api-contract.md")
    assert machine_paths("copied from /" + "work/shared/fixtures")
    assert machine_paths("cd /" + "home/alice/src")
    assert not machine_paths("tests/fixtures/stripe/charge.refunded.json and ../README.md")


def test_no_tracked_file_names_a_machine_path_or_a_directory_outside_the_repository() -> None:
    files = tracked_text_files()
    assert "README.md" in files
    found = {name: lines for name, text in files.items() if (lines := machine_paths(text))}
    assert found == {}


LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_every_relative_link_in_the_docs_reaches_a_file_and_heading_of_the_repository() -> None:
    broken = []
    for name, text in tracked_text_files().items():
        if not name.endswith(".md"):
            continue
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            resolved = (REPO_ROOT / name).parent / path if path else REPO_ROOT / name
            if not resolved.exists():
                broken.append(f"{name}: {target}")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved.read_text()):
                broken.append(f"{name}: {target}")
    assert broken == []
