"""The budget rule: the stack's monthly estimate, priced from the resources the preview plans, against `budget`.

`pulumi preview --policy-pack policies` hands `AnalyzeStack` every planned resource with its inputs, and the stack
config in `PULUMI_CONFIG`; the pricing engine (`pricing/`, the same one `make cost` runs) turns the first into a
monthly estimate with the stack's usage file, and `budget` (USD a month, a number in `Pulumi.<stack>.yaml`) says
how much is allowed. Advisory by default: a team sees "this stack costs $X a month, $Y over its budget" in the
preview; `--policy-pack-config '{"stack-monthly-budget": "mandatory"}'` makes it stop the update, and
`{"stack-monthly-budget": {"budget": 250}}` there replaces the stack's budget.
"""

from __future__ import annotations

from typing import Final

from . import pricing
from .common import ADVISORY, Context, Res, Stack, stack_policy
from .deployability import stack_setting

RULE: Final = "stack-monthly-budget"


def _region(props: dict[str, object] | None) -> str:
    value = (props or {}).get("region")
    return value if isinstance(value, str) and value else ""


def items_of(stack: Stack) -> list[pricing.Item]:
    """The pricing engine's items from the resources the pack sees (region: input, else provider, else default)."""
    default = next((_region(r.props) for r in stack.of_type("pulumi:providers:aws") if _region(r.props)), "")
    items = []
    for r in stack.resources:
        region = _region(r.props) or _region(r.provider_props) or default or pricing.DEFAULT_REGION
        parent = r.parent.urn if r.parent is not None else ""
        items.append(pricing.Item(r.urn, r.type, r.name, r.props, parent, region))
    return items


def _target(stack: Stack) -> Res | None:
    """Where a stack-wide finding is filed: the stack resource (every real plan has one), else the first resource."""
    return next(iter(stack.of_type("pulumi:pulumi:Stack")), None) or next(iter(stack.resources), None)


def _budget(stack: Stack, ctx: Context) -> None:
    # The pack's own config (`--policy-pack-config`) wins over the stack config's `budget`.
    raw = ctx.config["budget"] if ctx.config.get("budget") is not None else stack_setting("budget")
    target = _target(stack)
    if raw is None or raw in ("", "0", 0) or target is None:
        return
    try:
        budget = float(raw)
    except (TypeError, ValueError):
        ctx.report(
            target.urn, f"{target.name}: budget is {raw!r}; set it to a number of USD a month, e.g. 300"
        )
        return
    estimate = pricing.estimate(items_of(stack), pricing.load_usage(ctx.env))
    total = float(estimate["monthly"])
    if total <= budget:
        return
    top = ", ".join(f"{name} {pricing.money(v)}" for name, v in list(estimate["components"].items())[:3])
    unpriced = (
        f"; {len(estimate['unpriced'])} unpriced resource(s) not counted" if estimate["unpriced"] else ""
    )
    ctx.report(
        target.urn,
        f"{target.name}: this stack is estimated at {pricing.money(total)}/month, {pricing.money(total - budget)} "
        f"over its budget of {pricing.money(budget)} (largest: {top}{unpriced}); `make cost` shows every "
        "resource's price; lower a size or count, or raise `budget` in the stack config",
    )


POLICIES = [
    stack_policy(
        RULE,
        "The stack's monthly estimate (on-demand prices of pricing/prices.json, usage of pricing/usage/<env>.json) "
        "stays within `budget` of the stack config; advisory unless configured mandatory.",
        ADVISORY,
        ["cost:budget"],
        _budget,
        remediation="Run `make cost STACK=<stack>` to see what each resource costs; reduce it or raise `budget`.",
    ),
]
