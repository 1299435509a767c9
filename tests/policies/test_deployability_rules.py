"""Deployability rules: what a first `pulumi up` on a fresh AWS account refuses, and mocks never do.

Each case names the AWS or Pulumi fact it pins; the rule's description cites the source.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from tests.policies.cases import Case, check
from tests.policies.helpers import UNKNOWN, R, plan_of, provider, violations
from tools.offline.analyzer_host import Timeouts
from tools.offline.policy_run import PolicySession

P = provider("prod")
ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ASG_SLR = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
)
NODE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecommerce-prod-EKSNodeRole"
KMS_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"]


@pytest.fixture(autouse=True)
def _no_stack_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rules read the stack config from PULUMI_CONFIG (as the CLI sets it); the direct tests start without."""
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)
    monkeypatch.setenv("PULUMI_PROJECT", "ecommerce-platform")


def with_deps(resource: dict[str, Any], *others: dict[str, Any]) -> dict[str, Any]:
    """`depends_on=[...]`: plain dependencies, not tied to a property."""
    resource["dependencies"] = sorted({*resource["dependencies"], *(o["urn"] for o in others)})
    return resource


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(principal: Any, actions: Any = "*", resources: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": actions, "Resource": resources, **extra}


# ----------------------------------------------------------------------------------------------------------------
# kms-key-policy-principals-exist

ROOT_STATEMENT = allow({"AWS": ROOT}, "kms:*")


def key(*statements: dict[str, Any], name: str = "cluster-key") -> dict[str, Any]:
    return R(
        "aws:kms/key:Key",
        name,
        {"enableKeyRotation": True, "policy": doc(ROOT_STATEMENT, *statements)},
    )


def slr(service: str, name: str = "asg-slr") -> dict[str, Any]:
    short = service.split(".")[0]
    return R(
        "aws:iam/serviceLinkedRole:ServiceLinkedRole",
        name,
        {"awsServiceName": service},
        outputs={"arn": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/{service}/AWSServiceRoleFor{short}"},
    )


NODE_ROLE_RES = R(
    "aws:iam/role:Role", "node-role", {"name": "ecommerce-prod-EKSNodeRole"}, outputs={"arn": NODE_ROLE}
)
ASG_SLR_RES = R(
    "aws:iam/serviceLinkedRole:ServiceLinkedRole",
    "asg-slr",
    {"awsServiceName": "autoscaling.amazonaws.com"},
    outputs={"arn": ASG_SLR},
)
ASG_STATEMENT = allow({"AWS": ASG_SLR}, KMS_ACTIONS, Sid="AutoScalingEncryptsNodeVolumes")

KMS_CASES = [
    Case(
        "kms-key-policy-principals-exist",
        "AWSServiceRoleForAutoScaling does not exist in a fresh account",
        [P, key(ASG_STATEMENT)],
        True,
        "AWSServiceRoleForAutoScaling",
    ),
    Case(
        "kms-key-policy-principals-exist",
        "service-linked role exists in the stack and the key depends on it",
        [P, ASG_SLR_RES, with_deps(key(ASG_STATEMENT), ASG_SLR_RES)],
        False,
    ),
    Case(
        "kms-key-policy-principals-exist",
        "service-linked role in the stack but the key does not depend on it",
        [P, ASG_SLR_RES, key(ASG_STATEMENT)],
        True,
        "autoscaling.amazonaws.com",
    ),
    Case(
        "kms-key-policy-principals-exist",
        "a service-linked role of another service does not count",
        [
            P,
            (other := slr("elasticloadbalancing.amazonaws.com", "elb-slr")),
            with_deps(key(ASG_STATEMENT), other),
        ],
        True,
        "AWSServiceRoleForAutoScaling",
    ),
    Case(
        "kms-key-policy-principals-exist",
        "account root and service principals always exist",
        [
            P,
            key(
                allow({"Service": "logs.us-east-2.amazonaws.com"}, KMS_ACTIONS),
                allow({"AWS": ACCOUNT}, "kms:*"),
            ),
        ],
        False,
    ),
    Case(
        "kms-key-policy-principals-exist",
        "a role of the stack the key depends on through its policy",
        [
            P,
            NODE_ROLE_RES,
            R(
                "aws:kms/key:Key",
                "cluster-key",
                {"policy": doc(ROOT_STATEMENT, allow({"AWS": NODE_ROLE}, KMS_ACTIONS))},
                deps={"policy": [NODE_ROLE_RES]},
            ),
        ],
        False,
    ),
    Case(
        "kms-key-policy-principals-exist",
        "a role of the stack created after the key (no dependency)",
        [P, NODE_ROLE_RES, key(allow({"AWS": NODE_ROLE}, KMS_ACTIONS))],
        True,
        "does not depend on it",
    ),
    Case(
        "kms-key-policy-principals-exist",
        "a role matched by path and name while its ARN is unknown (real preview)",
        [
            P,
            (pathed := R("aws:iam/role:Role", "svc-role", {"name": "orders", "path": "/service/"})),
            with_deps(
                key(allow({"AWS": f"arn:aws:iam::{ACCOUNT}:role/service/orders"}, KMS_ACTIONS)), pathed
            ),
        ],
        False,
    ),
    Case(
        "kms-key-policy-principals-exist",
        "a role this stack does not create",
        [P, key(allow({"AWS": f"arn:aws:iam::{ACCOUNT}:role/someone-elses-role"}, KMS_ACTIONS))],
        True,
        "externalPrincipals",
    ),
    Case(
        "kms-key-policy-principals-exist",
        "config: a role created outside the stack, listed in externalPrincipals",
        [P, key(allow({"AWS": f"arn:aws:iam::{ACCOUNT}:role/break-glass"}, KMS_ACTIONS))],
        False,
        config={"externalPrincipals": [f"arn:aws:iam::{ACCOUNT}:role/break-glass"]},
    ),
    Case(
        "kms-key-policy-principals-exist",
        "config: another stack owns the Auto Scaling service-linked role",
        [P, key(ASG_STATEMENT)],
        False,
        config={"externalServiceLinkedRoles": ["autoscaling.amazonaws.com"]},
    ),
    Case(
        "kms-key-policy-principals-exist",
        "a KeyPolicy naming an assumed-role session",
        [
            P,
            R(
                "aws:kms/keyPolicy:KeyPolicy",
                "site-key",
                {
                    "keyId": "k-1",
                    "policy": doc(
                        ROOT_STATEMENT,
                        allow({"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/ci"}, KMS_ACTIONS),
                    ),
                },
            ),
        ],
        True,
        "assumed-role",
    ),
    Case(
        "kms-key-policy-principals-exist",
        "a replica key's policy is checked the same way",
        [P, R("aws:kms/replicaKey:ReplicaKey", "dr-key", {"policy": doc(ROOT_STATEMENT, ASG_STATEMENT)})],
        True,
        "dr-key",
    ),
    Case(
        "kms-key-policy-principals-exist",
        "missing policy: AWS's default names the account",
        [P, R("aws:kms/key:Key", "k", {})],
        False,
    ),
    Case(
        "kms-key-policy-principals-exist",
        "unknown policy is judged by `up`",
        [P, R("aws:kms/key:Key", "k", {"policy": UNKNOWN})],
        False,
    ),
]


# ----------------------------------------------------------------------------------------------------------------
# sts-endpoint-allows-web-identity / s3-endpoint-allows-ecr-layers

ACCOUNT_ONLY = allow(
    "*", Sid="OnlyThisAccountsPrincipals", Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}
)


def endpoint(
    service: str, *statements: dict[str, Any], kind: str = "Interface", name: str = ""
) -> dict[str, Any]:
    inputs: dict[str, Any] = {"serviceName": f"com.amazonaws.us-east-2.{service}", "vpcEndpointType": kind}
    if statements:
        inputs["policy"] = doc(*statements)
    return R("aws:ec2/vpcEndpoint:VpcEndpoint", name or f"vpc-{service}", inputs)


STS_CASES = [
    Case(
        "sts-endpoint-allows-web-identity",
        "aws:PrincipalAccount is absent from AssumeRoleWithWebIdentity requests",
        [P, endpoint("sts", ACCOUNT_ONLY)],
        True,
        "aws:PrincipalAccount",
    ),
    Case(
        "sts-endpoint-allows-web-identity",
        "web identity allowed for everyone, the rest for the account",
        [P, endpoint("sts", ACCOUNT_ONLY, allow("*", "sts:AssumeRoleWithWebIdentity"))],
        False,
    ),
    Case(
        "sts-endpoint-allows-web-identity",
        "IfExists holds when the key is absent",
        [P, endpoint("sts", allow("*", Condition={"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}}))],
        False,
    ),
    Case(
        "sts-endpoint-allows-web-identity",
        "a Deny with a negated org condition also refuses the unsigned call",
        [
            P,
            endpoint(
                "sts",
                allow("*"),
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sts:*",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}},
                },
            ),
        ],
        True,
        "Deny",
    ),
    Case(
        "sts-endpoint-allows-web-identity",
        "a Deny that applies only when the key is present (Null false) lets federation through",
        [
            P,
            endpoint(
                "sts",
                allow("*"),
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {
                        "StringNotEquals": {"aws:PrincipalOrgID": "o-abc"},
                        "Null": {"aws:PrincipalOrgID": "false"},
                    },
                },
            ),
        ],
        False,
    ),
    Case(
        "sts-endpoint-allows-web-identity",
        "only the account's principals are named",
        [P, endpoint("sts", allow({"AWS": ROOT}))],
        True,
        "Principal '*'",
    ),
    Case(
        "sts-endpoint-allows-web-identity",
        "a separate VpcEndpointPolicy resource is judged too",
        [
            P,
            (sts := endpoint("sts")),
            R(
                "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy",
                "sts-policy",
                {"vpcEndpointId": "vpce-1", "policy": doc(ACCOUNT_ONLY)},
                deps={"vpcEndpointId": [sts]},
            ),
        ],
        True,
        "sts-policy",
    ),
    Case(
        "sts-endpoint-allows-web-identity",
        "other services' endpoints may require the account",
        [P, endpoint("ecr.api", ACCOUNT_ONLY)],
        False,
    ),
    Case(
        "sts-endpoint-allows-web-identity",
        "missing policy: the default allows all",
        [P, endpoint("sts")],
        False,
    ),
]

LAYERS = "arn:aws:s3:::prod-us-east-2-starport-layer-bucket/*"

S3_CASES = [
    Case(
        "s3-endpoint-allows-ecr-layers",
        "ECR's layer URLs are signed by ECR, not by our account",
        [P, endpoint("s3", ACCOUNT_ONLY, kind="Gateway")],
        True,
        "prod-us-east-2-starport-layer-bucket",
    ),
    Case(
        "s3-endpoint-allows-ecr-layers",
        "the ECR User Guide's minimum statement",
        [P, endpoint("s3", ACCOUNT_ONLY, allow("*", ["s3:GetObject"], [LAYERS]), kind="Gateway")],
        False,
    ),
    Case(
        "s3-endpoint-allows-ecr-layers",
        "only our own buckets",
        [
            P,
            endpoint(
                "s3",
                allow("*", "s3:*", ["arn:aws:s3:::ecommerce-*", "arn:aws:s3:::ecommerce-*/*"]),
                kind="Gateway",
            ),
        ],
        True,
        "s3:GetObject",
    ),
    Case(
        "s3-endpoint-allows-ecr-layers",
        "the layer bucket is AWS's: a resource-account condition refuses it",
        [
            P,
            endpoint(
                "s3", allow("*", Condition={"StringEquals": {"aws:ResourceAccount": ACCOUNT}}), kind="Gateway"
            ),
        ],
        True,
        "aws:ResourceAccount",
    ),
    Case(
        "s3-endpoint-allows-ecr-layers",
        "a Deny of other accounts' principals refuses ECR's signed URLs",
        [
            P,
            endpoint(
                "s3",
                allow("*"),
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}},
                },
                kind="Gateway",
            ),
        ],
        True,
        "Deny",
    ),
    Case(
        "s3-endpoint-allows-ecr-layers",
        "the DynamoDB gateway endpoint may require the account",
        [P, endpoint("dynamodb", ACCOUNT_ONLY, kind="Gateway")],
        False,
    ),
    Case(
        "s3-endpoint-allows-ecr-layers",
        "missing policy: the default allows all",
        [P, endpoint("s3", kind="Gateway")],
        False,
    ),
]


# ----------------------------------------------------------------------------------------------------------------
# opensearch-vpc-slr

VPC_OPTIONS = {"subnetIds": ["subnet-a", "subnet-b"], "securityGroupIds": ["sg-db"]}


def domain(vpc: bool = True, name: str = "search") -> dict[str, Any]:
    inputs: dict[str, Any] = {"engineVersion": "OpenSearch_2.17"}
    if vpc:
        inputs["vpcOptions"] = VPC_OPTIONS
    return R("aws:opensearch/domain:Domain", name, inputs)


OS_SLR = slr("opensearchservice.amazonaws.com", "search-slr")

OPENSEARCH_CASES = [
    Case(
        "opensearch-vpc-slr",
        "a VPC domain needs AWSServiceRoleForAmazonOpenSearchService first",
        [P, domain()],
        True,
        "vpcOptions",
    ),
    Case(
        "opensearch-vpc-slr",
        "the domain depends on the role",
        [P, OS_SLR, with_deps(domain(), OS_SLR)],
        False,
    ),
    Case(
        "opensearch-vpc-slr",
        "the domain depends on the role through another resource",
        [
            P,
            OS_SLR,
            (group := with_deps(R("aws:cloudwatch/logGroup:LogGroup", "search-logs", {}), OS_SLR)),
            R(
                "aws:opensearch/domain:Domain",
                "search",
                {"vpcOptions": VPC_OPTIONS},
                deps={"logPublishingOptions": [group]},
            ),
        ],
        False,
    ),
    Case(
        "opensearch-vpc-slr",
        "the role exists but the domain may come first",
        [P, OS_SLR, domain()],
        True,
        "vpcOptions",
    ),
    Case(
        "opensearch-vpc-slr",
        "the legacy Elasticsearch role is not the one",
        [P, (es := slr("es.amazonaws.com", "es-slr")), with_deps(domain(), es)],
        True,
        "opensearchservice.amazonaws.com",
    ),
    Case(
        "opensearch-vpc-slr",
        "config: another stack owns the role",
        [P, domain()],
        False,
        config={"externalServiceLinkedRoles": ["opensearchservice.amazonaws.com"]},
    ),
    Case(
        "opensearch-vpc-slr",
        "missing vpcOptions: a public domain needs no role",
        [P, domain(vpc=False)],
        False,
    ),
]


# ----------------------------------------------------------------------------------------------------------------
# eks-coredns-after-nodes


def cluster(**inputs: Any) -> dict[str, Any]:
    return R("eks:index:Cluster", "cluster", {"name": "ecommerce-prod", **inputs}, custom=False)


NODES = R("eks:index:ManagedNodeGroup", "nodes", {"clusterName": "ecommerce-prod"}, custom=False)


def addon(name: str, *after: dict[str, Any]) -> dict[str, Any]:
    return with_deps(
        R("aws:eks/addon:Addon", f"addon-{name}", {"addonName": name, "clusterName": "ecommerce-prod"}),
        *after,
    )


COREDNS_CASES = [
    Case(
        "eks-coredns-after-nodes",
        "skipDefaultNodeGroup with the CoreDNS add-on enabled waits for nodes that cannot exist yet",
        [P, cluster(skipDefaultNodeGroup=True, corednsAddonOptions={"enabled": True})],
        True,
        "corednsAddonOptions",
    ),
    Case(
        "eks-coredns-after-nodes",
        "add-on turned off in the cluster, created after the node group",
        [
            P,
            cluster(skipDefaultNodeGroup=True, corednsAddonOptions={"enabled": False}),
            NODES,
            addon("coredns", NODES),
        ],
        False,
    ),
    Case(
        "eks-coredns-after-nodes",
        "pulumi-eks creates the add-on when configurationValues is given, even with enabled false",
        [
            P,
            cluster(
                skipDefaultNodeGroup=True,
                corednsAddonOptions={"enabled": False, "configurationValues": {"replicaCount": 2}},
            ),
        ],
        True,
        "corednsAddonOptions",
    ),
    Case(
        "eks-coredns-after-nodes",
        "options without enabled (not from the Python SDK): pulumi-eks skips it without a default node group",
        [
            P,
            cluster(skipDefaultNodeGroup=True, corednsAddonOptions={"resolveConflictsOnCreate": "OVERWRITE"}),
        ],
        False,
    ),
    Case(
        "eks-coredns-after-nodes",
        "the default node group gives the add-on its nodes",
        [P, cluster(skipDefaultNodeGroup=False, corednsAddonOptions={"enabled": True})],
        False,
    ),
    Case(
        "eks-coredns-after-nodes",
        "a coredns add-on without a node group dependency",
        [P, NODES, addon("coredns")],
        True,
        "node group",
    ),
    Case(
        "eks-coredns-after-nodes",
        "a real preview shows pulumi-eks's own coredns child of a cluster without nodes",
        [
            P,
            (bare := cluster(skipDefaultNodeGroup=True, corednsAddonOptions={"enabled": True})),
            R("aws:eks/addon:Addon", "cluster-coredns", {"addonName": "coredns"}, parent=bare),
        ],
        True,
        "cluster-coredns",
    ),
    Case(
        "eks-coredns-after-nodes",
        "pulumi-eks's coredns child of a cluster with its default node group",
        [
            P,
            (default := cluster(skipDefaultNodeGroup=False)),
            R("aws:eks/addon:Addon", "cluster-coredns", {"addonName": "coredns"}, parent=default),
        ],
        False,
    ),
    Case("eks-coredns-after-nodes", "other add-ons are not judged", [P, addon("metrics-server")], False),
    Case(
        "eks-coredns-after-nodes",
        "missing corednsAddonOptions with skipDefaultNodeGroup: no managed add-on",
        [P, cluster(skipDefaultNodeGroup=True)],
        False,
    ),
]


# ----------------------------------------------------------------------------------------------------------------
# deployment-image-published

REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-2.amazonaws.com"


def repo(service: str = "cart", url_known: bool = True) -> dict[str, Any]:
    name = f"ecommerce-prod/{service}"
    outputs = {"repositoryUrl": f"{REGISTRY}/{name}"} if url_known else {"repositoryUrl": UNKNOWN}
    return R("aws:ecr/repository:Repository", f"repo-{service}", {"name": name}, outputs=outputs)


def workload(
    image: Any,
    replicas: Any = 2,
    *,
    source: dict[str, Any] | None = None,
    kind: str = "kubernetes:apps/v1:Deployment",
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "cart"}},
        "template": {"spec": {"containers": [{"name": "cart", "image": image}]}},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return R(
        kind,
        "cart",
        {"metadata": {"name": "cart", "namespace": "ecommerce"}, "spec": spec},
        deps={"spec": [source]} if source else None,
    )


CART = repo()
NEW_CART = repo(url_known=False)

IMAGE_CASES = [
    Case(
        "deployment-image-published",
        "an image the same up cannot have pushed, with replicas",
        [P, CART, workload(f"{REGISTRY}/ecommerce-prod/cart:0.1.0", source=CART)],
        True,
        "cluster.imageTags",
    ),
    Case(
        "deployment-image-published",
        "zero replicas until the images workflow has pushed",
        [P, CART, workload(f"{REGISTRY}/ecommerce-prod/cart:0.1.0", 0, source=CART)],
        False,
    ),
    Case(
        "deployment-image-published",
        "a real first preview: the repository URL and so the image are unknown",
        [P, NEW_CART, workload(UNKNOWN, source=NEW_CART)],
        True,
        "this same `up` creates",
    ),
    Case(
        "deployment-image-published",
        "a StatefulSet waits for its pods too",
        [
            P,
            CART,
            workload(f"{REGISTRY}/ecommerce-prod/cart:0.1.0", 1, kind="kubernetes:apps/v1:StatefulSet"),
        ],
        True,
        "spec.replicas 1",
    ),
    Case(
        "deployment-image-published",
        "an image of a repository the stack does not create",
        [P, CART, workload(f"{REGISTRY}/platform/base:2.0.0")],
        False,
    ),
    Case(
        "deployment-image-published",
        "existing repository, tag not known yet: nothing to judge",
        [P, CART, workload(UNKNOWN, source=CART)],
        False,
    ),
    Case(
        "deployment-image-published",
        "missing replicas: Kubernetes runs one",
        [P, CART, workload(f"{REGISTRY}/ecommerce-prod/cart:0.1.0", None, source=CART)],
        True,
        "not set (1)",
    ),
]

# ----------------------------------------------------------------------------------------------------------------
# provider-conflicting-arguments: terraform-provider-aws rds/cluster.go declares manage_master_user_password,
# master_password and master_password_wo ConflictsWith each other (an explicit false counts as set, #32002);
# elasticache/replication_group.go declares auth_token ConflictsWith user_group_ids.

SECRET = "s3cr3t-passw0rd"


def aurora(**inputs: Any) -> dict[str, Any]:
    return R("aws:rds/cluster:Cluster", "aurora", {"engine": "aurora-postgresql", **inputs})


def redis(**inputs: Any) -> dict[str, Any]:
    return R("aws:elasticache/replicationGroup:ReplicationGroup", "redis", {"transitEncryptionEnabled": True,
                                                                           **inputs})  # fmt: skip


CONFLICT_CASES = [
    Case(
        "provider-conflicting-arguments",
        "own master password with manageMasterUserPassword false: the provider counts false as set",
        [P, aurora(masterPassword=SECRET, manageMasterUserPassword=False)],
        True,
        "manageMasterUserPassword: set together with masterPassword",
    ),
    Case(
        "provider-conflicting-arguments",
        "own master password with manageMasterUserPassword true",
        [P, aurora(masterPassword=SECRET, manageMasterUserPassword=True)],
        True,
        "ConflictsWith",
    ),
    Case(
        "provider-conflicting-arguments",
        "a password unknown until apply is set all the same",
        [P, aurora(masterPassword=UNKNOWN, manageMasterUserPassword=False)],
        True,
        "masterPassword",
    ),
    Case(
        "provider-conflicting-arguments",
        "the write-only password with the managed one",
        [P, aurora(masterPasswordWo=SECRET, masterPasswordWoVersion=1, manageMasterUserPassword=True)],
        True,
        "masterPasswordWo",
    ),
    Case(
        "provider-conflicting-arguments",
        "both password arguments",
        [P, aurora(masterPassword=SECRET, masterPasswordWo=SECRET, masterPasswordWoVersion=1)],
        True,
        "masterPasswordWo",
    ),
    Case(
        "provider-conflicting-arguments",
        "own master password, manageMasterUserPassword left out (the DataTier's global-database primary)",
        [P, aurora(masterPassword=SECRET, masterUsername="ecommerce")],
        False,
    ),
    Case(
        "provider-conflicting-arguments",
        "RDS manages the password, no masterPassword",
        [P, aurora(manageMasterUserPassword=True, masterUsername="ecommerce")],
        False,
    ),
    Case(
        "provider-conflicting-arguments",
        "missing properties: a secondary of a global database carries no credentials at all",
        [P, aurora(globalClusterIdentifier="ecommerce-prod-aurora-global")],
        False,
    ),
    Case(
        "provider-conflicting-arguments",
        "a global database made from an existing cluster names no engine (the source's)",
        [
            P,
            R(
                "aws:rds/globalCluster:GlobalCluster",
                "global",
                {
                    "sourceDbClusterIdentifier": "arn:aws:rds:us-east-2:"
                    f"{ACCOUNT}:cluster:ecommerce-prod-aurora",
                    "engine": "aurora-postgresql",
                    "forceDestroy": True,
                },
            ),
        ],
        True,
        "engine",
    ),
    Case(
        "provider-conflicting-arguments",
        "a global database from an existing cluster, engine left out",
        [
            P,
            R(
                "aws:rds/globalCluster:GlobalCluster",
                "global",
                {
                    "sourceDbClusterIdentifier": "arn:aws:rds:us-east-2:"
                    f"{ACCOUNT}:cluster:ecommerce-prod-aurora",
                    "forceDestroy": True,
                },
            ),
        ],
        False,
    ),
    Case(
        "provider-conflicting-arguments",
        "the engine the provider fills into the state (Optional+Computed) is not the program's: inputs are judged",
        [
            P,
            R(
                "aws:rds/globalCluster:GlobalCluster",
                "global",
                {
                    "sourceDbClusterIdentifier": "arn:aws:rds:us-east-2:"
                    f"{ACCOUNT}:cluster:ecommerce-prod-aurora",
                    "forceDestroy": True,
                },
                outputs={
                    "engine": "aurora-postgresql",
                    "sourceDbClusterIdentifier": "arn:aws:rds:us-east-2:"
                    f"{ACCOUNT}:cluster:ecommerce-prod-aurora",
                },
            ),
        ],
        False,
    ),
    Case(
        "provider-conflicting-arguments",
        "a cluster restored from a snapshot cannot join a global database in the same operation",
        [P, aurora(snapshotIdentifier="snap-1", globalClusterIdentifier="ecommerce-prod-aurora-global")],
        True,
        "globalClusterIdentifier",
    ),
    Case(
        "provider-conflicting-arguments",
        "Redis AUTH token with a user group",
        [P, redis(authToken=SECRET, userGroupIds=["ecommerce-carts"])],
        True,
        "userGroupIds",
    ),
    Case(
        "provider-conflicting-arguments",
        "Redis AUTH token alone",
        [P, redis(authToken=SECRET)],
        False,
    ),
]


def test_a_conflict_finding_never_shows_the_password() -> None:
    findings = violations("provider-conflicting-arguments",
                          [P, aurora(masterPassword=SECRET, manageMasterUserPassword=False)])  # fmt: skip
    assert findings and all(SECRET not in f.message for f in findings), [f.message for f in findings]


CASES = [*KMS_CASES, *STS_CASES, *S3_CASES, *OPENSEARCH_CASES, *COREDNS_CASES, *IMAGE_CASES, *CONFLICT_CASES]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case) -> None:
    check(case)


# ----------------------------------------------------------------------------------------------------------------
# The stack config the CLI passes in PULUMI_CONFIG: cluster.imageTags


def pulumi_config(image_tags: Mapping[str, str]) -> dict[str, str]:
    """The stack config as the CLI encodes it for the pack: `project:key` -> string, objects as JSON."""
    return {
        "ecommerce-platform:environment": "prod",
        "ecommerce-platform:cluster": json.dumps({"imageTag": "0.1.0", "imageTags": dict(image_tags)}),
    }


PUSHED = [P, CART, workload(f"{REGISTRY}/ecommerce-prod/cart:0.1.0", source=CART)]


def test_a_tag_the_images_workflow_published_may_run_replicas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(pulumi_config({"cart": "0.1.0"})))
    assert not violations("deployment-image-published", PUSHED)


def test_a_repository_created_by_this_up_holds_no_image_whatever_the_config_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real preview of a stack that (re)creates the repository: its URL is unknown, so the image cannot be in it."""
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(pulumi_config({"cart": "0.1.0"})))
    findings = violations(
        "deployment-image-published",
        [P, NEW_CART, workload(f"{REGISTRY}/ecommerce-prod/cart:0.1.0", source=NEW_CART)],
    )
    assert findings and "this same `up` creates" in findings[0].message, findings


def test_a_tag_published_for_another_service_or_version_does_not_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(pulumi_config({"cart": "0.0.9", "orders": "0.1.0"})))
    findings = violations("deployment-image-published", PUSHED)
    assert findings and "cluster.imageTags.cart is '0.0.9'" in findings[0].message, findings


@pytest.fixture(scope="module")
def pushed_session() -> Iterator[Callable[[], PolicySession]]:
    """A pack started with cluster.imageTags in PULUMI_CONFIG, as `pulumi preview` starts it for such a stack."""
    sessions: list[PolicySession] = []

    def get() -> PolicySession:
        if not sessions:
            session = PolicySession(
                project="ecommerce-platform",
                stack="prod",
                stack_config=pulumi_config({"cart": "0.1.0"}),
                timeouts=Timeouts(call=30, start=60, stack=120),
            )
            session.__enter__()
            sessions.append(session)
        return sessions[0]

    yield get
    for session in sessions:
        session.__exit__(None, None, None)


def test_published_tags_reach_the_pack_through_pulumi_config(
    pushed_session: Callable[[], PolicySession], pack_session: Callable[[str], PolicySession]
) -> None:
    """Through the Analyzer protocol: the same plan passes with the tag published and fails without it."""
    plan = plan_of(PUSHED)
    fired = {d.policy for d in pushed_session().analyze(plan).mandatory}
    assert "deployment-image-published" not in fired, fired
    fired = {d.policy for d in pack_session("prod").analyze(plan).mandatory}
    assert "deployment-image-published" in fired, fired


# ----------------------------------------------------------------------------------------------------------------
# The owner flag for account-level resources: account.createServiceLinkedRoles


def owner_config(create: bool) -> dict[str, str]:
    return {
        "ecommerce-platform:environment": "dev",
        "ecommerce-platform:account": json.dumps({"createServiceLinkedRoles": create}),
    }


def test_a_stack_that_leaves_service_linked_roles_to_another_relies_on_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With account.createServiceLinkedRoles false the program looks the role up (and stops at preview when it is
    missing), so the domain's role exists before the `up`; with true the stack must create it first."""
    resources = [P, domain()]
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(owner_config(create=False)))
    assert not violations("opensearch-vpc-slr", resources)
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(owner_config(create=True)))
    assert violations("opensearch-vpc-slr", resources)


def test_the_owner_flag_covers_only_the_roles_the_program_owns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The program owns OpenSearch's role only; Auto Scaling's is not provided by the flag."""
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(owner_config(create=False)))
    assert violations("kms-key-policy-principals-exist", [P, key(ASG_STATEMENT)])
    opensearch = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/opensearchservice.amazonaws.com/AWSServiceRoleForAmazonOpenSearchService"
    assert not violations(
        "kms-key-policy-principals-exist", [P, key(allow({"AWS": opensearch}, KMS_ACTIONS))]
    )


def test_the_owner_flag_reaches_the_pack_through_pulumi_config(
    pack_session: Callable[[str], PolicySession],
) -> None:
    """Through the Analyzer protocol, with the stack files' own config: dev leaves the role to prod (in the fixes of
    issue 11), prod creates it; a stack file without the flag is judged as the owner."""
    plan = plan_of([P, domain()])
    session = PolicySession(
        project="ecommerce-platform",
        stack="dev",
        stack_config=owner_config(create=False),
        timeouts=Timeouts(call=30, start=60, stack=120),
    )
    with session:
        assert "opensearch-vpc-slr" not in {d.policy for d in session.analyze(plan).mandatory}
    assert "opensearch-vpc-slr" in {d.policy for d in pack_session("prod").analyze(plan).mandatory}
