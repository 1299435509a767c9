"""The pack over the real program, through the Analyzer protocol: both stacks without mandatory violations, and
the mutation suite on the prod plan (every mutant caught by a mandatory rule)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.policies.mutation import MUTANTS, render, run_mutants, summary
from tools.offline.policy_run import PolicySession, Report

# Mandatory findings in the stacks that are reported to the stack's owner and not yet fixed there, as
# (rule, resource name). The test fails on anything else, and passes (not xfails) once they are gone. Never add a
# rule's finding here to make a stack pass: fix the stack, or add a named exemption where the rule truly does not
# apply (policies/exemptions.json).
REPORTED: frozenset[tuple[str, str]] = frozenset(
    {
        # Delivery: the pipeline roles
        ("iam-github-oidc-pinned", "ecommerce-delivery-preview"),
        ("iam-no-wildcard-actions", "ecommerce-delivery-deploy"),
        ("iam-resource-star-restricted", "ecommerce-delivery-deploy"),
        ("iam-resource-star-restricted", "ecommerce-delivery-preview"),
        ("iam-no-privesc-exfil", "ecommerce-delivery-deploy"),
        # ServiceMesh/CdnEdge: the ALB log bucket's lifecycle; dev (no domain): plain-HTTP forwarding on the
        # ALB and CloudFront reaching it over http-only
        *{
            ("alb-tls", f"ecommerce-mesh-rule-{s}")
            for s in ("cart", "order", "payment", "product", "search", "user-auth")
        },
        ("cloudfront-tls", "ecommerce-edge-cdn"),
        ("s3-versioning-lifecycle", "ecommerce-mesh-alb-logs"),
        # DataTier, dev: no Enhanced Monitoring, no Redis snapshots
        ("aurora-observability-auth", "ecommerce-data-aurora-1"),
        ("redis-resilience", "ecommerce-data-redis"),
    }
)


_REPORTS: dict[str, Report] = {}


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
    found = {(d.policy, d.urn.rsplit("::", 1)[-1]) for d in report.mandatory}
    unreported = found - REPORTED
    assert not unreported, "new mandatory violations:\n" + "\n".join(
        f"  {d.policy}: {d.message}"
        for d in report.mandatory
        if (d.policy, d.urn.rsplit("::", 1)[-1]) in unreported
    )
    if found:
        pytest.xfail(
            f"{len(report.mandatory)} mandatory violations reported to the stack owner: {sorted(found)}"
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
