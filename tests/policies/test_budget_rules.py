"""The budget rule (stack-monthly-budget): the plan's monthly estimate against `budget` in the stack config, read
from PULUMI_CONFIG as the CLI passes it; advisory by default, mandatory when the pack's config says so."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.policies.cases import Case, check
from tests.policies.helpers import R, plan_of, provider, violations
from tools.offline.analyzer_host import Timeouts
from tools.offline.policy_run import PolicySession

RULE = "stack-monthly-budget"
P = provider("dev", stack="dev")
CLUSTER = R("eks:index:Cluster", "ecommerce-mesh-cluster", {}, stack="dev", custom=False)
NAT = R("aws:ec2/natGateway:NatGateway", "ecommerce-vpc-nat-a", {}, stack="dev")
STACK = R("pulumi:pulumi:Stack", "ecommerce-platform-dev", {}, stack="dev", custom=False)
RESOURCES = [STACK, P, CLUSTER, NAT]  # $73 + $32.85 + NAT GB of dev's usage file: $107.20

#: The budget each case's stack config holds (PULUMI_CONFIG); None: no `budget` key. The `pack config` cases set
#: it through the rule's own config instead (`--policy-pack-config`), which the protocol tests send over the wire.
BUDGETS: dict[str, Any] = {"over the budget": 100, "within the budget": 200, "missing budget": None,
                           "pack config over the budget": 5000, "pack config within the budget": 50}  # fmt: skip
CASES = [
    # First: the protocol tests take each rule's first violating and compliant case, on prod's pack process.
    Case(RULE, "pack config over the budget", RESOURCES, True, mention="over its budget of $100.00",
         config={"budget": 100}),
    Case(RULE, "pack config within the budget", RESOURCES, False, config={"budget": 200}),
    Case(RULE, "over the budget", RESOURCES, True, mention="$7.20 over its budget of $100.00"),
    Case(RULE, "within the budget", RESOURCES, False),
    Case(RULE, "missing budget", RESOURCES, False)
]  # fmt: skip


def config(budget: Any) -> dict[str, str]:
    return {"ecommerce-platform:environment": "dev", "ecommerce-platform:budget": str(budget)}


@pytest.fixture(autouse=True)
def _project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    monkeypatch.setenv("PULUMI_PROJECT", "ecommerce-platform")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    budget = BUDGETS[case.label]
    stack_config = config(budget) if budget is not None else {"ecommerce-platform:environment": "dev"}
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(stack_config))
    check(case)


def test_a_stack_over_its_budget_is_reported_with_its_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config(100)))
    found = violations(RULE, RESOURCES)
    assert found and "over its budget of $100.00" in found[0].message, found
    assert "$107.20/month" in found[0].message, found


def test_a_stack_within_its_budget_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config(200)))
    assert not violations(RULE, RESOURCES)


def test_no_budget_means_no_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"ecommerce-platform:environment": "dev"}))
    assert not violations(RULE, RESOURCES)


def test_a_budget_that_is_not_a_number_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config("lots")))
    found = violations(RULE, RESOURCES)
    assert found and "budget is 'lots'; set it to a number" in found[0].message, found


@pytest.fixture(scope="module")
def budget_session() -> Iterator[Callable[[int], PolicySession]]:
    """The pack started with a `budget` in PULUMI_CONFIG, as `pulumi preview --policy-pack` starts it."""
    sessions: dict[int, PolicySession] = {}

    def get(budget: int) -> PolicySession:
        if budget not in sessions:
            session = PolicySession(project="ecommerce-platform", stack="dev", stack_config=config(budget),
                                    timeouts=Timeouts(call=30, start=60, stack=120))  # fmt: skip
            session.__enter__()
            sessions[budget] = session
        return sessions[budget]

    yield get
    for session in sessions.values():
        session.__exit__(None, None, None)


def test_through_the_protocol_the_rule_is_advisory_by_default_and_can_be_made_mandatory(
    budget_session: Callable[[int], PolicySession],
) -> None:
    plan = plan_of(RESOURCES, stack="dev")
    report = budget_session(100).analyze(plan)
    assert RULE in {d.policy for d in report.advisory}, report.render()
    assert RULE not in {d.policy for d in report.mandatory}, report.render()
    report = budget_session(100).analyze(plan, user_config={RULE: "mandatory"})
    assert RULE in {d.policy for d in report.mandatory}, report.render()


def test_through_the_protocol_a_compliant_stack_passes(
    budget_session: Callable[[int], PolicySession],
) -> None:
    report = budget_session(200).analyze(plan_of(RESOURCES, stack="dev"), user_config={RULE: "mandatory"})
    assert RULE not in {d.policy for d in report.mandatory + report.advisory}, report.render()


def test_the_pack_prices_the_dev_plan_as_make_cost_does(
    pack_session: Callable[[str], PolicySession], plan: Callable[[str], dict[str, Any]]
) -> None:
    """The rule and `make cost` share one engine: the pack's message carries the same monthly total."""
    from tools import cost

    p = plan("dev")
    expected = cost.estimate_plan(p)["monthly"]
    assert expected <= 300, expected
    report = pack_session("dev").analyze(p, user_config={RULE: {"budget": 250}})
    (finding,) = [d for d in report.diagnostics if d.policy == RULE]
    assert f"estimated at ${expected:,.2f}/month" in finding.message, finding.message
    report = pack_session("dev").analyze(p)
    assert not [d for d in report.diagnostics if d.policy == RULE], "dev's own budget ($300) holds"
