"""Runs a Python CrossGuard pack the way the Pulumi CLI does, and talks to it over the Analyzer gRPC protocol.

What the CLI does (sdk/go/common/resource/plugin/analyzer_plugin.go and the `pulumi-analyzer-policy-python` shim):
the pack's virtualenv (PulumiPolicy.yaml `runtime.options.virtualenv`, built from its requirements.txt); the process
`<venv>/bin/python -u -m pulumi.policy <engine-address> .` started in the pack's folder, with the stack in
PULUMI_PROJECT / PULUMI_STACK / PULUMI_DRY_RUN / PULUMI_CONFIG; the port read from its first line of stdout;
then `GetPluginInfo`, `GetAnalyzerInfo`, `ConfigureStack`, `Configure` (every rule's config reconciled from the
schema defaults, the pack's initial config and the user's config file, validated against the schema), one
`Analyze` per resource (inputs marshalled with unknowns and secrets kept, resource references downgraded to
their id or URN) and one `AnalyzeStack` with every resource, its parent and dependencies.

Every wait has a time limit: a pack that does not start, does not print its port or does not answer fails with
a message naming what it was waiting for, never a hang. There is no engine to call back: the pack's own logs
go to its stderr, which is kept for error messages.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, plugin_pb2

from tools.offline.cli_config import (
    PolicyConfig,
    PolicyConfigError,
    PolicyInfo,
    is_valid,
    level_from_proto,
    with_injected_level,
)

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
POLICIES_DIR: Final = REPO_ROOT / "policies"

SIG_KEY: Final = "4dabf18193072939515e22adb298388d"
SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_SIG: Final = "5cf8f73096256a8f31e491e813e4eb8e"
UNKNOWN_STRING: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

# The CLI's message-size limit for analyzer traffic: a whole stack in one AnalyzeStack must fit.
_MAX_MESSAGE: Final = 400 * 1024 * 1024
_CHANNEL_OPTIONS: Final = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    ("grpc.max_send_message_length", _MAX_MESSAGE),
]


class AnalyzerError(RuntimeError):
    """The pack could not be started or did not answer; the message says which step and why."""


@dataclass(frozen=True)
class Timeouts:
    install: float = 600.0
    start: float = 60.0
    call: float = 30.0
    stack: float = 120.0


DEFAULT_TIMEOUTS: Final = Timeouts()


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    level: str
    urn: str
    message: str
    description: str
    pack: str


@dataclass
class AnalyzerInfo:
    name: str
    version: str
    policies: list[dict[str, Any]]
    initial_config: dict[str, PolicyConfig]
    supports_config: bool = True
    raw: Any = field(repr=False, default=None)

    def policy_infos(self) -> list[PolicyInfo]:
        """The policies as the CLI holds them: with `supportsConfig`, `enforcementLevel` injected in each schema."""
        return [
            PolicyInfo(
                name=p["name"],
                level=p["enforcementLevel"],
                schema=with_injected_level(p["schema"]) if self.supports_config else dict(p["schema"]),
                required=list(p["required"]),
            )
            for p in self.policies
        ]


# ----------------------------------------------------------------------------------------------------------------
# The pack's virtualenv


def _find_uv() -> str | None:
    local = REPO_ROOT / ".bootstrap" / "bin" / "uv"
    if local.exists():
        return str(local)
    return shutil.which("uv")


def pack_virtualenv(policies_dir: Path = POLICIES_DIR) -> Path:
    """The virtualenv named in PulumiPolicy.yaml (`.venv`), under the pack."""
    name = ".venv"
    manifest = policies_dir / "PulumiPolicy.yaml"
    if manifest.exists():
        for line in manifest.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith("virtualenv:"):
                name = stripped.split(":", 1)[1].strip().strip("'\"") or name
    return policies_dir / name


def ensure_pack_venv(policies_dir: Path = POLICIES_DIR, *, timeout: float = Timeouts.install) -> Path:
    """Create (or reuse) the pack's virtualenv from its requirements.txt; returns its python."""
    requirements = policies_dir / "requirements.txt"
    venv = pack_virtualenv(policies_dir)
    python = venv / "bin" / "python"
    digest = hashlib.sha256(
        requirements.read_bytes() + f"{sys.version_info[:2]} compiled".encode()
    ).hexdigest()
    stamp = venv / ".requirements.sha256"
    if python.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    # Outside the work tree, so nothing untracked is left behind; one lock per pack folder.
    lock_path = (
        Path(tempfile.gettempdir())
        / f"policy-venv-{hashlib.sha256(str(venv).encode()).hexdigest()[:16]}.lock"
    )
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists() and stamp.exists() and stamp.read_text().strip() == digest:
            return python
        uv = _find_uv()
        if uv:
            steps = [
                [uv, "venv", "--quiet", "--allow-existing", "--python", sys.executable, str(venv)],
                # Bytecode compiled at install: with PYTHONDONTWRITEBYTECODE (CI sets it) every pack start would
                # otherwise compile the SDKs from source again.
                [
                    uv,
                    "pip",
                    "sync",
                    "--quiet",
                    "--compile-bytecode",
                    "--python",
                    str(python),
                    str(requirements),
                ],
            ]
        else:
            steps = [
                [sys.executable, "-m", "venv", str(venv)],
                [str(python), "-m", "pip", "install", "--quiet", "-r", str(requirements)],
            ]
        for step in steps:
            try:
                subprocess.run(step, check=True, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                raise AnalyzerError(
                    f"installing the policy pack's virtualenv timed out after {timeout:.0f}s: {' '.join(step)}"
                ) from exc
            except subprocess.CalledProcessError as exc:
                raise AnalyzerError(
                    f"could not install the policy pack's virtualenv ({' '.join(step)}):\n{exc.stderr.strip()[-2000:]}"
                ) from exc
        stamp.write_text(digest + "\n")
    return python


# ----------------------------------------------------------------------------------------------------------------
# Marshalling, as the engine does for analyzers (KeepUnknowns, KeepSecrets, no resource references)


def marshal_value(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == RESOURCE_SIG:
            # Without KeepResources the engine sends a custom resource's id, else its URN.
            ref_id = value.get("id")
            if ref_id not in (None, ""):
                return marshal_value(ref_id)
            return str(value.get("urn", UNKNOWN_STRING))
        if value.get(SIG_KEY) == SECRET_SIG:
            return {SIG_KEY: SECRET_SIG, "value": marshal_value(value.get("value"))}
        return {str(k): marshal_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [marshal_value(v) for v in value]
    return value


def to_struct(props: Mapping[str, Any] | None) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    if props:
        struct.update(marshal_value(dict(props)))
    return struct


def resource_options(resource: Mapping[str, Any]) -> analyzer_pb2.AnalyzerResourceOptions:
    dbr = resource.get("deleteBeforeReplace")
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(resource.get("protect", False)),
        ignoreChanges=list(resource.get("ignoreChanges") or []),
        deleteBeforeReplace=bool(dbr),
        deleteBeforeReplaceDefined=dbr is not None,
        additionalSecretOutputs=list(resource.get("additionalSecretOutputs") or []),
        aliases=[a if isinstance(a, str) else json.dumps(a) for a in resource.get("aliases") or []],
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(),
        parent=resource.get("parent") or "",
    )


def stack_properties(resource: Mapping[str, Any]) -> dict[str, Any]:
    """What AnalyzeStack carries for a resource: a custom resource's state (declared inputs over the provider's
    computed outputs, as in a preview's planned state); a component's inputs."""
    inputs = dict(resource.get("inputs") or {})
    if resource.get("custom", True):
        return {**dict(resource.get("outputs") or {}), **inputs}
    return inputs


class ProviderIndex:
    """Finds a resource's provider ('<urn>::<id>' reference) in the plan and marshals it for the request."""

    def __init__(self, resources: Iterable[Mapping[str, Any]]) -> None:
        self._by_urn = {
            r["urn"]: r for r in resources if str(r.get("type", "")).startswith("pulumi:providers:")
        }

    def for_resource(self, resource: Mapping[str, Any]) -> analyzer_pb2.AnalyzerProviderResource | None:
        ref = resource.get("provider") or ""
        if not ref:
            return None
        urn = ref.rsplit("::", 1)[0] if ref.count("::") > 3 else ref
        provider = self._by_urn.get(urn)
        if provider is None:
            return None
        return analyzer_pb2.AnalyzerProviderResource(
            type=provider["type"],
            properties=to_struct(provider.get("inputs")),
            urn=provider["urn"],
            name=provider.get("name", ""),
        )


# ----------------------------------------------------------------------------------------------------------------
# The running pack


class PackProcess:
    """A started policy pack with a connected Analyzer stub. Use as a context manager."""

    def __init__(
        self,
        *,
        project: str,
        stack: str,
        stack_config: Mapping[str, Any] | None = None,
        python: str | Path | None = None,
        policies_dir: Path = POLICIES_DIR,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        engine_address: str = "127.0.0.1:0",
    ) -> None:
        self.project = project
        self.stack = stack
        self.stack_config = dict(stack_config or {})
        self.policies_dir = policies_dir
        self.timeouts = timeouts
        self.engine_address = engine_address
        self._python = Path(python) if python else None
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._stderr: deque[str] = deque(maxlen=200)
        self.port: int | None = None
        self.startup_seconds = 0.0

    # -- lifecycle -------------------------------------------------------------------------------------------

    def __enter__(self) -> PackProcess:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        for key in ("PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV"):
            env.pop(key, None)
        config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in self.stack_config.items()}
        env.update(
            {
                "PULUMI_PROJECT": self.project,
                "PULUMI_STACK": self.stack,
                "PULUMI_ORGANIZATION": "organization",
                "PULUMI_DRY_RUN": "true",
                "PULUMI_CONFIG": json.dumps(config),
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def start(self) -> None:
        started = time.monotonic()
        python = self._python or ensure_pack_venv(self.policies_dir, timeout=self.timeouts.install)
        if not (self.policies_dir / "PulumiPolicy.yaml").exists():
            raise AnalyzerError(f"no PulumiPolicy.yaml in {self.policies_dir}")
        bin_dir = str(Path(python).parent)
        env = self._env()
        env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
        cmd = [str(python), "-u", "-m", "pulumi.policy", self.engine_address, "."]
        try:
            self._proc = subprocess.Popen(
                cmd,
                cwd=self.policies_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise AnalyzerError(f"could not start the policy pack ({' '.join(cmd)}): {exc}") from exc
        self.port = self._read_port()
        self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}", options=_CHANNEL_OPTIONS)
        try:
            grpc.channel_ready_future(self._channel).result(timeout=self.timeouts.start)
        except grpc.FutureTimeoutError as exc:
            raise AnalyzerError(
                f"the policy pack printed port {self.port} but did not accept a connection within "
                f"{self.timeouts.start:.0f}s{self._stderr_tail()}"
            ) from exc
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        self.startup_seconds = time.monotonic() - started

    def _drain(self, stream: Any, sink: deque[str]) -> None:
        for raw in iter(stream.readline, b""):
            sink.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def _read_port(self) -> int:
        assert self._proc is not None and self._proc.stdout is not None and self._proc.stderr is not None
        threading.Thread(target=self._drain, args=(self._proc.stderr, self._stderr), daemon=True).start()
        first_line: list[bytes] = []
        reader = threading.Thread(target=lambda: first_line.append(self._proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(self.timeouts.start)
        if reader.is_alive():
            raise AnalyzerError(
                f"the policy pack did not print its port within {self.timeouts.start:.0f}s{self._stderr_tail()}"
            )
        line = first_line[0].decode("utf-8", "replace").strip() if first_line else ""
        if not line:
            self._wait_exit(2.0)
            code = self._proc.poll()
            raise AnalyzerError(
                f"the policy pack exited (code {code}) before printing its port{self._stderr_tail()}"
            )
        try:
            port = int(line)
        except ValueError as exc:
            raise AnalyzerError(
                f"the policy pack printed {line!r} where its port was expected{self._stderr_tail()}"
            ) from exc
        stdout_rest: deque[str] = deque(maxlen=200)
        threading.Thread(target=self._drain, args=(self._proc.stdout, stdout_rest), daemon=True).start()
        return port

    def _wait_exit(self, seconds: float) -> None:
        if self._proc is None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(seconds)

    def _stderr_tail(self) -> str:
        time.sleep(0.05)
        lines = [line for line in self._stderr if line.strip()]
        return ("; its stderr ends with:\n  " + "\n  ".join(lines[-25:])) if lines else ""

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._proc = None

    # -- calls ----------------------------------------------------------------------------------------------

    def _call(self, name: str, request: Any, timeout: float, what: str) -> Any:
        if self._stub is None:
            raise AnalyzerError("the policy pack is not running")
        method = getattr(self._stub, name)
        try:
            return method(request, timeout=timeout)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise AnalyzerError(
                    f"the policy pack did not answer {what} within {timeout:.0f}s{self._stderr_tail()}"
                ) from exc
            details = exc.details() if hasattr(exc, "details") else str(exc)
            raise AnalyzerError(
                f"the policy pack failed {what}: {code}: {details}{self._stderr_tail()}"
            ) from exc

    def plugin_version(self) -> str:
        info: plugin_pb2.PluginInfo = self._call(
            "GetPluginInfo", empty_pb2.Empty(), self.timeouts.call, "GetPluginInfo"
        )
        return info.version

    def analyzer_info(self) -> AnalyzerInfo:
        info = self._call("GetAnalyzerInfo", empty_pb2.Empty(), self.timeouts.call, "GetAnalyzerInfo")
        policies = []
        for p in info.policies:
            schema = (
                json_format.MessageToDict(p.configSchema.properties) if p.HasField("configSchema") else {}
            )
            policies.append(
                {
                    "name": p.name,
                    "description": p.description,
                    "enforcementLevel": level_from_proto(p.enforcementLevel),
                    "schema": schema,
                    "required": list(p.configSchema.required) if p.HasField("configSchema") else [],
                    "type": "stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
                    "tags": list(p.tags),
                    "framework": p.framework.reference if p.HasField("framework") else "",
                }
            )
        # As the CLI reads it (analyzer_plugin.go GetAnalyzerInfo): an entry's level goes through
        # convertEnforcementLevel, so a level the pack left at the protobuf default arrives as "advisory".
        initial = {
            k: PolicyConfig(
                level_from_proto(v.enforcementLevel),
                json_format.MessageToDict(v.properties) if v.HasField("properties") else None,
            )
            for k, v in info.initialConfig.items()
        }
        return AnalyzerInfo(
            name=info.name,
            version=info.version,
            policies=policies,
            initial_config=initial,
            supports_config=info.supportsConfig,
            raw=info,
        )

    def configure_stack(self, tags: Mapping[str, str] | None = None) -> None:
        request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=self.stack,
            project=self.project,
            organization="organization",
            dry_run=True,
            config={k: v if isinstance(v, str) else json.dumps(v) for k, v in self.stack_config.items()},
            tags=dict(tags or {}),
        )
        try:
            self._call("ConfigureStack", request, self.timeouts.call, "ConfigureStack")
        except AnalyzerError as exc:
            if "UNIMPLEMENTED" not in str(exc):
                raise

    def configure(self, config: Mapping[str, PolicyConfig]) -> None:
        """`Configure` with the reconciled config, every entry's level checked as the CLI checks it."""
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, value in config.items():
            if not is_valid(value.level):
                raise PolicyConfigError(f'invalid enforcement level "{value.level}" for {name}')
            entry = analyzer_pb2.PolicyConfig(
                enforcementLevel=analyzer_pb2.EnforcementLevel.Value(value.level.upper())
            )
            if value.properties:
                entry.properties.update(value.properties)
            request.policyConfig[name].CopyFrom(entry)
        self._call("Configure", request, self.timeouts.call, "Configure")

    def analyze(self, resource: Mapping[str, Any], providers: ProviderIndex) -> list[Diagnostic]:
        provider = providers.for_resource(resource)
        request = analyzer_pb2.AnalyzeRequest(
            type=resource["type"],
            properties=to_struct(resource.get("inputs")),
            urn=resource["urn"],
            name=resource.get("name", ""),
            options=resource_options(resource),
        )
        if provider is not None:
            request.provider.CopyFrom(provider)
        response = self._call("Analyze", request, self.timeouts.call, f"Analyze for {resource['urn']}")
        return [_diagnostic(d, resource["urn"]) for d in response.diagnostics]

    def analyze_stack(self, resources: list[Mapping[str, Any]], providers: ProviderIndex) -> list[Diagnostic]:
        items = []
        for resource in resources:
            item = analyzer_pb2.AnalyzerResource(
                type=resource["type"],
                properties=to_struct(stack_properties(resource)),
                urn=resource["urn"],
                name=resource.get("name", ""),
                options=resource_options(resource),
                parent=resource.get("parent") or "",
                dependencies=list(resource.get("dependencies") or []),
            )
            provider = providers.for_resource(resource)
            if provider is not None:
                item.provider.CopyFrom(provider)
            for prop, urns in (resource.get("propertyDependencies") or {}).items():
                if urns:
                    item.propertyDependencies[prop].CopyFrom(
                        analyzer_pb2.AnalyzerPropertyDependencies(urns=list(urns))
                    )
            items.append(item)
        response = self._call(
            "AnalyzeStack",
            analyzer_pb2.AnalyzeStackRequest(resources=items),
            self.timeouts.stack,
            "AnalyzeStack",
        )
        return [_diagnostic(d, "") for d in response.diagnostics]


def _diagnostic(d: Any, default_urn: str) -> Diagnostic:
    message = d.message
    if d.description and message.startswith(d.description):
        message = message[len(d.description) :].lstrip("\n")
    return Diagnostic(
        policy=d.policyName,
        level=analyzer_pb2.EnforcementLevel.Name(d.enforcementLevel).lower(),
        urn=d.urn or default_urn,
        message=message,
        description=d.description,
        pack=f"{d.policyPackName}@{d.policyPackVersion}",
    )
