"""The settings machinery: how a stack's configuration becomes typed, checked values. No area's fields live here.

`setting()` declares a field (its config key, a description, a safe default). Loading reads the raw project
config, coerces each value to its field's type and collects every problem (an unknown key, a wrong type, a missing
required key) so that `SettingsError` names them all at once. `describe_fields()` and `as_config()` serve the README's
settings table. Nothing here imports an area module: areas import this.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import typing
from collections.abc import Mapping
from dataclasses import field
from typing import Any, Literal, Protocol, get_args, get_origin

import pulumi
from pulumi.runtime import config as runtime_config

PROJECT = "ecommerce-platform"


class SettingsError(pulumi.RunError):
    """Raised before any resource is registered when the stack configuration is invalid.

    A `pulumi.RunError`, so the CLI prints the message without a Python traceback.
    """

    def __init__(self, problems: list[str], stack: str) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"Invalid configuration for stack '{stack}' (Pulumi.{stack}.yaml); nothing was created:\n{lines}"
        )


def setting(key: str, doc: str, default: Any = dataclasses.MISSING, **kwargs: Any) -> Any:
    """A settings field: its config key (camelCase, as in the stack file), a description, and a safe default.

    A field without a default is required.
    """
    metadata = {"key": key, "doc": doc}
    if default is dataclasses.MISSING:
        return field(metadata=metadata, **kwargs)
    if isinstance(default, list | dict):
        raise TypeError("use a tuple for sequence defaults; settings are immutable")
    return field(default=default, metadata=metadata, **kwargs)


class Stack(Protocol):
    """The top-level values an area's rules may read besides their own area (`Settings` provides them)."""

    @property
    def environment(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def protect_data(self) -> bool: ...
    @property
    def is_prod(self) -> bool: ...


def in_range(problems: list[str], key: str, value: int | float, low: int | float, high: int | float,
             unit: str = "") -> None:  # fmt: skip
    if not low <= value <= high:
        problems.append(f"{key}: {value} is out of range; allowed: {low} to {high}{unit}")


#: Secret keys (`pulumi config set --secret <key> <value>`), key -> description. They never enter `Settings`
#: (a frozen dataclass of plain values would hold the plaintext); `secret_setting` returns them as secret Outputs.
SECRET_KEYS: Mapping[str, str] = {
    "stripeApiKey": "Stripe API key for the payment service (optional; unset: put it into Secrets Manager by hand).",
}


class StringMap(tuple[tuple[str, str], ...]):
    """An immutable `name -> string` map read from a config object (`cluster.imageTags`), sorted by name."""

    def get(self, key: str, default: str | None = None) -> str | None:
        return dict(self).get(key, default)


# ---------------------------------------------------------------------------------------------------------------
# Loading: raw config -> typed values (type errors). The cross-field rules (relation errors) live with each area.
# ---------------------------------------------------------------------------------------------------------------


def _type_name(tp: Any) -> str:
    if get_origin(tp) is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if get_origin(tp) is tuple:
        return f"list of {_type_name(get_args(tp)[0])}"
    if dataclasses.is_dataclass(tp):
        return "object"
    if tp is StringMap:
        return "map of str"
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, key: str, problems: list[str]) -> Any:
    """Convert one raw config value to `tp`; on failure record a problem and return None."""
    origin = get_origin(tp)
    if origin is Literal:
        allowed = get_args(tp)
        if value in allowed:
            return value
        problems.append(f"{key}: {value!r} is not allowed; allowed: {', '.join(map(str, allowed))}")
        return None
    if origin is tuple:
        if isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        if not isinstance(value, list):
            problems.append(f"{key}: expected a list, got {value!r}")
            return None
        (item_tp, _) = get_args(tp)
        items = [_coerce(v, item_tp, f"{key}[{i}]", problems) for i, v in enumerate(value)]
        return tuple(items)
    if dataclasses.is_dataclass(tp):
        if isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        if not isinstance(value, dict):
            problems.append(f"{key}: expected an object with keys {', '.join(_keys(tp))}, got {value!r}")
            return None
        return build(tp, value, key, problems)
    if tp is StringMap:
        if isinstance(value, dict) and all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in value.values()
        ):
            return StringMap(sorted((str(k), str(v)) for k, v in value.items()))
        problems.append(f"{key}: expected an object of name -> string, got {value!r}")
        return None
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        problems.append(f"{key}: expected true or false, got {value!r}")
        return None
    if tp is int:
        if isinstance(value, bool):
            problems.append(f"{key}: expected a whole number, got {value!r}")
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        problems.append(f"{key}: expected a whole number, got {value!r}")
        return None
    if tp is float:
        if isinstance(value, bool):
            problems.append(f"{key}: expected a number, got {value!r}")
            return None
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value.strip()):
            return float(value)
        problems.append(f"{key}: expected a number, got {value!r}")
        return None
    if tp is str:
        if isinstance(value, str):
            return value
        problems.append(f"{key}: expected a string, got {value!r}")
        return None
    raise TypeError(f"settings field {key} has an unsupported type {tp!r}")


def _keys(cls: Any) -> list[str]:
    return [f.metadata["key"] for f in dataclasses.fields(cls)]


def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def build(cls: Any, raw: Mapping[str, Any], prefix: str, problems: list[str]) -> Any:
    """Build dataclass `cls` from `raw` (config keys -> values); unknown keys are problems."""
    hints = _hints(cls)
    known = {f.metadata["key"]: f for f in dataclasses.fields(cls)}
    retired: Mapping[str, str] = getattr(cls, "retired_keys", {})
    for key in raw:
        if key not in known and not (prefix == "" and key in SECRET_KEYS):
            full = _join(prefix, key)
            problems.append(
                f"{full}: {retired.get(key) or 'unknown key; known keys: ' + ', '.join(sorted(known))}"
            )
    kwargs: dict[str, Any] = {}
    for key, f in known.items():
        full = _join(prefix, key)
        if key in raw and raw[key] is not None:
            value = _coerce(raw[key], hints[f.name], full, problems)
            if value is not None:
                kwargs[f.name] = value
        elif f.default is dataclasses.MISSING:
            problems.append(f"{full}: required, not set; expected {_type_name(hints[f.name])}")
    try:
        return cls(**kwargs)
    except TypeError:
        return None  # a required key is missing; already reported


def raw_project_config() -> dict[str, Any]:
    """Every `ecommerce-platform:*` key the engine passed to this program, as key (without namespace) -> value.

    The language host hands config over as the PULUMI_CONFIG environment map; the mock runtime through
    `set_all_config`. Both are read, so unknown keys are caught in a real run and offline alike.
    """
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{PROJECT}:"
    values: dict[str, Any] = {}
    for full_key, value in merged.items():
        if full_key.startswith(prefix):
            key = full_key[len(prefix) :]
            # Structured values arrive JSON-encoded; scalars stay strings and are coerced per field.
            if isinstance(value, str) and value[:1] in "[{":
                with contextlib.suppress(json.JSONDecodeError):
                    value = json.loads(value)
            values[key] = value
    return values


# Cross-field rules: each takes the typed settings and appends problems. New areas register theirs here.


def secret_setting(key: str) -> pulumi.Output[str] | None:
    """A secret config value as a secret Output, or None when it is not set. Only keys of `SECRET_KEYS`."""
    if key not in SECRET_KEYS:
        raise KeyError(f"{key} is not a secret setting; known: {', '.join(SECRET_KEYS)}")
    return pulumi.Config(PROJECT).get_secret(key)


#: One row of `describe()`: key (dotted), type, description, default, attribute path from the root.
Row = tuple[str, str, str, Any, tuple[str, ...]]


def describe_fields(root: Any) -> list[Row]:
    """(key, type, description, default, attribute path) for every setting under dataclass `root`, areas dotted."""
    rows: list[tuple[str, str, str, Any, tuple[str, ...]]] = []

    def walk(cls: Any, prefix: str, path: tuple[str, ...]) -> None:
        hints = _hints(cls)
        for f in dataclasses.fields(cls):
            key = f"{prefix}{f.metadata['key']}"
            tp = hints[f.name]
            if f.metadata.get("area"):
                walk(tp, key + ".", (*path, f.name))
                continue
            default = None if f.default is dataclasses.MISSING else f.default
            rows.append((key, _type_name(tp), f.metadata["doc"], default, (*path, f.name)))

    walk(root, "", ())
    return rows


def as_config(value: Any) -> Any:
    """A settings value as it is written in a stack file (dataclasses by their config keys)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.metadata["key"]: as_config(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, StringMap):
        return dict(value)
    if isinstance(value, tuple):
        return [as_config(v) for v in value]
    return value
