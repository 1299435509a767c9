"""DataTier: every store the microservices keep state in — DynamoDB (products, inventory), Aurora PostgreSQL (orders,
users), ElastiCache Redis (carts), OpenSearch (search), SNS/SQS (notifications), Cognito (identities) and the
Secrets Manager entries (Stripe key, Redis AUTH token, Aurora master password) — encrypted with customer-managed
keys, placed in the private subnets behind the Database security group, and handed to the ServiceMesh as one
typed `DataContract`.

What it must not do: put a store in a public subnet or any security group but the Database SG, hold a secret in a
plain output, decide anything from the environment's name (sizes, counts and protection come from settings), or
create IAM roles for the services (the ServiceMesh derives those from the contract).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components import iam
from components.config import Settings
from components.contracts import (
    CacheAccess,
    DatabaseAccess,
    DatabaseAdminAccess,
    DataContract,
    QueueAccess,
    SearchAccess,
    SecretAccess,
    ServiceStores,
    TableAccess,
    TopicAccess,
    UserPoolAccess,
)
from components.naming import stateful, tags

COMPONENT = "data"
#: Inputs Application Auto Scaling changes behind Pulumi's back in provisioned mode: the table's capacities and every
#: global secondary index's.
AUTOSCALED_CAPACITY_PATHS = (
    "readCapacity",
    "writeCapacity",
    "globalSecondaryIndexes[*].readCapacity",
    "globalSecondaryIndexes[*].writeCapacity",
)
POSTGRES_PORT = 5432
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


class DataTier(pulumi.ComponentResource):
    """The data stores and their keys, secrets and logs. Children are named `{name}-<store>[-<role>]`."""

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

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        private_subnet_ids: Sequence[pulumi.Input[str]],
        database_security_group_id: pulumi.Input[str],
        stripe_api_key: pulumi.Output[str] | None = None,
        search_prerequisites: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param settings: the validated settings; `settings.data` sizes the stores, `protectData` protects them.
        :param private_subnet_ids: the VPC's private subnets, in the order of `network.availabilityZones`.
        :param database_security_group_id: the Database SG (5432/6379/443 from the EKS nodes only).
        :param stripe_api_key: the secret `stripeApiKey` config value; None leaves the secret without a value
            (put it with `aws secretsmanager put-secret-value`, see the README).
        :param search_prerequisites: what the VPC OpenSearch domain must be created after: the account's OpenSearch
            service-linked role in the stack that owns it (`ServiceLinkedRoles`); empty where it was looked up.

        The OpenSearch domain gets no resource policy here: its only principal, the search service's role, is
        created by the ServiceMesh from this component's contract, which sets the domain policy
        (`aws.opensearch.DomainPolicy`) once that role exists.
        """
        super().__init__("ecommerce:data:DataTier", name, None, opts)
        self._name = name
        self._settings = settings
        self._d = settings.data
        self._child = pulumi.ResourceOptions(parent=self)
        self._base = f"ecommerce-{settings.environment}"
        self._azs = list(settings.network.availability_zones)
        self._subnets = list(private_subnet_ids)
        self._sg = database_security_group_id
        self._search_prerequisites = list(search_prerequisites)
        self._account, self._partition, self._region = iam.caller(self)

        keys = self._keys()
        self.kms_key_arns = {role: key.arn for role, key in keys.items()}
        products, inventory = self._tables(keys["tables"])
        cluster, aurora_writer = self._aurora(keys["aurora"], keys["secrets"], keys["logs"])
        redis, redis_secret = self._redis(keys["cache"], keys["secrets"], keys["logs"])
        domain = self._search(keys["search"], keys["logs"])
        topics, queues, dlqs = self._messaging(keys["messaging"])
        pool, client, pool_domain = self._identities()
        stripe_secret = self._stripe_secret(keys["secrets"], stripe_api_key)

        self.products_table_name, self.products_table_arn = products.name, products.arn
        self.products_stream_arn = products.stream_arn
        self.inventory_table_name, self.inventory_table_arn = inventory.name, inventory.arn
        self.inventory_stream_arn = inventory.stream_arn
        self.aurora_cluster_identifier = cluster.cluster_identifier
        self.aurora_cluster_arn = cluster.arn
        self.aurora_cluster_resource_id = cluster.cluster_resource_id
        self.aurora_endpoint = cluster.endpoint
        self.aurora_reader_endpoint = cluster.reader_endpoint
        self.aurora_master_secret_arn = cluster.master_user_secrets.apply(
            lambda s: (s[0].secret_arn or "") if s else ""
        )
        self.database_admin = self._database_admin(cluster, aurora_writer)
        self.redis_endpoint = redis.primary_endpoint_address
        self.redis_port = REDIS_PORT
        self.redis_auth_secret_arn = redis_secret.arn
        self.redis_member_clusters = redis.member_clusters
        self.search_domain_name = domain.domain_name
        self.search_domain_arn = domain.arn
        self.search_endpoint = domain.endpoint
        self.order_events_topic_arn = topics["order-events"].arn
        self.notifications_topic_arn = topics["notifications"].arn
        self.queue_urls = {role: q.url for role, q in queues.items()}
        self.queue_arns = {role: q.arn for role, q in queues.items()}
        self.dead_letter_queue_arns = {role: q.arn for role, q in dlqs.items()}
        self.queue_names = {role: q.name for role, q in queues.items()}
        self.dead_letter_queue_names = {role: q.name for role, q in dlqs.items()}
        self.topic_names = {role: t.name for role, t in topics.items()}
        self.user_pool_id, self.user_pool_arn = pool.id, pool.arn
        self.user_pool_client_id = client.id
        self.user_pool_domain = pool_domain.domain
        self.stripe_secret_arn = stripe_secret.arn
        self.contract = self._contract()

        self.register_outputs(self._outputs())

    def _outputs(self) -> pulumi.Inputs:
        """The component's registered outputs (`register_outputs`): its ARNs, endpoints and names."""
        return {
            "kms_key_arns": self.kms_key_arns,
            "products_table_arn": self.products_table_arn,
            "products_stream_arn": self.products_stream_arn,
            "inventory_table_arn": self.inventory_table_arn,
            "inventory_stream_arn": self.inventory_stream_arn,
            "aurora_cluster_arn": self.aurora_cluster_arn,
            "aurora_endpoint": self.aurora_endpoint,
            "aurora_reader_endpoint": self.aurora_reader_endpoint,
            "aurora_master_secret_arn": self.aurora_master_secret_arn,
            "redis_endpoint": self.redis_endpoint,
            "redis_auth_secret_arn": self.redis_auth_secret_arn,
            "search_domain_arn": self.search_domain_arn,
            "search_endpoint": self.search_endpoint,
            "order_events_topic_arn": self.order_events_topic_arn,
            "notifications_topic_arn": self.notifications_topic_arn,
            "queue_urls": self.queue_urls,
            "dead_letter_queue_arns": self.dead_letter_queue_arns,
            "user_pool_id": self.user_pool_id,
            "user_pool_client_id": self.user_pool_client_id,
            "stripe_secret_arn": self.stripe_secret_arn,
        }

    def _database_admin(
        self, cluster: aws.rds.Cluster, writer: aws.rds.ClusterInstance
    ) -> DatabaseAdminAccess:
        """What the ServiceMesh's database bootstrap Job needs: the writer, the master login and its secret's key."""
        return DatabaseAdminAccess(
            endpoint=cluster.endpoint,
            port=POSTGRES_PORT,
            master_username=MASTER_USERNAME,
            master_secret_arn=self.aurora_master_secret_arn,
            master_secret_key_arn=self.kms_key_arns["secrets"],
            writer_instance_arn=writer.arn,
        )

    # -- helpers ---------------------------------------------------------------------------------------------------
    def _stateful(self, **extra: object) -> pulumi.ResourceOptions:
        return stateful(self._settings, pulumi.ResourceOptions(parent=self, **extra))  # type: ignore[arg-type]

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
            "messaging": [
                {
                    "sid": "SnsDeliversToEncryptedQueues",
                    "effect": "Allow",
                    "principals": [{"type": "Service", "identifiers": ["sns.amazonaws.com"]}],
                    "actions": ["kms:GenerateDataKey*", "kms:Decrypt"],
                    "resources": ["*"],
                    "conditions": [iam.condition("StringEquals", "aws:SourceAccount", self._account)],
                }
            ],
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
    def _tables(self, key: aws.kms.Key) -> tuple[_Table, _Table]:
        products = self._table(
            "products",
            key,
            hash_key="productId",
            range_key=None,
            attributes={"productId": "S", "category": "S", "createdAt": "S", "sku": "S"},
            # Catalogue pages list a category newest first; the storefront and the inventory service resolve a SKU.
            indexes={"by-category": ("category", "createdAt"), "by-sku": ("sku", None)},
        )
        inventory = self._table(
            "inventory",
            key,
            hash_key="sku",
            range_key="locationId",
            attributes={"sku": "S", "locationId": "S"},
            # Stock per SKU per location; restocking walks a location.
            indexes={"by-location": ("locationId", "sku")},
            # Cart reservations are rows that lapse on their own when checkout never happens.
            ttl_attribute="expiresAt",
        )
        return products, inventory

    def _table(
        self,
        role: str,
        key: aws.kms.Key,
        *,
        hash_key: str,
        range_key: str | None,
        attributes: dict[str, str],
        indexes: dict[str, tuple[str, str | None]],
        ttl_attribute: str | None = None,
    ) -> _Table:
        d = self._d
        provisioned = d.dynamodb_billing_mode == "provisioned"
        capacity = d.dynamodb_min_capacity if provisioned else None
        table_name = f"{self._base}-{role}"
        table = aws.dynamodb.Table(
            f"{self._name}-{role}",
            name=table_name,
            billing_mode="PROVISIONED" if provisioned else "PAY_PER_REQUEST",
            hash_key=hash_key,
            range_key=range_key,
            attributes=[{"name": n, "type": t} for n, t in attributes.items()],
            global_secondary_indexes=[
                {
                    "name": index,
                    "hash_key": ihash,
                    "range_key": irange,
                    "projection_type": "ALL",
                    "read_capacity": capacity,
                    "write_capacity": capacity,
                }
                for index, (ihash, irange) in indexes.items()
            ],
            read_capacity=capacity,
            write_capacity=capacity,
            point_in_time_recovery={"enabled": True, "recovery_period_in_days": d.dynamodb_pitr_days},
            server_side_encryption={"enabled": True, "kms_key_arn": key.arn},
            # Global tables (the DR region) and the analytics lake both read the stream; global tables need both
            # images.
            stream_enabled=True,
            stream_view_type="NEW_AND_OLD_IMAGES",
            ttl={"enabled": True, "attribute_name": ttl_attribute} if ttl_attribute else None,
            deletion_protection_enabled=self._settings.protect_data,
            tags=tags(COMPONENT, table_name),
            # Auto scaling moves the capacity of the table and each index (`[*]`); DR replicas are TableReplicas: a
            # later `up` must reset neither (pulumi-aws `dynamodb.Table` and `dynamodb.TableReplica` docstrings).
            opts=self._stateful(
                ignore_changes=["replicas", *(AUTOSCALED_CAPACITY_PATHS if provisioned else [])]
            ),
        )
        if provisioned:
            targets = [(f"{role}", f"table/{table_name}", "table")]
            targets += [
                (f"{role}-{index}", f"table/{table_name}/index/{index}", "index") for index in indexes
            ]
            for label, resource_id, kind in targets:
                for direction in ("Read", "Write"):
                    target = aws.appautoscaling.Target(
                        f"{self._name}-{label}-{direction.lower()}",
                        service_namespace="dynamodb",
                        resource_id=resource_id,
                        scalable_dimension=f"dynamodb:{kind}:{direction}CapacityUnits",
                        min_capacity=d.dynamodb_min_capacity,
                        max_capacity=d.dynamodb_max_capacity,
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[table]),
                    )
                    aws.appautoscaling.Policy(
                        f"{self._name}-{label}-{direction.lower()}",
                        policy_type="TargetTrackingScaling",
                        service_namespace=target.service_namespace,
                        resource_id=target.resource_id,
                        scalable_dimension=target.scalable_dimension,
                        target_tracking_scaling_policy_configuration={
                            "target_value": float(d.dynamodb_target_utilization),
                            "predefined_metric_specification": {
                                "predefined_metric_type": f"DynamoDB{direction}CapacityUtilization"
                            },
                        },
                        opts=self._child,
                    )
        return _Table(table.name, table.arn, table.stream_arn)

    # -- Aurora PostgreSQL -------------------------------------------------------------------------------------------
    def _aurora(
        self, key: aws.kms.Key, secrets_key: aws.kms.Key, logs_key: aws.kms.Key
    ) -> tuple[aws.rds.Cluster, aws.rds.ClusterInstance]:
        """The cluster (with its subnet group, TLS-only parameters and log group), then its instances."""
        d, n = self._d, self._name
        major = d.aurora_engine_version.split(".")[0]
        cluster_id = f"{self._base}-aurora"
        protect = self._settings.protect_data
        subnet_group = aws.rds.SubnetGroup(
            f"{n}-aurora",
            name=cluster_id,
            description="Aurora PostgreSQL: the private subnets",
            subnet_ids=self._subnets,
            tags=tags(COMPONENT, f"{n}-aurora"),
            opts=self._child,
        )
        params = aws.rds.ClusterParameterGroup(
            f"{n}-aurora",
            name=f"{cluster_id}-pg{major}",
            family=f"aurora-postgresql{major}",
            description="Aurora PostgreSQL: TLS 1.2+ only, slow statements logged",
            parameters=[
                {"name": "rds.force_ssl", "value": "1"},
                {"name": "ssl_min_protocol_version", "value": "TLSv1.2"},
                {"name": "log_min_duration_statement", "value": "1000"},
            ],
            tags=tags(COMPONENT, f"{n}-aurora"),
            opts=self._child,
        )
        # Created before the cluster so RDS writes into an encrypted group with retention, not one of its own.
        log_group = self._log_group("aurora", f"/aws/rds/cluster/{cluster_id}/postgresql", logs_key)
        serverless = d.aurora_instance_class == "db.serverless"
        cluster = aws.rds.Cluster(
            f"{n}-aurora",
            cluster_identifier=cluster_id,
            engine="aurora-postgresql",
            engine_mode="provisioned",
            engine_version=d.aurora_engine_version,
            database_name=ORDERS_DATABASE,
            master_username=MASTER_USERNAME,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=secrets_key.arn,
            iam_database_authentication_enabled=True,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[self._sg],
            db_cluster_parameter_group_name=params.name,
            port=POSTGRES_PORT,
            storage_encrypted=True,
            kms_key_id=key.arn,
            serverlessv2_scaling_configuration=(
                {"min_capacity": d.aurora_min_capacity, "max_capacity": d.aurora_max_capacity}
                if serverless
                else None
            ),
            backup_retention_period=d.aurora_backup_retention_days,
            preferred_backup_window="07:00-08:00",
            preferred_maintenance_window="sun:08:30-sun:09:30",
            copy_tags_to_snapshot=True,
            deletion_protection=protect,
            skip_final_snapshot=not protect,
            final_snapshot_identifier=f"{cluster_id}-final" if protect else None,
            enabled_cloudwatch_logs_exports=["postgresql"],
            tags=tags(COMPONENT, cluster_id),
            # The version is what the cluster is created with; AWS then applies minor upgrades itself (auto minor
            # version upgrade on every instance) and a refresh must not try to take the cluster back to it. So a later
            # change of the setting does nothing by itself: a major upgrade is a planned migration (docs/data-tier.md).
            opts=self._stateful(depends_on=[log_group], ignore_changes=["engineVersion"]),
        )
        writer = self._aurora_instances(
            cluster, key, subnet_group, cluster_id, self._aurora_monitoring_role()
        )
        return cluster, writer

    def _aurora_monitoring_role(self) -> pulumi.Output[str] | None:
        """The role RDS Enhanced Monitoring publishes as; none when `data.auroraMonitoringInterval` is 0."""
        n = self._name
        if not self._d.aurora_monitoring_interval:
            return None
        role = aws.iam.Role(
            f"{n}-aurora-monitoring",
            description="Lets RDS Enhanced Monitoring publish OS metrics of the Aurora instances",
            assume_role_policy=iam.service_trust(
                self, "monitoring.rds.amazonaws.com", account_id=self._account
            ),
            tags=tags(COMPONENT, f"{n}-aurora-monitoring"),
            opts=self._child,
        )
        aws.iam.RolePolicyAttachment(
            f"{n}-aurora-monitoring",
            role=role.name,
            policy_arn=pulumi.Output.format(
                "arn:{0}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole", self._partition
            ),
            opts=self._child,
        )
        return role.arn

    def _aurora_instances(
        self,
        cluster: aws.rds.Cluster,
        key: aws.kms.Key,
        subnet_group: aws.rds.SubnetGroup,
        cluster_id: str,
        monitoring_role_arn: pulumi.Output[str] | None,
    ) -> aws.rds.ClusterInstance:
        """The writer, then the readers (each waiting for it); returns the writer."""
        d, n = self._d, self._name
        writer: aws.rds.ClusterInstance | None = None
        for i in range(d.aurora_instance_count):
            # Readers go round the other AZs, so failover survives the writer's AZ.
            az = self._azs[i % len(self._azs)] if d.aurora_multi_az else self._azs[0]
            instance = aws.rds.ClusterInstance(
                f"{n}-aurora-{i + 1}",
                identifier=f"{cluster_id}-{i + 1}",
                cluster_identifier=cluster.id,
                engine=aws.rds.EngineType.AURORA_POSTGRESQL,
                engine_version=cluster.engine_version,
                instance_class=d.aurora_instance_class,
                availability_zone=az,
                # The first instance is the writer; readers come after it (the first one created becomes writer).
                promotion_tier=0 if i == 0 else 1,
                db_subnet_group_name=subnet_group.name,
                publicly_accessible=False,
                auto_minor_version_upgrade=True,
                ca_cert_identifier="rds-ca-rsa2048-g1",
                performance_insights_enabled=True,
                performance_insights_kms_key_id=key.arn,
                performance_insights_retention_period=d.aurora_performance_insights_days,
                monitoring_interval=d.aurora_monitoring_interval,
                monitoring_role_arn=monitoring_role_arn,
                tags=tags(COMPONENT, f"{cluster_id}-{i + 1}", Role="writer" if i == 0 else "reader"),
                opts=self._stateful(
                    depends_on=[writer] if writer else None, ignore_changes=["engineVersion"]
                ),
            )
            writer = writer or instance
        if writer is None:
            raise pulumi.RunError(
                "data.auroraInstanceCount: 0 instances; allowed: 1 writer + up to 15 readers"
            )
        return writer

    # -- ElastiCache Redis ----------------------------------------------------------------------------------------
    def _redis(
        self, key: aws.kms.Key, secrets_key: aws.kms.Key, logs_key: aws.kms.Key
    ) -> tuple[aws.elasticache.ReplicationGroup, aws.secretsmanager.Secret]:
        d, n, env = self._d, self._name, self._settings.environment
        group_id = f"{self._base}-carts"
        major = d.redis_engine_version.split(".")[0]
        subnet_group = aws.elasticache.SubnetGroup(
            f"{n}-redis",
            name=group_id,
            description="ElastiCache Redis: the private subnets",
            subnet_ids=self._subnets,
            tags=tags(COMPONENT, f"{n}-redis"),
            opts=self._child,
        )
        # Redis AUTH accepts printable ASCII except @ " / and space; letters and digits are always safe to pass.
        token = random.RandomPassword(f"{n}-redis-auth", length=64, special=False, opts=self._child)
        secret = aws.secretsmanager.Secret(
            f"{n}-redis-auth",
            name=f"ecommerce/{env}/cart/redis-auth-token",
            description="AUTH token of the carts Redis replication group (cart service)",
            kms_key_id=secrets_key.arn,
            recovery_window_in_days=d.secret_recovery_window_days,
            tags=tags(COMPONENT, f"{n}-redis-auth"),
            opts=self._stateful(),
        )
        aws.secretsmanager.SecretVersion(
            f"{n}-redis-auth",
            secret_id=secret.id,
            secret_string=token.result,
            opts=self._child,
        )
        slow_log = self._log_group("redis", f"/ecommerce/{env}/data/redis-slow-log", logs_key)
        count = d.redis_node_count
        azs = [self._azs[i % len(self._azs)] if d.redis_multi_az else self._azs[0] for i in range(count)]
        snapshots = d.redis_snapshot_retention_days > 0
        group = aws.elasticache.ReplicationGroup(
            f"{n}-redis",
            replication_group_id=group_id,
            description="Shopping carts (cart service)",
            engine="redis",
            engine_version=d.redis_engine_version,
            parameter_group_name="default.redis6.x" if major == "6" else f"default.redis{major}",
            node_type=d.redis_node_type,
            num_cache_clusters=count,
            preferred_cache_cluster_azs=azs,
            automatic_failover_enabled=d.redis_automatic_failover,
            multi_az_enabled=d.redis_multi_az,
            subnet_group_name=subnet_group.name,
            security_group_ids=[self._sg],
            port=REDIS_PORT,
            at_rest_encryption_enabled=True,
            kms_key_id=key.arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=token.result,
            snapshot_retention_limit=d.redis_snapshot_retention_days,
            snapshot_window="06:00-07:00" if snapshots else None,
            final_snapshot_identifier=f"{group_id}-final"
            if snapshots and self._settings.protect_data
            else None,
            maintenance_window="sun:09:30-sun:10:30",
            auto_minor_version_upgrade=True,
            log_delivery_configurations=[
                {
                    "destination": slow_log.name,
                    "destination_type": "cloudwatch-logs",
                    "log_format": "json",
                    "log_type": "slow-log",
                }
            ],
            tags=tags(COMPONENT, group_id),
            opts=self._stateful(),
        )
        return group, secret

    # -- OpenSearch ------------------------------------------------------------------------------------------------
    def _search(self, key: aws.kms.Key, logs_key: aws.kms.Key) -> aws.opensearch.Domain:
        d, n, env = self._d, self._name, self._settings.environment
        domain_name = f"{self._base}-search"
        domain_arn = pulumi.Output.format(
            "arn:{0}:es:{1}:{2}:domain/{3}", self._partition, self._region, self._account, domain_name
        )
        log_types = {"INDEX_SLOW_LOGS": "index-slow", "SEARCH_SLOW_LOGS": "search-slow",
                     "ES_APPLICATION_LOGS": "application"}  # fmt: skip
        log_groups = {
            t: self._log_group(f"search-{suffix}", f"/ecommerce/{env}/data/search/{suffix}", logs_key)
            for t, suffix in log_types.items()
        }
        logs_policy = aws.cloudwatch.LogResourcePolicy(
            f"{n}-search-logs",
            policy_name=f"{domain_name}-logs",
            policy_document=iam.policy_json(
                self,
                [
                    {
                        "sid": "OpenSearchWritesItsLogGroups",
                        "effect": "Allow",
                        "principals": [{"type": "Service", "identifiers": ["es.amazonaws.com"]}],
                        "actions": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "resources": [pulumi.Output.concat(g.arn, ":*") for g in log_groups.values()],
                        "conditions": [
                            iam.condition("StringEquals", "aws:SourceAccount", self._account),
                            iam.condition("ArnLike", "aws:SourceArn", domain_arn),
                        ],
                    }
                ],
            ),
            opts=self._child,
        )
        zone_aware = d.opensearch_zone_awareness
        masters = d.opensearch_dedicated_master_count
        # Auto-Tune is not offered on T-family nodes.
        burstable = d.opensearch_instance_type.startswith(("t2.", "t3."))
        domain = aws.opensearch.Domain(
            f"{n}-search",
            domain_name=domain_name,
            engine_version=d.opensearch_engine_version,
            cluster_config={
                "instance_type": d.opensearch_instance_type,
                "instance_count": d.opensearch_instance_count,
                "zone_awareness_enabled": zone_aware,
                "zone_awareness_config": {"availability_zone_count": len(self._azs)} if zone_aware else None,
                "dedicated_master_enabled": masters > 0,
                "dedicated_master_count": masters or None,
                "dedicated_master_type": d.opensearch_dedicated_master_type if masters else None,
            },
            # A single-AZ domain takes exactly one subnet; a zone-aware one takes one per AZ.
            vpc_options={
                "subnet_ids": self._subnets[: len(self._azs)] if zone_aware else self._subnets[:1],
                "security_group_ids": [self._sg],
            },
            ebs_options={"ebs_enabled": True, "volume_type": "gp3", "volume_size": d.opensearch_volume_size},
            encrypt_at_rest={"enabled": True, "kms_key_id": key.arn},
            node_to_node_encryption={"enabled": True},
            domain_endpoint_options={"enforce_https": True, "tls_security_policy": OPENSEARCH_TLS_POLICY},
            auto_tune_options={
                "desired_state": "DISABLED" if burstable else "ENABLED",
                "rollback_on_disable": "NO_ROLLBACK",
                "use_off_peak_window": True,
            },
            off_peak_window_options={
                "enabled": True,
                "off_peak_window": {"window_start_time": {"hours": 7, "minutes": 0}},
            },
            software_update_options={"auto_software_update_enabled": True},
            log_publishing_options=[
                {"log_type": t, "cloudwatch_log_group_arn": g.arn, "enabled": True}
                for t, g in log_groups.items()
            ],
            tags=tags(COMPONENT, domain_name),
            # A VPC domain cannot be created before the account has OpenSearch's service-linked role.
            opts=self._stateful(depends_on=[logs_policy, *self._search_prerequisites]),
        )
        return domain

    # -- SNS + SQS -------------------------------------------------------------------------------------------------
    def _messaging(
        self, key: aws.kms.Key
    ) -> tuple[dict[str, aws.sns.Topic], dict[str, aws.sqs.Queue], dict[str, aws.sqs.Queue]]:
        d, n = self._d, self._name
        topics = {
            role: aws.sns.Topic(
                f"{n}-{role}",
                name=f"{self._base}-{role}",
                kms_master_key_id=key.arn,
                tags=tags(COMPONENT, f"{self._base}-{role}"),
                opts=self._child,
            )
            for role in ("order-events", "notifications")
        }
        subscriptions = {
            "notification-order-events": ("order-events", {"eventType": list(NOTIFIED_ORDER_EVENTS)}),
            "notification-requests": ("notifications", {"channel": list(NOTIFICATION_CHANNELS)}),
        }
        queues: dict[str, aws.sqs.Queue] = {}
        dlqs: dict[str, aws.sqs.Queue] = {}
        for role, (topic_role, filter_policy) in subscriptions.items():
            topic = topics[topic_role]
            dlq = aws.sqs.Queue(
                f"{n}-{role}-dlq",
                name=f"{self._base}-{role}-dlq",
                message_retention_seconds=DLQ_RETENTION_SECONDS,
                kms_master_key_id=key.arn,
                kms_data_key_reuse_period_seconds=300,
                tags=tags(COMPONENT, f"{self._base}-{role}-dlq"),
                opts=self._stateful(),
            )
            queue = aws.sqs.Queue(
                f"{n}-{role}",
                name=f"{self._base}-{role}",
                message_retention_seconds=d.queue_retention_days * 24 * 3600,
                visibility_timeout_seconds=d.queue_visibility_timeout,
                receive_wait_time_seconds=20,
                kms_master_key_id=key.arn,
                kms_data_key_reuse_period_seconds=300,
                redrive_policy=pulumi.Output.json_dumps(
                    {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": d.queue_max_receive_count}
                ),
                tags=tags(COMPONENT, f"{self._base}-{role}"),
                opts=self._stateful(),
            )
            aws.sqs.RedriveAllowPolicy(
                f"{n}-{role}-dlq",
                queue_url=dlq.url,
                redrive_allow_policy=pulumi.Output.json_dumps(
                    {"redrivePermission": "byQueue", "sourceQueueArns": [queue.arn]}
                ),
                opts=self._child,
            )
            policies: list[pulumi.Resource] = []
            for q, label in ((queue, role), (dlq, f"{role}-dlq")):
                statements: list[iam.Statement] = [
                    {
                        # The queue takes the topic's deliveries; the DLQ takes what SNS could not deliver to the
                        # queue (the subscription's redrive policy): both from this one topic only.
                        "sid": "OnlyItsTopicSends" if q is queue else "OnlyItsTopicDeadLetters",
                        "effect": "Allow",
                        "principals": [{"type": "Service", "identifiers": ["sns.amazonaws.com"]}],
                        "actions": ["sqs:SendMessage"],
                        "resources": [q.arn],
                        "conditions": [iam.condition("ArnEquals", "aws:SourceArn", topic.arn)],
                    },
                    {
                        "sid": "DenyWithoutTls",
                        "effect": "Deny",
                        "principals": [{"type": "*", "identifiers": ["*"]}],
                        "actions": ["sqs:*"],
                        "resources": [q.arn],
                        "conditions": [iam.condition("Bool", "aws:SecureTransport", "false")],
                    },
                ]
                policies.append(
                    aws.sqs.QueuePolicy(
                        f"{n}-{label}",
                        queue_url=q.url,
                        policy=iam.policy_json(self, statements),
                        opts=self._child,
                    )
                )
            aws.sns.TopicSubscription(
                f"{n}-{role}",
                topic=topic.arn,
                protocol="sqs",
                endpoint=queue.arn,
                raw_message_delivery=True,
                filter_policy=json.dumps(filter_policy),
                # What SNS cannot deliver to the queue (a KMS or policy error, the queue gone) goes to the queue's
                # own DLQ instead of being dropped after SNS's retries; a DLQ redrive then moves it back to the queue.
                redrive_policy=pulumi.Output.json_dumps({"deadLetterTargetArn": dlq.arn}),
                # Subscribing before the queue (and its DLQ) accept the topic would drop the first messages.
                opts=pulumi.ResourceOptions(parent=self, depends_on=policies),
            )
            queues[role], dlqs[role] = queue, dlq
        return topics, queues, dlqs

    # -- Cognito -----------------------------------------------------------------------------------------------------
    def _identities(
        self,
    ) -> tuple[aws.cognito.UserPool, aws.cognito.UserPoolClient, aws.cognito.UserPoolDomain]:
        d, n = self._d, self._name
        mfa = d.cognito_mfa != "OFF"
        pool = aws.cognito.UserPool(
            f"{n}-users",
            name=f"{self._base}-users",
            user_pool_tier=d.cognito_tier,
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            username_configuration={"case_sensitive": False},
            password_policy={
                "minimum_length": 12,
                "require_lowercase": True,
                "require_uppercase": True,
                "require_numbers": True,
                "require_symbols": True,
                "temporary_password_validity_days": 3,
                # Password history is an Essentials/Plus feature.
                "password_history_size": 5 if d.cognito_tier != "LITE" else None,
            },
            mfa_configuration=d.cognito_mfa,
            software_token_mfa_configuration={"enabled": True} if mfa else None,
            account_recovery_setting={"recovery_mechanisms": [{"name": "verified_email", "priority": 1}]},
            verification_message_template={"default_email_option": "CONFIRM_WITH_CODE"},
            user_pool_add_ons=(
                {"advanced_security_mode": d.cognito_threat_protection}
                if d.cognito_threat_protection != "OFF"
                else None
            ),
            deletion_protection="ACTIVE" if self._settings.protect_data else "INACTIVE",
            tags=tags(COMPONENT, f"{self._base}-users"),
            opts=self._stateful(),
        )
        # The managed login pages of the authorization-code flow; the prefix must be unique across AWS.
        pool_domain = aws.cognito.UserPoolDomain(
            f"{n}-users",
            domain=pulumi.Output.format("{0}-{1}", self._base, self._account),
            user_pool_id=pool.id,
            opts=self._child,
        )
        client = aws.cognito.UserPoolClient(
            f"{n}-web",
            name=f"{self._base}-web",
            user_pool_id=pool.id,
            # A browser cannot keep a secret: a public client, safe only with PKCE, which the SPA sends (S256).
            generate_secret=False,
            allowed_oauth_flows_user_pool_client=True,
            allowed_oauth_flows=["code"],
            allowed_oauth_scopes=["openid", "email", "profile"],
            supported_identity_providers=["COGNITO"],
            callback_urls=list(d.cognito_callback_urls),
            logout_urls=list(d.cognito_logout_urls),
            explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            access_token_validity=d.cognito_access_token_minutes,
            id_token_validity=d.cognito_id_token_minutes,
            refresh_token_validity=d.cognito_refresh_token_days,
            token_validity_units={"access_token": "minutes", "id_token": "minutes", "refresh_token": "days"},
            opts=self._child,
        )
        return pool, client, pool_domain

    # -- Stripe ----------------------------------------------------------------------------------------------------
    def _stripe_secret(self, key: aws.kms.Key, value: pulumi.Output[str] | None) -> aws.secretsmanager.Secret:
        n, env = self._name, self._settings.environment
        secret = aws.secretsmanager.Secret(
            f"{n}-stripe",
            name=f"ecommerce/{env}/payment/stripe-api-key",
            description="Stripe API key of the payment service",
            kms_key_id=key.arn,
            recovery_window_in_days=self._d.secret_recovery_window_days,
            tags=tags(COMPONENT, f"{n}-stripe"),
            opts=self._stateful(),
        )
        if value is not None:
            aws.secretsmanager.SecretVersion(
                f"{n}-stripe",
                secret_id=secret.id,
                secret_string=value,
                opts=self._child,
            )
        return secret

    # -- the contract ------------------------------------------------------------------------------------------------
    def _database(self, name: str, user: str) -> DatabaseAccess:
        """One database of the Aurora cluster, as the IAM-authenticated `user` reaches it."""
        return DatabaseAccess(
            endpoint=self.aurora_endpoint,
            reader_endpoint=self.aurora_reader_endpoint,
            port=POSTGRES_PORT,
            database=name,
            db_user=user,
            cluster_resource_id=self.aurora_cluster_resource_id,
        )

    def _contract(self) -> DataContract:
        keys = self.kms_key_arns
        products = TableAccess(self.products_table_name, self.products_table_arn)
        inventory = TableAccess(self.inventory_table_name, self.inventory_table_arn)
        # Search keeps its index in step by reading the catalogue's stream and re-indexes by reading the table.
        products_for_search = TableAccess(
            self.products_table_name,
            self.products_table_arn,
            write=False,
            stream_arn=self.products_stream_arn,
        )
        order_events = TopicAccess(self.order_events_topic_arn, "ORDER_EVENTS_TOPIC_ARN")
        notifications = TopicAccess(self.notifications_topic_arn, "NOTIFICATIONS_TOPIC_ARN")
        order_db = self._database(ORDERS_DATABASE, ORDER_DB_USER)
        users_db = self._database(USERS_DATABASE, USER_AUTH_DB_USER)
        redis_auth = SecretAccess(self.redis_auth_secret_arn, "REDIS_AUTH_SECRET_ARN")
        stripe = SecretAccess(self.stripe_secret_arn, "STRIPE_SECRET_ARN")
        queues = {
            role: QueueAccess(
                self.queue_urls[role], self.queue_arns[role], f"{role.upper().replace('-', '_')}_QUEUE_URL"
            )
            for role in self.queue_urls
        }
        return {
            "product": ServiceStores(
                tables=(products,),
                kms_key_arns=(keys["tables"],),
                env={"PRODUCTS_TABLE": self.products_table_name},
            ),
            "inventory": ServiceStores(
                tables=(inventory,),
                kms_key_arns=(keys["tables"],),
                env={"INVENTORY_TABLE": self.inventory_table_name},
            ),
            "cart": ServiceStores(
                cache=CacheAccess(self.redis_endpoint, REDIS_PORT),
                secrets=(redis_auth,),
                kms_key_arns=(keys["secrets"],),
                env={
                    "REDIS_HOST": self.redis_endpoint,
                    "REDIS_PORT": str(REDIS_PORT),
                    "REDIS_TLS": "true",
                    redis_auth.env_var: redis_auth.arn,
                },
            ),
            "order": ServiceStores(
                database=order_db,
                publishes=(order_events,),
                kms_key_arns=(keys["messaging"],),
                env={**_db_env(order_db), order_events.env_var: order_events.arn},
            ),
            "user-auth": ServiceStores(
                database=users_db,
                user_pool=UserPoolAccess(self.user_pool_id, self.user_pool_arn, self.user_pool_client_id),
                publishes=(notifications,),
                kms_key_arns=(keys["messaging"],),
                env={
                    **_db_env(users_db),
                    "COGNITO_USER_POOL_ID": self.user_pool_id,
                    "COGNITO_CLIENT_ID": self.user_pool_client_id,
                    notifications.env_var: notifications.arn,
                },
            ),
            # Payment outcomes are order lifecycle events: the notification service sends receipts from them and
            # the lake records them, without the payment service knowing either.
            "payment": ServiceStores(
                secrets=(stripe,),
                publishes=(order_events,),
                kms_key_arns=(keys["secrets"], keys["messaging"]),
                env={stripe.env_var: stripe.arn, order_events.env_var: order_events.arn},
            ),
            # Consumes only; sending e-mail/SMS (SES/SNS SMS) is not wired here.
            "notification": ServiceStores(
                consumes=tuple(queues.values()),
                kms_key_arns=(keys["messaging"],),
                env={q.env_var: q.url for q in queues.values()},
            ),
            "search": ServiceStores(
                search=SearchAccess(self.search_endpoint, self.search_domain_arn),
                tables=(products_for_search,),
                kms_key_arns=(keys["tables"],),
                env={
                    "OPENSEARCH_ENDPOINT": self.search_endpoint,
                    "PRODUCTS_TABLE": self.products_table_name,
                    "PRODUCTS_STREAM_ARN": self.products_stream_arn,
                },
            ),
        }


def _db_env(access: DatabaseAccess) -> dict[str, pulumi.Input[str]]:
    """A database service's connection environment: IAM authentication, TLS with the server's name verified."""
    return {
        "DB_HOST": access.endpoint,
        "DB_READER_HOST": access.reader_endpoint,
        "DB_PORT": str(access.port),
        "DB_NAME": access.database,
        "DB_USER": access.db_user,
        "DB_IAM_AUTH": "true",
        "DB_SSLMODE": "verify-full",
    }
