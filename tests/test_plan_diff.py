"""The offline plan diff (`python -m tools.offline diff OLD.json NEW.json`): create, delete, replace, update,
renames through aliases, secrets masked, engine noise ignored, exit codes 0/1/2."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from tools.offline.diff import DiffError, diff_plans, plan_at, run_diff
from tools.offline.engine import ROOT, SECRET_SIG, SPECIAL_SIG, UNKNOWN, run_in_mocks

STACK = "dev"
PREFIX = f"urn:pulumi:{STACK}::ecommerce-platform::"
PROVIDER = f"{PREFIX}pulumi:providers:aws::aws::provider-1234"
COMPONENT = f"{PREFIX}ecommerce:network:EcommerceVpc::ecommerce-vpc"


def secret(value: Any) -> dict[str, Any]:
    return {SPECIAL_SIG: SECRET_SIG, "value": value}


def res(
    typ: str,
    name: str,
    inputs: dict[str, Any] | None = None,
    *,
    parent: str | None = COMPONENT,
    custom: bool = True,
    rid: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One resource record shaped like the engine's (`RecordingMonitor.RegisterResource`)."""
    qualified = typ
    if parent and "pulumi:pulumi:Stack" not in parent:
        qualified = f"{parent.split('::')[2]}${typ}"
    rid = rid or f"{name}-id"
    record = {
        "urn": f"{PREFIX}{qualified}::{name}",
        "type": typ,
        "name": name,
        "custom": custom,
        "remote": False,
        "parent": parent,
        "provider": PROVIDER if custom else "",
        "protect": False,
        "aliases": [],
        "dependencies": [],
        "additionalSecretOutputs": [],
        "ignoreChanges": [],
        "replaceOnChanges": [],
        "id": rid if custom else None,
        "inputs": inputs or {},
        "outputs": {"id": rid, "arn": f"arn:aws:test:us-east-2:123456789012:thing/{rid}"} if custom else {},
    }
    record.update(extra)
    return record


def component(name: str = "ecommerce-vpc", **extra: Any) -> dict[str, Any]:
    return res("ecommerce:network:EcommerceVpc", name, parent=None, custom=False, **extra)


def vpc(**inputs: Any) -> dict[str, Any]:
    return res("aws:ec2/vpc:Vpc", "ecommerce-vpc", {"cidrBlock": "10.0.0.0/16", "tags": {"Name": "a"}, **inputs},
               rid="vpc-0aaaaaaaaaaaaaaaa")  # fmt: skip


def plan_of(*resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "project": "ecommerce-platform",
        "stack": STACK,
        "resources": list(resources),
        "outputs": outputs or {},
    }


def only_step(old: dict[str, Any], new: dict[str, Any]) -> Any:
    result = diff_plans(old, new)
    assert len(result.steps) == 1, [f"{s.op} {s.resource['urn']}" for s in result.steps]
    return result.steps[0]


def text(old: dict[str, Any], new: dict[str, Any]) -> str:
    return diff_plans(old, new).render("old.json", "new.json")


# -- create / delete ----------------------------------------------------------------------------------------


def test_a_new_resource_is_a_create_with_its_inputs() -> None:
    bucket = res("aws:s3/bucket:Bucket", "ecommerce-vpc-logs", {"bucket": "logs-bucket"})
    old, new = plan_of(component(), vpc()), plan_of(component(), vpc(), bucket)
    step = only_step(old, new)
    assert step.op == "create", bucket["urn"]
    out = text(old, new)
    assert f"  + aws:s3/bucket:Bucket: (create)\n      [urn={bucket['urn']}]" in out
    assert 'bucket: "logs-bucket"' in out
    assert out.endswith("Resources: + 1 to create, 2 unchanged")


def test_a_resource_gone_from_the_program_is_a_delete_and_a_protected_one_says_up_refuses() -> None:
    """Pulumi refuses to delete a protected resource (pulumi/pulumi#11816): the diff warns before `up` fails."""
    table = res("aws:dynamodb/table:Table", "ecommerce-vpc-table", {"name": "t"}, protect=True)
    step = only_step(plan_of(component(), vpc(), table), plan_of(component(), vpc()))
    assert step.op == "delete", table["urn"]
    assert any("protected" in n for n in step.notes), table["urn"]
    assert (
        "- 1 to delete"
        in diff_plans(plan_of(component(), vpc(), table), plan_of(component(), vpc())).summary()
    )


# -- replace / update ---------------------------------------------------------------------------------------


def test_vpc_cidr_block_change_replaces_the_vpc_forcenew_in_the_aws_provider_schema() -> None:
    """aws_vpc.cidr_block is ForceNew (terraform-provider-aws internal/service/ec2/vpc_.go): a new VPC."""
    step = only_step(plan_of(component(), vpc()), plan_of(component(), vpc(cidrBlock="10.1.0.0/16")))
    assert step.op == "replace", step.resource["urn"]
    (change,) = step.changes
    assert (change.path, change.old, change.new, change.replaces) == (
        "cidrBlock",
        "10.0.0.0/16",
        "10.1.0.0/16",
        True,
    )
    assert "+-aws:ec2/vpc:Vpc: (replace)" in text(
        plan_of(component(), vpc()), plan_of(component(), vpc(cidrBlock="10.1.0.0/16"))
    )


@pytest.mark.parametrize(
    ("typ", "prop", "before", "after"),
    [
        ("aws:ec2/subnet:Subnet", "availabilityZone", "us-east-2a", "us-east-2c"),  # vpc_subnet.go ForceNew
        ("aws:ec2/subnet:Subnet", "cidrBlock", "10.0.10.0/24", "10.0.12.0/24"),  # vpc_subnet.go ForceNew
        ("aws:rds/cluster:Cluster", "clusterIdentifier", "orders", "orders-v2"),  # rds/cluster.go ForceNew
        ("aws:rds/cluster:Cluster", "masterUsername", "app", "admin"),  # rds/cluster.go ForceNew
        (
            "aws:ec2/securityGroup:SecurityGroup",
            "description",
            "ALB",
            "The ALB",
        ),  # vpc_security_group.go ForceNew
        ("aws:iam/role:Role", "path", "/", "/service/"),  # iam/role.go ForceNew
    ],
)
def test_forcenew_properties_in_the_aws_provider_schema_replace(
    typ: str, prop: str, before: str, after: str
) -> None:
    old = plan_of(component(), res(typ, "ecommerce-vpc-x", {prop: before, "tags": {"Name": "x"}}))
    new = plan_of(component(), res(typ, "ecommerce-vpc-x", {prop: after, "tags": {"Name": "x"}}))
    step = only_step(old, new)
    assert step.op == "replace", f"{step.resource['urn']}: {prop}"


def test_a_replaced_vpc_makes_its_subnets_vpc_id_unknown_which_replaces_them_too() -> None:
    """During a preview a replaced resource's id is unknown; aws_subnet.vpc_id is ForceNew, so subnets follow."""
    subnet = res("aws:ec2/subnet:Subnet", "ecommerce-vpc-private-a", {"vpcId": "vpc-0aaaaaaaaaaaaaaaa"})
    old = plan_of(component(), vpc(), subnet)
    new = plan_of(component(), vpc(cidrBlock="10.1.0.0/16"), subnet)
    steps = {s.resource["urn"]: s for s in diff_plans(old, new).steps}
    assert steps[subnet["urn"]].op == "replace", subnet["urn"]
    (change,) = steps[subnet["urn"]].changes
    assert (change.path, change.new) == ("vpcId", UNKNOWN), subnet["urn"]
    assert '~ vpcId: "vpc-0aaaaaaaaaaaaaaaa" => [unknown]   (forces replacement)' in text(old, new)


def test_tag_change_on_a_vpc_is_an_update_with_the_nested_path_and_old_and_new_values() -> None:
    step = only_step(
        plan_of(component(), vpc()), plan_of(component(), vpc(tags={"Name": "b", "Tier": "core"}))
    )
    assert step.op == "update" and not step.notes, step.resource["urn"]
    lines = [c.line() for c in step.changes]
    assert lines == ['~ tags.Name: "a" => "b"', '+ tags.Tier: "core"'], step.resource["urn"]


def k8s(typ: str, spec: dict[str, Any], name: str = "cart", **extra: Any) -> dict[str, Any]:
    return res(
        typ, "ecommerce-vpc-cart", {"metadata": {"name": name, "namespace": "ecommerce"}, **spec}, **extra
    )


@pytest.mark.parametrize(
    ("typ", "before", "after", "op"),
    [
        # A Deployment's selector is immutable: pulumi-kubernetes replaces it (diff.go forceNewProperties).
        ("kubernetes:apps/v1:Deployment", {"spec": {"selector": {"matchLabels": {"app": "a"}}, "replicas": 1}},
         {"spec": {"selector": {"matchLabels": {"app": "b"}}, "replicas": 1}}, "replace"),
        ("kubernetes:apps/v1:Deployment", {"spec": {"replicas": 1}}, {"spec": {"replicas": 2}}, "update"),
        # ConfigMaps are immutable unless the provider enables enableConfigMapMutable (off by default).
        ("kubernetes:core/v1:ConfigMap", {"data": {"A": "1"}}, {"data": {"A": "2"}}, "replace"),
        ("kubernetes:core/v1:ServiceAccount", {"automountServiceAccountToken": False},
         {"automountServiceAccountToken": True}, "update"),
    ],
)  # fmt: skip
def test_kubernetes_objects_follow_the_providers_force_new_fields(
    typ: str, before: dict[str, Any], after: dict[str, Any], op: str
) -> None:
    step = only_step(plan_of(component(), k8s(typ, before)), plan_of(component(), k8s(typ, after)))
    assert (step.op, step.notes) == (op, []), step.resource["urn"]
    # Every object is replaced when its name, its identity in the cluster, changes.
    renamed = only_step(plan_of(component(), k8s(typ, before)), plan_of(component(), k8s(typ, before, "x")))
    assert (renamed.op, renamed.changes[0].path) == ("replace", "metadata.name"), renamed.resource["urn"]


def test_a_mutable_configmap_provider_updates_configmap_data_in_place() -> None:
    provider = res("pulumi:providers:kubernetes", "k8s", {"enableConfigMapMutable": "true"}, parent=None)
    ref = f"{provider['urn']}::{provider['id']}"
    old = k8s("kubernetes:core/v1:ConfigMap", {"data": {"A": "1"}}, provider=ref)
    new = k8s("kubernetes:core/v1:ConfigMap", {"data": {"A": "2"}}, provider=ref)
    assert only_step(plan_of(component(), provider, old), plan_of(component(), provider, new)).op == "update"


def test_an_update_to_a_type_without_a_schema_table_says_replacement_is_possible() -> None:
    old = plan_of(
        component(), res("aws:sqs/queue:Queue", "ecommerce-vpc-q", {"visibilityTimeoutSeconds": 30})
    )
    new = plan_of(
        component(), res("aws:sqs/queue:Queue", "ecommerce-vpc-q", {"visibilityTimeoutSeconds": 60})
    )
    step = only_step(old, new)
    assert step.op == "update", step.resource["urn"]
    assert "replacement possible: no provider schema offline" in step.notes, step.resource["urn"]


def test_a_policy_document_in_a_string_is_diffed_statement_by_statement() -> None:
    def policy(action: str) -> dict[str, Any]:
        doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}
        return res("aws:iam/policy:Policy", "ecommerce-vpc-p", {"policy": json.dumps(doc)})

    step = only_step(
        plan_of(component(), policy("s3:GetObject")), plan_of(component(), policy("s3:PutObject"))
    )
    assert [c.line() for c in step.changes] == [
        '~ policy.Statement[0].Action: "s3:GetObject" => "s3:PutObject"'
    ]


def test_replace_on_changes_option_and_ignore_changes_option_are_honoured() -> None:
    old_q = res("aws:sqs/queue:Queue", "ecommerce-vpc-q", {"delaySeconds": 0, "maxMessageSize": 1024})
    new_q = res("aws:sqs/queue:Queue", "ecommerce-vpc-q", {"delaySeconds": 5, "maxMessageSize": 2048},
                replaceOnChanges=["delaySeconds"], ignoreChanges=["maxMessageSize"])  # fmt: skip
    step = only_step(plan_of(component(), old_q), plan_of(component(), new_q))
    assert step.op == "replace" and [c.path for c in step.changes] == ["delaySeconds"], new_q["urn"]


def test_the_engine_records_the_replace_on_changes_option_the_diff_honours() -> None:
    def program() -> None:
        provider = aws.Provider("aws", region="us-east-2")
        opts = pulumi.ResourceOptions(provider=provider, replace_on_changes=["delaySeconds"])
        aws.sqs.Queue("q", delay_seconds=0, opts=opts)

    monitor, _, _ = run_in_mocks(program)
    (queue,) = [r for r in monitor.records if r["type"] == "aws:sqs/queue:Queue"]
    assert queue["replaceOnChanges"] == ["delaySeconds"], queue["urn"]


def test_protect_and_provider_changes_show_and_a_new_provider_replaces() -> None:
    """`pulumi preview --diff` shows protect and provider (pulumi/pulumi#1949); a changed provider reference replaces
    the resource (pulumi/pulumi pkg/resource/deploy/step_generator.go, `providerChanged`)."""
    step = only_step(plan_of(component(), vpc()), plan_of(component(), {**vpc(), "protect": True}))
    assert (step.op, [c.line() for c in step.changes]) == ("update", ["~ [protect]: false => true"])
    other = f"{PREFIX}pulumi:providers:aws::aws-east1::provider-5678"
    step = only_step(plan_of(component(), vpc()), plan_of(component(), {**vpc(), "provider": other}))
    assert step.op == "replace" and step.changes[0].path == "[provider]", step.resource["urn"]


# -- renames ------------------------------------------------------------------------------------------------


def test_a_rename_without_an_alias_is_a_delete_and_a_create() -> None:
    old = plan_of(component(), res("aws:sqs/queue:Queue", "ecommerce-vpc-q", {"name": "q"}))
    new = plan_of(component(), res("aws:sqs/queue:Queue", "ecommerce-vpc-queue", {"name": "q"}))
    assert sorted(s.op for s in diff_plans(old, new).steps) == ["create", "delete"]


def test_a_rename_with_an_alias_to_the_old_urn_is_a_rename_not_a_replacement() -> None:
    old_q = res("aws:sqs/queue:Queue", "ecommerce-vpc-q", {"name": "q"})
    new_q = res("aws:sqs/queue:Queue", "ecommerce-vpc-queue", {"name": "q"}, aliases=[{"urn": old_q["urn"]}])
    step = only_step(plan_of(component(), old_q), plan_of(component(), new_q))
    assert (step.op, step.old_urn) == ("rename", old_q["urn"]), new_q["urn"]
    out = text(plan_of(component(), old_q), plan_of(component(), new_q))
    assert f"[was urn={old_q['urn']}]" in out and "~ 1 renamed through an alias" in out


def test_a_parent_change_is_a_delete_and_create_unless_an_alias_names_the_old_parent() -> None:
    old_q = res("aws:sqs/queue:Queue", "ecommerce-vpc-q", {"name": "q"})
    moved = res("aws:sqs/queue:Queue", "ecommerce-vpc-q", {"name": "q"}, parent=None)
    assert sorted(s.op for s in diff_plans(plan_of(component(), old_q), plan_of(component(), moved)).steps) == [
        "create", "delete",
    ], moved["urn"]  # fmt: skip
    moved["aliases"] = [{"spec": {"parentUrn": COMPONENT}}]
    step = only_step(plan_of(component(), old_q), plan_of(component(), moved))
    assert (step.op, step.old_urn) == ("rename", old_q["urn"]), moved["urn"]


def test_a_type_change_with_a_type_alias_is_a_rename() -> None:
    """pulumi-aws v7 registers `aws:lb/...` with an alias to the old `aws:elasticloadbalancingv2/...` token."""
    old_l = res("aws:elasticloadbalancingv2/listener:Listener", "ecommerce-vpc-http", {"port": 80})
    new_l = res("aws:lb/listener:Listener", "ecommerce-vpc-http", {"port": 80},
                aliases=[{"spec": {"type": "aws:elasticloadbalancingv2/listener:Listener", "parentUrn": ""}}])  # fmt: skip
    assert only_step(plan_of(component(), old_l), plan_of(component(), new_l)).op == "rename", new_l["urn"]


def test_a_renamed_component_carries_its_children_and_their_dependents_see_no_change() -> None:
    """The engine gives each child an alias under its parent's old URN, with the parent's name prefix swapped
    (step_generator.go `inheritedChildAlias`); the renamed VPC keeps its cloud id, so a subnet's vpcId is unchanged
    even though the mocks invent a new id from the new name."""
    new_parent = f"{PREFIX}ecommerce:network:EcommerceVpc::shop-vpc"
    old = plan_of(
        component(),
        vpc(),
        res("aws:ec2/subnet:Subnet", "ecommerce-vpc-a", {"vpcId": "vpc-0aaaaaaaaaaaaaaaa"}),
    )
    new_vpc = res(
        "aws:ec2/vpc:Vpc", "shop-vpc", vpc()["inputs"], parent=new_parent, rid="vpc-0bbbbbbbbbbbbbbbb"
    )
    new_subnet = res(
        "aws:ec2/subnet:Subnet", "shop-vpc-a", {"vpcId": "vpc-0bbbbbbbbbbbbbbbb"}, parent=new_parent
    )
    new = plan_of(component("shop-vpc", aliases=[{"spec": {"name": "ecommerce-vpc", "parentUrn": ""}}]), new_vpc,
               new_subnet)  # fmt: skip
    result = diff_plans(old, new)
    assert sorted((s.op, s.resource["name"]) for s in result.steps) == [
        ("rename", "shop-vpc"), ("rename", "shop-vpc"), ("rename", "shop-vpc-a"),
    ], [s.resource["urn"] for s in result.steps]  # fmt: skip


# -- secrets ------------------------------------------------------------------------------------------------


def test_secrets_never_print_in_creates_updates_or_outputs() -> None:
    old_s = res("aws:secretsmanager/secretVersion:SecretVersion", "ecommerce-vpc-sv",
                {"secretString": secret("hunter2-old"), "password": "pw-plain-old"},
                additionalSecretOutputs=["password"])  # fmt: skip
    new_s = res("aws:secretsmanager/secretVersion:SecretVersion", "ecommerce-vpc-sv",
                {"secretString": secret("hunter2-new"), "password": "pw-plain-new"},
                additionalSecretOutputs=["password"])  # fmt: skip
    created = res("aws:ssm/parameter:Parameter", "ecommerce-vpc-token", {"value": secret("hunter2-token")})
    old = plan_of(component(), old_s, outputs={"token": "plain-before"})
    new = plan_of(component(), new_s, created, outputs={"token": secret("hunter2-output")})
    out = text(old, new)
    for leaked in ("hunter2", "pw-plain", "plain-before"):
        assert leaked not in out, f"{leaked} printed:\n{out}"
    assert "~ secretString: [secret] => [secret]" in out and "~ password: [secret] => [secret]" in out
    assert "value: [secret]" in out and "~ token: [secret] => [secret]" in out


def test_an_unchanged_masked_secret_is_no_change() -> None:
    s = res("aws:ssm/parameter:Parameter", "ecommerce-vpc-token", {"value": secret("[secret]")})
    assert not diff_plans(plan_of(component(), s), plan_of(component(), copy.deepcopy(s))).changed


# -- whole plans, the command -------------------------------------------------------------------------------


def test_the_dev_plan_against_itself_is_empty_despite_engine_noise(
    plan: Callable[[str], dict[str, Any]],
) -> None:
    """Dependency order varies between runs of the same program; that is not a change."""
    before = plan("dev")
    after = copy.deepcopy(before)
    after["resources"].reverse()
    for r in after["resources"]:
        r["dependencies"].reverse()
        r["propertyDependencies"] = {}
    result = diff_plans(before, after)
    assert not result.changed, [f"{s.op} {s.resource['urn']}" for s in result.steps]
    assert result.summary() == f"Resources: {len(before['resources'])} unchanged"


def test_exit_codes_0_no_changes_1_changes_2_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b, bad = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "bad.json"
    a.write_text(json.dumps(plan_of(component(), vpc())))
    b.write_text(json.dumps(plan_of(component(), vpc(cidrBlock="10.1.0.0/16"))))
    bad.write_text(json.dumps({"resources": [{"urn": "x"}]}))
    assert run_diff(a, a) == 0
    assert run_diff(a, b) == 1
    assert run_diff(a, bad) == 2
    assert run_diff(a, tmp_path / "missing.json") == 2
    bad.write_text(json.dumps({"resources": [{"urn": "x", "type": "t", "name": "n", "inputs": {}}]}))
    assert run_diff(bad, a) == 2
    err = capsys.readouterr().err
    assert "bad.json: resources[0] lacks type, name, inputs" in err
    assert "missing.json: no such file (build one with `make preview STACK=<stack>`)" in err
    assert "bad.json: resources[0].urn 'x' is not a URN" in err


def test_cli_diff_prints_and_exits_1_on_changes(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(plan_of(component(), vpc())))
    b.write_text(json.dumps(plan_of(component(), vpc(tags={"Name": "b"}))))
    proc = subprocess.run([sys.executable, "-m", "tools.offline", "diff", str(a), str(b)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert '~ tags.Name: "a" => "b"' in proc.stdout
    assert proc.stdout.rstrip().endswith("Resources: ~ 1 to update, 1 unchanged")


def test_plan_diff_refuses_an_unknown_base_revision(tmp_path: Path) -> None:
    with pytest.raises(DiffError, match=r"BASE='no-such-branch' is not a commit of this repository"):
        plan_at("no-such-branch", "dev", tmp_path)
