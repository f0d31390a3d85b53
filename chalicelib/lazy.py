"""Modules imported on first use, so that importing `app.py` stays cheap.

Why not `importlib.util.LazyLoader`: on Python 3.11 two threads touching a lazy module
for the first time can see it half-initialised, and `chalice local` serves requests on
threads. `importlib.import_module` takes the import lock, and after the first call is a
`sys.modules` lookup."""
from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name}>"
