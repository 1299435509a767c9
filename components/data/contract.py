"""The DataContract: what each service may reach, handed to the ServiceMesh."""

from __future__ import annotations

import pulumi

from components.aurora import POSTGRES_PORT
from components.contracts import (
    CacheAccess,
    DatabaseAccess,
    DataContract,
    QueueAccess,
    SearchAccess,
    SecretAccess,
    ServiceStores,
    TableAccess,
    TopicAccess,
    UserPoolAccess,
)
from components.data.base import (
    ORDER_DB_USER,
    ORDERS_DATABASE,
    REDIS_PORT,
    USER_AUTH_DB_USER,
    USERS_DATABASE,
    DataTierBase,
)
from components.data.messaging import queue_env_var, topic_env_var


class ContractMixin(DataTierBase):
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
        order_events = TopicAccess(self.order_events_topic_arn, topic_env_var("order-events"))
        notifications = TopicAccess(self.notifications_topic_arn, topic_env_var("notifications"))
        order_db = self._database(ORDERS_DATABASE, ORDER_DB_USER)
        users_db = self._database(USERS_DATABASE, USER_AUTH_DB_USER)
        redis_auth = SecretAccess(self.redis_auth_secret_arn, "REDIS_AUTH_SECRET_ARN")
        stripe = SecretAccess(self.stripe_secret_arn, "STRIPE_SECRET_ARN")
        queues = {
            role: QueueAccess(self.queue_urls[role], self.queue_arns[role], queue_env_var(role))
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
