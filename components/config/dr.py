"""Disaster-recovery settings (`dr.*`, `DisasterRecovery`): which of AWS's four DR strategies a stack runs in the
DR region (the top-level `drRegion`), and the knobs of its replication.

The modes are the names of the strategies in AWS's whitepaper "Disaster Recovery of Workloads on AWS": what each
keeps in the DR region is written in docs/disaster-recovery.md and the README's DR table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from components.config.data import DataSettings
from components.config.machinery import Stack, in_range, setting

#: AWS's four DR strategies, cheapest and slowest first.
DR_MODES = ("off", "backup-restore", "pilot-light", "warm-standby")
#: Modes this program builds; the others are refused with a message (no half-built region).
BUILT_DR_MODES = ("off", "backup-restore", "pilot-light")
#: Days the daily Aurora copies are kept: at least one; five weeks, like Aurora's own backup retention maximum.
BACKUP_RETENTION_RANGE = (1, 35)
#: A KMS key's pending-deletion window is 7 to 30 days (KMS `ScheduleKeyDeletion`, PendingWindowInDays).
KMS_DELETION_WINDOW_RANGE = (7, 30)

DrMode = Literal["off", "backup-restore", "pilot-light", "warm-standby"]


@dataclass(frozen=True)
class DrSettings:
    """What the stack keeps in the DR region (`drRegion`) and how its stores replicate there (`DisasterRecovery`)."""

    mode: DrMode = setting(
        "mode", "DR strategy: off, backup-restore (data and images copied to drRegion), pilot-light (also live "
        "DynamoDB replicas), warm-standby (not built yet). See docs/disaster-recovery.md.", "off",
    )  # fmt: skip
    replication_time_control: bool = setting(
        "replicationTimeControl", "S3 Replication Time Control on the bucket replication rules (99.99% of objects "
        "in 15 minutes, billed per GB); needs a DR mode.", False,
    )  # fmt: skip
    backup_retention_days: int = setting(
        "backupRetentionDays",
        "Days AWS Backup keeps the daily Aurora snapshots and their DR-region copies (1-35).",
        7,
    )
    kms_deletion_window_days: int = setting(
        "kmsDeletionWindowDays", "Days a DR-region KMS key waits before deletion once scheduled (7-30).", 30
    )

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    @property
    def live_table_replicas(self) -> bool:
        """DynamoDB replicas in the DR region: the pilot light's always-on data (backup-restore copies objects only)."""
        return self.mode in ("pilot-light", "warm-standby")


class Context(Stack, Protocol):
    """What the DR rules read: this area and the data tier's billing mode."""

    @property
    def dr(self) -> DrSettings: ...
    @property
    def data(self) -> DataSettings: ...


def dr_rules(s: Context, problems: list[str]) -> None:
    """Every bad DR combination, named with its key and what is allowed."""
    d, k = s.dr, "dr"
    if d.mode not in BUILT_DR_MODES:
        problems.append(f"{k}.mode: {d.mode!r} is not built yet (its DR-region EKS cluster and ALB failover are "
                        f"missing); allowed: {', '.join(BUILT_DR_MODES)}")  # fmt: skip
    if d.live_table_replicas and s.data.dynamodb_billing_mode == "provisioned":
        # A provisioned global table needs the same write capacity (auto scaling) on every replica (DynamoDB
        # developer guide, "Global tables: capacity"); the DR region's scaling targets are not built.
        problems.append(f"{k}.mode: {d.mode!r} keeps DynamoDB replicas, built for data.dynamodbBillingMode "
                        "'on-demand' only; set the billing mode to on-demand or dr.mode to backup-restore")  # fmt: skip
    if d.replication_time_control and not d.enabled:
        problems.append(f"{k}.replicationTimeControl: true with dr.mode 'off'; there is no replication to time. "
                        f"Set dr.mode to one of {', '.join(BUILT_DR_MODES[1:])} or leave it false")  # fmt: skip
    in_range(
        problems,
        f"{k}.kmsDeletionWindowDays",
        d.kms_deletion_window_days,
        *KMS_DELETION_WINDOW_RANGE,
        " days",
    )
    in_range(problems, f"{k}.backupRetentionDays", d.backup_retention_days, *BACKUP_RETENTION_RANGE, " days")
