"""Generate the README's settings table from the settings' fields (`components/config/`) and the stack files.

`python -m tools.settings_table` prints it; `--write` replaces the table between the markers in README.md. A test
fails when the README's table is stale, so the documentation cannot drift from the code.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from components.config import as_config, describe
from tools.offline.engine import ROOT, stack_settings

START, END = "<!-- settings:start -->", "<!-- settings:end -->"
STACKS = ("dev", "prod")


def _cell(value: Any) -> str:
    value = as_config(value)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, list):
        return ", ".join(f"`{v}`" for v in value) if value else "(none)"
    if isinstance(value, dict):
        return f"`{json.dumps(value)}`"
    return f"`{value}`" if value != "" else '`""`'


def table() -> str:
    """The Markdown table: each key, its type, default, the value each stack runs with, and its meaning."""
    effective = {s: stack_settings(s) for s in STACKS}
    lines = [
        "| key | type | default | dev | prod | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for key, type_name, doc, default, path in describe():
        cells = []
        for stack in STACKS:
            value: Any = effective[stack]
            for attr in path:
                value = getattr(value, attr)
            cells.append(_cell(value))
        type_cell = type_name.replace(" | ", " or ")
        lines.append(f"| `{key}` | {type_cell} | {_cell(default)} | {cells[0]} | {cells[1]} | {doc} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the table in README.md")
    args = parser.parse_args(argv)
    generated = table()
    if not args.write:
        print(generated)
        return 0
    readme = ROOT / "README.md"
    text = readme.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{generated}\n{END}{tail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
