"""The one Mocks class: answers the program's resource registrations and invokes the way AWS would.

Shared by the offline engine (`make preview`) and every test. Resources get unique, type-shaped ids
(`vpc-0a1b…`, `sg-…`), ARNs in their own region (a resource's `region` argument, else its provider's) and account,
and the computed attributes the program reads (`arn`, `tagsAll`, endpoints…). Invokes answer caller identity, AZs,
partition/region and render `iam.get_policy_document` to the same JSON the provider would.

To teach the mocks a new resource type, add one line to `ID_PREFIX`/`ARN_FORMAT` or a function to `EXTRA_OUTPUTS`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

import pulumi

ACCOUNT_ID = "123456789012"
PARTITION = "aws"
DEFAULT_REGION = "us-east-2"

#: Region -> AZ name -> zone ID in the mock account (state "available"). AWS maps names onto the physical zones
#: (zone IDs, the same in every account) independently per account (AWS RAM user guide, "Availability Zone IDs for
#: your AWS resources"), so this is one account's draw, not a rule: us-east-1e is use1-az3 here, the zone EKS
#: refuses for a cluster's subnets. Tests pass another account's mapping to `PlatformMocks(zone_ids=...)`.
ZONE_IDS: dict[str, dict[str, str]] = {
    "us-east-1": {"us-east-1a": "use1-az6", "us-east-1b": "use1-az1", "us-east-1c": "use1-az2",
                  "us-east-1d": "use1-az4", "us-east-1e": "use1-az3", "us-east-1f": "use1-az5"},
    "us-east-2": {"us-east-2a": "use2-az1", "us-east-2b": "use2-az2", "us-east-2c": "use2-az3"},
    "us-west-2": {"us-west-2a": "usw2-az2", "us-west-2b": "usw2-az1", "us-west-2c": "usw2-az3",
                  "us-west-2d": "usw2-az4"},
}  # fmt: skip
#: The `DescribeAvailabilityZones` filters the mock answers (EC2 API reference names).
ROW_FILTERS = ("zone-name", "zone-id", "region-name", "zone-type", "state", "opt-in-status")
#: Managed prefix lists by name (the ids AWS gives them in us-east-2).
PREFIX_LISTS = {
    "com.amazonaws.global.cloudfront.origin-facing": "pl-b6a144df",
    "com.amazonaws.us-east-2.s3": "pl-7ba54012",
}

#: Type token -> id prefix (AWS's own shape: `vpc-0123…`); types not listed get `<name>-<hash>`.
ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/route:Route": "r-rtb",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/flowLog:FlowLog": "fl",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt",
    "aws:kms/key:Key": "",
    "aws:wafv2/webAcl:WebAcl": "",
    "aws:acm/certificate:Certificate": "",
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": "",
}
#: Type token -> prefix of an upper-case id without a dash (CloudFront's `E2QWRUHAPOMQZL` shape).
UPPER_ID_PREFIX = {
    "aws:cloudfront/distribution:Distribution": "E",
    "aws:cloudfront/originAccessControl:OriginAccessControl": "E",
}

#: Type token -> id format, for types whose AWS id is not `<prefix>-<hash>` (an identifier input, a URL, an ARN);
#: formatted like `ARN_FORMAT` plus `{seed}` (a stable hex string) and `{alnum}` (a stable base-62 string).
ID_FORMAT = {
    "aws:rds/cluster:Cluster": "{i[clusterIdentifier]}",
    "aws:rds/globalCluster:GlobalCluster": "{i[globalClusterIdentifier]}",
    "aws:rds/clusterInstance:ClusterInstance": "{i[identifier]}",
    "aws:rds/subnetGroup:SubnetGroup": "{i[name]}",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": "{i[name]}",
    "aws:elasticache/replicationGroup:ReplicationGroup": "{i[replicationGroupId]}",
    "aws:elasticache/subnetGroup:SubnetGroup": "{i[name]}",
    "aws:opensearch/domain:Domain": "arn:aws:es:{region}:{account}:domain/{i[domainName]}",
    "aws:sqs/queue:Queue": "https://sqs.{region}.amazonaws.com/{account}/{i[name]}",
    "aws:sns/topic:Topic": "arn:aws:sns:{region}:{account}:{i[name]}",
    "aws:secretsmanager/secret:Secret": "arn:aws:secretsmanager:{region}:{account}:secret:{i[name]}-{alnum6}",
    "aws:cognito/userPool:UserPool": "{region}_{alnum9}",
    "aws:cognito/userPoolClient:UserPoolClient": "{seed26}",
    "aws:dynamodb/table:Table": "{i[name]}",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "{i[name]}",
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": "{i[alarmName]}",
    "aws:cloudwatch/dashboard:Dashboard": "{i[dashboardName]}",
    "aws:synthetics/canary:Canary": "{i[name]}",
    "aws:sns/topicPolicy:TopicPolicy": "{i[arn]}",
    "aws:s3/bucketObjectv2:BucketObjectv2": "{i[key]}",
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": "arn:aws:firehose:{region}:{account}:deliverystream/{i[name]}",
    "aws:glue/catalogDatabase:CatalogDatabase": "{account}:{i[name]}",
    "aws:glue/job:Job": "{i[name]}",
    "aws:glue/securityConfiguration:SecurityConfiguration": "{i[name]}",
    "aws:glue/trigger:Trigger": "{i[name]}",
    "aws:glue/crawler:Crawler": "{i[name]}",
    "aws:athena/workgroup:Workgroup": "{i[name]}",
    "aws:sagemaker/domain:Domain": "d-{seed12}",
    "aws:quicksight/dataSource:DataSource": "{account},{i[dataSourceId]}",
    "aws:quicksight/dataSet:DataSet": "{account},{i[dataSetId]}",
}

#: Type token -> ARN resource part, formatted with the resource's id, name and inputs (`{id}`, `{name}`, `{i[x]}`).
ARN_FORMAT = {
    "aws:ec2/vpc:Vpc": "ec2:{region}:{account}:vpc/{id}",
    "aws:ec2/subnet:Subnet": "ec2:{region}:{account}:subnet/{id}",
    "aws:ec2/internetGateway:InternetGateway": "ec2:{region}:{account}:internet-gateway/{id}",
    "aws:ec2/routeTable:RouteTable": "ec2:{region}:{account}:route-table/{id}",
    "aws:ec2/natGateway:NatGateway": "ec2:{region}:{account}:natgateway/{id}",
    "aws:ec2/eip:Eip": "ec2:{region}:{account}:elastic-ip/{id}",
    "aws:ec2/securityGroup:SecurityGroup": "ec2:{region}:{account}:security-group/{id}",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "ec2:{region}:{account}:security-group/{id}",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "ec2:{region}:{account}:security-group-rule/{id}",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "ec2:{region}:{account}:security-group-rule/{id}",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "ec2:{region}:{account}:vpc-endpoint/{id}",
    "aws:ec2/flowLog:FlowLog": "ec2:{region}:{account}:vpc-flow-log/{id}",
    "aws:kms/key:Key": "kms:{region}:{account}:key/{id}",
    "aws:kms/alias:Alias": "kms:{region}:{account}:{i[name]}",
    "aws:cloudwatch/logGroup:LogGroup": "logs:{region}:{account}:log-group:{i[name]}",
    "aws:iam/role:Role": "iam::{account}:role/{i[name]}",
    "aws:iam/policy:Policy": "iam::{account}:policy/{i[name]}",
    "aws:ecr/repository:Repository": "ecr:{region}:{account}:repository/{i[name]}",
    "aws:lb/loadBalancer:LoadBalancer": "elasticloadbalancing:{region}:{account}:loadbalancer/app/{i[name]}/{id}",
    "aws:lb/targetGroup:TargetGroup": "elasticloadbalancing:{region}:{account}:targetgroup/{i[name]}/{id}",
    "aws:lb/listener:Listener": "elasticloadbalancing:{region}:{account}:listener/app/{name}/{id}",
    "aws:lb/listenerRule:ListenerRule": "elasticloadbalancing:{region}:{account}:listener-rule/app/{name}/{id}",
    "aws:acm/certificate:Certificate": "acm:{region}:{account}:certificate/{id}",
    "aws:ec2/launchTemplate:LaunchTemplate": "ec2:{region}:{account}:launch-template/{id}",
    "aws:eks/addon:Addon": "eks:{region}:{account}:addon/{i[clusterName]}/{i[addonName]}/{id}",
    "aws:s3/bucket:Bucket": "s3:::{id}",
    "aws:cloudfront/distribution:Distribution": "cloudfront::{account}:distribution/{id}",
    "aws:cloudfront/originAccessControl:OriginAccessControl": "cloudfront::{account}:origin-access-control/{id}",
    "aws:cloudfront/function:Function": "cloudfront::{account}:function/{i[name]}",
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": "cloudfront::{account}:response-headers-policy/{id}",
    "aws:wafv2/webAcl:WebAcl": "wafv2:{region}:{account}:global/webacl/{i[name]}/{id}",
    "aws:cloudwatch/logDeliverySource:LogDeliverySource": "logs:{region}:{account}:delivery-source:{i[name]}",
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": "logs:{region}:{account}:delivery-destination:{i[name]}",
    "aws:cloudwatch/logDelivery:LogDelivery": "logs:{region}:{account}:delivery:{id}",
    "aws:dynamodb/table:Table": "dynamodb:{region}:{account}:table/{i[name]}",
    "aws:rds/cluster:Cluster": "rds:{region}:{account}:cluster:{id}",
    # A global cluster's ARN names no region (RDS API, GlobalCluster.GlobalClusterArn).
    "aws:rds/globalCluster:GlobalCluster": "rds::{account}:global-cluster:{id}",
    "aws:rds/clusterInstance:ClusterInstance": "rds:{region}:{account}:db:{id}",
    "aws:rds/subnetGroup:SubnetGroup": "rds:{region}:{account}:subgrp:{id}",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": "rds:{region}:{account}:cluster-pg:{id}",
    "aws:elasticache/replicationGroup:ReplicationGroup": "elasticache:{region}:{account}:replicationgroup:{id}",
    "aws:elasticache/subnetGroup:SubnetGroup": "elasticache:{region}:{account}:subnetgroup:{id}",
    "aws:opensearch/domain:Domain": "es:{region}:{account}:domain/{i[domainName]}",
    "aws:sqs/queue:Queue": "sqs:{region}:{account}:{i[name]}",
    "aws:sns/topic:Topic": "sns:{region}:{account}:{i[name]}",
    "aws:secretsmanager/secret:Secret": "secretsmanager:{region}:{account}:secret:{i[name]}-{alnum6}",
    "aws:cognito/userPool:UserPool": "cognito-idp:{region}:{account}:userpool/{id}",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "cloudwatch:{region}:{account}:alarm:{i[name]}",
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": "cloudwatch:{region}:{account}:alarm:{i[alarmName]}",
    "aws:cloudwatch/dashboard:Dashboard": "cloudwatch::{account}:dashboard/{i[dashboardName]}",
    "aws:synthetics/canary:Canary": "synthetics:{region}:{account}:canary:{i[name]}",
    "aws:s3/bucketObjectv2:BucketObjectv2": "s3:::{i[bucket]}/{i[key]}",
    "aws:appautoscaling/target:Target": "application-autoscaling:{region}:{account}:scalable-target/{seed}",
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": "firehose:{region}:{account}:deliverystream/{i[name]}",
    "aws:glue/catalogDatabase:CatalogDatabase": "glue:{region}:{account}:database/{i[name]}",
    "aws:glue/catalogTable:CatalogTable": "glue:{region}:{account}:table/{i[databaseName]}/{i[name]}",
    "aws:glue/job:Job": "glue:{region}:{account}:job/{i[name]}",
    "aws:glue/trigger:Trigger": "glue:{region}:{account}:trigger/{i[name]}",
    "aws:glue/crawler:Crawler": "glue:{region}:{account}:crawler/{i[name]}",
    "aws:athena/workgroup:Workgroup": "athena:{region}:{account}:workgroup/{i[name]}",
    "aws:sagemaker/domain:Domain": "sagemaker:{region}:{account}:domain/{id}",
    "aws:sagemaker/userProfile:UserProfile": "sagemaker:{region}:{account}:user-profile/{i[domainId]}/{i[userProfileName]}",
    "aws:quicksight/dataSource:DataSource": "quicksight:{region}:{account}:datasource/{i[dataSourceId]}",
    "aws:quicksight/dataSet:DataSet": "quicksight:{region}:{account}:dataset/{i[dataSetId]}",
}
#: CloudFront's fixed Route 53 hosted zone id for alias records to any distribution.
CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2"
#: Public hosted zones the mock account owns (the stack files' example domain); others are "not found", as in AWS.
HOSTED_ZONES = ("shop.example.com", "example.com")

#: Type token -> the input that is the resource's `arn` (a topic policy's is its topic's).
ARN_IS_INPUT = {"aws:sns/topicPolicy:TopicPolicy": "arn"}

#: Type token -> the input AWS uses as the resource's id when the program names it (e.g. a bucket's name).
ID_FROM_INPUT = {"aws:s3/bucket:Bucket": "bucket"}


def _hex(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _tags_all(inputs: dict[str, Any], provider_tags: dict[str, str]) -> dict[str, str]:
    return {**provider_tags, **(inputs.get("tags") or {})}


def _vpc(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {
        "defaultSecurityGroupId": f"sg-{_hex(rid, 'default')}",
        "defaultRouteTableId": f"rtb-{_hex(rid, 'main')}",
        "mainRouteTableId": f"rtb-{_hex(rid, 'main')}",
        "defaultNetworkAclId": f"acl-{_hex(rid, 'acl')}",
        "ownerId": ACCOUNT_ID,
    }


def _vpc_endpoint(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    extra: dict[str, Any] = {"state": "available", "ownerId": ACCOUNT_ID}
    if args.inputs.get("vpcEndpointType") == "Gateway":
        extra["prefixListId"] = f"pl-{_hex(rid, length=8)}"
    else:
        service = str(args.inputs.get("serviceName", "")).rsplit(".", 1)[-1]
        extra["dnsEntries"] = [
            {"dnsName": f"{rid}.{service}.{region}.vpce.amazonaws.com", "hostedZoneId": "Z1"}
        ]
        extra["networkInterfaceIds"] = [f"eni-{_hex(rid, s)}" for s in args.inputs.get("subnetIds") or []]
    return extra


def _kms_key(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {"keyId": rid}


def _eip(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    n = int(_hex(rid, length=4), 16)
    return {"allocationId": rid, "publicIp": f"3.{n % 200 + 10}.{n % 250}.{n % 240 + 1}"}


def _nat_gateway(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    """A public NAT gateway reports the public address of its Elastic IP (`public_ip`)."""
    n = int(_hex(rid, length=4), 16)
    return {"publicIp": f"18.{n % 200 + 10}.{n % 250}.{n % 240 + 1}"}


def _oidc_provider(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    host = str(args.inputs.get("url", "")).removeprefix("https://")
    return {"arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:oidc-provider/{host}"}


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _alnum(seed: str, length: int) -> str:
    """A stable base-62 string of `length` characters derived from `seed`."""
    out: list[str] = []
    block = 0
    while len(out) < length:
        n = int(_hex(seed, "alnum", str(block), length=32), 16)
        for _ in range(20):
            n, r = divmod(n, 62)
            out.append(_BASE62[r])
        block += 1
    return "".join(out[:length])


def _table(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    if not args.inputs.get("streamEnabled"):
        return {"streamArn": "", "streamLabel": ""}
    label = "2025-01-01T00:00:00.000"
    return {
        "streamArn": f"arn:{PARTITION}:dynamodb:{region}:{ACCOUNT_ID}:table/{rid}/stream/{label}",
        "streamLabel": label,
    }


def _rds_cluster(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    dns = f"c{_hex(rid, length=11)}.{region}.rds.amazonaws.com"
    out: dict[str, Any] = {
        "endpoint": f"{rid}.cluster-{dns}",
        "readerEndpoint": f"{rid}.cluster-ro-{dns}",
        "clusterResourceId": f"cluster-{_alnum(rid, 26).upper()}",
        "port": args.inputs.get("port") or 5432,
        "hostedZoneId": "Z2XHWR1WZ565X2",
        # The version the cluster runs: the one it was created with until AWS upgrades a minor (a secondary of a
        # global database is created with its global cluster's).
        "engineVersionActual": args.inputs.get("engineVersion") or "16.13",
    }
    if args.inputs.get("manageMasterUserPassword"):
        uuid = f"{_hex(rid, 's', length=8)}-{_hex(rid, 't', length=4)}-4{_hex(rid, 'u', length=3)}-a{_hex(rid, 'v', length=3)}-{_hex(rid, 'w', length=12)}"
        out["masterUserSecrets"] = [{
            "secretArn": f"arn:{PARTITION}:secretsmanager:{region}:{ACCOUNT_ID}:secret:rds!cluster-{uuid}-{_alnum(rid, 6)}",
            "kmsKeyId": args.inputs.get("masterUserSecretKmsKeyId") or "",
            "secretStatus": "active",
        }]  # fmt: skip
    return out


def _global_cluster(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    # Made from an existing cluster it takes that cluster's engine; its writer endpoint follows the primary.
    return {
        "engine": args.inputs.get("engine") or "aurora-postgresql",
        "globalClusterResourceId": f"cluster-{_alnum(rid, 26).upper()}",
        "endpoint": f"{rid}.global-{_alnum(rid, 10).lower()}.global.rds.amazonaws.com",
    }


def _rds_instance(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    dns = f"c{_hex(str(args.inputs.get('clusterIdentifier')), length=11)}.{region}.rds.amazonaws.com"
    return {"endpoint": f"{rid}.{dns}:5432", "address": f"{rid}.{dns}", "port": 5432,
            "dbiResourceId": f"db-{_alnum(rid, 26).upper()}", "writer": args.inputs.get("promotionTier") == 0}  # fmt: skip


def _replication_group(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    dns = f"{_hex(rid, length=6)}.ng.0001.{region.replace('-', '')[:2]}{region.split('-')[1][0]}{region[-1]}.cache.amazonaws.com"
    count = int(args.inputs.get("numCacheClusters") or 1)
    return {
        "primaryEndpointAddress": f"master.{rid}.{dns}",
        "readerEndpointAddress": f"replica.{rid}.{dns}",
        "memberClusters": [f"{rid}-{i + 1:03d}" for i in range(count)],
        "engineVersionActual": f"{args.inputs.get('engineVersion') or '7.1'}.0",
    }


def _opensearch_domain(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    domain = args.inputs.get("domainName") or args.name
    host = f"vpc-{domain}-{_alnum(rid, 26).lower()}.{region}.es.amazonaws.com"
    return {
        "endpoint": host,
        "dashboardEndpoint": f"{host}/_dashboards",
        "domainId": f"{ACCOUNT_ID}/{domain}",
    }


def _topic_subscription(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {"arn": f"{args.inputs.get('topic')}:{rid}", "ownerId": ACCOUNT_ID, "pendingConfirmation": False}


def _queue(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {"url": rid}


def _user_pool(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {"endpoint": f"cognito-idp.{region}.amazonaws.com/{rid}", "creationDate": "2025-01-01T00:00:00Z"}


def _secret_version(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    version = f"{_hex(rid, 'v', length=8)}-{_hex(rid, 'w', length=4)}-4{_hex(rid, 'x', length=3)}-a{_hex(rid, 'y', length=3)}-{_hex(rid, 'z', length=12)}"
    return {"versionId": version, "versionStages": ["AWSCURRENT"]}


def _random_password(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    # Real randomness is the provider's job; offline a stable value of the asked length (kept secret by the SDK).
    length = int(args.inputs.get("length") or 16)
    return {"result": _alnum(rid, length)}


def _role(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {"uniqueId": f"AROA{_hex(rid, length=17).upper()}"}


#: Service-linked role names per AWS service name (IAM fixes them; they live under `aws-service-role/<service>/`).
SERVICE_LINKED_ROLE_NAMES = {
    "opensearchservice.amazonaws.com": "AWSServiceRoleForAmazonOpenSearchService",
    "autoscaling.amazonaws.com": "AWSServiceRoleForAutoScaling",
}
#: The service-linked roles the mock account already has (the owning stack made them); others are "not found".
EXISTING_SERVICE_LINKED_ROLES = set(SERVICE_LINKED_ROLE_NAMES)


def service_linked_role_arn(service: str) -> str:
    return f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/aws-service-role/{service}/{SERVICE_LINKED_ROLE_NAMES[service]}"


def _service_linked_role(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    service = str(args.inputs.get("awsServiceName"))
    return {"arn": service_linked_role_arn(service), "name": SERVICE_LINKED_ROLE_NAMES[service],
            "path": f"/aws-service-role/{service}/", "uniqueId": f"AROA{_hex(rid, length=17).upper()}"}  # fmt: skip


def hosted_zone_id(name: str) -> str:
    """The id of a mock public hosted zone (Route 53's shape: Z + 20 upper-case characters)."""
    return f"Z{_hex(name, length=20).upper()}"


def _bucket(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {
        "bucket": rid,
        "bucketDomainName": f"{rid}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{rid}.s3.{region}.amazonaws.com",
        "hostedZoneId": "Z2O1EMRO9K5GLX" if region == "us-east-2" else "Z3AQBSTGFYJSTF",
    }


def _distribution(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {
        "domainName": f"d{_hex(rid, length=13)}.cloudfront.net",
        "hostedZoneId": CLOUDFRONT_HOSTED_ZONE_ID,
        "status": "Deployed",
        "etag": _hex(rid, "etag", length=14).upper(),
        "callerReference": f"terraform-{_hex(rid, 'ref', length=20)}",
    }


def _certificate(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    names = [args.inputs.get("domainName"), *(args.inputs.get("subjectAlternativeNames") or [])]
    return {
        "status": "PENDING_VALIDATION",
        "domainValidationOptions": [
            {
                "domainName": n,
                "resourceRecordName": f"_{_hex(rid, n, length=32)}.{n}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{_hex(rid, n, 'v', length=32)}.xlfgrmvvlj.acm-validations.aws.",
            }
            for n in names
        ],
    }


def _record(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {"fqdn": str(args.inputs.get("name", "")).rstrip(".")}


def _cloudfront_function(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {"etag": _hex(rid, length=14).upper(), "liveStageEtag": _hex(rid, "live", length=14).upper(),
            "status": "UNASSOCIATED"}  # fmt: skip


def _ecr_repository(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {"repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{args.inputs.get('name', rid)}",
            "registryId": ACCOUNT_ID}  # fmt: skip


def _load_balancer(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    # ALB DNS names and the regional canonical hosted zone (us-east-2: Z3AADJGX6KTTL2) as ELB reports them.
    zones = {"us-east-1": "Z35SXDOTRQ7X7K", "us-east-2": "Z3AADJGX6KTTL2", "us-west-2": "Z1H1FL5HABSF5"}
    name = args.inputs.get("name", rid)
    return {"dnsName": f"{name}-{int(_hex(rid, length=8), 16) % 10**10}.{region}.elb.amazonaws.com",
            "zoneId": zones.get(region, "Z3AADJGX6KTTL2"), "arnSuffix": f"app/{name}/{_hex(rid, length=16)}"}  # fmt: skip


def _target_group(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {"arnSuffix": f"targetgroup/{args.inputs.get('name', rid)}/{_hex(rid, length=16)}"}


def _eks_cluster(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    """pulumi-eks's `eks:index:Cluster` outputs as the remote component returns them (its children are hidden).

    Outputs that are resource references (`eksCluster`, `core`, `nodeGroup` of a ManagedNodeGroup) are not
    answered: the program reads only the scalar outputs below, which keeps it independent of pulumi-eks internals.
    """
    name = str(args.inputs.get("name") or rid)
    oidc_id = _hex(rid, "oidc", length=32).upper()
    issuer = f"oidc.eks.{region}.amazonaws.com/id/{oidc_id}"
    endpoint = f"https://{_hex(rid, 'ep', length=32).upper()}.gr7.{region}.eks.amazonaws.com"
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": endpoint, "certificate-authority-data": "LS0tLS1CRUdJTi"}}],
        "contexts": [{"name": "aws", "context": {"cluster": name, "user": "aws"}}],
        "current-context": "aws",
        "users": [{"name": "aws", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1",
                                                   "command": "aws", "args": ["eks", "get-token", "--cluster-name",
                                                                              name, "--output", "json"]}}}],
    }  # fmt: skip
    return {
        "kubeconfig": kubeconfig,
        "kubeconfigJson": json.dumps(kubeconfig),
        "clusterSecurityGroupId": f"sg-{_hex(rid, 'cluster-sg')}",
        "oidcProviderArn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:oidc-provider/{issuer}",
        "oidcProviderUrl": f"https://{issuer}",
        "oidcIssuer": issuer,
        "eksClusterIngressRuleId": f"sgr-{_hex(rid, 'ingress')}",
    }


def _bucket_object(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    # A versioned bucket answers every put with a version id (S3's 32-character URL-safe shape) and an ETag.
    return {"versionId": _alnum(rid, 32), "etag": _hex(rid, "etag", length=32)}


def _sagemaker_domain(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {"url": f"https://{rid}.studio.{region}.sagemaker.aws", "homeEfsFileSystemId": f"fs-{_hex(rid, length=8)}",
            "securityGroupIdForDomainBoundary": f"sg-{_hex(rid, 'boundary')}"}  # fmt: skip


def _launch_template(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {"latestVersion": 1, "defaultVersion": 1}


#: Type token -> function adding the computed outputs the program reads beyond id/arn/tagsAll.
EXTRA_OUTPUTS: dict[str, Callable[[pulumi.runtime.MockResourceArgs, str, str], dict[str, Any]]] = {
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:kms/key:Key": _kms_key,
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/natGateway:NatGateway": _nat_gateway,
    "aws:iam/role:Role": _role,
    "aws:iam/serviceLinkedRole:ServiceLinkedRole": _service_linked_role,
    "aws:ecr/repository:Repository": _ecr_repository,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:lb/targetGroup:TargetGroup": _target_group,
    "eks:index:Cluster": _eks_cluster,
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    "aws:s3/bucketObjectv2:BucketObjectv2": _bucket_object,
    "aws:sagemaker/domain:Domain": _sagemaker_domain,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:cloudfront/distribution:Distribution": _distribution,
    "aws:acm/certificate:Certificate": _certificate,
    "aws:route53/record:Record": _record,
    "aws:cloudfront/function:Function": _cloudfront_function,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:dynamodb/table:Table": _table,
    "aws:rds/cluster:Cluster": _rds_cluster,
    "aws:rds/clusterInstance:ClusterInstance": _rds_instance,
    "aws:rds/globalCluster:GlobalCluster": _global_cluster,
    "aws:elasticache/replicationGroup:ReplicationGroup": _replication_group,
    "aws:opensearch/domain:Domain": _opensearch_domain,
    "aws:sns/topicSubscription:TopicSubscription": _topic_subscription,
    "aws:cognito/userPool:UserPool": _user_pool,
    "aws:sqs/queue:Queue": _queue,
    "aws:secretsmanager/secretVersion:SecretVersion": _secret_version,
    "random:index/randomPassword:RandomPassword": _random_password,
}


def _statement_json(st: dict[str, Any]) -> dict[str, Any]:
    """One `GetPolicyDocumentStatement` (camelCase invoke args) -> its IAM JSON, as the provider renders it."""

    def one_or_many(values: list[Any]) -> Any:
        values = sorted(set(values), key=str) if len(values) > 1 else values
        return values[0] if len(values) == 1 else values

    out: dict[str, Any] = {}
    if st.get("sid"):
        out["Sid"] = st["sid"]
    out["Effect"] = st.get("effect") or "Allow"
    for src, dst in (("actions", "Action"), ("notActions", "NotAction"), ("resources", "Resource"),
                     ("notResources", "NotResource")):  # fmt: skip
        if st.get(src):
            out[dst] = one_or_many(list(st[src]))
    for src, dst in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
        if st.get(src):
            principals: dict[str, list[str]] = {}
            for p in st[src]:
                principals.setdefault(p["type"], []).extend(p["identifiers"])
            if list(principals) == ["*"] and principals["*"] == ["*"]:
                out[dst] = "*"
            else:
                out[dst] = {k: one_or_many(v) for k, v in principals.items()}
    if st.get("conditions"):
        cond: dict[str, dict[str, Any]] = {}
        for c in st["conditions"]:
            cond.setdefault(c["test"], {})[c["variable"]] = one_or_many(list(c["values"]))
        out["Condition"] = cond
    return out


def render_policy_document(args: dict[str, Any]) -> dict[str, Any]:
    """`aws:iam/getPolicyDocument:getPolicyDocument` rendered for real: {"json": ..., "minifiedJson": ...}."""
    doc: dict[str, Any] = {"Version": args.get("version") or "2012-10-17"}
    if args.get("policyId"):
        doc["Id"] = args["policyId"]
    doc["Statement"] = [_statement_json(st) for st in args.get("statements") or []]
    return {
        "json": json.dumps(doc, indent=2),
        "minifiedJson": json.dumps(doc, separators=(",", ":")),
        "id": _hex(json.dumps(doc, sort_keys=True), length=10),
        **args,
    }


class UnmockedInvokeError(LookupError):
    """The program called an invoke the mocks do not know: answer it here rather than guess."""


class PlatformMocks(pulumi.runtime.Mocks):
    """Answers like AWS for the resource and invoke types this program uses."""

    def __init__(self, zone_ids: Mapping[str, Mapping[str, str]] | None = None) -> None:
        """:param zone_ids: region -> AZ name -> zone ID of the account to answer for (default `ZONE_IDS`)."""
        #: provider reference (`urn::id`) -> (region, default tags), learned as providers register.
        self.providers: dict[str, tuple[str, dict[str, str]]] = {}
        self.zone_ids = ZONE_IDS if zone_ids is None else zone_ids

    # -- helpers ---------------------------------------------------------------------------------------------
    def _provider_of(self, ref: str | None) -> tuple[str, dict[str, str]]:
        # Keyed by `<name>::<id>`: a provider inside a component (the DR region's) has its parent's type in its
        # URN, which the mock's arguments do not carry.
        return self.providers.get("::".join((ref or "").split("::")[-2:]), (DEFAULT_REGION, {}))

    def region_of(self, inputs: dict[str, Any], provider: str | None) -> str:
        return str(inputs.get("region") or self._provider_of(provider)[0])

    # -- resources -------------------------------------------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        typ, inputs = args.typ, dict(args.inputs)
        if typ.startswith("pulumi:providers:"):
            rid = f"provider-{_hex(args.name, length=8)}"
            if typ == "pulumi:providers:aws":
                tags = inputs.get("defaultTags") or {}
                if isinstance(tags, str):
                    tags = json.loads(tags)
                self.providers[f"{args.name}::{rid}"] = (
                    str(inputs.get("region") or DEFAULT_REGION),
                    dict(tags.get("tags") or {}),
                )
            return rid, inputs
        region, provider_tags = self.region_of(inputs, args.provider), self._provider_of(args.provider)[1]
        prefix = ID_PREFIX.get(typ)
        seed = _hex(typ, args.name, region)
        if prefix == "":  # KMS keys: a UUID
            rid = f"{seed[:8]}-{seed[8:12]}-4{seed[13:16]}-a{_hex(seed)[:3]}-{_hex(seed, 'k', length=12)}"
        elif prefix:
            rid = f"{prefix}-{seed}"
        elif typ in UPPER_ID_PREFIX:
            rid = f"{UPPER_ID_PREFIX[typ]}{seed[:13].upper()}"
        else:
            rid = inputs.get(ID_FROM_INPUT.get(typ, "name")) or f"{args.name}-{seed[:7]}"
        shapes = {"region": region, "account": ACCOUNT_ID, "name": args.name, "i": _Default(inputs, args.name),
                  "seed": seed, "seed26": _alnum(seed, 26).lower(), "alnum6": _alnum(seed, 6),
                  "alnum9": _alnum(seed, 9), "seed12": seed[:12]}  # fmt: skip
        id_fmt = ID_FORMAT.get(typ)
        if id_fmt is not None:
            rid = id_fmt.format(**shapes)
        outputs: dict[str, Any] = {**inputs, "id": rid}
        fmt = ARN_FORMAT.get(typ)
        if fmt is not None:
            part = fmt.format(id=rid, **shapes)
            outputs["arn"] = f"arn:{PARTITION}:{part}"
        elif typ in ARN_IS_INPUT:
            outputs["arn"] = inputs.get(ARN_IS_INPUT[typ])
        elif typ.startswith("aws:"):
            service = typ.split(":")[1].split("/")[0]
            outputs["arn"] = (
                f"arn:{PARTITION}:{service}:{region}:{ACCOUNT_ID}:{typ.rsplit(':', 1)[-1].lower()}/{rid}"
            )
        if typ.startswith("aws:"):
            outputs["tagsAll"] = _tags_all(inputs, provider_tags)
            outputs.setdefault("region", region)
        extra = EXTRA_OUTPUTS.get(typ)
        if extra is not None:
            outputs.update(extra(args, region, rid))
        return rid, outputs

    @staticmethod
    def _urn(typ: str, name: str) -> str:
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{typ}::{name}"

    # -- invokes ---------------------------------------------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        a = dict(args.args)
        region = self.region_of(a, args.provider)
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/platform-deployer",
                "userId": "AROAEXAMPLEDEPLOYER:pulumi",
                "id": ACCOUNT_ID,
            }, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": PARTITION, "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws",
                    "id": PARTITION}, []  # fmt: skip
        if token == "aws:index/getRegion:getRegion":
            return {"name": region, "region": region, "endpoint": f"ec2.{region}.amazonaws.com",
                    "description": region, "id": region}, []  # fmt: skip
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return self._availability_zones(a, region), []
        if token == "aws:iam/getPolicyDocument:getPolicyDocument":
            return render_policy_document(a), []
        if token == "aws:ec2/getManagedPrefixList:getManagedPrefixList":
            name = a.get("name")
            if name not in PREFIX_LISTS:
                return {}, [("name", f"no managed prefix list named {name!r}")]
            return {"id": PREFIX_LISTS[name], "name": name, "arn": f"arn:{PARTITION}:ec2:{region}:aws:prefix-list/"
                    f"{PREFIX_LISTS[name]}", "addressFamily": "IPv4", "maxEntries": 55, "ownerId": "AWS"}, []  # fmt: skip
        if token == "aws:iam/getRole:getRole":
            name = a.get("name")
            services = {
                n: svc for svc, n in SERVICE_LINKED_ROLE_NAMES.items() if svc in EXISTING_SERVICE_LINKED_ROLES
            }
            if name not in services:
                return {}, [("name", f"reading IAM Role ({name}): couldn't find resource")]
            arn = service_linked_role_arn(services[name])
            return {"arn": arn, "name": name, "id": name, "path": f"/aws-service-role/{services[name]}/",
                    "uniqueId": f"AROA{_hex(arn, length=17).upper()}"}, []  # fmt: skip
        if token == "aws:route53/getZone:getZone":
            name = str(a.get("name") or "").rstrip(".")
            if name not in HOSTED_ZONES or a.get("privateZone"):
                return {}, [("name", f"no matching Route 53 Hosted Zone found for {name!r}")]
            zid = hosted_zone_id(name)
            return {"zoneId": zid, "id": zid, "name": name, "arn": f"arn:{PARTITION}:route53:::hostedzone/{zid}",
                    "privateZone": False, "resourceRecordSetCount": 4, "callerReference": _hex(zid),
                    "nameServers": [f"ns-{i}.awsdns-{i:02d}.{tld}" for i, tld in ((101, "com"), (1202, "org"),
                                    (613, "net"), (1888, "co.uk"))]}, []  # fmt: skip
        raise UnmockedInvokeError(
            f"the offline mocks do not answer invoke {token}; teach tools/offline/mocks.py"
        )

    def _availability_zones(self, a: dict[str, Any], region: str) -> dict[str, Any]:
        """`DescribeAvailabilityZones` as the provider's data source reads it: `state` and the `filter` blocks go
        to EC2, the answer is sorted by name with `names`/`zoneIds` parallel, then `excludeNames`/`excludeZoneIds`
        drop entries (terraform-provider-aws, internal/service/ec2/ec2_availability_zones_data_source.go). Every
        mock zone is an available `availability-zone` whose opt-in status is `opt-in-not-required`."""
        rows = [
            {"zone-name": n, "zone-id": z, "region-name": region, "zone-type": "availability-zone",
             "state": "available", "opt-in-status": "opt-in-not-required"}
            for n, z in sorted(self.zone_ids.get(region, {}).items())
        ]  # fmt: skip
        wanted = [{"name": "state", "values": [a["state"]]}] if a.get("state") else []
        for f in [*wanted, *(a.get("filters") or [])]:
            if f["name"] not in ROW_FILTERS:
                raise UnmockedInvokeError(
                    f"the offline mocks do not filter AZs by {f['name']!r}; teach mocks.py"
                )
            rows = [r for r in rows if r[f["name"]] in f["values"]]
        rows = [r for r in rows if r["zone-name"] not in (a.get("excludeNames") or [])
                and r["zone-id"] not in (a.get("excludeZoneIds") or [])]  # fmt: skip
        return {"names": [r["zone-name"] for r in rows], "zoneIds": [r["zone-id"] for r in rows], "id": region,
                "groupNames": [region] if rows else [], "region": region}  # fmt: skip


class _Default(dict[str, Any]):
    """Input lookup for ARN formats: a missing input falls back to the resource's logical name."""

    def __init__(self, inputs: dict[str, Any], name: str) -> None:
        super().__init__(inputs)
        self._name = name

    def __missing__(self, key: str) -> str:
        return self._name
