"""Delivery settings (`delivery.*`, `Delivery`): the GitHub OIDC trust, the pipeline roles, the runners and the
self-managed state backend, and their rules (which read the cluster's API access and the network's egress)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Protocol

from components.config.cluster import ClusterSettings
from components.config.machinery import Stack, setting
from components.config.network import NetworkSettings
from components.config.shared import ENVIRONMENTS

#: The two ways a stack's state can be kept: an S3 bucket + KMS key this program creates, or Pulumi Cloud.
STATE_BACKENDS = ("self-managed", "pulumi-cloud")

#: CodeBuild compute types a Linux-container GitHub Actions runner can use (2, 4 and 8 vCPUs).
RUNNER_COMPUTE_TYPES = ("BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE")

#: IAM's bounds for a role's maximum session (seconds); this design allows at most two hours for any pipeline role.
ROLE_SESSION_BOUNDS = (3600, 7200)


@dataclass(frozen=True)
class DeliverySettings:
    """GitHub Actions delivery: the OIDC trust, the pipeline roles and the self-managed state backend (`Delivery`)."""

    github_repository: str = setting(
        "githubRepository", "GitHub repository (owner/name) whose workflows may assume the pipeline roles.",
        "your-org/ecommerce-platform",
    )  # fmt: skip
    deploy_from: Literal["branch", "environment"] = setting(
        "deployFrom", "What may assume the deploy role: a push to deployBranch, or a job in deployEnvironment.",
        "environment",
    )  # fmt: skip
    deploy_branch: str = setting(
        "deployBranch", "Branch whose pushes may deploy (deployFrom: branch).", "main"
    )
    deploy_environment: str = setting(
        "deployEnvironment", "GitHub environment (with required reviewers) that may deploy (deployFrom: environment).",
        "prod",
    )  # fmt: skip
    image_branch: str = setting("imageBranch", "Branch whose pushes may push service images to ECR.", "main")
    preview_from: Literal["pull_request", "environment"] = setting(
        "previewFrom", "What may assume the preview role: any same-repository pull request, or a job in "
        "previewEnvironment (required reviewers). A pull request runs its own workflow file.", "pull_request",
    )  # fmt: skip
    preview_environment: str = setting(
        "previewEnvironment", "GitHub environment (with required reviewers) whose jobs may preview (previewFrom: "
        "environment).", "prod-preview",
    )  # fmt: skip
    runners: Literal["codebuild", "github-hosted"] = setting(
        "runners", "Where the preview and deploy jobs run: codebuild (AWS CodeBuild-hosted GitHub Actions runners in "
        "the private subnets; reaches a private-only cluster endpoint) or github-hosted (needs "
        "cluster.publicAccessCidrs listing static runner egress).", "codebuild",
    )  # fmt: skip
    runner_compute_type: str = setting(
        "runnerComputeType", "CodeBuild compute type of the runner (BUILD_GENERAL1_SMALL/MEDIUM/LARGE).",
        "BUILD_GENERAL1_MEDIUM",
    )  # fmt: skip
    github_connection_arn: str = setting(
        "githubConnectionArn", "CodeConnections connection to GitHub the runner project authenticates with; empty: "
        "the account's CodeBuild source credential for GitHub.", "",
    )  # fmt: skip
    preview_session_seconds: int = setting(
        "previewSessionSeconds",
        "Maximum session of the preview role (3600-7200; IAM's minimum is 3600).",
        3600,
    )
    deploy_session_seconds: int = setting(
        "deploySessionSeconds",
        "Maximum session of the deploy role (3600-7200: a first prod `up` takes ~45 min).",
        3600,
    )
    create_oidc_provider: bool = setting(
        "createOidcProvider", "Create the account's GitHub OIDC provider; false: use the one another stack created.",
        True,
    )  # fmt: skip
    state_backend: Literal["self-managed", "pulumi-cloud"] = setting(
        "stateBackend",
        "Where the stacks' state lives: self-managed (S3 + KMS) or pulumi-cloud.",
        "self-managed",
    )
    create_state_backend: bool = setting(
        "createStateBackend", "Create the shared state bucket and secrets keys (one stack per account owns them).",
        False,
    )  # fmt: skip
    state_stacks: tuple[str, ...] = setting(
        "stateStacks", "Stacks whose state and secrets key the state backend holds (with createStateBackend).",
        ("dev", "prod"),
    )  # fmt: skip
    state_noncurrent_days: int = setting(
        "stateNoncurrentDays", "Days an overwritten state file version is kept before it expires.", 90
    )
    ecr_repository_prefix: str = setting(
        "ecrRepositoryPrefix", "ECR repositories are `<prefix>/<service>`; the image-push role may push to those only.",
        "ecommerce",
    )  # fmt: skip


#: GitHub's rules for an owner (user/org: letters, digits, single hyphens, <= 39) and a repository name.
_GITHUB_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9._-]{1,100}")
#: Branch and environment names that are safe to put verbatim into an OIDC `sub` (no wildcards, no `:`).
_GITHUB_REF_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,99}")
#: ECR repository name rules (a prefix of `<prefix>/<service>`).
_ECR_PREFIX = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")


class Context(Stack, Protocol):
    """What the delivery rules read: this area, the cluster's public API access and the network's egress."""

    @property
    def delivery(self) -> DeliverySettings: ...
    @property
    def cluster(self) -> ClusterSettings: ...
    @property
    def network(self) -> NetworkSettings: ...


def delivery_rules(s: Context, problems: list[str]) -> None:
    d = s.delivery
    if not _GITHUB_REPOSITORY.fullmatch(d.github_repository) or d.github_repository.endswith(
        (".", "/.", "/..")
    ):
        problems.append(f"delivery.githubRepository: {d.github_repository!r} is not a GitHub repository such as "
                        "your-org/ecommerce-platform (owner/name, no wildcards)")  # fmt: skip
    for key, value in (("deployBranch", d.deploy_branch), ("deployEnvironment", d.deploy_environment),
                       ("imageBranch", d.image_branch), ("previewEnvironment", d.preview_environment)):  # fmt: skip
        if not _GITHUB_REF_NAME.fullmatch(value) or ".." in value:
            problems.append(f"delivery.{key}: {value!r} is not a plain branch/environment name (letters, digits, "
                            ". _ / -; no wildcards or ':' — it becomes an exact OIDC subject)")  # fmt: skip
    if s.is_prod and d.preview_from != "environment":
        problems.append(f"delivery.previewFrom: {d.preview_from!r} is not allowed in prod; allowed: environment (a "
                        "pull_request job runs the workflow file from the pull request itself, so prod's state and "
                        "secrets key may only be reached from a GitHub environment with required reviewers)")  # fmt: skip
    if d.preview_from == "environment" and d.preview_environment == d.deploy_environment:
        problems.append(f"delivery.previewEnvironment: {d.preview_environment!r} is the deploy environment; use "
                        "its own environment so approving a preview never approves a deploy")  # fmt: skip
    if d.runners == "github-hosted" and not s.cluster.public_access_cidrs:
        problems.append("delivery.runners: github-hosted with an empty cluster.publicAccessCidrs (private-only "
                        "endpoint); GitHub-hosted runners cannot reach it. Use runners: codebuild, or list the static "
                        "egress ranges of GitHub larger runners in cluster.publicAccessCidrs")  # fmt: skip
    if d.runners == "codebuild" and s.network.egress == "none":
        problems.append("delivery.runners: codebuild needs network.egress single-nat or nat-per-az; a runner in the "
                        "private subnets reaches GitHub (jobs, actions, OIDC tokens) through NAT")  # fmt: skip
    if d.runner_compute_type not in RUNNER_COMPUTE_TYPES:
        problems.append(f"delivery.runnerComputeType: {d.runner_compute_type!r} is not allowed; allowed: "
                        f"{', '.join(RUNNER_COMPUTE_TYPES)}")  # fmt: skip
    if d.github_connection_arn and not re.fullmatch(
        r"arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}",
        d.github_connection_arn,
    ):
        problems.append(f"delivery.githubConnectionArn: {d.github_connection_arn!r} is not a CodeConnections "
                        "connection ARN (arn:aws:codeconnections:<region>:<account>:connection/<uuid>)")  # fmt: skip
    if d.create_state_backend and s.environment != "prod" and "prod" in d.state_stacks:
        problems.append(f"delivery.createStateBackend: true in {s.environment}, which would let its unreviewed "
                        "deploy role manage the bucket and keys holding prod's state; let prod own the backend")  # fmt: skip
    if s.is_prod and d.deploy_from != "environment":
        problems.append(f"delivery.deployFrom: {d.deploy_from!r} is not allowed in prod; allowed: environment "
                        "(prod deploys only from a GitHub environment with required reviewers)")  # fmt: skip
    lo, hi = ROLE_SESSION_BOUNDS
    for session_key, seconds in (("previewSessionSeconds", d.preview_session_seconds),
                                 ("deploySessionSeconds", d.deploy_session_seconds)):  # fmt: skip
        if not lo <= seconds <= hi:
            problems.append(f"delivery.{session_key}: {seconds} is out of range; allowed: {lo} to {hi} seconds")  # fmt: skip
    if d.preview_session_seconds > d.deploy_session_seconds:
        problems.append(f"delivery.previewSessionSeconds: {d.preview_session_seconds} exceeds "
                        f"delivery.deploySessionSeconds ({d.deploy_session_seconds}); a read-only role gets no more")  # fmt: skip
    if d.create_state_backend and d.state_backend != "self-managed":
        problems.append("delivery.createStateBackend: true needs delivery.stateBackend 'self-managed', "
                        f"got {d.state_backend!r}")  # fmt: skip
    for i, stack in enumerate(d.state_stacks):
        if stack not in ENVIRONMENTS:
            problems.append(
                f"delivery.stateStacks[{i}]: {stack!r} is not a stack; allowed: {', '.join(ENVIRONMENTS)}"
            )
    if d.create_state_backend and s.environment not in d.state_stacks:
        problems.append(f"delivery.stateStacks: {list(d.state_stacks)} leaves out this stack ({s.environment}); "
                        "its own secrets key would be missing")  # fmt: skip
    if not 1 <= d.state_noncurrent_days <= 3650:
        problems.append(
            f"delivery.stateNoncurrentDays: {d.state_noncurrent_days} is out of range; allowed: 1 to 3650"
        )
    if not _ECR_PREFIX.fullmatch(d.ecr_repository_prefix) or len(d.ecr_repository_prefix) > 200:
        problems.append(f"delivery.ecrRepositoryPrefix: {d.ecr_repository_prefix!r} is not an ECR name prefix "
                        "(lower-case letters, digits, . _ - and / between parts, at most 200 characters)")  # fmt: skip
