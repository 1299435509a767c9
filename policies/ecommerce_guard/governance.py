"""Governance rules: protection of stateful resources, tags, allowed instance types."""

from __future__ import annotations

import re

from .common import (
    ADVISORY,
    MANDATORY,
    UNKNOWN,
    Context,
    Raw,
    Res,
    Stack,
    as_list,
    first,
    parse_json,
    provider_default_tags,
    resource_policy,
    stack_policy,
)
from .eks import (
    AWS_NODE_GROUP,
    EKS_CLUSTER,
    EKS_MNG,
    EKS_SELF_MANAGED,
    LAUNCH_TEMPLATE,
    instance_types_of,
    matches_any,
)

STATEFUL = (
    "aws:rds/cluster:Cluster",
    "aws:dynamodb/table:Table",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:opensearch/domain:Domain",
    "aws:kms/key:Key",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:secretsmanager/secret:Secret",
    "aws:ecr/repository:Repository",
)


def _stateful_protected(res: Res, ctx: Context) -> None:
    if not ctx.prod:
        return
    if res.type.startswith("aws:s3/bucket") and re.search(r"(^|-)(access-)?logs?(-|$)", res.name):
        return
    if not res.protect:
        ctx.violation(
            res,
            "options.protect",
            False,
            "create it with ResourceOptions(protect=True, retain_on_delete=True) in prod so no update deletes data.",
        )


# Types that take tags but whose inputs may omit them (so the rule still asks); anything else with a `tags`
# input counts as taggable too.
TAGGABLE = {
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/eip:Eip",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:ec2/flowLog:FlowLog",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:kms/key:Key",
    "aws:rds/cluster:Cluster",
    "aws:rds/clusterInstance:ClusterInstance",
    "aws:dynamodb/table:Table",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:opensearch/domain:Domain",
    "aws:sqs/queue:Queue",
    "aws:sns/topic:Topic",
    "aws:secretsmanager/secret:Secret",
    "aws:iam/role:Role",
    "aws:iam/policy:Policy",
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:ecr/repository:Repository",
    "aws:cloudfront/distribution:Distribution",
    "aws:wafv2/webAcl:WebAcl",
    "aws:acm/certificate:Certificate",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:lb/loadBalancer:LoadBalancer",
}


def _required_tags(stack: Stack, ctx: Context) -> None:
    required = [str(t) for t in ctx.config.get("requiredTags") or []]
    stack_defaults = stack.aws_default_tags()
    for res in stack.resources:
        if not res.type.startswith("aws:"):
            continue
        if res.type not in TAGGABLE and "tags" not in res.props:
            continue
        own = parse_json(res.p("tags"))
        if own is UNKNOWN:
            continue
        defaults = (
            provider_default_tags(res.provider_props) if res.provider_props is not None else stack_defaults
        )
        present = set(defaults) | (set(own) if isinstance(own, dict) else set())
        missing = [t for t in required if t not in present]
        if missing:
            ctx.violation(
                res,
                "tags",
                Raw(f"missing {missing} (has {sorted(present)})"),
                "set Project/Environment/ManagedBy/CostCenter through the provider's default tags and Name/Component "
                "on the resource.",
            )


def _instance_kinds(res: Res) -> list[tuple[str, object]]:
    t = res.type
    if t in (
        AWS_NODE_GROUP,
        EKS_MNG,
        EKS_CLUSTER,
        LAUNCH_TEMPLATE,
        "aws:ec2/instance:Instance",
        *EKS_SELF_MANAGED,
    ):
        return list(instance_types_of(res))
    if t in ("aws:rds/clusterInstance:ClusterInstance", "aws:rds/instance:Instance"):
        return [("instanceClass", res.p("instanceClass"))]
    if t == "aws:rds/cluster:Cluster":
        return (
            [("dbClusterInstanceClass", res.p("dbClusterInstanceClass"))]
            if res.p("dbClusterInstanceClass")
            else []
        )
    if t in ("aws:elasticache/replicationGroup:ReplicationGroup", "aws:elasticache/cluster:Cluster"):
        return [("nodeType", res.p("nodeType"))]
    if t == "aws:opensearch/domain:Domain":
        out: list[tuple[str, object]] = [
            ("clusterConfig.instanceType", first(res.props, "clusterConfig", "instanceType"))
        ]
        if first(res.props, "clusterConfig", "dedicatedMasterEnabled") is True:
            out.append(
                (
                    "clusterConfig.dedicatedMasterType",
                    first(res.props, "clusterConfig", "dedicatedMasterType"),
                )
            )
        return out
    return []


def _allowed_instance_types(res: Res, ctx: Context) -> None:
    table = ctx.config.get("allowedInstanceTypes") or {}
    allowed = [str(v) for v in as_list(table.get(ctx.env))]
    for prop, value in _instance_kinds(res):
        if value is UNKNOWN or value is None:
            continue
        if not isinstance(value, str) or not matches_any(value, allowed):
            ctx.violation(
                res,
                prop,
                value,
                f"use a type allowed in {ctx.env} ({', '.join(allowed[:6])}...), or change the pack's "
                "allowedInstanceTypes config.",
            )


POLICIES = [
    resource_policy(
        "stateful-protected",
        "In prod, data stores, keys and data buckets carry `protect` in their resource options.",
        ADVISORY,
        [],
        STATEFUL,
        _stateful_protected,
    ),
    stack_policy(
        "required-tags",
        "Every taggable AWS resource has Project, Environment, ManagedBy and Component (provider default tags count).",
        ADVISORY,
        [],
        _required_tags,
    ),
    resource_policy(
        "allowed-instance-types",
        "Node groups and DB/cache/search instances use the instance types configured for the environment.",
        MANDATORY,
        [],
        (
            AWS_NODE_GROUP,
            EKS_MNG,
            EKS_CLUSTER,
            *EKS_SELF_MANAGED,
            LAUNCH_TEMPLATE,
            "aws:ec2/instance:Instance",
            "aws:rds/clusterInstance:ClusterInstance",
            "aws:rds/instance:Instance",
            "aws:rds/cluster:Cluster",
            "aws:elasticache/replicationGroup:ReplicationGroup",
            "aws:elasticache/cluster:Cluster",
            "aws:opensearch/domain:Domain",
        ),
        _allowed_instance_types,
    ),
]
