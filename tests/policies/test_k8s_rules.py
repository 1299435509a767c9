"""Kubernetes workload rules on Deployments (spec.template.spec), CronJobs and Pods."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.policies.cases import Case, check
from tests.policies.helpers import R, provider

P = provider("prod")
IMAGE = "123456789012.dkr.ecr.us-east-2.amazonaws.com/ecommerce/orders:1.4.2"


def container(**changes: Any) -> dict[str, Any]:
    c: dict[str, Any] = {
        "name": "orders",
        "image": IMAGE,
        "ports": [{"containerPort": 8080}],
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}},
        "env": [
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "orders-db", "key": "password"}}}
        ],
    }
    c.update(changes)
    return c


def pod_spec(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "serviceAccountName": "orders",
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container()],
    }
    spec.update(changes)
    return spec


def deployment(
    spec: dict[str, Any] | None = None, namespace: str = "shop", kind: str = "kubernetes:apps/v1:Deployment"
) -> list[dict[str, Any]]:
    s = spec if spec is not None else pod_spec()
    body: dict[str, Any]
    if kind == "kubernetes:batch/v1:CronJob":
        body = {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {"spec": s}}}}
    elif kind == "kubernetes:core/v1:Pod":
        body = s
    else:
        body = {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "orders"}},
            "template": {"metadata": {"labels": {"app": "orders"}}, "spec": s},
        }
    return [
        P,
        R(
            kind,
            "orders",
            {
                "apiVersion": "x",
                "kind": kind.rsplit(":", 1)[-1],
                "metadata": {"name": "orders", "namespace": namespace},
                "spec": body,
            },
        ),
    ]


def with_sc(change: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    c = container()
    change(c["securityContext"])
    return deployment(pod_spec(containers=[c]))


def without(key: str) -> list[dict[str, Any]]:
    c = container()
    c.pop(key)
    return deployment(pod_spec(containers=[c]))


BARE = deployment({"containers": [{"name": "bare"}]})

CASES = [
    Case("k8s-non-root", "runs as root", with_sc(lambda sc: sc.update(runAsUser=0)), True, "runAsUser"),
    Case(
        "k8s-non-root",
        "runAsNonRoot false",
        with_sc(lambda sc: sc.update(runAsNonRoot=False)),
        True,
        "runAsNonRoot",
    ),
    Case("k8s-non-root", "compliant", deployment(), False),
    Case(
        "k8s-non-root",
        "system namespace skipped",
        deployment(pod_spec(containers=[container(securityContext={})]), namespace="kube-system"),
        False,
    ),
    Case("k8s-non-root", "missing security context", BARE, True),
    Case(
        "k8s-non-root",
        "cronjob as root",
        deployment(
            pod_spec(containers=[container(securityContext={"runAsUser": 0})]),
            kind="kubernetes:batch/v1:CronJob",
        ),
        True,
        "jobTemplate",
    ),
    Case(
        "k8s-readonly-rootfs",
        "writable root",
        with_sc(lambda sc: sc.update(readOnlyRootFilesystem=False)),
        True,
        "readOnlyRootFilesystem",
    ),
    Case("k8s-readonly-rootfs", "compliant", deployment(), False),
    Case("k8s-readonly-rootfs", "missing security context", BARE, True),
    Case(
        "k8s-no-privilege", "privileged", with_sc(lambda sc: sc.update(privileged=True)), True, "privileged"
    ),
    Case(
        "k8s-no-privilege",
        "escalation allowed",
        with_sc(lambda sc: sc.update(allowPrivilegeEscalation=True)),
        True,
        "allowPrivilegeEscalation",
    ),
    Case(
        "k8s-no-privilege",
        "capabilities kept",
        with_sc(lambda sc: sc.update(capabilities={"add": ["SYS_ADMIN"]})),
        True,
        "capabilities",
    ),
    Case("k8s-no-privilege", "host network", deployment(pod_spec(hostNetwork=True)), True, "hostNetwork"),
    Case(
        "k8s-no-privilege",
        "unconfined seccomp",
        deployment(
            pod_spec(
                securityContext={"runAsNonRoot": True},
                containers=[
                    container(
                        securityContext={
                            **container()["securityContext"],
                            "seccompProfile": {"type": "Unconfined"},
                        }
                    )
                ],
            )
        ),
        True,
        "seccompProfile",
    ),
    Case("k8s-no-privilege", "compliant", deployment(), False),
    Case(
        "k8s-no-privilege",
        "missing security context (bare pod)",
        deployment({"containers": [{"name": "bare"}]}, kind="kubernetes:core/v1:Pod"),
        True,
        "allowPrivilegeEscalation",
    ),
    Case("k8s-resources", "no requests", without("resources"), True, "resources.requests.cpu"),
    Case("k8s-resources", "compliant", deployment(), False),
    Case("k8s-resources", "missing everything", BARE, True),
    Case("k8s-probes", "no probes", without("readinessProbe"), True, "readinessProbe"),
    Case("k8s-probes", "compliant", deployment(), False),
    Case(
        "k8s-probes",
        "jobs need no probes",
        deployment({"containers": [{"name": "bare"}]}, kind="kubernetes:batch/v1:CronJob"),
        False,
    ),
    Case("k8s-probes", "missing everything", BARE, True),
    Case(
        "k8s-image-pinned",
        "latest",
        deployment(pod_spec(containers=[container(image=IMAGE.rsplit(":", 1)[0] + ":latest")])),
        True,
        "image",
    ),
    Case(
        "k8s-image-pinned",
        "docker hub",
        deployment(pod_spec(containers=[container(image="nginx:1.27")])),
        True,
        "image",
    ),
    Case(
        "k8s-image-pinned",
        "no tag",
        deployment(pod_spec(containers=[container(image=IMAGE.rsplit(":", 1)[0])])),
        True,
        "image",
    ),
    Case("k8s-image-pinned", "version tag", deployment(), False),
    Case(
        "k8s-image-pinned",
        "digest",
        deployment(pod_spec(containers=[container(image=IMAGE.rsplit(":", 1)[0] + "@sha256:" + "a" * 64)])),
        False,
    ),
    Case("k8s-image-pinned", "missing image", BARE, True),
    Case(
        "k8s-image-pinned",
        "config allows a mirror",
        deployment(pod_spec(containers=[container(image="registry.example.com/orders:1.0")])),
        False,
        config={"allowedRegistries": ["^registry\\.example\\.com/"]},
    ),
    Case(
        "k8s-service-account",
        "default account",
        deployment(pod_spec(serviceAccountName="default")),
        True,
        "serviceAccountName",
    ),
    Case(
        "k8s-service-account",
        "token mounted",
        deployment(pod_spec(automountServiceAccountToken=True)),
        True,
        "automountServiceAccountToken",
    ),
    Case(
        "k8s-service-account",
        "literal secret in env",
        deployment(pod_spec(containers=[container(env=[{"name": "STRIPE_API_KEY", "value": "sk_live_x"}])])),
        True,
        "STRIPE_API_KEY",
    ),
    Case("k8s-service-account", "compliant", deployment(), False),
    Case("k8s-service-account", "missing everything", BARE, True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case) -> None:
    check(case)


def test_init_containers_are_checked_too() -> None:
    spec = pod_spec(initContainers=[container(name="migrate", securityContext={"runAsUser": 0})])
    case = Case(
        "k8s-non-root", "init container as root", deployment(copy.deepcopy(spec)), True, "initContainers[0]"
    )
    check(case)
