"""The pack's contents: every rule, and the initial config carrying our named exemptions.

Building a `PolicyPack` starts its gRPC server and blocks, so that happens only in `policies/__main__.py`;
this module just lists what goes in, so tests can import it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Policy

from . import (
    analytics,
    budget,
    data,
    deployability,
    dr,
    edge,
    eks,
    governance,
    iam,
    kubernetes,
    network,
    observability,
    services,
    storage,
)

PACK_NAME: Final = "ecommerce-guard"
PACK_DESCRIPTION: Final = (
    "CrossGuard rules for the ecommerce-platform: AWS Security Hub FSBP controls, Pod Security Standards "
    "(restricted) and the platform's own baseline, for pulumi-aws v7, pulumi-eks and Kubernetes."
)
#: The pack's default level, for a rule that declares none (every rule here declares its own).
PACK_LEVEL: Final = EnforcementLevel.ADVISORY
EXEMPTIONS_FILE: Final = Path(__file__).resolve().parent.parent / "exemptions.json"


def all_policies() -> list[Policy]:
    policies: list[Policy] = [
        *iam.POLICIES,
        *storage.POLICIES,
        *data.POLICIES,
        *eks.POLICIES,
        *network.POLICIES,
        *edge.POLICIES,
        *services.POLICIES,
        *analytics.POLICIES,
        *governance.POLICIES,
        *kubernetes.POLICIES,
        *deployability.POLICIES,
        *observability.POLICIES,
        *budget.POLICIES,
        *dr.POLICIES,
    ]
    names = [p.name for p in policies]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"duplicate policy names: {sorted(duplicates)}")
    return policies


def load_exemptions(path: Path = EXEMPTIONS_FILE) -> list[dict[str, str]]:
    """The named exemptions: a JSON list of {"rule", "urn", "reason"}; every field is required."""
    if not path.exists():
        return []
    entries = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a JSON list of exemptions")
    known = {p.name for p in all_policies()}
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not all(
            isinstance(entry.get(k), str) and entry.get(k) for k in ("rule", "urn", "reason")
        ):
            raise ValueError(f"{path}[{index}]: an exemption needs non-empty 'rule', 'urn' and 'reason'")
        if entry["rule"] not in known:
            raise ValueError(f"{path}[{index}]: unknown rule {entry['rule']!r}")
        if len(entry["reason"]) < 15:
            raise ValueError(f"{path}[{index}]: give a real reason (at least 15 characters)")
    return [dict(e) for e in entries]


def initial_config(exemptions: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The pack's initial config: each rule with exemptions gets its `exemptions` list **and its own level**.

    The CLI reads an initial-config entry's level through `convertEnforcementLevel`, where the protobuf default 0
    is ADVISORY, a valid level; `applyConfig` then lets that level replace the policy's own (pulumi/pulumi,
    analyzer_plugin.go `GetAnalyzerInfo`, pkg/resource/analyzer/config.go `applyConfig`). An entry without a level
    would so turn the whole rule advisory for every resource, so each entry carries the rule's declared level:
    an exemption never changes a level; only the user's `--policy-pack-config` does.
    """
    entries = load_exemptions() if exemptions is None else exemptions
    levels = {p.name: p.enforcement_level or PACK_LEVEL for p in all_policies()}
    config: dict[str, dict[str, Any]] = {}
    for entry in entries:
        rule = config.setdefault(entry["rule"], {"enforcementLevel": levels[entry["rule"]], "exemptions": []})
        rule["exemptions"].append({"urn": entry["urn"], "reason": entry["reason"]})
    return dict(config)
