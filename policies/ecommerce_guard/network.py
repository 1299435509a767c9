"""Network rules: security groups, the default security group, VPC flow logs and private subnets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .common import (
    ADVISORY,
    MANDATORY,
    SUBNET,
    UNKNOWN,
    Context,
    Raw,
    Res,
    Stack,
    as_list,
    is_set,
    is_true,
    num,
    public_subnets,
    stack_policy,
)

SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
LB = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
WORLD = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class Ingress:
    """One ingress permission, wherever it is declared."""

    owner: Res
    prop: str
    group: Res | None
    from_port: float | None
    to_port: float | None
    protocol: str
    sources: list[str]
    description: Any


def _ports(rule: dict[str, Any], lo: str, hi: str) -> tuple[float | None, float | None]:
    return num(rule.get(lo)), num(rule.get(hi))


def ingress_rules(stack: Stack) -> Iterator[Ingress]:
    groups = stack.of_type(SG)
    for sg in groups:
        for index, rule in enumerate(as_list(sg.p("ingress"))):
            if not isinstance(rule, dict):
                continue
            lo, hi = _ports(rule, "fromPort", "toPort")
            sources = [*as_list(rule.get("cidrBlocks")), *as_list(rule.get("ipv6CidrBlocks"))]
            yield Ingress(
                sg,
                f"ingress[{index}]",
                sg,
                lo,
                hi,
                str(rule.get("protocol", "")),
                sources,
                rule.get("description"),
            )
    for rule_res in stack.of_type(SG_RULE):
        if rule_res.p("type") != "ingress":
            continue
        lo, hi = _ports(rule_res.props, "fromPort", "toPort")
        sources = [*as_list(rule_res.p("cidrBlocks")), *as_list(rule_res.p("ipv6CidrBlocks"))]
        yield Ingress(
            rule_res,
            "cidrBlocks",
            _group_of(stack, rule_res, "securityGroupId"),
            lo,
            hi,
            str(rule_res.p("protocol")),
            sources,
            rule_res.p("description"),
        )
    for rule_res in stack.of_type(SG_INGRESS):
        lo, hi = _ports(rule_res.props, "fromPort", "toPort")
        sources = [s for s in (rule_res.p("cidrIpv4"), rule_res.p("cidrIpv6")) if s]
        yield Ingress(
            rule_res,
            "cidrIpv4",
            _group_of(stack, rule_res, "securityGroupId"),
            lo,
            hi,
            str(rule_res.p("ipProtocol")),
            sources,
            rule_res.p("description"),
        )


def _group_of(stack: Stack, rule: Res, prop: str) -> Res | None:
    for sg in stack.of_type(SG):
        if rule.depends_on(sg, prop) or (sg.p("id") and rule.p(prop) == sg.p("id")):
            return sg
    return None


def _alb_groups(stack: Stack, ctx: Context) -> set[str]:
    """Security groups of load balancers: used by an aws.lb.LoadBalancer, or named as the ALB's group
    (the AWS Load Balancer Controller creates the ALB itself from an Ingress)."""
    pattern = re.compile(str(ctx.config.get("albSecurityGroupPattern") or "$^"))
    urns = {sg.urn for sg in stack.of_type(SG) if pattern.search(sg.name)}
    for lb in stack.of_type(*LB):
        urns.update(lb.property_dependencies.get("securityGroups", []))
    return urns


def _covers_only(rule: Ingress, ports: list[int]) -> bool:
    if rule.protocol not in ("tcp", "6"):
        return False
    if rule.from_port is None or rule.to_port is None:
        return False
    return all(int(p) in ports for p in range(int(rule.from_port), int(rule.to_port) + 1))


def _port_text(rule: Ingress) -> str:
    if rule.protocol in ("-1", "all"):
        return "all ports"
    if rule.from_port == rule.to_port:
        return f"{rule.protocol} port {rule.from_port:g}" if rule.from_port is not None else rule.protocol
    return (
        f"{rule.protocol} ports {rule.from_port:g}-{rule.to_port:g}"
        if rule.from_port is not None and rule.to_port is not None
        else rule.protocol
    )


def _no_public_ingress(stack: Stack, ctx: Context) -> None:
    public_ports = [int(p) for p in ctx.config.get("publicPorts") or []]
    alb = _alb_groups(stack, ctx)
    for rule in ingress_rules(stack):
        open_to = [s for s in rule.sources if s in WORLD]
        if not open_to:
            continue
        if rule.group is not None and rule.group.urn in alb and _covers_only(rule, public_ports):
            continue
        where = (
            f" (security group {rule.group.name!r})"
            if rule.group is not None and rule.group is not rule.owner
            else ""
        )
        ctx.violation(
            rule.owner,
            rule.prop,
            Raw(f"{open_to} on {_port_text(rule)}{where}"),
            "allow only the security groups or CIDRs that need this port; only the load balancer's group may "
            f"open {public_ports} to the world (better: CloudFront's origin-facing prefix list).",
        )


def _hygiene(stack: Stack, ctx: Context) -> None:
    for sg in stack.of_type(SG):
        for kind in ("ingress", "egress"):
            for index, rule in enumerate(as_list(sg.p(kind))):
                if isinstance(rule, dict) and not is_set(rule.get("description")):
                    ctx.violation(sg, f"{kind}[{index}].description", None, "describe why the rule exists.")
        if sg.p("ingress") or sg.p("egress"):
            standalone = [
                r.name
                for r in stack.of_type(SG_RULE, SG_INGRESS, SG_EGRESS)
                if r.depends_on(sg, "securityGroupId")
                or (sg.p("id") and r.p("securityGroupId") == sg.p("id"))
            ]
            if standalone:
                ctx.violation(
                    sg,
                    "ingress/egress",
                    Raw(f"inline rules mixed with standalone rules {standalone}"),
                    "manage a group's rules either inline or as standalone resources, never both (they overwrite each other).",
                )
    for rule in stack.of_type(SG_RULE, SG_INGRESS, SG_EGRESS):
        if not is_set(rule.p("description")):
            ctx.violation(rule, "description", None, "describe why the rule exists.")


def _default_sg_closed(stack: Stack, ctx: Context) -> None:
    defaults = stack.of_type(DEFAULT_SG)
    for sg in defaults:
        for kind in ("ingress", "egress"):
            rules = sg.p(kind)
            if rules is not UNKNOWN and as_list(rules):
                ctx.violation(
                    sg, kind, rules, "leave the default security group without rules (nothing may use it)."
                )
    for vpc in stack.of_type(VPC):
        adopted = [
            sg
            for sg in defaults
            if sg.depends_on(vpc, "vpcId") or (vpc.p("id") and sg.p("vpcId") == vpc.p("id"))
        ]
        if not adopted:
            ctx.violation(
                vpc,
                "default security group",
                Raw("not managed (AWS leaves it open to itself and all egress)"),
                "adopt it with an aws.ec2.DefaultSecurityGroup(vpc_id=...) that has no ingress or egress rules.",
            )


def _flow_logs(stack: Stack, ctx: Context) -> None:
    logs = stack.of_type(FLOW_LOG)
    for vpc in stack.of_type(VPC):
        mine = [
            f for f in logs if f.depends_on(vpc, "vpcId") or (vpc.p("id") and f.p("vpcId") == vpc.p("id"))
        ]
        if not mine:
            ctx.violation(
                vpc,
                "flow logs",
                Raw("none (no aws.ec2.FlowLog refers to this VPC)"),
                "add a FlowLog with vpcId, trafficType 'ALL' and a log destination.",
            )
        for flow in mine:
            traffic = flow.p("trafficType")
            if traffic not in (UNKNOWN, "ALL", "REJECT"):
                ctx.violation(flow, "trafficType", traffic, "log 'ALL' (or at least 'REJECT') traffic.")
    public = public_subnets(stack)
    for subnet in stack.of_type(SUBNET):
        private_by_name = bool(re.search(r"private", subnet.name))
        if (subnet.urn not in public or private_by_name) and is_true(subnet.p("mapPublicIpOnLaunch")):
            ctx.violation(
                subnet,
                "mapPublicIpOnLaunch",
                subnet.p("mapPublicIpOnLaunch"),
                "private subnets give no public IPs: set mapPublicIpOnLaunch false.",
            )


POLICIES = [
    stack_policy(
        "sg-no-public-ingress",
        "No security group ingress from 0.0.0.0/0 or ::/0, except 80/443 on the load balancer's group.",
        MANDATORY,
        ["EC2.18", "EC2.19"],
        _no_public_ingress,
    ),
    stack_policy(
        "sg-hygiene",
        "Every security group rule is described; inline and standalone rules are not mixed on one group.",
        ADVISORY,
        ["awsguard:security-group-no-rule-management-conflicts"],
        _hygiene,
        remediation="Add a description to each rule; move a group's rules all inline or all standalone.",
    ),
    stack_policy(
        "default-sg-closed",
        "Every VPC's default security group is adopted and has no rules.",
        MANDATORY,
        ["EC2.2"],
        _default_sg_closed,
    ),
    stack_policy(
        "vpc-flow-logs",
        "Every VPC has a flow log; private subnets give no public IPs.",
        MANDATORY,
        ["EC2.6", "EC2.15"],
        _flow_logs,
    ),
]
