"""IAM and KMS helpers shared by the components: policy documents, trust policies and key policies.

Policy documents are rendered by the AWS provider's `iam.get_policy_document` invoke (offline: by the mocks, to the
same JSON), called with `parent=` so it follows the component's provider. Statements are plain dicts in the
invoke's own shape (`actions`, `resources`, `principals`, `conditions`), so a reader sees the policy as written.
Every statement names its actions and resources; a `"*"` resource needs a `why` next to it at the call site.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pulumi
import pulumi_aws as aws

Statement = dict[str, Any]


def policy_json(parent: pulumi.Resource, statements: Sequence[Statement]) -> pulumi.Output[str]:
    """Render statements to a policy JSON string through the provider of `parent`."""
    # Plain dicts with GetPolicyDocumentStatementArgsDict's keys; the SDK sends them as the invoke's arguments.
    doc = aws.iam.get_policy_document_output(
        statements=cast(Any, list(statements)), opts=pulumi.InvokeOutputOptions(parent=parent)
    )
    return doc.json


def allow(actions: Sequence[str], resources: Sequence[pulumi.Input[str]], **extra: Any) -> Statement:
    """An Allow statement for the given actions on the given resources."""
    return {"effect": "Allow", "actions": list(actions), "resources": list(resources), **extra}


def condition(test: str, variable: pulumi.Input[str], *values: pulumi.Input[str]) -> dict[str, Any]:
    return {"test": test, "variable": variable, "values": list(values)}


def aws_managed_policy(partition: pulumi.Input[str], name: str) -> pulumi.Output[str]:
    """The ARN of AWS's managed policy `name`, its path included (`service-role/AWSBackupServiceRolePolicyForBackup`,
    `job-function/ViewOnlyAccess`, `AmazonEKSClusterPolicy`)."""
    return pulumi.Output.format("arn:{0}:iam::aws:policy/{1}", partition, name)


def service_trust(
    parent: pulumi.Resource,
    service: str,
    *,
    account_id: pulumi.Input[str],
    source_arn: pulumi.Input[str] | None = None,
) -> pulumi.Output[str]:
    """Trust policy letting one AWS service assume a role, bound to our account (confused-deputy guard)."""
    conditions = [condition("StringEquals", "aws:SourceAccount", account_id)]
    if source_arn is not None:
        conditions.append(condition("ArnLike", "aws:SourceArn", source_arn))
    return policy_json(
        parent,
        [
            {
                "effect": "Allow",
                "actions": ["sts:AssumeRole"],
                "principals": [{"type": "Service", "identifiers": [service]}],
                "conditions": conditions,
            }
        ],
    )


def key_policy(
    parent: pulumi.Resource,
    *,
    account_id: pulumi.Input[str],
    partition: pulumi.Input[str] = "aws",
    service_statements: Sequence[Statement] = (),
) -> pulumi.Output[str]:
    """A KMS key policy: the account administers the key through IAM, plus the named service grants.

    The account-root statement is the AWS default key policy; without it no IAM policy could grant use of the key
    and the key would become unmanageable. Services that encrypt on our behalf are added by the caller, each bound
    to our account or resource by conditions.
    """
    root = pulumi.Output.format("arn:{0}:iam::{1}:root", partition, account_id)
    return policy_json(
        parent,
        [
            {
                "sid": "AccountAdministersKeyThroughIam",
                "effect": "Allow",
                "principals": [{"type": "AWS", "identifiers": [root]}],
                # kms:* on the key itself ("*" in a key policy means this key): the AWS default statement.
                "actions": ["kms:*"],
                "resources": ["*"],
            },
            *service_statements,
        ],
    )


#: What CloudWatch Logs needs on a key to encrypt a log group with it.
LOGS_KEY_ACTIONS = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]


def logs_may_use_key(
    sid: str, region: pulumi.Input[str], test: str, *log_group_arns: pulumi.Input[str]
) -> Statement:
    """Key-policy statement: CloudWatch Logs of `region` may use the key, for the named log groups only.

    CloudWatch Logs encrypts as itself (not through the caller's grants), so the key policy must name it; the
    encryption-context condition binds it to our log groups (`ArnEquals` for one, `ArnLike` for a pattern).
    """
    return {
        "sid": sid,
        "effect": "Allow",
        "principals": [
            {"type": "Service", "identifiers": [pulumi.Output.concat("logs.", region, ".amazonaws.com")]}
        ],
        "actions": LOGS_KEY_ACTIONS,
        "resources": ["*"],  # in a key policy "*" is this key
        "conditions": [condition(test, "kms:EncryptionContext:aws:logs:arn", *log_group_arns)],
    }


def sns_may_use_key(account_id: pulumi.Input[str]) -> Statement:
    """Key-policy statement: SNS may use the key of the queues it delivers to, for this account's topics only.

    SNS delivers into an encrypted queue (and, through a subscription's redrive policy, its DLQ) as itself, so it
    needs a data key from the queue's key: the key policy must name it with kms:GenerateDataKey and kms:Decrypt
    (SQS developer guide, "Amazon SQS key management", enabling compatibility between AWS services and encrypted
    queues).
    """
    return {
        "sid": "SnsDeliversToEncryptedQueues",
        "effect": "Allow",
        "principals": [{"type": "Service", "identifiers": ["sns.amazonaws.com"]}],
        "actions": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "resources": ["*"],  # in a key policy "*" is this key
        "conditions": [condition("StringEquals", "aws:SourceAccount", account_id)],
    }


def auto_scaling_volume_statements(
    account_id: pulumi.Input[str], partition: pulumi.Input[str]
) -> list[Statement]:
    """Key-policy statements letting EC2 Auto Scaling use the key for the managed nodes' encrypted volumes.

    Auto Scaling launches the nodes as its service-linked role, so the key policy must let that role use the key and
    create grants for the volumes (EC2 Auto Scaling, "Required AWS KMS key policy for use with encrypted volumes").
    The role is matched by `aws:PrincipalArn`, not named as the principal: KMS rejects a key policy naming a
    principal that does not exist (MalformedPolicyDocumentException), and a fresh account gets
    AWSServiceRoleForAutoScaling only with its first Auto Scaling group — the node group's, after this key.
    """
    the_role = [
        condition("StringEquals", "kms:CallerAccount", account_id),
        condition(
            "ArnEquals",
            "aws:PrincipalArn",
            pulumi.Output.format(
                "arn:{0}:iam::{1}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
                partition,
                account_id,
            ),
        ),
    ]
    anyone: list[dict[str, Any]] = [{"type": "AWS", "identifiers": ["*"]}]
    return [
        {
            "sid": "AutoScalingEncryptsNodeVolumes",
            "effect": "Allow",
            "principals": anyone,
            "actions": [
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:DescribeKey",
            ],
            "resources": ["*"],  # in a key policy "*" means this key
            "conditions": the_role,
        },
        {
            "sid": "AutoScalingAttachesNodeVolumes",
            "effect": "Allow",
            "principals": anyone,
            "actions": ["kms:CreateGrant"],
            "resources": ["*"],
            # Grants only for AWS resources (the EBS volumes), as AWS's key-policy example has it.
            "conditions": [*the_role, condition("Bool", "kms:GrantIsForAWSResource", "true")],
        },
    ]


def customer_key(
    parent: pulumi.Resource,
    resource_name: str,
    *,
    description: str,
    account_id: pulumi.Input[str],
    partition: pulumi.Input[str],
    service_statements: Sequence[Statement] = (),
    deletion_window_days: int = 30,
    region: str | None = None,
    tags: dict[str, str] | None = None,
    opts: pulumi.ResourceOptions,
) -> aws.kms.Key:
    """A customer-managed KMS key: rotation on, a key policy (`key_policy`) with the given service statements.

    One place for the invariants every key of the platform keeps; `region` places it elsewhere than the provider's
    region (a key must live in the region of what it encrypts).
    """
    return aws.kms.Key(
        resource_name,
        description=description,
        region=region,
        enable_key_rotation=True,
        deletion_window_in_days=deletion_window_days,
        policy=key_policy(
            parent, account_id=account_id, partition=partition, service_statements=service_statements
        ),
        tags=tags,
        opts=opts,
    )


def caller(parent: pulumi.Resource) -> tuple[pulumi.Output[str], pulumi.Output[str], pulumi.Output[str]]:
    """(account id, partition, region) of `parent`'s provider."""
    opts = pulumi.InvokeOutputOptions(parent=parent)
    identity = aws.get_caller_identity_output(opts=opts)
    partition = aws.get_partition_output(opts=opts)
    region = aws.get_region_output(opts=opts)
    return identity.account_id, partition.partition, region.region
