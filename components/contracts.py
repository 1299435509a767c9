"""Typed hand-offs between components: what one component gives and the next one takes.

`ServiceStores` is the DataTier's contract with the ServiceMesh: for each microservice, exactly the stores it may
touch. The mesh builds each service's IAM policy (least privilege: only these ARNs) and its ConfigMap (only the
non-secret values; secrets stay in Secrets Manager and are read by the service's role) from it. Nothing here
creates resources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

#: The eight microservices of the seed, by the names the catalogue, the contract and the roles use.
SERVICES = ("product", "inventory", "cart", "order", "user-auth", "payment", "notification", "search")


@dataclass(frozen=True)
class TableAccess:
    """A DynamoDB table the service reads and/or writes (indexes are `<arn>/index/*`)."""

    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    write: bool = True
    stream_arn: pulumi.Output[str] | None = None
    """When set, the service also reads the table's stream (DescribeStream, GetShardIterator, GetRecords)."""


@dataclass(frozen=True)
class SecretAccess:
    """A Secrets Manager secret the service reads at run time (value never copied into manifests)."""

    arn: pulumi.Output[str]
    env_var: str
    """Name of the environment variable that carries the secret's ARN (not its value) into the pod."""


@dataclass(frozen=True)
class DatabaseAccess:
    """An Aurora PostgreSQL cluster the service connects to with IAM authentication as `db_user`."""

    endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    port: int
    database: str
    db_user: str
    cluster_resource_id: pulumi.Output[str]
    """For the `rds-db:connect` ARN: arn:aws:rds-db:<region>:<account>:dbuser:<cluster_resource_id>/<db_user>."""


@dataclass(frozen=True)
class DatabaseAdminAccess:
    """The Aurora cluster as its master user reaches it: what the database bootstrap Job needs, nothing a service gets.

    The password itself is never here: only the ARN of the secret Aurora manages, read in the pod at run time.
    """

    endpoint: pulumi.Output[str]
    """The cluster (writer) endpoint."""
    port: int
    master_username: str
    master_secret_arn: pulumi.Output[str]
    """The secret Aurora manages for the master user (`manage_master_user_password`)."""
    master_secret_key_arn: pulumi.Output[str]
    """The KMS key that secret is encrypted with (`master_user_secret_kms_key_id`)."""
    writer_instance_arn: pulumi.Output[str]
    """An output of the writer instance: whatever reads it is created after the instance (a cluster without an
    available instance accepts no connection)."""


@dataclass(frozen=True)
class CacheAccess:
    """The Redis replication group (TLS on; the AUTH token is a `SecretAccess`)."""

    endpoint: pulumi.Output[str]
    port: int


@dataclass(frozen=True)
class SearchAccess:
    """The OpenSearch domain, reached over HTTPS with SigV4 signed by the service's role."""

    endpoint: pulumi.Output[str]
    domain_arn: pulumi.Output[str]


@dataclass(frozen=True)
class TopicAccess:
    """An SNS topic the service publishes to."""

    arn: pulumi.Output[str]
    env_var: str


@dataclass(frozen=True)
class QueueAccess:
    """An SQS queue the service consumes (receive, delete, change visibility)."""

    url: pulumi.Output[str]
    arn: pulumi.Output[str]
    env_var: str


@dataclass(frozen=True)
class UserPoolAccess:
    """The Cognito user pool the service administers users in."""

    id: pulumi.Output[str]
    arn: pulumi.Output[str]
    client_id: pulumi.Output[str]


@dataclass(frozen=True)
class ServiceStores:
    """Everything one microservice may touch in the data tier. Empty fields mean "no access"."""

    tables: tuple[TableAccess, ...] = ()
    secrets: tuple[SecretAccess, ...] = ()
    database: DatabaseAccess | None = None
    cache: CacheAccess | None = None
    search: SearchAccess | None = None
    publishes: tuple[TopicAccess, ...] = ()
    consumes: tuple[QueueAccess, ...] = ()
    user_pool: UserPoolAccess | None = None
    kms_key_arns: tuple[pulumi.Output[str], ...] = ()
    """Customer-managed keys the service must use (decrypt/generate data keys) for the stores above."""
    env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Non-secret settings for the service's ConfigMap (table names, endpoints, queue URLs, ARNs of secrets)."""


#: service name -> its stores; the DataTier fills one entry per name in `SERVICES`.
DataContract = Mapping[str, ServiceStores]


#: The header CloudFront adds to every origin request and the ALB's listener rules require.
ORIGIN_VERIFY_HEADER = "X-Origin-Verify"


@dataclass(frozen=True)
class AlbOrigin:
    """The ServiceMesh's ALB as CloudFront's `/api/*` origin."""

    domain_name: pulumi.Output[str]
    """Host CloudFront connects to: `origin.<domain>` (matches the ALB's certificate) or the ALB's DNS name."""
    protocol: str
    """`https-only` with a domain (regional certificate on the ALB), `http-only` without."""
    port: int
    verify_header_value: pulumi.Output[str]
    """Secret value of `ORIGIN_VERIFY_HEADER`; the ALB answers 403 to requests without it."""
    alb_arn: pulumi.Output[str]
