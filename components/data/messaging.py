"""SNS topics and SQS queues with their dead-letter queues (notifications)."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components import iam
from components.data.base import (
    COMPONENT,
    DLQ_RETENTION_SECONDS,
    NOTIFICATION_CHANNELS,
    NOTIFIED_ORDER_EVENTS,
    DataTierBase,
)
from components.naming import tags


class MessagingMixin(DataTierBase):
    def _messaging(
        self, key: aws.kms.Key
    ) -> tuple[dict[str, aws.sns.Topic], dict[str, aws.sqs.Queue], dict[str, aws.sqs.Queue]]:
        d, n = self._d, self._name
        topics = {
            role: aws.sns.Topic(
                f"{n}-{role}",
                name=f"{self._base}-{role}",
                kms_master_key_id=key.arn,
                tags=tags(COMPONENT, f"{self._base}-{role}"),
                opts=self._child,
            )
            for role in ("order-events", "notifications")
        }
        subscriptions = {
            "notification-order-events": ("order-events", {"eventType": list(NOTIFIED_ORDER_EVENTS)}),
            "notification-requests": ("notifications", {"channel": list(NOTIFICATION_CHANNELS)}),
        }
        queues: dict[str, aws.sqs.Queue] = {}
        dlqs: dict[str, aws.sqs.Queue] = {}
        for role, (topic_role, filter_policy) in subscriptions.items():
            topic = topics[topic_role]
            dlq = aws.sqs.Queue(
                f"{n}-{role}-dlq",
                name=f"{self._base}-{role}-dlq",
                message_retention_seconds=DLQ_RETENTION_SECONDS,
                kms_master_key_id=key.arn,
                kms_data_key_reuse_period_seconds=300,
                tags=tags(COMPONENT, f"{self._base}-{role}-dlq"),
                opts=self._stateful(),
            )
            queue = aws.sqs.Queue(
                f"{n}-{role}",
                name=f"{self._base}-{role}",
                message_retention_seconds=d.queue_retention_days * 24 * 3600,
                visibility_timeout_seconds=d.queue_visibility_timeout,
                receive_wait_time_seconds=20,
                kms_master_key_id=key.arn,
                kms_data_key_reuse_period_seconds=300,
                redrive_policy=pulumi.Output.json_dumps(
                    {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": d.queue_max_receive_count}
                ),
                tags=tags(COMPONENT, f"{self._base}-{role}"),
                opts=self._stateful(),
            )
            aws.sqs.RedriveAllowPolicy(
                f"{n}-{role}-dlq",
                queue_url=dlq.url,
                redrive_allow_policy=pulumi.Output.json_dumps(
                    {"redrivePermission": "byQueue", "sourceQueueArns": [queue.arn]}
                ),
                opts=self._child,
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
                        f"{n}-{label}",
                        queue_url=q.url,
                        policy=iam.policy_json(self, statements),
                        opts=self._child,
                    )
                )
            aws.sns.TopicSubscription(
                f"{n}-{role}",
                topic=topic.arn,
                protocol="sqs",
                endpoint=queue.arn,
                raw_message_delivery=True,
                filter_policy=json.dumps(filter_policy),
                # What SNS cannot deliver to the queue (a KMS or policy error, the queue gone) goes to the queue's
                # own DLQ instead of being dropped after SNS's retries; a DLQ redrive then moves it back to the queue.
                redrive_policy=pulumi.Output.json_dumps({"deadLetterTargetArn": dlq.arn}),
                # Subscribing before the queue (and its DLQ) accept the topic would drop the first messages.
                opts=pulumi.ResourceOptions(parent=self, depends_on=policies),
            )
            queues[role], dlqs[role] = queue, dlq
        return topics, queues, dlqs

    # -- Cognito -----------------------------------------------------------------------------------------------------
