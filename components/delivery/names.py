"""The fixed names of the delivery area: role, boundary, key-alias, repository and runner names, and the OIDC
subjects each pipeline role trusts. Fixed, so workflows and the other stacks of the account can build an ARN from
the account id alone; plain functions, so the ServiceMesh and the tests use the same answer without a resource.
"""

from __future__ import annotations

from components.config import PROJECT, DeliverySettings

COMPONENT = "delivery"
#: GitHub's OIDC issuer host; the provider URL and the prefix of every condition key on its tokens.
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
#: The audience aws-actions/configure-aws-credentials requests; every trust policy pins it.
STS_AUDIENCE = "sts.amazonaws.com"
#: Environment tag of the account-level resources several stacks use (OIDC provider, state bucket and keys).
SHARED_ENVIRONMENT = "shared"
#: The tag every resource carries (provider default tags) and the boundary separates environments by.
ENVIRONMENT_TAG = "Environment"
#: The stacks of the account; each stack's pipeline is fenced off from the others'.
STACKS = ("dev", "prod")


def role_name(environment: str, role: str) -> str:
    """`ecommerce-platform-dev-github-deploy`: fixed, so workflows can build the ARN from the account id."""
    return f"{PROJECT}-{environment}-github-{role}"


def boundary_name(environment: str) -> str:
    return f"{PROJECT}-{environment}-pipeline-boundary"


def secrets_key_alias(stack: str) -> str:
    """The alias of a stack's `awskms://` secrets provider key."""
    return f"alias/{PROJECT}-{stack}-secrets"


STATE_KEY_ALIAS = f"alias/{PROJECT}-state"


def other_stacks(environment: str) -> list[str]:
    """The stacks whose state, secrets and identities this stack's pipeline may not touch."""
    return [s for s in STACKS if s != environment]


def ecr_repository_name(prefix: str, service: str) -> str:
    """`ecommerce-dev/product`: the ECR repository of one service (the ServiceMesh creates them by this name)."""
    return f"{prefix}/{service}"


def runner_project_name(environment: str) -> str:
    """`ecommerce-platform-dev-runner`: workflows pick it with `runs-on: codebuild-<name>-<run id>-<attempt>`."""
    return f"{PROJECT}-{environment}-runner"


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
