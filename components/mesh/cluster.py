"""Cluster and nodes: the cluster key, the control-plane log group, the cluster and node IAM roles, the
`eks.Cluster`, the nodes' launch template and managed node group, the add-ons that need nodes, and the Kubernetes
provider every object on the cluster goes through.

What it must not do: leave pulumi-eks's non-production defaults in place (public endpoint open to the world, no
logs, no envelope encryption, extended support), or let a pod reach the node role's credentials (IMDS hop limit 1).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from components import iam
from components.mesh.scope import COMPONENT, MeshNetwork, Scope
from components.naming import stateful, tags
from k8s import capacity

#: All five control-plane log types (api, audit, authenticator, controllerManager, scheduler).
CONTROL_PLANE_LOGS = ("api", "audit", "authenticator", "controllerManager", "scheduler")


@dataclass(frozen=True)
class Roles:
    """The seed's EKSClusterRole and EKSNodeRole, and the policy attachments each must have before use.

    Whole resources: pulumi-eks takes the roles themselves (`service_role`, `node_role`), not their ARNs.
    """

    cluster: aws.iam.Role
    node: aws.iam.Role
    cluster_policies: tuple[pulumi.Resource, ...]
    node_policies: tuple[pulumi.Resource, ...]


@dataclass(frozen=True)
class Cluster:
    """The cluster as the later builders need it."""

    resource: eks.Cluster
    """The node group names the cluster component itself, and later steps wait for all of it."""
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    security_group_id: pulumi.Output[str]


@dataclass(frozen=True)
class OnCluster:
    """What running Kubernetes objects on the cluster takes."""

    kubeconfig: pulumi.Output[str]
    """Secret: it carries the cluster's CA and endpoint and the `aws eks get-token` exec."""
    opts: pulumi.ResourceOptions
    """Parent, the cluster's Kubernetes provider, and the nodes and cluster DNS to wait for."""


def control_plane_log_group_name(cluster: str) -> str:
    """The log group EKS writes control-plane logs to: `/aws/eks/<cluster-name>/cluster`."""
    return f"/aws/eks/{cluster}/cluster"


def cluster_key(scope: Scope) -> pulumi.Output[str]:
    """The key that envelope-encrypts Kubernetes secrets and the nodes' root volumes; its ARN."""
    name, prefix = scope.name, scope.prefix
    key = iam.customer_key(
        scope.owner,
        f"{name}-cluster-key",
        description=f"EKS secrets envelope encryption and node volumes of {prefix}",
        account_id=scope.account_id,
        partition=scope.partition,
        service_statements=iam.auto_scaling_volume_statements(scope.account_id, scope.partition),
        tags=tags(COMPONENT, f"{name}-cluster-key"),
        opts=scope.child,
    )
    aws.kms.Alias(
        f"{name}-cluster-key", name=f"alias/{prefix}-eks", target_key_id=key.key_id, opts=scope.child
    )
    return key.arn


def _managed(
    scope: Scope, role: aws.iam.Role, role_name: str, policies: Sequence[str]
) -> list[pulumi.Resource]:
    return [
        aws.iam.RolePolicyAttachment(
            f"{scope.name}-{role_name}-{p}",
            role=role.name,
            policy_arn=iam.aws_managed_policy(scope.partition, p),
            opts=scope.child,
        )
        for p in policies
    ]


def _service_principal_trust(scope: Scope, service: str, actions: Sequence[str]) -> pulumi.Output[str]:
    return iam.policy_json(
        scope.owner,
        [
            {
                "effect": "Allow",
                "actions": list(actions),
                "principals": [{"type": "Service", "identifiers": [service]}],
            }
        ],
    )


def roles(scope: Scope, key_arn: pulumi.Output[str]) -> Roles:
    """The IAM roles named for their job (the seed's EKSClusterRole and EKSNodeRole)."""
    name, prefix = scope.name, scope.prefix
    cluster_role = aws.iam.Role(
        f"{name}-cluster-role",
        name=f"{prefix}-EKSClusterRole",
        description="EKS control plane of the e-commerce cluster",
        assume_role_policy=_service_principal_trust(
            scope, "eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"]
        ),
        tags=tags(COMPONENT, f"{prefix}-EKSClusterRole"),
        opts=scope.child,
    )
    cluster_policies: list[pulumi.Resource] = [
        *_managed(scope, cluster_role, "cluster-role", ["AmazonEKSClusterPolicy"]),
        # Envelope encryption of Kubernetes secrets: the control plane uses the key through this role.
        aws.iam.RolePolicy(
            f"{name}-cluster-role-secrets-key",
            role=cluster_role.id,
            policy=iam.policy_json(
                scope.owner,
                [iam.allow(["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"], [key_arn])],
            ),
            opts=scope.child,
        ),
    ]
    node_role = aws.iam.Role(
        f"{name}-node-role",
        name=f"{prefix}-EKSNodeRole",
        description="EKS worker nodes: join the cluster, pull images, manage pod networking",
        assume_role_policy=_service_principal_trust(scope, "ec2.amazonaws.com", ["sts:AssumeRole"]),
        tags=tags(COMPONENT, f"{prefix}-EKSNodeRole"),
        opts=scope.child,
    )
    # The CNI policy stays on the node role: aws-node runs on the host network before any IRSA token exists on
    # a fresh node, and hop limit 1 keeps every other pod away from these credentials.
    node_policies = _managed(
        scope,
        node_role,
        "node-role",
        ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly"],
    )
    return Roles(cluster_role, node_role, tuple(cluster_policies), tuple(node_policies))


def control_plane_logs(scope: Scope) -> aws.cloudwatch.LogGroup:
    """The control-plane log group and its key, before the cluster: EKS would otherwise create the group on first
    write with no retention and AWS's key. EKS writes to exactly `/aws/eks/<cluster-name>/cluster` (EKS user guide,
    "Send control plane logs to CloudWatch Logs"), so the name is fixed here from the cluster's own `name`.
    Returned whole: the cluster waits for it."""
    name, prefix, settings = scope.name, scope.prefix, scope.settings
    partition, region, account_id = scope.partition, scope.region, scope.account_id
    log_group_name = control_plane_log_group_name(prefix)
    logs_key = iam.customer_key(
        scope.owner,
        f"{name}-logs-key",
        description=f"EKS control-plane logs of {prefix}",
        account_id=account_id,
        partition=partition,
        service_statements=[
            iam.logs_may_use_key(
                "CloudWatchLogsUsesKeyForControlPlaneLogs",
                region,
                "ArnEquals",
                pulumi.Output.format(
                    "arn:{0}:logs:{1}:{2}:log-group:{3}", partition, region, account_id, log_group_name
                ),
            )
        ],
        tags=tags(COMPONENT, f"{name}-logs-key"),
        # A year of audit logs in prod is unreadable without it.
        opts=stateful(settings, scope.child),
    )
    aws.kms.Alias(
        f"{name}-logs-key", name=f"alias/{prefix}-eks-logs", target_key_id=logs_key.key_id, opts=scope.child
    )
    return aws.cloudwatch.LogGroup(
        f"{name}-control-plane-logs",
        name=log_group_name,
        kms_key_id=logs_key.arn,
        retention_in_days=settings.cluster.control_plane_log_retention_days,
        tags=tags(COMPONENT, log_group_name),
        opts=stateful(settings, scope.child),
    )


def _access(scope: Scope, kind: str, arn: pulumi.Input[str], policy: str) -> eks.AccessEntryArgs:
    return eks.AccessEntryArgs(
        principal_arn=arn,
        access_policies={
            kind: eks.AccessPolicyAssociationArgs(
                policy_arn=pulumi.Output.format(
                    "arn:{0}:eks::aws:cluster-access-policy/{1}", scope.partition, policy
                ),
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            )
        },
    )


def cluster(
    scope: Scope,
    network: MeshNetwork,
    *,
    key_arn: pulumi.Output[str],
    roles: Roles,
    logs: aws.cloudwatch.LogGroup,
    deployer_role_arns: Sequence[pulumi.Input[str]],
    viewer_role_arns: Sequence[pulumi.Input[str]],
    ci_access_cidrs: Sequence[pulumi.Input[str]] = (),
) -> Cluster:
    """The cluster: private endpoint, public only for listed CIDRs (`cluster.publicAccessCidrs`, and a standby's
    `ci_access_cidrs`), access entries, encrypted, logged."""
    c, prefix = scope.settings.cluster, scope.prefix
    public_cidrs: list[pulumi.Input[str]] = [*c.public_access_cidrs, *ci_access_cidrs]
    admins = [*c.admin_role_arns, *deployer_role_arns]
    access_entries = {
        **{
            f"admin-{i}": _access(scope, "cluster-admin", arn, "AmazonEKSClusterAdminPolicy")
            for i, arn in enumerate(admins)
        },
        **{
            f"viewer-{i}": _access(scope, "view", arn, "AmazonEKSViewPolicy")
            for i, arn in enumerate(viewer_role_arns)
        },
    }
    resource = eks.Cluster(
        f"{scope.name}-cluster",
        name=prefix,
        version=c.kubernetes_version,
        vpc_id=network.vpc_id,
        # Control-plane ENIs and nodes in the private subnets only; the ALB is Pulumi's own, not the cluster's.
        private_subnet_ids=list(network.private_subnet_ids),
        node_associate_public_ip_address=False,
        endpoint_private_access=True,
        endpoint_public_access=bool(public_cidrs),
        public_access_cidrs=public_cidrs or None,
        authentication_mode=eks.AuthenticationMode.API,
        access_entries=access_entries or None,
        service_role=roles.cluster,
        encryption_config_key_arn=key_arn,
        enabled_cluster_log_types=list(CONTROL_PLANE_LOGS),
        upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
        deletion_protection=scope.settings.protect_data,
        create_oidc_provider=True,
        skip_default_node_group=True,
        skip_default_security_groups=True,
        create_instance_role=False,
        vpc_cni_options=eks.VpcCniOptionsArgs(
            enable_prefix_delegation=c.prefix_delegation,
            # NetworkPolicies are enforced by the VPC CNI's agent (t-family nodes have no security groups for pods).
            enable_network_policy=True,
            warm_prefix_target=1 if c.prefix_delegation else None,
        ),
        # Off here: with skip_default_node_group pulumi-eks would create the add-on inside the Cluster component,
        # before any node exists (DEGRADED, a 20-minute timeout), and the node group waits for the whole Cluster
        # (pulumi/pulumi-eks#1819, #1371). CoreDNS is an `aws.eks.Addon` after the node group (`add_ons`).
        coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
        kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(enabled=True),
        tags=tags(COMPONENT, prefix),
        opts=pulumi.ResourceOptions(parent=scope.owner, depends_on=[*roles.cluster_policies, logs]),
    )
    return Cluster(
        resource,
        oidc_provider_arn=resource.oidc_provider_arn,
        oidc_issuer=resource.oidc_issuer,
        security_group_id=resource.cluster_security_group_id,
    )


def nodes(
    scope: Scope, network: MeshNetwork, *, key_arn: pulumi.Output[str], roles: Roles, cluster: Cluster
) -> eks.ManagedNodeGroup:
    """A launch template (IMDSv2 hop 1, encrypted gp3, no SSH key) and one managed node group.

    No user data: with an EKS AMI chosen by `ami_type` (no image id in the template) EKS appends its own NodeConfig,
    with the maxPods it computes, after ours, and nodeadm lets the last one win; a maxPods of ours would never reach
    the kubelet. k8s/capacity.py models the value EKS sets. Returned whole: the add-ons and every object on the
    cluster wait for the nodes.
    """
    c, name, prefix = scope.settings.cluster, scope.name, scope.prefix
    launch_template = aws.ec2.LaunchTemplate(
        f"{name}-nodes",
        description=f"Managed nodes of {prefix}: IMDSv2 only, encrypted gp3 root, no SSH key",
        update_default_version=True,
        # Hop limit 1: pods (one hop further) cannot reach IMDS and so never get the node role's credentials;
        # the services use IRSA and the controllers get vpcId/region passed in, so none needs IMDS.
        metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
            http_endpoint="enabled",
            http_tokens="required",
            http_put_response_hop_limit=1,
            instance_metadata_tags="disabled",
        ),
        block_device_mappings=[
            aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda",
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=c.root_volume_size_gib,
                    volume_type="gp3",
                    encrypted="true",
                    kms_key_id=key_arn,
                    delete_on_termination="true",
                ),
            )
        ],
        # With a launch template EKS adds no group itself: the cluster SG (control plane <-> nodes) and the
        # seed's nodes SG (ALB -> service ports, node <-> node, data tier and endpoints).
        vpc_security_group_ids=[cluster.security_group_id, network.nodes_security_group_id],
        tag_specifications=[
            aws.ec2.LaunchTemplateTagSpecificationArgs(
                resource_type=rt, tags=tags(COMPONENT, f"{prefix}-node")
            )
            for rt in ("instance", "volume")
        ],
        tags=tags(COMPONENT, f"{name}-nodes"),
        opts=scope.child,
    )
    return eks.ManagedNodeGroup(
        f"{name}-nodes",
        cluster=cluster.resource,
        node_group_name=f"{prefix}-general",
        node_role=roles.node,
        subnet_ids=list(network.private_subnet_ids),
        instance_types=[c.node_instance_type],
        ami_type="AL2023_x86_64_STANDARD",
        capacity_type="ON_DEMAND",
        scaling_config=aws.eks.NodeGroupScalingConfigArgs(
            min_size=c.node_min_size, desired_size=c.node_desired_size, max_size=c.node_max_size
        ),
        # The Cluster Autoscaler owns the desired size after creation.
        ignore_scaling_changes=True,
        launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
            id=launch_template.id, version=launch_template.latest_version.apply(str)
        ),
        labels={"ecommerce/pool": "general"},
        tags=tags(COMPONENT, f"{prefix}-general"),
        opts=pulumi.ResourceOptions(parent=scope.owner, depends_on=list(roles.node_policies)),
    )


def add_ons(scope: Scope, cluster: Cluster, node_group: eks.ManagedNodeGroup) -> aws.eks.Addon:
    """The add-ons that need nodes (CoreDNS, metrics-server), after the node group; returns CoreDNS, which the
    objects on the cluster wait for (they resolve the stores' endpoints)."""
    name, prefix = scope.name, scope.prefix
    after_nodes = pulumi.ResourceOptions(parent=scope.owner, depends_on=[cluster.resource, node_group])
    # CoreDNS needs nodes to become ACTIVE; created after the node group it adopts the CoreDNS Deployment EKS
    # bootstrapped with the cluster (OVERWRITE), with the replicas and requests the capacity check counts.
    coredns = aws.eks.Addon(
        f"{name}-coredns",
        cluster_name=prefix,
        addon_name="coredns",
        configuration_values=json.dumps(
            {
                "replicaCount": scope.settings.cluster.system_replicas,
                "resources": {
                    "requests": {
                        "cpu": f"{capacity.COREDNS.cpu_m}m",
                        "memory": f"{capacity.COREDNS.memory_mib}Mi",
                    }
                },
            }
        ),
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
        tags=tags(COMPONENT, f"{name}-coredns"),
        opts=after_nodes,
    )
    aws.eks.Addon(
        f"{name}-metrics-server",
        cluster_name=prefix,
        addon_name="metrics-server",
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
        tags=tags(COMPONENT, f"{name}-metrics-server"),
        opts=after_nodes,
    )
    return coredns


def kubernetes(
    scope: Scope, cluster: Cluster, node_group: eks.ManagedNodeGroup, coredns: aws.eks.Addon
) -> OnCluster:
    """The Kubernetes provider: this cluster's kubeconfig, nothing ambient."""
    kubeconfig: pulumi.Output[str] = pulumi.Output.secret(cluster.resource.kubeconfig_json)
    provider = k8s.Provider(
        f"{scope.name}-k8s", kubeconfig=kubeconfig, enable_server_side_apply=True, opts=scope.child
    )
    # Workloads (and the database bootstrap Job) resolve the stores' endpoints: they wait for cluster DNS too.
    opts = pulumi.ResourceOptions(parent=scope.owner, provider=provider, depends_on=[node_group, coredns])
    return OnCluster(kubeconfig, opts)
