"""What would change between two offline plans, printed the way `pulumi preview --diff` prints it.

`python -m tools.offline diff OLD.json NEW.json` compares two `build/<stack>/plan.json` files (written by
`engine.write_plan`) and prints, per resource, `+` create, `-` delete, `+-` replace or `~` update with the input
properties that differ (nested paths, `old => new`), renames through an alias, the stack outputs that differ and a
summary line. It exits 0 when nothing differs, 1 when something does, 2 on an error (a missing or malformed plan).

What it compares is what the engine compares: a resource's *inputs* as the program registers them, plus the two
options `pulumi preview --diff` shows (`protect` and `provider`, pulumi/pulumi#1949). Outputs are not compared: offline
they are invented by the mocks. Neither are dependency lists (their order varies run to run; the engine does not diff
them). Where an input holds a value the mocks invented for another resource (its id, ARN, endpoint) and that resource
was renamed through an alias, the old value is translated to the new one first: in a real stack the renamed resource
keeps its cloud identity, so its dependents see no change.

Secrets never print: a value in the engine's secret wrapper, and any input the resource lists in
`additionalSecretOutputs`, shows as `[secret]` on both sides of a change. The plan holds secrets already masked, so a
change to a secret's plaintext cannot be seen offline; a change between secret and non-secret can.

Replace or update: the real decision is the provider's `Diff`, which needs its schema. Offline, a change to one of
the properties in `REPLACE_ON_CHANGE` or `KUBERNETES_REPLACE_ON_CHANGE` (read from the providers' own source, cited
there) is a replacement; a
change to a resource of a type listed there, in any other property, is an update; a change to a resource of any other
type is shown as "update (replacement possible: no provider schema offline)". A changed provider reference replaces
the resource unless the new provider is the old one renamed through an alias (the engine's `providerChanged`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.offline.engine import MASK, ROOT, SECRET_SIG, SPECIAL_SIG, UNKNOWN

RESOURCE_REF_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"

#: Type token -> input properties whose change replaces the resource: the upstream Terraform schema's `ForceNew`
#: arguments, which pulumi-aws (a bridged provider) turns into replacements. Read in hashicorp/terraform-provider-aws:
#: internal/service/ec2/vpc_.go (aws_vpc), internal/service/ec2/vpc_subnet.go (aws_subnet),
#: internal/service/ec2/vpc_security_group.go (aws_security_group: even its description), internal/service/iam/role.go
#: (aws_iam_role), internal/service/rds/cluster.go (aws_rds_cluster, its schema up to `s3_import`). A type missing
#: here is not "never replaced": it is unknown offline, and its changes say so.
REPLACE_ON_CHANGE: dict[str, frozenset[str]] = {
    "aws:ec2/vpc:Vpc": frozenset({"cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"}),
    "aws:ec2/subnet:Subnet": frozenset(
        [
            "availabilityZone",
            "availabilityZoneId",
            "cidrBlock",
            "ipv4IpamPoolId",
            "ipv4NetmaskLength",
            "ipv6IpamPoolId",
            "ipv6Native",
            "ipv6NetmaskLength",
            "outpostArn",
            "vpcId",
        ]
    ),
    "aws:ec2/securityGroup:SecurityGroup": frozenset(["description", "name", "namePrefix", "vpcId"]),
    "aws:iam/role:Role": frozenset(["name", "namePrefix", "path"]),
    "aws:rds/cluster:Cluster": frozenset(
        [
            "availabilityZones",
            "clusterIdentifier",
            "clusterIdentifierPrefix",
            "clusterScalabilityType",
            "databaseName",
            "dbSubnetGroupName",
            "dbSystemId",
            "engine",
            "engineMode",
            "kmsKeyId",
            "masterUsername",
            "restoreToPointInTime",
            "s3Import",
        ]
    ),
}

#: pulumi-kubernetes decides replacements itself (pulumi/pulumi-kubernetes provider/pkg/provider/diff.go,
#: `forceNewProperties`): every object is replaced when its `metadata.name` or `metadata.namespace` changes; the kinds
#: this program uses that have more such fields are listed; any other change to a Kubernetes object is an update.
#: A ConfigMap's data replaces it unless the provider sets `enableConfigMapMutable` (a beta feature, off by default:
#: pulumi_kubernetes.Provider's docstring).
KUBERNETES_REPLACE_ON_CHANGE: dict[str, frozenset[str]] = {
    "kubernetes:apps/v1:Deployment": frozenset(["spec.selector"]),
    "kubernetes:core/v1:ConfigMap": frozenset(["binaryData", "data"]),
    "kubernetes:core/v1:Service": frozenset(["spec.clusterIP"]),
}
#: Kubernetes types that are not objects the provider diffs field by field (a Helm release has its own Diff).
KUBERNETES_NOT_OBJECTS = ("kubernetes:helm.sh/", "pulumi:providers:kubernetes")

POSSIBLE_REPLACE = "replacement possible: no provider schema offline"
MASKED = {SPECIAL_SIG: SECRET_SIG, "value": MASK}


class DiffError(Exception):
    """A plan could not be read or compared; the message names the file and what is wrong."""


# -- reading plans --------------------------------------------------------------------------------------------


def load_plan(path: Path) -> dict[str, Any]:
    """A plan.json as a dict, checked for the shape `engine.write_plan` writes."""
    try:
        plan = json.loads(path.read_text())
    except FileNotFoundError:
        raise DiffError(f"{path}: no such file (build one with `make preview STACK=<stack>`)") from None
    except (OSError, json.JSONDecodeError) as err:
        raise DiffError(f"{path}: not a readable JSON plan ({err})") from None
    if not isinstance(plan, dict) or not isinstance(plan.get("resources"), list):
        raise DiffError(f"{path}: not an offline plan: expected an object with a `resources` list")
    for i, r in enumerate(plan["resources"]):
        missing = [k for k in ("urn", "type", "name", "inputs") if not isinstance(r, dict) or k not in r]
        if missing:
            raise DiffError(f"{path}: resources[{i}] lacks {', '.join(missing)}")
        if not str(r["urn"]).startswith("urn:pulumi:") or str(r["urn"]).count("::") < 3:
            raise DiffError(f"{path}: resources[{i}].urn {r['urn']!r} is not a URN (urn:pulumi:<stack>::…)")
    return plan


# -- URNs and aliases (the engine's generateAliases / collapseAliasToUrn / inheritedChildAlias) ----------------


def _urn_parts(urn: str) -> tuple[str, str, str, str]:
    """(stack, project, qualified type, name) of `urn:pulumi:<stack>::<project>::<qualified type>::<name>`."""
    head, project, qualified, name = urn.split("::", 3)
    return head[len("urn:pulumi:") :], project, qualified, name


def _make_urn(stack: str, project: str, parent: str | None, typ: str, name: str) -> str:
    qualified = typ
    if parent and _urn_parts(parent)[2] != ROOT_STACK_TYPE:
        qualified = f"{_urn_parts(parent)[2]}${typ}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


class _Matcher:
    """Pairs each new resource with its old self: by URN first, then by its aliases, as the engine does."""

    def __init__(self, old: Mapping[str, dict[str, Any]], new: Mapping[str, dict[str, Any]]) -> None:
        self.old, self.new = old, new
        self.aliased: dict[str, str] = {}  # new URN -> the old URN it was found under (renames only)
        self.claimed: set[str] = set()
        self._matched: dict[str, str | None] = {}

    def _collapse(self, r: Mapping[str, Any], alias: Mapping[str, Any]) -> str:
        if alias.get("urn"):
            return str(alias["urn"])
        spec = alias.get("spec") or {}
        stack, project, _, _ = _urn_parts(r["urn"])
        # An explicit parent that was itself renamed stands for its old URN; no parent given means the current one.
        explicit = spec.get("parentUrn") or ""
        parent = self.aliased.get(explicit, explicit) if explicit else r.get("parent") or ""
        if spec.get("noParent"):
            parent = ""
        return _make_urn(
            spec.get("stack") or stack, spec.get("project") or project, parent or None,
            spec.get("type") or r["type"], spec.get("name") or r["name"],
        )  # fmt: skip

    def _inherited(self, typ: str, name: str, parent_name: str, parent_alias: str) -> str:
        stack, project, qualified, alias_name = _urn_parts(parent_alias)
        if name.startswith(parent_name):
            name = alias_name + name[len(parent_name) :]
        return f"urn:pulumi:{stack}::{project}::{qualified}${typ}::{name}"

    def aliases(self, r: Mapping[str, Any]) -> list[str]:
        found = [self._collapse(r, a) for a in r.get("aliases") or []]
        parent = r.get("parent")
        if parent and parent in self.aliased:
            parent_alias, parent_name = self.aliased[parent], _urn_parts(parent)[3]
            found.append(self._inherited(r["type"], r["name"], parent_name, parent_alias))
            for a in list(found[: len(r.get("aliases") or [])]):
                _, _, qualified, name = _urn_parts(a)
                found.append(self._inherited(qualified.rsplit("$", 1)[-1], name, parent_name, parent_alias))
        return list(dict.fromkeys(found))

    def match(self, urn: str) -> str | None:
        """The old URN the resource `urn` of the new plan continues, or None (a create)."""
        if urn in self._matched:
            return self._matched[urn]
        r = self.new[urn]
        parent = r.get("parent")
        if parent and parent in self.new:
            self.match(parent)  # a child's inherited aliases need its parent's match first
        found: str | None = None
        if urn in self.old:
            found = urn
        else:
            for alias in self.aliases(r):
                if alias in self.old and alias not in self.new and alias not in self.claimed:
                    found = alias
                    self.aliased[urn] = alias
                    break
        if found is not None:
            self.claimed.add(found)
        self._matched[urn] = found
        return found


# -- values ---------------------------------------------------------------------------------------------------


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SPECIAL_SIG) == SECRET_SIG


def _show(value: Any) -> str:
    """A value as the diff prints it: secrets masked, unknowns and resource references named."""
    if _is_secret(value):
        return MASK
    if value == UNKNOWN:
        return "[unknown]"
    if isinstance(value, dict) and value.get(SPECIAL_SIG) == RESOURCE_REF_SIG:
        return f"[resource {value.get('urn', '')}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return json.dumps(value)


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if key.replace("_", "").isalnum():
        return f"{parent}.{key}" if parent else key
    return f"{parent}[{json.dumps(key)}]"


def _json_doc(value: Any) -> Any:
    """A string holding a JSON object or array (a policy document), parsed; anything else -> None."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            doc = json.loads(value)
        except json.JSONDecodeError:
            return None
        return doc if isinstance(doc, dict | list) else None
    return None


@dataclass
class Change:
    """One property that differs: `kind` is "+" added, "-" removed or "~" changed."""

    kind: str
    path: str
    old: Any = None
    new: Any = None
    replaces: bool = False

    def line(self) -> str:
        text = {
            "+": f"+ {self.path}: {_show(self.new)}",
            "-": f"- {self.path}: {_show(self.old)}",
            "~": f"~ {self.path}: {_show(self.old)} => {_show(self.new)}",
        }[self.kind]
        return text + ("   (forces replacement)" if self.replaces else "")


def diff_values(old: Any, new: Any, path: str = "") -> Iterator[Change]:
    """The property-level differences between two input values (wire encoding), secrets kept masked."""
    if _is_secret(old) or _is_secret(new):
        # Compare what the plans hold (masked plaintext, or the non-secret side) but never show it.
        inner_old = old.get("value") if _is_secret(old) else old
        inner_new = new.get("value") if _is_secret(new) else new
        if inner_old != inner_new or _is_secret(old) != _is_secret(new):
            yield Change("~", path, MASKED, MASKED)
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            sub = _path(path, key)
            if key not in new:
                yield Change("-", sub, old=old[key])
            elif key not in old:
                yield Change("+", sub, new=new[key])
            else:
                yield from diff_values(old[key], new[key], sub)
        return
    if isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            if i >= len(new):
                yield Change("-", _path(path, i), old=old[i])
            elif i >= len(old):
                yield Change("+", _path(path, i), new=new[i])
            else:
                yield from diff_values(old[i], new[i], _path(path, i))
        return
    if old == new:
        return
    old_doc, new_doc = _json_doc(old), _json_doc(new)
    if old_doc is not None and new_doc is not None:
        # A JSON document in a string (IAM and bucket policies): show which statement field moved, as the CLI does.
        yield from diff_values(old_doc, new_doc, path)
        return
    yield Change("~", path, old, new)


def _mask_keys(inputs: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """Inputs with the properties the resource declares secret wrapped as secrets (they must not print)."""
    return {k: ({SPECIAL_SIG: SECRET_SIG, "value": v} if k in keys and not _is_secret(v) else v)
            for k, v in inputs.items()}  # fmt: skip


def _translate(value: Any, table: Sequence[tuple[str, str]]) -> Any:
    """`value` with every old invented value (id, ARN, URN of a renamed resource) replaced by its new one."""
    if isinstance(value, str):
        for old, new in table:
            if old in value:
                value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {k: _translate(v, table) for k, v in value.items()}
    if isinstance(value, list):
        return [_translate(v, table) for v in value]
    return value


# -- steps ----------------------------------------------------------------------------------------------------


@dataclass
class Step:
    """What happens to one resource: op is create, delete, replace, update or rename (same inputs, new URN)."""

    op: str
    resource: dict[str, Any]
    old_urn: str | None = None
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    SYMBOL = {"create": "+ ", "delete": "- ", "replace": "+-", "update": "~ ", "rename": "~ "}

    def render(self) -> list[str]:
        r = self.resource
        label = self.op if self.op != "rename" else "rename through an alias"
        if self.op in ("update", "replace") and self.old_urn and self.old_urn != r["urn"]:
            label += ", renamed through an alias"
        label = "; ".join([label, *self.notes])
        lines = [f"  {self.SYMBOL[self.op]}{r['type']}: ({label})", f"      [urn={r['urn']}]"]
        if self.old_urn and self.old_urn != r["urn"]:
            lines.append(f"      [was urn={self.old_urn}]")
        if self.op in ("create", "delete"):
            secret_keys = list(r.get("additionalSecretOutputs") or [])
            for key, value in _mask_keys(r.get("inputs") or {}, secret_keys).items():
                lines.append(f"      {key}: {_show(value)}")
        lines += [f"    {c.line()}" for c in self.changes]
        return lines


@dataclass
class PlanDiff:
    """The steps between two plans, the stack outputs that differ, and the count of unchanged resources."""

    steps: list[Step]
    outputs: list[Change]
    unchanged: int

    @property
    def changed(self) -> bool:
        return bool(self.steps or self.outputs)

    def summary(self) -> str:
        counts = {op: sum(1 for s in self.steps if s.op == op) for op in Step.SYMBOL}
        parts = [
            f"{sym.strip():<2}{counts[op]} {text}"
            for op, sym, text in (
                ("create", "+ ", "to create"), ("update", "~ ", "to update"), ("replace", "+-", "to replace"),
                ("delete", "- ", "to delete"), ("rename", "~ ", "renamed through an alias"),
            )
            if counts[op]
        ]  # fmt: skip
        return "Resources: " + ", ".join([*parts, f"{self.unchanged} unchanged"])

    def render(self, old_name: str, new_name: str) -> str:
        lines = [f"Plan diff {old_name} => {new_name} (offline: inputs and the protect/provider options)", ""]
        for step in self.steps:
            lines += step.render()
        if self.outputs:
            lines += ["", "Outputs:"] + [f"  {c.line()}" for c in self.outputs]
        if not self.changed:
            lines.append("  no changes")
        lines += ["", self.summary()]
        return "\n".join(lines)


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(property path, value) of every scalar inside an input value; secrets count as one opaque leaf."""
    if isinstance(value, dict) and not _is_secret(value):
        for key, sub in value.items():
            yield from _leaves(sub, _path(path, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            yield from _leaves(sub, _path(path, i))
    else:
        yield path, value


def _invented(r: Mapping[str, Any]) -> dict[str, str]:
    """The values the mocks made up for a resource: its id and string outputs that are not its inputs' echo.

    A value built from the resource's own inputs (a role's ARN holds its `name`) is left out: when that input
    changes, the change is real and must show in the dependents too.
    """
    inputs = r.get("inputs") or {}
    own = [v for _, v in _leaves(inputs) if isinstance(v, str) and len(v) >= 8]
    found = {k: v for k, v in (r.get("outputs") or {}).items() if isinstance(v, str) and k not in inputs}
    if isinstance(r.get("id"), str):
        found["id"] = r["id"]
    return {k: v for k, v in found.items() if not any(o in v for o in own)}


def _translation(
    pairs: Mapping[str, str], old: Mapping[str, Any], new: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """(old, new) substitutions for renamed resources: their URNs and the values the mocks invented for them."""
    table: dict[str, str] = {}
    for new_urn, old_urn in pairs.items():
        if new_urn == old_urn:
            continue
        table[old_urn] = new_urn
        old_inv, new_inv = _invented(old[old_urn]), _invented(new[new_urn])
        for key, value in old_inv.items():
            # Short values (a port, a state) are not identities and could match by accident.
            if key in new_inv and new_inv[key] != value and len(value) >= 8:
                table[value] = new_inv[key]
    # Longest first, so an ARN is replaced whole before the id inside it.
    return sorted(table.items(), key=lambda kv: -len(kv[0]))


def _refers_to(value: str, identities: Sequence[str]) -> bool:
    """Whether an input string holds a replaced resource's id or ARN (an ARN may sit inside a policy document)."""
    return any(value == i or (":" in i and len(i) >= 20 and i in value) for i in identities)


def _unknown_after_replace(r: Mapping[str, Any], identities: Sequence[str]) -> list[Change]:
    """The inputs of `r` that take a value from a resource being replaced: unknown until the replacement exists."""
    return [
        Change("~", path, value, UNKNOWN)
        for path, value in _leaves(r.get("inputs") or {})
        if isinstance(value, str) and _refers_to(value, identities)
    ]


def _provider_urn(ref: str | None) -> str:
    return (ref or "").rsplit("::", 1)[0]


def replace_paths(r: Mapping[str, Any], provider: Mapping[str, Any] | None = None) -> frozenset[str] | None:
    """The property paths whose change replaces `r`, or None when that is unknown offline (no provider schema)."""
    typ = str(r["type"])
    if typ in REPLACE_ON_CHANGE:
        return REPLACE_ON_CHANGE[typ]
    if typ.startswith("kubernetes:") and not typ.startswith(KUBERNETES_NOT_OBJECTS):
        paths = {"metadata.name", "metadata.namespace"} | KUBERNETES_REPLACE_ON_CHANGE.get(typ, frozenset())
        mutable = (
            str(((provider or {}).get("inputs") or {}).get("enableConfigMapMutable", "")).lower() == "true"
        )
        if typ == "kubernetes:core/v1:ConfigMap" and mutable:
            paths -= {"binaryData", "data"}
        return frozenset(paths)
    return None


def _covers(pattern: str, path: str) -> bool:
    return pattern == "*" or path == pattern or path.startswith((f"{pattern}.", f"{pattern}["))


def _compare(
    old: dict[str, Any],
    new: dict[str, Any],
    table: Sequence[tuple[str, str]],
    induced: Sequence[Change] = (),
    provider: Mapping[str, Any] | None = None,
) -> Step | None:
    secret_keys = sorted(
        set(old.get("additionalSecretOutputs") or []) | set(new.get("additionalSecretOutputs") or [])
    )
    old_inputs = _mask_keys(_translate(old.get("inputs") or {}, table), secret_keys)
    new_inputs = _mask_keys(new.get("inputs") or {}, secret_keys)
    # `ignore_changes` keeps the old value of those properties (the engine's processIgnoreChanges).
    ignored = list(new.get("ignoreChanges") or [])
    changes = [c for c in diff_values(old_inputs, new_inputs) if not any(_covers(p, c.path) for p in ignored)]
    seen = {c.path for c in changes}
    changes += [c for c in induced if c.path not in seen]
    known = replace_paths(new, provider)
    forced = known or frozenset()
    replace_on_changes = list(new.get("replaceOnChanges") or [])  # the `replace_on_changes` resource option
    for c in changes:
        c.replaces = any(_covers(p, c.path) for p in [*forced, *replace_on_changes])
    notes: list[str] = []
    if induced:
        notes.append("inputs from a replaced resource are unknown until it is recreated")

    old_provider, new_provider = _translate(old.get("provider") or "", table), new.get("provider") or ""
    provider_changed = bool(new.get("custom")) and _provider_urn(old_provider) != _provider_urn(new_provider)
    if provider_changed:
        changes.append(Change("~", "[provider]", old.get("provider"), new.get("provider"), replaces=True))
    if bool(old.get("protect")) != bool(new.get("protect")):
        changes.append(Change("~", "[protect]", bool(old.get("protect")), bool(new.get("protect"))))

    renamed = old["urn"] != new["urn"]
    if not changes:
        return Step("rename", new, old_urn=old["urn"]) if renamed else None
    input_changes = [c for c in changes if not c.path.startswith("[")]
    if any(c.replaces for c in changes):
        op = "replace"
        if old.get("protect"):
            notes.append("protected: `pulumi up` refuses to replace it until it is unprotected")
    elif not input_changes:
        op = "update"
    else:
        op = "update"
        if not new.get("custom"):
            if new.get("remote"):
                notes.append(
                    "a remote component: its children, which the provider diffs, are not visible offline"
                )
        elif known is None and not new["type"].startswith("pulumi:providers:"):
            notes.append(POSSIBLE_REPLACE)
        elif new["type"].startswith("pulumi:providers:"):
            notes.append("the provider's DiffConfig decides whether its resources are replaced")
    return Step(op, new, old_urn=old["urn"], changes=changes, notes=notes)


def diff_plans(old_plan: Mapping[str, Any], new_plan: Mapping[str, Any]) -> PlanDiff:
    """The steps that take `old_plan`'s stack to `new_plan`'s, without a cloud."""
    old = {r["urn"]: r for r in old_plan["resources"]}
    new = {r["urn"]: r for r in new_plan["resources"]}
    matcher = _Matcher(old, new)
    pairs: dict[str, str] = {}
    for urn in new:
        found = matcher.match(urn)
        if found is not None:
            pairs[urn] = found
    table = _translation(pairs, old, new)

    # A replaced resource's outputs are unknown during a preview, so every input taken from them is unknown too, and
    # may replace its holder in turn (a subnet's `vpcId` when the VPC is replaced): repeat until nothing new.
    providers = {urn: new.get(_provider_urn(r.get("provider"))) for urn, r in new.items()}
    induced: dict[str, list[Change]] = {}
    replaced: set[str] = set()
    while True:
        compared = {
            urn: _compare(old[pairs[urn]], new[urn], table, induced.get(urn, ()), providers.get(urn))
            for urn in pairs
        }
        fresh = {u for u, step in compared.items() if step is not None and step.op == "replace"} - replaced
        if not fresh:
            break
        replaced |= fresh
        identities = [
            v
            for u in replaced
            for v in (new[u].get("id"), (new[u].get("outputs") or {}).get("arn"))
            if isinstance(v, str) and len(v) >= 8
        ]
        for urn in pairs:
            if urn not in replaced:
                induced[urn] = _unknown_after_replace(new[urn], identities)

    steps: list[Step] = []
    unchanged = 0
    for urn, r in new.items():
        step = compared.get(urn) if urn in pairs else Step("create", r)
        if step is None:
            unchanged += 1
        else:
            steps.append(step)
    for urn, r in old.items():
        if urn not in matcher.claimed:
            step = Step("delete", r)
            if r.get("protect"):
                step.notes.append("protected: `pulumi up` refuses to delete it until it is unprotected")
            steps.append(step)

    outputs = list(
        diff_values(_translate(old_plan.get("outputs") or {}, table), new_plan.get("outputs") or {})
    )
    return PlanDiff(steps, outputs, unchanged)


# -- the command ----------------------------------------------------------------------------------------------


def print_cost_delta(old_plan: dict[str, Any], new_plan: dict[str, Any]) -> None:
    """The monthly cost delta of the two plans (`--cost`), priced with this tree's price table and usage files."""
    from policies.ecommerce_guard import pricing

    old, new = pricing.estimate_plan(old_plan), pricing.estimate_plan(new_plan)
    print()
    print(pricing.render_delta(str(new_plan.get("stack", "")), pricing.delta(old, new)))


def run_diff(old_path: Path, new_path: Path, *, with_cost: bool = False) -> int:
    """Print the diff of two plan files; 0 when nothing differs, 1 when something does, 2 on an error."""
    try:
        old_plan, new_plan = load_plan(old_path), load_plan(new_path)
    except DiffError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if old_plan.get("stack") != new_plan.get("stack"):
        print(
            f"note: comparing stack {old_plan.get('stack')!r} with stack {new_plan.get('stack')!r}: every URN "
            "differs, so everything shows as delete + create",
            file=sys.stderr,
        )
    result = diff_plans(old_plan, new_plan)
    print(result.render(str(old_path), str(new_path)))
    if with_cost:
        print_cost_delta(old_plan, new_plan)
    return 1 if result.changed else 0


def plan_at(revision: str, stack: str, work: Path, python: str = sys.executable) -> Path:
    """Build `stack`'s plan from `revision` of this repository, exported with `git archive` into `work`.

    The export runs with this virtualenv's Python, so the two plans differ only by the program, not the SDKs.
    """
    check = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], cwd=ROOT,
                           capture_output=True)  # fmt: skip
    if check.returncode != 0:
        raise DiffError(f"BASE={revision!r} is not a commit of this repository (give a branch, tag or sha)")
    archive = subprocess.run(["git", "archive", "--format=tar", revision], cwd=ROOT, check=True,
                             capture_output=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True)
    if not (work / "tools" / "offline" / "__main__.py").exists():
        raise DiffError(f"{revision} has no offline engine (tools/offline): it cannot be planned offline")
    return build_plan_file(stack, work, python, label=revision)


def build_plan_file(
    stack: str, root: Path, python: str = sys.executable, label: str = "the working tree"
) -> Path:
    """Run `python -m tools.offline preview --stack <stack>` in `root`; return the plan.json it wrote."""
    proc = subprocess.run([python, "-m", "tools.offline", "preview", "--stack", stack], cwd=root,
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        raise DiffError(f"planning stack {stack} at {label} failed:\n{proc.stderr.strip()}")
    return root / "build" / stack / "plan.json"


def plans_against(base: str, stack: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """`stack`'s plan at git revision `base` and this working tree's, loaded (DiffError when either cannot be built)."""
    with tempfile.TemporaryDirectory(prefix="plan-diff-") as tmp:
        return load_plan(plan_at(base, stack, Path(tmp))), load_plan(build_plan_file(stack, ROOT))


def run_plan_diff(stack: str, base: str, *, with_cost: bool = False) -> int:
    """Diff `stack`'s plan at git revision `base` against this working tree's: what does this branch change?"""
    try:
        old_plan, new_plan = plans_against(base, stack)
    except DiffError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    result = diff_plans(old_plan, new_plan)
    print(result.render(f"{base}:{stack}", f"working tree:{stack}"))
    if with_cost:
        print_cost_delta(old_plan, new_plan)
    return 1 if result.changed else 0
