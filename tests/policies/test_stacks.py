"""The pack over the real program, through the Analyzer protocol: both stacks without mandatory violations, and
the mutation suite on the prod plan (every mutant caught by a mandatory rule)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import pytest

from tests.policies.mutation import MUTANTS, render, run_mutants, summary
from tools.offline.policy_run import PolicySession, Report

_REPORTS: dict[str, Report] = {}

PROJECT: Final = "ecommerce-platform"


@pytest.fixture(scope="module")
def stack_report(
    plan: Callable[[str], dict[str, Any]], pack_session: Callable[[str], PolicySession]
) -> Callable[[str], Report]:
    """The pack's full report on a stack's plan, computed once (the mutation suite's baseline too)."""

    def get(stack: str) -> Report:
        if stack not in _REPORTS:
            _REPORTS[stack] = pack_session(stack).analyze(plan(stack))
        return _REPORTS[stack]

    return get


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_has_no_mandatory_violations(
    stack: str,
    plan: Callable[[str], dict[str, Any]],
    pack_session: Callable[[str], PolicySession],
    request: pytest.FixtureRequest,
) -> None:
    report = pack_session(stack).analyze(plan(stack))
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"\n{report.summary()}")
    # Never make a stack pass by weakening a rule: fix the stack, or add a named exemption where the rule truly
    # does not apply (policies/exemptions.json, printed on every run).
    assert not report.mandatory, f"{len(report.mandatory)} mandatory violations:\n" + "\n".join(
        f"  {d.policy}: {d.urn}: {d.message}" for d in report.mandatory
    )


def test_mutation_suite_on_the_prod_plan(
    plan: Callable[[str], dict[str, Any]],
    pack_session: Callable[[str], PolicySession],
    request: pytest.FixtureRequest,
) -> None:
    prod = plan("prod")
    outcomes = run_mutants(pack_session("prod"), prod)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("\n" + summary(outcomes))
    applicable = [o for o in outcomes if o.applicable]
    missed = [o for o in applicable if not o.caught]
    assert not missed, "mutants not caught by a mandatory rule:\n" + render(missed)
    assert len(applicable) >= 30, summary(outcomes)
    assert len({o.mutant.area for o in applicable}) >= 4, summary(outcomes)


def test_mutation_suite_reports_a_mutant_its_rule_no_longer_catches(
    plan: Callable[[str], dict[str, Any]], pack_session: Callable[[str], PolicySession]
) -> None:
    """The harness itself can fail: with the rule that should catch them disabled, these mutants are missed."""
    chosen = [m for m in MUTANTS if m.id in ("sg-db-5432-world", "sg-nodes-ssh-inline", "default-sg-open")]
    prod = plan("prod")
    network = {
        **prod,
        "resources": [
            r for r in prod["resources"] if "EcommerceVpc" in r["urn"] or "providers:aws" in r["urn"]
        ],
    }
    outcomes = run_mutants(
        pack_session("prod"),
        network,
        chosen,
        user_config={"sg-no-public-ingress": "disabled", "default-sg-closed": "advisory"},
    )
    assert [o.applicable for o in outcomes] == [True, True, True], render(outcomes)
    assert not any(o.caught for o in outcomes), render(outcomes)
