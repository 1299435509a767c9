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
- `CiRunner`: CodeBuild-hosted GitHub Actions runners in the private subnets, for a private-only cluster endpoint.

What it must not do: grant `*:*` or `Action: "*"`, let a pull request reach a deploy role, let one stack's roles
read another stack's state or secrets key, or let any pipeline role create IAM users or long-lived keys.

The package, along its seams: `names` (fixed names and OIDC subjects), `actions` (the IAM vocabulary),
`state_backend`, `boundary` (the permissions boundary and `with_boundary`), `roles` (the three pipeline roles'
policies), `component` (`Delivery`, whose constructor lists them) and `ci_runner` (`CiRunner`). Everything other
modules import is re-exported here, so `from components.delivery import X` keeps working.
"""

from __future__ import annotations

from components.delivery.actions import (
    ADMIN_POLICIES,
    APP_AUTOSCALING_ACTIONS,
    BOUNDED_EXTRA_SERVICES,
    DATA_READ_ACTIONS,
    ECR_PUSH_ACTIONS,
    GUARDED_SERVICES,
    IAM_MANAGE_ACTIONS,
    IAM_USER_ACTIONS,
    KMS_DATA_ACTIONS,
    OBJECT_READ_ACTIONS,
    PARAMETER_READ_ACTIONS,
    PASS_ROLE_SERVICES,
    PLATFORM_SERVICES,
    PREVIEW_READ_ACTIONS,
    ROUTE53_WRITES,
    SERVICE_LINKED_ROLE_SERVICES,
)
from components.delivery.boundary import boundary_statements, with_boundary
from components.delivery.ci_runner import RUNNER_IMAGE, RUNNER_TIMEOUT_MINUTES, CiRunner
from components.delivery.component import Delivery
from components.delivery.names import (
    COMPONENT,
    ENVIRONMENT_TAG,
    GITHUB_OIDC_HOST,
    SHARED_ENVIRONMENT,
    STATE_KEY_ALIAS,
    STS_AUDIENCE,
    boundary_name,
    ecr_repository_name,
    github_subjects,
    role_name,
    runner_project_name,
    secrets_key_alias,
)
from components.delivery.state_backend import StatePaths, state_access, state_paths

__all__ = [
    "ADMIN_POLICIES",
    "APP_AUTOSCALING_ACTIONS",
    "BOUNDED_EXTRA_SERVICES",
    "COMPONENT",
    "DATA_READ_ACTIONS",
    "ECR_PUSH_ACTIONS",
    "ENVIRONMENT_TAG",
    "GITHUB_OIDC_HOST",
    "GUARDED_SERVICES",
    "IAM_MANAGE_ACTIONS",
    "IAM_USER_ACTIONS",
    "KMS_DATA_ACTIONS",
    "OBJECT_READ_ACTIONS",
    "PARAMETER_READ_ACTIONS",
    "PASS_ROLE_SERVICES",
    "PLATFORM_SERVICES",
    "PREVIEW_READ_ACTIONS",
    "ROUTE53_WRITES",
    "RUNNER_IMAGE",
    "RUNNER_TIMEOUT_MINUTES",
    "SERVICE_LINKED_ROLE_SERVICES",
    "SHARED_ENVIRONMENT",
    "STATE_KEY_ALIAS",
    "STS_AUDIENCE",
    "CiRunner",
    "Delivery",
    "StatePaths",
    "boundary_name",
    "boundary_statements",
    "ecr_repository_name",
    "github_subjects",
    "role_name",
    "runner_project_name",
    "secrets_key_alias",
    "state_access",
    "state_paths",
    "with_boundary",
]
