"""ServiceMesh: the EKS cluster, its nodes and add-ons, one least-privilege identity per microservice, the ECR
repositories, the public ALB and the eight workloads from `k8s/`.

Decisions (the README explains them): identities are IRSA roles (trust bound to exactly one service account, no
agent DaemonSet taking a pod slot on t3.micro nodes); the node autoscaler is the Cluster Autoscaler (it scales
the one managed node group whose sizes come from settings, and fits in 160 MiB); the ALB is owned by Pulumi and
the Load Balancer Controller only registers pod IPs in its target groups (`TargetGroupBinding`), so `pulumi
destroy` leaves no controller-made load balancer behind and the controller needs no right to create or delete one.

The constructor is the table of contents; each seam's builders live in their own module of this package
(`cluster`, `identities`, `registry`, `ingress`, `controllers`, `workloads`, `bootstrap`) and create their resources
as children of this component.

What it must not do: give a service's role any store that is not in that service's `ServiceStores`; put a secret
value in a manifest (pods get a secret's ARN, never its value); create a Kubernetes object without the explicit
Kubernetes provider built from this cluster's kubeconfig; leave pulumi-eks's non-production defaults in place
(public endpoint open to the world, no logs, no envelope encryption, extended support).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi

from components import iam
from components.config import Settings
from components.contracts import AlbOrigin, DatabaseAdminAccess, DataContract
from components.mesh import bootstrap, cluster, controllers, identities, ingress, registry, workloads
from components.mesh.scope import MeshNetwork, Scope, StandbyRole
from components.naming import cluster_name
from k8s.catalogue import catalogue_problems


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
    target_group_arn_suffixes: Mapping[str, pulumi.Output[str]]
    oidc_issuer: pulumi.Output[str]
    control_plane_log_group_name: pulumi.Output[str]
    nodes_ready_cluster_name: pulumi.Output[str]
    """The cluster's name, resolved only once the node group exists: add-ons that need nodes take it."""
    alb_zone_id: pulumi.Output[str]
    """The ALB's Route 53 hosted zone: an alias record to it names it."""
    origin_validation_fqdn: pulumi.Output[str] | None
    """The ACM validation record of `origin.<domain>` (None without a domain): the standby's certificate uses it."""

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
        standby: StandbyRole | None = None,
        route_origin: bool | Sequence[pulumi.Alias] = True,
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
            database and IAM login (`bootstrap.database_bootstrap`).
        :param standby: given, this mesh is the DR region's warm standby (`StandbyRole`), under the StandbyRegion.
        :param route_origin: False: `origin.<domain>` is a failover pair `components/standby.py` owns; aliases: this
            mesh writes the record, which may have been the pair's primary (`standby.origin_record_aliases`).
        """
        super().__init__("ecommerce:compute:ServiceMesh", name, None, opts)
        self._check_catalogue(settings, stores)
        if standby is not None and database_admin is not None:
            raise ValueError(
                f"{name}: a standby mesh runs no database bootstrap (its Aurora secondary is read-only)"
            )
        account_id, partition, region = iam.caller(self)
        # IAM names are global to the account: the standby's cluster (and so every role named from it) is `-dr`.
        self.cluster_name = cluster_name(settings.environment) + ("-dr" if standby is not None else "")
        scope = Scope(self, name, self.cluster_name, settings, account_id, partition, region)

        # Cluster and nodes.
        key_arn = cluster.cluster_key(scope)
        roles = cluster.roles(scope, key_arn)
        logs = cluster.control_plane_logs(scope)
        eks_cluster = cluster.cluster(
            scope,
            network,
            key_arn=key_arn,
            roles=roles,
            logs=logs,
            deployer_role_arns=deployer_role_arns,
            viewer_role_arns=viewer_role_arns,
            ci_access_cidrs=standby.api_access_cidrs if standby is not None else (),
        )
        node_group = cluster.nodes(scope, network, key_arn=key_arn, roles=roles, cluster=eks_cluster)
        coredns = cluster.add_ons(scope, eks_cluster, node_group)
        on_cluster = cluster.kubernetes(scope, eks_cluster, node_group, coredns)
        self.oidc_provider_arn = eks_cluster.oidc_provider_arn
        self.cluster_security_group_id = eks_cluster.security_group_id
        self.node_role_arn = roles.node.arn
        self.kubeconfig = on_cluster.kubeconfig
        self.oidc_issuer = eks_cluster.oidc_issuer
        self.control_plane_log_group_name = logs.name
        # The node group's URN carries the dependency: an add-on taking this name waits for the nodes (pulumi-eks
        # creates in-cluster add-ons before any node, and a DaemonSet add-on would report DEGRADED until then).
        self.nodes_ready_cluster_name = pulumi.Output.all(self.cluster_name, node_group.urn).apply(
            lambda v: str(v[0])
        )

        # Registry, identities, ingress.
        self.repository_urls = (
            registry.repositories(scope) if standby is None else dict(standby.repository_urls)
        )
        self.service_role_arns = identities.service_identities(scope, eks_cluster, stores)
        alb = ingress.ingress(scope, network, route_origin=route_origin, standby=standby)
        self.alb_zone_id, self.origin_validation_fqdn = alb.alb_zone_id, alb.validation_fqdn
        self.alb_arn, self.alb_dns_name, self.alb_origin = alb.alb_arn, alb.alb_dns_name, alb.origin
        self.alb_arn_suffix, self.target_group_arn_suffixes = (
            alb.alb_arn_suffix,
            alb.target_group_arn_suffixes,
        )

        # Controllers, then the workloads they serve.
        lbc = controllers.load_balancer_controller(
            scope, network, eks_cluster, alb.target_group_arns, on_cluster.opts
        )
        controllers.cluster_autoscaler(scope, eks_cluster, on_cluster.opts)
        in_ns = workloads.namespace(scope, on_cluster.opts, lbc)
        placement = workloads.Placement(
            service_role_arns=self.service_role_arns,
            repository_urls=self.repository_urls,
            target_group_arns=alb.target_group_arns,
            public_cidrs=settings.network.public_subnet_cidrs,
            private_cidrs=settings.network.private_subnet_cidrs,
        )
        workloads.services(scope, stores, placement, in_ns, lbc)
        if database_admin is not None:
            bootstrap.database_bootstrap(
                scope,
                eks_cluster,
                database_admin,
                stores,
                private_cidrs=list(settings.network.private_subnet_cidrs),
                node_role_id=roles.node.id,
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

    @staticmethod
    def _check_catalogue(settings: Settings, stores: DataContract) -> None:
        ports = settings.network.service_ports
        problems = catalogue_problems(ports.from_port, ports.to_port, tuple(stores))
        if problems:
            raise pulumi.RunError(
                "The service catalogue is inconsistent; nothing was created:\n  " + "\n  ".join(problems)
            )
