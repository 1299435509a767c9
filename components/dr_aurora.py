"""The Aurora global database: the primary cluster (the DataTier's) made a global database's primary, and its
secondary cluster in the DR region (`DisasterRecovery._aurora_global`, pilot light and warm standby).

- The global cluster is made from the existing cluster (pulumi-aws `rds.GlobalCluster` docstring, "New Global
  Cluster From Existing DB Cluster": `source_db_cluster_identifier` with `force_destroy`, the primary cluster
  ignoring `globalClusterIdentifier`, which the DataTier's does). It is managed through the primary region's
  provider, where its source cluster is.
- The secondary is a child of `StandbyRegion`: the primary's engine and exact running version (a secondary must
  match; later minor upgrades go through the global cluster, so it ignores `engineVersion` like the primary), no
  master user, password or database name (it replicates the primary's), `replicationSourceIdentifier` ignored so a
  later `up` does not detach it (pulumi-aws GlobalCluster docstring, PostgreSQL example), its own DR-region key, the
  DR VPC's private subnets and Database security group, IAM authentication, TLS-only parameters, log exports, and
  deletion protection and a final snapshot where `protectData`.
- Pilot light keeps it **headless** (no instance): Aurora keeps its storage in sync and bills storage and replicated
  writes only, no compute (Aurora user guide, "Creating a headless Aurora DB cluster in a secondary Region"; with
  Aurora PostgreSQL a headless secondary is added through the API, which is what the provider does). Warm standby
  gives it one instance of the primary's class, which serves reads and is promoted at failover.

What it must not do: reach into the DataTier's children (it takes the primary's ARN, identifier, running version
and writer through `ReplicatedCluster`), or create a master credential (the secondary has none of its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pulumi
import pulumi_aws as aws

from components import iam
from components.aurora import cluster_arguments, cluster_parameter_group
from components.config import Settings
from components.naming import tags
from components.network import EcommerceVpc

COMPONENT = "dr"


class DrRegion(Protocol):
    """What the builder needs of `components.dr.StandbyRegion` (named here, not imported: dr.py imports this)."""

    dr_region: str
    network: EcommerceVpc | None

    def options(self, **extra: Any) -> pulumi.ResourceOptions: ...
    def stateful_options(self, **extra: Any) -> pulumi.ResourceOptions: ...
    def customer_key(
        self, role: str, what: str, service_statements: Sequence[iam.Statement] = ()
    ) -> aws.kms.Key: ...


@dataclass(frozen=True)
class ReplicatedCluster:
    """The Aurora cluster that becomes the primary of the global database (its owner's outputs, never children)."""

    #: the cluster's ARN: the global cluster's `source_db_cluster_identifier`
    arn: pulumi.Input[str]
    #: the version it runs now (`engine_version_actual`): a secondary must run the same one
    engine_version: pulumi.Input[str]
    #: its writer instance's ARN: AWS adds a region only to a primary whose writer is available (the pulumi-aws
    #: example creates the secondary after the primary's instance); the global cluster waits for it
    writer_arn: pulumi.Input[str]
    #: the Enhanced Monitoring role of its instances (None: monitoring off); a role is global, so the secondary's
    #: instances publish as the same one
    monitoring_role_arn: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class AuroraGlobal:
    """What the global database gives the rest of the stack: names for alarms, the runbook and the outputs."""

    global_cluster_identifier: pulumi.Output[str]
    secondary_cluster_identifier: pulumi.Output[str]
    secondary_cluster_arn: pulumi.Output[str]
    secondary_instance_count: int
    #: the secondary's cluster and reader endpoints: read-only until it is promoted, then its writer's
    secondary_endpoint: pulumi.Output[str]
    secondary_reader_endpoint: pulumi.Output[str]
    #: the secondary's own resource id (`rds-db:connect` names the cluster by it; each member has its own)
    secondary_resource_id: pulumi.Output[str]


def build_aurora_global(
    owner: pulumi.Resource,
    name: str,
    settings: Settings,
    standby: DrRegion,
    source: ReplicatedCluster,
) -> AuroraGlobal:
    """The global cluster (primary region, child of `owner`) and its secondary in the DR region (under `standby`).

    `name` prefixes the children (`<name>-aurora-global`, `<name>-aurora`, `<name>-aurora-1`).
    """
    if standby.network is None:
        raise ValueError(
            f"{name}: an Aurora secondary needs the DR VPC (dr.mode pilot-light or warm-standby)"
        )
    protect, base = settings.protect_data, f"ecommerce-{settings.environment}"
    cluster_id = f"{base}-aurora-{standby.dr_region}"
    global_cluster = aws.rds.GlobalCluster(
        f"{name}-aurora-global",
        global_cluster_identifier=f"{base}-aurora-global",
        # The ARN carries the writer as a dependency: the global cluster is made once the primary has its writer.
        source_db_cluster_identifier=pulumi.Output.all(source.arn, source.writer_arn).apply(
            lambda v: str(v[0])
        ),
        # Required with source_db_cluster_identifier (docstring): destroy detaches the members instead of failing.
        force_destroy=True,
        deletion_protection=protect,
        tags=tags(COMPONENT, f"{base}-aurora-global"),
        opts=pulumi.ResourceOptions(parent=owner, protect=protect),
    )
    key, log_group = _key_and_log_group(owner, name, settings, standby, cluster_id)
    secondary = _secondary(name, settings, standby, source, cluster_id, global_cluster, key, log_group)
    count = settings.dr.aurora_secondary_instances
    for i in range(count):
        aws.rds.ClusterInstance(
            f"{name}-aurora-{i + 1}",
            identifier=f"{cluster_id}-{i + 1}",
            cluster_identifier=secondary.id,
            engine=aws.rds.EngineType.AURORA_POSTGRESQL,
            engine_version=secondary.engine_version,
            instance_class=settings.data.aurora_instance_class,
            db_subnet_group_name=secondary.db_subnet_group_name,
            publicly_accessible=False,
            auto_minor_version_upgrade=True,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            performance_insights_enabled=True,
            performance_insights_kms_key_id=key.arn,
            performance_insights_retention_period=settings.data.aurora_performance_insights_days,
            monitoring_interval=settings.data.aurora_monitoring_interval if source.monitoring_role_arn else 0,
            monitoring_role_arn=source.monitoring_role_arn,
            tags=tags(COMPONENT, f"{cluster_id}-{i + 1}", Role="reader"),
            opts=standby.stateful_options(ignore_changes=["engineVersion"]),
        )
    return AuroraGlobal(
        global_cluster_identifier=global_cluster.global_cluster_identifier,
        secondary_cluster_identifier=secondary.cluster_identifier,
        secondary_cluster_arn=secondary.arn,
        secondary_instance_count=count,
        secondary_endpoint=secondary.endpoint,
        secondary_reader_endpoint=secondary.reader_endpoint,
        secondary_resource_id=secondary.cluster_resource_id,
    )


def _key_and_log_group(
    owner: pulumi.Resource, name: str, settings: Settings, standby: DrRegion, cluster_id: str
) -> tuple[aws.kms.Key, aws.cloudwatch.LogGroup]:
    """The secondary's DR-region key (`databases`) and the log group its PostgreSQL log is exported to."""
    log_name = f"/aws/rds/cluster/{cluster_id}/postgresql"
    # The account and partition are the same in every region: asked through the owner's provider.
    account, partition, _ = iam.caller(owner)
    log_arn = pulumi.Output.format(
        "arn:{0}:logs:{1}:{2}:log-group:{3}", partition, standby.dr_region, account, log_name
    )
    key = standby.customer_key(
        "databases",
        "the Aurora global database's secondary cluster (storage, snapshots) and its log group",
        # CloudWatch Logs encrypts the exported PostgreSQL log as itself: named, for this log group only.
        [
            iam.logs_may_use_key(
                "CloudWatchLogsUsesKeyForTheSecondarysLog", standby.dr_region, "ArnEquals", log_arn
            )
        ],
    )
    # Before the cluster, so RDS writes into an encrypted group with retention, not one of its own.
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-aurora-logs",
        name=log_name,
        kms_key_id=key.arn,
        retention_in_days=settings.data.log_retention_days,
        tags=tags(COMPONENT, f"{name}-aurora-logs"),
        opts=standby.options(),
    )
    return key, log_group


def _secondary(
    name: str,
    settings: Settings,
    standby: DrRegion,
    source: ReplicatedCluster,
    cluster_id: str,
    global_cluster: aws.rds.GlobalCluster,
    key: aws.kms.Key,
    log_group: aws.cloudwatch.LogGroup,
) -> aws.rds.Cluster:
    """The secondary cluster in the DR VPC, with its subnet group and TLS-only parameter group."""
    d, protect = settings.data, settings.protect_data
    network = standby.network
    assert network is not None  # build_aurora_global checked
    subnet_group = aws.rds.SubnetGroup(
        f"{name}-aurora",
        name=cluster_id,
        description="Aurora global database secondary: the DR VPC's private subnets",
        subnet_ids=network.private_subnet_ids,
        tags=tags(COMPONENT, f"{name}-aurora"),
        opts=standby.options(),
    )
    params = cluster_parameter_group(
        f"{name}-aurora",
        cluster_id,
        d.aurora_engine_version,
        "Aurora global database secondary: TLS 1.2+ only, like the primary",
        standby.options(),
        component=COMPONENT,
    )
    serverless = d.aurora_instance_class == "db.serverless"
    return aws.rds.Cluster(
        f"{name}-aurora",
        cluster_identifier=cluster_id,
        **cluster_arguments(d, cluster_id, protect=protect),
        global_cluster_identifier=global_cluster.id,
        engine_version=source.engine_version,
        # No master_username, master_password or database_name: a secondary replicates the primary's.
        db_subnet_group_name=subnet_group.name,
        vpc_security_group_ids=[network.database_security_group_id],
        db_cluster_parameter_group_name=params.name,
        kms_key_id=key.arn,
        serverlessv2_scaling_configuration=(
            # Never 0 ACUs: a secondary's instances never auto-pause (Aurora user guide, auto-pause).
            {"min_capacity": max(d.aurora_min_capacity, 0.5), "max_capacity": d.aurora_max_capacity}
            if serverless
            else None
        ),
        tags=tags(COMPONENT, cluster_id, ReplicaOf="aurora"),
        opts=standby.stateful_options(
            depends_on=[log_group],
            ignore_changes=["replicationSourceIdentifier", "engineVersion"],
        ),
    )
