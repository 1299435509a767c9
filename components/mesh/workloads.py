"""Workloads: the `ecommerce` namespace, its default-deny and DNS NetworkPolicies, and each catalogue service's
objects (ServiceAccount, ConfigMap, Deployment, Service, HPA, PodDisruptionBudget, NetworkPolicy and, for a public
service, the TargetGroupBinding that puts its pods in the ALB's target group), from the manifests of `k8s/`.

What it must not do: put a secret value in a manifest (pods get a secret's ARN, never its value), or create a
Kubernetes object without the explicit provider built from this cluster's kubeconfig (`on_cluster`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.contracts import DataContract, ServiceStores
from components.mesh.scope import Scope
from k8s import workloads as manifests
from k8s.catalogue import CATALOGUE, Service

#: The tag a Deployment names before its image is published (`cluster.imageTags` has no entry for the service): the
#: images workflow pushes commit SHAs only, so nothing ever carries this tag, and such a Deployment runs 0 replicas.
UNPUBLISHED_TAG = "unpublished"
#: Ports of the data stores reachable from the pods (NetworkPolicy egress to the private subnets).
POSTGRES_PORT, REDIS_PORT = 5432, 6379

_KINDS: Mapping[str, Any] = {
    "Namespace": k8s.core.v1.Namespace,
    "ServiceAccount": k8s.core.v1.ServiceAccount,
    "ConfigMap": k8s.core.v1.ConfigMap,
    "Service": k8s.core.v1.Service,
    "Deployment": k8s.apps.v1.Deployment,
    "HorizontalPodAutoscaler": k8s.autoscaling.v2.HorizontalPodAutoscaler,
    "PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
    "NetworkPolicy": k8s.networking.v1.NetworkPolicy,
}


@dataclass(frozen=True)
class Placement:
    """Where the services' objects go and what they reach."""

    service_role_arns: Mapping[str, pulumi.Output[str]]
    repository_urls: Mapping[str, pulumi.Output[str]]
    target_group_arns: Mapping[str, pulumi.Output[str]]
    public_cidrs: Sequence[str]
    """The ALB's subnets: the only ingress a public service's pods accept from outside the namespace."""
    private_cidrs: Sequence[str]
    """The data stores' subnets."""


def published_tag(service: str, image_tags: Mapping[str, str]) -> str | None:
    """The service's published image tag (`cluster.imageTags.<service>`), or None before its first push."""
    return image_tags.get(service)


def service_config(svc: Service, stores: ServiceStores, region: pulumi.Input[str]) -> dict[str, Any]:
    """The service's ConfigMap data: non-secret values only (ARNs of secrets, never their values)."""
    ports = {s.name: s.port for s in CATALOGUE}
    data: dict[str, Any] = {
        "SERVICE_NAME": svc.name,
        "AWS_REGION": region,
        "AWS_STS_REGIONAL_ENDPOINTS": "regional",
        **svc.env,
        **manifests.service_urls(svc, ports),
    }
    for s in stores.secrets:
        data[s.env_var] = s.arn
    for t in stores.publishes:
        data[t.env_var] = t.arn
    for q in stores.consumes:
        data[q.env_var] = q.url
    data.update(stores.env)
    return data


def body(manifest: manifests.Manifest) -> dict[str, Any]:
    """A manifest as the Kubernetes resource's arguments: no apiVersion/kind, Python argument names."""
    out = {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    if "automountServiceAccountToken" in out:
        out["automount_service_account_token"] = out.pop("automountServiceAccountToken")
    return out


def _apply(
    scope: Scope, role: str, manifest: manifests.Manifest, opts: pulumi.ResourceOptions
) -> pulumi.CustomResource:
    kind = manifest["kind"]
    if kind in _KINDS:
        return _KINDS[kind](f"{scope.name}-{role}", **body(manifest), opts=opts)
    return k8s.apiextensions.CustomResource(
        f"{scope.name}-{role}", api_version=manifest["apiVersion"], kind=kind, **body(manifest), opts=opts
    )


def namespace(
    scope: Scope, on_cluster: pulumi.ResourceOptions, controller: pulumi.Resource
) -> pulumi.ResourceOptions:
    """The namespace and its baseline policies; the options every object in it takes."""
    ns = _apply(scope, "namespace", manifests.namespace(), on_cluster)
    # After the controller: its webhook injects the target-group readiness gate into every new pod.
    in_ns = pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[ns, controller]))
    _apply(scope, "netpol-default-deny", manifests.default_deny(), in_ns)
    _apply(scope, "netpol-allow-dns", manifests.allow_dns(), in_ns)
    return in_ns


def services(
    scope: Scope,
    stores: DataContract,
    placement: Placement,
    in_ns: pulumi.ResourceOptions,
    controller: pulumi.Resource,
) -> None:
    """Every catalogue service's objects."""
    for svc in CATALOGUE:
        _service(scope, svc, stores[svc.name], placement, in_ns, controller)


def _service(
    scope: Scope,
    svc: Service,
    own: ServiceStores,
    placement: Placement,
    in_ns: pulumi.ResourceOptions,
    controller: pulumi.Resource,
) -> None:
    c, s = scope.settings.cluster, svc.name
    ports = {x.name: x.port for x in CATALOGUE}
    size = svc.sized(c.workload_profile)
    _apply(scope, f"{s}-sa", manifests.service_account(svc, placement.service_role_arns[s]), in_ns)
    _apply(scope, f"{s}-config", manifests.config_map(svc, service_config(svc, own, scope.region)), in_ns)
    # A fresh account's repositories are empty until the images workflow pushes and pins a tag, and the
    # Kubernetes provider waits ten minutes for a Deployment's pods: an unpublished service's Deployment runs
    # 0 replicas and has no HPA (the HPA controller disables scaling of a target at 0 replicas, so one would
    # only sit in ScalingDisabled). Once pinned, the HPA exists and owns the replica count.
    tag = published_tag(s, dict(c.image_tags))
    image = pulumi.Output.concat(placement.repository_urls[s], ":", tag or UNPUBLISHED_TAG)
    _apply(scope, f"{s}-deployment", manifests.deployment(svc, size, image, published=tag is not None), in_ns)
    k8s_service = _apply(scope, f"{s}-service", manifests.service(svc), in_ns)
    if tag is not None:
        _apply(scope, f"{s}-hpa", manifests.horizontal_pod_autoscaler(svc, size), in_ns)
    _apply(scope, f"{s}-pdb", manifests.pod_disruption_budget(svc), in_ns)
    data_ports = [p for p, used in ((POSTGRES_PORT, own.database), (REDIS_PORT, own.cache)) if used]
    _apply(
        scope,
        f"{s}-netpol",
        manifests.network_policy(
            svc,
            ports,
            alb_cidrs=list(placement.public_cidrs),
            data_cidrs=list(placement.private_cidrs),
            data_ports=data_ports,
        ),
        in_ns,
    )
    if s in placement.target_group_arns:
        _apply(
            scope,
            f"{s}-tgb",
            manifests.target_group_binding(svc, placement.target_group_arns[s]),
            pulumi.ResourceOptions.merge(in_ns, pulumi.ResourceOptions(depends_on=[controller, k8s_service])),
        )
