"""Rules for the DR region (policies/ecommerce_guard/dr.py): replicas keyed and protected, data buckets replicated,
every AWS provider with the stack's tags — each with a violating, a compliant and a missing-property case."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.policies.cases import Case, check
from tests.policies.helpers import R, provider, urn_of

P = provider("prod")
D = provider("dev", stack="prod")
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd"
TABLE = "arn:aws:dynamodb:us-east-2:123456789012:table/ecommerce-prod-products"
REPLICA = "aws:dynamodb/tableReplica:TableReplica"
RCONF = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
BUCKET = "aws:s3/bucket:Bucket"
TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"

GOOD_REPLICA = {"globalTableArn": TABLE, "kmsKeyArn": KEY, "pointInTimeRecovery": True,
                "deletionProtectionEnabled": True}  # fmt: skip


def table_replica(protect: bool = True, **changes: Any) -> dict[str, Any]:
    inputs = {k: v for k, v in {**GOOD_REPLICA, **changes}.items() if v is not None}
    return R(REPLICA, "products-replica", inputs, protect=protect)


def bucket(name: str, *, data: bool = True, protect: bool = True) -> dict[str, Any]:
    tags = {"Name": name, "Component": "edge", **({"DataClass": "public-content"} if data else {})}
    return R(BUCKET, name, {"bucket": name, "tags": tags}, protect=protect,
             outputs={"arn": f"arn:aws:s3:::{name}", "bucket": name})  # fmt: skip


def rule(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "to-us-east-1", "status": "Enabled", "priority": 1, "filter": {"prefix": ""},
        "deleteMarkerReplication": {"status": "Enabled"},
        "sourceSelectionCriteria": {"sseKmsEncryptedObjects": {"status": "Enabled"}},
        "destination": {"bucket": "arn:aws:s3:::site-replica", "encryptionConfiguration": {"replicaKmsKeyId": KEY}},
    }  # fmt: skip
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def replication(source: dict[str, Any], *rules: dict[str, Any]) -> dict[str, Any]:
    return R(RCONF, f"{source['name']}-replication", {"bucket": source["inputs"]["bucket"], "role": "r",
             "rules": list(rules) or [rule()]}, deps={"bucket": [source]})  # fmt: skip


def template(**enc: Any) -> dict[str, Any]:
    cfg = {k: v for k, v in {"encryptionType": "KMS", "kmsKey": KEY, **enc}.items() if v is not None}
    return R(TEMPLATE, "ecr-replicas", {"prefix": "ecommerce-prod", "appliedFors": ["REPLICATION"],
             "encryptionConfigurations": [cfg]})  # fmt: skip


def dr_provider(tags: dict[str, str] | None = None) -> dict[str, Any]:
    base = json.loads(P["inputs"]["defaultTags"])["tags"]
    return {**P, "urn": urn_of("ecommerce:dr:DisasterRecovery$pulumi:providers:aws", "ecommerce-dr-us-east-1"),
            "name": "ecommerce-dr-us-east-1", "parent": urn_of("ecommerce:dr:DisasterRecovery", "ecommerce-dr"),
            "inputs": {"region": "us-east-1", "defaultTags": json.dumps({"tags": base if tags is None else tags})}}  # fmt: skip


def backup(dr_key: str | None) -> list[dict[str, Any]]:
    primary = R(
        "aws:backup/vault:Vault",
        "primary-backups",
        {"name": "ecommerce-prod-backups"},
        outputs={"arn": "arn:aws:backup:us-east-2:123456789012:backup-vault:ecommerce-prod-backups"},
    )
    copy = R(
        "aws:backup/vault:Vault",
        "dr-backups",
        {"name": "ecommerce-prod-dr-backups", **({"kmsKeyArn": dr_key} if dr_key else {})},
        outputs={"arn": "arn:aws:backup:us-east-1:123456789012:backup-vault:ecommerce-prod-dr-backups"},
    )
    rules = [
        {
            "ruleName": "daily",
            "targetVaultName": "ecommerce-prod-backups",
            "copyActions": [{"destinationVaultArn": copy["outputs"]["arn"]}],
        }
    ]
    return [
        primary,
        copy,
        R("aws:backup/plan:Plan", "aurora", {"rules": rules}, deps={"rules": [primary, copy]}),
    ]


GOOD_SECONDARY = {"clusterIdentifier": "ecommerce-prod-aurora-us-east-1", "engine": "aurora-postgresql",
                  "globalClusterIdentifier": "ecommerce-prod-aurora-global", "storageEncrypted": True,
                  "kmsKeyId": KEY, "deletionProtection": True}  # fmt: skip


def secondary(protect: bool = True, ignore: tuple[str, ...] = ("replicationSourceIdentifier",),
              **changes: Any) -> dict[str, Any]:  # fmt: skip
    inputs = {k: v for k, v in {**GOOD_SECONDARY, **changes}.items() if v is not None}
    record = R("aws:rds/cluster:Cluster", "ecommerce-dr-aurora", inputs, protect=protect)
    record["ignoreChanges"] = list(ignore)
    return record


def secret(*replicas: dict[str, Any]) -> dict[str, Any]:
    return R("aws:secretsmanager/secret:Secret", "stripe", {"name": "ecommerce/prod/payment/stripe-api-key",
             "kmsKeyId": "arn:aws:kms:us-east-2:123456789012:key/abcd", "replicas": list(replicas)})  # fmt: skip


DR_COMPONENT = R("ecommerce:dr:DisasterRecovery", "ecommerce-dr", {}, custom=False)
SITE, REPLICA_BUCKET = bucket("site"), bucket("site-replica", data=False)
REPLICA_UNPROTECTED = bucket("site-replica", data=False, protect=False)

CASES: list[Case] = [
    # -- dr-replica-encrypted-protected ---------------------------------------------------------------------------
    Case("dr-replica-encrypted-protected", "table replica without its own key", [P, table_replica(kmsKeyArn=None)],
         True, "kmsKeyArn"),
    Case("dr-replica-encrypted-protected", "table replica with the AWS-managed key",
         [P, table_replica(kmsKeyArn="alias/aws/dynamodb")], True, "kmsKeyArn"),
    Case("dr-replica-encrypted-protected", "table replica without PITR", [P, table_replica(pointInTimeRecovery=False)],
         True, "pointInTimeRecovery"),
    Case("dr-replica-encrypted-protected", "table replica, deletion protection missing",
         [P, table_replica(deletionProtectionEnabled=None)], True, "deletionProtectionEnabled"),
    Case("dr-replica-encrypted-protected", "table replica not protect=True", [P, table_replica(protect=False)],
         True, "protect"),
    Case("dr-replica-encrypted-protected", "compliant table replica", [P, table_replica()], False),
    Case("dr-replica-encrypted-protected", "dev: the rule is prod's", [D, table_replica(kmsKeyArn=None)], False),
    Case("dr-replica-encrypted-protected", "replication rule without a replica key",
         [P, SITE, REPLICA_BUCKET, replication(SITE, rule(destination={"bucket": "arn:aws:s3:::site-replica"}))],
         True, "replicaKmsKeyId"),
    Case("dr-replica-encrypted-protected", "replica bucket not protected",
         [P, SITE, REPLICA_UNPROTECTED, replication(SITE)], True, "protect"),
    Case("dr-replica-encrypted-protected", "compliant replication", [P, SITE, REPLICA_BUCKET, replication(SITE)],
         False),
    Case("dr-replica-encrypted-protected", "ECR replicas with AES256", [P, template(encryptionType="AES256")],
         True, "encryptionConfigurations"),
    Case("dr-replica-encrypted-protected", "ECR replicas, KMS key missing", [P, template(kmsKey=None)], True,
         "encryptionConfigurations"),
    Case("dr-replica-encrypted-protected", "compliant ECR template", [P, template()], False),
    Case("dr-replica-encrypted-protected", "copy vault key missing", [P, *backup(None)], True, "kmsKeyArn"),
    Case("dr-replica-encrypted-protected", "copy vault with its own key", [P, *backup(KEY)], False),
    Case("dr-replica-encrypted-protected", "Aurora secondary without its own key", [P, secondary(kmsKeyId=None)],
         True, "kmsKeyId"),
    Case("dr-replica-encrypted-protected", "Aurora secondary with the AWS-managed key",
         [P, secondary(kmsKeyId="alias/aws/rds")], True, "kmsKeyId"),
    Case("dr-replica-encrypted-protected", "Aurora secondary unencrypted", [P, secondary(storageEncrypted=False)],
         True, "storageEncrypted"),
    Case("dr-replica-encrypted-protected", "Aurora secondary, deletion protection missing",
         [P, secondary(deletionProtection=None)], True, "deletionProtection"),
    Case("dr-replica-encrypted-protected", "Aurora secondary not protect=True", [P, secondary(protect=False)],
         True, "protect"),
    Case("dr-replica-encrypted-protected", "Aurora secondary that a later up would detach", [P, secondary(ignore=())],
         True, "replicationSourceIdentifier"),
    Case("dr-replica-encrypted-protected", "compliant Aurora secondary", [P, secondary()], False),
    Case("dr-replica-encrypted-protected", "a global primary is not a secondary",
         [P, secondary(masterUsername="admin", kmsKeyId=None, ignore=())], False),
    Case("dr-replica-encrypted-protected", "dev: the secondary rule is prod's",
         [D, secondary(kmsKeyId=None, deletionProtection=False, protect=False)], False),
    Case("dr-replica-encrypted-protected", "secret replica with the default key", [P, secret({"region": "us-east-1"})],
         True, "replicas[0].kmsKeyId"),
    Case("dr-replica-encrypted-protected", "secret replica with aws/secretsmanager",
         [P, secret({"region": "us-east-1", "kmsKeyId": "alias/aws/secretsmanager"})], True, "replicas[0].kmsKeyId"),
    Case("dr-replica-encrypted-protected", "compliant secret replica", [P, secret({"region": "us-east-1",
         "kmsKeyId": KEY})], False),
    Case("dr-replica-encrypted-protected", "a secret without replicas", [P, secret()], False),
    # -- dr-replication-covers-data-buckets -----------------------------------------------------------------------
    Case("dr-replication-covers-data-buckets", "DR on, data bucket not replicated", [P, DR_COMPONENT, SITE], True,
         "replication"),
    Case("dr-replication-covers-data-buckets", "only a prefix replicates",
         [P, DR_COMPONENT, SITE, replication(SITE, rule(filter={"prefix": "assets/"}))], True, "replication"),
    Case("dr-replication-covers-data-buckets", "SSE-KMS selection missing",
         [P, DR_COMPONENT, SITE, replication(SITE, rule(sourceSelectionCriteria=None))], True,
         "sseKmsEncryptedObjects"),
    Case("dr-replication-covers-data-buckets", "delete markers not replicated",
         [P, DR_COMPONENT, SITE, replication(SITE, rule(deleteMarkerReplication={"status": "Disabled"}))], True,
         "deleteMarkerReplication"),
    Case("dr-replication-covers-data-buckets", "compliant", [P, DR_COMPONENT, SITE, replication(SITE)], False),
    Case("dr-replication-covers-data-buckets", "DR off: nothing asked", [P, SITE], False),
    Case("dr-replication-covers-data-buckets", "a bucket without DataClass need not replicate",
         [P, DR_COMPONENT, bucket("other", data=False)], False),
    Case("dr-replication-covers-data-buckets", "access logs (DataClass logs) need not replicate",
         [P, DR_COMPONENT, R(BUCKET, "logs", {"bucket": "logs", "tags": {"DataClass": "logs"}})], False),
    # -- dr-provider-stack-tags -----------------------------------------------------------------------------------
    Case("dr-provider-stack-tags", "DR provider without default tags", [P, dr_provider({})], True, "defaultTags"),
    Case("dr-provider-stack-tags", "DR provider with another CostCenter",
         [P, dr_provider({**json.loads(P["inputs"]["defaultTags"])["tags"], "CostCenter": "other"})], True,
         "CostCenter"),
    Case("dr-provider-stack-tags", "DR provider: ManagedBy missing",
         [P, dr_provider({k: v for k, v in json.loads(P["inputs"]["defaultTags"])["tags"].items()
                          if k != "ManagedBy"})], True, "ManagedBy"),
    Case("dr-provider-stack-tags", "compliant", [P, dr_provider()], False),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_dr_rule(case: Case) -> None:
    check(case)
