"""The pack through the Analyzer protocol (the way `pulumi preview --policy-pack` drives it): metadata, every rule
case of the tables, config over `Configure`, secrets and unknowns on the wire, failures that must not hang."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.policies.cases import Case
from tests.policies.helpers import UNKNOWN, R, plan_of, provider, secret
from tests.policies.test_pack import ALL_CASES
from tools.offline.analyzer_host import AnalyzerError, PackProcess, Timeouts
from tools.offline.policy_run import PolicyConfigError, PolicySession, main

Session = Callable[[str], PolicySession]


def test_analyzer_info_lists_every_rule_with_level_and_schema(pack_session: Session) -> None:
    session = pack_session("prod")
    assert session.info is not None
    names = [p["name"] for p in session.info.policies]
    assert len(names) >= 45 and len(set(names)) == len(names)
    levels = {p["enforcementLevel"] for p in session.info.policies}
    assert levels == {"mandatory", "advisory"}
    for p in session.info.policies:
        assert "exemptions" in p["schema"], p["name"]
        assert p["framework"], p["name"]
    kinds = {p["name"]: p["type"] for p in session.info.policies}
    assert kinds["s3-sse-kms"] == "stack" and kinds["iam-no-admin-star"] == "resource"


def test_pack_starts_in_its_own_virtualenv(pack_session: Session) -> None:
    process = pack_session("prod").process
    assert process.port and process.port > 0
    assert process._proc is not None
    cmd = process._proc.args
    assert isinstance(cmd, list) and cmd[1:4] == ["-u", "-m", "pulumi.policy"], cmd
    assert (
        Path(str(cmd[0])).parent.parent.name == ".venv" and Path(str(cmd[0])).parents[2].name == "policies"
    ), cmd


def _rules_fired(session: PolicySession, case: Case) -> set[str]:
    user_config = {case.rule: dict(case.config)} if case.config else None
    report = session.analyze(plan_of(list(case.resources)), user_config=user_config)
    return {d.policy for d in report.diagnostics if d.urn}


def _protocol_sample() -> list[Case]:
    """Per rule, its first violating and first compliant case, plus every case with a config override (the
    direct tests run them all; this proves the wire path without paying for every case twice)."""
    chosen: dict[tuple[str, bool], Case] = {}
    extra = []
    for case in ALL_CASES:
        chosen.setdefault((case.rule, case.violates), case)
        if case.config:
            extra.append(case)
    return [*chosen.values(), *[c for c in extra if c not in chosen.values()]]


@pytest.mark.parametrize("case", _protocol_sample(), ids=lambda c: c.id)
def test_case_through_the_protocol(pack_session: Session, case: Case) -> None:
    fired = _rules_fired(pack_session("prod"), case)
    assert (case.rule in fired) == case.violates, f"{case.id}: fired {sorted(fired)}"


def test_secrets_and_unknowns_travel_as_the_engine_encodes_them(pack_session: Session) -> None:
    table = R(
        "aws:rds/cluster:Cluster",
        "orders",
        {"storageEncrypted": True, "kmsKeyId": UNKNOWN, "masterPassword": secret("[secret]")},
    )
    report = pack_session("prod").analyze(plan_of([provider("prod"), table]))
    assert not [d for d in report.diagnostics if d.policy == "rds-cluster-encrypted"], report.render()
    table["inputs"]["storageEncrypted"] = secret(False)
    report = pack_session("prod").analyze(plan_of([provider("prod"), table]))
    assert [d for d in report.diagnostics if d.policy == "rds-cluster-encrypted"], report.render()


def test_resource_references_are_downgraded_like_the_engine_does(pack_session: Session) -> None:
    ref = {
        "4dabf18193072939515e22adb298388d": "5cf8f73096256a8f31e491e813e4eb8e",
        "urn": "urn:x",
        "id": "key-123",
    }
    queue = R("aws:sqs/queue:Queue", "q", {"kmsMasterKeyId": ref})
    report = pack_session("prod").analyze(plan_of([provider("prod"), queue]))
    assert not [d for d in report.diagnostics if d.policy == "messaging-kms"], report.render()


def test_enforcement_level_override_by_config(pack_session: Session) -> None:
    bad = plan_of([provider("prod"), R("aws:iam/user:User", "deployer", {})])
    session = pack_session("prod")
    assert [d.level for d in session.analyze(bad).diagnostics if d.policy == "iam-no-users"] == ["mandatory"]
    report = session.analyze(bad, user_config={"iam-no-users": "advisory"})
    assert [d.level for d in report.diagnostics if d.policy == "iam-no-users"] == ["advisory"]
    report = session.analyze(bad, user_config={"iam-no-users": {"enforcementLevel": "disabled"}})
    assert not [d for d in report.diagnostics if d.policy == "iam-no-users"]


def test_invalid_config_is_refused_before_running(pack_session: Session) -> None:
    with pytest.raises(PolicyConfigError, match="exemptions"):
        pack_session("prod").analyze(plan_of([]), user_config={"s3-sse-kms": {"exemptions": [{"urn": "x"}]}})


def test_a_pack_that_crashes_at_start_is_reported_not_awaited(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("name: broken\nversion: 0.0.1\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("raise SystemExit('rules failed to import')\n")
    started = time.monotonic()
    with (
        pytest.raises(AnalyzerError, match=r"exited .*before printing its port"),
        PackProcess(
            project="p", stack="s", python=sys.executable, policies_dir=tmp_path, timeouts=Timeouts(start=10)
        ),
    ):
        pass
    assert time.monotonic() - started < 10


def test_a_pack_that_never_prints_its_port_times_out(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("name: silent\nversion: 0.0.1\nruntime: python\n")
    (tmp_path / "__main__.py").write_text("import time\ntime.sleep(60)\n")
    started = time.monotonic()
    with (
        pytest.raises(AnalyzerError, match="did not print its port within 0s"),
        PackProcess(
            project="p", stack="s", python=sys.executable, policies_dir=tmp_path, timeouts=Timeouts(start=0.4)
        ),
    ):
        pass
    assert time.monotonic() - started < 8


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            plan_of(
                [
                    provider("prod"),
                    R(
                        "aws:sqs/queue:Queue",
                        "q",
                        {"kmsMasterKeyId": "arn:aws:kms:us-east-2:1:key/k", "tags": {"Component": "x"}},
                    ),
                ]
            )
        )
    )
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(plan_of([provider("prod"), R("aws:iam/user:User", "u", {})])))
    assert main(["--stack", "prod", "--plan", str(good)]) == 0
    assert main(["--stack", "prod", "--plan", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "[mandatory] iam-no-users" in out and "1 mandatory" in out
    assert main(["--stack", "prod", "--plan", str(tmp_path / "missing.json")]) == 2
