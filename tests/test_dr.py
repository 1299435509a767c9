"""DisasterRecovery: the `dr.*` settings, and each mode's plan — a test stack config per mode (dev's `off`, prod's
`pilot-light`, prod with `backup-restore`, dev with `pilot-light`) — asserted resource by resource: what lands in
the DR region, under which provider and key, and how each store replicates."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from components.config import SettingsError
from components.naming import default_tags
from tests.conftest import Resources, settings_for
from tools.offline.engine import ROOT, build_plan, stack_area

NS = "ecommerce-platform"
DR = "ecommerce:dr:DisasterRecovery"
STANDBY = "ecommerce:dr:StandbyRegion"
DR_REGION = "us-east-1"

#: The test stack configs beyond the two stack files: (stack file, dr.* overrides).
MODES: dict[str, tuple[str, dict[str, Any]]] = {
    "prod-backup-restore": ("prod", {"mode": "backup-restore", "replicationTimeControl": False}),
    "dev-pilot-light": ("dev", {"mode": "pilot-light", "kmsDeletionWindowDays": 7}),
    "prod-warm-standby": ("prod", {"mode": "warm-standby", "replicationTimeControl": True}),
}
#: Extra stack config per test case (beyond `dr`), merged into the stack file's area: dev's Aurora pauses at 0 ACUs,
#: which a global database's primary never does (settings refuse it), so 0.5; the warm standby's plan with published
#: images, so the failover's health check (one per published public service) is in it.
EXTRA: dict[str, dict[str, Any]] = {
    "dev-pilot-light": {"data": {"auroraMinCapacity": 0.5}},
    "prod-warm-standby": {
        "cluster": {"imageTags": {"product": "0123abc", "cart": "0123abc", "order": "0123abc"}}
    },
}
_PLANS: dict[str, dict[str, Any]] = {}


def mode_plan(case: str) -> Resources:
    return Resources(raw_mode_plan(case)["resources"])


def raw_mode_plan(case: str) -> dict[str, Any]:
    if case not in _PLANS:
        stack, dr = MODES[case]
        overrides: dict[str, Any] = {f"{NS}:dr": dr}
        for area, values in EXTRA.get(case, {}).items():
            overrides[f"{NS}:{area}"] = {**stack_area(stack, area), **values}
        _PLANS[case] = build_plan(stack, overrides)
    return _PLANS[case]


def dr_children(r: Resources) -> list[dict[str, Any]]:
    """Every resource under the DisasterRecovery or the StandbyRegion component (the DR region), at any depth."""
    comps = r.of_type(DR)
    assert len(comps) == 1, f"expected one DisasterRecovery, found {[c['urn'] for c in comps]}"
    return r.below(comps[0]["urn"], *(s["urn"] for s in r.of_type(STANDBY)))


def dr_provider(r: Resources) -> dict[str, Any]:
    providers = [p for p in r.of_type("pulumi:providers:aws") if p["inputs"].get("region") == DR_REGION]
    assert len(providers) == 1, f"expected one {DR_REGION} provider, found {[p['urn'] for p in providers]}"
    return providers[0]


def provider_ref(p: dict[str, Any]) -> str:
    return f"{p['urn']}::{p['id']}"


def one(r: Resources, typ: str, name: str) -> dict[str, Any]:
    return r.named(name, typ)


# -- settings ----------------------------------------------------------------------------------------------------------

BAD = [
    ("unknown-mode", "dev", {"mode": "active-active"}, "dr.mode",
     "allowed: off, backup-restore, pilot-light, warm-standby"),
    ("rtc-without-dr", "dev", {"mode": "off", "replicationTimeControl": True}, "dr.replicationTimeControl",
     "needs|there is no replication"),
    ("kms-window-too-short", "prod", {"kmsDeletionWindowDays": 3}, "dr.kmsDeletionWindowDays", "7 to 30 days"),
    ("pilot-light-provisioned-tables", "prod", {"mode": "pilot-light"}, "dr.mode", "on-demand"),
    ("backup-retention-zero", "prod", {"backupRetentionDays": 0}, "dr.backupRetentionDays", "1 to 35 days"),
    ("unknown-dr-key", "prod", {"vpcCidrs": "10.1.0.0/16"}, "dr.vpcCidrs", "unknown key"),
    ("dr-vpc-overlaps-primary", "prod", {"vpcCidr": "10.0.0.0/16"}, "dr.vpcCidr",
     "overlaps network.vpcCidr 10.0.0.0/16"),
    ("dr-vpc-overlaps-primary-partly", "dev", {"vpcCidr": "10.0.0.0/8"}, "dr.vpcCidr", "overlaps network.vpcCidr"),
    ("dr-vpc-public", "prod", {"vpcCidr": "8.8.0.0/16"}, "dr.vpcCidr", "private (RFC 1918)"),
    ("dr-vpc-other-size", "prod", {"vpcCidr": "10.1.0.0/20"}, "dr.vpcCidr", "must be a /16 like network.vpcCidr"),
    ("dr-vpc-not-a-cidr", "prod", {"vpcCidr": "10.1.0.0/33"}, "dr.vpcCidr", "not an IPv4 CIDR"),
]  # fmt: skip


@pytest.mark.parametrize(("stack", "dr", "key", "allowed"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_dr_setting_names_the_key_and_what_is_allowed(stack: str, dr: dict[str, Any], key: str,
                                                          allowed: str) -> None:  # fmt: skip
    overrides: dict[str, Any] = {f"{NS}:dr": dr}
    if "provisioned" in key or dr.get("mode") == "pilot-light":
        overrides[f"{NS}:data"] = {**stack_area(stack, "data"), "dynamodbBillingMode": "provisioned", "dynamodbMinCapacity": 5,
                                   "dynamodbMaxCapacity": 50}  # fmt: skip
    with pytest.raises(SettingsError) as err:
        settings_for(stack, overrides)
    message = str(err.value)
    assert f"  - {key}:" in message, f"message should name {key!r}:\n{message}"
    assert any(a in message for a in allowed.split("|")), f"message should say {allowed!r}:\n{message}"


#: What an Aurora global database (pilot-light, warm-standby) asks of the primary's settings: (case, data.*
#: overrides, key, what the message says).
BAD_GLOBAL = [
    # "An Aurora global database requires DB instance classes that are optimized for memory-intensive applications"
    # (Aurora user guide, global database configuration requirements): no burstable class.
    ("burstable-class", {"auroraInstanceClass": "db.t4g.medium"}, "data.auroraInstanceClass",
     "memory-optimised class"),
    ("burstable-t3", {"auroraInstanceClass": "db.t3.medium"}, "data.auroraInstanceClass", "dr.mode"),
    # Aurora never auto-pauses the Serverless v2 writer of a global database's primary (Aurora user guide,
    # "Situations where Aurora Serverless v2 doesn't auto-pause").
    ("auto-pause", {"auroraInstanceClass": "db.serverless", "auroraMinCapacity": 0}, "data.auroraMinCapacity",
     "never pauses"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "key", "says"), [b[1:] for b in BAD_GLOBAL], ids=[b[0] for b in BAD_GLOBAL])
def test_a_global_database_refuses_what_aurora_global_databases_do_not_support(
    data: dict[str, Any], key: str, says: str
) -> None:
    overrides = {f"{NS}:data": {**stack_area("prod", "data"), **data}}
    with pytest.raises(SettingsError) as err:
        settings_for("prod", overrides)
    message = str(err.value)
    assert f"  - {key}:" in message and says in message and "dr.mode" in message, message


@pytest.mark.parametrize(
    "klass", ["db.serverless", "db.r7g.large", "db.r6i.xlarge", "db.x2g.large", "db.r8g.large"]
)
def test_a_global_database_takes_serverless_v2_and_memory_optimised_classes(klass: str) -> None:
    data = {**stack_area("prod", "data"), "auroraInstanceClass": klass, "auroraMinCapacity": 0.5}
    assert settings_for("prod", {f"{NS}:data": data}).data.aurora_instance_class == klass


def test_backup_restore_keeps_burstable_classes_and_auto_pause() -> None:
    """Without a global database nothing changes: dev's burstable or pausing Aurora may copy its backups."""
    data = {**stack_area("dev", "data"), "auroraInstanceClass": "db.t4g.medium"}
    s = settings_for("dev", {f"{NS}:dr": {"mode": "backup-restore"}, f"{NS}:data": data})
    assert (s.dr.aurora_global, s.data.aurora_instance_class) == (False, "db.t4g.medium"), s.dr


def test_stack_modes_dev_off_prod_pilot_light_with_rtc() -> None:
    dev, prod = settings_for("dev").dr, settings_for("prod").dr
    assert (dev.mode, dev.enabled) == ("off", False), dev
    assert (prod.mode, prod.replication_time_control, prod.live_table_replicas) == (
        "pilot-light",
        True,
        True,
    ), prod


# -- dev: off ----------------------------------------------------------------------------------------------------------


def test_dev_off_holds_nothing_in_the_dr_region(resources: Callable[[str], Resources]) -> None:
    """`off`: no DR component, no DR-region provider, no replication anywhere; the only us-east-1 resources are the
    edge's and observability's (CloudFront's certificate, WAF and their logs live there by AWS's rule)."""
    r = resources("dev")
    assert not r.of_type(DR), [c["urn"] for c in r.of_type(DR)]
    east = [p["urn"] for p in r.of_type("pulumi:providers:aws") if p["inputs"].get("region") == DR_REGION]
    assert east == [], f"dev has a {DR_REGION} provider: {east}"
    for typ in ("aws:dynamodb/tableReplica:TableReplica", "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
                "aws:ecr/replicationConfiguration:ReplicationConfiguration"):  # fmt: skip
        assert not r.of_type(typ), [x["urn"] for x in r.of_type(typ)]
    in_east = [x for x in r if x["inputs"].get("region") == DR_REGION]
    owners = {x["urn"].split("::")[2].split("$")[0] for x in in_east}
    assert owners <= {"ecommerce:edge:CdnEdge", "ecommerce:observability:Observability"}, owners


# -- prod: pilot-light -------------------------------------------------------------------------------------------------


def test_dr_provider_is_the_dr_region_with_the_stack_default_tags(
    resources: Callable[[str], Resources],
) -> None:
    r = resources("prod")
    p = dr_provider(r)
    tags = json.loads(p["inputs"]["defaultTags"])["tags"]
    assert tags == default_tags(settings_for("prod")), f"{p['urn']}: default tags {tags}"


def test_every_dr_region_resource_uses_the_dr_provider(resources: Callable[[str], Resources]) -> None:
    """Children of StandbyRegion inherit its only provider: each is created in us-east-1."""
    r = resources("prod")
    ref = provider_ref(dr_provider(r))
    standby = r.of_type(STANDBY)
    assert len(standby) == 1 and standby[0]["providers"] == {"aws": ref}, [s["urn"] for s in standby]
    custom = [x for x in dr_children(r) if x["custom"] and x["parent"] == standby[0]["urn"]]
    assert len(custom) >= 20, [x["urn"] for x in custom]
    for x in custom:
        assert x["provider"] == ref, f"{x['urn']}: provider {x['provider']}, expected {ref}"


def test_pilot_light_dr_vpc_repeats_the_primary_shape_in_us_east_1(
    resources: Callable[[str], Resources],
) -> None:
    """The DR VPC (EcommerceVpc under StandbyRegion): every resource on the us-east-1 provider, subnets in two
    us-east-1 AZs at the primary's offsets inside dr.vpcCidr, the endpoints of us-east-1, no NAT until failover."""
    r = resources("prod")
    ref = provider_ref(dr_provider(r))
    (vpc_component,) = [
        c for c in r.of_type("ecommerce:network:EcommerceVpc") if c["name"] == "ecommerce-dr-vpc"
    ]
    members = r.below(vpc_component["urn"])
    custom = [x for x in members if x["custom"]]
    assert len(custom) >= 30, [x["urn"] for x in custom]
    for x in custom:
        if not x["type"].startswith("aws:iam/"):  # IAM is global; its provider is still the DR one
            assert x["provider"] == ref, f"{x['urn']}: provider {x['provider']}, expected {ref}"
    vpc = next(x for x in custom if x["type"] == "aws:ec2/vpc:Vpc")
    assert vpc["inputs"]["cidrBlock"] == "10.1.0.0/16", vpc["urn"]
    subnets = {x["name"]: x["inputs"] for x in custom if x["type"] == "aws:ec2/subnet:Subnet"}
    assert {n: (i["availabilityZone"], i["cidrBlock"]) for n, i in subnets.items()} == {
        "ecommerce-dr-vpc-public-a": ("us-east-1a", "10.1.1.0/24"),
        "ecommerce-dr-vpc-public-b": ("us-east-1b", "10.1.2.0/24"),
        "ecommerce-dr-vpc-private-a": ("us-east-1a", "10.1.10.0/24"),
        "ecommerce-dr-vpc-private-b": ("us-east-1b", "10.1.11.0/24"),
    }, subnets
    endpoints = [x for x in custom if x["type"] == "aws:ec2/vpcEndpoint:VpcEndpoint"]
    # Only the free gateway endpoints while idle: an interface endpoint bills every ENI-hour (config/dr.py).
    assert sorted(e["inputs"]["serviceName"] for e in endpoints) == [
        "com.amazonaws.us-east-1.dynamodb",
        "com.amazonaws.us-east-1.s3",
    ], [e["inputs"]["serviceName"] for e in endpoints]
    assert all(e["inputs"]["vpcEndpointType"] == "Gateway" for e in endpoints), endpoints
    groups = {x["name"] for x in custom if x["type"] == "aws:ec2/securityGroup:SecurityGroup"}
    assert {f"ecommerce-dr-vpc-{g}-sg" for g in ("alb", "nodes", "database", "endpoints")} <= groups, groups
    assert not [x["urn"] for x in custom if x["type"] == "aws:ec2/natGateway:NatGateway"], (
        "no NAT until failover"
    )


def test_only_pilot_light_builds_the_dr_vpc(resources: Callable[[str], Resources]) -> None:
    for plan, case in ((resources("dev"), "dev (off)"), (mode_plan("prod-backup-restore"), "backup-restore")):
        vpcs = [v["urn"] for v in plan.of_type("aws:ec2/vpc:Vpc")]
        assert len(vpcs) == 1 and "ecommerce-dr" not in vpcs[0], f"{case}: {vpcs}"
    assert len(mode_plan("dev-pilot-light").of_type("aws:ec2/vpc:Vpc")) == 2, "dev pilot-light has the DR VPC"


def test_replication_configs_stay_with_the_primary_provider(resources: Callable[[str], Resources]) -> None:
    """S3 keeps a bucket's replication configuration with the source bucket, ECR its registry's with the source."""
    r = resources("prod")
    for typ in ("aws:s3/bucketReplicationConfig:BucketReplicationConfig",
                "aws:ecr/replicationConfiguration:ReplicationConfiguration"):  # fmt: skip
        for x in r.of_type(typ):
            assert x["provider"].split("::")[-2] == "aws", f"{x['urn']}: provider {x['provider']}"


def test_dynamodb_replicas_have_their_own_key_pitr_and_deletion_protection(
    resources: Callable[[str], Resources],
) -> None:
    r = resources("prod")
    key = one(r, "aws:kms/key:Key", "ecommerce-dr-tables-key")
    tables = {t["inputs"]["name"]: t for t in r.of_type("aws:dynamodb/table:Table")}
    replicas = r.of_type("aws:dynamodb/tableReplica:TableReplica")
    assert sorted(x["name"] for x in replicas) == [
        "ecommerce-dr-inventory-replica",
        "ecommerce-dr-products-replica",
    ]
    for x in replicas:
        i = x["inputs"]
        assert i["kmsKeyArn"] == key["outputs"]["arn"], f"{x['urn']}: kmsKeyArn {i['kmsKeyArn']}"
        assert i["pointInTimeRecovery"] is True and i["deletionProtectionEnabled"] is True, f"{x['urn']}: {i}"
        assert x["protect"] and x["retainOnDelete"], f"{x['urn']}: not protected"
        source = i["globalTableArn"].rsplit("/", 1)[-1]
        table = tables[source]
        # Global tables (2019.11.21) replicate through the stream, which must carry both images.
        assert (
            table["inputs"]["streamEnabled"] and table["inputs"]["streamViewType"] == "NEW_AND_OLD_IMAGES"
        ), f"{table['urn']}: global tables need a NEW_AND_OLD_IMAGES stream"
        # pulumi-aws `dynamodb.TableReplica`: the table must ignore `replicas`, or the next `up` removes the replica.
        assert "replicas" in table["ignoreChanges"], f"{table['urn']}: ignoreChanges {table['ignoreChanges']}"


def test_dr_keys_are_customer_keys_with_rotation_in_the_dr_region(
    resources: Callable[[str], Resources],
) -> None:
    r = resources("prod")
    ref = provider_ref(dr_provider(r))
    for role in ("objects", "tables", "images"):
        key = one(r, "aws:kms/key:Key", f"ecommerce-dr-{role}-key")
        assert key["provider"] == ref and key["inputs"]["enableKeyRotation"] is True, key["urn"]
        assert key["inputs"]["deletionWindowInDays"] == 30 and key["protect"], key["urn"]
        assert ":us-east-1:" in key["outputs"]["arn"], f"{key['urn']}: ARN {key['outputs']['arn']}"


def test_site_and_lake_replicate_with_replica_key_rtc_and_delete_markers(
    resources: Callable[[str], Resources],
) -> None:
    r = resources("prod")
    key = one(r, "aws:kms/key:Key", "ecommerce-dr-objects-key")["outputs"]["arn"]
    role = one(r, "aws:iam/role:Role", "ecommerce-dr-s3-replication")
    sources = {"site": one(r, "aws:s3/bucket:Bucket", "ecommerce-edge-site"),
               "lake": one(r, "aws:s3/bucket:Bucket", "ecommerce-lake-bucket")}  # fmt: skip
    for name, source in sources.items():
        config = one(
            r, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", f"ecommerce-dr-{name}-replication"
        )
        replica = one(r, "aws:s3/bucket:Bucket", f"ecommerce-dr-{name}-replica")
        i = config["inputs"]
        assert i["bucket"] == source["outputs"]["bucket"] and i["role"] == role["outputs"]["arn"], config[
            "urn"
        ]
        (rule,) = i["rules"]
        d = rule["destination"]
        assert d["bucket"] == replica["outputs"]["arn"], f"{config['urn']}: destination {d['bucket']}"
        assert d["encryptionConfiguration"]["replicaKmsKeyId"] == key, f"{config['urn']}: replica key"
        # SSE-KMS objects replicate only when the rule selects them (S3 UG, "Replicating encrypted objects").
        assert rule["sourceSelectionCriteria"]["sseKmsEncryptedObjects"]["status"] == "Enabled", config["urn"]
        assert rule["deleteMarkerReplication"]["status"] == "Enabled" and "filter" in rule, config["urn"]
        # RTC needs metrics; 15 minutes is the only value S3 accepts.
        assert d["replicationTime"] == {"status": "Enabled", "time": {"minutes": 15}}, config["urn"]
        assert d["metrics"] == {"status": "Enabled", "eventThreshold": {"minutes": 15}}, config["urn"]
        # S3 replication needs versioning on both sides, in place before the configuration.
        for bucket in (source, replica):
            v = one(r, "aws:s3/bucketVersioning:BucketVersioning", bucket["name"])
            assert v["inputs"]["versioningConfiguration"]["status"] == "Enabled", v["urn"]
        deps = set(config["dependencies"])
        for bucket in (source, replica):
            versioning = one(r, "aws:s3/bucketVersioning:BucketVersioning", bucket["name"])["urn"]
            assert versioning in deps, f"{config['urn']} must wait for {versioning}"


def test_replication_role_names_each_bucket_and_key(resources: Callable[[str], Resources]) -> None:
    r = resources("prod")
    policy = json.loads(
        one(r, "aws:iam/rolePolicy:RolePolicy", "ecommerce-dr-s3-replication")["inputs"]["policy"]
    )
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert "*" not in json.dumps([s["Resource"] for s in policy["Statement"]]).replace("/*", ""), policy
    site_key = one(r, "aws:kms/key:Key", "ecommerce-edge-site-key")["outputs"]["arn"]
    lake_key = one(r, "aws:kms/key:Key", "ecommerce-lake-key")["outputs"]["arn"]
    assert sorted(by_sid["DecryptSources"]["Resource"]) == sorted([site_key, lake_key]), by_sid[
        "DecryptSources"
    ]
    assert (
        by_sid["EncryptReplicas"]["Condition"]["StringEquals"]["kms:ViaService"]
        == "s3.us-east-1.amazonaws.com"
    )


def test_ecr_replicates_the_service_namespace_into_dr_key_repositories(
    resources: Callable[[str], Resources],
) -> None:
    r = resources("prod")
    config = r.of_type("aws:ecr/replicationConfiguration:ReplicationConfiguration")
    assert len(config) == 1, [c["urn"] for c in config]
    (rule,) = config[0]["inputs"]["replicationConfiguration"]["rules"]
    assert rule["destinations"][0]["region"] == DR_REGION, config[0]["urn"]
    assert rule["repositoryFilters"] == [{"filter": "ecommerce-prod", "filterType": "PREFIX_MATCH"}], rule
    template = one(
        r, "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate", "ecommerce-dr-ecr-replicas"
    )
    key = one(r, "aws:kms/key:Key", "ecommerce-dr-images-key")["outputs"]["arn"]
    i = template["inputs"]
    assert i["appliedFors"] == ["REPLICATION"] and i["prefix"] == "ecommerce-prod", template["urn"]
    assert i["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": key}], template["urn"]
    # KMS in a template needs a role ECR assumes (ECR UG, "Create an IAM role for repository creation templates").
    role = one(r, "aws:iam/role:Role", "ecommerce-dr-ecr-templates")
    assert i["customRoleArn"] == role["outputs"]["arn"], template["urn"]
    assert template["urn"] in config[0]["dependencies"] or any(
        template["urn"] in v for v in config[0]["propertyDependencies"].values()
    ), f"{config[0]['urn']} must wait for {template['urn']}"


# -- the other modes, as test stack configs ------------------------------------------------------------------------------


def test_backup_restore_copies_objects_and_images_but_keeps_no_live_tables() -> None:
    r = mode_plan("prod-backup-restore")
    assert not r.of_type("aws:dynamodb/tableReplica:TableReplica"), (
        "backup-restore keeps no live table replicas"
    )
    configs = r.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    assert sorted(c["name"] for c in configs) == [
        "ecommerce-dr-lake-replication",
        "ecommerce-dr-site-replication",
    ]
    for c in configs:
        destination = c["inputs"]["rules"][0]["destination"]
        assert "replicationTime" not in destination, f"{c['urn']}: RTC is off here"
        # OperationsFailedReplication (the failure alarm's metric) exists only with replication metrics on, which
        # S3 allows without RTC and without an event threshold (S3 User Guide, "Using S3 Replication metrics").
        assert destination["metrics"] == {"status": "Enabled"}, f"{c['urn']}: replication metrics without RTC"
    assert len(r.of_type("aws:ecr/replicationConfiguration:ReplicationConfiguration")) == 1
    dr_provider(r)


def test_dev_pilot_light_replicates_unprotected_with_short_key_window() -> None:
    """dev with DR on: the same replicas, following dev's protectData false (free to tear down)."""
    r = mode_plan("dev-pilot-light")
    replicas = r.of_type("aws:dynamodb/tableReplica:TableReplica")
    assert len(replicas) == 2, [x["urn"] for x in replicas]
    for x in replicas:
        assert x["inputs"]["deletionProtectionEnabled"] is False and not x["protect"], x["urn"]
    key = one(r, "aws:kms/key:Key", "ecommerce-dr-tables-key")
    assert key["inputs"]["deletionWindowInDays"] == 7, key["urn"]
    assert {c["inputs"]["rules"][0]["id"] for c in r.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
            } == {"to-us-east-1"}  # fmt: skip


# -- failover: CloudFront's origin group -------------------------------------------------------------------------------


def test_site_fails_over_to_its_replica_through_an_origin_group(
    resources: Callable[[str], Resources],
) -> None:
    """The site's behaviour targets an origin group: the primary bucket, then the us-east-1 replica (same OAC);
    CloudFront fails over only for GET/HEAD/OPTIONS, which is all the site's behaviour allows."""
    r = resources("prod")
    cdn = one(r, "aws:cloudfront/distribution:Distribution", "ecommerce-edge-cdn")
    i = cdn["inputs"]
    (group,) = i["originGroups"]
    assert i["defaultCacheBehavior"]["targetOriginId"] == group["originId"], cdn["urn"]
    assert set(i["defaultCacheBehavior"]["allowedMethods"]) <= {"GET", "HEAD", "OPTIONS"}, cdn["urn"]
    assert [m["originId"] for m in group["members"]] == ["site-s3", "site-s3-replica"], group
    # Status codes CloudFront accepts in failover criteria: 400, 403, 404, 416, 500, 502, 503, 504.
    assert set(group["failoverCriteria"]["statusCodes"]) <= {400, 403, 404, 416, 500, 502, 503, 504}, group
    origins = {o["originId"]: o for o in i["origins"]}
    replica = one(r, "aws:s3/bucket:Bucket", "ecommerce-dr-site-replica")
    expected = f"{replica['inputs']['bucket']}.s3.{DR_REGION}.amazonaws.com"
    assert origins["site-s3-replica"]["domainName"] == expected, origins["site-s3-replica"]
    assert origins["site-s3-replica"]["originAccessControlId"] == origins["site-s3"]["originAccessControlId"]


def test_the_site_replica_lets_only_that_distribution_read_and_decrypt(
    resources: Callable[[str], Resources],
) -> None:
    r = resources("prod")
    arn = one(r, "aws:cloudfront/distribution:Distribution", "ecommerce-edge-cdn")["outputs"]["arn"]
    policy = json.loads(
        one(r, "aws:s3/bucketPolicy:BucketPolicy", "ecommerce-dr-site-replica")["inputs"]["policy"]
    )
    read = next(s for s in policy["Statement"] if s.get("Sid") == "CloudFrontReadsThroughOac")
    assert read["Condition"]["StringEquals"]["AWS:SourceArn"] == arn, read
    key = json.loads(one(r, "aws:kms/key:Key", "ecommerce-dr-objects-key")["inputs"]["policy"])
    decrypt = next(s for s in key["Statement"] if s.get("Sid") == "CloudFrontDecryptsTheSiteReplica")
    assert decrypt["Condition"]["StringEquals"]["AWS:SourceArn"] == arn and decrypt["Action"] == "kms:Decrypt"
    lake = json.loads(
        one(r, "aws:s3/bucketPolicy:BucketPolicy", "ecommerce-dr-lake-replica")["inputs"]["policy"]
    )
    assert all("cloudfront" not in json.dumps(s) for s in lake["Statement"]), (
        "the lake replica is not an origin"
    )


def test_dev_off_keeps_the_single_site_origin(resources: Callable[[str], Resources]) -> None:
    cdn = one(resources("dev"), "aws:cloudfront/distribution:Distribution", "ecommerce-edge-cdn")
    assert not cdn["inputs"].get("originGroups"), cdn["urn"]
    assert cdn["inputs"]["defaultCacheBehavior"]["targetOriginId"] == "site-s3", cdn["urn"]


def test_the_runbook_names_only_what_the_plans_have(plan: Callable[[str], dict[str, Any]]) -> None:
    """Every resource name in docs/disaster-recovery.md's commands and steps is in the prod plan or, for the
    warm-standby parts, the warm-standby test plan; its "Warm standby" section names only that plan's resources."""
    import re

    from tools.offline.engine import ROOT
    from tools.offline.mocks import ACCOUNT_ID

    text = (ROOT / "docs" / "disaster-recovery.md").read_text()
    text = text.replace("$ACCOUNT", ACCOUNT_ID).replace("<account>", ACCOUNT_ID)

    def names(part: str) -> set[str]:
        found = set(
            re.findall(
                r"ecommerce-prod-[a-z0-9-]*[a-z0-9]|ecommerce-(?:dr|edge|data)-[a-z0-9-]*[a-z0-9]", part
            )
        )
        found |= set(re.findall(r"`(site-failover|to-us-east-1)`", part))
        return found - {
            "ecommerce-prod-dr"
        }  # pilot light's failover stack (step 5), warm standby's cluster name

    standby_section = re.search(r"\n## Warm standby.*?(?=\n## )", text, re.S)
    assert standby_section, "docs/disaster-recovery.md has no 'Warm standby' section"
    prod, standby = json.dumps(plan("prod")), json.dumps(raw_mode_plan("prod-warm-standby"))
    everywhere = names(text)
    missing = sorted(n for n in everywhere if n not in prod and n not in standby)
    assert len(everywhere) >= 8 and not missing, f"runbook names in neither plan: {missing} (of {everywhere})"
    in_standby = names(standby_section.group(0))
    missing = sorted(n for n in in_standby if n not in standby)
    assert len(in_standby) >= 5 and not missing, f"warm-standby runbook names absent from its plan: {missing}"


def test_aurora_is_snapshotted_daily_and_copied_to_a_dr_vault_under_the_dr_key(
    resources: Callable[[str], Resources],
) -> None:
    """Until the global database: AWS Backup snapshots the cluster and copies it to us-east-1 (RPO one day)."""
    r = resources("prod")
    ref = provider_ref(dr_provider(r))
    cluster = one(r, "aws:rds/cluster:Cluster", "ecommerce-data-aurora")
    dr_vault = one(r, "aws:backup/vault:Vault", "ecommerce-dr-backups")
    key = one(r, "aws:kms/key:Key", "ecommerce-dr-backups-key")
    assert dr_vault["provider"] == ref and dr_vault["inputs"]["kmsKeyArn"] == key["outputs"]["arn"], dr_vault[
        "urn"
    ]
    assert dr_vault["protect"], f"{dr_vault['urn']}: the DR copies must be protected in prod"
    primary = one(r, "aws:backup/vault:Vault", "ecommerce-dr-primary-backups")
    assert primary["provider"].split("::")[-2] == "aws", f"{primary['urn']} belongs to the primary region"
    (rule,) = one(r, "aws:backup/plan:Plan", "ecommerce-dr-aurora")["inputs"]["rules"]
    assert rule["targetVaultName"] == primary["inputs"]["name"] and rule["schedule"] == "cron(0 5 * * ? *)", (
        rule
    )
    assert rule["copyActions"] == [{"destinationVaultArn": dr_vault["outputs"]["arn"],
                                    "lifecycle": {"deleteAfter": 14}}], rule  # fmt: skip
    selection = one(r, "aws:backup/selection:Selection", "ecommerce-dr-aurora")
    assert selection["inputs"]["resources"] == [cluster["outputs"]["arn"]], selection["urn"]
    role = one(r, "aws:iam/role:Role", "ecommerce-dr-backup")
    assert selection["inputs"]["iamRoleArn"] == role["outputs"]["arn"], selection["urn"]
    trust = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "backup.amazonaws.com"}, role["urn"]


def test_the_deploy_role_may_manage_backup_and_pass_the_dr_roles(
    resources: Callable[[str], Resources],
) -> None:
    """`pulumi up` from CI creates the vaults (through backup-storage), the plan and selection, and passes the S3
    replication, ECR template and AWS Backup roles to their services."""
    r = resources("prod")
    doc = json.loads(one(r, "aws:iam/rolePolicy:RolePolicy", "ecommerce-delivery-deploy")["inputs"]["policy"])
    text = json.dumps(doc)
    for needle in ('"backup:*"', '"backup-storage:*"', '"s3.amazonaws.com"', '"ecr.amazonaws.com"',
                   '"backup.amazonaws.com"', '"replication.dynamodb.amazonaws.com"'):  # fmt: skip
        assert needle in text, f"ecommerce-delivery-deploy lacks {needle}"


@pytest.mark.parametrize("case", sorted(MODES))
def test_each_mode_config_passes_the_policy_pack(case: str) -> None:
    """The test stack configs go through the pack like the stack files: no mandatory violation."""
    from tools.offline.policy_run import PolicySession

    plan = raw_mode_plan(case)
    with PolicySession.for_plan(plan) as session:
        report = session.analyze(plan)
    assert not report.mandatory, "\n".join(f"{d.policy}: {d.urn}: {d.message}" for d in report.mandatory)


# -- Aurora: the global database (pilot light and up) -------------------------------------------------------------------

CLUSTER, GLOBAL = "aws:rds/cluster:Cluster", "aws:rds/globalCluster:GlobalCluster"
INSTANCE, SECRET = "aws:rds/clusterInstance:ClusterInstance", "aws:secretsmanager/secret:Secret"


def test_pilot_light_makes_aurora_a_global_database_from_the_existing_cluster(
    resources: Callable[[str], Resources],
) -> None:
    """pulumi-aws `rds.GlobalCluster` docstring, "New Global Cluster From Existing DB Cluster": the global cluster
    names the existing cluster's ARN as `source_db_cluster_identifier` with `force_destroy`, and the cluster ignores
    `globalClusterIdentifier`. Managed through the primary's provider (its source is in us-east-2), after the
    writer exists (AWS adds a region only to a primary with its writer)."""
    r = resources("prod")
    primary = one(r, CLUSTER, "ecommerce-data-aurora")
    (g,) = r.of_type(GLOBAL)
    i = g["inputs"]
    assert i["sourceDbClusterIdentifier"] == primary["outputs"]["arn"] and i["forceDestroy"] is True, g["urn"]
    assert i["globalClusterIdentifier"] == "ecommerce-prod-aurora-global" and i["deletionProtection"], g[
        "urn"
    ]
    assert g["provider"].split("::")[-2] == "aws" and g["protect"], f"{g['urn']}: primary region, protected"
    writer = one(r, INSTANCE, "ecommerce-data-aurora-1")
    assert writer["urn"] in g["dependencies"], f"{g['urn']} must wait for {writer['urn']}"
    assert "globalClusterIdentifier" in primary["ignoreChanges"], primary["urn"]


def test_pilot_light_secondary_is_headless_in_us_east_1_with_its_own_key_and_no_credentials(
    resources: Callable[[str], Resources],
) -> None:
    """The secondary (StandbyRegion's child, so the us-east-1 provider): same engine and running version as the
    primary, no master user, password or database name, `replicationSourceIdentifier` ignored (pulumi-aws
    GlobalCluster docstring) so an `up` does not detach it, encrypted with the DR `databases` key, in the DR VPC's
    private subnets behind its Database SG, IAM auth, TLS only, log exports, protected. Pilot light: headless — no
    instance (Aurora user guide, "Creating a headless Aurora DB cluster in a secondary Region"), storage only."""
    r = resources("prod")
    ref = provider_ref(dr_provider(r))
    primary = one(r, CLUSTER, "ecommerce-data-aurora")
    s = one(r, CLUSTER, "ecommerce-dr-aurora")
    i, u = s["inputs"], s["urn"]
    assert s["provider"] == ref and s["parent"] == r.of_type(STANDBY)[0]["urn"], f"{u}: in us-east-1"
    assert i["globalClusterIdentifier"] == one(r, GLOBAL, "ecommerce-dr-aurora-global")["outputs"]["id"], u
    assert (i["engine"], i["engineVersion"]) == (
        "aurora-postgresql",
        primary["outputs"]["engineVersionActual"],
    ), u
    for absent in ("masterUsername", "masterPassword", "databaseName", "manageMasterUserPassword"):
        assert absent not in i, f"{u}: a secondary has no {absent} of its own"
    assert {"replicationSourceIdentifier", "engineVersion"} <= set(s["ignoreChanges"]), s["ignoreChanges"]
    key = one(r, "aws:kms/key:Key", "ecommerce-dr-databases-key")
    assert i["storageEncrypted"] is True and i["kmsKeyId"] == key["outputs"]["arn"], (
        f"{u}: the DR databases key"
    )
    assert ":us-east-1:" in key["outputs"]["arn"] and key["provider"] == ref, key["urn"]
    group = one(r, "aws:rds/subnetGroup:SubnetGroup", "ecommerce-dr-aurora")
    private = {
        x["id"]
        for x in r.of_type("aws:ec2/subnet:Subnet")
        if x["name"].startswith("ecommerce-dr-vpc-private")
    }
    assert set(group["inputs"]["subnetIds"]) == private and len(private) == 2, group["urn"]
    assert i["dbSubnetGroupName"] == group["outputs"]["name"], u
    assert i["vpcSecurityGroupIds"] == [one(r, "aws:ec2/securityGroup:SecurityGroup",
                                            "ecommerce-dr-vpc-database-sg")["id"]], u  # fmt: skip
    params = one(r, "aws:rds/clusterParameterGroup:ClusterParameterGroup", "ecommerce-dr-aurora")
    assert {p["name"]: p["value"] for p in params["inputs"]["parameters"]}["rds.force_ssl"] == "1", params[
        "urn"
    ]
    assert i["iamDatabaseAuthenticationEnabled"] is True and i["enabledCloudwatchLogsExports"] == [
        "postgresql"
    ], u
    assert (
        i["deletionProtection"] is True and i["skipFinalSnapshot"] is False and i["finalSnapshotIdentifier"]
    ), u
    assert s["protect"] and s["retainOnDelete"], f"{u}: protected like the primary"
    instances = [
        x["urn"] for x in r.of_type(INSTANCE) if x["inputs"]["clusterIdentifier"] == i["clusterIdentifier"]
    ]
    assert instances == [], f"pilot light: a headless secondary, no instance: {instances}"
    logs = one(r, "aws:cloudwatch/logGroup:LogGroup", "ecommerce-dr-aurora-logs")
    assert logs["inputs"]["name"] == f"/aws/rds/cluster/{i['clusterIdentifier']}/postgresql", logs["urn"]
    assert logs["inputs"]["kmsKeyId"] == key["outputs"]["arn"] and logs["urn"] in s["dependencies"], logs[
        "urn"
    ]


def test_the_secondary_has_a_cluster_name_unique_across_regions(
    resources: Callable[[str], Resources],
) -> None:
    """Aurora global database naming requirement: cluster names unique across all AWS Regions."""
    ids = [c["inputs"]["clusterIdentifier"] for c in resources("prod").of_type(CLUSTER)]
    assert len(ids) == len(set(ids)) == 2, ids


def test_secrets_the_services_need_replicate_to_the_dr_region_under_its_secrets_key(
    resources: Callable[[str], Resources],
) -> None:
    """pulumi-aws `secretsmanager.Secret` `replicas` (region, kms_key_id): the Stripe key, the Redis AUTH token and
    the global primary's own master secret replicate under StandbyRegion's `secrets` key. The key's policy lets the
    account (IAM) use it: Secrets Manager encrypts a replica with the caller's kms:GenerateDataKey/kms:Encrypt
    (ReplicateSecretToRegions API reference). The RDS-managed secret (dev) is RDS's and is not replicated."""
    r = resources("prod")
    key = one(r, "aws:kms/key:Key", "ecommerce-dr-secrets-key")
    secrets = {x["name"]: x for x in r.of_type(SECRET)}
    assert {"ecommerce-data-stripe", "ecommerce-data-redis-auth", "ecommerce-data-aurora-master"} <= set(
        secrets
    )
    for name in ("ecommerce-data-stripe", "ecommerce-data-redis-auth", "ecommerce-data-aurora-master"):
        x = secrets[name]
        assert x["inputs"]["replicas"] == [{"region": DR_REGION, "kmsKeyId": key["outputs"]["arn"]}], x["urn"]
    statements = json.loads(key["inputs"]["policy"])["Statement"]
    root = next(s for s in statements if s.get("Sid") == "AccountAdministersKeyThroughIam")
    assert root["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"} and root["Action"] == "kms:*", key[
        "urn"
    ]


def test_backup_restore_keeps_rds_managed_credentials_and_no_global_database() -> None:
    """Backup-restore: no global database (the daily copy is its Aurora DR), so RDS keeps managing the master
    password; the secrets still replicate (the Stripe key cannot be re-issued, and Pulumi's copy of it is
    encrypted with the state's KMS key in the primary region)."""
    r = mode_plan("prod-backup-restore")
    assert not r.of_type(GLOBAL) and [c["name"] for c in r.of_type(CLUSTER)] == ["ecommerce-data-aurora"]
    cluster = one(r, CLUSTER, "ecommerce-data-aurora")
    assert cluster["inputs"]["manageMasterUserPassword"] is True, cluster["urn"]
    assert not [x["urn"] for x in r if x["name"] == "ecommerce-data-aurora-master"], "no own master secret"
    for x in r.of_type(SECRET):
        assert [rep["region"] for rep in x["inputs"]["replicas"]] == [DR_REGION], x["urn"]
    assert one(r, "aws:backup/plan:Plan", "ecommerce-dr-aurora")["inputs"]["rules"][0]["copyActions"], (
        "daily copy"
    )


def test_dev_off_replicates_no_secret_and_has_no_global_database(
    resources: Callable[[str], Resources],
) -> None:
    r = resources("dev")
    assert not r.of_type(GLOBAL), [x["urn"] for x in r.of_type(GLOBAL)]
    for x in r.of_type(SECRET):
        # Absent, not an empty list: `replicas: []` would be an update of every secret of a stack without DR.
        assert "replicas" not in x["inputs"], f"{x['urn']}: dr.mode off replicates nothing"


def test_dev_pilot_light_secondary_follows_dev_unprotected() -> None:
    """dev with pilot light: the same headless secondary, free to tear down (protectData false), and the daily
    copy kept beside it (a global database replicates a bad write; the copy is the point in time to go back to)."""
    r = mode_plan("dev-pilot-light")
    s = one(r, CLUSTER, "ecommerce-dr-aurora")
    assert s["inputs"]["deletionProtection"] is False and s["inputs"]["skipFinalSnapshot"] is True, s["urn"]
    assert not s["protect"], s["urn"]
    assert one(r, GLOBAL, "ecommerce-dr-aurora-global")["inputs"]["deletionProtection"] is False
    assert not [x for x in r.of_type(INSTANCE) if x["name"].startswith("ecommerce-dr-")], "headless"
    assert r.of_type("aws:backup/plan:Plan"), "the daily copy stays in pilot light"
    # Serverless v2 on the secondary: never 0 ACUs (a secondary's instances never auto-pause).
    assert s["inputs"]["serverlessv2ScalingConfiguration"]["minCapacity"] >= 0.5, s["urn"]


@pytest.mark.parametrize(
    ("mode", "instances"), [("backup-restore", 0), ("pilot-light", 0), ("warm-standby", 1)]
)
def test_secondary_instance_count_by_mode(mode: str, instances: int) -> None:
    """Pilot light runs a headless secondary, warm standby one instance of the primary's class."""
    from components.config.dr import DrSettings

    assert DrSettings(mode=mode).aurora_secondary_instances == instances  # type: ignore[arg-type]


def test_warm_standby_builder_gives_the_secondary_one_instance_of_the_primarys_class() -> None:
    """Warm standby is still refused by the settings on this branch: the builder is run directly with prod's
    settings in that mode, under a real StandbyRegion (its DR VPC included)."""
    import dataclasses

    import pulumi

    from components.dr import standby_region
    from components.dr_aurora import ReplicatedCluster, build_aurora_global
    from tools.offline.engine import run_in_mocks

    s = settings_for("prod")
    warm = dataclasses.replace(s, dr=dataclasses.replace(s.dr, mode="warm-standby"))

    def program() -> None:
        standby = standby_region("ecommerce-dr", warm, opts=pulumi.ResourceOptions())
        assert standby is not None
        owner = pulumi.ComponentResource("ecommerce:dr:DisasterRecovery", "ecommerce-dr")
        source = ReplicatedCluster("arn:aws:rds:us-east-2:123456789012:cluster:ecommerce-prod-aurora", "16.13",
                                   "arn:aws:rds:us-east-2:123456789012:db:ecommerce-prod-aurora-1")  # fmt: skip
        built = build_aurora_global(owner, "ecommerce-dr", warm, standby, source)
        assert built.secondary_instance_count == 1

    monitor, _, _ = run_in_mocks(program, stack="prod")
    r = Resources(monitor.records)
    (instance,) = [x for x in r.of_type(INSTANCE) if x["name"].startswith("ecommerce-dr-aurora")]
    i = instance["inputs"]
    assert i["instanceClass"] == s.data.aurora_instance_class == "db.r7g.large", instance["urn"]
    assert i["clusterIdentifier"] == "ecommerce-prod-aurora-us-east-1" and i["publiclyAccessible"] is False
    assert ":us-east-1:" in i["performanceInsightsKmsKeyId"], f"{instance['urn']}: the DR key"
    assert instance["protect"], instance["urn"]


def test_warm_standby_plan_holds_one_secondary_instance_and_the_dr_services_use_it() -> None:
    """Warm standby: the global database's secondary has one instance, the secrets have replicas, and the DR order
    and user-auth services connect to the secondary (its endpoint, and rds-db:connect on its own resource id)."""
    r = mode_plan("prod-warm-standby")
    assert len(r.of_type(GLOBAL)) == 1
    secondary = [x for x in r.of_type(INSTANCE) if x["inputs"]["clusterIdentifier"].endswith("-us-east-1")]
    assert len(secondary) == 1, [x["urn"] for x in secondary]
    assert all(x["inputs"].get("replicas") for x in r.of_type(SECRET) if "-dr" not in x["name"]), (
        "secret replicas"
    )
    dr_cluster = one(r, "aws:rds/cluster:Cluster", "ecommerce-dr-aurora")
    for svc in ("order", "user-auth"):
        config = one(r, "kubernetes:core/v1:ConfigMap", f"ecommerce-dr-mesh-{svc}-config")
        data = config["inputs"]["data"]
        assert data.get("DB_HOST") == dr_cluster["outputs"]["endpoint"], (config["urn"], data.get("DB_HOST"))
        assert data.get("AWS_REGION") == DR_REGION, config["urn"]
    policies = [p for p in r.of_type("aws:iam/rolePolicy:RolePolicy") if "ecommerce-dr-mesh" in p["urn"]]
    resource_id = dr_cluster["outputs"]["clusterResourceId"]
    assert any(
        resource_id in p["inputs"]["policy"] and "rds-db:connect" in p["inputs"]["policy"] for p in policies
    ), "a DR service role may connect to the secondary by its own resource id"


# -- turning DR on: S3 Batch Replication of what the buckets held before; the Aurora restore --------------------------


def _policy_of(r: Resources, name: str) -> list[dict[str, Any]]:
    statements = json.loads(one(r, "aws:iam/rolePolicy:RolePolicy", name)["inputs"]["policy"])["Statement"]
    return [statements] if isinstance(statements, dict) else list(statements)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_batch_replication_role_trusts_only_s3_batch_operations(
    resources: Callable[[str], Resources],
) -> None:
    """S3 User Guide, "Granting permissions for Batch Operations": the role's trust names the service principal
    batchoperations.s3.amazonaws.com (live replication's s3.amazonaws.com cannot run a Batch Operations job)."""
    r = resources("prod")
    role = one(r, "aws:iam/role:Role", "ecommerce-dr-s3-batch-replication")
    (trust,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "batchoperations.s3.amazonaws.com"}, role["urn"]
    assert _listed(trust["Action"]) == ["sts:AssumeRole"] and trust["Effect"] == "Allow", role["urn"]
    assert role["inputs"]["name"] == "ecommerce-prod-dr-s3-batch-replication", role["urn"]
    boundary = one(r, "aws:iam/policy:Policy", "ecommerce-delivery-boundary")["outputs"]["arn"]
    assert role["inputs"].get("permissionsBoundary") == boundary, f"{role['urn']} must carry the boundary"


def test_batch_replication_role_has_exactly_the_user_guides_generated_manifest_permissions(
    resources: Callable[[str], Resources],
) -> None:
    """S3 User Guide, "Configuring an IAM role for S3 Batch Replication" (S3-generated manifest): s3:InitiateReplication
    on the source objects, s3:GetReplicationConfiguration and s3:PutInventoryConfiguration on the source buckets —
    and nothing to write: the manifest is not stored and the job writes no completion report, so no s3:PutObject."""
    r = resources("prod")
    sources = [
        one(r, "aws:s3/bucket:Bucket", n)["outputs"]["arn"]
        for n in ("ecommerce-edge-site", "ecommerce-lake-bucket")
    ]
    statements = _policy_of(r, "ecommerce-dr-s3-batch-replication")
    urn = one(r, "aws:iam/rolePolicy:RolePolicy", "ecommerce-dr-s3-batch-replication")["urn"]
    granted = {(a, res) for st in statements if st["Effect"] == "Allow"
               for a in _listed(st["Action"]) for res in _listed(st["Resource"])}  # fmt: skip
    expected = {("s3:InitiateReplication", f"{s}/*") for s in sources} | {
        (a, s) for s in sources for a in ("s3:GetReplicationConfiguration", "s3:PutInventoryConfiguration")
    }
    assert granted == expected, f"{urn}: {sorted(granted ^ expected)}"
    assert all(st["Effect"] == "Allow" and "Condition" not in st for st in statements), urn


def test_batch_replication_role_is_in_the_dr_output(plan: Callable[[str], dict[str, Any]]) -> None:
    prod = plan("prod")
    role = Resources(prod["resources"]).named("ecommerce-dr-s3-batch-replication", "aws:iam/role:Role")
    assert prod["outputs"]["dr"]["batchReplicationRoleArn"] == role["outputs"]["arn"], role["urn"]


def _bash_blocks(section: str) -> list[str]:
    import re

    return [b.replace("\\\n", " ") for b in re.findall(r"```bash\n(.*?)```", section, re.S)]


def _runbook_section(title: str) -> str:
    import re

    text = (ROOT / "docs" / "disaster-recovery.md").read_text()
    found = re.search(rf"\n### {re.escape(title)}.*?(?=\n### )", text, re.S)
    assert found, f"docs/disaster-recovery.md has no step {title!r}"
    return found.group(0)


def _resolve(text: str, prod: dict[str, Any]) -> str:
    """The runbook's shell values for the prod plan: the account, and `pulumi stack output X -s prod`."""
    import re

    from tools.offline.mocks import ACCOUNT_ID

    text = re.sub(
        r"\$\(pulumi stack output (\w+) -s prod\)", lambda m: str(prod["outputs"][m.group(1)]), text
    )
    return text.replace('"$ACCOUNT"', ACCOUNT_ID).replace("$ACCOUNT", ACCOUNT_ID)


def test_the_runbook_backfills_every_replicated_bucket_before_step_0(
    plan: Callable[[str], dict[str, Any]],
) -> None:
    """S3 User Guide: live replication "doesn't replicate any objects that already existed in your source bucket
    before you created a replication configuration": the runbook's "Turning DR on" runs one S3ReplicateObject job
    per replicated bucket (a manifest generated from the replication configuration, EligibleForReplication, status
    NONE or FAILED) with the plan's batch role — JSON shapes of the S3 Control CreateJob API."""
    import shlex

    text = (ROOT / "docs" / "disaster-recovery.md").read_text()
    assert text.index("### Turning DR on") < text.index("### 0. Check replication"), (
        "the backfill comes first"
    )
    prod = plan("prod")
    r = Resources(prod["resources"])
    (block,) = [b for b in _bash_blocks(_runbook_section("Turning DR on")) if "create-job" in b]
    block = _resolve(block, prod)
    role_line = next(line for line in block.splitlines() if line.startswith("ROLE="))
    role = one(r, "aws:iam/role:Role", "ecommerce-dr-s3-batch-replication")
    assert role_line.split()[0] == f"ROLE={role['outputs']['arn']}", role_line
    loop = next(line for line in block.splitlines() if line.startswith("for BUCKET in"))
    buckets = set(shlex.split(loop.removeprefix("for BUCKET in").split(";")[0]))
    sources = {
        c["inputs"]["bucket"] for c in r.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    }
    assert buckets == sources and len(sources) == 2, f"backfilled {buckets}, replicated {sources}"
    command = block[block.index("aws s3control create-job") :].split(')")')[0]
    args = shlex.split(command.replace("$BUCKET", "SOURCE").replace('"$ROLE"', role["outputs"]["arn"]))
    flag = {args[i]: args[i + 1] for i in range(len(args) - 1) if args[i].startswith("--")}
    assert "--no-confirmation-required" in args and flag["--region"] == "us-east-2", command
    assert json.loads(flag["--operation"]) == {"S3ReplicateObject": {}}, command
    assert json.loads(flag["--report"]) == {"Enabled": False}, command
    assert flag["--role-arn"] == role["outputs"]["arn"] and int(flag["--priority"]) >= 0, command
    generator = json.loads(flag["--manifest-generator"])["S3JobManifestGenerator"]
    assert (
        generator["SourceBucket"] == "arn:aws:s3:::SOURCE" and generator["EnableManifestOutput"] is False
    ), generator
    assert generator["Filter"]["EligibleForReplication"] is True, generator
    assert set(generator["Filter"]["ObjectReplicationStatuses"]) == {"NONE", "FAILED"}, generator
    # The weekly check counts both sides of each pair.
    weekly = _resolve(_runbook_section("0. Check replication before you need it (weekly)"), prod)
    for name in dr_replica_names(r):
        assert name in weekly, f"the weekly count does not look at {name}"


def dr_replica_names(r: Resources) -> list[str]:
    return [one(r, "aws:s3/bucket:Bucket", f"ecommerce-dr-{role}-replica")["inputs"]["bucket"]
            for role in ("site", "lake")]  # fmt: skip


def test_the_backup_role_can_restore_the_dr_copy(resources: Callable[[str], Resources]) -> None:
    """AWS managed-policy reference: AWSBackupServiceRolePolicyForBackup grants no restore;
    AWSBackupServiceRolePolicyForRestores does (rds:RestoreDBClusterFromSnapshot; KMS through rds.* and grants for
    AWS resources). That KMS grant reaches the DR keys only because their key policies delegate to IAM."""
    r = resources("prod")
    role = one(r, "aws:iam/role:Role", "ecommerce-dr-backup")
    attached = {a["inputs"]["policyArn"].rsplit("/", 1)[1]
                for a in r.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if a["inputs"]["role"] == role["outputs"]["name"]}  # fmt: skip
    assert attached == {"AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"}, (
        f"{role['urn']}: {attached}"
    )
    for key_name in ("ecommerce-dr-backups-key", "ecommerce-dr-databases-key"):
        key = one(r, "aws:kms/key:Key", key_name)
        root = [st for st in json.loads(key["inputs"]["policy"])["Statement"]
                if st.get("Principal") == {"AWS": "arn:aws:iam::123456789012:root"}]  # fmt: skip
        assert root and _listed(root[0]["Action"]) == ["kms:*"], (
            f"{key['urn']}: IAM policies could not grant it"
        )


def test_the_runbook_restores_aurora_with_the_restoring_role_and_us_east_1s_own_settings(
    plan: Callable[[str], dict[str, Any]],
) -> None:
    """AWS Backup, "Restoring an Amazon Aurora cluster": StartRestoreJob with ResourceType Aurora, the role that
    may restore, RestoreDBClusterFromSnapshot metadata (DBClusterIdentifier and Engine required); the restore names
    us-east-1's subnet group, security group and DR key instead of the backed-up us-east-2 ones."""
    prod = plan("prod")
    r = Resources(prod["resources"])
    step = _resolve(_runbook_section("4. Aurora and the secrets in us-east-1"), prod)
    (block,) = [b for b in _bash_blocks(step) if "start-restore-job" in b]
    start = block[block.index("aws backup start-restore-job") :]
    assert "--resource-type Aurora" in start and "--metadata file://restore.json" in start, start
    role = one(r, "aws:iam/role:Role", "ecommerce-dr-backup")
    assert f"--iam-role-arn {role['outputs']['arn']}" in start, start
    vault = one(r, "aws:backup/vault:Vault", "ecommerce-dr-backups")["inputs"]["name"]
    assert f"VAULT={vault}" in block and "--by-resource-type Aurora" in block, block
    metadata = block[block.index("jq -n") : block.index("> restore.json")]
    for key in ("DBClusterIdentifier", "Engine: \"aurora-postgresql\"", "EngineVersion", "DBSubnetGroupName",
                "VpcSecurityGroupIds", "KmsKeyId", "EnableIAMDatabaseAuthentication"):  # fmt: skip
        assert key in metadata, f"restore metadata lacks {key}: {metadata}"
    assert "AvailabilityZones" not in metadata and "DBClusterParameterGroupName" not in metadata, metadata
    assert "ecommerce-dr-vpc-database-sg" in block and ".keyArns.databases // .keyArns.backups" in block, (
        block
    )
    assert "create-db-instance" in block[block.index("start-restore-job") :], (
        "AWS Backup restores no instance"
    )
