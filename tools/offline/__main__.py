"""`python -m tools.offline preview --stack dev`: plan a stack offline, print it, write build/<stack>/plan.json."""

from __future__ import annotations

import argparse
import os
import sys

from components.config import SettingsError
from tools.offline.engine import PlanError, build_plan, write_plan
from tools.offline.render import render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.offline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    preview = sub.add_parser("preview", help="plan a stack and print it like `pulumi preview`")
    preview.add_argument("--stack", default="dev", help="stack name (a Pulumi.<stack>.yaml must exist)")
    args = parser.parse_args(argv)

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
