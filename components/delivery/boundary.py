"""The permissions boundary: the outer limit of every role this stack's pipeline may create, and the one
transformation (`with_boundary`) that puts it on every role of the program.

A boundary grants nothing itself; it caps the roles' own policies at the platform's services and denies what no
pipeline role may do whatever its policy says: create users or long-lived keys, create a role without this
boundary, touch another environment's resources, identities, secrets, state or DNS. Each deny has a test that
replays the request (`tests/test_delivery.py`).
"""

from __future__ import annotations

import pulumi

from components import iam
from components.config import PROJECT, DeliverySettings
from components.delivery.actions import (
    ADMIN_POLICIES,
    BOUNDED_EXTRA_SERVICES,
    IAM_USER_ACTIONS,
    KMS_DATA_ACTIONS,
    PLATFORM_SERVICES,
    ROUTE53_WRITES,
)
from components.delivery.names import (
    ENVIRONMENT_TAG,
    GITHUB_OIDC_HOST,
    SHARED_ENVIRONMENT,
    boundary_name,
    other_stacks,
    secrets_key_alias,
)
from components.delivery.state_backend import StatePaths


def boundary_statements(
    delivery: DeliverySettings,
    *,
    environment: str,
    domain_name: str,
    account_id: pulumi.Output[str],
    partition: pulumi.Output[str],
    paths: StatePaths,
) -> list[iam.Statement]:
    """The boundary policy's statements, in order: role creation, environments, DNS, the GitHub provider, state."""
    return [
        *_role_creation_limits(environment, account_id, partition),
        *_environment_separation(delivery, environment, account_id, partition),
        *_dns_limits(domain_name),
        *_github_provider_guard(delivery, account_id, partition),
        *_state_separation(delivery, paths, account_id, partition),
    ]


def _role_creation_limits(
    environment: str, account_id: pulumi.Output[str], partition: pulumi.Output[str]
) -> list[iam.Statement]:
    boundary_arn = pulumi.Output.format(
        "arn:{0}:iam::{1}:policy/{2}", partition, account_id, boundary_name(environment)
    )
    boundary_arn_pattern = pulumi.Output.format(
        "arn:{0}:iam::{1}:policy/{2}-*-pipeline-boundary", partition, account_id, PROJECT
    )
    return [
        # A boundary grants nothing itself; it caps the roles' own policies at these services. Every role the
        # pipeline creates carries it (below), so it also names what the platform's own roles call.
        iam.allow([f"{svc}:*" for svc in (*PLATFORM_SERVICES, *BOUNDED_EXTRA_SERVICES, "iam", "sts")], ["*"],
                  sid="PlatformServicesOnly"),
        {"sid": "NoLongLivedCredentials", "effect": "Deny", "actions": list(IAM_USER_ACTIONS),
         "resources": ["*"]},
        # A role without this boundary would be an escape hatch (an `ecommerce-*` role with `*:*`): roles are
        # created, and given permissions, only with this stack's boundary on them (IAM user guide,
        # "Permissions boundaries for IAM entities": iam:PermissionsBoundary is in these requests' context).
        # Removing a policy widens nothing, so Delete/DetachRolePolicy are left to the other statements.
        {"sid": "RolesOnlyWithThisBoundary", "effect": "Deny",
         "actions": ["iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
                     "iam:AttachRolePolicy"],
         "resources": ["*"],
         "conditions": [iam.condition("StringNotEquals", "iam:PermissionsBoundary", boundary_arn)]},
        {"sid": "BoundaryStaysPut", "effect": "Deny", "actions": ["iam:DeleteRolePermissionsBoundary"],
         "resources": ["*"]},
        {"sid": "BoundaryPolicyIsImmutableHere", "effect": "Deny",
         "actions": ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
                     "iam:SetDefaultPolicyVersion", "iam:TagPolicy", "iam:UntagPolicy"],
         "resources": [boundary_arn_pattern]},
        {"sid": "NoAdministratorRoles", "effect": "Deny", "actions": ["iam:AttachRolePolicy"], "resources": ["*"],
         "conditions": [iam.condition("ArnEquals", "iam:PolicyARN",
                                      *[iam.aws_managed_policy(partition, p)
                                        for p in ADMIN_POLICIES])]},
    ]  # fmt: skip


def _environment_separation(
    delivery: DeliverySettings,
    environment: str,
    account_id: pulumi.Output[str],
    partition: pulumi.Output[str],
) -> list[iam.Statement]:
    others = other_stacks(environment)
    # The account-level resources (OIDC provider, state bucket and keys) are tagged `shared`: only the stack
    # that owns them may administer them; the others may only use them.
    owns_shared = delivery.create_oidc_provider or delivery.create_state_backend
    own_tags = [environment, *([SHARED_ENVIRONMENT] if owns_shared else [])]
    other_env_names = [
        pulumi.Output.format("arn:{0}:iam::{1}:{2}/{3}", partition, account_id, kind, pattern)
        for kind in ("role", "policy", "instance-profile")
        for other in others
        for pattern in (f"ecommerce-{other}-*", f"{PROJECT}-{other}-*")
    ]
    other_env_secrets = [
        pulumi.Output.format("arn:{0}:secretsmanager:*:{1}:secret:ecommerce/{2}/*", partition, account_id, o)
        for o in others
    ]
    tag_actions = [f"{svc}:*Tag*" for svc in (*PLATFORM_SERVICES, "application-autoscaling", "iam")]
    other_tagged = [
        iam.condition("Null", f"aws:ResourceTag/{ENVIRONMENT_TAG}", "false"),
        iam.condition("StringNotEquals", f"aws:ResourceTag/{ENVIRONMENT_TAG}", *own_tags),
    ]
    return [
        # Anything tagged for another environment (or `shared`, unless this stack owns the shared resources):
        # nothing at all — no change, delete, key administration, secret value or data read. Services without
        # resource-tag support (S3 buckets, Route 53) are scoped by name below.
        {"sid": "OnlyThisEnvironmentsResources", "effect": "Deny", "notActions": list(KMS_DATA_ACTIONS),
         "resources": ["*"], "conditions": other_tagged},
        # Keys are used (not administered) across the shared/own line: the state key and this stack's secrets
        # key are `shared`; another environment's data keys are not usable at all.
        {"sid": "NoOtherEnvironmentsKeys", "effect": "Deny", "actions": list(KMS_DATA_ACTIONS),
         "resources": ["*"],
         "conditions": [iam.condition("Null", f"aws:ResourceTag/{ENVIRONMENT_TAG}", "false"),
                        iam.condition("StringNotEquals", f"aws:ResourceTag/{ENVIRONMENT_TAG}", environment,
                                      SHARED_ENVIRONMENT)]},
        # Re-tag-then-delete: once a resource carries an Environment tag, no pipeline role may change or
        # remove it (aws:TagKeys is in every tagging request).
        {"sid": "EnvironmentTagIsFixed", "effect": "Deny", "actions": tag_actions, "resources": ["*"],
         "conditions": [iam.condition("ForAnyValue:StringEquals", "aws:TagKeys", ENVIRONMENT_TAG),
                        iam.condition("Null", f"aws:ResourceTag/{ENVIRONMENT_TAG}", "false")]},
        # New resources (tag-on-create, aws:RequestTag) are tagged for this environment only.
        # "*" in a Deny: whatever the action, a request setting another environment's tag is refused.
        {"sid": "NewResourcesAreThisEnvironments", "effect": "Deny", "actions": ["*"], "resources": ["*"],
         "conditions": [iam.condition("Null", f"aws:RequestTag/{ENVIRONMENT_TAG}", "false"),
                        iam.condition("StringNotEquals", f"aws:RequestTag/{ENVIRONMENT_TAG}", *own_tags)]},
        # By name as well as by tag: the other environment's roles, policies and secrets (an untagged or
        # re-tagged one included).
        {"sid": "NoOtherEnvironmentsIdentities", "effect": "Deny",
         "actions": ["iam:Create*", "iam:Put*", "iam:Attach*", "iam:Detach*", "iam:Delete*", "iam:Update*",
                     "iam:Tag*", "iam:Untag*", "iam:PassRole", "iam:AddRoleToInstanceProfile",
                     "iam:RemoveRoleFromInstanceProfile", "sts:AssumeRole"],
         "resources": other_env_names},
        {"sid": "NoOtherEnvironmentsSecrets", "effect": "Deny", "actions": ["secretsmanager:*"],
         "resources": other_env_secrets},
    ]  # fmt: skip


def _dns_limits(domain_name: str) -> list[iam.Statement]:
    if not domain_name:
        return [
            {
                "sid": "NoDnsWithoutADomain",
                "effect": "Deny",
                "actions": list(ROUTE53_WRITES),
                "resources": ["*"],
            }
        ]
    return [
        # Route 53 has no resource tags to condition on; record names are (ChangeResourceRecordSets'
        # normalized-names condition key): this stack's domain and its subdomains only.
        {
            "sid": "DnsOnlyUnderThisDomain",
            "effect": "Deny",
            "actions": ["route53:ChangeResourceRecordSets"],
            "resources": ["*"],
            "conditions": [
                iam.condition(
                    "ForAnyValue:StringNotLike",
                    "route53:ChangeResourceRecordSetsNormalizedRecordNames",
                    domain_name,
                    f"*.{domain_name}",
                )
            ],
        },
        {
            "sid": "NoHostedZoneChanges",
            "effect": "Deny",
            "actions": [a for a in ROUTE53_WRITES if a != "route53:ChangeResourceRecordSets"],
            "resources": ["*"],
        },
    ]


def _github_provider_guard(
    delivery: DeliverySettings, account_id: pulumi.Output[str], partition: pulumi.Output[str]
) -> list[iam.Statement]:
    if delivery.create_oidc_provider:
        return []
    # IAM has one GitHub provider per account; a stack that does not own it may not change who it trusts.
    return [
        {
            "sid": "GitHubProviderIsNotOurs",
            "effect": "Deny",
            "actions": [
                "iam:DeleteOpenIDConnectProvider",
                "iam:UpdateOpenIDConnectProviderThumbprint",
                "iam:AddClientIDToOpenIDConnectProvider",
                "iam:RemoveClientIDFromOpenIDConnectProvider",
                "iam:TagOpenIDConnectProvider",
                "iam:UntagOpenIDConnectProvider",
            ],
            "resources": [
                pulumi.Output.format(
                    "arn:{0}:iam::{1}:oidc-provider/{2}", partition, account_id, GITHUB_OIDC_HOST
                )
            ],
        }
    ]


def _state_separation(
    delivery: DeliverySettings,
    paths: StatePaths,
    account_id: pulumi.Output[str],
    partition: pulumi.Output[str],
) -> list[iam.Statement]:
    if not paths.self_managed:
        return []
    others = other_stacks(paths.environment)
    statements: list[iam.Statement] = [
        # The shared state bucket, per stack prefix: S3 has no resource tags to condition on.
        {"sid": "NoOtherStacksState", "effect": "Deny", "actions": ["s3:*"], "resources": paths.other_objects},
        {"sid": "BackendMetadataIsReadOnly", "effect": "Deny",
         "actions": ["s3:PutObject*", "s3:DeleteObject*", "s3:RestoreObject"], "resources": [paths.meta_object]},
        # One secrets key per stack: another stack's key is not used, administered or re-aliased.
        {"sid": "NoOtherStacksSecrets", "effect": "Deny", "actions": ["kms:*"], "resources": ["*"],
         "conditions": [iam.condition("ForAnyValue:StringEquals", "kms:ResourceAliases",
                                      *[secrets_key_alias(s) for s in others])]},
        {"sid": "NoOtherStacksSecretsAliases", "effect": "Deny",
         "actions": ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"],
         "resources": [pulumi.Output.format("arn:{0}:kms:*:{1}:{2}", partition, account_id,
                                            secrets_key_alias(s)) for s in others]},
    ]  # fmt: skip
    if not delivery.create_state_backend:
        # The bucket's policy, versioning, lifecycle, replication and ACLs belong to its owner.
        statements.append(
            {
                "sid": "StateBucketIsNotOurs",
                "effect": "Deny",
                "notActions": ["s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketVersioning"],
                "resources": [paths.bucket_arn],
            }
        )
    return statements


def with_boundary(boundary_arn: pulumi.Output[str]) -> pulumi.ResourceTransformation:
    """A transformation giving every IAM role without one this stack's permissions boundary.

    The boundary denies the pipeline `iam:CreateRole` (and policy changes) on a role without it, so every role the
    program creates — the cluster's, the nodes', each service's IRSA role, flow logs, monitoring — must carry it;
    one transformation on the components' options does that without each component knowing about the pipeline.
    The ARN is the boundary policy's output, so each role waits for the policy to exist.
    """

    def transform(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ != "aws:iam/role:Role" or args.props.get("permissions_boundary") is not None:
            return None
        return pulumi.ResourceTransformationResult(
            {**args.props, "permissions_boundary": boundary_arn}, args.opts
        )

    return transform
