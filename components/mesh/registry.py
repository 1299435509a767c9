"""Registry: one ECR repository per microservice — immutable tags, scanned on push, encrypted with the mesh's own
key, old images expired — named as Delivery's image-push role is scoped (`delivery.ecrRepositoryPrefix`).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components import iam
from components.delivery import ecr_repository_name
from components.mesh.scope import COMPONENT, Scope
from components.naming import tags
from k8s.catalogue import CATALOGUE

#: Untagged layers go after a week; the 50 newest tagged images stay for rollbacks.
_LIFECYCLE = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "Untagged layers go after a week",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 7,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": "Keep the 50 newest tagged images (rollbacks)",
            "selection": {
                "tagStatus": "any",
                "countType": "imageCountMoreThan",
                "countNumber": 50,
            },
            "action": {"type": "expire"},
        },
    ]
}


def repositories(scope: Scope) -> dict[str, pulumi.Output[str]]:
    """The repositories and their key; each service's repository URL."""
    name, settings = scope.name, scope.settings
    ecr_key = iam.customer_key(
        scope.owner,
        f"{name}-ecr-key",
        description=f"ECR repositories of {scope.prefix}",
        account_id=scope.account_id,
        partition=scope.partition,
        tags=tags(COMPONENT, f"{name}-ecr-key"),
        opts=scope.child,
    )
    lifecycle = pulumi.Output.json_dumps(_LIFECYCLE)
    urls: dict[str, pulumi.Output[str]] = {}
    for svc in CATALOGUE:
        # The name Delivery's image-push role is scoped to (`delivery.ecrRepositoryPrefix`).
        repo_name = ecr_repository_name(settings.delivery.ecr_repository_prefix, svc.name)
        repo = aws.ecr.Repository(
            f"{name}-{svc.name}",
            name=repo_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[
                aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=ecr_key.arn)
            ],
            force_delete=not settings.protect_data,
            tags=tags(COMPONENT, repo_name, Service=svc.name),
            opts=scope.child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-{svc.name}", repository=repo.name, policy=lifecycle, opts=scope.child
        )
        urls[svc.name] = repo.repository_url
    return urls
