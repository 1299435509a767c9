"""Print a plan the way `pulumi preview` does: a tree of resources under their components, counts, outputs."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from tools.offline.engine import MASK, SECRET_SIG, SPECIAL_SIG


def _label(resource: Mapping[str, Any]) -> str:
    return f"{resource['type']:<60} {resource['name']}"


def _show(value: Any) -> str:
    if isinstance(value, dict) and value.get(SPECIAL_SIG) == SECRET_SIG:
        return MASK
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return json.dumps(value) if not isinstance(value, str) else value


def render(plan: Mapping[str, Any]) -> str:
    """The preview text: `+ create` per resource as a tree, component subtotals, a summary and the outputs."""
    resources = list(plan["resources"])
    children: dict[str | None, list[Mapping[str, Any]]] = defaultdict(list)
    for r in sorted(resources, key=lambda r: (r["custom"], r["type"], r["name"])):
        children[r["parent"]].append(r)

    lines = [f"Previewing update ({plan['stack']}) — offline, on the Pulumi SDK's mock runtime", ""]
    lines.append(f"     {'Type':<60} Name")

    def subtree_size(urn: str) -> int:
        return sum(1 + subtree_size(c["urn"]) for c in children.get(urn, []))

    def walk(urn: str | None, depth: int) -> None:
        for r in children.get(urn, []):
            count = subtree_size(r["urn"])
            # A component of our own shows its count even at 0 (one that only looks things up); remote ones hide theirs.
            suffix = f"   ({count} resources)" if not r["custom"] and (count or not r.get("remote")) else ""
            lines.append(f" +   {'  ' * depth}{_label(r)}{suffix}")
            walk(r["urn"], depth + 1)

    walk(None, 0)

    outputs = plan.get("outputs") or {}
    if outputs:
        lines += ["", "Outputs:"]
        width = max(len(k) for k in outputs)
        for key, value in outputs.items():
            lines.append(f"    {key:<{width}}: {_show(value)}")

    per_component = Counter(
        r["type"] for r in resources if not r["custom"] and r["type"] != "pulumi:pulumi:Stack"
    )
    total = len([r for r in resources if r["type"] != "pulumi:pulumi:Stack"])
    providers = sum(1 for r in resources if r["type"].startswith("pulumi:providers:"))
    cloud = sum(1 for r in resources if r["custom"]) - providers
    lines += [
        "",
        "Resources:",
        f"    + {total} to create",
        f"      ({cloud} cloud resources, {sum(per_component.values())} components, {providers} providers)",
    ]
    return "\n".join(lines)
