"""ServiceMesh identities (components/mesh/identities.py): one IRSA role per service with exactly its
stores, trust bound to exactly its service account.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from components.contracts import SERVICES, ServiceStores
from components.mesh import (
    MeshNetwork,
    ServiceMesh,
)
from k8s.catalogue import NAMESPACE
from tests.conftest import Resources, settings_for
from tests.mesh_support import (
    ACCOUNT,
    MESH,
    OWN_ARNS,
    ROLE,
    ROLE_POLICY,
    built,
    listify,
    one,
    policy_doc,
)


@pytest.mark.parametrize("service", SERVICES)
def test_service_policy_touches_only_its_own_stores(service: str) -> None:
    res, _ = built("dev")
    record = one(res, ROLE_POLICY, f"{MESH}-svc-{service}")
    resources: set[str] = set()
    for st in policy_doc(record, "policy")["Statement"]:
        assert st["Effect"] == "Allow", f"{record['urn']}: {st}"
        assert "*" not in listify(st["Action"]), f"{record['urn']}: wildcard action in {st}"
        resources.update(listify(st["Resource"]))
    assert resources == OWN_ARNS[service], (
        f"{record['urn']}: policy resources {sorted(resources)} != own stores"
    )
    others = set().union(*(arns for s, arns in OWN_ARNS.items() if s != service)) - OWN_ARNS[service]
    assert not resources & others, f"{record['urn']}: touches other services' stores {resources & others}"


@pytest.mark.parametrize("service", SERVICES)
def test_service_trust_names_exactly_its_service_account(service: str) -> None:
    res, _ = built("dev")
    role = one(res, ROLE, f"{MESH}-svc-{service}")
    (st,) = policy_doc(role, "assumeRolePolicy")["Statement"]
    assert st["Action"] == "sts:AssumeRoleWithWebIdentity", role["urn"]
    assert st["Principal"]["Federated"].startswith(f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks."), role[
        "urn"
    ]
    cond = st["Condition"]["StringEquals"]
    subs = {k: v for k, v in cond.items() if k.endswith(":sub")}
    auds = {k: v for k, v in cond.items() if k.endswith(":aud")}
    assert list(subs.values()) == [f"system:serviceaccount:{NAMESPACE}:{service}"], f"{role['urn']}: {cond}"
    assert list(auds.values()) == ["sts.amazonaws.com"], f"{role['urn']}: {cond}"
    assert "StringLike" not in st["Condition"], f"{role['urn']}: wildcard trust {st['Condition']}"
    sa = res.named(f"{MESH}-{service}-sa")
    assert sa["inputs"]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role["outputs"]["arn"], (
        sa["urn"]
    )


def test_service_without_stores_gets_no_policy(build: Callable[..., Resources]) -> None:
    settings = settings_for("dev")

    def program() -> None:
        ServiceMesh(
            MESH,
            settings,
            network=MeshNetwork("vpc-0", ["s1", "s2"], ["s3", "s4"], "sg-a", "sg-n"),
            stores={s: ServiceStores() for s in SERVICES},
        )

    res = build(program)
    policies = [r["name"] for r in res.of_type("aws:iam/rolePolicy:RolePolicy") if "-svc-" in r["name"]]
    assert policies == [], f"services without stores got policies: {policies}"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_service_policies_name_only_data_tier_resources(resources: Any, stack: str) -> None:
    res = resources(stack)
    data = [r for r in res if ":DataTier$" in r["urn"] and r["custom"]]
    arns = {r["outputs"].get("arn") for r in data} - {None}
    resource_ids = {r["outputs"].get("clusterResourceId") for r in data} - {None}
    assert arns and resource_ids, "the DataTier registered no ARNs or Aurora cluster"
    for service in SERVICES:
        record = one(res, ROLE_POLICY, f"{MESH}-svc-{service}")
        for st in policy_doc(record, "policy")["Statement"]:
            for arn in listify(st["Resource"]):
                if arn.startswith("arn:aws:rds-db:"):
                    assert arn.split(":dbuser:")[1].split("/")[0] in resource_ids, f"{record['urn']}: {arn}"
                    continue
                base = arn.removesuffix("/index/*").removesuffix("/*")
                assert base in arns, f"{record['urn']}: {arn} is not a DataTier resource"
