"""The DataTier's shared ground: its constants, the outputs and state every builder reads, its helpers and keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import pulumi
import pulumi_aws as aws

from components import iam
from components.config import DataSettings, Settings
from components.contracts import (
    DatabaseAdminAccess,
    DataContract,
)
from components.naming import stateful, tags


class SecretReplicaRegion(Protocol):
    """What the builders read of the DR region (`components.dr.StandbyRegion`): its name and its keys. A protocol,
    not an import: components.dr imports the Aurora builders' windows and parameters (components.dr_aurora), so
    naming StandbyRegion here would tie the two packages into an import cycle."""

    dr_region: str
    key_arns: dict[str, pulumi.Output[str]]


COMPONENT = "data"
#: Inputs Application Auto Scaling changes behind Pulumi's back in provisioned mode: the table's capacities and every
#: global secondary index's.
AUTOSCALED_CAPACITY_PATHS = (
    "readCapacity",
    "writeCapacity",
    "globalSecondaryIndexes[*].readCapacity",
    "globalSecondaryIndexes[*].writeCapacity",
)
REDIS_PORT = 6379
#: The databases of the one Aurora cluster and the IAM-authenticated users the services connect as. The cluster is
#: created with `orders` (RDS creates only one database); the ServiceMesh's database bootstrap Job creates `users`
#: and both logins from the contract (k8s/dbboot.py).
ORDERS_DATABASE, ORDER_DB_USER = "orders", "order_service"
USERS_DATABASE, USER_AUTH_DB_USER = "users", "user_auth_service"
MASTER_USERNAME = "ecommerce_admin"
#: Order lifecycle events a customer hears about; other event types on the topic (e.g. internal re-pricing) are
#: filtered out before they cost a queue message.
NOTIFIED_ORDER_EVENTS = ("OrderPlaced", "OrderShipped", "OrderDelivered", "OrderCancelled", "PaymentSucceeded",
                         "PaymentFailed", "RefundIssued")  # fmt: skip
NOTIFICATION_CHANNELS = ("email", "sms")
#: The OpenSearch TLS policy: TLS 1.2 minimum with forward secrecy only.
OPENSEARCH_TLS_POLICY = "Policy-Min-TLS-1-2-PFS-2023-10"
#: SQS keeps dead letters for the longest time it allows (14 days). A message moved to a standard queue's DLQ keeps its
#: original enqueue timestamp, so the DLQ must outlive its source: settings cap the source queues at 7 days
#: (`QUEUE_RETENTION_MAX_DAYS`), which leaves every dead letter at least a week to be looked at.
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
#: The store keys (role -> description). One key per store limits what a leaked grant or policy can decrypt.
KEY_ROLES = {
    "tables": "DynamoDB tables (products, inventory) and their streams",
    "aurora": "Aurora PostgreSQL storage, snapshots and Performance Insights",
    "cache": "ElastiCache Redis data at rest and snapshots",
    "search": "OpenSearch indexes at rest",
    "messaging": "SNS topics and SQS queues",
    "secrets": "Secrets Manager entries (Stripe key, Redis AUTH token, Aurora master password)",
    "logs": "CloudWatch log groups of the data tier",
}


@dataclass(frozen=True)
class _Table:
    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    stream_arn: pulumi.Output[str]


class DataTierBase(pulumi.ComponentResource):
    """What every DataTier builder shares: the component's outputs, its settings and its helpers."""

    contract: DataContract
    kms_key_arns: dict[str, pulumi.Output[str]]
    products_table_name: pulumi.Output[str]
    products_table_arn: pulumi.Output[str]
    products_stream_arn: pulumi.Output[str]
    inventory_table_name: pulumi.Output[str]
    inventory_table_arn: pulumi.Output[str]
    inventory_stream_arn: pulumi.Output[str]
    aurora_cluster_identifier: pulumi.Output[str]
    aurora_cluster_arn: pulumi.Output[str]
    aurora_cluster_resource_id: pulumi.Output[str]
    aurora_engine_version: pulumi.Output[str]
    #: the role RDS Enhanced Monitoring publishes as (IAM is global: the DR secondary's instances use it too)
    aurora_monitoring_role_arn: pulumi.Output[str] | None
    aurora_endpoint: pulumi.Output[str]
    aurora_reader_endpoint: pulumi.Output[str]
    aurora_master_secret_arn: pulumi.Output[str]
    database_admin: DatabaseAdminAccess
    redis_endpoint: pulumi.Output[str]
    redis_port: int
    redis_auth_secret_arn: pulumi.Output[str]
    search_domain_name: pulumi.Output[str]
    search_domain_arn: pulumi.Output[str]
    search_endpoint: pulumi.Output[str]
    order_events_topic_arn: pulumi.Output[str]
    notifications_topic_arn: pulumi.Output[str]
    queue_urls: dict[str, pulumi.Output[str]]
    queue_arns: dict[str, pulumi.Output[str]]
    dead_letter_queue_arns: dict[str, pulumi.Output[str]]
    user_pool_id: pulumi.Output[str]
    user_pool_arn: pulumi.Output[str]
    user_pool_client_id: pulumi.Output[str]
    user_pool_domain: pulumi.Output[str]
    stripe_secret_arn: pulumi.Output[str]
    redis_member_clusters: pulumi.Output[Sequence[str]]
    queue_names: dict[str, pulumi.Output[str]]
    dead_letter_queue_names: dict[str, pulumi.Output[str]]
    topic_names: dict[str, pulumi.Output[str]]

    # Set by the constructor, read by every builder.
    _name: str
    _settings: Settings
    _d: DataSettings
    _child: pulumi.ResourceOptions
    _base: str
    _azs: list[str]
    _subnets: list[pulumi.Input[str]]
    _sg: pulumi.Input[str]
    _search_prerequisites: list[pulumi.Resource]
    _standby: SecretReplicaRegion | None
    _account: pulumi.Output[str]
    _partition: pulumi.Output[str]
    _region: pulumi.Output[str]

    # -- helpers ---------------------------------------------------------------------------------------------------
    def _stateful(self, **extra: object) -> pulumi.ResourceOptions:
        return stateful(self._settings, pulumi.ResourceOptions(parent=self, **extra))  # type: ignore[arg-type]

    def _secret_replicas(self) -> list[aws.secretsmanager.SecretReplicaArgsDict] | None:
        """Where a secret the services need is replicated: the DR region under StandbyRegion's `secrets` key, in
        every DR mode (none when `dr.mode` is off).

        A replica is an argument of the secret itself (pulumi-aws `secretsmanager.Secret` `replicas`: region and
        `kms_key_id`); Secrets Manager re-encrypts it with that key using the caller's rights (ReplicateSecretToRegions:
        kms:Decrypt on the primary key, kms:GenerateDataKey and kms:Encrypt on the replica's), which the DR key's
        account statement delegates to IAM. Backup-restore replicates too: the Stripe key cannot be re-issued from
        here, and Pulumi's own copy of it is encrypted with the state's KMS key in the primary region.
        """
        if self._standby is None:
            return None  # not an empty list: that would be a diff on every secret of a stack without DR
        return [{"region": self._standby.dr_region, "kms_key_id": self._standby.key_arns["secrets"]}]

    def _log_group(self, role: str, log_name: str, key: aws.kms.Key) -> aws.cloudwatch.LogGroup:
        return aws.cloudwatch.LogGroup(
            f"{self._name}-{role}-logs",
            name=log_name,
            kms_key_id=key.arn,
            retention_in_days=self._d.log_retention_days,
            tags=tags(COMPONENT, f"{self._name}-{role}-logs"),
            opts=self._child,
        )

    def _log_arn(self, log_name: str) -> pulumi.Output[str]:
        return pulumi.Output.format(
            "arn:{0}:logs:{1}:{2}:log-group:{3}", self._partition, self._region, self._account, log_name
        )

    # -- KMS ---------------------------------------------------------------------------------------------------------
    def _keys(self) -> dict[str, aws.kms.Key]:
        env = self._settings.environment
        service_statements: dict[str, list[iam.Statement]] = {
            # CloudWatch Logs encrypts as itself, so it is named, bound to this tier's log groups only.
            "logs": [
                iam.logs_may_use_key(
                    "CloudWatchLogsUsesKeyForDataTierLogGroups",
                    self._region,
                    "ArnLike",
                    self._log_arn(f"/ecommerce/{env}/data/*"),
                    self._log_arn(f"/aws/rds/cluster/{self._base}-*"),
                )
            ],
            # SNS delivers into the encrypted queues as itself: it needs a data key, for our account's topics only.
            "messaging": [iam.sns_may_use_key(self._account)],
        }
        keys: dict[str, aws.kms.Key] = {}
        for role, description in KEY_ROLES.items():
            key = iam.customer_key(
                self,
                f"{self._name}-{role}-key",
                description=f"{env}: encrypts {description}",
                deletion_window_days=self._d.kms_deletion_window_days,
                account_id=self._account,
                partition=self._partition,
                # The other stores (DynamoDB, RDS, ElastiCache, OpenSearch, Secrets Manager) use the key through
                # grants made on the caller's behalf; IAM policies (the contract's) decide which callers those are.
                service_statements=service_statements.get(role, ()),
                tags=tags(COMPONENT, f"{self._name}-{role}-key"),
                # Deleting a key destroys every byte encrypted with it: keys are as stateful as the data.
                opts=self._stateful(),
            )
            aws.kms.Alias(
                f"{self._name}-{role}-key",
                name=f"alias/{self._base}-data-{role}",
                target_key_id=key.key_id,
                opts=self._child,
            )
            keys[role] = key
        return keys

    # -- DynamoDB ------------------------------------------------------------------------------------------------------
