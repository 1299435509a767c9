"""The three GitHub pipeline roles of a stack and their policies.

- **preview** (pull requests, or prod's reviewed preview environment): reads what `pulumi preview` reads, never a
  secret value, a parameter value or a data object; its own state only.
- **deploy** (the deploy branch or environment): `pulumi up` of this stack — broad create rights by service, in the
  platform's regions only, identities only by the platform's names, bounded by the boundary's denies.
- **image-push** (the image branch): `docker push` to this stack's eight ECR repositories, nothing else.

Each role trusts exactly one OIDC subject (`names.github_subjects`) and carries the permissions boundary.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from components import iam
from components.config import DeliverySettings
from components.contracts import SERVICES
from components.delivery.actions import (
    APP_AUTOSCALING_ACTIONS,
    DATA_READ_ACTIONS,
    ECR_PUSH_ACTIONS,
    IAM_MANAGE_ACTIONS,
    OBJECT_READ_ACTIONS,
    PARAMETER_READ_ACTIONS,
    PASS_ROLE_SERVICES,
    PLATFORM_SERVICES,
    PREVIEW_READ_ACTIONS,
    SERVICE_LINKED_ROLE_SERVICES,
)
from components.delivery.names import (
    COMPONENT,
    GITHUB_OIDC_HOST,
    STATE_KEY_ALIAS,
    STS_AUDIENCE,
    ecr_repository_name,
    role_name,
    secrets_key_alias,
)
from components.delivery.state_backend import StatePaths, state_access
from components.naming import cluster_name, tags


def github_role(
    parent: pulumi.Resource,
    name: str,
    role: str,
    *,
    environment: str,
    description: str,
    max_session: int,
    oidc_provider_arn: pulumi.Input[str],
    subjects: Sequence[str],
    boundary: aws.iam.Policy,
) -> aws.iam.Role:
    """The role `role_name(environment, role)`, assumable only by GitHub OIDC tokens with exactly `subjects`."""
    trust = iam.policy_json(
        parent,
        [
            {
                "sid": "GitHubActionsOidc",
                "effect": "Allow",
                "actions": ["sts:AssumeRoleWithWebIdentity"],
                "principals": [{"type": "Federated", "identifiers": [oidc_provider_arn]}],
                # Exact values, StringEquals: no wildcard lets another repo, branch or a fork through.
                "conditions": [
                    iam.condition("StringEquals", f"{GITHUB_OIDC_HOST}:aud", STS_AUDIENCE),
                    iam.condition("StringEquals", f"{GITHUB_OIDC_HOST}:sub", *subjects),
                ],
            }
        ],
    )
    return aws.iam.Role(
        f"{name}-{role}",
        name=role_name(environment, role),
        description=description,
        assume_role_policy=trust,
        max_session_duration=max_session,
        permissions_boundary=boundary.arn,
        tags=tags(COMPONENT, f"{name}-{role}"),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def view_only_access(partition: pulumi.Input[str]) -> pulumi.Output[str]:
    """ViewOnlyAccess lists and describes resources but, unlike ReadOnlyAccess, reads no object, item, secret value
    or parameter."""
    return iam.aws_managed_policy(partition, "job-function/ViewOnlyAccess")


def preview_statements(
    *,
    environment: str,
    regions: Sequence[str],
    account_id: pulumi.Output[str],
    partition: pulumi.Output[str],
    paths: StatePaths,
) -> list[iam.Statement]:
    """What the preview role adds to ViewOnlyAccess, and the reads it is denied whatever else it is granted."""
    iam_arns = [
        pulumi.Output.format("arn:{0}:iam::{1}:{2}/*", partition, account_id, kind)
        for kind in ("role", "policy", "instance-profile", "oidc-provider")
    ]
    # AWS's public parameters (EKS-optimised AMI ids, region facts) hold no customer data.
    public_parameters = pulumi.Output.format("arn:{0}:ssm:*::parameter/aws/service/*", partition)
    eks_cluster = cluster_name(environment)
    return [
        iam.allow(PREVIEW_READ_ACTIONS, iam_arns, sid="ReadIamDocuments"),
        # The program's Availability-Zone guard looks the zones up at every preview (components/network.py); the
        # action takes no resource-level permission (Service Authorization Reference, Amazon EC2), so "*". Named here
        # rather than trusted to ViewOnlyAccess, whose action list AWS edits.
        iam.allow(["ec2:DescribeAvailabilityZones"], ["*"], sid="ReadAvailabilityZones"),
        iam.allow(
            ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
            [pulumi.Output.format("arn:{0}:kms:*:{1}:key/*", partition, account_id)],
            sid="ReadKeyPolicies",
        ),
        iam.allow(
            ["eks:DescribeCluster", "eks:DescribeNodegroup", "eks:DescribeAddon", "eks:DescribeAccessEntry"],
            [
                pulumi.Output.format("arn:{0}:eks:{1}:{2}:{3}", partition, regions[0], account_id, part)
                for part in (
                    f"cluster/{eks_cluster}",
                    f"nodegroup/{eks_cluster}/*",
                    f"addon/{eks_cluster}/*",
                    f"access-entry/{eks_cluster}/*",
                )
            ],
            sid="ReadClusters",
        ),
        *state_access(paths, write=False),
        iam.allow(["ssm:GetParameter", "ssm:GetParameters"], [public_parameters], sid="ReadPublicParameters"),
        {
            "sid": "NoSecretOrDataReads",
            "effect": "Deny",
            "actions": list(DATA_READ_ACTIONS),
            "resources": ["*"],
        },
        {
            "sid": "NoParameterValues",
            "effect": "Deny",
            "actions": list(PARAMETER_READ_ACTIONS),
            "notResources": [public_parameters],
        },
        # The state keys are the one exception: without Decrypt preview cannot read its own snapshot.
        {
            "sid": "DecryptOnlyStateKeys",
            "effect": "Deny",
            "actions": ["kms:Decrypt"],
            "resources": ["*"],
            **(
                {
                    "conditions": [
                        iam.condition(
                            "ForAllValues:StringNotEquals",
                            "kms:ResourceAliases",
                            secrets_key_alias(environment),
                            STATE_KEY_ALIAS,
                        )
                    ]
                }
                if paths.self_managed
                else {}
            ),
        },
        {
            "sid": "NoDataObjects",
            "effect": "Deny",
            "actions": list(OBJECT_READ_ACTIONS),
            **(
                {"notResources": [paths.meta_object, *paths.own_objects]}
                if paths.self_managed
                else {"resources": ["*"]}
            ),
        },
    ]


def deploy_statements(
    delivery: DeliverySettings,
    *,
    regions: Sequence[str],
    account_id: pulumi.Output[str],
    partition: pulumi.Output[str],
    paths: StatePaths,
) -> list[iam.Statement]:
    """`pulumi up` of this stack: the platform's services in its regions, its identities by name, its state."""
    allowed_regions = sorted({*regions, "us-east-1"})
    # Every role, policy and instance profile of the platform is named `ecommerce-…` (explicit names and
    # Pulumi's auto-names from `ecommerce-…` logical names); OIDC providers are GitHub's and the clusters'.
    oidc_hosts = [*([GITHUB_OIDC_HOST] if delivery.create_oidc_provider else []),
                  *(f"oidc.eks.{r}.amazonaws.com/id/*" for r in regions)]  # fmt: skip
    platform_iam_arns = [
        pulumi.Output.format("arn:{0}:iam::{1}:{2}/ecommerce-*", partition, account_id, kind)
        for kind in ("role", "policy", "instance-profile")
    ] + [
        pulumi.Output.format("arn:{0}:iam::{1}:oidc-provider/{2}", partition, account_id, host)
        for host in oidc_hosts
    ]
    service_linked_roles = pulumi.Output.format(
        "arn:{0}:iam::{1}:role/aws-service-role/*", partition, account_id
    )
    in_regions = [iam.condition("StringEquals", "aws:RequestedRegion", *allowed_regions)]
    return [
        # "*": the program creates resources whose ids AWS assigns at creation (vpc-…, auto-named roles and
        # buckets), so no ARN pattern can name them in advance; tag-on-create conditions are not supported by
        # every action here. Bounded instead by service, region and the boundary's denies.
        iam.allow([f"{svc}:*" for svc in PLATFORM_SERVICES], ["*"], sid="ManagePlatformServices",
                  conditions=in_regions),
        iam.allow(IAM_MANAGE_ACTIONS, platform_iam_arns, sid="ManagePlatformIdentities"),
        iam.allow(["iam:CreateServiceLinkedRole"], [service_linked_roles], sid="ServiceLinkedRoles",
                  conditions=[iam.condition("StringEquals", "iam:AWSServiceName", *SERVICE_LINKED_ROLE_SERVICES)]),
        # The program creates the service-linked roles it relies on once per account (tagged, so TagRole) and
        # looks them up in the other stacks; deleting one is how a torn-down owner stack cleans up.
        iam.allow(["iam:GetRole", "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags", "iam:DeleteServiceLinkedRole",
                   "iam:GetServiceLinkedRoleDeletionStatus"], [service_linked_roles],
                  sid="ManageServiceLinkedRoles"),
        iam.allow(["iam:PassRole"], [platform_iam_arns[0]], sid="PassPlatformRolesToTheirServices",
                  conditions=[iam.condition("StringEquals", "iam:PassedToService", *PASS_ROLE_SERVICES)]),
        # "*": a scalable target's ARN is assigned when it is registered (provisioned DynamoDB mode).
        iam.allow(APP_AUTOSCALING_ACTIONS, ["*"], sid="ProvisionedTableAutoScaling", conditions=in_regions),
        *_runner_connection(delivery),
        *state_access(paths, write=True),
    ]  # fmt: skip


def _runner_connection(delivery: DeliverySettings) -> list[iam.Statement]:
    if not delivery.github_connection_arn:
        return []
    # CodeBuild checks that whoever configures a project's connection may pass and use it.
    return [
        iam.allow(
            [
                "codeconnections:PassConnection",
                "codeconnections:UseConnection",
                "codeconnections:GetConnection",
                "codestar-connections:PassConnection",
                "codestar-connections:UseConnection",
                "codestar-connections:GetConnection",
            ],
            [delivery.github_connection_arn],
            sid="RunnerGitHubConnection",
        )
    ]


def image_push_statements(
    delivery: DeliverySettings,
    *,
    account_id: pulumi.Output[str],
    partition: pulumi.Output[str],
    region: pulumi.Output[str],
) -> list[iam.Statement]:
    """`docker push` to this stack's eight service repositories, nothing else."""
    repo_arns = [
        pulumi.Output.format(
            "arn:{0}:ecr:{1}:{2}:repository/{3}",
            partition,
            region,
            account_id,
            ecr_repository_name(delivery.ecr_repository_prefix, svc),
        )
        for svc in SERVICES
    ]
    return [
        # "*": GetAuthorizationToken returns a registry-wide login token and has no resource-level
        # permission; what the token may push is still decided per repository below.
        iam.allow(["ecr:GetAuthorizationToken"], ["*"], sid="RegistryLogin"),
        iam.allow(ECR_PUSH_ACTIONS, repo_arns, sid="PushServiceImages"),
    ]
