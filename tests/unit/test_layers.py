"""Layers point one way: api -> services -> domain/storage, never back. Read from the
imports themselves (`ast`), so a back edge fails here before anyone has to spot it.

- domain imports only the domain, the standard library and pydantic (pure rules);
- storage never imports services, api or providers (it keeps layouts and conditions);
- services never import api;
- nothing in chalicelib imports the local stack, deploy tooling, benchmarks or tests."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
OUTSIDE_THE_APP = ("local", "deploy", "benchmarks", "tests", "app")
RULES: dict[str, tuple[str, ...]] = {
    # layer: packages it must not import
    "chalicelib.storage": ("chalicelib.services", "chalicelib.api", "chalicelib.providers"),
    "chalicelib.services": ("chalicelib.api",),
}
DOMAIN_MAY_IMPORT = ("chalicelib.domain", "pydantic")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """Absolute names of every module `path` imports, wherever the import statement is
    (inside a function or an `if TYPE_CHECKING:` block counts too)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: `from . import x` is the package itself
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            if name == "chalicelib":  # `from chalicelib import wiring`: the module is the name
                found.extend((node.lineno, f"{name}.{alias.name}") for alias in node.names)
    return found


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def is_standard_library(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names


def violations(path: Path) -> list[str]:
    module = module_name(path)
    broken = []
    for line, name in imports(path):
        where = f"{path.relative_to(REPO_ROOT)}:{line} imports {name}"
        if any(within(name, outside) for outside in OUTSIDE_THE_APP):
            broken.append(f"{where} (outside the app)")
        for layer, forbidden in RULES.items():
            if within(module, layer) and any(within(name, f) for f in forbidden):
                broken.append(f"{where} ({layer} must not point there)")
        if within(module, "chalicelib.domain") and not (
            is_standard_library(name) or any(within(name, allowed) for allowed in DOMAIN_MAY_IMPORT)
        ):
            broken.append(f"{where} (the domain imports only the domain, stdlib and pydantic)")
    return broken


SOURCES = sorted((REPO_ROOT / "chalicelib").rglob("*.py"))


def test_the_rules_see_every_layer() -> None:
    names = {module_name(path) for path in SOURCES}
    for layer in ("chalicelib.domain", "chalicelib.storage", "chalicelib.services", "chalicelib.api"):
        assert any(within(name, layer) for name in names), layer


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_imports_point_one_way(path: Path) -> None:
    assert violations(path) == []


def test_a_back_edge_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checker itself can fail: a storage module importing a provider, a service
    importing the API, a domain module importing boto3, and an import of the local stack."""
    fake_root = tmp_path
    monkeypatch.setattr(sys.modules[__name__], "REPO_ROOT", fake_root)
    for relative, source in {
        "chalicelib/storage/bad.py": "from chalicelib.providers.secrets import WebhookSecrets\n",
        "chalicelib/services/bad.py": "def f():\n    from chalicelib.api import views\n",
        "chalicelib/domain/bad.py": "import boto3\nfrom . import status\n",
        "chalicelib/bad.py": "from local.provision import provision\n",
    }.items():
        (fake_root / relative).parent.mkdir(parents=True, exist_ok=True)
        (fake_root / relative).write_text(source)
    found = {relative: violations(fake_root / relative) for relative in (
        "chalicelib/storage/bad.py", "chalicelib/services/bad.py", "chalicelib/domain/bad.py",
        "chalicelib/bad.py")}
    assert all(len(v) == 1 for v in found.values()), found
    assert "boto3" in found["chalicelib/domain/bad.py"][0]
