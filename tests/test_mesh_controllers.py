"""ServiceMesh controllers (components/mesh/controllers.py): the Load Balancer Controller and the Cluster
Autoscaler, their scoped roles and pinned charts.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.config import KUBERNETES_VERSIONS
from components.mesh import (
    CLUSTER_AUTOSCALER_RELEASES,
)
from tests.mesh_support import (
    MESH,
    ROLE_POLICY,
    built,
    listify,
    one,
    policy_doc,
)


def test_controller_roles_are_scoped() -> None:
    res, _ = built("dev")
    lbc = policy_doc(one(res, ROLE_POLICY, f"{MESH}-aws-load-balancer-controller"), "policy")["Statement"]
    register = next(s for s in lbc if s.get("Sid") == "RegisterPodsInOwnTargetGroups")
    tg_arns = {r["outputs"]["arn"] for r in res.of_type("aws:lb/targetGroup:TargetGroup")}
    assert set(listify(register["Resource"])) == tg_arns, (
        f"LBC may register targets in {register['Resource']}"
    )
    actions = {a for s in lbc for a in listify(s["Action"])}
    assert not any(
        a.startswith(("elasticloadbalancing:Create", "elasticloadbalancing:Delete")) for a in actions
    ), f"the controller must not create/delete load balancers: {sorted(actions)}"
    ca = policy_doc(one(res, ROLE_POLICY, f"{MESH}-cluster-autoscaler"), "policy")["Statement"]
    scale = next(s for s in ca if s.get("Sid") == "ScaleOwnNodeGroups")
    assert scale["Condition"] == {
        "StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/ecommerce-dev": "owned"}
    }, f"autoscaler scaling not bound to this cluster's tag: {scale}"


@pytest.mark.parametrize("version", ["1.32", "1.33", "1.34"])
def test_cluster_autoscaler_chart_runs_its_own_app_version_for_the_cluster_minor(version: str) -> None:
    # kubernetes/autoscaler charts/cluster-autoscaler: Chart.yaml appVersion and values.yaml image.tag of each pin.
    pinned = {"1.32": ("9.46.6", "1.32.0"), "1.33": ("9.51.0", "1.33.0"), "1.34": ("9.53.0", "1.34.2")}
    assert CLUSTER_AUTOSCALER_RELEASES[version] == pinned[version], version
    chart, app = CLUSTER_AUTOSCALER_RELEASES[version]
    assert app.rsplit(".", 1)[0] == version, f"chart {chart} runs autoscaler {app} on a {version} cluster"
    assert set(CLUSTER_AUTOSCALER_RELEASES) == set(KUBERNETES_VERSIONS), (
        "a supported minor has no autoscaler pin"
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_cluster_autoscaler_release_pins_the_matching_pair(resources: Any, stack: str) -> None:
    res = resources(stack)
    ca = one(res, "kubernetes:helm.sh/v3:Release", f"{MESH}-cluster-autoscaler")
    assert (ca["inputs"]["version"], ca["inputs"]["values"]["image"]["tag"]) == ("9.51.0", "v1.33.0"), (
        f"{ca['urn']}: chart 9.51.0 is the chart whose appVersion is 1.33.0, the cluster's minor"
    )
