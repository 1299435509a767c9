"""Typed stack settings: the one place that reads `pulumi.Config`.

`load_settings()` reads every key of the project's namespace once, checks types, ranges and the relations between
keys, and returns one frozen `Settings` object. Nothing else in the program reads configuration, and no resource
exists until this has succeeded: bad input stops the program with a single message that names every offending
key, the value it had and what is allowed.

Keys are grouped by area (`network.*`, `cluster.*`, ...) as structured config, so a stack file reads like the
architecture and `pulumi config set --path network.egress nat-per-az` works. Each field carries its config key and a
one-line description in its metadata; the README's settings table is generated from them (`python -m
tools.settings_table`) and a test keeps the two in step.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import json
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin

import pulumi
from pulumi.runtime import config as runtime_config

PROJECT = "ecommerce-platform"


class SettingsError(pulumi.RunError):
    """Raised before any resource is registered when the stack configuration is invalid.

    A `pulumi.RunError`, so the CLI prints the message without a Python traceback.
    """

    def __init__(self, problems: list[str], stack: str) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"Invalid configuration for stack '{stack}' (Pulumi.{stack}.yaml); nothing was created:\n{lines}"
        )


def setting(key: str, doc: str, default: Any = dataclasses.MISSING, **kwargs: Any) -> Any:
    """A settings field: its config key (camelCase, as in the stack file), a description, and a safe default.

    A field without a default is required.
    """
    metadata = {"key": key, "doc": doc}
    if default is dataclasses.MISSING:
        return field(metadata=metadata, **kwargs)
    if isinstance(default, list | dict):
        raise TypeError("use a tuple for sequence defaults; settings are immutable")
    return field(default=default, metadata=metadata, **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# Allowed values, in one place (the README and the policy pack quote them).
# ---------------------------------------------------------------------------------------------------------------

ENVIRONMENTS = ("dev", "prod")

#: AZ names each supported region offers; the program checks configured AZs against this before asking AWS.
REGION_AZS: Mapping[str, tuple[str, ...]] = {
    "us-east-1": ("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"),
    "us-east-2": ("us-east-2a", "us-east-2b", "us-east-2c"),
    "us-west-2": ("us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"),
}

EGRESS_MODES = ("none", "single-nat", "nat-per-az")
ALB_INGRESS_MODES = ("cloudfront", "internet")

#: Interface endpoints a node in a private subnet needs to join EKS, pull from ECR, assume IRSA roles and ship logs
#: (EKS user guide, "private clusters"); without any NAT these are mandatory.
PRIVATE_CLUSTER_ENDPOINTS = (
    "ec2",
    "ecr.api",
    "ecr.dkr",
    "sts",
    "logs",
    "elasticloadbalancing",
    "autoscaling",
    "eks",
    "eks-auth",
    "kms",
)
#: Further interface endpoints the workloads call, allowed in `network.interfaceEndpoints`.
SERVICE_ENDPOINTS = ("secretsmanager", "sns", "sqs", "ssm", "ssmmessages", "ec2messages", "monitoring", "rds")
INTERFACE_ENDPOINTS = PRIVATE_CLUSTER_ENDPOINTS + SERVICE_ENDPOINTS

#: CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)  # fmt: skip

#: Node instance types allowed per environment: dev stays on burstable sizes, prod starts at t3.medium (the seed).
#: The two ways a stack's state can be kept: an S3 bucket + KMS key this program creates, or Pulumi Cloud.
STATE_BACKENDS = ("self-managed", "pulumi-cloud")

#: IAM's bounds for a role's maximum session (seconds); this design allows at most two hours for any pipeline role.
ROLE_SESSION_BOUNDS = (3600, 7200)

NODE_INSTANCE_TYPES: Mapping[str, tuple[str, ...]] = {
    "dev": ("t3.micro", "t3.small", "t3.medium"),
    "prod": ("t3.medium", "t3.large", "t3.xlarge", "m6i.large", "m6i.xlarge", "m7i.large", "m7i.xlarge"),
}


# ---------------------------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortRange:
    """An inclusive TCP port range."""

    from_port: int = setting("from", "First port of the range.", 8080)
    to_port: int = setting("to", "Last port of the range.", 8089)


@dataclass(frozen=True)
class NetworkSettings:
    """The VPC: address plan, AZs, egress and endpoints (`EcommerceVpc`)."""

    vpc_name: str = setting("vpcName", "Name tag of the VPC.", "ecommerce-vpc")
    vpc_cidr: str = setting("vpcCidr", "IPv4 CIDR of the VPC.", "10.0.0.0/16")
    availability_zones: tuple[str, ...] = setting(
        "availabilityZones",
        "AZs to spread over, one public and one private subnet each.",
        ("us-east-2a", "us-east-2b"),
    )
    public_subnet_cidrs: tuple[str, ...] = setting(
        "publicSubnetCidrs", "Public subnet CIDRs, one per AZ in the same order (the ALB, NAT gateways).",
        ("10.0.1.0/24", "10.0.2.0/24"),
    )  # fmt: skip
    private_subnet_cidrs: tuple[str, ...] = setting(
        "privateSubnetCidrs", "Private subnet CIDRs, one per AZ in the same order (nodes, databases).",
        ("10.0.10.0/24", "10.0.11.0/24"),
    )  # fmt: skip
    egress: Literal["none", "single-nat", "nat-per-az"] = setting(
        "egress", "Internet egress for private subnets: none, single-nat (one NAT), nat-per-az (one NAT per AZ).",
        "nat-per-az",
    )  # fmt: skip
    interface_endpoints: tuple[str, ...] = setting(
        "interfaceEndpoints", "Interface VPC endpoints (service suffixes) reachable from the private subnets.",
        (*PRIVATE_CLUSTER_ENDPOINTS, "secretsmanager", "sns", "sqs"),
    )  # fmt: skip
    interface_endpoint_az_count: int = setting(
        "interfaceEndpointAzCount",
        "In how many AZs each interface endpoint gets an ENI (1 halves its cost).",
        2,
    )
    alb_ingress: Literal["cloudfront", "internet"] = setting(
        "albIngress", "Who may reach the ALB on 80/443: cloudfront (its origin-facing prefix list) or internet.",
        "cloudfront",
    )  # fmt: skip
    service_ports: PortRange = setting(
        "servicePorts", "Container ports the ALB may reach on the nodes (every service port must be inside).",
        PortRange(),
    )  # fmt: skip
    flow_log_retention_days: int = setting(
        "flowLogRetentionDays", "Days VPC flow logs are kept in CloudWatch Logs.", 365
    )


@dataclass(frozen=True)
class ClusterSettings:
    """The EKS node group's size (`ServiceMesh`)."""

    node_instance_type: str = setting(
        "nodeInstanceType", "EC2 instance type of the managed node group.", "t3.medium"
    )
    node_min_size: int = setting("nodeMinSize", "Minimum node count (the capacity check plans for this).", 2)
    node_desired_size: int = setting("nodeDesiredSize", "Node count at creation.", 2)
    node_max_size: int = setting("nodeMaxSize", "Maximum node count the autoscaler may reach.", 6)


@dataclass(frozen=True)
class EdgeSettings:
    """The public entry: domain, CloudFront and WAF (`CdnEdge`), and the ALB's TLS (`ServiceMesh`)."""

    domain_name: str = setting(
        "domainName",
        "Apex domain with a Route 53 hosted zone; empty: CloudFront's own domain, HTTP to the ALB.",
        "",
    )

    @property
    def origin_host(self) -> str:
        """Host name CloudFront uses for the ALB when a domain is set (regional certificate, alias record)."""
        return f"origin.{self.domain_name}" if self.domain_name else ""

    @property
    def origin_port(self) -> int:
        """The one port CloudFront reaches the ALB on: 443 with a domain (and so a certificate), else 80."""
        return 443 if self.domain_name else 80


@dataclass(frozen=True)
class DeliverySettings:
    """GitHub Actions delivery: the OIDC trust, the pipeline roles and the self-managed state backend (`Delivery`)."""

    github_repository: str = setting(
        "githubRepository", "GitHub repository (owner/name) whose workflows may assume the pipeline roles.",
        "your-org/ecommerce-platform",
    )  # fmt: skip
    deploy_from: Literal["branch", "environment"] = setting(
        "deployFrom", "What may assume the deploy role: a push to deployBranch, or a job in deployEnvironment.",
        "environment",
    )  # fmt: skip
    deploy_branch: str = setting(
        "deployBranch", "Branch whose pushes may deploy (deployFrom: branch).", "main"
    )
    deploy_environment: str = setting(
        "deployEnvironment", "GitHub environment (with required reviewers) that may deploy (deployFrom: environment).",
        "prod",
    )  # fmt: skip
    image_branch: str = setting("imageBranch", "Branch whose pushes may push service images to ECR.", "main")
    preview_session_seconds: int = setting(
        "previewSessionSeconds",
        "Maximum session of the preview role (3600-7200; IAM's minimum is 3600).",
        3600,
    )
    deploy_session_seconds: int = setting(
        "deploySessionSeconds",
        "Maximum session of the deploy role (3600-7200: a first prod `up` takes ~45 min).",
        3600,
    )
    create_oidc_provider: bool = setting(
        "createOidcProvider", "Create the account's GitHub OIDC provider; false: use the one another stack created.",
        True,
    )  # fmt: skip
    state_backend: Literal["self-managed", "pulumi-cloud"] = setting(
        "stateBackend",
        "Where the stacks' state lives: self-managed (S3 + KMS) or pulumi-cloud.",
        "self-managed",
    )
    create_state_backend: bool = setting(
        "createStateBackend", "Create the shared state bucket and secrets keys (one stack per account owns them).",
        False,
    )  # fmt: skip
    state_stacks: tuple[str, ...] = setting(
        "stateStacks", "Stacks whose state and secrets key the state backend holds (with createStateBackend).",
        ("dev", "prod"),
    )  # fmt: skip
    state_noncurrent_days: int = setting(
        "stateNoncurrentDays", "Days an overwritten state file version is kept before it expires.", 90
    )
    ecr_repository_prefix: str = setting(
        "ecrRepositoryPrefix", "ECR repositories are `<prefix>/<service>`; the image-push role may push to those only.",
        "ecommerce",
    )  # fmt: skip


@dataclass(frozen=True)
class Settings:
    """Everything the program is configured by, validated. Built once, by `load_settings`."""

    environment: Literal["dev", "prod"] = setting("environment", "Environment name: dev or prod.")
    region: str = setting("region", "AWS region of the platform.", "us-east-2")
    dr_region: str = setting("drRegion", "AWS region for disaster recovery copies.", "us-east-1")
    cost_center: str = setting("costCenter", "CostCenter tag on every resource.", "ecommerce")
    protect_data: bool = setting(
        "protectData", "Protect stateful resources: protect=True, deletion protection, final snapshots, retain.",
        True,
    )  # fmt: skip
    network: NetworkSettings = setting("network", "Network settings (below).", NetworkSettings())
    cluster: ClusterSettings = setting("cluster", "Node group settings (below).", ClusterSettings())
    edge: EdgeSettings = setting("edge", "Edge settings (below).", EdgeSettings())
    delivery: DeliverySettings = setting("delivery", "Delivery settings (below).", DeliverySettings())

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"


# ---------------------------------------------------------------------------------------------------------------
# Loading: raw config -> typed values (type errors), then cross-field rules (relation errors).
# ---------------------------------------------------------------------------------------------------------------


def _type_name(tp: Any) -> str:
    if get_origin(tp) is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if get_origin(tp) is tuple:
        return f"list of {_type_name(get_args(tp)[0])}"
    if dataclasses.is_dataclass(tp):
        return "object"
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, key: str, problems: list[str]) -> Any:
    """Convert one raw config value to `tp`; on failure record a problem and return None."""
    origin = get_origin(tp)
    if origin is Literal:
        allowed = get_args(tp)
        if value in allowed:
            return value
        problems.append(f"{key}: {value!r} is not allowed; allowed: {', '.join(map(str, allowed))}")
        return None
    if origin is tuple:
        if isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        if not isinstance(value, list):
            problems.append(f"{key}: expected a list, got {value!r}")
            return None
        (item_tp, _) = get_args(tp)
        items = [_coerce(v, item_tp, f"{key}[{i}]", problems) for i, v in enumerate(value)]
        return tuple(items)
    if dataclasses.is_dataclass(tp):
        if isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        if not isinstance(value, dict):
            problems.append(f"{key}: expected an object with keys {', '.join(_keys(tp))}, got {value!r}")
            return None
        return _build(tp, value, key, problems)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        problems.append(f"{key}: expected true or false, got {value!r}")
        return None
    if tp is int:
        if isinstance(value, bool):
            problems.append(f"{key}: expected a whole number, got {value!r}")
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        problems.append(f"{key}: expected a whole number, got {value!r}")
        return None
    if tp is str:
        if isinstance(value, str):
            return value
        problems.append(f"{key}: expected a string, got {value!r}")
        return None
    raise TypeError(f"settings field {key} has an unsupported type {tp!r}")


def _keys(cls: Any) -> list[str]:
    return [f.metadata["key"] for f in dataclasses.fields(cls)]


def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _build(cls: Any, raw: Mapping[str, Any], prefix: str, problems: list[str]) -> Any:
    """Build dataclass `cls` from `raw` (config keys -> values); unknown keys are problems."""
    hints = _hints(cls)
    known = {f.metadata["key"]: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in known:
            problems.append(f"{_join(prefix, key)}: unknown key; known keys: {', '.join(sorted(known))}")
    kwargs: dict[str, Any] = {}
    for key, f in known.items():
        full = _join(prefix, key)
        if key in raw and raw[key] is not None:
            value = _coerce(raw[key], hints[f.name], full, problems)
            if value is not None:
                kwargs[f.name] = value
        elif f.default is dataclasses.MISSING:
            problems.append(f"{full}: required, not set; expected {_type_name(hints[f.name])}")
    try:
        return cls(**kwargs)
    except TypeError:
        return None  # a required key is missing; already reported


def raw_project_config() -> dict[str, Any]:
    """Every `ecommerce-platform:*` key the engine passed to this program, as key (without namespace) -> value.

    The language host hands config over as the PULUMI_CONFIG environment map; the mock runtime through
    `set_all_config`. Both are read, so unknown keys are caught in a real run and offline alike.
    """
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{PROJECT}:"
    values: dict[str, Any] = {}
    for full_key, value in merged.items():
        if full_key.startswith(prefix):
            key = full_key[len(prefix) :]
            # Structured values arrive JSON-encoded; scalars stay strings and are coerced per field.
            if isinstance(value, str) and value[:1] in "[{":
                with contextlib.suppress(json.JSONDecodeError):
                    value = json.loads(value)
            values[key] = value
    return values


# Cross-field rules: each takes the typed settings and appends problems. New areas register theirs here.
Rule = Callable[[Settings, list[str]], None]


def _network_rules(s: Settings, problems: list[str]) -> None:
    n = s.network
    key = "network"
    try:
        vpc = ipaddress.IPv4Network(n.vpc_cidr)
    except ValueError:
        problems.append(f"{key}.vpcCidr: {n.vpc_cidr!r} is not an IPv4 CIDR such as 10.0.0.0/16")
        return
    if not 16 <= vpc.prefixlen <= 24:
        problems.append(f"{key}.vpcCidr: {n.vpc_cidr!r} has prefix /{vpc.prefixlen}; AWS allows /16 to /28, "
                        "and this design needs /16 to /24")  # fmt: skip
    if not vpc.is_private:
        problems.append(f"{key}.vpcCidr: {n.vpc_cidr!r} is not in a private (RFC 1918) range")

    region_azs = REGION_AZS.get(s.region)
    if region_azs is None:
        problems.append(f"region: {s.region!r} is not supported; allowed: {', '.join(REGION_AZS)}")
    azs = n.availability_zones
    if len(azs) < 2:
        problems.append(
            f"{key}.availabilityZones: {list(azs)} has {len(azs)} AZ(s); at least 2 are needed for HA"
        )
    if len(set(azs)) != len(azs):
        problems.append(f"{key}.availabilityZones: {list(azs)} lists an AZ twice")
    for i, az in enumerate(azs):
        if region_azs is not None and az not in region_azs:
            problems.append(f"{key}.availabilityZones[{i}]: {az!r} is not an AZ of {s.region}; "
                            f"allowed: {', '.join(region_azs)}")  # fmt: skip

    subnets: list[tuple[str, ipaddress.IPv4Network]] = []
    for tier in ("publicSubnetCidrs", "privateSubnetCidrs"):
        cidrs = n.public_subnet_cidrs if tier == "publicSubnetCidrs" else n.private_subnet_cidrs
        if len(cidrs) != len(azs):
            problems.append(f"{key}.{tier}: {len(cidrs)} CIDR(s) for {len(azs)} AZ(s); give exactly one per AZ, "
                            "in the order of network.availabilityZones")  # fmt: skip
        for i, cidr in enumerate(cidrs):
            where = f"{key}.{tier}[{i}]"
            try:
                net = ipaddress.IPv4Network(cidr)
            except ValueError:
                problems.append(f"{where}: {cidr!r} is not an IPv4 CIDR such as 10.0.1.0/24")
                continue
            if not net.subnet_of(vpc):
                problems.append(f"{where}: {cidr} is outside the VPC {vpc}; choose a range inside it")
            elif not 16 <= net.prefixlen <= 28:
                problems.append(f"{where}: {cidr} has prefix /{net.prefixlen}; AWS subnets are /16 to /28")
            for other_where, other in subnets:
                if net.overlaps(other):
                    problems.append(
                        f"{where}: {cidr} overlaps {other_where} ({other}); subnets must not overlap"
                    )
            subnets.append((where, net))

    unknown = [e for e in n.interface_endpoints if e not in INTERFACE_ENDPOINTS]
    for e in unknown:
        problems.append(
            f"{key}.interfaceEndpoints: {e!r} is not supported; allowed: {', '.join(INTERFACE_ENDPOINTS)}"
        )
    if len(set(n.interface_endpoints)) != len(n.interface_endpoints):
        problems.append(f"{key}.interfaceEndpoints: lists a service twice")
    if n.egress == "none":
        missing = [e for e in PRIVATE_CLUSTER_ENDPOINTS if e not in n.interface_endpoints]
        if missing:
            problems.append(f"{key}.interfaceEndpoints: with network.egress 'none' nodes reach AWS only through "
                            f"endpoints; add {', '.join(missing)}")  # fmt: skip
    if not 1 <= n.interface_endpoint_az_count <= len(azs):
        problems.append(f"{key}.interfaceEndpointAzCount: {n.interface_endpoint_az_count} is out of range; "
                        f"allowed: 1 to {len(azs)} (the number of AZs)")  # fmt: skip
    p = n.service_ports
    if not (1024 <= p.from_port <= p.to_port <= 65535):
        problems.append(f"{key}.servicePorts: {p.from_port}-{p.to_port} is not a range within 1024-65535 with "
                        "from <= to")  # fmt: skip
    if n.flow_log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(f"{key}.flowLogRetentionDays: {n.flow_log_retention_days} is not a CloudWatch retention; "
                        f"allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}")  # fmt: skip


def _cluster_rules(s: Settings, problems: list[str]) -> None:
    c = s.cluster
    allowed = NODE_INSTANCE_TYPES.get(s.environment, ())
    if c.node_instance_type not in allowed:
        problems.append(f"cluster.nodeInstanceType: {c.node_instance_type!r} is not allowed in {s.environment}; "
                        f"allowed: {', '.join(allowed)}")  # fmt: skip
    if c.node_min_size < 1:
        problems.append(
            f"cluster.nodeMinSize: {c.node_min_size} is below 1; a cluster needs at least one node"
        )
    if c.node_max_size > 50:
        problems.append(f"cluster.nodeMaxSize: {c.node_max_size} is above 50, the limit this design supports")
    if not c.node_min_size <= c.node_desired_size <= c.node_max_size:
        problems.append(f"cluster.nodeDesiredSize: min {c.node_min_size} <= desired {c.node_desired_size} <= "
                        f"max {c.node_max_size} does not hold; set nodeMinSize <= nodeDesiredSize <= nodeMaxSize")  # fmt: skip


def _top_level_rules(s: Settings, problems: list[str]) -> None:
    if s.dr_region == s.region:
        problems.append(f"drRegion: {s.dr_region!r} is the primary region; choose another region")
    if s.dr_region not in REGION_AZS:
        problems.append(f"drRegion: {s.dr_region!r} is not supported; allowed: {', '.join(REGION_AZS)}")
    if not re.fullmatch(r"[A-Za-z0-9 _.:/=+@-]{1,256}", s.cost_center):
        problems.append(f"costCenter: {s.cost_center!r} is not a valid tag value (1-256 letters, digits, spaces "
                        "and _ . : / = + - @)")  # fmt: skip


def _edge_rules(s: Settings, problems: list[str]) -> None:
    d = s.edge.domain_name
    if d and not re.fullmatch(r"(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", d):
        problems.append(f"edge.domainName: {d!r} is not a lower-case DNS name such as shop.example.com; "
                        "leave it empty to use CloudFront's own domain")  # fmt: skip


#: GitHub's rules for an owner (user/org: letters, digits, single hyphens, <= 39) and a repository name.
_GITHUB_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9._-]{1,100}")
#: Branch and environment names that are safe to put verbatim into an OIDC `sub` (no wildcards, no `:`).
_GITHUB_REF_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,99}")
#: ECR repository name rules (a prefix of `<prefix>/<service>`).
_ECR_PREFIX = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")


def _delivery_rules(s: Settings, problems: list[str]) -> None:
    d = s.delivery
    if not _GITHUB_REPOSITORY.fullmatch(d.github_repository) or d.github_repository.endswith(
        (".", "/.", "/..")
    ):
        problems.append(f"delivery.githubRepository: {d.github_repository!r} is not a GitHub repository such as "
                        "your-org/ecommerce-platform (owner/name, no wildcards)")  # fmt: skip
    for key, value in (("deployBranch", d.deploy_branch), ("deployEnvironment", d.deploy_environment),
                       ("imageBranch", d.image_branch)):  # fmt: skip
        if not _GITHUB_REF_NAME.fullmatch(value) or ".." in value:
            problems.append(f"delivery.{key}: {value!r} is not a plain branch/environment name (letters, digits, "
                            ". _ / -; no wildcards or ':' — it becomes an exact OIDC subject)")  # fmt: skip
    if s.is_prod and d.deploy_from != "environment":
        problems.append(f"delivery.deployFrom: {d.deploy_from!r} is not allowed in prod; allowed: environment "
                        "(prod deploys only from a GitHub environment with required reviewers)")  # fmt: skip
    lo, hi = ROLE_SESSION_BOUNDS
    for session_key, seconds in (("previewSessionSeconds", d.preview_session_seconds),
                                 ("deploySessionSeconds", d.deploy_session_seconds)):  # fmt: skip
        if not lo <= seconds <= hi:
            problems.append(f"delivery.{session_key}: {seconds} is out of range; allowed: {lo} to {hi} seconds")  # fmt: skip
    if d.preview_session_seconds > d.deploy_session_seconds:
        problems.append(f"delivery.previewSessionSeconds: {d.preview_session_seconds} exceeds "
                        f"delivery.deploySessionSeconds ({d.deploy_session_seconds}); a read-only role gets no more")  # fmt: skip
    if d.create_state_backend and d.state_backend != "self-managed":
        problems.append("delivery.createStateBackend: true needs delivery.stateBackend 'self-managed', "
                        f"got {d.state_backend!r}")  # fmt: skip
    for i, stack in enumerate(d.state_stacks):
        if stack not in ENVIRONMENTS:
            problems.append(
                f"delivery.stateStacks[{i}]: {stack!r} is not a stack; allowed: {', '.join(ENVIRONMENTS)}"
            )
    if d.create_state_backend and s.environment not in d.state_stacks:
        problems.append(f"delivery.stateStacks: {list(d.state_stacks)} leaves out this stack ({s.environment}); "
                        "its own secrets key would be missing")  # fmt: skip
    if not 1 <= d.state_noncurrent_days <= 3650:
        problems.append(
            f"delivery.stateNoncurrentDays: {d.state_noncurrent_days} is out of range; allowed: 1 to 3650"
        )
    if not _ECR_PREFIX.fullmatch(d.ecr_repository_prefix) or len(d.ecr_repository_prefix) > 200:
        problems.append(f"delivery.ecrRepositoryPrefix: {d.ecr_repository_prefix!r} is not an ECR name prefix "
                        "(lower-case letters, digits, . _ - and / between parts, at most 200 characters)")  # fmt: skip


RULES: tuple[Rule, ...] = (_top_level_rules, _network_rules, _cluster_rules, _edge_rules, _delivery_rules)


def load_settings(raw: Mapping[str, Any] | None = None, *, stack: str | None = None) -> Settings:
    """Read and validate the whole configuration; raise `SettingsError` listing every problem.

    `raw` defaults to the project's config as the engine passed it; tests pass a dict directly.
    """
    stack = stack or pulumi.get_stack()
    raw = raw_project_config() if raw is None else raw
    problems: list[str] = []
    settings = _build(Settings, raw, "", problems)
    if settings is not None and not problems:
        for rule in RULES:
            rule(settings, problems)
    if problems or settings is None:
        raise SettingsError(problems, stack)
    return typing.cast(Settings, settings)


def describe() -> list[tuple[str, str, str, Any, tuple[str, ...]]]:
    """(key, type, description, default, attribute path) for every setting, nested keys dotted.

    The README's settings table is built from these rows.
    """
    rows: list[tuple[str, str, str, Any, tuple[str, ...]]] = []

    def walk(cls: Any, prefix: str, path: tuple[str, ...]) -> None:
        hints = _hints(cls)
        for f in dataclasses.fields(cls):
            key = f"{prefix}{f.metadata['key']}"
            tp = hints[f.name]
            if dataclasses.is_dataclass(tp) and tp is not PortRange:
                walk(tp, key + ".", (*path, f.name))
                continue
            default = None if f.default is dataclasses.MISSING else f.default
            rows.append((key, _type_name(tp), f.metadata["doc"], default, (*path, f.name)))

    walk(Settings, "", ())
    return rows


def as_config(value: Any) -> Any:
    """A settings value as it is written in a stack file (dataclasses by their config keys)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.metadata["key"]: as_config(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [as_config(v) for v in value]
    return value
