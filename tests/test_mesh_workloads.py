"""ServiceMesh workloads (components/mesh/workloads.py): every Kubernetes object through the cluster's provider,
valid against the cluster's schema, hardened, sized, and isolated by NetworkPolicies.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from components.contracts import SERVICES
from k8s.catalogue import BY_NAME, CATALOGUE
from tests.conftest import settings_for
from tests.mesh_support import (
    MESH,
    SECRET_SIG,
    one,
    published,
)


def test_every_kubernetes_object_uses_the_cluster_provider(resources: Any) -> None:
    res = resources("dev")
    provider = one(res, "pulumi:providers:kubernetes", f"{MESH}-k8s")
    ref = f"{provider['urn']}::{provider['id']}"
    for r in res:
        if r["type"].startswith("kubernetes:"):
            assert r["provider"] == ref, f"{r['urn']}: provider {r['provider']!r}, want the cluster's"
    assert provider["inputs"]["kubeconfig"]["4dabf18193072939515e22adb298388d"] == SECRET_SIG, provider["urn"]


#: TargetGroupBinding is the Load Balancer Controller's CRD, absent from the Kubernetes schemas: checked here.
TARGET_GROUP_BINDING_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "elbv2.k8s.aws/v1beta1"},
        "kind": {"const": "TargetGroupBinding"},
        "metadata": {"type": "object", "required": ["name", "namespace"]},
        "spec": {
            "type": "object",
            "required": ["serviceRef", "targetGroupARN"],
            "additionalProperties": False,
            "properties": {
                "serviceRef": {
                    "type": "object",
                    "required": ["name", "port"],
                    "additionalProperties": False,
                    "properties": {"name": {"type": "string"}, "port": {"type": ["integer", "string"]}},
                },
                "targetGroupARN": {"type": "string", "pattern": "^arn:aws[a-z-]*:elasticloadbalancing:"},
                "targetType": {"enum": ["instance", "ip"]},
            },
        },
    },
}


def _manifest(record: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in record["inputs"].items() if not k.startswith("__")}
    if "automountServiceAccountToken" not in body and record["type"].endswith(":ServiceAccount"):
        pass
    return body


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_kubernetes_object_validates_against_the_cluster_schema(resources: Any, stack: str) -> None:
    res = resources(stack)
    version = settings_for(stack).cluster.kubernetes_version
    objects = [
        r
        for r in res
        if r["type"].startswith("kubernetes:")
        and r["custom"]
        and not r["type"].startswith("kubernetes:helm.sh")
    ]
    assert len(objects) >= 8 * 7, f"only {len(objects)} Kubernetes objects"
    for r in objects:
        m = _manifest(r)
        if m["kind"] == "TargetGroupBinding":
            jsonschema.validate(m, TARGET_GROUP_BINDING_SCHEMA)
            continue
        try:
            kubernetes_validate.validate(m, f"{version}.0", strict=True)
        except kubernetes_validate.ValidationError as err:
            raise AssertionError(f"{r['urn']}: {err.message} at {list(err.path)}") from err


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_workload_is_hardened(resources: Any, stack: str) -> None:
    res = resources(stack)
    deployments = res.of_type("kubernetes:apps/v1:Deployment")
    assert {d["inputs"]["metadata"]["name"] for d in deployments} == set(SERVICES)
    for d in deployments:
        urn, spec = d["urn"], d["inputs"]["spec"]
        pod = spec["template"]["spec"]
        assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0, urn
        assert pod["securityContext"]["runAsNonRoot"] is True, urn
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", urn
        zones = [
            t for t in pod["topologySpreadConstraints"] if t["topologyKey"] == "topology.kubernetes.io/zone"
        ]
        assert zones and zones[0]["whenUnsatisfiable"] == "DoNotSchedule", f"{urn}: not spread across AZs"
        assert pod.get("hostNetwork") is not True and pod["automountServiceAccountToken"] is False, urn
        for ctr in pod["containers"]:
            sc = ctr["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True, urn
            assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"], urn
            assert sc["runAsNonRoot"] is True and sc["privileged"] is False, urn
            for kind in ("requests", "limits"):
                assert set(ctr["resources"][kind]) == {"cpu", "memory"}, f"{urn}: {kind} incomplete"
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert probe in ctr, f"{urn}: no {probe}"
            assert ctr["image"].endswith(
                f"/ecommerce-{stack}/{d['inputs']['metadata']['name']}:unpublished"
            ), f"{urn}: {ctr['image']}"
            assert not any("value" in e and "secret" in e["name"].lower() for e in ctr["env"]), urn
    ns = res.named(f"{MESH}-namespace")["inputs"]["metadata"]["labels"]
    assert ns["pod-security.kubernetes.io/enforce"] == "restricted", ns


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_unpublished_services_run_zero_replicas_and_no_hpa(resources: Any, stack: str) -> None:
    # A fresh account's ECR repositories are empty until the images workflow pushes; the Kubernetes provider waits
    # for each Deployment to become ready and fails after ten minutes if its pods cannot pull.
    res = resources(stack)
    assert settings_for(stack).cluster.image_tags == (), f"{stack} ships with published tags"
    for svc in CATALOGUE:
        d = res.named(f"{MESH}-{svc.name}-deployment")
        assert d["inputs"]["spec"]["replicas"] == 0, f"{d['urn']}: waits on an image no one has pushed"
        hpas = [r for r in res.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
                if r["name"] == f"{MESH}-{svc.name}-hpa"]  # fmt: skip
        assert hpas == [], f"{hpas[0]['urn'] if hpas else ''}: an HPA for a service with no image"
        pdb = res.named(f"{MESH}-{svc.name}-pdb")
        assert pdb["inputs"]["spec"]["maxUnavailable"] == 1, pdb["urn"]


@pytest.mark.parametrize(("stack", "hpa"), [("dev", (1, 2)), ("prod", (2, 6))])
def test_published_services_run_their_replicas_under_their_hpa(stack: str, hpa: tuple[int, int]) -> None:
    sha = "fedcba9876543210fedcba9876543210fedcba98"
    res = published(stack, sha, list(SERVICES))
    for svc in CATALOGUE:
        d = res.named(f"{MESH}-{svc.name}-deployment")
        spec = d["inputs"]["spec"]
        # The HPA owns the count: no replicas field and no ignoreChanges. An HPA never scales a target at 0
        # replicas, so on the pin Pulumi's server-side apply drops its own `replicas: 0` (the field returns to
        # its default, 1) and the HPA raises it to minReplicas.
        assert "replicas" not in spec, f"{d['urn']}: a fixed count would reset the HPA's on every image roll"
        assert "spec.replicas" not in d["ignoreChanges"], f"{d['urn']}: would keep the unpublished 0 forever"
        assert spec["template"]["spec"]["containers"][0]["image"].endswith(f"/{svc.name}:{sha}"), d["urn"]
        h = res.named(f"{MESH}-{svc.name}-hpa")
        assert (h["inputs"]["spec"]["minReplicas"], h["inputs"]["spec"]["maxReplicas"]) == hpa, h["urn"]
        assert h["inputs"]["spec"]["scaleTargetRef"]["name"] == svc.name, h["urn"]


def test_network_policies_follow_the_catalogue(resources: Any) -> None:
    res = resources("prod")
    deny = res.named(f"{MESH}-netpol-default-deny")["inputs"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, deny
    dns = res.named(f"{MESH}-netpol-allow-dns")["inputs"]["spec"]["egress"][0]
    assert {p["port"] for p in dns["ports"]} == {53}, dns
    public_cidrs = ["10.0.1.0/24", "10.0.2.0/24"]
    for svc in CATALOGUE:
        r = res.named(f"{MESH}-{svc.name}-netpol")
        spec = r["inputs"]["spec"]
        ingress = spec.get("ingress", [])
        alb = [rule for rule in ingress if any("ipBlock" in p for p in rule["from"])]
        if svc.public:
            assert [p["ipBlock"]["cidr"] for p in alb[0]["from"]] == public_cidrs, r["urn"]
        else:
            assert not alb, f"{r['urn']}: internal service reachable from the ALB"
        callers = {
            p["podSelector"]["matchLabels"]["app"]
            for rule in ingress
            for p in rule["from"]
            if "podSelector" in p
        }
        assert callers == {s.name for s in CATALOGUE if svc.name in s.calls}, r["urn"]
        callees = {
            p["podSelector"]["matchLabels"]["app"]
            for rule in spec["egress"]
            for p in rule["to"]
            if "podSelector" in p
        }
        assert callees == set(svc.calls), r["urn"]
    assert BY_NAME["notification"].public is False


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_secret_value_lands_in_a_manifest(resources: Any, stack: str) -> None:
    for r in resources(stack):
        if r["type"].startswith("kubernetes:") and not r["type"].startswith("kubernetes:helm.sh"):
            assert SECRET_SIG not in json.dumps(r["inputs"]), (
                f"{r['urn']}: a secret value in a plain manifest"
            )
    for svc in CATALOGUE:
        cm = one(resources(stack), "kubernetes:core/v1:ConfigMap", f"{MESH}-{svc.name}-config")
        assert cm["inputs"]["data"]["SERVICE_NAME"] == svc.name, cm["urn"]


def test_ci_pinned_tag_publishes_only_that_service() -> None:
    sha = "89abcdef0123456789abcdef0123456789abcdef"
    res = published("dev", sha, ["payment"])
    deployments = {d["inputs"]["metadata"]["name"]: d for d in res.of_type("kubernetes:apps/v1:Deployment")}
    images = {
        n: d["inputs"]["spec"]["template"]["spec"]["containers"][0]["image"] for n, d in deployments.items()
    }
    assert images["payment"].endswith(f"/ecommerce-dev/payment:{sha}"), images["payment"]
    assert "replicas" not in deployments["payment"]["inputs"]["spec"], deployments["payment"]["urn"]
    assert images["cart"].endswith("/ecommerce-dev/cart:unpublished"), images["cart"]
    assert deployments["cart"]["inputs"]["spec"]["replicas"] == 0, deployments["cart"]["urn"]
    hpas = {
        h["inputs"]["metadata"]["name"]
        for h in res.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    }
    assert hpas == {"payment"}, f"HPAs for {sorted(hpas)}; only the published service may have one"
