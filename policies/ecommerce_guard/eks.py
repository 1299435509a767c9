"""EKS rules. Each checks both shapes of a cluster:

- `aws:eks/cluster:Cluster` / `aws:eks/nodeGroup:NodeGroup`: what a real `pulumi preview` shows as children of
  pulumi-eks's components (and what a program using aws.eks directly creates);
- `eks:index:Cluster` / `eks:index:ManagedNodeGroup` / `eks:index:NodeGroupV2`: the remote components'
  arguments, which is all the offline engine (and the mock runtime) sees: no children there.

pulumi-eks's defaults are not production defaults (public endpoint on, private off, no logging, no encryption),
so a missing argument is judged by the default it stands for.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from .common import (
    ADVISORY,
    MANDATORY,
    UNKNOWN,
    Context,
    Raw,
    Res,
    as_list,
    first,
    get,
    is_false,
    is_set,
    is_true,
    resource_policy,
)

AWS_CLUSTER = "aws:eks/cluster:Cluster"
EKS_CLUSTER = "eks:index:Cluster"
AWS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
EKS_MNG = "eks:index:ManagedNodeGroup"
EKS_SELF_MANAGED = ("eks:index:NodeGroup", "eks:index:NodeGroupV2")
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
CLUSTERS = (AWS_CLUSTER, EKS_CLUSTER)

LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


def _secrets_kms(res: Res, ctx: Context) -> None:
    if res.type == EKS_CLUSTER:
        key = res.p("encryptionConfigKeyArn")
        if not is_set(key):
            ctx.violation(
                res,
                "encryptionConfigKeyArn",
                key,
                "pass encryption_config_key_arn (a customer-managed KMS key) so Kubernetes secrets are "
                "envelope-encrypted.",
            )
        return
    config = first(res.props, "encryptionConfig")
    if config is UNKNOWN:
        return
    resources = get(config, "resources")
    key = first(config, "provider", "keyArn")
    if resources is not UNKNOWN and "secrets" not in as_list(resources):
        ctx.violation(
            res, "encryptionConfig.resources", resources, "include 'secrets' in encryptionConfig.resources."
        )
    elif not is_set(key):
        ctx.violation(res, "encryptionConfig.provider.keyArn", key, "set a customer-managed KMS key ARN.")


def _endpoint_private(res: Res, ctx: Context) -> None:
    if res.type == EKS_CLUSTER:
        private, public, cidrs = (
            res.p("endpointPrivateAccess"),
            res.p("endpointPublicAccess"),
            res.p("publicAccessCidrs"),
        )
        prefix = ""
    else:
        vpc = first(res.props, "vpcConfig") or {}
        if vpc is UNKNOWN:
            return
        private, public, cidrs = (
            get(vpc, "endpointPrivateAccess"),
            get(vpc, "endpointPublicAccess"),
            get(vpc, "publicAccessCidrs"),
        )
        prefix = "vpcConfig."
    if private is not UNKNOWN and not is_true(private):
        ctx.violation(
            res,
            f"{prefix}endpointPrivateAccess",
            private if private is not None else Raw("not set (default false)"),
            "set endpointPrivateAccess true: nodes in private subnets reach the API server through it.",
        )
    if public is UNKNOWN or is_false(public):
        return
    cidr_list = [c for c in as_list(cidrs) if c is not UNKNOWN]
    if cidrs is UNKNOWN:
        return
    if not cidr_list or any(c in ("0.0.0.0/0", "::/0") for c in cidr_list):
        ctx.violation(
            res,
            f"{prefix}endpointPublicAccess/publicAccessCidrs",
            Raw(
                f"public endpoint on ({'default ' if public is None else ''}true) open to {cidr_list or ['0.0.0.0/0']}"
            ),
            "turn the public endpoint off, or restrict publicAccessCidrs to the operators' and CI's ranges.",
        )


def _logging(res: Res, ctx: Context) -> None:
    enabled = res.p("enabledClusterLogTypes")
    if enabled is UNKNOWN:
        return
    missing = [t for t in LOG_TYPES if t not in as_list(enabled)]
    if missing:
        ctx.violation(
            res,
            "enabledClusterLogTypes",
            enabled,
            f"enable all five control-plane log types (missing {missing}).",
        )


def _version(res: Res, ctx: Context) -> None:
    version = res.p("version")
    supported = [str(v) for v in ctx.config.get("supportedVersions") or []]
    if version is UNKNOWN:
        return
    if version is None:
        ctx.violation(
            res,
            "version",
            None,
            f"pin the Kubernetes version to one of {supported} (upgrades are deliberate).",
        )
    elif str(version) not in supported:
        ctx.violation(res, "version", version, f"use a supported version: {supported}.")


def _launch_template_problems(res: Res, ctx: Context) -> None:
    tokens = first(res.props, "metadataOptions", "httpTokens")
    if tokens is not UNKNOWN and tokens != "required":
        ctx.violation(res, "metadataOptions.httpTokens", tokens, "set httpTokens 'required' (IMDSv2 only).")
    mappings = res.p("blockDeviceMappings")
    if mappings is not UNKNOWN:
        volumes = [
            get(m, "ebs") for m in as_list(mappings) if isinstance(m, dict) and get(m, "ebs") is not None
        ]
        if not volumes:
            ctx.violation(
                res,
                "blockDeviceMappings",
                mappings,
                "map the root volume (/dev/xvda) with ebs.encrypted 'true' and a KMS key (the AMI default is unencrypted).",
            )
        for index, ebs in enumerate(volumes):
            enc = first(ebs, "encrypted")
            if enc is not UNKNOWN and not is_true(enc):
                ctx.violation(
                    res, f"blockDeviceMappings[{index}].ebs.encrypted", enc, "set encrypted 'true'."
                )
    for index, nic in enumerate(as_list(res.p("networkInterfaces"))):
        if is_true(get(nic, "associatePublicIpAddress")):
            ctx.violation(
                res,
                f"networkInterfaces[{index}].associatePublicIpAddress",
                get(nic, "associatePublicIpAddress"),
                "nodes get no public IPs: set associatePublicIpAddress 'false'.",
            )
    if is_set(res.p("keyName")) and res.p("keyName") is not UNKNOWN:
        ctx.violation(res, "keyName", res.p("keyName"), "no SSH key pairs on nodes; use SSM Session Manager.")


def _nodes_hardened(res: Res, ctx: Context) -> None:
    if res.type == LAUNCH_TEMPLATE:
        _launch_template_problems(res, ctx)
        return
    if res.type == EKS_CLUSTER:
        if is_true(res.p("skipDefaultNodeGroup")):
            return
        _self_managed(res, ctx, "default node group: ")
        return
    if res.type in EKS_SELF_MANAGED:
        _self_managed(res, ctx, "")
        return
    # managed node groups (aws:eks/nodeGroup:NodeGroup and eks:index:ManagedNodeGroup)
    remote = res.p("remoteAccess")
    if is_set(remote) and remote is not UNKNOWN:
        ctx.violation(
            res, "remoteAccess", remote, "remove remoteAccess: no SSH to nodes (use SSM Session Manager)."
        )
    template = res.p("launchTemplate")
    if not is_set(template):
        ctx.violation(
            res,
            "launchTemplate",
            None,
            "give the node group a launch template with metadataOptions.httpTokens 'required' and an encrypted root "
            "volume (without one IMDSv1 stays on and volume encryption depends on the account default).",
        )


def _self_managed(res: Res, ctx: Context, label: str) -> None:
    public_ip = res.p("nodeAssociatePublicIpAddress")
    if public_ip is not UNKNOWN and not is_false(public_ip):
        ctx.violation(
            res,
            f"{label}nodeAssociatePublicIpAddress",
            public_ip if public_ip is not None else Raw("not set (pulumi-eks default true)"),
            "set nodeAssociatePublicIpAddress False.",
        )
    encrypted = res.p("nodeRootVolumeEncrypted")
    if encrypted is not UNKNOWN and not is_true(encrypted):
        ctx.violation(res, f"{label}nodeRootVolumeEncrypted", encrypted, "set nodeRootVolumeEncrypted True.")
    if is_set(res.p("nodePublicKey")) or is_set(res.p("keyName")):
        ctx.violation(
            res, f"{label}nodePublicKey", res.p("nodePublicKey") or res.p("keyName"), "no SSH keys on nodes."
        )
    imds = (
        res.p("enableIMDSv2")
        if res.type != EKS_CLUSTER
        else first(res.props, "nodeGroupOptions", "enableIMDSv2")
    )
    if imds is not UNKNOWN and not is_true(imds):
        ctx.violation(res, f"{label}enableIMDSv2", imds, "set enableIMDSv2 True.")


def instance_types_of(res: Res) -> list[tuple[str, Any]]:
    """(property, type) pairs for every instance/node/class type a resource asks for."""
    t = res.type
    if t in (AWS_NODE_GROUP, EKS_MNG):
        return [(f"instanceTypes[{i}]", v) for i, v in enumerate(as_list(res.p("instanceTypes")))]
    if t == EKS_CLUSTER:
        if is_true(res.p("skipDefaultNodeGroup")):
            return []
        return [
            ("instanceType", res.p("instanceType") or first(res.props, "nodeGroupOptions", "instanceType"))
        ]
    if t in EKS_SELF_MANAGED or t in (LAUNCH_TEMPLATE, "aws:ec2/instance:Instance"):
        return [("instanceType", res.p("instanceType"))]
    return []


def matches_any(value: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(value, p) for p in patterns)


POLICIES = [
    resource_policy(
        "eks-secrets-kms",
        "EKS clusters envelope-encrypt Kubernetes secrets with a customer-managed KMS key.",
        MANDATORY,
        ["EKS.3"],
        CLUSTERS,
        _secrets_kms,
    ),
    resource_policy(
        "eks-endpoint-private",
        "EKS API endpoint: private access on; public access off or restricted to known CIDRs.",
        MANDATORY,
        ["EKS.1"],
        CLUSTERS,
        _endpoint_private,
    ),
    resource_policy(
        "eks-logging",
        "EKS clusters send all five control-plane log types to CloudWatch.",
        MANDATORY,
        ["EKS.8"],
        CLUSTERS,
        _logging,
    ),
    resource_policy(
        "eks-version",
        "EKS clusters pin a Kubernetes version from the supported list.",
        ADVISORY,
        ["EKS.2"],
        CLUSTERS,
        _version,
    ),
    resource_policy(
        "eks-nodes-hardened",
        "EKS nodes: IMDSv2 required, encrypted volumes, no SSH, no public IPs.",
        MANDATORY,
        ["EC2.8", "EC2.25", "EC2.181"],
        (AWS_NODE_GROUP, EKS_MNG, *EKS_SELF_MANAGED, EKS_CLUSTER, LAUNCH_TEMPLATE),
        _nodes_hardened,
    ),
]
