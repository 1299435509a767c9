"""The GitHub workflows: valid against GitHub's schema (offline), pinned, least-privilege, and calling the same
`make` targets and role names the rest of the repository defines."""

from __future__ import annotations

import importlib.resources
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from components.delivery import role_name, runner_project_name

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
NAMES = [p.name for p in WORKFLOWS]
#: pulumi/actions v5.1.1: the commit its release tag points at (git tag v5.1.1 in pulumi/actions).
PULUMI_ACTIONS_V5_1_1 = "76683de37aa44910871ba6cef36557780f2e41d1"


def load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the bare key `on` as True; GitHub (YAML 1.2) reads it as "on".
    if True in doc:
        doc["on"] = doc.pop(True)
    return dict(doc)


def steps(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job, st) for job, spec in doc["jobs"].items() for st in spec.get("steps", [])]


def test_the_four_workflows_exist() -> None:
    assert NAMES == ["ci.yml", "deploy.yml", "images.yml", "preview.yml"], NAMES


@pytest.mark.parametrize("path", WORKFLOWS, ids=NAMES)
def test_workflow_matches_github_schema(path: Path) -> None:
    vendored = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "github-workflows.json"
    schema = json.loads(vendored.read_text())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in jsonschema.Draft7Validator(schema).iter_errors(load(path))]  # fmt: skip
    assert not errors, f"{path.name}: {errors}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=NAMES)
def test_every_action_is_pinned(path: Path) -> None:
    for job, st in steps(load(path)):
        uses = st.get("uses")
        if uses is None:
            continue
        action, _, ref = uses.partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{path.name}:{job}: {uses} is not pinned to a commit SHA"
        if action == "pulumi/actions":
            assert ref == PULUMI_ACTIONS_V5_1_1, f"{path.name}:{job}: {uses} is not v5.1.1's commit"
    text = path.read_text()
    for line in text.splitlines():
        if re.search(r"uses: \S+@[0-9a-f]{40}", line):
            assert re.search(r"# v\d+\.\d+\.\d+$", line), (
                f"{path.name}: {line.strip()} lacks its version comment"
            )


@pytest.mark.parametrize("path", WORKFLOWS, ids=NAMES)
def test_id_token_only_on_jobs_that_assume_a_role(path: Path) -> None:
    doc = load(path)
    top = doc.get("permissions", {})
    assert top in ({}, {"contents": "read"}), f"{path.name}: top-level permissions {top} grant more than read"
    for job, spec in doc["jobs"].items():
        assumes = any("configure-aws-credentials" in st.get("uses", "") for st in spec.get("steps", []))
        perms = spec.get("permissions", top)
        assert (perms.get("id-token") == "write") == assumes, (
            f"{path.name}:{job}: id-token {perms} vs OIDC {assumes}"
        )
        assert "write-all" not in str(perms), f"{path.name}:{job}"


def test_ci_runs_the_documented_make_targets() -> None:
    doc = load(ROOT / ".github/workflows/ci.yml")
    assert set(doc["on"]) == {"push", "pull_request"}
    runs = [st["run"] for _, st in steps(doc) if "run" in st]
    for target in ("make lint", "make test", "make preview STACK=dev", "make preview STACK=prod"):
        assert target in runs, f"ci.yml does not run {target!r}: {runs}"
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lint", "test", "preview", "venv"):
        assert re.search(rf"^{target}:", makefile, re.M), f"Makefile has no {target} target"
    (cache,) = [st for _, st in steps(doc) if "actions/cache" in st.get("uses", "")]
    assert ".venv" in cache["with"]["path"] and "requirements" in cache["with"]["key"], cache


def codebuild_label(stack: str) -> str:
    """The runs-on label CodeBuild's webhook answers (CodeBuild user guide, "Self-hosted GitHub Actions runners")."""
    return f"codebuild-{runner_project_name(stack)}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"


def test_preview_runs_the_policy_pack_for_both_stacks_and_comments() -> None:
    doc = load(ROOT / ".github/workflows/preview.yml")
    assert list(doc["on"]) == ["pull_request"]
    assert set(doc["jobs"]) == {"preview-dev", "preview-prod"}
    dev, prod = doc["jobs"]["preview-dev"], doc["jobs"]["preview-prod"]
    # A pull_request job's OIDC subject is repo:<o>/<r>:pull_request unless it names an environment, and its
    # workflow file is the pull request's own: prod's preview waits in `prod-preview` for reviewers.
    assert "environment" not in dev, "dev's preview role trusts the pull_request subject"
    assert prod["environment"] == "prod-preview", "prod's preview must wait for the environment's reviewers"
    for stack, job in (("dev", dev), ("prod", prod)):
        assert job["runs-on"] == codebuild_label(stack), (
            f"{stack}: the private endpoint answers only in the VPC"
        )
        (pulumi,) = [st for st in job["steps"] if st.get("uses", "").startswith("pulumi/actions@")]
        w = pulumi["with"]
        assert (w["command"], w["stack-name"], w["policyPacks"], w["diff"], w["comment-on-pr"]) == (
            "preview",
            stack,
            "policies",
            True,
            True,
        )
        (aws,) = [st for st in job["steps"] if "configure-aws-credentials" in st.get("uses", "")]
        assert aws["with"]["role-to-assume"].endswith(role_name(stack, "preview"))
        assert job["permissions"]["pull-requests"] == "write"
        assert any(st.get("run") == "aws --version" for st in job["steps"]), f"{stack}: AWS CLI not checked"


def test_deploy_serialises_each_stack_and_gates_prod() -> None:
    doc = load(ROOT / ".github/workflows/deploy.yml")
    assert doc["on"]["push"] == {"branches": ["main"], "tags": ["v*"]} and "workflow_dispatch" in doc["on"]
    dev, prod = doc["jobs"]["dev"], doc["jobs"]["prod"]
    assert dev["concurrency"] == {"group": "deploy-dev", "cancel-in-progress": False}
    assert prod["concurrency"] == {"group": "deploy-prod", "cancel-in-progress": False}
    assert prod["environment"] == "prod" and "environment" not in dev
    for stack, job in (("dev", dev), ("prod", prod)):
        assert job["runs-on"] == codebuild_label(stack), (
            f"{stack}: the private endpoint answers only in the VPC"
        )
        roles = [st["with"]["role-to-assume"] for st in job["steps"] if "configure-aws" in st.get("uses", "")]
        assert len(roles) == 1 and roles[0].endswith(f":role/{role_name(stack, 'deploy')}"), roles
        ups = [st["with"] for st in job["steps"] if st.get("uses", "").startswith("pulumi/actions@")]
        # refresh: auto-scaled capacities come back into the state before ignoreChanges reuses them (Pulumi docs,
        # "ignoreChanges": without a refresh the stale state value is sent).
        assert ups == [
            {**ups[0], "command": "up", "stack-name": stack, "policyPacks": "policies", "refresh": True}
        ]
        assert any(st.get("run") == "aws --version" for st in job["steps"]), f"{stack}: AWS CLI not checked"


def test_images_push_with_the_image_push_roles_and_pin_by_commit() -> None:
    doc = load(ROOT / ".github/workflows/images.yml")
    assert doc["on"]["push"] == {"branches": ["main"], "paths": ["services/**"]}
    build = doc["jobs"]["build"]
    roles = [st["with"]["role-to-assume"] for st in build["steps"] if "configure-aws" in st.get("uses", "")]
    assert [r.rsplit("/", 1)[1] for r in roles] == [
        role_name("dev", "image-push"),
        role_name("prod", "image-push"),
    ]
    assert build["env"]["TAG"] == "${{ github.sha }}", "image tags must be the commit SHA"
    text = (ROOT / ".github/workflows/images.yml").read_text()
    assert "docker buildx build" in text and "tools.ci set-image-tags dev" in text
    pushes = [st["run"] for st in build["steps"] if "docker push" in st.get("run", "") or "push-image" in
              st.get("run", "")]  # fmt: skip
    assert len(pushes) == 2 and all("tools.ci push-image" in p for p in pushes), pushes
    assert "Allow GitHub Actions to create and approve pull requests" in text, (
        "the pin step's repository setting"
    )


@pytest.mark.parametrize("path", WORKFLOWS, ids=NAMES)
def test_checkout_leaves_no_credentials_behind(path: Path) -> None:
    for job, st in steps(load(path)):
        if st.get("uses", "").startswith("actions/checkout@"):
            assert st.get("with", {}).get("persist-credentials") is False, (
                f"{path.name}:{job}: persist-credentials"
            )


def test_zizmor_gate_catches_what_it_is_there_for(tmp_path: Path) -> None:
    """`make lint` runs zizmor offline at medium and above; it must fail on an action pinned by tag and a checkout
    that leaves its token in .git/config (the two findings it reported on these workflows before issue 12)."""
    import subprocess
    import sys

    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "bad.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n"
        "      - uses: pulumi/actions@v5\n"
    )
    zizmor = Path(sys.executable).parent / "zizmor"
    cmd = [str(zizmor), "--offline", "--no-progress", "--min-severity", "medium", "--format", "json"]
    bad = subprocess.run([*cmd, str(wf)], capture_output=True, text=True, check=False)
    found = {f["ident"] for f in json.loads(bad.stdout)}
    assert bad.returncode != 0 and {"unpinned-uses", "artipacked"} <= found, (bad.returncode, found)
    good = subprocess.run(
        [*cmd, str(ROOT / ".github" / "workflows")], capture_output=True, text=True, check=False
    )
    assert good.returncode == 0 and json.loads(good.stdout) == [], good.stdout


def test_preview_posts_each_stacks_monthly_cost_delta_next_to_the_plan() -> None:
    """After the real preview, each job prices the base commit's plan and its own offline (make cost-diff) and
    posts the delta as one comment per stack, edited on each push; the base commit must be in the clone."""
    doc = load(ROOT / ".github/workflows/preview.yml")
    for stack in ("dev", "prod"):
        steps = doc["jobs"][f"preview-{stack}"]["steps"]
        checkout = next(st for st in steps if st.get("uses", "").startswith("actions/checkout@"))
        assert checkout["with"]["fetch-depth"] == 0, f"{stack}: git archive needs the base commit"
        names = [st.get("uses", "") or st.get("run", "") for st in steps]
        preview = next(i for i, n in enumerate(names) if n.startswith("pulumi/actions@"))
        delta = next(i for i, st in enumerate(steps) if "base-delta" in st.get("run", ""))
        post = next(i for i, st in enumerate(steps) if "tools.ci pr-comment" in st.get("run", ""))
        assert preview < delta < post, f"{stack}: preview, then the delta, then the comment"
        assert f"--stack {stack} base-delta" in steps[delta]["run"] and "$BASE_SHA" in steps[delta]["run"], (
            stack
        )
        assert steps[delta]["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}", stack
        assert f"pr-comment cost-delta-{stack} " in steps[post]["run"], stack


def test_pr_comment_posts_once_then_edits_its_own_comment() -> None:
    from tools.ci.__main__ import pr_comment

    calls: list[tuple[str, str, Any]] = []
    existing: list[dict[str, Any]] = [{"id": 7, "body": "someone else's"}]

    def send(method: str, path: str, body: dict[str, Any] | None) -> Any:
        calls.append((method, path, body))
        return existing if method == "GET" else {}

    assert pr_comment(send, "o/r", 12, "cost-delta-dev", "$1 more") == "posted"
    assert calls[-1] == (
        "POST",
        "/repos/o/r/issues/12/comments",
        {"body": "<!-- cost-delta-dev -->\n$1 more"},
    )
    existing.append({"id": 9, "body": "<!-- cost-delta-dev -->\nold"})
    assert pr_comment(send, "o/r", 12, "cost-delta-dev", "$2 more") == "edited"
    assert calls[-1][:2] == ("PATCH", "/repos/o/r/issues/comments/9"), calls[-1]
