"""ServiceMesh: the EKS cluster, its nodes and add-ons, one least-privilege identity per microservice, the ECR
repositories, the public ALB and the eight workloads from `k8s/`.

Decisions (the README explains them): identities are IRSA roles (trust bound to exactly one service account, no
agent DaemonSet taking a pod slot on t3.micro nodes); the node autoscaler is the Cluster Autoscaler (it scales
the one managed node group whose sizes come from settings, and fits in 160 MiB); the ALB is owned by Pulumi and
the Load Balancer Controller only registers pod IPs in its target groups (`TargetGroupBinding`), so `pulumi
destroy` leaves no controller-made load balancer behind and the controller needs no right to create or delete one.

What it must not do: give a service's role any store that is not in that service's `ServiceStores`; put a secret
value in a manifest (pods get a secret's ARN, never its value); create a Kubernetes object without the explicit
Kubernetes provider built from this cluster's kubeconfig; leave pulumi-eks's non-production defaults in place
(public endpoint open to the world, no logs, no envelope encryption, extended support).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s
import pulumi_random as random

from components import iam
from components.config import Settings
from components.contracts import (
    ORIGIN_VERIFY_HEADER,
    AlbOrigin,
    DatabaseAdminAccess,
    DataContract,
    ServiceStores,
)
from components.delivery import ecr_repository_name
from components.naming import cluster_name, stateful, tags
from k8s import capacity, dbboot, workloads
from k8s.catalogue import CATALOGUE, NAMESPACE, READY_PATH, Service, catalogue_problems

COMPONENT = "mesh"
#: All five control-plane log types (api, audit, authenticator, controllerManager, scheduler).
CONTROL_PLANE_LOGS = ("api", "audit", "authenticator", "controllerManager", "scheduler")
#: TLS 1.3 + 1.2 only; the newest ELB policy family as of this writing.
ALB_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
#: Elastic Load Balancing's log-delivery account per region (regions opened before August 2022 need it in the
#: bucket policy; the service principal `logdelivery.elasticloadbalancing.amazonaws.com` covers newer regions).
ELB_LOG_ACCOUNTS = {"us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-2": "797873946194"}
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
#: The tag a Deployment names before its image is published (`cluster.imageTags` has no entry for the service): the
#: images workflow pushes commit SHAs only, so nothing ever carries this tag, and such a Deployment runs 0 replicas.
UNPUBLISHED_TAG = "unpublished"
#: Ports of the data stores reachable from the pods (NetworkPolicy egress to the private subnets).
POSTGRES_PORT, REDIS_PORT = 5432, 6379

_WRITE_TABLE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
_READ_TABLE = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
#: The OpenSearch HTTP verbs the search service uses (index, query, delete documents); no domain administration.
_SEARCH_HTTP = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"]
_COGNITO_ADMIN = (
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminInitiateAuth",
    "cognito-idp:AdminRespondToAuthChallenge",
    "cognito-idp:AdminUpdateUserAttributes",
    "cognito-idp:AdminSetUserPassword",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminUserGlobalSignOut",
    "cognito-idp:ListUsers",
)


@dataclass(frozen=True)
class MeshNetwork:
    """What the ServiceMesh takes from `EcommerceVpc`."""

    vpc_id: pulumi.Input[str]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    alb_security_group_id: pulumi.Input[str]
    """The seed's ALB SG: the ALB's only group."""
    nodes_security_group_id: pulumi.Input[str]
    """The seed's EKS nodes SG: attached to every node beside the EKS cluster SG."""


def service_statements(
    stores: ServiceStores,
    *,
    partition: pulumi.Input[str],
    region: pulumi.Input[str],
    account_id: pulumi.Input[str],
) -> list[iam.Statement]:
    """The IAM statements of one service's role, built only from that service's stores."""
    st: list[iam.Statement] = []
    for i, t in enumerate(stores.tables):
        actions = _READ_TABLE + (_WRITE_TABLE if t.write else ())
        st.append(iam.allow(actions, [t.arn, pulumi.Output.concat(t.arn, "/index/*")], sid=f"Table{i}"))
    if stores.secrets:
        st.append(
            iam.allow(
                ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                [s.arn for s in stores.secrets],
                sid="ReadOwnSecrets",
            )
        )
    if stores.database is not None:
        db = stores.database
        user = pulumi.Output.format(
            "arn:{0}:rds-db:{1}:{2}:dbuser:{3}/{4}",
            partition,
            region,
            account_id,
            db.cluster_resource_id,
            db.db_user,
        )
        st.append(iam.allow(["rds-db:connect"], [user], sid="ConnectAsOwnDatabaseUser"))
    if stores.publishes:
        st.append(iam.allow(["sns:Publish"], [t.arn for t in stores.publishes], sid="PublishOwnTopics"))
    if stores.consumes:
        st.append(
            iam.allow(
                [
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                ],
                [q.arn for q in stores.consumes],
                sid="ConsumeOwnQueues",
            )
        )
    if stores.search is not None:
        arn = stores.search.domain_arn
        st.append(
            iam.allow(
                _SEARCH_HTTP,
                [arn, pulumi.Output.concat(arn, "/*")],
                sid="SearchOwnDomain",
            )
        )
    if stores.user_pool is not None:
        st.append(iam.allow(_COGNITO_ADMIN, [stores.user_pool.arn], sid="AdministerOwnUserPool"))
    if stores.kms_key_arns:
        st.append(
            iam.allow(["kms:Decrypt", "kms:GenerateDataKey"], list(stores.kms_key_arns), sid="UseStoreKeys")
        )
    return st


def control_plane_log_group_name(cluster: str) -> str:
    """The log group EKS writes control-plane logs to: `/aws/eks/<cluster-name>/cluster`."""
    return f"/aws/eks/{cluster}/cluster"


def published_tag(service: str, image_tags: Mapping[str, str]) -> str | None:
    """The service's published image tag (`cluster.imageTags.<service>`), or None before its first push."""
    return image_tags.get(service)


def service_config(svc: Service, stores: ServiceStores, region: pulumi.Input[str]) -> dict[str, Any]:
    """The service's ConfigMap data: non-secret values only (ARNs of secrets, never their values)."""
    ports = {s.name: s.port for s in CATALOGUE}
    data: dict[str, Any] = {
        "SERVICE_NAME": svc.name,
        "AWS_REGION": region,
        "AWS_STS_REGIONAL_ENDPOINTS": "regional",
        **svc.env,
        **workloads.service_urls(svc, ports),
    }
    for s in stores.secrets:
        data[s.env_var] = s.arn
    for t in stores.publishes:
        data[t.env_var] = t.arn
    for q in stores.consumes:
        data[q.env_var] = q.url
    data.update(stores.env)
    return data


class ServiceMesh(pulumi.ComponentResource):
    """The cluster and everything running on it. Children are named `{name}-<role>`."""

    cluster_name: str
    kubeconfig: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    service_role_arns: dict[str, pulumi.Output[str]]
    repository_urls: dict[str, pulumi.Output[str]]
    alb_arn: pulumi.Output[str]
    alb_dns_name: pulumi.Output[str]
    alb_origin: AlbOrigin
    alb_arn_suffix: pulumi.Output[str]
    target_group_arn_suffixes: dict[str, pulumi.Output[str]]
    oidc_issuer: pulumi.Output[str]
    control_plane_log_group_name: pulumi.Output[str]
    nodes_ready_cluster_name: pulumi.Output[str]
    """The cluster's name, resolved only once the node group exists: add-ons that need nodes take it."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        network: MeshNetwork,
        stores: DataContract,
        deployer_role_arns: Sequence[pulumi.Input[str]] = (),
        viewer_role_arns: Sequence[pulumi.Input[str]] = (),
        database_admin: DatabaseAdminAccess | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param settings: validated settings; `cluster.*` sizes the cluster and workloads (the capacity check has
            already passed in `load_settings`), `edge.*` decides the ALB's TLS, `network.*` its ingress mode.
        :param network: ids from `EcommerceVpc`.
        :param stores: the DataTier's contract: one `ServiceStores` per catalogue service.
        :param deployer_role_arns: roles that run `pulumi up` (CI's deploy role): cluster-admin access entries, since
            the program itself applies the Kubernetes objects.
        :param viewer_role_arns: roles that only read the cluster (CI's preview role): view access entries.
        :param database_admin: the DataTier's Aurora master access; when given, a Job creates each service's
            database and IAM login (`_database_bootstrap`).
        """
        super().__init__("ecommerce:compute:ServiceMesh", name, None, opts)
        c, n, env = settings.cluster, settings.network, settings.environment
        problems = catalogue_problems(n.service_ports.from_port, n.service_ports.to_port, tuple(stores))
        if problems:
            raise pulumi.RunError(
                "The service catalogue is inconsistent; nothing was created:\n  " + "\n  ".join(problems)
            )
        child = pulumi.ResourceOptions(parent=self)
        account_id, partition, region = iam.caller(self)
        prefix = cluster_name(env)
        self.cluster_name = prefix
        ports = {s.name: s.port for s in CATALOGUE}

        # --- KMS: one key envelope-encrypts Kubernetes secrets and the nodes' root volumes ---
        key = iam.customer_key(
            self,
            f"{name}-cluster-key",
            description=f"EKS secrets envelope encryption and node volumes of {prefix}",
            account_id=account_id,
            partition=partition,
            service_statements=iam.auto_scaling_volume_statements(account_id, partition),
            tags=tags(COMPONENT, f"{name}-cluster-key"),
            opts=child,
        )
        aws.kms.Alias(f"{name}-cluster-key", name=f"alias/{prefix}-eks", target_key_id=key.key_id, opts=child)

        # --- IAM roles named for their job (the seed's EKSClusterRole and EKSNodeRole) ---
        def managed(
            role: aws.iam.Role, role_name: str, policies: Sequence[str]
        ) -> list[aws.iam.RolePolicyAttachment]:
            return [
                aws.iam.RolePolicyAttachment(
                    f"{name}-{role_name}-{p}",
                    role=role.name,
                    policy_arn=pulumi.Output.format("arn:{0}:iam::aws:policy/{1}", partition, p),
                    opts=child,
                )
                for p in policies
            ]

        def service_principal_trust(service: str, actions: Sequence[str]) -> pulumi.Output[str]:
            return iam.policy_json(
                self,
                [
                    {
                        "effect": "Allow",
                        "actions": list(actions),
                        "principals": [{"type": "Service", "identifiers": [service]}],
                    }
                ],
            )

        cluster_role = aws.iam.Role(
            f"{name}-cluster-role",
            name=f"{prefix}-EKSClusterRole",
            description="EKS control plane of the e-commerce cluster",
            assume_role_policy=service_principal_trust(
                "eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"]
            ),
            tags=tags(COMPONENT, f"{prefix}-EKSClusterRole"),
            opts=child,
        )
        cluster_policies: list[pulumi.Resource] = [
            *managed(cluster_role, "cluster-role", ["AmazonEKSClusterPolicy"]),
            # Envelope encryption of Kubernetes secrets: the control plane uses the key through this role.
            aws.iam.RolePolicy(
                f"{name}-cluster-role-secrets-key",
                role=cluster_role.id,
                policy=iam.policy_json(
                    self,
                    [
                        iam.allow(
                            ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"], [key.arn]
                        )
                    ],
                ),
                opts=child,
            ),
        ]
        node_role = aws.iam.Role(
            f"{name}-node-role",
            name=f"{prefix}-EKSNodeRole",
            description="EKS worker nodes: join the cluster, pull images, manage pod networking",
            assume_role_policy=service_principal_trust("ec2.amazonaws.com", ["sts:AssumeRole"]),
            tags=tags(COMPONENT, f"{prefix}-EKSNodeRole"),
            opts=child,
        )
        # The CNI policy stays on the node role: aws-node runs on the host network before any IRSA token exists on
        # a fresh node, and hop limit 1 keeps every other pod away from these credentials.
        node_policies = managed(
            node_role,
            "node-role",
            ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly"],
        )

        # --- the cluster: private endpoint, public only for listed CIDRs, access entries, encrypted, logged ---
        def access(kind: str, arn: pulumi.Input[str], policy: str) -> eks.AccessEntryArgs:
            return eks.AccessEntryArgs(
                principal_arn=arn,
                access_policies={
                    kind: eks.AccessPolicyAssociationArgs(
                        policy_arn=pulumi.Output.format(
                            "arn:{0}:eks::aws:cluster-access-policy/{1}", partition, policy
                        ),
                        access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                    )
                },
            )

        # --- the control-plane log group, before the cluster: EKS would otherwise create it on first write with no
        # retention and AWS's key. EKS writes to exactly `/aws/eks/<cluster-name>/cluster` (EKS user guide, "Send
        # control plane logs to CloudWatch Logs"), so the name is fixed here from the cluster's own `name`.
        log_group_name = control_plane_log_group_name(prefix)
        logs_key = iam.customer_key(
            self,
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
            opts=stateful(settings, child),
        )
        aws.kms.Alias(
            f"{name}-logs-key", name=f"alias/{prefix}-eks-logs", target_key_id=logs_key.key_id, opts=child
        )
        control_plane_logs = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=log_group_name,
            kms_key_id=logs_key.arn,
            retention_in_days=c.control_plane_log_retention_days,
            tags=tags(COMPONENT, log_group_name),
            opts=stateful(settings, child),
        )

        admins = [*c.admin_role_arns, *deployer_role_arns]
        access_entries = {
            **{
                f"admin-{i}": access("cluster-admin", arn, "AmazonEKSClusterAdminPolicy")
                for i, arn in enumerate(admins)
            },
            **{
                f"viewer-{i}": access("view", arn, "AmazonEKSViewPolicy")
                for i, arn in enumerate(viewer_role_arns)
            },
        }
        cluster = eks.Cluster(
            f"{name}-cluster",
            name=prefix,
            version=c.kubernetes_version,
            vpc_id=network.vpc_id,
            # Control-plane ENIs and nodes in the private subnets only; the ALB is Pulumi's own, not the cluster's.
            private_subnet_ids=list(network.private_subnet_ids),
            node_associate_public_ip_address=False,
            endpoint_private_access=True,
            endpoint_public_access=bool(c.public_access_cidrs),
            public_access_cidrs=list(c.public_access_cidrs) or None,
            authentication_mode=eks.AuthenticationMode.API,
            access_entries=access_entries or None,
            service_role=cluster_role,
            encryption_config_key_arn=key.arn,
            enabled_cluster_log_types=list(CONTROL_PLANE_LOGS),
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            deletion_protection=settings.protect_data,
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
            # (pulumi/pulumi-eks#1819, #1371). CoreDNS is an `aws.eks.Addon` after the node group, below.
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(enabled=True),
            tags=tags(COMPONENT, prefix),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*cluster_policies, control_plane_logs]),
        )
        self.oidc_provider_arn = cluster.oidc_provider_arn
        self.cluster_security_group_id = cluster.cluster_security_group_id
        self.control_plane_log_group_name = control_plane_logs.name
        oidc_issuer = cluster.oidc_issuer
        self.oidc_issuer = oidc_issuer

        # --- nodes: a launch template (IMDSv2 hop 1, encrypted gp3, no SSH key) and one managed node group ---
        # No user data: with an EKS AMI chosen by `ami_type` (no image id in the template) EKS appends its own
        # NodeConfig, with the maxPods it computes, after ours, and nodeadm lets the last one win; a maxPods of ours
        # would never reach the kubelet. k8s/capacity.py models the value EKS sets.
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
                        kms_key_id=key.arn,
                        delete_on_termination="true",
                    ),
                )
            ],
            # With a launch template EKS adds no group itself: the cluster SG (control plane <-> nodes) and the
            # seed's nodes SG (ALB -> service ports, node <-> node, data tier and endpoints).
            vpc_security_group_ids=[cluster.cluster_security_group_id, network.nodes_security_group_id],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(
                    resource_type=rt, tags=tags(COMPONENT, f"{prefix}-node")
                )
                for rt in ("instance", "volume")
            ],
            tags=tags(COMPONENT, f"{name}-nodes"),
            opts=child,
        )
        node_group = eks.ManagedNodeGroup(
            f"{name}-nodes",
            cluster=cluster,
            node_group_name=f"{prefix}-general",
            node_role=node_role,
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
            opts=pulumi.ResourceOptions(parent=self, depends_on=node_policies),
        )
        self.node_role_arn = node_role.arn
        # The node group's URN carries the dependency: an add-on taking this name waits for the nodes (pulumi-eks
        # creates in-cluster add-ons before any node, and a DaemonSet add-on would report DEGRADED until then).
        self.nodes_ready_cluster_name = pulumi.Output.all(prefix, node_group.urn).apply(lambda v: str(v[0]))
        after_nodes = pulumi.ResourceOptions(parent=self, depends_on=[cluster, node_group])
        # CoreDNS needs nodes to become ACTIVE; created after the node group it adopts the CoreDNS Deployment EKS
        # bootstrapped with the cluster (OVERWRITE), with the replicas and requests the capacity check counts.
        coredns = aws.eks.Addon(
            f"{name}-coredns",
            cluster_name=prefix,
            addon_name="coredns",
            configuration_values=json.dumps(
                {
                    "replicaCount": c.system_replicas,
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

        # --- the Kubernetes provider: this cluster's kubeconfig, nothing ambient ---
        self.kubeconfig = pulumi.Output.secret(cluster.kubeconfig_json)
        k8s_provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=self.kubeconfig, enable_server_side_apply=True, opts=child
        )
        # Workloads (and the database bootstrap Job) resolve the stores' endpoints: they wait for cluster DNS too.
        on_cluster = pulumi.ResourceOptions(
            parent=self, provider=k8s_provider, depends_on=[node_group, coredns]
        )

        def irsa_role(role: str, namespace: str, service_account: str, description: str) -> aws.iam.Role:
            trust = iam.policy_json(
                self,
                [
                    {
                        "effect": "Allow",
                        "actions": ["sts:AssumeRoleWithWebIdentity"],
                        "principals": [{"type": "Federated", "identifiers": [cluster.oidc_provider_arn]}],
                        "conditions": [
                            iam.condition(
                                "StringEquals",
                                pulumi.Output.concat(oidc_issuer, ":sub"),
                                f"system:serviceaccount:{namespace}:{service_account}",
                            ),
                            iam.condition(
                                "StringEquals", pulumi.Output.concat(oidc_issuer, ":aud"), "sts.amazonaws.com"
                            ),
                        ],
                    }
                ],
            )
            return aws.iam.Role(
                f"{name}-{role}",
                name=f"{prefix}-{role}",
                description=description,
                assume_role_policy=trust,
                tags=tags(COMPONENT, f"{prefix}-{role}"),
                opts=child,
            )

        # --- ECR: one repository per service; immutable tags, scanned, KMS, old images expire ---
        ecr_key = iam.customer_key(
            self,
            f"{name}-ecr-key",
            description=f"ECR repositories of {prefix}",
            account_id=account_id,
            partition=partition,
            tags=tags(COMPONENT, f"{name}-ecr-key"),
            opts=child,
        )
        lifecycle = pulumi.Output.json_dumps(
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "description": "Untagged layers go after a week",
                        "selection": {
                            "tagStatus": "untagged",
                            "countType": "sinceImagePushed",
                            "countUnit": "days",
                            "countNumber": 7,
                        },
                        "action": {"type": "expire"},
                    },
                    {
                        "rulePriority": 2,
                        "description": "Keep the 50 newest tagged images (rollbacks)",
                        "selection": {
                            "tagStatus": "any",
                            "countType": "imageCountMoreThan",
                            "countNumber": 50,
                        },
                        "action": {"type": "expire"},
                    },
                ]
            }
        )
        self.repository_urls = {}
        self.service_role_arns = {}
        roles: dict[str, aws.iam.Role] = {}
        for svc in CATALOGUE:
            # The name Delivery's image-push role is scoped to (`delivery.ecrRepositoryPrefix`).
            repo_name = ecr_repository_name(settings.delivery.ecr_repository_prefix, svc.name)
            repo = aws.ecr.Repository(
                f"{name}-{svc.name}",
                name=repo_name,
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
                    scan_on_push=True
                ),
                encryption_configurations=[
                    aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=ecr_key.arn)
                ],
                force_delete=not settings.protect_data,
                tags=tags(COMPONENT, repo_name, Service=svc.name),
                opts=child,
            )
            aws.ecr.LifecyclePolicy(f"{name}-{svc.name}", repository=repo.name, policy=lifecycle, opts=child)
            self.repository_urls[svc.name] = repo.repository_url

            role = irsa_role(f"svc-{svc.name}", NAMESPACE, svc.name, f"IRSA role of the {svc.name} service")
            statements = service_statements(
                stores[svc.name], partition=partition, region=region, account_id=account_id
            )
            if statements:
                aws.iam.RolePolicy(
                    f"{name}-svc-{svc.name}",
                    role=role.id,
                    policy=iam.policy_json(self, statements),
                    opts=child,
                )
            roles[svc.name] = role
            self.service_role_arns[svc.name] = role.arn
            search = stores[svc.name].search
            if search is not None:
                self._search_domain_policy(name, search.domain_arn, role.arn)

        # --- the public ALB, owned by Pulumi ---
        target_groups = self._alb(name, prefix, settings, network, account_id, partition, region)
        self.target_group_arn_suffixes = {svc: tg.arn_suffix for svc, tg in target_groups.items()}

        # --- controllers: Load Balancer Controller (target registration only) and Cluster Autoscaler ---
        lbc_sa = "aws-load-balancer-controller"
        lbc_role = irsa_role(
            "aws-load-balancer-controller",
            "kube-system",
            lbc_sa,
            "AWS Load Balancer Controller: registers pod IPs in Pulumi's target groups",
        )
        aws.iam.RolePolicy(
            f"{name}-aws-load-balancer-controller",
            role=lbc_role.id,
            policy=iam.policy_json(
                self,
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
                        [tg.arn for tg in target_groups.values()],
                        sid="RegisterPodsInOwnTargetGroups",
                    ),
                ],
            ),
            opts=child,
        )
        lbc = k8s.helm.v3.Release(
            f"{name}-aws-load-balancer-controller",
            name="aws-load-balancer-controller",
            chart=LB_CONTROLLER_CHART[0],
            version=LB_CONTROLLER_CHART[1],
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=LB_CONTROLLER_CHART[2]),
            namespace="kube-system",
            atomic=True,
            values={
                "clusterName": prefix,
                # IMDS is out of reach (hop limit 1): the controller is told where it runs.
                "region": region,
                "vpcId": network.vpc_id,
                "replicaCount": c.system_replicas,
                "serviceAccount": {
                    "create": True,
                    "name": lbc_sa,
                    "annotations": {"eks.amazonaws.com/role-arn": lbc_role.arn},
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
        ca_sa = "cluster-autoscaler"
        ca_role = irsa_role(
            "cluster-autoscaler",
            "kube-system",
            ca_sa,
            "Cluster Autoscaler: resizes this cluster's node groups",
        )
        aws.iam.RolePolicy(
            f"{name}-cluster-autoscaler",
            role=ca_role.id,
            policy=iam.policy_json(
                self,
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
            ),
            opts=child,
        )
        ca_chart, ca_app = CLUSTER_AUTOSCALER_RELEASES[c.kubernetes_version]
        k8s.helm.v3.Release(
            f"{name}-cluster-autoscaler",
            name="cluster-autoscaler",
            chart="cluster-autoscaler",
            version=ca_chart,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CLUSTER_AUTOSCALER_REPO),
            namespace="kube-system",
            atomic=True,
            values={
                "cloudProvider": "aws",
                "awsRegion": region,
                "autoDiscovery": {"clusterName": prefix},
                # The chart's own appVersion, for the cluster's minor (see CLUSTER_AUTOSCALER_RELEASES).
                "image": {"tag": f"v{ca_app}"},
                "rbac": {
                    "serviceAccount": {
                        "create": True,
                        "name": ca_sa,
                        "annotations": {"eks.amazonaws.com/role-arn": ca_role.arn},
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

        # --- the workloads from k8s/ ---
        def apply(
            role: str, manifest: workloads.Manifest, opts: pulumi.ResourceOptions
        ) -> pulumi.CustomResource:
            kinds: Mapping[str, Any] = {
                "Namespace": k8s.core.v1.Namespace,
                "ServiceAccount": k8s.core.v1.ServiceAccount,
                "ConfigMap": k8s.core.v1.ConfigMap,
                "Service": k8s.core.v1.Service,
                "Deployment": k8s.apps.v1.Deployment,
                "HorizontalPodAutoscaler": k8s.autoscaling.v2.HorizontalPodAutoscaler,
                "PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
                "NetworkPolicy": k8s.networking.v1.NetworkPolicy,
            }
            body = {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
            if "automountServiceAccountToken" in body:
                body["automount_service_account_token"] = body.pop("automountServiceAccountToken")
            kind = manifest["kind"]
            if kind in kinds:
                return kinds[kind](f"{name}-{role}", **body, opts=opts)
            return k8s.apiextensions.CustomResource(
                f"{name}-{role}", api_version=manifest["apiVersion"], kind=kind, **body, opts=opts
            )

        ns = apply("namespace", workloads.namespace(), on_cluster)
        # After the controller: its webhook injects the target-group readiness gate into every new pod.
        in_ns = pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[ns, lbc]))
        apply("netpol-default-deny", workloads.default_deny(), in_ns)
        apply("netpol-allow-dns", workloads.allow_dns(), in_ns)
        alb_cidrs = list(n.public_subnet_cidrs)
        for svc in CATALOGUE:
            size = svc.sized(c.workload_profile)
            own = stores[svc.name]
            s = svc.name
            apply(f"{s}-sa", workloads.service_account(svc, roles[s].arn), in_ns)
            apply(f"{s}-config", workloads.config_map(svc, service_config(svc, own, region)), in_ns)
            # A fresh account's repositories are empty until the images workflow pushes and pins a tag, and the
            # Kubernetes provider waits ten minutes for a Deployment's pods: an unpublished service's Deployment runs
            # 0 replicas and has no HPA (the HPA controller disables scaling of a target at 0 replicas, so one would
            # only sit in ScalingDisabled). Once pinned, the HPA exists and owns the replica count.
            tag = published_tag(s, dict(c.image_tags))
            image = pulumi.Output.concat(self.repository_urls[s], ":", tag or UNPUBLISHED_TAG)
            apply(f"{s}-deployment", workloads.deployment(svc, size, image, published=tag is not None), in_ns)
            k8s_service = apply(f"{s}-service", workloads.service(svc), in_ns)
            if tag is not None:
                apply(f"{s}-hpa", workloads.horizontal_pod_autoscaler(svc, size), in_ns)
            apply(f"{s}-pdb", workloads.pod_disruption_budget(svc), in_ns)
            data_ports = [p for p, used in ((POSTGRES_PORT, own.database), (REDIS_PORT, own.cache)) if used]
            apply(
                f"{s}-netpol",
                workloads.network_policy(
                    svc,
                    ports,
                    alb_cidrs=alb_cidrs,
                    data_cidrs=list(n.private_subnet_cidrs),
                    data_ports=data_ports,
                ),
                in_ns,
            )
            if s in target_groups:
                apply(
                    f"{s}-tgb",
                    workloads.target_group_binding(svc, target_groups[s].arn),
                    pulumi.ResourceOptions.merge(
                        in_ns, pulumi.ResourceOptions(depends_on=[lbc, k8s_service])
                    ),
                )

        if database_admin is not None:
            self._database_bootstrap(
                name,
                prefix,
                database_admin,
                stores,
                private_cidrs=list(n.private_subnet_cidrs),
                node_role=node_role,
                irsa_role=irsa_role,
                caller=(account_id, partition, region),
                opts=in_ns,
            )

        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "kubeconfig": self.kubeconfig,
                "oidc_provider_arn": self.oidc_provider_arn,
                "node_role_arn": self.node_role_arn,
                "service_role_arns": self.service_role_arns,
                "repository_urls": self.repository_urls,
                "alb_arn": self.alb_arn,
                "alb_dns_name": self.alb_dns_name,
            }
        )

    def _database_bootstrap(
        self,
        name: str,
        prefix: str,
        admin: DatabaseAdminAccess,
        stores: DataContract,
        *,
        private_cidrs: Sequence[str],
        node_role: aws.iam.Role,
        irsa_role: Callable[[str, str, str, str], aws.iam.Role],
        caller: tuple[pulumi.Output[str], pulumi.Output[str], pulumi.Output[str]],
        opts: pulumi.ResourceOptions,
    ) -> None:
        """The database bootstrap Job (k8s/dbboot.py), its IRSA role, NetworkPolicy and the image cache it pulls from.

        The Job is created after the Aurora writer instance (it reads one of its outputs), the nodes and the
        namespace's policies (`opts`); the Kubernetes provider waits for it to complete, so a failed bootstrap fails
        the `up`. Its name carries a hash of the SQL, so a changed login set runs it again.
        """
        child = pulumi.ResourceOptions(parent=self)
        account_id, partition, region = caller
        try:
            sql = dbboot.bootstrap_sql(
                dbboot.logins(
                    {
                        s: (st.database.database, st.database.db_user) if st.database is not None else None
                        for s, st in stores.items()
                    }
                )
            )
            cache_prefix = dbboot.cache_prefix(prefix)
        except ValueError as err:
            raise pulumi.RunError(f"database bootstrap: {err}") from err

        # ECR fetches ECR Public's layers itself, so the Job's images reach private nodes through the ECR endpoints
        # on an account that has pushed nothing yet.
        cache = aws.ecr.PullThroughCacheRule(
            f"{name}-ecr-public-cache",
            ecr_repository_prefix=cache_prefix,
            upstream_registry_url=dbboot.ECR_PUBLIC,
            opts=child,
        )
        # The first pull through a rule creates the cache repository and imports the image as the puller (ECR User
        # Guide, "IAM permissions required to sync an upstream registry"): the node role, for this prefix only.
        pull_through = aws.iam.RolePolicy(
            f"{name}-node-role-pull-through",
            role=node_role.id,
            policy=iam.policy_json(
                self,
                [
                    iam.allow(
                        ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                        [
                            pulumi.Output.format(
                                "arn:{0}:ecr:{1}:{2}:repository/{3}/*",
                                partition,
                                region,
                                account_id,
                                cache.ecr_repository_prefix,
                            )
                        ],
                        sid="PullThroughEcrPublicCache",
                    )
                ],
            ),
            opts=child,
        )
        dns_suffix = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).dns_suffix

        def image(upstream: str) -> pulumi.Output[str]:
            return pulumi.Output.format(
                "{0}.dkr.ecr.{1}.{2}/{3}/{4}",
                account_id,
                region,
                dns_suffix,
                cache.ecr_repository_prefix,
                upstream,
            )

        role = irsa_role(
            dbboot.NAME,
            NAMESPACE,
            dbboot.NAME,
            "Database bootstrap Job: reads the Aurora master secret to create the services' databases and logins",
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-{dbboot.NAME}",
            role=role.id,
            policy=iam.policy_json(
                self,
                [
                    iam.allow(
                        ["secretsmanager:GetSecretValue"], [admin.master_secret_arn], sid="ReadMasterSecret"
                    ),
                    # Secrets Manager decrypts with the caller's rights, naming the secret in the encryption context.
                    iam.allow(
                        ["kms:Decrypt"],
                        [admin.master_secret_key_arn],
                        sid="DecryptMasterSecretThroughSecretsManager",
                        conditions=[
                            iam.condition(
                                "StringEquals",
                                "kms:ViaService",
                                pulumi.Output.concat("secretsmanager.", region, ".", dns_suffix),
                            ),
                            iam.condition(
                                "StringEquals", "kms:EncryptionContext:SecretARN", admin.master_secret_arn
                            ),
                        ],
                    ),
                ],
            ),
            opts=child,
        )

        def body(manifest: workloads.Manifest) -> dict[str, Any]:
            out = {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
            if "automountServiceAccountToken" in out:
                out["automount_service_account_token"] = out.pop("automountServiceAccountToken")
            return out

        sa = k8s.core.v1.ServiceAccount(
            f"{name}-{dbboot.NAME}-sa", **body(dbboot.service_account(role.arn)), opts=opts
        )
        config = k8s.core.v1.ConfigMap(
            f"{name}-{dbboot.NAME}-config", **body(dbboot.config_map(sql, admin.master_secret_arn)), opts=opts
        )
        netpol = k8s.networking.v1.NetworkPolicy(
            f"{name}-{dbboot.NAME}-netpol",
            **body(dbboot.network_policy(private_cidrs, admin.port)),
            opts=opts,
        )
        manifest = dbboot.job(
            dbboot.job_name(sql),
            aws_cli_image=image(dbboot.AWS_CLI_IMAGE),
            psql_image=image(dbboot.PSQL_IMAGE),
            region=region,
            host=admin.endpoint,
            port=admin.port,
            master_username=admin.master_username,
            writer=admin.writer_instance_arn,
        )
        wait = f"{dbboot.ACTIVE_DEADLINE_SECONDS // 60 + 5}m"
        k8s.batch.v1.Job(
            f"{name}-{dbboot.NAME}",
            **body(manifest),
            opts=pulumi.ResourceOptions.merge(
                opts,
                pulumi.ResourceOptions(
                    depends_on=[sa, config, netpol, role_policy, pull_through],
                    # A Job's pod template is immutable: any change is a new Job, and the old one (same name when
                    # only an endpoint changed) must be gone first.
                    replace_on_changes=["spec"],
                    delete_before_replace=True,
                    custom_timeouts=pulumi.CustomTimeouts(create=wait, update=wait),
                ),
            ),
        )

    def _search_domain_policy(
        self, name: str, domain_arn: pulumi.Output[str], role_arn: pulumi.Output[str]
    ) -> None:
        """The OpenSearch domain's resource policy: HTTP verbs for the search service's role and no one else.

        It lives here, not in the DataTier, because the role is created here from the DataTier's contract; setting
        it on the domain itself would need the role before the domain, and the role needs the domain's ARN.
        """
        aws.opensearch.DomainPolicy(
            f"{name}-search-access",
            domain_name=domain_arn.apply(lambda arn: arn.rsplit("/", 1)[-1]),
            access_policies=iam.policy_json(
                self,
                [
                    {
                        "sid": "SearchServiceOnly",
                        "effect": "Allow",
                        "principals": [{"type": "AWS", "identifiers": [role_arn]}],
                        "actions": _SEARCH_HTTP,
                        "resources": [pulumi.Output.concat(domain_arn, "/*")],
                    }
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _alb(
        self,
        name: str,
        prefix: str,
        settings: Settings,
        network: MeshNetwork,
        account_id: pulumi.Output[str],
        partition: pulumi.Output[str],
        region: pulumi.Output[str],
    ) -> dict[str, aws.lb.TargetGroup]:
        """The ALB, its logs, listeners, target groups and path rules; sets `alb_*` and `alb_origin`."""
        child = pulumi.ResourceOptions(parent=self)
        c, edge = settings.cluster, settings.edge

        # Access logs: ALB writes them only to buckets encrypted with SSE-S3 (AES256); SSE-KMS is not supported
        # for ALB access logs, so this bucket is the one exception to customer-managed keys.
        logs = aws.s3.Bucket(
            f"{name}-alb-logs",
            bucket_prefix=f"{prefix}-alb-logs-",
            force_destroy=not settings.protect_data,
            tags=tags(COMPONENT, f"{name}-alb-logs"),
            opts=child,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-alb-logs",
            bucket=logs.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-alb-logs",
            bucket=logs.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-alb-logs",
            bucket=logs.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-alb-logs",
            bucket=logs.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-access-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=c.alb_log_retention_days
                    ),
                    abort_incomplete_multipart_upload=(
                        aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                            days_after_initiation=7
                        )
                    ),
                )
            ],
            opts=child,
        )
        log_objects = pulumi.Output.format(
            "arn:{0}:s3:::{1}/alb/AWSLogs/{2}/*", partition, logs.bucket, account_id
        )
        elb_account = region.apply(lambda r: ELB_LOG_ACCOUNTS.get(r, ""))
        log_policy = aws.s3.BucketPolicy(
            f"{name}-alb-logs",
            bucket=logs.id,
            policy=iam.policy_json(
                self,
                [
                    {
                        "sid": "ElbDeliversAccessLogs",
                        "effect": "Allow",
                        "actions": ["s3:PutObject"],
                        "resources": [log_objects],
                        "principals": [
                            {
                                "type": "AWS",
                                "identifiers": [
                                    pulumi.Output.format("arn:{0}:iam::{1}:root", partition, elb_account)
                                ],
                            }
                        ],
                    },
                    {
                        "sid": "DenyInsecureTransport",
                        "effect": "Deny",
                        "actions": ["s3:*"],
                        "resources": [logs.arn, pulumi.Output.concat(logs.arn, "/*")],
                        "principals": [{"type": "*", "identifiers": ["*"]}],
                        "conditions": [iam.condition("Bool", "aws:SecureTransport", "false")],
                    },
                ],
            ),
            opts=child,
        )

        alb = aws.lb.LoadBalancer(
            f"{name}-alb",
            name=f"{prefix}-alb",
            load_balancer_type="application",
            internal=False,
            security_groups=[network.alb_security_group_id],
            subnets=list(network.public_subnet_ids),
            drop_invalid_header_fields=True,
            desync_mitigation_mode="defensive",
            enable_deletion_protection=c.alb_deletion_protection,
            enable_http2=True,
            idle_timeout=60,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=logs.bucket, prefix="alb", enabled=True),
            tags=tags(COMPONENT, f"{prefix}-alb"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_policy]),
        )
        self.alb_arn = alb.arn
        self.alb_dns_name = alb.dns_name
        self.alb_arn_suffix = alb.arn_suffix

        verify = random.RandomPassword(f"{name}-origin-verify", length=48, special=False, opts=child)
        header_value: pulumi.Output[str] = pulumi.Output.secret(cast(Any, verify.result))
        forbidden = aws.lb.ListenerDefaultActionArgs(
            type="fixed-response",
            fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                content_type="text/plain", status_code="403", message_body="Forbidden"
            ),
        )

        if edge.domain_name:
            zone = aws.route53.get_zone_output(
                name=edge.domain_name, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            cert = aws.acm.Certificate(
                f"{name}-origin-cert",
                domain_name=edge.origin_host,
                validation_method="DNS",
                tags=tags(COMPONENT, edge.origin_host),
                opts=child,
            )
            dvo = cert.domain_validation_options[0]
            validation_record = aws.route53.Record(
                f"{name}-origin-cert-validation",
                zone_id=zone.zone_id,
                name=dvo.resource_record_name,
                type=dvo.resource_record_type,
                records=[dvo.resource_record_value],
                ttl=300,
                allow_overwrite=True,
                opts=child,
            )
            validated = aws.acm.CertificateValidation(
                f"{name}-origin-cert",
                certificate_arn=cert.arn,
                validation_record_fqdns=[validation_record.fqdn],
                opts=child,
            )
            serving = aws.lb.Listener(
                f"{name}-https",
                load_balancer_arn=alb.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=ALB_SSL_POLICY,
                certificate_arn=validated.certificate_arn,
                default_actions=[forbidden],
                tags=tags(COMPONENT, f"{name}-https"),
                opts=child,
            )
            aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=alb.arn,
                port=80,
                protocol="HTTP",
                default_actions=[
                    aws.lb.ListenerDefaultActionArgs(
                        type="redirect",
                        redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                            protocol="HTTPS", port="443", status_code="HTTP_301"
                        ),
                    )
                ],
                tags=tags(COMPONENT, f"{name}-http"),
                opts=child,
            )
            aws.route53.Record(
                f"{name}-origin",
                zone_id=zone.zone_id,
                name=edge.origin_host,
                type="A",
                aliases=[
                    aws.route53.RecordAliasArgs(
                        name=alb.dns_name, zone_id=alb.zone_id, evaluate_target_health=True
                    )
                ],
                opts=child,
            )
            origin_domain: pulumi.Output[str] = pulumi.Output.from_input(edge.origin_host)
            protocol = "https-only"
        else:
            serving = aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=alb.arn,
                port=80,
                protocol="HTTP",
                default_actions=[forbidden],
                tags=tags(COMPONENT, f"{name}-http"),
                opts=child,
            )
            origin_domain = alb.dns_name
            protocol = "http-only"

        target_groups: dict[str, aws.lb.TargetGroup] = {}
        priority = 10
        for svc in CATALOGUE:
            if not svc.public:
                continue
            tg = aws.lb.TargetGroup(
                f"{name}-tg-{svc.name}",
                # ALB names: 32 characters at most.
                name=f"{prefix}-{svc.name}"[:32],
                target_type="ip",
                protocol="HTTP",
                port=svc.port,
                vpc_id=network.vpc_id,
                deregistration_delay=30,
                health_check=aws.lb.TargetGroupHealthCheckArgs(
                    enabled=True,
                    path=READY_PATH,
                    port="traffic-port",
                    protocol="HTTP",
                    matcher="200",
                    interval=15,
                    timeout=5,
                    healthy_threshold=2,
                    unhealthy_threshold=3,
                ),
                tags=tags(COMPONENT, f"{prefix}-{svc.name}", Service=svc.name),
                opts=child,
            )
            target_groups[svc.name] = tg
            conditions = [
                aws.lb.ListenerRuleConditionArgs(
                    path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=list(svc.paths))
                )
            ]
            if settings.network.alb_ingress == "cloudfront":
                # Only CloudFront knows the value; anything else reaching the ALB gets the default 403.
                conditions.append(
                    aws.lb.ListenerRuleConditionArgs(
                        http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(
                            http_header_name=ORIGIN_VERIFY_HEADER, values=[header_value]
                        )
                    )
                )
            aws.lb.ListenerRule(
                f"{name}-rule-{svc.name}",
                listener_arn=serving.arn,
                priority=priority,
                conditions=conditions,
                actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=tg.arn)],
                tags=tags(COMPONENT, f"{name}-rule-{svc.name}"),
                opts=child,
            )
            priority += 10

        self.alb_origin = AlbOrigin(
            domain_name=origin_domain,
            protocol=protocol,
            port=edge.origin_port,
            verify_header_value=header_value,
            alb_arn=alb.arn,
        )
        return target_groups
