"""The `Delivery` component: one stack's GitHub OIDC trust, permissions boundary, pipeline roles and (in the stack
that owns it) the shared state backend. The constructor lists what it builds; the policies are in `boundary.py`
and `roles.py`, the backend in `state_backend.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from components import iam
from components.config import DeliverySettings
from components.delivery import roles
from components.delivery.boundary import boundary_statements
from components.delivery.names import (
    COMPONENT,
    GITHUB_OIDC_HOST,
    SHARED_ENVIRONMENT,
    STS_AUDIENCE,
    boundary_name,
    github_subjects,
    secrets_key_alias,
)
from components.delivery.state_backend import create_state_backend, state_paths
from components.naming import tags


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
        self._name, self._delivery, self._environment = name, delivery, environment
        # Not `self._protect`: pulumi.Resource keeps its own protect flag there, and children inherit it.
        self._regions, self._protect_backend, self._domain_name = list(regions), protect, domain_name
        self._account_id, self._partition, self._region = iam.caller(self)
        # The state backend's names are deterministic, so every stack can scope its roles to it.
        self._paths = state_paths(
            environment, self_managed=delivery.state_backend == "self-managed",
            account_id=self._account_id, partition=self._partition, region=self._region,
        )  # fmt: skip

        self.oidc_provider_arn = self._oidc_provider()
        self.state_bucket_name, self.secrets_provider = self._state_backend()
        boundary = self._boundary()
        self.preview_role_arn = self._preview_role(boundary).arn
        self.deploy_role_arn = self._deploy_role(boundary).arn
        self.image_push_role_arn = self._image_push_role(boundary).arn
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

    # -- the account's GitHub OIDC provider ----------------------------------------------------------------------------
    def _oidc_provider(self) -> pulumi.Output[str]:
        """The provider's ARN: IAM allows one per URL per account, so only the owning stack creates it."""
        if not self._delivery.create_oidc_provider:
            return pulumi.Output.format(
                "arn:{0}:iam::{1}:oidc-provider/{2}", self._partition, self._account_id, GITHUB_OIDC_HOST
            )
        provider = aws.iam.OpenIdConnectProvider(
            f"{self._name}-github-oidc",
            url=f"https://{GITHUB_OIDC_HOST}",
            client_id_lists=[STS_AUDIENCE],
            # No thumbprint_lists: for GitHub, IAM validates against its own trusted root CAs and ignores
            # thumbprints (pulumi-aws docstring), so a pinned thumbprint could only go stale.
            tags=tags(COMPONENT, f"{self._name}-github-oidc", Environment=SHARED_ENVIRONMENT),
            opts=pulumi.ResourceOptions(
                parent=self, protect=self._protect_backend, retain_on_delete=self._protect_backend
            ),
        )
        return provider.arn

    # -- the self-managed state backend ----------------------------------------------------------------------------
    def _state_backend(self) -> tuple[pulumi.Output[str] | None, pulumi.Output[str] | None]:
        """(state bucket name, `awskms://` secrets provider): the backend is created here only by its owner."""
        paths, delivery = self._paths, self._delivery
        if delivery.create_state_backend:
            create_state_backend(
                self, self._name, delivery, bucket_name=paths.bucket_name, account_id=self._account_id,
                partition=self._partition, protect=self._protect_backend,
            )  # fmt: skip
        bucket_name = paths.bucket_name if delivery.create_state_backend or paths.self_managed else None
        secrets_provider = (
            pulumi.Output.format(
                "awskms://{0}?region={1}", secrets_key_alias(self._environment), self._region
            )
            if paths.self_managed
            else None
        )
        return bucket_name, secrets_provider

    # -- the permissions boundary --------------------------------------------------------------------------------------
    def _boundary(self) -> aws.iam.Policy:
        """The outer limit of every role this stack's pipeline may create (`boundary.py`)."""
        statements = boundary_statements(
            self._delivery, environment=self._environment, domain_name=self._domain_name,
            account_id=self._account_id, partition=self._partition, paths=self._paths,
        )  # fmt: skip
        return aws.iam.Policy(
            f"{self._name}-boundary",
            name=boundary_name(self._environment),
            description=f"Outer limit of the {self._environment} GitHub pipeline roles",
            policy=iam.policy_json(self, statements),
            tags=tags(COMPONENT, f"{self._name}-boundary"),
            opts=pulumi.ResourceOptions(parent=self),
        )

    # -- the pipeline roles ------------------------------------------------------------------------------------------
    def _github_role(
        self, role: str, description: str, max_session: int, boundary: aws.iam.Policy
    ) -> aws.iam.Role:
        return roles.github_role(
            self, self._name, role, environment=self._environment, description=description,
            max_session=max_session, oidc_provider_arn=self.oidc_provider_arn,
            subjects=github_subjects(self._delivery)[role], boundary=boundary,
        )  # fmt: skip

    def _role_policy(self, role_label: str, role: aws.iam.Role, statements: list[iam.Statement]) -> None:
        aws.iam.RolePolicy(
            f"{self._name}-{role_label}",
            role=role.id,
            policy=iam.policy_json(self, statements),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _preview_role(self, boundary: aws.iam.Policy) -> aws.iam.Role:
        """Pull requests: reads what a preview reads, never a secret value or a data object."""
        env = self._environment
        preview = self._github_role(
            "preview", f"pulumi preview of {env} from pull requests (read-only)",
            self._delivery.preview_session_seconds, boundary,
        )  # fmt: skip
        aws.iam.RolePolicyAttachment(
            f"{self._name}-preview-view-only",
            role=preview.name,
            policy_arn=roles.view_only_access(self._partition),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._role_policy("preview", preview, roles.preview_statements(
            environment=env, regions=self._regions, account_id=self._account_id, partition=self._partition,
            paths=self._paths,
        ))  # fmt: skip
        return preview

    def _deploy_role(self, boundary: aws.iam.Policy) -> aws.iam.Role:
        """`pulumi up` of this stack: broad create rights by service, in the platform's regions."""
        deploy = self._github_role(
            "deploy", f"pulumi up of {self._environment} from GitHub Actions",
            self._delivery.deploy_session_seconds, boundary,
        )  # fmt: skip
        self._role_policy("deploy", deploy, roles.deploy_statements(
            self._delivery, regions=self._regions, account_id=self._account_id, partition=self._partition,
            paths=self._paths,
        ))  # fmt: skip
        return deploy

    def _image_push_role(self, boundary: aws.iam.Policy) -> aws.iam.Role:
        """This stack's eight repositories, nothing else."""
        image_push = self._github_role(
            "image-push", f"docker push to the {self._environment} service repositories",
            self._delivery.preview_session_seconds, boundary,
        )  # fmt: skip
        self._role_policy("image-push", image_push, roles.image_push_statements(
            self._delivery, account_id=self._account_id, partition=self._partition, region=self._region,
        ))  # fmt: skip
        return image_push
