"""Rules for messaging, secrets, KMS, logs, ECR, and the governance rules (analytics: test_analytics_rules.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.policies.cases import Case, check
from tests.policies.helpers import R, provider, violations

P = provider("prod")
D = provider("dev")
KEY = "arn:aws:kms:us-east-2:123456789012:key/1234abcd"


def key(**changes: Any) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "enableKeyRotation": True,
        "deletionWindowInDays": 30,
        "policy": json.dumps({"Statement": []}),
    }
    inputs.update(changes)
    return R("aws:kms/key:Key", "data-key", {k: v for k, v in inputs.items() if v is not None})


def repo(lifecycle: bool = True, **changes: Any) -> list[dict[str, Any]]:
    inputs: dict[str, Any] = {
        "name": "orders",
        "imageTagMutability": "IMMUTABLE",
        "imageScanningConfiguration": {"scanOnPush": True},
        "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY}],
    }
    inputs.update(changes)
    r = R("aws:ecr/repository:Repository", "orders-repo", {k: v for k, v in inputs.items() if v is not None})
    out = [P, r]
    if lifecycle:
        out.append(
            R(
                "aws:ecr/lifecyclePolicy:LifecyclePolicy",
                "orders-repo-lifecycle",
                {"repository": "orders", "policy": "{}"},
                deps={"repository": [r]},
            )
        )
    return out


QUEUE = R(
    "aws:sqs/queue:Queue",
    "orders-queue",
    {
        "kmsMasterKeyId": KEY,
        "redrivePolicy": json.dumps(
            {"deadLetterTargetArn": "arn:aws:sqs:us-east-2:123456789012:orders-dlq", "maxReceiveCount": 5}
        ),
    },
)
DLQ = R("aws:sqs/queue:Queue", "orders-dlq", {"kmsMasterKeyId": KEY})


def instance_types(p: dict[str, Any], type_: str, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    return [p, R(type_, "sized", inputs, custom=type_.startswith("aws:"))]


def workload_tags(tags: dict[str, str] | None, p: dict[str, Any] = P) -> list[dict[str, Any]]:
    inputs: dict[str, Any] = {} if tags is None else {"tags": tags}
    return [p, R("aws:sqs/queue:Queue", "tagged", inputs)]


CASES = [
    Case(
        "messaging-kms",
        "queue with sqs-managed sse",
        [P, R("aws:sqs/queue:Queue", "q", {"sqsManagedSseEnabled": True})],
        True,
        "kmsMasterKeyId",
    ),
    Case(
        "messaging-kms",
        "topic with aws/sns",
        [P, R("aws:sns/topic:Topic", "t", {"kmsMasterKeyId": "alias/aws/sns"})],
        True,
        "kmsMasterKeyId",
    ),
    Case(
        "messaging-kms",
        "secret without key",
        [P, R("aws:secretsmanager/secret:Secret", "s", {"description": "x"})],
        True,
        "kmsKeyId",
    ),
    Case("messaging-kms", "queue with cmk", [P, QUEUE], False),
    Case("messaging-kms", "missing everything", [P, R("aws:sns/topic:Topic", "bare", {})], True),
    Case(
        "sqs-dlq",
        "queue without dlq",
        [P, R("aws:sqs/queue:Queue", "work", {"kmsMasterKeyId": KEY})],
        True,
        "redrivePolicy",
    ),
    Case("sqs-dlq", "queue with dlq", [P, QUEUE, DLQ], False),
    Case("sqs-dlq", "missing everything", [P, R("aws:sqs/queue:Queue", "bare", {})], True),
    Case(
        "secrets-rotation",
        "db secret not rotated",
        [P, R("aws:secretsmanager/secret:Secret", "orders-db-credentials", {"kmsKeyId": KEY})],
        True,
        "rotation",
    ),
    Case(
        "secrets-rotation",
        "stripe key undocumented",
        [P, R("aws:secretsmanager/secret:Secret", "stripe-api-key", {"kmsKeyId": KEY})],
        True,
        "description",
    ),
    Case(
        "secrets-rotation",
        "db secret rotated",
        [
            P,
            (s := R("aws:secretsmanager/secret:Secret", "orders-db-credentials", {"kmsKeyId": KEY})),
            R(
                "aws:secretsmanager/secretRotation:SecretRotation",
                "rot",
                {"secretId": "arn"},
                deps={"secretId": [s]},
            ),
        ],
        False,
    ),
    Case(
        "secrets-rotation",
        "stripe key documented",
        [
            P,
            R(
                "aws:secretsmanager/secret:Secret",
                "stripe-api-key",
                {
                    "description": "Rotated by hand from the Stripe dashboard every 90 days (runbook payments/rotate-key)."
                },
            ),
        ],
        False,
    ),
    Case(
        "secrets-rotation", "missing everything", [P, R("aws:secretsmanager/secret:Secret", "bare", {})], True
    ),
    Case("kms-hygiene", "no rotation", [P, key(enableKeyRotation=False)], True, "enableKeyRotation"),
    Case("kms-hygiene", "no key policy", [P, key(policy=None)], True, "policy"),
    Case("kms-hygiene", "compliant", [P, key()], False),
    Case(
        "kms-hygiene",
        "separate key policy",
        [
            P,
            (k := key(policy=None)),
            R("aws:kms/keyPolicy:KeyPolicy", "kp", {"keyId": "k", "policy": "{}"}, deps={"keyId": [k]}),
        ],
        False,
    ),
    Case("kms-hygiene", "missing everything", [P, R("aws:kms/key:Key", "bare", {})], True),
    Case(
        "log-group-kms-retention",
        "never expires",
        [P, R("aws:cloudwatch/logGroup:LogGroup", "lg", {"kmsKeyId": KEY})],
        True,
        "retentionInDays",
    ),
    Case(
        "log-group-kms-retention",
        "no key",
        [P, R("aws:cloudwatch/logGroup:LogGroup", "lg", {"retentionInDays": 30})],
        True,
        "kmsKeyId",
    ),
    Case(
        "log-group-kms-retention",
        "compliant",
        [P, R("aws:cloudwatch/logGroup:LogGroup", "lg", {"retentionInDays": 365, "kmsKeyId": KEY})],
        False,
    ),
    Case(
        "log-group-kms-retention",
        "missing everything",
        [P, R("aws:cloudwatch/logGroup:LogGroup", "bare", {})],
        True,
    ),
    Case("ecr-hardening", "mutable tags", repo(imageTagMutability="MUTABLE"), True, "imageTagMutability"),
    Case(
        "ecr-hardening",
        "no scanning",
        repo(imageScanningConfiguration={"scanOnPush": False}),
        True,
        "scanOnPush",
    ),
    Case(
        "ecr-hardening",
        "aes256",
        repo(encryptionConfigurations=[{"encryptionType": "AES256"}]),
        True,
        "encryptionType",
    ),
    Case("ecr-hardening", "no lifecycle", repo(lifecycle=False), True, "lifecycle"),
    Case("ecr-hardening", "compliant", repo(), False),
    Case("ecr-hardening", "missing everything", [P, R("aws:ecr/repository:Repository", "bare", {})], True),
    # governance
    Case(
        "stateful-protected",
        "unprotected table in prod",
        [P, R("aws:dynamodb/table:Table", "products", {})],
        True,
        "protect",
    ),
    Case(
        "stateful-protected",
        "protected table",
        [P, R("aws:dynamodb/table:Table", "products", {}, protect=True)],
        False,
    ),
    Case(
        "stateful-protected",
        "dev needs no protect",
        [D, R("aws:dynamodb/table:Table", "products", {})],
        False,
    ),
    Case("stateful-protected", "missing everything", [P, R("aws:kms/key:Key", "bare", {})], True),
    Case("required-tags", "no component tag", workload_tags({"Name": "tagged"}), True, "Component"),
    Case(
        "required-tags",
        "provider defaults plus component",
        workload_tags({"Name": "tagged", "Component": "data"}),
        False,
    ),
    Case(
        "required-tags",
        "provider without defaults",
        workload_tags({"Component": "data"}, provider("prod", tags={})),
        True,
        "Project",
    ),
    Case("required-tags", "missing tags", workload_tags(None), True, "tags"),
    Case(
        "required-tags",
        "config: fewer tags",
        workload_tags({"Name": "x"}),
        False,
        config={"requiredTags": ["Project"]},
    ),
    Case(
        "allowed-instance-types",
        "m5.24xlarge nodes in prod",
        instance_types(P, "eks:index:ManagedNodeGroup", {"instanceTypes": ["m5.24xlarge"]}),
        True,
        "instanceTypes[0]",
    ),
    Case(
        "allowed-instance-types",
        "t3.medium nodes in dev is allowed",
        instance_types(D, "eks:index:ManagedNodeGroup", {"instanceTypes": ["t3.medium"]}),
        False,
    ),
    Case(
        "allowed-instance-types",
        "t3.micro nodes in prod",
        instance_types(P, "aws:eks/nodeGroup:NodeGroup", {"instanceTypes": ["t3.micro"]}),
        True,
        "instanceTypes[0]",
    ),
    Case(
        "allowed-instance-types",
        "db.r6g.large in prod",
        instance_types(P, "aws:rds/clusterInstance:ClusterInstance", {"instanceClass": "db.r6g.large"}),
        False,
    ),
    Case(
        "allowed-instance-types",
        "db.r6g.large in dev",
        instance_types(D, "aws:rds/clusterInstance:ClusterInstance", {"instanceClass": "db.r6g.large"}),
        True,
        "instanceClass",
    ),
    Case(
        "allowed-instance-types",
        "missing type",
        instance_types(P, "aws:rds/clusterInstance:ClusterInstance", {}),
        False,
    ),
    Case(
        "allowed-instance-types",
        "config allows it",
        instance_types(P, "aws:eks/nodeGroup:NodeGroup", {"instanceTypes": ["c7g.large"]}),
        False,
        config={"allowedInstanceTypes": {"prod": ["c7g.*"]}},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case) -> None:
    check(case)


def test_environment_can_be_forced_by_config() -> None:
    resources = [D, R("aws:dynamodb/table:Table", "products", {})]
    assert not violations("stateful-protected", resources)
    assert violations("stateful-protected", resources, config={"environment": "prod"})
