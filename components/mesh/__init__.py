"""The ServiceMesh component, split along its seams (see `component.py` for the table of contents).

Re-exports the public names other modules and tests import: `from components.mesh import ServiceMesh` keeps working.
"""

from components.mesh.cluster import CONTROL_PLANE_LOGS, control_plane_log_group_name
from components.mesh.component import ServiceMesh
from components.mesh.controllers import (
    CLUSTER_AUTOSCALER_RELEASES,
    CLUSTER_AUTOSCALER_REPO,
    LB_CONTROLLER_CHART,
)
from components.mesh.identities import service_statements
from components.mesh.ingress import ALB_SSL_POLICY, ELB_LOG_ACCOUNTS
from components.mesh.scope import COMPONENT, MeshNetwork, StandbyRole
from components.mesh.workloads import (
    POSTGRES_PORT,
    REDIS_PORT,
    UNPUBLISHED_TAG,
    published_tag,
    service_config,
)

__all__ = [
    "ALB_SSL_POLICY",
    "CLUSTER_AUTOSCALER_RELEASES",
    "CLUSTER_AUTOSCALER_REPO",
    "COMPONENT",
    "CONTROL_PLANE_LOGS",
    "ELB_LOG_ACCOUNTS",
    "LB_CONTROLLER_CHART",
    "POSTGRES_PORT",
    "REDIS_PORT",
    "UNPUBLISHED_TAG",
    "MeshNetwork",
    "ServiceMesh",
    "StandbyRole",
    "control_plane_log_group_name",
    "published_tag",
    "service_config",
    "service_statements",
]
