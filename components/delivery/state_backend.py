"""The self-managed Pulumi backend: one S3 bucket for every stack's state and one `awskms://` secrets key per stack.

The bucket and the keys live once per account (`delivery.createStateBackend` in the one stack that owns them); their
names are deterministic (`ecommerce-platform-state-<account>-<region>`, `alias/ecommerce-platform-<stack>-secrets`),
so a stack that does not own them still scopes its roles to exactly its own state paths (`StatePaths`). The bucket
is a `private_bucket()`: what differs from the baseline is its name, its lifecycle (old state versions are the undo
history, kept `delivery.stateNoncurrentDays`) and a policy that refuses objects encrypted with any other key.

What it must not do: let one stack's roles read another stack's state or use its secrets key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import buckets, iam
from components.config import PROJECT, DeliverySettings
from components.delivery.names import (
    COMPONENT,
    SHARED_ENVIRONMENT,
    STATE_KEY_ALIAS,
    other_stacks,
    secrets_key_alias,
)
from components.naming import tags


@dataclass(frozen=True)
class StatePaths:
    """The backend's names as one stack sees them, whether or not the stack owns the backend."""

    #: `delivery.stateBackend: self-managed`; otherwise the roles get no state statements at all.
    self_managed: bool
    environment: str
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    #: Every key of the account and region: the keys are named by alias, as the owning stack may be another one.
    any_key_arn: pulumi.Output[str]
    #: `.pulumi/meta.yaml`, the backend's version marker every stack reads.
    meta_object: pulumi.Output[str]
    own_objects: list[pulumi.Output[str]]
    other_objects: list[pulumi.Output[str]]
    #: This stack's lock files, which `pulumi preview` writes as an update does.
    own_locks: pulumi.Output[str]


def _stack_objects(bucket_arn: pulumi.Output[str], stack: str) -> list[pulumi.Output[str]]:
    # DIY backend layout: .pulumi/{stacks,history,backups}/<project>/<stack>[.json*|/...] and
    # .pulumi/locks/organization/<project>/<stack>/ — both shapes, for exactly this stack.
    return [
        pulumi.Output.format("{0}/.pulumi/*/{1}/{2}.json*", bucket_arn, PROJECT, stack),
        pulumi.Output.format("{0}/.pulumi/*/{1}/{2}/*", bucket_arn, PROJECT, stack),
    ]


def state_paths(
    environment: str,
    *,
    self_managed: bool,
    account_id: pulumi.Output[str],
    partition: pulumi.Output[str],
    region: pulumi.Output[str],
) -> StatePaths:
    """The deterministic names of the backend in this account and region, seen from `environment`'s stack."""
    bucket_name = pulumi.Output.format("{0}-state-{1}-{2}", PROJECT, account_id, region)
    bucket_arn = pulumi.Output.format("arn:{0}:s3:::{1}", partition, bucket_name)
    return StatePaths(
        self_managed=self_managed,
        environment=environment,
        bucket_name=bucket_name,
        bucket_arn=bucket_arn,
        any_key_arn=pulumi.Output.format("arn:{0}:kms:{1}:{2}:key/*", partition, region, account_id),
        meta_object=pulumi.Output.format("{0}/.pulumi/meta.yaml", bucket_arn),
        own_objects=_stack_objects(bucket_arn, environment),
        other_objects=[o for s in other_stacks(environment) for o in _stack_objects(bucket_arn, s)],
        own_locks=pulumi.Output.format("{0}/.pulumi/locks/*/{1}/{2}/*", bucket_arn, PROJECT, environment),
    )


def state_access(paths: StatePaths, *, write: bool) -> list[iam.Statement]:
    """A pipeline role's statements on the backend: its own stack's state and keys only; none if not self-managed."""
    if not paths.self_managed:
        return []
    object_actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] if write else ["s3:GetObject"]
    key_actions = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"] if write else ["kms:Decrypt"]
    statements = [
        iam.allow(
            ["s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketVersioning"],
            [paths.bucket_arn],
            sid="ListStateBucket",
        ),
        iam.allow(["s3:GetObject"], [paths.meta_object], sid="ReadBackendMetadata"),
        iam.allow(object_actions, paths.own_objects, sid="OwnStackState"),
        # The secrets key and the bucket's key are named by alias: this stack may not own them (another
        # stack of the account creates the backend), so their ARNs are not known here.
        iam.allow(
            key_actions,
            [paths.any_key_arn],
            sid="OwnSecretsAndStateKeys",
            conditions=[
                iam.condition(
                    "ForAnyValue:StringEquals",
                    "kms:ResourceAliases",
                    secrets_key_alias(paths.environment),
                    STATE_KEY_ALIAS,
                )
            ],
        ),
    ]
    if not write:
        # `pulumi preview` takes the stack's lock like an update does.
        statements.append(
            iam.allow(["s3:PutObject", "s3:DeleteObject"], [paths.own_locks], sid="OwnStackLock")
        )
    return statements


def create_state_backend(
    parent: pulumi.Resource,
    name: str,
    delivery: DeliverySettings,
    *,
    bucket_name: pulumi.Output[str],
    account_id: pulumi.Output[str],
    partition: pulumi.Output[str],
    protect: bool,
) -> buckets.PrivateBucket:
    """The shared backend, children of `parent`: the bucket's key, one secrets key per stack, then the bucket.

    Keys and bucket are protected and retained with `protect`: they hold every stack's state.
    """
    state_key = _backend_key(
        parent, name, "state", STATE_KEY_ALIAS, "Encrypts the Pulumi state bucket",
        account_id=account_id, partition=partition, protect=protect,
    )  # fmt: skip
    for stack in delivery.state_stacks:
        _backend_key(
            parent, name, f"{stack}-secrets", secrets_key_alias(stack),
            f"awskms:// secrets provider of the {stack} stack",
            account_id=account_id, partition=partition, protect=protect,
        )  # fmt: skip
    return _state_bucket(
        parent, name, bucket_name=bucket_name, state_key=state_key,
        noncurrent_days=delivery.state_noncurrent_days, protect=protect,
    )  # fmt: skip


def _backend_key(
    parent: pulumi.Resource,
    name: str,
    role: str,
    alias: str,
    description: str,
    *,
    account_id: pulumi.Output[str],
    partition: pulumi.Output[str],
    protect: bool,
) -> aws.kms.Key:
    shared: dict[str, Any] = {"Environment": SHARED_ENVIRONMENT}
    key = iam.customer_key(
        parent,
        f"{name}-{role}-key",
        description=description,
        account_id=account_id,
        partition=partition,
        tags=tags(COMPONENT, f"{name}-{role}-key", **shared),
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect),
    )
    aws.kms.Alias(
        f"{name}-{role}-key", name=alias, target_key_id=key.key_id, opts=pulumi.ResourceOptions(parent=parent)
    )
    return key


def _state_bucket(
    parent: pulumi.Resource,
    name: str,
    *,
    bucket_name: pulumi.Output[str],
    state_key: aws.kms.Key,
    noncurrent_days: int,
    protect: bool,
) -> buckets.PrivateBucket:
    shared: dict[str, Any] = {"Environment": SHARED_ENVIRONMENT}

    def statements(bucket: aws.s3.Bucket) -> list[iam.Statement]:
        return [
            buckets.deny_insecure_transport(bucket.arn, sid="TlsOnly"),
            {
                "sid": "OnlyTheStateKey",
                "effect": "Deny",
                "principals": [{"type": "*", "identifiers": ["*"]}],
                "actions": ["s3:PutObject"],
                "resources": [pulumi.Output.concat(bucket.arn, "/*")],
                "conditions": [
                    iam.condition(
                        "StringNotEqualsIfExists",
                        "s3:x-amz-server-side-encryption-aws-kms-key-id",
                        state_key.arn,
                    )
                ],
            },
        ]

    return buckets.private_bucket(
        f"{name}-state",
        parent=parent,
        bucket=bucket_name,
        tags=tags(COMPONENT, f"{name}-state", **shared),
        kms_key_arn=state_key.arn,
        lifecycle_rules=[
            {
                "id": "expire-old-state-versions",
                "status": "Enabled",
                "filter": {"prefix": ""},
                # Every update rewrites the checkpoint; old versions are the undo history, kept this long.
                "noncurrent_version_expiration": {"noncurrent_days": noncurrent_days},
                "abort_incomplete_multipart_upload": {"days_after_initiation": buckets.ABORT_INCOMPLETE_DAYS},
            }
        ],
        policy_statements=statements,
        # Not False: the bucket was created without the input, and absent it, like false, never empties the bucket
        # on destroy (pulumi-aws `s3.Bucket` docstring: objects go only once it is set to true); sending it would
        # show as an input change in plan diffs. (`private_bucket`'s `force_destroy: bool` would need
        # `bool | None = None` to say this without the ignore.)
        force_destroy=None,  # type: ignore[arg-type]
        bucket_opts=pulumi.ResourceOptions(protect=protect, retain_on_delete=protect),
        # Its noncurrent-version rule acts on the versions versioning keeps: set after versioning, as the pulumi-aws
        # BucketLifecycleConfiguration docstring's versioned-bucket example does (and as before this helper).
        lifecycle_after_versioning=True,
    )
