"""Data-store rules: Aurora PostgreSQL, DynamoDB, ElastiCache Redis, OpenSearch."""

from __future__ import annotations

from typing import Any

from .common import (
    ADVISORY,
    MANDATORY,
    SUBNET,
    UNKNOWN,
    Context,
    Raw,
    Res,
    Stack,
    as_list,
    cmk_problem,
    first,
    get,
    is_false,
    is_set,
    is_true,
    num,
    public_subnets,
    referenced,
    resource_policy,
    stack_policy,
)

RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RDS_DB_INSTANCE = "aws:rds/instance:Instance"
RDS_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
RDS_CLUSTER_PG = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
DDB_TABLE = "aws:dynamodb/table:Table"
REDIS_RG = "aws:elasticache/replicationGroup:ReplicationGroup"
REDIS_CLUSTER = "aws:elasticache/cluster:Cluster"
OPENSEARCH = "aws:opensearch/domain:Domain"


def _need_true(res: Res, ctx: Context, prop: str, value: Any, fix: str) -> None:
    if value is not UNKNOWN and not is_true(value):
        ctx.violation(res, prop, value, fix)


def _need_cmk(res: Res, ctx: Context, prop: str, fix: str) -> None:
    value = res.p(*prop.split("."))
    problem = cmk_problem(value)
    if problem:
        ctx.violation(res, prop, Raw(f"{value!r} ({problem})" if value else problem), fix)


# ----------------------------------------------------------------------------------------------------------------
# Aurora


def _rds_encrypted(res: Res, ctx: Context) -> None:
    _need_true(res, ctx, "storageEncrypted", res.p("storageEncrypted"), "set storageEncrypted true.")
    _need_cmk(res, ctx, "kmsKeyId", "set kmsKeyId to the ARN of the data tier's customer-managed KMS key.")


def _cluster_instances(stack: Stack, cluster: Res) -> list[Res]:
    return stack.referring(
        cluster, (RDS_INSTANCE,), "clusterIdentifier", cluster.p("clusterIdentifier"), cluster.p("id")
    )


def _global_secondary(cluster: Res) -> bool:
    """A global database's secondary cluster: it joins a global cluster without a master user of its own (AWS
    refuses one on a secondary). Its instances are the DR plan's business: a headless secondary (no instance) is a
    configuration AWS documents for a pilot light ("Creating a headless Aurora DB cluster in a secondary Region")."""
    return is_set(cluster.p("globalClusterIdentifier")) and not is_set(cluster.p("masterUsername"))


def _aurora_resilience(stack: Stack, ctx: Context) -> None:
    mins = ctx.config.get("minBackupRetentionDays") or {}
    minimum = int(mins.get(ctx.env, mins.get("prod", 7)))
    protected_env = ctx.env in (ctx.config.get("protectedEnvironments") or [])
    for cluster in stack.of_type(RDS_CLUSTER):
        retention = cluster.p("backupRetentionPeriod")
        days = num(retention) if retention is not None else 1.0  # AWS default: 1 day
        if retention is not UNKNOWN and (days is None or days < minimum):
            ctx.violation(
                cluster,
                "backupRetentionPeriod",
                retention if retention is not None else Raw("not set (AWS default 1 day)"),
                f"keep automated backups at least {minimum} days in {ctx.env}.",
            )
        copy_tags = cluster.p("copyTagsToSnapshot")
        _need_true(cluster, ctx, "copyTagsToSnapshot", copy_tags, "set copyTagsToSnapshot true.")
        if protected_env:
            _need_true(
                cluster,
                ctx,
                "deletionProtection",
                cluster.p("deletionProtection"),
                f"set deletionProtection true in {ctx.env}.",
            )
            if is_true(cluster.p("skipFinalSnapshot")) or not is_set(cluster.p("finalSnapshotIdentifier")):
                ctx.violation(
                    cluster,
                    "skipFinalSnapshot/finalSnapshotIdentifier",
                    {
                        "skipFinalSnapshot": cluster.p("skipFinalSnapshot"),
                        "finalSnapshotIdentifier": cluster.p("finalSnapshotIdentifier"),
                    },
                    "set skipFinalSnapshot false and a finalSnapshotIdentifier so deletion leaves a snapshot.",
                )
        if ctx.prod and not _global_secondary(cluster):
            instances = _cluster_instances(stack, cluster)
            azs = {i.p("availabilityZone") for i in instances if isinstance(i.p("availabilityZone"), str)}
            explicit = [i for i in instances if isinstance(i.p("availabilityZone"), str)]
            if len(instances) < 2 or (len(explicit) == len(instances) and len(azs) < 2):
                ctx.violation(
                    cluster,
                    "cluster instances",
                    Raw(f"{len(instances)} instance(s) in AZs {sorted(azs) or 'unset'}"),
                    "run a writer and at least one reader in different availability zones in prod.",
                )


def _aurora_private(stack: Stack, ctx: Context) -> None:
    for inst in stack.of_type(RDS_INSTANCE, RDS_DB_INSTANCE, RDS_CLUSTER):
        if is_true(inst.p("publiclyAccessible")):
            ctx.violation(
                inst, "publiclyAccessible", inst.p("publiclyAccessible"), "set publiclyAccessible false."
            )
    public = public_subnets(stack)
    for group in stack.of_type(RDS_SUBNET_GROUP):
        bad = [s.name for s in referenced(stack, group, "subnetIds", (SUBNET,)) if s.urn in public]
        if bad:
            ctx.violation(
                group,
                "subnetIds",
                Raw(f"includes public subnets {bad}"),
                "use the private subnets only (no route to the internet gateway, no public IPs).",
            )


def _aurora_tls(stack: Stack, ctx: Context) -> None:
    for pg in stack.of_type(RDS_CLUSTER_PG):
        family = pg.p("family")
        if isinstance(family, str) and "postgres" not in family:
            continue
        params = {get(p, "name"): get(p, "value") for p in as_list(pg.p("parameters")) if isinstance(p, dict)}
        value = params.get("rds.force_ssl")
        if value is not UNKNOWN and str(value) != "1":
            ctx.violation(
                pg,
                "parameters[rds.force_ssl]",
                value,
                "add parameter rds.force_ssl = '1' so clients must use TLS.",
            )
    for cluster in stack.of_type(RDS_CLUSTER):
        engine = cluster.p("engine")
        if isinstance(engine, str) and "postgres" not in engine:
            continue
        if not is_set(cluster.p("dbClusterParameterGroupName")):
            ctx.violation(
                cluster,
                "dbClusterParameterGroupName",
                None,
                "attach a cluster parameter group with rds.force_ssl = 1 (the default group does not force TLS).",
            )


def _aurora_observability(res: Res, ctx: Context) -> None:
    if res.type == RDS_CLUSTER:
        exports = res.p("enabledCloudwatchLogsExports")
        if exports is not UNKNOWN and "postgresql" not in as_list(exports):
            ctx.violation(
                res,
                "enabledCloudwatchLogsExports",
                exports,
                "export the 'postgresql' log to CloudWatch Logs.",
            )
        _need_true(
            res,
            ctx,
            "iamDatabaseAuthenticationEnabled",
            res.p("iamDatabaseAuthenticationEnabled"),
            "set iamDatabaseAuthenticationEnabled true (services authenticate with IAM, not passwords).",
        )
        return
    interval = res.p("monitoringInterval")
    if interval is not UNKNOWN and not (num(interval) or 0) > 0:
        ctx.violation(
            res,
            "monitoringInterval",
            interval,
            "enable Enhanced Monitoring (e.g. 60) with a monitoringRoleArn.",
        )
    elif interval is not UNKNOWN and not is_set(res.p("monitoringRoleArn")):
        ctx.violation(
            res, "monitoringRoleArn", None, "give Enhanced Monitoring its role (monitoringRoleArn)."
        )
    _need_true(
        res,
        ctx,
        "performanceInsightsEnabled",
        res.p("performanceInsightsEnabled"),
        "enable Performance Insights with a customer-managed performanceInsightsKmsKeyId.",
    )
    if is_true(res.p("performanceInsightsEnabled")):
        _need_cmk(
            res,
            ctx,
            "performanceInsightsKmsKeyId",
            "encrypt Performance Insights with the data tier's KMS key.",
        )


# ----------------------------------------------------------------------------------------------------------------
# DynamoDB


def _dynamodb(res: Res, ctx: Context) -> None:
    pitr = first(res.props, "pointInTimeRecovery", "enabled")
    _need_true(res, ctx, "pointInTimeRecovery.enabled", pitr, "enable point-in-time recovery.")
    if ctx.prod:
        _need_true(
            res,
            ctx,
            "deletionProtectionEnabled",
            res.p("deletionProtectionEnabled"),
            "set deletionProtectionEnabled true in prod.",
        )
    sse = first(res.props, "serverSideEncryption")
    if sse is UNKNOWN:
        return
    if not is_true(get(sse, "enabled")):
        ctx.violation(
            res,
            "serverSideEncryption.enabled",
            get(sse, "enabled"),
            "enable serverSideEncryption with a customer-managed kmsKeyArn (else the AWS-owned key is used).",
        )
        return
    problem = cmk_problem(get(sse, "kmsKeyArn"))
    if problem:
        ctx.violation(
            res, "serverSideEncryption.kmsKeyArn", Raw(problem), "set kmsKeyArn to the data tier's CMK."
        )


# ----------------------------------------------------------------------------------------------------------------
# ElastiCache Redis


def _redis_encryption(res: Res, ctx: Context) -> None:
    if res.type == REDIS_CLUSTER:
        engine = res.p("engine")
        if engine in ("redis", "valkey") and not is_set(res.p("replicationGroupId")):
            ctx.violation(
                res,
                "engine",
                engine,
                "use an aws.elasticache.ReplicationGroup: a standalone cache cluster cannot encrypt or use AUTH.",
            )
        return
    _need_true(
        res,
        ctx,
        "atRestEncryptionEnabled",
        res.p("atRestEncryptionEnabled"),
        "set atRestEncryptionEnabled true.",
    )
    if is_true(res.p("atRestEncryptionEnabled")):
        _need_cmk(res, ctx, "kmsKeyId", "set kmsKeyId to the data tier's customer-managed KMS key.")
    _need_true(
        res,
        ctx,
        "transitEncryptionEnabled",
        res.p("transitEncryptionEnabled"),
        "set transitEncryptionEnabled true (TLS between clients and Redis).",
    )
    if (
        not is_set(res.p("authToken"))
        and not is_set(res.p("authTokenWo"))
        and not is_set(res.p("userGroupIds"))
    ):
        ctx.violation(
            res,
            "authToken/userGroupIds",
            None,
            "require authentication: an AUTH token (secret) or RBAC userGroupIds.",
        )


def _redis_resilience(res: Res, ctx: Context) -> None:
    limit = res.p("snapshotRetentionLimit")
    if limit is not UNKNOWN and not (num(limit) or 0) >= 1:
        ctx.violation(
            res, "snapshotRetentionLimit", limit, "keep automatic snapshots (snapshotRetentionLimit >= 1)."
        )
    if is_false(res.p("autoMinorVersionUpgrade")):
        ctx.violation(res, "autoMinorVersionUpgrade", False, "leave automatic minor version upgrades on.")
    if not is_set(res.p("subnetGroupName")):
        ctx.violation(
            res, "subnetGroupName", None, "place the group in its own subnet group on the private subnets."
        )
    if ctx.prod:
        for prop in ("automaticFailoverEnabled", "multiAzEnabled"):
            _need_true(res, ctx, prop, res.p(prop), f"set {prop} true in prod (needs two or more nodes).")
        nodes = res.p("numCacheClusters")
        replicas = res.p("replicasPerNodeGroup")
        if (
            nodes is not UNKNOWN
            and replicas is not UNKNOWN
            and (num(nodes) or 0) < 2
            and (num(replicas) or 0) < 1
        ):
            ctx.violation(
                res,
                "numCacheClusters",
                nodes,
                "run at least two nodes in prod so a replica can take over.",
            )


# ----------------------------------------------------------------------------------------------------------------
# OpenSearch


def _opensearch_encryption(res: Res, ctx: Context) -> None:
    _need_true(
        res,
        ctx,
        "encryptAtRest.enabled",
        first(res.props, "encryptAtRest", "enabled"),
        "enable encryptAtRest.",
    )
    if is_true(first(res.props, "encryptAtRest", "enabled")):
        key = first(res.props, "encryptAtRest", "kmsKeyId")
        problem = cmk_problem(key)
        if problem:
            ctx.violation(
                res, "encryptAtRest.kmsKeyId", Raw(problem), "use the data tier's customer-managed KMS key."
            )
    _need_true(
        res,
        ctx,
        "nodeToNodeEncryption.enabled",
        first(res.props, "nodeToNodeEncryption", "enabled"),
        "enable node-to-node encryption.",
    )
    _need_true(
        res,
        ctx,
        "domainEndpointOptions.enforceHttps",
        first(res.props, "domainEndpointOptions", "enforceHttps"),
        "set enforceHttps true.",
    )
    policy = first(res.props, "domainEndpointOptions", "tlsSecurityPolicy")
    allowed = list(ctx.config.get("allowedTlsPolicies") or [])
    if policy is not UNKNOWN and policy not in allowed:
        ctx.violation(res, "domainEndpointOptions.tlsSecurityPolicy", policy, f"use one of {allowed}.")


def _opensearch_private(res: Res, ctx: Context) -> None:
    vpc = first(res.props, "vpcOptions")
    if vpc is UNKNOWN:
        return
    if not is_set(get(vpc, "subnetIds")):
        ctx.violation(
            res,
            "vpcOptions.subnetIds",
            get(vpc, "subnetIds"),
            "place the domain in the private subnets (VPC access).",
        )
    if not is_set(get(vpc, "securityGroupIds")):
        ctx.violation(
            res,
            "vpcOptions.securityGroupIds",
            get(vpc, "securityGroupIds"),
            "attach the database security group (without one the VPC's default group is used).",
        )


def _opensearch_ha(res: Res, ctx: Context) -> None:
    cluster = first(res.props, "clusterConfig") or {}
    if cluster is UNKNOWN:
        return
    if not is_true(get(cluster, "zoneAwarenessEnabled")):
        ctx.violation(
            res,
            "clusterConfig.zoneAwarenessEnabled",
            get(cluster, "zoneAwarenessEnabled"),
            "spread data nodes over two AZs.",
        )
    elif (num(get(cluster, "instanceCount")) or 1) % 2:
        ctx.violation(
            res,
            "clusterConfig.instanceCount",
            get(cluster, "instanceCount"),
            "use an even data-node count with two AZs.",
        )
    if ctx.prod:
        if not is_true(get(cluster, "dedicatedMasterEnabled")):
            ctx.violation(
                res,
                "clusterConfig.dedicatedMasterEnabled",
                get(cluster, "dedicatedMasterEnabled"),
                "use three dedicated master nodes in prod.",
            )
        fgac = first(res.props, "advancedSecurityOptions", "enabled")
        if fgac is not UNKNOWN and not is_true(fgac):
            ctx.violation(
                res, "advancedSecurityOptions.enabled", fgac, "enable fine-grained access control in prod."
            )


def _opensearch_logs(res: Res, ctx: Context) -> None:
    options = as_list(res.p("logPublishingOptions"))
    enabled = {get(o, "logType") for o in options if isinstance(o, dict) and get(o, "enabled") is not False}
    for log_type in ("ES_APPLICATION_LOGS", "AUDIT_LOGS"):
        if UNKNOWN not in options and log_type not in enabled:
            ctx.violation(
                res,
                "logPublishingOptions",
                sorted(str(e) for e in enabled) or None,
                f"publish {log_type} to a CloudWatch log group.",
            )


POLICIES = [
    resource_policy(
        "rds-cluster-encrypted",
        "Aurora clusters encrypt storage with a customer-managed KMS key.",
        MANDATORY,
        ["RDS.27"],
        (RDS_CLUSTER,),
        _rds_encrypted,
    ),
    stack_policy(
        "aurora-resilience",
        "Aurora: backups >= 7 days in prod, copy tags to snapshots, deletion protection and a final snapshot in "
        "protected environments, instances in two AZs in prod.",
        MANDATORY,
        ["RDS.7", "RDS.11", "RDS.15", "RDS.16"],
        _aurora_resilience,
    ),
    stack_policy(
        "aurora-private",
        "Aurora instances are not publicly accessible and their subnet groups use private subnets only.",
        MANDATORY,
        ["RDS.2", "RDS.46"],
        _aurora_private,
    ),
    stack_policy(
        "aurora-tls",
        "Aurora PostgreSQL clusters use a cluster parameter group with rds.force_ssl = 1.",
        MANDATORY,
        [],
        _aurora_tls,
    ),
    resource_policy(
        "aurora-observability-auth",
        "Aurora exports the postgresql log, uses IAM auth, Enhanced Monitoring and Performance Insights (KMS).",
        MANDATORY,
        ["RDS.6", "RDS.12", "RDS.37"],
        (RDS_CLUSTER, RDS_INSTANCE),
        _aurora_observability,
    ),
    resource_policy(
        "dynamodb-protect",
        "DynamoDB tables have point-in-time recovery, a customer-managed key and (prod) deletion protection.",
        MANDATORY,
        ["DynamoDB.2", "DynamoDB.6"],
        (DDB_TABLE,),
        _dynamodb,
    ),
    resource_policy(
        "redis-encryption-auth",
        "Redis replication groups encrypt at rest (CMK) and in transit and require AUTH or RBAC.",
        MANDATORY,
        ["ElastiCache.4", "ElastiCache.5", "ElastiCache.6"],
        (REDIS_RG, REDIS_CLUSTER),
        _redis_encryption,
    ),
    resource_policy(
        "redis-resilience",
        "Redis keeps snapshots, minor upgrades, its own subnet group and (prod) automatic failover with multi-AZ.",
        MANDATORY,
        ["ElastiCache.1", "ElastiCache.2", "ElastiCache.3", "ElastiCache.7"],
        (REDIS_RG,),
        _redis_resilience,
    ),
    resource_policy(
        "opensearch-encryption",
        "OpenSearch encrypts at rest (CMK) and node-to-node, enforces HTTPS with the latest TLS policy.",
        MANDATORY,
        ["OpenSearch.1", "OpenSearch.3", "OpenSearch.8"],
        (OPENSEARCH,),
        _opensearch_encryption,
    ),
    resource_policy(
        "opensearch-private",
        "OpenSearch domains live in the VPC with an explicit security group.",
        MANDATORY,
        ["OpenSearch.2"],
        (OPENSEARCH,),
        _opensearch_private,
    ),
    resource_policy(
        "opensearch-ha-fgac",
        "OpenSearch uses zone awareness with an even node count, and in prod dedicated masters and fine-grained "
        "access control.",
        ADVISORY,
        ["OpenSearch.6", "OpenSearch.7"],
        (OPENSEARCH,),
        _opensearch_ha,
    ),
    resource_policy(
        "opensearch-logs",
        "OpenSearch publishes application (error) and audit logs.",
        ADVISORY,
        ["OpenSearch.4", "OpenSearch.5"],
        (OPENSEARCH,),
        _opensearch_logs,
    ),
]
