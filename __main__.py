"""ecommerce-platform: the architecture, wired. Settings -> components -> exports; no resource logic here."""

import pulumi
import pulumi_aws as aws

from components.config import load_settings
from components.contracts import SERVICES, ServiceStores
from components.mesh import MeshNetwork, ServiceMesh
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

# The DataTier's contract replaces these empty stores once it is wired in (issue 3): until then the services run
# with no store access at all.
stores = {service: ServiceStores() for service in SERVICES}
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
    stores=stores,
    opts=platform,
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
pulumi.export("clusterName", mesh.cluster_name)
pulumi.export("kubeconfig", mesh.kubeconfig)
pulumi.export("oidcProviderArn", mesh.oidc_provider_arn)
pulumi.export("albDnsName", mesh.alb_dns_name)
pulumi.export("repositoryUrls", mesh.repository_urls)
