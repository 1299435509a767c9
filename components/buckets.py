"""One private S3 bucket the way every bucket of this program must be: no public path, no ACLs, SSE-KMS with a
customer key and a bucket key, TLS only, versioned, a lifecycle that aborts incomplete uploads.

`private_bucket()` creates the bucket and its configuration resources (pulumi-aws v7 configures a bucket through
separate resources), all named like the bucket and parented to the calling component, so the policy pack's S3
rules join them to it. The parts that differ per bucket are arguments; the parts that must never differ are not.
An exception to the baseline is a named argument that carries its AWS reason (it is printed nowhere, but a reader
of the call site sees why): SSE-S3 where a service cannot write with KMS (`sse_s3_reason`), no versioning where the
objects are disposable (`unversioned_reason`). Policies and lifecycle rules are the caller's, checked here: a
policy must carry the TLS-only deny (`deny_insecure_transport`) and some lifecycle rule must abort incomplete
multipart uploads — a missing one is a programming error raised at preview, before anything is created.

A policy that must name something created after the bucket (CloudFront's Origin Access Control names the
distribution, whose origin is the bucket) is deferred: `policy_statements=DEFERRED` creates everything but the
policy, and `PrivateBucket.attach_policy(statements)` creates it later, with the same TLS-only check. A deferred
policy that is never attached leaves the bucket without one; the policy pack's `s3-tls-only` rule refuses that plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi
import pulumi_aws as aws

from components import iam

#: Days after which an unfinished multipart upload's parts are removed (they are billed, and invisible).
ABORT_INCOMPLETE_DAYS = 7


class _Deferred:
    """The type of `DEFERRED`."""

    def __repr__(self) -> str:
        return "DEFERRED"


#: `policy_statements=DEFERRED`: the policy comes later, through `PrivateBucket.attach_policy`.
DEFERRED: Final = _Deferred()


@dataclass(frozen=True)
class _PolicyPlace:
    """Where a deferred bucket policy is created: its resource name, parent and region."""

    name: str
    parent: pulumi.Resource
    region: str | None


@dataclass(frozen=True)
class PrivateBucket:
    """The bucket and the configuration resources others may need to wait for."""

    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning | None
    #: None until `attach_policy` when the policy was deferred.
    policy: aws.s3.BucketPolicy | None
    _place: _PolicyPlace | None = field(default=None, repr=False, compare=False)

    def attach_policy(self, statements: Sequence[iam.Statement]) -> aws.s3.BucketPolicy:
        """Create the deferred bucket policy from `statements` (in order); they must include the TLS-only deny."""
        if self._place is None:
            raise ValueError(
                "attach_policy needs a bucket made by private_bucket(policy_statements=DEFERRED)"
            )
        if self.policy is not None:
            raise ValueError(
                f"{self._place.name}: the bucket has its policy already (S3 allows one per bucket); "
                "make it with policy_statements=DEFERRED to attach one later"
            )
        policy = _bucket_policy(self._place, self.bucket, statements)
        # The one field that is filled after construction, once: callers see `policy` as soon as it exists.
        object.__setattr__(self, "policy", policy)
        return policy

    @property
    def id(self) -> pulumi.Output[str]:
        return self.bucket.id

    @property
    def arn(self) -> pulumi.Output[str]:
        return self.bucket.arn

    @property
    def name(self) -> pulumi.Output[str]:
        return self.bucket.bucket

    def objects(self, prefix: str = "") -> pulumi.Output[str]:
        """The ARN pattern of the objects under `prefix` (`arn:...:bucket/prefix*`)."""
        return pulumi.Output.concat(self.bucket.arn, "/", prefix, "*")


def deny_insecure_transport(
    bucket_arn: pulumi.Input[str], sid: str = "DenyInsecureTransport"
) -> iam.Statement:
    """Deny every request that does not arrive over TLS (Security Hub S3.5)."""
    return {
        "sid": sid,
        "effect": "Deny",
        "principals": [{"type": "*", "identifiers": ["*"]}],
        "actions": ["s3:*"],
        "resources": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
        "conditions": [iam.condition("Bool", "aws:SecureTransport", "false")],
    }


def abort_incomplete_uploads(
    rule_id: str = "abort-incomplete-uploads", days: int = ABORT_INCOMPLETE_DAYS
) -> aws.s3.BucketLifecycleConfigurationRuleArgsDict:
    """A lifecycle rule that only removes unfinished multipart uploads."""
    return {
        "id": rule_id,
        "status": "Enabled",
        "filter": {"prefix": ""},
        "abort_incomplete_multipart_upload": {"days_after_initiation": days},
    }


def expire_noncurrent(
    days: int, rule_id: str = "expire-noncurrent"
) -> aws.s3.BucketLifecycleConfigurationRuleArgsDict:
    """A lifecycle rule that removes versions `days` after they stopped being current (a versioned bucket's undo)."""
    return {
        "id": rule_id,
        "status": "Enabled",
        "filter": {"prefix": ""},
        "noncurrent_version_expiration": {"noncurrent_days": days},
    }


def _is_tls_deny(statement: Mapping[str, Any]) -> bool:
    return statement.get("effect") == "Deny" and any(
        c.get("variable") == "aws:SecureTransport" and list(c.get("values") or []) == ["false"]
        for c in statement.get("conditions") or []
    )


def private_bucket(
    name: str,
    *,
    parent: pulumi.Resource,
    tags: Mapping[str, str],
    kms_key_arn: pulumi.Input[str] | None,
    lifecycle_rules: Sequence[aws.s3.BucketLifecycleConfigurationRuleArgsDict],
    policy_statements: Callable[[aws.s3.Bucket], Sequence[iam.Statement]] | _Deferred | None = None,
    versioned: bool = True,
    unversioned_reason: str | None = None,
    sse_s3_reason: str | None = None,
    bucket: pulumi.Input[str] | None = None,
    bucket_prefix: pulumi.Input[str] | None = None,
    force_destroy: bool = False,
    region: str | None = None,
    bucket_opts: pulumi.ResourceOptions | None = None,
    lifecycle_after_versioning: bool = False,
) -> PrivateBucket:
    """Create a private bucket `name` and its configuration, children of `parent`.

    :param kms_key_arn: the customer-managed key for SSE-KMS; None only with `sse_s3_reason`.
    :param lifecycle_rules: the bucket's lifecycle rules (snake_case args); one must abort incomplete uploads.
    :param policy_statements: the bucket policy's statements, in order, given the bucket; they must include
        `deny_insecure_transport(bucket.arn)`. None: a policy with only that statement. `DEFERRED`: no policy
        yet; `attach_policy` creates it once what it names exists.
    :param versioned: keep versions; turning it off needs `unversioned_reason`.
    :param sse_s3_reason: why this bucket cannot use SSE-KMS (e.g. ALB access logs accept SSE-S3 only).
    :param bucket_opts: options of the bucket itself (protect/retain for data); its configuration resources are
        plain children of `parent`.
    :param lifecycle_after_versioning: make the lifecycle wait for versioning (noncurrent-version rules).
    """
    if kms_key_arn is None and not sse_s3_reason:
        raise ValueError(
            f"{name}: a bucket without a customer-managed key needs sse_s3_reason (why KMS cannot work)"
        )
    if kms_key_arn is not None and sse_s3_reason:
        raise ValueError(f"{name}: sse_s3_reason given, but so is a KMS key; choose one")
    if not versioned and not unversioned_reason:
        raise ValueError(
            f"{name}: an unversioned bucket needs unversioned_reason (why its objects are disposable)"
        )
    if not any(rule.get("abort_incomplete_multipart_upload") for rule in lifecycle_rules):
        raise ValueError(f"{name}: no lifecycle rule aborts incomplete multipart uploads (S3.13)")

    child = pulumi.ResourceOptions(parent=parent)
    where: dict[str, Any] = {"region": region}
    resource = aws.s3.Bucket(
        name,
        bucket=bucket,
        bucket_prefix=bucket_prefix,
        force_destroy=force_destroy,
        tags=dict(tags),
        opts=pulumi.ResourceOptions.merge(child, bucket_opts),
        **where,
    )
    aws.s3.BucketPublicAccessBlock(
        name,
        bucket=resource.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
        **where,
    )
    aws.s3.BucketOwnershipControls(
        name, bucket=resource.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child, **where
    )
    encryption: aws.s3.BucketServerSideEncryptionConfigurationRuleArgsDict = (
        {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}
        if kms_key_arn is None
        else {
            "apply_server_side_encryption_by_default": {
                "sse_algorithm": "aws:kms",
                "kms_master_key_id": kms_key_arn,
            },
            # One data key per bucket instead of per object: fewer KMS calls, lower cost.
            "bucket_key_enabled": True,
        }
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        name, bucket=resource.id, rules=[encryption], opts=child, **where
    )
    versioning = (
        aws.s3.BucketVersioning(
            name, bucket=resource.id, versioning_configuration={"status": "Enabled"}, opts=child, **where
        )
        if versioned
        else None
    )
    lifecycle_opts = (
        pulumi.ResourceOptions(parent=parent, depends_on=[versioning])
        if lifecycle_after_versioning and versioning is not None
        else child
    )
    aws.s3.BucketLifecycleConfiguration(
        name, bucket=resource.id, rules=list(lifecycle_rules), opts=lifecycle_opts, **where
    )
    place = _PolicyPlace(name, parent, region)
    if isinstance(policy_statements, _Deferred):
        return PrivateBucket(resource, versioning, None, place)
    statements = (
        list(policy_statements(resource))
        if policy_statements is not None
        else [deny_insecure_transport(resource.arn)]
    )
    return PrivateBucket(resource, versioning, _bucket_policy(place, resource, statements), place)


def _bucket_policy(
    place: _PolicyPlace, bucket: aws.s3.Bucket, statements: Sequence[iam.Statement]
) -> aws.s3.BucketPolicy:
    if not any(_is_tls_deny(s) for s in statements):
        raise ValueError(
            f"{place.name}: the bucket policy lacks the TLS-only deny (deny_insecure_transport, S3.5)"
        )
    return aws.s3.BucketPolicy(
        place.name,
        bucket=bucket.id,
        policy=iam.policy_json(place.parent, list(statements)),
        opts=pulumi.ResourceOptions(parent=place.parent),
        region=place.region,
    )
