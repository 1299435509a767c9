"""What every builder of the ServiceMesh shares: the component that owns each resource, the names, the settings and
the caller's account, partition and region.

Builders in this package are functions of a `Scope` (and of the typed values earlier builders returned); they
create resources as children of `scope.owner`, so the ServiceMesh owns every one of them and no URN depends on the
module a builder lives in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from components.config import Settings

COMPONENT = "mesh"


@dataclass(frozen=True)
class MeshNetwork:
    """What the ServiceMesh takes from `EcommerceVpc`."""

    vpc_id: pulumi.Input[str]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    alb_security_group_id: pulumi.Input[str]
    """The seed's ALB SG: the ALB's only group."""
    nodes_security_group_id: pulumi.Input[str]
    """The seed's EKS nodes SG: attached to every node beside the EKS cluster SG."""


@dataclass(frozen=True)
class StandbyRole:
    """What makes a ServiceMesh the DR region's warm standby (`dr.mode` warm-standby) rather than the primary.

    The standby reuses every builder of the mesh under the DR region's provider, with three differences: its AWS
    names carry `-dr` (IAM roles are global to the account: the primary's names are taken), it creates no ECR
    repository (registry replication fills the DR region's copies, `repository_urls`), and no database bootstrap
    Job (the Aurora secondary is read-only and replicates the primary's databases and logins).
    """

    repository_urls: Mapping[str, pulumi.Output[str]]
    """The replicated repositories in the DR region, by service (`<account>.dkr.ecr.<drRegion>...`)."""
    certificate_validation_fqdn: pulumi.Input[str] | None
    """The primary mesh's ACM validation record for `origin.<domain>`: ACM's DNS validation token is the same in
    every region for one account and name (ACM user guide, "DNS validation"), so the DR certificate validates with
    it; a second record resource would manage the same record twice. None without a domain."""
    api_access_cidrs: Sequence[pulumi.Input[str]]
    """Where CI reaches this cluster's API from: the primary VPC's NAT addresses (`/32`), since the CodeBuild
    runners sit in the primary's private subnets and cannot reach a private endpoint in another region's VPC (no
    peering); the public endpoint opens to exactly those (and `cluster.publicAccessCidrs`). Empty: private only."""
    origin_verify_value: pulumi.Input[str]
    """The primary ALB's secret origin header value: CloudFront sends one value to whichever ALB `origin.<domain>`
    resolves to, so the standby's listener rules must require the same one."""


@dataclass(frozen=True)
class Scope:
    """The owner, names and caller every mesh builder needs."""

    owner: pulumi.ComponentResource
    """The ServiceMesh: parent of every resource a builder creates."""
    name: str
    """The component's resource name: every child is `f"{name}-<role>"`."""
    prefix: str
    """The cluster's name (`ecommerce-<env>`): AWS names are built from it."""
    settings: Settings
    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]
    region: pulumi.Output[str]

    @property
    def child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self.owner)
