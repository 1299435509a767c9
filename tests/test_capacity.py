"""The capacity check and the catalogue: pure Python, no mock runtime."""

from __future__ import annotations

import dataclasses

import pytest

from components.config import SettingsError, cluster_shape
from k8s import capacity
from k8s.catalogue import CATALOGUE, catalogue_problems
from tests.conftest import settings_for
from tests.test_mesh import settings_for_raw


@pytest.mark.parametrize(
    ("instance", "prefix", "expected"),
    [
        # The max-pods calculator EKS managed node groups apply: ENIs x (IPv4 per ENI - 1) + 2 ...
        ("t3.micro", False, 4),
        ("t3.small", False, 11),
        ("t3.medium", False, 17),
        ("m6i.large", False, 29),
        # ... and with prefix delegation x16 per slot, capped at 110 below 30 vCPUs.
        ("t3.micro", True, 34),
        ("t3.small", True, 110),
        ("t3.medium", True, 110),
    ],
)
def test_max_pods_is_the_value_eks_managed_node_groups_compute(
    instance: str, prefix: bool, expected: int
) -> None:
    assert capacity.max_pods(instance, prefix) == expected, f"{instance}, prefix delegation {prefix}"


def test_nodeadm_sizes_kube_reserved_from_the_standard_eni_max_pods_not_the_kubelet_max_pods() -> None:
    # nodeadm: kubeReserved memory = 11 x N + 255 MiB, N the ENI formula without prefixes (t3.micro: 4), whatever
    # maxPods the kubelet config carries (EKS's appended 34 with prefixes).
    assert capacity.standard_max_pods("t3.micro") == 4
    assert capacity.kube_reserved_memory_mib("t3.micro") == 255 + 11 * 4 == 299
    assert capacity.kube_reserved_memory_mib("t3.medium") == 255 + 11 * 17
    with_prefixes = capacity.node_capacity("t3.micro", True)
    without = capacity.node_capacity("t3.micro", False)
    assert with_prefixes.memory_mib == without.memory_mib == int(1024 * 0.94) - 299 - 100, (
        "prefix delegation adds pod slots, not kube-reserved memory"
    )
    assert (with_prefixes.pods, without.pods) == (34 - 2, 4 - 2), "two DaemonSet pods per node"
    assert capacity.kube_reserved_cpu_m(2) == 70 and capacity.kube_reserved_cpu_m(4) == 80


def test_capacity_is_a_pure_function_of_plain_values() -> None:
    """No settings object needed: the node group's shape as plain values (what the cluster rules build)."""
    shape = capacity.ClusterShape(
        node_instance_type="t3.micro",
        node_min_size=1,
        node_max_size=5,
        prefix_delegation=True,
        workload_profile="small",
        system_replicas=1,
    )
    (problem,) = capacity.capacity_problems(shape)
    assert problem.startswith("cluster.nodeMinSize:") and "memory short by 427 MiB" in problem, problem
    assert capacity.capacity_problems(dataclasses.replace(shape, node_min_size=2)) == []
    dev = settings_for("dev").cluster
    assert cluster_shape(dev) == dataclasses.replace(shape, node_min_size=3), "the dev stack's shape"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_both_stacks_fit(stack: str) -> None:
    assert capacity.capacity_problems(cluster_shape(settings_for(stack).cluster)) == []


def test_dev_fits_on_three_t3_micro_with_what_eks_actually_sets() -> None:
    s = settings_for("dev")
    c = s.cluster
    assert (c.node_instance_type, c.node_min_size, c.prefix_delegation) == ("t3.micro", 3, True)
    per_node = capacity.node_capacity("t3.micro", True)
    # maxPods 34 (EKS's), kube-reserved 299 MiB (nodeadm's): 32 slots and 563 MiB for non-DaemonSet pods per node.
    assert (per_node.pods, per_node.memory_mib) == (32, 563), per_node
    need = capacity.demand(capacity.scheduled_pods(s))
    # 13 pods: CoreDNS, metrics-server, the two controllers, eight services and one rolling-update surge pod.
    assert (need.pods, need.memory_mib) == (13, 990), need
    assert need.memory_mib <= per_node.memory_mib * 3 and need.pods <= per_node.pods * 3
    assert capacity.nodes_needed(need, per_node) == 2, "one t3.micro of headroom at the minimum size"
    at_max = capacity.demand(capacity.scheduled_pods(s, at_max=True))
    assert at_max.memory_mib <= per_node.memory_mib * c.node_max_size, at_max


def _dev_cluster(**changes: object) -> dict[str, object]:
    raw = settings_for_raw("dev")
    raw.update(changes)
    return {"ecommerce-platform:cluster": raw}


def test_an_over_full_node_group_fails_with_by_how_much_and_what_to_change() -> None:
    with pytest.raises(SettingsError) as err:
        settings_for("dev", _dev_cluster(nodeMinSize=1, nodeDesiredSize=1))
    (problem,) = [p for p in err.value.problems if p.startswith("cluster.nodeMinSize:")]
    assert "memory short by 427 MiB" in problem, problem
    assert "1 x t3.micro" in problem and "Change cluster.nodeMinSize to 2 or more" in problem, problem
    assert "maxPods 34 as EKS sets it" in problem, problem
    assert "cluster.nodeInstanceType" in problem and "cluster.workloadProfile" in problem, problem


def test_t3_micro_without_prefix_delegation_runs_out_of_pod_slots() -> None:
    with pytest.raises(SettingsError) as err:
        settings_for("dev", _dev_cluster(prefixDelegation=False))
    assert any("pod slots short by" in p and "cluster.prefixDelegation" in p for p in err.value.problems), (
        err.value.problems
    )


def test_prod_sizing_on_dev_nodes_fails() -> None:
    with pytest.raises(SettingsError) as err:
        settings_for("dev", _dev_cluster(workloadProfile="standard", systemReplicas=2))
    assert any(p.startswith("cluster.nodeMinSize:") for p in err.value.problems), err.value.problems


def test_hpa_maxima_are_checked_against_the_maximum_size() -> None:
    with pytest.raises(SettingsError) as err:
        settings_for("dev", _dev_cluster(nodeMinSize=2, nodeDesiredSize=2, nodeMaxSize=2))
    assert any(p.startswith("cluster.nodeMaxSize:") and "HPA maxima" in p for p in err.value.problems), (
        err.value.problems
    )


def test_catalogue_is_consistent_with_the_service_ports() -> None:
    assert catalogue_problems(8080, 8089) == []
    assert len(CATALOGUE) == 8
    problems = catalogue_problems(8080, 8084)
    assert any("network.servicePorts" in p and "payment" in p for p in problems), problems
    assert any("no entry in the DataTier contract" in p for p in catalogue_problems(8080, 8089, ("product",)))
