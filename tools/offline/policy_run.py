"""The offline policy run: the CrossGuard pack in `policies/` over a stack's offline plan, through the Analyzer
protocol, exactly as `pulumi preview --policy-pack policies` would drive it.

    python -m tools.offline.policy_run --stack dev [--plan build/dev/plan.json] [--config policy-config.json]

Prints the violations grouped by rule (level, resource, message) and one summary line; exits 1 on any
mandatory violation, 2 when the pack cannot be run (it did not start, did not answer in time, or its config is
invalid), 0 otherwise. Importable: `run_plan()` for one-shot use, `PolicySession` to keep one pack process for
many plans (tests, the mutation suite).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from tools.offline import cli_config
from tools.offline.analyzer_host import (
    DEFAULT_TIMEOUTS,
    POLICIES_DIR,
    REPO_ROOT,
    AnalyzerError,
    AnalyzerInfo,
    Diagnostic,
    PackProcess,
    ProviderIndex,
    Timeouts,
)
from tools.offline.cli_config import PolicyConfig, PolicyConfigError

LEVEL_ORDER: Final = {"mandatory": 0, "remediate": 1, "advisory": 2, "disabled": 3}

__all__ = ["PolicyConfigError", "PolicySession", "Report", "reconcile_config", "run_plan"]


def plan_path(stack: str) -> Path:
    return REPO_ROOT / "build" / stack / "plan.json"


def load_plan(stack: str, path: Path | None = None) -> dict[str, Any]:
    """The stack's offline plan: the given file, else build/<stack>/plan.json, else built in-process by the
    offline engine (and written to build/<stack>/plan.json)."""
    target = path or plan_path(stack)
    if target.exists():
        plan: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
        return plan
    if path is not None:
        raise FileNotFoundError(f"no plan at {path}")
    try:
        from tools.offline.engine import build_plan  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise FileNotFoundError(
            f"no plan at {target} and the offline engine is not available: run `make preview STACK={stack}` first"
        ) from exc
    built: dict[str, Any] = build_plan(stack)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(built, indent=2, sort_keys=True), encoding="utf-8")
    return built


# ----------------------------------------------------------------------------------------------------------------
# Config: the CLI's ReconcilePolicyPackConfig (tools/offline/cli_config.py, step by step with its sources)


def reconcile_config(
    info: AnalyzerInfo, user_config: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """What the CLI sends with `Configure`: the policies' levels and schema defaults, the pack's initial config,
    then the user's `--policy-pack-config` (decoded JSON), validated; as `{rule: {"enforcementLevel", ...props}}`."""
    reconciled = cli_config.reconcile(
        info.policy_infos(), info.initial_config, cli_config.parse_config_file(user_config or {})
    )
    return {name: entry.as_dict() for name, entry in reconciled.items()}


# ----------------------------------------------------------------------------------------------------------------
# Running


@dataclass
class Report:
    pack: str
    stack: str
    rules: int
    mandatory_rules: int
    resources: int
    diagnostics: list[Diagnostic]
    exemptions: list[tuple[str, str, str]] = field(default_factory=list)
    seconds: float = 0.0
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def mandatory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level in ("mandatory", "remediate")]

    @property
    def advisory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "advisory"]

    def by_rule(self) -> dict[str, list[Diagnostic]]:
        groups: dict[str, list[Diagnostic]] = defaultdict(list)
        for d in self.diagnostics:
            groups[d.policy].append(d)
        return dict(groups)

    def summary(self) -> str:
        groups = self.by_rule()
        return (
            f"Policy pack {self.pack} on stack {self.stack}: {self.rules} rules ({self.mandatory_rules} mandatory) over "
            f"{self.resources} resources: {len(self.mandatory)} mandatory, {len(self.advisory)} advisory violations "
            f"({len(groups)} rules); {len(self.exemptions)} exemptions in use; {self.seconds:.1f}s"
        )

    def render(self) -> str:
        lines: list[str] = []
        groups = sorted(self.by_rule().items(), key=lambda kv: (LEVEL_ORDER.get(kv[1][0].level, 9), kv[0]))
        for rule, diags in groups:
            lines.append(f"[{diags[0].level}] {rule}: {diags[0].description}")
            for d in sorted(diags, key=lambda x: x.urn):
                where = self.labels.get(d.urn, d.urn or "(stack)")
                lines.append(f"    {where}")
                for text in d.message.splitlines():
                    lines.append(f"        {text}")
        if self.exemptions:
            lines.append("Exemptions in use:")
            for rule, urn, reason in self.exemptions:
                lines.append(f"    {rule}: {self.labels.get(urn, urn)}: {reason}")
        lines.append(self.summary())
        return "\n".join(lines)


class PolicySession:
    """One running pack for one stack (its environment is set when the process starts, as the CLI does)."""

    def __init__(
        self,
        *,
        project: str,
        stack: str,
        stack_config: Mapping[str, Any] | None = None,
        python: str | Path | None = None,
        policies_dir: Path = POLICIES_DIR,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        self.process = PackProcess(
            project=project,
            stack=stack,
            stack_config=stack_config,
            python=python,
            policies_dir=policies_dir,
            timeouts=timeouts,
        )
        self.info: AnalyzerInfo | None = None
        self._configured: str | None = None
        self._reconciled: dict[str, dict[str, PolicyConfig]] = {}

    @classmethod
    def for_plan(cls, plan: Mapping[str, Any], **kwargs: Any) -> PolicySession:
        return cls(
            project=plan.get("project", "ecommerce-platform"),
            stack=plan["stack"],
            stack_config=plan.get("config"),
            **kwargs,
        )

    def __enter__(self) -> PolicySession:
        self.process.__enter__()
        self.process.plugin_version()
        self.info = self.process.analyzer_info()
        self.process.configure_stack({"pulumi:project": self.process.project, "pulumi:runtime": "python"})
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.__exit__(*exc)

    def configure(self, user_config: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """Reconcile as the CLI does and send `Configure` (only when it differs from what the pack already has)."""
        assert self.info is not None
        given = json.dumps(user_config or {}, sort_keys=True)
        if given not in self._reconciled:
            self._reconciled[given] = cli_config.reconcile(
                self.info.policy_infos(),
                self.info.initial_config,
                cli_config.parse_config_file(user_config or {}),
            )
        config = self._reconciled[given]
        if given != self._configured:
            self.process.configure(config)
            self._configured = given
        return {name: entry.as_dict() for name, entry in config.items()}

    def analyze(
        self,
        plan: Mapping[str, Any],
        *,
        user_config: Mapping[str, Any] | None = None,
        only: Iterable[str] | None = None,
        stack: bool = True,
    ) -> Report:
        """Analyze every resource (or only the URNs in `only`, e.g. a mutant's changed resources: the others'
        answers cannot change), then the whole stack."""
        assert self.info is not None
        started = time.monotonic()
        version = manifest_version(self.process.policies_dir) or self.info.version
        config = self.configure(user_config)
        resources: list[Mapping[str, Any]] = list(plan.get("resources") or [])
        providers = ProviderIndex(resources)
        wanted = set(only) if only is not None else None
        diagnostics: list[Diagnostic] = []
        for resource in resources:
            if wanted is None or resource["urn"] in wanted:
                diagnostics += self.process.analyze(resource, providers)
        if stack:
            diagnostics += self.process.analyze_stack(resources, providers)
        exemptions = [
            (rule, e["urn"], e["reason"])
            for rule, value in sorted(config.items())
            for e in value.get("exemptions") or []
            if any(_matches(e["urn"], r["urn"]) for r in resources)
        ]
        labels = {r["urn"]: f"{r['type']} '{r.get('name', '')}'" for r in resources}
        return Report(
            pack=f"{self.info.name}@{version}",
            stack=str(plan.get("stack", self.process.stack)),
            rules=len(self.info.policies),
            mandatory_rules=sum(
                1 for p in self.info.policies if config[p["name"]]["enforcementLevel"] == "mandatory"
            ),
            resources=len(resources),
            diagnostics=diagnostics,
            exemptions=exemptions,
            seconds=time.monotonic() - started,
            labels=labels,
        )


def manifest_version(policies_dir: Path) -> str | None:
    """PulumiPolicy.yaml's version: the CLI reports it over the one the SDK answers (always 0.0.1 in Python)."""
    manifest = policies_dir / "PulumiPolicy.yaml"
    if not manifest.exists():
        return None
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if line.startswith("version:"):
            return line.split(":", 1)[1].strip().strip("'\"") or None
    return None


def _matches(pattern: str, urn: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(urn, pattern) if any(c in pattern for c in "*?[") else pattern == urn


def run_plan(
    plan: Mapping[str, Any], *, user_config: Mapping[str, Any] | None = None, **kwargs: Any
) -> Report:
    with PolicySession.for_plan(plan, **kwargs) as session:
        return session.analyze(plan, user_config=user_config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.offline.policy_run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--stack", default="dev", help="stack whose plan to check (default: dev)")
    parser.add_argument("--plan", type=Path, help="plan.json to check (default: build/<stack>/plan.json)")
    parser.add_argument("--config", type=Path, help="policy pack config file, as `--policy-pack-config`")
    parser.add_argument("--policies", type=Path, default=POLICIES_DIR, help="the policy pack folder")
    parser.add_argument(
        "--timeout", type=float, default=Timeouts.call, help="seconds to wait for each answer"
    )
    args = parser.parse_args(argv)
    try:
        plan = load_plan(args.stack, args.plan)
        text = args.config.read_text(encoding="utf-8") if args.config else ""
        user_config = json.loads(text) if text.strip() else None
        timeouts = Timeouts(
            call=args.timeout,
            start=max(args.timeout, Timeouts.start),
            stack=max(4 * args.timeout, Timeouts.stack),
        )
        report = run_plan(
            plan, user_config=user_config, policies_dir=args.policies.resolve(), timeouts=timeouts
        )
    except (AnalyzerError, PolicyConfigError, FileNotFoundError, ValueError) as exc:
        print(f"policy run failed: {exc}", file=sys.stderr)
        return 2
    print(report.render())
    return 1 if report.mandatory else 0


if __name__ == "__main__":
    sys.exit(main())
