"""ElastiCache Redis (carts) and OpenSearch (search)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components import iam
from components.data.base import COMPONENT, OPENSEARCH_TLS_POLICY, REDIS_PORT, DataTierBase
from components.naming import tags


def redis_arguments(
    engine_version: str,
    key_arn: pulumi.Input[str],
    auth_token: pulumi.Input[str],
    slow_log: pulumi.Input[str],
) -> dict[str, Any]:
    """The `aws.elasticache.ReplicationGroup` arguments every carts cache of the platform takes alike, the primary's
    and the warm standby's: Redis OSS with the version's default parameter group, encrypted at rest with `key_arn`,
    TLS required with an AUTH token, its maintenance window and minor upgrades, the slow log into `slow_log`."""
    major = engine_version.split(".")[0]
    return {
        "engine": "redis",
        "engine_version": engine_version,
        "parameter_group_name": "default.redis6.x" if major == "6" else f"default.redis{major}",
        "port": REDIS_PORT,
        "at_rest_encryption_enabled": True,
        "kms_key_id": key_arn,
        "transit_encryption_enabled": True,
        "transit_encryption_mode": "required",
        "auth_token": auth_token,
        "maintenance_window": "sun:09:30-sun:10:30",
        "auto_minor_version_upgrade": True,
        "log_delivery_configurations": [
            {"destination": slow_log, "destination_type": "cloudwatch-logs", "log_format": "json",
             "log_type": "slow-log"}
        ],
    }  # fmt: skip


class CacheSearchMixin(DataTierBase):
    def _redis(
        self, key: aws.kms.Key, secrets_key: aws.kms.Key, logs_key: aws.kms.Key
    ) -> tuple[aws.elasticache.ReplicationGroup, aws.secretsmanager.Secret]:
        d, n, env = self._d, self._name, self._settings.environment
        group_id = f"{self._base}-carts"
        subnet_group = aws.elasticache.SubnetGroup(
            f"{n}-redis",
            name=group_id,
            description="ElastiCache Redis: the private subnets",
            subnet_ids=self._subnets,
            tags=tags(COMPONENT, f"{n}-redis"),
            opts=self._child,
        )
        # Redis AUTH accepts printable ASCII except @ " / and space; letters and digits are always safe to pass.
        token = random.RandomPassword(f"{n}-redis-auth", length=64, special=False, opts=self._child)
        secret = aws.secretsmanager.Secret(
            f"{n}-redis-auth",
            name=f"ecommerce/{env}/cart/redis-auth-token",
            description="AUTH token of the carts Redis replication group (cart service)",
            kms_key_id=secrets_key.arn,
            recovery_window_in_days=d.secret_recovery_window_days,
            replicas=self._secret_replicas(),
            tags=tags(COMPONENT, f"{n}-redis-auth"),
            opts=self._stateful(),
        )
        aws.secretsmanager.SecretVersion(
            f"{n}-redis-auth",
            secret_id=secret.id,
            secret_string=token.result,
            opts=self._child,
        )
        slow_log = self._log_group("redis", f"/ecommerce/{env}/data/redis-slow-log", logs_key)
        count = d.redis_node_count
        azs = [self._azs[i % len(self._azs)] if d.redis_multi_az else self._azs[0] for i in range(count)]
        snapshots = d.redis_snapshot_retention_days > 0
        group = aws.elasticache.ReplicationGroup(
            f"{n}-redis",
            replication_group_id=group_id,
            description="Shopping carts (cart service)",
            **redis_arguments(d.redis_engine_version, key.arn, token.result, slow_log.name),
            node_type=d.redis_node_type,
            num_cache_clusters=count,
            preferred_cache_cluster_azs=azs,
            automatic_failover_enabled=d.redis_automatic_failover,
            multi_az_enabled=d.redis_multi_az,
            subnet_group_name=subnet_group.name,
            security_group_ids=[self._sg],
            snapshot_retention_limit=d.redis_snapshot_retention_days,
            snapshot_window="06:00-07:00" if snapshots else None,
            final_snapshot_identifier=f"{group_id}-final"
            if snapshots and self._settings.protect_data
            else None,
            tags=tags(COMPONENT, group_id),
            opts=self._stateful(),
        )
        return group, secret

    # -- OpenSearch ------------------------------------------------------------------------------------------------
    def _search(self, key: aws.kms.Key, logs_key: aws.kms.Key) -> aws.opensearch.Domain:
        d, n, env = self._d, self._name, self._settings.environment
        domain_name = f"{self._base}-search"
        domain_arn = pulumi.Output.format(
            "arn:{0}:es:{1}:{2}:domain/{3}", self._partition, self._region, self._account, domain_name
        )
        log_types = {"INDEX_SLOW_LOGS": "index-slow", "SEARCH_SLOW_LOGS": "search-slow",
                     "ES_APPLICATION_LOGS": "application"}  # fmt: skip
        log_groups = {
            t: self._log_group(f"search-{suffix}", f"/ecommerce/{env}/data/search/{suffix}", logs_key)
            for t, suffix in log_types.items()
        }
        logs_policy = aws.cloudwatch.LogResourcePolicy(
            f"{n}-search-logs",
            policy_name=f"{domain_name}-logs",
            policy_document=iam.policy_json(
                self,
                [
                    {
                        "sid": "OpenSearchWritesItsLogGroups",
                        "effect": "Allow",
                        "principals": [{"type": "Service", "identifiers": ["es.amazonaws.com"]}],
                        "actions": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "resources": [pulumi.Output.concat(g.arn, ":*") for g in log_groups.values()],
                        "conditions": [
                            iam.condition("StringEquals", "aws:SourceAccount", self._account),
                            iam.condition("ArnLike", "aws:SourceArn", domain_arn),
                        ],
                    }
                ],
            ),
            opts=self._child,
        )
        zone_aware = d.opensearch_zone_awareness
        masters = d.opensearch_dedicated_master_count
        # Auto-Tune is not offered on T-family nodes.
        burstable = d.opensearch_instance_type.startswith(("t2.", "t3."))
        domain = aws.opensearch.Domain(
            f"{n}-search",
            domain_name=domain_name,
            engine_version=d.opensearch_engine_version,
            cluster_config={
                "instance_type": d.opensearch_instance_type,
                "instance_count": d.opensearch_instance_count,
                "zone_awareness_enabled": zone_aware,
                "zone_awareness_config": {"availability_zone_count": len(self._azs)} if zone_aware else None,
                "dedicated_master_enabled": masters > 0,
                "dedicated_master_count": masters or None,
                "dedicated_master_type": d.opensearch_dedicated_master_type if masters else None,
            },
            # A single-AZ domain takes exactly one subnet; a zone-aware one takes one per AZ.
            vpc_options={
                "subnet_ids": self._subnets[: len(self._azs)] if zone_aware else self._subnets[:1],
                "security_group_ids": [self._sg],
            },
            ebs_options={"ebs_enabled": True, "volume_type": "gp3", "volume_size": d.opensearch_volume_size},
            encrypt_at_rest={"enabled": True, "kms_key_id": key.arn},
            node_to_node_encryption={"enabled": True},
            domain_endpoint_options={"enforce_https": True, "tls_security_policy": OPENSEARCH_TLS_POLICY},
            auto_tune_options={
                "desired_state": "DISABLED" if burstable else "ENABLED",
                "rollback_on_disable": "NO_ROLLBACK",
                "use_off_peak_window": True,
            },
            off_peak_window_options={
                "enabled": True,
                "off_peak_window": {"window_start_time": {"hours": 7, "minutes": 0}},
            },
            software_update_options={"auto_software_update_enabled": True},
            log_publishing_options=[
                {"log_type": t, "cloudwatch_log_group_arn": g.arn, "enabled": True}
                for t, g in log_groups.items()
            ],
            tags=tags(COMPONENT, domain_name),
            # A VPC domain cannot be created before the account has OpenSearch's service-linked role.
            opts=self._stateful(depends_on=[logs_policy, *self._search_prerequisites]),
        )
        return domain

    # -- SNS + SQS -------------------------------------------------------------------------------------------------
