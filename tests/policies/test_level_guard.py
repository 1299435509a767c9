"""End-to-end guard: the pack started as the CLI starts it, `GetAnalyzerInfo`, the CLI's reconcile, `Configure` —
then every rule declared mandatory is still mandatory, and every exempted rule still reports (as mandatory) a
violating resource that is not the exempted one. Run once on the real pack and once on a copy whose initial
config drops the levels (the bug the CLI would have shown: exempted rules silently advisory), which it must catch.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from pulumi_policy import EnforcementLevel

from policies.ecommerce_guard import pack
from tests.policies.helpers import plan_of
from tests.policies.test_pack import ALL_CASES
from tools.offline.analyzer_host import POLICIES_DIR, Timeouts, ensure_pack_venv
from tools.offline.policy_run import PolicySession

Session = Callable[[str], PolicySession]

DECLARED = {p.name: p.enforcement_level for p in pack.all_policies()}
EXEMPTED = sorted({e["rule"] for e in pack.load_exemptions()})


def level_problems(session: PolicySession) -> list[str]:
    """What breaks the promise "an exemption never changes a level", as seen through the protocol."""
    problems: list[str] = []
    config = session.configure()
    for name, level in DECLARED.items():
        if level == EnforcementLevel.MANDATORY and config[name]["enforcementLevel"] != "mandatory":
            problems.append(f"{name}: declared mandatory, reconciled {config[name]['enforcementLevel']}")
    for rule in EXEMPTED:
        case = next(c for c in ALL_CASES if c.rule == rule and c.violates)
        report = session.analyze(plan_of(list(case.resources)))
        found = [d for d in report.diagnostics if d.policy == rule and d.urn]
        if not found:
            problems.append(f"{rule}: its violating case {case.label!r} reported nothing")
        for d in found:
            if d.level != "mandatory":
                problems.append(f"{rule}: {d.urn} reported as {d.level}, not mandatory")
    return problems


def test_the_pack_has_exemptions_to_guard() -> None:
    assert EXEMPTED and all(DECLARED[r] == EnforcementLevel.MANDATORY for r in EXEMPTED), EXEMPTED


def test_initial_config_carries_each_exempted_rules_own_level() -> None:
    for rule, entry in pack.initial_config().items():
        assert entry["enforcementLevel"] == DECLARED[rule], f"{rule}: {entry['enforcementLevel']}"
        assert entry["exemptions"], rule


def test_every_mandatory_rule_stays_mandatory_through_the_cli_reconcile(pack_session: Session) -> None:
    session = pack_session("prod")
    assert session.info is not None
    assert set(session.info.initial_config) == set(EXEMPTED)
    assert level_problems(session) == []


@pytest.fixture(scope="module")
def levelless_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the pack whose initial config drops every level (as the pack did before)."""
    copy = tmp_path_factory.mktemp("levelless") / "policies"
    shutil.copytree(POLICIES_DIR, copy, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    main = copy / "__main__.py"
    text = main.read_text()
    text, count = re.subn(
        r"initial_config=initial_config\(\)",
        'initial_config={k: {p: v for p, v in e.items() if p != "enforcementLevel"} '
        "for k, e in initial_config().items()}",
        text,
    )
    assert count == 1, "policies/__main__.py no longer passes initial_config=initial_config()"
    main.write_text(text)
    return copy


def test_the_guard_catches_an_initial_config_without_levels(levelless_pack: Path) -> None:
    python = ensure_pack_venv(POLICIES_DIR)
    with PolicySession(
        project="ecommerce-platform",
        stack="prod",
        stack_config={"ecommerce-platform:environment": "prod"},
        python=python,
        policies_dir=levelless_pack,
        timeouts=Timeouts(call=30, start=60, stack=120),
    ) as session:
        problems = level_problems(session)
    for rule in EXEMPTED:
        assert any(p.startswith(f"{rule}: declared mandatory, reconciled advisory") for p in problems), (
            problems
        )
        assert any(p.startswith(f"{rule}: ") and "as advisory" in p for p in problems), problems
