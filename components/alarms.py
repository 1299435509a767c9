"""The alarm catalogue: AWS's recommended alarms for every kind of resource this program runs, as data.

Each `AlarmSpec` is one row of AWS's own guidance — metric, statistic, period, datapoints out of evaluation periods,
comparison and threshold — with the page it comes from (`SOURCES`). Where AWS says the threshold "depends on your
workload", the row says what we chose and why (`note`). Where AWS gives the threshold as a share of something the
stack sizes (memory, volume, `max_connections`), the row carries the share and names what it is a share of
(`derived`); `Observability` turns it into a number per resource from the settings. A stack overrides any
threshold with `observability.alarmThresholds.<id>` (a share for derived rows).

The component builds one alarm per (row, resource) from this table, the dashboards draw one widget per row, the
coverage test checks every resource of a covered type has every row of its kind, and `docs/alarms.md` prints it
(`python -m tools.alarms_table`). Nothing here creates resources or reads configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Comparison = Literal[
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
]
Tier = Literal["edge", "data", "cluster", "network", "lake"]

#: The pages the rows come from; each row names one key.
SOURCES: Mapping[str, str] = {
    "cw-recommended": "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/"
    "Best_Practice_Recommended_Alarms_AWS_Services.html",
    "opensearch-recommended": "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/"
    "cloudwatch-alarms.html",
    "aurora-max-connections": "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/"
    "AuroraPostgreSQL.Managing.html#AuroraPostgreSQL.Managing.MaxConnections",
    "sqs-dlq": "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/"
    "sqs-dead-letter-queues.html",
    "container-insights-metrics": "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/"
    "Container-Insights-metrics-enhanced-EKS.html",
    "firehose-metrics": "https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html",
    "glue-metrics": "https://docs.aws.amazon.com/glue/latest/dg/monitoring-awsglue-with-cloudwatch-metrics.html",
    "synthetics-metrics": "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/"
    "CloudWatch_Synthetics_Canaries_metrics.html",
    "s3-replication-metrics": "https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html",
    "dynamodb-global-tables-monitoring": "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
    "V2globaltables_monitoring.html",
    "aurora-cluster-metrics": "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/"
    "Aurora.AuroraMonitoring.Metrics.html#Aurora.AuroraMySQL.Monitoring.Metrics.clusters",
    "backup-metrics": "https://docs.aws.amazon.com/aws-backup/latest/devguide/cloudwatch.html",
}


@dataclass(frozen=True)
class AlarmSpec:
    """One recommended alarm for one kind of resource."""

    id: str
    """Stable id: the alarm's name suffix, the key of `observability.alarmThresholds`."""
    kind: str
    """The kind of resource it watches (a key of `KINDS`)."""
    namespace: str
    metric: str
    statistic: str
    period: int
    """Seconds."""
    evaluation_periods: int
    datapoints: int
    comparison: Comparison
    threshold: float
    """The threshold, or for a `derived` row the share of the derived quantity."""
    source: str
    """A key of `SOURCES`."""
    summary: str
    """What it means when it fires (the alarm description; what pages you)."""
    derived: str = ""
    """What `threshold` is a share of, when AWS gives a share: 'memory', 'volume', 'max_connections'."""
    note: str = ""
    """Why the threshold is ours where AWS leaves it to the workload."""
    treat_missing: str = "notBreaching"
    dimensions: Mapping[str, str] = field(default_factory=dict)
    """Fixed dimensions besides the resource's own (Aurora's Role, CloudFront's Region)."""
    expression: str = ""
    """Metric math over `m1` (this row's metric) and `EXTRA_METRICS[id]`, when the alarm is on a rate."""
    shop_down: bool = False
    """Part of the composite "shop is down" alarm (an entry-point signal)."""


@dataclass(frozen=True)
class Kind:
    """A kind of watched resource: its tier, namespace and the region its metrics live in."""

    tier: Tier
    label: str
    global_metrics: bool = False
    """Metrics published in us-east-1 whatever the stack's region (CloudFront, CloudFront's WAF)."""
    dr_region_metrics: bool = False
    """Metrics published in the DR region only (an Aurora global database's lag, reported for its secondary)."""


KINDS: Mapping[str, Kind] = {
    "aurora-writer": Kind("data", "Aurora cluster, WRITER role"),
    "aurora-reader": Kind("data", "Aurora cluster, READER role (with readers)"),
    "redis-node": Kind("data", "ElastiCache Redis node"),
    "opensearch-domain": Kind("data", "OpenSearch domain"),
    "opensearch-masters": Kind("data", "OpenSearch domain with dedicated masters"),
    "dynamodb-table": Kind("data", "DynamoDB table"),
    "sqs-queue": Kind("data", "SQS work queue"),
    "sqs-dlq": Kind("data", "SQS dead-letter queue"),
    "sns-topic": Kind("data", "SNS topic"),
    "alb": Kind("edge", "Application Load Balancer"),
    "alb-target-group": Kind("edge", "ALB target group"),
    "cloudfront": Kind("edge", "CloudFront distribution", global_metrics=True),
    "waf-cloudfront": Kind("edge", "WAF web ACL (CloudFront scope)", global_metrics=True),
    "canary": Kind("edge", "Synthetics canary"),
    "nat-gateway": Kind("network", "NAT gateway"),
    "eks-cluster": Kind("cluster", "EKS cluster (Container Insights)"),
    "firehose": Kind("lake", "Firehose delivery stream"),
    "glue-job": Kind("lake", "Glue job"),
    "s3-replication": Kind(
        "data", "S3 replication rule to the DR replica (SourceBucket, DestinationBucket, RuleId)"
    ),
    "dynamodb-replica": Kind(
        "data", "DynamoDB global-table replica in the DR region (TableName, ReceivingRegion)"
    ),
    "aurora-secondary": Kind(
        "data",
        "Aurora global database secondary cluster in the DR region (DBClusterIdentifier)",
        dr_region_metrics=True,
    ),
    "backup-copy": Kind(
        "data", "AWS Backup vault whose recovery points are copied to the DR region (BackupVaultName)"
    ),
    "standby-target-group": Kind(
        "edge", "Warm standby: the DR ALB's target group of a public service with a published image"
    ),
}

_CW = "cw-recommended"
_OS = "opensearch-recommended"

ALARMS: tuple[AlarmSpec, ...] = (
    # --- Aurora PostgreSQL, on the cluster's role metrics (DBClusterIdentifier + Role) ---
    AlarmSpec("aurora-writer-cpu", "aurora-writer", "AWS/RDS", "CPUUtilization", "Average", 60, 5, 5,
              "GreaterThanThreshold", 90, _CW, "The writer's CPU has been above 90% for 5 minutes: queries queue.",
              dimensions={"Role": "WRITER"}),
    AlarmSpec("aurora-writer-memory", "aurora-writer", "AWS/RDS", "FreeableMemory", "Average", 60, 15, 15,
              "LessThanThreshold", 0.25, _CW, "The writer has had less than a quarter of its memory free for 15 "
              "minutes.", derived="memory", dimensions={"Role": "WRITER"}),
    AlarmSpec("aurora-writer-connections", "aurora-writer", "AWS/RDS", "DatabaseConnections", "Average", 60, 5, 5,
              "GreaterThanThreshold", 0.9, "aurora-max-connections", "The writer is above 90% of max_connections: "
              "new connections will soon be refused.", derived="max_connections",
              note="AWS: 'depends on max_connections'; 90% of LEAST(DBInstanceClassMemory/9531392, 5000)",
              dimensions={"Role": "WRITER"}),
    AlarmSpec("aurora-reader-cpu", "aurora-reader", "AWS/RDS", "CPUUtilization", "Average", 60, 5, 5,
              "GreaterThanThreshold", 90, _CW, "The readers' CPU has been above 90% for 5 minutes.",
              dimensions={"Role": "READER"}),
    AlarmSpec("aurora-reader-memory", "aurora-reader", "AWS/RDS", "FreeableMemory", "Average", 60, 15, 15,
              "LessThanThreshold", 0.25, _CW, "A reader has had less than a quarter of its memory free for 15 "
              "minutes.", derived="memory", dimensions={"Role": "READER"}),
    AlarmSpec("aurora-reader-lag", "aurora-reader", "AWS/RDS", "AuroraReplicaLag", "Maximum", 60, 5, 5,
              "GreaterThanThreshold", 2000, _CW, "A reader is more than 2 s behind the writer: reads are stale "
              "and a failover would lose time.", note="AWS: 'depends on the tolerance for stale reads'; 2000 ms",
              dimensions={"Role": "READER"}),
    # --- ElastiCache Redis, per node (CacheClusterId) ---
    AlarmSpec("redis-engine-cpu", "redis-node", "AWS/ElastiCache", "EngineCPUUtilization", "Average", 60, 5, 5,
              "GreaterThanThreshold", 90, _CW, "The Redis engine thread has been above 90% CPU for 5 minutes."),
    AlarmSpec("redis-memory", "redis-node", "AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "Average", 60, 5,
              5, "GreaterThanThreshold", 80, _CW, "Redis has used more than 80% of its memory for 5 minutes: "
              "evictions follow."),
    AlarmSpec("redis-evictions", "redis-node", "AWS/ElastiCache", "Evictions", "Sum", 60, 5, 5,
              "GreaterThanThreshold", 0, _CW, "Redis evicts keys: carts are being dropped for memory.",
              note="AWS: 'depends on the application'; carts must never be evicted, so any eviction"),
    AlarmSpec("redis-replication-lag", "redis-node", "AWS/ElastiCache", "ReplicationLag", "Average", 60, 15, 15,
              "GreaterThanThreshold", 1, _CW, "A replica has been more than 1 s behind the primary for 15 minutes.",
              note="AWS: 'depends on the tolerance'; 1 s (only replicas report it)"),
    # --- OpenSearch (DomainName + ClientId), AWS's own table ---
    AlarmSpec("search-red", "opensearch-domain", "AWS/ES", "ClusterStatus.red", "Maximum", 60, 1, 1,
              "GreaterThanOrEqualToThreshold", 1, _OS, "A primary shard and its replicas are unallocated: "
              "searches fail.", shop_down=False),
    AlarmSpec("search-yellow", "opensearch-domain", "AWS/ES", "ClusterStatus.yellow", "Maximum", 60, 5, 5,
              "GreaterThanOrEqualToThreshold", 1, _OS, "A replica shard has been unallocated for 5 minutes.",
              note="Single-node domains (dev) have no replicas to allocate and would stay yellow; the component "
              "skips this row there"),
    AlarmSpec("search-free-storage", "opensearch-domain", "AWS/ES", "FreeStorageSpace", "Minimum", 60, 1, 1,
              "LessThanOrEqualToThreshold", 0.25, _OS, "A node is down to a quarter of its volume: writes are "
              "blocked at the flood-stage watermark.", derived="volume",
              note="AWS: 20480 MiB, or rather 25% of each node's storage; 25% of opensearchVolumeSize in MiB"),
    AlarmSpec("search-writes-blocked", "opensearch-domain", "AWS/ES", "ClusterIndexWritesBlocked", "Maximum", 300, 1,
              1, "GreaterThanOrEqualToThreshold", 1, _OS, "The domain blocks writes (ClusterBlockException)."),
    AlarmSpec("search-snapshot-failure", "opensearch-domain", "AWS/ES", "AutomatedSnapshotFailure", "Maximum", 60,
              1, 1, "GreaterThanOrEqualToThreshold", 1, _OS, "An automated snapshot failed."),
    AlarmSpec("search-cpu", "opensearch-domain", "AWS/ES", "CPUUtilization", "Maximum", 900, 3, 3,
              "GreaterThanOrEqualToThreshold", 80, _OS, "Data nodes have been at 80% CPU or more for 45 minutes."),
    AlarmSpec("search-jvm-pressure", "opensearch-domain", "AWS/ES", "JVMMemoryPressure", "Maximum", 60, 3, 3,
              "GreaterThanOrEqualToThreshold", 95, _OS, "JVM memory pressure at 95%: out-of-memory errors are "
              "near."),
    AlarmSpec("search-kms-error", "opensearch-domain", "AWS/ES", "KMSKeyError", "Maximum", 60, 1, 1,
              "GreaterThanOrEqualToThreshold", 1, _OS, "The domain's KMS key is disabled."),
    AlarmSpec("search-kms-inaccessible", "opensearch-domain", "AWS/ES", "KMSKeyInaccessible", "Maximum", 60, 1, 1,
              "GreaterThanOrEqualToThreshold", 1, _OS, "The domain's KMS key was deleted or its grants revoked."),
    AlarmSpec("search-master-cpu", "opensearch-masters", "AWS/ES", "MasterCPUUtilization", "Maximum", 900, 3, 3,
              "GreaterThanOrEqualToThreshold", 50, _OS, "The dedicated masters have been at 50% CPU or more for "
              "45 minutes."),
    AlarmSpec("search-master-jvm-pressure", "opensearch-masters", "AWS/ES", "MasterJVMMemoryPressure", "Maximum",
              60, 3, 3, "GreaterThanOrEqualToThreshold", 95, _OS, "The dedicated masters' JVM memory pressure is "
              "at 95%."),
    # --- DynamoDB (TableName) ---
    AlarmSpec("dynamodb-read-throttles", "dynamodb-table", "AWS/DynamoDB", "ReadThrottleEvents", "Sum", 60, 5, 5,
              "GreaterThanThreshold", 0, _CW, "Reads are being throttled.",
              note="AWS: 'depends on expected traffic'; on-demand tables should not throttle at all"),
    AlarmSpec("dynamodb-write-throttles", "dynamodb-table", "AWS/DynamoDB", "WriteThrottleEvents", "Sum", 60, 5, 5,
              "GreaterThanThreshold", 0, _CW, "Writes are being throttled.",
              note="AWS: 'depends on expected traffic'; on-demand tables should not throttle at all"),
    AlarmSpec("dynamodb-system-errors", "dynamodb-table", "AWS/DynamoDB", "SystemErrors", "Sum", 60, 15, 15,
              "GreaterThanThreshold", 0, _CW, "DynamoDB has returned HTTP 500s for 15 minutes.",
              note="AWS: 'depends on expected traffic'; any sustained server error"),
    # --- SQS (QueueName) ---
    AlarmSpec("sqs-oldest-message", "sqs-queue", "AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", 60, 15, 15,
              "GreaterThanOrEqualToThreshold", 900, _CW, "A message has waited 15 minutes: the consumer is down "
              "or behind.", note="AWS: 'depends on the expected processing time'; 900 s (notifications)"),
    AlarmSpec("sqs-dlq-messages", "sqs-dlq", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", 60, 1, 1,
              "GreaterThanThreshold", 0, "sqs-dlq", "A message reached the dead-letter queue: a notification "
              "failed every retry."),
    # --- SNS (TopicName) ---
    AlarmSpec("sns-failed-deliveries", "sns-topic", "AWS/SNS", "NumberOfNotificationsFailed", "Sum", 60, 5, 5,
              "GreaterThanThreshold", 0, _CW, "SNS failed to deliver messages to a subscriber.",
              note="AWS: 'depends on the tolerance'; subscribers are our own queues, so any failure"),
    # --- ALB (LoadBalancer; target groups add TargetGroup) ---
    AlarmSpec("alb-elb-5xx", "alb", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "Sum", 60, 5, 5,
              "GreaterThanThreshold", 10, _CW, "The load balancer itself answers 5xx (no healthy target, "
              "timeouts).", note="AWS: 'depends on traffic'; 10 a minute", shop_down=True),
    AlarmSpec("alb-target-5xx", "alb", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", 60, 5, 5,
              "GreaterThanThreshold", 10, _CW, "The services answer 5xx.",
              note="AWS: 'depends on traffic'; 10 a minute", shop_down=True),
    AlarmSpec("alb-rejected-connections", "alb", "AWS/ApplicationELB", "RejectedConnectionCount", "Sum", 60, 5, 5,
              "GreaterThanThreshold", 0, _CW, "The load balancer rejected connections at its maximum."),
    AlarmSpec("alb-unhealthy-hosts", "alb-target-group", "AWS/ApplicationELB", "UnHealthyHostCount", "Maximum", 60,
              5, 5, "GreaterThanThreshold", 0, _CW, "A service has had an unhealthy target for 5 minutes.",
              note="AWS recommends HealthyHostCount below a minimum; that one would ring for every service that "
              "runs 0 replicas until its first image is published, so unhealthy > 0 instead"),
    # --- The warm standby's target groups (published public services only; the DR ALB's other rows are `alb`'s) ---
    AlarmSpec("standby-no-healthy-targets", "standby-target-group", "AWS/ApplicationELB", "HealthyHostCount",
              "Minimum", 60, 10, 10, "LessThanThreshold", 1, _CW, "A published service has had no healthy target "
              "in the warm standby for 10 minutes: a failover now would move the API to a region that cannot "
              "serve it.", treat_missing="breaching",
              note="AWS's HealthyHostCount row, with the standby's own minimum: at rest it runs one replica per "
              "service (dr.standbyWorkloadProfile small), so healthy at rest is 1 and the threshold is below 1, "
              "never the primary's replica count. Published services only (an unpublished one runs 0 replicas "
              "everywhere). HealthyHostCount is reported whenever health checks are on, traffic or not (ELB "
              "user guide, target group health metrics), so an idle standby still reports it, and no data "
              "means no ALB answering. 10 minutes: a node replacement reschedules the single replica"),
    # --- CloudFront (DistributionId, Region=Global; metrics in us-east-1) ---
    AlarmSpec("cloudfront-5xx-rate", "cloudfront", "AWS/CloudFront", "5xxErrorRate", "Average", 60, 5, 5,
              "GreaterThanThreshold", 5, _CW, "More than 5% of viewer requests end in a 5xx.",
              note="AWS: 'depends on the tolerance'; 5%", dimensions={"Region": "Global"}),
    # --- WAF (WebACL, Rule=ALL; CloudFront scope: us-east-1) ---
    AlarmSpec("waf-blocked-spike", "waf-cloudfront", "AWS/WAFV2", "BlockedRequests", "Sum", 300, 1, 1,
              "GreaterThanThreshold", 1000, _CW, "WAF blocked more than 1000 requests in 5 minutes: an attack or "
              "a rule blocking customers.", note="AWS: 'depends on traffic'; 1000 per 5 minutes",
              dimensions={"Rule": "ALL"}),
    # --- Synthetics (CanaryName) ---
    AlarmSpec("canary-success", "canary", "CloudWatchSynthetics", "SuccessPercent", "Average", 300, 1, 1,
              "LessThanThreshold", 90, "synthetics-metrics", "The storefront or the API failed a synthetic run "
              "from outside the VPC.", treat_missing="breaching", shop_down=True,
              note="A canary that stops reporting counts as failing; the period stretches to the canary's "
              "interval (observability.canaryIntervalMinutes) so the gaps between runs are not missing data"),
    # --- NAT gateway (NatGatewayId) ---
    AlarmSpec("nat-port-allocation", "nat-gateway", "AWS/NATGateway", "ErrorPortAllocation", "Sum", 60, 15, 15,
              "GreaterThanThreshold", 0, _CW, "The NAT gateway could not allocate a source port (too many "
              "connections to one destination: Stripe calls fail)."),
    AlarmSpec("nat-packets-dropped", "nat-gateway", "AWS/NATGateway", "PacketsDropCount", "Sum", 60, 5, 5,
              "GreaterThanThreshold", 0.01, _CW, "The NAT gateway drops more than 0.01% of its packets.",
              expression="100 * m1 / (m2 + m3)",
              note="AWS: 0.01% of total traffic; as a rate over PacketsInFromSource + PacketsInFromDestination"),
    # --- EKS, Container Insights (ClusterName) ---
    AlarmSpec("eks-nodes-failed", "eks-cluster", "ContainerInsights", "cluster_failed_node_count", "Maximum", 60, 3,
              3, "GreaterThanThreshold", 0, _CW, "A node has been NotReady for 3 minutes."),
    AlarmSpec("eks-node-cpu", "eks-cluster", "ContainerInsights", "node_cpu_utilization", "Average", 60, 5, 5,
              "GreaterThanThreshold", 80, _CW, "Nodes average above 80% CPU: pods are throttled, the autoscaler "
              "lags."),
    AlarmSpec("eks-node-memory", "eks-cluster", "ContainerInsights", "node_memory_utilization", "Average", 60, 5, 5,
              "GreaterThanThreshold", 80, _CW, "Nodes average above 80% memory: evictions follow."),
    AlarmSpec("eks-pod-restarts", "eks-cluster", "ContainerInsights", "pod_number_of_container_restarts", "Sum",
              300, 1, 1, "GreaterThanThreshold", 5, "container-insights-metrics", "Containers of the services "
              "restarted more than 5 times in 5 minutes (crash loop).", dimensions={"Namespace": "ecommerce"},
              note="Not on AWS's list; Container Insights' restart count per namespace, 5 in 5 minutes"),
    # --- The lake (built on branch `lake`; wired once its outputs are passed) ---
    AlarmSpec("firehose-delivery-failed", "firehose", "AWS/Firehose", "DeliveryToS3.Success", "Minimum", 300, 1, 1,
              "LessThanThreshold", 1, "firehose-metrics", "A Firehose delivery to the lake bucket failed "
              "(records are retried, then land in the error prefix)."),
    AlarmSpec("glue-job-failed-tasks", "glue-job", "Glue", "glue.driver.aggregate.numFailedTasks", "Sum", 300, 1, 1,
              "GreaterThanThreshold", 0, "glue-metrics", "A Glue job run had failed tasks.",
              dimensions={"JobRunId": "ALL", "Type": "count"}),
    # --- Disaster recovery: replication to the DR region (DisasterRecovery's outputs; none with dr.mode off) ---
    AlarmSpec("s3-replication-failed", "s3-replication", "AWS/S3", "OperationsFailedReplication", "Sum", 60, 1, 1,
              "GreaterThanThreshold", 0, "s3-replication-metrics", "An object failed to replicate to its DR "
              "replica: it stays behind until re-copied (S3 Batch Replication), so the DR copy is incomplete.",
              note="Any failure: each one is an object missing in the DR region. S3 emits the metric only with "
              "replication metrics on the rule (DisasterRecovery turns them on, with or without RTC)"),
    AlarmSpec("dynamodb-replication-latency", "dynamodb-replica", "AWS/DynamoDB", "ReplicationLatency", "Average",
              60, 15, 15, "GreaterThanThreshold", 60000, "dynamodb-global-tables-monitoring", "Writes have taken "
              "more than a minute to reach the DR replica for 15 minutes: a failover now would lose that much.",
              note="AWS: 'should be fairly constant'; the runbook promises an RPO of seconds, so 60 s sustained "
              "for 15 minutes. Published in the writing region per ReceivingRegion"),
    AlarmSpec("aurora-global-rpo-lag", "aurora-secondary", "AWS/RDS", "AuroraGlobalDBRPOLag", "Maximum", 60, 5, 5,
              "GreaterThanThreshold", 30000, "aurora-cluster-metrics", "Committed transactions have taken more than "
              "30 s to reach the DR region's secondary for 5 minutes: an unplanned failover now loses that much.",
              note="AWS: the metric for every Aurora PostgreSQL global database (the lag of user transactions), "
              "'available only in secondary AWS Regions', so the alarm lives in drRegion; lag is typically under "
              "a second, 30 s sustained breaks the runbook's RPO"),
    AlarmSpec("backup-copy-failed", "backup-copy", "AWS/Backup", "NumberOfCopyJobsFailed", "Sum", 86400, 1, 1,
              "GreaterThanThreshold", 0, "backup-metrics", "The day's Aurora snapshot did not reach the DR vault: "
              "the only DR copy to go back to before a bad write is a day older than it should be.",
              note="Any failure: one copy a day. Per source vault (BackupVaultName), in the region the copy job "
              "runs in, the source's; a day's period matches the daily plan"),
)  # fmt: skip

#: Further metrics a rate alarm's expression reads (`m2`, `m3`, ... in order), besides its own `m1`.
EXTRA_METRICS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "nat-packets-dropped": (("PacketsInFromSource", "Sum"), ("PacketsInFromDestination", "Sum")),
}

#: Context the overview dashboard shows beside the alarms' metrics: request rate and latency at the entry points and
#: the cluster's size ((kind, namespace, metric, statistic, fixed dimensions)).
OVERVIEW_CONTEXT: tuple[tuple[str, str, str, str, Mapping[str, str]], ...] = (
    ("cloudfront", "AWS/CloudFront", "Requests", "Sum", {"Region": "Global"}),
    ("alb", "AWS/ApplicationELB", "RequestCount", "Sum", {}),
    ("alb", "AWS/ApplicationELB", "TargetResponseTime", "p99", {}),
    ("eks-cluster", "ContainerInsights", "cluster_node_count", "Maximum", {}),
)

#: The dimension naming the watched resource, per kind (the value comes from the watched component's outputs).
RESOURCE_DIMENSION: Mapping[str, str] = {
    "aurora-writer": "DBClusterIdentifier",
    "aurora-reader": "DBClusterIdentifier",
    "redis-node": "CacheClusterId",
    "opensearch-domain": "DomainName",
    "opensearch-masters": "DomainName",
    "dynamodb-table": "TableName",
    "sqs-queue": "QueueName",
    "sqs-dlq": "QueueName",
    "sns-topic": "TopicName",
    "alb": "LoadBalancer",
    "alb-target-group": "TargetGroup",
    "cloudfront": "DistributionId",
    "waf-cloudfront": "WebACL",
    "canary": "CanaryName",
    "nat-gateway": "NatGatewayId",
    "eks-cluster": "ClusterName",
    "firehose": "DeliveryStreamName",
    "glue-job": "JobName",
    "s3-replication": "SourceBucket",
    "dynamodb-replica": "TableName",
    "aurora-secondary": "DBClusterIdentifier",
    "backup-copy": "BackupVaultName",
    "standby-target-group": "TargetGroup",
}


def of_kind(kind: str) -> tuple[AlarmSpec, ...]:
    """The catalogue's rows for one kind of resource."""
    if kind not in KINDS:
        raise KeyError(f"unknown resource kind {kind!r}; known: {', '.join(KINDS)}")
    return tuple(a for a in ALARMS if a.kind == kind)


def by_id(alarm_id: str) -> AlarmSpec:
    for a in ALARMS:
        if a.id == alarm_id:
            return a
    raise KeyError(f"unknown alarm id {alarm_id!r}")


# --- derived thresholds --------------------------------------------------------------------------------------------

#: Memory of the Aurora instance classes the stacks use (GiB); Serverless v2 has 2 GiB per ACU.
AURORA_CLASS_MEMORY_GIB: Mapping[str, float] = {
    "db.t4g.medium": 4, "db.t4g.large": 8, "db.r6g.large": 16, "db.r6g.xlarge": 32, "db.r7g.large": 16,
    "db.r7g.xlarge": 32, "db.r7g.2xlarge": 64, "db.r8g.large": 16, "db.r8g.xlarge": 32,
}  # fmt: skip
SERVERLESS_GIB_PER_ACU = 2
GIB = 1024**3


def aurora_memory_bytes(instance_class: str, max_acu: float) -> float:
    """An Aurora instance's memory: the class's, or Serverless v2's at its maximum capacity (2 GiB per ACU)."""
    if instance_class == "db.serverless":
        return max_acu * SERVERLESS_GIB_PER_ACU * GIB
    if instance_class not in AURORA_CLASS_MEMORY_GIB:
        raise KeyError(
            f"data.auroraInstanceClass {instance_class!r} has no memory figure in components/alarms.py "
            f"AURORA_CLASS_MEMORY_GIB; add it (RDS instance class table) so its memory alarms get a threshold"
        )
    return AURORA_CLASS_MEMORY_GIB[instance_class] * GIB


def aurora_max_connections(instance_class: str, max_acu: float) -> int:
    """Aurora PostgreSQL's default max_connections: LEAST({DBInstanceClassMemory/9531392}, 5000)."""
    return int(min(aurora_memory_bytes(instance_class, max_acu) // 9531392, 5000))


def opensearch_volume_mib(volume_gib: int) -> float:
    """FreeStorageSpace is reported in MiB per node."""
    return volume_gib * 1024.0


def threshold_for(spec: AlarmSpec, *, share: float, quantity: float) -> float:
    """A derived row's threshold: its share of the quantity (rounded to whole units)."""
    return float(round(share * quantity))
