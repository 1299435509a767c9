"""The offline engine: plan.json holds every registration, the printed tree shows each component, secrets stay
masked, and the engine's own rules (explicit providers, known stacks) hold."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from tools.offline import engine
from tools.offline.engine import MASK, ROOT, PlanError, RecordingMonitor, build_plan, run_in_mocks, write_plan
from tools.offline.mocks import ACCOUNT_ID, PlatformMocks, render_policy_document
from tools.offline.render import render


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_plan_holds_every_registered_resource(stack: str, tmp_path: Path) -> None:
    monitor = RecordingMonitor(PlatformMocks())
    engine.run_program(stack, monitor=monitor)
    plan = build_plan(stack)
    registered = sorted(r["urn"] for r in monitor.records)
    planned = sorted(r["urn"] for r in plan["resources"])
    assert planned == registered
    written = json.loads(write_plan(plan, tmp_path).read_text())
    assert sorted(r["urn"] for r in written["resources"]) == registered
    for r in written["resources"]:
        assert {"urn", "type", "name", "parent", "provider", "inputs"} <= set(r), r["urn"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_printed_tree_shows_each_component_and_outputs(
    plan: Callable[[str], dict[str, Any]], stack: str
) -> None:
    p = plan(stack)
    text = render(p)
    # Remote components (pulumi-eks) show as leaves offline: their children exist only in a real engine.
    components = [
        r
        for r in p["resources"]
        if not r["custom"] and not r["remote"] and r["type"] != "pulumi:pulumi:Stack"
    ]
    assert components, "the plan has no components"
    for c in components:
        line = next((ln for ln in text.splitlines() if c["type"] in ln and c["name"] in ln), None)
        assert line is not None and "resources)" in line, f"{c['urn']} missing from the tree"
    assert "Outputs:" in text and "vpcId" in text
    total = sum(1 for r in p["resources"] if r["type"] != "pulumi:pulumi:Stack")
    assert f"+ {total} to create" in text


def test_every_cloud_resource_has_the_explicit_provider(plan: Callable[[str], dict[str, Any]]) -> None:
    for stack in ("dev", "prod"):
        for r in plan(stack)["resources"]:
            if r["custom"] and r["type"].startswith(("aws:", "kubernetes:")):
                # A provider may be a component's child (the cluster's Kubernetes provider): its type is the last part.
                assert r["provider"].split("::")[2].split("$")[-1].startswith("pulumi:providers:"), r["urn"]


def test_resource_without_provider_is_refused(tmp_path: Path) -> None:
    """Default providers are disabled in Pulumi.yaml; the engine refuses a resource that would need one."""
    program = tmp_path / "__main__.py"
    program.write_text("import pulumi_aws as aws\naws.s3.Bucket('stray')\n")
    with pytest.raises(
        PlanError, match=r"no explicit provider:\n  urn:pulumi:dev::ecommerce-platform::aws:s3/bucket"
    ):
        engine.run_program("dev", program=program)


def test_secrets_are_masked_in_the_plan(tmp_path: Path) -> None:
    def program() -> None:
        provider = aws.Provider("aws", region="us-east-2")
        aws.ssm.Parameter(
            "token", type="SecureString", value=pulumi.Output.secret("hunter2-plaintext"),
            opts=pulumi.ResourceOptions(provider=provider),
        )  # fmt: skip
        pulumi.export("token", pulumi.Output.secret("hunter2-plaintext"))

    monitor, _outputs, secret_outputs = run_in_mocks(program)
    (param,) = [r for r in monitor.records if r["type"] == "aws:ssm/parameter:Parameter"]
    assert param["inputs"]["value"] == {engine.SPECIAL_SIG: engine.SECRET_SIG, "value": MASK}, param["urn"]
    assert "hunter2" not in json.dumps(monitor.records)
    assert secret_outputs == {"token"}


def test_secure_config_becomes_a_masked_secret() -> None:
    config, secret_keys = engine.stack_config(
        "dev", {"ecommerce-platform:stripeApiKey": {"secure": "v1:abc"}}
    )
    assert secret_keys == ["ecommerce-platform:stripeApiKey"]
    assert "v1:abc" not in config["ecommerce-platform:stripeApiKey"]


def test_unknown_stack_is_a_clear_error() -> None:
    with pytest.raises(PlanError, match=r"no stack file Pulumi.staging.yaml; stacks here: dev, prod"):
        engine.stack_config("staging")


def test_cli_reports_bad_settings_without_traceback() -> None:
    bad = ROOT / "Pulumi.badtest.yaml"
    bad.write_text("config:\n  ecommerce-platform:environment: dev\n  ecommerce-platform:network:\n"
                   "    vpcCidr: 10.0.0.0/33\n")  # fmt: skip
    try:
        proc = subprocess.run([sys.executable, "-m", "tools.offline", "preview", "--stack", "badtest"], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
    finally:
        bad.unlink()
    assert proc.returncode == 1
    assert "network.vpcCidr: '10.0.0.0/33' is not an IPv4 CIDR" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_policy_documents_render_like_the_provider() -> None:
    doc = json.loads(render_policy_document({"statements": [
        {"effect": "Allow", "actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::b/*", "arn:aws:s3:::a/*"],
         "principals": [{"type": "Service", "identifiers": ["cloudfront.amazonaws.com"]}],
         "conditions": [{"test": "StringEquals", "variable": "aws:SourceAccount", "values": [ACCOUNT_ID]}]},
    ]})["json"])  # fmt: skip
    (st,) = doc["Statement"]
    assert doc["Version"] == "2012-10-17"
    assert st["Action"] == "s3:GetObject" and st["Resource"] == ["arn:aws:s3:::a/*", "arn:aws:s3:::b/*"]
    assert st["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert st["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


def test_arns_follow_the_resources_region() -> None:
    def program() -> None:
        provider = aws.Provider("aws", region="us-east-2")
        opts = pulumi.ResourceOptions(provider=provider)
        aws.kms.Key("here", opts=opts)
        aws.kms.Key("there", region="us-east-1", opts=opts)

    monitor, _, _ = run_in_mocks(program)
    arns = {r["name"]: r["outputs"]["arn"] for r in monitor.records if r["type"] == "aws:kms/key:Key"}
    assert arns["here"].startswith(f"arn:aws:kms:us-east-2:{ACCOUNT_ID}:key/")
    assert arns["there"].startswith(f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/")


def test_a_file_asset_is_recorded_by_content_hash_and_relative_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine diffs an asset by its content hash; the same file in another checkout is the same asset."""
    from tools.offline.engine import ASSET_SIG, SPECIAL_SIG, _assets

    seen = []
    for checkout, text in (("a", "print(1)\n"), ("b", "print(1)\n"), ("c", "print(2)\n")):
        root = tmp_path / checkout
        (root / "jobs").mkdir(parents=True)
        (root / "jobs" / "job.py").write_text(text)
        monkeypatch.chdir(root)
        seen.append(
            _assets({"source": {SPECIAL_SIG: ASSET_SIG, "path": str(root / "jobs" / "job.py")}})["source"]
        )
    assert seen[0] == seen[1] and seen[0]["path"] == "jobs/job.py", seen
    assert seen[2]["hash"] != seen[0]["hash"], seen
