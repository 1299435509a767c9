"""Disaster-recovery settings (`dr.*`, `DisasterRecovery`): which of AWS's four DR strategies a stack runs in the
DR region (the top-level `drRegion`), and the knobs of its replication.

The modes are the names of the strategies in AWS's whitepaper "Disaster Recovery of Workloads on AWS": what each
keeps in the DR region is written in docs/disaster-recovery.md and the README's DR table.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from typing import Literal, Protocol, TypeVar

from components.config.cluster import ClusterSettings, api_source_cidr_problems, cluster_shape
from components.config.data import DataSettings
from components.config.edge import EdgeSettings
from components.config.machinery import Stack, in_range, setting
from components.config.network import NetworkSettings
from components.config.shared import REGION_AZS
from k8s.capacity import capacity_problems

#: AWS's four DR strategies, cheapest and slowest first.
DR_MODES = ("off", "backup-restore", "pilot-light", "warm-standby")
#: The warm standby's node count at rest: the small workload profile (one replica per service, the system pods at
#: one replica) fits on one node of the primary's type (k8s/capacity.py), and every node more is an idle instance
#: (a t3.medium is about $30 a month). The autoscaler grows it to cluster.nodeMaxSize at failover.
STANDBY_NODE_MIN_SIZE = 1
#: The warm standby's workload profile at rest: one replica per service (catalogue "small"); `standard` at failover.
STANDBY_WORKLOAD_PROFILE = "small"
#: Days the daily Aurora copies are kept: at least one; five weeks, like Aurora's own backup retention maximum.
BACKUP_RETENTION_RANGE = (1, 35)
#: Instance class families (the letter after `db.`) an Aurora global database accepts besides db.serverless: the
#: memory-optimised ones (`aurora_global_class_allowed`).
GLOBAL_DB_CLASS_FAMILIES = ("r", "x")
#: A KMS key's pending-deletion window is 7 to 30 days (KMS `ScheduleKeyDeletion`, PendingWindowInDays).
KMS_DELETION_WINDOW_RANGE = (7, 30)

DrMode = Literal["off", "backup-restore", "pilot-light", "warm-standby"]


@dataclass(frozen=True)
class DrSettings:
    """What the stack keeps in the DR region (`drRegion`) and how its stores replicate there (`DisasterRecovery`)."""

    mode: DrMode = setting(
        "mode", "DR strategy: off, backup-restore (data, images and secrets copied to drRegion), pilot-light (also "
        "live DynamoDB replicas, an Aurora global database with a headless secondary, and a DR VPC), warm-standby "
        "(also a small EKS cluster running the catalogue in drRegion, one Aurora secondary instance, DNS failover "
        "of the API). See docs/disaster-recovery.md.", "off",
    )  # fmt: skip
    replication_time_control: bool = setting(
        "replicationTimeControl", "S3 Replication Time Control on the bucket replication rules (99.99% of objects "
        "in 15 minutes, billed per GB); needs a DR mode.", False,
    )  # fmt: skip
    backup_retention_days: int = setting(
        "backupRetentionDays",
        "Days AWS Backup keeps the daily Aurora snapshots and their DR-region copies (1-35).",
        7,
    )
    kms_deletion_window_days: int = setting(
        "kmsDeletionWindowDays", "Days a DR-region KMS key waits before deletion once scheduled (7-30).", 30
    )
    vpc_cidr: str = setting(
        "vpcCidr", "IPv4 CIDR of the DR-region VPC (pilot-light, warm-standby): private, the prefix length of network.vpcCidr, "
        "not overlapping it (the two VPCs must be routable to each other for fail-back copies).", "10.1.0.0/16",
    )  # fmt: skip
    availability_zones: tuple[str, ...] = setting(
        "availabilityZones", "AZ names of the DR-region VPC (pilot-light, warm-standby), one per "
        "network.availabilityZones entry, in drRegion; empty: the region's first ones (us-east-1a, us-east-1b). "
        "Names map to different zones per account: the preview stops when one is a zone ID EKS refuses "
        "(use1-az3 in us-east-1).", (),
    )  # fmt: skip

    standby_node_min_size: int = setting(
        "standbyNodeMinSize", "warm-standby: nodes of the DR cluster at rest (its autoscaler may grow it to "
        "cluster.nodeMaxSize); raise it at failover (docs/disaster-recovery.md).", STANDBY_NODE_MIN_SIZE,
    )  # fmt: skip
    standby_api_cidrs: tuple[str, ...] = setting(
        "standbyApiCidrs", "warm-standby: public egress CIDRs of the operators who run the DR runbook (office, VPN), "
        "admitted to the DR cluster's public API endpoint beside the primary NAT addresses (CI's runners), which "
        "are lost with the primary region. Validated like cluster.publicAccessCidrs.", (),
    )  # fmt: skip
    standby_workload_profile: Literal["small", "standard"] = setting(
        "standbyWorkloadProfile", "warm-standby: the DR cluster's workload profile (small: one replica per "
        "service; standard at failover, the primary's sizing).", STANDBY_WORKLOAD_PROFILE,
    )  # fmt: skip

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    @property
    def standby_network(self) -> bool:
        """A VPC in the DR region, ready for the failover compute (pilot light and up)."""
        return self.mode in ("pilot-light", "warm-standby")

    @property
    def live_table_replicas(self) -> bool:
        """DynamoDB replicas in the DR region: the pilot light's always-on data (backup-restore copies objects only)."""
        return self.mode in ("pilot-light", "warm-standby")

    @property
    def aurora_global(self) -> bool:
        """Aurora as a global database with a secondary cluster in the DR region (pilot light: headless, storage
        only; warm standby: one instance). Backup-restore keeps the daily snapshot copy alone."""
        return self.mode in ("pilot-light", "warm-standby")

    @property
    def aurora_secondary_instances(self) -> int:
        """Instances of the DR-region secondary: none in pilot light (a headless cluster, storage replication only,
        no compute billed), one of the primary's class in warm standby (it serves reads and is promoted at once)."""
        return 1 if self.mode == "warm-standby" else 0

    @property
    def standby_compute(self) -> bool:
        """A running DR cluster with the catalogue and the API's DNS failover to it (warm standby only)."""
        return self.mode == "warm-standby"


class Context(Stack, Protocol):
    """What the DR rules read: this area and the data tier's billing mode."""

    @property
    def dr_region(self) -> str: ...
    @property
    def dr(self) -> DrSettings: ...
    @property
    def data(self) -> DataSettings: ...
    @property
    def network(self) -> NetworkSettings: ...
    @property
    def cluster(self) -> ClusterSettings: ...
    @property
    def edge(self) -> EdgeSettings: ...


def dr_rules(s: Context, problems: list[str]) -> None:
    """Every bad DR combination, named with its key and what is allowed."""
    d, k = s.dr, "dr"
    if d.live_table_replicas and s.data.dynamodb_billing_mode == "provisioned":
        # A provisioned global table needs the same write capacity (auto scaling) on every replica (DynamoDB
        # developer guide, "Global tables: capacity"); the DR region's scaling targets are not built.
        problems.append(f"{k}.mode: {d.mode!r} keeps DynamoDB replicas, built for data.dynamodbBillingMode "
                        "'on-demand' only; set the billing mode to on-demand or dr.mode to backup-restore")  # fmt: skip
    if d.replication_time_control and not d.enabled:
        problems.append(f"{k}.replicationTimeControl: true with dr.mode 'off'; there is no replication to time. "
                        f"Set dr.mode to one of {', '.join(DR_MODES[1:])} or leave it false")  # fmt: skip
    in_range(
        problems,
        f"{k}.kmsDeletionWindowDays",
        d.kms_deletion_window_days,
        *KMS_DELETION_WINDOW_RANGE,
        " days",
    )
    in_range(problems, f"{k}.backupRetentionDays", d.backup_retention_days, *BACKUP_RETENTION_RANGE, " days")
    _vpc_cidr_rules(s, problems)
    _availability_zone_rules(s, problems)
    _aurora_global_rules(s, problems)
    _standby_rules(s, problems)


def aurora_global_class_allowed(instance_class: str) -> bool:
    """An instance class an Aurora global database accepts: Serverless v2, or a memory-optimised class (db.r*,
    db.x*). Aurora user guide, "Configuration requirements of an Amazon Aurora global database": a global database
    "requires DB instance classes that are optimized for memory-intensive applications" (db.r5 or higher
    recommended), which leaves out the burstable db.t* classes; Serverless v2 is supported (the same page gives its
    minimum recommended capacity)."""
    family = instance_class.removeprefix("db.").split(".")[0]
    return instance_class == "db.serverless" or family[:1] in GLOBAL_DB_CLASS_FAMILIES


def _aurora_global_rules(s: Context, problems: list[str]) -> None:
    """What an Aurora global database (dr.mode pilot-light or warm-standby) asks of the primary cluster's settings."""
    d, data = s.dr, s.data
    if not d.aurora_global:
        return
    if not aurora_global_class_allowed(data.aurora_instance_class):
        problems.append(f"data.auroraInstanceClass: {data.aurora_instance_class!r} with dr.mode {d.mode!r}, which "
                        "makes Aurora a global database; a global database needs a memory-optimised class (db.r5 "
                        "or newer, db.r6g, db.r7g, db.r8g, db.x2g) or db.serverless, not a burstable db.t* class. "
                        "Change the class or set dr.mode to backup-restore")  # fmt: skip
    if data.aurora_instance_class == "db.serverless" and data.aurora_min_capacity == 0:
        # Not an API error: AWS silently never pauses the writer of a global database's primary cluster (Aurora user
        # guide, "Scaling to Zero ACUs ...", "Situations where Aurora Serverless v2 doesn't auto-pause"), so the
        # setting would only mislead the cost estimate.
        problems.append(f"data.auroraMinCapacity: 0 (auto-pause) with dr.mode {d.mode!r}; Aurora never pauses the "
                        "writer of a global database's primary cluster. Set auroraMinCapacity to 0.5 or more (AWS "
                        "recommends 8 ACUs for a global primary) or dr.mode to backup-restore")  # fmt: skip


def _standby_rules(s: Context, problems: list[str]) -> None:
    """warm-standby: DNS failover needs the domain's zone, and the DR cluster's shape must hold its pods."""
    d = s.dr
    if d.standby_api_cidrs and not d.standby_compute:
        problems.append(f"dr.standbyApiCidrs: set with dr.mode {d.mode!r}; they open the DR cluster's API, which only "
                        "warm-standby runs. Remove them or set dr.mode warm-standby")  # fmt: skip
    api_source_cidr_problems("dr.standbyApiCidrs", d.standby_api_cidrs, problems)
    if not d.standby_compute:
        if (d.standby_node_min_size, d.standby_workload_profile) != (
            STANDBY_NODE_MIN_SIZE,
            STANDBY_WORKLOAD_PROFILE,
        ):
            problems.append(f"dr.standbyNodeMinSize/dr.standbyWorkloadProfile: set with dr.mode {d.mode!r}; they size "
                            "the DR cluster, which only warm-standby runs. Remove them or set dr.mode warm-standby")  # fmt: skip
        return
    if not s.edge.domain_name:
        # CloudFront fails over only GET/HEAD/OPTIONS (origin groups), so the API's writes move with DNS: Route 53
        # failover records for origin.<domain> and a regional certificate on each ALB need the domain's zone.
        problems.append("dr.mode: 'warm-standby' fails the API over with Route 53 failover records for "
                        "origin.<edge.domainName>, and edge.domainName is empty; set edge.domainName (a public "
                        "Route 53 zone in this account) or dr.mode to pilot-light")  # fmt: skip
    if s.network.alb_ingress != "cloudfront":
        problems.append(f"dr.mode: 'warm-standby' takes the API's traffic through CloudFront to origin.<domain>, and "
                        f"network.albIngress is {s.network.alb_ingress!r}; set it to cloudfront")  # fmt: skip
    if not 1 <= d.standby_node_min_size <= s.cluster.node_max_size:
        problems.append(f"dr.standbyNodeMinSize: {d.standby_node_min_size} is out of range; allowed: 1 to "
                        f"cluster.nodeMaxSize ({s.cluster.node_max_size})")  # fmt: skip
        return
    for p in capacity_problems(cluster_shape(standby_cluster(s.cluster, d))):
        problems.append(f"dr.standbyNodeMinSize: the DR cluster ({d.standby_node_min_size} node(s), "
                        f"dr.standbyWorkloadProfile {d.standby_workload_profile}) does not hold its pods: {p}")  # fmt: skip


def _vpc_cidr_rules(s: Context, problems: list[str]) -> None:
    """dr.vpcCidr: a private range of the primary VPC's size that does not overlap it."""
    key = "dr.vpcCidr"
    try:
        dr_vpc = ipaddress.IPv4Network(s.dr.vpc_cidr)
    except ValueError:
        problems.append(f"{key}: {s.dr.vpc_cidr!r} is not an IPv4 CIDR such as 10.1.0.0/16")
        return
    if not dr_vpc.is_private:
        problems.append(f"{key}: {s.dr.vpc_cidr!r} is not in a private (RFC 1918) range")
    try:
        primary = ipaddress.IPv4Network(s.network.vpc_cidr)
    except ValueError:
        return  # network.vpcCidr reports itself
    if dr_vpc.overlaps(primary):
        problems.append(f"{key}: {dr_vpc} overlaps network.vpcCidr {primary}; the DR VPC needs its own range "
                        "(peering or a transit gateway for fail-back refuse overlapping VPCs), e.g. 10.1.0.0/16")  # fmt: skip
    if dr_vpc.prefixlen != primary.prefixlen:
        problems.append(f"{key}: {dr_vpc} is a /{dr_vpc.prefixlen}; it must be a /{primary.prefixlen} like "
                        "network.vpcCidr, whose subnet plan the DR VPC repeats")  # fmt: skip


def _availability_zone_rules(s: Context, problems: list[str]) -> None:
    """dr.availabilityZones: AZ names of drRegion, distinct, as many as the primary VPC's (the DR VPC repeats its
    subnet plan, one public and one private subnet per AZ). Which zone ID each name is in this account is asked at
    preview (`components.network.guard_availability_zones`): the mapping is per account, not a table."""
    key, d = "dr.availabilityZones", s.dr
    azs = d.availability_zones
    if not azs:
        return
    if not d.standby_network:
        problems.append(f"{key}: set with dr.mode {d.mode!r}, which builds no DR VPC; remove it or set dr.mode to "
                        "pilot-light or warm-standby")  # fmt: skip
        return
    wanted = len(s.network.availability_zones)
    if len(azs) != wanted:
        problems.append(f"{key}: {list(azs)} has {len(azs)} AZ(s); give exactly {wanted}, one per "
                        "network.availabilityZones entry (the DR VPC repeats the primary's subnets)")  # fmt: skip
    if len(set(azs)) != len(azs):
        problems.append(f"{key}: {list(azs)} lists an AZ twice")
    region_azs = REGION_AZS.get(s.dr_region)
    if region_azs is None:
        return  # drRegion reports itself
    for i, az in enumerate(azs):
        if az not in region_azs:
            problems.append(f"{key}[{i}]: {az!r} is not an AZ of drRegion {s.dr_region}; "
                            f"allowed: {', '.join(region_azs)}")  # fmt: skip


def standby_cluster(cluster: ClusterSettings, dr: DrSettings) -> ClusterSettings:
    """The warm standby's cluster: the primary's (instance type, version, access, images) scaled down.

    At rest `dr.standbyNodeMinSize` nodes (one by default) run `dr.standbyWorkloadProfile` (one replica per
    service) with the system pods at one replica; the maximum stays the primary's, so the autoscaler and the HPAs
    take the failover's load without a deploy. No Container Insights agents: the DR cluster is not watched by the
    primary's Observability (their DaemonSets would take a node's worth of requests for an idle cluster).
    """
    return replace(
        cluster,
        node_min_size=dr.standby_node_min_size,
        node_desired_size=dr.standby_node_min_size,
        workload_profile=dr.standby_workload_profile,
        system_replicas=1,
    )


def standby_network(network: NetworkSettings, dr: DrSettings, dr_azs: tuple[str, ...]) -> NetworkSettings:
    """The DR VPC's settings: the primary's shape (subnets at the same offsets, endpoints, ingress) in `dr.vpcCidr`
    and `dr.availabilityZones` (unset: the first of `dr_azs`, the DR region's AZ names, one per primary AZ); no NAT
    in pilot light, one NAT in warm standby.

    No NAT until failover: pilot light runs no compute in the DR region, and a NAT gateway is billed by the hour
    (about $33 a month, idle). Nothing in the VPC needs the internet before the runbook creates the compute; the
    failover adds the NAT (docs/disaster-recovery.md, step 5). `network.egress` still refuses `none` for the
    primary VPC, whose services must reach Stripe; this value never comes from the stack config. No interface
    endpoints either, for the same reason: each is billed per ENI-hour with no traffic to carry (13 of them cost
    about $95 a month, three times the rest of the pilot light); the gateway endpoints (S3, DynamoDB) are free and
    stay. At failover the compute reaches AWS's APIs through the NAT the runbook adds.

    Warm standby runs the DR cluster all the time: its payment service must reach Stripe and its nodes pull public
    images (the controllers' charts), so one NAT gateway (about $33 a month, one AZ: a standby's egress may pause
    with its AZ, the autoscaler's second AZ still has nodes). Still no interface endpoints: the services'
    NetworkPolicies allow HTTPS to anywhere, so the nodes and pods reach every AWS API through the NAT (as dev's
    do), and the idle standby's API traffic is a few GB a month (NAT processing, $0.045/GB) against 13 endpoints'
    $95; the database bootstrap Job, the one workload confined to the VPC, does not run there.
    """
    primary = ipaddress.IPv4Network(network.vpc_cidr)
    base = ipaddress.IPv4Network(dr.vpc_cidr)

    def moved(cidrs: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for c in cidrs:
            net = ipaddress.IPv4Network(c)
            offset = int(net.network_address) - int(primary.network_address)
            out.append(str(ipaddress.IPv4Network((int(base.network_address) + offset, net.prefixlen))))
        return tuple(out)

    azs = dr.availability_zones or dr_azs[: len(network.availability_zones)]
    return replace(
        network,
        vpc_name=f"{network.vpc_name}-dr",
        vpc_cidr=dr.vpc_cidr,
        availability_zones=azs,
        public_subnet_cidrs=moved(network.public_subnet_cidrs),
        private_subnet_cidrs=moved(network.private_subnet_cidrs),
        egress="single-nat" if dr.standby_compute else "none",
        interface_endpoints=(),
        interface_endpoint_az_count=1,
    )


class _Regional(Protocol):
    """A settings aggregate the standby view can be taken of (`Settings`)."""

    @property
    def region(self) -> str: ...
    @property
    def dr_region(self) -> str: ...
    @property
    def dr(self) -> DrSettings: ...
    @property
    def network(self) -> NetworkSettings: ...
    @property
    def cluster(self) -> ClusterSettings: ...


S = TypeVar("S", bound=_Regional)


def standby_settings(s: S, dr_azs: tuple[str, ...]) -> S:
    """The settings the warm standby's ServiceMesh is built from: the DR region, the DR VPC's address plan
    (`standby_network`) and the scaled-down cluster (`standby_cluster`); everything else is the primary's."""
    return replace(  # type: ignore[type-var]
        s,
        region=s.dr_region,
        network=standby_network(s.network, s.dr, dr_azs),
        cluster=standby_cluster(s.cluster, s.dr),
    )
