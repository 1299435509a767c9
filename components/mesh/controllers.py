"""Controllers: the AWS Load Balancer Controller (it only registers pod IPs in Pulumi's target groups) and the
Cluster Autoscaler (it resizes the one managed node group), each a pinned Helm chart under its own IRSA role.

What it must not do: let the Load Balancer Controller create or delete a load balancer, or let the autoscaler
scale an Auto Scaling group that is not this cluster's.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import iam
from components.mesh.cluster import Cluster
from components.mesh.identities import irsa_role
from components.mesh.scope import MeshNetwork, Scope
from k8s import capacity

#: Helm charts the controllers come from (pinned; bump deliberately).
LB_CONTROLLER_CHART = ("aws-load-balancer-controller", "1.14.0", "https://aws.github.io/eks-charts")
CLUSTER_AUTOSCALER_REPO = "https://kubernetes.github.io/autoscaler"
#: Cluster Autoscaler per Kubernetes minor: (chart version, the chart's appVersion). The autoscaler's minor must match
#: the cluster's (its README's compatibility table), and the image runs the chart's own appVersion so the chart's
#: RBAC and flags are the ones that image expects: kubernetes/autoscaler `charts/cluster-autoscaler/Chart.yaml`
#: (appVersion) and `values.yaml` (`image.tag: v<appVersion>`) at 9.46.6, 9.51.0 and 9.53.0, the last chart of each
#: minor.
CLUSTER_AUTOSCALER_RELEASES: Mapping[str, tuple[str, str]] = {
    "1.32": ("9.46.6", "1.32.0"),
    "1.33": ("9.51.0", "1.33.0"),
    "1.34": ("9.53.0", "1.34.2"),
}


def load_balancer_controller(
    scope: Scope,
    network: MeshNetwork,
    cluster: Cluster,
    target_group_arns: Mapping[str, pulumi.Output[str]],
    on_cluster: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """The controller and its role: discovery, and target registration in the mesh's own target groups only.

    Returned whole: the workloads wait for it (its webhook injects the readiness gate into every new pod).
    """
    sa = "aws-load-balancer-controller"
    role = irsa_role(
        scope,
        cluster,
        "aws-load-balancer-controller",
        "kube-system",
        sa,
        "AWS Load Balancer Controller: registers pod IPs in Pulumi's target groups",
    )
    aws.iam.RolePolicy(
        f"{scope.name}-aws-load-balancer-controller",
        role=role.id,
        policy=iam.policy_json(
            scope.owner,
            [
                # Describe* calls support no resource-level permissions: AWS allows only "*" for them.
                iam.allow(
                    [
                        "elasticloadbalancing:DescribeLoadBalancers",
                        "elasticloadbalancing:DescribeTargetGroups",
                        "elasticloadbalancing:DescribeTargetHealth",
                        "elasticloadbalancing:DescribeListeners",
                        "elasticloadbalancing:DescribeRules",
                        "elasticloadbalancing:DescribeTags",
                        "elasticloadbalancing:DescribeTargetGroupAttributes",
                        "elasticloadbalancing:DescribeLoadBalancerAttributes",
                        "ec2:DescribeInstances",
                        "ec2:DescribeVpcs",
                        "ec2:DescribeSubnets",
                        "ec2:DescribeSecurityGroups",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DescribeAvailabilityZones",
                    ],
                    ["*"],
                    sid="Discover",
                ),
                iam.allow(
                    ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
                    list(target_group_arns.values()),
                    sid="RegisterPodsInOwnTargetGroups",
                ),
            ],
        ),
        opts=scope.child,
    )
    c = scope.settings.cluster
    return k8s.helm.v3.Release(
        f"{scope.name}-aws-load-balancer-controller",
        name="aws-load-balancer-controller",
        chart=LB_CONTROLLER_CHART[0],
        version=LB_CONTROLLER_CHART[1],
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=LB_CONTROLLER_CHART[2]),
        namespace="kube-system",
        atomic=True,
        values={
            "clusterName": scope.prefix,
            # IMDS is out of reach (hop limit 1): the controller is told where it runs.
            "region": scope.region,
            "vpcId": network.vpc_id,
            "replicaCount": c.system_replicas,
            "serviceAccount": {
                "create": True,
                "name": sa,
                "annotations": {"eks.amazonaws.com/role-arn": role.arn},
            },
            # Private nodes reach no WAF/Shield endpoint, and the ALB's protection is CdnEdge's job.
            "enableShield": False,
            "enableWaf": False,
            "enableWafv2": False,
            "createIngressClassResource": False,
            "enableServiceMutatorWebhook": False,
            "resources": {
                "requests": {
                    "cpu": f"{capacity.LB_CONTROLLER.cpu_m}m",
                    "memory": f"{capacity.LB_CONTROLLER.memory_mib}Mi",
                },
                "limits": {"memory": f"{2 * capacity.LB_CONTROLLER.memory_mib}Mi"},
            },
        },
        opts=on_cluster,
    )


def _autoscaler_policy(scope: Scope) -> pulumi.Output[str]:
    partition, region, account_id, prefix = scope.partition, scope.region, scope.account_id, scope.prefix
    return iam.policy_json(
        scope.owner,
        [
            # Describe calls support no resource-level permissions: AWS allows only "*" for them.
            iam.allow(
                [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                ],
                ["*"],
                sid="Discover",
            ),
            # Scaling actions name no ASG up front (EKS names them): limited by the tag EKS puts on this cluster's
            # node-group ASGs.
            iam.allow(
                ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                ["*"],
                sid="ScaleOwnNodeGroups",
                conditions=[
                    iam.condition(
                        "StringEquals", f"aws:ResourceTag/k8s.io/cluster-autoscaler/{prefix}", "owned"
                    )
                ],
            ),
            iam.allow(
                ["eks:DescribeNodegroup"],
                [
                    pulumi.Output.format(
                        "arn:{0}:eks:{1}:{2}:nodegroup/{3}/*", partition, region, account_id, prefix
                    )
                ],
                sid="ReadOwnNodeGroups",
            ),
        ],
    )


def cluster_autoscaler(scope: Scope, cluster: Cluster, on_cluster: pulumi.ResourceOptions) -> None:
    """The autoscaler and its role, the chart pinned to the cluster's Kubernetes minor."""
    sa = "cluster-autoscaler"
    role = irsa_role(
        scope,
        cluster,
        "cluster-autoscaler",
        "kube-system",
        sa,
        "Cluster Autoscaler: resizes this cluster's node groups",
    )
    aws.iam.RolePolicy(
        f"{scope.name}-cluster-autoscaler", role=role.id, policy=_autoscaler_policy(scope), opts=scope.child
    )
    ca_chart, ca_app = CLUSTER_AUTOSCALER_RELEASES[scope.settings.cluster.kubernetes_version]
    k8s.helm.v3.Release(
        f"{scope.name}-cluster-autoscaler",
        name="cluster-autoscaler",
        chart="cluster-autoscaler",
        version=ca_chart,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CLUSTER_AUTOSCALER_REPO),
        namespace="kube-system",
        atomic=True,
        values={
            "cloudProvider": "aws",
            "awsRegion": scope.region,
            "autoDiscovery": {"clusterName": scope.prefix},
            # The chart's own appVersion, for the cluster's minor (see CLUSTER_AUTOSCALER_RELEASES).
            "image": {"tag": f"v{ca_app}"},
            "rbac": {
                "serviceAccount": {
                    "create": True,
                    "name": sa,
                    "annotations": {"eks.amazonaws.com/role-arn": role.arn},
                }
            },
            "extraArgs": {
                "balance-similar-node-groups": True,
                "skip-nodes-with-system-pods": False,
                "expander": "least-waste",
            },
            "resources": {
                "requests": {
                    "cpu": f"{capacity.CLUSTER_AUTOSCALER.cpu_m}m",
                    "memory": f"{capacity.CLUSTER_AUTOSCALER.memory_mib}Mi",
                },
                "limits": {"memory": f"{2 * capacity.CLUSTER_AUTOSCALER.memory_mib}Mi"},
            },
        },
        opts=on_cluster,
    )
