"""EKS rules (both the aws:eks resources of a real preview and the eks:index component arguments the offline
engine sees) and network rules."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policies.cases import Case, check
from tests.policies.helpers import UNKNOWN, R, provider

P = provider("prod")
KEY = "arn:aws:kms:us-east-2:123456789012:key/1234abcd"
LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


def eks_component(**changes: Any) -> list[dict[str, Any]]:
    inputs: dict[str, Any] = {
        "version": "1.33",
        "encryptionConfigKeyArn": KEY,
        "endpointPrivateAccess": True,
        "endpointPublicAccess": False,
        "enabledClusterLogTypes": LOGS,
        "skipDefaultNodeGroup": True,
    }
    inputs.update(changes)
    return [
        P,
        R("eks:index:Cluster", "cluster", {k: v for k, v in inputs.items() if v is not None}, custom=False),
    ]


def aws_cluster(**changes: Any) -> list[dict[str, Any]]:
    inputs: dict[str, Any] = {
        "version": "1.33",
        "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY}},
        "vpcConfig": {
            "endpointPrivateAccess": True,
            "endpointPublicAccess": False,
            "subnetIds": ["subnet-1"],
        },
        "enabledClusterLogTypes": LOGS,
    }
    inputs.update(changes)
    return [
        P,
        R(
            "aws:eks/cluster:Cluster",
            "cluster-eksCluster",
            {k: v for k, v in inputs.items() if v is not None},
        ),
    ]


def template(**changes: Any) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "metadataOptions": {
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
            "httpEndpoint": "enabled",
        },
        "blockDeviceMappings": [
            {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": KEY, "volumeSize": 20}}
        ],
    }
    inputs.update(changes)
    return R(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "nodes-lt",
        {k: v for k, v in inputs.items() if v is not None},
    )


def mng(type_: str = "eks:index:ManagedNodeGroup", **changes: Any) -> list[dict[str, Any]]:
    inputs: dict[str, Any] = {
        "instanceTypes": ["t3.medium"],
        "launchTemplate": {"id": "lt-1", "version": "$Latest"},
    }
    inputs.update(changes)
    return [
        P,
        template(),
        R(
            type_,
            "nodes",
            {k: v for k, v in inputs.items() if v is not None},
            custom=type_.startswith("aws:"),
        ),
    ]


def sg(name: str, **inputs: Any) -> dict[str, Any]:
    return R("aws:ec2/securityGroup:SecurityGroup", name, {"description": name, **inputs})


def ingress_rule(
    group: dict[str, Any], name: str, port: int, cidr: str | None = "0.0.0.0/0", **extra: Any
) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "ipProtocol": "tcp",
        "fromPort": port,
        "toPort": port,
        "description": f"{name}",
        "securityGroupId": "sg-x",
        **extra,
    }
    if cidr:
        inputs["cidrIpv4"] = cidr
    return R(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        name,
        inputs,
        deps={"securityGroupId": [group]},
    )


ALB_SG = sg("ecommerce-vpc-alb-sg")
DB_SG = sg("ecommerce-vpc-database-sg")
VPC = R("aws:ec2/vpc:Vpc", "ecommerce-vpc", {"cidrBlock": "10.0.0.0/16"})


def vpc_set(
    flow: bool = True, default_sg: dict[str, Any] | bool | None = True, **subnet: Any
) -> list[dict[str, Any]]:
    out = [P, VPC]
    if flow:
        out.append(
            R(
                "aws:ec2/flowLog:FlowLog",
                "flow",
                {"vpcId": "vpc-1", "trafficType": "ALL", "logDestination": "arn:aws:logs:x"},
                deps={"vpcId": [VPC]},
            )
        )
    if default_sg is True:
        out.append(
            R(
                "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
                "default-sg",
                {"vpcId": "vpc-1"},
                deps={"vpcId": [VPC]},
            )
        )
    elif isinstance(default_sg, dict):
        out.append(default_sg)
    out.append(
        R(
            "aws:ec2/subnet:Subnet",
            "ecommerce-vpc-private-a",
            {"cidrBlock": "10.0.10.0/24", **subnet},
            deps={"vpcId": [VPC]},
        )
    )
    return out


CASES = [
    Case(
        "eks-secrets-kms",
        "component without key",
        eks_component(encryptionConfigKeyArn=None),
        True,
        "encryptionConfigKeyArn",
    ),
    Case("eks-secrets-kms", "component with key", eks_component(), False),
    Case(
        "eks-secrets-kms",
        "aws cluster without secrets",
        aws_cluster(encryptionConfig={"resources": ["configmaps"], "provider": {"keyArn": KEY}}),
        True,
        "encryptionConfig.resources",
    ),
    Case("eks-secrets-kms", "aws cluster compliant", aws_cluster(), False),
    Case("eks-secrets-kms", "key unknown in preview", eks_component(encryptionConfigKeyArn=UNKNOWN), False),
    Case(
        "eks-secrets-kms", "missing everything", [P, R("eks:index:Cluster", "bare", {}, custom=False)], True
    ),
    Case(
        "eks-endpoint-private",
        "component defaults (public on, private off)",
        eks_component(endpointPrivateAccess=None, endpointPublicAccess=None),
        True,
        "endpointPrivateAccess",
    ),
    Case(
        "eks-endpoint-private",
        "public open to the world",
        eks_component(endpointPublicAccess=True, publicAccessCidrs=["0.0.0.0/0"]),
        True,
        "publicAccessCidrs",
    ),
    Case(
        "eks-endpoint-private",
        "public restricted to an office",
        eks_component(endpointPublicAccess=True, publicAccessCidrs=["203.0.113.0/24"]),
        False,
    ),
    Case("eks-endpoint-private", "private only", eks_component(), False),
    Case(
        "eks-endpoint-private",
        "aws cluster public",
        aws_cluster(vpcConfig={"endpointPrivateAccess": True, "endpointPublicAccess": True}),
        True,
        "vpcConfig.endpointPublicAccess",
    ),
    Case("eks-endpoint-private", "aws cluster compliant", aws_cluster(), False),
    Case("eks-endpoint-private", "missing vpcConfig", [P, R("aws:eks/cluster:Cluster", "bare", {})], True),
    Case(
        "eks-logging",
        "audit missing",
        eks_component(enabledClusterLogTypes=["api"]),
        True,
        "enabledClusterLogTypes",
    ),
    Case("eks-logging", "all five", eks_component(), False),
    Case("eks-logging", "aws cluster all five", aws_cluster(), False),
    Case("eks-logging", "missing", [P, R("aws:eks/cluster:Cluster", "bare", {})], True),
    Case("eks-version", "unsupported", eks_component(version="1.27"), True, "version"),
    Case("eks-version", "supported", eks_component(), False),
    Case("eks-version", "missing", eks_component(version=None), True, "version"),
    Case(
        "eks-version",
        "config adds a version",
        eks_component(version="1.35"),
        False,
        config={"supportedVersions": ["1.35"]},
    ),
    Case(
        "eks-nodes-hardened",
        "imdsv1 allowed",
        [P, template(metadataOptions={"httpTokens": "optional"})],
        True,
        "httpTokens",
    ),
    Case(
        "eks-nodes-hardened",
        "unencrypted root volume",
        [P, template(blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false"}}])],
        True,
        "encrypted",
    ),
    Case(
        "eks-nodes-hardened",
        "public ip on nodes",
        [P, template(networkInterfaces=[{"associatePublicIpAddress": "true"}])],
        True,
        "associatePublicIpAddress",
    ),
    Case(
        "eks-nodes-hardened",
        "ssh into managed nodes",
        mng(remoteAccess={"ec2SshKey": "ops"}),
        True,
        "remoteAccess",
    ),
    Case(
        "eks-nodes-hardened",
        "managed group without a template",
        mng(launchTemplate=None),
        True,
        "launchTemplate",
    ),
    Case(
        "eks-nodes-hardened",
        "aws node group without a template",
        mng("aws:eks/nodeGroup:NodeGroup", launchTemplate=None),
        True,
        "launchTemplate",
    ),
    Case("eks-nodes-hardened", "compliant managed group", mng(), False),
    Case(
        "eks-nodes-hardened",
        "component default node group",
        eks_component(skipDefaultNodeGroup=False),
        True,
        "nodeAssociatePublicIpAddress",
    ),
    Case(
        "eks-nodes-hardened",
        "missing template properties",
        [P, R("aws:ec2/launchTemplate:LaunchTemplate", "bare", {})],
        True,
    ),
    # network
    Case(
        "sg-no-public-ingress",
        "postgres open to the world",
        [P, DB_SG, ingress_rule(DB_SG, "db-in", 5432)],
        True,
        "cidrIpv4",
    ),
    Case(
        "sg-no-public-ingress",
        "inline ssh open",
        [
            P,
            sg(
                "bastion",
                ingress=[{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}],
            ),
        ],
        True,
        "ingress[0]",
    ),
    Case(
        "sg-no-public-ingress",
        "all traffic from ipv6 world",
        [P, sg("x", ingress=[{"protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": ["::/0"]}])],
        True,
        "ingress[0]",
    ),
    Case("sg-no-public-ingress", "alb 443 open", [P, ALB_SG, ingress_rule(ALB_SG, "alb-in-443", 443)], False),
    Case(
        "sg-no-public-ingress",
        "alb 8080 open",
        [P, ALB_SG, ingress_rule(ALB_SG, "alb-in-8080", 8080)],
        True,
        "cidrIpv4",
    ),
    Case(
        "sg-no-public-ingress",
        "db from nodes group",
        [P, DB_SG, ingress_rule(DB_SG, "db-in", 5432, cidr=None, referencedSecurityGroupId="sg-nodes")],
        False,
    ),
    Case(
        "sg-no-public-ingress",
        "missing ports",
        [
            P,
            DB_SG,
            R(
                "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                "bare",
                {"cidrIpv4": "0.0.0.0/0"},
                deps={"securityGroupId": [DB_SG]},
            ),
        ],
        True,
    ),
    Case(
        "sg-no-public-ingress",
        "config: no public ports at all",
        [P, ALB_SG, ingress_rule(ALB_SG, "alb-in-443", 443)],
        True,
        config={"publicPorts": []},
    ),
    Case(
        "sg-hygiene",
        "undescribed rule",
        [P, DB_SG, ingress_rule(DB_SG, "db-in", 5432, cidr=None, description="")],
        True,
        "description",
    ),
    Case(
        "sg-hygiene",
        "inline mixed with standalone",
        [
            P,
            sg("mixed", ingress=[{"protocol": "tcp", "fromPort": 1, "toPort": 1, "description": "x"}]),
            ingress_rule(sg("mixed"), "mixed-in", 2, cidr=None),
        ],
        True,
        "ingress/egress",
    ),
    Case(
        "sg-hygiene",
        "described standalone rules",
        [P, DB_SG, ingress_rule(DB_SG, "db-in", 5432, cidr=None)],
        False,
    ),
    Case(
        "sg-hygiene",
        "missing everything",
        [P, R("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "bare", {})],
        True,
    ),
    Case(
        "default-sg-closed",
        "default sg with rules",
        vpc_set(
            default_sg=R(
                "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
                "default-sg",
                {"vpcId": "vpc-1", "ingress": [{"protocol": "-1", "self": True}]},
                deps={"vpcId": [VPC]},
            )
        ),
        True,
        "ingress",
    ),
    Case(
        "default-sg-closed",
        "default sg not adopted",
        vpc_set(default_sg=False),
        True,
        "default security group",
    ),
    Case("default-sg-closed", "adopted and empty", vpc_set(), False),
    Case(
        "default-sg-closed",
        "missing vpcId",
        [P, VPC, R("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "d", {})],
        True,
    ),
    Case("vpc-flow-logs", "no flow log", vpc_set(flow=False), True, "flow logs"),
    Case(
        "vpc-flow-logs",
        "private subnet maps public ips",
        vpc_set(mapPublicIpOnLaunch=True),
        True,
        "mapPublicIpOnLaunch",
    ),
    Case("vpc-flow-logs", "compliant", vpc_set(), False),
    Case(
        "vpc-flow-logs", "missing flow log properties", [P, VPC, R("aws:ec2/flowLog:FlowLog", "f", {})], True
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case) -> None:
    check(case)
