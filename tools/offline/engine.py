"""The offline engine: run the real `__main__.py` for a stack on the Pulumi SDK's mock runtime and record the plan.

What a real `pulumi preview` gets from the CLI, this module supplies itself: the stack's config from
`Pulumi.<stack>.yaml` (secure values replaced by masked stand-ins and marked secret), a resource monitor that
records every registration with its parent, provider, dependencies, options and inputs in the engine's wire
encoding, and the engine's check that no resource falls back to a disabled default provider. The program itself
is not changed or copied: it runs as it would under `pulumi up`, with the cloud answered by `PlatformMocks`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import runpy
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.config import PROJECT, Settings, load_settings
from tools.offline.mocks import PlatformMocks

ROOT = Path(__file__).resolve().parents[2]
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SPECIAL_SIG = "4dabf18193072939515e22adb298388d"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
MASK = "[secret]"


class PlanError(Exception):
    """The program could not be planned: bad config, a program error, or an engine rule it broke."""


def project_name() -> str:
    return str(yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"])


def stack_area(stack: str, area: str) -> dict[str, Any]:
    """The object the stack file gives `<project>:<area>` (e.g. `dr`, `data`), as written there: the base a test
    config or a DR-mode plan changes a few keys of, to override the area whole."""
    config = (yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8")) or {}).get(
        "config"
    ) or {}
    return dict(config.get(f"{project_name()}:{area}") or {})


def stack_config(stack: str, overrides: Mapping[str, Any] | None = None) -> tuple[dict[str, str], list[str]]:
    """The config map the CLI would hand the program: `ns:key` -> string (objects JSON-encoded), and secret keys.

    Project-level values from Pulumi.yaml come first, then the stack file, then `overrides` (tests use these to try
    bad values; a value of None removes the key).
    """
    path = ROOT / f"Pulumi.{stack}.yaml"
    if not path.exists():
        stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))
        raise PlanError(f"no stack file {path.name}; stacks here: {', '.join(stacks)}")
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text()) or {}
    raw: dict[str, Any] = {}
    for key, spec in (project.get("config") or {}).items():
        if isinstance(spec, dict) and "value" in spec:
            raw[key if ":" in key else f"{project['name']}:{key}"] = spec["value"]
    raw.update((yaml.safe_load(path.read_text()) or {}).get("config") or {})
    for key, value in (overrides or {}).items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value

    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Ciphertext from `pulumi config set --secret` cannot be decrypted offline: a stand-in, kept secret.
            config[key] = f"offline-secret-for-{key.split(':', 1)[-1]}"
            secret_keys.append(key)
        elif isinstance(value, str):
            config[key] = value
        elif isinstance(value, bool):
            config[key] = "true" if value else "false"
        else:
            config[key] = json.dumps(value)
    return config, secret_keys


def stack_settings(stack: str, overrides: Mapping[str, Any] | None = None) -> Settings:
    """The typed, validated settings a stack file (plus overrides) gives the program."""
    config, _ = stack_config(stack, overrides)
    prefix = f"{PROJECT}:"
    return load_settings(
        {k[len(prefix) :]: v for k, v in config.items() if k.startswith(prefix)}, stack=stack
    )


def _mask(value: Any) -> Any:
    """Replace every secret's plaintext with a mask, keeping the engine's secret encoding."""
    if isinstance(value, dict):
        if value.get(SPECIAL_SIG) == SECRET_SIG:
            return {SPECIAL_SIG: SECRET_SIG, "value": MASK}
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


#: The engine's signature of an asset (a file the program ships, e.g. a Glue job's script).
ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"


def _assets(value: Any) -> Any:
    """A file asset as the engine holds it: its content hash (what a real diff compares) and its path relative to the
    program's folder, so the same file in another checkout is the same asset."""
    if isinstance(value, dict):
        if value.get(SPECIAL_SIG) == ASSET_SIG and isinstance(value.get("path"), str):
            path = Path(value["path"])
            absolute = path if path.is_absolute() else Path.cwd() / path
            digest = hashlib.sha256(absolute.read_bytes()).hexdigest() if absolute.is_file() else ""
            with contextlib.suppress(ValueError):
                path = absolute.resolve().relative_to(Path.cwd().resolve())
            return {**value, "path": str(path), "hash": digest}
        return {k: _assets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_assets(v) for v in value]
    return value


def _ints(value: Any) -> Any:
    """The wire format carries every number as a double; show whole numbers as integers in the plan."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """Mock state (python values, possibly with secret wrappers) -> JSON-safe, secrets masked."""
    if isinstance(value, dict):
        return _mask({str(k): _plain(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


class RecordingMonitor(runtime_mocks.MockMonitor):
    """The SDK's mock monitor, also keeping each registration the way the engine sees it."""

    def __init__(self, mocks: PlatformMocks) -> None:
        super().__init__(mocks)
        self.records: list[dict[str, Any]] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the engine gives (pulumi/pulumi `Deployment.generateURN`): the parent's *full* qualified type
        before the child's, so a grandchild's URN names every component above it; the root stack's type is left
        out. The SDK's mock monitor keeps only the parent's last type, which would make the URNs that policy
        exemptions, the runbook and `pulumi state` commands name differ from a real stack's."""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != "pulumi:pulumi:Stack":
                type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(_without_resource_refs(request))
        state = self.resources.get(response.urn)
        self.records.append(
            {
                "urn": response.urn,
                "type": request.type,
                "name": request.name,
                "custom": bool(request.custom),
                "remote": bool(request.remote),
                "parent": request.parent or None,
                "provider": request.provider,
                "providers": dict(request.providers),
                "protect": bool(request.protect),
                "retainOnDelete": bool(request.retainOnDelete),
                "deleteBeforeReplace": bool(request.deleteBeforeReplace),
                "ignoreChanges": list(request.ignoreChanges),
                "replaceOnChanges": list(request.replaceOnChanges),
                "customTimeouts": json_format.MessageToDict(request.customTimeouts),
                "additionalSecretOutputs": list(request.additionalSecretOutputs),
                "aliases": [json_format.MessageToDict(a) for a in request.aliases],
                "dependencies": list(request.dependencies),
                "propertyDependencies": {k: list(v.urns) for k, v in request.propertyDependencies.items()},
                "id": state.id if state else None,
                "inputs": _assets(_ints(_mask(json_format.MessageToDict(request.object)))),
                "outputs": _secret_outputs(_plain(state.state), request.additionalSecretOutputs)
                if state
                else {},
            }
        )
        return response


RESOURCE_REF_SIG = "5cf8f73096256a8f31e491e813e4eb8e"


def _refs_to_urns(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SPECIAL_SIG) == RESOURCE_REF_SIG:
            return value.get("urn", "")
        return {k: _refs_to_urns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_refs_to_urns(v) for v in value]
    return value


def _without_resource_refs(request: Any) -> Any:
    """The request with resource references (pulumi-eks's `cluster`, `serviceRole`, `nodeRole`) as plain URNs.

    The SDK's mock monitor would rehydrate each reference into a resource object on its own thread's event loop,
    which races the program's loop; the recorded inputs keep the references as the engine sees them.
    """
    as_dict = json_format.MessageToDict(request.object)
    if RESOURCE_REF_SIG not in json.dumps(as_dict):
        return request
    copy = type(request)()
    copy.CopyFrom(request)
    copy.object.Clear()
    copy.object.update(_refs_to_urns(as_dict))
    return copy


def _secret_outputs(outputs: dict[str, Any], secret_names: Sequence[str]) -> dict[str, Any]:
    """Mask the outputs the resource declares secret (`additionalSecretOutputs`), as the engine stores them."""
    names = set(secret_names)
    return {k: ({SPECIAL_SIG: SECRET_SIG, "value": MASK} if k in names else v) for k, v in outputs.items()}


def _check_default_providers(records: list[dict[str, Any]], config: Mapping[str, str]) -> None:
    """The engine refuses a resource whose package's default provider is disabled; so does this."""
    disabled = set(json.loads(config.get("pulumi:disable-default-providers", "[]")))
    offenders = [
        r["urn"]
        for r in records
        if r["custom"] and not r["provider"] and r["type"].split(":", 1)[0] in disabled
    ]
    if offenders:
        raise PlanError(
            "default providers are disabled (Pulumi.yaml) but these resources have no explicit provider:\n  "
            + "\n  ".join(offenders)
        )


def run_in_mocks(
    fn: Callable[[], Any],
    *,
    stack: str = "dev",
    config: Mapping[str, str] | None = None,
    secret_keys: Sequence[str] = (),
    monitor: RecordingMonitor | None = None,
) -> tuple[RecordingMonitor, dict[str, Any], set[str]]:
    """Run `fn` (a program, or a test building one component) on the mock runtime.

    Returns the recording monitor, the stack outputs (plain values) and the names of the secret outputs. Pass your
    own `monitor` to inspect what was registered even when `fn` raises.
    """
    monitor = monitor or RecordingMonitor(PlatformMocks())
    mocks = monitor.mocks
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project=project_name(), stack=stack, preview=True, monitor=monitor)
    pulumi.runtime.set_all_config(dict(config or {}), list(secret_keys))
    _sync_await(run_pulumi_func(fn))
    root = runtime_settings.get_root_resource()
    outputs: dict[str, Any] = {}
    secret_outputs: set[str] = set()
    for key, value in (getattr(root, "outputs", None) or {}).items():
        out = pulumi.Output.from_input(value)
        outputs[key] = _sync_await(out.future(with_unknowns=True))
        if _sync_await(out.is_secret()):
            secret_outputs.add(key)
    return monitor, outputs, secret_outputs


def run_program(
    stack: str,
    overrides: Mapping[str, Any] | None = None,
    program: Path | None = None,
    monitor: RecordingMonitor | None = None,
) -> tuple[RecordingMonitor, dict[str, Any], set[str]]:
    """Run `__main__.py` for `stack` with its stack file's config (plus `overrides`)."""
    config, secret_keys = stack_config(stack, overrides)
    path = program or ROOT / "__main__.py"
    sys.path.insert(0, str(path.parent))
    try:
        result = run_in_mocks(
            lambda: runpy.run_path(str(path), run_name="__main__"), stack=stack, config=config,
            secret_keys=secret_keys, monitor=monitor,
        )  # fmt: skip
    finally:
        sys.path.remove(str(path.parent))
    _check_default_providers(result[0].records, config)
    return result


def build_plan(stack: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The plan of `stack` as a dict: project, stack, config (secrets masked), resources, outputs (masked)."""
    monitor, outputs, secret_outputs = run_program(stack, overrides)
    config, secret_keys = stack_config(stack, overrides)
    return {
        "project": project_name(),
        "stack": stack,
        "config": {k: (MASK if k in secret_keys else v) for k, v in sorted(config.items())},
        "resources": sorted(monitor.records, key=lambda r: r["urn"]),
        "outputs": {
            k: ({SPECIAL_SIG: SECRET_SIG, "value": MASK} if k in secret_outputs else _plain(v))
            for k, v in outputs.items()
        },
    }


def write_plan(plan: Mapping[str, Any], build_dir: Path | None = None) -> Path:
    """Write `build/<stack>/plan.json` and return its path."""
    out_dir = (build_dir or ROOT / "build") / str(plan["stack"])
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "plan.json"
    path.write_text(json.dumps(plan, indent=2, sort_keys=False) + "\n")
    return path
