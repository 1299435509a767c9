"""Shared fixtures. The mocks themselves live in one place, `tools/offline/mocks.py`, shared with `make preview`.

- `plan(stack)`: the whole program's plan for a stack (cached per session): what `make preview` writes.
- `build(fn)`: run `fn` (which builds one component) on the mock runtime and return its recorded resources.
- `Resources`: look-ups over recorded resources, with URNs in every failure message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from components.config import Settings
from tools.offline.engine import build_plan, run_in_mocks, stack_settings


class Resources:
    """The resources of a plan or of one component run, with helpers that fail with the URN in the message."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def of_type(self, typ: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["type"] == typ]

    def named(self, name: str, typ: str | None = None) -> dict[str, Any]:
        found = [r for r in self.records if r["name"] == name and (typ is None or r["type"] == typ)]
        assert len(found) == 1, (
            f"expected exactly one resource named {name!r}, found {[r['urn'] for r in found]}"
        )
        return found[0]

    def primary(self) -> Resources:
        """The primary region's resources: all but DisasterRecovery's (named `ecommerce-dr-*`), whose DR VPC
        repeats the primary's network in the DR region."""
        return Resources([r for r in self.records if not r["name"].startswith("ecommerce-dr-")])

    def below(self, *urns: str) -> list[dict[str, Any]]:
        """Every resource under the given ones, at any depth, whatever the plan's order (a plan is sorted by URN,
        and a child's URN, `...Parent$child::name`, sorts before its parent's `...Parent::name`)."""
        children: dict[str, list[dict[str, Any]]] = {}
        for r in self.records:
            children.setdefault(r["parent"], []).append(r)
        found, todo = [], list(urns)
        while todo:
            for r in children.get(todo.pop(), []):
                found.append(r)
                todo.append(r["urn"])
        return found

    def by_urn(self, urn: str) -> dict[str, Any]:
        found = [r for r in self.records if r["urn"] == urn]
        assert found, f"no resource with URN {urn}"
        return found[0]

    def by_id(self, rid: str) -> dict[str, Any]:
        found = [r for r in self.records if r["id"] == rid]
        assert len(found) == 1, f"expected one resource with id {rid!r}, found {[r['urn'] for r in found]}"
        return found[0]


_PLANS: dict[str, dict[str, Any]] = {}


@pytest.fixture(scope="session")
def plan() -> Callable[[str], dict[str, Any]]:
    """`plan("prod")` -> the plan dict of that stack (built once per session)."""

    def get(stack: str) -> dict[str, Any]:
        if stack not in _PLANS:
            _PLANS[stack] = build_plan(stack)
        return _PLANS[stack]

    return get


@pytest.fixture(scope="session")
def resources(plan: Callable[[str], dict[str, Any]]) -> Callable[[str], Resources]:
    """`resources("prod")` -> the plan's resources."""
    return lambda stack: Resources(plan(stack)["resources"])


def settings_for(stack: str, overrides: Mapping[str, Any] | None = None) -> Settings:
    """The typed settings of a stack file (plus overrides keyed `ecommerce-platform:<key>`)."""
    return stack_settings(stack, overrides)


@pytest.fixture
def build() -> Callable[..., Resources]:
    """`build(fn, stack="dev")`: run `fn` on the mock runtime (it builds a component); return what it registered."""

    def run(fn: Callable[[], Any], stack: str = "dev") -> Resources:
        monitor, _, _ = run_in_mocks(fn, stack=stack)
        return Resources(monitor.records)

    return run
