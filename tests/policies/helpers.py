"""Building inputs for the policy tests in the plan.json shape, and running one rule on them directly.

`R(...)` makes a plan-shaped resource (URN, inputs, property dependencies); `violations(rule, resources)` runs one
rule of the pack on them the way the SDK would: a resource rule gets `ResourceValidationArgs` per resource of its
types (properties marshalled like the engine does, then deserialised and wrapped in the unknown-checking proxy
by the SDK's own functions), a stack rule gets one `StackValidationArgs` with parents and dependencies linked.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from policies.ecommerce_guard.pack import all_policies
from tools.offline.analyzer_host import stack_properties, to_struct

PROJECT = "ecommerce-platform"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG = "4dabf18193072939515e22adb298388d"


def secret(value: Any) -> dict[str, Any]:
    return {SIG: "1b47061264138c4ac30d75fd1eb44270", "value": value}


def urn_of(type_: str, name: str, stack: str = "prod") -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{type_}::{name}"


def provider(
    env: str = "prod", *, stack: str | None = None, tags: Mapping[str, str] | None = None
) -> dict[str, Any]:
    default_tags = (
        dict(tags)
        if tags is not None
        else {
            "Project": PROJECT,
            "Environment": env,
            "ManagedBy": "pulumi",
            "CostCenter": f"ecommerce-{env}",
        }
    )
    st = stack or "prod"  # one URN for every test provider: only its Environment tag differs
    return {
        "urn": urn_of("pulumi:providers:aws", "aws", st),
        "type": "pulumi:providers:aws",
        "name": "aws",
        "custom": True,
        "parent": None,
        "provider": "",
        "inputs": {"region": "us-east-2", "defaultTags": json.dumps({"tags": default_tags})},
        "outputs": {},
        "dependencies": [],
        "propertyDependencies": {},
    }


def R(
    type_: str,
    name: str,
    inputs: Mapping[str, Any] | None = None,
    *,
    deps: Mapping[str, Sequence[dict[str, Any] | str]] | None = None,
    parent: dict[str, Any] | None = None,
    protect: bool = False,
    custom: bool = True,
    stack: str = "prod",
    outputs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A plan-shaped resource; `deps={"bucket": [bucket_resource]}` records property dependencies."""
    prop_deps = {k: [d if isinstance(d, str) else d["urn"] for d in v] for k, v in (deps or {}).items()}
    all_deps = sorted({u for urns in prop_deps.values() for u in urns})
    return {
        "urn": urn_of(type_, name, stack),
        "type": type_,
        "name": name,
        "custom": custom,
        "parent": parent["urn"] if parent else None,
        "provider": f"{urn_of('pulumi:providers:aws', 'aws', stack)}::prov-1"
        if type_.startswith("aws:")
        else "",
        "protect": protect,
        "retainOnDelete": False,
        "deleteBeforeReplace": False,
        "ignoreChanges": [],
        "additionalSecretOutputs": [],
        "aliases": [],
        "dependencies": all_deps,
        "propertyDependencies": prop_deps,
        "id": f"{name}-id",
        "inputs": copy.deepcopy(dict(inputs or {})),
        "outputs": copy.deepcopy(dict(outputs or {})),
    }


@functools.cache
def policies_by_name() -> dict[str, Policy]:
    return {p.name: p for p in all_policies()}


def _props(raw: Mapping[str, Any]) -> Any:
    """Engine marshalling, then the SDK's deserialisation and proxy (as in its Analyze handler)."""
    as_dict = json_format.MessageToDict(to_struct(raw))
    return unknown_checking_proxy(deserialize_properties(as_dict))


def _opts(resource: Mapping[str, Any]) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=bool(resource.get("protect")),
        ignore_changes=list(resource.get("ignoreChanges") or []),
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=resource.get("parent"),
    )


def _provider_for(
    resource: Mapping[str, Any], resources: Sequence[Mapping[str, Any]]
) -> PolicyProviderResource | None:
    ref = resource.get("provider") or ""
    urn = ref.rsplit("::", 1)[0] if ref.count("::") > 3 else ref
    for r in resources:
        if r["urn"] == urn:
            return PolicyProviderResource(r["type"], _props(r.get("inputs") or {}), r["urn"], r["name"])
    return None


@dataclass(frozen=True)
class Finding:
    urn: str
    message: str

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


def violations(
    rule: str,
    resources: Sequence[Mapping[str, Any]],
    *,
    config: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Run one rule directly on `resources` (plan-shaped) and return its findings."""
    policy = policies_by_name()[rule]
    found: list[Finding] = []

    if isinstance(policy, ResourceValidationPolicy):
        for resource in resources:

            def report(message: str, urn: str | None = None, _u: str = resource["urn"]) -> None:
                found.append(Finding(urn or _u, message))

            args = ResourceValidationArgs(
                resource["type"],
                _props(resource.get("inputs") or {}),
                resource["urn"],
                resource["name"],
                _opts(resource),
                _provider_for(resource, resources),
                dict(config) if config else None,
            )
            policy.validate(args, report)
        return found

    assert isinstance(policy, StackValidationPolicy)
    by_urn: dict[str, PolicyResource] = {}
    for resource in resources:
        by_urn[resource["urn"]] = PolicyResource(
            resource["type"],
            _props(stack_properties(resource)),
            resource["urn"],
            resource["name"],
            _opts(resource),
            _provider_for(resource, resources),
            None,
            [],
            {},
        )
    for resource in resources:
        pr = by_urn[resource["urn"]]
        if resource.get("parent") in by_urn:
            pr.parent = by_urn[resource["parent"]]
        pr.dependencies = [by_urn[u] for u in resource.get("dependencies") or [] if u in by_urn]
        pr.property_dependencies = {
            k: [by_urn[u] for u in v if u in by_urn]
            for k, v in (resource.get("propertyDependencies") or {}).items()
        }

    def report_stack(message: str, urn: str | None = None) -> None:
        found.append(Finding(urn or "", message))

    policy.validate(
        StackValidationArgs(list(by_urn.values()), dict(config) if config else None), report_stack
    )
    return found


def plan_of(resources: Sequence[dict[str, Any]], stack: str = "prod") -> dict[str, Any]:
    return {
        "project": PROJECT,
        "stack": stack,
        "config": {f"{PROJECT}:environment": stack},
        "resources": list(resources),
        "outputs": {},
    }
