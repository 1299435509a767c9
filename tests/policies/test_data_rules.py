"""Data-store rules: Aurora, DynamoDB, Redis, OpenSearch."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policies.cases import Case, check
from tests.policies.helpers import UNKNOWN, R, provider, secret

P = provider("prod")
D = provider("dev")
KEY = "arn:aws:kms:us-east-2:123456789012:key/1234abcd"


def cluster(**changes: Any) -> dict[str, Any]:
    inputs = {
        "engine": "aurora-postgresql",
        "clusterIdentifier": "orders",
        "storageEncrypted": True,
        "kmsKeyId": KEY,
        "backupRetentionPeriod": 7,
        "copyTagsToSnapshot": True,
        "deletionProtection": True,
        "skipFinalSnapshot": False,
        "finalSnapshotIdentifier": "orders-final",
        "enabledCloudwatchLogsExports": ["postgresql"],
        "iamDatabaseAuthenticationEnabled": True,
        "dbClusterParameterGroupName": "orders-pg",
        "masterPassword": secret("[secret]"),
    }
    inputs.update(changes)
    for k in [k for k, v in changes.items() if v is None]:
        inputs.pop(k)
    return R("aws:rds/cluster:Cluster", "orders", inputs)


def instance(c: dict[str, Any], name: str, az: str | None, **changes: Any) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "clusterIdentifier": "orders",
        "instanceClass": "db.r6g.large",
        "publiclyAccessible": False,
        "monitoringInterval": 60,
        "monitoringRoleArn": "arn:aws:iam::123456789012:role/rds-monitoring",
        "performanceInsightsEnabled": True,
        "performanceInsightsKmsKeyId": KEY,
    }
    if az:
        inputs["availabilityZone"] = az
    inputs.update(changes)
    return R("aws:rds/clusterInstance:ClusterInstance", name, inputs, deps={"clusterIdentifier": [c]})


def aurora(
    p: dict[str, Any] = P,
    c: dict[str, Any] | None = None,
    azs: tuple[str | None, ...] = ("us-east-2a", "us-east-2b"),
) -> list[dict[str, Any]]:
    c = c or cluster()
    return [p, c, *[instance(c, f"orders-{i}", az) for i, az in enumerate(azs)]]


def subnets_and_group(public: bool) -> list[dict[str, Any]]:
    vpc = R("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"})
    igw = R("aws:ec2/internetGateway:InternetGateway", "igw", {"vpcId": "vpc-1"}, deps={"vpcId": [vpc]})
    rt = R("aws:ec2/routeTable:RouteTable", "public-rt", {"vpcId": "vpc-1"}, deps={"vpcId": [vpc]})
    route = R(
        "aws:ec2/route:Route",
        "default",
        {"routeTableId": "rtb-1", "destinationCidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"},
        deps={"routeTableId": [rt], "gatewayId": [igw]},
    )
    sub_pub = R(
        "aws:ec2/subnet:Subnet", "public-a", {"cidrBlock": "10.0.1.0/24", "mapPublicIpOnLaunch": False}
    )
    sub_priv = R("aws:ec2/subnet:Subnet", "private-a", {"cidrBlock": "10.0.10.0/24"})
    assoc = R(
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "public-a-assoc",
        {"subnetId": "subnet-1", "routeTableId": "rtb-1"},
        deps={"subnetId": [sub_pub], "routeTableId": [rt]},
    )
    group = R(
        "aws:rds/subnetGroup:SubnetGroup",
        "db-subnets",
        {"subnetIds": ["subnet-1" if public else "subnet-2"]},
        deps={"subnetIds": [sub_pub if public else sub_priv]},
    )
    return [P, vpc, igw, rt, route, sub_pub, sub_priv, assoc, group]


def pg(value: Any = "1", family: str = "aurora-postgresql16") -> list[dict[str, Any]]:
    params = [{"name": "rds.force_ssl", "value": value}] if value is not None else []
    return [
        P,
        R(
            "aws:rds/clusterParameterGroup:ClusterParameterGroup",
            "orders-pg",
            {"family": family, "parameters": params},
        ),
        cluster(),
    ]


def table(**changes: Any) -> list[dict[str, Any]]:
    inputs: dict[str, Any] = {
        "pointInTimeRecovery": {"enabled": True},
        "deletionProtectionEnabled": True,
        "serverSideEncryption": {"enabled": True, "kmsKeyArn": KEY},
    }
    inputs.update(changes)
    return [P, R("aws:dynamodb/table:Table", "products", {k: v for k, v in inputs.items() if v is not None})]


def redis(p: dict[str, Any] = P, **changes: Any) -> list[dict[str, Any]]:
    inputs: dict[str, Any] = {
        "engine": "redis",
        "nodeType": "cache.r6g.large",
        "atRestEncryptionEnabled": True,
        "kmsKeyId": KEY,
        "transitEncryptionEnabled": True,
        "authToken": secret("[secret]"),
        "snapshotRetentionLimit": 7,
        "automaticFailoverEnabled": True,
        "multiAzEnabled": True,
        "numCacheClusters": 2,
        "subnetGroupName": "carts-subnets",
    }
    inputs.update(changes)
    return [
        p,
        R(
            "aws:elasticache/replicationGroup:ReplicationGroup",
            "carts",
            {k: v for k, v in inputs.items() if v is not None},
        ),
    ]


def domain(p: dict[str, Any] = P, **changes: Any) -> list[dict[str, Any]]:
    inputs: dict[str, Any] = {
        "encryptAtRest": {"enabled": True, "kmsKeyId": KEY},
        "nodeToNodeEncryption": {"enabled": True},
        "domainEndpointOptions": {
            "enforceHttps": True,
            "tlsSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10",
        },
        "vpcOptions": {"subnetIds": ["subnet-1", "subnet-2"], "securityGroupIds": ["sg-1"]},
        "clusterConfig": {
            "instanceType": "r6g.large.search",
            "instanceCount": 2,
            "zoneAwarenessEnabled": True,
            "dedicatedMasterEnabled": True,
            "dedicatedMasterType": "m6g.large.search",
        },
        "advancedSecurityOptions": {"enabled": True},
        "logPublishingOptions": [
            {"logType": "ES_APPLICATION_LOGS", "cloudwatchLogGroupArn": "arn:aws:logs:x"},
            {"logType": "AUDIT_LOGS", "cloudwatchLogGroupArn": "arn:aws:logs:y"},
        ],
    }
    inputs.update(changes)
    return [
        p,
        R("aws:opensearch/domain:Domain", "search", {k: v for k, v in inputs.items() if v is not None}),
    ]


CASES = [
    Case(
        "rds-cluster-encrypted", "unencrypted", [P, cluster(storageEncrypted=False)], True, "storageEncrypted"
    ),
    Case("rds-cluster-encrypted", "aws key", [P, cluster(kmsKeyId=None)], True, "kmsKeyId"),
    Case("rds-cluster-encrypted", "compliant", [P, cluster()], False),
    Case("rds-cluster-encrypted", "key unknown in preview", [P, cluster(kmsKeyId=UNKNOWN)], False),
    Case("rds-cluster-encrypted", "missing everything", [P, R("aws:rds/cluster:Cluster", "bare", {})], True),
    Case(
        "aurora-resilience",
        "short retention",
        aurora(c=cluster(backupRetentionPeriod=1)),
        True,
        "backupRetentionPeriod",
    ),
    Case(
        "aurora-resilience",
        "no deletion protection",
        aurora(c=cluster(deletionProtection=False)),
        True,
        "deletionProtection",
    ),
    Case(
        "aurora-resilience",
        "skip final snapshot",
        aurora(c=cluster(skipFinalSnapshot=True)),
        True,
        "skipFinalSnapshot",
    ),
    Case("aurora-resilience", "one instance in prod", aurora(azs=("us-east-2a",)), True, "cluster instances"),
    Case(
        "aurora-resilience",
        "same AZ twice",
        aurora(azs=("us-east-2a", "us-east-2a")),
        True,
        "cluster instances",
    ),
    Case("aurora-resilience", "compliant", aurora(), False),
    # A global database's secondary (no master user of its own) may be headless: AWS documents it for a pilot light.
    Case(
        "aurora-resilience",
        "headless global secondary in prod",
        aurora(c=cluster(globalClusterIdentifier="ecommerce-prod-aurora-global"), azs=()),
        False,
    ),
    Case(
        "aurora-resilience",
        "a global primary still needs two AZs",
        aurora(c=cluster(globalClusterIdentifier="g", masterUsername="admin"), azs=("us-east-2a",)),
        True,
        "cluster instances",
    ),
    Case(
        "aurora-resilience",
        "headless secondary still keeps its backups",
        aurora(c=cluster(globalClusterIdentifier="g", backupRetentionPeriod=1), azs=()),
        True,
        "backupRetentionPeriod",
    ),
    Case(
        "aurora-resilience",
        "dev: one day, no protection, one instance",
        aurora(
            D,
            cluster(
                backupRetentionPeriod=1,
                deletionProtection=False,
                skipFinalSnapshot=True,
                finalSnapshotIdentifier=None,
            ),
            azs=(None,),
        ),
        False,
    ),
    Case("aurora-resilience", "missing properties", [P, R("aws:rds/cluster:Cluster", "bare", {})], True),
    Case(
        "aurora-resilience",
        "config: protection in dev too",
        aurora(D, cluster(deletionProtection=False)),
        True,
        "deletionProtection",
        config={"protectedEnvironments": ["dev", "prod"]},
    ),
    Case(
        "aurora-private",
        "public instance",
        [P, cluster(), instance(cluster(), "orders-0", "us-east-2a", publiclyAccessible=True)],
        True,
        "publiclyAccessible",
    ),
    Case("aurora-private", "public subnet in group", subnets_and_group(public=True), True, "subnetIds"),
    Case("aurora-private", "private subnets", subnets_and_group(public=False), False),
    Case(
        "aurora-private",
        "missing properties",
        [
            P,
            R("aws:rds/subnetGroup:SubnetGroup", "g", {}),
            R("aws:rds/clusterInstance:ClusterInstance", "i", {}),
        ],
        False,
    ),
    Case("aurora-tls", "force_ssl 0", pg("0"), True, "rds.force_ssl"),
    Case("aurora-tls", "no parameter", pg(None), True, "rds.force_ssl"),
    Case(
        "aurora-tls",
        "cluster without group",
        [P, cluster(dbClusterParameterGroupName=None)],
        True,
        "dbClusterParameterGroupName",
    ),
    Case("aurora-tls", "compliant", pg("1"), False),
    Case(
        "aurora-tls",
        "missing parameters",
        [P, R("aws:rds/clusterParameterGroup:ClusterParameterGroup", "pg", {})],
        True,
    ),
    Case(
        "aurora-observability-auth",
        "no log export",
        [P, cluster(enabledCloudwatchLogsExports=[])],
        True,
        "enabledCloudwatchLogsExports",
    ),
    Case(
        "aurora-observability-auth",
        "no iam auth",
        [P, cluster(iamDatabaseAuthenticationEnabled=False)],
        True,
        "iamDatabaseAuthenticationEnabled",
    ),
    Case(
        "aurora-observability-auth",
        "no monitoring",
        [P, instance(cluster(), "i", None, monitoringInterval=0)],
        True,
        "monitoringInterval",
    ),
    Case(
        "aurora-observability-auth",
        "no performance insights",
        [P, instance(cluster(), "i", None, performanceInsightsEnabled=False)],
        True,
        "performanceInsightsEnabled",
    ),
    Case("aurora-observability-auth", "compliant", aurora(), False),
    Case(
        "aurora-observability-auth",
        "missing properties",
        [P, R("aws:rds/clusterInstance:ClusterInstance", "bare", {})],
        True,
    ),
    Case(
        "dynamodb-protect",
        "no pitr",
        table(pointInTimeRecovery={"enabled": False}),
        True,
        "pointInTimeRecovery",
    ),
    Case("dynamodb-protect", "aws-owned key", table(serverSideEncryption=None), True, "serverSideEncryption"),
    Case(
        "dynamodb-protect",
        "no deletion protection in prod",
        table(deletionProtectionEnabled=False),
        True,
        "deletionProtectionEnabled",
    ),
    Case("dynamodb-protect", "compliant", table(), False),
    Case("dynamodb-protect", "missing properties", [P, R("aws:dynamodb/table:Table", "bare", {})], True),
    Case(
        "redis-encryption-auth",
        "no at-rest encryption",
        redis(atRestEncryptionEnabled=False),
        True,
        "atRestEncryptionEnabled",
    ),
    Case(
        "redis-encryption-auth",
        "no transit encryption",
        redis(transitEncryptionEnabled=False),
        True,
        "transitEncryptionEnabled",
    ),
    Case("redis-encryption-auth", "no auth", redis(authToken=None), True, "authToken"),
    Case("redis-encryption-auth", "compliant", redis(), False),
    Case(
        "redis-encryption-auth",
        "rbac instead of token",
        redis(authToken=None, userGroupIds=["carts-users"]),
        False,
    ),
    Case(
        "redis-encryption-auth",
        "missing properties",
        [P, R("aws:elasticache/replicationGroup:ReplicationGroup", "bare", {})],
        True,
    ),
    Case(
        "redis-resilience",
        "no failover in prod",
        redis(automaticFailoverEnabled=False),
        True,
        "automaticFailoverEnabled",
    ),
    Case("redis-resilience", "no snapshots", redis(snapshotRetentionLimit=0), True, "snapshotRetentionLimit"),
    Case("redis-resilience", "compliant", redis(), False),
    Case(
        "redis-resilience",
        "dev single node",
        redis(D, automaticFailoverEnabled=False, multiAzEnabled=False, numCacheClusters=1),
        False,
    ),
    Case(
        "redis-resilience",
        "missing properties",
        [P, R("aws:elasticache/replicationGroup:ReplicationGroup", "bare", {})],
        True,
    ),
    Case(
        "opensearch-encryption", "no at-rest", domain(encryptAtRest={"enabled": False}), True, "encryptAtRest"
    ),
    Case(
        "opensearch-encryption",
        "old tls",
        domain(
            domainEndpointOptions={"enforceHttps": True, "tlsSecurityPolicy": "Policy-Min-TLS-1-0-2019-07"}
        ),
        True,
        "tlsSecurityPolicy",
    ),
    Case("opensearch-encryption", "compliant", domain(), False),
    Case(
        "opensearch-encryption",
        "missing properties",
        [P, R("aws:opensearch/domain:Domain", "bare", {})],
        True,
    ),
    Case("opensearch-private", "public domain", domain(vpcOptions=None), True, "vpcOptions"),
    Case(
        "opensearch-private",
        "no security group",
        domain(vpcOptions={"subnetIds": ["subnet-1"]}),
        True,
        "securityGroupIds",
    ),
    Case("opensearch-private", "compliant", domain(), False),
    Case(
        "opensearch-private", "missing properties", [P, R("aws:opensearch/domain:Domain", "bare", {})], True
    ),
    Case(
        "opensearch-ha-fgac",
        "no zone awareness",
        domain(clusterConfig={"instanceCount": 2, "dedicatedMasterEnabled": True}),
        True,
        "zoneAwarenessEnabled",
    ),
    Case(
        "opensearch-ha-fgac",
        "odd count",
        domain(
            clusterConfig={"instanceCount": 3, "zoneAwarenessEnabled": True, "dedicatedMasterEnabled": True}
        ),
        True,
        "instanceCount",
    ),
    Case("opensearch-ha-fgac", "compliant", domain(), False),
    Case(
        "opensearch-ha-fgac", "missing properties", [P, R("aws:opensearch/domain:Domain", "bare", {})], True
    ),
    Case(
        "opensearch-logs",
        "no audit log",
        domain(logPublishingOptions=[{"logType": "ES_APPLICATION_LOGS"}]),
        True,
        "logPublishingOptions",
    ),
    Case("opensearch-logs", "compliant", domain(), False),
    Case("opensearch-logs", "missing properties", [P, R("aws:opensearch/domain:Domain", "bare", {})], True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case) -> None:
    check(case)
