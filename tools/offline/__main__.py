"""The offline engine's commands.

- `python -m tools.offline preview --stack dev`: plan a stack offline, print it, write build/<stack>/plan.json.
- `python -m tools.offline diff OLD.json NEW.json [--cost]`: what would change between two plans, like `pulumi preview
  --diff`; with `--cost`, also the monthly cost delta.
- `python -m tools.offline plan-diff --stack dev --base main`: the same, between `main` and this working tree.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from components.config import SettingsError
from tools.offline.diff import run_diff, run_plan_diff
from tools.offline.engine import PlanError, build_plan, write_plan
from tools.offline.render import render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.offline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    preview = sub.add_parser("preview", help="plan a stack and print it like `pulumi preview`")
    preview.add_argument("--stack", default="dev", help="stack name (a Pulumi.<stack>.yaml must exist)")
    diff = sub.add_parser(
        "diff", help="what would change between two plans; exit 0 no changes, 1 changes, 2 error"
    )
    diff.add_argument("old", type=Path, help="the plan before (a build/<stack>/plan.json)")
    diff.add_argument("new", type=Path, help="the plan after")
    diff.add_argument("--cost", action="store_true", help="also print the monthly cost delta")
    plan_diff = sub.add_parser(
        "plan-diff", help="diff a stack's plan at a git revision against this working tree's"
    )
    plan_diff.add_argument("--stack", default="dev", help="stack name (a Pulumi.<stack>.yaml must exist)")
    plan_diff.add_argument(
        "--base", default="main", help="the git revision to compare with (branch, tag, sha)"
    )
    plan_diff.add_argument("--cost", action="store_true", help="also print the monthly cost delta")
    args = parser.parse_args(argv)
    if args.command == "diff":
        return run_diff(args.old, args.new, with_cost=args.cost)
    if args.command == "plan-diff":
        return run_plan_diff(args.stack, args.base, with_cost=args.cost)

    try:
        plan = build_plan(args.stack)
    except (SettingsError, PlanError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(render(plan))
    path = write_plan(plan)
    print(f"\nPlan written to {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    code = main()
    # The SDK's mock runtime leaves event loops and gRPC threads behind whose teardown at interpreter exit prints
    # spurious errors; everything is written and flushed by now, so leave without running that teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
