"""DisasterRecovery: what the stack keeps in the DR region (`drRegion`, us-east-1) for each `dr.mode`.

- `backup-restore`: the DR keys, the site and lake buckets replicated object by object (S3 replication: versioning
  on both sides, the replica key, delete markers, Replication Time Control where set), the service images (ECR
  registry replication into repositories encrypted with the DR key), and the site replica as CloudFront's failover
  origin (CdnEdge's origin group; this component lets that distribution read it), and a daily AWS Backup copy of
  the Aurora cluster in a DR-region vault, and replicas of the services' secrets. The rest is rebuilt at failover.
- `pilot-light`: the above plus live DynamoDB replicas of the products and inventory tables (global tables version
  2019.11.21), each with its own key, point-in-time recovery and deletion protection, and the DR VPC (EcommerceVpc
  in `dr.vpcCidr`: the primary's subnets, endpoints and security groups, no NAT), and the Aurora global database
  with a headless secondary (`components/dr_aurora.py`). Compute is created at failover.
- `warm-standby`: the above with one instance on the Aurora secondary; its DR cluster, carts cache, topics and queues
  and the API's DNS failover are `components/standby.py`'s. `off` builds no DisasterRecovery.

Region: `standby_region` builds the DR region's provider (the stack's default tags) and `StandbyRegion`, before the
stores; every DR-region resource is a child of that component, whose only provider the DR region's is, so none can
land in the primary region by accident. The replication configurations, which AWS keeps with the source (a
bucket's, the registry's), stay with the primary provider, under `DisasterRecovery`.

This component does not decide what the stores are: it takes their names/ARNs (`DrSources`) from the components
that own them and must not reach into their children.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from components import iam
from components.buckets import (
    PrivateBucket,
    abort_incomplete_uploads,
    deny_insecure_transport,
    expire_noncurrent,
    private_bucket,
)
from components.config import Settings
from components.config.dr import standby_network
from components.config.shared import REGION_AZS
from components.dr_aurora import AuroraGlobal, ReplicatedCluster, build_aurora_global
from components.naming import default_tags, stateful, tags
from components.network import EcommerceVpc

COMPONENT = "dr"
#: S3 Replication Time Control: AWS's SLA is 15 minutes, the only value the API takes (`Time.Minutes` = 15), and
#: RTC needs replication metrics with the same threshold (S3 User Guide, "Meeting compliance requirements with S3 RTC").
RTC_MINUTES = 15
#: The DR keys by what they encrypt.
KEY_ROLES = ("objects", "tables", "images", "backups")
#: When AWS Backup snapshots Aurora and copies the snapshot to the DR region: daily, off the shop's peak (UTC).
BACKUP_SCHEDULE = "cron(0 5 * * ? *)"


def replica_bucket_name(environment: str, role: str, account: pulumi.Input[str]) -> pulumi.Output[str]:
    """The DR replica of bucket `role` (`ecommerce-prod-site-replica-<account>`): fixed, so CloudFront's failover
    origin can name it before the replica exists."""
    return pulumi.Output.format("ecommerce-{0}-{1}-replica-{2}", environment, role, account)


@dataclass(frozen=True)
class ReplicatedBucket:
    """A primary-region bucket that replicates to the DR region."""

    #: short role, used in names (`site`, `lake`)
    role: str
    #: the source bucket's name and ARN
    name: pulumi.Input[str]
    arn: pulumi.Input[str]
    #: the source bucket's KMS key: S3 decrypts with it to replicate (the source must be versioned already)
    kms_key_arn: pulumi.Input[str]
    #: the component that owns the bucket and its versioning: replication waits for it (S3 refuses a replication
    #: configuration on an unversioned bucket)
    owner: pulumi.Resource


@dataclass(frozen=True)
class ReplicatedTable:
    """A primary-region DynamoDB table (streams on, both images) that gets a replica in the DR region."""

    role: str
    #: the table's ARN (the replica waits for the table through it)
    arn: pulumi.Input[str]
    #: the table's name: the `TableName` of its `ReplicationLatency` metric (the replica shares it)
    name: pulumi.Input[str]


@dataclass(frozen=True)
class DrSources:
    """What the DR region copies: the data buckets, the tables, the service images."""

    buckets: Sequence[ReplicatedBucket]
    tables: Sequence[ReplicatedTable]
    #: the ECR namespace of the service repositories (`delivery.ecrRepositoryPrefix`)
    repository_prefix: str
    #: the CloudFront distribution whose origin group fails over to the `site` replica: it reads it through OAC
    site_distribution_arn: pulumi.Input[str] | None = None
    #: the Aurora cluster AWS Backup snapshots and copies to the DR region (None: no cluster to copy)
    aurora_cluster_arn: pulumi.Input[str] | None = None
    #: the Aurora cluster that becomes a global database's primary (pilot light and up; None: no global database)
    aurora: ReplicatedCluster | None = None


class StandbyRegion(pulumi.ComponentResource):
    """The DR region (`drRegion`): its only provider is the DR region's, so every child lands there.

    Built before the stores (`standby_region`), because some of them are born with a DR-region part: a secret's
    replica is an argument of the secret itself, and takes the DR key by ARN. It owns what every DR-region part
    shares: the keys it is asked for (`customer_key`) and, from pilot light up, the DR VPC. `DisasterRecovery` and
    the DataTier put their DR-region resources under it (`options`, `stateful_options`).
    """

    dr_region: str
    provider: aws.Provider
    key_arns: dict[str, pulumi.Output[str]]
    network: EcommerceVpc | None

    def __init__(self, name: str, settings: Settings, *, base: str, provider: aws.Provider,
                 opts: pulumi.ResourceOptions) -> None:  # fmt: skip
        """
        :param name: this component's name (`<base>-<drRegion>`).
        :param base: the prefix of its children (`<base>-<role>-key`, `<base>-vpc`), the DR components' name.
        :param provider: the DR region's provider; `opts` must carry it as the `aws` provider.
        """
        super().__init__("ecommerce:dr:StandbyRegion", name, None, opts)
        self._settings, self._base = settings, base
        self.dr_region, self.provider = settings.dr_region, provider
        self._account, self._partition, _ = iam.caller(self)
        self.key_arns = {}
        self.key_arns["secrets"] = self.customer_key(
            "secrets", "the DR-region replicas of the services' secrets (Secrets Manager)"
        ).arn
        self.network = self._network() if settings.dr.standby_network else None
        self.register_outputs({"dr_region": self.dr_region, "key_arns": self.key_arns})

    def options(self, **extra: Any) -> pulumi.ResourceOptions:
        """Options of a DR-region resource: a child of this component, so it takes the DR provider."""
        return pulumi.ResourceOptions(parent=self, **extra)

    def stateful_options(self, **extra: Any) -> pulumi.ResourceOptions:
        """Options of a DR-region resource that holds data: protected and retained like the primary's."""
        return stateful(self._settings, self.options(**extra))

    def customer_key(
        self, role: str, what: str, service_statements: Sequence[iam.Statement] = ()
    ) -> aws.kms.Key:
        """A DR-region key `<base>-<role>-key` (alias `alias/ecommerce-<env>-dr-<role>`) for `what`.

        Own single-region keys, not multi-region replicas of the primary keys: a key's multi-region property is
        fixed when it is created (KMS developer guide, "Multi-Region keys": an existing single-Region key cannot be
        converted), so replicas would mean replacing every primary key and re-encrypting every store; and S3,
        DynamoDB, ECR, RDS and Secrets Manager each take the DR region's key by ARN, which an own key gives as well.
        """
        s, key_name = self._settings, f"{self._base}-{role}-key"
        key = iam.customer_key(
            self,
            key_name,
            description=f"{s.environment} DR ({self.dr_region}): encrypts {what}",
            deletion_window_days=s.dr.kms_deletion_window_days,
            account_id=self._account,
            partition=self._partition,
            service_statements=service_statements,
            tags=tags(COMPONENT, key_name),
            # Without the key, the replicas it encrypts are unreadable: it lives as long as they do.
            opts=self.stateful_options(),
        )
        aws.kms.Alias(key_name, name=f"alias/ecommerce-{s.environment}-dr-{role}", target_key_id=key.key_id,
                      opts=self.options())  # fmt: skip
        self.key_arns[role] = key.arn
        return key

    def _network(self) -> EcommerceVpc:
        """The DR VPC: the primary's shape (two AZs, public and private subnets, the endpoints and the four security
        groups the services use at failover) in `dr.vpcCidr`, without NAT until failover (`standby_network`).

        EcommerceVpc itself, under this component: its resources and its invokes (caller identity, region, the
        CloudFront prefix list) follow this component's only provider, the DR region's.
        """
        s = self._settings
        return EcommerceVpc(
            f"{self._base}-vpc",
            standby_network(s.network, s.dr, REGION_AZS[s.dr_region]),
            environment=s.environment,
            alb_origin_port=s.edge.origin_port,
            opts=self.options(),
        )


def standby_region(name: str, settings: Settings, *, opts: pulumi.ResourceOptions) -> StandbyRegion | None:
    """The DR region's provider (with the stack's default tags) and its `StandbyRegion`; None when `dr.mode` is off.

    Both were children of `DisasterRecovery` `name` before the stores needed them first: the aliases keep their
    URNs (and, inherited, their children's).
    """
    if not settings.dr.enabled:
        return None
    was_under = pulumi.Alias(parent=pulumi.create_urn(name, "ecommerce:dr:DisasterRecovery"))
    regional = f"{name}-{settings.dr_region}"
    provider = aws.Provider(
        regional,
        region=settings.dr_region,
        default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags(settings)),
        opts=pulumi.ResourceOptions(aliases=[was_under]),
    )
    return StandbyRegion(
        regional,
        settings,
        base=name,
        provider=provider,
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(providers={"aws": provider}, aliases=[was_under])
        ),
    )


class DisasterRecovery(pulumi.ComponentResource):
    """The DR region's provider, keys and replicas, and the replication from the primary. Children `{name}-<role>`."""

    dr_region: str
    mode: str
    key_arns: dict[str, pulumi.Output[str]]
    replica_bucket_names: dict[str, pulumi.Output[str]]
    replica_bucket_arns: dict[str, pulumi.Output[str]]
    replica_table_arns: dict[str, pulumi.Output[str]]
    replication_rule_id: str
    source_bucket_names: dict[str, pulumi.Input[str]]
    replicated_table_names: dict[str, pulumi.Input[str]]
    replication_role_arn: pulumi.Output[str]
    batch_replication_role_arn: pulumi.Output[str]
    backup_vault_name: pulumi.Output[str] | None
    primary_backup_vault_name: pulumi.Output[str] | None
    aurora_global: AuroraGlobal | None

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        standby: StandbyRegion,
        sources: DrSources,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param settings: the validated settings; `dr.*` chooses the mode, `drRegion` the region, `protectData`
            protects the replicas.
        :param standby: the DR region (`standby_region`): every DR-region resource of this component is its child.
        :param sources: the stores to replicate, from the components that own them.
        """
        super().__init__("ecommerce:dr:DisasterRecovery", name, None, opts)
        if not settings.dr.enabled:
            raise ValueError(f"{name}: dr.mode is 'off'; __main__ builds no DisasterRecovery then")
        self._name, self._settings, self._dr = name, settings, settings.dr
        self._sources = sources
        self._base = f"ecommerce-{settings.environment}"
        self._child = pulumi.ResourceOptions(parent=self)
        self.dr_region, self.mode = settings.dr_region, settings.dr.mode
        self.replication_rule_id = f"to-{self.dr_region}"

        self._region = standby
        self._account, self._partition, _ = iam.caller(self)
        keys = self._keys()
        replicas = self._replica_buckets(keys["objects"])
        role = self._replication_role(keys["objects"], replicas)
        self._bucket_replication(role, keys["objects"], replicas)
        batch_role = self._batch_replication_role()
        self._registry_replication(keys["images"])
        tables = self._table_replicas(keys["tables"]) if self._dr.live_table_replicas else {}
        vaults = self._aurora_copies(keys["backups"]) if sources.aurora_cluster_arn is not None else None
        self.aurora_global = self._aurora_global() if self._dr.aurora_global else None

        self.key_arns = {k: key.arn for k, key in keys.items()}
        self.replica_bucket_names = {r: b.name for r, b in replicas.items()}
        self.replica_bucket_arns = {r: b.arn for r, b in replicas.items()}
        self.replica_table_arns = {r: t.arn for r, t in tables.items()}
        self.source_bucket_names = {b.role: b.name for b in sources.buckets}
        self.replicated_table_names = {t.role: t.name for t in sources.tables if t.role in tables}
        self.replication_role_arn = role.arn
        self.batch_replication_role_arn = batch_role.arn
        self.backup_vault_name = vaults[0].name if vaults is not None else None
        self.primary_backup_vault_name = vaults[1].name if vaults is not None else None
        self.register_outputs(
            {
                "dr_region": self.dr_region,
                "mode": self.mode,
                "key_arns": self.key_arns,
                "replica_bucket_names": self.replica_bucket_names,
                "replica_table_arns": self.replica_table_arns,
                "replication_role_arn": self.replication_role_arn,
                "batch_replication_role_arn": self.batch_replication_role_arn,
                "backup_vault_name": self.backup_vault_name,
                "aurora_secondary_cluster_identifier": (
                    self.aurora_global.secondary_cluster_identifier if self.aurora_global else None
                ),
            }
        )

    def _keys(self) -> dict[str, aws.kms.Key]:
        what = {
            "objects": "the replicas of the site and lake buckets",
            "tables": "the DynamoDB replicas",
            "images": "the replicated service images",
            "backups": "the Aurora snapshot copies in the DR backup vault",
        }
        distribution = self._sources.site_distribution_arn
        # CloudFront reads the site replica through OAC when the origin group fails over: it decrypts as itself.
        cloudfront = [{
            "sid": "CloudFrontDecryptsTheSiteReplica", "effect": "Allow",
            "principals": [{"type": "Service", "identifiers": ["cloudfront.amazonaws.com"]}],
            "actions": ["kms:Decrypt"], "resources": ["*"],  # in a key policy "*" is this key
            "conditions": [iam.condition("StringEquals", "AWS:SourceArn", distribution)],
        }] if distribution is not None else []  # fmt: skip
        # The tables key only where there are table replicas to encrypt (a key is billed whether used or not).
        roles = [r for r in KEY_ROLES if r != "tables" or self._dr.live_table_replicas]
        return {
            role: self._region.customer_key(role, what[role], cloudfront if role == "objects" else ())
            for role in roles
        }

    # -- S3 ------------------------------------------------------------------------------------------------------------
    def _replica_buckets(self, key: aws.kms.Key) -> dict[str, PrivateBucket]:
        """One private, versioned, SSE-KMS replica bucket per source (S3 replication needs versioning on both)."""
        replicas: dict[str, PrivateBucket] = {}
        for source in self._sources.buckets:
            bucket_name = f"{self._name}-{source.role}-replica"
            replicas[source.role] = private_bucket(
                bucket_name,
                parent=self._region,
                tags=tags(COMPONENT, bucket_name, ReplicaOf=source.role),
                kms_key_arn=key.arn,
                bucket=replica_bucket_name(self._settings.environment, source.role, self._account),
                policy_statements=self._replica_policy(source.role),
                # Replicas keep the versions S3 copies; old ones expire as the source's do, a month at most.
                lifecycle_rules=[
                    expire_noncurrent(30),
                    abort_incomplete_uploads(),
                ],
                force_destroy=not self._settings.protect_data,
                bucket_opts=self._region.stateful_options(),
                lifecycle_after_versioning=True,
            )
        return replicas

    def _replica_policy(self, role: str) -> Callable[[aws.s3.Bucket], list[iam.Statement]] | None:
        """The site replica's policy lets CloudFront read it through OAC for that one distribution (the failover
        origin); the others keep the TLS-only policy alone."""
        distribution = self._sources.site_distribution_arn
        if role != "site" or distribution is None:
            return None
        return lambda bucket: [
            {
                "sid": "CloudFrontReadsThroughOac",
                "effect": "Allow",
                "principals": [{"type": "Service", "identifiers": ["cloudfront.amazonaws.com"]}],
                "actions": ["s3:GetObject"],
                "resources": [pulumi.Output.concat(bucket.arn, "/*")],
                "conditions": [iam.condition("StringEquals", "AWS:SourceArn", distribution)],
            },
            deny_insecure_transport(bucket.arn),
        ]

    def _replication_role(self, replica_key: aws.kms.Key, replicas: dict[str, PrivateBucket]) -> aws.iam.Role:
        """The role S3 assumes to replicate: read the sources' versions, write the replicas, use both keys.

        Its trust names only S3, without conditions, as the S3 User Guide's replication role does ("Setting up
        permissions for live replication", step 2): S3 does not document aws:SourceArn for replication.
        """
        role = aws.iam.Role(
            f"{self._name}-s3-replication",
            name=f"{self._base}-dr-s3-replication",
            description="S3 replication of the data buckets to the DR region",
            assume_role_policy=iam.policy_json(self, [{
                "effect": "Allow", "actions": ["sts:AssumeRole"],
                "principals": [{"type": "Service", "identifiers": ["s3.amazonaws.com"]}],
            }]),
            tags=tags(COMPONENT, f"{self._name}-s3-replication"),
            opts=self._child,
        )  # fmt: skip
        sources = list(self._sources.buckets)
        statements = [
            iam.allow(["s3:GetReplicationConfiguration", "s3:ListBucket"], [s.arn for s in sources],
                      sid="ReadSourceConfiguration"),
            iam.allow(["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                      [pulumi.Output.concat(s.arn, "/*") for s in sources], sid="ReadSourceVersions"),
            iam.allow(["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                      [r.objects() for r in replicas.values()], sid="WriteReplicas"),
            # Replicating SSE-KMS objects: decrypt with each source key through S3 in the primary region, encrypt
            # with the replica key through S3 in the DR region (S3 User Guide, "Replicating encrypted objects").
            iam.allow(["kms:Decrypt"], [s.kms_key_arn for s in sources], sid="DecryptSources",
                      conditions=[iam.condition("StringEquals", "kms:ViaService",
                                                f"s3.{self._settings.region}.amazonaws.com")]),
            iam.allow(["kms:Encrypt", "kms:GenerateDataKey"], [replica_key.arn], sid="EncryptReplicas",
                      conditions=[iam.condition("StringEquals", "kms:ViaService",
                                                f"s3.{self.dr_region}.amazonaws.com")]),
        ]  # fmt: skip
        aws.iam.RolePolicy(
            f"{self._name}-s3-replication",
            role=role.id,
            policy=iam.policy_json(self, statements),
            opts=self._child,
        )
        return role

    def _bucket_replication(
        self, role: aws.iam.Role, replica_key: aws.kms.Key, replicas: dict[str, PrivateBucket]
    ) -> None:
        """One rule per source: every object (SSE-KMS ones included), delete markers too, into its replica."""
        rtc = self._dr.replication_time_control
        for source in self._sources.buckets:
            replica = replicas[source.role]
            destination: aws.s3.BucketReplicationConfigRuleDestinationArgsDict = {
                "bucket": replica.arn,
                "storage_class": "STANDARD",
                "encryption_configuration": {"replica_kms_key_id": replica_key.arn},
            }
            # Replication metrics on every rule: OperationsFailedReplication, which the observability catalogue
            # alarms on, exists only with them (S3 User Guide, "Using S3 Replication metrics"); without RTC they
            # take no event threshold. Billed as CloudWatch custom metrics.
            destination["metrics"] = {"status": "Enabled"}
            if rtc:
                destination["replication_time"] = {"status": "Enabled", "time": {"minutes": RTC_MINUTES}}
                destination["metrics"] = {"status": "Enabled", "event_threshold": {"minutes": RTC_MINUTES}}
            aws.s3.BucketReplicationConfig(
                f"{self._name}-{source.role}-replication",
                bucket=source.name,
                role=role.arn,
                rules=[
                    {
                        "id": self.replication_rule_id,
                        "status": "Enabled",
                        "priority": 1,
                        # A filter (V2 rule) is what allows delete-marker replication to be set per rule.
                        "filter": {"prefix": ""},
                        "delete_marker_replication": {"status": "Enabled"},
                        "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
                        "destination": destination,
                    }
                ],
                # S3 refuses the configuration until both buckets are versioned.
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[source.owner, *([replica.versioning] if replica.versioning else [])],
                ),
            )

    def _batch_replication_role(self) -> aws.iam.Role:
        """The role S3 Batch Operations assumes for the one-time Batch Replication of what the buckets held before
        their replication configuration (docs/disaster-recovery.md, "Turning DR on").

        Live replication "doesn't replicate any objects that already existed in your source bucket before you
        created a replication configuration" (S3 User Guide, "Replicating existing objects with Batch
        Replication"): a populated site or lake would leave its replica, CloudFront's failover origin included,
        incomplete. The permissions are those of the S3 User Guide's "Configuring an IAM role for S3 Batch
        Replication" for a manifest S3 generates from the replication configuration and does not store, with no
        completion report: a job re-run with the same filter (replication status NONE or FAILED) picks up what
        failed, so neither needs a bucket to write to. The objects are copied by the replication role; this one
        only starts replication of each object (s3:InitiateReplication) and lists the bucket through an inventory
        configuration the manifest generator adds (s3:PutInventoryConfiguration).
        """
        name = f"{self._name}-s3-batch-replication"
        role = aws.iam.Role(
            name,
            name=f"{self._base}-dr-s3-batch-replication",
            description="S3 Batch Replication of the objects the data buckets held before DR was turned on",
            # Only S3 Batch Operations assumes it (S3 User Guide, "Granting permissions for Batch Operations").
            assume_role_policy=iam.policy_json(self, [{
                "effect": "Allow", "actions": ["sts:AssumeRole"],
                "principals": [{"type": "Service", "identifiers": ["batchoperations.s3.amazonaws.com"]}],
            }]),
            tags=tags(COMPONENT, name),
            opts=self._child,
        )  # fmt: skip
        sources = list(self._sources.buckets)
        aws.iam.RolePolicy(
            name,
            role=role.id,
            policy=iam.policy_json(self, [
                iam.allow(["s3:InitiateReplication"], [pulumi.Output.concat(s.arn, "/*") for s in sources],
                          sid="InitiateReplicationOfSourceObjects"),
                iam.allow(["s3:GetReplicationConfiguration", "s3:PutInventoryConfiguration"],
                          [s.arn for s in sources], sid="GenerateManifestFromReplicationConfiguration"),
            ]),
            opts=self._child,
        )  # fmt: skip
        return role

    # -- ECR -----------------------------------------------------------------------------------------------------------
    def _registry_replication(self, key: aws.kms.Key) -> None:
        """Replicate the service repositories to the DR region, into repositories encrypted with the DR key.

        ECR creates the destination repositories itself; a repository creation template applied for REPLICATION
        gives them the DR key and immutable tags, and KMS in a template needs a role ECR assumes (ECR User Guide,
        "Create an IAM role for repository creation templates"). The registry's replication configuration is one
        per account and region: only one stack of an account may turn DR on (README, "Disaster recovery").
        """
        prefix = self._sources.repository_prefix
        repositories = pulumi.Output.format(
            "arn:{0}:ecr:{1}:{2}:repository/{3}/*", self._partition, self.dr_region, self._account, prefix
        )
        role = aws.iam.Role(
            f"{self._name}-ecr-templates",
            name=f"{self._base}-dr-ecr-templates",
            description="ECR creates the replicated repositories in the DR region with the DR key",
            assume_role_policy=iam.policy_json(self, [{
                "effect": "Allow", "actions": ["sts:AssumeRole"],
                "principals": [{"type": "Service", "identifiers": ["ecr.amazonaws.com"]}],
            }]),
            tags=tags(COMPONENT, f"{self._name}-ecr-templates"),
            opts=self._child,
        )  # fmt: skip
        policy = aws.iam.RolePolicy(
            f"{self._name}-ecr-templates",
            role=role.id,
            policy=iam.policy_json(self, [
                iam.allow(["ecr:CreateRepository", "ecr:ReplicateImage", "ecr:TagResource"], [repositories]),
                iam.allow(["kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"], [key.arn]),
            ]),
            opts=self._child,
        )  # fmt: skip
        template = aws.ecr.RepositoryCreationTemplate(
            f"{self._name}-ecr-replicas",
            prefix=prefix,
            description=f"Replicas of the {prefix} service repositories",
            applied_fors=["REPLICATION"],
            image_tag_mutability="IMMUTABLE",
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": key.arn}],
            custom_role_arn=role.arn,
            resource_tags=tags(COMPONENT, f"{prefix}-replica"),
            opts=pulumi.ResourceOptions(parent=self._region, depends_on=[policy]),
        )
        aws.ecr.ReplicationConfiguration(
            f"{self._name}-ecr",
            replication_configuration={
                "rules": [
                    {
                        "destinations": [{"region": self.dr_region, "registry_id": self._account}],
                        "repository_filters": [{"filter": prefix, "filter_type": "PREFIX_MATCH"}],
                    }
                ]
            },
            # Images replicated before the template exists would get AES256 repositories for good.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[template]),
        )

    # -- DynamoDB ------------------------------------------------------------------------------------------------------
    def _table_replicas(self, key: aws.kms.Key) -> dict[str, aws.dynamodb.TableReplica]:
        """A global-table replica (version 2019.11.21) of each table, with its own key, PITR, deletion protection.

        `TableReplica` is managed in the replica's region (its provider) and names the primary table by ARN; the
        table must have streams with both images (DataTier sets them) and must ignore its `replicas` argument
        (pulumi-aws `dynamodb.TableReplica` docstring), which the DataTier's tables do.
        """
        protect = self._settings.protect_data
        return {
            t.role: aws.dynamodb.TableReplica(
                f"{self._name}-{t.role}-replica",
                global_table_arn=t.arn,
                kms_key_arn=key.arn,
                point_in_time_recovery=True,
                deletion_protection_enabled=protect,
                tags=tags(COMPONENT, f"{self._name}-{t.role}-replica", ReplicaOf=t.role),
                opts=self._region.stateful_options(),
            )
            for t in self._sources.tables
        }

    # -- Aurora: the global database (pilot light and up) --------------------------------------------------------------
    def _aurora_global(self) -> AuroraGlobal:
        """The global database made from the DataTier's cluster and its DR-region secondary (components/dr_aurora.py):
        headless in pilot light, one instance in warm standby."""
        source = self._sources.aurora
        if source is None:
            raise ValueError(
                f"{self._name}: dr.mode {self.mode!r} makes Aurora global; DrSources.aurora is missing"
            )
        return build_aurora_global(self, self._name, self._settings, self._region, source)

    # -- Aurora: AWS Backup snapshots copied to the DR region -------------------------------------------------------
    def _aurora_copies(self, key: aws.kms.Key) -> tuple[aws.backup.Vault, aws.backup.Vault]:
        """A daily AWS Backup snapshot of the Aurora cluster, copied to a DR-region vault under the DR key.

        Backup-restore's Aurora copy (RPO one day). Pilot light and warm standby keep it beside the global database:
        the global database replicates a bad write or a dropped table to the DR region within a second, the copy
        is the only point in time to go back to once the primary region (and its point-in-time restore) is gone.
        The primary vault holds the local recovery points only; Aurora snapshots keep the cluster's own key there
        (AWS Backup, "Encryption for backups": resources not fully managed by AWS Backup keep their source key),
        and the copy is re-encrypted with the destination vault's key.
        """
        base, keep = self._base, self._dr.backup_retention_days
        dr_vault = aws.backup.Vault(
            f"{self._name}-backups",
            name=f"{base}-dr-backups",
            kms_key_arn=key.arn,
            force_destroy=not self._settings.protect_data,
            tags=tags(COMPONENT, f"{self._name}-backups"),
            opts=self._region.stateful_options(),
        )
        vault = aws.backup.Vault(
            f"{self._name}-primary-backups",
            name=f"{base}-backups",
            force_destroy=not self._settings.protect_data,
            tags=tags(COMPONENT, f"{self._name}-primary-backups"),
            opts=stateful(self._settings, self._child),
        )
        plan = aws.backup.Plan(
            f"{self._name}-aurora",
            name=f"{base}-aurora-to-{self.dr_region}",
            rules=[
                {
                    "rule_name": "daily-copy-to-dr",
                    "target_vault_name": vault.name,
                    "schedule": BACKUP_SCHEDULE,
                    "lifecycle": {"delete_after": keep},
                    "copy_actions": [
                        {"destination_vault_arn": dr_vault.arn, "lifecycle": {"delete_after": keep}}
                    ],
                }
            ],
            tags=tags(COMPONENT, f"{self._name}-aurora"),
            opts=self._child,
        )
        role = aws.iam.Role(
            f"{self._name}-backup",
            name=f"{base}-dr-backup",
            description="AWS Backup snapshots Aurora, copies it to the DR region and restores it from there",
            # No aws:SourceAccount condition: AWS Backup's default service role trusts the service without one, and
            # its docs do not say it sends the key when it assumes the role (a condition it omits would deny).
            assume_role_policy=iam.policy_json(
                self,
                [
                    {
                        "effect": "Allow",
                        "actions": ["sts:AssumeRole"],
                        "principals": [{"type": "Service", "identifiers": ["backup.amazonaws.com"]}],
                    }
                ],
            ),
            tags=tags(COMPONENT, f"{self._name}-backup"),
            opts=self._child,
        )
        # AWS's own service-role policy for backups (AWS Backup developer guide, "Default service role"): the
        # snapshot, copy and KMS-grant actions per resource type, which AWS keeps current as services change.
        attachment = aws.iam.RolePolicyAttachment(
            f"{self._name}-backup",
            role=role.name,
            policy_arn=iam.aws_managed_policy(
                self._partition, "service-role/AWSBackupServiceRolePolicyForBackup"
            ),
            opts=self._child,
        )
        # The runbook restores the DR copy with this role (`start-restore-job --iam-role-arn`), and the backup policy
        # grants no restore: AWSBackupServiceRolePolicyForRestores does (AWS managed policy reference:
        # rds:RestoreDBClusterFromSnapshot, the subnet and security-group reads, and KMS through RDS only —
        # kms:Decrypt/Encrypt/GenerateDataKey*/ReEncrypt* with kms:ViaService rds.*, kms:CreateGrant for AWS
        # resources, kms:DescribeKey). The DR keys' policies delegate to IAM (AccountAdministersKeyThroughIam), so
        # that grant covers the copy's key and the key of the restored cluster; nothing narrower to add.
        aws.iam.RolePolicyAttachment(
            f"{self._name}-backup-restores",
            role=role.name,
            policy_arn=iam.aws_managed_policy(
                self._partition, "service-role/AWSBackupServiceRolePolicyForRestores"
            ),
            opts=self._child,
        )
        aws.backup.Selection(
            f"{self._name}-aurora",
            name=f"{base}-aurora",
            plan_id=plan.id,
            iam_role_arn=role.arn,
            resources=[cast(pulumi.Input[str], self._sources.aurora_cluster_arn)],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment]),
        )
        return dr_vault, vault
