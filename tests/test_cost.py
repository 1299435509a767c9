"""The cost estimate: every planned resource priced, free with a reason, or listed as unpriced; the prices' AWS
facts; dev within its budget with every seed service; the README's cost table generated from the plans."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import SettingsError
from policies.ecommerce_guard import pricing
from tests.conftest import settings_for
from tools import cost

TABLE = pricing.PriceTable.load()


def estimate(items: list[pricing.Item], usage: dict[str, Any] | None = None) -> dict[str, Any]:
    return pricing.estimate(items, usage or {"hoursPerMonth": 730})


def item(
    type_: str, name: str, inputs: dict[str, Any], parent: str = "", region: str = "us-east-2"
) -> pricing.Item:
    return pricing.Item(f"urn:pulumi:t::p::{type_}::{name}", type_, name, inputs, parent, region)


def by_name(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in result["resources"] if r["name"] == name)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_planned_resource_is_priced_free_or_included(
    plan: Callable[[str], dict[str, Any]], stack: str
) -> None:
    result = cost.estimate_plan(plan(stack))
    assert not result["unpriced"], result["unpriced"]
    types = {r["type"] for r in plan(stack)["resources"]}
    for t in types:
        known = (
            t in pricing.PRICERS or t in pricing.FREE or any(t.startswith(p) for p in pricing.FREE_PREFIXES)
        )
        assert known, f"{t}: neither priced nor free with a reason"


def test_an_unknown_type_is_listed_as_unpriced_never_as_zero() -> None:
    result = estimate([item("aws:dr/somethingNew:SomethingNew", "dr-x", {})])
    assert [u["type"] for u in result["unpriced"]] == ["aws:dr/somethingNew:SomethingNew"], result
    assert by_name(result, "dr-x")["status"] == "unpriced"


def test_the_dr_regions_copies_are_priced_from_usage() -> None:
    """Room for the DR component: a global database bills replicated write I/Os, a replica secret is a secret of
    its own, S3 replication pays inter-region transfer (us-east-2 <-> us-east-1: $0.01/GB)."""
    usage = {"defaults": {"aws:rds/globalCluster:GlobalCluster": {"replicatedWriteMillions": 10, "replicatedGb": 0},
                          "aws:s3/bucketReplicationConfig:BucketReplicationConfig": {"replicatedGb": 100}}}  # fmt: skip
    result = estimate([
        item("aws:rds/globalCluster:GlobalCluster", "g", {}),
        item("aws:secretsmanager/secret:Secret", "s", {"replicas": [{"region": "us-east-1"}]}),
        item("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "r", {}),
    ], usage)  # fmt: skip
    assert not result["unpriced"], result["unpriced"]
    assert by_name(result, "g")["monthly"] == pytest.approx(10 * 0.20), by_name(result, "g")
    assert by_name(result, "s")["monthly"] == pytest.approx(2 * 0.40), by_name(result, "s")
    assert by_name(result, "r")["monthly"] == pytest.approx(100 * 0.01), by_name(result, "r")


def test_an_instance_class_without_a_price_is_unpriced() -> None:
    result = estimate(
        [item("aws:elasticache/replicationGroup:ReplicationGroup", "r", {"nodeType": "cache.x9.huge"})]
    )
    assert result["unpriced"] and "cache.x9.huge" in result["unpriced"][0]["why"], result["unpriced"]


def test_eks_control_plane_is_ten_cents_an_hour_on_standard_support() -> None:
    """AWS EKS pricing: $0.10 per cluster-hour in standard support."""
    result = estimate([item("eks:index:Cluster", "c", {})])
    assert result["monthly"] == pytest.approx(73.0), result


def test_children_of_a_remote_eks_component_are_priced_once() -> None:
    """A real preview shows pulumi-eks' children too (aws:eks/cluster:Cluster under eks:index:Cluster)."""
    parent = item("eks:index:Cluster", "c", {})
    child = item("aws:eks/cluster:Cluster", "c-eksCluster", {}, parent=parent.urn)
    result = estimate([parent, child])
    assert result["monthly"] == pytest.approx(73.0), result


def test_aurora_at_zero_acu_bills_only_active_hours() -> None:
    """Aurora Serverless v2 auto-pause: no instance capacity is billed while paused (min capacity 0)."""
    cluster = item("aws:rds/cluster:Cluster", "db", {"clusterIdentifier": "x",
                   "serverlessv2ScalingConfiguration": {"minCapacity": 0, "maxCapacity": 4}})  # fmt: skip
    instance = item("aws:rds/clusterInstance:ClusterInstance", "db-1",
                    {"clusterIdentifier": "x", "instanceClass": "db.serverless"})  # fmt: skip
    usage = {
        "defaults": {
            "aws:rds/clusterInstance:ClusterInstance": {"activeHours": 100, "averageAcuWhenActive": 1}
        }
    }
    result = estimate([cluster, instance], usage)
    assert by_name(result, "db-1")["monthly"] == pytest.approx(100 * 1 * 0.12), by_name(result, "db-1")
    cluster.inputs["serverlessv2ScalingConfiguration"]["minCapacity"] = 0.5
    result = estimate([cluster, instance], usage)
    assert by_name(result, "db-1")["monthly"] == pytest.approx((100 + 630 * 0.5) * 0.12), by_name(
        result, "db-1"
    )


def test_interface_endpoints_bill_per_az_and_gateway_endpoints_are_free() -> None:
    """PrivateLink pricing: an interface endpoint is billed per AZ (ENI) hour; gateway endpoints are free."""
    two = item(
        "aws:ec2/vpcEndpoint:VpcEndpoint", "sts", {"vpcEndpointType": "Interface", "subnetIds": ["a", "b"]}
    )
    gw = item("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", {"vpcEndpointType": "Gateway"})
    result = estimate([two, gw])
    assert by_name(result, "sts")["monthly"] == pytest.approx(2 * 730 * 0.01), by_name(result, "sts")
    assert not any(r["name"] == "s3" and r["monthly"] for r in result["resources"]), result


def test_an_internet_facing_alb_pays_for_its_public_ipv4_addresses() -> None:
    """VPC pricing since 2024-02-01: every public IPv4 address is billed $0.005/h, an ALB's too (one per subnet)."""
    alb = {"loadBalancerType": "application", "internal": False, "subnets": ["a", "b"]}
    public = by_name(estimate([item("aws:lb/loadBalancer:LoadBalancer", "alb", alb)]), "alb")
    internal = by_name(
        estimate([item("aws:lb/loadBalancer:LoadBalancer", "alb", {**alb, "internal": True})]), "alb"
    )
    assert public["monthly"] - internal["monthly"] == pytest.approx(2 * 730 * 0.005), (public, internal)


def test_a_free_tier_is_taken_off_once_per_stack_across_regions() -> None:
    """CloudWatch: 3 dashboards a month free per account, whatever the region."""
    boards = [item("aws:cloudwatch/dashboard:Dashboard", f"d{i}", {}, region=r)
              for i, r in enumerate(["us-east-2", "us-east-2", "us-east-1", "us-east-1", "us-east-1"])]  # fmt: skip
    result = estimate(boards)
    assert result["monthly"] == pytest.approx(2 * 3.0), result["freeTier"]


@pytest.mark.parametrize("expression,runs", [("rate(5 minutes)", 8760), ("rate(1 hour)", 730),
                                              ("cron(15 */6 * * ? *)", 121.67), ("cron(0 3 * * ? *)", 30.42)])  # fmt: skip
def test_schedules_become_runs_a_month(expression: str, runs: float) -> None:
    assert pricing._runs_per_month(expression, 730) == pytest.approx(runs, rel=1e-3), expression


def test_every_price_line_is_sourced_dated_and_covers_both_regions() -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", TABLE.data["compiled"]), TABLE.data["compiled"]
    for key, entry in TABLE.prices.items():
        assert entry["source"].startswith("https://aws.amazon.com/"), key
        assert entry["unit"], key
        regions = set(entry["usd"])
        assert regions == {"us-east-2", "us-east-1"} or len(regions) == 1, f"{key}: {sorted(regions)}"
        assert all(v > 0 for v in entry["usd"].values()), key


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_usage_files_name_only_known_types(stack: str) -> None:
    usage = pricing.load_usage(stack)
    assert (pricing.USAGE_DIR / f"{stack}.json").exists(), stack
    for type_ in usage["defaults"]:
        assert type_ in pricing.PRICERS, f"usage/{stack}.json: {type_} has no pricer"


SEED_TYPES = {
    "eks:index:Cluster", "eks:index:ManagedNodeGroup", "aws:rds/cluster:Cluster",
    "aws:elasticache/replicationGroup:ReplicationGroup", "aws:opensearch/domain:Domain", "aws:dynamodb/table:Table",
    "aws:sns/topic:Topic", "aws:sqs/queue:Queue", "aws:cloudfront/distribution:Distribution",
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "aws:glue/job:Job",
}  # fmt: skip


def test_dev_costs_at_most_its_300_dollar_budget_with_every_seed_service(
    plan: Callable[[str], dict[str, Any]],
) -> None:
    p = plan("dev")
    missing = SEED_TYPES - {r["type"] for r in p["resources"]}
    assert not missing, f"dev lacks seed services: {sorted(missing)}"
    nodes = next(r for r in p["resources"] if r["type"] == "eks:index:ManagedNodeGroup")
    assert nodes["inputs"]["instanceTypes"] == ["t3.micro"], nodes["urn"]
    result = cost.estimate_plan(p)
    assert result["monthly"] <= 300, cost.render(result)
    assert float(p["config"]["ecommerce-platform:budget"]) == 300, p["config"].get(
        "ecommerce-platform:budget"
    )


def test_dev_aurora_pauses_at_zero_acu(plan: Callable[[str], dict[str, Any]]) -> None:
    cluster = next(r for r in plan("dev")["resources"] if r["type"] == "aws:rds/cluster:Cluster")
    scaling = cluster["inputs"]["serverlessv2ScalingConfiguration"]
    assert scaling["minCapacity"] == 0 and 300 <= scaling["secondsUntilAutoPause"] <= 86400, cluster["urn"]
    prod = next(r for r in plan("prod")["resources"] if r["type"] == "aws:rds/cluster:Cluster")
    assert "secondsUntilAutoPause" not in (prod["inputs"].get("serverlessv2ScalingConfiguration") or {}), (
        prod["urn"]
    )


def dev_data(**changes: Any) -> dict[str, Any]:
    """dev's data object with some keys changed."""
    config = yaml.safe_load((cost.ROOT / "Pulumi.dev.yaml").read_text(encoding="utf-8"))["config"]
    return {"ecommerce-platform:data": {**config["ecommerce-platform:data"], **changes}}


def test_zero_acu_is_accepted_on_a_supported_version() -> None:
    assert (
        settings_for(
            "dev", dev_data(auroraEngineVersion="16.3", auroraMinCapacity=0)
        ).data.aurora_min_capacity
        == 0
    )


@pytest.mark.parametrize("version", ["16.2", "15.6", "14.11"])
def test_zero_acu_needs_an_engine_version_that_supports_auto_pause(version: str) -> None:
    """Aurora user guide: 0 ACUs (auto-pause) needs Aurora PostgreSQL 16.3+, 15.7+, 14.12+ or 13.15+."""
    with pytest.raises(SettingsError, match=r"data\.auroraMinCapacity: 0 \(auto-pause\) needs"):
        settings_for("dev", dev_data(auroraEngineVersion=version, auroraMinCapacity=0))


def test_auto_pause_seconds_are_within_aws_limits() -> None:
    """pulumi-aws ClusterServerlessv2ScalingConfiguration: seconds_until_auto_pause is 300 through 86400."""
    with pytest.raises(SettingsError, match=r"data\.auroraAutoPauseSeconds"):
        settings_for("dev", dev_data(auroraAutoPauseSeconds=120))


def test_a_negative_budget_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"budget: -1"):
        settings_for("dev", {"ecommerce-platform:budget": -1})


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_usage_driven_price_reads_a_stated_quantity(
    plan: Callable[[str], dict[str, Any]], stack: str
) -> None:
    """A usage line whose quantity the usage file does not state is priced at nothing: the estimate would be
    silently low (as the DR replicas' writes and transfer were). Each must be stated, 0 with a `why` if need be."""
    assert cost.estimate_plan(plan(stack))["unstatedUsage"] == [], f"add these to pricing/usage/{stack}.json"


def test_readme_dr_cost_table_is_current(plan: Callable[[str], dict[str, Any]]) -> None:
    """The README's cost of each dr.mode is prod's plan in that mode, priced against prod with DR off."""
    text = cost.README.read_text(encoding="utf-8")
    fresh = cost.readme_with_table(
        text, cost.readme_dr_table(plan(cost.DR_STACK)), cost.DR_BEGIN, cost.DR_END
    )
    assert fresh == text, "README's DR cost table is stale: run `make docs`"


def test_readme_cost_table_is_current(plan: Callable[[str], dict[str, Any]]) -> None:
    table = cost.readme_table(cost.estimate_plan(plan("dev")), cost.estimate_plan(plan("prod")))
    text = cost.README.read_text(encoding="utf-8")
    assert cost.readme_with_table(text, table) == text, "README's cost table is stale: run `make docs`"


def test_cost_delta_between_two_plans(plan: Callable[[str], dict[str, Any]]) -> None:
    new = plan("dev")
    old = json.loads(json.dumps(new))
    old["resources"] = [r for r in old["resources"] if r["type"] != "aws:opensearch/domain:Domain"]
    d = cost.delta(cost.estimate_plan(old), cost.estimate_plan(new))
    assert d["delta"] == pytest.approx(d["components"]["ecommerce-data"]) and d["delta"] > 20, d


def test_the_breakdown_names_every_component_and_the_total(plan: Callable[[str], dict[str, Any]]) -> None:
    result = cost.estimate_plan(plan("prod"))
    text = cost.render(result)
    for component, total in result["components"].items():
        assert f"{component}" in text and pricing.money(total) in text, component
    assert "Total" in text and pricing.money(result["monthly"]) in text, text[-300:]


def test_offline_diff_with_cost_prints_the_monthly_delta(
    plan: Callable[[str], dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tools.offline.diff import run_diff

    new = plan("dev")
    old = json.loads(json.dumps(new))
    old["resources"] = [
        r for r in old["resources"] if r["type"] != "aws:elasticache/replicationGroup:ReplicationGroup"
    ]
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    assert run_diff(tmp_path / "old.json", tmp_path / "new.json", with_cost=True) == 1
    out = capsys.readouterr().out
    assert "dev: $" in out and "(+$11.68)" in out, out[-400:]


def test_the_tables_drivers_come_from_the_estimates(plan: Callable[[str], dict[str, Any]]) -> None:
    """Not hand-written: the data tier's largest gap is OpenSearch's dedicated masters and m7g data nodes."""
    dev, prod = cost.estimate_plan(plan("dev")), cost.estimate_plan(plan("prod"))
    text = cost.drivers(dev, prod, "ecommerce-data")
    assert text.startswith("search: 1 x t3.small.search") and "dedicated masters m7g.large.search" in text, (
        text
    )
