"""The private-bucket helper: the baseline every bucket gets, and the named exceptions it refuses without a reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from components import buckets
from tests.conftest import Resources

KEY = "arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ABORT = buckets.abort_incomplete_uploads()


class Holder(pulumi.ComponentResource):
    def __init__(self, make: Callable[[Holder], Any]) -> None:
        super().__init__("ecommerce:test:Holder", "holder")
        make(self)
        self.register_outputs({})


def test_baseline_private_bucket(build: Callable[..., Resources]) -> None:
    res = build(
        lambda: Holder(
            lambda h: buckets.private_bucket(
                "lake-raw", parent=h, tags={"Name": "lake-raw"}, kms_key_arn=KEY, lifecycle_rules=[ABORT]
            )
        )
    )
    types = sorted(r["type"].split(":")[-1] for r in res if r["name"] == "lake-raw")
    assert types == sorted(
        [
            "Bucket",
            "BucketPublicAccessBlock",
            "BucketOwnershipControls",
            "BucketServerSideEncryptionConfiguration",
            "BucketVersioning",
            "BucketLifecycleConfiguration",
            "BucketPolicy",
        ]
    ), types
    pab = res.named("lake-raw", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert pab["inputs"][flag] is True, f"{pab['urn']}: {flag}"
    sse = res.named(
        "lake-raw",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    rule = sse["inputs"]["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}, (
        sse["urn"]
    )
    assert rule["bucketKeyEnabled"] is True, sse["urn"]
    own = res.named("lake-raw", "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert own["inputs"]["rule"]["objectOwnership"] == "BucketOwnerEnforced", own["urn"]
    policy = res.named("lake-raw", "aws:s3/bucketPolicy:BucketPolicy")
    doc = json.loads(policy["inputs"]["policy"])
    tls = [s for s in doc["Statement"] if s["Effect"] == "Deny"]
    assert tls and tls[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, policy["urn"]
    for r in res:
        if r["name"] == "lake-raw":
            assert r["parent"].endswith("ecommerce:test:Holder::holder"), r["urn"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kms_key_arn": None}, "needs sse_s3_reason"),
        ({"kms_key_arn": KEY, "sse_s3_reason": "ALB logs"}, "choose one"),
        ({"versioned": False}, "needs unversioned_reason"),
        (
            {"lifecycle_rules": [{"id": "x", "status": "Enabled", "expiration": {"days": 3}}]},
            "aborts incomplete",
        ),
        (
            {"policy_statements": lambda b: [{"effect": "Allow", "actions": ["s3:GetObject"]}]},
            "TLS-only deny",
        ),
    ],
)
def test_exceptions_need_a_reason(
    build: Callable[..., Resources], kwargs: dict[str, Any], message: str
) -> None:
    args: dict[str, Any] = {"tags": {}, "kms_key_arn": KEY, "lifecycle_rules": [ABORT], **kwargs}
    with pytest.raises(Exception, match=message):
        build(lambda: Holder(lambda h: buckets.private_bucket("b", parent=h, **args)))


def test_named_exceptions_sse_s3_and_unversioned(build: Callable[..., Resources]) -> None:
    res = build(
        lambda: Holder(
            lambda h: buckets.private_bucket(
                "alb-logs",
                parent=h,
                tags={},
                kms_key_arn=None,
                sse_s3_reason="ELB writes access logs only to SSE-S3 buckets",
                versioned=False,
                unversioned_reason="access logs expire; a version history adds nothing",
                lifecycle_rules=[ABORT],
            )
        )
    )
    assert not res.of_type("aws:s3/bucketVersioning:BucketVersioning")
    sse = res.named(
        "alb-logs",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    assert sse["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}, sse[
        "urn"
    ]
