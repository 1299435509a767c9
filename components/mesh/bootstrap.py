"""Database bootstrap: the Job of `k8s/dbboot.py` that creates each service's Aurora database and IAM login, with
its IRSA role, ServiceAccount, ConfigMap and NetworkPolicy, and the ECR pull-through cache its images come from.

The Job is created after the Aurora writer instance (it reads one of its outputs), the nodes and the namespace's
policies; the Kubernetes provider waits for it to complete, so a failed bootstrap fails the `up`. Its name carries a
hash of the SQL, so a changed login set runs it again. What it must not do: put the master password anywhere but
in the pod at run time, or let its role read any secret but the master secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import iam
from components.contracts import DatabaseAdminAccess, DataContract
from components.mesh.cluster import Cluster
from components.mesh.identities import irsa_role
from components.mesh.scope import Scope
from components.mesh.workloads import body
from k8s import dbboot
from k8s.catalogue import NAMESPACE


@dataclass(frozen=True)
class _ImageCache:
    """The pull-through cache rule's repository prefix, and the node-role grant the first pull needs."""

    repository_prefix: pulumi.Output[str]
    node_grant: aws.iam.RolePolicy
    """Whole resource: the Job waits for it (an id would not order the Job after the grant)."""


def _bootstrap_sql(scope: Scope, stores: DataContract) -> tuple[str, str]:
    """The SQL from the contract's databases and the cache prefix; a bad name stops the program, naming it."""
    try:
        sql = dbboot.bootstrap_sql(
            dbboot.logins(
                {
                    s: (st.database.database, st.database.db_user) if st.database is not None else None
                    for s, st in stores.items()
                }
            )
        )
        return sql, dbboot.cache_prefix(scope.prefix)
    except ValueError as err:
        raise pulumi.RunError(f"database bootstrap: {err}") from err


def _image_cache(scope: Scope, cache_prefix: str, node_role_id: pulumi.Output[str]) -> _ImageCache:
    """ECR fetches ECR Public's layers itself, so the Job's images reach private nodes through the ECR endpoints
    on an account that has pushed nothing yet."""
    cache = aws.ecr.PullThroughCacheRule(
        f"{scope.name}-ecr-public-cache",
        ecr_repository_prefix=cache_prefix,
        upstream_registry_url=dbboot.ECR_PUBLIC,
        opts=scope.child,
    )
    # The first pull through a rule creates the cache repository and imports the image as the puller (ECR User
    # Guide, "IAM permissions required to sync an upstream registry"): the node role, for this prefix only.
    grant = aws.iam.RolePolicy(
        f"{scope.name}-node-role-pull-through",
        role=node_role_id,
        policy=iam.policy_json(
            scope.owner,
            [
                iam.allow(
                    ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                    [
                        pulumi.Output.format(
                            "arn:{0}:ecr:{1}:{2}:repository/{3}/*",
                            scope.partition,
                            scope.region,
                            scope.account_id,
                            cache.ecr_repository_prefix,
                        )
                    ],
                    sid="PullThroughEcrPublicCache",
                )
            ],
        ),
        opts=scope.child,
    )
    return _ImageCache(cache.ecr_repository_prefix, grant)


def _role_policy(
    scope: Scope, role_id: pulumi.Output[str], admin: DatabaseAdminAccess, dns_suffix: pulumi.Output[str]
) -> aws.iam.RolePolicy:
    """Read the master secret, and decrypt it only through Secrets Manager, for that secret."""
    return aws.iam.RolePolicy(
        f"{scope.name}-{dbboot.NAME}",
        role=role_id,
        policy=iam.policy_json(
            scope.owner,
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
                            pulumi.Output.concat("secretsmanager.", scope.region, ".", dns_suffix),
                        ),
                        iam.condition(
                            "StringEquals", "kms:EncryptionContext:SecretARN", admin.master_secret_arn
                        ),
                    ],
                ),
            ],
        ),
        opts=scope.child,
    )


def database_bootstrap(
    scope: Scope,
    cluster: Cluster,
    admin: DatabaseAdminAccess,
    stores: DataContract,
    *,
    private_cidrs: Sequence[str],
    node_role_id: pulumi.Output[str],
    opts: pulumi.ResourceOptions,
) -> None:
    """The Job, its role and objects, and the image cache; `opts` puts them in the namespace, after its policies."""
    sql, cache_prefix = _bootstrap_sql(scope, stores)
    cache = _image_cache(scope, cache_prefix, node_role_id)
    dns_suffix = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=scope.owner)).dns_suffix

    def image(upstream: str) -> pulumi.Output[str]:
        return pulumi.Output.format(
            "{0}.dkr.ecr.{1}.{2}/{3}/{4}",
            scope.account_id,
            scope.region,
            dns_suffix,
            cache.repository_prefix,
            upstream,
        )

    role = irsa_role(
        scope,
        cluster,
        dbboot.NAME,
        NAMESPACE,
        dbboot.NAME,
        "Database bootstrap Job: reads the Aurora master secret to create the services' databases and logins",
    )
    role_policy = _role_policy(scope, role.id, admin, dns_suffix)
    name = scope.name
    sa = k8s.core.v1.ServiceAccount(
        f"{name}-{dbboot.NAME}-sa", **body(dbboot.service_account(role.arn)), opts=opts
    )
    config = k8s.core.v1.ConfigMap(
        f"{name}-{dbboot.NAME}-config", **body(dbboot.config_map(sql, admin.master_secret_arn)), opts=opts
    )
    netpol = k8s.networking.v1.NetworkPolicy(
        f"{name}-{dbboot.NAME}-netpol", **body(dbboot.network_policy(private_cidrs, admin.port)), opts=opts
    )
    manifest = dbboot.job(
        dbboot.job_name(sql),
        aws_cli_image=image(dbboot.AWS_CLI_IMAGE),
        psql_image=image(dbboot.PSQL_IMAGE),
        region=scope.region,
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
                depends_on=[sa, config, netpol, role_policy, cache.node_grant],
                # A Job's pod template is immutable: any change is a new Job, and the old one (same name when
                # only an endpoint changed) must be gone first.
                replace_on_changes=["spec"],
                delete_before_replace=True,
                custom_timeouts=pulumi.CustomTimeouts(create=wait, update=wait),
            ),
        ),
    )
