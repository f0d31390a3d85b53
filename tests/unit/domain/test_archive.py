"""What "older than N days" means, and the manifest (contract section 4). Pure."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.domain.archive import Manifest, ManifestPart, archive_cutoff, is_archivable

TODAY = date(2026, 11, 23)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_the_cutoff_is_today_minus_n_days() -> None:
    assert archive_cutoff(TODAY, 30) == date(2026, 10, 24)
    assert archive_cutoff(TODAY, 0) == TODAY
    with pytest.raises(ValueError):
        archive_cutoff(TODAY, -1)


@pytest.mark.parametrize(("created_at", "moves"), [
    ("2026-10-23T23:59:59.999999+00:00", True),   # the last instant of the day before the cutoff
    ("2026-10-24T00:00:00+00:00", False),         # the cutoff day itself stays
    ("2026-10-24T01:30:00+02:00", True),          # 2026-10-23T23:30Z: the UTC day counts
    ("2026-10-23T23:30:00-01:00", False),         # 2026-10-24T00:30Z
    ("2025-01-01T00:00:00+00:00", True),
])
def test_a_transaction_moves_when_its_utc_creation_day_is_before_the_cutoff(created_at: str, moves: bool) -> None:
    assert is_archivable(at(created_at), TODAY, 30) is moves


def part(n: int) -> ManifestPart:
    return ManifestPart(f"transactions/provider=stripe/dt=2026-10-01/part-{n:05d}.jsonl.gz", 10 + n, f"{n:064x}")


def test_the_manifest_document_has_exactly_the_contract_shape() -> None:
    manifest = Manifest("stripe", date(2026, 10, 1)).with_part(part(0)).with_part(part(1))
    assert json.loads(manifest.to_json()) == {
        "provider": "stripe", "date": "2026-10-01",
        "parts": [{"key": part(0).key, "lines": 10, "sha256": "0" * 64},
                  {"key": part(1).key, "lines": 11, "sha256": "0" * 63 + "1"}],
    }
    assert Manifest.from_json(manifest.to_json(), replaced=1) == manifest


def test_committing_a_part_marks_every_earlier_part_finished_and_only_the_last_one_open() -> None:
    manifest = Manifest("stripe", date(2026, 10, 1))
    assert (manifest.next_part, manifest.unfinished) == (0, ())
    manifest = manifest.with_part(part(0))
    assert (manifest.next_part, manifest.unfinished) == (1, (part(0),))
    manifest = manifest.with_part(part(1))
    assert manifest.unfinished == (part(1),)
    assert manifest.finished().unfinished == ()


def test_a_manifest_read_without_bookkeeping_trusts_no_part_to_be_finished() -> None:
    document = Manifest("stripe", date(2026, 10, 1)).with_part(part(0)).with_part(part(1)).to_json()
    assert Manifest.from_json(document).unfinished == (part(0), part(1))
    assert Manifest.from_json(document, replaced=99).unfinished == ()
