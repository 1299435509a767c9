"""AnalyticsLake: order events into an encrypted S3 data lake, catalogued by Glue, queried by Athena, with Lake
Formation, QuickSight and SageMaker behind flags.

The path of one order event: the order or payment service publishes to the DataTier's `order-events` SNS topic;
a Firehose subscription (its own role and dead-letter queue) hands it to a Kinesis Data Firehose stream, which
writes it, GZIP'd and SSE-KMS-encrypted with the lake key, under `raw/order-events/dt=<arrival date>/` of the lake
bucket; the Glue table `raw_order_events` reads that prefix with partition projection; a scheduled Glue job (script
in `components/lake_jobs/`, uploaded by this program) turns new raw files (job bookmarks) into Parquet under
`curated/order-events/dt=<event date>/`, the `order_events` table; Athena queries it in this stack's workgroup,
whose results are SSE-KMS-encrypted in their own bucket.

What it must not do: take whole resources from other components (it takes ARNs and ids), read configuration
(settings come in), let any principal read the raw zone but Firehose and the Glue job, or own an account-level
setting unless `lake.createCatalogSettings` says this stack is the account's owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from components import iam
from components.buckets import PrivateBucket, abort_incomplete_uploads, expire_noncurrent, private_bucket
from components.config import Settings
from components.naming import stateful, tags

COMPONENT = "lake"
#: The Glue ETL script, kept beside its component and uploaded by the program.
JOB_SCRIPT = Path(__file__).resolve().parent / "lake_jobs" / "orders_to_parquet.py"
#: Prefixes of the lake bucket: one bucket with zones as prefixes (one key, one Lake Formation location, one
#: policy), each principal's IAM policy scoped to its prefixes.
RAW_PREFIX = "raw/order-events/"
ERROR_PREFIX = "errors/order-events/"
CURATED_PREFIX = "curated/order-events/"
SCRIPTS_PREFIX = "glue/scripts/"
TEMP_PREFIX = "glue/temp/"
RAW_TABLE, CURATED_TABLE = "raw_order_events", "order_events"
#: Partition projection's first day: Athena enumerates `dt` from here to today without catalog partitions.
PROJECTION_START = "2025-01-01"
#: The SNS envelope Firehose receives without raw delivery (SNS docs, "Formatting Amazon SNS notifications for
#: storage in Amazon S3 destinations": one JSON object per line); `message` holds the order event as a string.
RAW_COLUMNS = (("type", "string"), ("messageid", "string"), ("topicarn", "string"), ("message", "string"),
               ("timestamp", "string"))  # fmt: skip
#: The curated order events (the Glue job's output columns, in order; a test holds the script to this list).
CURATED_COLUMNS = (
    ("event_id", "string"), ("event_type", "string"), ("order_id", "string"), ("customer_id", "string"),
    ("status", "string"), ("currency", "string"), ("total_amount", "double"), ("occurred_at", "timestamp"),
    ("items", "array<struct<product_id:string,sku:string,quantity:int,unit_price:double>>"),
)  # fmt: skip
#: Athena engine version pinned so an AWS default change does not change query semantics under us.
ATHENA_ENGINE = "Athena engine version 3"
SQS_MAX_RETENTION_SECONDS = 14 * 24 * 3600
#: Named queries a shop wants on day one, against the curated table (`{table}`).
NAMED_QUERIES = {
    "daily-revenue": (
        "Revenue per day from successful payments",
        "SELECT dt, currency, SUM(total_amount) AS revenue, COUNT(DISTINCT order_id) AS orders FROM {table} "
        "WHERE event_type = 'PaymentSucceeded' GROUP BY dt, currency ORDER BY dt DESC",
    ),
    "top-products": (
        "Best-selling products of the last 30 days",
        "SELECT item.product_id, SUM(item.quantity) AS units, SUM(item.quantity * item.unit_price) AS revenue "
        "FROM {table} CROSS JOIN UNNEST(items) AS t(item) WHERE event_type = 'OrderPlaced' AND "
        "dt >= date_format(current_date - interval '30' day, '%Y-%m-%d') GROUP BY item.product_id "
        "ORDER BY units DESC LIMIT 20",
    ),
    "order-funnel": (
        "Orders per lifecycle status per day (placed, paid, shipped, delivered, cancelled)",
        "SELECT dt, event_type, COUNT(DISTINCT order_id) AS orders FROM {table} GROUP BY dt, event_type "
        "ORDER BY dt DESC, orders DESC",
    ),
}


@dataclass(frozen=True)
class LakeSources:
    """What the lake reads from the DataTier (its contract), as ARNs."""

    order_events_topic_arn: pulumi.Input[str]
    """The DataTier's `order-events` SNS topic the order and payment services publish to."""
    messaging_key_arn: pulumi.Input[str]
    """The DataTier's messaging key: the subscription's dead-letter queue holds the same messages as the topic."""


@dataclass(frozen=True)
class LakeNetwork:
    """The network outputs a VpcOnly SageMaker domain needs (unused without `lake.sagemaker`)."""

    vpc_id: pulumi.Input[str]
    """The VPC of the private subnets."""
    private_subnet_ids: Sequence[pulumi.Input[str]]
    """Where the domain's apps and the SageMaker endpoints get their network interfaces."""
    endpoints_security_group_id: pulumi.Input[str]
    """The network's interface-endpoint SG (STS, logs, KMS): the domain is admitted to it on 443."""


@dataclass(frozen=True)
class _Storage:
    lake: PrivateBucket
    results: PrivateBucket


@dataclass(frozen=True)
class _Ingest:
    stream: aws.kinesis.FirehoseDeliveryStream
    subscription: aws.sns.TopicSubscription
    dlq: aws.sqs.Queue


@dataclass(frozen=True)
class _Catalog:
    database: aws.glue.CatalogDatabase
    raw: aws.glue.CatalogTable
    curated: aws.glue.CatalogTable


@dataclass(frozen=True)
class _Etl:
    job: aws.glue.Job
    role: aws.iam.Role
    trigger: aws.glue.Trigger


class AnalyticsLake(pulumi.ComponentResource):
    """The lake and everything that fills, catalogues and queries it. Children are named `{name}-<role>`."""

    lake_bucket_name: pulumi.Output[str]
    lake_bucket_arn: pulumi.Output[str]
    results_bucket_name: pulumi.Output[str]
    key_arn: pulumi.Output[str]
    database_name: pulumi.Output[str]
    raw_table_name: pulumi.Output[str]
    curated_table_name: pulumi.Output[str]
    workgroup_name: pulumi.Output[str]
    stream_name: pulumi.Output[str]
    stream_arn: pulumi.Output[str]
    dead_letter_queue_arn: pulumi.Output[str]
    dead_letter_queue_name: pulumi.Output[str]
    job_name: pulumi.Output[str]
    reader_role_arns: dict[str, pulumi.Output[str]]
    sagemaker_domain_id: pulumi.Output[str] | None
    quicksight_data_set_arn: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        sources: LakeSources,
        network: LakeNetwork,
        lake_formation_admin_arns: Sequence[pulumi.Input[str]] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param settings: the validated settings; `settings.lake` shapes the lake, `protectData` protects its data.
        :param sources: the DataTier's topic and messaging key ARNs.
        :param network: the VPC outputs the SageMaker domain uses.
        :param lake_formation_admin_arns: roles that must stay Lake Formation admins when this stack writes the
            account's settings (the deploy role: it grants the permissions below).
        """
        super().__init__("ecommerce:analytics:AnalyticsLake", name, None, opts)
        self._name = name
        self._settings = settings
        self._lk = settings.lake
        self._child = pulumi.ResourceOptions(parent=self)
        self._env = settings.environment
        self._base = f"ecommerce-{self._env}"
        self._sources, self._network = sources, network
        self._account, self._partition, self._region = iam.caller(self)

        key = self._keys()
        storage = self._storage(key)
        ingest = self._ingest(key, storage)
        catalog = self._catalog(storage)
        etl = self._etl(key, storage, catalog)
        workgroup = self._athena(key, storage, catalog)
        readers = self._readers(key, storage, catalog, workgroup)
        if self._lk.lake_formation:
            self._lake_formation(key, storage, catalog, etl, readers, lake_formation_admin_arns)
        self.quicksight_data_set_arn = (
            self._quicksight(catalog, workgroup, readers["quicksight"]) if self._lk.quicksight else None
        )
        self.sagemaker_domain_id = self._sagemaker(key, readers["sagemaker"]) if self._lk.sagemaker else None
        self._contract(key, storage, ingest, catalog, etl, workgroup, readers)

        self.register_outputs(
            {
                "lake_bucket_name": self.lake_bucket_name,
                "results_bucket_name": self.results_bucket_name,
                "database_name": self.database_name,
                "workgroup_name": self.workgroup_name,
                "stream_name": self.stream_name,
                "stream_arn": self.stream_arn,
                "dead_letter_queue_arn": self.dead_letter_queue_arn,
                "job_name": self.job_name,
            }
        )

    # -- helpers ---------------------------------------------------------------------------------------------------
    def _stateful(self, **extra: object) -> pulumi.ResourceOptions:
        return stateful(self._settings, pulumi.ResourceOptions(parent=self, **extra))  # type: ignore[arg-type]

    def _arn(self, service: str, resource: str, region: bool = True) -> pulumi.Output[str]:
        return pulumi.Output.format(
            "arn:{0}:{1}:{2}:{3}:{4}", self._partition, service, self._region if region else "", self._account,
            resource,
        )  # fmt: skip

    def _trust(self, service: str) -> pulumi.Output[str]:
        """The trust each service documents for the roles it assumes, with the confused-deputy condition it is
        documented to send: Firehose sts:ExternalId = the account (Firehose docs, "Grant Firehose access to an
        Amazon S3 destination"), SageMaker aws:SourceAccount ("Cross-service confused deputy prevention"). Glue,
        Lake Formation and QuickSight document plain trusts; a context key they do not send would make the role
        unassumable, so theirs carry none and each role's policy is what bounds it."""
        conditions = {
            "firehose.amazonaws.com": [iam.condition("StringEquals", "sts:ExternalId", self._account)],
            "sagemaker.amazonaws.com": [iam.condition("StringEquals", "aws:SourceAccount", self._account)],
        }.get(service, [])
        statement: iam.Statement = {
            "effect": "Allow",
            "actions": ["sts:AssumeRole"],
            "principals": [{"type": "Service", "identifiers": [service]}],
        }
        if conditions:
            statement["conditions"] = conditions
        return iam.policy_json(self, [statement])

    def _role(self, role: str, service: str, statements: Sequence[iam.Statement]) -> aws.iam.Role:
        """A service role `{base}-lake-<role>` trusted by `service` in this account, with one inline policy."""
        n = self._name
        created = aws.iam.Role(
            f"{n}-{role}",
            name=f"{self._base}-lake-{role}",
            assume_role_policy=self._trust(service),
            tags=tags(COMPONENT, f"{self._base}-lake-{role}"),
            opts=self._child,
        )
        aws.iam.RolePolicy(
            f"{n}-{role}", role=created.id, policy=iam.policy_json(self, statements), opts=self._child
        )
        return created

    def _log_group(self, role: str, key: aws.kms.Key) -> aws.cloudwatch.LogGroup:
        log_name = f"/ecommerce/{self._env}/lake/{role}"
        return aws.cloudwatch.LogGroup(
            f"{self._name}-{role}-logs",
            name=log_name,
            kms_key_id=key.arn,
            retention_in_days=self._lk.log_retention_days,
            tags=tags(COMPONENT, f"{self._name}-{role}-logs"),
            opts=self._child,
        )

    @staticmethod
    def _kms_use(key: aws.kms.Key, *actions: str) -> iam.Statement:
        return iam.allow(actions or ("kms:Decrypt", "kms:GenerateDataKey"), [key.arn], sid="UseLakeKey")

    # -- KMS ---------------------------------------------------------------------------------------------------------
    def _keys(self) -> aws.kms.Key:
        """The lake key: both buckets, the stream, Glue's S3/CloudWatch/bookmark encryption, Athena results."""
        log_arn = self._arn("logs", f"log-group:/ecommerce/{self._env}/lake/*")
        glue_logs = self._arn("logs", "log-group:/aws-glue/*")
        key = iam.customer_key(
            self,
            f"{self._name}-key",
            description=f"{self._env}: encrypts the analytics lake (S3 zones, Firehose, Glue, Athena results)",
            deletion_window_days=self._lk.kms_deletion_window_days,
            account_id=self._account,
            partition=self._partition,
            # CloudWatch Logs encrypts as itself: the lake's log groups and the Glue job's, which the security
            # configuration encrypts under /aws-glue/ (Glue docs, "Encrypting data written by AWS Glue").
            service_statements=[
                iam.logs_may_use_key(
                    "CloudWatchLogsUsesKeyForLakeLogs", self._region, "ArnLike", log_arn, glue_logs
                )
            ],
            tags=tags(COMPONENT, f"{self._name}-key"),
            opts=self._stateful(),
        )
        aws.kms.Alias(f"{self._name}-key", name=f"alias/{self._base}-lake", target_key_id=key.key_id,
                      opts=self._child)  # fmt: skip
        return key

    # -- S3 ------------------------------------------------------------------------------------------------------------
    def _storage(self, key: aws.kms.Key) -> _Storage:
        lk = self._lk
        raw_rule: aws.s3.BucketLifecycleConfigurationRuleArgsDict = {
            "id": "raw-to-cold-storage",
            "status": "Enabled",
            "filter": {"prefix": "raw/"},
            "transitions": [
                {"days": lk.raw_ia_days, "storage_class": "STANDARD_IA"},
                {"days": lk.raw_glacier_days, "storage_class": "GLACIER"},
            ],
        }
        if lk.raw_expiration_days:
            raw_rule["expiration"] = {"days": lk.raw_expiration_days}
        lake = private_bucket(
            f"{self._name}-bucket",
            parent=self,
            # DataClass: data the shop cannot rebuild; the policy pack asks DR to replicate such buckets.
            tags=tags(COMPONENT, f"{self._base}-lake", DataClass="order-events"),
            kms_key_arn=key.arn,
            bucket=pulumi.Output.format("{0}-lake-{1}", self._base, self._account),
            lifecycle_rules=[
                raw_rule,
                # Records Firehose could not deliver: kept long enough to replay, then gone.
                {
                    "id": "expire-errors",
                    "status": "Enabled",
                    "filter": {"prefix": "errors/"},
                    "expiration": {"days": 90},
                },
                # The Glue job rewrites only new data; old versions of curated files are kept a month for rollback.
                expire_noncurrent(30),
                abort_incomplete_uploads(),
            ],
            force_destroy=not self._settings.protect_data,
            bucket_opts=self._stateful(),
            lifecycle_after_versioning=True,
        )
        results = private_bucket(
            f"{self._name}-results",
            parent=self,
            tags=tags(COMPONENT, f"{self._base}-lake-results"),
            kms_key_arn=key.arn,
            bucket=pulumi.Output.format("{0}-lake-results-{1}", self._base, self._account),
            lifecycle_rules=[
                # Versioned like every data bucket (s3-versioning-lifecycle), but a result is a cache: an
                # overwritten or expired one is gone the next day.
                {
                    "id": "expire-results",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": lk.results_expiration_days},
                    "noncurrent_version_expiration": {"noncurrent_days": 1},
                },
                abort_incomplete_uploads(),
            ],
            # Results are never the only copy: the bucket may always be emptied on destroy.
            force_destroy=True,
            lifecycle_after_versioning=True,
        )
        return _Storage(lake, results)

    # -- order events: SNS -> Firehose -> raw zone ---------------------------------------------------------------------
    def _ingest(self, key: aws.kms.Key, storage: _Storage) -> _Ingest:
        n, lk, lake = self._name, self._lk, storage.lake
        stream_name = f"{self._base}-order-events"
        log_group = self._log_group("firehose", key)
        log_stream = aws.cloudwatch.LogStream(
            f"{n}-firehose-delivery", name="S3Delivery", log_group_name=log_group.name, opts=self._child
        )
        firehose_role = self._role("firehose", "firehose.amazonaws.com", [
            iam.allow(["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"], [lake.arn],
                      sid="FindTheLakeBucket"),
            iam.allow(["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
                      [lake.objects(RAW_PREFIX), lake.objects(ERROR_PREFIX)], sid="WriteRawOrderEventsOnly"),
            # Only through S3, only for objects of the lake bucket (Firehose docs, "Grant Firehose access to an
            # Amazon S3 destination").
            iam.allow(["kms:GenerateDataKey", "kms:Decrypt"], [key.arn], sid="EncryptRawObjectsWithLakeKey",
                      conditions=[
                          iam.condition("StringEquals", "kms:ViaService",
                                        pulumi.Output.concat("s3.", self._region, ".amazonaws.com")),
                          # With an S3 Bucket Key the context is the bucket's ARN, not the object's (S3 User
                          # Guide, "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys").
                          iam.condition("StringEquals", "kms:EncryptionContext:aws:s3:arn", lake.arn),
                      ]),
            iam.allow(["logs:PutLogEvents"], [pulumi.Output.concat(log_group.arn, ":log-stream:*")],
                      sid="LogDeliveryErrors"),
        ])  # fmt: skip
        stream = aws.kinesis.FirehoseDeliveryStream(
            f"{n}-order-events",
            name=stream_name,
            destination="extended_s3",
            # Direct PUT (the SNS subscription puts records): the stream encrypts its buffer with the lake key.
            server_side_encryption={"enabled": True, "key_type": "CUSTOMER_MANAGED_CMK", "key_arn": key.arn},
            extended_s3_configuration={
                "role_arn": firehose_role.arn,
                "bucket_arn": lake.arn,
                # Arrival-date partitions from a timestamp prefix, not dynamic partitioning: the stream can be
                # created without choosing for ever (dynamic partitioning cannot be turned on for an existing
                # stream), costs nothing extra per GB, and SNS delivers within seconds of publishing, so arrival
                # date is event date but for events around midnight — which the Glue job corrects in the curated
                # zone by partitioning on the event's own timestamp.
                "prefix": f"{RAW_PREFIX}dt=!{{timestamp:yyyy-MM-dd}}/",
                "error_output_prefix": f"{ERROR_PREFIX}!{{firehose:error-output-type}}/dt=!{{timestamp:yyyy-MM-dd}}/",
                "buffering_size": lk.firehose_buffer_mb,
                "buffering_interval": lk.firehose_buffer_seconds,
                "compression_format": "GZIP",
                "kms_key_arn": key.arn,
                "cloudwatch_logging_options": {
                    "enabled": True,
                    "log_group_name": log_group.name,
                    "log_stream_name": log_stream.name,
                },
            },
            tags=tags(COMPONENT, stream_name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[lake.policy] if lake.policy else []),
        )
        dlq, subscription = self._subscription(stream)
        return _Ingest(stream, subscription, dlq)

    def _subscription(
        self, stream: aws.kinesis.FirehoseDeliveryStream
    ) -> tuple[aws.sqs.Queue, aws.sns.TopicSubscription]:
        n, topic = self._name, self._sources.order_events_topic_arn
        # SNS assumes this role to put records (SNS docs, "Prerequisites for subscribing Firehose delivery streams
        # to Amazon SNS topics"); ListDeliveryStreams of that example has no resource type and is not needed.
        sns_role = aws.iam.Role(
            f"{n}-subscription",
            name=f"{self._base}-lake-subscription",
            # SNS documents this trust without conditions and not which context keys it sends when it assumes
            # the role; a condition it does not meet would silently stop delivery. The role can only put into
            # one stream.
            assume_role_policy=self._trust("sns.amazonaws.com"),
            tags=tags(COMPONENT, f"{self._base}-lake-subscription"),
            opts=self._child,
        )  # fmt: skip
        role_policy = aws.iam.RolePolicy(
            f"{n}-subscription",
            role=sns_role.id,
            policy=iam.policy_json(self, [iam.allow(
                ["firehose:DescribeDeliveryStream", "firehose:ListTagsForDeliveryStream", "firehose:PutRecord",
                 "firehose:PutRecordBatch"], [stream.arn], sid="PutOrderEventsIntoTheStream")]),
            opts=self._child,
        )  # fmt: skip
        dlq_name = f"{self._base}-lake-order-events-dlq"
        dlq = aws.sqs.Queue(
            f"{n}-order-events-dlq",
            name=dlq_name,
            message_retention_seconds=SQS_MAX_RETENTION_SECONDS,
            kms_master_key_id=self._sources.messaging_key_arn,
            kms_data_key_reuse_period_seconds=300,
            tags=tags(COMPONENT, dlq_name),
            opts=self._stateful(),
        )
        # SNS moves undeliverable messages to the DLQ as itself: the queue policy must admit the topic
        # (SNS docs, "Configuring an Amazon SNS dead-letter queue for a subscription").
        dlq_policy = aws.sqs.QueuePolicy(
            f"{n}-order-events-dlq",
            queue_url=dlq.url,
            policy=iam.policy_json(self, [
                {"sid": "OnlyTheOrderEventsTopicSends", "effect": "Allow",
                 "principals": [{"type": "Service", "identifiers": ["sns.amazonaws.com"]}],
                 "actions": ["sqs:SendMessage"], "resources": [dlq.arn],
                 "conditions": [iam.condition("ArnEquals", "aws:SourceArn", topic)]},
                {"sid": "DenyWithoutTls", "effect": "Deny", "principals": [{"type": "*", "identifiers": ["*"]}],
                 "actions": ["sqs:*"], "resources": [dlq.arn],
                 "conditions": [iam.condition("Bool", "aws:SecureTransport", "false")]},
            ]),
            opts=self._child,
        )  # fmt: skip
        subscription = aws.sns.TopicSubscription(
            f"{n}-order-events",
            topic=topic,
            protocol="firehose",
            endpoint=stream.arn,
            subscription_role_arn=sns_role.arn,
            # The SNS envelope, not raw delivery: SNS documents it one JSON object per line for Firehose, and its
            # MessageId and Timestamp make the raw zone replayable without the publisher's cooperation.
            raw_message_delivery=False,
            redrive_policy=pulumi.Output.json_dumps({"deadLetterTargetArn": dlq.arn}),
            # Subscribing before SNS may assume its role or write to the DLQ would lose the first events.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy, dlq_policy]),
        )
        return dlq, subscription

    # -- Glue Data Catalog ---------------------------------------------------------------------------------------------
    def _catalog(self, storage: _Storage) -> _Catalog:
        n = self._name
        db_name = f"ecommerce_{self._env}_lake"
        lake_uri = pulumi.Output.concat("s3://", storage.lake.name, "/")
        database = aws.glue.CatalogDatabase(
            f"{n}-database",
            name=db_name,
            description=f"{self._env}: order events, raw (SNS envelopes) and curated (Parquet)",
            location_uri=pulumi.Output.concat(lake_uri, "curated/"),
            opts=self._child,
        )

        def table(role: str, table_name: str, prefix: str, columns: Sequence[tuple[str, str]],
                  storage_descriptor: dict[str, object]) -> aws.glue.CatalogTable:  # fmt: skip
            location = pulumi.Output.concat(lake_uri, prefix)
            return aws.glue.CatalogTable(
                f"{n}-{role}-table",
                name=table_name,
                database_name=database.name,
                table_type="EXTERNAL_TABLE",
                partition_keys=[{"name": "dt", "type": "string", "comment": "yyyy-MM-dd"}],
                # Partition projection: Athena computes the partitions, so no crawler or MSCK REPAIR is needed
                # for a known schema (Athena docs, "Partition projection with Amazon Athena").
                parameters=cast(
                    Any,
                    {
                        "EXTERNAL": "TRUE",
                        "projection.enabled": "true",
                        "projection.dt.type": "date",
                        "projection.dt.format": "yyyy-MM-dd",
                        "projection.dt.range": f"{PROJECTION_START},NOW",
                        "projection.dt.interval": "1",
                        "projection.dt.interval.unit": "DAYS",
                        "storage.location.template": pulumi.Output.concat(location, "dt=${dt}/"),
                        **(
                            {"classification": "parquet"} if role == "curated" else {"classification": "json"}
                        ),
                    },
                ),
                storage_descriptor=cast(
                    Any,
                    {
                        "location": location,
                        "columns": [{"name": c, "type": t} for c, t in columns],
                        **storage_descriptor,
                    },
                ),
                opts=self._child,
            )

        raw = table("raw", RAW_TABLE, RAW_PREFIX, RAW_COLUMNS, {
            # TextInputFormat reads Firehose's .gz objects by their extension.
            "input_format": "org.apache.hadoop.mapred.TextInputFormat",
            "output_format": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "ser_de_info": {"serialization_library": "org.openx.data.jsonserde.JsonSerDe",
                            "parameters": {"ignore.malformed.json": "true"}},
        })  # fmt: skip
        curated = table("curated", CURATED_TABLE, CURATED_PREFIX, CURATED_COLUMNS, {
            "input_format": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "output_format": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "ser_de_info": {"serialization_library":
                            "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
        })  # fmt: skip
        if self._lk.create_catalog_settings:
            self._catalog_encryption()
        return _Catalog(database, raw, curated)

    def _catalog_encryption(self) -> None:
        """The account's Data Catalog encryption in this region: one stack per account owns it.

        SSE-KMS-WITH-SERVICE-ROLE: Glue assumes the role to use the key on the caller's behalf (Glue API,
        `EncryptionAtRest.CatalogEncryptionServiceRole`), so readers in every stack of the account need no grant on
        a key another stack owns.
        """
        n = self._name
        key = iam.customer_key(
            self,
            f"{n}-catalog-key",
            description="account: encrypts the Glue Data Catalog (all stacks' databases and tables)",
            deletion_window_days=30,
            account_id=self._account,
            partition=self._partition,
            tags=tags(COMPONENT, f"{n}-catalog-key"),
            # Deleting this key makes every stack's catalog unreadable: protected whatever protectData says.
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        aws.kms.Alias(f"{n}-catalog-key", name="alias/ecommerce-glue-catalog", target_key_id=key.key_id,
                      opts=self._child)  # fmt: skip
        role = aws.iam.Role(
            f"{n}-catalog",
            name="ecommerce-glue-catalog-encryption",
            assume_role_policy=self._trust("glue.amazonaws.com"),
            tags=tags(COMPONENT, "ecommerce-glue-catalog-encryption"),
            opts=self._child,
        )
        policy = aws.iam.RolePolicy(
            f"{n}-catalog",
            role=role.id,
            policy=iam.policy_json(self, [iam.allow(
                ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], [key.arn], sid="CatalogKeyOnly")]),
            opts=self._child,
        )  # fmt: skip
        aws.glue.DataCatalogEncryptionSettings(
            f"{n}-catalog-encryption",
            data_catalog_encryption_settings={
                "encryption_at_rest": {
                    "catalog_encryption_mode": "SSE-KMS-WITH-SERVICE-ROLE",
                    "catalog_encryption_service_role": role.arn,
                    "sse_aws_kms_key_id": key.arn,
                },
                "connection_password_encryption": {
                    "return_connection_password_encrypted": True,
                    "aws_kms_key_id": key.arn,
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )

    # -- Glue ETL: raw JSON -> curated Parquet ------------------------------------------------------------------------
    def _etl(self, key: aws.kms.Key, storage: _Storage, catalog: _Catalog) -> _Etl:
        n, lk, lake = self._name, self._lk, storage.lake
        job_name = f"{self._base}-orders-to-parquet"
        sec_name = f"{self._base}-lake"
        script = aws.s3.BucketObjectv2(
            f"{n}-job-script",
            bucket=lake.id,
            key=f"{SCRIPTS_PREFIX}{JOB_SCRIPT.name}",
            source=pulumi.FileAsset(str(JOB_SCRIPT)),
            server_side_encryption="aws:kms",
            kms_key_id=key.arn,
            tags=tags(COMPONENT, f"{n}-job-script"),
            opts=self._child,
        )
        security = aws.glue.SecurityConfiguration(
            f"{n}-glue-security",
            name=sec_name,
            encryption_configuration={
                "s3_encryption": {"s3_encryption_mode": "SSE-KMS", "kms_key_arn": key.arn},
                "cloudwatch_encryption": {"cloudwatch_encryption_mode": "SSE-KMS", "kms_key_arn": key.arn},
                "job_bookmarks_encryption": {
                    "job_bookmarks_encryption_mode": "CSE-KMS",
                    "kms_key_arn": key.arn,
                },
            },
            opts=self._child,
        )
        role = self._role("glue-job", "glue.amazonaws.com", self._glue_job_statements(key, lake, catalog))
        bucket_uri = pulumi.Output.concat("s3://", lake.name, "/")
        job = aws.glue.Job(
            f"{n}-orders-to-parquet",
            name=job_name,
            role_arn=role.arn,
            glue_version=lk.glue_version,
            worker_type=lk.glue_worker_type,
            number_of_workers=lk.glue_workers,
            command={"name": "glueetl", "python_version": "3",
                     "script_location": pulumi.Output.concat(bucket_uri, script.key)},
            default_arguments={
                "--job-language": "python",
                # Bookmarks: each run reads only the raw objects it has not processed yet.
                "--job-bookmark-option": "job-bookmark-enable",
                "--TempDir": pulumi.Output.concat(bucket_uri, TEMP_PREFIX),
                "--enable-metrics": "true",
                "--enable-continuous-cloudwatch-log": "true",
                "--RAW_PATH": pulumi.Output.concat(bucket_uri, RAW_PREFIX),
                "--CURATED_PATH": pulumi.Output.concat(bucket_uri, CURATED_PREFIX),
            },
            security_configuration=security.name,
            execution_property={"max_concurrent_runs": 1},
            max_retries=1,
            timeout=60,
            tags=tags(COMPONENT, job_name),
            opts=self._child,
        )  # fmt: skip
        trigger = aws.glue.Trigger(
            f"{n}-orders-to-parquet",
            name=f"{job_name}-schedule",
            type="SCHEDULED",
            schedule=lk.etl_schedule,
            start_on_creation=True,
            actions=[{"job_name": job.name}],
            tags=tags(COMPONENT, f"{job_name}-schedule"),
            opts=self._child,
        )
        if lk.crawler:
            self._crawler(key, lake, catalog, security)
        return _Etl(job, role, trigger)

    def _glue_tables(self, catalog: _Catalog, *tables: str) -> list[pulumi.Output[str]]:
        return [
            self._arn("glue", "catalog"),
            pulumi.Output.concat(self._arn("glue", "database/"), catalog.database.name),
            *(pulumi.Output.format("{0}table/{1}/{2}", self._arn("glue", ""), catalog.database.name, t)
              for t in tables),
        ]  # fmt: skip

    def _glue_job_statements(
        self, key: aws.kms.Key, lake: PrivateBucket, catalog: _Catalog
    ) -> list[iam.Statement]:
        logs = self._arn("logs", "log-group:/aws-glue/*")
        return [
            iam.allow(["s3:ListBucket"], [lake.arn], sid="ListItsPrefixes", conditions=[iam.condition(
                "StringLike", "s3:prefix", f"{RAW_PREFIX}*", f"{CURATED_PREFIX}*", f"{TEMP_PREFIX}*",
                f"{SCRIPTS_PREFIX}*")]),
            iam.allow(["s3:GetObject"], [lake.objects(RAW_PREFIX), lake.objects(SCRIPTS_PREFIX)],
                      sid="ReadRawEventsAndItsScript"),
            iam.allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                      [lake.objects(CURATED_PREFIX), lake.objects(TEMP_PREFIX)], sid="WriteCuratedAndTemp"),
            # Bookmarks are client-side encrypted (CSE-KMS): the job encrypts and decrypts them itself.
            self._kms_use(key, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"),
            iam.allow(["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions", "glue:BatchCreatePartition",
                       "glue:UpdateTable"], self._glue_tables(catalog, RAW_TABLE, CURATED_TABLE),
                      sid="ItsTablesOnly"),
            # The security configuration's CloudWatch encryption associates the key with Glue's log groups.
            iam.allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"],
                      [logs, pulumi.Output.concat(logs, ":log-stream:*")], sid="GlueJobLogs"),
            iam.allow(["cloudwatch:PutMetricData"], ["*"], sid="GlueJobMetrics",
                      conditions=[iam.condition("StringEquals", "cloudwatch:namespace", "Glue")]),
        ]  # fmt: skip

    def _crawler(self, key: aws.kms.Key, lake: PrivateBucket, catalog: _Catalog,
                 security: aws.glue.SecurityConfiguration) -> aws.glue.Crawler:  # fmt: skip
        logs = self._arn("logs", "log-group:/aws-glue/*")
        role = self._role("crawler", "glue.amazonaws.com", [
            iam.allow(["s3:ListBucket"], [lake.arn], sid="ListCurated",
                      conditions=[iam.condition("StringLike", "s3:prefix", f"{CURATED_PREFIX}*")]),
            iam.allow(["s3:GetObject"], [lake.objects(CURATED_PREFIX)], sid="ReadCuratedOnly"),
            self._kms_use(key, "kms:Decrypt"),
            iam.allow(["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions", "glue:BatchCreatePartition",
                       "glue:BatchGetPartition", "glue:UpdatePartition"],
                      self._glue_tables(catalog, CURATED_TABLE), sid="CuratedTableOnly"),
            iam.allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"],
                      [logs, pulumi.Output.concat(logs, ":log-stream:*")], sid="CrawlerLogs"),
        ])  # fmt: skip
        return aws.glue.Crawler(
            f"{self._name}-curated-crawler",
            name=f"{self._base}-lake-curated",
            role=role.arn,
            database_name=catalog.database.name,
            catalog_targets=[{"database_name": catalog.database.name, "tables": [catalog.curated.name]}],
            # Schema drift is logged, never applied: the explicit table stays the source of truth.
            schema_change_policy={"delete_behavior": "LOG", "update_behavior": "LOG"},
            security_configuration=security.name,
            tags=tags(COMPONENT, f"{self._base}-lake-curated"),
            opts=self._child,
        )

    # -- Athena --------------------------------------------------------------------------------------------------------
    def _athena(self, key: aws.kms.Key, storage: _Storage, catalog: _Catalog) -> aws.athena.Workgroup:
        n = self._name
        workgroup = aws.athena.Workgroup(
            f"{n}-workgroup",
            name=f"{self._base}-lake",
            description=f"{self._env}: queries over the order events lake",
            configuration={
                # Enforced: a client cannot send results elsewhere or unencrypted, nor lift the scan cutoff.
                "enforce_workgroup_configuration": True,
                "publish_cloudwatch_metrics_enabled": True,
                "bytes_scanned_cutoff_per_query": self._lk.athena_cutoff_mb * 1_000_000,
                "engine_version": {"selected_engine_version": ATHENA_ENGINE},
                "result_configuration": {
                    "output_location": pulumi.Output.concat("s3://", storage.results.name, "/"),
                    "encryption_configuration": {"encryption_option": "SSE_KMS", "kms_key_arn": key.arn},
                    "expected_bucket_owner": self._account,
                },
            },
            force_destroy=not self._settings.protect_data,
            tags=tags(COMPONENT, f"{self._base}-lake"),
            opts=self._child,
        )
        table = pulumi.Output.concat('"', catalog.database.name, '"."', catalog.curated.name, '"')

        def sql_for(template: str) -> pulumi.Output[str]:
            return table.apply(lambda t: template.format(table=t))

        for query, (description, sql) in NAMED_QUERIES.items():
            aws.athena.NamedQuery(
                f"{n}-{query}",
                name=f"{self._base}-{query}",
                description=description,
                database=catalog.database.name,
                workgroup=workgroup.name,
                query=sql_for(sql),
                opts=self._child,
            )
        return workgroup

    # -- who reads the curated zone through Athena ---------------------------------------------------------------------
    def _readers(self, key: aws.kms.Key, storage: _Storage, catalog: _Catalog,
                 workgroup: aws.athena.Workgroup) -> dict[str, aws.iam.Role]:  # fmt: skip
        """One role per reading service (QuickSight, SageMaker), each allowed the curated zone and nothing raw."""
        lake, results = storage.lake, storage.results
        statements: list[iam.Statement] = [
            iam.allow(["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults",
                       "athena:StopQueryExecution", "athena:GetWorkGroup"],
                      [pulumi.Output.concat(self._arn("athena", "workgroup/"), workgroup.name)],
                      sid="QueryInTheLakeWorkgroup"),
            iam.allow(["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
                      self._glue_tables(catalog, CURATED_TABLE), sid="CuratedTableOnly"),
            iam.allow(["s3:ListBucket"], [lake.arn], sid="ListCuratedOnly",
                      conditions=[iam.condition("StringLike", "s3:prefix", f"{CURATED_PREFIX}*")]),
            iam.allow(["s3:GetObject"], [lake.objects(CURATED_PREFIX)], sid="ReadCuratedOnly"),
            iam.allow(["s3:GetBucketLocation", "s3:ListBucket"], [results.arn], sid="FindResults"),
            iam.allow(["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"], [results.objects()],
                      sid="ReadAndWriteQueryResults"),
            self._kms_use(key, "kms:Decrypt", "kms:GenerateDataKey"),
        ]  # fmt: skip
        if self._lk.lake_formation:
            # Lake Formation vends the S3 credentials; the action has no resource type (Service Authorization
            # Reference), so "*" is the only scope.
            statements.append(
                iam.allow(["lakeformation:GetDataAccess"], ["*"], sid="LakeFormationVendsAccess")
            )
        services = {"quicksight": "quicksight.amazonaws.com", "sagemaker": "sagemaker.amazonaws.com"}
        return {
            role: self._role(role, service, statements)
            for role, service in services.items()
            if getattr(self._lk, role)
        }

    # -- Lake Formation ------------------------------------------------------------------------------------------------
    def _lake_formation(self, key: aws.kms.Key, storage: _Storage, catalog: _Catalog, etl: _Etl,
                        readers: dict[str, aws.iam.Role], admins: Sequence[pulumi.Input[str]]) -> None:  # fmt: skip
        n, lake = self._name, storage.lake
        after: list[pulumi.Resource] = []
        if self._lk.create_catalog_settings:
            # Replaces the account's admin list: the deploy role stays an admin, or it could not grant below.
            # Empty defaults take IAMAllowedPrincipals off new databases and tables, so grants decide. pulumi-aws
            # #4366: an *update* does not clear defaults already set, so a change replaces the resource (delete
            # first: one settings object per account and region), which puts the whole settings anew.
            after.append(aws.lakeformation.DataLakeSettings(
                f"{n}-lake-formation",
                admins=[*admins, *self._lk.lake_formation_admins],
                create_database_default_permissions=[],
                create_table_default_permissions=[],
                opts=pulumi.ResourceOptions(
                    parent=self, delete_before_replace=True,
                    replace_on_changes=["createDatabaseDefaultPermissions", "createTableDefaultPermissions", "admins"]),
            ))  # fmt: skip
        location_role = self._role("lake-formation", "lakeformation.amazonaws.com", [
            iam.allow(["s3:ListBucket"], [lake.arn], sid="ListTheLake"),
            iam.allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                      [lake.objects(RAW_PREFIX), lake.objects(CURATED_PREFIX)], sid="VendZoneAccess"),
            self._kms_use(key, "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"),
        ])  # fmt: skip
        location = aws.lakeformation.Resource(
            f"{n}-location", arn=lake.arn, role_arn=location_role.arn, use_service_linked_role=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=after),
        )  # fmt: skip
        grant = pulumi.ResourceOptions(parent=self, depends_on=[*after, location])
        db: aws.lakeformation.PermissionsDatabaseArgsDict = {"name": catalog.database.name}

        def table(t: aws.glue.CatalogTable) -> aws.lakeformation.PermissionsTableArgsDict:
            return {"database_name": catalog.database.name, "name": t.name}

        job = etl.role.arn
        aws.lakeformation.Permissions(f"{n}-job-location", principal=job, permissions=["DATA_LOCATION_ACCESS"],
                                      data_location={"arn": lake.arn}, opts=grant)  # fmt: skip
        aws.lakeformation.Permissions(f"{n}-job-database", principal=job, permissions=["DESCRIBE"], database=db,
                                      opts=grant)  # fmt: skip
        aws.lakeformation.Permissions(f"{n}-job-raw", principal=job, permissions=["SELECT", "DESCRIBE"],
                                      table=table(catalog.raw), opts=grant)  # fmt: skip
        aws.lakeformation.Permissions(f"{n}-job-curated", principal=job,
                                      permissions=["SELECT", "INSERT", "ALTER", "DESCRIBE"],
                                      table=table(catalog.curated), opts=grant)  # fmt: skip
        for role, reader in readers.items():
            aws.lakeformation.Permissions(f"{n}-{role}-database", principal=reader.arn, permissions=["DESCRIBE"],
                                          database=db, opts=grant)  # fmt: skip
            aws.lakeformation.Permissions(f"{n}-{role}-curated", principal=reader.arn,
                                          permissions=["SELECT", "DESCRIBE"], table=table(catalog.curated),
                                          opts=grant)  # fmt: skip

    # -- QuickSight ----------------------------------------------------------------------------------------------------
    def _quicksight(self, catalog: _Catalog, workgroup: aws.athena.Workgroup,
                    role: aws.iam.Role) -> pulumi.Output[str]:  # fmt: skip
        """The Athena data source and the orders data set. The account's QuickSight subscription is account-level
        and deleting it is irreversible, so it is a documented prerequisite, not a resource here."""
        n, principal = self._name, self._lk.quicksight_principal
        source = aws.quicksight.DataSource(
            f"{n}-quicksight-source",
            data_source_id=f"{self._base}-lake",
            name=f"{self._base}-lake",
            type="ATHENA",
            # The data source's own role (Athena parameters' RoleArn) instead of QuickSight's account-wide role:
            # this stack's lake grants go to this role only.
            parameters={"athena": {"work_group": workgroup.name, "role_arn": role.arn}},
            permissions=[{"principal": principal, "actions": [
                "quicksight:DescribeDataSource", "quicksight:DescribeDataSourcePermissions",
                "quicksight:PassDataSource", "quicksight:UpdateDataSource", "quicksight:DeleteDataSource",
                "quicksight:UpdateDataSourcePermissions"]}],
            tags=tags(COMPONENT, f"{self._base}-lake"),
            opts=self._child,
        )  # fmt: skip
        types = {"string": "STRING", "double": "DECIMAL", "timestamp": "DATETIME"}
        data_set = aws.quicksight.DataSet(
            f"{n}-quicksight-orders",
            data_set_id=f"{self._base}-order-events",
            name=f"{self._base} order events",
            # Direct query: no SPICE capacity to buy; Athena's scan cutoff bounds each visual's query.
            import_mode="DIRECT_QUERY",
            physical_table_maps=[{
                "physical_table_map_id": "order-events",
                "relational_table": {
                    "data_source_arn": source.arn, "catalog": "AwsDataCatalog", "schema": catalog.database.name,
                    "name": catalog.curated.name,
                    "input_columns": [{"name": c, "type": types[t]} for c, t in [*CURATED_COLUMNS, ("dt", "string")]
                                      if t in types],
                },
            }],
            permissions=[{"principal": principal, "actions": [
                "quicksight:DescribeDataSet", "quicksight:DescribeDataSetPermissions", "quicksight:PassDataSet",
                "quicksight:DescribeIngestion", "quicksight:ListIngestions", "quicksight:UpdateDataSet",
                "quicksight:DeleteDataSet", "quicksight:CreateIngestion", "quicksight:CancelIngestion",
                "quicksight:UpdateDataSetPermissions"]}],
            tags=tags(COMPONENT, f"{self._base}-order-events"),
            opts=self._child,
        )  # fmt: skip
        return data_set.arn

    # -- SageMaker -----------------------------------------------------------------------------------------------------
    def _sagemaker(self, key: aws.kms.Key, role: aws.iam.Role) -> pulumi.Output[str]:
        """A Studio domain in VpcOnly mode: no path to the internet, only the endpoints it needs."""
        n, net = self._name, self._network
        domain_sg = aws.ec2.SecurityGroup(
            f"{n}-sagemaker-sg", vpc_id=net.vpc_id, description="SageMaker Studio apps of the lake domain",
            tags=tags(COMPONENT, f"{n}-sagemaker-sg"), opts=self._child,
        )  # fmt: skip
        endpoint_sg = aws.ec2.SecurityGroup(
            f"{n}-sagemaker-endpoints-sg", vpc_id=net.vpc_id, description="SageMaker API, runtime and Studio endpoints",
            tags=tags(COMPONENT, f"{n}-sagemaker-endpoints-sg"), opts=self._child,
        )  # fmt: skip
        # Studio: apps talk to the domain's EFS (NFS 2049) and to each other (8192-65535) inside the domain's SG
        # (SageMaker docs, "Connect Studio notebooks in a VPC to external resources").
        rules = [
            ("sagemaker-nfs", domain_sg, domain_sg, 2049, 2049, "EFS home directories inside the domain"),
            ("sagemaker-apps", domain_sg, domain_sg, 8192, 65535, "Studio apps inside the domain"),
            ("sagemaker-endpoints-in", endpoint_sg, domain_sg, 443, 443, "Studio to the SageMaker endpoints"),
        ]
        for label, target, source, low, high, why in rules:
            aws.vpc.SecurityGroupIngressRule(
                f"{n}-{label}", security_group_id=target.id, referenced_security_group_id=source.id,
                ip_protocol="tcp", from_port=low, to_port=high, description=why, opts=self._child,
            )  # fmt: skip
        aws.vpc.SecurityGroupIngressRule(
            f"{n}-sagemaker-shared-endpoints", security_group_id=net.endpoints_security_group_id,
            referenced_security_group_id=domain_sg.id, ip_protocol="tcp", from_port=443, to_port=443,
            description="Studio to the shared STS, logs and KMS endpoints", opts=self._child,
        )  # fmt: skip
        # S3 through the network's gateway endpoint routes to S3's public prefixes, outside the VPC's CIDR.
        s3_prefixes = aws.ec2.get_managed_prefix_list_output(
            name=f"com.amazonaws.{self._settings.region}.s3", opts=pulumi.InvokeOutputOptions(parent=self)
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{n}-sagemaker-domain-out-s3", security_group_id=domain_sg.id, ip_protocol="tcp", from_port=443,
            to_port=443, prefix_list_id=s3_prefixes.id, description="S3 through its gateway endpoint",
            opts=self._child,
        )  # fmt: skip
        for label, target in (("domain", domain_sg), ("endpoints", endpoint_sg)):
            aws.vpc.SecurityGroupEgressRule(
                f"{n}-sagemaker-{label}-out", security_group_id=target.id, ip_protocol="-1",
                cidr_ipv4=self._settings.network.vpc_cidr, description="inside the VPC only", opts=self._child,
            )  # fmt: skip
        region = self._settings.region
        for label, service in (("api", f"com.amazonaws.{region}.sagemaker.api"),
                               ("runtime", f"com.amazonaws.{region}.sagemaker.runtime"),
                               ("studio", f"aws.sagemaker.{region}.studio")):  # fmt: skip
            aws.ec2.VpcEndpoint(
                f"{n}-sagemaker-{label}", vpc_id=net.vpc_id, service_name=service, vpc_endpoint_type="Interface",
                private_dns_enabled=True, subnet_ids=list(net.private_subnet_ids), security_group_ids=[endpoint_sg.id],
                tags=tags(COMPONENT, f"{n}-sagemaker-{label}"), opts=self._child,
            )  # fmt: skip
        domain = aws.sagemaker.Domain(
            f"{n}-sagemaker",
            domain_name=f"{self._base}-lake",
            auth_mode="IAM",
            app_network_access_type="VpcOnly",
            vpc_id=net.vpc_id,
            subnet_ids=list(net.private_subnet_ids),
            kms_key_id=key.arn,
            # VpcOnly needs the apps' security groups (CreateDomain: required with VpcOnly unless given per user).
            default_user_settings={"execution_role": role.arn, "security_groups": [domain_sg.id]},
            retention_policy={"home_efs_file_system": "Retain" if self._settings.protect_data else "Delete"},
            tags=tags(COMPONENT, f"{self._base}-lake"),
            opts=self._stateful(),
        )
        aws.sagemaker.UserProfile(
            f"{n}-sagemaker-default", domain_id=domain.id, user_profile_name="default",
            user_settings={"execution_role": role.arn, "security_groups": [domain_sg.id]},
            tags=tags(COMPONENT, f"{self._base}-lake-default"), opts=self._child,
        )  # fmt: skip
        return domain.id

    # -- the contract --------------------------------------------------------------------------------------------------
    def _contract(self, key: aws.kms.Key, storage: _Storage, ingest: _Ingest, catalog: _Catalog, etl: _Etl,
                  workgroup: aws.athena.Workgroup, readers: dict[str, aws.iam.Role]) -> None:  # fmt: skip
        self.key_arn = key.arn
        self.lake_bucket_name, self.lake_bucket_arn = storage.lake.name, storage.lake.arn
        self.results_bucket_name = storage.results.name
        self.database_name = catalog.database.name
        self.raw_table_name, self.curated_table_name = catalog.raw.name, catalog.curated.name
        self.workgroup_name = workgroup.name
        self.stream_name, self.stream_arn = ingest.stream.name, ingest.stream.arn
        self.dead_letter_queue_arn, self.dead_letter_queue_name = ingest.dlq.arn, ingest.dlq.name
        self.job_name = etl.job.name
        self.reader_role_arns = {role: r.arn for role, r in readers.items()}
