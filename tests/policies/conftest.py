"""The policy pack's gRPC server, started once per test session per stack (its environment is fixed at start,
as the CLI does), from the pack's own virtualenv exactly like `make policy`: PULUMI_CONFIG carries the stack file's
config, as the CLI passes it (some rules read it, e.g. `cluster.imageTags`, `account.createServiceLinkedRoles`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tools.offline.analyzer_host import Timeouts
from tools.offline.engine import stack_config
from tools.offline.policy_run import PolicySession

PROJECT = "ecommerce-platform"


@pytest.fixture(scope="session")
def pack_session() -> Iterator[Callable[[str], PolicySession]]:
    """`pack_session("prod")` -> a running pack for that stack (started on first use, stopped at the end)."""
    sessions: dict[str, PolicySession] = {}

    def get(stack: str) -> PolicySession:
        if stack not in sessions:
            session = PolicySession(
                project=PROJECT,
                stack=stack,
                stack_config=stack_config(stack)[0],
                timeouts=Timeouts(call=30, start=60, stack=120),
            )
            session.__enter__()
            sessions[stack] = session
        return sessions[stack]

    yield get
    for session in sessions.values():
        session.__exit__(None, None, None)
