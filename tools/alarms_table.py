"""Generate `docs/alarms.md`, the alarm catalogue as a table, from `components/alarms.py`.

`python -m tools.alarms_table` prints it; `--write` rewrites the file. A test fails when the file is stale, the way
the README's settings table is kept in step (`make docs` runs both).
"""

from __future__ import annotations

import argparse
import sys

from components.alarms import ALARMS, EXTRA_METRICS, KINDS, SOURCES
from tools.offline.engine import ROOT

DOC = ROOT / "docs" / "alarms.md"
_OPS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}


def document() -> str:
    """The whole Markdown file: one table per tier, then the sources."""
    lines = [
        "# Alarm catalogue",
        "",
        "Generated from `components/alarms.py` by `make docs` (`python -m tools.alarms_table --write`); a test fails",
        "when this file is stale. Every alarm sends ALARM and OK to the alarm topic of its region. Override a",
        "threshold per stack with `observability.alarmThresholds.<id>` (for a *share of* row, the share). Rows marked",
        "**shop down** feed the composite `ecommerce-<env>-shop-down` alarm.",
        "",
    ]
    for tier in ("edge", "data", "cluster", "network", "lake"):
        rows = [a for a in ALARMS if KINDS[a.kind].tier == tier]
        lines += [
            f"## {tier}",
            "",
            "| id | watches | metric | statistic | period | datapoints | threshold | source | when it fires |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for a in rows:
            threshold = f"{_OPS[a.comparison]} {a.threshold:g}"
            if a.derived:
                threshold += f" of {a.derived}"
            if a.expression:
                extra = ", ".join(m for m, _ in EXTRA_METRICS.get(a.id, ()))
                metric = f"`{a.namespace}` {a.metric} as `{a.expression}` (m2.. = {extra})"
            else:
                metric = f"`{a.namespace}` {a.metric}"
            dims = "".join(f", {k}={v}" for k, v in a.dimensions.items())
            summary = (
                a.summary + (" **shop down**" if a.shop_down else "") + (f" — {a.note}" if a.note else "")
            )
            lines.append(
                f"| `{a.id}` | {KINDS[a.kind].label}{dims} | {metric} | {a.statistic} | {a.period} s | "
                f"{a.datapoints} of {a.evaluation_periods} | {threshold} | [{a.source}] | {summary} |"
            )
        lines.append("")
    lines += ["## Sources", ""]
    lines += [f"[{key}]: {url}" for key, url in SOURCES.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite docs/alarms.md")
    args = parser.parse_args(argv)
    if args.write:
        DOC.write_text(document())
    else:
        print(document(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
