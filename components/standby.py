"""The warm standby (`dr.mode` warm-standby): what the DR region's ServiceMesh runs against, and the API's DNS
failover to it.

- `standby_contract`: the DR services' stores, derived from the primary's contract. Replicated stores keep their
  names and change region: the DynamoDB replicas (global tables share the table name) under the DR tables key, the
  Secrets Manager replicas (a replica's ARN is the primary's with the DR region: Secrets Manager user guide,
  "Replicate secrets across Regions") under the DR secrets key, and the Aurora global database's secondary
  (`StandbyDatabase`: the secondary DisasterRecovery builds, which has one instance in warm standby). What is not replicated, and why:
  * Redis (carts): a small DR cache of its own (`StandbyCarts`: two cache.t4g.small nodes, the prod rules' minimum
    for failover), empty at failover. Carts are short-lived session state, and replicating them would need a Global
    Datastore, whose clusters must be large-or-bigger M/R/C7gn nodes of one type on both sides (ElastiCache user
    guide, "Prerequisites and limitations" of global datastores): prod's primary is cache.t4g.medium. Its own
    AUTH token and secret (named `...-dr`, beside the primary secret's replica in the DR region).
  * OpenSearch: none at rest; the DR search service keeps read access to the products replica, from which the
    index is rebuilt at failover into a domain that is not built here (docs/disaster-recovery.md, "Not built").
  * Cognito: the primary region's user pool (reached through the DR VPC's NAT). User pools do not replicate
    across regions and their passwords cannot be exported, so a whole-region loss stops sign-in until us-east-2
    returns (docs/disaster-recovery.md, "Not built").
- SNS/SQS: the standby's own (`StandbyMessaging`, `components/standby_messaging.py`: the DataTier's builder in the
  DR region under the DR messaging key), matched to the primary's topics and queues by their environment variable
  (`StandbyQueues`); the DR services' policies name only those and the DR key. Not replicated: what is queued in the
  primary region when it fails waits there.
- `ApiFailover`: Route 53 failover records for `origin.<domain>` (PRIMARY: the primary ALB, SECONDARY: the DR ALB)
  decided by a health check on the primary's target groups. CloudFront's origin groups fail over only GET, HEAD and
  OPTIONS, and a cache behaviour that allows POST cannot use one (CloudFront developer guide, "Optimize high
  availability with CloudFront origin failover"; the API's error "AllowedMethods cannot include POST, PUT, PATCH,
  or DELETE for a cached behavior associated with an origin group"), so the API's writes move with DNS.

What it must not do: give a DR service any store its primary counterpart does not have, or point the DR services at
the primary's VPC-internal endpoints (Redis, OpenSearch, Aurora's writer), which the DR VPC cannot reach, or at the
primary region's topics and queues, which a region-wide outage takes with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components import iam
from components.config import Settings
from components.config.dr import standby_settings
from components.config.shared import REGION_AZS
from components.contracts import (
    CacheAccess,
    DatabaseAccess,
    DataContract,
    QueueAccess,
    SecretAccess,
    ServiceStores,
    TableAccess,
    TopicAccess,
)
from components.data.base import REDIS_PORT
from components.data.cache_search import redis_arguments
from components.delivery import ecr_repository_name
from components.dr import DisasterRecovery, StandbyRegion
from components.mesh import MeshNetwork, ServiceMesh, StandbyRole, published_tag
from components.naming import stateful, tags
from components.standby_messaging import StandbyMessaging
from k8s.catalogue import BY_NAME, CATALOGUE

COMPONENT = "dr"
#: The environment keys a store's connection puts in a service's ConfigMap (the DataTier's contract): dropped or
#: replaced in the DR contract with their store.
DATABASE_ENV = ("DB_HOST", "DB_READER_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_IAM_AUTH", "DB_SSLMODE")
CACHE_ENV = ("REDIS_HOST", "REDIS_PORT", "REDIS_TLS")
SEARCH_ENV = ("OPENSEARCH_ENDPOINT", "PRODUCTS_STREAM_ARN")
#: The DR carts cache: the smallest node type the pack allows in prod (cache.t4g.small), two of them (the prod
#: rules' minimum for automatic failover). Redis's port is the data tier's.
STANDBY_CACHE_NODE_TYPE, STANDBY_CACHE_NODES = "cache.t4g.small", 2
#: The failover pair's component (`ApiFailover`): the primary mesh's record aliases its primary record's URN.
API_FAILOVER = "ecommerce-dr-api-failover"
#: Minutes without a healthy target before the primary counts as down: three one-minute periods, so one missed
#: health-check round during a rolling deploy does not move the shop to the other region.
UNHEALTHY_MINUTES = 3
_Access = TypeVar("_Access", TopicAccess, QueueAccess)


def in_region(arn: pulumi.Input[str], region: str) -> pulumi.Output[str]:
    """`arn` with its region field (the fourth) set to `region`: a global table's replica or a secret's replica."""

    def swap(a: str) -> str:
        parts = a.split(":", 5)
        if len(parts) < 6:
            raise ValueError(f"not an ARN: {a!r}")
        parts[3] = region
        return ":".join(parts)

    return pulumi.Output.from_input(arn).apply(swap)


def replicated_repository_urls(
    prefix: str, account_id: pulumi.Input[str], dr_region: str
) -> dict[str, pulumi.Output[str]]:
    """Each service's repository in the DR region: ECR registry replication creates it with the source's name
    (`<prefix>/<service>`) in the same account (ECR user guide, "Private image replication")."""
    return {
        svc.name: pulumi.Output.format(
            "{0}.dkr.ecr.{1}.amazonaws.com/{2}", account_id, dr_region, ecr_repository_name(prefix, svc.name)
        )
        for svc in CATALOGUE
    }


@dataclass(frozen=True)
class StandbyDatabase:
    """The Aurora global database's DR-region secondary, as the DR services reach it (read-only until promoted)."""

    endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    cluster_resource_id: pulumi.Output[str]
    """The secondary's own resource id: `rds-db:connect` names it (each cluster of a global database has one)."""


def standby_database(dr: DisasterRecovery | None) -> StandbyDatabase:
    """The DR services' database: the Aurora global database's secondary that `dr` built (warm standby has one)."""
    aurora = dr.aurora_global if dr is not None else None
    if aurora is None:
        raise ValueError("warm standby needs the Aurora global database's secondary (DisasterRecovery, dr.mode "
                         "pilot-light or warm-standby); none was built")  # fmt: skip
    return StandbyDatabase(
        aurora.secondary_endpoint, aurora.secondary_reader_endpoint, aurora.secondary_resource_id
    )


@dataclass(frozen=True)
class StandbyQueues:
    """The DR region's topics and queues (`StandbyMessaging`), each the counterpart of the primary's with the same
    environment variable (`components.data.messaging.topic_env_var`, `queue_env_var`)."""

    topics: Sequence[TopicAccess]
    queues: Sequence[QueueAccess]


@dataclass(frozen=True)
class StandbyStores:
    """What the DR contract is derived from, beside the primary's contract."""

    dr_region: str
    #: the primary's data keys by role (`DataTier.kms_key_arns`) and the DR region's (`StandbyRegion.key_arns`)
    primary_keys: Mapping[str, pulumi.Output[str]]
    dr_keys: Mapping[str, pulumi.Output[str]]
    #: the Aurora secondary (None: the DR services get no database; warm_standby always passes one)
    database: StandbyDatabase | None = None
    #: the DR carts cache and its AUTH secret (`StandbyCarts`); None: the DR cart service has no cache
    cache: tuple[CacheAccess, SecretAccess] | None = None
    #: the DR topics and queues (`StandbyMessaging`); None: the DR services publish and consume nothing
    messaging: StandbyQueues | None = None


#: The primary's key roles whose stores have DR-region counterparts (replicas, or the standby's own topics and
#: queues) under the DR key of the same role.
DR_KEY_ROLES = ("tables", "secrets", "messaging")


def standby_contract(primary: DataContract, stores: StandbyStores) -> DataContract:
    """The DR cluster's contract: each service's primary stores mapped to their DR-region counterparts."""
    dr = stores.dr_region
    # By identity: the contract carries the DataTier's own key Outputs (`kms_key_arns[role]`), whose values are
    # unknown until deployed. None drops the key: no DR messaging, no messaging key.
    keys: dict[int, pulumi.Output[str] | None] = {
        id(stores.primary_keys[role]): stores.dr_keys[role]
        for role in DR_KEY_ROLES
        if role in stores.primary_keys and role in stores.dr_keys
    }
    if stores.messaging is None and "messaging" in stores.primary_keys:
        keys[id(stores.primary_keys["messaging"])] = None
    return {name: _standby_service(own, dr, keys, stores) for name, own in primary.items()}


def _counterparts(own: Sequence[_Access], dr: Sequence[_Access]) -> list[_Access]:
    """The DR topic or queue of each of `own`, matched by its environment variable."""
    by_env = {x.env_var: x for x in dr}
    missing = [x.env_var for x in own if x.env_var not in by_env]
    if missing:
        raise ValueError(f"the warm standby has no DR-region topic or queue for {', '.join(missing)}; "
                         f"it has {', '.join(sorted(by_env)) or 'none'}")  # fmt: skip
    return [by_env[x.env_var] for x in own]


def _standby_service(
    own: ServiceStores, dr: str, keys: Mapping[int, pulumi.Output[str] | None], stores: StandbyStores
) -> ServiceStores:
    cache = stores.cache if own.cache is not None else None
    own_auth = {cache[1].env_var} if cache is not None else set()
    secrets = tuple(
        SecretAccess(in_region(s.arn, dr), s.env_var) for s in own.secrets if s.env_var not in own_auth
    )
    if cache is not None:
        secrets += (cache[1],)
    secret_env = {s.env_var: s.arn for s in secrets}
    db = _database(own.database, stores.database)
    publishes: list[TopicAccess] = []
    consumes: list[QueueAccess] = []
    if stores.messaging is not None:
        publishes = _counterparts(own.publishes, stores.messaging.topics)
        consumes = _counterparts(own.consumes, stores.messaging.queues)
    messaging_env: dict[str, pulumi.Input[str]] = {
        **{t.env_var: t.arn for t in publishes},
        **{q.env_var: q.url for q in consumes},
    }
    dropped = (
        set(SEARCH_ENV)
        | (set(CACHE_ENV) if cache is None else set())
        | (set(DATABASE_ENV) if db is None else set())
        | (({t.env_var for t in own.publishes} | {q.env_var for q in own.consumes}) - set(messaging_env))
    )
    env: dict[str, pulumi.Input[str]] = {k: v for k, v in own.env.items() if k not in dropped}
    env.update({k: v for k, v in messaging_env.items() if k in env})
    env.update({k: v for k, v in secret_env.items() if k in env})
    if db is not None:
        env.update({"DB_HOST": db.endpoint, "DB_READER_HOST": db.reader_endpoint})
    if cache is not None:
        env["REDIS_HOST"] = cache[0].endpoint
    return replace(
        own,
        # The replica shares the table's name; its stream is its own (not read at rest: no DR index to feed).
        tables=tuple(TableAccess(t.name, in_region(t.arn, dr), t.write) for t in own.tables),
        secrets=secrets,
        database=db,
        cache=cache[0] if cache is not None else None,
        search=None,
        publishes=tuple(publishes),
        consumes=tuple(consumes),
        kms_key_arns=tuple(dr_key for k in own.kms_key_arns if (dr_key := keys.get(id(k), k)) is not None),
        env=env,
    )


def _database(own: DatabaseAccess | None, secondary: StandbyDatabase | None) -> DatabaseAccess | None:
    if own is None or secondary is None:
        return None
    return replace(
        own,
        endpoint=secondary.endpoint,
        reader_endpoint=secondary.reader_endpoint,
        cluster_resource_id=secondary.cluster_resource_id,
    )


class StandbyCarts(pulumi.ComponentResource):
    """The warm standby's carts cache in the DR VPC: empty at failover (customers re-add items), encrypted with a
    DR key, TLS and an AUTH token of its own, in the DR VPC's private subnets behind its Database SG."""

    access: CacheAccess
    auth: SecretAccess
    member_clusters: pulumi.Output[Sequence[str]]
    """The cache's nodes (`CacheClusterId`), for its alarms."""
    nodes: int

    def __init__(self, name: str, settings: Settings, *, standby: StandbyRegion,
                 opts: pulumi.ResourceOptions | None = None) -> None:  # fmt: skip
        super().__init__("ecommerce:dr:StandbyCarts", name, None, opts)
        s, vpc = settings, standby.network
        if vpc is None:
            raise ValueError(f"{name}: the DR region has no VPC (dr.mode {s.dr.mode!r})")
        child = pulumi.ResourceOptions(parent=self)
        group_id, env = f"ecommerce-{s.environment}-dr-carts", s.environment
        slow_log_name = f"/ecommerce/{env}/dr/redis-slow-log"
        account, partition, region = iam.caller(self)
        key = standby.customer_key(
            "carts",
            "the warm standby's carts cache and its slow log",
            service_statements=[
                iam.logs_may_use_key(
                    "CloudWatchLogsUsesKeyForTheSlowLog", region, "ArnEquals",
                    pulumi.Output.format("arn:{0}:logs:{1}:{2}:log-group:{3}", partition, region, account,
                                         slow_log_name),
                )
            ],
        )  # fmt: skip
        subnets = aws.elasticache.SubnetGroup(
            f"{name}-subnets",
            name=group_id,
            description="The warm standby's carts cache: the DR VPC's private subnets",
            subnet_ids=vpc.private_subnet_ids,
            tags=tags(COMPONENT, f"{name}-subnets"),
            opts=child,
        )
        # Redis AUTH accepts printable ASCII except @ " / and space; letters and digits are always safe.
        token = random.RandomPassword(f"{name}-auth", length=64, special=False, opts=child)
        # Not the primary's secret name: its replica (the data tier's) holds that name in the DR region.
        secret = aws.secretsmanager.Secret(
            f"{name}-auth",
            name=f"ecommerce/{env}/cart/redis-auth-token-dr",
            description="AUTH token of the warm standby's carts cache (DR cart service)",
            kms_key_id=standby.key_arns["secrets"],
            recovery_window_in_days=s.data.secret_recovery_window_days,
            tags=tags(COMPONENT, f"{name}-auth"),
            opts=stateful(s, child),
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-auth", secret_id=secret.id, secret_string=token.result, opts=child
        )
        slow_log = aws.cloudwatch.LogGroup(
            f"{name}-slow-log",
            name=slow_log_name,
            kms_key_id=key.arn,
            retention_in_days=s.data.log_retention_days,
            tags=tags(COMPONENT, f"{name}-slow-log"),
            opts=child,
        )
        azs = list(standby_settings(s, REGION_AZS[s.dr_region]).network.availability_zones)
        group = aws.elasticache.ReplicationGroup(
            f"{name}-redis",
            replication_group_id=group_id,
            description="Shopping carts of the warm standby (DR cart service); empty until failover",
            **redis_arguments(s.data.redis_engine_version, key.arn, token.result, slow_log.name),
            node_type=STANDBY_CACHE_NODE_TYPE,
            num_cache_clusters=STANDBY_CACHE_NODES,
            preferred_cache_cluster_azs=[azs[i % len(azs)] for i in range(STANDBY_CACHE_NODES)],
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            subnet_group_name=subnets.name,
            security_group_ids=[vpc.database_security_group_id],
            # One day: carts are disposable, and the rules want automatic snapshots.
            snapshot_retention_limit=1,
            snapshot_window="06:00-07:00",
            tags=tags(COMPONENT, group_id),
            opts=child,
        )  # fmt: skip
        self.member_clusters, self.nodes = group.member_clusters, STANDBY_CACHE_NODES
        self.access = CacheAccess(group.primary_endpoint_address, REDIS_PORT)
        self.auth = SecretAccess(secret.arn, "REDIS_AUTH_SECRET_ARN")
        self.register_outputs({"endpoint": self.access.endpoint, "auth_secret_arn": self.auth.arn})


@dataclass(frozen=True)
class FailoverTarget:
    """An ALB `origin.<domain>` may resolve to."""

    #: the mesh that owns it (the primary's record was its child before the failover pair: the alias keeps its URN)
    mesh: pulumi.Resource
    mesh_name: str
    dns_name: pulumi.Output[str]
    zone_id: pulumi.Output[str]


@dataclass(frozen=True)
class PrimaryHealth:
    """What says the primary region serves: its ALB and the target groups of the published public services."""

    alb_arn_suffix: pulumi.Output[str]
    target_group_arn_suffixes: Mapping[str, pulumi.Output[str]]
    services: Sequence[str]
    """The public services with a published image (`cluster.imageTags`): an unpublished one runs no pod anywhere."""


class ApiFailover(pulumi.ComponentResource):
    """`origin.<domain>` as a Route 53 failover pair, and the health check that decides between them.

    The health check is CLOUDWATCH_METRIC on one alarm per published public service (its target group's
    HealthyHostCount below one for `UNHEALTHY_MINUTES`), combined by a CALCULATED check that is healthy only while
    every one is. Not the observability canary: it loads the shop through CloudFront and `origin.<domain>`, so once
    DNS has moved it measures the standby, turns healthy and would move DNS back to the broken primary (flapping).
    The ALB admits only CloudFront with the secret header, so a Route 53 HTTPS check could not pass either.
    """

    health_check_id: pulumi.Output[str] | None
    record_names: list[pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        *,
        domain_name: str,
        origin_host: str,
        primary: FailoverTarget,
        secondary: FailoverTarget,
        health: PrimaryHealth,
        primary_region: str,
        environment: str,
        alarm_topic_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("ecommerce:dr:ApiFailover", name, None, opts)
        self._name, self._base, self._topic = name, f"ecommerce-{environment}", alarm_topic_arn
        child = pulumi.ResourceOptions(parent=self)
        zone = aws.route53.get_zone_output(
            name=domain_name, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        check = self._health_check(health, primary_region) if health.services else None
        self.health_check_id = check.id if check is not None else None
        records = []
        for role, target, check_id in (
            ("primary", primary, self.health_check_id),
            ("secondary", secondary, None),
        ):
            # The primary's record was the mesh's simple alias record: the alias keeps it one resource, and the
            # new set identifier makes it a replacement, deleted first: Route 53 keeps one routing policy per name
            # and type, so the failover record cannot be created beside the simple one (a few seconds without
            # origin.<domain>, once, when the mode is switched on).
            was = (
                [pulumi.Alias(name=f"{target.mesh_name}-origin", parent=target.mesh)]
                if role == "primary"
                else []
            )
            records.append(
                aws.route53.Record(
                    f"{name}-{role}",
                    zone_id=zone.zone_id,
                    name=origin_host,
                    type="A",
                    set_identifier=role,
                    failover_routing_policies=[
                        aws.route53.RecordFailoverRoutingPolicyArgs(type=role.upper())
                    ],
                    health_check_id=check_id,
                    # Not the ALBs' own target health: Route 53 counts an ALB unhealthy when any target group has
                    # no healthy target, and one without registered targets as unhealthy (Route 53 API reference,
                    # AliasTarget.EvaluateTargetHealth). Every ALB has a group per public service, an unpublished
                    # one included, so both records would read unhealthy and DNS would not move; the calculated
                    # check (published services only) decides alone, and the SECONDARY answers as the last resort.
                    aliases=[
                        aws.route53.RecordAliasArgs(
                            name=target.dns_name, zone_id=target.zone_id, evaluate_target_health=False
                        )
                    ],
                    opts=pulumi.ResourceOptions.merge(
                        child, pulumi.ResourceOptions(aliases=was, delete_before_replace=True)
                    ),
                )
            )
        self.record_names = [r.name for r in records]
        self.register_outputs({"health_check_id": self.health_check_id, "record_names": self.record_names})

    def _health_check(self, health: PrimaryHealth, region: str) -> aws.route53.HealthCheck:
        child = pulumi.ResourceOptions(parent=self)
        children = []
        for svc in health.services:
            alarm = aws.cloudwatch.MetricAlarm(
                f"{self._name}-{svc}-healthy-hosts",
                name=f"{self._base}-api-failover-{svc}-no-healthy-targets",
                alarm_description=f"The primary region's {svc} target group has no healthy target: Route 53 moves "
                "origin.<domain> to the DR ALB while this is in ALARM",
                namespace="AWS/ApplicationELB",
                metric_name="HealthyHostCount",
                # Route 53 reads standard-resolution alarms with a plain statistic only (Route 53 API reference,
                # "AlarmIdentifier").
                statistic="Minimum",
                period=60,
                evaluation_periods=UNHEALTHY_MINUTES,
                datapoints_to_alarm=UNHEALTHY_MINUTES,
                threshold=1,
                comparison_operator="LessThanThreshold",
                dimensions={
                    "LoadBalancer": health.alb_arn_suffix,
                    "TargetGroup": health.target_group_arn_suffixes[svc],
                },
                # No datapoints: no ALB answering in the region, the very case to fail over for.
                treat_missing_data="breaching",
                # On-call hears that the API is moving region, and when it may move back.
                alarm_actions=[self._topic],
                ok_actions=[self._topic],
                tags=tags(COMPONENT, f"{self._name}-{svc}-healthy-hosts"),
                opts=child,
            )
            children.append(
                aws.route53.HealthCheck(
                    f"{self._name}-{svc}",
                    type="CLOUDWATCH_METRIC",
                    cloudwatch_alarm_name=alarm.name,
                    cloudwatch_alarm_region=region,
                    # A region that stops reporting (CloudWatch itself down with it) counts as down.
                    insufficient_data_health_status="Unhealthy",
                    tags=tags(COMPONENT, f"{self._name}-{svc}"),
                    opts=child,
                )
            )
        # One record serves every /api path, so the API moves as a whole: healthy only while every service is.
        return aws.route53.HealthCheck(
            f"{self._name}-primary",
            type="CALCULATED",
            child_healthchecks=[c.id for c in children],
            child_health_threshold=len(children),
            tags=tags(COMPONENT, f"{self._name}-primary"),
            opts=child,
        )


def standby_messaging(
    name: str, settings: Settings, standby: StandbyRegion | None
) -> StandbyMessaging | None:
    """The warm standby's own topics and queues under `standby` (`name`: `ecommerce-dr-messaging`); None in every
    other mode (nothing runs in the DR region to publish or consume)."""
    if standby is None or not settings.dr.standby_compute:
        return None
    return StandbyMessaging(name, settings, standby=standby, opts=standby.options())


def origin_record_aliases(settings: Settings) -> bool | list[pulumi.Alias]:
    """What the primary mesh does with `origin.<domain>` (`ServiceMesh(route_origin=...)`): nothing in warm standby
    (`ApiFailover` owns the failover pair); else it writes the simple record, which was the pair's primary when the
    stack leaves warm standby (the alias keeps it one resource; its secondary must go first, docs runbook W5)."""
    if settings.dr.standby_compute:
        return False
    if not settings.edge.domain_name:
        return True
    return [
        pulumi.Alias(
            name=f"{API_FAILOVER}-primary", parent=pulumi.create_urn(API_FAILOVER, "ecommerce:dr:ApiFailover")
        )
    ]


@dataclass(frozen=True)
class WarmStandby:
    """The DR cluster, its carts cache, its topics and queues and the API's failover to it."""

    mesh: ServiceMesh
    carts: StandbyCarts
    messaging: StandbyMessaging
    failover: ApiFailover
    serving_services: Sequence[str] = ()
    """The public services with a published image: each runs a replica behind the DR ALB at rest."""


def warm_standby(
    name: str,
    settings: Settings,
    *,
    standby: StandbyRegion,
    primary: ServiceMesh,
    primary_mesh_name: str,
    primary_stores: DataContract,
    primary_keys: Mapping[str, pulumi.Output[str]],
    ci_egress_ips: Sequence[pulumi.Output[str]] = (),
    deployer_role_arns: Sequence[pulumi.Input[str]] = (),
    viewer_role_arns: Sequence[pulumi.Input[str]] = (),
    alarm_topic_arn: pulumi.Input[str],
    database: StandbyDatabase,
    messaging: StandbyMessaging,
    opts: pulumi.ResourceOptions | None = None,
) -> WarmStandby:
    """The ServiceMesh `name` in the DR region (under `standby`, on its VPC, scaled down by `standby_settings`) and
    the `origin.<domain>` failover pair between `primary`'s ALB and its own.

    `opts` are the primary region's (the failover's alarms live beside the metrics they read; Route 53 is global).
    `ci_egress_ips`: the primary NAT addresses CI's in-VPC runners leave from, admitted to the DR cluster's API.
    `messaging`: the standby's own topics and queues (`standby_messaging`, built before Observability watches them).
    """
    s = settings
    if not s.dr.standby_compute or standby.network is None:
        raise ValueError(f"{name}: dr.mode is {s.dr.mode!r}; only warm-standby runs a DR cluster")
    vpc = standby.network
    account_id, _, _ = iam.caller(standby)
    base = name.removesuffix("-mesh")
    carts = StandbyCarts(f"{base}-carts", s, standby=standby, opts=standby.options())
    mesh = ServiceMesh(
        name,
        standby_settings(s, REGION_AZS[s.dr_region]),
        network=MeshNetwork(
            vpc_id=vpc.vpc_id,
            public_subnet_ids=vpc.public_subnet_ids,
            private_subnet_ids=vpc.private_subnet_ids,
            alb_security_group_id=vpc.alb_security_group_id,
            nodes_security_group_id=vpc.nodes_security_group_id,
        ),
        stores=standby_contract(
            primary_stores,
            StandbyStores(
                s.dr_region,
                primary_keys,
                standby.key_arns,
                database,
                cache=(carts.access, carts.auth),
                messaging=StandbyQueues(tuple(messaging.topics.values()), tuple(messaging.queues.values())),
            ),
        ),
        deployer_role_arns=deployer_role_arns,
        viewer_role_arns=viewer_role_arns,
        standby=StandbyRole(
            repository_urls=replicated_repository_urls(
                s.delivery.ecr_repository_prefix, account_id, s.dr_region
            ),
            certificate_validation_fqdn=primary.origin_validation_fqdn,
            # The operators' CIDRs too: CI's runners and the NAT addresses go down with the primary region.
            api_access_cidrs=[
                *s.dr.standby_api_cidrs,
                *(ip.apply(lambda a: f"{a}/32") for ip in ci_egress_ips),
            ],
            origin_verify_value=primary.alb_origin.verify_header_value,
        ),
        route_origin=False,
        opts=standby.options(),
    )
    tags_ = dict(s.cluster.image_tags)
    published = [svc for svc in BY_NAME if BY_NAME[svc].public and published_tag(svc, tags_) is not None]
    failover = ApiFailover(
        API_FAILOVER,
        domain_name=s.edge.domain_name,
        origin_host=s.edge.origin_host,
        primary=FailoverTarget(primary, primary_mesh_name, primary.alb_dns_name, primary.alb_zone_id),
        secondary=FailoverTarget(mesh, name, mesh.alb_dns_name, mesh.alb_zone_id),
        health=PrimaryHealth(primary.alb_arn_suffix, primary.target_group_arn_suffixes, published),
        primary_region=s.region,
        environment=s.environment,
        alarm_topic_arn=alarm_topic_arn,
        opts=opts,
    )
    return WarmStandby(mesh, carts, messaging, failover, published)
