"""What every Aurora PostgreSQL cluster of the platform shares, the DataTier's primary and a global database's
secondary alike (`components/dr_aurora.py`): a secondary promoted at failover must behave as the primary did."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.config import DataSettings
from components.naming import tags

POSTGRES_PORT = 5432

#: What every Aurora cluster of the platform runs with, the primary and a global database's secondary alike (a
#: secondary promoted at failover must behave as the primary did): TLS 1.2+ only, statements over a second logged.
CLUSTER_PARAMETERS = (
    ("rds.force_ssl", "1"),
    ("ssl_min_protocol_version", "TLSv1.2"),
    ("log_min_duration_statement", "1000"),
)
#: Backups, then maintenance, in the shop's quiet hours (UTC), in this order so they never overlap.
BACKUP_WINDOW = "07:00-08:00"
MAINTENANCE_WINDOW = "sun:08:30-sun:09:30"


def cluster_parameter_group(
    resource_name: str,
    cluster_id: str,
    engine_version: str,
    description: str,
    opts: pulumi.ResourceOptions,
    component: str,
) -> aws.rds.ClusterParameterGroup:
    """The cluster parameter group `<cluster_id>-pg<major>` with `CLUSTER_PARAMETERS`, tagged for `component`."""
    major = engine_version.split(".")[0]
    return aws.rds.ClusterParameterGroup(
        resource_name,
        name=f"{cluster_id}-pg{major}",
        family=f"aurora-postgresql{major}",
        description=description,
        parameters=[{"name": k, "value": v} for k, v in CLUSTER_PARAMETERS],
        tags=tags(component, resource_name),
        opts=opts,
    )


def cluster_arguments(data: DataSettings, cluster_id: str, *, protect: bool) -> dict[str, Any]:
    """The `aws.rds.Cluster` arguments every Aurora cluster of the platform takes alike, the primary and a global
    secondary (which becomes the primary at failover): engine, IAM authentication, encrypted storage, the port,
    backups and their windows, the PostgreSQL log export, and with `protect` deletion protection and a final
    snapshot. pulumi-aws removes a member from its global cluster before deleting it, so a secondary's final
    snapshot is allowed too (terraform-provider-aws PR 40333, "deleting clusters that are members of a global
    cluster")."""
    return {
        "engine": "aurora-postgresql",
        "engine_mode": "provisioned",
        "iam_database_authentication_enabled": True,
        "port": POSTGRES_PORT,
        "storage_encrypted": True,
        "backup_retention_period": data.aurora_backup_retention_days,
        "preferred_backup_window": BACKUP_WINDOW,
        "preferred_maintenance_window": MAINTENANCE_WINDOW,
        "copy_tags_to_snapshot": True,
        "deletion_protection": protect,
        "skip_final_snapshot": not protect,
        "final_snapshot_identifier": f"{cluster_id}-final" if protect else None,
        "enabled_cloudwatch_logs_exports": ["postgresql"],
    }
