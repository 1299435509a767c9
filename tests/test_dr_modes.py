"""Moving prod between DR modes: what one `pulumi up` does to the stack when only `dr.mode` changes.

The pilot light's failover is the same stack switched to warm standby (docs/disaster-recovery.md, step 5): that
`up` must only add the DR region's compute around the replicas it already has — never replace or delete a store,
a replica or a key — or the failover would destroy what it fails over to.
"""

from __future__ import annotations

import re
from typing import Any

from tools import cost
from tools.offline.diff import diff_plans
from tools.offline.engine import ROOT, build_plan

#: The one resource that changes in place: the mesh's `origin.<domain>` record becomes the failover pair's PRIMARY
#: (same resource through an alias; Route 53 takes the routing policy by replacing it, deleted first).
ORIGIN_RECORD = "ecommerce-dr-api-failover-primary"


def test_pilot_light_to_warm_standby_only_adds_compute_and_the_failover_record(
    plan: Any,
) -> None:
    pilot = plan("prod")
    standby = build_plan("prod", cost.dr_mode_overrides("warm-standby", "prod"))
    d = diff_plans(pilot, standby)
    destructive = [f"{s.op} {s.resource['urn']}" for s in d.steps if s.op in ("delete", "replace")]
    assert not destructive, "switching prod to warm standby must not replace or delete:\n" + "\n".join(
        destructive
    )
    # In place: the origin record, and the dashboards that draw the standby's queues (no data in either).
    updated = sorted(
        s.resource["name"]
        for s in d.steps
        if s.op == "update" and s.resource["type"] != "aws:cloudwatch/dashboard:Dashboard"
    )
    assert updated == [ORIGIN_RECORD], f"only the origin record changes in place, not {updated}"
    created = [s.resource for s in d.steps if s.op == "create"]
    types = {r["type"] for r in created}
    for wanted in ("eks:index:Cluster", "aws:rds/clusterInstance:ClusterInstance", "aws:ec2/natGateway:NatGateway",
                   "aws:elasticache/replicationGroup:ReplicationGroup", "aws:route53/record:Record"):  # fmt: skip
        assert wanted in types, f"warm standby adds a {wanted}"


def test_leaving_warm_standby_runbook_unprotects_every_protected_resource_the_switch_deletes(
    plan: Any,
) -> None:
    """Pulumi refuses to delete a protected resource, so `dr.mode pilot-light` after warm standby fails unless each
    one is unprotected first: the runbook's W5 must name exactly the protected resources that switch deletes, by
    the URNs the engine gives them (the full parent chain), and the secondary record it destroys first."""
    standby = build_plan("prod", cost.dr_mode_overrides("warm-standby", "prod"))
    d = diff_plans(standby, plan("prod"))
    protected = {s.resource["urn"] for s in d.steps if s.op == "delete" and s.resource.get("protect")}
    assert protected, "warm standby holds protected data (queues, keys, the Aurora instance)"
    runbook = (ROOT / "docs" / "disaster-recovery.md").read_text(encoding="utf-8")
    w5 = runbook[runbook.index("### W5.") : runbook.index("## Not built")]
    named = set(re.findall(r"pulumi state unprotect -s prod --yes \\\n  '([^']+)'", w5))
    assert named == protected, (
        f"W5 must unprotect {sorted(protected - named)}; it names what the switch keeps {sorted(named - protected)}"
    )
    (secondary,) = [
        s.resource["urn"] for s in d.steps if s.resource["name"] == "ecommerce-dr-api-failover-secondary"
    ]
    assert f"--target \\\n  '{secondary}'" in w5, f"W5 destroys {secondary} first"
