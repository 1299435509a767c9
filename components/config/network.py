"""Network settings (`network.*`, `EcommerceVpc`): the address plan, AZs, egress and endpoints, and their rules."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal, Protocol

from components.config.machinery import Stack, setting
from components.config.shared import LOG_RETENTION_DAYS, REGION_AZS

EGRESS_MODES = ("none", "single-nat", "nat-per-az")
ALB_INGRESS_MODES = ("cloudfront", "internet")

#: Interface endpoints a node in a private subnet needs to join EKS, pull from ECR, assume IRSA roles and ship logs
#: (EKS user guide, "private clusters"); without any NAT these are mandatory.
PRIVATE_CLUSTER_ENDPOINTS = (
    "ec2",
    "ecr.api",
    "ecr.dkr",
    "sts",
    "logs",
    "elasticloadbalancing",
    "autoscaling",
    "eks",
    "eks-auth",
    "kms",
)
#: Further interface endpoints the workloads call, allowed in `network.interfaceEndpoints`.
SERVICE_ENDPOINTS = ("secretsmanager", "sns", "sqs", "ssm", "ssmmessages", "ec2messages", "monitoring", "rds")
INTERFACE_ENDPOINTS = PRIVATE_CLUSTER_ENDPOINTS + SERVICE_ENDPOINTS


@dataclass(frozen=True)
class PortRange:
    """An inclusive TCP port range."""

    from_port: int = setting("from", "First port of the range.", 8080)
    to_port: int = setting("to", "Last port of the range.", 8089)


@dataclass(frozen=True)
class NetworkSettings:
    """The VPC: address plan, AZs, egress and endpoints (`EcommerceVpc`)."""

    vpc_name: str = setting("vpcName", "Name tag of the VPC.", "ecommerce-vpc")
    vpc_cidr: str = setting("vpcCidr", "IPv4 CIDR of the VPC.", "10.0.0.0/16")
    availability_zones: tuple[str, ...] = setting(
        "availabilityZones",
        "AZ names to spread over, one public and one private subnet each. Names map to different zones per "
        "account: the preview stops when one is a zone ID EKS refuses (use1-az3 in us-east-1).",
        ("us-east-2a", "us-east-2b"),
    )
    public_subnet_cidrs: tuple[str, ...] = setting(
        "publicSubnetCidrs", "Public subnet CIDRs, one per AZ in the same order (the ALB, NAT gateways).",
        ("10.0.1.0/24", "10.0.2.0/24"),
    )  # fmt: skip
    private_subnet_cidrs: tuple[str, ...] = setting(
        "privateSubnetCidrs", "Private subnet CIDRs, one per AZ in the same order (nodes, databases).",
        ("10.0.10.0/24", "10.0.11.0/24"),
    )  # fmt: skip
    egress: Literal["none", "single-nat", "nat-per-az"] = setting(
        "egress", "Internet egress for private subnets: single-nat (one NAT) or nat-per-az (one NAT per AZ); none is "
        "refused (Stripe, Cognito's hosted UI and the controllers' public images need the internet).", "nat-per-az",
    )  # fmt: skip
    interface_endpoints: tuple[str, ...] = setting(
        "interfaceEndpoints", "Interface VPC endpoints (service suffixes) reachable from the private subnets.",
        (*PRIVATE_CLUSTER_ENDPOINTS, "secretsmanager", "sns", "sqs"),
    )  # fmt: skip
    interface_endpoint_az_count: int = setting(
        "interfaceEndpointAzCount",
        "In how many AZs each interface endpoint gets an ENI (1 halves its cost).",
        2,
    )
    alb_ingress: Literal["cloudfront", "internet"] = setting(
        "albIngress", "Who may reach the ALB on 80/443: cloudfront (its origin-facing prefix list) or internet.",
        "cloudfront",
    )  # fmt: skip
    service_ports: PortRange = setting(
        "servicePorts", "Container ports the ALB may reach on the nodes (every service port must be inside).",
        PortRange(),
    )  # fmt: skip
    flow_log_retention_days: int = setting(
        "flowLogRetentionDays", "Days VPC flow logs are kept in CloudWatch Logs.", 365
    )


class Context(Stack, Protocol):
    """What the network rules read: this area and the stack's region."""

    @property
    def network(self) -> NetworkSettings: ...


def network_rules(s: Context, problems: list[str]) -> None:
    n = s.network
    key = "network"
    try:
        vpc = ipaddress.IPv4Network(n.vpc_cidr)
    except ValueError:
        problems.append(f"{key}.vpcCidr: {n.vpc_cidr!r} is not an IPv4 CIDR such as 10.0.0.0/16")
        return
    if not 16 <= vpc.prefixlen <= 24:
        problems.append(f"{key}.vpcCidr: {n.vpc_cidr!r} has prefix /{vpc.prefixlen}; AWS allows /16 to /28, "
                        "and this design needs /16 to /24")  # fmt: skip
    if not vpc.is_private:
        problems.append(f"{key}.vpcCidr: {n.vpc_cidr!r} is not in a private (RFC 1918) range")

    region_azs = REGION_AZS.get(s.region)
    if region_azs is None:
        problems.append(f"region: {s.region!r} is not supported; allowed: {', '.join(REGION_AZS)}")
    azs = n.availability_zones
    if len(azs) < 2:
        problems.append(
            f"{key}.availabilityZones: {list(azs)} has {len(azs)} AZ(s); at least 2 are needed for HA"
        )
    if len(set(azs)) != len(azs):
        problems.append(f"{key}.availabilityZones: {list(azs)} lists an AZ twice")
    for i, az in enumerate(azs):
        if region_azs is not None and az not in region_azs:
            problems.append(f"{key}.availabilityZones[{i}]: {az!r} is not an AZ of {s.region}; "
                            f"allowed: {', '.join(region_azs)}")  # fmt: skip

    subnets: list[tuple[str, ipaddress.IPv4Network]] = []
    for tier in ("publicSubnetCidrs", "privateSubnetCidrs"):
        cidrs = n.public_subnet_cidrs if tier == "publicSubnetCidrs" else n.private_subnet_cidrs
        if len(cidrs) != len(azs):
            problems.append(f"{key}.{tier}: {len(cidrs)} CIDR(s) for {len(azs)} AZ(s); give exactly one per AZ, "
                            "in the order of network.availabilityZones")  # fmt: skip
        for i, cidr in enumerate(cidrs):
            where = f"{key}.{tier}[{i}]"
            try:
                net = ipaddress.IPv4Network(cidr)
            except ValueError:
                problems.append(f"{where}: {cidr!r} is not an IPv4 CIDR such as 10.0.1.0/24")
                continue
            if not net.subnet_of(vpc):
                problems.append(f"{where}: {cidr} is outside the VPC {vpc}; choose a range inside it")
            elif not 16 <= net.prefixlen <= 28:
                problems.append(f"{where}: {cidr} has prefix /{net.prefixlen}; AWS subnets are /16 to /28")
            for other_where, other in subnets:
                if net.overlaps(other):
                    problems.append(
                        f"{where}: {cidr} overlaps {other_where} ({other}); subnets must not overlap"
                    )
            subnets.append((where, net))

    unknown = [e for e in n.interface_endpoints if e not in INTERFACE_ENDPOINTS]
    for e in unknown:
        problems.append(
            f"{key}.interfaceEndpoints: {e!r} is not supported; allowed: {', '.join(INTERFACE_ENDPOINTS)}"
        )
    if len(set(n.interface_endpoints)) != len(n.interface_endpoints):
        problems.append(f"{key}.interfaceEndpoints: lists a service twice")
    if n.egress == "none":
        # Endpoints reach AWS APIs only: the controllers' images (public.ecr.aws, registry.k8s.io) and Stripe's API
        # have no VPC endpoint, and Cognito's endpoints over PrivateLink do not serve the hosted UI / managed login.
        problems.append(f"{key}.egress: 'none' is refused; the Load Balancer Controller and Cluster Autoscaler "
                        "images come from public registries (public.ecr.aws, registry.k8s.io) that no VPC endpoint "
                        "serves, the payment service must reach Stripe's API and Cognito's managed login needs the "
                        "internet; allowed: single-nat (one NAT, cheaper) or nat-per-az (egress survives an AZ)")  # fmt: skip
    if not 1 <= n.interface_endpoint_az_count <= len(azs):
        problems.append(f"{key}.interfaceEndpointAzCount: {n.interface_endpoint_az_count} is out of range; "
                        f"allowed: 1 to {len(azs)} (the number of AZs)")  # fmt: skip
    p = n.service_ports
    if not (1024 <= p.from_port <= p.to_port <= 65535):
        problems.append(f"{key}.servicePorts: {p.from_port}-{p.to_port} is not a range within 1024-65535 with "
                        "from <= to")  # fmt: skip
    if n.flow_log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(f"{key}.flowLogRetentionDays: {n.flow_log_retention_days} is not a CloudWatch retention; "
                        f"allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}")  # fmt: skip
