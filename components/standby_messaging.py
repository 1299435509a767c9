"""The warm standby's own SNS topics and SQS queues in the DR region (`dr.mode` warm-standby).

The DataTier's shape (`components.data.messaging.build_messaging`: the order-events and notifications topics, one
work queue per subscription with its dead-letter queue, the same filter and redrive policies) built again under the
DR provider, so that the DR services' order flow does not run through the primary region, which a region-wide
outage would take with it. Encrypted with a DR key of its own (`StandbyRegion.customer_key("messaging")`).

Names: `ecommerce-<env>-dr-<role>`. SNS topic and SQS queue names are unique per account *and region*, so the
primary's names would be legal in us-east-1; the `-dr` keeps a topic's or queue's name telling which region's it is
(CloudWatch metrics, alarms and the console list queues by name only, and a DLQ alarm named like the primary's
would send on-call to the wrong region), as the rest of the standby does (`-dr` cluster, roles, carts cache).

What it must not do: subscribe anything in the primary region (the lake's Firehose stays on the primary's topic:
the lake is not replicated), or take a key of the primary region.
"""

from __future__ import annotations

import pulumi

from components import iam
from components.config import Settings
from components.contracts import QueueAccess, TopicAccess
from components.data.messaging import build_messaging
from components.dr import StandbyRegion

COMPONENT = "dr"


class StandbyMessaging(pulumi.ComponentResource):
    """The DR region's topics and queues; `opts` must make it a child of the StandbyRegion (`standby.options()`)."""

    topics: dict[str, TopicAccess]
    queues: dict[str, QueueAccess]
    key_arn: pulumi.Output[str]
    topic_names: dict[str, pulumi.Output[str]]
    queue_names: dict[str, pulumi.Output[str]]
    dead_letter_queue_names: dict[str, pulumi.Output[str]]
    dead_letter_queue_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, settings: Settings, *, standby: StandbyRegion,
                 opts: pulumi.ResourceOptions | None = None) -> None:  # fmt: skip
        super().__init__("ecommerce:dr:StandbyMessaging", name, None, opts)
        account, _, _ = iam.caller(standby)
        key = standby.customer_key(
            "messaging",
            "the warm standby's SNS topics and SQS queues",
            # The primary messaging key's reason holds here: SNS delivers into the encrypted queues as itself.
            service_statements=[iam.sns_may_use_key(account)],
        )
        built = build_messaging(
            self, name, settings, base=f"ecommerce-{settings.environment}-dr", key_arn=key.arn,
            component=COMPONENT,
        )  # fmt: skip
        self.key_arn = key.arn
        self.topics, self.queues = built.topic_access(), built.queue_access()
        self.topic_names = {role: t.name for role, t in built.topics.items()}
        self.queue_names = {role: q.name for role, q in built.queues.items()}
        self.dead_letter_queue_names = {role: q.name for role, q in built.dlqs.items()}
        self.dead_letter_queue_arns = {role: q.arn for role, q in built.dlqs.items()}
        self.register_outputs(
            {
                "key_arn": self.key_arn,
                "topic_arns": {role: t.arn for role, t in self.topics.items()},
                "queue_urls": {role: q.url for role, q in self.queues.items()},
                "dead_letter_queue_arns": self.dead_letter_queue_arns,
            }
        )
