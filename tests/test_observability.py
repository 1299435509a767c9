"""Observability: the alarm coverage of both plans, the alarm topics, the IRSA and canary roles, the derived
thresholds, the lake's optional alarms, the settings and the generated catalogue table."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from components import alarms as catalogue
from components.config import SettingsError
from components.observability import (
    CANARY_SCRIPT,
    INSIGHTS_NAMESPACE,
    INSIGHTS_SERVICE_ACCOUNT,
    Observability,
    WatchedCluster,
    WatchedData,
    WatchedEdge,
    WatchedLake,
)
from k8s import capacity
from tests.conftest import Resources, settings_for
from tools.offline.engine import build_plan

STACKS = ("dev", "prod")
NS = "ecommerce-platform:"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ACCOUNT = "123456789012"


# --- coverage: every stateful resource and entry point has its catalogue rows --------------------------------------


def watched(records: list[dict[str, Any]]) -> list[tuple[str, dict[str, str], str]]:
    """(kind, dimensions an alarm must carry, URN) of every resource the catalogue covers, read from a plan."""
    out: list[tuple[str, str, str]] = []
    dims: list[tuple[str, dict[str, str], str]] = []
    instances = [r for r in records if r["type"] == "aws:rds/clusterInstance:ClusterInstance"]
    # Container Insights' metrics exist only for a cluster running its add-on (the warm standby's runs none).
    insights_clusters = {
        r["inputs"].get("clusterName")
        for r in records
        if r["type"] == "aws:eks/addon:Addon"
        and r["inputs"].get("addonName") == "amazon-cloudwatch-observability"
    }
    regions = {
        f"{p['urn']}::{p['id']}": p["inputs"].get("region")
        for p in records
        if p["type"] == "pulumi:providers:aws"
    }
    stack_region = next(p["inputs"].get("region") for p in records if p["type"] == "pulumi:providers:aws"
                        and p["name"] == "aws")  # fmt: skip
    # A Deployment without a fixed replica count is the HPA's (a published image); unpublished ones run 0.
    serving = {r["name"] for r in records if r["type"] == "kubernetes:apps/v1:Deployment"
               and r["inputs"]["spec"].get("replicas") != 0}  # fmt: skip
    for r in records:
        t, i, o, u = r["type"], r["inputs"], r.get("outputs") or {}, r["urn"]
        if t == "aws:dynamodb/table:Table":
            out.append(("dynamodb-table", i["name"], u))
        elif t == "aws:dynamodb/tableReplica:TableReplica":
            # ReplicationLatency: TableName (a table ARN ends in table/<name>) and the replica's region as
            # ReceivingRegion (DynamoDB developer guide, "Monitoring global tables").
            table = i["globalTableArn"].rsplit("table/", 1)[-1]
            dims.append(
                ("dynamodb-replica", {"TableName": table, "ReceivingRegion": regions[r["provider"]]}, u)
            )
        elif t == "aws:s3/bucketReplicationConfig:BucketReplicationConfig":
            # S3 replication metrics are per rule: SourceBucket, DestinationBucket (a name; a bucket ARN is
            # arn:aws:s3:::<name>) and RuleId (S3 User Guide, "S3 Replication metrics in CloudWatch").
            for rule in i["rules"]:
                dims.append(("s3-replication", {"SourceBucket": i["bucket"],
                                                "DestinationBucket": rule["destination"]["bucket"].split(":::")[-1],
                                                "RuleId": rule["id"]}, u))  # fmt: skip
        elif (
            t == "aws:rds/cluster:Cluster"
            and i.get("globalClusterIdentifier")
            and not i.get("masterUsername")
        ):
            # A global database's secondary (no master user of its own): its lag, AuroraGlobalDBRPOLag, is a
            # cluster-level metric published for the secondary in its own region (Aurora user guide).
            dims.append(("aurora-secondary", {"DBClusterIdentifier": i["clusterIdentifier"]}, u))
            # With an instance (warm standby), that instance: a secondary has no writer, so it reports as READER.
            if any(x["inputs"]["clusterIdentifier"] == i["clusterIdentifier"] for x in instances):
                out.append(("aurora-reader", i["clusterIdentifier"], u))
        elif t == "aws:rds/cluster:Cluster":
            mine = [x for x in instances if x["inputs"]["clusterIdentifier"] == i["clusterIdentifier"]]
            out.append(("aurora-writer", i["clusterIdentifier"], u))
            if len(mine) > 1:
                out.append(("aurora-reader", i["clusterIdentifier"], u))
        elif t == "aws:backup/plan:Plan":
            # NumberOfCopyJobsFailed per vault (AWS Backup developer guide, CloudWatch metrics): the source vault
            # of every rule that copies.
            for rule in i["rules"]:
                if rule.get("copyActions"):
                    dims.append(("backup-copy", {"BackupVaultName": rule["targetVaultName"]}, u))
        elif t == "aws:elasticache/replicationGroup:ReplicationGroup":
            out += [("redis-node", m, u) for m in o["memberClusters"]]
        elif t == "aws:opensearch/domain:Domain":
            out.append(("opensearch-domain", i["domainName"], u))
            if i["clusterConfig"].get("dedicatedMasterEnabled"):
                out.append(("opensearch-masters", i["domainName"], u))
        elif t == "aws:sqs/queue:Queue":
            out.append(("sqs-dlq" if i["name"].endswith("-dlq") else "sqs-queue", i["name"], u))
        elif t == "aws:sns/topic:Topic" and "Observability" not in u:
            out.append(("sns-topic", i["name"], u))
        elif t == "aws:lb/loadBalancer:LoadBalancer":
            out.append(("alb", o["arnSuffix"], u))
        elif t == "aws:lb/targetGroup:TargetGroup":
            out.append(("alb-target-group", o["arnSuffix"], u))
            # The warm standby's target group of a service that runs there at rest: its own minimum (1 healthy).
            mesh, svc = r["name"].split("-tg-", 1)
            if regions.get(r["provider"]) != stack_region and f"{mesh}-{svc}-deployment" in serving:
                out.append(("standby-target-group", o["arnSuffix"], u))
        elif t == "aws:cloudfront/distribution:Distribution":
            out.append(("cloudfront", r["id"], u))
        elif t == "aws:wafv2/webAcl:WebAcl" and i.get("scope") == "CLOUDFRONT":
            out.append(("waf-cloudfront", i["name"], u))
        elif t == "aws:ec2/natGateway:NatGateway":
            out.append(("nat-gateway", r["id"], u))
        elif t == "aws:synthetics/canary:Canary":
            out.append(("canary", i["name"], u))
        elif t == "eks:index:Cluster" and i["name"] in insights_clusters:
            out.append(("eks-cluster", i["name"], u))
    return [(k, {catalogue.RESOURCE_DIMENSION[k]: v}, u) for k, v, u in out] + dims


def _alarm_metrics(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    i = alarm["inputs"]
    if i.get("metricQueries"):
        return [
            (q["metric"]["namespace"], q["metric"]["metricName"], q["metric"].get("dimensions") or {})
            for q in i["metricQueries"]
            if q.get("metric")
        ]
    return [(i["namespace"], i["metricName"], i.get("dimensions") or {})]


def required(kind: str, domain_nodes: int) -> list[catalogue.AlarmSpec]:
    # A single-node OpenSearch domain cannot allocate replica shards: its yellow alarm is left out by design.
    return [a for a in catalogue.of_kind(kind) if not (a.id == "search-yellow" and domain_nodes < 2)]


def coverage_gaps(records: list[dict[str, Any]]) -> list[str]:
    """Every (resource, catalogue row) pair without an alarm on that metric of that resource."""
    alarms = [r for r in records if r["type"] == METRIC_ALARM]
    domains = [r for r in records if r["type"] == "aws:opensearch/domain:Domain"]
    nodes = domains[0]["inputs"]["clusterConfig"]["instanceCount"] if domains else 0
    gaps = []
    for kind, want, urn in watched(records):
        for spec in required(kind, nodes):
            found = [
                a
                for a in alarms
                for ns, metric, dims in _alarm_metrics(a)
                if (ns, metric) == (spec.namespace, spec.metric)
                and all(dims.get(k) == v for k, v in want.items())
            ]
            if not found:
                gaps.append(f"{urn}: no alarm {spec.id} ({spec.namespace} {spec.metric}, {want})")
    return gaps


@pytest.mark.parametrize("stack", STACKS)
def test_every_store_and_entry_point_has_its_recommended_alarms(stack: str, resources: Any) -> None:
    res: Resources = resources(stack)
    kinds = {k for k, _, _ in watched(res.records)}
    # The plan really holds each covered kind (so the check below is not vacuous).
    expected = {
        "dynamodb-table",
        "aurora-writer",
        "redis-node",
        "opensearch-domain",
        "sqs-queue",
        "sqs-dlq",
        "sns-topic",
        "alb",
        "alb-target-group",
        "cloudfront",
        "waf-cloudfront",
        "nat-gateway",
        "canary",
    }
    if stack == "prod":
        expected |= {
            "aurora-reader",
            "opensearch-masters",
            "eks-cluster",
            "s3-replication",
            "dynamodb-replica",
            "aurora-secondary",
            "backup-copy",
        }
    assert expected <= kinds, f"{stack}: covered kinds missing from the plan: {sorted(expected - kinds)}"
    gaps = coverage_gaps(res.records)
    assert not gaps, "\n".join(gaps)


def test_removing_one_alarm_fails_the_coverage_check(plan: Callable[[str], dict[str, Any]]) -> None:
    records = copy.deepcopy(plan("prod")["resources"])
    victim = next(
        r
        for r in records
        if r["type"] == METRIC_ALARM and r["name"].endswith("-dynamodb-system-errors-products")
    )
    records.remove(victim)
    gaps = coverage_gaps(records)
    assert len(gaps) == 1 and "dynamodb-system-errors" in gaps[0], gaps


def test_a_store_without_alarms_fails_the_coverage_check(plan: Callable[[str], dict[str, Any]]) -> None:
    records = copy.deepcopy(plan("dev")["resources"])
    table = next(r for r in records if r["type"] == "aws:dynamodb/table:Table")
    extra = copy.deepcopy(table)
    extra["urn"], extra["inputs"]["name"] = extra["urn"] + "-reviews", "ecommerce-dev-reviews"
    records.append(extra)
    gaps = coverage_gaps(records)
    assert {g.split(":", 1)[0] for g in gaps} == {"urn"} and len(gaps) == len(
        catalogue.of_kind("dynamodb-table")
    ), gaps


@pytest.mark.parametrize(
    ("kind", "alarm"), [("dynamodb-replica", "dynamodb-replication-latency-products"),
                        ("s3-replication", "s3-replication-failed-site"),
                        ("aurora-secondary", "aurora-global-rpo-lag-aurora"),
                        ("backup-copy", "backup-copy-failed-aurora")],
)  # fmt: skip
def test_a_replicated_store_without_its_lag_alarm_fails_the_coverage_check(
    plan: Callable[[str], dict[str, Any]], kind: str, alarm: str
) -> None:
    records = copy.deepcopy(plan("prod")["resources"])
    assert not coverage_gaps(records), "prod starts covered"
    victim = next(r for r in records if r["type"] == METRIC_ALARM and r["name"].endswith(f"-{alarm}"))
    records.remove(victim)
    gaps = coverage_gaps(records)
    assert len(gaps) == 1 and alarm.rsplit("-", 1)[0] in gaps[0], gaps
    # An alarm on the right metric but another replica's dimensions does not cover it either.
    wrong = dict.fromkeys(victim["inputs"]["dimensions"], "other")
    records.append(victim | {"inputs": victim["inputs"] | {"dimensions": wrong}})
    assert len(coverage_gaps(records)) == 1, f"{victim['urn']}: wrong dimensions must not count"


def test_replication_alarms_stay_in_the_source_region_where_aws_publishes_them(resources: Any) -> None:
    """OperationsFailedReplication is published in the source bucket's Region (S3 User Guide, "Using S3
    Replication metrics"); ReplicationLatency in the writing Region, per ReceivingRegion (DynamoDB developer guide,
    "Monitoring global tables"): the alarms live in us-east-2, not in the DR region."""
    res: Resources = resources("prod")
    for name in ("s3-replication-failed-site", "s3-replication-failed-lake", "dynamodb-replication-latency-products",
                 "dynamodb-replication-latency-inventory"):  # fmt: skip
        alarm = res.named(f"ecommerce-observability-{name}", METRIC_ALARM)
        assert not alarm["inputs"].get("region"), f"{alarm['urn']}: in the stack's region"
        assert alarm["inputs"]["treatMissingData"] == "notBreaching", alarm["urn"]
    lag = res.named("ecommerce-observability-dynamodb-replication-latency-products", METRIC_ALARM)["inputs"]
    assert lag["dimensions"] == {"TableName": "ecommerce-prod-products", "ReceivingRegion": "us-east-1"}, lag


def test_aurora_lag_alarm_lives_in_the_dr_region_where_aws_publishes_it(resources: Any) -> None:
    """AuroraGlobalDBRPOLag: "available only in secondary AWS Regions" (Aurora user guide, cluster-level metrics),
    per DBClusterIdentifier of the secondary; for Aurora PostgreSQL the metric to watch before a switchover or
    failover (Aurora user guide, "Using switchover or failover"). The alarm is in us-east-1 and notifies the topic
    there; the backup copy alarm counts copy jobs per source vault, in the primary region where they run."""
    res: Resources = resources("prod")
    secondary = res.named("ecommerce-dr-aurora", "aws:rds/cluster:Cluster")
    lag = res.named("ecommerce-observability-aurora-global-rpo-lag-aurora", METRIC_ALARM)
    i = lag["inputs"]
    assert (i["namespace"], i["metricName"], i["region"]) == (
        "AWS/RDS",
        "AuroraGlobalDBRPOLag",
        "us-east-1",
    ), i
    assert i["dimensions"] == {"DBClusterIdentifier": secondary["inputs"]["clusterIdentifier"]}, lag["urn"]
    topic = res.named("ecommerce-observability-global-alarms", "aws:sns/topic:Topic")
    assert i["alarmActions"] == [topic["outputs"]["arn"]], (
        f"{lag['urn']}: a us-east-1 alarm, a us-east-1 topic"
    )
    copy_alarm = res.named("ecommerce-observability-backup-copy-failed-aurora", METRIC_ALARM)["inputs"]
    vault = res.named("ecommerce-dr-primary-backups", "aws:backup/vault:Vault")
    assert copy_alarm["dimensions"] == {"BackupVaultName": vault["inputs"]["name"]}, copy_alarm
    assert not copy_alarm.get("region") and copy_alarm["metricName"] == "NumberOfCopyJobsFailed", copy_alarm


def test_a_dr_region_other_than_us_east_1_gets_its_own_alarm_topic_for_the_aurora_lag() -> None:
    """A CloudWatch alarm notifies an SNS topic of its own region: with drRegion us-west-2 the lag alarm lives there
    (the secondary's region) and a topic (with its key) is made there; nothing of the default layout is renamed."""
    res = Resources(build_plan("prod", {f"{NS}drRegion": "us-west-2"})["resources"])
    lag = res.named("ecommerce-observability-aurora-global-rpo-lag-aurora", METRIC_ALARM)["inputs"]
    topic = res.named("ecommerce-observability-us-west-2-alarms", "aws:sns/topic:Topic")
    assert lag["region"] == topic["inputs"]["region"] == "us-west-2", (lag, topic["urn"])
    assert lag["alarmActions"] == lag["okActions"] == [topic["outputs"]["arn"]], topic["urn"]
    key = res.named("ecommerce-observability-us-west-2-key", "aws:kms/key:Key")
    assert (
        topic["inputs"]["kmsMasterKeyId"] == key["outputs"]["arn"] and key["inputs"]["region"] == "us-west-2"
    )
    assert (
        res.named("ecommerce-observability-global-alarms", "aws:sns/topic:Topic")["inputs"]["region"]
        == "us-east-1"
    )


def test_backup_restore_watches_the_copies_but_has_no_global_database() -> None:
    plan = build_plan("prod", {f"{NS}dr": {"mode": "backup-restore", "replicationTimeControl": False}})
    names = {r["name"] for r in plan["resources"] if r["type"] == METRIC_ALARM}
    assert "ecommerce-observability-backup-copy-failed-aurora" in names, sorted(names)
    assert not [n for n in names if "rpo-lag" in n], sorted(names)
    assert not coverage_gaps(plan["resources"]), coverage_gaps(plan["resources"])


def test_dev_without_dr_has_no_replication_alarms(resources: Any) -> None:
    res: Resources = resources("dev")
    found = [a["urn"] for a in res.of_type(METRIC_ALARM)
             if a["inputs"].get("metricName") in ("OperationsFailedReplication", "ReplicationLatency",
                                                  "AuroraGlobalDBRPOLag", "NumberOfCopyJobsFailed")]  # fmt: skip
    assert not found, f"dr.mode off: {found}"


@pytest.mark.parametrize("stack", STACKS)
def test_every_alarm_sends_alarm_and_ok_to_the_topic_of_its_region(stack: str, resources: Any) -> None:
    res: Resources = resources(stack)
    topics = {
        (t["inputs"].get("region") or "us-east-2"): t["outputs"]["arn"]
        for t in res.of_type("aws:sns/topic:Topic")
        if "Observability" in t["urn"]
    }
    assert set(topics) == {"us-east-2", "us-east-1"}, topics
    alarms = [*res.of_type(METRIC_ALARM), *res.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")]
    assert len(alarms) > 30, len(alarms)
    for a in alarms:
        i = a["inputs"]
        region = i.get("region") or "us-east-2"
        assert i["actionsEnabled"] is True, a["urn"]
        assert i["alarmActions"] == i["okActions"] == [topics[region]], (
            f"{a['urn']}: ALARM and OK to {region}"
        )


@pytest.mark.parametrize("stack", STACKS)
def test_cloudfront_and_waf_alarms_live_in_us_east_1(stack: str, resources: Any) -> None:
    """CloudFront and CloudFront-scope WAF publish metrics only in us-east-1; an alarm elsewhere has no data."""
    for a in resources(stack).of_type(METRIC_ALARM):
        ns = a["inputs"].get("namespace")
        if ns in ("AWS/CloudFront", "AWS/WAFV2"):
            assert a["inputs"].get("region") == "us-east-1", a["urn"]
        elif a["inputs"].get("metricName") == "AuroraGlobalDBRPOLag":
            # published for the global database's secondary, in the DR region only (test above)
            assert a["inputs"].get("region") == "us-east-1", a["urn"]
        elif ns:
            assert "region" not in a["inputs"], f"{a['urn']}: regional metric alarm pinned to another region"


@pytest.mark.parametrize("stack", STACKS)
def test_shop_down_composite_reads_the_entry_point_alarms_of_its_region(stack: str, resources: Any) -> None:
    res: Resources = resources(stack)
    (composite,) = res.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")
    rule = composite["inputs"]["alarmRule"]
    members = {
        a["inputs"]["name"]
        for a in res.of_type(METRIC_ALARM)
        if a["name"].endswith(("-canary-success", "-alb-elb-5xx", "-alb-target-5xx"))
    }
    assert len(members) == 3, members
    assert rule == " OR ".join(f'ALARM("{m}")' for m in sorted(members, key=rule.index)), composite["urn"]
    # A composite alarm's rule reads alarms of its own region only; the us-east-1 CloudFront alarm is not in it.
    assert "cloudfront" not in rule and "region" not in composite["inputs"], composite["urn"]


# --- the topic, its key, the roles -------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_alarm_topics_encrypted_with_a_key_cloudwatch_may_use(stack: str, resources: Any) -> None:
    res: Resources = resources(stack)
    for suffix in ("alarms", "global-alarms"):
        topic = res.named(f"ecommerce-observability-{suffix}", "aws:sns/topic:Topic")
        key_name = (
            "ecommerce-observability-key" if suffix == "alarms" else "ecommerce-observability-global-key"
        )
        key = res.named(key_name, "aws:kms/key:Key")
        assert topic["inputs"]["kmsMasterKeyId"] == key["outputs"]["arn"], topic["urn"]
        assert key["inputs"].get("region") == topic["inputs"].get("region"), (
            f"{key['urn']}: same region as topic"
        )
        (grant,) = [
            s
            for s in json.loads(key["inputs"]["policy"])["Statement"]
            if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
        ]
        assert sorted(grant["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"], key["urn"]
        assert grant["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT, key["urn"]
        region = topic["inputs"].get("region") or "us-east-2"
        pattern = f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:ecommerce-{stack}-*"
        assert grant["Condition"]["ArnLike"]["aws:SourceArn"] == pattern, key["urn"]
        policy = res.named(f"ecommerce-observability-{suffix}", "aws:sns/topicPolicy:TopicPolicy")
        allow, deny = json.loads(policy["inputs"]["policy"])["Statement"]
        assert (
            allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and allow["Action"] == "sns:Publish"
        )
        assert allow["Condition"]["ArnLike"]["aws:SourceArn"] == pattern, policy["urn"]
        assert allow["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT, policy["urn"]
        assert deny["Effect"] == "Deny" and deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"


def test_prod_subscribes_its_on_call_address_to_both_topics(resources: Any) -> None:
    subs = [
        s
        for s in resources("prod").of_type("aws:sns/topicSubscription:TopicSubscription")
        if "Observability" in s["urn"]
    ]
    assert {(s["inputs"]["protocol"], s["inputs"]["endpoint"]) for s in subs} == {
        ("email", "oncall@ecommerce.invalid")
    }
    assert len(subs) == 2, [s["urn"] for s in subs]


def test_container_insights_role_is_its_own_irsa_role_scoped_to_its_log_groups(resources: Any) -> None:
    res: Resources = resources("prod")
    role = res.named("ecommerce-observability-insights", "aws:iam/role:Role")
    node_role = (
        res.named("ecommerce-mesh-node-role", "aws:iam/role:Role")
        if any(r["name"] == "ecommerce-mesh-node-role" for r in res)
        else None
    )
    (addon,) = [
        a
        for a in res.of_type("aws:eks/addon:Addon")
        if a["inputs"]["addonName"] == "amazon-cloudwatch-observability"
    ]
    assert addon["inputs"]["serviceAccountRoleArn"] == role["outputs"]["arn"], addon["urn"]
    assert node_role is None or node_role["outputs"]["arn"] != role["outputs"]["arn"]
    # The add-on waits for the node group: its DaemonSets need nodes (pulumi-eks makes in-cluster add-ons first).
    assert any("ManagedNodeGroup" in d for d in addon["dependencies"]), addon["urn"]
    (st,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
    (sub,) = [v for k, v in st["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    assert sub == f"system:serviceaccount:{INSIGHTS_NAMESPACE}:{INSIGHTS_SERVICE_ACCOUNT}", role["urn"]
    policy = res.named("ecommerce-observability-insights", "aws:iam/rolePolicy:RolePolicy")
    statements = {s["Sid"]: s for s in json.loads(policy["inputs"]["policy"])["Statement"]}
    writes = statements["WriteContainerInsightsLogs"]
    assert all(
        r.startswith(f"arn:aws:logs:us-east-2:{ACCOUNT}:log-group:/aws/containerinsights/ecommerce-prod/")
        for r in writes["Resource"]
    ), policy["urn"]
    for sid, st in statements.items():
        if st["Resource"] == "*" or st["Resource"] == ["*"]:
            assert sid in ("FindLogGroups", "NodeMetadata", "ContainerInsightsMetrics"), (
                f"{policy['urn']}: {sid}"
            )
    groups = [
        g
        for g in res.of_type("aws:cloudwatch/logGroup:LogGroup")
        if "/aws/containerinsights/" in g["inputs"]["name"]
    ]
    assert len(groups) == 4 and all(
        g["inputs"]["retentionInDays"] == 30 and g["inputs"]["kmsKeyId"] for g in groups
    )
    # The control-plane log group stays the ServiceMesh's: one, made before the cluster.
    cp = [
        g for g in res.of_type("aws:cloudwatch/logGroup:LogGroup") if g["inputs"]["name"].endswith("/cluster")
    ]
    assert len(cp) == 1 and "ServiceMesh" in cp[0]["urn"], [g["urn"] for g in cp]


def test_dev_runs_without_container_insights_because_its_agents_do_not_fit(resources: Any) -> None:
    res: Resources = resources("dev")
    assert not [
        a
        for a in res.of_type("aws:eks/addon:Addon")
        if a["inputs"]["addonName"] == "amazon-cloudwatch-observability"
    ]
    with pytest.raises(SettingsError) as err:
        settings_for("dev", {f"{NS}observability": {"containerInsights": True}})
    assert "observability.containerInsights false" in str(err.value) and "650m/378 MiB per node" in str(
        err.value
    )


def test_capacity_counts_the_add_on_daemonsets_on_every_node() -> None:
    off = capacity.node_capacity("t3.medium", False, False)
    on = capacity.node_capacity("t3.medium", False, True)
    assert (off.cpu_m - on.cpu_m, off.memory_mib - on.memory_mib, off.pods - on.pods) == (650, 378, 2)


def test_canary_role_writes_only_its_artifacts_logs_and_metrics(resources: Any) -> None:
    res: Resources = resources("prod")
    canary = res.named("ecommerce-observability-canary", "aws:synthetics/canary:Canary")
    i = canary["inputs"]
    assert "vpcConfig" not in i, f"{canary['urn']}: the canary runs outside the VPC, as a customer"
    assert i["schedule"]["expression"] == "rate(5 minutes)" and len(i["name"]) <= 21, canary["urn"]
    assert i["artifactConfig"]["s3Encryption"]["encryptionMode"] == "SSE_KMS", canary["urn"]
    assert i["runConfig"]["environmentVariables"]["API_PATH"] == "/api/products", canary["urn"]
    policy = res.named("ecommerce-observability-canary", "aws:iam/rolePolicy:RolePolicy")
    statements = {s["Sid"]: s for s in json.loads(policy["inputs"]["policy"])["Statement"]}
    assert set(statements) == {
        "WriteArtifacts",
        "LocateBucket",
        "ListBuckets",
        "EncryptArtifacts",
        "CanaryLogs",
        "CanaryMetrics",
    }, policy["urn"]
    assert statements["WriteArtifacts"]["Action"] == "s3:PutObject" and statements["WriteArtifacts"][
        "Resource"
    ].endswith("/artifacts/*")
    assert (
        statements["CanaryMetrics"]["Condition"]["StringEquals"]["cloudwatch:namespace"]
        == "CloudWatchSynthetics"
    )
    logs = statements["CanaryLogs"]["Resource"]
    assert all(":log-group:/aws/lambda/cwsyn-ecom-prod-shop-" in r for r in logs), policy["urn"]
    bucket = res.named("ecommerce-observability-canary-artifacts", "aws:s3/bucket:Bucket")
    assert bucket["protect"] is True, f"{bucket['urn']}: prod keeps its artifacts bucket"
    res.named(
        "ecommerce-observability-canary-artifacts", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
    )
    assert "Synthetics" in CANARY_SCRIPT and "API_PATH" in CANARY_SCRIPT


def test_dev_canary_runs_every_15_minutes_and_its_alarm_period_follows(resources: Any) -> None:
    res: Resources = resources("dev")
    canary = res.named("ecommerce-observability-canary", "aws:synthetics/canary:Canary")
    assert canary["inputs"]["schedule"]["expression"] == "rate(15 minutes)", canary["urn"]
    alarm = res.named("ecommerce-observability-canary-success", METRIC_ALARM)
    assert alarm["inputs"]["period"] == 900 and alarm["inputs"]["treatMissingData"] == "breaching", alarm[
        "urn"
    ]


# --- thresholds ---------------------------------------------------------------------------------------------------


def test_derived_thresholds_follow_the_prod_sizes(resources: Any) -> None:
    res: Resources = resources("prod")

    def threshold(suffix: str) -> float:
        return float(res.named(f"ecommerce-observability-{suffix}", METRIC_ALARM)["inputs"]["threshold"])

    # db.r7g.large: 16 GiB; Aurora PostgreSQL max_connections = LEAST(DBInstanceClassMemory/9531392, 5000) = 1802.
    assert catalogue.aurora_max_connections("db.r7g.large", 0) == 1802
    assert threshold("aurora-writer-connections") == round(0.9 * 1802)
    assert threshold("aurora-writer-memory") == 0.25 * 16 * 1024**3
    # OpenSearch FreeStorageSpace is in MiB per node; AWS: 25% of each node's storage (50 GiB in prod).
    assert threshold("search-free-storage") == 0.25 * 50 * 1024
    # OpenSearch's own table: JVMMemoryPressure >= 95 for 3 of 3 one-minute periods, ClusterStatus.red >= 1 in 1.
    jvm = res.named("ecommerce-observability-search-jvm-pressure", METRIC_ALARM)["inputs"]
    assert (jvm["threshold"], jvm["period"], jvm["evaluationPeriods"], jvm["statistic"]) == (
        95,
        60,
        3,
        "Maximum",
    )
    red = res.named("ecommerce-observability-search-red", METRIC_ALARM)["inputs"]
    assert (red["comparisonOperator"], red["threshold"], red["evaluationPeriods"]) == (
        "GreaterThanOrEqualToThreshold",
        1,
        1,
    )
    assert red["dimensions"]["ClientId"] == ACCOUNT, "OpenSearch metrics carry the account as ClientId"
    nat = res.named("ecommerce-observability-nat-packets-dropped-a", METRIC_ALARM)["inputs"]
    assert nat["threshold"] == 0.01 and nat["metricQueries"][-1]["expression"] == "100 * m1 / (m2 + m3)"


def test_serverless_memory_and_connections_come_from_max_capacity(resources: Any) -> None:
    res: Resources = resources("dev")
    mem = res.named("ecommerce-observability-aurora-writer-memory", METRIC_ALARM)["inputs"]["threshold"]
    assert mem == 0.25 * 4 * 2 * 1024**3, "Serverless v2: 2 GiB per ACU at auroraMaxCapacity 4"
    assert not [a for a in res.of_type(METRIC_ALARM) if "search-yellow" in a["name"]], "single-node domain"
    assert not [a for a in res.of_type(METRIC_ALARM) if "aurora-reader" in a["name"]], "dev has no reader"


def test_a_stack_overrides_a_threshold_and_a_share() -> None:
    plan = build_plan(
        "dev",
        {f"{NS}observability": {"alarmThresholds": {"redis-memory": 70, "aurora-writer-memory": "0.1"}}},
    )
    alarms = {r["name"]: r for r in plan["resources"] if r["type"] == METRIC_ALARM}
    assert alarms["ecommerce-observability-redis-memory-001"]["inputs"]["threshold"] == 70
    assert alarms["ecommerce-observability-aurora-writer-memory"]["inputs"]["threshold"] == round(
        0.1 * 8 * 1024**3
    )


# --- the lake's alarms, once its outputs are passed ------------------------------------------------------------------


def test_lake_outputs_add_firehose_and_glue_alarms(build: Callable[..., Resources]) -> None:
    def program() -> None:
        settings = settings_for("prod")
        Observability(
            "obs",
            settings,
            nat_gateway_ids=[],
            data=WatchedData(
                "db", pulumi.Output.from_input(["carts-001", "carts-002"]), "search", {}, {}, {}, {}
            ),
            cluster=WatchedCluster(
                "ecommerce-prod",
                pulumi.Output.from_input("ecommerce-prod"),
                "arn:aws:iam::123456789012:oidc-provider/x",
                "x",
                "/aws/eks/ecommerce-prod/cluster",
                "app/alb/1",
                {},
            ),
            edge=WatchedEdge("E1", "acl", "https://shop.example.com"),
            lake=WatchedLake(
                firehose_stream_names={"orders": "ecommerce-prod-orders"},
                glue_job_names={"curate": "ecommerce-prod-curate"},
            ),
        )

    res = build(program, stack="prod")
    firehose = res.named("obs-firehose-delivery-failed-orders", METRIC_ALARM)["inputs"]
    assert firehose["dimensions"] == {"DeliveryStreamName": "ecommerce-prod-orders"}, firehose
    assert (firehose["metricName"], firehose["comparisonOperator"], firehose["threshold"]) == (
        "DeliveryToS3.Success",
        "LessThanThreshold",
        1,
    )
    glue = res.named("obs-glue-job-failed-tasks-curate", METRIC_ALARM)["inputs"]
    assert glue["dimensions"] == {"JobName": "ecommerce-prod-curate", "JobRunId": "ALL", "Type": "count"}, (
        glue
    )
    lake = res.named("obs-lake", "aws:cloudwatch/dashboard:Dashboard")
    assert "glue.driver.aggregate.numFailedTasks" in lake["inputs"]["dashboardBody"], lake["urn"]


# --- dashboards ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_dashboards_one_overview_and_one_per_tier(stack: str, resources: Any) -> None:
    res: Resources = resources(stack)
    boards = {
        d["inputs"]["dashboardName"]: json.loads(d["inputs"]["dashboardBody"])
        for d in res.of_type("aws:cloudwatch/dashboard:Dashboard")
    }
    tiers = {"overview", "edge", "data", "network", "lake"} | ({"cluster"} if stack == "prod" else set())
    assert set(boards) == {f"ecommerce-{stack}-{t}" for t in tiers}, sorted(boards)
    overview = json.dumps(boards[f"ecommerce-{stack}-overview"])
    for metric in (
        "SuccessPercent",
        "HTTPCode_Target_5XX_Count",
        "5xxErrorRate",
        "EngineCPUUtilization",
        "Requests",
        "RequestCount",
        "TargetResponseTime",
    ):
        assert metric in overview, f"overview lacks {metric}"
    cloudfront = [
        w
        for w in boards[f"ecommerce-{stack}-edge"]["widgets"]
        if w["properties"]["metrics"][0][0] == "AWS/CloudFront"
    ]
    assert cloudfront and all(w["properties"]["region"] == "us-east-1" for w in cloudfront)


# --- the catalogue itself -------------------------------------------------------------------------------------------


def test_catalogue_rows_are_well_formed() -> None:
    ids = [a.id for a in catalogue.ALARMS]
    assert len(ids) == len(set(ids)), "alarm ids are unique"
    for a in catalogue.ALARMS:
        assert a.kind in catalogue.KINDS and a.source in catalogue.SOURCES, a.id
        assert 1 <= a.datapoints <= a.evaluation_periods and a.period % 60 == 0, a.id
        assert a.derived in ("", "memory", "volume", "max_connections"), a.id
        assert not a.derived or 0 < a.threshold < 1, f"{a.id}: a derived threshold is a share"
    assert set(catalogue.KINDS) == set(catalogue.RESOURCE_DIMENSION) == {a.kind for a in catalogue.ALARMS}


def test_alarm_doc_is_current() -> None:
    from tools.alarms_table import DOC, document

    assert DOC.read_text() == document(), "docs/alarms.md is stale: run `make docs`"


# --- settings -------------------------------------------------------------------------------------------------------

BAD = [
    ("bad-email", "dev", {"alarmEmails": ["oncall"]}, "observability.alarmEmails[0]", "not an e-mail"),
    ("prod-without-email", "prod", {"alarmEmails": []}, "observability.alarmEmails", "nobody would be told"),
    (
        "http-webhook",
        "dev",
        {"webhookUrls": ["http://chat.example.com/hook"]},
        "observability.webhookUrls[0]",
        "https://",
    ),
    (
        "unknown-alarm",
        "dev",
        {"alarmThresholds": {"cpu": "80"}},
        "observability.alarmThresholds.cpu",
        "unknown alarm id",
    ),
    (
        "threshold-not-number",
        "dev",
        {"alarmThresholds": {"redis-memory": "high"}},
        "observability.alarmThresholds.redis-memory",
        "not a number",
    ),
    (
        "share-out-of-range",
        "dev",
        {"alarmThresholds": {"aurora-writer-memory": "25"}},
        "observability.alarmThresholds.aurora-writer-memory",
        "share (memory)",
    ),
    (
        "negative-threshold",
        "dev",
        {"alarmThresholds": {"redis-memory": "-1"}},
        "observability.alarmThresholds.redis-memory",
        "negative",
    ),
    ("bad-retention", "dev", {"logRetentionDays": 10}, "observability.logRetentionDays", "allowed: 1, 3, 5"),
    (
        "canary-interval",
        "dev",
        {"canaryIntervalMinutes": 0},
        "observability.canaryIntervalMinutes",
        "1 to 60",
    ),
    (
        "canary-retention",
        "dev",
        {"canaryRetentionDays": 500},
        "observability.canaryRetentionDays",
        "1 to 455",
    ),
    (
        "canary-path-outside-api",
        "dev",
        {"canaryApiPath": "/admin"},
        "observability.canaryApiPath",
        "under /api/",
    ),
    (
        "canary-path-traversal",
        "dev",
        {"canaryApiPath": "/api/../admin"},
        "observability.canaryApiPath",
        "plain path",
    ),
    ("unknown-key", "dev", {"alarmEmail": "a@b.c"}, "observability.alarmEmail", "unknown key"),
]


@pytest.mark.parametrize(
    ("stack", "changes", "key", "allowed"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_observability_setting_names_key_and_what_is_allowed(
    stack: str, changes: dict[str, Any], key: str, allowed: str
) -> None:
    bases: dict[str, dict[str, Any]] = {
        "dev": {"containerInsights": False},
        "prod": {"alarmEmails": ["oncall@ecommerce.invalid"]},
    }
    base = bases[stack]
    with pytest.raises(SettingsError) as err:
        settings_for(stack, {f"{NS}observability": {**base, **changes}})
    lines = [line for line in str(err.value).splitlines() if line.strip().startswith(f"- {key}")]
    assert lines and allowed in lines[0], str(err.value)


# --- the warm standby watched (dr.mode warm-standby: tests/test_dr.py's `prod-warm-standby` plan) ------------------


def _standby_plan() -> Resources:
    from tests.test_dr import mode_plan

    return mode_plan("prod-warm-standby")


def _standby_alarms(res: Resources) -> dict[str, dict[str, Any]]:
    return {
        a["inputs"]["name"]: a
        for a in res.of_type(METRIC_ALARM)
        if "ecommerce:observability:StandbyAlarms" in a["urn"]
    }


def test_warm_standby_dr_cluster_alb_cache_nat_and_aurora_instance_have_their_recommended_alarms() -> None:
    """The coverage check over the warm-standby plan: the DR ALB and its target groups, the DR carts cache's nodes,
    the DR VPC's NAT and the Aurora secondary's instance each carry their catalogue rows, with their own dimensions."""
    res = _standby_plan()
    dr_kinds = {k for k, _, u in watched(res.records) if "-dr-" in u or "StandbyRegion" in u}
    assert {
        "alb",
        "alb-target-group",
        "standby-target-group",
        "redis-node",
        "nat-gateway",
        "aurora-reader",
    } <= dr_kinds, sorted(dr_kinds)
    gaps = coverage_gaps(res.records)
    assert not gaps, "\n".join(gaps)
    # Not vacuous: without one DR alarm, the check names the DR resource it leaves unwatched.
    records = copy.deepcopy(res.records)
    victim = next(
        r
        for r in records
        if r["type"] == METRIC_ALARM and r["inputs"]["name"] == "ecommerce-prod-redis-memory-dr-002"
    )
    records.remove(victim)
    (gap,) = coverage_gaps(records)
    assert "redis-memory" in gap and "ecommerce-prod-dr-carts-002" in gap, gap


def test_standby_alarms_live_in_the_dr_region_and_notify_its_topic() -> None:
    """A CloudWatch alarm reads metrics of its own region and notifies a topic of its own region: the standby's ALB,
    cache, NAT and Aurora instance publish in us-east-1, so their alarms are there, on the us-east-1 topic (the
    drRegion is us-east-1: Observability's global topic serves it; no third topic)."""
    res = _standby_plan()
    alarms = _standby_alarms(res)
    assert len(alarms) == 28, sorted(alarms)
    topic = res.named("ecommerce-observability-global-alarms", "aws:sns/topic:Topic")
    assert topic["inputs"]["region"] == "us-east-1", topic["urn"]
    for name, a in alarms.items():
        i = a["inputs"]
        assert name.startswith("ecommerce-prod-") and "-dr" in name, f"{a['urn']}: {name}"
        assert i["region"] == "us-east-1", f"{a['urn']}: in {i.get('region')}"
        assert i["alarmActions"] == i["okActions"] == [topic["outputs"]["arn"]], a["urn"]
    topics = [t["urn"] for t in res.of_type("aws:sns/topic:Topic") if "Observability" in t["urn"]]
    assert len(topics) == 2, topics
    dr_alb = res.named("ecommerce-dr-mesh-alb", "aws:lb/loadBalancer:LoadBalancer")
    five = alarms["ecommerce-prod-alb-elb-5xx-dr"]["inputs"]
    assert five["dimensions"] == {"LoadBalancer": dr_alb["outputs"]["arnSuffix"]}, five
    secondary = res.named("ecommerce-dr-aurora", "aws:rds/cluster:Cluster")["inputs"]["clusterIdentifier"]
    cpu = alarms["ecommerce-prod-aurora-reader-cpu-dr"]["inputs"]
    assert cpu["dimensions"] == {"DBClusterIdentifier": secondary, "Role": "READER"}, cpu
    nat = [
        n for n in res.of_type("aws:ec2/natGateway:NatGateway") if n["name"].startswith("ecommerce-dr-vpc")
    ]
    assert len(nat) == 1, [n["urn"] for n in nat]
    port = alarms["ecommerce-prod-nat-port-allocation-dr-1"]["inputs"]
    assert port["dimensions"] == {"NatGatewayId": nat[0]["id"]}, port


def test_standby_alarms_stay_quiet_while_the_standby_is_healthy_and_idle() -> None:
    """Healthy at rest: one replica per published public service, registered and healthy (HealthyHostCount 1,
    UnHealthyHostCount 0), no traffic (ALB request and error counts are not reported: missing), an idle cache and
    an Aurora instance that reports as READER (the WRITER role has no data until promoted). Every standby alarm
    evaluated on those values stays OK; HealthyHostCount 0 on a published service does fire."""
    res = _standby_plan()
    at_rest = {"HealthyHostCount": 1.0, "UnHealthyHostCount": 0.0, "EngineCPUUtilization": 2.0,
               "DatabaseMemoryUsagePercentage": 1.0, "Evictions": 0.0, "ReplicationLag": 0.0, "ErrorPortAllocation": 0.0,
               "CPUUtilization": 5.0, "FreeableMemory": 12 * 1024**3, "AuroraReplicaLag": 20.0}  # fmt: skip
    ops = {"GreaterThanThreshold": float.__gt__, "GreaterThanOrEqualToThreshold": float.__ge__,
           "LessThanThreshold": float.__lt__, "LessThanOrEqualToThreshold": float.__le__}  # fmt: skip

    def fires(alarm: dict[str, Any], values: dict[str, float]) -> bool:
        i = alarm["inputs"]
        metric = i.get("metricName")
        role = (i.get("dimensions") or {}).get("Role")
        if metric is None or metric not in values or role == "WRITER":
            return i["treatMissingData"] == "breaching"  # no datapoint at all
        return bool(ops[i["comparisonOperator"]](float(values[metric]), float(i["threshold"])))

    alarms = _standby_alarms(res)
    loud = [a["urn"] for a in alarms.values() if fires(a, at_rest)]
    assert not loud, f"alarms that page while the standby is healthy and idle: {loud}"
    healthy = [a for n, a in alarms.items() if n.startswith("ecommerce-prod-standby-no-healthy-targets-dr-")]
    assert sorted(a["inputs"]["name"].rsplit("-dr-", 1)[1] for a in healthy) == [
        "cart",
        "order",
        "product",
    ], "published public services only (cluster.imageTags of the warm-standby plan)"
    for a in healthy:
        assert fires(a, {**at_rest, "HealthyHostCount": 0.0}), f"{a['urn']}: no healthy target must page"
        assert (a["inputs"]["statistic"], a["inputs"]["evaluationPeriods"]) == ("Minimum", 10), a["urn"]
    # An unpublished service runs 0 replicas in both regions: no healthy-target alarm for it, only the unhealthy one.
    assert "ecommerce-prod-standby-no-healthy-targets-dr-payment" not in alarms
    assert "ecommerce-prod-alb-unhealthy-hosts-dr-payment" in alarms


def test_promoted_secondary_is_watched_as_a_writer() -> None:
    """After a switchover or failover the secondary's instance is the global database's writer: the WRITER rows
    on the same cluster (silent until then: treat missing data as not breaching) watch it with the primary's
    derived thresholds (same instance class)."""
    alarms = _standby_alarms(_standby_plan())
    for row in catalogue.of_kind("aurora-writer"):
        a = alarms[f"ecommerce-prod-{row.id}-dr"]["inputs"]
        assert a["dimensions"]["Role"] == "WRITER" and a["treatMissingData"] == "notBreaching", a
    conns = alarms["ecommerce-prod-aurora-writer-connections-dr"]["inputs"]["threshold"]
    assert conns == round(0.9 * catalogue.aurora_max_connections("db.r7g.large", 0)), conns


def test_a_dr_region_other_than_us_east_1_gets_the_standby_alarms_and_their_topic_there() -> None:
    from tests.test_dr import EXTRA, MODES

    _, dr = MODES["prod-warm-standby"]
    overrides: dict[str, Any] = {f"{NS}drRegion": "us-west-2", f"{NS}dr": dr}
    import yaml

    from tools.offline.engine import ROOT

    config = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]
    for area, values in EXTRA["prod-warm-standby"].items():
        overrides[f"{NS}{area}"] = {**config[f"{NS}{area}"], **values}
    res = Resources(build_plan("prod", overrides)["resources"])
    topic = res.named("ecommerce-observability-us-west-2-alarms", "aws:sns/topic:Topic")
    alarms = _standby_alarms(res)
    assert alarms and all(
        a["inputs"]["region"] == "us-west-2" and a["inputs"]["alarmActions"] == [topic["outputs"]["arn"]]
        for a in alarms.values()
    ), sorted(alarms)
    assert not coverage_gaps(res.records), coverage_gaps(res.records)


@pytest.mark.parametrize("stack", STACKS)
def test_no_standby_alarms_without_warm_standby(stack: str, resources: Any) -> None:
    res: Resources = resources(stack)
    found = [r["urn"] for r in res if "StandbyAlarms" in r["urn"]]
    assert not found, found
