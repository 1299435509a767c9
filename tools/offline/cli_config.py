"""How the Pulumi CLI turns a policy pack's declared levels, its initial config and the user's config file into the
config it sends with `Configure` — step by step, as pulumi/pulumi does it, so the offline run gives the verdicts a
real `pulumi preview --policy-pack policies [--policy-pack-config FILE]` gives.

Sources (pulumi/pulumi, v3):
- `sdk/go/common/resource/plugin/analyzer_plugin.go`
  - `GetAnalyzerInfo`: each policy's level and each initial-config entry's level go through `convertEnforcementLevel`,
    which maps the protobuf enum 0 to "advisory" — a *valid* level. An initial-config entry the pack sent without a
    level therefore arrives as "advisory", never as "unset". When the pack `supportsConfig`, every policy's schema
    gets an `enforcementLevel` property injected.
  - `Configure`: every reconciled entry must carry a valid level ("invalid enforcement level" otherwise).
- `pkg/resource/analyzer/config.go`
  - `parsePolicyPackConfig` (the `--policy-pack-config` file): `"rule": "<level>"` or `"rule": {...}`; a level that is
    not a valid string is an error; entries with neither a level nor properties are dropped.
  - `ReconcilePolicyPackConfig`: `createConfigWithDefaults` (each policy's own level and its schema defaults), then
    `applyConfig(initialConfig)`, then `applyConfig(config)`, then `validatePolicyPackConfig`.
  - `applyConfig`: an `all` entry with a valid level first sets every policy's level; then each entry (including
    `all` itself and names that are no policy) is merged: its level replaces the current one when `IsValid()`, its
    properties are set key by key over the current ones.
  - `validatePolicyConfig`: each policy's properties (never its level) against `{"type": "object", "properties",
    "required"}` built from its schema; any error stops the run ("validating policy config").
- `pkg/engine/update.go` (`installAndLoadPolicyPlugins`): local packs are reconciled with the initial config and the
  file given by `--policy-pack-config`, exactly as above.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

#: apitype.EnforcementLevel.IsValid(): the four levels the engine knows.
VALID_LEVELS: Final = ("advisory", "mandatory", "remediate", "disabled")
#: What `convertEnforcementLevel` gives for each protobuf value (pulumirpc.EnforcementLevel).
PROTO_LEVELS: Final = {0: "advisory", 1: "mandatory", 2: "disabled", 3: "remediate"}


class PolicyConfigError(ValueError):
    """The config cannot be used: the CLI refuses to run the pack then, too."""


@dataclass
class PolicyConfig:
    """plugin.AnalyzerPolicyConfig: a level ("" = not given) and the properties (None = none given)."""

    level: str = ""
    properties: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"enforcementLevel": self.level, **copy.deepcopy(self.properties or {})}


@dataclass
class PolicyInfo:
    """plugin.AnalyzerPolicyInfo as the CLI holds it after `GetAnalyzerInfo`."""

    name: str
    level: str
    schema: dict[str, Any] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)


def level_from_proto(value: int) -> str:
    """`convertEnforcementLevel`: 0 is ADVISORY (a valid level), an unknown number is an error."""
    if value not in PROTO_LEVELS:
        raise PolicyConfigError(f"invalid enforcement level {value}")
    return PROTO_LEVELS[value]


def is_valid(level: object) -> bool:
    return isinstance(level, str) and level in VALID_LEVELS


def with_injected_level(schema: Mapping[str, Any]) -> dict[str, Any]:
    """GetAnalyzerInfo with supportsConfig: `enforcementLevel` is added to every policy's schema properties."""
    props = copy.deepcopy(dict(schema))
    props["enforcementLevel"] = {"type": "string", "enum": list(VALID_LEVELS)}
    return props


def _extract_level(name: str, props: dict[str, Any]) -> str:
    """`extractEnforcementLevel`: removes and returns `enforcementLevel`, which must be a valid string."""
    if "enforcementLevel" not in props:
        return ""
    value = props.pop("enforcementLevel")
    if not isinstance(value, str):
        raise PolicyConfigError(
            f'parsing enforcement level for "{name}": {value} is not a valid enforcement level; must be a string'
        )
    if not is_valid(value):
        raise PolicyConfigError(
            f'parsing enforcement level for "{name}": "{value}" is not a valid enforcement level'
        )
    return value


def parse_config_file(config: object) -> dict[str, PolicyConfig]:
    """`parsePolicyPackConfig`: the `--policy-pack-config` JSON (already decoded)."""
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise PolicyConfigError("the policy pack config must be a JSON object")
    result: dict[str, PolicyConfig] = {}
    for name, value in config.items():
        if isinstance(value, str):
            if not is_valid(value):
                raise PolicyConfigError(
                    f'parsing enforcement level for "{name}": "{value}" is not a valid enforcement level'
                )
            level, props = value, None
        elif isinstance(value, Mapping):
            given = copy.deepcopy(dict(value))
            level = _extract_level(name, given)
            props = given or None
        else:
            raise PolicyConfigError(
                f'parsing "{name}": {value!r} is not a valid value; must be a string or object'
            )
        if level == "" and not props:
            continue
        result[name] = PolicyConfig(level, props)
    return result


def defaults(policies: list[PolicyInfo]) -> dict[str, PolicyConfig]:
    """`createConfigWithDefaults`: each policy's own level and its schema's defaults."""
    result: dict[str, PolicyConfig] = {}
    for policy in policies:
        props = {
            k: copy.deepcopy(v["default"])
            for k, v in policy.schema.items()
            if isinstance(v, Mapping) and "default" in v
        }
        result[policy.name] = PolicyConfig(policy.level, props or None)
    return result


def apply_config(
    result: dict[str, PolicyConfig], given: Mapping[str, PolicyConfig]
) -> dict[str, PolicyConfig]:
    """`applyConfig`: `all` first (when its level is valid), then every entry, level replaced when valid."""
    every = given.get("all")
    if every is not None and is_valid(every.level):
        for name, existing in list(result.items()):
            result[name] = PolicyConfig(every.level, existing.properties)
    for name, entry in given.items():
        current = result.get(name)
        level = current.level if current else ""
        props = current.properties if current else None
        if is_valid(entry.level):
            level = entry.level
        if entry.properties and props is None:
            props = {}
        if props is not None:
            props.update(copy.deepcopy(entry.properties or {}))
        result[name] = PolicyConfig(level, props)
    return result


def validate(policies: list[PolicyInfo], config: Mapping[str, PolicyConfig]) -> list[str]:
    """`validatePolicyPackConfig`: each policy's properties against its schema; the messages the CLI prints."""
    import jsonschema

    errors: list[str] = []
    for policy in policies:
        schema: dict[str, Any] = {"type": "object"}
        if policy.schema:
            schema["properties"] = policy.schema
        if policy.required:
            schema["required"] = policy.required
        found = config.get(policy.name)
        props = (found.properties if found else None) or {}
        for err in sorted(jsonschema.Draft7Validator(schema).iter_errors(props), key=lambda e: list(e.path)):
            where = ".".join(str(p) for p in err.absolute_path)
            errors.append(f"{policy.name}: {where + ': ' if where else ''}{err.message}")
    return errors


def reconcile(
    policies: list[PolicyInfo],
    initial: Mapping[str, PolicyConfig] | None,
    user: Mapping[str, PolicyConfig] | None,
) -> dict[str, PolicyConfig]:
    """`ReconcilePolicyPackConfig`, then the checks `Configure` makes before sending."""
    result = defaults(policies)
    if initial is not None:
        result = apply_config(result, initial)
    if user is not None:
        result = apply_config(result, user)
    errors = validate(policies, result)
    if errors:
        raise PolicyConfigError("validating policy config:\n  " + "\n  ".join(errors))
    for name, entry in result.items():
        if not is_valid(entry.level):
            raise PolicyConfigError(
                f'configuring policy pack: {name}: invalid enforcement level "{entry.level}"'
            )
    return result


def load_config_file(text: str) -> dict[str, PolicyConfig]:
    """`LoadPolicyPackConfigFromFile`: empty content is allowed; otherwise a JSON object."""
    if not text.strip():
        return {}
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyConfigError(f"the policy pack config is not JSON: {exc}") from exc
    return parse_config_file(decoded)
