"""EcommerceVpc: the seed's network — one VPC, a public and a private subnet in each AZ, egress, endpoints, the four
security groups and flow logs.

What it must not do: open a data port to anything but the EKS nodes' group, give private subnets public IPs, or
send AWS API traffic from the nodes to the internet when an endpoint exists. Security-group rules are standalone
resources, one per rule with a description, so a rule can be added or removed without replacing its group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import iam
from components.config import REGION_AZS, NetworkSettings, Settings, SettingsError
from components.config.dr import standby_network
from components.naming import az_suffix, tags

COMPONENT = "network"
#: CloudFront's origin-facing managed prefix list: the only source allowed to reach a CloudFront-fronted ALB.
CLOUDFRONT_ORIGIN_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
#: The data ports of the seed's Database SG: PostgreSQL (Aurora), Redis (ElastiCache), HTTPS (OpenSearch).
DATABASE_PORTS = {5432: "PostgreSQL (Aurora)", 6379: "Redis (ElastiCache)", 443: "HTTPS (OpenSearch)"}
#: Interface endpoint services that do not accept a VPC endpoint policy; they get none.
ENDPOINTS_WITHOUT_POLICY = frozenset({"eks", "eks-auth"})


#: Zone IDs, per region, where EKS does not place a cluster's subnets: the cluster's creation fails with
#: `UnsupportedAvailabilityZoneException`. EKS user guide, "View Amazon EKS networking requirements for VPC and
#: subnets", "Subnet requirements for clusters": "The subnets can't reside in the following Availability Zones" —
#: us-east-1 `use1-az3`, us-west-1 `usw1-az2`, ca-central-1 `cac1-az3` (nothing in us-east-2 or us-west-2). The
#: table names zone IDs, not names: each account maps the names onto the zones its own way (AWS RAM user guide,
#: "Availability Zone IDs for your AWS resources"), so only the account's own `DescribeAvailabilityZones` tells.
EKS_UNSUPPORTED_ZONE_IDS: Mapping[str, frozenset[str]] = {
    "us-east-1": frozenset({"use1-az3"}),
    "us-west-1": frozenset({"usw1-az2"}),
    "ca-central-1": frozenset({"cac1-az3"}),
}
#: `DescribeAvailabilityZones` filter for Availability Zones only: Local and Wavelength Zones are opt-in, and EKS
#: takes no cluster subnet there (the pulumi-aws `get_availability_zones` docstring's "Only Availability Zones").
AZS_ONLY = [aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])]


def eks_zone_problems(key: str, region: str, chosen: Sequence[str], zone_ids: Mapping[str, str],
                      *, defaulted: bool = False) -> list[str]:  # fmt: skip
    """What is wrong with the AZ names `chosen` (setting `key`) for a VPC whose private subnets carry an EKS
    cluster, given the account's AZ name -> zone ID mapping in `region`: a name the account does not have, or
    one that is a zone ID in `EKS_UNSUPPORTED_ZONE_IDS`. Each message says what to choose instead."""
    refused = EKS_UNSUPPORTED_ZONE_IDS.get(region, frozenset())
    spare = [n for n, z in sorted(zone_ids.items()) if z not in refused and n not in chosen]
    fixed = list(chosen)
    problems: list[str] = []
    for i, name in enumerate(chosen):
        zone = zone_ids.get(name)
        if zone is not None and zone not in refused:
            continue
        if zone is None:
            why = f"is not an Availability Zone of this account in {region} (it has {', '.join(sorted(zone_ids))})"
        else:
            why = (f"is zone {zone} in this account, where EKS refuses a cluster's subnets "
                   "(UnsupportedAvailabilityZoneException; EKS user guide, \"Subnet requirements for clusters\")")  # fmt: skip
        if spare:
            fixed[i] = spare.pop(0)
        unset = f" ({key} is unset: the region's first AZs)" if defaulted else ""
        problems.append(f"{key}[{i}]: {name!r}{unset} {why}")
    if problems:
        usable = [n for n, z in sorted(zone_ids.items()) if z not in refused]
        problems.append(f"{key}: choose from {', '.join(usable)} (this account's AZs of {region} EKS accepts), "
                        f"e.g. [{', '.join(fixed)}]")  # fmt: skip
    return problems


def guard_availability_zones(settings: Settings, provider: aws.Provider) -> None:
    """Stop the program, before any resource is registered, when a VPC that carries (or, in pilot light, will carry
    at failover) an EKS cluster is set on an AZ whose zone ID EKS refuses in this account.

    `network.availabilityZones` is asked of the primary region and, from pilot light, `dr.availabilityZones` of
    `drRegion`, both through the stack's provider (its credentials, so its account's mapping) with the call's
    `region` (pulumi-aws v7): the DR region's provider is built later, after resources this check must precede.
    A blocking invoke, not an Output: the program waits for the answer, so nothing is registered (and, under
    `pulumi up`, nothing created) before it; an Output's check would fail only after the engine had started on the
    resources registered meanwhile.
    """
    checks = [("network.availabilityZones", settings.region, settings.network.availability_zones, False)]
    if settings.dr.standby_network:
        dr_azs = standby_network(
            settings.network, settings.dr, REGION_AZS[settings.dr_region]
        ).availability_zones
        checks.append(
            ("dr.availabilityZones", settings.dr_region, dr_azs, not settings.dr.availability_zones)
        )
    problems: list[str] = []
    for key, region, chosen, defaulted in checks:
        answer = aws.get_availability_zones(filters=AZS_ONLY, region=region,
                                            opts=pulumi.InvokeOptions(provider=provider))  # fmt: skip
        zone_ids = dict(zip(answer.names, answer.zone_ids, strict=True))
        problems += eks_zone_problems(key, region, chosen, zone_ids, defaulted=defaulted)
    if problems:
        raise SettingsError(problems, pulumi.get_stack())


#: Regional S3 buckets AWS itself serves the nodes from, through presigned URLs or anonymous requests that carry no
#: principal of this account (so `aws:PrincipalAccount` never matches them): ECR's image layers (ECR User Guide,
#: "Minimum Amazon S3 bucket permissions for Amazon ECR") and the Amazon Linux 2023 package repositories `dnf` on
#: the nodes reads (the bucket `dnf repolist -v` shows on an AL2023 node). Format: {0} partition, {1} region.
AWS_OWNED_BUCKET_OBJECTS = (
    "arn:{0}:s3:::prod-{1}-starport-layer-bucket/*",
    "arn:{0}:s3:::al2023-repos-{1}-de612dc2/*",
)


def endpoint_statements(
    account_id: pulumi.Input[str], partition: pulumi.Input[str], region: pulumi.Input[str]
) -> dict[str, list[iam.Statement]]:
    """Endpoint-policy statements, per endpoint service, for the calls an account condition would wrongly deny.

    - `sts`: IRSA's `AssumeRoleWithWebIdentity` is not signed by any AWS principal — the caller proves itself with the
      cluster's OIDC token — so its request context has no `aws:PrincipalAccount` (IAM User Guide, "Control access
      to AWS STS with VPC endpoint policies"). It passes for this account's roles only; every signed STS call stays
      under the account condition.
    - `s3`: the AWS-owned buckets of `AWS_OWNED_BUCKET_OBJECTS`, read-only.

    DynamoDB and the other interface endpoints see only requests the services sign with this account's roles.
    """
    return {
        "sts": [
            {
                "sid": "IrsaWebIdentityForThisAccountsRoles",
                "effect": "Allow",
                "principals": [{"type": "*", "identifiers": ["*"]}],
                "actions": ["sts:AssumeRoleWithWebIdentity"],
                "resources": [pulumi.Output.format("arn:{0}:iam::{1}:role/*", partition, account_id)],
            }
        ],
        "s3": [
            {
                "sid": "AwsOwnedBucketsTheNodesReadFrom",
                "effect": "Allow",
                "principals": [{"type": "*", "identifiers": ["*"]}],
                "actions": ["s3:GetObject"],
                "resources": [pulumi.Output.format(p, partition, region) for p in AWS_OWNED_BUCKET_OBJECTS],
            }
        ],
    }


@dataclass(frozen=True)
class _Subnets:
    """One public and one private subnet per AZ, in the order of `network.availabilityZones`."""

    public: list[aws.ec2.Subnet]
    private: list[aws.ec2.Subnet]


@dataclass(frozen=True)
class _Routing:
    public: aws.ec2.RouteTable
    #: One per AZ, in the order of the subnets.
    private: list[aws.ec2.RouteTable]
    nats: dict[str, aws.ec2.NatGateway]


@dataclass(frozen=True)
class _SecurityGroups:
    """The seed's four groups."""

    alb: aws.ec2.SecurityGroup
    nodes: aws.ec2.SecurityGroup
    database: aws.ec2.SecurityGroup
    endpoints: aws.ec2.SecurityGroup


class EcommerceVpc(pulumi.ComponentResource):
    """The VPC and everything attached to it. Children are named `{name}-<role>[-<az>]`."""

    vpc_id: pulumi.Output[str]
    vpc_cidr: pulumi.Output[str]
    availability_zones: list[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    public_route_table_id: pulumi.Output[str]
    private_route_table_ids: list[pulumi.Output[str]]
    nat_gateway_ids: list[pulumi.Output[str]]
    nat_public_ips: list[pulumi.Output[str]]
    alb_security_group_id: pulumi.Output[str]
    nodes_security_group_id: pulumi.Output[str]
    database_security_group_id: pulumi.Output[str]
    endpoints_security_group_id: pulumi.Output[str]
    flow_log_group_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        network: NetworkSettings,
        *,
        environment: str,
        alb_origin_port: int = 443,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param network: the validated network settings (CIDRs, AZs, egress, endpoints, ALB ingress).
        :param environment: dev or prod; part of account-unique names (log group).
        :param alb_origin_port: the one port CloudFront uses to reach the ALB when `network.albIngress` is
            `cloudfront` (443 with a regional certificate, 80 without).
        """
        super().__init__("ecommerce:network:EcommerceVpc", name, None, opts)
        self._name = name
        self._network = network
        self._environment = environment
        self._child = pulumi.ResourceOptions(parent=self)
        self._account, self._partition, self._region = iam.caller(self)
        self.availability_zones = list(network.availability_zones)

        vpc, igw = self._vpc()
        subnets = self._subnets(vpc)
        routing = self._routing(vpc, igw, subnets)
        groups = self._security_groups(vpc)
        self._security_group_rules(groups, alb_origin_port)
        self._endpoints(vpc, subnets, routing, groups)
        log_group = self._flow_logs(vpc)

        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block
        self.public_subnet_ids = [s.id for s in subnets.public]
        self.private_subnet_ids = [s.id for s in subnets.private]
        self.public_route_table_id = routing.public.id
        self.private_route_table_ids = [rt.id for rt in routing.private]
        self.nat_gateway_ids = [n.id for n in routing.nats.values()]
        # The private subnets' public egress addresses (CI's runners there reach a DR cluster's API through them).
        self.nat_public_ips = [n.public_ip for n in routing.nats.values()]
        self.alb_security_group_id = groups.alb.id
        self.nodes_security_group_id = groups.nodes.id
        self.database_security_group_id = groups.database.id
        self.endpoints_security_group_id = groups.endpoints.id
        self.flow_log_group_name = log_group.name
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
                "public_route_table_id": self.public_route_table_id,
                "private_route_table_ids": self.private_route_table_ids,
                "alb_security_group_id": self.alb_security_group_id,
                "nodes_security_group_id": self.nodes_security_group_id,
                "database_security_group_id": self.database_security_group_id,
                "endpoints_security_group_id": self.endpoints_security_group_id,
            }
        )

    # -- the VPC, its closed default group and the internet gateway ------------------------------------------------
    def _vpc(self) -> tuple[aws.ec2.Vpc, aws.ec2.InternetGateway]:
        name = self._name
        vpc = aws.ec2.Vpc(
            name,
            cidr_block=self._network.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=tags(COMPONENT, self._network.vpc_name),
            opts=self._child,
        )
        # Adopt the default security group and strip its rules: nothing may use it by accident (EC2.2).
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc.id,
            tags=tags(COMPONENT, f"{name}-default-closed"),
            opts=self._child,
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags=tags(COMPONENT, f"{name}-igw"), opts=self._child
        )
        return vpc, igw

    # -- subnets: public for the ALB and NAT, private for nodes and data; no public IPs anywhere -------------------
    def _subnets(self, vpc: aws.ec2.Vpc) -> _Subnets:
        name, network = self._name, self._network
        public: list[aws.ec2.Subnet] = []
        private: list[aws.ec2.Subnet] = []
        for az, public_cidr, private_cidr in zip(
            network.availability_zones, network.public_subnet_cidrs, network.private_subnet_cidrs, strict=True
        ):
            s = az_suffix(az)
            public.append(
                aws.ec2.Subnet(
                    f"{name}-public-{s}",
                    vpc_id=vpc.id,
                    cidr_block=public_cidr,
                    availability_zone=az,
                    # The ALB and NAT gateways get their addresses explicitly; nothing else lands here (EC2.15).
                    map_public_ip_on_launch=False,
                    tags=tags(
                        COMPONENT, f"{name}-public-{s}", Tier="public", **{"kubernetes.io/role/elb": "1"}
                    ),
                    opts=self._child,
                )
            )
            private.append(
                aws.ec2.Subnet(
                    f"{name}-private-{s}",
                    vpc_id=vpc.id,
                    cidr_block=private_cidr,
                    availability_zone=az,
                    map_public_ip_on_launch=False,
                    tags=tags(
                        COMPONENT,
                        f"{name}-private-{s}",
                        Tier="private",
                        **{"kubernetes.io/role/internal-elb": "1"},
                    ),
                    opts=self._child,
                )
            )
        return _Subnets(public=public, private=private)

    # -- routing: the public table to the IGW; egress through NAT per the egress mode ------------------------------
    def _routing(self, vpc: aws.ec2.Vpc, igw: aws.ec2.InternetGateway, subnets: _Subnets) -> _Routing:
        name, network, child = self._name, self._network, self._child
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=vpc.id,
            tags=tags(COMPONENT, f"{name}-public-rt", Tier="public"),
            opts=child,
        )
        aws.ec2.Route(
            f"{name}-public-default",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )
        for az, subnet in zip(network.availability_zones, subnets.public, strict=True):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-rta-{az_suffix(az)}",
                subnet_id=subnet.id,
                route_table_id=public_rt.id,
                opts=child,
            )
        nats = self._nat_gateways(igw, subnets.public)
        private_rts: list[aws.ec2.RouteTable] = []
        for az, subnet in zip(network.availability_zones, subnets.private, strict=True):
            s = az_suffix(az)
            rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{s}",
                vpc_id=vpc.id,
                tags=tags(COMPONENT, f"{name}-private-rt-{s}", Tier="private"),
                opts=child,
            )
            private_rts.append(rt)
            aws.ec2.RouteTableAssociation(
                f"{name}-private-rta-{s}", subnet_id=subnet.id, route_table_id=rt.id, opts=child
            )
            if nats:
                # With one NAT, the other AZs share it: cheaper, but egress fails with that AZ.
                nat = nats.get(az) or next(iter(nats.values()))
                aws.ec2.Route(
                    f"{name}-private-default-{s}",
                    route_table_id=rt.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat.id,
                    opts=child,
                )
        return _Routing(public=public_rt, private=private_rts, nats=nats)

    def _nat_gateways(
        self, igw: aws.ec2.InternetGateway, public_subnets: list[aws.ec2.Subnet]
    ) -> dict[str, aws.ec2.NatGateway]:
        """NAT gateways per the egress mode, by AZ (payment must reach Stripe; Cognito's public endpoints)."""
        name, network = self._name, self._network
        nat_azs = {
            "none": [],
            "single-nat": network.availability_zones[:1],
            "nat-per-az": network.availability_zones,
        }[network.egress]
        nats: dict[str, aws.ec2.NatGateway] = {}
        for az in nat_azs:
            s = az_suffix(az)
            eip = aws.ec2.Eip(
                f"{name}-nat-{s}", domain="vpc", tags=tags(COMPONENT, f"{name}-nat-{s}"), opts=self._child
            )
            nats[az] = aws.ec2.NatGateway(
                f"{name}-nat-{s}",
                allocation_id=eip.allocation_id,
                subnet_id=public_subnets[network.availability_zones.index(az)].id,
                connectivity_type="public",
                tags=tags(COMPONENT, f"{name}-nat-{s}"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            )
        return nats

    # -- security groups: the seed's four, each rule its own resource ----------------------------------------------
    def _security_groups(self, vpc: aws.ec2.Vpc) -> _SecurityGroups:
        def group(role: str, description: str) -> aws.ec2.SecurityGroup:
            return aws.ec2.SecurityGroup(
                f"{self._name}-{role}-sg",
                vpc_id=vpc.id,
                description=description,
                # Groups reference each other (ALB <-> nodes); revoking first lets destroy finish.
                revoke_rules_on_delete=True,
                tags=tags(COMPONENT, f"{self._name}-{role}-sg"),
                opts=self._child,
            )

        return _SecurityGroups(
            alb=group("alb", "Application Load Balancer: HTTP/HTTPS in, service ports out to the EKS nodes"),
            nodes=group("nodes", "EKS worker nodes: service ports from the ALB, all traffic between nodes"),
            database=group(
                "database", "Aurora, ElastiCache and OpenSearch: data ports from the EKS nodes only"
            ),
            endpoints=group("endpoints", "VPC interface endpoints: HTTPS from the EKS nodes only"),
        )

    def _security_group_rules(self, groups: _SecurityGroups, alb_origin_port: int) -> None:
        """Every rule but the nodes' egress to the gateway endpoints (`_endpoints`, which owns their prefix lists)."""
        network, ingress, egress = self._network, self._ingress, self._egress
        alb_sg, nodes_sg = groups.alb, groups.nodes
        ports = network.service_ports
        if network.alb_ingress == "cloudfront":
            prefix_list = aws.ec2.get_managed_prefix_list_output(
                name=CLOUDFRONT_ORIGIN_PREFIX_LIST, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            # One rule only: the CloudFront list weighs ~55 entries against the 60-rule quota of a group.
            ingress(
                f"alb-in-cloudfront-{alb_origin_port}",
                alb_sg,
                f"TCP {alb_origin_port} from CloudFront origin-facing servers only",
                alb_origin_port,
                alb_origin_port,
                prefix_list_id=prefix_list.id,
            )
        else:
            for port, proto in ((443, "HTTPS"), (80, "HTTP (redirected to HTTPS)")):
                ingress(
                    f"alb-in-{port}", alb_sg, f"{proto} from the internet", port, port, cidr_ipv4="0.0.0.0/0"
                )
        egress(
            "alb-out-nodes", alb_sg, "Service ports to the EKS nodes (ip targets)", "tcp", ports.from_port,
            ports.to_port, referenced_security_group_id=nodes_sg.id,
        )  # fmt: skip

        ingress(
            "nodes-in-alb", nodes_sg, "Service ports from the ALB", ports.from_port, ports.to_port,
            referenced_security_group_id=alb_sg.id,
        )  # fmt: skip
        aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-nodes-in-self",
            security_group_id=nodes_sg.id,
            description="All traffic between nodes (pod-to-pod, kubelet, CoreDNS)",
            ip_protocol="-1",
            referenced_security_group_id=nodes_sg.id,
            tags=tags(COMPONENT, f"{self._name}-nodes-in-self"),
            opts=self._child,
        )
        # The nodes' egress rules below do not restrict the nodes. Security groups only allow, and an instance gets the
        # union of its groups' rules; every managed node also carries the EKS cluster security group (the launch
        # template attaches it for control-plane traffic), whose default outbound rule allows all traffic to
        # 0.0.0.0/0 (EKS user guide, "View Amazon EKS security group requirements for clusters"). These rules state
        # the intended egress and would be the whole of it without that group. Where egress is enforced: every pod
        # outside the host network is under the namespace's default-deny NetworkPolicy plus its own allow list (the
        # VPC CNI's network policy agent), and the endpoint policies bind what leaves through the endpoints.
        # Narrowing the cluster group instead (removing its 0.0.0.0/0 rule, keeping the minimum the same page lists)
        # is a change to an EKS-owned group this program does not manage.
        egress(
            "nodes-out-vpc", nodes_sg, "All traffic inside the VPC (control plane, data tier, endpoints, nodes)",
            "-1", None, None, cidr_ipv4=network.vpc_cidr,
        )  # fmt: skip
        if network.egress != "none":
            egress(
                "nodes-out-internet", nodes_sg, "HTTPS to the internet through NAT (Stripe, Cognito)", "tcp", 443,
                443, cidr_ipv4="0.0.0.0/0",
            )  # fmt: skip

        for port, proto in DATABASE_PORTS.items():
            ingress(
                f"database-in-{port}", groups.database, f"{proto} from the EKS nodes", port, port,
                referenced_security_group_id=nodes_sg.id,
            )  # fmt: skip
        ingress(
            "endpoints-in-443", groups.endpoints, "HTTPS to AWS APIs from the EKS nodes", 443, 443,
            referenced_security_group_id=nodes_sg.id,
        )  # fmt: skip

    def _ingress(
        self,
        rule: str,
        sg: aws.ec2.SecurityGroup,
        description: str,
        from_port: int,
        to_port: int,
        **source: Any,
    ) -> None:
        aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-{rule}",
            security_group_id=sg.id,
            description=description,
            ip_protocol="tcp",
            from_port=from_port,
            to_port=to_port,
            tags=tags(COMPONENT, f"{self._name}-{rule}"),
            opts=self._child,
            **source,
        )

    def _egress(
        self, rule: str, sg: aws.ec2.SecurityGroup, description: str, protocol: str, from_port: int | None,
        to_port: int | None, **destination: Any,
    ) -> None:  # fmt: skip
        aws.vpc.SecurityGroupEgressRule(
            f"{self._name}-{rule}",
            security_group_id=sg.id,
            description=description,
            ip_protocol=protocol,
            from_port=from_port,
            to_port=to_port,
            tags=tags(COMPONENT, f"{self._name}-{rule}"),
            opts=self._child,
            **destination,
        )

    # -- endpoints: gateway (free) for S3 and DynamoDB; interface endpoints for the nodes' AWS APIs ----------------
    def _endpoints(
        self, vpc: aws.ec2.Vpc, subnets: _Subnets, routing: _Routing, groups: _SecurityGroups
    ) -> None:
        name, network = self._name, self._network
        own_principals: iam.Statement = {
            "sid": "OnlyThisAccountsPrincipals",
            "effect": "Allow",
            "principals": [{"type": "*", "identifiers": ["*"]}],
            # The endpoint passes any action of its service, but only for our own principals: a stolen
            # credential of another account cannot use this network path to move data out.
            "actions": ["*"],
            "resources": ["*"],
            "conditions": [iam.condition("StringEquals", "aws:PrincipalAccount", self._account)],
        }
        endpoint_policy = iam.policy_json(self, [own_principals])
        # Requests that carry no principal of ours, which an account condition would deny (endpoint_statements).
        extra_statements = endpoint_statements(self._account, self._partition, self._region)
        service_prefix = pulumi.Output.concat("com.amazonaws.", self._region, ".")

        def policy_for(service: str) -> pulumi.Output[str]:
            extra = extra_statements.get(service)
            return iam.policy_json(self, [own_principals, *extra]) if extra else endpoint_policy

        for service in ("s3", "dynamodb"):
            gateway = aws.ec2.VpcEndpoint(
                f"{name}-{service}",
                vpc_id=vpc.id,
                service_name=pulumi.Output.concat(service_prefix, service),
                vpc_endpoint_type="Gateway",
                route_table_ids=[rt.id for rt in routing.private],
                policy=policy_for(service),
                tags=tags(COMPONENT, f"{name}-{service}"),
                opts=self._child,
            )
            # Gateway endpoints route to the service's public prefixes, which the VPC-only egress rule misses.
            self._egress(
                f"nodes-out-{service}", groups.nodes, f"HTTPS to {service} through its gateway endpoint", "tcp",
                443, 443, prefix_list_id=gateway.prefix_list_id,
            )  # fmt: skip

        endpoint_subnets = [s.id for s in subnets.private[: network.interface_endpoint_az_count]]
        for service in network.interface_endpoints:
            role = f"{name}-{service.replace('.', '-')}"
            aws.ec2.VpcEndpoint(
                role,
                vpc_id=vpc.id,
                service_name=pulumi.Output.concat(service_prefix, service),
                vpc_endpoint_type="Interface",
                subnet_ids=endpoint_subnets,
                security_group_ids=[groups.endpoints.id],
                private_dns_enabled=True,
                policy=None if service in ENDPOINTS_WITHOUT_POLICY else policy_for(service),
                tags=tags(COMPONENT, role),
                opts=self._child,
            )

    # -- flow logs: every flow, to a KMS-encrypted log group with bounded retention --------------------------------
    def _flow_logs(self, vpc: aws.ec2.Vpc) -> aws.cloudwatch.LogGroup:
        name, environment, child = self._name, self._environment, self._child
        account_id, partition, region = self._account, self._partition, self._region
        log_group_name = f"/ecommerce/{environment}/vpc-flow-logs"
        log_group_arn = pulumi.Output.format(
            "arn:{0}:logs:{1}:{2}:log-group:{3}", partition, region, account_id, log_group_name
        )
        key = iam.customer_key(
            self,
            f"{name}-flow-logs-key",
            description=f"Encrypts the {environment} VPC flow logs",
            account_id=account_id,
            partition=partition,
            service_statements=[
                iam.logs_may_use_key(
                    "CloudWatchLogsUsesKeyForThisLogGroup", region, "ArnEquals", log_group_arn
                )
            ],
            tags=tags(COMPONENT, f"{name}-flow-logs-key"),
            opts=child,
        )
        aws.kms.Alias(
            f"{name}-flow-logs-key", name=f"alias/ecommerce-{environment}-flow-logs", target_key_id=key.key_id,
            opts=child,
        )  # fmt: skip
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=log_group_name,
            kms_key_id=key.arn,
            retention_in_days=self._network.flow_log_retention_days,
            tags=tags(COMPONENT, f"{name}-flow-logs"),
            opts=child,
        )
        flow_role = aws.iam.Role(
            f"{name}-flow-logs",
            description="Lets VPC Flow Logs write to its one log group",
            assume_role_policy=iam.service_trust(
                self,
                "vpc-flow-logs.amazonaws.com",
                account_id=account_id,
                source_arn=pulumi.Output.format(
                    "arn:{0}:ec2:{1}:{2}:vpc-flow-log/*", partition, region, account_id
                ),
            ),
            tags=tags(COMPONENT, f"{name}-flow-logs"),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=flow_role.id,
            policy=iam.policy_json(
                self,
                [
                    iam.allow(
                        ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                        [log_group.arn, pulumi.Output.concat(log_group.arn, ":*")],
                    )
                ],
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=flow_role.arn,
            max_aggregation_interval=60,
            tags=tags(COMPONENT, f"{name}-flow-log"),
            opts=child,
        )
        return log_group
