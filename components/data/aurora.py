"""Aurora PostgreSQL: the cluster, its parameter groups, monitoring role and instances, and its master credential.

The master credential: RDS manages it in Secrets Manager (`manage_master_user_password`, rotated by RDS every 7 days)
unless the cluster is the primary of an Aurora global database (`dr.mode` pilot-light or warm-standby), which RDS
refuses that for (Aurora user guide, "Password management with Amazon Aurora and AWS Secrets Manager", limitations:
"DB clusters that are part of an Aurora global database"). Then this component generates the password itself and
keeps it in its own secret with the same JSON keys (`username`, `password`) as RDS's, so the database bootstrap Job
(k8s/dbboot.py) reads either alike. docs/data-tier.md, "The master credential", says what replaces RDS's rotation.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components import iam
from components.aurora import cluster_arguments, cluster_parameter_group
from components.data.base import COMPONENT, MASTER_USERNAME, ORDERS_DATABASE, DataTierBase
from components.naming import tags

#: The characters the generated master password draws its specials from: pulumi-random's default set without `@`.
#: RDS takes any printable ASCII for an Aurora master password except `/`, `"` and `@` (RDS API, CreateDBCluster,
#: MasterUserPassword constraints), and no space; the bootstrap Job's `.pgpass` writer escapes `:` (k8s/dbboot.py).
MASTER_PASSWORD_SPECIALS = "!#$%&*()-_=+[]{}<>:?"
#: Its length: an Aurora master password has 8 to 41 characters (RDS API, CreateDBCluster, same constraints).
MASTER_PASSWORD_LENGTH = 40


def master_secret_string(password: pulumi.Input[str]) -> pulumi.Output[str]:
    """The own master secret's value: the JSON keys of the RDS-managed secret (`username`, `password`), which the
    database bootstrap Job reads (k8s/dbboot.py), kept a Pulumi secret."""
    return pulumi.Output.secret(pulumi.Output.json_dumps({"username": MASTER_USERNAME, "password": password}))


class AuroraMixin(DataTierBase):
    def _aurora(
        self, key: aws.kms.Key, secrets_key: aws.kms.Key, logs_key: aws.kms.Key
    ) -> tuple[aws.rds.Cluster, aws.rds.ClusterInstance, pulumi.Output[str]]:
        """The cluster (with its subnet group, TLS-only parameters and log group), then its instances; returns them
        and the ARN of the secret that holds the master credential (RDS's, or our own for a global database)."""
        d, n = self._d, self._name
        cluster_id = f"{self._base}-aurora"
        protect = self._settings.protect_data
        subnet_group = aws.rds.SubnetGroup(
            f"{n}-aurora",
            name=cluster_id,
            description="Aurora PostgreSQL: the private subnets",
            subnet_ids=self._subnets,
            tags=tags(COMPONENT, f"{n}-aurora"),
            opts=self._child,
        )
        params = cluster_parameter_group(
            f"{n}-aurora",
            cluster_id,
            d.aurora_engine_version,
            "Aurora PostgreSQL: TLS 1.2+ only, slow statements logged",
            self._child,
            component=COMPONENT,
        )
        # Created before the cluster so RDS writes into an encrypted group with retention, not one of its own.
        log_group = self._log_group("aurora", f"/aws/rds/cluster/{cluster_id}/postgresql", logs_key)
        serverless = d.aurora_instance_class == "db.serverless"
        own = self._settings.dr.aurora_global
        master = self._aurora_master_secret(secrets_key) if own else None
        cluster = aws.rds.Cluster(
            f"{n}-aurora",
            cluster_identifier=cluster_id,
            **cluster_arguments(d, cluster_id, protect=protect),
            engine_version=d.aurora_engine_version,
            database_name=ORDERS_DATABASE,
            master_username=MASTER_USERNAME,
            # Left out, not false, with our own password: the provider declares the two arguments conflicting and an
            # explicit false counts as set (terraform-provider-aws rds/cluster.go ConflictsWith; issue #32002). From
            # true in state to absent, its update sends ManageMasterUserPassword=false with the new password.
            manage_master_user_password=None if own else True,
            master_password=master[1] if master is not None else None,
            master_user_secret_kms_key_id=None if own else secrets_key.arn,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[self._sg],
            db_cluster_parameter_group_name=params.name,
            kms_key_id=key.arn,
            serverlessv2_scaling_configuration=(
                {
                    "min_capacity": d.aurora_min_capacity,
                    "max_capacity": d.aurora_max_capacity,
                    # Only with a minimum of 0 (auto-pause); above 0 the instance never pauses.
                    "seconds_until_auto_pause": d.aurora_auto_pause_seconds
                    if d.aurora_min_capacity == 0
                    else None,
                }
                if serverless
                else None
            ),
            tags=tags(COMPONENT, cluster_id),
            # The version is what the cluster is created with; AWS then applies minor upgrades itself (auto minor
            # version upgrade on every instance) and a refresh must not try to take the cluster back to it. So a later
            # change of the setting does nothing by itself: a major upgrade is a planned migration (docs/data-tier.md).
            # globalClusterIdentifier: DisasterRecovery makes this cluster a global database's primary from outside
            # (`rds.GlobalCluster` with `source_db_cluster_identifier`); the pulumi-aws docstring of GlobalCluster,
            # "New Global Cluster From Existing DB Cluster", has the cluster ignore it, or the next `up` detaches it.
            opts=self._stateful(
                depends_on=[log_group], ignore_changes=["engineVersion", "globalClusterIdentifier"]
            ),
        )
        self.aurora_monitoring_role_arn = self._aurora_monitoring_role()
        writer = self._aurora_instances(
            cluster, key, subnet_group, cluster_id, self.aurora_monitoring_role_arn
        )
        if master is not None:
            return cluster, writer, master[0].arn
        managed = cluster.master_user_secrets.apply(lambda s: (s[0].secret_arn or "") if s else "")
        return cluster, writer, managed

    def _aurora_master_secret(
        self, secrets_key: aws.kms.Key
    ) -> tuple[aws.secretsmanager.Secret, pulumi.Output[str]]:
        """The master credential of a global database's primary: a generated password (a Pulumi secret) kept in a
        secret under the secrets key, as `{"username", "password"}` like the RDS-managed secret."""
        n, env = self._name, self._settings.environment
        password = random.RandomPassword(
            f"{n}-aurora-master",
            length=MASTER_PASSWORD_LENGTH,
            special=True,
            override_special=MASTER_PASSWORD_SPECIALS,
            min_special=2,
            min_numeric=2,
            opts=self._child,
        )
        secret = aws.secretsmanager.Secret(
            f"{n}-aurora-master",
            name=f"ecommerce/{env}/orders/aurora-master",
            description="Aurora master credential (username, password) of the global database's primary cluster. "
            "RDS cannot manage it in a global database; rotated by replacing the ecommerce-data-aurora-master "
            "RandomPassword in a pulumi up (docs/data-tier.md, 'The master credential'). Read only by the "
            "database bootstrap Job.",
            kms_key_id=secrets_key.arn,
            recovery_window_in_days=self._d.secret_recovery_window_days,
            replicas=self._secret_replicas(),
            tags=tags(COMPONENT, f"{n}-aurora-master"),
            opts=self._stateful(),
        )
        aws.secretsmanager.SecretVersion(
            f"{n}-aurora-master",
            secret_id=secret.id,
            secret_string=master_secret_string(password.result),
            opts=self._child,
        )
        return secret, pulumi.Output.secret(password.result)

    def _aurora_monitoring_role(self) -> pulumi.Output[str] | None:
        """The role RDS Enhanced Monitoring publishes as; none when `data.auroraMonitoringInterval` is 0."""
        n = self._name
        if not self._d.aurora_monitoring_interval:
            return None
        role = aws.iam.Role(
            f"{n}-aurora-monitoring",
            description="Lets RDS Enhanced Monitoring publish OS metrics of the Aurora instances",
            assume_role_policy=iam.service_trust(
                self, "monitoring.rds.amazonaws.com", account_id=self._account
            ),
            tags=tags(COMPONENT, f"{n}-aurora-monitoring"),
            opts=self._child,
        )
        aws.iam.RolePolicyAttachment(
            f"{n}-aurora-monitoring",
            role=role.name,
            policy_arn=iam.aws_managed_policy(
                self._partition, "service-role/AmazonRDSEnhancedMonitoringRole"
            ),
            opts=self._child,
        )
        return role.arn

    def _aurora_instances(
        self,
        cluster: aws.rds.Cluster,
        key: aws.kms.Key,
        subnet_group: aws.rds.SubnetGroup,
        cluster_id: str,
        monitoring_role_arn: pulumi.Output[str] | None,
    ) -> aws.rds.ClusterInstance:
        """The writer, then the readers (each waiting for it); returns the writer."""
        d, n = self._d, self._name
        writer: aws.rds.ClusterInstance | None = None
        for i in range(d.aurora_instance_count):
            # Readers go round the other AZs, so failover survives the writer's AZ.
            az = self._azs[i % len(self._azs)] if d.aurora_multi_az else self._azs[0]
            instance = aws.rds.ClusterInstance(
                f"{n}-aurora-{i + 1}",
                identifier=f"{cluster_id}-{i + 1}",
                cluster_identifier=cluster.id,
                engine=aws.rds.EngineType.AURORA_POSTGRESQL,
                engine_version=cluster.engine_version,
                instance_class=d.aurora_instance_class,
                availability_zone=az,
                # The first instance is the writer; readers come after it (the first one created becomes writer).
                promotion_tier=0 if i == 0 else 1,
                db_subnet_group_name=subnet_group.name,
                publicly_accessible=False,
                auto_minor_version_upgrade=True,
                ca_cert_identifier="rds-ca-rsa2048-g1",
                performance_insights_enabled=True,
                performance_insights_kms_key_id=key.arn,
                performance_insights_retention_period=d.aurora_performance_insights_days,
                monitoring_interval=d.aurora_monitoring_interval,
                monitoring_role_arn=monitoring_role_arn,
                tags=tags(COMPONENT, f"{cluster_id}-{i + 1}", Role="writer" if i == 0 else "reader"),
                opts=self._stateful(
                    depends_on=[writer] if writer else None, ignore_changes=["engineVersion"]
                ),
            )
            writer = writer or instance
        if writer is None:
            raise pulumi.RunError(
                "data.auroraInstanceCount: 0 instances; allowed: 1 writer + up to 15 readers"
            )
        return writer

    # -- ElastiCache Redis ----------------------------------------------------------------------------------------
