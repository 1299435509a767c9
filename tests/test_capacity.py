"""The capacity check and the catalogue: pure Python, no mock runtime."""

from __future__ import annotations

import pytest

from components.config import SettingsError
from k8s import capacity
from k8s.catalogue import CATALOGUE, catalogue_problems
from tests.conftest import settings_for
from tests.test_mesh import settings_for_raw


@pytest.mark.parametrize(
    ("instance", "prefix", "override", "expected"),
    [
        # ENI formula: ENIs x (IPv4 per ENI - 1) + 2 (the EKS max-pods table).
        ("t3.micro", False, 0, 4),
        ("t3.small", False, 0, 11),
        ("t3.medium", False, 0, 17),
        ("m6i.large", False, 0, 29),
        # Prefix delegation: x16 per slot, capped at 110 below 30 vCPUs.
        ("t3.micro", True, 0, 34),
        ("t3.medium", True, 0, 110),
        ("t3.micro", True, 12, 12),
        # An override can lower the limit, never lift it past what the CNI can address.
        ("t3.micro", False, 12, 4),
    ],
)
def test_max_pods(instance: str, prefix: bool, override: int, expected: int) -> None:
    assert capacity.max_pods(instance, prefix, override) == expected


def test_kube_reserved_memory_grows_with_pod_slots() -> None:
    few = capacity.node_capacity("t3.micro", True, 12)
    many = capacity.node_capacity("t3.micro", True, 0)
    assert few.memory_mib - many.memory_mib == 11 * (34 - 12), (
        "kube-reserved is 255 MiB + 11 MiB per pod slot"
    )
    assert capacity.kube_reserved_cpu_m(2) == 70 and capacity.kube_reserved_cpu_m(4) == 80


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_both_stacks_fit(stack: str) -> None:
    assert capacity.capacity_problems(settings_for(stack)) == []


def test_dev_fits_on_t3_micro_with_room_to_spare() -> None:
    s = settings_for("dev")
    assert s.cluster.node_instance_type == "t3.micro"
    per_node = capacity.node_capacity("t3.micro", s.cluster.prefix_delegation, s.cluster.max_pods_per_node)
    need = capacity.demand(capacity.scheduled_pods(s))
    assert need.memory_mib <= per_node.memory_mib * s.cluster.node_min_size
    assert need.pods <= per_node.pods * s.cluster.node_min_size


def _dev_cluster(**changes: object) -> dict[str, object]:
    raw = settings_for_raw("dev")
    raw.update(changes)
    return {"ecommerce-platform:cluster": raw}


def test_an_over_full_node_group_fails_with_by_how_much_and_what_to_change() -> None:
    with pytest.raises(SettingsError) as err:
        settings_for("dev", _dev_cluster(nodeMinSize=2, nodeDesiredSize=2))
    (problem,) = [p for p in err.value.problems if p.startswith("cluster.nodeMinSize:")]
    assert "memory short by" in problem, problem
    assert "2 x t3.micro" in problem and "Change cluster.nodeMinSize to 3 or more" in problem, problem
    assert "cluster.nodeInstanceType" in problem and "cluster.workloadProfile" in problem, problem


def test_t3_micro_without_prefix_delegation_runs_out_of_pod_slots() -> None:
    with pytest.raises(SettingsError) as err:
        settings_for("dev", _dev_cluster(prefixDelegation=False, maxPodsPerNode=0))
    assert any("pod slots short by" in p and "cluster.prefixDelegation" in p for p in err.value.problems), (
        err.value.problems
    )


def test_prod_sizing_on_dev_nodes_fails() -> None:
    with pytest.raises(SettingsError) as err:
        settings_for("dev", _dev_cluster(workloadProfile="standard", systemReplicas=2))
    assert any(p.startswith("cluster.nodeMinSize:") for p in err.value.problems), err.value.problems


def test_hpa_maxima_are_checked_against_the_maximum_size() -> None:
    with pytest.raises(SettingsError) as err:
        settings_for("dev", _dev_cluster(nodeMaxSize=3, systemReplicas=2))
    assert any(p.startswith("cluster.nodeMaxSize:") and "HPA maxima" in p for p in err.value.problems), (
        err.value.problems
    )


def test_catalogue_is_consistent_with_the_service_ports() -> None:
    assert catalogue_problems(8080, 8089) == []
    assert len(CATALOGUE) == 8
    problems = catalogue_problems(8080, 8084)
    assert any("network.servicePorts" in p and "payment" in p for p in problems), problems
    assert any("no entry in the DataTier contract" in p for p in catalogue_problems(8080, 8089, ("product",)))
