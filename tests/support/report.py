"""Where the reliability tables go: to the file `RELIABILITY_REPORT` names (`make
reliability` prints it after the run, away from the app's log lines), else to stdout, which
pytest shows with `-s`."""
from __future__ import annotations

import os


def publish(title: str, text: str) -> None:
    block = f"\n== {title}\n{text}\n"
    path = os.environ.get("RELIABILITY_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as report:
            report.write(block)
    else:
        print(block)
