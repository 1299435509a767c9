"""Allowed values that more than one area checks against (the stack names, regions and their AZs, CloudWatch's
retention periods). Values only one area uses live in that area's module."""

from __future__ import annotations

from collections.abc import Mapping

ENVIRONMENTS = ("dev", "prod")

#: AZ names each supported region offers; the program checks configured AZs against this before asking AWS. Names
#: only: which physical zone (zone ID) a name is differs per account, so the zone IDs are asked of the account at
#: preview (`components.network.guard_availability_zones`), never tabled here.
REGION_AZS: Mapping[str, tuple[str, ...]] = {
    "us-east-1": ("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"),
    "us-east-2": ("us-east-2a", "us-east-2b", "us-east-2c"),
    "us-west-2": ("us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"),
}

#: CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)  # fmt: skip
