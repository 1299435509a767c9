"""DataTier: every store the microservices keep state in — DynamoDB (products, inventory), Aurora PostgreSQL (orders,
users), ElastiCache Redis (carts), OpenSearch (search), SNS/SQS (notifications), Cognito (identities) and the
Secrets Manager entries (Stripe key, Redis AUTH token, Aurora master password) — encrypted with customer-managed
keys, placed in the private subnets behind the Database security group, and handed to the ServiceMesh as one
typed `DataContract`.

What it must not do: put a store in a public subnet or any security group but the Database SG, hold a secret in a
plain output, decide anything from the environment's name (sizes, counts and protection come from settings), or
create IAM roles for the services (the ServiceMesh derives those from the contract).

The package: `component.py` holds `DataTier`, whose constructor is the table of contents; each store's builders
live in a module of their own (`tables`, `aurora`, `cache_search`, `messaging`, `identities`, `contract`) as
methods of a mixin over `base.DataTierBase` (the outputs, settings and helpers every builder shares).
"""

from components.aurora import POSTGRES_PORT
from components.data.base import (
    AUTOSCALED_CAPACITY_PATHS,
    COMPONENT,
    DLQ_RETENTION_SECONDS,
    KEY_ROLES,
    MASTER_USERNAME,
    NOTIFICATION_CHANNELS,
    NOTIFIED_ORDER_EVENTS,
    OPENSEARCH_TLS_POLICY,
    ORDER_DB_USER,
    ORDERS_DATABASE,
    REDIS_PORT,
    USER_AUTH_DB_USER,
    USERS_DATABASE,
)
from components.data.component import DataTier

__all__ = [
    "AUTOSCALED_CAPACITY_PATHS",
    "COMPONENT",
    "DLQ_RETENTION_SECONDS",
    "KEY_ROLES",
    "MASTER_USERNAME",
    "NOTIFICATION_CHANNELS",
    "NOTIFIED_ORDER_EVENTS",
    "OPENSEARCH_TLS_POLICY",
    "ORDERS_DATABASE",
    "ORDER_DB_USER",
    "POSTGRES_PORT",
    "REDIS_PORT",
    "USERS_DATABASE",
    "USER_AUTH_DB_USER",
    "DataTier",
]
