"""Kubernetes workload rules (Pod Security Standards "restricted" and our own baseline).

They read the pod spec of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs (`spec.template.spec`),
CronJobs (`spec.jobTemplate.spec.template.spec`) and Pods (`spec`). The platform's system namespaces are skipped
(configurable): the controllers there are AWS's and run with the privileges their charts ask for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .common import (
    ADVISORY,
    MANDATORY,
    UNKNOWN,
    Context,
    Raw,
    Res,
    as_list,
    get,
    is_false,
    is_set,
    is_true,
    num,
    resource_policy,
)

TEMPLATED = (
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet",
    "kubernetes:batch/v1:Job",
)
CRONJOB = "kubernetes:batch/v1:CronJob"
POD = "kubernetes:core/v1:Pod"
WORKLOADS = (*TEMPLATED, CRONJOB, POD)


def pod_spec(res: Res) -> tuple[str, Any]:
    if res.type == POD:
        return "spec", res.p("spec")
    if res.type == CRONJOB:
        return "spec.jobTemplate.spec.template.spec", res.p("spec", "jobTemplate", "spec", "template", "spec")
    return "spec.template.spec", res.p("spec", "template", "spec")


@dataclass(frozen=True)
class Container:
    path: str
    spec: dict[str, Any]
    init: bool

    @property
    def name(self) -> str:
        return str(self.spec.get("name", "?"))


def containers(res: Res) -> Iterator[Container]:
    base, spec = pod_spec(res)
    for kind, init in (("containers", False), ("initContainers", True)):
        for index, c in enumerate(as_list(get(spec, kind))):
            if isinstance(c, dict):
                yield Container(f"{base}.{kind}[{index}]", c, init)


def _skip(res: Res, ctx: Context) -> bool:
    namespace = res.p("metadata", "namespace") or "default"
    return namespace in (ctx.config.get("excludedNamespaces") or []) or not isinstance(pod_spec(res)[1], dict)


def _workload_rule(check: Any) -> Any:
    def run(res: Res, ctx: Context) -> None:
        if _skip(res, ctx):
            return
        check(res, ctx, pod_spec(res)[0], pod_spec(res)[1])

    return run


def _sc(c: Container, key: str) -> Any:
    return get(c.spec, "securityContext", key)


def _non_root(res: Res, ctx: Context, base: str, spec: dict[str, Any]) -> None:
    pod_non_root = get(spec, "securityContext", "runAsNonRoot")
    pod_user = get(spec, "securityContext", "runAsUser")
    for c in containers(res):
        non_root = _sc(c, "runAsNonRoot")
        effective = non_root if non_root is not None else pod_non_root
        if effective is not UNKNOWN and not is_true(effective):
            ctx.violation(
                res,
                f"{c.path}.securityContext.runAsNonRoot",
                effective,
                f"set runAsNonRoot true for container {c.name!r} (or in {base}.securityContext).",
            )
        user = _sc(c, "runAsUser")
        user = user if user is not None else pod_user
        if user is UNKNOWN:
            continue
        if user is None or num(user) == 0:
            ctx.violation(
                res,
                f"{c.path}.securityContext.runAsUser",
                user,
                f"run container {c.name!r} as a fixed non-zero UID (e.g. 10001).",
            )


def _readonly_rootfs(res: Res, ctx: Context, base: str, spec: dict[str, Any]) -> None:
    for c in containers(res):
        value = _sc(c, "readOnlyRootFilesystem")
        if value is not UNKNOWN and not is_true(value):
            ctx.violation(
                res,
                f"{c.path}.securityContext.readOnlyRootFilesystem",
                value,
                f"set readOnlyRootFilesystem true for {c.name!r}; mount an emptyDir where it must write.",
            )


def _no_privilege(res: Res, ctx: Context, base: str, spec: dict[str, Any]) -> None:
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if is_true(get(spec, key)):
            ctx.violation(
                res, f"{base}.{key}", True, f"remove {key}: pods do not share the node's namespaces."
            )
    pod_seccomp = get(spec, "securityContext", "seccompProfile", "type")
    for c in containers(res):
        if is_true(_sc(c, "privileged")):
            ctx.violation(
                res, f"{c.path}.securityContext.privileged", True, f"remove privileged from {c.name!r}."
            )
        escalation = _sc(c, "allowPrivilegeEscalation")
        if escalation is not UNKNOWN and not is_false(escalation):
            ctx.violation(
                res,
                f"{c.path}.securityContext.allowPrivilegeEscalation",
                escalation,
                f"set allowPrivilegeEscalation false for {c.name!r}.",
            )
        drop = get(c.spec, "securityContext", "capabilities", "drop")
        if drop is not UNKNOWN and "ALL" not in as_list(drop):
            ctx.violation(
                res,
                f"{c.path}.securityContext.capabilities.drop",
                drop,
                f"drop ['ALL'] capabilities in {c.name!r}.",
            )
        added = [
            a
            for a in as_list(get(c.spec, "securityContext", "capabilities", "add"))
            if a not in ("NET_BIND_SERVICE", UNKNOWN)
        ]
        if added:
            ctx.violation(
                res,
                f"{c.path}.securityContext.capabilities.add",
                added,
                "add no capabilities beyond NET_BIND_SERVICE.",
            )
        for index, port in enumerate(as_list(c.spec.get("ports"))):
            if (
                isinstance(port, dict)
                and is_set(port.get("hostPort"))
                and port.get("hostPort") not in (0, UNKNOWN)
            ):
                ctx.violation(
                    res,
                    f"{c.path}.ports[{index}].hostPort",
                    port.get("hostPort"),
                    "use a Service, not a hostPort.",
                )
        seccomp = get(c.spec, "securityContext", "seccompProfile", "type") or pod_seccomp
        if seccomp not in (UNKNOWN, "RuntimeDefault", "Localhost"):
            ctx.violation(
                res,
                f"{c.path}.securityContext.seccompProfile.type",
                seccomp,
                f"use seccompProfile RuntimeDefault for {c.name!r} (or in {base}.securityContext).",
            )


def _resources(res: Res, ctx: Context, base: str, spec: dict[str, Any]) -> None:
    for c in containers(res):
        resources = c.spec.get("resources")
        if resources is UNKNOWN:
            continue
        for path in (("requests", "cpu"), ("requests", "memory"), ("limits", "memory")):
            value = get(resources, *path)
            if not is_set(value):
                ctx.violation(
                    res,
                    f"{c.path}.resources.{'.'.join(path)}",
                    value,
                    f"set {'.'.join(path)} for {c.name!r} (the scheduler and the node's memory depend on it).",
                )


def _probes(res: Res, ctx: Context, base: str, spec: dict[str, Any]) -> None:
    if res.type in ("kubernetes:batch/v1:Job", CRONJOB):
        return
    for c in containers(res):
        if c.init:
            continue
        for probe in ("readinessProbe", "livenessProbe"):
            if not is_set(c.spec.get(probe)):
                ctx.violation(res, f"{c.path}.{probe}", None, f"give {c.name!r} a {probe}.")


_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _image_pinned(res: Res, ctx: Context, base: str, spec: dict[str, Any]) -> None:
    registries = [re.compile(p) for p in ctx.config.get("allowedRegistries") or []]
    for c in containers(res):
        image = c.spec.get("image")
        if image is UNKNOWN:
            continue
        if not isinstance(image, str) or not image:
            ctx.violation(
                res, f"{c.path}.image", image, "name the image from our ECR with a version tag or digest."
            )
            continue
        if not any(r.search(image) for r in registries):
            ctx.violation(
                res,
                f"{c.path}.image",
                image,
                "pull from our ECR registry (images are scanned and immutable there).",
            )
        if _DIGEST.search(image):
            continue
        last = image.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else None
        if tag is None or tag == "latest":
            ctx.violation(
                res,
                f"{c.path}.image",
                image,
                "pin a version tag (immutable in ECR) or a @sha256 digest, never 'latest'.",
            )


_SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.IGNORECASE)


def _service_account(res: Res, ctx: Context, base: str, spec: dict[str, Any]) -> None:
    sa = spec.get("serviceAccountName") or spec.get("serviceAccount")
    if sa is not UNKNOWN and sa in (None, "", "default"):
        ctx.violation(
            res,
            f"{base}.serviceAccountName",
            sa,
            "run under the service's own ServiceAccount (its IRSA role), not 'default'.",
        )
    automount = spec.get("automountServiceAccountToken")
    if automount is not UNKNOWN and not is_false(automount):
        ctx.violation(
            res,
            f"{base}.automountServiceAccountToken",
            automount,
            "set automountServiceAccountToken false unless the service calls the Kubernetes API (IRSA uses its own token).",
        )
    for c in containers(res):
        for index, env in enumerate(as_list(c.spec.get("env"))):
            if not isinstance(env, dict):
                continue
            name = str(env.get("name", ""))
            if _SECRET_NAME.search(name) and is_set(env.get("value")) and env.get("value") is not UNKNOWN:
                ctx.violation(
                    res,
                    f"{c.path}.env[{index}] ({name})",
                    Raw("a literal value"),
                    "read it from a Secret (valueFrom.secretKeyRef) or from Secrets Manager at runtime.",
                )


def _k8s(name: str, description: str, level: Any, controls: list[str], check: Any) -> Any:
    return resource_policy(
        name, description, level, controls, WORKLOADS, _workload_rule(check), remediation=""
    )


POLICIES = [
    _k8s(
        "k8s-non-root",
        "Pods run as non-root with a fixed non-zero UID.",
        MANDATORY,
        ["PSS-restricted:runAsNonRoot"],
        _non_root,
    ),
    _k8s(
        "k8s-readonly-rootfs",
        "Containers have a read-only root filesystem.",
        MANDATORY,
        ["PSS-baseline+"],
        _readonly_rootfs,
    ),
    _k8s(
        "k8s-no-privilege",
        "No privileged containers, no privilege escalation, all capabilities dropped, no host namespaces or ports, "
        "seccomp RuntimeDefault.",
        MANDATORY,
        ["PSS-restricted"],
        _no_privilege,
    ),
    _k8s(
        "k8s-resources",
        "Containers request CPU and memory and limit memory.",
        MANDATORY,
        [],
        _resources,
    ),
    _k8s(
        "k8s-probes",
        "Long-running containers have readiness and liveness probes.",
        ADVISORY,
        [],
        _probes,
    ),
    _k8s(
        "k8s-image-pinned",
        "Images come from our ECR with a version tag or digest, never 'latest'.",
        MANDATORY,
        [],
        _image_pinned,
    ),
    _k8s(
        "k8s-service-account",
        "Pods use a dedicated service account, do not mount its token when unused and keep secrets out of env.",
        ADVISORY,
        [],
        _service_account,
    ),
]
