"""S3 stack rules (bucket joined with its configuration resources) and resource-policy rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.policies.cases import Case, check
from tests.policies.helpers import UNKNOWN, R, provider, violations

P = provider("prod")
KEY_ARN = "arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ACCOUNT_PAB = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
ALL_ON = {
    "blockPublicAcls": True,
    "blockPublicPolicy": True,
    "ignorePublicAcls": True,
    "restrictPublicBuckets": True,
}


def bucket_set(name: str = "orders-data", **overrides: Any) -> list[dict[str, Any]]:
    """A compliant bucket with every configuration resource; `overrides` replace one by role (None drops it)."""
    bucket = R("aws:s3/bucket:Bucket", name, {"bucket": f"{name}-bucket"})
    link = {"bucket": [bucket]}
    tls = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{name}-bucket", f"arn:aws:s3:::{name}-bucket/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    parts: dict[str, dict[str, Any] | None] = {
        "sse": R(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            f"{name}-sse",
            {
                "bucket": UNKNOWN,
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "aws:kms",
                            "kmsMasterKeyId": KEY_ARN,
                        },
                        "bucketKeyEnabled": True,
                    }
                ],
            },
            deps=link,
        ),
        "pab": R(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            f"{name}-pab",
            {
                "bucket": UNKNOWN,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
            deps=link,
        ),
        "ownership": R(
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            f"{name}-ownership",
            {"bucket": UNKNOWN, "rule": {"objectOwnership": "BucketOwnerEnforced"}},
            deps=link,
        ),
        "policy": R(
            "aws:s3/bucketPolicy:BucketPolicy",
            f"{name}-policy",
            {"bucket": UNKNOWN, "policy": json.dumps(tls)},
            deps=link,
        ),
        "versioning": R(
            "aws:s3/bucketVersioning:BucketVersioning",
            f"{name}-versioning",
            {"bucket": UNKNOWN, "versioningConfiguration": {"status": "Enabled"}},
            deps=link,
        ),
        "lifecycle": R(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            f"{name}-lifecycle",
            {
                "bucket": UNKNOWN,
                "rules": [
                    {
                        "id": "abort",
                        "status": "Enabled",
                        "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
                    }
                ],
            },
            deps=link,
        ),
    }
    for role, replacement in overrides.items():
        parts[role] = replacement
    return [P, bucket, *[p for p in parts.values() if p is not None]]


def edit(
    role: str, change: Callable[[dict[str, Any]], None], name: str = "orders-data"
) -> list[dict[str, Any]]:
    """The compliant set with one configuration resource's inputs changed."""
    resources = bucket_set(name)
    for r in resources:
        if r["name"] == f"{name}-{role}":
            change(r["inputs"])
    return resources


def _drop_flags(inputs: dict[str, Any]) -> None:
    for k in [k for k in inputs if k != "bucket"]:
        inputs.pop(k)


def by_name(value: str) -> list[dict[str, Any]]:
    """Configuration joined by the bucket's name (no property dependency): the value path."""
    resources = bucket_set()
    for r in resources[2:]:
        r["propertyDependencies"] = {}
        r["dependencies"] = []
        r["inputs"]["bucket"] = value
    return resources


def resource_policy_case(type_: str, prop: str, statement: dict[str, Any]) -> list[dict[str, Any]]:
    return [P, R(type_, "res", {prop: json.dumps({"Version": "2012-10-17", "Statement": [statement]})})]


PUBLIC = {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}
SCOPED = {
    **PUBLIC,
    "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-2:123456789012:orders"}},
}

CASES = [
    # s3-sse-kms
    Case("s3-sse-kms", "no encryption resource", bucket_set(sse=None), True, "server-side encryption"),
    Case(
        "s3-sse-kms",
        "sse-s3",
        edit(
            "sse", lambda i: i["rules"][0]["applyServerSideEncryptionByDefault"].update(sseAlgorithm="AES256")
        ),
        True,
        "sseAlgorithm",
    ),
    Case(
        "s3-sse-kms",
        "aws-managed key",
        edit(
            "sse",
            lambda i: i["rules"][0]["applyServerSideEncryptionByDefault"].update(
                kmsMasterKeyId="alias/aws/s3"
            ),
        ),
        True,
        "kmsMasterKeyId",
    ),
    Case(
        "s3-sse-kms",
        "bucket key off",
        edit("sse", lambda i: i["rules"][0].update(bucketKeyEnabled=False)),
        True,
        "bucketKeyEnabled",
    ),
    # s3-public-access-block-flags: judged on the block alone (its bucket may live in another stack)
    Case(
        "s3-public-access-block-flags",
        "a flag off, no bucket in this stack",
        [
            P,
            R(
                PAB,
                "shared-pab",
                {"bucket": "other-stack-bucket", **{**ALL_ON, "restrictPublicBuckets": False}},
            ),
        ],
        True,
        "restrictPublicBuckets",
    ),
    Case(
        "s3-public-access-block-flags",
        "account block with a flag off",
        [P, R(ACCOUNT_PAB, "account-pab", {**ALL_ON, "blockPublicPolicy": False})],
        True,
        "blockPublicPolicy",
    ),
    Case(
        "s3-public-access-block-flags",
        "missing flags default to false",
        [P, R(PAB, "bare-pab", {"bucket": "other-stack-bucket", "blockPublicAcls": True})],
        True,
        "ignorePublicAcls",
    ),
    Case(
        "s3-public-access-block-flags",
        "all four on",
        [P, R(PAB, "shared-pab", {"bucket": "b", **ALL_ON})],
        False,
    ),
    Case(
        "s3-public-access-block-flags",
        "flag unknown during preview",
        [P, R(PAB, "shared-pab", {"bucket": "b", **{**ALL_ON, "blockPublicAcls": UNKNOWN}})],
        False,
    ),
    Case("s3-sse-kms", "compliant", bucket_set(), False),
    Case("s3-sse-kms", "joined by bucket name", by_name("orders-data-bucket"), False),
    Case(
        "s3-sse-kms",
        "key unknown during preview",
        edit(
            "sse",
            lambda i: i["rules"][0]["applyServerSideEncryptionByDefault"].update(kmsMasterKeyId=UNKNOWN),
        ),
        False,
    ),
    Case("s3-sse-kms", "missing rules", edit("sse", lambda i: i.pop("rules")), True),
    Case(
        "s3-sse-kms",
        "inline v7 block",
        [
            P,
            R(
                "aws:s3/bucket:Bucket",
                "inline",
                {
                    "serverSideEncryptionConfiguration": {
                        "rule": {
                            "applyServerSideEncryptionByDefault": {
                                "sseAlgorithm": "aws:kms",
                                "kmsMasterKeyId": KEY_ARN,
                            },
                            "bucketKeyEnabled": True,
                        }
                    }
                },
            ),
        ],
        False,
    ),
    # s3-block-public
    Case(
        "s3-block-public",
        "flag off",
        edit("pab", lambda i: i.update(restrictPublicBuckets=False)),
        True,
        "restrictPublicBuckets",
    ),
    Case("s3-block-public", "no public access block", bucket_set(pab=None), True, "public access block"),
    Case(
        "s3-block-public",
        "acls enabled",
        edit("ownership", lambda i: i.update(rule={"objectOwnership": "ObjectWriter"})),
        True,
        "objectOwnership",
    ),
    Case(
        "s3-block-public",
        "public-read acl",
        bucket_set(
            acl=R(
                "aws:s3/bucketAcl:BucketAcl",
                "orders-data-acl",
                {"bucket": "orders-data-bucket", "acl": "public-read"},
            )
        ),
        True,
        "acl",
    ),
    Case("s3-block-public", "compliant", bucket_set(), False),
    Case(
        "s3-block-public",
        "missing flags",
        edit("pab", _drop_flags),
        True,
    ),
    # s3-tls-only
    Case("s3-tls-only", "no bucket policy", bucket_set(policy=None), True, "bucket policy"),
    Case(
        "s3-tls-only",
        "policy without the deny",
        edit(
            "policy",
            lambda i: i.update(
                policy=json.dumps(
                    {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudfront.amazonaws.com"},
                                "Action": "s3:GetObject",
                                "Resource": "*",
                            }
                        ]
                    }
                )
            ),
        ),
        True,
        "SecureTransport",
    ),
    Case("s3-tls-only", "compliant", bucket_set(), False),
    Case(
        "s3-tls-only",
        "policy unknown during preview",
        edit("policy", lambda i: i.update(policy=UNKNOWN)),
        False,
    ),
    Case("s3-tls-only", "missing policy property", edit("policy", lambda i: i.pop("policy")), True),
    # s3-versioning-lifecycle
    Case(
        "s3-versioning-lifecycle",
        "versioning suspended",
        edit("versioning", lambda i: i.update(versioningConfiguration={"status": "Suspended"})),
        True,
        "versioning",
    ),
    Case("s3-versioning-lifecycle", "no lifecycle", bucket_set(lifecycle=None), True, "lifecycle"),
    Case(
        "s3-versioning-lifecycle",
        "lifecycle without abort",
        edit("lifecycle", lambda i: i["rules"][0].pop("abortIncompleteMultipartUpload")),
        True,
        "lifecycle",
    ),
    Case("s3-versioning-lifecycle", "compliant", bucket_set(), False),
    Case(
        "s3-versioning-lifecycle",
        "log bucket needs no versioning",
        bucket_set("access-logs", versioning=None),
        False,
    ),
    Case("s3-versioning-lifecycle", "missing rules", edit("lifecycle", lambda i: i.pop("rules")), True),
    # resource-policy-not-public
    Case(
        "resource-policy-not-public",
        "queue open to everyone",
        resource_policy_case("aws:sqs/queuePolicy:QueuePolicy", "policy", PUBLIC),
        True,
        "policy",
    ),
    Case(
        "resource-policy-not-public",
        "key open to everyone",
        resource_policy_case("aws:kms/key:Key", "policy", {**PUBLIC, "Action": "kms:Decrypt"}),
        True,
    ),
    Case(
        "resource-policy-not-public",
        "queue scoped to the topic",
        resource_policy_case("aws:sqs/queuePolicy:QueuePolicy", "policy", SCOPED),
        False,
    ),
    Case(
        "resource-policy-not-public",
        "oac bucket policy",
        resource_policy_case(
            "aws:s3/bucketPolicy:BucketPolicy",
            "policy",
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"}
                },
            },
        ),
        False,
    ),
    Case(
        "resource-policy-not-public",
        "missing policy",
        [P, R("aws:sns/topicPolicy:TopicPolicy", "tp", {})],
        False,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case) -> None:
    check(case)


def test_configuration_of_another_bucket_does_not_count() -> None:
    resources = [*bucket_set("a"), *bucket_set("b", sse=None)[1:]]
    names = {f.name for f in violations("s3-sse-kms", resources)}
    assert names == {"b"}, names


def test_log_bucket_pattern_is_configurable() -> None:
    resources = bucket_set("audit-trail", versioning=None)
    assert violations("s3-versioning-lifecycle", resources)
    assert not violations("s3-versioning-lifecycle", resources, config={"logBucketPattern": "audit"})
