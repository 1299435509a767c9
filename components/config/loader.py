"""The loader: the `Settings` aggregate of every area, and `load_settings`, which builds and checks it.

Each area is one line of `Settings`: `area(<its defaults>, <config key>, <description>, <its rules>...)`. The loader
runs the top-level rules, then every area's rules in the order of the fields, then the `after_all` rules.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi

from components.config.account import AccountSettings
from components.config.cluster import ClusterSettings, cluster_rules, node_group_rules
from components.config.data import DataSettings, data_rules, with_derived_defaults
from components.config.delivery import DeliverySettings, delivery_rules
from components.config.dr import DrSettings, dr_rules
from components.config.edge import EdgeSettings, edge_rules
from components.config.lake import LakeSettings, lake_rules
from components.config.machinery import (
    Row,
    SettingsError,
    build,
    describe_fields,
    raw_project_config,
    setting,
)
from components.config.network import NetworkSettings, network_rules
from components.config.observability import ObservabilitySettings, observability_rules
from components.config.shared import REGION_AZS

#: A cross-field rule: reads the typed settings, appends one message per problem (key, value, what is allowed).
#: Each area types its rules by its own `Context` protocol (what they read); mypy checks `Settings` satisfies it.
Rule = Callable[["Settings", list[str]], None]


def area(default: Any, key: str, doc: str, *rules: Rule, after_all: Sequence[Rule] = ()) -> Any:
    """A `Settings` field holding one area: its defaults, its config key, a description and its cross-field rules.

    `rules` run in the order of the `Settings` fields; `after_all` rules run once every area's `rules` have (the
    capacity check, which is only meaningful on an otherwise valid configuration).
    """
    metadata = {"key": key, "doc": doc, "area": True, "rules": rules, "after_all": tuple(after_all)}
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    """Everything the program is configured by, validated. Built once, by `load_settings`."""

    environment: Literal["dev", "prod"] = setting("environment", "Environment name: dev or prod.")
    region: str = setting("region", "AWS region of the platform.", "us-east-2")
    dr_region: str = setting("drRegion", "AWS region for disaster recovery copies.", "us-east-1")
    cost_center: str = setting("costCenter", "CostCenter tag on every resource.", "ecommerce")
    budget: float = setting(
        "budget", "Monthly budget in USD the policy pack's stack-monthly-budget rule holds the estimate to (0: none).",
        0.0,
    )  # fmt: skip
    protect_data: bool = setting(
        "protectData", "Protect stateful resources: protect=True, deletion protection, final snapshots, retain.",
        True,
    )  # fmt: skip
    network: NetworkSettings = area(NetworkSettings(), "network", "Network settings (below).", network_rules)
    cluster: ClusterSettings = area(ClusterSettings(), "cluster", "EKS cluster, node group and workload settings (below).", node_group_rules, after_all=[cluster_rules])  # fmt: skip
    edge: EdgeSettings = area(EdgeSettings(), "edge", "Edge settings (below).", edge_rules)
    delivery: DeliverySettings = area(DeliverySettings(), "delivery", "Delivery settings (below).", delivery_rules)  # fmt: skip
    data: DataSettings = area(DataSettings(), "data", "Data tier settings (below).", data_rules)
    account: AccountSettings = area(AccountSettings(), "account", "Account-wide settings (below).")
    observability: ObservabilitySettings = area(ObservabilitySettings(), "observability", "Observability settings (below).", after_all=[observability_rules])  # fmt: skip
    lake: LakeSettings = area(LakeSettings(), "lake", "Analytics lake settings (below).", after_all=[lake_rules])  # fmt: skip
    dr: DrSettings = area(DrSettings(), "dr", "Disaster-recovery settings (below).", dr_rules)

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"


def _top_level_rules(s: Settings, problems: list[str]) -> None:
    if s.dr_region == s.region:
        problems.append(f"drRegion: {s.dr_region!r} is the primary region; choose another region")
    if s.dr_region not in REGION_AZS:
        problems.append(f"drRegion: {s.dr_region!r} is not supported; allowed: {', '.join(REGION_AZS)}")
    if not re.fullmatch(r"[A-Za-z0-9 _.:/=+@-]{1,256}", s.cost_center):
        problems.append(f"costCenter: {s.cost_center!r} is not a valid tag value (1-256 letters, digits, spaces "
                        "and _ . : / = + - @)")  # fmt: skip
    if s.budget < 0:
        problems.append(f"budget: {s.budget} is negative; allowed: 0 (no budget) or a monthly amount in USD")


def area_rules(aggregate: Any) -> tuple[Rule, ...]:
    """The rules of every area field of `aggregate`: each area's `rules` in field order, then the `after_all` ones."""
    areas = [f.metadata for f in dataclasses.fields(aggregate) if f.metadata.get("area")]
    return (*(rule for a in areas for rule in a["rules"]), *(rule for a in areas for rule in a["after_all"]))


#: Every cross-field rule in the order it runs: top-level, each area's in field order, then the `after_all` ones.
RULES: tuple[Rule, ...] = (_top_level_rules, *area_rules(Settings))


def _with_derived_defaults(s: Settings) -> Settings:
    """Fill the keys whose default depends on other areas (an unset Cognito URL list follows `edge.domainName`)."""
    return dataclasses.replace(s, data=with_derived_defaults(s.data, s.edge.domain_name))


def load_settings(raw: Mapping[str, Any] | None = None, *, stack: str | None = None) -> Settings:
    """Read and validate the whole configuration; raise `SettingsError` listing every problem.

    `raw` defaults to the project's config as the engine passed it; tests pass a dict directly.
    """
    stack = stack or pulumi.get_stack()
    raw = raw_project_config() if raw is None else raw
    problems: list[str] = []
    settings = build(Settings, raw, "", problems)
    if settings is not None and not problems:
        settings = _with_derived_defaults(settings)
        for rule in RULES:
            rule(settings, problems)
    if problems or settings is None:
        raise SettingsError(problems, stack)
    return typing.cast(Settings, settings)


def describe() -> list[Row]:
    """(key, type, description, default, attribute path) for every setting, nested keys dotted.

    The README's settings table is built from these rows.
    """
    return describe_fields(Settings)
