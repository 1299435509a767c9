"""The catalogue of the platform's microservices: one entry per service, everything else is derived from it.

An entry says what the service is (port, public path on the ALB, the services it calls, its own environment) and
how big it runs in each workload profile. The ServiceMesh builds the service's ECR repository, IAM role, target
group, listener rule and Kubernetes objects from the entry; the capacity check adds up its requests. Adding a
ninth service is one more `Service(...)` in `CATALOGUE` (and, if it owns stores, its entry in the DataTier's
contract). Nothing here creates resources or reads configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: The namespace every microservice runs in (Pod Security Admission `restricted`).
NAMESPACE = "ecommerce"


@dataclass(frozen=True)
class Sizing:
    """Replicas and resources of one service in one workload profile."""

    replicas: int
    """Replicas at creation and the HPA's minimum (the capacity check plans for this many)."""
    max_replicas: int
    cpu_request_m: int
    memory_request_mib: int
    cpu_limit_m: int
    memory_limit_mib: int
    target_cpu_percent: int = 70


#: Profile -> default sizing; an entry may override per profile.
DEFAULT_SIZING: Mapping[str, Sizing] = {
    # dev on t3.micro: one replica each, requests small enough that eight services fit beside the system pods.
    "small": Sizing(
        replicas=1,
        max_replicas=2,
        cpu_request_m=25,
        memory_request_mib=48,
        cpu_limit_m=250,
        memory_limit_mib=128,
    ),
    # prod: two replicas (one per AZ) and room to scale out under load.
    "standard": Sizing(
        replicas=2,
        max_replicas=6,
        cpu_request_m=100,
        memory_request_mib=128,
        cpu_limit_m=500,
        memory_limit_mib=256,
    ),
}


@dataclass(frozen=True)
class Service:
    """One microservice of the catalogue."""

    name: str
    """DNS-safe name: Kubernetes objects, ECR repository, IAM role and the DataTier contract key."""
    port: int
    """Container and Service port; must lie inside `network.servicePorts` (the nodes SG opens only those)."""
    description: str
    paths: tuple[str, ...] = ()
    """ALB path patterns routed to this service; empty: internal only (no target group, no ALB rule)."""
    calls: tuple[str, ...] = ()
    """Services this one calls over HTTP; NetworkPolicies allow exactly these edges."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Non-secret settings of the service itself (the stores' endpoints come from the DataTier contract)."""
    sizing: Mapping[str, Sizing] = field(default_factory=dict)
    """Profile -> sizing overriding `DEFAULT_SIZING` for this service."""

    @property
    def public(self) -> bool:
        return bool(self.paths)

    def sized(self, profile: str) -> Sizing:
        return self.sizing.get(profile, DEFAULT_SIZING[profile])


CATALOGUE: tuple[Service, ...] = (
    Service(
        "product",
        8080,
        "Product catalogue (DynamoDB)",
        paths=("/api/products", "/api/products/*"),
        calls=("inventory",),
    ),
    Service("inventory", 8081, "Stock levels (DynamoDB); internal, called by product, cart and order"),
    Service(
        "cart",
        8082,
        "Shopping carts (ElastiCache Redis)",
        paths=("/api/cart", "/api/cart/*"),
        calls=("product", "inventory"),
    ),
    Service(
        "order",
        8083,
        "Orders (Aurora PostgreSQL); publishes order events",
        paths=("/api/orders", "/api/orders/*"),
        calls=("cart", "inventory", "payment", "user-auth"),
    ),
    Service(
        "user-auth",
        8084,
        "Accounts and sign-in (Aurora PostgreSQL, Cognito)",
        paths=("/api/users", "/api/users/*", "/api/auth/*"),
    ),
    Service(
        "payment",
        8085,
        "Payments through Stripe (its key in Secrets Manager)",
        paths=("/api/payments", "/api/payments/*"),
        env={"STRIPE_API_BASE": "https://api.stripe.com"},
    ),
    Service("notification", 8086, "Order and account notifications from SQS; internal", calls=("user-auth",)),
    Service("search", 8087, "Product search (OpenSearch)", paths=("/api/search", "/api/search/*")),
)

#: name -> entry.
BY_NAME: Mapping[str, Service] = {s.name: s for s in CATALOGUE}

#: Paths every service serves (the images' contract): startup/liveness and readiness.
HEALTH_PATH = "/healthz"
READY_PATH = "/ready"


def callers_of(name: str) -> tuple[str, ...]:
    """Services that declare a call to `name`."""
    return tuple(s.name for s in CATALOGUE if name in s.calls)


def catalogue_problems(
    from_port: int, to_port: int, known_stores: tuple[str, ...] | None = None
) -> list[str]:
    """Consistency of the catalogue itself: unique names and ports, ports inside the SG's range, known callees."""
    problems: list[str] = []
    names = [s.name for s in CATALOGUE]
    ports = [s.port for s in CATALOGUE]
    if len(set(names)) != len(names):
        problems.append("k8s/catalogue.py: a service name is listed twice")
    if len(set(ports)) != len(ports):
        problems.append("k8s/catalogue.py: two services share a port")
    for s in CATALOGUE:
        if not from_port <= s.port <= to_port:
            problems.append(
                f"k8s/catalogue.py: {s.name} listens on {s.port}, outside network.servicePorts "
                f"{from_port}-{to_port}; widen network.servicePorts or pick a port inside"
            )
        for callee in s.calls:
            if callee not in BY_NAME or callee == s.name:
                problems.append(f"k8s/catalogue.py: {s.name} calls {callee!r}, which is not another service")
        if known_stores is not None and s.name not in known_stores:
            problems.append(f"k8s/catalogue.py: {s.name} has no entry in the DataTier contract")
    return problems
