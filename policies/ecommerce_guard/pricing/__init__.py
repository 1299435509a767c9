"""The monthly cost of a stack, priced from its planned resources, the committed price table and a usage file.

Standard library only: the policy pack imports it in its own virtualenv (`policies/requirements.txt` pins only the
policy SDK), and `tools/cost.py` imports the same module, so `make cost` and the pack's budget rule agree to the
cent. It knows nothing about where resources come from: callers hand it `Item`s (from `build/<stack>/plan.json`, or
from the resources `AnalyzeStack` sees).

Every resource type is either priced (a pricer below), free (listed in `FREE` with the reason AWS bills nothing for
it, or bills it on another resource), or **unpriced**: listed as such in the estimate, never counted as zero.
Free tiers (`free_per_month` in the price table) are taken off once per stack, on their own line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

HERE: Final = Path(__file__).resolve().parent
PRICE_FILE: Final = HERE / "prices.json"
USAGE_DIR: Final = HERE / "usage"
DEFAULT_REGION: Final = "us-east-2"
FREE_TIER: Final = "(account free tier)"


@dataclass(frozen=True)
class Item:
    """One planned resource: its URN, type, logical name, inputs, parent URN and the region it lives in."""

    urn: str
    type: str
    name: str
    inputs: Mapping[str, Any]
    parent: str = ""
    region: str = DEFAULT_REGION


@dataclass(frozen=True)
class Line:
    """One priced quantity: `quantity` units of the price table's `key`."""

    key: str
    quantity: float
    what: str


@dataclass
class Priced:
    """A resource's monthly cost, its lines, and the component it belongs to."""

    urn: str
    type: str
    name: str
    component: str
    region: str
    monthly: float = 0.0
    lines: list[dict[str, Any]] = field(default_factory=list)
    status: str = "priced"  # priced | free | unpriced | included
    note: str = ""


class PriceTable:
    """`prices.json`: per key a unit, a price per region, its source and the price-list selector that refreshes it."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.prices: Mapping[str, Mapping[str, Any]] = data["prices"]

    @classmethod
    def load(cls, path: Path = PRICE_FILE) -> PriceTable:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def has(self, key: str) -> bool:
        return key in self.prices

    def usd(self, key: str, region: str) -> float:
        entry = self.prices[key]["usd"]
        if region in entry:
            return float(entry[region])
        # CloudFront, Route 53 and WAF-for-CloudFront are global services billed at one price, listed once.
        if len(entry) == 1:
            return float(next(iter(entry.values())))
        raise KeyError(f"no {region} price for {key}")


def load_usage(stack: str, directory: Path = USAGE_DIR) -> dict[str, Any]:
    """The stack's usage file (`usage/<stack>.json`); prod's when the stack has none (the larger assumptions)."""
    path = directory / f"{stack}.json"
    if not path.exists():
        path = directory / "prod.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


# ----------------------------------------------------------------------------------------------------------------
# Free: AWS bills nothing for these, or bills them on another resource that is priced.

_NETWORK_FREE = "VPC networking objects carry no charge"
_CONFIG = "configuration of a priced resource; no charge of its own"
FREE: Final[dict[str, str]] = {
    "aws:iam/role:Role": "IAM is free",
    "aws:iam/policy:Policy": "IAM is free",
    "aws:iam/rolePolicy:RolePolicy": "IAM is free",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "IAM is free",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "IAM is free",
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": "IAM is free",
    "aws:backup/plan:Plan": "AWS Backup bills the recovery points a plan makes (on their vault), not the plan",
    "aws:backup/selection:Selection": "AWS Backup bills the recovery points, not the selection",
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": "free: the repositories it creates bill as ECR storage",
    "aws:ec2/subnet:Subnet": _NETWORK_FREE,
    "aws:ec2/route:Route": _NETWORK_FREE,
    "aws:ec2/routeTable:RouteTable": _NETWORK_FREE,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _NETWORK_FREE,
    "aws:ec2/internetGateway:InternetGateway": _NETWORK_FREE,
    "aws:ec2/securityGroup:SecurityGroup": _NETWORK_FREE,
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _NETWORK_FREE,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _NETWORK_FREE,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _NETWORK_FREE,
    "aws:ec2/flowLog:FlowLog": "its records are billed as ingestion on the flow-log log group",
    "aws:ec2/launchTemplate:LaunchTemplate": "templates are free; the volumes it describes are priced on the node group",
    "aws:kms/alias:Alias": "aliases are free",
    "aws:kms/keyPolicy:KeyPolicy": _CONFIG,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _CONFIG,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _CONFIG,
    "aws:s3/bucketPolicy:BucketPolicy": _CONFIG,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _CONFIG,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _CONFIG,
    "aws:s3/bucketVersioning:BucketVersioning": _CONFIG,
    "aws:s3/bucketObjectv2:BucketObjectv2": "a few KB, inside its bucket's storage",
    "aws:lb/listener:Listener": "inside the load balancer's hours and LCUs",
    "aws:lb/listenerRule:ListenerRule": "inside the load balancer's hours and LCUs",
    "aws:lb/targetGroup:TargetGroup": "inside the load balancer's hours and LCUs",
    "aws:rds/subnetGroup:SubnetGroup": _CONFIG,
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": _CONFIG,
    "aws:elasticache/subnetGroup:SubnetGroup": _CONFIG,
    "aws:opensearch/domainPolicy:DomainPolicy": _CONFIG,
    "aws:sns/topicPolicy:TopicPolicy": _CONFIG,
    "aws:sns/topicSubscription:TopicSubscription": "SNS deliveries to SQS are free; the queue's requests are priced",
    "aws:sqs/queuePolicy:QueuePolicy": _CONFIG,
    "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": _CONFIG,
    "aws:secretsmanager/secretVersion:SecretVersion": "inside its secret's monthly price",
    "aws:acm/certificate:Certificate": "public ACM certificates are free",
    "aws:acm/certificateValidation:CertificateValidation": "a wait, not a resource AWS bills",
    "aws:route53/record:Record": "records are free; alias queries to CloudFront/ALB are free; the zone is not managed here",
    "aws:eks/addon:Addon": "EKS add-ons are free; their pods run on the priced nodes",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": _CONFIG,
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule": "cached images are stored in repositories priced by GB",
    "aws:cloudfront/originAccessControl:OriginAccessControl": _CONFIG,
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": _CONFIG,
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": _CONFIG,
    "aws:cloudwatch/logStream:LogStream": "inside its log group",
    "aws:cloudwatch/logDelivery:LogDelivery": "vended logs are billed as ingestion on the destination",
    "aws:cloudwatch/logDeliverySource:LogDeliverySource": "vended logs are billed as ingestion on the destination",
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": "vended logs are billed as ingestion on the destination",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "billed as ingestion on its log group",
    "aws:codebuild/webhook:Webhook": _CONFIG,
    "aws:cognito/userPoolClient:UserPoolClient": "inside the user pool's MAU price",
    "aws:cognito/userPoolDomain:UserPoolDomain": "inside the user pool's MAU price",
    "aws:glue/catalogDatabase:CatalogDatabase": "the first million catalog objects a month are free",
    "aws:glue/catalogTable:CatalogTable": "the first million catalog objects a month are free",
    "aws:glue/securityConfiguration:SecurityConfiguration": _CONFIG,
    "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings": _CONFIG,
    "aws:glue/trigger:Trigger": "its runs are priced on the job it starts",
    "aws:athena/namedQuery:NamedQuery": "saved queries are free; scans are priced on the workgroup",
    "aws:sagemaker/domain:Domain": "a domain is free; its apps' instances are billed when they run, not planned",
    "aws:sagemaker/userProfile:UserProfile": "a profile is free; its apps' instances are billed when they run",
    "aws:lakeformation/dataLakeSettings:DataLakeSettings": "Lake Formation permissions are free",
    "aws:lakeformation/permissions:Permissions": "Lake Formation permissions are free",
    "aws:lakeformation/resource:Resource": "Lake Formation permissions are free",
    "aws:quicksight/dataSource:DataSource": "free; authors are priced on the data set's usage line",
}
#: Not AWS resources: the engine's own bookkeeping, Kubernetes objects (running on the priced nodes), random values.
FREE_PREFIXES: Final = {
    "pulumi:": "the engine's own bookkeeping",
    "ecommerce:": "a component: its children are priced",
    "kubernetes:": "runs on the cluster's priced nodes",
    "random:": "generated locally",
}
#: Remote (multi-language) components whose children a real preview also shows: priced once, on the component.
REMOTE_COMPONENTS: Final = ("eks:index:Cluster", "eks:index:ManagedNodeGroup")


class Context:
    """What a pricer may read: the table, the usage, every item (for joins), the stack's hours."""

    def __init__(self, items: list[Item], usage: Mapping[str, Any], table: PriceTable) -> None:
        self.items = items
        self.usage = usage
        self.table = table
        self.hours = float(get(usage, "hoursPerMonth", default=730))
        self.unstated: list[str] = []

    def use(self, item: Item, key: str, default: float | None = None) -> float:
        """The usage file's `key` for this resource (by name), else for its type, else `default`.

        Without a `default`, a quantity the usage file does not give is 0 and is recorded in `unstated`: a usage
        line priced at nothing because the file forgot the type is an estimate that is silently low.
        """
        for scope in (get(self.usage, "resources", item.name), get(self.usage, "defaults", item.type)):
            if isinstance(scope, Mapping) and key in scope:
                return float(scope[key])
        if default is None:
            self.unstated.append(f"{item.type} {item.name}: {key}")
            return 0.0
        return default

    def siblings(self, item: Item, type_: str) -> list[Item]:
        return [i for i in self.items if i.type == type_ and i.parent == item.parent]


class Unpriced(Exception):
    """A resource of a priced type whose inputs name something the table has no price for (an instance class)."""


def get(value: Any, *path: str, default: Any = None) -> Any:
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return default
        value = value[key]
    return value


def num(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return default
    return default


def need(ctx: Context, key: str, what: str) -> str:
    if not ctx.table.has(key):
        raise Unpriced(f"no price for {what} ({key}) in prices.json")
    return key


# ----------------------------------------------------------------------------------------------------------------
# Pricers: (item, ctx) -> lines. Quantities are per month.

Pricer = Callable[[Item, Context], list[Line]]


def _eks_cluster(item: Item, ctx: Context) -> list[Line]:
    return [Line("eks.cluster-hour", ctx.hours, "control plane")]


def _launch_template_gb(item: Item, ctx: Context) -> float:
    for lt in ctx.siblings(item, "aws:ec2/launchTemplate:LaunchTemplate"):
        for mapping in lt.inputs.get("blockDeviceMappings") or []:
            size = num(get(mapping, "ebs", "volumeSize"))
            if size:
                return size
    # EKS managed node groups default to a 20 GiB root volume (pulumi-aws eks.NodeGroup `disk_size` docstring).
    return num(item.inputs.get("diskSize"), 20.0)


def _node_group(item: Item, ctx: Context) -> list[Line]:
    types = item.inputs.get("instanceTypes") or ["t3.medium"]
    instance = str(types[0])
    nodes = num(get(item.inputs, "scalingConfig", "desiredSize"), 1.0)
    key = need(ctx, f"ec2.{instance}", f"EC2 {instance}")
    gb = _launch_template_gb(item, ctx)
    return [
        Line(key, nodes * ctx.hours, f"{nodes:g} x {instance}"),
        Line("ebs.gp3-gb-month", nodes * gb, f"{nodes:g} x {gb:g} GB gp3 root volume"),
    ]


def _nat(item: Item, ctx: Context) -> list[Line]:
    return [
        Line("vpc.nat-hour", ctx.hours, "NAT gateway"),
        Line("vpc.nat-gb", ctx.use(item, "processedGb"), "data processed"),
    ]


def _eip(item: Item, ctx: Context) -> list[Line]:
    return [Line("vpc.public-ipv4-hour", ctx.hours, "public IPv4 address")]


def _endpoint(item: Item, ctx: Context) -> list[Line]:
    if str(item.inputs.get("vpcEndpointType", "Gateway")) != "Interface":
        return []  # gateway endpoints (S3, DynamoDB) are free
    azs = max(1, len(item.inputs.get("subnetIds") or []))
    service = str(item.inputs.get("serviceName", "")).rsplit(".", 1)[-1]
    return [
        Line("vpc.endpoint-eni-hour", azs * ctx.hours, f"{service}: {azs} AZ"),
        Line("vpc.endpoint-gb", ctx.use(item, "processedGb"), "data processed"),
    ]


def _load_balancer(item: Item, ctx: Context) -> list[Line]:
    if str(item.inputs.get("loadBalancerType", "application")) != "application":
        raise Unpriced(f"{item.inputs.get('loadBalancerType')} load balancers are not in prices.json")
    lines = [
        Line("alb.hour", ctx.hours, "Application Load Balancer"),
        Line("alb.lcu-hour", ctx.use(item, "averageLcu") * ctx.hours, "LCUs"),
    ]
    if not item.inputs.get("internal"):
        # An internet-facing ALB holds one public IPv4 address per subnet, billed like any other.
        subnets = max(2, len(item.inputs.get("subnets") or []))
        lines.append(Line("vpc.public-ipv4-hour", subnets * ctx.hours, f"{subnets} public IPv4 addresses"))
    return lines


def _aurora_cluster(item: Item, ctx: Context) -> list[Line]:
    return [
        Line("aurora.storage-gb-month", ctx.use(item, "storageGb"), "storage"),
        Line("aurora.io-million", ctx.use(item, "ioMillions"), "I/O requests"),
    ]


def _cluster_of(instance: Item, ctx: Context) -> Item | None:
    wanted = instance.inputs.get("clusterIdentifier")
    clusters = [i for i in ctx.items if i.type == "aws:rds/cluster:Cluster"]
    for c in clusters:
        if wanted and c.inputs.get("clusterIdentifier") == wanted:
            return c
    return clusters[0] if len(clusters) == 1 else None


def _aurora_instance(item: Item, ctx: Context) -> list[Line]:
    klass = str(item.inputs.get("instanceClass", ""))
    if klass != "db.serverless":
        return [Line(need(ctx, f"aurora.{klass}", f"Aurora {klass}"), ctx.hours, klass)]
    cluster = _cluster_of(item, ctx)
    scaling = get(cluster.inputs if cluster else {}, "serverlessv2ScalingConfiguration", default={}) or {}
    low, high = num(scaling.get("minCapacity"), 0.5), num(scaling.get("maxCapacity"), 1.0)
    active = min(ctx.hours, ctx.use(item, "activeHours", ctx.hours))
    acu = min(high, max(low, ctx.use(item, "averageAcuWhenActive", low)))
    # Idle hours run at the minimum; at 0 ACUs the instance is paused and its capacity is not billed (Aurora user
    # guide, "Scaling to Zero ACUs with automatic pause and resume").
    idle_acu_hours = (ctx.hours - active) * low
    what = f"{active:g} h at {acu:g} ACU, {ctx.hours - active:g} h at {low:g} ACU"
    return [Line("aurora.acu-hour", active * acu + idle_acu_hours, what)]


def _redis(item: Item, ctx: Context) -> list[Line]:
    node = str(item.inputs.get("nodeType", ""))
    if item.inputs.get("numNodeGroups"):
        count = num(item.inputs["numNodeGroups"]) * (1 + num(item.inputs.get("replicasPerNodeGroup")))
    else:
        count = num(item.inputs.get("numCacheClusters"), 1.0)
    return [
        Line(
            need(ctx, f"elasticache.{node}", f"ElastiCache {node}"), count * ctx.hours, f"{count:g} x {node}"
        )
    ]


def _opensearch(item: Item, ctx: Context) -> list[Line]:
    cfg = item.inputs.get("clusterConfig") or {}
    kind = str(cfg.get("instanceType", ""))
    count = num(cfg.get("instanceCount"), 1.0)
    lines = [
        Line(need(ctx, f"opensearch.{kind}", f"OpenSearch {kind}"), count * ctx.hours, f"{count:g} x {kind}")
    ]
    if cfg.get("dedicatedMasterEnabled"):
        master = str(cfg.get("dedicatedMasterType", kind))
        masters = num(cfg.get("dedicatedMasterCount"), 3.0)
        key = need(ctx, f"opensearch.{master}", f"OpenSearch {master}")
        lines.append(Line(key, masters * ctx.hours, f"{masters:g} dedicated masters {master}"))
    gb = num(get(item.inputs, "ebsOptions", "volumeSize"), 10.0)
    lines.append(Line("opensearch.gp3-gb-month", count * gb, f"{count:g} x {gb:g} GB gp3"))
    return lines


def _dynamodb(item: Item, ctx: Context) -> list[Line]:
    storage = ctx.use(item, "storageGb")
    if str(item.inputs.get("billingMode", "PROVISIONED")) == "PAY_PER_REQUEST":
        lines = [
            Line("dynamodb.write-request-million", ctx.use(item, "writesMillions"), "on-demand writes"),
            Line("dynamodb.read-request-million", ctx.use(item, "readsMillions"), "on-demand reads"),
        ]
    else:
        wcu, rcu = num(item.inputs.get("writeCapacity")), num(item.inputs.get("readCapacity"))
        lines = [
            Line("dynamodb.wcu-hour", wcu * ctx.hours, f"{wcu:g} provisioned WCU"),
            Line("dynamodb.rcu-hour", rcu * ctx.hours, f"{rcu:g} provisioned RCU"),
        ]
    lines.append(Line("dynamodb.storage-gb-month", storage, "storage"))
    if get(item.inputs, "pointInTimeRecovery", "enabled"):
        lines.append(Line("dynamodb.pitr-gb-month", storage, "point-in-time recovery"))
    replicas = item.inputs.get("replicas") or []
    if replicas:
        writes = ctx.use(item, "writesMillions") * len(replicas)
        lines.append(
            Line("dynamodb.replicated-write-million", writes, f"{len(replicas)} global-table replica(s)")
        )
        lines.append(Line("dynamodb.storage-gb-month", storage * len(replicas), "replica storage"))
    return lines


def _per_month(key: str, what: str) -> Pricer:
    return lambda item, ctx: [Line(key, 1.0, what)]


def _usage(key: str, usage_key: str, what: str) -> Pricer:
    return lambda item, ctx: [Line(key, ctx.use(item, usage_key), what)]


def _kms(item: Item, ctx: Context) -> list[Line]:
    return [
        Line("kms.key-month", 1.0, "customer managed key"),
        Line("kms.request-10k", ctx.use(item, "requestsTenThousands"), "requests"),
    ]


def _log_group(item: Item, ctx: Context) -> list[Line]:
    gb = ctx.use(item, "ingestedGb")
    days = num(item.inputs.get("retentionInDays"), 0.0) or 3650.0
    # Retained data builds up to about ingestion x retention months (compressed ~ as stored; an upper bound).
    stored = gb * min(days, 365.0) / 30.0
    return [
        Line("logs.ingest-gb", gb, "ingestion"),
        Line("logs.storage-gb-month", stored, f"storage over {days:g} days' retention"),
    ]


def _alarm(item: Item, ctx: Context) -> list[Line]:
    queries = [q for q in item.inputs.get("metricQueries") or [] if q.get("metric")]
    metrics = max(1, len(queries))
    if num(item.inputs.get("period"), 60.0) < 60:
        return [
            Line("cloudwatch.high-res-alarm-metric-month", metrics, f"{metrics} high-resolution metric(s)")
        ]
    return [Line("cloudwatch.alarm-metric-month", metrics, f"{metrics} metric(s)")]


def _runs_per_month(expression: str, hours: float) -> float | None:
    """Runs a month of `rate(N minutes|hours|days)` or `cron(min hour dom month dow year)`; None if not read."""
    days = hours / 24.0
    m = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if m:
        per_day = {"minute": 1440, "hour": 24, "day": 1}[m.group(2).rstrip("s")] / int(m.group(1))
        return per_day * days
    m = re.fullmatch(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+) ?(\S*)\)", expression.strip())
    if m:
        minutes, hours_field = _field_count(m.group(1), 60), _field_count(m.group(2), 24)
        if minutes is None or hours_field is None or m.group(3) not in ("*", "?"):
            return None
        return minutes * hours_field * days
    return None


def _field_count(value: str, size: int) -> int | None:
    if value == "*":
        return size
    step = re.fullmatch(r"(\*|\d+)/(\d+)", value)
    if step:
        start = 0 if step.group(1) == "*" else int(step.group(1))
        return len(range(start, size, int(step.group(2))))
    if re.fullmatch(r"\d+(,\d+)*", value):
        return len(value.split(","))
    return None


def _canary(item: Item, ctx: Context) -> list[Line]:
    expression = str(get(item.inputs, "schedule", "expression", default=""))
    runs = _runs_per_month(expression, ctx.hours)
    if runs is None:
        raise Unpriced(f"schedule {expression!r} not understood")
    return [Line("synthetics.canary-run", runs, f"{expression}")]


def _distribution(item: Item, ctx: Context) -> list[Line]:
    return [
        Line("cloudfront.na-eu-gb", ctx.use(item, "gbOut"), "data out to viewers"),
        Line("cloudfront.https-10k", ctx.use(item, "httpsTenThousands"), "HTTPS requests"),
    ]


def _web_acl(item: Item, ctx: Context) -> list[Line]:
    rules = len(item.inputs.get("rules") or [])
    return [
        Line("waf.web-acl-month", 1.0, "web ACL"),
        Line("waf.rule-month", rules, f"{rules} rules"),
        Line("waf.request-million", ctx.use(item, "requestsMillions"), "requests inspected"),
    ]


def _bucket(item: Item, ctx: Context) -> list[Line]:
    return [
        Line("s3.standard-gb-month", ctx.use(item, "storageGb"), "storage"),
        Line("s3.put-1k", ctx.use(item, "putThousands"), "PUT requests"),
    ]


def _glue_job(item: Item, ctx: Context) -> list[Line]:
    workers = num(item.inputs.get("numberOfWorkers"), 0.0)
    dpu_per_worker = {"G.025X": 0.25, "G.1X": 1.0, "G.2X": 2.0, "G.4X": 4.0, "G.8X": 8.0}.get(
        str(item.inputs.get("workerType", "")), 0.0
    )
    if not workers or not dpu_per_worker:
        raise Unpriced(f"worker type {item.inputs.get('workerType')!r} x {workers:g} not priced")
    name = item.inputs.get("name")
    runs = 0.0
    for trigger in (i for i in ctx.items if i.type == "aws:glue/trigger:Trigger"):
        if any(a.get("jobName") == name for a in trigger.inputs.get("actions") or []):
            runs += _runs_per_month(str(trigger.inputs.get("schedule", "")), ctx.hours) or 0.0
    # Glue 2.0+ bills per second with a 1-minute minimum per run.
    minutes = max(1.0, ctx.use(item, "minutesPerRun", 1.0))
    dpu_hours = runs * workers * dpu_per_worker * minutes / 60.0
    return [
        Line("glue.dpu-hour", dpu_hours, f"{runs:.0f} runs x {workers:g} {item.inputs.get('workerType')}")
    ]


def _codebuild(item: Item, ctx: Context) -> list[Line]:
    compute = str(get(item.inputs, "environment", "computeType", default=""))
    size = compute.removeprefix("BUILD_GENERAL1_").lower()
    key = need(ctx, f"codebuild.general1.{size}-minute", f"CodeBuild {compute}")
    return [Line(key, ctx.use(item, "buildMinutes"), f"{compute} runner minutes")]


def _user_pool(item: Item, ctx: Context) -> list[Line]:
    tier = str(item.inputs.get("userPoolTier", "ESSENTIALS")).lower()
    key = need(ctx, f"cognito.{tier}-mau", f"Cognito {tier} tier")
    return [Line(key, ctx.use(item, "monthlyActiveUsers"), f"{tier} MAU")]


def _addon(item: Item, ctx: Context) -> list[Line]:
    if item.inputs.get("addonName") != "amazon-cloudwatch-observability":
        return []
    metrics = ctx.use(item, "containerInsightsMetrics")
    return [Line("cloudwatch.custom-metric-month", metrics, "Container Insights metrics")]


def _vpc(item: Item, ctx: Context) -> list[Line]:
    # Data out to the internet (NAT'd calls, ALB responses not through CloudFront); origin fetches by CloudFront
    # from AWS origins are free, so the shop's pages are priced on the distribution.
    return [Line("transfer.internet-gb", ctx.use(item, "internetEgressGb"), "data out to the internet")]


def _secret(item: Item, ctx: Context) -> list[Line]:
    replicas = len(item.inputs.get("replicas") or [])
    # A replica secret in another region is billed as a secret of its own (Secrets Manager pricing).
    return [
        Line(
            "secretsmanager.secret-month",
            1.0 + replicas,
            "secret" + (f" + {replicas} replica(s)" if replicas else ""),
        )
    ]


def _bucket_replication(item: Item, ctx: Context) -> list[Line]:
    # Every replicated byte crosses regions; with Replication Time Control on a rule, S3 bills it once more.
    gb = ctx.use(item, "replicatedGb")
    lines = [Line("transfer.inter-region-gb", gb, "replicated objects")]
    rules = item.inputs.get("rules") or []
    if any(get(r, "destination", "replicationTime", "status") == "Enabled" for r in rules):
        lines.append(Line("s3.rtc-gb", gb, "Replication Time Control"))
    return lines


def _registry_replication(item: Item, ctx: Context) -> list[Line]:
    # The pushed layers cross regions, and ECR stores the replicated repositories in the DR region (they are not
    # resources of the plan: ECR creates them), at the same price per GB as the primary's.
    return [
        Line("transfer.inter-region-gb", ctx.use(item, "replicatedGb"), "replicated images"),
        Line("ecr.storage-gb-month", ctx.use(item, "replicaStorageGb"), "replica repositories' storage"),
    ]


def _global_cluster(item: Item, ctx: Context) -> list[Line]:
    return [
        Line(
            "aurora.global-replicated-write-million",
            ctx.use(item, "replicatedWriteMillions"),
            "replicated writes",
        ),
        Line("transfer.inter-region-gb", ctx.use(item, "replicatedGb"), "replication traffic"),
    ]


def _table_replica(item: Item, ctx: Context) -> list[Line]:
    # Every write to the source table is written again in the replica's region (replicated write units), and the
    # replica stores, and with PITR backs up continuously, a full copy of the table.
    storage = ctx.use(item, "storageGb")
    lines = [
        Line("dynamodb.replicated-write-million", ctx.use(item, "writesMillions"), "replicated writes"),
        Line("dynamodb.storage-gb-month", storage, "replica storage"),
    ]
    if item.inputs.get("pointInTimeRecovery"):
        lines.append(Line("dynamodb.pitr-gb-month", storage, "point-in-time recovery"))
    return lines


def _backup_vault(item: Item, ctx: Context) -> list[Line]:
    # The recovery points a vault holds (Aurora snapshots) and, for a copy destination, the copies' transfer.
    return [
        Line("backup.aurora-snapshot-gb-month", ctx.use(item, "storedGb"), "stored recovery points"),
        Line("transfer.inter-region-gb", ctx.use(item, "copiedGb"), "cross-region copies"),
    ]


def _quicksight_data_set(item: Item, ctx: Context) -> list[Line]:
    return [
        Line("quicksight.author-month", ctx.use(item, "authors", 1.0), "authors (Enterprise)"),
        Line("quicksight.spice-gb-month", ctx.use(item, "spiceGb"), "SPICE capacity"),
    ]


PRICERS: Final[dict[str, Pricer]] = {
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:backup/vault:Vault": _backup_vault,
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": _bucket_replication,
    "aws:ecr/replicationConfiguration:ReplicationConfiguration": _registry_replication,
    "aws:rds/globalCluster:GlobalCluster": _global_cluster,
    "aws:dynamodb/tableReplica:TableReplica": _table_replica,
    "aws:quicksight/dataSet:DataSet": _quicksight_data_set,
    "eks:index:Cluster": _eks_cluster,
    "aws:eks/cluster:Cluster": _eks_cluster,
    "eks:index:ManagedNodeGroup": _node_group,
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:ec2/natGateway:NatGateway": _nat,
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _endpoint,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:rds/cluster:Cluster": _aurora_cluster,
    "aws:rds/clusterInstance:ClusterInstance": _aurora_instance,
    "aws:elasticache/replicationGroup:ReplicationGroup": _redis,
    "aws:opensearch/domain:Domain": _opensearch,
    "aws:dynamodb/table:Table": _dynamodb,
    "aws:sqs/queue:Queue": _usage("sqs.request-million", "requestsMillions", "requests"),
    "aws:sns/topic:Topic": _usage("sns.publish-million", "publishesMillions", "publishes"),
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:kms/key:Key": _kms,
    "aws:kms/replicaKey:ReplicaKey": _kms,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": _per_month(
        "cloudwatch.composite-alarm-month", "composite alarm"
    ),
    "aws:cloudwatch/dashboard:Dashboard": _per_month("cloudwatch.dashboard-month", "dashboard"),
    "aws:synthetics/canary:Canary": _canary,
    "aws:cloudfront/distribution:Distribution": _distribution,
    "aws:cloudfront/function:Function": _usage(
        "cloudfront.function-million", "invocationsMillions", "invocations"
    ),
    "aws:wafv2/webAcl:WebAcl": _web_acl,
    "aws:route53/zone:Zone": _per_month("route53.hosted-zone-month", "hosted zone"),
    "aws:route53/healthCheck:HealthCheck": _per_month("route53.health-check-month", "health check"),
    "aws:s3/bucket:Bucket": _bucket,
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": _usage(
        "firehose.gb", "ingestedGb", "ingested"
    ),
    "aws:glue/job:Job": _glue_job,
    "aws:glue/crawler:Crawler": _usage("glue.dpu-hour", "dpuHours", "crawler DPU-hours"),
    "aws:athena/workgroup:Workgroup": _usage("athena.tb-scanned", "tbScanned", "data scanned"),
    "aws:codebuild/project:Project": _codebuild,
    "aws:cognito/userPool:UserPool": _user_pool,
    "aws:ecr/repository:Repository": _usage("ecr.storage-gb-month", "storageGb", "image storage"),
    "aws:eks/addon:Addon": _addon,
}


# ----------------------------------------------------------------------------------------------------------------
# The estimate


def component_of(item: Item, by_urn: Mapping[str, Item]) -> str:
    """The nearest `ecommerce:*` component above the item (its logical name), or "(stack)"."""
    seen: set[str] = set()
    cur: Item | None = item
    while cur is not None and cur.urn not in seen:
        seen.add(cur.urn)
        if cur.type.startswith("ecommerce:") and cur is not item:
            return cur.name
        cur = by_urn.get(cur.parent)
    return "(stack)"


def _inside_remote(item: Item, by_urn: Mapping[str, Item]) -> str | None:
    cur = by_urn.get(item.parent)
    while cur is not None:
        if cur.type in REMOTE_COMPONENTS:
            return cur.name
        cur = by_urn.get(cur.parent)
    return None


def estimate(
    items: Iterable[Item], usage: Mapping[str, Any], table: PriceTable | None = None
) -> dict[str, Any]:
    """Price every item; the result is what `build/<stack>/cost.json` holds (monthly USD)."""
    table = table or PriceTable.load()
    items = list(items)
    ctx = Context(items, usage, table)
    by_urn = {i.urn: i for i in items}
    priced: list[Priced] = []
    quantities: dict[tuple[str, str], float] = {}
    for item in items:
        p = Priced(item.urn, item.type, item.name, component_of(item, by_urn), item.region)
        priced.append(p)
        remote = _inside_remote(item, by_urn)
        prefix = next((k for k in FREE_PREFIXES if item.type.startswith(k)), None)
        if remote is not None and item.type not in REMOTE_COMPONENTS:
            p.status, p.note = "included", f"priced on the remote component {remote}"
            continue
        if item.type in PRICERS:
            try:
                lines = PRICERS[item.type](item, ctx)
            except Unpriced as err:
                p.status, p.note = "unpriced", str(err)
                continue
            for line in lines:
                usd = table.usd(line.key, item.region)
                cost = usd * line.quantity
                quantities[(line.key, item.region)] = (
                    quantities.get((line.key, item.region), 0.0) + line.quantity
                )
                p.lines.append({"key": line.key, "what": line.what, "quantity": round(line.quantity, 4),
                                "unit": table.prices[line.key]["unit"], "usd": usd, "monthly": round(cost, 4)})  # fmt: skip
                p.monthly += cost
            if not lines:
                p.status, p.note = "free", "no charge with these inputs"
        elif item.type in FREE:
            p.status, p.note = "free", FREE[item.type]
        elif prefix is not None:
            p.status, p.note = "free", FREE_PREFIXES[prefix]
        else:
            p.status, p.note = "unpriced", "no pricer for this resource type: add one to pricing/__init__.py"
    free_lines = _free_tier(table, quantities)
    components: dict[str, float] = {}
    for p in priced:
        components[p.component] = components.get(p.component, 0.0) + p.monthly
    free_total = sum(line["monthly"] for line in free_lines)
    if free_lines:
        components[FREE_TIER] = free_total
    total = sum(p.monthly for p in priced) + free_total
    unpriced = [{"urn": p.urn, "type": p.type, "why": p.note} for p in priced if p.status == "unpriced"]
    return {
        "currency": "USD",
        "prices": table.data.get("compiled", ""),
        "monthly": round(total, 2),
        "components": {k: round(v, 2) for k, v in sorted(components.items(), key=lambda kv: -kv[1])},
        "resources": [
            {
                "urn": p.urn,
                "type": p.type,
                "name": p.name,
                "component": p.component,
                "region": p.region,
                "status": p.status,
                "monthly": round(p.monthly, 2),
                "note": p.note,
                "lines": p.lines,
            }
            for p in priced
            if p.status in ("priced", "unpriced") or p.monthly
        ],
        "freeTier": free_lines,
        "unpriced": unpriced,
        "unstatedUsage": sorted(set(ctx.unstated)),
    }


def _free_tier(table: PriceTable, quantities: Mapping[tuple[str, str], float]) -> list[dict[str, Any]]:
    """One negative line per price with a monthly free allowance, applied once across the stack's regions."""
    used: dict[str, float] = {}
    lines = []
    for (key, region), quantity in sorted(quantities.items()):
        allowance = float(table.prices[key].get("free_per_month") or 0.0)
        left = max(0.0, allowance - used.get(key, 0.0))
        free = min(left, quantity)
        if free > 0:
            used[key] = used.get(key, 0.0) + free
            usd = table.usd(key, region)
            lines.append({"key": key, "region": region, "quantity": round(free, 4), "usd": usd,
                          "monthly": round(-free * usd, 4)})  # fmt: skip
    return lines


# ----------------------------------------------------------------------------------------------------------------
# Items from a plan (build/<stack>/plan.json) — the same shape the offline engine writes


def items_from_plan(plan: Mapping[str, Any]) -> list[Item]:
    """Items of a plan; the region from the resource's `region` input, else its provider's, else the stack's."""
    resources = list(plan.get("resources") or [])
    regions = {
        r["urn"]: str(get(r, "inputs", "region", default="") or "")
        for r in resources
        if str(r.get("type", "")).startswith("pulumi:providers:aws")
    }
    default = next((v for v in regions.values() if v), DEFAULT_REGION)
    items = []
    for r in resources:
        inputs = r.get("inputs") or {}
        # A provider reference is `<provider URN>::<provider id>`.
        provider = str(r.get("provider") or "").rsplit("::", 1)[0]
        region = inputs.get("region") if isinstance(inputs.get("region"), str) else None
        region = region or regions.get(provider) or default
        items.append(Item(r["urn"], r["type"], r.get("name", ""), inputs, r.get("parent") or "", region))
    return items


def money(value: float) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def estimate_plan(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The estimate of a plan (build/<stack>/plan.json), with its stack's usage file."""
    stack = str(plan.get("stack", "dev"))
    result = estimate(items_from_plan(plan), load_usage(stack))
    result["stack"] = stack
    return result


def delta(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Monthly delta between two estimates, per component and in total."""
    names = sorted({*old["components"], *new["components"]})
    rows = {n: round(new["components"].get(n, 0.0) - old["components"].get(n, 0.0), 2) for n in names}
    return {
        "old": old["monthly"],
        "new": new["monthly"],
        "delta": round(new["monthly"] - old["monthly"], 2),
        "components": {n: d for n, d in rows.items() if d},
    }


def signed(value: float) -> str:
    return f"{'+' if value >= 0 else '-'}{money(abs(value))}"


def render_delta(stack: str, d: Mapping[str, Any]) -> str:
    out = [f"{stack}: {money(d['old'])} -> {money(d['new'])} a month ({signed(d['delta'])})"]
    out += [f"  {name:<34} {signed(value)}" for name, value in d["components"].items()]
    return "\n".join(out)
