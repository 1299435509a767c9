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

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from components import iam
from components.aurora import POSTGRES_PORT
from components.config import Settings
from components.contracts import (
    DatabaseAdminAccess,
)
from components.data.aurora import AuroraMixin
from components.data.base import MASTER_USERNAME, REDIS_PORT
from components.data.cache_search import CacheSearchMixin
from components.data.contract import ContractMixin
from components.data.identities import IdentitiesMixin
from components.data.messaging import MessagingMixin
from components.data.tables import TablesMixin

if TYPE_CHECKING:
    from components.dr import StandbyRegion


class DataTier(TablesMixin, AuroraMixin, CacheSearchMixin, MessagingMixin, IdentitiesMixin, ContractMixin):
    """The data stores and their keys, secrets and logs. Children are named `{name}-<store>[-<role>]`."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        private_subnet_ids: Sequence[pulumi.Input[str]],
        database_security_group_id: pulumi.Input[str],
        stripe_api_key: pulumi.Output[str] | None = None,
        search_prerequisites: Sequence[pulumi.Resource] = (),
        standby: StandbyRegion | None = None,
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
        :param standby: the DR region (`components.dr.standby_region`; None when `dr.mode` is off): the secrets the
            services need replicate there under its `secrets` key.

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
        self._standby = standby
        self._account, self._partition, self._region = iam.caller(self)

        keys = self._keys()
        self.kms_key_arns = {role: key.arn for role, key in keys.items()}
        products, inventory = self._tables(keys["tables"])
        cluster, aurora_writer, master_secret_arn = self._aurora(
            keys["aurora"], keys["secrets"], keys["logs"]
        )
        redis, redis_secret = self._redis(keys["cache"], keys["secrets"], keys["logs"])
        domain = self._search(keys["search"], keys["logs"])
        messaging = self._messaging(keys["messaging"])
        topics, queues, dlqs = messaging.topics, messaging.queues, messaging.dlqs
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
        self.aurora_engine_version = cluster.engine_version_actual
        self.aurora_master_secret_arn = master_secret_arn
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
