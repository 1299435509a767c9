"""Names, tags and the resource options every component shares.

Stack-wide tags (Project, Environment, ManagedBy, CostCenter) are the AWS provider's `default_tags`; each resource
adds only `Name` and `Component` through `tags()`. Keep both here so there is one answer to "what is this called
and who owns it".
"""

from __future__ import annotations

import pulumi

from components.config import PROJECT, Settings

MANAGED_BY = "pulumi"


def default_tags(settings: Settings) -> dict[str, str]:
    """The tags the AWS provider stamps on every taggable resource."""
    return {
        "Project": PROJECT,
        "Environment": settings.environment,
        "ManagedBy": MANAGED_BY,
        "CostCenter": settings.cost_center,
    }


def tags(component: str, name: str, **extra: str) -> dict[str, str]:
    """A resource's own tags: its `Name`, the `Component` that owns it, and any role tags."""
    return {"Name": name, "Component": component, **extra}


def cluster_name(environment: str) -> str:
    """The EKS cluster's name (`ecommerce-<env>`): the mesh creates it, the pipeline roles are scoped to it."""
    return f"ecommerce-{environment}"


def az_suffix(az: str) -> str:
    """`us-east-2a` -> `a`: the short AZ label used in per-AZ resource names."""
    return az[-1]


def stateful(settings: Settings, opts: pulumi.ResourceOptions | None = None) -> pulumi.ResourceOptions:
    """Options for a resource that holds data: protected and retained on delete when `protectData` is on.

    `protect` makes `pulumi destroy` refuse; `retain_on_delete` keeps the cloud resource even if protection is
    lifted and the resource leaves the program by mistake.
    """
    protect = settings.protect_data
    return pulumi.ResourceOptions.merge(
        opts or pulumi.ResourceOptions(), pulumi.ResourceOptions(protect=protect, retain_on_delete=protect)
    )
