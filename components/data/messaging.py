"""SNS topics and SQS queues with their dead-letter queues (notifications): `build_messaging`, the one builder of
that shape, which the DataTier (the primary region's) and the warm standby (`components.standby_messaging`, the DR
region's) both call."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import iam
from components.config import Settings
from components.contracts import QueueAccess, TopicAccess
from components.data.base import (
    COMPONENT,
    DLQ_RETENTION_SECONDS,
    NOTIFICATION_CHANNELS,
    NOTIFIED_ORDER_EVENTS,
    DataTierBase,
)
from components.naming import stateful, tags

#: The topics by role.
TOPIC_ROLES = ("order-events", "notifications")
#: Each queue (by role): the topic it subscribes to and the subscription's filter policy.
SUBSCRIPTIONS: Mapping[str, tuple[str, Mapping[str, list[str]]]] = {
    "notification-order-events": ("order-events", {"eventType": list(NOTIFIED_ORDER_EVENTS)}),
    "notification-requests": ("notifications", {"channel": list(NOTIFICATION_CHANNELS)}),
}


def topic_env_var(role: str) -> str:
    """The environment variable that carries topic `role`'s ARN into a publisher's pod (`ORDER_EVENTS_TOPIC_ARN`)."""
    return f"{role.upper().replace('-', '_')}_TOPIC_ARN"


def queue_env_var(role: str) -> str:
    """The environment variable that carries queue `role`'s URL into its consumer's pod."""
    return f"{role.upper().replace('-', '_')}_QUEUE_URL"


@dataclass(frozen=True)
class Messaging:
    """What `build_messaging` made, by role."""

    topics: dict[str, aws.sns.Topic]
    queues: dict[str, aws.sqs.Queue]
    dlqs: dict[str, aws.sqs.Queue]

    def topic_access(self) -> dict[str, TopicAccess]:
        """Each topic as its publishers reach it (the contract's `publishes`)."""
        return {role: TopicAccess(t.arn, topic_env_var(role)) for role, t in self.topics.items()}

    def queue_access(self) -> dict[str, QueueAccess]:
        """Each work queue as its consumer reaches it (the contract's `consumes`)."""
        return {role: QueueAccess(q.url, q.arn, queue_env_var(role)) for role, q in self.queues.items()}


def build_messaging(
    parent: pulumi.Resource,
    name: str,
    settings: Settings,
    *,
    base: str,
    key_arn: pulumi.Input[str],
    component: str = COMPONENT,
) -> Messaging:
    """The topics, one work queue per subscription with its dead-letter queue, the queues' policies and the
    subscriptions (filter and redrive policies), all encrypted with `key_arn`, as children `{name}-<role>` of
    `parent` (which decides the region through its provider). AWS names are `{base}-<role>`: SNS topic and SQS queue
    names are unique per account and region.

    `key_arn`'s policy must let `sns.amazonaws.com` generate data keys and decrypt (SNS delivers into the encrypted
    queues and dead-letter queues as itself).
    """
    d = settings.data
    child = pulumi.ResourceOptions(parent=parent)
    topics = {
        role: aws.sns.Topic(
            f"{name}-{role}",
            name=f"{base}-{role}",
            kms_master_key_id=key_arn,
            tags=tags(component, f"{base}-{role}"),
            opts=child,
        )
        for role in TOPIC_ROLES
    }
    queues: dict[str, aws.sqs.Queue] = {}
    dlqs: dict[str, aws.sqs.Queue] = {}
    for role, (topic_role, filter_policy) in SUBSCRIPTIONS.items():
        topic = topics[topic_role]
        dlq = aws.sqs.Queue(
            f"{name}-{role}-dlq",
            name=f"{base}-{role}-dlq",
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            kms_master_key_id=key_arn,
            kms_data_key_reuse_period_seconds=300,
            tags=tags(component, f"{base}-{role}-dlq"),
            opts=stateful(settings, pulumi.ResourceOptions(parent=parent)),
        )
        queue = aws.sqs.Queue(
            f"{name}-{role}",
            name=f"{base}-{role}",
            message_retention_seconds=d.queue_retention_days * 24 * 3600,
            visibility_timeout_seconds=d.queue_visibility_timeout,
            receive_wait_time_seconds=20,
            kms_master_key_id=key_arn,
            kms_data_key_reuse_period_seconds=300,
            redrive_policy=pulumi.Output.json_dumps(
                {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": d.queue_max_receive_count}
            ),
            tags=tags(component, f"{base}-{role}"),
            opts=stateful(settings, pulumi.ResourceOptions(parent=parent)),
        )
        aws.sqs.RedriveAllowPolicy(
            f"{name}-{role}-dlq",
            queue_url=dlq.url,
            redrive_allow_policy=pulumi.Output.json_dumps(
                {"redrivePermission": "byQueue", "sourceQueueArns": [queue.arn]}
            ),
            opts=child,
        )
        policies: list[pulumi.Resource] = []
        for q, label in ((queue, role), (dlq, f"{role}-dlq")):
            statements: list[iam.Statement] = [
                {
                    # The queue takes the topic's deliveries; the DLQ takes what SNS could not deliver to the
                    # queue (the subscription's redrive policy): both from this one topic only.
                    "sid": "OnlyItsTopicSends" if q is queue else "OnlyItsTopicDeadLetters",
                    "effect": "Allow",
                    "principals": [{"type": "Service", "identifiers": ["sns.amazonaws.com"]}],
                    "actions": ["sqs:SendMessage"],
                    "resources": [q.arn],
                    "conditions": [iam.condition("ArnEquals", "aws:SourceArn", topic.arn)],
                },
                {
                    "sid": "DenyWithoutTls",
                    "effect": "Deny",
                    "principals": [{"type": "*", "identifiers": ["*"]}],
                    "actions": ["sqs:*"],
                    "resources": [q.arn],
                    "conditions": [iam.condition("Bool", "aws:SecureTransport", "false")],
                },
            ]
            policies.append(
                aws.sqs.QueuePolicy(
                    f"{name}-{label}",
                    queue_url=q.url,
                    policy=iam.policy_json(parent, statements),
                    opts=child,
                )
            )
        aws.sns.TopicSubscription(
            f"{name}-{role}",
            topic=topic.arn,
            protocol="sqs",
            endpoint=queue.arn,
            raw_message_delivery=True,
            filter_policy=json.dumps(filter_policy),
            # What SNS cannot deliver to the queue (a KMS or policy error, the queue gone) goes to the queue's
            # own DLQ instead of being dropped after SNS's retries; a DLQ redrive then moves it back to the queue.
            redrive_policy=pulumi.Output.json_dumps({"deadLetterTargetArn": dlq.arn}),
            # Subscribing before the queue (and its DLQ) accept the topic would drop the first messages.
            opts=pulumi.ResourceOptions(parent=parent, depends_on=policies),
        )
        queues[role], dlqs[role] = queue, dlq
    return Messaging(topics, queues, dlqs)


class MessagingMixin(DataTierBase):
    def _messaging(self, key: aws.kms.Key) -> Messaging:
        return build_messaging(self, self._name, self._settings, base=self._base, key_arn=key.arn)
