"""ServiceMesh as a whole (components/mesh/): the component owns every resource its seams build, the package keeps
its shape (a table-of-contents constructor, no builder over ~120 lines, no module over ~1,000), and the `cluster.*`
settings fail naming the key.

The seams have their own modules, mirroring the package: `test_mesh_cluster.py`, `test_mesh_identities.py`,
`test_mesh_registry.py`, `test_mesh_ingress.py`, `test_mesh_controllers.py`, `test_mesh_workloads.py`, and
`test_dbboot.py` for the database bootstrap. Shared fixtures and readers are in `tests/mesh_support.py`.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from components.config import SettingsError
from components.contracts import SERVICES
from tests.conftest import settings_for
from tests.mesh_support import MESH, built
from tests.mesh_support import settings_for_raw as settings_for_raw  # re-exported: tests/test_capacity.py
from tools.offline.engine import ROOT

#: Issue 13's limits: a builder a reader can take in at once, a module that is one seam.
MAX_FUNCTION_LINES, MAX_MODULE_LINES = 120, 1000
MESH_PACKAGE = ROOT / "components" / "mesh"


@pytest.mark.parametrize("key", ["dev", "domain"])
def test_every_resource_the_seams_build_is_a_child_of_the_component(key: str) -> None:
    """Builders live in their own modules but create as `parent=scope.owner`: the URNs stay the ServiceMesh's."""
    res, _ = built(key)
    (mesh,) = [r for r in res if r["type"] == "ecommerce:compute:ServiceMesh"]
    for r in res:
        if r is mesh or r["type"] == "pulumi:pulumi:Stack":
            continue
        assert r["parent"] == mesh["urn"], f"{r['urn']}: parent {r['parent']}, want the ServiceMesh"
        assert r["name"].startswith(f"{MESH}-"), f"{r['urn']}: child name without the component's prefix"


def _functions(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text())
    return [
        (f"{path.relative_to(ROOT)}:{n.lineno} {n.name}", (n.end_lineno or n.lineno) - n.lineno + 1)
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def test_mesh_builders_stay_short_and_modules_stay_one_seam() -> None:
    files = [*sorted(MESH_PACKAGE.glob("*.py")), ROOT / "k8s" / "dbboot.py"]
    assert len(files) >= 8, f"components/mesh/ lost its seams: {files}"
    long = [(f, n) for path in files for f, n in _functions(path) if n > MAX_FUNCTION_LINES]
    assert long == [], f"functions over {MAX_FUNCTION_LINES} lines: {long}"
    big = [(p.name, n) for p in files if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES]
    assert big == [], f"modules over {MAX_MODULE_LINES} lines: {big}"
    assert not (ROOT / "components" / "mesh.py").exists(), "components/mesh.py would shadow the package"


def test_component_exposes_the_same_typed_outputs() -> None:
    _, mesh = built("dev")
    assert mesh.cluster_name == "ecommerce-dev", mesh.cluster_name
    assert set(mesh.service_role_arns) == set(SERVICES) == set(mesh.repository_urls), (
        f"per-service outputs: roles {sorted(mesh.service_role_arns)}, repos {sorted(mesh.repository_urls)}"
    )
    assert (mesh.alb_origin.protocol, mesh.alb_origin.port) == ("http-only", 80), mesh.alb_origin


# --- settings --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cluster", "key"),
    [
        ({"kubernetesVersion": "1.27"}, "cluster.kubernetesVersion"),
        ({"publicAccessCidrs": ["0.0.0.0/0"]}, "cluster.publicAccessCidrs[0]"),
        ({"publicAccessCidrs": ["not-a-cidr"]}, "cluster.publicAccessCidrs[0]"),
        ({"controlPlaneLogRetentionDays": 10}, "cluster.controlPlaneLogRetentionDays"),
        ({"adminRoleArns": ["arn:aws:iam::123:user/bob"]}, "cluster.adminRoleArns[0]"),
        ({"rootVolumeSizeGib": 8}, "cluster.rootVolumeSizeGib"),
        ({"systemReplicas": 0}, "cluster.systemReplicas"),
        ({"workloadProfile": "huge"}, "cluster.workloadProfile"),
    ],
)
def test_bad_cluster_settings_fail_naming_the_key(cluster: dict[str, Any], key: str) -> None:
    base = dict(settings_for_raw("dev"))
    base.update(cluster)
    with pytest.raises(SettingsError) as err:
        settings_for("dev", {"ecommerce-platform:cluster": base})
    assert any(p.startswith(f"{key}:") for p in err.value.problems), err.value.problems


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("imageTag", "0.1.0", "a fresh account does not have"),
        ("maxPodsPerNode", 12, "never reached the kubelet"),
    ],
)
def test_retired_cluster_keys_say_why_and_what_instead(key: str, value: Any, says: str) -> None:
    with pytest.raises(SettingsError) as err:
        settings_for("dev", {"ecommerce-platform:cluster": {**settings_for_raw("dev"), key: value}})
    (problem,) = [p for p in err.value.problems if p.startswith(f"cluster.{key}:")]
    assert "retired" in problem and says in problem and "Remove it" in problem, problem


def test_image_tags_name_published_images_only() -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    cluster = {**settings_for_raw("dev"), "imageTags": {"payment": sha}}
    s = settings_for("dev", {"ecommerce-platform:cluster": cluster})
    assert s.cluster.image_tags.get("payment") == sha and s.cluster.image_tags.get("cart") is None
    for bad, key in (
        ({"nine": sha}, "cluster.imageTags.nine"),
        ({"cart": "latest"}, "cluster.imageTags.cart"),
        ({"cart": "unpublished"}, "cluster.imageTags.cart"),
    ):
        with pytest.raises(SettingsError) as err:
            settings_for("dev", {"ecommerce-platform:cluster": {**settings_for_raw("dev"), "imageTags": bad}})
        assert any(p.startswith(f"{key}:") for p in err.value.problems), err.value.problems


def test_a_manual_images_run_publishes_every_service_for_a_fresh_account() -> None:
    # After a fresh account's first `up` every service is unpublished; the images workflow run by hand
    # (workflow_dispatch: no `before` commit) must build all of them, so that pinning their tags rolls them all out.
    from tools.ci.__main__ import changed_services, git_changed_paths

    assert changed_services(git_changed_paths("", "HEAD")) == list(SERVICES)
    assert changed_services(git_changed_paths("0" * 40, "HEAD")) == list(SERVICES)
