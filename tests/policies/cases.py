"""Table-driven rule tests: each `Case` is one input for one rule and whether the rule must fire on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.policies.helpers import violations


@dataclass(frozen=True)
class Case:
    rule: str
    label: str
    resources: Sequence[dict[str, Any]]
    violates: bool
    mention: str = ""
    """A fragment every finding's message must contain (the property it names)."""
    config: Mapping[str, Any] | None = field(default=None)

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.label}"


def check(case: Case) -> None:
    findings = violations(case.rule, case.resources, config=case.config)
    messages = [f"{f.urn}: {f.message}" for f in findings]
    if case.violates:
        assert findings, f"{case.id}: expected a violation, got none"
        for f in findings:
            assert f.urn, f"{case.id}: finding without a URN: {f.message}"
            assert f.urn in f.message or f.name in f.message, (
                f"{case.id}: message does not name the resource: {f.message}"
            )
        if case.mention:
            assert any(case.mention in m for m in messages), (
                f"{case.id}: no finding mentions {case.mention!r}: {messages}"
            )
    else:
        assert not findings, f"{case.id}: expected no violation, got {messages}"
