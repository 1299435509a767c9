"""Cluster settings (`cluster.*`, `ServiceMesh`, `k8s/`): the EKS cluster, its node group and the workloads' sizing,
and their rules — the last of which hands the node group's shape to the capacity check (`k8s/capacity.py`)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

from components.config.machinery import Stack, StringMap, setting
from components.config.observability import ObservabilitySettings
from components.config.shared import LOG_RETENTION_DAYS
from k8s.capacity import ClusterShape, capacity_problems
from k8s.catalogue import BY_NAME

#: EKS standard-support Kubernetes versions this program is tested against (kubernetes-validate schemas).
KUBERNETES_VERSIONS = ("1.32", "1.33", "1.34")
WORKLOAD_PROFILES = ("small", "standard")

#: Node instance types allowed per environment: dev stays on burstable sizes, prod starts at t3.medium (the seed).
NODE_INSTANCE_TYPES: Mapping[str, tuple[str, ...]] = {
    "dev": ("t3.micro", "t3.small", "t3.medium"),
    "prod": ("t3.medium", "t3.large", "t3.xlarge", "m6i.large", "m6i.xlarge", "m7i.large", "m7i.xlarge"),
}


#: IPv4 ranges reserved for documentation (RFC 5737): no deployer or runner ever has one as its source address.
#: (`cluster.publicAccessCidrs` takes IPv4 only, so RFC 3849's 2001:db8::/32 is already refused as "not IPv4".)
DOCUMENTATION_NETWORKS = tuple(
    ipaddress.IPv4Network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)

#: `cluster.*` keys this program once read and no longer does, with what to do instead: an old stack file gets this message
#: rather than a bare "unknown key".
RETIRED_KEYS: Mapping[str, str] = {
    "imageTag": "retired: a blanket tag made every Deployment pull an image a fresh account does not have "
    "(the first `up` waited ten minutes per Deployment and failed). Remove it; the images workflow pins each service "
    "in cluster.imageTags after pushing it, and services without an entry run 0 replicas until then",
    "maxPodsPerNode": "retired: EKS managed node groups append their own NodeConfig with the maxPods EKS "
    "computes after yours, and the last one wins, so this value never reached the kubelet. Remove it; the capacity "
    "check models EKS's value (ENI formula, x16 with cluster.prefixDelegation, at most 110)",
}


@dataclass(frozen=True)
class ClusterSettings:
    """The EKS cluster, its node group and the workloads' sizing (`ServiceMesh`, `k8s/`)."""

    retired_keys: ClassVar[Mapping[str, str]] = RETIRED_KEYS

    node_instance_type: str = setting(
        "nodeInstanceType", "EC2 instance type of the managed node group.", "t3.medium"
    )
    node_min_size: int = setting("nodeMinSize", "Minimum node count (the capacity check plans for this).", 2)
    node_desired_size: int = setting("nodeDesiredSize", "Node count at creation.", 2)
    node_max_size: int = setting("nodeMaxSize", "Maximum node count the autoscaler may reach.", 6)
    kubernetes_version: str = setting(
        "kubernetesVersion", "Kubernetes minor version of the control plane and nodes.", "1.33"
    )
    public_access_cidrs: tuple[str, ...] = setting(
        "publicAccessCidrs", "CIDRs allowed to reach the public API endpoint (deployers, CI runners' egress); "
        "empty: private endpoint only.", (),
    )  # fmt: skip
    admin_role_arns: tuple[str, ...] = setting(
        "adminRoleArns",
        "IAM role ARNs granted cluster admin through EKS access entries (besides the creator).",
        (),
    )
    prefix_delegation: bool = setting(
        "prefixDelegation", "VPC CNI prefix delegation: /28 prefixes per ENI slot, lifting the pods-per-node cap.",
        False,
    )  # fmt: skip
    root_volume_size_gib: int = setting(
        "rootVolumeSizeGib", "Encrypted gp3 root volume of each node (GiB).", 20
    )
    workload_profile: Literal["small", "standard"] = setting(
        "workloadProfile", "Sizing of the eight services from the catalogue: small (1 replica, tiny requests) or "
        "standard (2+ replicas, HA).", "standard",
    )  # fmt: skip
    image_tags: StringMap = setting(
        "imageTags", "Published images (`imageTags.<service>: <commit SHA>`, pinned by the images workflow after its "
        "push); a service without an entry runs 0 replicas and no HPA until its first image is published.",
        StringMap(),
    )  # fmt: skip
    system_replicas: int = setting(
        "systemReplicas", "Replicas of CoreDNS and the Load Balancer Controller (2 for HA).", 2
    )
    alb_deletion_protection: bool = setting(
        "albDeletionProtection", "Deletion protection on the ALB (turn off before `pulumi destroy`).", True
    )
    alb_log_retention_days: int = setting("albLogRetentionDays", "Days ALB access logs are kept in S3.", 90)
    control_plane_log_retention_days: int = setting(
        "controlPlaneLogRetentionDays",
        "Days the EKS control-plane logs (/aws/eks/<cluster>/cluster) are kept.",
        90,
    )


def cluster_shape(c: ClusterSettings, *, container_insights: bool = False) -> ClusterShape:
    """The plain values the capacity check reads (Container Insights' agents run on every node)."""
    return ClusterShape(
        node_instance_type=c.node_instance_type,
        node_min_size=c.node_min_size,
        node_max_size=c.node_max_size,
        prefix_delegation=c.prefix_delegation,
        workload_profile=c.workload_profile,
        system_replicas=c.system_replicas,
        container_insights=container_insights,
    )


class Context(Stack, Protocol):
    """What the cluster rules read: this area, the environment, and whether Container Insights' agents run."""

    @property
    def cluster(self) -> ClusterSettings: ...
    @property
    def observability(self) -> ObservabilitySettings: ...


def node_group_rules(s: Context, problems: list[str]) -> None:
    """The node group's instance type and sizes (run with the other areas' rules)."""
    c = s.cluster
    allowed = NODE_INSTANCE_TYPES.get(s.environment, ())
    if c.node_instance_type not in allowed:
        problems.append(f"cluster.nodeInstanceType: {c.node_instance_type!r} is not allowed in {s.environment}; "
                        f"allowed: {', '.join(allowed)}")  # fmt: skip
    if c.node_min_size < 1:
        problems.append(
            f"cluster.nodeMinSize: {c.node_min_size} is below 1; a cluster needs at least one node"
        )
    if c.node_max_size > 50:
        problems.append(f"cluster.nodeMaxSize: {c.node_max_size} is above 50, the limit this design supports")
    if not c.node_min_size <= c.node_desired_size <= c.node_max_size:
        problems.append(f"cluster.nodeDesiredSize: min {c.node_min_size} <= desired {c.node_desired_size} <= "
                        f"max {c.node_max_size} does not hold; set nodeMinSize <= nodeDesiredSize <= nodeMaxSize")  # fmt: skip


def api_source_cidr_problems(key: str, cidrs: tuple[str, ...], problems: list[str]) -> None:
    """Each of `cidrs` (the setting `key`) as a source a public EKS API endpoint may admit: IPv4, /8 or longer, a
    public range (the endpoint sees the caller's public address) and not a documentation range."""
    for i, cidr in enumerate(cidrs):
        try:
            net = ipaddress.IPv4Network(cidr)
        except ValueError:
            problems.append(f"{key}[{i}]: {cidr!r} is not an IPv4 CIDR such as 203.0.113.0/24")
            continue
        if net.prefixlen < 8:
            problems.append(f"{key}[{i}]: {cidr} opens the Kubernetes API to /{net.prefixlen}; "
                            "list the deployers' egress ranges (prefix /8 or longer), or none for a private API")  # fmt: skip
        elif any(net.overlaps(doc) for doc in DOCUMENTATION_NETWORKS):
            problems.append(f"{key}[{i}]: {cidr} is a documentation range (RFC 5737: 192.0.2.0/24, "
                            "198.51.100.0/24, 203.0.113.0/24) that no deployer or CI runner has as its address; put "
                            "the public egress CIDRs of whoever runs `pulumi up` (office, VPN or runner NAT), or [] "
                            "for a private-only API reached from inside the VPC")  # fmt: skip
        elif not net.is_global:
            problems.append(f"{key}[{i}]: {cidr} is not a public range; the public endpoint sees "
                            "the caller's public (NAT) address, never a private one — list public egress CIDRs, or "
                            "[] and reach the private endpoint from inside the VPC")  # fmt: skip


def cluster_rules(s: Context, problems: list[str]) -> None:
    """The rest of the cluster, then the capacity check (run after every area's rules: `after_all`), which only runs
    on an otherwise valid configuration."""
    c = s.cluster
    if c.kubernetes_version not in KUBERNETES_VERSIONS:
        problems.append(f"cluster.kubernetesVersion: {c.kubernetes_version!r} is not supported; allowed: "
                        f"{', '.join(KUBERNETES_VERSIONS)}")  # fmt: skip
    api_source_cidr_problems("cluster.publicAccessCidrs", c.public_access_cidrs, problems)
    for i, arn in enumerate(c.admin_role_arns):
        if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+", arn):
            problems.append(f"cluster.adminRoleArns[{i}]: {arn!r} is not an IAM role ARN "
                            "(arn:aws:iam::<account>:role/<name>)")  # fmt: skip
    if not 20 <= c.root_volume_size_gib <= 200:
        problems.append(f"cluster.rootVolumeSizeGib: {c.root_volume_size_gib} is out of range; allowed: 20 to 200 "
                        "(the EKS AMI needs 20)")  # fmt: skip
    for service, tag in c.image_tags:
        if service not in BY_NAME:
            problems.append(
                f"cluster.imageTags.{service}: not a service of the catalogue; known: {', '.join(BY_NAME)}"
            )
        elif tag == "unpublished":
            problems.append(f"cluster.imageTags.{service}: 'unpublished' is the stand-in tag of a service with no "
                            "image yet; pin the commit SHA the images workflow pushed, or remove the entry")  # fmt: skip
        elif not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag) or tag == "latest":
            problems.append(f"cluster.imageTags.{service}: {tag!r} is not a usable immutable tag (1-128 of letters, "
                            "digits, _ . -; not 'latest')")  # fmt: skip
    if not 1 <= c.system_replicas <= 3:
        problems.append(f"cluster.systemReplicas: {c.system_replicas} is out of range; allowed: 1 to 3")
    if c.alb_log_retention_days < 1:
        problems.append(f"cluster.albLogRetentionDays: {c.alb_log_retention_days} is below 1")
    if c.control_plane_log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(f"cluster.controlPlaneLogRetentionDays: {c.control_plane_log_retention_days} is not a "
                        f"CloudWatch retention; allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}")  # fmt: skip
    if not problems:
        insights = s.observability.container_insights
        problems.extend(capacity_problems(cluster_shape(c, container_insights=insights)))
