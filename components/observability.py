"""Observability: who is told, and when, that the shop or one of its stores is unwell.

One alarm topic (SNS, encrypted with a customer key CloudWatch may use, a topic policy that lets only this
account's alarms publish) with the stack's e-mail and webhook subscribers; AWS's recommended alarms, from the
catalogue in `components/alarms.py`, for every store, entry point and NAT gateway the other components created
(and the lake's, once its outputs are passed); a composite "shop is down" alarm over the entry-point signals;
Container Insights through the `amazon-cloudwatch-observability` EKS add-on with its own IRSA role and per-stack
log groups; a Synthetics canary loading the storefront and one `/api` path from outside the VPC; dashboards drawn
from the same catalogue. Every alarm sends ALARM and OK to the topic of its region.

CloudFront and its WAF publish their metrics in us-east-1 only, and an alarm notifies a topic in its own region:
those alarms, a second topic and its key live in us-east-1 (`region=`), with the same subscribers.

What it must not do: create or change the resources it watches (it takes their typed outputs), duplicate the EKS
control-plane log group (`ServiceMesh` creates it before the cluster), or give the add-on the node role.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import alarms as catalogue
from components import buckets, iam
from components.alarms import AlarmSpec
from components.config import Settings
from components.naming import stateful, tags

COMPONENT = "observability"
#: CloudFront and CloudFront-scope WAF metrics exist only here (CloudFront developer guide, "Monitoring").
GLOBAL_METRICS_REGION = "us-east-1"
#: The add-on's service account: the CloudWatch agent and Fluent Bit both run as it (EKS user guide, "Amazon
#: CloudWatch Observability agent": eksctl create iamserviceaccount --name cloudwatch-agent --namespace
#: amazon-cloudwatch; the chart's fluent-bit DaemonSet sets serviceAccountName: cloudwatch-agent).
INSIGHTS_NAMESPACE, INSIGHTS_SERVICE_ACCOUNT = "amazon-cloudwatch", "cloudwatch-agent"
INSIGHTS_ADDON = "amazon-cloudwatch-observability"
#: The log groups the add-on's agent (performance, EMF) and Fluent Bit (application, host, dataplane) write to.
INSIGHTS_LOG_GROUPS = ("application", "dataplane", "host", "performance")
#: Synthetics Node.js runtime (CloudWatch user guide, "Synthetics runtime versions"); bump it when AWS deprecates it.
CANARY_RUNTIME = "syn-nodejs-puppeteer-9.1"
CANARY_HANDLER_FILE = "shopCanary"
#: Loads the storefront and the API path through CloudFront, as a customer would; any non-2xx fails the run.
CANARY_SCRIPT = """\
const synthetics = require('Synthetics');
const https = require('https');

function get(url) {
  return new Promise((resolve, reject) => {
    https.get(url, { headers: { 'User-Agent': synthetics.getCanaryUserAgentString() } }, (res) => {
      res.resume();
      if (res.statusCode < 200 || res.statusCode > 299) {
        reject(new Error(url + ' answered ' + res.statusCode));
      } else {
        resolve();
      }
    }).on('error', reject);
  });
}

exports.handler = async () => {
  const site = process.env.SITE_URL;
  await synthetics.executeStep('storefront', () => get(site + '/'));
  await synthetics.executeStep('api', () => get(site + process.env.API_PATH));
};
"""


@dataclass(frozen=True)
class WatchedData:
    """The DataTier's outputs the alarms need."""

    aurora_cluster_identifier: pulumi.Input[str]
    redis_member_clusters: pulumi.Output[Sequence[str]]
    search_domain_name: pulumi.Input[str]
    table_names: Mapping[str, pulumi.Input[str]]
    queue_names: Mapping[str, pulumi.Input[str]]
    dead_letter_queue_names: Mapping[str, pulumi.Input[str]]
    topic_names: Mapping[str, pulumi.Input[str]]


@dataclass(frozen=True)
class WatchedCluster:
    """The ServiceMesh's outputs: the cluster (for Container Insights) and the ALB."""

    cluster_name: str
    nodes_ready_cluster_name: pulumi.Output[str]
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    control_plane_log_group_name: pulumi.Input[str]
    alb_arn_suffix: pulumi.Input[str]
    target_group_arn_suffixes: Mapping[str, pulumi.Input[str]]


@dataclass(frozen=True)
class WatchedEdge:
    """CdnEdge's outputs: the public entry."""

    distribution_id: pulumi.Input[str]
    web_acl_name: pulumi.Input[str]
    site_url: pulumi.Input[str]


@dataclass(frozen=True)
class WatchedLake:
    """The AnalyticsLake's outputs (None when `lake.enabled` is off): role -> name."""

    firehose_stream_names: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    glue_job_names: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    dead_letter_queue_names: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """The lake's dead-letter queues (the order-event subscription's): alarmed like the DataTier's."""


@dataclass(frozen=True)
class WatchedDr:
    """DisasterRecovery's outputs (None when `dr.mode` is off): what replicates to the DR region."""

    receiving_region: str
    """The DR region: DynamoDB's `ReceivingRegion` dimension (the metric is published in the writing region)."""
    replication_rule_id: str
    """The S3 replication rule's id: the `RuleId` dimension of the S3 replication metrics."""
    bucket_replications: Mapping[str, tuple[pulumi.Input[str], pulumi.Input[str]]] = field(
        default_factory=dict
    )
    """role -> (source bucket name, DR replica bucket name): `SourceBucket` and `DestinationBucket`."""
    replicated_table_names: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """role -> the name of a table with a live replica in the DR region (pilot light and up)."""
    aurora_secondaries: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """role -> the identifier of an Aurora global database's secondary cluster in the DR region (pilot light and
    up): `DBClusterIdentifier` of its lag metric, which AWS publishes in the DR region only."""
    backup_copy_vaults: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """role -> the primary-region vault whose recovery points AWS Backup copies to the DR region."""
    standby_queue_names: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    standby_dead_letter_queue_names: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    standby_topic_names: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """role -> the warm standby's own queues, DLQs and topics (`StandbyMessaging`), alarmed like the DataTier's, in
    the DR region, where SQS and SNS publish their metrics."""


@dataclass(frozen=True)
class WatchedStandby:
    """The warm standby's outputs (`warm_standby(...)`, `dr.mode` warm-standby): what runs in the DR region and
    would take the API at failover. Its metrics are published there, so its alarms live there."""

    region: str
    """The DR region: where the DR cluster, its ALB, cache, NAT and the Aurora secondary publish their metrics."""
    alb_arn_suffix: pulumi.Input[str]
    target_group_arn_suffixes: Mapping[str, pulumi.Input[str]]
    """service -> the DR ALB's target group of that public service (`LoadBalancer`/`TargetGroup` dimensions)."""
    serving_services: Sequence[str]
    """The public services with a published image: the ones that run a replica in the standby at rest."""
    cache_member_clusters: pulumi.Output[Sequence[str]]
    """The DR carts cache's member clusters (`StandbyCarts`): `CacheClusterId` per node."""
    cache_nodes: int
    """How many there are (known before deployment, unlike their ids)."""
    nat_gateway_ids: Sequence[pulumi.Input[str]]
    """The DR VPC's NAT gateway(s): the standby's egress to Stripe and AWS's APIs."""
    database_cluster_identifier: pulumi.Input[str]
    """The Aurora global database's secondary, which has one instance in warm standby (READER until promoted)."""


@dataclass(frozen=True)
class Target:
    """One watched resource: its kind, a short label for names, and its dimension value."""

    kind: str
    label: str
    value: pulumi.Input[str]
    extra: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    region: str | None = None
    """The region its metrics are published in, when it is not the kind's (a resource in the DR region)."""


def _regional(name: str, region: str | None) -> str:
    """A per-region child's suffix: `name` in the stack's region, `global-<name>` in us-east-1 (where CloudFront's
    metrics are), `<region>-<name>` elsewhere (a DR region other than us-east-1)."""
    if region is None:
        return name
    prefix = "global" if region == GLOBAL_METRICS_REGION else region
    return f"{prefix}-{name}" if name else f"-{prefix}"


def _nth(index: int) -> Callable[[Sequence[str]], str]:
    """The `index`-th of a replication group's member clusters, in name order (`<group>-001`, `-002`, ...)."""
    return lambda members: sorted(members)[index]


class Observability(pulumi.ComponentResource):
    """Alarm topics, the catalogue's alarms, the composite, Container Insights, the canary and dashboards."""

    alarm_topic_arn: pulumi.Output[str]
    global_alarm_topic_arn: pulumi.Output[str]
    alarm_names: dict[str, pulumi.Output[str]]
    shop_down_alarm_name: pulumi.Output[str]
    dashboard_names: dict[str, pulumi.Output[str]]
    canary_name: pulumi.Output[str]
    canary_artifacts_bucket: pulumi.Output[str]
    application_log_group_name: pulumi.Output[str] | None
    control_plane_log_group_name: pulumi.Input[str]

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        nat_gateway_ids: Sequence[pulumi.Input[str]],
        data: WatchedData,
        cluster: WatchedCluster,
        edge: WatchedEdge,
        lake: WatchedLake | None = None,
        dr: WatchedDr | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param settings: validated settings; `observability.*` decides subscribers, thresholds, Container Insights
            and the canary; `data.*` sizes the derived thresholds.
        :param nat_gateway_ids: EcommerceVpc's NAT gateways (none with egress 'none').
        :param data: the DataTier's store names; :param cluster: the ServiceMesh's cluster and ALB;
        :param edge: CdnEdge's distribution, web ACL and site URL; :param lake: the lake's streams and jobs.
        :param dr: DisasterRecovery's replications (their lag and failure alarms).
        """
        super().__init__("ecommerce:observability:Observability", name, None, opts)
        self._name, self._settings, self._o = name, settings, settings.observability
        self._env = settings.environment
        self._prefix = f"ecommerce-{self._env}"
        self._child = pulumi.ResourceOptions(parent=self)
        self._account, self._partition, self._region = iam.caller(self)
        self._dr_region = dr.receiving_region if dr is not None else None
        self._region_name = settings.region
        self.control_plane_log_group_name = cluster.control_plane_log_group_name

        keys = self._keys(cluster.cluster_name)
        topics = self._topics(keys)
        self._topic_by_region = topics
        self.alarm_topic_arn, self.global_alarm_topic_arn = (
            topics[None].arn,
            topics[GLOBAL_METRICS_REGION].arn,
        )
        self.application_log_group_name = (
            self._container_insights(cluster, keys[None]) if self._o.container_insights else None
        )
        canary_name = self._canary(keys[None], edge)
        targets = self._targets(nat_gateway_ids, data, cluster, edge, lake, dr, canary_name)
        built = self.alarms(self, name, targets)
        self.shop_down_alarm_name = self._shop_down(built, topics[None])
        self.dashboard_names = self._dashboards(targets)
        self.alarm_names = {key: alarm.name for key, (alarm, _, _) in built.items()}

        self.register_outputs(
            {
                "alarm_topic_arn": self.alarm_topic_arn,
                "global_alarm_topic_arn": self.global_alarm_topic_arn,
                "shop_down_alarm_name": self.shop_down_alarm_name,
                "dashboard_names": self.dashboard_names,
                "canary_name": self.canary_name,
            }
        )

    # -- helpers ---------------------------------------------------------------------------------------------------
    def _alarm_arn_pattern(self, region: pulumi.Input[str]) -> pulumi.Output[str]:
        return pulumi.Output.format(
            "arn:{0}:cloudwatch:{1}:{2}:alarm:{3}-*", self._partition, region, self._account, self._prefix
        )

    def _log_arn(self, log_name: str) -> pulumi.Output[str]:
        return pulumi.Output.format(
            "arn:{0}:logs:{1}:{2}:log-group:{3}", self._partition, self._region, self._account, log_name
        )

    # -- KMS: one key per region the alarm topics live in --------------------------------------------------------------
    def _keys(self, cluster_name: str) -> dict[str | None, aws.kms.Key]:
        keys: dict[str | None, aws.kms.Key] = {}
        for region in self._alarm_regions():
            where = self._region if region is None else region
            statements: list[iam.Statement] = [
                {
                    # CloudWatch publishes to an encrypted topic only with these two on its key (SNS developer
                    # guide, "Enable compatibility between event sources from AWS services and encrypted topics"),
                    # bound to this stack's alarms.
                    "sid": "CloudWatchAlarmsPublishToEncryptedTopic",
                    "effect": "Allow",
                    "principals": [{"type": "Service", "identifiers": ["cloudwatch.amazonaws.com"]}],
                    "actions": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "resources": ["*"],  # in a key policy "*" is this key
                    "conditions": [
                        iam.condition("StringEquals", "aws:SourceAccount", self._account),
                        iam.condition("ArnLike", "aws:SourceArn", self._alarm_arn_pattern(where)),
                    ],
                }
            ]
            if region is None:
                statements.append(
                    iam.logs_may_use_key(
                        "CloudWatchLogsUsesKeyForContainerInsightsLogs",
                        self._region,
                        "ArnLike",
                        self._log_arn(f"/aws/containerinsights/{cluster_name}/*"),
                    )
                )
            suffix = _regional("key", region)
            key = iam.customer_key(
                self,
                f"{self._name}-{suffix}",
                description=f"{self._env}: alarm topic{'' if region is None else f' ({region})'} and "
                "Container Insights logs",
                account_id=self._account,
                partition=self._partition,
                service_statements=statements,
                region=region,
                tags=tags(COMPONENT, f"{self._name}-{suffix}"),
                # Months of cluster logs are unreadable without it.
                opts=stateful(self._settings, self._child),
            )
            aws.kms.Alias(
                f"{self._name}-{suffix}",
                name=f"alias/{self._prefix}-observability{_regional('', region)}",
                target_key_id=key.key_id,
                region=region,
                opts=self._child,
            )
            keys[region] = key
        return keys

    # -- SNS: the alarm topics, their policies and subscribers ----------------------------------------------------
    def _topics(self, keys: Mapping[str | None, aws.kms.Key]) -> dict[str | None, aws.sns.Topic]:
        topics: dict[str | None, aws.sns.Topic] = {}
        for region, key in keys.items():
            where = self._region if region is None else region
            suffix = _regional("alarms", region)
            topic = aws.sns.Topic(
                f"{self._name}-{suffix}",
                name=f"{self._prefix}-{suffix}",
                kms_master_key_id=key.arn,
                region=region,
                tags=tags(COMPONENT, f"{self._prefix}-{suffix}"),
                opts=self._child,
            )
            aws.sns.TopicPolicy(
                f"{self._name}-{suffix}",
                arn=topic.arn,
                policy=iam.policy_json(
                    self,
                    [
                        {
                            "sid": "CloudWatchAlarmsOfThisStackPublish",
                            "effect": "Allow",
                            "principals": [{"type": "Service", "identifiers": ["cloudwatch.amazonaws.com"]}],
                            "actions": ["sns:Publish"],
                            "resources": [topic.arn],
                            "conditions": [
                                iam.condition("StringEquals", "aws:SourceAccount", self._account),
                                iam.condition("ArnLike", "aws:SourceArn", self._alarm_arn_pattern(where)),
                            ],
                        },
                        {
                            "sid": "DenyWithoutTls",
                            "effect": "Deny",
                            "principals": [{"type": "*", "identifiers": ["*"]}],
                            "actions": ["sns:Publish", "sns:Subscribe"],
                            "resources": [topic.arn],
                            "conditions": [iam.condition("Bool", "aws:SecureTransport", "false")],
                        },
                    ],
                ),
                region=region,
                opts=self._child,
            )
            subscribers = [("email", e) for e in self._o.alarm_emails] + [
                ("https", u) for u in self._o.webhook_urls
            ]
            for i, (protocol, endpoint) in enumerate(subscribers):
                aws.sns.TopicSubscription(
                    f"{self._name}-{suffix}-{protocol}-{i}",
                    topic=topic.arn,
                    protocol=protocol,
                    endpoint=endpoint,
                    region=region,
                    opts=self._child,
                )
            topics[region] = topic
        return topics

    # -- Container Insights: the add-on, its own IRSA role, its log groups ------------------------------------------
    def _container_insights(self, cluster: WatchedCluster, key: aws.kms.Key) -> pulumi.Output[str]:
        n, base = self._name, f"/aws/containerinsights/{cluster.cluster_name}"
        groups = {
            role: aws.cloudwatch.LogGroup(
                f"{n}-insights-{role}",
                name=f"{base}/{role}",
                kms_key_id=key.arn,
                retention_in_days=self._o.log_retention_days,
                tags=tags(COMPONENT, f"{base}/{role}"),
                opts=self._child,
            )
            for role in INSIGHTS_LOG_GROUPS
        }
        trust = iam.policy_json(
            self,
            [
                {
                    "effect": "Allow",
                    "actions": ["sts:AssumeRoleWithWebIdentity"],
                    "principals": [{"type": "Federated", "identifiers": [cluster.oidc_provider_arn]}],
                    "conditions": [
                        iam.condition(
                            "StringEquals",
                            pulumi.Output.concat(cluster.oidc_issuer, ":sub"),
                            f"system:serviceaccount:{INSIGHTS_NAMESPACE}:{INSIGHTS_SERVICE_ACCOUNT}",
                        ),
                        iam.condition(
                            "StringEquals",
                            pulumi.Output.concat(cluster.oidc_issuer, ":aud"),
                            "sts.amazonaws.com",
                        ),
                    ],
                }
            ],
        )
        # Written out instead of the managed CloudWatchAgentServerPolicy: that one grants logs:* writes on every
        # log group and ssm:GetParameter on AmazonCloudWatch-*; the agent and Fluent Bit need only these groups.
        streams = [pulumi.Output.concat(g.arn, ":*") for g in groups.values()]
        policy = iam.policy_json(
            self,
            [
                iam.allow(
                    [
                        "logs:CreateLogGroup",
                        "logs:CreateLogStream",
                        "logs:PutLogEvents",
                        "logs:DescribeLogStreams",
                    ],
                    [*(g.arn for g in groups.values()), *streams],
                    sid="WriteContainerInsightsLogs",
                ),
                # Account-wide list calls: no resource type (Service Authorization Reference).
                iam.allow(["logs:DescribeLogGroups"], ["*"], sid="FindLogGroups"),
                iam.allow(
                    ["ec2:DescribeInstances", "ec2:DescribeTags", "ec2:DescribeVolumes"],
                    ["*"],
                    sid="NodeMetadata",
                ),
                iam.allow(
                    ["cloudwatch:PutMetricData"],
                    ["*"],
                    sid="ContainerInsightsMetrics",
                    conditions=[iam.condition("StringEquals", "cloudwatch:namespace", "ContainerInsights")],
                ),
            ],
        )
        role = aws.iam.Role(
            f"{n}-insights",
            name=f"{self._prefix}-container-insights",
            description="amazon-cloudwatch-observability add-on (CloudWatch agent, Fluent Bit) through IRSA",
            assume_role_policy=trust,
            tags=tags(COMPONENT, f"{self._prefix}-container-insights"),
            opts=self._child,
        )
        attached = aws.iam.RolePolicy(f"{n}-insights", role=role.id, policy=policy, opts=self._child)
        aws.eks.Addon(
            f"{n}-insights",
            cluster_name=cluster.nodes_ready_cluster_name,
            addon_name=INSIGHTS_ADDON,
            service_account_role_arn=role.arn,
            # Our own agent config replaces the default one, which also turns on Application Signals and traces
            # (X-Ray permissions this role does not have); GPU and Neuron metrics are off: no such nodes.
            configuration_values=json.dumps(
                {
                    "agent": {
                        "config": {
                            "logs": {
                                "metrics_collected": {
                                    "kubernetes": {
                                        "enhanced_container_insights": True,
                                        "accelerated_compute_metrics": False,
                                    }
                                }
                            }
                        }
                    },
                    "containerLogs": {"enabled": True},
                }
            ),
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=tags(COMPONENT, f"{n}-insights"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attached, *groups.values()]),
        )
        return groups["application"].name

    # -- Synthetics: the canary, its artifacts bucket and its role -----------------------------------------------
    def _canary(self, key: aws.kms.Key, edge: WatchedEdge) -> pulumi.Output[str]:
        n, o = self._name, self._o
        # Canary names: at most 21 lower-case characters (Synthetics CreateCanary, Name).
        canary = f"ecom-{self._env}-shop"
        artifacts = buckets.private_bucket(
            f"{n}-canary-artifacts",
            parent=self,
            tags=tags(COMPONENT, f"{n}-canary-artifacts"),
            kms_key_arn=key.arn,
            bucket_prefix=f"{self._prefix}-canary-",
            force_destroy=not self._settings.protect_data,
            bucket_opts=stateful(self._settings),
            lifecycle_rules=[
                buckets.abort_incomplete_uploads(),
                {
                    "id": "expire-runs",
                    "status": "Enabled",
                    "filter": {"prefix": "artifacts/"},
                    "expiration": {"days": o.canary_retention_days},
                    "noncurrent_version_expiration": {"noncurrent_days": 1},
                },
            ],
        )
        code = aws.s3.BucketObjectv2(
            f"{n}-canary-code",
            bucket=artifacts.id,
            key="code/shop-canary.zip",
            source=pulumi.AssetArchive(
                {f"nodejs/node_modules/{CANARY_HANDLER_FILE}.js": pulumi.StringAsset(CANARY_SCRIPT)}
            ),
            # After versioning is on, so the object has the version id the canary pins.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[artifacts.bucket, *filter(None, [artifacts.versioning])]
            ),
        )
        lambda_logs = self._log_arn(f"/aws/lambda/cwsyn-{canary}-*")
        role = aws.iam.Role(
            f"{n}-canary",
            name=f"{self._prefix}-canary",
            description="Synthetics canary: writes its artifacts, logs and metrics, nothing else",
            assume_role_policy=iam.service_trust(self, "lambda.amazonaws.com", account_id=self._account),
            tags=tags(COMPONENT, f"{self._prefix}-canary"),
            opts=self._child,
        )
        # The actions the Synthetics role needs (CloudWatch user guide, "Required roles and permissions for
        # canaries"), each on this canary's bucket, log groups and namespace.
        policy = aws.iam.RolePolicy(
            f"{n}-canary",
            role=role.id,
            policy=iam.policy_json(
                self,
                [
                    iam.allow(["s3:PutObject"], [artifacts.objects("artifacts/")], sid="WriteArtifacts"),
                    iam.allow(["s3:GetBucketLocation"], [artifacts.arn], sid="LocateBucket"),
                    # Synthetics lists buckets before writing; the call has no resource type.
                    iam.allow(["s3:ListAllMyBuckets"], ["*"], sid="ListBuckets"),
                    iam.allow(["kms:GenerateDataKey", "kms:Decrypt"], [key.arn], sid="EncryptArtifacts"),
                    iam.allow(
                        ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                        [lambda_logs, pulumi.Output.concat(lambda_logs, ":*")],
                        sid="CanaryLogs",
                    ),
                    iam.allow(
                        ["cloudwatch:PutMetricData"],
                        ["*"],
                        sid="CanaryMetrics",
                        conditions=[
                            iam.condition("StringEquals", "cloudwatch:namespace", "CloudWatchSynthetics")
                        ],
                    ),
                ],
            ),
            opts=self._child,
        )
        minutes = o.canary_interval_minutes
        resource = aws.synthetics.Canary(
            f"{n}-canary",
            name=canary,
            artifact_s3_location=pulumi.Output.concat("s3://", artifacts.name, "/artifacts/"),
            artifact_config={"s3_encryption": {"encryption_mode": "SSE_KMS", "kms_key_arn": key.arn}},
            execution_role_arn=role.arn,
            handler=f"{CANARY_HANDLER_FILE}.handler",
            runtime_version=CANARY_RUNTIME,
            s3_bucket=artifacts.name,
            s3_key=code.key,
            s3_version=code.version_id,
            schedule={"expression": f"rate({minutes} minute{'s' if minutes > 1 else ''})"},
            run_config={
                "timeout_in_seconds": 60,
                "environment_variables": {"SITE_URL": edge.site_url, "API_PATH": o.canary_api_path},
            },
            start_canary=True,
            delete_lambda=True,
            success_retention_period=o.canary_retention_days,
            failure_retention_period=o.canary_retention_days,
            tags=tags(COMPONENT, canary),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.canary_name = resource.name
        self.canary_artifacts_bucket = artifacts.name
        return resource.name

    # -- what is watched ---------------------------------------------------------------------------------------------
    def _targets(
        self,
        nat_gateway_ids: Sequence[pulumi.Input[str]],
        data: WatchedData,
        cluster: WatchedCluster,
        edge: WatchedEdge,
        lake: WatchedLake | None,
        dr: WatchedDr | None,
        canary_name: pulumi.Input[str],
    ) -> list[Target]:
        d = self._settings.data
        targets = [Target("aurora-writer", "", data.aurora_cluster_identifier)]
        if d.aurora_instance_count > 1:
            targets.append(Target("aurora-reader", "", data.aurora_cluster_identifier))
        for i in range(d.redis_node_count):
            member = data.redis_member_clusters.apply(_nth(i))
            targets.append(Target("redis-node", f"{i + 1:03d}", member))
        # OpenSearch metrics carry the owning account as ClientId besides the domain name.
        search_dims = {"ClientId": self._account}
        targets.append(Target("opensearch-domain", "", data.search_domain_name, search_dims))
        if d.opensearch_dedicated_master_count:
            targets.append(Target("opensearch-masters", "", data.search_domain_name, search_dims))
        targets += [Target("dynamodb-table", r, v) for r, v in data.table_names.items()]
        targets += [Target("sqs-queue", r, v) for r, v in data.queue_names.items()]
        targets += [Target("sqs-dlq", r, v) for r, v in data.dead_letter_queue_names.items()]
        targets += [Target("sns-topic", r, v) for r, v in data.topic_names.items()]
        targets.append(Target("alb", "", cluster.alb_arn_suffix))
        lb = {"LoadBalancer": cluster.alb_arn_suffix}
        targets += [
            Target("alb-target-group", s, v, lb) for s, v in cluster.target_group_arn_suffixes.items()
        ]
        targets.append(Target("cloudfront", "", edge.distribution_id))
        targets.append(Target("waf-cloudfront", "", edge.web_acl_name))
        targets.append(Target("canary", "", canary_name))
        azs = self._settings.network.availability_zones
        targets += [Target("nat-gateway", azs[i][-1], v) for i, v in enumerate(nat_gateway_ids)]
        if self._o.container_insights:
            targets.append(Target("eks-cluster", "", cluster.cluster_name))
        if lake is not None:
            targets += [Target("firehose", r, v) for r, v in lake.firehose_stream_names.items()]
            targets += [Target("glue-job", r, v) for r, v in lake.glue_job_names.items()]
            targets += [Target("sqs-dlq", r, v) for r, v in lake.dead_letter_queue_names.items()]
        if dr is not None:
            # S3 replication metrics and DynamoDB's ReplicationLatency are published in the source's region (this
            # one): the alarms stay here, where the DR region's outage cannot silence them.
            targets += [
                Target("s3-replication", r, src, {"DestinationBucket": dst, "RuleId": dr.replication_rule_id})
                for r, (src, dst) in dr.bucket_replications.items()
            ]
            targets += [
                Target("dynamodb-replica", r, v, {"ReceivingRegion": dr.receiving_region})
                for r, v in dr.replicated_table_names.items()
            ]
            # AuroraGlobalDBRPOLag exists only in the secondary's region (Aurora user guide, cluster-level metrics):
            # that alarm lives in the DR region (`_metrics_region`). Copy jobs run, and count, in the source region.
            targets += [Target("aurora-secondary", r, v) for r, v in dr.aurora_secondaries.items()]
            targets += [Target("backup-copy", r, v) for r, v in dr.backup_copy_vaults.items()]
            standby = {"sqs-queue": dr.standby_queue_names, "sqs-dlq": dr.standby_dead_letter_queue_names,
                       "sns-topic": dr.standby_topic_names}  # fmt: skip
            targets += [
                Target(kind, f"dr-{r}", v, region=dr.receiving_region)
                for kind, names in standby.items()
                for r, v in names.items()
            ]
        return targets

    def _metrics_region(self, target: Target) -> str | None:
        """The region a target's metrics are published in: its own when given (a DR-region resource), us-east-1 for
        CloudFront's, the DR region for an Aurora secondary's, else the stack's (None: the provider's)."""
        if target.region is not None:
            return None if target.region == self._region_name else target.region
        k = catalogue.KINDS[target.kind]
        if k.global_metrics:
            return GLOBAL_METRICS_REGION
        return self._dr_region if k.dr_region_metrics else None

    def _alarm_regions(self) -> tuple[str | None, ...]:
        """Where alarms live, so where a topic (and its key) must be: an alarm notifies a topic of its own region.
        The stack's region, us-east-1 (CloudFront's metrics) and the DR region when it is another."""
        extra = (self._dr_region,) if self._dr_region not in (None, GLOBAL_METRICS_REGION) else ()
        return (None, GLOBAL_METRICS_REGION, *extra)

    def _threshold(self, spec: AlarmSpec) -> float:
        d = self._settings.data
        overrides = dict(self._o.alarm_thresholds)
        value = float(overrides[spec.id]) if spec.id in overrides else spec.threshold
        if spec.derived == "memory":
            memory = catalogue.aurora_memory_bytes(d.aurora_instance_class, d.aurora_max_capacity)
            return catalogue.threshold_for(spec, share=value, quantity=memory)
        if spec.derived == "max_connections":
            limit = catalogue.aurora_max_connections(d.aurora_instance_class, d.aurora_max_capacity)
            return catalogue.threshold_for(spec, share=value, quantity=limit)
        if spec.derived == "volume":
            volume = catalogue.opensearch_volume_mib(d.opensearch_volume_size)
            return catalogue.threshold_for(spec, share=value, quantity=volume)
        return value

    def _period(self, spec: AlarmSpec) -> int:
        # A canary reports once per run: a shorter period would see "missing" (breaching) data between runs.
        if spec.kind == "canary":
            return max(spec.period, self._o.canary_interval_minutes * 60)
        return spec.period

    def _applies(self, spec: AlarmSpec) -> bool:
        # A single-node domain cannot place replica shards and stays yellow: that alarm would only ever ring.
        return not (spec.id == "search-yellow" and self._settings.data.opensearch_instance_count < 2)

    # -- the alarms: one per catalogue row and watched resource ----------------------------------------------------
    def alarms(
        self, owner: pulumi.Resource, name: str, targets: Sequence[Target]
    ) -> dict[str, tuple[aws.cloudwatch.MetricAlarm, AlarmSpec, Target]]:
        """One alarm per catalogue row of each target's kind, as children `f"{name}-<key>"` of `owner` (this
        component, or `StandbyAlarms`), each notifying this component's topic of its region."""
        built: dict[str, tuple[aws.cloudwatch.MetricAlarm, AlarmSpec, Target]] = {}
        topics = self._topic_by_region
        for target in targets:
            region = self._metrics_region(target)
            if region not in topics:
                raise ValueError(f"{name}: no alarm topic in {region} for {target.kind} {target.label!r}; "
                                 f"topics exist in {', '.join(r or self._region_name for r in topics)}")  # fmt: skip
            actions = [topics[region].arn]
            for spec in catalogue.of_kind(target.kind):
                if not self._applies(spec):
                    continue
                key = f"{spec.id}-{target.label}" if target.label else spec.id
                dims = {
                    catalogue.RESOURCE_DIMENSION[target.kind]: target.value,
                    **target.extra,
                    **spec.dimensions,
                }
                metric: dict[str, object] = {}
                if spec.expression:
                    extra = catalogue.EXTRA_METRICS.get(spec.id, ())
                    queries = [(spec.metric, spec.statistic), *extra]
                    metric["metric_queries"] = [
                        *(
                            {
                                "id": f"m{i + 1}",
                                "metric": {"namespace": spec.namespace, "metric_name": m, "stat": stat,
                                           "period": self._period(spec), "dimensions": dims},
                            }
                            for i, (m, stat) in enumerate(queries)
                        ),
                        {"id": "e1", "expression": spec.expression, "label": spec.id, "return_data": True},
                    ]  # fmt: skip
                else:
                    metric.update(namespace=spec.namespace, metric_name=spec.metric, statistic=spec.statistic,
                                  period=self._period(spec), dimensions=dims)  # fmt: skip
                alarm = aws.cloudwatch.MetricAlarm(  # type: ignore[call-overload]
                    f"{name}-{key}",
                    name=f"{self._prefix}-{key}",
                    alarm_description=f"{spec.summary} ({catalogue.SOURCES[spec.source]})",
                    comparison_operator=spec.comparison,
                    threshold=self._threshold(spec),
                    evaluation_periods=spec.evaluation_periods,
                    datapoints_to_alarm=spec.datapoints,
                    treat_missing_data=spec.treat_missing,
                    actions_enabled=True,
                    alarm_actions=actions,
                    ok_actions=actions,
                    region=region,
                    tags=tags(COMPONENT, f"{self._prefix}-{key}", AlarmId=spec.id),
                    opts=pulumi.ResourceOptions(parent=owner),
                    **metric,
                )
                built[key] = (alarm, spec, target)
        return built

    def _shop_down(
        self, built: Mapping[str, tuple[aws.cloudwatch.MetricAlarm, AlarmSpec, Target]], topic: aws.sns.Topic
    ) -> pulumi.Output[str]:
        # A composite alarm reads alarms of its own region only: the entry-point signals in the stack's region (the
        # canary, which goes through CloudFront, stands in for CloudFront's us-east-1 metrics).
        members = [
            alarm.name
            for alarm, spec, _ in built.values()
            if spec.shop_down and not catalogue.KINDS[spec.kind].global_metrics
        ]
        rule = pulumi.Output.all(*members).apply(lambda names: " OR ".join(f'ALARM("{x}")' for x in names))
        composite = aws.cloudwatch.CompositeAlarm(
            f"{self._name}-shop-down",
            alarm_name=f"{self._prefix}-shop-down",
            alarm_description="The shop is down for customers: the canary fails through CloudFront, or the ALB "
            "answers 5xx. Start with the canary's last run and the ALB target groups.",
            alarm_rule=rule,
            actions_enabled=True,
            alarm_actions=[topic.arn],
            ok_actions=[topic.arn],
            tags=tags(COMPONENT, f"{self._prefix}-shop-down"),
            opts=self._child,
        )
        return composite.alarm_name

    # -- dashboards from the catalogue ------------------------------------------------------------------------------
    def _dashboards(self, targets: Sequence[Target]) -> dict[str, pulumi.Output[str]]:
        widgets: dict[str, list[object]] = {"overview": []}
        for target in targets:
            kind = catalogue.KINDS[target.kind]
            region = self._metrics_region(target) or self._region
            for spec in catalogue.of_kind(target.kind):
                if not self._applies(spec):
                    continue
                dims: list[object] = []
                for k, v in {catalogue.RESOURCE_DIMENSION[target.kind]: target.value, **target.extra,
                             **spec.dimensions}.items():  # fmt: skip
                    dims += [k, v]
                widget = {
                    "type": "metric",
                    "width": 8,
                    "height": 6,
                    "properties": {
                        "title": f"{spec.id} {target.label}".strip(),
                        "metrics": [[spec.namespace, spec.metric, *dims]],
                        "stat": spec.statistic,
                        "period": self._period(spec),
                        "region": region,
                        "annotations": {"horizontal": [{"label": "alarm", "value": self._threshold(spec)}]},
                    },
                }
                widgets.setdefault(kind.tier, []).append(widget)
                if spec.shop_down or spec.id in ("aurora-writer-cpu", "redis-engine-cpu", "search-cpu",
                                                 "eks-node-cpu", "eks-node-memory", "cloudfront-5xx-rate"):  # fmt: skip
                    widgets["overview"].append(widget)
        for target in targets:
            region = self._metrics_region(target) or self._region
            dim = catalogue.RESOURCE_DIMENSION[target.kind]
            for ctx_kind, namespace, metric, stat, fixed in catalogue.OVERVIEW_CONTEXT:
                if ctx_kind == target.kind:
                    pairs = [x for k, v in {dim: target.value, **fixed}.items() for x in (k, v)]
                    widgets["overview"].insert(0, {
                        "type": "metric", "width": 8, "height": 6,
                        "properties": {"title": f"{metric} ({ctx_kind})", "metrics": [[namespace, metric, *pairs]],
                                       "stat": stat, "period": 60, "region": region},
                    })  # fmt: skip
        names: dict[str, pulumi.Output[str]] = {}
        for tier, items in widgets.items():
            dashboard = aws.cloudwatch.Dashboard(
                f"{self._name}-{tier}",
                dashboard_name=f"{self._prefix}-{tier}",
                dashboard_body=pulumi.Output.json_dumps({"widgets": items}),
                opts=self._child,
            )
            names[tier] = dashboard.dashboard_name
        return names


class StandbyAlarms(pulumi.ComponentResource):
    """The warm standby watched (`dr.mode` warm-standby): the catalogue's rows on what runs in the DR region.

    The DR ALB (`alb`), every DR target group (`alb-target-group`) and, for the published public services, the
    standby's own minimum (`standby-target-group`: at rest one healthy target per service, so below one means it
    could not take the API); the DR carts cache per node (`redis-node`); the DR VPC's NAT (`nat-gateway`); the
    Aurora secondary's instance by its role (`aurora-reader`, and `aurora-writer`, which has data only once the
    secondary is promoted). Each alarm lives in the DR region, where those metrics are published, and notifies
    Observability's topic there (the us-east-1 topic when the DR region is us-east-1).

    A component of its own, built after the standby: the standby's failover alarms notify Observability's topic,
    so Observability exists first. What it must not do: watch the DR cluster through Container Insights (the DR
    cluster runs no agents: `standby_cluster`), or page while the standby is healthy and idle.
    """

    alarm_names: dict[str, pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        *,
        observability: Observability,
        standby: WatchedStandby,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("ecommerce:observability:StandbyAlarms", name, None, opts)
        built = observability.alarms(self, name, standby_targets(standby))
        self.alarm_names = {key: alarm.name for key, (alarm, _, _) in built.items()}
        self.register_outputs({"alarm_names": self.alarm_names})


#: The label every standby alarm carries (`ecommerce-<env>-<id>-dr[-<resource>]`): the primary's names stay free.
STANDBY_LABEL = "dr"


def standby_targets(standby: WatchedStandby) -> list[Target]:
    """What the warm standby's alarms watch, each in the DR region."""
    r, dr = standby.region, STANDBY_LABEL

    def label(part: str) -> str:
        return f"{dr}-{part}" if part else dr

    lb = {"LoadBalancer": standby.alb_arn_suffix}
    targets = [Target("alb", dr, standby.alb_arn_suffix, region=r)]
    targets += [
        Target("alb-target-group", label(svc), suffix, lb, region=r)
        for svc, suffix in standby.target_group_arn_suffixes.items()
    ]
    targets += [
        Target("standby-target-group", label(svc), standby.target_group_arn_suffixes[svc], lb, region=r)
        for svc in standby.serving_services
    ]
    # Member clusters in name order, like the primary's.
    targets += [
        Target("redis-node", label(f"{i + 1:03d}"), standby.cache_member_clusters.apply(_nth(i)), region=r)
        for i in range(standby.cache_nodes)
    ]
    targets += [
        Target("nat-gateway", label(str(i + 1)), v, region=r) for i, v in enumerate(standby.nat_gateway_ids)
    ]
    # A global database's secondary has no writer: its one instance reports as READER until a switchover or failover
    # promotes the cluster, then as WRITER (the writer rows, silent at rest, watch the promoted database).
    targets += [
        Target(kind, dr, standby.database_cluster_identifier, region=r)
        for kind in ("aurora-reader", "aurora-writer")
    ]
    return targets
