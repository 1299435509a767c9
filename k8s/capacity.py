"""The capacity check: do the scheduled pods fit on the node group at its minimum size? Pure Python.

Runs inside `load_settings` (a settings rule), so a stack whose pods cannot be scheduled stops at preview with a
message saying by how much it is short and which settings keys to change, before any resource exists. It reads plain
values (`ClusterShape`, built by the cluster settings' rules) and imports nothing of the settings package, so the
two do not import each other.

The model is the scheduler's, per node, with the values EKS itself sets on an AL2023 managed node:
- pod slots: kubelet `maxPods` as EKS computes it. A managed node group whose launch template names no AMI appends
  its own NodeConfig, with `kubelet.config.maxPods`, after the user's, and nodeadm merges NodeConfigs in order with
  the last one winning (nodeadm docs, "examples": multiple NodeConfigs; eksctl-io/eksctl#8037, #5337): a maxPods of
  ours never reaches the kubelet, so the program sets none. EKS's value is the max-pods calculator's
  (EKS user guide, "Amazon EKS recommended maximum Pods for each Amazon EC2 instance type"; with the VPC CNI >= 1.9
  "managed node groups automatically calculate the maximum number of Pods", "Assign more IP addresses to Amazon
  EKS nodes with prefixes"): `ENIs x (IPv4 per ENI - 1) + 2`; with prefix delegation `ENIs x (IPv4 per ENI - 1)
  x 16 + 2`; capped at 110 below 30 vCPUs, 250 above. t3.micro: 4, or 34 with prefixes.
- allocatable memory: what the OS leaves (about 6% of nominal memory goes to the kernel and firmware) minus
  kube-reserved minus the 100 MiB hard eviction threshold. nodeadm reserves `255 MiB + 11 MiB x N`, where N is the
  instance type's standard max pods (the ENI formula, no prefixes) or a `maxPodsExpression`'s result, never the
  `maxPods` of a kubelet config (awslabs/amazon-eks-ami nodeadm `withDefaultReservedResources`; nodeadm API doc of
  `maxPodsExpression`: "Any MaxPods value set in Config takes precedence ... kubeReserved will always be calculated
  on its result"). t3.micro: 255 + 11 x 4 = 299 MiB, with or without prefixes.
- allocatable CPU: vCPUs minus kube-reserved (6% of the first core, 1% of the second, 0.5% of cores 3-4, 0.25% above);
- DaemonSet pods (aws-node, kube-proxy and, with `observability.containerInsights`, the CloudWatch agent and
  Fluent Bit of the amazon-cloudwatch-observability add-on) take a slot, CPU and memory on every node.
Pods: the catalogue's replicas x requests — the published steady state, every service at its HPA minimum, even
while services without a pinned image run 0 replicas — the system Deployments (CoreDNS, metrics-server, the Load Balancer
Controller, the Cluster Autoscaler) and one surge pod, because rolling updates start a new pod before stopping an
old one. The check is aggregate (it ignores bin-packing fragmentation) but also checks that the largest pod fits
on one empty node. A second pass checks the HPA maxima against `cluster.nodeMaxSize`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from k8s.catalogue import CATALOGUE


@dataclass(frozen=True)
class ClusterShape:
    """The node group and workload sizing the capacity check reads (`cluster.*` settings, as plain values)."""

    node_instance_type: str
    node_min_size: int
    node_max_size: int
    prefix_delegation: bool
    workload_profile: str
    system_replicas: int
    container_insights: bool = False
    """Container Insights' per-node agents and its operator (`observability.containerInsights`)."""


class _Sizing(Protocol):
    @property
    def workload_profile(self) -> str: ...
    @property
    def system_replicas(self) -> int: ...


class _Insights(Protocol):
    @property
    def container_insights(self) -> bool: ...


class _HasCluster(Protocol):
    """Anything with a `cluster` holding the workload sizing and `observability`: the settings object (`Settings`)."""

    @property
    def cluster(self) -> _Sizing: ...
    @property
    def observability(self) -> _Insights: ...


@dataclass(frozen=True)
class InstanceType:
    vcpus: int
    memory_mib: int
    enis: int
    ipv4_per_eni: int


#: EC2 facts for the instance types `cluster.nodeInstanceType` allows (EC2 User Guide, "IP addresses per ENI").
INSTANCE_TYPES: dict[str, InstanceType] = {
    "t3.micro": InstanceType(2, 1024, 2, 2),
    "t3.small": InstanceType(2, 2048, 3, 4),
    "t3.medium": InstanceType(2, 4096, 3, 6),
    "t3.large": InstanceType(2, 8192, 3, 12),
    "t3.xlarge": InstanceType(4, 16384, 4, 15),
    "m6i.large": InstanceType(2, 8192, 3, 10),
    "m6i.xlarge": InstanceType(4, 16384, 4, 15),
    "m7i.large": InstanceType(2, 8192, 3, 10),
    "m7i.xlarge": InstanceType(4, 16384, 4, 15),
}

#: Share of nominal memory the kernel and firmware keep before the kubelet sees it (observed on EKS AL2023 nodes).
OS_MEMORY_SHARE = 0.06
EVICTION_HARD_MIB = 100


@dataclass(frozen=True)
class Pod:
    name: str
    count: int
    cpu_m: int
    memory_mib: int


#: The add-ons' DaemonSets (requests as the EKS add-ons ship them): one pod per node each.
DAEMONSETS: tuple[Pod, ...] = (
    Pod("aws-node (VPC CNI + network policy agent)", 1, 25, 0),
    Pod("kube-proxy", 1, 100, 0),
)

#: The amazon-cloudwatch-observability add-on's DaemonSets, with the requests its chart renders by default
#: (aws-observability/helm-charts, charts/amazon-cloudwatch-observability: the AmazonCloudWatchAgent resource
#: requests 250m/128Mi, the fluent-bit DaemonSet 400m/250Mi); one pod of each per node.
CONTAINER_INSIGHTS_DAEMONSETS: tuple[Pod, ...] = (
    Pod("cloudwatch-agent (Container Insights)", 1, 250, 128),
    Pod("fluent-bit (Container Insights logs)", 1, 400, 250),
)
#: The add-on's operator Deployment (amazon-cloudwatch-observability-controller-manager), 100m/64Mi.
CLOUDWATCH_OPERATOR = Pod("amazon-cloudwatch-observability-controller-manager", 1, 100, 64)

#: System Deployments' per-pod requests: CoreDNS and metrics-server as the EKS add-ons ship them; the controllers'
#: requests are set by the ServiceMesh's Helm values from these same numbers.
COREDNS = Pod("coredns", 1, 100, 70)
METRICS_SERVER = Pod("metrics-server", 1, 100, 200)
LB_CONTROLLER = Pod("aws-load-balancer-controller", 1, 50, 128)
CLUSTER_AUTOSCALER = Pod("cluster-autoscaler", 1, 50, 160)


#: kubelet maxPods ceilings EKS applies (max-pods calculator; managed node groups enforce the same maxima).
MAX_PODS_CEILING_BELOW_30_VCPUS, MAX_PODS_CEILING_FROM_30_VCPUS = 110, 250
#: Addresses per /28 prefix the VPC CNI assigns to an ENI slot with prefix delegation.
IPS_PER_PREFIX = 16


def standard_max_pods(instance_type: str) -> int:
    """The ENI formula without prefixes, `ENIs x (IPv4 per ENI - 1) + 2`: nodeadm's basis for kube-reserved."""
    it = INSTANCE_TYPES[instance_type]
    return it.enis * (it.ipv4_per_eni - 1) + 2


def max_pods(instance_type: str, prefix_delegation: bool) -> int:
    """kubelet maxPods as an EKS managed node group sets it (the max-pods calculator's value)."""
    it = INSTANCE_TYPES[instance_type]
    slots = it.enis * (it.ipv4_per_eni - 1)
    limit = slots * IPS_PER_PREFIX + 2 if prefix_delegation else slots + 2
    ceiling = MAX_PODS_CEILING_BELOW_30_VCPUS if it.vcpus <= 30 else MAX_PODS_CEILING_FROM_30_VCPUS
    return min(limit, ceiling)


def kube_reserved_memory_mib(instance_type: str) -> int:
    """nodeadm's kube-reserved memory: `11 x standard max pods + 255` MiB, whatever maxPods the kubelet gets."""
    return 11 * standard_max_pods(instance_type) + 255


def kube_reserved_cpu_m(vcpus: int) -> int:
    shares = [60, 10, 5, 5] + [2.5] * max(0, vcpus - 4)
    return int(sum(shares[:vcpus]))


@dataclass(frozen=True)
class NodeCapacity:
    pods: int
    cpu_m: int
    memory_mib: int


def daemonsets(container_insights: bool) -> tuple[Pod, ...]:
    """The DaemonSet pods every node runs."""
    return DAEMONSETS + (CONTAINER_INSIGHTS_DAEMONSETS if container_insights else ())


def node_capacity(
    instance_type: str, prefix_delegation: bool, container_insights: bool = False
) -> NodeCapacity:
    """What one node offers to non-DaemonSet pods after kube-reserved, eviction and the DaemonSets."""
    it = INSTANCE_TYPES[instance_type]
    pods = max_pods(instance_type, prefix_delegation)
    memory = (
        int(it.memory_mib * (1 - OS_MEMORY_SHARE))
        - kube_reserved_memory_mib(instance_type)
        - EVICTION_HARD_MIB
    )
    cpu = it.vcpus * 1000 - kube_reserved_cpu_m(it.vcpus)
    per_node = daemonsets(container_insights)
    return NodeCapacity(
        pods=pods - sum(d.count for d in per_node),
        cpu_m=cpu - sum(d.cpu_m for d in per_node),
        memory_mib=memory - sum(d.memory_mib for d in per_node),
    )


def scheduled_pods(settings: _HasCluster, *, at_max: bool = False) -> list[Pod]:
    """Every non-DaemonSet pod the cluster runs: system Deployments, the services and one surge pod."""
    return _scheduled_pods(
        settings.cluster, at_max=at_max, insights=settings.observability.container_insights
    )


def _scheduled_pods(c: _Sizing, *, at_max: bool, insights: bool) -> list[Pod]:
    system = [
        Pod(COREDNS.name, c.system_replicas, COREDNS.cpu_m, COREDNS.memory_mib),
        METRICS_SERVER,
        Pod(LB_CONTROLLER.name, c.system_replicas, LB_CONTROLLER.cpu_m, LB_CONTROLLER.memory_mib),
        CLUSTER_AUTOSCALER,
        *((CLOUDWATCH_OPERATOR,) if insights else ()),
    ]
    services = []
    for s in CATALOGUE:
        size = s.sized(c.workload_profile)
        services.append(
            Pod(
                s.name,
                size.max_replicas if at_max else size.replicas,
                size.cpu_request_m,
                size.memory_request_mib,
            )
        )
    largest = max(services, key=lambda p: (p.memory_mib, p.cpu_m))
    surge = Pod(f"rolling-update surge ({largest.name})", 1, largest.cpu_m, largest.memory_mib)
    return [*system, *services, surge]


@dataclass(frozen=True)
class Demand:
    pods: int
    cpu_m: int
    memory_mib: int


def demand(pods: list[Pod]) -> Demand:
    return Demand(
        pods=sum(p.count for p in pods),
        cpu_m=sum(p.count * p.cpu_m for p in pods),
        memory_mib=sum(p.count * p.memory_mib for p in pods),
    )


def nodes_needed(need: Demand, per_node: NodeCapacity) -> int:
    """Fewest nodes whose summed capacity covers `need` (0 capacity in a dimension: impossible, a large number)."""
    counts = []
    for wanted, offered in (
        (need.pods, per_node.pods),
        (need.cpu_m, per_node.cpu_m),
        (need.memory_mib, per_node.memory_mib),
    ):
        counts.append(math.ceil(wanted / offered) if offered > 0 else 10**6)
    return max(counts)


def capacity_problems(c: ClusterShape) -> list[str]:
    """Empty when the pods fit at `nodeMinSize` (and the HPA maxima at `nodeMaxSize`); else one message each."""
    if c.node_instance_type not in INSTANCE_TYPES:
        return [f"cluster.nodeInstanceType: {c.node_instance_type!r} has no capacity data in k8s/capacity.py"]
    per_node = node_capacity(c.node_instance_type, c.prefix_delegation, c.container_insights)
    problems: list[str] = []
    if per_node.memory_mib <= 0 or per_node.pods <= 0:
        return [
            f"cluster.nodeInstanceType: {c.node_instance_type} leaves no room for pods after kube-reserved "
            f"({kube_reserved_memory_mib(c.node_instance_type)} MiB) and the DaemonSets; pick a larger "
            "cluster.nodeInstanceType"
        ]
    for at_max, nodes, key in (
        (False, c.node_min_size, "cluster.nodeMinSize"),
        (True, c.node_max_size, "cluster.nodeMaxSize"),
    ):
        pods = _scheduled_pods(c, at_max=at_max, insights=c.container_insights)
        need = demand(pods)
        have = Demand(per_node.pods * nodes, per_node.cpu_m * nodes, per_node.memory_mib * nodes)
        what = "the HPA maxima" if at_max else "the scheduled pods"
        short = [
            f"{label} short by {n - h}{unit} (need {n}{unit}, {nodes} x {c.node_instance_type} give {h}{unit})"
            for label, n, h, unit in (
                ("pod slots", need.pods, have.pods, ""),
                ("CPU", need.cpu_m, have.cpu_m, "m"),
                ("memory", need.memory_mib, have.memory_mib, " MiB"),
            )
            if n > h
        ]
        if short:
            fits = nodes_needed(need, per_node)
            problems.append(
                f"{key}: {what} do not fit on {nodes} x {c.node_instance_type} (maxPods "
                f"{max_pods(c.node_instance_type, c.prefix_delegation)} as EKS sets it, prefix delegation "
                f"{'on' if c.prefix_delegation else 'off'}): {'; '.join(short)}. Change {key} to {fits} or more, "
                "choose a larger cluster.nodeInstanceType, set cluster.prefixDelegation true if pod slots are short, "
                "or lower the requests (cluster.workloadProfile small, cluster.systemReplicas"
                + (
                    ", or observability.containerInsights false: its agents take "
                    f"{sum(d.cpu_m for d in CONTAINER_INSIGHTS_DAEMONSETS)}m/"
                    f"{sum(d.memory_mib for d in CONTAINER_INSIGHTS_DAEMONSETS)} MiB per node"
                    if c.container_insights
                    else ""
                )
                + ")"
            )
        largest = max(pods, key=lambda p: p.memory_mib)
        if largest.memory_mib > per_node.memory_mib or largest.cpu_m > per_node.cpu_m:
            problems.append(
                f"cluster.nodeInstanceType: the pod {largest.name} requests {largest.cpu_m}m/"
                f"{largest.memory_mib} MiB, more than one empty {c.node_instance_type} offers "
                f"({per_node.cpu_m}m/{per_node.memory_mib} MiB); choose a larger instance type"
            )
    return problems
