"""openapi.yaml, read once, and its documented schemas as validators of real responses."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.support.signing import REPO_ROOT

SPEC_URI = "urn:payment-webhooks:openapi"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "openapi.yaml").read_text(encoding="utf-8"))


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(path, method) -> operation object, for every operation the document declares."""
    return {(path, method): operation for path, item in spec["paths"].items()
            for method, operation in item.items() if method in HTTP_METHODS}


def response_object(spec: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    response = operations(spec)[(path, method)]["responses"][str(status)]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return response


def schema_errors(path: str, method: str, status: int, body: Any,
                  media_type: str = "application/json") -> list[str]:
    """Why `body` does not match what openapi.yaml documents for that response ([] if it does)."""
    spec = load_spec()
    schema = response_object(spec, path, method, status)["content"][media_type]["schema"]
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012))
    validator = Draft202012Validator(_absolute(schema), registry=registry)
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(body)]


def _absolute(schema: Any) -> Any:
    """The response's local refs (`#/components/...`) made absolute, to resolve in the
    registered document (refs inside what they point to then resolve there too)."""
    if isinstance(schema, dict):
        return {k: (SPEC_URI + v if k == "$ref" and v.startswith("#") else _absolute(v)) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_absolute(v) for v in schema]
    return schema

