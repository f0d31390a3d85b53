"""AWS X-Ray tracing: botocore calls plus named subsegments, and no cost when it is off.

When the stage does not trace (`TRACING` unset, as locally), `aws_xray_sdk` is never
imported: importing it is slow, because its recorder builds a sampling client at
import. When it does (`TRACING=xray`, set with `xray: true` in dev and prod), only
botocore is patched (not `patch_all`, which would also wrap requests, httplib, sqlite and
more we do not use), once, before the first AWS call."""
from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache
from typing import Any

from chalicelib.settings import get_settings


def enabled() -> bool:
    return get_settings().tracing


def install() -> None:
    """Patch botocore if this stage traces. Called before the first AWS client is built."""
    if enabled():
        _recorder()


def subsegment(name: str, **annotations: str) -> AbstractContextManager[Any]:
    """A named X-Ray subsegment around a block (annotations are indexed, so searchable),
    or a no-op context when tracing is off."""
    if not enabled():
        return nullcontext()
    return _AnnotatedSubsegment(_recorder(), name, annotations)


@lru_cache(maxsize=1)
def _recorder() -> Any:
    from aws_xray_sdk.core import patch, xray_recorder

    patch(("botocore",))
    return xray_recorder


class _AnnotatedSubsegment:
    def __init__(self, recorder: Any, name: str, annotations: dict[str, str]) -> None:
        self._manager = recorder.in_subsegment(name)
        self._annotations = annotations

    def __enter__(self) -> Any:
        subsegment = self._manager.__enter__()
        if subsegment is not None:  # None when there is no segment (context missing)
            for key, value in self._annotations.items():
                subsegment.put_annotation(key, value)
        return subsegment

    def __exit__(self, *exc_info: Any) -> Any:
        return self._manager.__exit__(*exc_info)
