"""Data-tier settings (`data.*`, `DataTier`): sizes, counts, engine versions, retention and identity settings of
every store, their rules (one function per store, run in this order), and the defaults derived from other areas."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Literal, Protocol

from components.config.machinery import Stack, in_range, setting
from components.config.network import NetworkSettings
from components.config.shared import LOG_RETENTION_DAYS
from k8s.dbboot import endpoint_problems

#: Data tier: version formats and the values AWS accepts.
AURORA_POSTGRES_MAJORS = ("14", "15", "16", "17")
#: The first Aurora PostgreSQL minor of each major whose Serverless v2 instances may scale to 0 ACUs and pause
#: (Aurora user guide, "Aurora Serverless v2 capacity" / "Scaling to Zero ACUs with automatic pause and resume").
AURORA_AUTO_PAUSE_MINORS = {"13": 15, "14": 12, "15": 7, "16": 3, "17": 0}
#: ElastiCache's Redis OSS engine versions (engine "redis"); 7.1 is the last Redis OSS release on ElastiCache — 7.2
#: and 8.x exist only for the Valkey engine, which this program does not configure.
REDIS_OSS_VERSIONS = ("6.0", "6.2", "7.0", "7.1")
#: SQS keeps the longest retention it allows on every dead-letter queue (14 days); a dead letter keeps its first
#: enqueue time, so a source queue may keep messages at most this long for every dead letter to get a week in its DLQ.
QUEUE_RETENTION_MAX_DAYS = 7
OPENSEARCH_MAJORS = ("2", "3")
DYNAMODB_BILLING_MODES = ("on-demand", "provisioned")
COGNITO_TIERS = ("LITE", "ESSENTIALS", "PLUS")
COGNITO_MFA_MODES = ("OFF", "OPTIONAL", "ON")
COGNITO_THREAT_PROTECTION_MODES = ("OFF", "AUDIT", "ENFORCED")
#: Enhanced Monitoring accepts only these intervals (seconds); 0 turns it off.
RDS_MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
#: Performance Insights keeps 7 days free, or whole months (31 * n days) up to two years.
PERFORMANCE_INSIGHTS_RETENTION_DAYS = (7, *(31 * m for m in range(1, 24)), 731)
#: OpenSearch dedicated master counts: none, or an odd quorum (3 is AWS's recommendation).
OPENSEARCH_MASTER_COUNTS = (0, 3, 5)


@dataclass(frozen=True)
class DataSettings:
    """The data tier (`DataTier`): sizes, counts, engine versions, retention and identity settings of every store."""

    # DynamoDB: products and inventory
    dynamodb_billing_mode: Literal["on-demand", "provisioned"] = setting(
        "dynamodbBillingMode", "DynamoDB capacity: on-demand, or provisioned with target-tracking auto scaling.",
        "on-demand",
    )  # fmt: skip
    dynamodb_min_capacity: int = setting(
        "dynamodbMinCapacity", "Provisioned mode: minimum read and write units per table and index.", 5
    )
    dynamodb_max_capacity: int = setting(
        "dynamodbMaxCapacity", "Provisioned mode: maximum read and write units per table and index.", 100
    )
    dynamodb_target_utilization: int = setting(
        "dynamodbTargetUtilization", "Provisioned mode: auto-scaling target utilisation, percent (20-90).", 70
    )
    dynamodb_pitr_days: int = setting(
        "dynamodbPitrDays", "Point-in-time recovery window of the tables, days (1-35).", 35
    )
    # Aurora PostgreSQL: orders and users
    aurora_engine_version: str = setting(
        "auroraEngineVersion", "Aurora PostgreSQL version to create with, major.minor (one AWS still offers; AWS "
        "upgrades minors itself afterwards).", "16.13",
    )  # fmt: skip
    aurora_instance_class: str = setting(
        "auroraInstanceClass",
        "Aurora instance class: db.serverless (Serverless v2) or a db.* class.",
        "db.serverless",
    )
    aurora_min_capacity: float = setting(
        "auroraMinCapacity", "Serverless v2: minimum ACUs per instance (0-256, steps of 0.5; 0 pauses an idle "
        "instance, on versions that support it).", 0.5,
    )  # fmt: skip
    aurora_auto_pause_seconds: int = setting(
        "auroraAutoPauseSeconds", "Serverless v2 with auroraMinCapacity 0: idle seconds before the instance pauses "
        "(300-86400).", 300,
    )  # fmt: skip
    aurora_max_capacity: float = setting(
        "auroraMaxCapacity", "Serverless v2: maximum ACUs per instance (0.5-256, steps of 0.5).", 4.0
    )
    aurora_instance_count: int = setting(
        "auroraInstanceCount", "Aurora instances: one writer plus readers, spread over the AZs (1-16).", 1
    )
    aurora_multi_az: bool = setting(
        "auroraMultiAz", "Aurora readers in another AZ than the writer, for automatic failover.", False
    )
    aurora_backup_retention_days: int = setting(
        "auroraBackupRetentionDays", "Aurora automated backup retention, days (1-35).", 7
    )
    aurora_monitoring_interval: int = setting(
        "auroraMonitoringInterval", "Enhanced Monitoring interval, seconds (0 off, 1, 5, 10, 15, 30, 60).", 0
    )
    aurora_performance_insights_days: int = setting(
        "auroraPerformanceInsightsDays",
        "Performance Insights retention, days (7 free, or 31 * months, 731).",
        7,
    )
    # ElastiCache Redis: carts
    redis_engine_version: str = setting(
        "redisEngineVersion",
        "ElastiCache Redis OSS version: 6.0, 6.2, 7.0 or 7.1 (7.1 is the last Redis OSS).",
        "7.1",
    )
    redis_node_type: str = setting("redisNodeType", "ElastiCache node type (cache.*).", "cache.t4g.micro")
    redis_node_count: int = setting("redisNodeCount", "Redis nodes: one primary plus replicas (1-6).", 1)
    redis_automatic_failover: bool = setting(
        "redisAutomaticFailover",
        "Promote a replica automatically when the primary fails (needs 2+ nodes).",
        False,
    )
    redis_multi_az: bool = setting(
        "redisMultiAz", "Place the replica in another AZ and fail over across AZs (needs failover).", False
    )
    redis_snapshot_retention_days: int = setting(
        "redisSnapshotRetentionDays",
        "Redis daily snapshot retention, days (0 turns snapshots off, max 35).",
        0,
    )
    # OpenSearch: search
    opensearch_engine_version: str = setting(
        "opensearchEngineVersion", "OpenSearch engine version, OpenSearch_major.minor.", "OpenSearch_2.17"
    )
    opensearch_instance_type: str = setting(
        "opensearchInstanceType", "OpenSearch data node type (*.search).", "t3.small.search"
    )
    opensearch_instance_count: int = setting("opensearchInstanceCount", "OpenSearch data nodes (1-20).", 1)
    opensearch_zone_awareness: bool = setting(
        "opensearchZoneAwareness",
        "Spread data nodes and replicas over two AZs (needs an even node count).",
        False,
    )
    opensearch_dedicated_master_count: int = setting(
        "opensearchDedicatedMasterCount", "Dedicated master nodes: 0, 3 or 5.", 0
    )
    opensearch_dedicated_master_type: str = setting(
        "opensearchDedicatedMasterType", "Dedicated master node type (*.search).", "m7g.large.search"
    )
    opensearch_volume_size: int = setting(
        "opensearchVolumeSize", "gp3 volume per data node, GiB (10-1024).", 10
    )
    # Messaging: notifications
    queue_retention_days: int = setting(
        "queueRetentionDays", "SQS message retention, days (1-7: a dead letter keeps its first enqueue time, and "
        "the 14-day DLQ must outlive the source queue by a week).", 4,
    )  # fmt: skip
    queue_max_receive_count: int = setting(
        "queueMaxReceiveCount", "Receives before a message moves to its dead-letter queue (1-1000).", 5
    )
    queue_visibility_timeout: int = setting(
        "queueVisibilityTimeout", "SQS visibility timeout, seconds (0-43200).", 60
    )
    # Cognito: users
    cognito_tier: Literal["LITE", "ESSENTIALS", "PLUS"] = setting(
        "cognitoTier",
        "Cognito feature plan: LITE, ESSENTIALS or PLUS (threat protection needs PLUS).",
        "ESSENTIALS",
    )
    cognito_mfa: Literal["OFF", "OPTIONAL", "ON"] = setting(
        "cognitoMfa", "MFA (TOTP authenticator apps): OFF, OPTIONAL or ON (required).", "OPTIONAL"
    )
    cognito_threat_protection: Literal["OFF", "AUDIT", "ENFORCED"] = setting(
        "cognitoThreatProtection",
        "Cognito threat protection: OFF, AUDIT or ENFORCED (PLUS tier only).",
        "OFF",
    )
    cognito_access_token_minutes: int = setting(
        "cognitoAccessTokenMinutes", "Access token lifetime, minutes (5-1440).", 60
    )
    cognito_id_token_minutes: int = setting(
        "cognitoIdTokenMinutes", "ID token lifetime, minutes (5-1440).", 60
    )
    cognito_refresh_token_days: int = setting(
        "cognitoRefreshTokenDays", "Refresh token lifetime, days (1-3650).", 30
    )
    cognito_callback_urls: tuple[str, ...] = setting(
        "cognitoCallbackUrls", "Web front end's OAuth callback URLs (https; http://localhost outside prod). Empty: "
        "https://<edge.domainName>/auth/callback, or http://localhost:3000/auth/callback without a domain.", (),
    )  # fmt: skip
    cognito_logout_urls: tuple[str, ...] = setting(
        "cognitoLogoutUrls", "Web front end's sign-out URLs (https; http://localhost outside prod). Empty: "
        "https://<edge.domainName>/, or http://localhost:3000/ without a domain.", (),
    )  # fmt: skip
    # Shared
    log_retention_days: int = setting(
        "logRetentionDays", "CloudWatch retention of the data tier's logs (a CloudWatch value).", 30
    )
    kms_deletion_window_days: int = setting(
        "kmsDeletionWindowDays", "Waiting period before a deleted data key is gone, days (7-30).", 30
    )
    secret_recovery_window_days: int = setting(
        "secretRecoveryWindowDays", "Days a deleted secret can be restored (0 deletes at once, or 7-30).", 30
    )


def with_derived_defaults(d: DataSettings, domain_name: str) -> DataSettings:
    """Fill the keys whose default depends on other keys (an unset Cognito URL list follows `edge.domainName`)."""
    base = f"https://{domain_name}" if domain_name else "http://localhost:3000"
    return dataclasses.replace(
        d,
        cognito_callback_urls=d.cognito_callback_urls or (f"{base}/auth/callback",),
        cognito_logout_urls=d.cognito_logout_urls or (f"{base}/",),
    )


class Context(Stack, Protocol):
    """What the data rules read: this area and the network's endpoints and AZs."""

    @property
    def data(self) -> DataSettings: ...
    @property
    def network(self) -> NetworkSettings: ...


def data_rules(s: Context, problems: list[str]) -> None:
    """Every store's rules, in this order (the order of their messages)."""
    # Aurora's databases and logins are made by a Job that reads the master secret through interface endpoints.
    problems.extend(endpoint_problems(s.network.interface_endpoints))
    _dynamodb_rules(s, problems)
    _aurora_rules(s, problems)
    _redis_rules(s, problems)
    _opensearch_rules(s, problems)
    _messaging_rules(s, problems)
    _cognito_rules(s, problems)
    _shared_rules(s, problems)


def _dynamodb_rules(s: Context, problems: list[str]) -> None:
    """DynamoDB (products, inventory)."""
    d, k = s.data, "data"
    in_range(problems, f"{k}.dynamodbPitrDays", d.dynamodb_pitr_days, 1, 35, " days")
    if d.dynamodb_billing_mode == "provisioned":
        in_range(problems, f"{k}.dynamodbMinCapacity", d.dynamodb_min_capacity, 1, 40000, " units")
        if d.dynamodb_max_capacity < d.dynamodb_min_capacity:
            problems.append(f"{k}.dynamodbMaxCapacity: {d.dynamodb_max_capacity} is below dynamodbMinCapacity "
                            f"{d.dynamodb_min_capacity}; set min <= max")  # fmt: skip
        in_range(
            problems, f"{k}.dynamodbTargetUtilization", d.dynamodb_target_utilization, 20, 90, " percent"
        )


def _aurora_rules(s: Context, problems: list[str]) -> None:
    """Aurora PostgreSQL (orders, users)."""
    d, k = s.data, "data"
    m = re.fullmatch(r"(\d+)\.(\d+)", d.aurora_engine_version)
    if m is None:
        problems.append(f"{k}.auroraEngineVersion: {d.aurora_engine_version!r} is not a major.minor version such as "
                        "16.6")  # fmt: skip
    elif m.group(1) not in AURORA_POSTGRES_MAJORS:
        problems.append(f"{k}.auroraEngineVersion: major version {m.group(1)} is not supported; allowed majors: "
                        f"{', '.join(AURORA_POSTGRES_MAJORS)}")  # fmt: skip
    if not re.fullmatch(r"db\.(serverless|[a-z0-9]+\.[a-z0-9]+)", d.aurora_instance_class):
        problems.append(f"{k}.auroraInstanceClass: {d.aurora_instance_class!r} is not an RDS class such as "
                        "db.r7g.large or db.serverless")  # fmt: skip
    if d.aurora_instance_class == "db.serverless":
        for key, acu in (
            ("auroraMinCapacity", d.aurora_min_capacity),
            ("auroraMaxCapacity", d.aurora_max_capacity),
        ):
            if not 0 <= acu <= 256 or (acu * 2) % 1 or (key == "auroraMaxCapacity" and acu < 1):
                problems.append(f"{k}.{key}: {acu} is not a Serverless v2 capacity; allowed: 0 (minimum only) or "
                                "0.5 to 256 ACUs in steps of 0.5, a maximum of at least 1")  # fmt: skip
        if d.aurora_min_capacity == 0 and m is not None:
            first = AURORA_AUTO_PAUSE_MINORS.get(m.group(1))
            if first is None or int(m.group(2)) < first:
                allowed = ", ".join(f"{major}.{minor}+" for major, minor in AURORA_AUTO_PAUSE_MINORS.items())
                problems.append(f"{k}.auroraMinCapacity: 0 (auto-pause) needs an Aurora PostgreSQL version that "
                                f"supports it; {d.aurora_engine_version} does not; allowed: {allowed}")  # fmt: skip
        in_range(problems, f"{k}.auroraAutoPauseSeconds", d.aurora_auto_pause_seconds, 300, 86400, " seconds")
        if d.aurora_max_capacity < d.aurora_min_capacity:
            problems.append(f"{k}.auroraMaxCapacity: {d.aurora_max_capacity} is below auroraMinCapacity "
                            f"{d.aurora_min_capacity}; set min <= max")  # fmt: skip
    in_range(
        problems, f"{k}.auroraInstanceCount", d.aurora_instance_count, 1, 16, " (1 writer + up to 15 readers)"
    )
    if d.aurora_multi_az and d.aurora_instance_count < 2:
        problems.append(f"{k}.auroraMultiAz: true with auroraInstanceCount {d.aurora_instance_count}; a multi-AZ "
                        "Aurora cluster needs a reader in another AZ: set auroraInstanceCount to 2 or more")  # fmt: skip
    in_range(problems, f"{k}.auroraBackupRetentionDays", d.aurora_backup_retention_days, 1, 35, " days")
    if d.aurora_monitoring_interval not in RDS_MONITORING_INTERVALS:
        problems.append(f"{k}.auroraMonitoringInterval: {d.aurora_monitoring_interval} is not allowed; allowed: "
                        f"{', '.join(map(str, RDS_MONITORING_INTERVALS))}")  # fmt: skip
    if d.aurora_performance_insights_days not in PERFORMANCE_INSIGHTS_RETENTION_DAYS:
        problems.append(f"{k}.auroraPerformanceInsightsDays: {d.aurora_performance_insights_days} is not allowed; "
                        "allowed: 7, a multiple of 31 up to 713, or 731")  # fmt: skip


def _redis_rules(s: Context, problems: list[str]) -> None:
    """ElastiCache Redis (carts)."""
    d, k = s.data, "data"
    if d.redis_engine_version not in REDIS_OSS_VERSIONS:
        problems.append(f"{k}.redisEngineVersion: {d.redis_engine_version!r} is not an ElastiCache Redis OSS version; "
                        f"allowed: {', '.join(REDIS_OSS_VERSIONS)} (7.1 is the last Redis OSS; 7.2 and 8.x are "
                        "Valkey, another engine)")  # fmt: skip
    if not re.fullmatch(r"cache\.[a-z0-9]+\.[a-z0-9]+", d.redis_node_type):
        problems.append(
            f"{k}.redisNodeType: {d.redis_node_type!r} is not a node type such as cache.t4g.small"
        )
    in_range(problems, f"{k}.redisNodeCount", d.redis_node_count, 1, 6, " (1 primary + up to 5 replicas)")
    if d.redis_automatic_failover and d.redis_node_count < 2:
        problems.append(f"{k}.redisAutomaticFailover: true with redisNodeCount {d.redis_node_count}; ElastiCache "
                        "automatic failover needs at least 2 nodes (a replica to promote)")  # fmt: skip
    if d.redis_multi_az and not d.redis_automatic_failover:
        problems.append(f"{k}.redisMultiAz: true needs redisAutomaticFailover true (ElastiCache rejects multi-AZ "
                        "without automatic failover)")  # fmt: skip
    in_range(problems, f"{k}.redisSnapshotRetentionDays", d.redis_snapshot_retention_days, 0, 35, " days")


def _opensearch_rules(s: Context, problems: list[str]) -> None:
    """OpenSearch (search)."""
    d, k = s.data, "data"
    m = re.fullmatch(r"OpenSearch_(\d+)\.(\d+)", d.opensearch_engine_version)
    if m is None or m.group(1) not in OPENSEARCH_MAJORS:
        problems.append(f"{k}.opensearchEngineVersion: {d.opensearch_engine_version!r} is not a supported version; "
                        f"expected OpenSearch_<major>.<minor> with major {' or '.join(OPENSEARCH_MAJORS)}, "
                        "e.g. OpenSearch_2.17")  # fmt: skip
    for key, typ in (("opensearchInstanceType", d.opensearch_instance_type),
                     ("opensearchDedicatedMasterType", d.opensearch_dedicated_master_type)):  # fmt: skip
        if not re.fullmatch(r"[a-z0-9]+\.[a-z0-9]+\.search", typ):
            problems.append(f"{k}.{key}: {typ!r} is not an OpenSearch instance type such as m7g.large.search")
    in_range(problems, f"{k}.opensearchInstanceCount", d.opensearch_instance_count, 1, 20, " data nodes")
    azs = len(s.network.availability_zones)
    if d.opensearch_zone_awareness:
        if not azs:
            pass  # network.availabilityZones reports the empty list; there is no AZ count to divide by
        elif d.opensearch_instance_count < 2 or d.opensearch_instance_count % azs:
            problems.append(f"{k}.opensearchInstanceCount: {d.opensearch_instance_count} with opensearchZoneAwareness "
                            f"over {azs} AZs; zone awareness needs a data-node count that is a multiple of {azs} "
                            f"(e.g. {azs}, {2 * azs})")  # fmt: skip
    elif d.opensearch_instance_count > 1:
        problems.append(f"{k}.opensearchZoneAwareness: false with {d.opensearch_instance_count} data nodes; more than "
                        "one node in a single subnet gains nothing, turn zone awareness on")  # fmt: skip
    if d.opensearch_dedicated_master_count not in OPENSEARCH_MASTER_COUNTS:
        problems.append(f"{k}.opensearchDedicatedMasterCount: {d.opensearch_dedicated_master_count} is not allowed; "
                        f"allowed: {', '.join(map(str, OPENSEARCH_MASTER_COUNTS))} (an odd quorum)")  # fmt: skip
    if d.opensearch_instance_type.startswith("t3.") and d.opensearch_volume_size > 100:
        problems.append(f"{k}.opensearchVolumeSize: {d.opensearch_volume_size} GiB exceeds the 100 GiB a t3 "
                        "OpenSearch node takes")  # fmt: skip
    in_range(problems, f"{k}.opensearchVolumeSize", d.opensearch_volume_size, 10, 1024, " GiB")


def _messaging_rules(s: Context, problems: list[str]) -> None:
    """SNS and SQS (notifications)."""
    d, k = s.data, "data"
    if not 1 <= d.queue_retention_days <= QUEUE_RETENTION_MAX_DAYS:
        problems.append(f"{k}.queueRetentionDays: {d.queue_retention_days} is out of range; allowed: 1 to "
                        f"{QUEUE_RETENTION_MAX_DAYS} days (a message moved to the dead-letter queue keeps its first "
                        "enqueue time and the DLQ keeps 14 days, SQS's maximum: a longer source retention would let "
                        "dead letters expire before anyone looks)")  # fmt: skip
    in_range(problems, f"{k}.queueMaxReceiveCount", d.queue_max_receive_count, 1, 1000)
    in_range(problems, f"{k}.queueVisibilityTimeout", d.queue_visibility_timeout, 0, 43200, " seconds")


def _cognito_rules(s: Context, problems: list[str]) -> None:
    """Cognito (users)."""
    d, k = s.data, "data"
    if d.cognito_threat_protection != "OFF" and d.cognito_tier != "PLUS":
        problems.append(f"{k}.cognitoThreatProtection: {d.cognito_threat_protection} needs cognitoTier PLUS "
                        f"(it is {d.cognito_tier}); set the tier to PLUS or threat protection to OFF")  # fmt: skip
    in_range(problems, f"{k}.cognitoAccessTokenMinutes", d.cognito_access_token_minutes, 5, 1440, " minutes")
    in_range(problems, f"{k}.cognitoIdTokenMinutes", d.cognito_id_token_minutes, 5, 1440, " minutes")
    in_range(problems, f"{k}.cognitoRefreshTokenDays", d.cognito_refresh_token_days, 1, 3650, " days")
    if d.cognito_refresh_token_days * 1440 <= d.cognito_access_token_minutes:
        problems.append(f"{k}.cognitoRefreshTokenDays: a refresh token must outlive the access token")
    for key, urls in (
        ("cognitoCallbackUrls", d.cognito_callback_urls),
        ("cognitoLogoutUrls", d.cognito_logout_urls),
    ):
        for i, url in enumerate(urls):
            if not re.fullmatch(r"(https://[a-z0-9.-]+|http://localhost)(:\d+)?(/[^\s#]*)?", url):
                problems.append(f"{k}.{key}[{i}]: {url!r} is not allowed; Cognito takes https:// URLs (or "
                                "http://localhost) without a fragment")  # fmt: skip
            elif s.is_prod and re.match(r"https?://localhost(:|/|$)", url):
                problems.append(f"{k}.{key}[{i}]: {url!r} is not allowed in prod; the shop signs in from its own "
                                "domain (a localhost-only list ends in redirect_mismatch, and a localhost URL hands "
                                "authorization codes to whatever listens on that port): use https://<your domain>/..., "
                                "or leave the key unset for https://<edge.domainName>/auth/callback and /")  # fmt: skip


def _shared_rules(s: Context, problems: list[str]) -> None:
    """Logs, keys and secrets of the whole tier."""
    d, k = s.data, "data"
    if d.log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(f"{k}.logRetentionDays: {d.log_retention_days} is not a CloudWatch retention; "
                        f"allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}")  # fmt: skip
    in_range(problems, f"{k}.kmsDeletionWindowDays", d.kms_deletion_window_days, 7, 30, " days")
    w = d.secret_recovery_window_days
    if w != 0 and not 7 <= w <= 30:
        problems.append(
            f"{k}.secretRecoveryWindowDays: {w} is not allowed; allowed: 0 (delete at once) or 7 to 30"
        )
    if s.protect_data and w == 0:
        problems.append(f"{k}.secretRecoveryWindowDays: 0 with protectData true; protected stacks keep deleted "
                        "secrets recoverable (7 to 30)")  # fmt: skip
