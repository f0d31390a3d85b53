"""The archive bucket's clean-up of parts a crashed run uploaded but never committed."""
from __future__ import annotations

from datetime import date

import pytest

from chalicelib.domain.archive import Manifest
from chalicelib.storage.archive.bucket import ArchiveBucket, ArchiveIntegrityError

DAY = date(2026, 1, 1)


@pytest.fixture
def bucket(aws) -> ArchiveBucket:
    return ArchiveBucket(aws.client("s3"), aws.outputs["ArchiveBucketName"])


def stray_part(aws, bucket: ArchiveBucket) -> str:
    key = bucket.part_key("stripe", DAY, 0)
    aws.client("s3").put_object(Bucket=bucket.name, Key=key, Body=b"leftover")
    return key


def test_parts_the_manifest_does_not_list_are_deleted(aws, bucket) -> None:
    key = stray_part(aws, bucket)
    assert bucket.delete_uncommitted(Manifest("stripe", DAY)) == [key]
    listed = aws.client("s3").list_objects_v2(Bucket=bucket.name, Prefix=bucket.prefix("stripe", DAY))
    assert listed.get("KeyCount", 0) == 0


def test_a_refused_delete_stops_the_run_instead_of_archiving_on_top_of_it(aws, bucket) -> None:
    key = stray_part(aws, bucket)
    client = aws.client("s3")


    def answer_with_errors(parsed, **_):
        parsed["Errors"] = [{"Key": key, "Code": "AccessDenied", "Message": "denied"}]

    client.meta.events.register("after-call.s3.DeleteObjects", answer_with_errors)
    with pytest.raises(ArchiveIntegrityError, match="AccessDenied"):
        bucket.delete_uncommitted(Manifest("stripe", DAY))
