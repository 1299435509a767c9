"""Kubernetes manifests for the catalogue's services, as plain dicts in the API's own shape (camelCase).

Pure functions: `(service, sizing, values) -> manifest`. Values that come from AWS (role ARN, image, target group
ARN, ConfigMap entries) may be Pulumi Outputs; the ServiceMesh turns each manifest into a typed
`pulumi_kubernetes` object and the tests validate every registered object against the cluster version's schema.

Hardening every workload gets, and the tests check: Pod Security Admission `restricted` on the namespace; non-root
user, read-only root filesystem, no privilege escalation, all capabilities dropped, seccomp RuntimeDefault; requests
and limits; startup, readiness and liveness probes; spread across AZs; rolling updates with zero unavailable (and
the Load Balancer Controller's readiness gate, so a new pod takes traffic only once the ALB sees it healthy); a
PodDisruptionBudget; NetworkPolicies that deny by default. Secrets are never put in a manifest: pods get the ARN of
a secret and read it with their own IAM role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from k8s.catalogue import HEALTH_PATH, NAMESPACE, READY_PATH, Service, Sizing, callers_of

Manifest = dict[str, Any]

#: The Load Balancer Controller's CRD that registers a Service's pods in a target group Pulumi owns.
TARGET_GROUP_BINDING_API = "elbv2.k8s.aws/v1beta1"
#: Non-root user and group the images run as (the images' contract).
RUN_AS = 10001
PART_OF = "ecommerce-platform"


def labels(service: str) -> dict[str, str]:
    return {"app": service, "app.kubernetes.io/name": service, "app.kubernetes.io/part-of": PART_OF}


def _meta(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": NAMESPACE, "labels": labels(name), **extra}


def namespace() -> Manifest:
    psa = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": NAMESPACE,
            "labels": {
                **psa,
                "pod-security.kubernetes.io/enforce-version": "latest",
                # The controller injects a readiness gate: rollouts wait until the ALB reports the new pod healthy.
                "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled",
                "app.kubernetes.io/part-of": PART_OF,
            },
        },
    }


def service_account(svc: Service, role_arn: Any) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(
            svc.name,
            annotations={
                "eks.amazonaws.com/role-arn": role_arn,
                "eks.amazonaws.com/sts-regional-endpoints": "true",
            },
        ),
        # The services never call the Kubernetes API; IRSA injects its own projected token regardless.
        "automountServiceAccountToken": False,
    }


def config_map(svc: Service, data: Mapping[str, Any]) -> Manifest:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(svc.name), "data": dict(data)}


def service_urls(svc: Service, ports: Mapping[str, int]) -> dict[str, str]:
    """`<CALLEE>_URL` for each declared call, by cluster DNS."""
    return {
        f"{callee.upper().replace('-', '_')}_URL": f"http://{callee}.{NAMESPACE}.svc.cluster.local:{ports[callee]}"
        for callee in svc.calls
    }


def container_security_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "runAsGroup": RUN_AS,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def deployment(svc: Service, size: Sizing, image: Any, *, published: bool) -> Manifest:
    """The service's Deployment; `published`: its image tag is pinned in `cluster.imageTags`.

    Unpublished, it says `replicas: 0` explicitly: no pod waits on an image nobody has pushed. Published, it names no
    replica count at all: its HorizontalPodAutoscaler (minimum `size.replicas`) owns the field. The HPA never scales
    a target at 0 replicas, so the count must leave 0 by itself: under server-side apply a field the applier stops
    sending and no other manager owns is reset to its default (1), and the HPA takes over from there. Naming a count
    here instead would reset the HPA's choice on every image roll.
    """
    selector = {"app": svc.name}
    probe = {"httpGet": {"path": HEALTH_PATH, "port": "http"}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(svc.name),
        "spec": {
            **({} if published else {"replicas": 0}),
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector},
            # Zero-downtime: a new pod must be ready (and healthy in its target group) before an old one stops.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": labels(svc.name)},
                "spec": {
                    "serviceAccountName": svc.name,
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": 40,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": RUN_AS,
                        "runAsGroup": RUN_AS,
                        "fsGroup": RUN_AS,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "topology.kubernetes.io/zone",
                            "whenUnsatisfiable": "DoNotSchedule",
                            "labelSelector": {"matchLabels": selector},
                        },
                        {
                            "maxSkew": 1,
                            "topologyKey": "kubernetes.io/hostname",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": selector},
                        },
                    ],
                    "containers": [
                        {
                            "name": svc.name,
                            "image": image,
                            "imagePullPolicy": "IfNotPresent",
                            "ports": [{"name": "http", "containerPort": svc.port, "protocol": "TCP"}],
                            "env": [{"name": "PORT", "value": str(svc.port)}],
                            "envFrom": [{"configMapRef": {"name": svc.name}}],
                            "resources": {
                                "requests": {
                                    "cpu": f"{size.cpu_request_m}m",
                                    "memory": f"{size.memory_request_mib}Mi",
                                },
                                "limits": {
                                    "cpu": f"{size.cpu_limit_m}m",
                                    "memory": f"{size.memory_limit_mib}Mi",
                                },
                            },
                            "securityContext": container_security_context(),
                            "startupProbe": {**probe, "periodSeconds": 2, "failureThreshold": 30},
                            "readinessProbe": {
                                "httpGet": {"path": READY_PATH, "port": "http"},
                                "periodSeconds": 5,
                                "failureThreshold": 2,
                            },
                            "livenessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 3},
                            # The ALB keeps sending for a few seconds after deregistration starts; keep serving.
                            "lifecycle": {"preStop": {"sleep": {"seconds": 15}}},
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                        }
                    ],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                },
            },
        },
    }


def service(svc: Service) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(svc.name),
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": svc.name},
            "ports": [{"name": "http", "port": svc.port, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def horizontal_pod_autoscaler(svc: Service, size: Sizing) -> Manifest:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(svc.name),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": svc.name},
            "minReplicas": size.replicas,
            "maxReplicas": size.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": size.target_cpu_percent},
                    },
                }
            ],
        },
    }


def pod_disruption_budget(svc: Service) -> Manifest:
    # maxUnavailable 1 rather than minAvailable 1: with one replica (dev) node drains still proceed.
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(svc.name),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": svc.name}}},
    }


def default_deny() -> Manifest:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": NAMESPACE},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def allow_dns() -> Manifest:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-dns", "namespace": NAMESPACE},
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                            },
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                }
            ],
        },
    }


def network_policy(
    svc: Service,
    ports: Mapping[str, int],
    *,
    alb_cidrs: Sequence[str],
    data_cidrs: Sequence[str],
    data_ports: Sequence[int],
) -> Manifest:
    """The service's own policy: who may call it, and what it may call.

    Ingress: the ALB (ip targets, so the source is the ALB's own addresses in the public subnets, never a node) on
    the service port, and the services that declare a call to this one. Egress: the services it declares, its data
    stores' ports in the private subnets, and HTTPS anywhere: AWS APIs are reached through interface endpoints in
    the VPC but also through the S3/DynamoDB gateway endpoints, whose addresses are the services' public ranges;
    the nodes' security group and the endpoint policies bound that further.
    """
    ingress: list[dict[str, Any]] = []
    if svc.public:
        ingress.append(
            {
                "from": [{"ipBlock": {"cidr": c}} for c in alb_cidrs],
                "ports": [{"protocol": "TCP", "port": svc.port}],
            }
        )
    callers = callers_of(svc.name)
    if callers:
        ingress.append(
            {
                "from": [{"podSelector": {"matchLabels": {"app": c}}} for c in callers],
                "ports": [{"protocol": "TCP", "port": svc.port}],
            }
        )
    egress: list[dict[str, Any]] = [
        {
            "to": [{"podSelector": {"matchLabels": {"app": callee}}}],
            "ports": [{"protocol": "TCP", "port": ports[callee]}],
        }
        for callee in svc.calls
    ]
    if data_ports:
        egress.append(
            {
                "to": [{"ipBlock": {"cidr": c}} for c in data_cidrs],
                "ports": [{"protocol": "TCP", "port": p} for p in data_ports],
            }
        )
    egress.append({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 443}]})
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(svc.name),
        "spec": {
            "podSelector": {"matchLabels": {"app": svc.name}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }


def target_group_binding(svc: Service, target_group_arn: Any) -> Manifest:
    return {
        "apiVersion": TARGET_GROUP_BINDING_API,
        "kind": "TargetGroupBinding",
        "metadata": _meta(svc.name),
        # No `networking` block: the seed's security groups already let the ALB reach the service ports, and the
        # controller then needs no permission to edit security groups.
        "spec": {
            "serviceRef": {"name": svc.name, "port": svc.port},
            "targetGroupARN": target_group_arn,
            "targetType": "ip",
        },
    }
