"""The DR operators' way into the warm standby's cluster when the primary region is lost: `dr.standbyApiCidrs`
(validated like `cluster.publicAccessCidrs`) on the DR cluster's public endpoint, the runbook's commands for getting
in without it (each naming what the warm-standby test plan has), and what a warm-standby stack's `pulumi preview`
needs from the DR cluster."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from components.config import SettingsError
from tests.conftest import Resources, settings_for
from tests.test_dr import EXTRA, MODES, NS, mode_plan
from tools.offline.engine import ROOT, build_plan

CASE = "prod-warm-standby"
DR_CLUSTER = "ecommerce-dr-mesh-cluster"
RUNBOOK = ROOT / "docs" / "disaster-recovery.md"
#: Two operator egress ranges (public, not RFC 5737 documentation ranges, which the settings refuse).
OPERATORS = ["4.175.114.0/24", "52.94.236.248/32"]


def _warm_standby_overrides(**dr: Any) -> dict[str, Any]:
    _, base = MODES[CASE]
    config = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    overrides: dict[str, Any] = {f"{NS}:dr": {**base, **dr}}
    for area, values in EXTRA[CASE].items():
        overrides[f"{NS}:{area}"] = {**config[f"{NS}:{area}"], **values}
    return overrides


# -- dr.standbyApiCidrs -------------------------------------------------------------------------------------------------

BAD = [
    ("documentation-range", {"mode": "warm-standby", "standbyApiCidrs": ["203.0.113.10/32"]},
     "dr.standbyApiCidrs[0]", "documentation range (RFC 5737"),
    ("private-range", {"mode": "warm-standby", "standbyApiCidrs": ["4.175.114.0/24", "10.20.0.0/16"]},
     "dr.standbyApiCidrs[1]", "not a public range"),
    ("too-wide", {"mode": "warm-standby", "standbyApiCidrs": ["0.0.0.0/0"]}, "dr.standbyApiCidrs[0]",
     "prefix /8 or longer"),
    ("not-a-cidr", {"mode": "warm-standby", "standbyApiCidrs": ["office"]}, "dr.standbyApiCidrs[0]",
     "not an IPv4 CIDR"),
    ("without-a-dr-cluster", {"mode": "pilot-light", "standbyApiCidrs": OPERATORS}, "dr.standbyApiCidrs",
     "only warm-standby runs"),
]  # fmt: skip


@pytest.mark.parametrize(("dr", "key", "allowed"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_standby_api_cidrs_name_the_key_and_what_is_allowed(
    dr: dict[str, Any], key: str, allowed: str
) -> None:
    with pytest.raises(SettingsError) as err:
        settings_for("prod", {f"{NS}:dr": dr})
    lines = [line for line in str(err.value).splitlines() if line.strip().startswith(f"- {key}:")]
    assert lines and allowed in lines[0], str(err.value)


def test_operators_cidrs_open_only_the_dr_clusters_api_beside_the_primary_nat() -> None:
    """EKS admits to a public endpoint only the CIDRs of `publicAccessCidrs` (EKS user guide, "Cluster API server
    endpoint"): the primary NAT addresses (CI's runners) go down with the primary region, so the operators' egress is
    listed too; the primary cluster stays private-only, and private access stays on (the DR nodes use it)."""
    plan = build_plan("prod", _warm_standby_overrides(standbyApiCidrs=OPERATORS))
    res = Resources(plan["resources"])
    dr = res.named(DR_CLUSTER, "eks:index:Cluster")
    nat_ips = sorted(f"{n['outputs']['publicIp']}/32" for n in res.of_type("aws:ec2/natGateway:NatGateway")
                     if not n["name"].startswith("ecommerce-dr-"))  # fmt: skip
    assert len(nat_ips) == 2, nat_ips
    assert sorted(dr["inputs"]["publicAccessCidrs"]) == sorted([*OPERATORS, *nat_ips]), dr["urn"]
    assert dr["inputs"]["endpointPublicAccess"] is True and dr["inputs"]["endpointPrivateAccess"] is True, dr[
        "urn"
    ]
    primary = res.named("ecommerce-mesh-cluster", "eks:index:Cluster")
    assert primary["inputs"]["endpointPublicAccess"] is False, (
        f"{primary['urn']}: the primary API stays private"
    )
    assert "publicAccessCidrs" not in primary["inputs"], primary["urn"]
    # The pack's EKS rules accept a public endpoint limited to listed ranges.
    from tools.offline.policy_run import PolicySession

    with PolicySession.for_plan(plan) as session:
        report = session.analyze(plan)
    assert not report.mandatory, "\n".join(f"{d.policy}: {d.urn}: {d.message}" for d in report.mandatory)


def test_without_operators_cidrs_the_dr_api_admits_only_the_primary_nat() -> None:
    dr = mode_plan(CASE).named(DR_CLUSTER, "eks:index:Cluster")
    assert len(dr["inputs"]["publicAccessCidrs"]) == 2, f"{dr['urn']}: the two primary NAT addresses only"


# -- the runbook ----------------------------------------------------------------------------------------------------------


def _standby_section() -> str:
    found = re.search(r"\n## Warm standby.*?(?=\n## )", RUNBOOK.read_text(), re.S)
    assert found, f"{RUNBOOK} has no 'Warm standby' section"
    return found.group(0)


def _commands(section: str) -> list[str]:
    """The shell commands of the section's ```bash blocks, continuation lines joined."""
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    return [c.strip() for b in blocks for c in b.replace("\\\n", " ").splitlines() if c.strip()]


def test_runbook_reaches_the_dr_api_with_commands_naming_the_plans_cluster() -> None:
    """W2 gets an operator into the DR cluster with EKS API calls only (regional, reachable with IAM credentials when
    the primary region is gone): `update-cluster-config` on the DR cluster's name keeping private access on, an
    access entry with the cluster-admin access policy, then `update-kubeconfig`. Every cluster and node-group name
    those commands use is the warm-standby plan's."""
    res = mode_plan(CASE)
    cluster = res.named(DR_CLUSTER, "eks:index:Cluster")["inputs"]["name"]
    nodegroups = {n["inputs"]["nodeGroupName"] for n in res.of_type("eks:index:ManagedNodeGroup")}
    commands = [c for c in _commands(_standby_section()) if "aws eks " in c]
    needed = {"update-cluster-config", "describe-update", "create-access-entry", "associate-access-policy",
              "update-kubeconfig", "update-nodegroup-config"}  # fmt: skip
    seen = {c.split("aws eks ", 1)[1].split()[0] for c in commands}
    assert needed <= seen, f"runbook lacks {sorted(needed - seen)}"
    for c in commands:
        assert "--region us-east-1" in c, f"not in the DR region: {c}"
        for flag in ("--name", "--cluster-name"):
            m = re.search(rf"{flag} (\S+)", c)
            if m:
                assert m.group(1) == cluster, f"{c}: {m.group(1)} is not the plan's DR cluster {cluster}"
        m = re.search(r"--nodegroup-name (\S+)", c)
        if m:
            assert m.group(1) in nodegroups, f"{c}: {m.group(1)} not in {sorted(nodegroups)}"
    (update,) = [c for c in commands if "update-cluster-config" in c and "--resources-vpc-config" in c]
    # The private endpoint stays on (the DR nodes reach the API through it), and the list is replaced as a whole:
    # the command keeps the CIDRs that are there (the primary NAT addresses CI comes back through) and adds one.
    given = re.search(r"--resources-vpc-config \"(.*?)\" ", update)
    assert given, f"no JSON --resources-vpc-config in {update}"
    config = json.loads(given.group(1).replace('\\"', '"').replace("$CIDRS", '["18.0.0.1/32"]'))
    assert config == {"endpointPublicAccess": True, "endpointPrivateAccess": True,
                      "publicAccessCidrs": ["18.0.0.1/32"]}, update  # fmt: skip
    (keep,) = [c for c in _commands(_standby_section()) if c.startswith("CIDRS=")]
    assert "publicAccessCidrs" in keep and ". + [$me]" in keep, keep
    (policy,) = [c for c in commands if "associate-access-policy" in c]
    assert "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy" in policy and (
        "--access-scope type=cluster" in policy
    ), policy


def test_runbook_names_standby_alarms_the_plan_has() -> None:
    res = mode_plan(CASE)
    alarms = {a["inputs"]["name"] for a in res.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
    named = set(re.findall(r"ecommerce-prod-[a-z0-9-]*-dr(?:-[a-z0-9-]*[a-z0-9])?\b", _standby_section()))
    named = {n for n in named if not n.startswith("ecommerce-prod-dr")}
    assert len(named) >= 5, named
    assert named <= alarms, f"runbook alarm names absent from the warm-standby plan: {sorted(named - alarms)}"


def test_runbook_setting_commands_use_real_settings() -> None:
    """`pulumi config set --path` keys in the warm-standby section are settings the program reads."""
    from components.config.cluster import ClusterSettings
    from components.config.dr import DrSettings

    keys = set(re.findall(r"pulumi config set --path '?([a-zA-Z.]+)", _standby_section()))
    assert {"dr.standbyApiCidrs", "cluster.adminRoleArns"} <= keys, keys
    known = {f"dr.{f.metadata['key']}" for f in DrSettings.__dataclass_fields__.values()} | {
        f"cluster.{f.metadata['key']}"
        for f in ClusterSettings.__dataclass_fields__.values()
        if "key" in f.metadata
    }
    assert keys <= known, f"unknown settings in the runbook: {sorted(keys - known)}"


# -- what a warm-standby preview needs from the DR cluster -----------------------------------------------------------------


def test_preview_reads_the_dr_cluster_through_its_view_access_entry() -> None:
    """A plain `pulumi preview` makes no EKS API call on an existing cluster (pulumi-eks's invokes at preview are
    `eks.getAddonVersion`, `ec2.getSubnet(s)` and the public AMI parameters; `aws eks get-token` presigns STS
    GetCallerIdentity locally), so the preview role's `ReadClusters` needs no DR statement; what it needs is the
    Kubernetes API of the DR cluster: a view access entry there, and CI's egress (the primary NAT) admitted."""
    res = mode_plan(CASE)
    dr = res.named(DR_CLUSTER, "eks:index:Cluster")["inputs"]
    entries = {e["principalArn"]: e for e in dr["accessEntries"].values()}
    preview = next(a for a in entries if a.endswith(":role/ecommerce-platform-prod-github-preview"))
    policies = [p["policyArn"] for p in entries[preview]["accessPolicies"].values()]
    assert policies == ["arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"], (DR_CLUSTER, policies)
    role_policy = res.named("ecommerce-delivery-preview", "aws:iam/rolePolicy:RolePolicy")
    (read,) = [
        s for s in json.loads(role_policy["inputs"]["policy"])["Statement"] if s.get("Sid") == "ReadClusters"
    ]
    assert all(":eks:us-east-2:" in r for r in read["Resource"]), f"{role_policy['urn']}: {read['Resource']}"
