"""ecommerce-platform: the architecture, wired. Settings -> components -> exports; no resource logic here."""

import pulumi
import pulumi_aws as aws

from components.account import ServiceLinkedRoles
from components.config import load_settings, secret_setting
from components.data import DataTier
from components.delivery import CiRunner, Delivery, with_boundary
from components.dr import DisasterRecovery, DrSources, ReplicatedBucket, ReplicatedTable, standby_region
from components.dr_aurora import ReplicatedCluster
from components.edge import CdnEdge
from components.lake import AnalyticsLake, LakeNetwork, LakeSources
from components.mesh import MeshNetwork, ServiceMesh
from components.naming import default_tags
from components.network import EcommerceVpc, guard_availability_zones
from components.observability import (
    Observability,
    StandbyAlarms,
    WatchedCluster,
    WatchedData,
    WatchedDr,
    WatchedEdge,
    WatchedLake,
    WatchedStandby,
)
from components.standby import origin_record_aliases, standby_database, standby_messaging, warm_standby

settings = load_settings()

# One explicit provider for the primary region carries the stack-wide tags; default providers are disabled
# (Pulumi.yaml), so nothing can land in an unintended region.
aws_provider = aws.Provider(
    "aws",
    region=settings.region,
    default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags(settings)),
)
platform = pulumi.ResourceOptions(providers={"aws": aws_provider})
# Before anything else: AZ names map to other zones in each account, and EKS refuses some zone IDs (use1-az3).
guard_availability_zones(settings, aws_provider)

# GitHub Actions' way in: OIDC trust, the preview/deploy/image-push roles, their permissions boundary and (in one
# stack) the state backend. Every role created after it carries that boundary: the pipeline may create no other.
delivery = Delivery("ecommerce-delivery", settings.delivery, environment=settings.environment,
                    regions=[settings.region, settings.dr_region], protect=settings.protect_data,
                    domain_name=settings.edge.domain_name, opts=platform)  # fmt: skip
platform = pulumi.ResourceOptions.merge(
    platform, pulumi.ResourceOptions(transformations=[with_boundary(delivery.permissions_boundary_arn)])
)

# The VPC: two AZs, public (ALB, NAT) and private (nodes, data) subnets, endpoints, the four security groups.
network = EcommerceVpc("ecommerce-vpc", settings.network, environment=settings.environment,
                       alb_origin_port=settings.edge.origin_port, opts=platform)  # fmt: skip

# Once per account: the service-linked roles AWS does not create by itself (one stack owns them, the others look up).
account = ServiceLinkedRoles("ecommerce-account", settings.account, opts=platform)

# The DR region (dr.mode; none when off): its provider, the keys the stores' DR-region parts need, and from pilot
# light the DR VPC. Built before the stores, some of which are born with a replica there.
standby = standby_region("ecommerce-dr", settings, opts=platform)

# The data tier in the private subnets behind the Database SG: DynamoDB, Aurora, Redis, OpenSearch, SNS/SQS, Cognito.
data = DataTier("ecommerce-data", settings, private_subnet_ids=network.private_subnet_ids,
                database_security_group_id=network.database_security_group_id,
                stripe_api_key=secret_setting("stripeApiKey"),
                search_prerequisites=account.opensearch_dependencies, standby=standby, opts=platform)  # fmt: skip


# EKS and the eight services: one IRSA role per service scoped to its stores in the DataTier's contract; the ALB.
mesh = ServiceMesh(
    "ecommerce-mesh",
    settings,
    network=MeshNetwork(
        vpc_id=network.vpc_id,
        public_subnet_ids=network.public_subnet_ids,
        private_subnet_ids=network.private_subnet_ids,
        alb_security_group_id=network.alb_security_group_id,
        nodes_security_group_id=network.nodes_security_group_id,
    ),
    stores=data.contract,
    deployer_role_arns=[delivery.deploy_role_arn],
    viewer_role_arns=[delivery.preview_role_arn],
    database_admin=data.database_admin,
    # In warm standby origin.<domain> is a failover pair between this ALB and the DR one (ApiFailover, below).
    route_origin=origin_record_aliases(settings),
    opts=platform,
)

# The public entry: CloudFront (+ WAF, us-east-1 certificate) serves the site from S3 and /api/* from the mesh's ALB,
# which answers only requests carrying the secret origin header (its SG admits only CloudFront, in EcommerceVpc).
edge = CdnEdge("ecommerce-edge", settings, alb_origin=mesh.alb_origin, opts=platform)

# CI's way to the cluster: GitHub Actions runners hosted by CodeBuild in the private subnets reach the private-only
# API endpoint (GitHub-hosted runners' egress cannot be allow-listed).
runner = (
    CiRunner("ecommerce-ci-runner", settings.delivery, environment=settings.environment, vpc_id=network.vpc_id,
             private_subnet_ids=network.private_subnet_ids, cluster_security_group_id=mesh.cluster_security_group_id,
             endpoints_security_group_id=network.endpoints_security_group_id, opts=platform)
    if settings.delivery.runners == "codebuild"
    else None
)  # fmt: skip

# The analytics lake: order events from the DataTier's topic through Firehose into S3, Glue tables, Athena.
lake = (AnalyticsLake("ecommerce-lake", settings,
                      sources=LakeSources(data.order_events_topic_arn, data.kms_key_arns["messaging"]),
                      network=LakeNetwork(network.vpc_id, network.private_subnet_ids,
                                          network.endpoints_security_group_id),
                      lake_formation_admin_arns=[delivery.deploy_role_arn], opts=platform)
        if settings.lake.enabled else None)  # fmt: skip

# What the DR region keeps (dr.mode): the data buckets, images and daily Aurora copies; from pilot light live DynamoDB
# replicas and the Aurora global database's secondary, each under a DR-region key (docs/disaster-recovery.md).
dr = (DisasterRecovery("ecommerce-dr", settings, standby=standby, sources=DrSources(
          buckets=[ReplicatedBucket("site", edge.site_bucket_name, edge.site_bucket_arn, edge.site_kms_key_arn, edge),
                   *([ReplicatedBucket("lake", lake.lake_bucket_name, lake.lake_bucket_arn, lake.key_arn, lake)]
                     if lake is not None else [])],
          tables=[ReplicatedTable("products", data.products_table_arn, data.products_table_name),
                  ReplicatedTable("inventory", data.inventory_table_arn, data.inventory_table_name)],
          repository_prefix=settings.delivery.ecr_repository_prefix,
          site_distribution_arn=edge.distribution_arn, aurora_cluster_arn=data.aurora_cluster_arn,
          aurora=ReplicatedCluster(data.aurora_cluster_arn, data.aurora_engine_version,
                                   data.database_admin.writer_instance_arn, data.aurora_monitoring_role_arn)),
      opts=platform)
      if standby is not None else None)  # fmt: skip

# Warm standby: the DR services' own topics and queues, so their order flow does not cross to the primary region.
dr_messaging = standby_messaging("ecommerce-dr-messaging", settings, standby)

# Who is told the shop is unwell: AWS's recommended alarms on everything above, Container Insights, a canary.
observability = Observability(
    "ecommerce-observability",
    settings,
    nat_gateway_ids=network.nat_gateway_ids,
    data=WatchedData(
        aurora_cluster_identifier=data.aurora_cluster_identifier,
        redis_member_clusters=data.redis_member_clusters,
        search_domain_name=data.search_domain_name,
        table_names={"products": data.products_table_name, "inventory": data.inventory_table_name},
        queue_names=data.queue_names,
        dead_letter_queue_names=data.dead_letter_queue_names,
        topic_names=data.topic_names,
    ),
    cluster=WatchedCluster(
        cluster_name=mesh.cluster_name,
        nodes_ready_cluster_name=mesh.nodes_ready_cluster_name,
        oidc_provider_arn=mesh.oidc_provider_arn,
        oidc_issuer=mesh.oidc_issuer,
        control_plane_log_group_name=mesh.control_plane_log_group_name,
        alb_arn_suffix=mesh.alb_arn_suffix,
        target_group_arn_suffixes=mesh.target_group_arn_suffixes,
    ),
    edge=WatchedEdge(
        distribution_id=edge.distribution_id, web_acl_name=edge.web_acl_name, site_url=edge.site_url
    ),
    lake=WatchedLake(
        firehose_stream_names={"order-events": lake.stream_name},
        glue_job_names={"orders-to-parquet": lake.job_name},
        dead_letter_queue_names={"lake-order-events": lake.dead_letter_queue_name},
    )
    if lake is not None
    else None,
    dr=WatchedDr(
        receiving_region=dr.dr_region,
        replication_rule_id=dr.replication_rule_id,
        bucket_replications={r: (n, dr.replica_bucket_names[r]) for r, n in dr.source_bucket_names.items()},
        replicated_table_names=dr.replicated_table_names,
        aurora_secondaries={"aurora": dr.aurora_global.secondary_cluster_identifier}
        if dr.aurora_global
        else {},
        backup_copy_vaults=(
            {"aurora": dr.primary_backup_vault_name} if dr.primary_backup_vault_name is not None else {}
        ),
        standby_queue_names=dr_messaging.queue_names if dr_messaging else {},
        standby_dead_letter_queue_names=dr_messaging.dead_letter_queue_names if dr_messaging else {},
        standby_topic_names=dr_messaging.topic_names if dr_messaging else {},
    )
    if dr is not None
    else None,
    opts=platform,
)

# Warm standby: the same catalogue on a small EKS cluster in the DR region, on the replicated images, tables and
# secrets, and origin.<domain> failing over to its ALB when the primary's target groups have no healthy target.
standby_mesh = (warm_standby("ecommerce-dr-mesh", settings, standby=standby, primary=mesh,
                             primary_mesh_name="ecommerce-mesh", primary_stores=data.contract,
                             primary_keys=data.kms_key_arns, deployer_role_arns=[delivery.deploy_role_arn],
                             ci_egress_ips=network.nat_public_ips if runner is not None else [],
                             viewer_role_arns=[delivery.preview_role_arn],
                             alarm_topic_arn=observability.alarm_topic_arn,
                             database=standby_database(dr), messaging=dr_messaging, opts=platform)
                if standby is not None and dr_messaging is not None else None)  # fmt: skip

# The warm standby watched where its metrics are, in the DR region: its ALB and target groups, cache, NAT and the
# Aurora secondary's instance, on Observability's topic there.
standby_alarms = (
    StandbyAlarms(
        "ecommerce-observability-dr",
        observability=observability,
        standby=WatchedStandby(
            region=settings.dr_region,
            alb_arn_suffix=standby_mesh.mesh.alb_arn_suffix,
            target_group_arn_suffixes=standby_mesh.mesh.target_group_arn_suffixes,
            serving_services=standby_mesh.serving_services,
            cache_member_clusters=standby_mesh.carts.member_clusters,
            cache_nodes=standby_mesh.carts.nodes,
            nat_gateway_ids=standby.network.nat_gateway_ids if standby and standby.network else [],
            database_cluster_identifier=dr.aurora_global.secondary_cluster_identifier,
        ),
        opts=platform,
    )
    if standby_mesh is not None and dr is not None and dr.aurora_global is not None
    else None
)

pulumi.export("vpcId", network.vpc_id)
pulumi.export("publicSubnetIds", network.public_subnet_ids)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export(
    "securityGroupIds",
    {
        "alb": network.alb_security_group_id,
        "nodes": network.nodes_security_group_id,
        "database": network.database_security_group_id,
        "endpoints": network.endpoints_security_group_id,
    },
)
# Endpoints and names are plain outputs; the secrets themselves stay in Secrets Manager (only their ARNs here).
pulumi.export(
    "data",
    {
        "productsTable": data.products_table_name,
        "inventoryTable": data.inventory_table_name,
        "productsStreamArn": data.products_stream_arn,
        "inventoryStreamArn": data.inventory_stream_arn,
        "auroraClusterArn": data.aurora_cluster_arn,
        "auroraEndpoint": data.aurora_endpoint,
        "auroraReaderEndpoint": data.aurora_reader_endpoint,
        "auroraMasterSecretArn": data.aurora_master_secret_arn,
        "redisEndpoint": data.redis_endpoint,
        "redisAuthSecretArn": data.redis_auth_secret_arn,
        "searchEndpoint": data.search_endpoint,
        "orderEventsTopicArn": data.order_events_topic_arn,
        "notificationsTopicArn": data.notifications_topic_arn,
        "queueUrls": data.queue_urls,
        "deadLetterQueueArns": data.dead_letter_queue_arns,
        "userPoolId": data.user_pool_id,
        "userPoolClientId": data.user_pool_client_id,
        "userPoolDomain": data.user_pool_domain,
        "stripeSecretArn": data.stripe_secret_arn,
        "kmsKeyArns": data.kms_key_arns,
    },
)
pulumi.export(
    "delivery",
    {
        "oidcProviderArn": delivery.oidc_provider_arn,
        "previewRoleArn": delivery.preview_role_arn,
        "deployRoleArn": delivery.deploy_role_arn,
        "imagePushRoleArn": delivery.image_push_role_arn,
        "stateBucket": delivery.state_bucket_name,
        "secretsProvider": delivery.secrets_provider,
        "runnerProject": runner.project_name if runner else None,
    },
)
pulumi.export("clusterName", mesh.cluster_name)
pulumi.export("kubeconfig", mesh.kubeconfig)
pulumi.export("oidcProviderArn", mesh.oidc_provider_arn)
pulumi.export("albDnsName", mesh.alb_dns_name)
pulumi.export("repositoryUrls", mesh.repository_urls)
pulumi.export("siteUrl", edge.site_url)
pulumi.export("distributionId", edge.distribution_id)
pulumi.export("distributionDomainName", edge.distribution_domain_name)
pulumi.export("siteBucketName", edge.site_bucket_name)
pulumi.export("webAclArn", edge.web_acl_arn)
pulumi.export(
    "observability",
    {
        "alarmTopicArn": observability.alarm_topic_arn,
        "globalAlarmTopicArn": observability.global_alarm_topic_arn,
        "shopDownAlarm": observability.shop_down_alarm_name,
        "dashboards": observability.dashboard_names,
        "canaryName": observability.canary_name,
    },
)

if lake is not None:
    pulumi.export(
        "lake",
        {
            "bucket": lake.lake_bucket_name,
            "resultsBucket": lake.results_bucket_name,
            "database": lake.database_name,
            "curatedTable": lake.curated_table_name,
            "workgroup": lake.workgroup_name,
            "streamName": lake.stream_name,
            "streamArn": lake.stream_arn,
            "deadLetterQueueArn": lake.dead_letter_queue_arn,
            "jobName": lake.job_name,
        },
    )

if standby is not None and dr is not None:
    pulumi.export(
        "dr",
        {
            "region": dr.dr_region,
            "mode": dr.mode,
            "replicaBuckets": dr.replica_bucket_names,
            "replicaTableArns": dr.replica_table_arns,
            "replicationRoleArn": dr.replication_role_arn,
            # the one-time Batch Replication of the objects written before DR (docs/disaster-recovery.md)
            "batchReplicationRoleArn": dr.batch_replication_role_arn,
            "backupVault": dr.backup_vault_name,
            "keyArns": standby.key_arns,
            "vpcId": standby.network.vpc_id if standby.network else None,
            "privateSubnetIds": standby.network.private_subnet_ids if standby.network else [],
            # warm standby: the DR cluster, its ALB and the health check that moves origin.<domain> to it
            **(
                {
                    "clusterName": standby_mesh.mesh.cluster_name,
                    "albDnsName": standby_mesh.mesh.alb_dns_name,
                    "failoverHealthCheckId": standby_mesh.failover.health_check_id,
                }
                if standby_mesh is not None
                else {}
            ),
        },
    )
