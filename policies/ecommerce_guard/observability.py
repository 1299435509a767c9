"""Observability rules: every alarm tells someone, and the topic it tells can be published to.

- `alarm-has-action`: a metric or composite alarm with its actions disabled, or without an ALARM or an OK action,
  changes state in silence (AWS Config `cloudwatch-alarm-action-check`, `cloudwatch-alarm-action-enabled-check`).
- `alarm-topic-encrypted`: an SNS topic an alarm notifies is encrypted with a customer-managed key whose policy
  lets `cloudwatch.amazonaws.com` use it (kms:Decrypt and kms:GenerateDataKey*). CloudWatch publishes to an
  encrypted topic only with those on the key, and the AWS-managed `alias/aws/sns` key's policy cannot grant them
  (SNS developer guide, "Enable compatibility between event sources from AWS services and encrypted topics"):
  such an alarm deploys cleanly and never delivers.
"""

from __future__ import annotations

from .common import (
    MANDATORY,
    UNKNOWN,
    Context,
    Raw,
    Res,
    Stack,
    action_matches,
    as_list,
    cmk_problem,
    is_false,
    referenced,
    resource_policy,
    stack_policy,
    statements,
)

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
ALARM_TYPES = (METRIC_ALARM, COMPOSITE_ALARM)
TOPIC = "aws:sns/topic:Topic"
KMS_KEY = "aws:kms/key:Key"
CLOUDWATCH = "cloudwatch.amazonaws.com"
#: What CloudWatch needs on the key of an encrypted topic it publishes to.
CLOUDWATCH_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


def _alarm_actions(res: Res, ctx: Context) -> None:
    if is_false(res.p("actionsEnabled")):
        ctx.violation(
            res, "actionsEnabled", False, "enable the alarm's actions; a silent alarm tells no one."
        )
    for prop, state in (("alarmActions", "ALARM"), ("okActions", "OK")):
        value = res.p(prop)
        if value is UNKNOWN:
            continue
        if not [a for a in as_list(value) if a]:
            ctx.violation(
                res,
                prop,
                value,
                f"send {state} to the alarm topic (alarmActions and okActions), so whoever is paged also hears "
                "when it is over.",
            )


def _grants_cloudwatch(key: Res) -> bool:
    policy = key.p("policy")
    if policy is UNKNOWN:
        return True
    granted: set[str] = set()
    for st in statements(policy) or []:
        if st.allow and CLOUDWATCH in st.principals:
            granted |= {a for a in CLOUDWATCH_KEY_ACTIONS if any(action_matches(p, a) for p in st.actions)}
    return granted == set(CLOUDWATCH_KEY_ACTIONS)


def _alarm_topics(stack: Stack, ctx: Context) -> None:
    topics = stack.of_type(TOPIC)
    by_arn = {t.p("arn"): t for t in topics if isinstance(t.p("arn"), str)}
    notified: dict[str, Res] = {}
    for alarm in stack.of_type(*ALARM_TYPES):
        for prop in ("alarmActions", "okActions"):
            for topic in referenced(stack, alarm, prop, (TOPIC,)):
                notified[topic.urn] = topic
            for arn in as_list(alarm.p(prop)):
                if isinstance(arn, str) and arn in by_arn:
                    notified[by_arn[arn].urn] = by_arn[arn]
    for topic in notified.values():
        key_ref = topic.p("kmsMasterKeyId")
        problem = cmk_problem(key_ref)
        if problem:
            ctx.violation(
                topic,
                "kmsMasterKeyId",
                Raw(f"{key_ref!r} ({problem})" if key_ref else problem),
                "encrypt the alarm topic with a customer-managed key whose policy lets cloudwatch.amazonaws.com "
                "use it (the AWS-managed SNS key cannot).",
            )
            continue
        keys = referenced(stack, topic, "kmsMasterKeyId", (KMS_KEY,)) or [
            k for k in stack.of_type(KMS_KEY) if key_ref in (k.p("arn"), k.p("keyId"), k.p("id"))
        ]
        for key in keys:
            if not _grants_cloudwatch(key):
                ctx.violation(
                    key,
                    "policy",
                    Raw(
                        f"no statement lets {CLOUDWATCH} kms:Decrypt and kms:GenerateDataKey* (it encrypts the "
                        f"alarm topic {topic.name})"
                    ),
                    f"add a key-policy statement for {CLOUDWATCH} with those two actions, bound by aws:SourceAccount "
                    "and aws:SourceArn to the stack's alarms.",
                )


POLICIES = [
    resource_policy(
        "alarm-has-action",
        "CloudWatch alarms have their actions enabled and send both ALARM and OK somewhere.",
        MANDATORY,
        ["awsguard:cloudwatch-alarm-action-check"],
        ALARM_TYPES,
        _alarm_actions,
    ),
    stack_policy(
        "alarm-topic-encrypted",
        "SNS topics that alarms notify use a customer-managed key CloudWatch may use (Decrypt, GenerateDataKey*).",
        MANDATORY,
        ["SNS.1"],
        _alarm_topics,
    ),
]
