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
    "secretsmanager", "sns", "sqs", "ssm", "wafv2",
    # the analytics lake (its flags included)
    "firehose", "lakeformation", "quicksight", "sagemaker",
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
    "monitoring.rds.amazonaws.com", "pods.eks.amazonaws.com", "sagemaker.amazonaws.com",
    # the lake: Firehose's delivery role, SNS's subscription role, Lake Formation's and QuickSight's data roles
    "firehose.amazonaws.com", "sns.amazonaws.com", "lakeformation.amazonaws.com", "quicksight.amazonaws.com",
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
    gets `...:ref:refs/heads/<branch>`; any pull_request job gets `...:pull_request`.
    """
    repo = f"repo:{delivery.github_repository}"
    deploy = (
        f"{repo}:environment:{delivery.deploy_environment}"
        if delivery.deploy_from == "environment"
        else f"{repo}:ref:refs/heads/{delivery.deploy_branch}"
    )
    return {
        "preview": [f"{repo}:pull_request"],
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
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param delivery: the validated `delivery.*` settings.
        :param environment: this stack's environment (dev/prod): role names, its state paths and ECR repositories.
        :param regions: the regions the platform uses (primary, DR); the deploy role may act in these and us-east-1
            (IAM, CloudFront, its ACM certificate and WAF live there).
        :param protect: protect + retain the state bucket and keys (`protectData`): they hold every stack's state.
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

        # --- the permissions boundary: the outer limit of every pipeline role of this stack ---
        role_arn_pattern = pulumi.Output.format(
            "arn:{0}:iam::{1}:role/{2}-*-github-*", partition, account_id, PROJECT
        )
        boundary_arn_pattern = pulumi.Output.format(
            "arn:{0}:iam::{1}:policy/{2}-*-pipeline-boundary", partition, account_id, PROJECT
        )
        boundary_statements: list[iam.Statement] = [
            # A boundary grants nothing itself; it caps the roles' own policies at these services.
            iam.allow([f"{svc}:*" for svc in (*PLATFORM_SERVICES, "iam", "sts")], ["*"], sid="PlatformServicesOnly"),
            {"sid": "NoLongLivedCredentials", "effect": "Deny", "actions": list(IAM_USER_ACTIONS),
             "resources": ["*"]},
            {"sid": "BoundaryStaysPut", "effect": "Deny",
             "actions": ["iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary"],
             "resources": [role_arn_pattern]},
            {"sid": "BoundaryPolicyIsImmutableHere", "effect": "Deny",
             "actions": ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
                         "iam:SetDefaultPolicyVersion"],
             "resources": [boundary_arn_pattern]},
            {"sid": "NoAdministratorRoles", "effect": "Deny", "actions": ["iam:AttachRolePolicy"], "resources": ["*"],
             "conditions": [iam.condition("ArnEquals", "iam:PolicyARN",
                                          *[pulumi.Output.format("arn:{0}:iam::aws:policy/{1}", partition, p)
                                            for p in ADMIN_POLICIES])]},
            # Resources tagged for another environment (dev's roles must not touch prod); `shared` marks the
            # account-level backend and OIDC provider. Creates carry no resource tag yet and are not affected.
            {"sid": "OnlyThisEnvironmentsResources", "effect": "Deny",
             "actions": [f"{svc}:{verb}" for svc in GUARDED_SERVICES for verb in ("Delete*", "Update*", "Modify*")],
             "resources": ["*"],
             "conditions": [iam.condition("Null", "aws:ResourceTag/Environment", "false"),
                            iam.condition("StringNotEquals", "aws:ResourceTag/Environment", environment,
                                          SHARED_ENVIRONMENT)]},
        ]  # fmt: skip
        if self_managed and other_objects:
            boundary_statements.append(
                {
                    "sid": "NoOtherStacksState",
                    "effect": "Deny",
                    "actions": ["s3:GetObject*", "s3:PutObject*", "s3:DeleteObject*"],
                    "resources": other_objects,
                }
            )
            boundary_statements.append(
                {
                    "sid": "NoOtherStacksSecrets",
                    "effect": "Deny",
                    "actions": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                    "resources": ["*"],
                    "conditions": [
                        iam.condition(
                            "ForAnyValue:StringEquals",
                            "kms:ResourceAliases",
                            *[secrets_key_alias(s) for s in other_stacks],
                        )
                    ],
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
        platform_iam_arns = [
            pulumi.Output.format("arn:{0}:iam::{1}:{2}/ecommerce-*", partition, account_id, kind)
            for kind in ("role", "policy", "instance-profile")
        ] + [
            pulumi.Output.format("arn:{0}:iam::{1}:oidc-provider/{2}", partition, account_id, host)
            for host in (GITHUB_OIDC_HOST, *(f"oidc.eks.{r}.amazonaws.com/id/*" for r in regions))
        ]
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
                [pulumi.Output.format("arn:{0}:iam::{1}:role/aws-service-role/*", partition, account_id)],
                sid="ServiceLinkedRoles",
            ),
            iam.allow(
                ["iam:PassRole"],
                [platform_iam_arns[0]],
                sid="PassPlatformRolesToTheirServices",
                conditions=[iam.condition("StringEquals", "iam:PassedToService", *PASS_ROLE_SERVICES)],
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
