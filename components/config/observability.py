"""Observability settings (`observability.*`, `Observability`): who is paged, alarm overrides, Container Insights,
application logs and the canary."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from components.config.machinery import Stack, StringMap, in_range, setting
from components.config.shared import LOG_RETENTION_DAYS

#: Allowed Synthetics schedules (minutes between canary runs): `rate(n minutes)` takes 1 to 60.
CANARY_INTERVAL_RANGE = (1, 60)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


@dataclass(frozen=True)
class ObservabilitySettings:
    """Alarms, the alarm topic's subscribers, Container Insights, application logs and the canary (`Observability`)."""

    alarm_emails: tuple[str, ...] = setting(
        "alarmEmails", "Addresses subscribed to the alarm topic (each confirms once); prod needs at least one.", (),
    )  # fmt: skip
    webhook_urls: tuple[str, ...] = setting(
        "webhookUrls", "HTTPS endpoints (chat or paging webhooks) subscribed to the alarm topic.", (),
    )  # fmt: skip
    alarm_thresholds: StringMap = setting(
        "alarmThresholds", "Per-stack threshold overrides, `<alarm id>: <number>` (ids in docs/alarms.md); a derived "
        "threshold (share of memory, volume, max_connections) is overridden by its share.", StringMap(),
    )  # fmt: skip
    container_insights: bool = setting(
        "containerInsights", "Container Insights through the amazon-cloudwatch-observability EKS add-on (a CloudWatch "
        "agent and a Fluent Bit pod per node) and the cluster alarms built on its metrics.", False,
    )  # fmt: skip
    log_retention_days: int = setting(
        "logRetentionDays",
        "Days the application, host and performance log groups of the cluster are kept.",
        30,
    )
    canary_interval_minutes: int = setting(
        "canaryIntervalMinutes",
        "Minutes between synthetic canary runs (storefront and the API path), 1-60.",
        5,
    )
    canary_api_path: str = setting(
        "canaryApiPath",
        "The /api path the canary loads through CloudFront (a public service's GET).",
        "/api/products",
    )
    canary_retention_days: int = setting(
        "canaryRetentionDays", "Days canary run artifacts (screenshots, HAR files, logs) are kept in S3.", 30
    )


class Context(Stack, Protocol):
    """What the observability rules read: this area."""

    @property
    def observability(self) -> ObservabilitySettings: ...


def observability_rules(s: Context, problems: list[str]) -> None:
    """Every bad observability value, named with its key and what is allowed."""
    from components.alarms import ALARMS  # lazily: the catalogue is data, but keep this module's imports flat

    o, k = s.observability, "observability"
    for i, email in enumerate(o.alarm_emails):
        if not _EMAIL.fullmatch(email):
            problems.append(f"{k}.alarmEmails[{i}]: {email!r} is not an e-mail address (name@domain)")
    if s.is_prod and not o.alarm_emails:
        problems.append(f"{k}.alarmEmails: empty in prod; nobody would be told the shop is down. Set at least one "
                        "address (an on-call list), see README 'Observability'")  # fmt: skip
    for i, url in enumerate(o.webhook_urls):
        if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d+)?(/\S*)?", url):
            problems.append(f"{k}.webhookUrls[{i}]: {url!r} is not allowed; SNS webhook subscriptions here must be "
                            "https:// URLs")  # fmt: skip
    known = {a.id: a for a in ALARMS}
    for alarm_id, value in o.alarm_thresholds:
        spec = known.get(alarm_id)
        if spec is None:
            problems.append(f"{k}.alarmThresholds.{alarm_id}: unknown alarm id; known ids are listed in docs/alarms.md "
                            f"(e.g. {', '.join(sorted(known)[:3])})")  # fmt: skip
            continue
        try:
            number = float(value)
        except ValueError:
            problems.append(f"{k}.alarmThresholds.{alarm_id}: {value!r} is not a number")
            continue
        if spec.derived and not 0 < number < 1:
            problems.append(f"{k}.alarmThresholds.{alarm_id}: {value!r} is out of range; this threshold is a share "
                            f"({spec.derived}), allowed: greater than 0 and less than 1")  # fmt: skip
        elif number < 0:
            problems.append(f"{k}.alarmThresholds.{alarm_id}: {value!r} is negative; allowed: 0 or more")
    if o.log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(f"{k}.logRetentionDays: {o.log_retention_days} is not a CloudWatch retention; "
                        f"allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}")  # fmt: skip
    in_range(
        problems, f"{k}.canaryIntervalMinutes", o.canary_interval_minutes, *CANARY_INTERVAL_RANGE, " minutes"
    )
    in_range(problems, f"{k}.canaryRetentionDays", o.canary_retention_days, 1, 455, " days")
    if not re.fullmatch(r"/api/[A-Za-z0-9/_.-]*", o.canary_api_path) or ".." in o.canary_api_path:
        problems.append(f"{k}.canaryApiPath: {o.canary_api_path!r} is not allowed; it must be a plain path under "
                        "/api/ (CloudFront sends only /api/* to the ALB), e.g. /api/products")  # fmt: skip
