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


# --- a deferred policy: the bucket first, its policy once what the policy names exists -----------------------------

READ_FOR_TEST: dict[str, Any] = {
    "sid": "ReadForTest",
    "effect": "Allow",
    "principals": [{"type": "Service", "identifiers": ["cloudfront.amazonaws.com"]}],
    "actions": ["s3:GetObject"],
    "resources": ["arn:aws:s3:::site/*"],
}


def _deferred(
    attach: Callable[[buckets.PrivateBucket], Any], seen: list[buckets.PrivateBucket] | None = None
) -> Callable[[Holder], Any]:
    def make(h: Holder) -> None:
        made = buckets.private_bucket(
            "site",
            parent=h,
            tags={},
            kms_key_arn=KEY,
            lifecycle_rules=[ABORT],
            policy_statements=buckets.DEFERRED,
            region="us-east-1",
        )
        if seen is not None:
            seen.append(made)
        attach(made)

    return make


def test_deferred_policy_is_created_by_attach_policy_in_order(build: Callable[..., Resources]) -> None:
    before: list[Any] = []

    def attach(b: buckets.PrivateBucket) -> None:
        before.append(b.policy)
        b.attach_policy([READ_FOR_TEST, buckets.deny_insecure_transport(b.arn)])

    seen: list[buckets.PrivateBucket] = []
    res = build(lambda: Holder(_deferred(attach, seen)))
    assert before == [None], "a deferred bucket has no policy until attach_policy"
    policy = res.named("site", "aws:s3/bucketPolicy:BucketPolicy")
    assert seen[0].policy is not None, f"{policy['urn']}: attach_policy fills PrivateBucket.policy"
    sids = [s.get("Sid") for s in json.loads(policy["inputs"]["policy"])["Statement"]]
    assert sids == ["ReadForTest", "DenyInsecureTransport"], (
        f"{policy['urn']}: statements keep the caller's order"
    )
    assert policy["parent"].endswith("ecommerce:test:Holder::holder"), policy["urn"]


def test_deferred_policy_is_managed_in_the_buckets_region(build: Callable[..., Resources]) -> None:
    """S3 serves a bucket's configuration only from the bucket's own region (elsewhere: PermanentRedirect, "must be
    addressed using the specified endpoint"), so the late policy carries the bucket's `region` like the rest."""
    res = build(
        lambda: Holder(_deferred(lambda b: b.attach_policy([buckets.deny_insecure_transport(b.arn)])))
    )
    for r in res:
        if r["name"] == "site":
            assert r["inputs"].get("region") == "us-east-1", f"{r['urn']}: not in the bucket's region"


@pytest.mark.parametrize(
    ("attach", "message"),
    [
        (lambda b: b.attach_policy([READ_FOR_TEST]), "TLS-only deny"),
        (
            lambda b: [b.attach_policy([buckets.deny_insecure_transport(b.arn)]) for _ in range(2)],
            "has its policy already",
        ),
    ],
    ids=["without-tls-deny", "twice"],
)
def test_attach_policy_refuses(
    build: Callable[..., Resources], attach: Callable[[buckets.PrivateBucket], Any], message: str
) -> None:
    with pytest.raises(Exception, match=message):
        build(lambda: Holder(_deferred(attach)))


def test_attach_policy_refuses_a_bucket_whose_policy_was_not_deferred(
    build: Callable[..., Resources],
) -> None:
    def make(h: Holder) -> None:
        made = buckets.private_bucket("b", parent=h, tags={}, kms_key_arn=KEY, lifecycle_rules=[ABORT])
        made.attach_policy([buckets.deny_insecure_transport(made.arn)])

    with pytest.raises(Exception, match="has its policy already"):
        build(lambda: Holder(make))


def test_a_deferred_bucket_has_no_policy_until_attached(build: Callable[..., Resources]) -> None:
    res = build(lambda: Holder(_deferred(lambda b: None)))
    bucket = res.named("site", "aws:s3/bucket:Bucket")
    assert not res.of_type("aws:s3/bucketPolicy:BucketPolicy"), (
        f"{bucket['urn']}: DEFERRED must not create a policy by itself (the pack's s3-tls-only rule catches one "
        "never attached)"
    )


def test_every_bucket_of_the_program_goes_through_the_helper() -> None:
    """Issue 13: `private_bucket()` is the only place that creates an S3 bucket, so none misses the baseline."""
    import re

    from tools.offline.engine import ROOT

    creators = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "components").rglob("*.py"))
        if path.name != "buckets.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bs3\.Bucket(V2)?\(", line)
    ]
    assert creators == [], f"buckets created outside components/buckets.py: {creators}"
