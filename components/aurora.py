"""What every Aurora PostgreSQL cluster of the platform shares, the DataTier's primary and a global database's
secondary alike (`components/dr_aurora.py`): a secondary promoted at failover must behave as the primary did."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.naming import tags

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
