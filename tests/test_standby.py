"""Warm standby (`dr.mode` warm-standby): its settings, the DR region's ServiceMesh (the same builders under the DR
provider, scaled down, `-dr` names, the replicated images and stores) and the API's Route 53 failover — asserted on
the warm-standby test plan (tests/test_dr.py's `prod-warm-standby`), and absent from every other mode's plan."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from components.config import SettingsError
from components.config.dr import STANDBY_NODE_MIN_SIZE, standby_settings
from components.config.shared import REGION_AZS
from tests.conftest import Resources, settings_for
from tests.test_dr import EXTRA, NS, mode_plan

CASE = "prod-warm-standby"
MESH = "ecommerce:compute:ServiceMesh"
STANDBY = "ecommerce:dr:StandbyRegion"
FAILOVER = "ecommerce:dr:ApiFailover"
MESSAGING = "ecommerce:dr:StandbyMessaging"
DR_REGION, PRIMARY_REGION = "us-east-1", "us-east-2"


@pytest.fixture(scope="module")
def ws() -> Resources:
    return mode_plan(CASE)


def region_of(r: Resources, x: dict[str, Any]) -> str:
    """The region a resource is created in: its own `region` input, else its provider's."""
    if x["inputs"].get("region"):
        return str(x["inputs"]["region"])
    providers = {p["urn"]: p["inputs"].get("region") for p in r.of_type("pulumi:providers:aws")}
    # `<provider urn>::<provider id>`; a remote component (pulumi-eks) carries its providers map instead
    ref = str(x.get("provider") or (x.get("providers") or {}).get("aws") or "")
    return str(providers.get(ref.rsplit("::", 1)[0], "?"))


def under(r: Resources, urn: str) -> list[dict[str, Any]]:
    """Every resource below `urn`, at any depth."""
    return r.below(urn)


def dr_mesh(r: Resources) -> dict[str, Any]:
    meshes = [m for m in r.of_type(MESH) if STANDBY in m["urn"]]
    assert len(meshes) == 1, (
        f"expected one ServiceMesh under StandbyRegion: {[m['urn'] for m in r.of_type(MESH)]}"
    )
    return meshes[0]


def ws_settings(**dr: Any) -> Any:
    return settings_for("prod", {f"{NS}:dr": {"mode": "warm-standby", **dr}})


# -- settings ----------------------------------------------------------------------------------------------------------

BAD = [
    ("no-domain", "prod", {"mode": "warm-standby"}, {"edge": {"domainName": ""}}, "dr.mode",
     "edge.domainName is empty"),
    ("no-node", "prod", {"mode": "warm-standby", "standbyNodeMinSize": 0}, {}, "dr.standbyNodeMinSize",
     "allowed: 1 to cluster.nodeMaxSize"),
    ("more-than-max", "prod", {"mode": "warm-standby", "standbyNodeMinSize": 7}, {}, "dr.standbyNodeMinSize",
     "allowed: 1 to cluster.nodeMaxSize (6)"),
    ("standard-on-one-node", "prod", {"mode": "warm-standby", "standbyWorkloadProfile": "standard"}, {},
     "dr.standbyNodeMinSize", "does not hold its pods"),
    ("sized-without-standby", "prod", {"mode": "pilot-light", "standbyNodeMinSize": 2}, {},
     "dr.standbyNodeMinSize/dr.standbyWorkloadProfile", "only warm-standby runs"),
    ("unknown-profile", "prod", {"mode": "warm-standby", "standbyWorkloadProfile": "tiny"}, {},
     "dr.standbyWorkloadProfile", "small"),
    ("provisioned-tables", "prod", {"mode": "warm-standby"},
     {"data": {"dynamodbBillingMode": "provisioned", "dynamodbMinCapacity": 5, "dynamodbMaxCapacity": 50}},
     "dr.mode", "on-demand"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("stack", "dr", "areas", "key", "allowed"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_standby_setting_names_the_key_and_what_is_allowed(
    stack: str, dr: dict[str, Any], areas: dict[str, dict[str, Any]], key: str, allowed: str
) -> None:
    from tools.offline.engine import stack_area

    overrides: dict[str, Any] = {f"{NS}:dr": dr}
    for area, values in areas.items():
        overrides[f"{NS}:{area}"] = {**stack_area(stack, area), **values}
    with pytest.raises(SettingsError) as err:
        settings_for(stack, overrides)
    message = str(err.value)
    assert f"  - {key}:" in message, f"message should name {key!r}:\n{message}"
    assert allowed in message, f"message should say {allowed!r}:\n{message}"


def test_standby_view_is_the_dr_region_scaled_down_with_one_nat_and_no_interface_endpoints() -> None:
    s = ws_settings()
    v = standby_settings(s, REGION_AZS[s.dr_region])
    c, n = v.cluster, v.network
    assert (v.region, n.availability_zones) == (DR_REGION, ("us-east-1a", "us-east-1b")), (v.region, n)
    assert (c.node_min_size, c.node_desired_size, c.node_max_size) == (STANDBY_NODE_MIN_SIZE, 1, 6), c
    assert (c.node_instance_type, c.workload_profile, c.system_replicas) == ("t3.medium", "small", 1), c
    assert (n.egress, n.interface_endpoints) == ("single-nat", ()), n
    assert n.private_subnet_cidrs == ("10.1.10.0/24", "10.1.11.0/24"), n


# -- the DR cluster ----------------------------------------------------------------------------------------------------


def test_dr_cluster_runs_in_the_dr_region_under_standby_region(ws: Resources) -> None:
    mesh = dr_mesh(ws)
    inside = under(ws, mesh["urn"])
    regions = Counter(region_of(ws, x) for x in inside if x["type"].startswith("aws:"))
    assert set(regions) == {DR_REGION}, f"{mesh['urn']}: children by region {regions}"
    clusters = [x for x in inside if x["type"] == "eks:index:Cluster"]
    assert len(clusters) == 1, [x["urn"] for x in clusters]
    # pulumi-eks is a remote component: it takes the DR provider through the providers map its parent passes on.
    dr_provider = next(
        p["urn"] for p in ws.of_type("pulumi:providers:aws") if p["inputs"].get("region") == DR_REGION
    )
    for remote in (x for x in inside if x["type"].startswith("eks:index:")):
        given = (remote.get("providers") or {}).get("aws", "")
        assert given.startswith(dr_provider + "::"), f"{remote['urn']}: aws provider {given!r}"


def test_dr_cluster_is_small_named_dr_and_its_api_open_only_to_the_primary_nat(ws: Resources) -> None:
    """CI's CodeBuild runners sit in the primary VPC's private subnets: a private endpoint in another region's VPC
    is out of their reach (no peering), so the DR API's public endpoint admits exactly the primary NAT addresses."""
    inside = under(ws, dr_mesh(ws)["urn"])
    cluster = next(x for x in inside if x["type"] == "eks:index:Cluster")
    nodes = next(x for x in inside if x["type"] == "eks:index:ManagedNodeGroup")
    assert cluster["inputs"]["name"] == "ecommerce-prod-dr", cluster["urn"]
    nat_ips = sorted(f"{n['outputs']['publicIp']}/32" for n in ws.of_type("aws:ec2/natGateway:NatGateway")
                     if region_of(ws, n) == PRIMARY_REGION)  # fmt: skip
    assert len(nat_ips) == 2, nat_ips
    assert cluster["inputs"]["endpointPrivateAccess"] is True, cluster["urn"]
    assert cluster["inputs"]["endpointPublicAccess"] is True, cluster["urn"]
    assert sorted(cluster["inputs"]["publicAccessCidrs"]) == nat_ips, cluster["urn"]
    primary = ws.named("ecommerce-mesh-cluster", "eks:index:Cluster")
    assert primary["inputs"]["endpointPublicAccess"] is False, primary["urn"]
    scaling = nodes["inputs"]["scalingConfig"]
    assert (scaling["minSize"], scaling["desiredSize"], scaling["maxSize"]) == (1, 1, 6), nodes["urn"]
    assert nodes["inputs"]["instanceTypes"] == ["t3.medium"], nodes["urn"]
    assert nodes["inputs"]["nodeGroupName"] == "ecommerce-prod-dr-general", nodes["urn"]


def test_dr_cluster_runs_the_whole_catalogue_from_the_replicated_images(ws: Resources) -> None:
    from k8s.catalogue import CATALOGUE

    inside = under(ws, dr_mesh(ws)["urn"])
    deployments = {x["name"]: x for x in inside if x["type"] == "kubernetes:apps/v1:Deployment"}
    assert sorted(deployments) == sorted(f"ecommerce-dr-mesh-{s.name}-deployment" for s in CATALOGUE), (
        deployments
    )
    for d in deployments.values():
        image = d["inputs"]["spec"]["template"]["spec"]["containers"][0]["image"]
        assert ".dkr.ecr.us-east-1.amazonaws.com/ecommerce-prod/" in image, f"{d['urn']}: {image}"
    # ECR registry replication creates the DR repositories: the standby creates none (nor a pull-through cache).
    ecr = [x["urn"] for x in inside if x["type"].startswith("aws:ecr/")]
    assert not ecr, f"the DR mesh creates ECR resources: {ecr}"
    jobs = [x["urn"] for x in inside if x["type"] == "kubernetes:batch/v1:Job"]
    assert not jobs, f"the Aurora secondary is read-only; no bootstrap Job in the DR cluster: {jobs}"


def test_dr_services_reach_the_dr_replicas_under_the_dr_keys(ws: Resources) -> None:
    """Tables and secrets keep their names; their ARNs are the DR region's (a global table's replica and a secret's
    replica differ from the primary only by region); the keys are the StandbyRegion's."""
    inside = under(ws, dr_mesh(ws)["urn"])
    dr_keys = {k["outputs"]["arn"] for k in ws.of_type("aws:kms/key:Key") if region_of(ws, k) == DR_REGION}
    seen: Counter[str] = Counter()
    for p in (x for x in inside if x["type"] == "aws:iam/rolePolicy:RolePolicy" and "-svc-" in x["name"]):
        for st in json.loads(p["inputs"]["policy"])["Statement"]:
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            for arn in resources:
                service = arn.split(":")[2]
                if service in ("dynamodb", "secretsmanager", "sns", "sqs"):
                    assert arn.split(":")[3] == DR_REGION, f"{p['urn']}: {arn} is not in {DR_REGION}"
                    seen[service] += 1
                if service == "kms" and arn.split(":")[3] == DR_REGION:
                    assert arn in dr_keys, f"{p['urn']}: {arn} is not a DR key"
                    seen["kms"] += 1
    assert seen["dynamodb"] >= 3 and seen["secretsmanager"] >= 2 and seen["kms"] >= 3, seen
    # order, payment (order-events) and user-auth (notifications) publish; notification consumes its two queues.
    assert seen["sns"] >= 3 and seen["sqs"] >= 2, seen
    # The DR mesh must not rewrite the primary OpenSearch domain's policy (its search service has no domain).
    policies = [x["urn"] for x in inside if x["type"] == "aws:opensearch/domainPolicy:DomainPolicy"]
    assert not policies, policies


def test_dr_cart_service_uses_the_standby_carts_cache_and_its_own_auth_secret(ws: Resources) -> None:
    """Carts are not replicated (a Global Datastore needs large M/R nodes on both sides): the DR cart service gets
    the DR VPC's own cache, empty at failover, and that cache's AUTH secret (not the primary token's replica)."""
    group = ws.named("ecommerce-dr-carts-redis", "aws:elasticache/replicationGroup:ReplicationGroup")
    i = group["inputs"]
    assert region_of(ws, group) == DR_REGION, group["urn"]
    assert (i["nodeType"], i["numCacheClusters"], i["automaticFailoverEnabled"], i["multiAzEnabled"]) == (
        "cache.t4g.small", 2, True, True), group["urn"]  # fmt: skip
    dr_db_sg = ws.named("ecommerce-dr-vpc-database-sg", "aws:ec2/securityGroup:SecurityGroup")
    assert i["securityGroupIds"] == [dr_db_sg["outputs"]["id"]], group["urn"]
    assert i["transitEncryptionEnabled"] is True and i["atRestEncryptionEnabled"] is True, group["urn"]
    secret = ws.named("ecommerce-dr-carts-auth", "aws:secretsmanager/secret:Secret")
    primary_secret = ws.named("ecommerce-data-redis-auth", "aws:secretsmanager/secret:Secret")
    assert secret["inputs"]["name"] != primary_secret["inputs"]["name"], secret["urn"]
    config = ws.named("ecommerce-dr-mesh-cart-config", "kubernetes:core/v1:ConfigMap")
    data = config["inputs"]["data"]
    assert data["REDIS_HOST"] == group["outputs"]["primaryEndpointAddress"], config["urn"]
    assert data["REDIS_AUTH_SECRET_ARN"] == secret["outputs"]["arn"], config["urn"]
    policy = json.loads(
        ws.named("ecommerce-dr-mesh-svc-cart", "aws:iam/rolePolicy:RolePolicy")["inputs"]["policy"]
    )
    read = next(st for st in policy["Statement"] if st["Sid"] == "ReadOwnSecrets")
    assert read["Resource"] == secret["outputs"]["arn"], policy


def test_no_account_or_region_name_collides_between_the_primary_and_the_standby(ws: Resources) -> None:
    """IAM names are global to the account; clusters, ALBs, target groups, key aliases and alarm names are global
    to a region. Two resources with one name would fail the second create (or fight over one object)."""
    global_names = {
        "aws:iam/role:Role": "name",
        "aws:iam/instanceProfile:InstanceProfile": "name",
        "aws:iam/policy:Policy": "name",
    }
    regional_names = {
        "eks:index:Cluster": "name",
        "eks:index:ManagedNodeGroup": "nodeGroupName",
        "aws:lb/loadBalancer:LoadBalancer": "name",
        "aws:lb/targetGroup:TargetGroup": "name",
        "aws:kms/alias:Alias": "name",
        "aws:cloudwatch/metricAlarm:MetricAlarm": "name",
        "aws:cloudwatch/logGroup:LogGroup": "name",
        "aws:acm/certificate:Certificate": "domainName",
        "aws:secretsmanager/secret:Secret": "name",
        "aws:elasticache/replicationGroup:ReplicationGroup": "replicationGroupId",
        # SNS topic and SQS queue names are unique per account and region (CreateTopic, CreateQueue).
        "aws:sns/topic:Topic": "name",
        "aws:sqs/queue:Queue": "name",
    }
    clashes = []
    for typ, field in global_names.items():
        names = Counter(x["inputs"].get(field) for x in ws.of_type(typ) if x["inputs"].get(field))
        clashes += [(typ, n) for n, c in names.items() if c > 1]
    for typ, field in regional_names.items():
        names = Counter(
            (region_of(ws, x), x["inputs"].get(field)) for x in ws.of_type(typ) if x["inputs"].get(field)
        )
        clashes += [(typ, n) for n, c in names.items() if c > 1]
    records = Counter(
        (x["inputs"]["name"], x["inputs"]["type"], x["inputs"].get("setIdentifier"))
        for x in ws.of_type("aws:route53/record:Record")
        if isinstance(x["inputs"].get("name"), str)
    )
    clashes += [("aws:route53/record:Record", n) for n, c in records.items() if c > 1]
    assert not clashes, f"names used twice in the warm-standby plan: {clashes}"
    roles = [x["inputs"].get("name") for x in ws.of_type("aws:iam/role:Role")]
    assert "ecommerce-prod-dr-EKSNodeRole" in roles and "ecommerce-prod-EKSNodeRole" in roles, roles


def test_dr_alb_serves_origin_with_its_own_certificate_validated_by_the_primary_record(ws: Resources) -> None:
    """ACM certificates are regional, and the DNS validation token works in every region (ACM user guide, "DNS
    validation"): the DR certificate for origin.<domain> validates with the primary's record, written once."""
    inside = under(ws, dr_mesh(ws)["urn"])
    cert = next(x for x in inside if x["type"] == "aws:acm/certificate:Certificate")
    assert cert["inputs"]["domainName"] == "origin.shop.example.com", cert["urn"]
    validation = next(x for x in inside if x["type"] == "aws:acm/certificateValidation:CertificateValidation")
    primary_record = ws.named("ecommerce-mesh-origin-cert-validation", "aws:route53/record:Record")
    assert validation["inputs"]["validationRecordFqdns"] == [primary_record["outputs"]["fqdn"]], validation[
        "urn"
    ]
    written = [
        x["urn"] for x in ws.of_type("aws:route53/record:Record") if "origin-cert-validation" in x["name"]
    ]
    assert written == [primary_record["urn"]], f"one validation record for origin.<domain>: {written}"


def test_dr_alb_requires_the_primary_origin_header(ws: Resources) -> None:
    """CloudFront sends one X-Origin-Verify value to whichever ALB origin.<domain> resolves to."""

    def header_values(mesh_urn: str) -> set[str]:
        rules = [x for x in under(ws, mesh_urn) if x["type"] == "aws:lb/listenerRule:ListenerRule"]
        assert rules, mesh_urn
        return {
            json.dumps(c["httpHeader"]["values"])
            for x in rules
            for c in x["inputs"]["conditions"]
            if c.get("httpHeader")
        }

    primary = ws.named("ecommerce-mesh", MESH)["urn"]
    assert header_values(dr_mesh(ws)["urn"]) == header_values(primary), (
        "the DR ALB expects another origin header"
    )
    dr_passwords = [
        x["urn"]
        for x in under(ws, dr_mesh(ws)["urn"])
        if x["type"] == "random:index/randomPassword:RandomPassword"
    ]
    assert not dr_passwords, dr_passwords


def test_warm_standby_dr_vpc_has_one_nat_and_no_interface_endpoints(ws: Resources) -> None:
    standby = ws.of_type(STANDBY)[0]
    inside = under(ws, standby["urn"])
    nats = [x["urn"] for x in inside if x["type"] == "aws:ec2/natGateway:NatGateway"]
    assert len(nats) == 1, f"warm standby needs egress (Stripe, public charts): {nats}"
    interface = [
        x["urn"] for x in inside
        if x["type"] == "aws:ec2/vpcEndpoint:VpcEndpoint" and x["inputs"].get("vpcEndpointType") == "Interface"
    ]  # fmt: skip
    assert not interface, f"the NAT carries the standby's AWS API calls: {interface}"


# -- the API's failover ------------------------------------------------------------------------------------------------


def test_origin_is_a_route53_failover_pair_primary_alb_then_dr_alb(ws: Resources) -> None:
    records = {x["inputs"]["setIdentifier"]: x for x in ws.of_type("aws:route53/record:Record")
               if x["inputs"].get("name") == "origin.shop.example.com"}  # fmt: skip
    assert sorted(records) == ["primary", "secondary"], list(records)
    primary, secondary = records["primary"], records["secondary"]
    assert primary["inputs"]["failoverRoutingPolicies"] == [{"type": "PRIMARY"}], primary["urn"]
    assert secondary["inputs"]["failoverRoutingPolicies"] == [{"type": "SECONDARY"}], secondary["urn"]
    primary_alb = ws.named("ecommerce-mesh-alb", "aws:lb/loadBalancer:LoadBalancer")
    dr_alb = ws.named("ecommerce-dr-mesh-alb", "aws:lb/loadBalancer:LoadBalancer")
    assert primary["inputs"]["aliases"][0]["name"] == primary_alb["outputs"]["dnsName"], primary["urn"]
    assert secondary["inputs"]["aliases"][0]["name"] == dr_alb["outputs"]["dnsName"], secondary["urn"]
    check = ws.named("ecommerce-dr-api-failover-primary", "aws:route53/healthCheck:HealthCheck")
    assert primary["inputs"]["healthCheckId"] == check["outputs"]["id"], primary["urn"]
    # Route 53 counts an ALB with an empty target group (an unpublished service) unhealthy when the alias evaluates
    # target health (API reference, AliasTarget.EvaluateTargetHealth): both would read unhealthy and DNS would not
    # move. The calculated check decides alone.
    for record in (primary, secondary):
        assert record["inputs"]["aliases"][0]["evaluateTargetHealth"] is False, record["urn"]
    # The mesh's simple record becomes the primary of the pair: same resource through the alias, deleted first.
    assert primary["aliases"] == [{"spec": {"name": "ecommerce-mesh-origin",
                                            "parentUrn": ws.named("ecommerce-mesh", MESH)["urn"]}}], primary["urn"]  # fmt: skip
    assert primary["deleteBeforeReplace"] is True, primary["urn"]
    simple = [x["urn"] for x in ws.of_type("aws:route53/record:Record") if x["name"].endswith("mesh-origin")]
    assert not simple, f"a simple record beside the failover pair: {simple}"


def test_failover_health_check_reads_the_primary_target_groups_and_a_dead_region_is_unhealthy(
    ws: Resources,
) -> None:
    """CLOUDWATCH_METRIC checks on standard-resolution alarms with a plain statistic (Route 53 API reference,
    "AlarmIdentifier"), INSUFFICIENT_DATA counted Unhealthy, combined by a CALCULATED check over every child."""
    from k8s.catalogue import CATALOGUE

    published = [s.name for s in CATALOGUE if s.name in EXTRA[CASE]["cluster"]["imageTags"]]
    parent = ws.named("ecommerce-dr-api-failover-primary", "aws:route53/healthCheck:HealthCheck")
    assert parent["inputs"]["type"] == "CALCULATED", parent["urn"]
    children = [
        ws.named(f"ecommerce-dr-api-failover-{s}", "aws:route53/healthCheck:HealthCheck") for s in published
    ]
    assert parent["inputs"]["childHealthchecks"] == [c["outputs"]["id"] for c in children], parent["urn"]
    assert parent["inputs"]["childHealthThreshold"] == len(children), parent["urn"]
    for svc, c in zip(published, children, strict=True):
        i = c["inputs"]
        assert (i["type"], i["insufficientDataHealthStatus"], i["cloudwatchAlarmRegion"]) == (
            "CLOUDWATCH_METRIC", "Unhealthy", PRIMARY_REGION), c["urn"]  # fmt: skip
        alarm = ws.named(
            f"ecommerce-dr-api-failover-{svc}-healthy-hosts", "aws:cloudwatch/metricAlarm:MetricAlarm"
        )
        a = alarm["inputs"]
        assert i["cloudwatchAlarmName"] == a["name"], c["urn"]
        assert region_of(ws, alarm) == PRIMARY_REGION, alarm["urn"]
        assert (a["metricName"], a["statistic"], a["period"], a["treatMissingData"]) == (
            "HealthyHostCount", "Minimum", 60, "breaching"), alarm["urn"]  # fmt: skip
        tg = ws.named(f"ecommerce-mesh-tg-{svc}", "aws:lb/targetGroup:TargetGroup")
        assert a["dimensions"]["TargetGroup"] == tg["outputs"]["arnSuffix"], alarm["urn"]


def test_the_api_behaviour_keeps_one_origin_because_origin_groups_refuse_post(ws: Resources) -> None:
    """CloudFront: "AllowedMethods cannot include POST, PUT, PATCH, or DELETE for a cached behavior associated with
    an origin group"; the API moves with DNS (origin.<domain>) instead."""
    cdn = ws.named("ecommerce-edge-cdn", "aws:cloudfront/distribution:Distribution")
    groups = {g["originId"] for g in cdn["inputs"].get("originGroups") or []}
    for b in cdn["inputs"].get("orderedCacheBehaviors") or []:
        if "POST" in b["allowedMethods"]:
            assert b["targetOriginId"] not in groups, (
                f"{cdn['urn']}: {b['pathPattern']} targets an origin group"
            )
    api = next(o for o in cdn["inputs"]["origins"] if o["originId"] == "api-alb")
    assert api["domainName"] == "origin.shop.example.com", cdn["urn"]


@pytest.mark.parametrize("case", ["dev", "prod", "prod-backup-restore", "dev-pilot-light"])
def test_other_modes_hold_no_dr_cluster_and_no_failover_pair(
    case: str, resources: Callable[[str], Resources]
) -> None:
    r = resources(case) if case in ("dev", "prod") else mode_plan(case)
    assert len(r.of_type("eks:index:Cluster")) == 1, [x["urn"] for x in r.of_type("eks:index:Cluster")]
    for typ in (FAILOVER, "ecommerce:dr:StandbyCarts", MESSAGING, "aws:route53/healthCheck:HealthCheck"):
        assert not r.of_type(typ), [x["urn"] for x in r.of_type(typ)]
    failover = [x["urn"] for x in r.of_type("aws:route53/record:Record") if x["inputs"].get("setIdentifier")]
    assert not failover, failover
    nats = [x["urn"] for x in r.of_type("aws:ec2/natGateway:NatGateway") if "ecommerce-dr-vpc" in x["urn"]]
    assert not nats, f"{case}: the DR VPC has a NAT outside warm standby: {nats}"
    # Only warm standby runs services in the DR region, so only it has their topics and queues (the alarm topic
    # Observability keeps in us-east-1 for CloudFront's metrics is not the services').
    dr_messaging = [
        x["urn"] for x in (*r.of_type("aws:sns/topic:Topic"), *r.of_type("aws:sqs/queue:Queue"))
        if region_of(r, x) == DR_REGION and "Observability" not in x["urn"]
    ]  # fmt: skip
    assert not dr_messaging, f"{case}: topics or queues in the DR region outside warm standby: {dr_messaging}"
    if case == "prod":
        # Leaving warm standby, the pair's primary becomes the mesh's simple record again (alias, deleted first).
        simple = r.named("ecommerce-mesh-origin", "aws:route53/record:Record")
        assert "setIdentifier" not in simple["inputs"], simple["urn"]
        was = "urn:pulumi:prod::ecommerce-platform::ecommerce:dr:ApiFailover::ecommerce-dr-api-failover"
        assert simple["aliases"] == [
            {"spec": {"name": "ecommerce-dr-api-failover-primary", "parentUrn": was}}
        ], (simple["urn"], simple["aliases"])
        assert simple["deleteBeforeReplace"] is True, simple["urn"]


def test_every_dr_cluster_role_carries_the_pipeline_boundary(ws: Resources) -> None:
    """The deploy role may create only roles with the permissions boundary: the StandbyRegion's children inherit the
    platform's transformation like the primary's roles."""
    roles = [x for x in under(ws, dr_mesh(ws)["urn"]) if x["type"] == "aws:iam/role:Role"]
    assert len(roles) == 12, [x["urn"] for x in roles]
    missing = [x["urn"] for x in roles if not x["inputs"].get("permissionsBoundary")]
    assert not missing, missing


def test_standby_contract_points_the_database_services_at_the_aurora_secondary() -> None:
    """The seam the data tier's global database fills: the secondary's endpoints and its own resource id (an
    `rds-db:connect` ARN names the cluster it connects to); without one the DR services get no database."""
    from components.standby import StandbyDatabase, StandbyStores, standby_contract
    from tests.mesh_support import fabricated_contract, resolved

    secondary_host = "aurora-dr.cluster-x.us-east-1.rds.amazonaws.com"
    secondary = StandbyDatabase(
        endpoint=pulumi_output(secondary_host),
        reader_endpoint=pulumi_output("aurora-dr.cluster-ro-x.us-east-1.rds.amazonaws.com"),
        cluster_resource_id=pulumi_output("cluster-DRRES"),
    )
    primary = fabricated_contract()
    with_db = standby_contract(primary, StandbyStores(DR_REGION, {}, {}, secondary))
    without = standby_contract(primary, StandbyStores(DR_REGION, {}, {}))
    order = with_db["order"].database
    assert order is not None and primary["order"].database is not None
    assert resolved(order.endpoint) == "aurora-dr.cluster-x.us-east-1.rds.amazonaws.com"
    assert resolved(order.cluster_resource_id) == "cluster-DRRES"
    assert order.db_user == primary["order"].database.db_user
    assert resolved(pulumi_output(with_db["order"].env["DB_HOST"])) == secondary_host
    assert without["order"].database is None and "DB_HOST" not in without["order"].env, without["order"].env
    tables = [resolved(t.arn) for t in with_db["product"].tables]
    assert tables and all(a.split(":")[3] == DR_REGION for a in tables), tables


def pulumi_output(value: Any) -> Any:
    import pulumi

    return pulumi.Output.from_input(value)


# -- the standby's own topics and queues -------------------------------------------------------------------------------


def dr_messaging(r: Resources) -> list[dict[str, Any]]:
    found = r.of_type(MESSAGING)
    assert len(found) == 1, [x["urn"] for x in found]
    assert STANDBY in found[0]["urn"], f"{found[0]['urn']}: not under the StandbyRegion (the DR provider)"
    return under(r, found[0]["urn"])


def primary_messaging(r: Resources) -> list[dict[str, Any]]:
    data = r.of_type("ecommerce:data:DataTier")[0]
    return [x for x in r if x["parent"] == data["urn"] and x["type"].startswith(("aws:sns/", "aws:sqs/"))]


def test_standby_messaging_is_the_data_tiers_shape_in_the_dr_region_under_the_dr_messaging_key(
    ws: Resources,
) -> None:
    """Topics, queues, DLQs, queue policies, redrive-allow policies and subscriptions: the same builder as the
    DataTier's, so the same set of (type, role), each in us-east-1 and encrypted with the DR messaging key."""
    inside, primary = dr_messaging(ws), primary_messaging(ws)
    shape = lambda xs, prefix: sorted((x["type"], x["name"].removeprefix(prefix)) for x in xs)  # noqa: E731
    assert shape(inside, "ecommerce-dr-messaging-") == shape(primary, "ecommerce-data-"), inside
    assert len([x for x in inside if x["type"] == "aws:sqs/queue:Queue"]) == 4, [x["urn"] for x in inside]
    key = ws.named("ecommerce-dr-messaging-key", "aws:kms/key:Key")
    assert region_of(ws, key) == DR_REGION and key["inputs"]["enableKeyRotation"] is True, key["urn"]
    for x in inside:
        assert region_of(ws, x) == DR_REGION, f"{x['urn']}: in {region_of(ws, x)}"
        if x["type"] in ("aws:sns/topic:Topic", "aws:sqs/queue:Queue"):
            assert x["inputs"]["kmsMasterKeyId"] == key["outputs"]["arn"], (
                f"{x['urn']}: not the DR messaging key"
            )
            assert x["inputs"]["name"].startswith("ecommerce-prod-dr-"), x["urn"]
            # Queues hold messages until consumed: protected and retained like the primary's (protectData).
            if x["type"] == "aws:sqs/queue:Queue":
                assert x["protect"] is True and x["retainOnDelete"] is True, x["urn"]
    # SNS delivers into the encrypted queues as itself: the key policy must name it (SQS developer guide,
    # "Amazon SQS key management"), bound to this account.
    policy = json.loads(key["inputs"]["policy"])
    sns = next(st for st in policy["Statement"] if st.get("Sid") == "SnsDeliversToEncryptedQueues")
    why = (
        "SNS delivers to an encrypted queue only with kms:GenerateDataKey and kms:Decrypt on the queue's key"
    )
    assert sns["Principal"] == {"Service": "sns.amazonaws.com"}, f"{key['urn']}: {why}"
    assert sorted(sns["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"], f"{key['urn']}: {why}"
    assert sns["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012", key["urn"]
    alias = ws.named("ecommerce-dr-messaging-key", "aws:kms/alias:Alias")
    assert alias["inputs"]["name"] == "alias/ecommerce-prod-dr-messaging", alias["urn"]


def test_standby_subscriptions_filter_and_redrive_within_the_dr_region(ws: Resources) -> None:
    """Each DR subscription: a DR topic into a DR queue, the primary's filter policy, undeliverable messages to the
    queue's own DR DLQ; each DR queue redrives to its DR DLQ after the primary's receive count and admits only its
    DR topic (aws:SourceArn)."""
    inside = dr_messaging(ws)
    of = lambda t: {x["name"]: x for x in inside if x["type"] == t}  # noqa: E731
    topics, queues = of("aws:sns/topic:Topic"), of("aws:sqs/queue:Queue")
    subs, policies = of("aws:sns/topicSubscription:TopicSubscription"), of("aws:sqs/queuePolicy:QueuePolicy")
    topic_arns = {t["outputs"]["arn"] for t in topics.values()}
    for name, sub in subs.items():
        i, u = sub["inputs"], sub["urn"]
        queue, dlq = queues[name], queues[f"{name}-dlq"]
        primary = ws.named(name.replace("ecommerce-dr-messaging-", "ecommerce-data-"),
                           "aws:sns/topicSubscription:TopicSubscription")  # fmt: skip
        assert i["topic"] in topic_arns and i["endpoint"] == queue["outputs"]["arn"], u
        assert i["filterPolicy"] == primary["inputs"]["filterPolicy"], u
        assert json.loads(i["redrivePolicy"]) == {"deadLetterTargetArn": dlq["outputs"]["arn"]}, u
        assert i["rawMessageDelivery"] is True and i["protocol"] == "sqs", u
        redrive = json.loads(queue["inputs"]["redrivePolicy"])
        primary_queue = ws.named(primary["name"], "aws:sqs/queue:Queue")
        assert redrive == {
            "deadLetterTargetArn": dlq["outputs"]["arn"],
            "maxReceiveCount": json.loads(primary_queue["inputs"]["redrivePolicy"])["maxReceiveCount"],
        }, queue["urn"]
        for q in (queue, dlq):
            doc = json.loads(policies[q["name"]]["inputs"]["policy"])
            allow = next(st for st in doc["Statement"] if st["Effect"] == "Allow")
            assert allow["Condition"]["ArnEquals"]["aws:SourceArn"] == i["topic"], policies[q["name"]]["urn"]
    assert len(subs) == 2, sorted(subs)


def test_dr_services_publish_and_consume_the_standbys_topics_and_queues(ws: Resources) -> None:
    """The DR order service's ConfigMap names the DR order-events topic, the DR notification service's the DR
    queues; their roles may use those and the DR messaging key, not the primary's."""
    inside = dr_messaging(ws)
    topic = next(x for x in inside if x["name"] == "ecommerce-dr-messaging-order-events")
    queues = {x["name"]: x for x in inside if x["type"] == "aws:sqs/queue:Queue"}
    key = ws.named("ecommerce-dr-messaging-key", "aws:kms/key:Key")["outputs"]["arn"]
    primary_key = ws.named("ecommerce-data-messaging-key", "aws:kms/key:Key")["outputs"]["arn"]
    order = ws.named("ecommerce-dr-mesh-order-config", "kubernetes:core/v1:ConfigMap")
    assert order["inputs"]["data"]["ORDER_EVENTS_TOPIC_ARN"] == topic["outputs"]["arn"], order["urn"]
    notification = ws.named("ecommerce-dr-mesh-notification-config", "kubernetes:core/v1:ConfigMap")
    for role in ("notification-order-events", "notification-requests"):
        var = f"{role.upper().replace('-', '_')}_QUEUE_URL"
        want = queues[f"ecommerce-dr-messaging-{role}"]["outputs"]["url"]
        assert notification["inputs"]["data"][var] == want, notification["urn"]
    for svc, sid, wanted in (
        ("order", "PublishOwnTopics", [topic["outputs"]["arn"]]),
        ("notification", "ConsumeOwnQueues",
         sorted(q["outputs"]["arn"] for n, q in queues.items() if not n.endswith("-dlq"))),
    ):  # fmt: skip
        role_policy = ws.named(f"ecommerce-dr-mesh-svc-{svc}", "aws:iam/rolePolicy:RolePolicy")
        doc = json.loads(role_policy["inputs"]["policy"])
        st = next(x for x in doc["Statement"] if x["Sid"] == sid)
        got = sorted(st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]])
        assert got == wanted, (role_policy["urn"], got)
        keys = json.dumps(doc)
        assert key in keys and primary_key not in keys, (
            f"{role_policy['urn']}: not (only) the DR messaging key"
        )
    # No DR ConfigMap carries a primary topic's ARN or queue's URL (a region-wide outage would take those along).
    primary = [
        x["outputs"]["arn" if x["type"] == "aws:sns/topic:Topic" else "url"] for x in primary_messaging(ws)
        if x["type"] in ("aws:sns/topic:Topic", "aws:sqs/queue:Queue")
    ]  # fmt: skip
    assert len(primary) == 6, primary
    for config in (x for x in under(ws, dr_mesh(ws)["urn"]) if x["type"] == "kubernetes:core/v1:ConfigMap"):
        leaked = [v for v in (config["inputs"].get("data") or {}).values() if v in primary]
        assert not leaked, f"{config['urn']}: the primary region's topics/queues {leaked}"


def test_standby_contract_without_dr_messaging_gives_no_topics_queues_or_messaging_key() -> None:
    """`StandbyStores.messaging` None: the DR services publish and consume nothing (no primary-region topic sneaks
    in), and the messaging key goes with them; a DR set that lacks one of the primary's topics is refused by name."""
    from components.contracts import TopicAccess
    from components.standby import StandbyQueues, StandbyStores, standby_contract
    from tests.mesh_support import fabricated_contract, resolved

    primary = fabricated_contract()
    order_key = primary["order"].kms_key_arns[0]
    without = standby_contract(primary, StandbyStores(DR_REGION, {"messaging": order_key}, {}))
    assert without["order"].publishes == () and without["notification"].consumes == (), without["order"]
    assert without["order"].kms_key_arns == (), without["order"].kms_key_arns
    dr_topic = TopicAccess(pulumi_output("arn:aws:sns:us-east-1:123456789012:dr-order-events"),
                           "ORDER_EVENTS_TOPIC_ARN")  # fmt: skip
    with pytest.raises(ValueError, match="NOTIFY_QUEUE_URL"):
        standby_contract(primary, StandbyStores(DR_REGION, {}, {}, messaging=StandbyQueues((dr_topic,), ())))
    dr_queue = type(primary["notification"].consumes[0])(
        pulumi_output("https://sqs.us-east-1.amazonaws.com/123456789012/dr-notify"),
        pulumi_output("arn:aws:sqs:us-east-1:123456789012:dr-notify"),
        "NOTIFY_QUEUE_URL",
    )
    mapped = standby_contract(
        primary, StandbyStores(DR_REGION, {}, {}, messaging=StandbyQueues((dr_topic,), (dr_queue,)))
    )
    assert [resolved(t.arn) for t in mapped["order"].publishes] == [
        "arn:aws:sns:us-east-1:123456789012:dr-order-events"
    ]
    assert [resolved(q.arn) for q in mapped["notification"].consumes] == [
        "arn:aws:sqs:us-east-1:123456789012:dr-notify"
    ]


def test_standby_queues_dlqs_and_topics_have_the_catalogues_alarms_in_the_dr_region(ws: Resources) -> None:
    """A message in a standby DLQ, a stuck DR consumer or a failed DR delivery is a real signal once the shop runs
    there. SQS and SNS publish a queue's and a topic's metrics in its own region, and an alarm notifies a topic of
    its own region: so the alarms live in us-east-1 and notify the alarm topic there."""
    from tests.test_observability import coverage_gaps, watched

    inside = {x["urn"] for x in dr_messaging(ws)}
    kinds = sorted(k for k, _, u in watched(ws.records) if u in inside)
    assert kinds == ["sns-topic"] * 2 + ["sqs-dlq"] * 2 + ["sqs-queue"] * 2, kinds
    gaps = [g for g in coverage_gaps(ws.records) if g.split(": no alarm")[0] in inside]
    assert not gaps, "\n".join(gaps)
    topics = {
        t["outputs"]["arn"]: t for t in ws.of_type("aws:sns/topic:Topic") if "Observability" in t["urn"]
    }
    alarms = [
        a for a in ws.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if str((a["inputs"].get("dimensions") or {}).get("QueueName", "")).startswith("ecommerce-prod-dr-")
        or str((a["inputs"].get("dimensions") or {}).get("TopicName", "")).startswith("ecommerce-prod-dr-")
    ]  # fmt: skip
    assert len(alarms) == 6, [a["urn"] for a in alarms]
    for a in alarms:
        assert region_of(ws, a) == DR_REGION, f"{a['urn']}: in {region_of(ws, a)}"
        for arn in (*a["inputs"]["alarmActions"], *a["inputs"]["okActions"]):
            assert arn in topics and region_of(ws, topics[arn]) == DR_REGION, f"{a['urn']}: notifies {arn}"
