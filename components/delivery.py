"""Delivery: what GitHub Actions needs in AWS to preview, deploy and push images — with no stored AWS keys.

- The account's GitHub OIDC identity provider (`token.actions.githubusercontent.com`, audience
  `sts.amazonaws.com`), created by the one stack that owns it (`delivery.createOidcProvider`) and referenced by ARN
  from the others: IAM allows one provider per URL per account.
- Three roles per stack, each trusting exactly one set of OIDC subjects of `delivery.githubRepository`:
  **preview** (pull requests; reads, never secret values or data objects), **deploy** (the configured branch or
  GitHub environment; prod only from its environment) and **image-push** (the image branch; push to this stack's
  eight ECR repositories only). All three carry a permissions boundary.
- Optionally (`delivery.createStateBackend`, one stack per account) the self-managed Pulumi backend: a private,
  versioned, TLS-only S3 bucket encrypted with a KMS key, and one `awskms://` secrets key per stack. Stacks that do
  not own it still reference it by its deterministic names, so their roles get exactly their own state paths.

What it must not do: grant `*:*` or `Action: "*"`, let a pull request reach a deploy role, let one stack's roles
read another stack's state or secrets key, or let any pipeline role create IAM users or long-lived keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from components import iam
from components.config import PROJECT, DeliverySettings
from components.contracts import SERVICES
from components.naming import cluster_name, tags

COMPONENT = "delivery"
#: GitHub's OIDC issuer host; the provider URL and the prefix of every condition key on its tokens.
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
#: The audience aws-actions/configure-aws-credentials requests; every trust policy pins it.
STS_AUDIENCE = "sts.amazonaws.com"
#: Environment tag of the account-level resources several stacks use (OIDC provider, state bucket and keys).
SHARED_ENVIRONMENT = "shared"

#: Services the program manages; the deploy role gets each one's actions, only in the platform's regions.
PLATFORM_SERVICES = (
    "acm", "athena", "autoscaling", "cloudfront", "cloudwatch", "cognito-idp", "dynamodb", "ec2", "ecr", "eks",
    "elasticache", "elasticloadbalancing", "es", "events", "glue", "kms", "logs", "rds", "route53", "s3",
    "secretsmanager", "sns", "sqs", "ssm", "wafv2", "codebuild",
    # The observability canary: Synthetics creates its Lambda function and layer as the caller.
    "synthetics", "lambda",
    # the analytics lake (its flags included)
    "firehose", "lakeformation", "quicksight", "sagemaker",
)  # fmt: skip
#: Further services the boundary leaves open: provisioned-table auto scaling (the deploy role gets named actions of
#: it), and what only the platform's own roles call (IRSA database auth, Pod Identity, the runner's GitHub
#: connection, Session Manager on the nodes) — every role the pipeline creates carries the boundary.
BOUNDED_EXTRA_SERVICES = (
    "application-autoscaling", "rds-db", "eks-auth", "codeconnections", "codestar-connections", "ssmmessages",
    "ec2messages",
)  # fmt: skip
#: The tag every resource carries (provider default tags) and the boundary separates environments by.
ENVIRONMENT_TAG = "Environment"
#: What a key is used for (not administered with): the state and secrets keys are shared, their use is per stack.
KMS_DATA_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")
#: Route 53 writes; a stack may change records only under its own domain (Route 53 has no resource tags to scope by).
ROUTE53_WRITES = (
    "route53:ChangeResourceRecordSets", "route53:CreateHostedZone", "route53:DeleteHostedZone",
    "route53:UpdateHostedZoneComment", "route53:AssociateVPCWithHostedZone", "route53:ChangeTagsForResource",
)  # fmt: skip
#: Services whose resources hold the data or run the platform: another environment's may not be changed.
GUARDED_SERVICES = (
    "dynamodb", "ec2", "ecr", "eks", "elasticache", "elasticloadbalancing", "es", "kms", "logs", "rds",
    "secretsmanager", "sns", "sqs", "cloudfront", "cognito-idp", "iam",
)  # fmt: skip
#: AWS managed policies that would make any role the deploy role creates an administrator.
ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
#: Services the deploy role may hand the platform's roles to (EKS cluster/nodes, flow logs, Glue, RDS monitoring).
PASS_ROLE_SERVICES = (
    "eks.amazonaws.com", "ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com", "glue.amazonaws.com",
    "monitoring.rds.amazonaws.com", "pods.eks.amazonaws.com", "sagemaker.amazonaws.com", "codebuild.amazonaws.com",
    # The canary's execution role, passed by Synthetics to its Lambda function (CloudWatchSyntheticsFullAccess).
    "lambda.amazonaws.com", "synthetics.amazonaws.com",
    # the lake: Firehose's delivery role, SNS's subscription role, Lake Formation's and QuickSight's data roles
    "firehose.amazonaws.com", "sns.amazonaws.com", "lakeformation.amazonaws.com", "quicksight.amazonaws.com",
)  # fmt: skip
#: Service-linked roles `pulumi up` may cause AWS to create (first Auto Scaling group, OpenSearch VPC domain,
#: DynamoDB auto scaling, ELB, RDS, ElastiCache, EKS and its node groups): `iam:AWSServiceName` values.
SERVICE_LINKED_ROLE_SERVICES = (
    "autoscaling.amazonaws.com", "opensearchservice.amazonaws.com", "es.amazonaws.com",
    "dynamodb.application-autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com", "rds.amazonaws.com",
    "elasticache.amazonaws.com", "eks.amazonaws.com", "eks-nodegroup.amazonaws.com", "eks-fargate.amazonaws.com",
    "pullthroughcache.ecr.amazonaws.com",
)  # fmt: skip
#: Application Auto Scaling actions of the provisioned DynamoDB mode (`aws.appautoscaling.Target`/`Policy`).
APP_AUTOSCALING_ACTIONS = (
    "application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
    "application-autoscaling:DescribeScalableTargets", "application-autoscaling:PutScalingPolicy",
    "application-autoscaling:DeleteScalingPolicy", "application-autoscaling:DescribeScalingPolicies",
    "application-autoscaling:DescribeScalingActivities", "application-autoscaling:TagResource",
    "application-autoscaling:UntagResource", "application-autoscaling:ListTagsForResource",
)  # fmt: skip
#: What `pulumi up` does to IAM for this program: roles, their policies, instance profiles, OIDC providers.
IAM_MANAGE_ACTIONS = (
    "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy",
    "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags", "iam:PutRolePolicy", "iam:GetRolePolicy",
    "iam:DeleteRolePolicy", "iam:ListRolePolicies", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
    "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:PutRolePermissionsBoundary",
    "iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:CreatePolicyVersion",
    "iam:DeletePolicyVersion", "iam:ListPolicyVersions", "iam:TagPolicy", "iam:UntagPolicy",
    "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:GetInstanceProfile",
    "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile",
    "iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", "iam:GetOpenIDConnectProvider",
    "iam:UpdateOpenIDConnectProviderThumbprint", "iam:AddClientIDToOpenIDConnectProvider",
    "iam:RemoveClientIDFromOpenIDConnectProvider", "iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider",
)  # fmt: skip
#: What the preview role reads beyond ViewOnlyAccess (which lists but does not `Get` IAM documents or key policies).
PREVIEW_READ_ACTIONS = (
    "iam:GetRole", "iam:GetRolePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetInstanceProfile",
    "iam:GetOpenIDConnectProvider", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
)  # fmt: skip
#: Reads that return secret values or customer data: denied to the preview role whatever else it is granted.
DATA_READ_ACTIONS = (
    "secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue",
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "sqs:ReceiveMessage",
    "rds-data:ExecuteStatement", "es:ESHttpGet", "es:ESHttpPost", "athena:GetQueryResults",
)  # fmt: skip
#: Parameter Store reads: denied outside AWS's public parameters.
PARAMETER_READ_ACTIONS = (
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
)
#: Object reads denied to the preview role outside its own state files.
OBJECT_READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
#: Long-lived credentials: no pipeline role may create or grant them.
IAM_USER_ACTIONS = (
    "iam:CreateUser", "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile", "iam:AttachUserPolicy", "iam:PutUserPolicy", "iam:AddUserToGroup",
    "iam:CreateServiceSpecificCredential", "iam:UploadSSHPublicKey",
)  # fmt: skip
#: ECR actions a `docker push` (and the buildx cache check before it) needs on the target repository.
ECR_PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
    "ecr:PutImage", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages",
)  # fmt: skip


def role_name(environment: str, role: str) -> str:
    """`ecommerce-platform-dev-github-deploy`: fixed, so workflows can build the ARN from the account id."""
    return f"{PROJECT}-{environment}-github-{role}"


def boundary_name(environment: str) -> str:
    return f"{PROJECT}-{environment}-pipeline-boundary"


def secrets_key_alias(stack: str) -> str:
    """The alias of a stack's `awskms://` secrets provider key."""
    return f"alias/{PROJECT}-{stack}-secrets"


STATE_KEY_ALIAS = f"alias/{PROJECT}-state"


def ecr_repository_name(prefix: str, service: str) -> str:
    """`ecommerce-dev/product`: the ECR repository of one service (the ServiceMesh creates them by this name)."""
    return f"{prefix}/{service}"


def github_subjects(delivery: DeliverySettings) -> dict[str, list[str]]:
    """Role -> the exact OIDC `sub` values allowed to assume it (GitHub's documented subject formats).

    A job that names an `environment:` gets `repo:<o>/<r>:environment:<env>` whatever its branch; a job without one
    gets `...:ref:refs/heads/<branch>`; any pull_request job gets `...:pull_request` (GitHub Docs, "OpenID Connect
    reference"). A pull_request run executes the workflow file of the pull request itself, so a role trusting
    `pull_request` is reachable by anyone who can push a branch: prod's preview trusts a reviewed environment.
    """
    repo = f"repo:{delivery.github_repository}"
    deploy = (
        f"{repo}:environment:{delivery.deploy_environment}"
        if delivery.deploy_from == "environment"
        else f"{repo}:ref:refs/heads/{delivery.deploy_branch}"
    )
    preview = (
        f"{repo}:environment:{delivery.preview_environment}"
        if delivery.preview_from == "environment"
        else f"{repo}:pull_request"
    )
    return {
        "preview": [preview],
        "deploy": [deploy],
        "image-push": [f"{repo}:ref:refs/heads/{delivery.image_branch}"],
    }


class Delivery(pulumi.ComponentResource):
    """GitHub OIDC trust, the preview/deploy/image-push roles and the optional state backend of one stack."""

    oidc_provider_arn: pulumi.Output[str]
    preview_role_arn: pulumi.Output[str]
    deploy_role_arn: pulumi.Output[str]
    image_push_role_arn: pulumi.Output[str]
    permissions_boundary_arn: pulumi.Output[str]
    state_bucket_name: pulumi.Output[str] | None
    secrets_provider: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        delivery: DeliverySettings,
        *,
        environment: str,
        regions: Sequence[str],
        protect: bool,
        domain_name: str = "",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param delivery: the validated `delivery.*` settings.
        :param environment: this stack's environment (dev/prod): role names, its state paths and ECR repositories.
        :param regions: the regions the platform uses (primary, DR); the deploy role may act in these and us-east-1
            (IAM, CloudFront, its ACM certificate and WAF live there).
        :param protect: protect + retain the state bucket and keys (`protectData`): they hold every stack's state.
        :param domain_name: this stack's DNS domain (`edge.domainName`); the pipeline may change Route 53 records
            under it only, and none when it is empty.
        """
        super().__init__(f"ecommerce:{COMPONENT}:Delivery", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account_id, partition, region = iam.caller(self)
        self_managed = delivery.state_backend == "self-managed"

        # --- the OIDC provider: one per URL per account, so only the owning stack creates it ---
        if delivery.create_oidc_provider:
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-github-oidc",
                url=f"https://{GITHUB_OIDC_HOST}",
                client_id_lists=[STS_AUDIENCE],
                # No thumbprint_lists: for GitHub, IAM validates against its own trusted root CAs and ignores
                # thumbprints (pulumi-aws docstring), so a pinned thumbprint could only go stale.
                tags=tags(COMPONENT, f"{name}-github-oidc", Environment=SHARED_ENVIRONMENT),
                opts=pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect),
            )
            self.oidc_provider_arn = provider.arn
        else:
            self.oidc_provider_arn = pulumi.Output.format(
                "arn:{0}:iam::{1}:oidc-provider/{2}", partition, account_id, GITHUB_OIDC_HOST
            )

        # --- the state backend's names are deterministic, so every stack can scope its roles to it ---
        state_bucket = pulumi.Output.format("{0}-state-{1}-{2}", PROJECT, account_id, region)
        bucket_arn = pulumi.Output.format("arn:{0}:s3:::{1}", partition, state_bucket)
        any_key_arn = pulumi.Output.format("arn:{0}:kms:{1}:{2}:key/*", partition, region, account_id)

        def state_objects(stack: str) -> list[pulumi.Output[str]]:
            # DIY backend layout: .pulumi/{stacks,history,backups}/<project>/<stack>[.json*|/...] and
            # .pulumi/locks/organization/<project>/<stack>/ — both shapes, for exactly this stack.
            return [
                pulumi.Output.format("{0}/.pulumi/*/{1}/{2}.json*", bucket_arn, PROJECT, stack),
                pulumi.Output.format("{0}/.pulumi/*/{1}/{2}/*", bucket_arn, PROJECT, stack),
            ]

        meta_object = pulumi.Output.format("{0}/.pulumi/meta.yaml", bucket_arn)
        own_objects = state_objects(environment)
        other_stacks = [s for s in ("dev", "prod") if s != environment]
        other_objects = [o for s in other_stacks for o in state_objects(s)]

        if delivery.create_state_backend:
            self._state_backend(name, delivery, state_bucket, account_id, partition, protect)
            self.state_bucket_name = state_bucket
        else:
            self.state_bucket_name = state_bucket if self_managed else None
        self.secrets_provider = (
            pulumi.Output.format("awskms://{0}?region={1}", secrets_key_alias(environment), region)
            if self_managed
            else None
        )

        def state_statements(write: bool) -> list[iam.Statement]:
            if not self_managed:
                return []
            object_actions = (
                ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] if write else ["s3:GetObject"]
            )
            key_actions = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"] if write else ["kms:Decrypt"]
            statements = [
                iam.allow(
                    ["s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketVersioning"],
                    [bucket_arn],
                    sid="ListStateBucket",
                ),
                iam.allow(["s3:GetObject"], [meta_object], sid="ReadBackendMetadata"),
                iam.allow(object_actions, own_objects, sid="OwnStackState"),
                # The secrets key and the bucket's key are named by alias: this stack may not own them (another
                # stack of the account creates the backend), so their ARNs are not known here.
                iam.allow(
                    key_actions,
                    [any_key_arn],
                    sid="OwnSecretsAndStateKeys",
                    conditions=[
                        iam.condition(
                            "ForAnyValue:StringEquals",
                            "kms:ResourceAliases",
                            secrets_key_alias(environment),
                            STATE_KEY_ALIAS,
                        )
                    ],
                ),
            ]
            if not write:
                # `pulumi preview` takes the stack's lock like an update does.
                statements.append(
                    iam.allow(
                        ["s3:PutObject", "s3:DeleteObject"],
                        [
                            pulumi.Output.format(
                                "{0}/.pulumi/locks/*/{1}/{2}/*", bucket_arn, PROJECT, environment
                            )
                        ],
                        sid="OwnStackLock",
                    )
                )
            return statements

        # --- the permissions boundary: the outer limit of every role this stack's pipeline may create ---
        boundary_arn = pulumi.Output.format(
            "arn:{0}:iam::{1}:policy/{2}", partition, account_id, boundary_name(environment)
        )
        boundary_arn_pattern = pulumi.Output.format(
            "arn:{0}:iam::{1}:policy/{2}-*-pipeline-boundary", partition, account_id, PROJECT
        )
        # The account-level resources (OIDC provider, state bucket and keys) are tagged `shared`: only the stack
        # that owns them may administer them; the others may only use them.
        owns_shared = delivery.create_oidc_provider or delivery.create_state_backend
        own_tags = [environment, *([SHARED_ENVIRONMENT] if owns_shared else [])]
        other_env_names = [
            pulumi.Output.format("arn:{0}:iam::{1}:{2}/{3}", partition, account_id, kind, pattern)
            for kind in ("role", "policy", "instance-profile")
            for other in other_stacks
            for pattern in (f"ecommerce-{other}-*", f"{PROJECT}-{other}-*")
        ]
        other_env_secrets = [
            pulumi.Output.format(
                "arn:{0}:secretsmanager:*:{1}:secret:ecommerce/{2}/*", partition, account_id, o
            )
            for o in other_stacks
        ]
        tag_actions = [f"{svc}:*Tag*" for svc in (*PLATFORM_SERVICES, "application-autoscaling", "iam")]
        other_tagged = [
            iam.condition("Null", f"aws:ResourceTag/{ENVIRONMENT_TAG}", "false"),
            iam.condition("StringNotEquals", f"aws:ResourceTag/{ENVIRONMENT_TAG}", *own_tags),
        ]
        boundary_statements: list[iam.Statement] = [
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
                                          *[pulumi.Output.format("arn:{0}:iam::aws:policy/{1}", partition, p)
                                            for p in ADMIN_POLICIES])]},
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
        if domain_name:
            # Route 53 has no resource tags to condition on; record names are (ChangeResourceRecordSets'
            # normalized-names condition key): this stack's domain and its subdomains only.
            boundary_statements.append(
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
                }
            )
            boundary_statements.append(
                {
                    "sid": "NoHostedZoneChanges",
                    "effect": "Deny",
                    "actions": [a for a in ROUTE53_WRITES if a != "route53:ChangeResourceRecordSets"],
                    "resources": ["*"],
                }
            )
        else:
            boundary_statements.append(
                {
                    "sid": "NoDnsWithoutADomain",
                    "effect": "Deny",
                    "actions": list(ROUTE53_WRITES),
                    "resources": ["*"],
                }
            )
        if not delivery.create_oidc_provider:
            # IAM has one GitHub provider per account; a stack that does not own it may not change who it trusts.
            boundary_statements.append(
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
            )
        if self_managed:
            boundary_statements += [
                # The shared state bucket, per stack prefix: S3 has no resource tags to condition on.
                {"sid": "NoOtherStacksState", "effect": "Deny", "actions": ["s3:*"], "resources": other_objects},
                {"sid": "BackendMetadataIsReadOnly", "effect": "Deny",
                 "actions": ["s3:PutObject*", "s3:DeleteObject*", "s3:RestoreObject"], "resources": [meta_object]},
                # One secrets key per stack: another stack's key is not used, administered or re-aliased.
                {"sid": "NoOtherStacksSecrets", "effect": "Deny", "actions": ["kms:*"], "resources": ["*"],
                 "conditions": [iam.condition("ForAnyValue:StringEquals", "kms:ResourceAliases",
                                              *[secrets_key_alias(s) for s in other_stacks])]},
                {"sid": "NoOtherStacksSecretsAliases", "effect": "Deny",
                 "actions": ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"],
                 "resources": [pulumi.Output.format("arn:{0}:kms:*:{1}:{2}", partition, account_id,
                                                    secrets_key_alias(s)) for s in other_stacks]},
            ]  # fmt: skip
            if not delivery.create_state_backend:
                # The bucket's policy, versioning, lifecycle, replication and ACLs belong to its owner.
                boundary_statements.append(
                    {
                        "sid": "StateBucketIsNotOurs",
                        "effect": "Deny",
                        "notActions": ["s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketVersioning"],
                        "resources": [bucket_arn],
                    }
                )
        boundary = aws.iam.Policy(
            f"{name}-boundary",
            name=boundary_name(environment),
            description=f"Outer limit of the {environment} GitHub pipeline roles",
            policy=iam.policy_json(self, boundary_statements),
            tags=tags(COMPONENT, f"{name}-boundary"),
            opts=child,
        )

        subjects = github_subjects(delivery)

        def github_role(role: str, description: str, max_session: int) -> aws.iam.Role:
            trust = iam.policy_json(
                self,
                [
                    {
                        "sid": "GitHubActionsOidc",
                        "effect": "Allow",
                        "actions": ["sts:AssumeRoleWithWebIdentity"],
                        "principals": [{"type": "Federated", "identifiers": [self.oidc_provider_arn]}],
                        # Exact values, StringEquals: no wildcard lets another repo, branch or a fork through.
                        "conditions": [
                            iam.condition("StringEquals", f"{GITHUB_OIDC_HOST}:aud", STS_AUDIENCE),
                            iam.condition("StringEquals", f"{GITHUB_OIDC_HOST}:sub", *subjects[role]),
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
                opts=child,
            )

        # --- preview: pull requests; reads what a preview reads, never a secret value or a data object ---
        preview = github_role(
            "preview", f"pulumi preview of {environment} from pull requests (read-only)",
            delivery.preview_session_seconds,
        )  # fmt: skip
        aws.iam.RolePolicyAttachment(
            f"{name}-preview-view-only",
            role=preview.name,
            # ViewOnlyAccess lists and describes resources but, unlike ReadOnlyAccess, reads no object, item,
            # secret value or parameter.
            policy_arn=pulumi.Output.format("arn:{0}:iam::aws:policy/job-function/ViewOnlyAccess", partition),
            opts=child,
        )
        iam_arns = [
            pulumi.Output.format("arn:{0}:iam::{1}:{2}/*", partition, account_id, kind)
            for kind in ("role", "policy", "instance-profile", "oidc-provider")
        ]
        # AWS's public parameters (EKS-optimised AMI ids, region facts) hold no customer data.
        public_parameters = pulumi.Output.format("arn:{0}:ssm:*::parameter/aws/service/*", partition)
        eks_cluster = cluster_name(environment)
        preview_statements: list[iam.Statement] = [
            iam.allow(PREVIEW_READ_ACTIONS, iam_arns, sid="ReadIamDocuments"),
            iam.allow(
                ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
                [pulumi.Output.format("arn:{0}:kms:*:{1}:key/*", partition, account_id)],
                sid="ReadKeyPolicies",
            ),
            iam.allow(
                [
                    "eks:DescribeCluster",
                    "eks:DescribeNodegroup",
                    "eks:DescribeAddon",
                    "eks:DescribeAccessEntry",
                ],
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
            *state_statements(write=False),
            iam.allow(
                ["ssm:GetParameter", "ssm:GetParameters"], [public_parameters], sid="ReadPublicParameters"
            ),
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
                    if self_managed
                    else {}
                ),
            },
            {
                "sid": "NoDataObjects",
                "effect": "Deny",
                "actions": list(OBJECT_READ_ACTIONS),
                **({"notResources": [meta_object, *own_objects]} if self_managed else {"resources": ["*"]}),
            },
        ]
        aws.iam.RolePolicy(f"{name}-preview", role=preview.id, policy=iam.policy_json(self, preview_statements),
                           opts=child)  # fmt: skip

        # --- deploy: `pulumi up` of this stack; broad create rights by service, in the platform's regions ---
        deploy = github_role(
            "deploy", f"pulumi up of {environment} from GitHub Actions", delivery.deploy_session_seconds
        )
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
        deploy_statements: list[iam.Statement] = [
            # "*": the program creates resources whose ids AWS assigns at creation (vpc-…, auto-named roles and
            # buckets), so no ARN pattern can name them in advance; tag-on-create conditions are not supported by
            # every action here. Bounded instead by service, region and the boundary's denies.
            iam.allow(
                [f"{svc}:*" for svc in PLATFORM_SERVICES],
                ["*"],
                sid="ManagePlatformServices",
                conditions=[iam.condition("StringEquals", "aws:RequestedRegion", *allowed_regions)],
            ),
            iam.allow(IAM_MANAGE_ACTIONS, platform_iam_arns, sid="ManagePlatformIdentities"),
            iam.allow(
                ["iam:CreateServiceLinkedRole"],
                [service_linked_roles],
                sid="ServiceLinkedRoles",
                conditions=[
                    iam.condition("StringEquals", "iam:AWSServiceName", *SERVICE_LINKED_ROLE_SERVICES)
                ],
            ),
            # The program creates the service-linked roles it relies on once per account (tagged, so TagRole) and
            # looks them up in the other stacks; deleting one is how a torn-down owner stack cleans up.
            iam.allow(
                [
                    "iam:GetRole",
                    "iam:TagRole",
                    "iam:UntagRole",
                    "iam:ListRoleTags",
                    "iam:DeleteServiceLinkedRole",
                    "iam:GetServiceLinkedRoleDeletionStatus",
                ],
                [service_linked_roles],
                sid="ManageServiceLinkedRoles",
            ),
            iam.allow(
                ["iam:PassRole"],
                [platform_iam_arns[0]],
                sid="PassPlatformRolesToTheirServices",
                conditions=[iam.condition("StringEquals", "iam:PassedToService", *PASS_ROLE_SERVICES)],
            ),
            # "*": a scalable target's ARN is assigned when it is registered (provisioned DynamoDB mode).
            iam.allow(
                APP_AUTOSCALING_ACTIONS,
                ["*"],
                sid="ProvisionedTableAutoScaling",
                conditions=[iam.condition("StringEquals", "aws:RequestedRegion", *allowed_regions)],
            ),
            *(
                [
                    # CodeBuild checks that whoever configures a project's connection may pass and use it.
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
                if delivery.github_connection_arn
                else []
            ),
            *state_statements(write=True),
        ]
        aws.iam.RolePolicy(f"{name}-deploy", role=deploy.id, policy=iam.policy_json(self, deploy_statements),
                           opts=child)  # fmt: skip

        # --- image push: this stack's eight repositories, nothing else ---
        image_push = github_role(
            "image-push",
            f"docker push to the {environment} service repositories",
            delivery.preview_session_seconds,
        )
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
        aws.iam.RolePolicy(
            f"{name}-image-push",
            role=image_push.id,
            policy=iam.policy_json(
                self,
                [
                    # "*": GetAuthorizationToken returns a registry-wide login token and has no resource-level
                    # permission; what the token may push is still decided per repository below.
                    iam.allow(["ecr:GetAuthorizationToken"], ["*"], sid="RegistryLogin"),
                    iam.allow(ECR_PUSH_ACTIONS, repo_arns, sid="PushServiceImages"),
                ],
            ),
            opts=child,
        )

        self.preview_role_arn = preview.arn
        self.deploy_role_arn = deploy.arn
        self.image_push_role_arn = image_push.arn
        self.permissions_boundary_arn = boundary.arn
        self.register_outputs(
            {
                "oidc_provider_arn": self.oidc_provider_arn,
                "preview_role_arn": self.preview_role_arn,
                "deploy_role_arn": self.deploy_role_arn,
                "image_push_role_arn": self.image_push_role_arn,
                "permissions_boundary_arn": self.permissions_boundary_arn,
                "state_bucket_name": self.state_bucket_name,
                "secrets_provider": self.secrets_provider,
            }
        )

    def _state_backend(
        self,
        name: str,
        delivery: DeliverySettings,
        bucket_name: pulumi.Output[str],
        account_id: pulumi.Output[str],
        partition: pulumi.Output[str],
        protect: bool,
    ) -> None:
        """The shared backend: bucket key, one secrets key per stack, and the bucket. Everything protected."""
        keep = pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect)
        child = pulumi.ResourceOptions(parent=self)
        shared: dict[str, Any] = {"Environment": SHARED_ENVIRONMENT}

        def key(role: str, alias: str, description: str) -> aws.kms.Key:
            k = iam.customer_key(
                self,
                f"{name}-{role}-key",
                description=description,
                account_id=account_id,
                partition=partition,
                tags=tags(COMPONENT, f"{name}-{role}-key", **shared),
                opts=keep,
            )
            aws.kms.Alias(f"{name}-{role}-key", name=alias, target_key_id=k.key_id, opts=child)
            return k

        state_key = key("state", STATE_KEY_ALIAS, "Encrypts the Pulumi state bucket")
        for stack in delivery.state_stacks:
            key(
                f"{stack}-secrets",
                secrets_key_alias(stack),
                f"awskms:// secrets provider of the {stack} stack",
            )

        bucket = aws.s3.Bucket(
            f"{name}-state",
            bucket=bucket_name,
            tags=tags(COMPONENT, f"{name}-state", **shared),
            opts=keep,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-state", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-state", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=child,
        )  # fmt: skip
        versioning = aws.s3.BucketVersioning(
            f"{name}-state", bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=child
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-state",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": state_key.arn,
                    },
                    # One data key per bucket instead of per object: fewer KMS calls, lower cost.
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-state",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-old-state-versions",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    # Every update rewrites the checkpoint; old versions are the undo history, kept this long.
                    "noncurrent_version_expiration": {"noncurrent_days": delivery.state_noncurrent_days},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                }
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        aws.s3.BucketPolicy(
            f"{name}-state",
            bucket=bucket.id,
            policy=iam.policy_json(
                self,
                [
                    {
                        "sid": "TlsOnly",
                        "effect": "Deny",
                        "principals": [{"type": "*", "identifiers": ["*"]}],
                        "actions": ["s3:*"],
                        "resources": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                        "conditions": [iam.condition("Bool", "aws:SecureTransport", "false")],
                    },
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
                ],
            ),
            opts=child,
        )


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


def runner_project_name(environment: str) -> str:
    """`ecommerce-platform-dev-runner`: workflows pick it with `runs-on: codebuild-<name>-<run id>-<attempt>`."""
    return f"{PROJECT}-{environment}-runner"


#: CodeBuild's Ubuntu standard image: AWS CLI v2 (for `aws eks get-token`), Python and git; actions/setup-python
#: ships builds for Ubuntu only, so the Amazon Linux images would not do.
RUNNER_IMAGE = "aws/codebuild/standard:7.0"
#: A first prod `up` takes ~45 minutes; CodeBuild stops a build at its timeout (minutes).
RUNNER_TIMEOUT_MINUTES = 120


class CiRunner(pulumi.ComponentResource):
    """AWS CodeBuild-hosted GitHub Actions runners inside the VPC, so preview and deploy reach a private cluster.

    A CodeBuild project whose webhook takes `WORKFLOW_JOB_QUEUED` events starts a build for each queued job that
    asks for `runs-on: codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}`; the build registers as
    an ephemeral self-hosted runner in the private subnets (CodeBuild user guide, "Self-hosted GitHub Actions
    runners in AWS CodeBuild"). The job still assumes the pipeline roles through GitHub OIDC; the project's own
    role can only run the build (network interfaces, its GitHub connection), so a job choosing this runner gains a
    network position, never permissions. What it must not do: hold any permission on the platform's resources.
    """

    project_name: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        delivery: DeliverySettings,
        *,
        environment: str,
        vpc_id: pulumi.Input[str],
        private_subnet_ids: Sequence[pulumi.Input[str]],
        cluster_security_group_id: pulumi.Input[str],
        endpoints_security_group_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(f"ecommerce:{COMPONENT}:CiRunner", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account_id, partition, region = iam.caller(self)
        project = runner_project_name(environment)

        sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=vpc_id,
            description=f"CodeBuild GitHub Actions runners of {environment}: HTTPS out only",
            tags=tags(COMPONENT, f"{name}-sg"),
            opts=child,
        )
        # GitHub (jobs, actions, OIDC tokens) and Pulumi's plugin downloads through NAT; AWS APIs through the
        # interface endpoints; the cluster's private endpoint. DNS to the VPC resolver is not filtered by SGs.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-out-443", security_group_id=sg.id, description="HTTPS: GitHub, AWS APIs, the cluster API",
            ip_protocol="tcp", from_port=443, to_port=443, cidr_ipv4="0.0.0.0/0", opts=child,
        )  # fmt: skip
        # pulumi-eks's cluster_security_group_id is the EKS-created cluster security group when
        # skip_default_security_groups is set (its docstring): the one on the control plane's private ENIs.
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-to-cluster", security_group_id=cluster_security_group_id,
            description="Kubernetes API (private endpoint) from the CI runners", ip_protocol="tcp", from_port=443,
            to_port=443, referenced_security_group_id=sg.id, opts=child,
        )  # fmt: skip
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-to-endpoints", security_group_id=endpoints_security_group_id,
            description="AWS APIs (STS, EKS, KMS...) through the interface endpoints from the CI runners",
            ip_protocol="tcp", from_port=443, to_port=443, referenced_security_group_id=sg.id, opts=child,
        )  # fmt: skip

        project_arn = pulumi.Output.format(
            "arn:{0}:codebuild:{1}:{2}:project/{3}", partition, region, account_id, project
        )
        role = aws.iam.Role(
            f"{name}-role",
            name=f"ecommerce-{environment}-ci-runner",
            description=f"CodeBuild runner project {project}: runs builds, nothing else",
            assume_role_policy=iam.service_trust(
                self, "codebuild.amazonaws.com", account_id=account_id, source_arn=project_arn
            ),
            tags=tags(COMPONENT, f"ecommerce-{environment}-ci-runner"),
            opts=child,
        )
        subnet_arns = [
            pulumi.Output.format("arn:{0}:ec2:{1}:{2}:subnet/{3}", partition, region, account_id, subnet)
            for subnet in private_subnet_ids
        ]
        eni_arns = pulumi.Output.format(
            "arn:{0}:ec2:{1}:{2}:network-interface/*", partition, region, account_id
        )
        statements: list[iam.Statement] = [
            # "*": EC2 Describe* actions have no resource-level permissions.
            iam.allow(
                [
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeVpcs",
                ],
                ["*"],
                sid="SeeTheVpc",
            ),
            # A build's network interface: in the private subnets, with the runner's security group only.
            iam.allow(
                ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
                [eni_arns, *subnet_arns, sg.arn],
                sid="RunInThePrivateSubnets",
            ),
            iam.allow(
                ["ec2:CreateNetworkInterfacePermission"],
                [eni_arns],
                sid="AttachToThePrivateSubnets",
                conditions=[
                    iam.condition("StringEquals", "ec2:AuthorizedService", "codebuild.amazonaws.com"),
                    iam.condition("ArnEquals", "ec2:Subnet", *subnet_arns),
                ],
            ),
        ]
        if delivery.github_connection_arn:
            statements.append(
                iam.allow(
                    [
                        "codeconnections:GetConnectionToken",
                        "codeconnections:GetConnection",
                        "codeconnections:UseConnection",
                        "codestar-connections:GetConnectionToken",
                        "codestar-connections:GetConnection",
                        "codestar-connections:UseConnection",
                    ],
                    [delivery.github_connection_arn],
                    sid="UseTheGitHubConnection",
                )
            )
        role_policy = aws.iam.RolePolicy(
            f"{name}-role", role=role.id, policy=iam.policy_json(self, statements), opts=child
        )

        source = aws.codebuild.ProjectSourceArgs(
            type="GITHUB",
            location=f"https://github.com/{delivery.github_repository}.git",
            auth=aws.codebuild.ProjectSourceAuthArgs(
                type="CODECONNECTIONS", resource=delivery.github_connection_arn
            )
            if delivery.github_connection_arn
            else None,
        )
        codebuild = aws.codebuild.Project(
            f"{name}-project",
            name=project,
            description=f"Ephemeral GitHub Actions runners for the {environment} preview and deploy jobs",
            service_role=role.arn,
            source=source,
            artifacts={"type": "NO_ARTIFACTS"},
            environment={
                "type": "LINUX_CONTAINER",
                "compute_type": delivery.runner_compute_type,
                "image": RUNNER_IMAGE,
                "image_pull_credentials_type": "CODEBUILD",
            },
            vpc_config=aws.codebuild.ProjectVpcConfigArgs(
                vpc_id=vpc_id, subnets=list(private_subnet_ids), security_group_ids=[sg.id]
            ),
            build_timeout=RUNNER_TIMEOUT_MINUTES,
            # The job's log lives in the GitHub run; CodeBuild's own copy would be a second, unencrypted one.
            logs_config={"cloudwatch_logs": {"status": "DISABLED"}},
            tags=tags(COMPONENT, project),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )
        aws.codebuild.Webhook(
            f"{name}-webhook",
            project_name=codebuild.name,
            build_type="BUILD",
            filter_groups=[{"filters": [{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"}]}],
            opts=child,
        )

        self.project_name = codebuild.name
        self.security_group_id = sg.id
        self.role_arn = role.arn
        self.register_outputs(
            {
                "project_name": self.project_name,
                "security_group_id": self.security_group_id,
                "role_arn": self.role_arn,
            }
        )
