"""The archive bucket and index as the template defines them. The emulator's
CloudFormation ignores bucket encryption, versioning, public access and lifecycle, and skips
bucket policies, so what AWS will get is asserted on the template itself."""
from __future__ import annotations

import json
from pathlib import Path

TEMPLATE = json.loads((Path(__file__).resolve().parents[3] / "infra" / "resources.json").read_text())
BUCKET = TEMPLATE["Resources"]["ArchiveBucket"]


def test_the_archive_bucket_is_encrypted_versioned_private_and_retained() -> None:
    props = BUCKET["Properties"]
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True,
        "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert BUCKET["DeletionPolicy"] == "Retain"


def test_archived_parts_go_to_glacier_after_90_days_and_never_expire() -> None:
    rules = BUCKET["Properties"]["LifecycleConfiguration"]["Rules"]
    assert [r["Transitions"] for r in rules] == [[{"StorageClass": "GLACIER", "TransitionInDays": 90}]]
    assert not any(key.startswith(("Expiration", "NoncurrentVersionExpiration")) for r in rules for key in r)


def test_the_bucket_policy_refuses_every_request_not_made_over_tls() -> None:
    policy = TEMPLATE["Resources"]["ArchiveBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "ArchiveBucket"}
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == ("Deny", "*", "s3:*")
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(statement["Resource"]) == 2  # the bucket and its objects


def test_the_bucket_name_is_an_output_for_archive_bucket() -> None:
    assert TEMPLATE["Outputs"]["ArchiveBucketName"]["Value"] == {"Ref": "ArchiveBucket"}


def test_the_archivable_index_is_keyed_by_shard_and_creation_time_and_holds_whole_items() -> None:
    table = TEMPLATE["Resources"]["TransactionsTable"]["Properties"]
    (index,) = [i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == "archivable"]
    assert index["KeySchema"] == [{"AttributeName": "archive_shard", "KeyType": "HASH"},
                                  {"AttributeName": "created_key", "KeyType": "RANGE"}]
    assert index["Projection"] == {"ProjectionType": "ALL"}
