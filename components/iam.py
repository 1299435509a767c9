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


def caller(parent: pulumi.Resource) -> tuple[pulumi.Output[str], pulumi.Output[str], pulumi.Output[str]]:
    """(account id, partition, region) of `parent`'s provider."""
    opts = pulumi.InvokeOutputOptions(parent=parent)
    identity = aws.get_caller_identity_output(opts=opts)
    partition = aws.get_partition_output(opts=opts)
    region = aws.get_region_output(opts=opts)
    return identity.account_id, partition.partition, region.region
