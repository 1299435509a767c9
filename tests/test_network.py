"""EcommerceVpc: the seed's address plan, routing, endpoints, the four security groups and flow logs."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.config import PRIVATE_CLUSTER_ENDPOINTS, NetworkSettings
from components.network import CLOUDFRONT_ORIGIN_PREFIX_LIST, EcommerceVpc
from tests.conftest import Resources
from tools.offline.mocks import PREFIX_LISTS

SEED_SUBNETS = {
    "ecommerce-vpc-public-a": ("10.0.1.0/24", "us-east-2a"),
    "ecommerce-vpc-public-b": ("10.0.2.0/24", "us-east-2b"),
    "ecommerce-vpc-private-a": ("10.0.10.0/24", "us-east-2a"),
    "ecommerce-vpc-private-b": ("10.0.11.0/24", "us-east-2b"),
}
SG_RULE_TYPES = (
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
)


def sg_id(res: Resources, role: str) -> str:
    return str(res.named(f"ecommerce-vpc-{role}-sg")["id"])


def rules(res: Resources, direction: str, role: str) -> list[dict[str, Any]]:
    typ = SG_RULE_TYPES[0 if direction == "in" else 1]
    return [r for r in res.of_type(typ) if r["inputs"]["securityGroupId"] == sg_id(res, role)]


def shape(rule: dict[str, Any], res: Resources) -> tuple[Any, ...]:
    """(protocol, from, to, peer) with the peer named by role: 'sg:nodes', 'pl:cloudfront', or a CIDR."""
    i = rule["inputs"]
    if "referencedSecurityGroupId" in i:
        peer = "sg:" + res.by_id(i["referencedSecurityGroupId"])["name"].removeprefix("ecommerce-vpc-")[:-3]
    elif "prefixListId" in i:
        peer = "pl:cloudfront" if i["prefixListId"] in PREFIX_LISTS.values() else "pl:" + gateway_of(res, i)
    else:
        peer = i.get("cidrIpv4") or i.get("cidrIpv6")
    return (i["ipProtocol"], i.get("fromPort"), i.get("toPort"), peer)


def gateway_of(res: Resources, rule_inputs: dict[str, Any]) -> str:
    for ep in res.of_type("aws:ec2/vpcEndpoint:VpcEndpoint"):
        if ep["outputs"].get("prefixListId") == rule_inputs["prefixListId"]:
            return str(ep["inputs"]["serviceName"]).rsplit(".", 1)[-1]
    raise AssertionError(f"prefix list {rule_inputs['prefixListId']} belongs to no gateway endpoint")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_vpc_is_the_seeds(resources: Callable[[str], Resources], stack: str) -> None:
    res = resources(stack).primary()
    (vpc,) = res.of_type("aws:ec2/vpc:Vpc")
    i = vpc["inputs"]
    assert (i["cidrBlock"], i["enableDnsSupport"], i["enableDnsHostnames"]) == ("10.0.0.0/16", True, True), (
        vpc["urn"]
    )
    assert i["tags"]["Name"] == "ecommerce-vpc", vpc["urn"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_four_subnets_with_seed_cidrs_and_azs(resources: Callable[[str], Resources], stack: str) -> None:
    res = resources(stack).primary()
    subnets = res.of_type("aws:ec2/subnet:Subnet")
    assert {s["name"] for s in subnets} == set(SEED_SUBNETS), [s["urn"] for s in subnets]
    vpc_id = res.of_type("aws:ec2/vpc:Vpc")[0]["id"]
    for s in subnets:
        i = s["inputs"]
        assert (i["cidrBlock"], i["availabilityZone"]) == SEED_SUBNETS[s["name"]], s["urn"]
        assert i["vpcId"] == vpc_id, s["urn"]
        assert i["mapPublicIpOnLaunch"] is False, f"{s['urn']} must not hand out public IPs"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_routing(resources: Callable[[str], Resources], stack: str) -> None:
    res = resources(stack).primary()
    igw = res.of_type("aws:ec2/internetGateway:InternetGateway")[0]
    routes = res.of_type("aws:ec2/route:Route")
    assocs = {a["inputs"]["subnetId"]: a["inputs"]["routeTableId"]
              for a in res.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")}  # fmt: skip
    public_rt = res.named("ecommerce-vpc-public-rt")
    nat_ids = {n["id"] for n in res.of_type("aws:ec2/natGateway:NatGateway")}
    for name in SEED_SUBNETS:
        subnet = res.named(name)
        rt_id = assocs.get(subnet["id"])
        assert rt_id, f"{subnet['urn']} has no route table association"
        defaults = [r for r in routes if r["inputs"]["routeTableId"] == rt_id
                    and r["inputs"]["destinationCidrBlock"] == "0.0.0.0/0"]  # fmt: skip
        if name.startswith("ecommerce-vpc-public"):
            assert rt_id == public_rt["id"], subnet["urn"]
            assert [d["inputs"].get("gatewayId") for d in defaults] == [igw["id"]], subnet["urn"]
        else:
            assert rt_id != public_rt["id"], f"{subnet['urn']} must have its own private route table"
            assert all("gatewayId" not in d["inputs"] for d in defaults), f"{subnet['urn']} routes to the IGW"
            assert [d["inputs"]["natGatewayId"] in nat_ids for d in defaults] == [True], subnet["urn"]


def test_nat_per_mode(resources: Callable[[str], Resources]) -> None:
    dev_nats = resources("dev").primary().of_type("aws:ec2/natGateway:NatGateway")
    prod_nats = resources("prod").primary().of_type("aws:ec2/natGateway:NatGateway")
    assert [n["name"] for n in dev_nats] == ["ecommerce-vpc-nat-a"], [n["urn"] for n in dev_nats]
    assert sorted(n["name"] for n in prod_nats) == ["ecommerce-vpc-nat-a", "ecommerce-vpc-nat-b"]
    prod = resources("prod").primary()
    for nat in prod_nats:
        subnet = prod.by_id(nat["inputs"]["subnetId"])
        assert subnet["name"].startswith("ecommerce-vpc-public-"), f"{nat['urn']} must sit in a public subnet"
        assert subnet["name"][-1] == nat["name"][-1], f"{nat['urn']} is in the wrong AZ's subnet"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_gateway_endpoints_on_private_route_tables(resources: Callable[[str], Resources], stack: str) -> None:
    res = resources(stack).primary()
    private_rts = {res.named(f"ecommerce-vpc-private-rt-{s}")["id"] for s in "ab"}
    for service in ("s3", "dynamodb"):
        ep = res.named(f"ecommerce-vpc-{service}")
        i = ep["inputs"]
        assert i["vpcEndpointType"] == "Gateway" and i["serviceName"] == f"com.amazonaws.us-east-2.{service}"
        assert set(i["routeTableIds"]) == private_rts, (
            f"{ep['urn']} must be on both private route tables only"
        )
        policy = json.loads(i["policy"])
        assert policy["Statement"][0]["Condition"] == {
            "StringEquals": {"aws:PrincipalAccount": "123456789012"}
        }, ep["urn"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_interface_endpoints(resources: Callable[[str], Resources], stack: str) -> None:
    res = resources(stack).primary()
    endpoints = [e for e in res.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
                 if e["inputs"]["vpcEndpointType"] == "Interface"]  # fmt: skip
    services = {str(e["inputs"]["serviceName"]).removeprefix("com.amazonaws.us-east-2.") for e in endpoints}
    if stack == "prod":
        assert set(PRIVATE_CLUSTER_ENDPOINTS) <= services, sorted(set(PRIVATE_CLUSTER_ENDPOINTS) - services)
    else:
        # dev has a NAT: only the database bootstrap Job needs endpoints (its NetworkPolicy keeps HTTPS private).
        assert services == {"sts", "secretsmanager"}, sorted(services)
    private = [res.named(f"ecommerce-vpc-private-{s}")["id"] for s in "ab"]
    expected_subnets = private[:1] if stack == "dev" else private
    for e in endpoints:
        i = e["inputs"]
        assert i["privateDnsEnabled"] is True, e["urn"]
        assert i["securityGroupIds"] == [sg_id(res, "endpoints")], (
            f"{e['urn']} must use the endpoints SG only"
        )
        assert i["subnetIds"] == expected_subnets, f"{e['urn']} subnets {i['subnetIds']}"


def seed_rules(res: Resources) -> dict[tuple[str, str], set[tuple[Any, ...]]]:
    return {(d, role): {shape(r, res) for r in rules(res, d, role)}
            for d in ("in", "out") for role in ("alb", "nodes", "database", "endpoints")}  # fmt: skip


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_security_groups_are_exactly_the_seeds(resources: Callable[[str], Resources], stack: str) -> None:
    res = resources(stack).primary()
    got = seed_rules(res)
    # CloudFront fronts the ALB in both stacks: one origin port from its prefix list (443 with prod's domain and the
    # ALB's certificate, 80 in dev without a domain).
    port = {"dev": 80, "prod": 443}[stack]
    expected = {
        ("in", "alb"): {("tcp", port, port, "pl:cloudfront")},
        ("out", "alb"): {("tcp", 8080, 8089, "sg:nodes")},
        ("in", "nodes"): {("tcp", 8080, 8089, "sg:alb"), ("-1", None, None, "sg:nodes")},
        ("out", "nodes"): {("-1", None, None, "10.0.0.0/16"), ("tcp", 443, 443, "pl:s3"),
                           ("tcp", 443, 443, "pl:dynamodb"), ("tcp", 443, 443, "0.0.0.0/0")},
        ("in", "database"): {("tcp", 5432, 5432, "sg:nodes"), ("tcp", 6379, 6379, "sg:nodes"),
                             ("tcp", 443, 443, "sg:nodes")},
        ("out", "database"): set(),
        # The CI runners (delivery.runners: codebuild) call STS/EKS/KMS through the same endpoints.
        ("in", "endpoints"): {("tcp", 443, 443, "sg:nodes"), ("tcp", 443, 443, "sg:ecommerce-ci-runner")},
        ("out", "endpoints"): set(),
    }  # fmt: skip
    assert got == expected
    for typ in SG_RULE_TYPES:
        for r in res.of_type(typ):
            assert r["inputs"].get("description"), f"{r['urn']} has no description"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_group_opens_a_data_port_to_the_world(resources: Callable[[str], Resources], stack: str) -> None:
    res = resources(stack).primary()
    for r in res.of_type(SG_RULE_TYPES[0]):
        i = r["inputs"]
        if i.get("cidrIpv4") in ("0.0.0.0/0",) or i.get("cidrIpv6") == "::/0":
            assert (i["fromPort"], i["toPort"]) in ((80, 80), (443, 443)), r["urn"]
            assert i["securityGroupId"] == sg_id(res, "alb"), f"{r['urn']} opens a non-ALB group to the world"


def test_at_most_one_rule_per_group_references_the_cloudfront_list(
    resources: Callable[[str], Resources],
) -> None:
    """AWS fact: the CloudFront origin-facing list weighs ~55 entries against a group's 60-rule quota."""
    for stack in ("dev", "prod"):
        res = resources(stack).primary()
        refs = [
            r
            for r in res.of_type(SG_RULE_TYPES[0])
            if r["inputs"].get("prefixListId") in PREFIX_LISTS.values()
        ]
        per_group: dict[str, int] = {}
        for r in refs:
            per_group[r["inputs"]["securityGroupId"]] = per_group.get(r["inputs"]["securityGroupId"], 0) + 1
        assert all(n == 1 for n in per_group.values()), [r["urn"] for r in refs]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_default_security_group_is_closed(resources: Callable[[str], Resources], stack: str) -> None:
    (default,) = resources(stack).primary().of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert not default["inputs"].get("ingress") and not default["inputs"].get("egress"), default["urn"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_flow_logs_encrypted_and_retention_limited(resources: Callable[[str], Resources], stack: str) -> None:
    res = resources(stack).primary()
    (flow,) = res.of_type("aws:ec2/flowLog:FlowLog")
    group = res.named("ecommerce-vpc-flow-logs", "aws:cloudwatch/logGroup:LogGroup")
    key = res.named("ecommerce-vpc-flow-logs-key", "aws:kms/key:Key")
    role = res.named("ecommerce-vpc-flow-logs", "aws:iam/role:Role")
    assert flow["inputs"]["vpcId"] == res.of_type("aws:ec2/vpc:Vpc")[0]["id"], flow["urn"]
    assert flow["inputs"]["trafficType"] == "ALL", flow["urn"]
    assert flow["inputs"]["logDestination"] == group["outputs"]["arn"], flow["urn"]
    assert group["inputs"]["kmsKeyId"] == key["outputs"]["arn"], group["urn"]
    assert group["inputs"]["retentionInDays"] == {"dev": 30, "prod": 365}[stack], group["urn"]
    assert key["inputs"]["enableKeyRotation"] is True, key["urn"]
    key_policy = json.loads(key["inputs"]["policy"])
    logs = next(s for s in key_policy["Statement"] if s.get("Sid") == "CloudWatchLogsUsesKeyForThisLogGroup")
    assert logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] == group["outputs"]["arn"], (
        key["urn"]
    )
    write = json.loads(
        res.named("ecommerce-vpc-flow-logs", "aws:iam/rolePolicy:RolePolicy")["inputs"]["policy"]
    )
    assert set(write["Statement"][0]["Resource"]) == {group["outputs"]["arn"], group["outputs"]["arn"] + ":*"}
    trust = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}, role["urn"]
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}, role["urn"]


def _vpc(build: Callable[..., Resources], **changes: Any) -> Resources:
    network = replace(NetworkSettings(), **changes)

    def program() -> None:
        provider = aws.Provider("aws", region="us-east-2")
        EcommerceVpc(
            "ecommerce-vpc", network, environment="dev", opts=pulumi.ResourceOptions(provider=provider)
        )

    return build(program)


def test_internet_ingress_opens_the_seeds_80_and_443(build: Callable[..., Resources]) -> None:
    res = _vpc(build, alb_ingress="internet")
    got = {shape(r, res) for r in rules(res, "in", "alb")}
    assert got == {("tcp", 443, 443, "0.0.0.0/0"), ("tcp", 80, 80, "0.0.0.0/0")}


def test_cloudfront_ingress_with_a_domain_uses_443(build: Callable[..., Resources]) -> None:
    network = NetworkSettings()

    def program() -> None:
        provider = aws.Provider("aws", region="us-east-2")
        EcommerceVpc("ecommerce-vpc", network, environment="prod", alb_origin_port=443,
                     opts=pulumi.ResourceOptions(provider=provider))  # fmt: skip

    res = build(program)
    assert {shape(r, res) for r in rules(res, "in", "alb")} == {("tcp", 443, 443, "pl:cloudfront")}
    assert CLOUDFRONT_ORIGIN_PREFIX_LIST in PREFIX_LISTS


def test_no_egress_means_no_nat_and_no_internet_rule(build: Callable[..., Resources]) -> None:
    res = _vpc(build, egress="none")
    assert res.of_type("aws:ec2/natGateway:NatGateway") == []
    assert res.of_type("aws:ec2/eip:Eip") == []
    assert all(r["inputs"].get("cidrIpv4") != "0.0.0.0/0" for r in rules(res, "out", "nodes"))
    defaults = [
        r for r in res.of_type("aws:ec2/route:Route") if r["name"].startswith("ecommerce-vpc-private")
    ]
    assert defaults == [], [r["urn"] for r in defaults]


def test_children_are_parented_and_prefixed(build: Callable[..., Resources]) -> None:
    res = _vpc(build)
    component = res.of_type("ecommerce:network:EcommerceVpc")[0]
    for r in res:
        if r["custom"] and not r["type"].startswith("pulumi:"):
            assert r["parent"] == component["urn"], f"{r['urn']} is not a child of the component"
            assert r["name"].startswith("ecommerce-vpc"), f"{r['urn']} is not named from the component"


# -- endpoint policies: AWS facts mocks cannot catch ---------------------------------------------------------------


def _policy(res: Resources, service: str) -> list[dict[str, Any]]:
    ep = next(e for e in res.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")
              if e["inputs"]["serviceName"] == f"com.amazonaws.us-east-2.{service}")  # fmt: skip
    return list(json.loads(ep["inputs"]["policy"])["Statement"])


def _principal_free(statements: list[dict[str, Any]], action: str, resource: str) -> list[dict[str, Any]]:
    """Allow statements that let `action` on `resource` through with no condition on the caller's principal."""
    import fnmatch

    def matches(value: Any, wanted: str) -> bool:
        values = value if isinstance(value, list) else [value]
        return any(fnmatch.fnmatchcase(wanted, v) for v in values)

    return [s for s in statements if s["Effect"] == "Allow" and matches(s["Action"], action)
            and matches(s["Resource"], resource) and "Condition" not in s]  # fmt: skip


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_sts_endpoint_lets_irsa_web_identity_through(
    resources: Callable[[str], Resources], stack: str
) -> None:
    """AssumeRoleWithWebIdentity (IRSA) is unsigned: its request has no aws:PrincipalAccount, so an STS endpoint
    policy that requires one denies every pod's credentials (IAM User Guide, STS VPC endpoint policies)."""
    statements = _policy(resources(stack).primary(), "sts")
    role = "arn:aws:iam::123456789012:role/ecommerce-dev-svc-cart"
    assert _principal_free(statements, "sts:AssumeRoleWithWebIdentity", role), statements
    assert not _principal_free(
        statements, "sts:AssumeRoleWithWebIdentity", "arn:aws:iam::999999999999:role/x"
    ), "web identity must stay limited to this account's roles"
    assert not _principal_free(statements, "sts:AssumeRole", role), (
        "signed STS calls keep the account condition"
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_s3_gateway_endpoint_lets_ecr_layers_and_al2023_repos_through(
    resources: Callable[[str], Resources], stack: str
) -> None:
    """ECR serves image layers from prod-<region>-starport-layer-bucket through URLs ECR signs, not our account (ECR
    User Guide, minimum S3 permissions); the gateway endpoint carries every regional S3 request from the private
    subnets, NAT or not — without this statement every pod ends in ImagePullBackOff."""
    statements = _policy(resources(stack).primary(), "s3")
    layer = "arn:aws:s3:::prod-us-east-2-starport-layer-bucket/sha256/abc"
    assert _principal_free(statements, "s3:GetObject", layer), statements
    assert _principal_free(
        statements, "s3:GetObject", "arn:aws:s3:::al2023-repos-us-east-2-de612dc2/core/x.rpm"
    )
    assert not _principal_free(statements, "s3:PutObject", layer), "AWS-owned buckets are read-only"
    assert not _principal_free(statements, "s3:GetObject", "arn:aws:s3:::someone-elses-bucket/x"), (
        "any other bucket stays limited to this account's principals"
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_other_endpoints_keep_the_account_condition(
    resources: Callable[[str], Resources], stack: str
) -> None:
    res = resources(stack).primary()
    for e in res.of_type("aws:ec2/vpcEndpoint:VpcEndpoint"):
        service = str(e["inputs"]["serviceName"]).rsplit(".", 1)[-1]
        if service in ("sts", "s3") or not e["inputs"].get("policy"):
            continue
        statements = json.loads(e["inputs"]["policy"])["Statement"]
        assert all(s.get("Condition") == {"StringEquals": {"aws:PrincipalAccount": "123456789012"}}
                   for s in statements), e["urn"]  # fmt: skip
