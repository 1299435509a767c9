"""ecommerce-platform: the architecture, wired. Settings -> components -> exports; no resource logic here."""

import pulumi
import pulumi_aws as aws

from components.config import load_settings
from components.delivery import Delivery
from components.naming import default_tags
from components.network import EcommerceVpc

settings = load_settings()

# One explicit provider for the primary region carries the stack-wide tags; default providers are disabled
# (Pulumi.yaml), so nothing can land in an unintended region.
aws_provider = aws.Provider(
    "aws",
    region=settings.region,
    default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags(settings)),
)
platform = pulumi.ResourceOptions(providers={"aws": aws_provider})

network = EcommerceVpc("ecommerce-vpc", settings.network, environment=settings.environment, alb_origin_port=settings.edge.origin_port,
                       opts=platform)  # fmt: skip

# GitHub Actions' way in: OIDC trust, the preview/deploy/image-push roles and (in one stack) the state backend.
delivery = Delivery("ecommerce-delivery", settings.delivery, environment=settings.environment,
                    regions=[settings.region, settings.dr_region], protect=settings.protect_data,
                    opts=platform)  # fmt: skip

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
pulumi.export(
    "delivery",
    {
        "oidcProviderArn": delivery.oidc_provider_arn,
        "previewRoleArn": delivery.preview_role_arn,
        "deployRoleArn": delivery.deploy_role_arn,
        "imagePushRoleArn": delivery.image_push_role_arn,
        "stateBucket": delivery.state_bucket_name,
        "secretsProvider": delivery.secrets_provider,
    },
)
