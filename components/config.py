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

#: CloudFront price classes: edge locations served (100: North America and Europe; 200: plus most of Asia, the
#: Middle East and Africa; All: every edge location).
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
#: AWS WAF rate-based rule limits (requests per evaluation window per key); the minimum dropped from 100 to 10 in
#: August 2024.
WAF_RATE_LIMIT_RANGE = (10, 2_000_000_000)
#: Evaluation windows (seconds) a WAF rate-based rule accepts.
WAF_RATE_WINDOWS = (60, 120, 300, 600)
#: CloudFront quota: the longest Content-Security-Policy value a response headers policy accepts.
CSP_MAX_LENGTH = 1783
#: A strict default CSP for a single-page app whose API is same-origin (`/api/*` on the same distribution).
DEFAULT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
               "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
               "upgrade-insecure-requests")  # fmt: skip

#: EKS standard-support Kubernetes versions this program is tested against (kubernetes-validate schemas).
KUBERNETES_VERSIONS = ("1.32", "1.33", "1.34")
WORKLOAD_PROFILES = ("small", "standard")
#: The two ways a stack's state can be kept: an S3 bucket + KMS key this program creates, or Pulumi Cloud.
STATE_BACKENDS = ("self-managed", "pulumi-cloud")

#: CodeBuild compute types a Linux-container GitHub Actions runner can use (2, 4 and 8 vCPUs).
RUNNER_COMPUTE_TYPES = ("BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE")

#: IAM's bounds for a role's maximum session (seconds); this design allows at most two hours for any pipeline role.
ROLE_SESSION_BOUNDS = (3600, 7200)

#: Node instance types allowed per environment: dev stays on burstable sizes, prod starts at t3.medium (the seed).
NODE_INSTANCE_TYPES: Mapping[str, tuple[str, ...]] = {
    "dev": ("t3.micro", "t3.small", "t3.medium"),
    "prod": ("t3.medium", "t3.large", "t3.xlarge", "m6i.large", "m6i.xlarge", "m7i.large", "m7i.xlarge"),
}


#: Data tier: version formats and the values AWS accepts.
AURORA_POSTGRES_MAJORS = ("14", "15", "16", "17")
#: ElastiCache's Redis OSS engine versions (engine "redis"); 7.1 is the last Redis OSS release on ElastiCache — 7.2
#: and 8.x exist only for the Valkey engine, which this program does not configure.
REDIS_OSS_VERSIONS = ("6.0", "6.2", "7.0", "7.1")
#: SQS keeps the longest retention it allows on every dead-letter queue (14 days); a dead letter keeps its first
#: enqueue time, so a source queue may keep messages at most this long for every dead letter to get a week in its DLQ.
QUEUE_RETENTION_MAX_DAYS = 7
#: IPv4 ranges reserved for documentation (RFC 5737): no deployer or runner ever has one as its source address.
#: (`cluster.publicAccessCidrs` takes IPv4 only, so RFC 3849's 2001:db8::/32 is already refused as "not IPv4".)
DOCUMENTATION_NETWORKS = tuple(
    ipaddress.IPv4Network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)
OPENSEARCH_MAJORS = ("2", "3")
DYNAMODB_BILLING_MODES = ("on-demand", "provisioned")
COGNITO_TIERS = ("LITE", "ESSENTIALS", "PLUS")
COGNITO_MFA_MODES = ("OFF", "OPTIONAL", "ON")
COGNITO_THREAT_PROTECTION_MODES = ("OFF", "AUDIT", "ENFORCED")
#: Enhanced Monitoring accepts only these intervals (seconds); 0 turns it off.
RDS_MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
#: Performance Insights keeps 7 days free, or whole months (31 * n days) up to two years.
PERFORMANCE_INSIGHTS_RETENTION_DAYS = (7, *(31 * m for m in range(1, 24)), 731)
#: OpenSearch dedicated master counts: none, or an odd quorum (3 is AWS's recommendation).
OPENSEARCH_MASTER_COUNTS = (0, 3, 5)

#: Secret keys (`pulumi config set --secret <key> <value>`), key -> description. They never enter `Settings`
#: (a frozen dataclass of plain values would hold the plaintext); `secret_setting` returns them as secret Outputs.
SECRET_KEYS: Mapping[str, str] = {
    "stripeApiKey": "Stripe API key for the payment service (optional; unset: put it into Secrets Manager by hand).",
}


class StringMap(tuple[tuple[str, str], ...]):
    """An immutable `name -> string` map read from a config object (`cluster.imageTags`), sorted by name."""

    def get(self, key: str, default: str | None = None) -> str | None:
        return dict(self).get(key, default)


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
        "egress", "Internet egress for private subnets: single-nat (one NAT) or nat-per-az (one NAT per AZ); none is "
        "refused (Stripe, Cognito's hosted UI and the controllers' public images need the internet).", "nat-per-az",
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
    """The EKS cluster, its node group and the workloads' sizing (`ServiceMesh`, `k8s/`)."""

    node_instance_type: str = setting(
        "nodeInstanceType", "EC2 instance type of the managed node group.", "t3.medium"
    )
    node_min_size: int = setting("nodeMinSize", "Minimum node count (the capacity check plans for this).", 2)
    node_desired_size: int = setting("nodeDesiredSize", "Node count at creation.", 2)
    node_max_size: int = setting("nodeMaxSize", "Maximum node count the autoscaler may reach.", 6)
    kubernetes_version: str = setting(
        "kubernetesVersion", "Kubernetes minor version of the control plane and nodes.", "1.33"
    )
    public_access_cidrs: tuple[str, ...] = setting(
        "publicAccessCidrs", "CIDRs allowed to reach the public API endpoint (deployers, CI runners' egress); "
        "empty: private endpoint only.", (),
    )  # fmt: skip
    admin_role_arns: tuple[str, ...] = setting(
        "adminRoleArns",
        "IAM role ARNs granted cluster admin through EKS access entries (besides the creator).",
        (),
    )
    prefix_delegation: bool = setting(
        "prefixDelegation", "VPC CNI prefix delegation: /28 prefixes per ENI slot, lifting the pods-per-node cap.",
        False,
    )  # fmt: skip
    root_volume_size_gib: int = setting(
        "rootVolumeSizeGib", "Encrypted gp3 root volume of each node (GiB).", 20
    )
    workload_profile: Literal["small", "standard"] = setting(
        "workloadProfile", "Sizing of the eight services from the catalogue: small (1 replica, tiny requests) or "
        "standard (2+ replicas, HA).", "standard",
    )  # fmt: skip
    image_tags: StringMap = setting(
        "imageTags", "Published images (`imageTags.<service>: <commit SHA>`, pinned by the images workflow after its "
        "push); a service without an entry runs 0 replicas and no HPA until its first image is published.",
        StringMap(),
    )  # fmt: skip
    system_replicas: int = setting(
        "systemReplicas", "Replicas of CoreDNS and the Load Balancer Controller (2 for HA).", 2
    )
    alb_deletion_protection: bool = setting(
        "albDeletionProtection", "Deletion protection on the ALB (turn off before `pulumi destroy`).", True
    )
    alb_log_retention_days: int = setting("albLogRetentionDays", "Days ALB access logs are kept in S3.", 90)
    control_plane_log_retention_days: int = setting(
        "controlPlaneLogRetentionDays",
        "Days the EKS control-plane logs (/aws/eks/<cluster>/cluster) are kept.",
        90,
    )


#: Keys this program once read and no longer does, with what to do instead: an old stack file gets this message
#: rather than a bare "unknown key".
RETIRED_KEYS: Mapping[str, str] = {
    "cluster.imageTag": "retired: a blanket tag made every Deployment pull an image a fresh account does not have "
    "(the first `up` waited ten minutes per Deployment and failed). Remove it; the images workflow pins each service "
    "in cluster.imageTags after pushing it, and services without an entry run 0 replicas until then",
    "cluster.maxPodsPerNode": "retired: EKS managed node groups append their own NodeConfig with the maxPods EKS "
    "computes after yours, and the last one wins, so this value never reached the kubelet. Remove it; the capacity "
    "check models EKS's value (ENI formula, x16 with cluster.prefixDelegation, at most 110)",
}


@dataclass(frozen=True)
class EdgeSettings:
    """The public entry: domain, CloudFront and WAF (`CdnEdge`), and the ALB's TLS (`ServiceMesh`)."""

    domain_name: str = setting(
        "domainName",
        "Apex domain with a Route 53 hosted zone; empty: CloudFront's own domain, HTTP to the ALB.",
        "",
    )
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = setting(
        "priceClass", "CloudFront price class: PriceClass_100 (NA+EU), PriceClass_200, PriceClass_All.",
        "PriceClass_100",
    )  # fmt: skip
    http3: bool = setting("http3", "Offer HTTP/3 (QUIC) to viewers besides HTTP/2.", True)
    waf_rate_limit: int = setting(
        "wafRateLimit", "Requests one client IP may send per rate window before WAF blocks it.", 2000
    )
    waf_rate_window_seconds: int = setting(
        "wafRateWindowSeconds", "Window of the per-IP rate rule in seconds: 60, 120, 300 or 600.", 300
    )
    log_retention_days: int = setting(
        "logRetentionDays", "Days WAF logs (CloudWatch Logs) and CloudFront access logs (S3) are kept.", 90
    )
    site_noncurrent_version_days: int = setting(
        "siteNoncurrentVersionDays", "Days an overwritten or deleted site object version is kept (rollback window).",
        30,
    )  # fmt: skip
    content_security_policy: str = setting(
        "contentSecurityPolicy",
        "Content-Security-Policy header CloudFront adds to every response.",
        DEFAULT_CSP,
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
    preview_from: Literal["pull_request", "environment"] = setting(
        "previewFrom", "What may assume the preview role: any same-repository pull request, or a job in "
        "previewEnvironment (required reviewers). A pull request runs its own workflow file.", "pull_request",
    )  # fmt: skip
    preview_environment: str = setting(
        "previewEnvironment", "GitHub environment (with required reviewers) whose jobs may preview (previewFrom: "
        "environment).", "prod-preview",
    )  # fmt: skip
    runners: Literal["codebuild", "github-hosted"] = setting(
        "runners", "Where the preview and deploy jobs run: codebuild (AWS CodeBuild-hosted GitHub Actions runners in "
        "the private subnets; reaches a private-only cluster endpoint) or github-hosted (needs "
        "cluster.publicAccessCidrs listing static runner egress).", "codebuild",
    )  # fmt: skip
    runner_compute_type: str = setting(
        "runnerComputeType", "CodeBuild compute type of the runner (BUILD_GENERAL1_SMALL/MEDIUM/LARGE).",
        "BUILD_GENERAL1_MEDIUM",
    )  # fmt: skip
    github_connection_arn: str = setting(
        "githubConnectionArn", "CodeConnections connection to GitHub the runner project authenticates with; empty: "
        "the account's CodeBuild source credential for GitHub.", "",
    )  # fmt: skip
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
class AccountSettings:
    """Account-wide resources that exist once per AWS account, whichever stacks deploy into it (`ServiceLinkedRoles`)."""

    create_service_linked_roles: bool = setting(
        "createServiceLinkedRoles", "Create the service-linked roles AWS does not create by itself (OpenSearch in a "
        "VPC); one stack per account owns them, the others look them up and stop at preview if they are missing.",
        True,
    )  # fmt: skip


@dataclass(frozen=True)
class DataSettings:
    """The data tier (`DataTier`): sizes, counts, engine versions, retention and identity settings of every store."""

    # DynamoDB: products and inventory
    dynamodb_billing_mode: Literal["on-demand", "provisioned"] = setting(
        "dynamodbBillingMode", "DynamoDB capacity: on-demand, or provisioned with target-tracking auto scaling.",
        "on-demand",
    )  # fmt: skip
    dynamodb_min_capacity: int = setting(
        "dynamodbMinCapacity", "Provisioned mode: minimum read and write units per table and index.", 5
    )
    dynamodb_max_capacity: int = setting(
        "dynamodbMaxCapacity", "Provisioned mode: maximum read and write units per table and index.", 100
    )
    dynamodb_target_utilization: int = setting(
        "dynamodbTargetUtilization", "Provisioned mode: auto-scaling target utilisation, percent (20-90).", 70
    )
    dynamodb_pitr_days: int = setting(
        "dynamodbPitrDays", "Point-in-time recovery window of the tables, days (1-35).", 35
    )
    # Aurora PostgreSQL: orders and users
    aurora_engine_version: str = setting(
        "auroraEngineVersion", "Aurora PostgreSQL version to create with, major.minor (one AWS still offers; AWS "
        "upgrades minors itself afterwards).", "16.13",
    )  # fmt: skip
    aurora_instance_class: str = setting(
        "auroraInstanceClass",
        "Aurora instance class: db.serverless (Serverless v2) or a db.* class.",
        "db.serverless",
    )
    aurora_min_capacity: float = setting(
        "auroraMinCapacity", "Serverless v2: minimum ACUs per instance (0.5-256, steps of 0.5).", 0.5
    )
    aurora_max_capacity: float = setting(
        "auroraMaxCapacity", "Serverless v2: maximum ACUs per instance (0.5-256, steps of 0.5).", 4.0
    )
    aurora_instance_count: int = setting(
        "auroraInstanceCount", "Aurora instances: one writer plus readers, spread over the AZs (1-16).", 1
    )
    aurora_multi_az: bool = setting(
        "auroraMultiAz", "Aurora readers in another AZ than the writer, for automatic failover.", False
    )
    aurora_backup_retention_days: int = setting(
        "auroraBackupRetentionDays", "Aurora automated backup retention, days (1-35).", 7
    )
    aurora_monitoring_interval: int = setting(
        "auroraMonitoringInterval", "Enhanced Monitoring interval, seconds (0 off, 1, 5, 10, 15, 30, 60).", 0
    )
    aurora_performance_insights_days: int = setting(
        "auroraPerformanceInsightsDays",
        "Performance Insights retention, days (7 free, or 31 * months, 731).",
        7,
    )
    # ElastiCache Redis: carts
    redis_engine_version: str = setting(
        "redisEngineVersion",
        "ElastiCache Redis OSS version: 6.0, 6.2, 7.0 or 7.1 (7.1 is the last Redis OSS).",
        "7.1",
    )
    redis_node_type: str = setting("redisNodeType", "ElastiCache node type (cache.*).", "cache.t4g.micro")
    redis_node_count: int = setting("redisNodeCount", "Redis nodes: one primary plus replicas (1-6).", 1)
    redis_automatic_failover: bool = setting(
        "redisAutomaticFailover",
        "Promote a replica automatically when the primary fails (needs 2+ nodes).",
        False,
    )
    redis_multi_az: bool = setting(
        "redisMultiAz", "Place the replica in another AZ and fail over across AZs (needs failover).", False
    )
    redis_snapshot_retention_days: int = setting(
        "redisSnapshotRetentionDays",
        "Redis daily snapshot retention, days (0 turns snapshots off, max 35).",
        0,
    )
    # OpenSearch: search
    opensearch_engine_version: str = setting(
        "opensearchEngineVersion", "OpenSearch engine version, OpenSearch_major.minor.", "OpenSearch_2.17"
    )
    opensearch_instance_type: str = setting(
        "opensearchInstanceType", "OpenSearch data node type (*.search).", "t3.small.search"
    )
    opensearch_instance_count: int = setting("opensearchInstanceCount", "OpenSearch data nodes (1-20).", 1)
    opensearch_zone_awareness: bool = setting(
        "opensearchZoneAwareness",
        "Spread data nodes and replicas over two AZs (needs an even node count).",
        False,
    )
    opensearch_dedicated_master_count: int = setting(
        "opensearchDedicatedMasterCount", "Dedicated master nodes: 0, 3 or 5.", 0
    )
    opensearch_dedicated_master_type: str = setting(
        "opensearchDedicatedMasterType", "Dedicated master node type (*.search).", "m7g.large.search"
    )
    opensearch_volume_size: int = setting(
        "opensearchVolumeSize", "gp3 volume per data node, GiB (10-1024).", 10
    )
    # Messaging: notifications
    queue_retention_days: int = setting(
        "queueRetentionDays", "SQS message retention, days (1-7: a dead letter keeps its first enqueue time, and "
        "the 14-day DLQ must outlive the source queue by a week).", 4,
    )  # fmt: skip
    queue_max_receive_count: int = setting(
        "queueMaxReceiveCount", "Receives before a message moves to its dead-letter queue (1-1000).", 5
    )
    queue_visibility_timeout: int = setting(
        "queueVisibilityTimeout", "SQS visibility timeout, seconds (0-43200).", 60
    )
    # Cognito: users
    cognito_tier: Literal["LITE", "ESSENTIALS", "PLUS"] = setting(
        "cognitoTier",
        "Cognito feature plan: LITE, ESSENTIALS or PLUS (threat protection needs PLUS).",
        "ESSENTIALS",
    )
    cognito_mfa: Literal["OFF", "OPTIONAL", "ON"] = setting(
        "cognitoMfa", "MFA (TOTP authenticator apps): OFF, OPTIONAL or ON (required).", "OPTIONAL"
    )
    cognito_threat_protection: Literal["OFF", "AUDIT", "ENFORCED"] = setting(
        "cognitoThreatProtection",
        "Cognito threat protection: OFF, AUDIT or ENFORCED (PLUS tier only).",
        "OFF",
    )
    cognito_access_token_minutes: int = setting(
        "cognitoAccessTokenMinutes", "Access token lifetime, minutes (5-1440).", 60
    )
    cognito_id_token_minutes: int = setting(
        "cognitoIdTokenMinutes", "ID token lifetime, minutes (5-1440).", 60
    )
    cognito_refresh_token_days: int = setting(
        "cognitoRefreshTokenDays", "Refresh token lifetime, days (1-3650).", 30
    )
    cognito_callback_urls: tuple[str, ...] = setting(
        "cognitoCallbackUrls", "Web front end's OAuth callback URLs (https; http://localhost outside prod). Empty: "
        "https://<edge.domainName>/auth/callback, or http://localhost:3000/auth/callback without a domain.", (),
    )  # fmt: skip
    cognito_logout_urls: tuple[str, ...] = setting(
        "cognitoLogoutUrls", "Web front end's sign-out URLs (https; http://localhost outside prod). Empty: "
        "https://<edge.domainName>/, or http://localhost:3000/ without a domain.", (),
    )  # fmt: skip
    # Shared
    log_retention_days: int = setting(
        "logRetentionDays", "CloudWatch retention of the data tier's logs (a CloudWatch value).", 30
    )
    kms_deletion_window_days: int = setting(
        "kmsDeletionWindowDays", "Waiting period before a deleted data key is gone, days (7-30).", 30
    )
    secret_recovery_window_days: int = setting(
        "secretRecoveryWindowDays", "Days a deleted secret can be restored (0 deletes at once, or 7-30).", 30
    )


# ---------------------------------------------------------------------------------------------------------------
# Observability (`Observability`): one contiguous block — the dataclass and its validator — so the settings-by-area
# refactor (issue 13) can move it into its own module unchanged.
# ---------------------------------------------------------------------------------------------------------------

#: Allowed Synthetics schedules (minutes between canary runs): `rate(n minutes)` takes 1 to 60.
CANARY_INTERVAL_RANGE = (1, 60)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


@dataclass(frozen=True)
class ObservabilitySettings:
    """Alarms, the alarm topic's subscribers, Container Insights, application logs and the canary (`Observability`)."""

    alarm_emails: tuple[str, ...] = setting(
        "alarmEmails", "Addresses subscribed to the alarm topic (each confirms once); prod needs at least one.", (),
    )  # fmt: skip
    webhook_urls: tuple[str, ...] = setting(
        "webhookUrls", "HTTPS endpoints (chat or paging webhooks) subscribed to the alarm topic.", (),
    )  # fmt: skip
    alarm_thresholds: StringMap = setting(
        "alarmThresholds", "Per-stack threshold overrides, `<alarm id>: <number>` (ids in docs/alarms.md); a derived "
        "threshold (share of memory, volume, max_connections) is overridden by its share.", StringMap(),
    )  # fmt: skip
    container_insights: bool = setting(
        "containerInsights", "Container Insights through the amazon-cloudwatch-observability EKS add-on (a CloudWatch "
        "agent and a Fluent Bit pod per node) and the cluster alarms built on its metrics.", False,
    )  # fmt: skip
    log_retention_days: int = setting(
        "logRetentionDays",
        "Days the application, host and performance log groups of the cluster are kept.",
        30,
    )
    canary_interval_minutes: int = setting(
        "canaryIntervalMinutes",
        "Minutes between synthetic canary runs (storefront and the API path), 1-60.",
        5,
    )
    canary_api_path: str = setting(
        "canaryApiPath",
        "The /api path the canary loads through CloudFront (a public service's GET).",
        "/api/products",
    )
    canary_retention_days: int = setting(
        "canaryRetentionDays", "Days canary run artifacts (screenshots, HAR files, logs) are kept in S3.", 30
    )


def _observability_rules(s: Settings, problems: list[str]) -> None:
    """Every bad observability value, named with its key and what is allowed."""
    from components.alarms import ALARMS  # lazily: the catalogue is data, but keep this module's imports flat

    o, k = s.observability, "observability"
    for i, email in enumerate(o.alarm_emails):
        if not _EMAIL.fullmatch(email):
            problems.append(f"{k}.alarmEmails[{i}]: {email!r} is not an e-mail address (name@domain)")
    if s.is_prod and not o.alarm_emails:
        problems.append(f"{k}.alarmEmails: empty in prod; nobody would be told the shop is down. Set at least one "
                        "address (an on-call list), see README 'Observability'")  # fmt: skip
    for i, url in enumerate(o.webhook_urls):
        if not re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d+)?(/\S*)?", url):
            problems.append(f"{k}.webhookUrls[{i}]: {url!r} is not allowed; SNS webhook subscriptions here must be "
                            "https:// URLs")  # fmt: skip
    known = {a.id: a for a in ALARMS}
    for alarm_id, value in o.alarm_thresholds:
        spec = known.get(alarm_id)
        if spec is None:
            problems.append(f"{k}.alarmThresholds.{alarm_id}: unknown alarm id; known ids are listed in docs/alarms.md "
                            f"(e.g. {', '.join(sorted(known)[:3])})")  # fmt: skip
            continue
        try:
            number = float(value)
        except ValueError:
            problems.append(f"{k}.alarmThresholds.{alarm_id}: {value!r} is not a number")
            continue
        if spec.derived and not 0 < number < 1:
            problems.append(f"{k}.alarmThresholds.{alarm_id}: {value!r} is out of range; this threshold is a share "
                            f"({spec.derived}), allowed: greater than 0 and less than 1")  # fmt: skip
        elif number < 0:
            problems.append(f"{k}.alarmThresholds.{alarm_id}: {value!r} is negative; allowed: 0 or more")
    if o.log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(f"{k}.logRetentionDays: {o.log_retention_days} is not a CloudWatch retention; "
                        f"allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}")  # fmt: skip
    _in_range(
        problems, f"{k}.canaryIntervalMinutes", o.canary_interval_minutes, *CANARY_INTERVAL_RANGE, " minutes"
    )
    _in_range(problems, f"{k}.canaryRetentionDays", o.canary_retention_days, 1, 455, " days")
    if not re.fullmatch(r"/api/[A-Za-z0-9/_.-]*", o.canary_api_path) or ".." in o.canary_api_path:
        problems.append(f"{k}.canaryApiPath: {o.canary_api_path!r} is not allowed; it must be a plain path under "
                        "/api/ (CloudFront sends only /api/* to the ALB), e.g. /api/products")  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# End of the observability block.
# ---------------------------------------------------------------------------------------------------------------
# ===============================================================================================================
# Analytics lake (`lake.*`, `AnalyticsLake`): values, fields and cross-field rules, in one block (issue 13 moves it
# to its own module as is).
# ===============================================================================================================

#: Glue versions with Spark 3.x and Python 3 the ETL script is written for.
GLUE_VERSIONS = ("4.0", "5.0")
GLUE_WORKER_TYPES = ("G.1X", "G.2X")
#: S3 lifecycle: an object must be 30 days old before it may move to Standard-IA (S3 User Guide, "Transitioning
#: objects using Amazon S3 Lifecycle", constraints).
S3_IA_MIN_DAYS = 30
#: Firehose S3 buffering hints: 1-128 MiB, 0-900 seconds.
FIREHOSE_BUFFER_MB_RANGE = (1, 128)
FIREHOSE_BUFFER_SECONDS_RANGE = (0, 900)
#: Athena's smallest per-query data usage control is 10 MB (`BytesScannedCutoffPerQuery` minimum 10000000).
ATHENA_MIN_CUTOFF_MB = 10
_GLUE_CRON = re.compile(r"cron\((\S+ ){5}\S+\)")
_QUICKSIGHT_PRINCIPAL = re.compile(
    r"arn:aws:quicksight:[a-z0-9-]+:\d{12}:(user|group)/[A-Za-z0-9_.@+=-]+/[^/\s]+"
)
_IAM_ROLE_ARN = re.compile(r"arn:aws:iam::\d{12}:role/[\w+=,.@/-]{1,512}")


@dataclass(frozen=True)
class LakeSettings:
    """The analytics lake (`AnalyticsLake`): storage lifecycle, the order-event stream, ETL, Athena and the flags."""

    enabled: bool = setting("enabled", "Build the analytics lake (S3 zones, Firehose, Glue, Athena).", True)
    raw_ia_days: int = setting(
        "rawIaDays", "Days before raw-zone objects move to S3 Standard-IA (at least 30, an S3 rule).", 30
    )
    raw_glacier_days: int = setting(
        "rawGlacierDays",
        "Days before raw-zone objects move to Glacier Flexible Retrieval (after rawIaDays).",
        90,
    )
    raw_expiration_days: int = setting(
        "rawExpirationDays", "Days after which raw-zone objects are deleted; 0 keeps them (after rawGlacierDays).",
        0,
    )  # fmt: skip
    results_expiration_days: int = setting(
        "resultsExpirationDays", "Days Athena query results are kept (1-365).", 30
    )
    firehose_buffer_mb: int = setting(
        "firehoseBufferMb",
        "Firehose buffer size before it writes an object to the raw zone, MiB (1-128).",
        64,
    )
    firehose_buffer_seconds: int = setting(
        "firehoseBufferSeconds", "Firehose buffer interval before it writes an object, seconds (0-900).", 300
    )
    athena_cutoff_mb: int = setting(
        "athenaCutoffMb", "Bytes one Athena query may scan before it is cancelled, MB (at least 10, AWS's minimum).",
        1000,
    )  # fmt: skip
    etl_schedule: str = setting(
        "etlSchedule", "When the raw-to-Parquet Glue job runs: a Glue cron expression, cron(min h dom mon dow yr).",
        "cron(15 * * * ? *)",
    )  # fmt: skip
    glue_version: Literal["4.0", "5.0"] = setting(
        "glueVersion", "Glue version of the ETL job: 4.0 or 5.0.", "5.0"
    )
    glue_worker_type: Literal["G.1X", "G.2X"] = setting(
        "glueWorkerType", "Glue worker type of the ETL job: G.1X or G.2X.", "G.1X"
    )
    glue_workers: int = setting("glueWorkers", "Glue workers of the ETL job (2-20).", 2)
    crawler: bool = setting(
        "crawler",
        "A Glue crawler over the curated zone (the tables are explicit; for schema drift only).",
        False,
    )
    log_retention_days: int = setting(
        "logRetentionDays", "CloudWatch retention of the Firehose and Glue logs (a CloudWatch value).", 30
    )
    kms_deletion_window_days: int = setting(
        "kmsDeletionWindowDays", "Waiting period before a deleted lake key is gone, days (7-30).", 30
    )
    create_catalog_settings: bool = setting(
        "createCatalogSettings", "Own the account's Glue Data Catalog encryption (and, with lakeFormation, the Lake "
        "Formation settings) in this region; one stack per account owns them, like createOidcProvider.",
        True,
    )  # fmt: skip
    lake_formation: bool = setting(
        "lakeFormation", "Govern the lake with Lake Formation: register the bucket, grant each principal its tables.",
        False,
    )  # fmt: skip
    lake_formation_admins: tuple[str, ...] = setting(
        "lakeFormationAdmins", "IAM role ARNs made Lake Formation administrators besides the deploy role "
        "(with createCatalogSettings; the list replaces the account's admins).", (),
    )  # fmt: skip
    quicksight: bool = setting(
        "quicksight", "QuickSight Athena data source and orders data set (needs the account's QuickSight "
        "subscription, a documented prerequisite).", False,
    )  # fmt: skip
    quicksight_principal: str = setting(
        "quicksightPrincipal", "ARN of the QuickSight user or group that owns the data source and data set "
        "(arn:aws:quicksight:<region>:<account>:user|group/<namespace>/<name>).", "",
    )  # fmt: skip
    sagemaker: bool = setting(
        "sagemaker", "A SageMaker Studio domain (VpcOnly, private subnets) reading the curated zone.", False
    )


def _lake_rules(s: Settings, problems: list[str]) -> None:
    lk, k = s.lake, "lake"
    if not lk.enabled:
        for flag in ("lake_formation", "quicksight", "sagemaker"):
            if getattr(lk, flag):
                key = {"lake_formation": "lakeFormation"}.get(flag, flag)
                problems.append(f"{k}.{key}: true with lake.enabled false; the flag needs the lake")
        return
    if lk.raw_ia_days < S3_IA_MIN_DAYS:
        problems.append(f"{k}.rawIaDays: {lk.raw_ia_days} is too soon; S3 moves objects to Standard-IA only after "
                        f"{S3_IA_MIN_DAYS} days or more")  # fmt: skip
    if lk.raw_glacier_days <= lk.raw_ia_days:
        problems.append(f"{k}.rawGlacierDays: {lk.raw_glacier_days} must be after rawIaDays {lk.raw_ia_days}")
    if lk.raw_expiration_days and lk.raw_expiration_days <= lk.raw_glacier_days:
        problems.append(f"{k}.rawExpirationDays: {lk.raw_expiration_days} must be 0 (keep) or after rawGlacierDays "
                        f"{lk.raw_glacier_days}")  # fmt: skip
    _in_range(problems, f"{k}.resultsExpirationDays", lk.results_expiration_days, 1, 365, " days")
    _in_range(problems, f"{k}.firehoseBufferMb", lk.firehose_buffer_mb, *FIREHOSE_BUFFER_MB_RANGE, " MiB")
    _in_range(problems, f"{k}.firehoseBufferSeconds", lk.firehose_buffer_seconds, *FIREHOSE_BUFFER_SECONDS_RANGE,
              " seconds")  # fmt: skip
    if lk.athena_cutoff_mb < ATHENA_MIN_CUTOFF_MB:
        problems.append(f"{k}.athenaCutoffMb: {lk.athena_cutoff_mb} is below Athena's minimum per-query cutoff; "
                        f"allowed: {ATHENA_MIN_CUTOFF_MB} MB or more")  # fmt: skip
    if not _GLUE_CRON.fullmatch(lk.etl_schedule):
        problems.append(f"{k}.etlSchedule: {lk.etl_schedule!r} is not a Glue cron expression; expected six fields "
                        "as in cron(15 * * * ? *)")  # fmt: skip
    _in_range(problems, f"{k}.glueWorkers", lk.glue_workers, 2, 20, " workers")
    if lk.log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(f"{k}.logRetentionDays: {lk.log_retention_days} is not a CloudWatch retention; "
                        f"allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}")  # fmt: skip
    _in_range(problems, f"{k}.kmsDeletionWindowDays", lk.kms_deletion_window_days, 7, 30, " days")
    for i, arn in enumerate(lk.lake_formation_admins):
        if not _IAM_ROLE_ARN.fullmatch(arn):
            problems.append(f"{k}.lakeFormationAdmins[{i}]: {arn!r} is not an IAM role ARN "
                            "(arn:aws:iam::<account>:role/<name>)")  # fmt: skip
    if lk.lake_formation_admins and not (lk.lake_formation and lk.create_catalog_settings):
        problems.append(f"{k}.lakeFormationAdmins: set, but only the stack with lakeFormation and "
                        "createCatalogSettings true writes the account's Lake Formation admins")  # fmt: skip
    if lk.quicksight and not _QUICKSIGHT_PRINCIPAL.fullmatch(lk.quicksight_principal):
        problems.append(f"{k}.quicksightPrincipal: {lk.quicksight_principal!r} with quicksight true; expected the ARN "
                        "of a QuickSight user or group, arn:aws:quicksight:<region>:<account>:user/default/<name>")  # fmt: skip
    if lk.sagemaker:
        missing = [e for e in SAGEMAKER_SHARED_ENDPOINTS if e not in s.network.interface_endpoints]
        if missing:
            problems.append(f"{k}.sagemaker: true, but network.interfaceEndpoints lacks {', '.join(missing)}; a "
                            "VpcOnly domain reaches those services only through endpoints")  # fmt: skip


#: Interface endpoints a VpcOnly SageMaker domain shares with the nodes (the network owns them); the lake adds the
#: SageMaker API, runtime and Studio endpoints itself.
SAGEMAKER_SHARED_ENDPOINTS = ("sts", "logs", "kms")

# ===============================================================================================================
# End of the analytics lake block.
# ===============================================================================================================


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
    cluster: ClusterSettings = setting("cluster", "EKS cluster, node group and workload settings (below).",
                                       ClusterSettings())  # fmt: skip
    edge: EdgeSettings = setting("edge", "Edge settings (below).", EdgeSettings())
    delivery: DeliverySettings = setting("delivery", "Delivery settings (below).", DeliverySettings())
    data: DataSettings = setting("data", "Data tier settings (below).", DataSettings())
    account: AccountSettings = setting("account", "Account-wide settings (below).", AccountSettings())
    observability: ObservabilitySettings = setting(
        "observability", "Observability settings (below).", ObservabilitySettings()
    )
    lake: LakeSettings = setting("lake", "Analytics lake settings (below).", LakeSettings())

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
    if tp is StringMap:
        return "map of str"
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
    if tp is StringMap:
        if isinstance(value, dict) and all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in value.values()
        ):
            return StringMap(sorted((str(k), str(v)) for k, v in value.items()))
        problems.append(f"{key}: expected an object of name -> string, got {value!r}")
        return None
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
    if tp is float:
        if isinstance(value, bool):
            problems.append(f"{key}: expected a number, got {value!r}")
            return None
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value.strip()):
            return float(value)
        problems.append(f"{key}: expected a number, got {value!r}")
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
        if key not in known and not (prefix == "" and key in SECRET_KEYS):
            full = _join(prefix, key)
            problems.append(
                f"{full}: {RETIRED_KEYS.get(full) or 'unknown key; known keys: ' + ', '.join(sorted(known))}"
            )
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
        # Endpoints reach AWS APIs only: the controllers' images (public.ecr.aws, registry.k8s.io) and Stripe's API
        # have no VPC endpoint, and Cognito's endpoints over PrivateLink do not serve the hosted UI / managed login.
        problems.append(f"{key}.egress: 'none' is refused; the Load Balancer Controller and Cluster Autoscaler "
                        "images come from public registries (public.ecr.aws, registry.k8s.io) that no VPC endpoint "
                        "serves, the payment service must reach Stripe's API and Cognito's managed login needs the "
                        "internet; allowed: single-nat (one NAT, cheaper) or nat-per-az (egress survives an AZ)")  # fmt: skip
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


def _cluster_more_rules(s: Settings, problems: list[str]) -> None:
    c = s.cluster
    if c.kubernetes_version not in KUBERNETES_VERSIONS:
        problems.append(f"cluster.kubernetesVersion: {c.kubernetes_version!r} is not supported; allowed: "
                        f"{', '.join(KUBERNETES_VERSIONS)}")  # fmt: skip
    for i, cidr in enumerate(c.public_access_cidrs):
        try:
            net = ipaddress.IPv4Network(cidr)
        except ValueError:
            problems.append(
                f"cluster.publicAccessCidrs[{i}]: {cidr!r} is not an IPv4 CIDR such as 203.0.113.0/24"
            )
            continue
        if net.prefixlen < 8:
            problems.append(f"cluster.publicAccessCidrs[{i}]: {cidr} opens the Kubernetes API to /{net.prefixlen}; "
                            "list the deployers' egress ranges (prefix /8 or longer), or none for a private API")  # fmt: skip
        elif any(net.overlaps(doc) for doc in DOCUMENTATION_NETWORKS):
            problems.append(f"cluster.publicAccessCidrs[{i}]: {cidr} is a documentation range (RFC 5737: 192.0.2.0/24, "
                            "198.51.100.0/24, 203.0.113.0/24) that no deployer or CI runner has as its address; put "
                            "the public egress CIDRs of whoever runs `pulumi up` (office, VPN or runner NAT), or [] "
                            "for a private-only API reached from inside the VPC")  # fmt: skip
        elif not net.is_global:
            problems.append(f"cluster.publicAccessCidrs[{i}]: {cidr} is not a public range; the public endpoint sees "
                            "the caller's public (NAT) address, never a private one — list public egress CIDRs, or "
                            "[] and reach the private endpoint from inside the VPC")  # fmt: skip
    for i, arn in enumerate(c.admin_role_arns):
        if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+", arn):
            problems.append(f"cluster.adminRoleArns[{i}]: {arn!r} is not an IAM role ARN "
                            "(arn:aws:iam::<account>:role/<name>)")  # fmt: skip
    if not 20 <= c.root_volume_size_gib <= 200:
        problems.append(f"cluster.rootVolumeSizeGib: {c.root_volume_size_gib} is out of range; allowed: 20 to 200 "
                        "(the EKS AMI needs 20)")  # fmt: skip
    from k8s.catalogue import BY_NAME

    for service, tag in c.image_tags:
        if service not in BY_NAME:
            problems.append(
                f"cluster.imageTags.{service}: not a service of the catalogue; known: {', '.join(BY_NAME)}"
            )
        elif tag == "unpublished":
            problems.append(f"cluster.imageTags.{service}: 'unpublished' is the placeholder of a service with no "
                            "image yet; pin the commit SHA the images workflow pushed, or remove the entry")  # fmt: skip
        elif not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag) or tag == "latest":
            problems.append(f"cluster.imageTags.{service}: {tag!r} is not a usable immutable tag (1-128 of letters, "
                            "digits, _ . -; not 'latest')")  # fmt: skip
    if not 1 <= c.system_replicas <= 3:
        problems.append(f"cluster.systemReplicas: {c.system_replicas} is out of range; allowed: 1 to 3")
    if c.alb_log_retention_days < 1:
        problems.append(f"cluster.albLogRetentionDays: {c.alb_log_retention_days} is below 1")
    if c.control_plane_log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(f"cluster.controlPlaneLogRetentionDays: {c.control_plane_log_retention_days} is not a "
                        f"CloudWatch retention; allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}")  # fmt: skip
    if not problems:
        # Imported here: the capacity check reads the catalogue, which reads these settings.
        from k8s.capacity import capacity_problems

        problems.extend(capacity_problems(s))


def _top_level_rules(s: Settings, problems: list[str]) -> None:
    if s.dr_region == s.region:
        problems.append(f"drRegion: {s.dr_region!r} is the primary region; choose another region")
    if s.dr_region not in REGION_AZS:
        problems.append(f"drRegion: {s.dr_region!r} is not supported; allowed: {', '.join(REGION_AZS)}")
    if not re.fullmatch(r"[A-Za-z0-9 _.:/=+@-]{1,256}", s.cost_center):
        problems.append(f"costCenter: {s.cost_center!r} is not a valid tag value (1-256 letters, digits, spaces "
                        "and _ . : / = + - @)")  # fmt: skip


def _edge_rules(s: Settings, problems: list[str]) -> None:
    e = s.edge
    d = e.domain_name
    if d and not re.fullmatch(r"(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", d):
        problems.append(f"edge.domainName: {d!r} is not a lower-case DNS name such as shop.example.com; "
                        "leave it empty to use CloudFront's own domain")  # fmt: skip
    low, high = WAF_RATE_LIMIT_RANGE
    if not low <= e.waf_rate_limit <= high:
        problems.append(f"edge.wafRateLimit: {e.waf_rate_limit} is out of range; AWS WAF allows {low} to {high:,} "
                        "requests per window")  # fmt: skip
    if e.waf_rate_window_seconds not in WAF_RATE_WINDOWS:
        problems.append(f"edge.wafRateWindowSeconds: {e.waf_rate_window_seconds} is not allowed; allowed: "
                        f"{', '.join(map(str, WAF_RATE_WINDOWS))}")  # fmt: skip
    if e.log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(f"edge.logRetentionDays: {e.log_retention_days} is not a CloudWatch retention; "
                        f"allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}")  # fmt: skip
    if not 1 <= e.site_noncurrent_version_days <= 3650:
        problems.append(f"edge.siteNoncurrentVersionDays: {e.site_noncurrent_version_days} is out of range; "
                        "allowed: 1 to 3650 days")  # fmt: skip
    csp = e.content_security_policy
    if not csp.strip() or len(csp) > CSP_MAX_LENGTH or any(c in csp for c in "\r\n"):
        problems.append(f"edge.contentSecurityPolicy: must be one non-empty line of at most {CSP_MAX_LENGTH} "
                        f"characters (CloudFront's limit); got {len(csp)} characters")  # fmt: skip
    if s.is_prod and not d:
        problems.append("edge.domainName: prod needs a domain (a custom certificate is the only way CloudFront "
                        "enforces TLSv1.2_2021 for viewers); set it to a domain with a Route 53 hosted zone")  # fmt: skip


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
                       ("imageBranch", d.image_branch), ("previewEnvironment", d.preview_environment)):  # fmt: skip
        if not _GITHUB_REF_NAME.fullmatch(value) or ".." in value:
            problems.append(f"delivery.{key}: {value!r} is not a plain branch/environment name (letters, digits, "
                            ". _ / -; no wildcards or ':' — it becomes an exact OIDC subject)")  # fmt: skip
    if s.is_prod and d.preview_from != "environment":
        problems.append(f"delivery.previewFrom: {d.preview_from!r} is not allowed in prod; allowed: environment (a "
                        "pull_request job runs the workflow file from the pull request itself, so prod's state and "
                        "secrets key may only be reached from a GitHub environment with required reviewers)")  # fmt: skip
    if d.preview_from == "environment" and d.preview_environment == d.deploy_environment:
        problems.append(f"delivery.previewEnvironment: {d.preview_environment!r} is the deploy environment; use "
                        "its own environment so approving a preview never approves a deploy")  # fmt: skip
    if d.runners == "github-hosted" and not s.cluster.public_access_cidrs:
        problems.append("delivery.runners: github-hosted with an empty cluster.publicAccessCidrs (private-only "
                        "endpoint); GitHub-hosted runners cannot reach it. Use runners: codebuild, or list the static "
                        "egress ranges of GitHub larger runners in cluster.publicAccessCidrs")  # fmt: skip
    if d.runners == "codebuild" and s.network.egress == "none":
        problems.append("delivery.runners: codebuild needs network.egress single-nat or nat-per-az; a runner in the "
                        "private subnets reaches GitHub (jobs, actions, OIDC tokens) through NAT")  # fmt: skip
    if d.runner_compute_type not in RUNNER_COMPUTE_TYPES:
        problems.append(f"delivery.runnerComputeType: {d.runner_compute_type!r} is not allowed; allowed: "
                        f"{', '.join(RUNNER_COMPUTE_TYPES)}")  # fmt: skip
    if d.github_connection_arn and not re.fullmatch(
        r"arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}",
        d.github_connection_arn,
    ):
        problems.append(f"delivery.githubConnectionArn: {d.github_connection_arn!r} is not a CodeConnections "
                        "connection ARN (arn:aws:codeconnections:<region>:<account>:connection/<uuid>)")  # fmt: skip
    if d.create_state_backend and s.environment != "prod" and "prod" in d.state_stacks:
        problems.append(f"delivery.createStateBackend: true in {s.environment}, which would let its unreviewed "
                        "deploy role manage the bucket and keys holding prod's state; let prod own the backend")  # fmt: skip
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


def _in_range(problems: list[str], key: str, value: int | float, low: int | float, high: int | float,
              unit: str = "") -> None:  # fmt: skip
    if not low <= value <= high:
        problems.append(f"{key}: {value} is out of range; allowed: {low} to {high}{unit}")


def _data_rules(s: Settings, problems: list[str]) -> None:
    d = s.data
    k = "data"
    # Aurora's databases and logins are made by a Job that reads the master secret through interface endpoints.
    from k8s.dbboot import endpoint_problems

    problems.extend(endpoint_problems(s.network.interface_endpoints))
    # DynamoDB
    _in_range(problems, f"{k}.dynamodbPitrDays", d.dynamodb_pitr_days, 1, 35, " days")
    if d.dynamodb_billing_mode == "provisioned":
        _in_range(problems, f"{k}.dynamodbMinCapacity", d.dynamodb_min_capacity, 1, 40000, " units")
        if d.dynamodb_max_capacity < d.dynamodb_min_capacity:
            problems.append(f"{k}.dynamodbMaxCapacity: {d.dynamodb_max_capacity} is below dynamodbMinCapacity "
                            f"{d.dynamodb_min_capacity}; set min <= max")  # fmt: skip
        _in_range(
            problems, f"{k}.dynamodbTargetUtilization", d.dynamodb_target_utilization, 20, 90, " percent"
        )
    # Aurora
    m = re.fullmatch(r"(\d+)\.(\d+)", d.aurora_engine_version)
    if m is None:
        problems.append(f"{k}.auroraEngineVersion: {d.aurora_engine_version!r} is not a major.minor version such as "
                        "16.6")  # fmt: skip
    elif m.group(1) not in AURORA_POSTGRES_MAJORS:
        problems.append(f"{k}.auroraEngineVersion: major version {m.group(1)} is not supported; allowed majors: "
                        f"{', '.join(AURORA_POSTGRES_MAJORS)}")  # fmt: skip
    if not re.fullmatch(r"db\.(serverless|[a-z0-9]+\.[a-z0-9]+)", d.aurora_instance_class):
        problems.append(f"{k}.auroraInstanceClass: {d.aurora_instance_class!r} is not an RDS class such as "
                        "db.r7g.large or db.serverless")  # fmt: skip
    if d.aurora_instance_class == "db.serverless":
        for key, acu in (
            ("auroraMinCapacity", d.aurora_min_capacity),
            ("auroraMaxCapacity", d.aurora_max_capacity),
        ):
            if not 0.5 <= acu <= 256 or (acu * 2) % 1:
                problems.append(f"{k}.{key}: {acu} is not a Serverless v2 capacity; allowed: 0.5 to 256 ACUs "
                                "in steps of 0.5")  # fmt: skip
        if d.aurora_max_capacity < d.aurora_min_capacity:
            problems.append(f"{k}.auroraMaxCapacity: {d.aurora_max_capacity} is below auroraMinCapacity "
                            f"{d.aurora_min_capacity}; set min <= max")  # fmt: skip
    _in_range(
        problems, f"{k}.auroraInstanceCount", d.aurora_instance_count, 1, 16, " (1 writer + up to 15 readers)"
    )
    if d.aurora_multi_az and d.aurora_instance_count < 2:
        problems.append(f"{k}.auroraMultiAz: true with auroraInstanceCount {d.aurora_instance_count}; a multi-AZ "
                        "Aurora cluster needs a reader in another AZ: set auroraInstanceCount to 2 or more")  # fmt: skip
    _in_range(problems, f"{k}.auroraBackupRetentionDays", d.aurora_backup_retention_days, 1, 35, " days")
    if d.aurora_monitoring_interval not in RDS_MONITORING_INTERVALS:
        problems.append(f"{k}.auroraMonitoringInterval: {d.aurora_monitoring_interval} is not allowed; allowed: "
                        f"{', '.join(map(str, RDS_MONITORING_INTERVALS))}")  # fmt: skip
    if d.aurora_performance_insights_days not in PERFORMANCE_INSIGHTS_RETENTION_DAYS:
        problems.append(f"{k}.auroraPerformanceInsightsDays: {d.aurora_performance_insights_days} is not allowed; "
                        "allowed: 7, a multiple of 31 up to 713, or 731")  # fmt: skip
    # Redis
    if d.redis_engine_version not in REDIS_OSS_VERSIONS:
        problems.append(f"{k}.redisEngineVersion: {d.redis_engine_version!r} is not an ElastiCache Redis OSS version; "
                        f"allowed: {', '.join(REDIS_OSS_VERSIONS)} (7.1 is the last Redis OSS; 7.2 and 8.x are "
                        "Valkey, another engine)")  # fmt: skip
    if not re.fullmatch(r"cache\.[a-z0-9]+\.[a-z0-9]+", d.redis_node_type):
        problems.append(
            f"{k}.redisNodeType: {d.redis_node_type!r} is not a node type such as cache.t4g.small"
        )
    _in_range(problems, f"{k}.redisNodeCount", d.redis_node_count, 1, 6, " (1 primary + up to 5 replicas)")
    if d.redis_automatic_failover and d.redis_node_count < 2:
        problems.append(f"{k}.redisAutomaticFailover: true with redisNodeCount {d.redis_node_count}; ElastiCache "
                        "automatic failover needs at least 2 nodes (a replica to promote)")  # fmt: skip
    if d.redis_multi_az and not d.redis_automatic_failover:
        problems.append(f"{k}.redisMultiAz: true needs redisAutomaticFailover true (ElastiCache rejects multi-AZ "
                        "without automatic failover)")  # fmt: skip
    _in_range(problems, f"{k}.redisSnapshotRetentionDays", d.redis_snapshot_retention_days, 0, 35, " days")
    # OpenSearch
    m = re.fullmatch(r"OpenSearch_(\d+)\.(\d+)", d.opensearch_engine_version)
    if m is None or m.group(1) not in OPENSEARCH_MAJORS:
        problems.append(f"{k}.opensearchEngineVersion: {d.opensearch_engine_version!r} is not a supported version; "
                        f"expected OpenSearch_<major>.<minor> with major {' or '.join(OPENSEARCH_MAJORS)}, "
                        "e.g. OpenSearch_2.17")  # fmt: skip
    for key, typ in (("opensearchInstanceType", d.opensearch_instance_type),
                     ("opensearchDedicatedMasterType", d.opensearch_dedicated_master_type)):  # fmt: skip
        if not re.fullmatch(r"[a-z0-9]+\.[a-z0-9]+\.search", typ):
            problems.append(f"{k}.{key}: {typ!r} is not an OpenSearch instance type such as m7g.large.search")
    _in_range(problems, f"{k}.opensearchInstanceCount", d.opensearch_instance_count, 1, 20, " data nodes")
    azs = len(s.network.availability_zones)
    if d.opensearch_zone_awareness:
        if d.opensearch_instance_count < 2 or d.opensearch_instance_count % azs:
            problems.append(f"{k}.opensearchInstanceCount: {d.opensearch_instance_count} with opensearchZoneAwareness "
                            f"over {azs} AZs; zone awareness needs a data-node count that is a multiple of {azs} "
                            f"(e.g. {azs}, {2 * azs})")  # fmt: skip
    elif d.opensearch_instance_count > 1:
        problems.append(f"{k}.opensearchZoneAwareness: false with {d.opensearch_instance_count} data nodes; more than "
                        "one node in a single subnet gains nothing, turn zone awareness on")  # fmt: skip
    if d.opensearch_dedicated_master_count not in OPENSEARCH_MASTER_COUNTS:
        problems.append(f"{k}.opensearchDedicatedMasterCount: {d.opensearch_dedicated_master_count} is not allowed; "
                        f"allowed: {', '.join(map(str, OPENSEARCH_MASTER_COUNTS))} (an odd quorum)")  # fmt: skip
    if d.opensearch_instance_type.startswith("t3.") and d.opensearch_volume_size > 100:
        problems.append(f"{k}.opensearchVolumeSize: {d.opensearch_volume_size} GiB exceeds the 100 GiB a t3 "
                        "OpenSearch node takes")  # fmt: skip
    _in_range(problems, f"{k}.opensearchVolumeSize", d.opensearch_volume_size, 10, 1024, " GiB")
    # Messaging
    if not 1 <= d.queue_retention_days <= QUEUE_RETENTION_MAX_DAYS:
        problems.append(f"{k}.queueRetentionDays: {d.queue_retention_days} is out of range; allowed: 1 to "
                        f"{QUEUE_RETENTION_MAX_DAYS} days (a message moved to the dead-letter queue keeps its first "
                        "enqueue time and the DLQ keeps 14 days, SQS's maximum: a longer source retention would let "
                        "dead letters expire before anyone looks)")  # fmt: skip
    _in_range(problems, f"{k}.queueMaxReceiveCount", d.queue_max_receive_count, 1, 1000)
    _in_range(problems, f"{k}.queueVisibilityTimeout", d.queue_visibility_timeout, 0, 43200, " seconds")
    # Cognito
    if d.cognito_threat_protection != "OFF" and d.cognito_tier != "PLUS":
        problems.append(f"{k}.cognitoThreatProtection: {d.cognito_threat_protection} needs cognitoTier PLUS "
                        f"(it is {d.cognito_tier}); set the tier to PLUS or threat protection to OFF")  # fmt: skip
    _in_range(problems, f"{k}.cognitoAccessTokenMinutes", d.cognito_access_token_minutes, 5, 1440, " minutes")
    _in_range(problems, f"{k}.cognitoIdTokenMinutes", d.cognito_id_token_minutes, 5, 1440, " minutes")
    _in_range(problems, f"{k}.cognitoRefreshTokenDays", d.cognito_refresh_token_days, 1, 3650, " days")
    if d.cognito_refresh_token_days * 1440 <= d.cognito_access_token_minutes:
        problems.append(f"{k}.cognitoRefreshTokenDays: a refresh token must outlive the access token")
    for key, urls in (
        ("cognitoCallbackUrls", d.cognito_callback_urls),
        ("cognitoLogoutUrls", d.cognito_logout_urls),
    ):
        for i, url in enumerate(urls):
            if not re.fullmatch(r"(https://[a-z0-9.-]+|http://localhost)(:\d+)?(/[^\s#]*)?", url):
                problems.append(f"{k}.{key}[{i}]: {url!r} is not allowed; Cognito takes https:// URLs (or "
                                "http://localhost) without a fragment")  # fmt: skip
            elif s.is_prod and re.match(r"https?://localhost(:|/|$)", url):
                problems.append(f"{k}.{key}[{i}]: {url!r} is not allowed in prod; the shop signs in from its own "
                                "domain (a localhost-only list ends in redirect_mismatch, and a localhost URL hands "
                                "authorization codes to whatever listens on that port): use https://<your domain>/..., "
                                "or leave the key unset for https://<edge.domainName>/auth/callback and /")  # fmt: skip
    # Shared
    if d.log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(f"{k}.logRetentionDays: {d.log_retention_days} is not a CloudWatch retention; "
                        f"allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}")  # fmt: skip
    _in_range(problems, f"{k}.kmsDeletionWindowDays", d.kms_deletion_window_days, 7, 30, " days")
    w = d.secret_recovery_window_days
    if w != 0 and not 7 <= w <= 30:
        problems.append(
            f"{k}.secretRecoveryWindowDays: {w} is not allowed; allowed: 0 (delete at once) or 7 to 30"
        )
    if s.protect_data and w == 0:
        problems.append(f"{k}.secretRecoveryWindowDays: 0 with protectData true; protected stacks keep deleted "
                        "secrets recoverable (7 to 30)")  # fmt: skip


RULES: tuple[Rule, ...] = (
    _top_level_rules,
    _network_rules,
    _cluster_rules,
    _edge_rules,
    _delivery_rules,
    _data_rules,
    _cluster_more_rules,
    _observability_rules,
    _lake_rules,
)


def _with_derived_defaults(s: Settings) -> Settings:
    """Fill the keys whose default depends on other keys (an unset Cognito URL list follows `edge.domainName`)."""
    d, domain = s.data, s.edge.domain_name
    base = f"https://{domain}" if domain else "http://localhost:3000"
    data = dataclasses.replace(
        d,
        cognito_callback_urls=d.cognito_callback_urls or (f"{base}/auth/callback",),
        cognito_logout_urls=d.cognito_logout_urls or (f"{base}/",),
    )
    return dataclasses.replace(s, data=data)


def load_settings(raw: Mapping[str, Any] | None = None, *, stack: str | None = None) -> Settings:
    """Read and validate the whole configuration; raise `SettingsError` listing every problem.

    `raw` defaults to the project's config as the engine passed it; tests pass a dict directly.
    """
    stack = stack or pulumi.get_stack()
    raw = raw_project_config() if raw is None else raw
    problems: list[str] = []
    settings = _build(Settings, raw, "", problems)
    if settings is not None and not problems:
        settings = _with_derived_defaults(settings)
        for rule in RULES:
            rule(settings, problems)
    if problems or settings is None:
        raise SettingsError(problems, stack)
    return typing.cast(Settings, settings)


def secret_setting(key: str) -> pulumi.Output[str] | None:
    """A secret config value as a secret Output, or None when it is not set. Only keys of `SECRET_KEYS`."""
    if key not in SECRET_KEYS:
        raise KeyError(f"{key} is not a secret setting; known: {', '.join(SECRET_KEYS)}")
    return pulumi.Config(PROJECT).get_secret(key)


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
    if isinstance(value, StringMap):
        return dict(value)
    if isinstance(value, tuple):
        return [as_config(v) for v in value]
    return value
