"""Observability rules: every alarm has its actions (ALARM and OK), and the topic it notifies is encrypted with a
key CloudWatch may use."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.policies.cases import Case, check
from tests.policies.helpers import R, provider

P = provider("prod")
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
TOPIC_ARN = "arn:aws:sns:us-east-2:123456789012:ecommerce-prod-alarms"
KEY_ARN = "arn:aws:kms:us-east-2:123456789012:key/1234abcd"
CLOUDWATCH_STATEMENT = {
    "Effect": "Allow",
    "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
    "Resource": "*",
    "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
}


def alarm(type_: str = ALARM, **changes: Any) -> dict[str, Any]:
    inputs: dict[str, Any] = {"actionsEnabled": True, "alarmActions": [TOPIC_ARN], "okActions": [TOPIC_ARN]}
    inputs.update(changes)
    return R(type_, "shop-down", {k: v for k, v in inputs.items() if v is not None})


def notified(
    key_statements: list[dict[str, Any]] | None, topic_key: str | None = KEY_ARN
) -> list[dict[str, Any]]:
    """A key, a topic encrypted with it, and an alarm notifying the topic (joined by property dependencies)."""
    key = R("aws:kms/key:Key", "alarms-key", {"policy": json.dumps({"Statement": key_statements or []})})
    topic_inputs = {"name": "ecommerce-prod-alarms"} | ({"kmsMasterKeyId": topic_key} if topic_key else {})
    topic = R(
        "aws:sns/topic:Topic", "alarms", topic_inputs, deps={"kmsMasterKeyId": [key]} if topic_key else None
    )
    a = R(
        ALARM,
        "cpu",
        {"alarmActions": [TOPIC_ARN], "okActions": [TOPIC_ARN]},
        deps={"alarmActions": [topic], "okActions": [topic]},
    )
    return [P, key, topic, a]


CASES = [
    Case("alarm-has-action", "compliant", [P, alarm()], False),
    Case("alarm-has-action", "compliant composite", [P, alarm(COMPOSITE)], False),
    Case("alarm-has-action", "actions disabled", [P, alarm(actionsEnabled=False)], True, "actionsEnabled"),
    Case("alarm-has-action", "no OK action", [P, alarm(okActions=[])], True, "okActions"),
    Case(
        "alarm-has-action",
        "composite without ALARM action",
        [P, alarm(COMPOSITE, alarmActions=[])],
        True,
        "alarmActions",
    ),
    Case("alarm-has-action", "missing actions", [P, R(ALARM, "bare", {})], True, "alarmActions"),
    Case("alarm-topic-encrypted", "compliant", notified([CLOUDWATCH_STATEMENT]), False),
    Case(
        "alarm-topic-encrypted",
        "topic without a key",
        notified([CLOUDWATCH_STATEMENT], None),
        True,
        "kmsMasterKeyId",
    ),
    Case(
        "alarm-topic-encrypted",
        "AWS-managed SNS key",
        notified([CLOUDWATCH_STATEMENT], "alias/aws/sns"),
        True,
        "AWS-managed",
    ),
    Case(
        "alarm-topic-encrypted",
        "missing CloudWatch grant in the key policy",
        notified([]),
        True,
        "cloudwatch.amazonaws.com",
    ),
    Case(
        "alarm-topic-encrypted",
        "grant without GenerateDataKey",
        notified([{**CLOUDWATCH_STATEMENT, "Action": "kms:Decrypt"}]),
        True,
        "GenerateDataKey",
    ),
    Case(
        "alarm-topic-encrypted",
        "a topic no alarm notifies is not this rule's",
        [P, R("aws:sns/topic:Topic", "orders", {"name": "orders"})],
        False,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case) -> None:
    check(case)
