"""Typed stack settings: the one place that reads `pulumi.Config`.

`load_settings()` reads every key of the project's namespace once, checks types, ranges and the relations between
keys, and returns one frozen `Settings` object. Nothing else in the program reads configuration, and no resource
exists until this has succeeded: bad input stops the program with a single message that names every offending
key, the value it had and what is allowed.

Keys are grouped by area (`network.*`, `cluster.*`, ...) as structured config, so a stack file reads like the
architecture and `pulumi config set --path network.egress nat-per-az` works. Each field carries its config key and a
one-line description in its metadata; the README's settings table is generated from them (`python -m
tools.settings_table`) and a test keeps the two in step.

The package, by role:
- `machinery`: `setting()`, loading from the raw project config, type coercion, `SettingsError`, the rows of the
  settings table (`describe_fields`, `as_config()`), `secret_setting()`, and the `Stack` protocol (the top-level
  values any area's rules may read).
- one module per area, each with its allowed values, its frozen dataclass and its cross-field rules: `network`,
  `cluster`, `edge`, `delivery`, `data`, `account`, `observability`, `lake`, `dr`. An area's rules take a `Context` protocol the module declares
  (its own area plus whatever they read of other areas), so no area imports the aggregate.
- `shared`: allowed values more than one area checks (stack names, regions and AZs, CloudWatch retentions).
- `loader`: the `Settings` aggregate, one field per area, `load_settings` and `describe()` (its rows).

A new area is one new file plus one line in the loader. For an area `lake` in `components/config/lake.py` (its
`LakeSettings` dataclass, a `Context(Stack, Protocol)` naming the areas its rules read, and `lake_rules(s: Context,
problems)`), the line is this field of `Settings`, with the import of those two names:

    lake: LakeSettings = area(LakeSettings(), "lake", "Analytics lake settings (below).", lake_rules)

Its rules then run after the areas above it; pass them as `after_all=[lake_rules]` instead to run them after every
area's own rules (as the capacity check does). Re-export the dataclass here if other modules import it from
`components.config`. Moving an area written as one block (constants, dataclass, rules) is a cut and paste: rename
the rules' `s: Settings` to `s: Context` and `_in_range` to `in_range`, and declare `Context`.
"""

from components.config.account import AccountSettings
from components.config.cluster import (
    DOCUMENTATION_NETWORKS,
    KUBERNETES_VERSIONS,
    NODE_INSTANCE_TYPES,
    RETIRED_KEYS,
    WORKLOAD_PROFILES,
    ClusterSettings,
    cluster_shape,
)
from components.config.data import (
    AURORA_POSTGRES_MAJORS,
    COGNITO_MFA_MODES,
    COGNITO_THREAT_PROTECTION_MODES,
    COGNITO_TIERS,
    DYNAMODB_BILLING_MODES,
    OPENSEARCH_MAJORS,
    OPENSEARCH_MASTER_COUNTS,
    PERFORMANCE_INSIGHTS_RETENTION_DAYS,
    QUEUE_RETENTION_MAX_DAYS,
    RDS_MONITORING_INTERVALS,
    REDIS_OSS_VERSIONS,
    DataSettings,
)
from components.config.delivery import (
    ROLE_SESSION_BOUNDS,
    RUNNER_COMPUTE_TYPES,
    STATE_BACKENDS,
    DeliverySettings,
)
from components.config.dr import DR_MODES, DrSettings
from components.config.edge import (
    CSP_MAX_LENGTH,
    DEFAULT_CSP,
    PRICE_CLASSES,
    WAF_RATE_LIMIT_RANGE,
    WAF_RATE_WINDOWS,
    EdgeSettings,
)
from components.config.lake import LakeSettings
from components.config.loader import RULES, Rule, Settings, area, describe, load_settings
from components.config.machinery import (
    PROJECT,
    SECRET_KEYS,
    SettingsError,
    Stack,
    StringMap,
    as_config,
    in_range,
    raw_project_config,
    secret_setting,
    setting,
)
from components.config.network import (
    ALB_INGRESS_MODES,
    EGRESS_MODES,
    INTERFACE_ENDPOINTS,
    PRIVATE_CLUSTER_ENDPOINTS,
    SERVICE_ENDPOINTS,
    NetworkSettings,
    PortRange,
)
from components.config.observability import ObservabilitySettings
from components.config.shared import ENVIRONMENTS, LOG_RETENTION_DAYS, REGION_AZS

__all__ = [
    "ALB_INGRESS_MODES",
    "AURORA_POSTGRES_MAJORS",
    "COGNITO_MFA_MODES",
    "COGNITO_THREAT_PROTECTION_MODES",
    "COGNITO_TIERS",
    "CSP_MAX_LENGTH",
    "DEFAULT_CSP",
    "DOCUMENTATION_NETWORKS",
    "DR_MODES",
    "DYNAMODB_BILLING_MODES",
    "EGRESS_MODES",
    "ENVIRONMENTS",
    "INTERFACE_ENDPOINTS",
    "KUBERNETES_VERSIONS",
    "LOG_RETENTION_DAYS",
    "NODE_INSTANCE_TYPES",
    "OPENSEARCH_MAJORS",
    "OPENSEARCH_MASTER_COUNTS",
    "PERFORMANCE_INSIGHTS_RETENTION_DAYS",
    "PRICE_CLASSES",
    "PRIVATE_CLUSTER_ENDPOINTS",
    "PROJECT",
    "QUEUE_RETENTION_MAX_DAYS",
    "RDS_MONITORING_INTERVALS",
    "REDIS_OSS_VERSIONS",
    "REGION_AZS",
    "RETIRED_KEYS",
    "ROLE_SESSION_BOUNDS",
    "RULES",
    "RUNNER_COMPUTE_TYPES",
    "SECRET_KEYS",
    "SERVICE_ENDPOINTS",
    "STATE_BACKENDS",
    "WAF_RATE_LIMIT_RANGE",
    "WAF_RATE_WINDOWS",
    "WORKLOAD_PROFILES",
    "AccountSettings",
    "ClusterSettings",
    "DataSettings",
    "DeliverySettings",
    "DrSettings",
    "EdgeSettings",
    "LakeSettings",
    "NetworkSettings",
    "ObservabilitySettings",
    "PortRange",
    "Rule",
    "Settings",
    "SettingsError",
    "Stack",
    "StringMap",
    "area",
    "as_config",
    "cluster_shape",
    "describe",
    "in_range",
    "load_settings",
    "raw_project_config",
    "secret_setting",
    "setting",
]
