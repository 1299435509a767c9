"""Disaster-recovery rules: what a stack with DR on must hold in its DR region (components/dr.py).

- `dr-replica-encrypted-protected`: in prod, every replica is encrypted with a customer-managed key and protected:
  a DynamoDB `TableReplica` names its own key (without one DynamoDB uses an AWS-owned key), has point-in-time
  recovery and deletion protection and `protect`; an S3 replication rule names a replica key in the destination
  region (S3 needs one to replicate SSE-KMS objects, S3 User Guide "Replicating encrypted objects") and its
  destination bucket is protected; an ECR repository creation template applied for REPLICATION encrypts with KMS
  and a key (the repositories ECR creates by replication get AES256 otherwise); a backup vault a plan copies
  into (the DR region's Aurora copies) has a customer-managed key; an Aurora global database's secondary cluster
  (a cluster in a global cluster without a master user of its own) is encrypted with a customer key of its region
  (a cross-region secondary of an encrypted primary needs one), deletion-protected, `protect`ed, and ignores
  `replicationSourceIdentifier` (AWS sets it on a secondary; pulumi-aws's GlobalCluster docstring has the
  secondary ignore it, or the next `up` detaches it); a Secrets Manager replica names a customer key (without one
  it gets the region's `aws/secretsmanager`). What a policy cannot see: that the secondary runs the primary's
  exact version after AWS's upgrades, that the global cluster still has it as a member after a switchover, or
  how far behind it is (the AuroraGlobalDBRPOLag alarm's job).
- `dr-replication-covers-data-buckets`: with DR on (a DisasterRecovery, a table replica or a replication
  configuration in the stack), every bucket tagged `DataClass` (other than `logs`) is the
  source of an enabled replication rule over all of it, SSE-KMS objects selected and delete markers replicated.
- `dr-provider-stack-tags`: every AWS provider of the stack (the DR region's included) carries the stack's
  default tags (Project, Environment, ManagedBy, CostCenter) with the same values as the others: a DR-region
  resource must be as attributable (cost, ownership, the boundary's Environment tag) as a primary one.
"""

from __future__ import annotations

from typing import Any

from .common import (
    MANDATORY,
    UNKNOWN,
    Context,
    Raw,
    Res,
    Stack,
    as_list,
    cmk_problem,
    get,
    is_set,
    is_true,
    parse_json,
    provider_default_tags,
    stack_policy,
)

TABLE_REPLICA = "aws:dynamodb/tableReplica:TableReplica"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
ECR_REPLICATION = "aws:ecr/replicationConfiguration:ReplicationConfiguration"
ECR_TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
BUCKET = "aws:s3/bucket:Bucket"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
SECRET = "aws:secretsmanager/secret:Secret"
BACKUP_PLAN = "aws:backup/plan:Plan"
VAULT = "aws:backup/vault:Vault"
PROVIDER = "pulumi:providers:aws"
DR_COMPONENT = "ecommerce:dr:DisasterRecovery"
STACK_TAGS = ("Project", "Environment", "ManagedBy", "CostCenter")
#: The tag that marks a bucket holding data (its value says which); access logs are diagnostics of the region
#: that wrote them, not data a failover needs, so `logs` is not asked to replicate.
DATA_TAG = "DataClass"
NOT_REPLICATED_CLASSES = ("logs",)


def _dr_on(stack: Stack) -> bool:
    return bool(stack.of_type(DR_COMPONENT, TABLE_REPLICA, REPLICATION, ECR_REPLICATION))


def _bucket_of(stack: Stack, arn: Any) -> Res | None:
    if not isinstance(arn, str):
        return None
    return next(
        (b for b in stack.of_type(BUCKET) if arn in (b.p("arn"), f"arn:aws:s3:::{b.p('bucket')}")), None
    )


def _table_replica(res: Res, ctx: Context) -> None:
    problem = cmk_problem(res.p("kmsKeyArn"))
    if problem:
        ctx.violation(
            res, "kmsKeyArn", Raw(problem), "give the replica its own customer-managed key in its region."
        )
    for prop in ("pointInTimeRecovery", "deletionProtectionEnabled"):
        if res.p(prop) is not UNKNOWN and not is_true(res.p(prop)):
            ctx.violation(
                res, prop, res.p(prop), "turn it on: the replica is the copy a regional outage leaves."
            )
    if not res.protect:
        ctx.violation(
            res, "protect", False, "create it with ResourceOptions(protect=True, retain_on_delete=True)."
        )


def _bucket_replication(stack: Stack, res: Res, ctx: Context) -> None:
    for i, rule in enumerate(as_list(res.p("rules"))):
        if get(rule, "status") != "Enabled":
            continue
        key = get(rule, "destination", "encryptionConfiguration", "replicaKmsKeyId")
        problem = cmk_problem(key)
        if problem:
            ctx.violation(res, f"rules[{i}].destination.encryptionConfiguration.replicaKmsKeyId", Raw(problem),
                          "name a customer-managed key in the destination region for the replicas.")  # fmt: skip
        destination = _bucket_of(stack, get(rule, "destination", "bucket"))
        if destination is not None and not destination.protect:
            ctx.violation(destination, "protect", False, f"protect the replica bucket (it receives {res.name}'s "
                          "objects): ResourceOptions(protect=True, retain_on_delete=True).")  # fmt: skip


def _template(res: Res, ctx: Context) -> None:
    if "REPLICATION" not in as_list(res.p("appliedFors")):
        return
    enc = as_list(res.p("encryptionConfigurations"))
    kind, key = get(enc[0], "encryptionType") if enc else None, get(enc[0], "kmsKey") if enc else None
    if kind is UNKNOWN:
        return
    problem = "encryptionType is not KMS" if kind != "KMS" else cmk_problem(key)
    if problem:
        ctx.violation(res, "encryptionConfigurations", Raw(problem), "encrypt the replicated repositories with "
                      "encryptionType KMS and a customer-managed key (and the customRoleArn ECR needs for it).")  # fmt: skip


def _copy_vaults(stack: Stack, ctx: Context) -> None:
    """Vaults a backup plan copies into (its rules name them but do not target them) use a customer key."""
    for plan in stack.of_type(BACKUP_PLAN):
        targets = {get(r, "targetVaultName") for r in as_list(plan.p("rules"))}
        copies = {
            get(c, "destinationVaultArn")
            for r in as_list(plan.p("rules"))
            for c in as_list(get(r, "copyActions"))
        }
        for vault in stack.of_type(VAULT):
            named = plan.depends_on(vault, "rules") or vault.p("arn") in copies
            if named and vault.p("name") not in targets:
                problem = cmk_problem(vault.p("kmsKeyArn"))
                if problem:
                    ctx.violation(vault, "kmsKeyArn", Raw(problem), f"encrypt the vault {plan.name} copies into "
                                  "with a customer-managed key of its region.")  # fmt: skip


def _aurora_secondary(res: Res, ctx: Context) -> None:
    """A global database's secondary: joins a global cluster without a master user (AWS refuses one on it)."""
    if not is_set(res.p("globalClusterIdentifier")) or is_set(res.p("masterUsername")):
        return
    encrypted = res.p("storageEncrypted")
    if encrypted is not UNKNOWN and not is_true(encrypted):
        ctx.violation(res, "storageEncrypted", encrypted, "encrypt the secondary (storageEncrypted true).")
    problem = cmk_problem(res.p("kmsKeyId"))
    if problem:
        ctx.violation(res, "kmsKeyId", Raw(problem), "give the secondary a customer-managed key of its own region "
                      "(StandbyRegion's databases key): an encrypted primary's secondary needs one there.")  # fmt: skip
    protection = res.p("deletionProtection")
    if protection is not UNKNOWN and not is_true(protection):
        ctx.violation(res, "deletionProtection", protection, "turn it on: the secondary is the copy a regional "
                      "outage leaves, and the cluster a failover promotes.")  # fmt: skip
    if not res.protect:
        ctx.violation(
            res, "protect", False, "create it with ResourceOptions(protect=True, retain_on_delete=True)."
        )
    if "replicationSourceIdentifier" not in res.ignore_changes:
        ctx.violation(res, "ignoreChanges", Raw(f"{res.ignore_changes} lacks replicationSourceIdentifier"),
                      "ignore it: AWS sets it on a secondary, and the next `up` would detach the cluster from its "
                      "global database (pulumi-aws rds.GlobalCluster docstring).")  # fmt: skip


def _secret_replicas(res: Res, ctx: Context) -> None:
    for i, replica in enumerate(as_list(res.p("replicas"))):
        problem = cmk_problem(get(replica, "kmsKeyId"))
        if problem:
            ctx.violation(res, f"replicas[{i}].kmsKeyId", Raw(problem), "encrypt the replica with a "
                          "customer-managed key of its region (StandbyRegion's secrets key).")  # fmt: skip


def _replicas(stack: Stack, ctx: Context) -> None:
    if not ctx.prod:
        return
    _copy_vaults(stack, ctx)
    for res in stack.of_type(RDS_CLUSTER):
        _aurora_secondary(res, ctx)
    for res in stack.of_type(SECRET):
        _secret_replicas(res, ctx)
    for res in stack.of_type(TABLE_REPLICA):
        _table_replica(res, ctx)
    for res in stack.of_type(REPLICATION):
        _bucket_replication(stack, res, ctx)
    for res in stack.of_type(ECR_TEMPLATE):
        _template(res, ctx)


def _covers_all(rule: Any) -> bool:
    prefix = get(rule, "filter", "prefix")
    no_filter = get(rule, "filter") in (None, {}) and get(rule, "prefix") in (None, "")
    return (
        get(rule, "status") == "Enabled"
        and (no_filter or prefix == "")
        and get(rule, "filter", "tag") is None
    )


def _coverage(stack: Stack, ctx: Context) -> None:
    if not _dr_on(stack):
        return
    for bucket in stack.of_type(BUCKET):
        tags = parse_json(bucket.p("tags"))
        if not isinstance(tags, dict) or tags.get(DATA_TAG) in (None, "", *NOT_REPLICATED_CLASSES):
            continue
        configs = stack.referring(bucket, (REPLICATION,), "bucket", bucket.p("bucket"), bucket.p("id"))
        rules = [r for c in configs for r in as_list(c.p("rules")) if _covers_all(r)]
        if not rules:
            ctx.violation(bucket, "replication", Raw(f"no enabled replication rule covers this {DATA_TAG} bucket"),
                          "replicate it to the DR region (DisasterRecovery's sources) with a rule over all objects.")  # fmt: skip
            continue
        for prop, fix in (("sourceSelectionCriteria.sseKmsEncryptedObjects.status", "select SSE-KMS objects "
                           "(S3 skips them otherwise)"), ("deleteMarkerReplication.status", "replicate delete markers "
                           "(a deletion must reach the copy)")):  # fmt: skip
            if not any(get(r, *prop.split(".")) == "Enabled" for r in rules):
                ctx.violation(bucket, f"replication rule {prop}", Raw("not Enabled"), fix + ".")


def _provider_tags(stack: Stack, ctx: Context) -> None:
    providers = stack.of_type(PROVIDER)
    # The reference is the stack's own provider (no component parent); the DR region's is a component's child.
    top = [p for p in providers if p.parent is None or p.parent.type == "pulumi:pulumi:Stack"] or providers
    reference = provider_default_tags(top[0].props) if top else {}
    for p in providers:
        if p.p("defaultTags") is UNKNOWN:
            continue
        tags = provider_default_tags(p.props)
        missing = [t for t in STACK_TAGS if not tags.get(t)]
        differing = [
            t for t in STACK_TAGS if t not in missing and reference.get(t) and tags[t] != reference[t]
        ]
        if missing or differing:
            ctx.violation(p, "defaultTags", Raw(f"missing {missing}, differing from the stack's {differing}"),
                          "give every AWS provider (the DR region's too) the stack's default tags "
                          "(components.naming.default_tags).")  # fmt: skip


POLICIES = [
    stack_policy(
        "dr-replica-encrypted-protected",
        "In prod, DR replicas (DynamoDB, S3, ECR, backup copies, the Aurora secondary, secret replicas) use a "
        "customer-managed key and are protected.",
        MANDATORY,
        ["DynamoDB.2", "S3.7"],
        _replicas,
    ),
    stack_policy(
        "dr-replication-covers-data-buckets",
        "With DR on, every DataClass bucket replicates all objects (SSE-KMS included, delete markers too).",
        MANDATORY,
        ["S3.7"],
        _coverage,
    ),
    stack_policy(
        "dr-provider-stack-tags",
        "Every AWS provider (the DR region's too) carries the stack's default tags.",
        MANDATORY,
        ["tagging"],
        _provider_tags,
    ),
]
