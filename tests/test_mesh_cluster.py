"""ServiceMesh cluster and nodes (components/mesh/cluster.py): pulumi-eks's defaults overridden, the node group and
its launch template, the add-ons after the nodes, the control-plane log group, the cluster key.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.mesh import (
    CONTROL_PLANE_LOGS,
)
from k8s.catalogue import NAMESPACE
from tests.conftest import settings_for
from tests.mesh_support import (
    ACCOUNT,
    MESH,
    REGION,
    ROLE,
    ROLE_POLICY,
    build,
    one,
    policy_doc,
)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_cluster_arguments_override_pulumi_eks_defaults(resources: Any, stack: str) -> None:
    res = resources(stack)
    (cluster,) = res.of_type("eks:index:Cluster")
    i, urn = cluster["inputs"], cluster["urn"]
    # Both stacks keep the API private: CI reaches it from CodeBuild-hosted runners in the VPC (delivery.runners).
    assert i["endpointPrivateAccess"] is True and i["endpointPublicAccess"] is False, urn
    assert "publicAccessCidrs" not in i, urn
    assert i["authenticationMode"] == "API", urn
    assert i["enabledClusterLogTypes"] == list(CONTROL_PLANE_LOGS), urn
    assert i["upgradePolicy"] == {"supportType": "STANDARD"}, urn
    assert i["skipDefaultNodeGroup"] is True and i["skipDefaultSecurityGroups"] is True, urn
    assert i["createOidcProvider"] is True and i["nodeAssociatePublicIpAddress"] is False, urn
    key = one(res, "aws:kms/key:Key", f"{MESH}-cluster-key")
    assert i["encryptionConfigKeyArn"] == key["outputs"]["arn"], (
        f"{urn}: secrets not encrypted with the cluster key"
    )
    assert i["version"] == "1.33", urn
    assert (
        cluster["providers"].get("aws", "").split("::")[-1] == one(res, "pulumi:providers:aws", "aws")["id"]
    ), f"{urn}: pulumi-eks does not get the explicit aws provider: {cluster['providers']}"
    role = res.by_urn(i["serviceRole"]["urn"])
    assert role["inputs"]["name"] == f"ecommerce-{stack}-EKSClusterRole", role["urn"]
    kms = policy_doc(one(res, ROLE_POLICY, f"{MESH}-cluster-role-secrets-key"), "policy")["Statement"]
    assert [st["Resource"] for st in kms] == [key["outputs"]["arn"]], (
        f"{role['urn']}: secrets key grant {kms}"
    )
    attached = [r["inputs"]["policyArn"] for r in res.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if r["inputs"]["role"] == role["outputs"]["name"]]  # fmt: skip
    assert attached == ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"], f"{role['urn']}: {attached}"


@pytest.mark.parametrize(
    ("stack", "instance", "scaling", "prefix"),
    [("dev", "t3.micro", (3, 3, 5), True), ("prod", "t3.medium", (2, 3, 6), False)],
)
def test_node_group_per_stack(
    resources: Any, stack: str, instance: str, scaling: tuple[int, int, int], prefix: bool
) -> None:
    res = resources(stack)
    (ng,) = res.of_type("eks:index:ManagedNodeGroup")
    i, urn = ng["inputs"], ng["urn"]
    assert i["instanceTypes"] == [instance], urn
    assert (
        i["scalingConfig"]["minSize"],
        i["scalingConfig"]["desiredSize"],
        i["scalingConfig"]["maxSize"],
    ) == scaling
    assert "remoteAccess" not in i, f"{urn}: SSH access configured"
    nodes_sg = one(res, "aws:ec2/securityGroup:SecurityGroup", "ecommerce-vpc-nodes-sg")["id"]
    lt = one(res, "aws:ec2/launchTemplate:LaunchTemplate", f"{MESH}-nodes")
    assert i["launchTemplate"]["id"] == lt["id"], f"{urn}: not using the hardened launch template"
    li = lt["inputs"]
    assert li["metadataOptions"]["httpTokens"] == "required", lt["urn"]
    assert li["metadataOptions"]["httpPutResponseHopLimit"] == 1, lt["urn"]
    assert "keyName" not in li, f"{lt['urn']}: an SSH key pair is set"
    (bdm,) = li["blockDeviceMappings"]
    assert bdm["ebs"]["encrypted"] == "true" and bdm["ebs"]["volumeType"] == "gp3", lt["urn"]
    assert bdm["ebs"]["kmsKeyId"] == one(res, "aws:kms/key:Key", f"{MESH}-cluster-key")["outputs"]["arn"], lt[
        "urn"
    ]
    (cluster,) = res.of_type("eks:index:Cluster")
    assert li["vpcSecurityGroupIds"] == [cluster["outputs"]["clusterSecurityGroupId"], nodes_sg], lt["urn"]
    # EKS appends its own NodeConfig (its computed maxPods) after the launch template's and nodeadm lets the last
    # win: a NodeConfig of ours would be overridden, so the template carries none and k8s/capacity.py models EKS's.
    assert "userData" not in li, f"{lt['urn']}: renders user data EKS's own NodeConfig would override"
    assert "imageId" not in li, f"{lt['urn']}: an AMI id turns off EKS's bootstrap merge"
    assert i["amiType"] == "AL2023_x86_64_STANDARD", urn
    cni = cluster["inputs"]["vpcCniOptions"]
    assert cni["enablePrefixDelegation"] is prefix and cni["enableNetworkPolicy"] is True, cluster["urn"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_add_ons_present(resources: Any, stack: str) -> None:
    res = resources(stack)
    (cluster,) = res.of_type("eks:index:Cluster")
    i = cluster["inputs"]
    assert i["kubeProxyAddonOptions"]["enabled"] is True, cluster["urn"]
    # The mesh's own add-ons (Container Insights' add-on belongs to the Observability component).
    addons = {
        r["inputs"]["addonName"]: r for r in res.of_type("aws:eks/addon:Addon") if "ServiceMesh" in r["urn"]
    }
    assert set(addons) == {"metrics-server", "coredns"}, f"add-ons: {sorted(addons)}"
    releases = {r["inputs"]["name"]: r for r in res.of_type("kubernetes:helm.sh/v3:Release")}
    assert set(releases) == {"aws-load-balancer-controller", "cluster-autoscaler"}, sorted(releases)
    lbc = releases["aws-load-balancer-controller"]
    values = lbc["inputs"]["values"]
    assert (
        values["vpcId"] == one(res, "aws:ec2/vpc:Vpc", "ecommerce-vpc")["id"] and values["region"] == REGION
    ), lbc["urn"]
    assert (values["enableShield"], values["enableWaf"], values["enableWafv2"]) == (False, False, False), lbc[
        "urn"
    ]
    ca = releases["cluster-autoscaler"]["inputs"]["values"]
    assert ca["autoDiscovery"]["clusterName"] == f"ecommerce-{stack}", releases["cluster-autoscaler"]["urn"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_coredns_is_created_after_the_node_group_not_inside_the_cluster(resources: Any, stack: str) -> None:
    # pulumi-eks creates an add-on configured in eks.Cluster before any managed node group exists, and the node
    # group waits for the whole Cluster: CoreDNS stays DEGRADED and times out after 20 minutes (pulumi-eks#1819).
    res = resources(stack)
    (cluster,) = res.of_type("eks:index:Cluster")
    assert cluster["inputs"]["corednsAddonOptions"]["enabled"] is False, (
        f"{cluster['urn']}: pulumi-eks would create CoreDNS before any node exists"
    )
    (ng,) = res.of_type("eks:index:ManagedNodeGroup")
    coredns = one(res, "aws:eks/addon:Addon", f"{MESH}-coredns")
    assert coredns["inputs"]["addonName"] == "coredns", coredns["urn"]
    assert ng["urn"] in coredns["dependencies"], f"{coredns['urn']}: does not wait for the node group"
    assert coredns["inputs"]["clusterName"] == f"ecommerce-{stack}", coredns["urn"]
    assert coredns["inputs"]["resolveConflictsOnCreate"] == "OVERWRITE", (
        f"{coredns['urn']}: must adopt the CoreDNS EKS bootstraps with the cluster"
    )
    values = json.loads(coredns["inputs"]["configurationValues"])
    assert values["replicaCount"] == settings_for(stack).cluster.system_replicas, coredns["urn"]
    assert values["resources"]["requests"] == {"cpu": "100m", "memory": "70Mi"}, (
        f"{coredns['urn']}: requests differ from what the capacity check counts"
    )


@pytest.mark.parametrize(("stack", "days"), [("dev", 30), ("prod", 365)])
def test_control_plane_log_group_exists_before_the_cluster(resources: Any, stack: str, days: int) -> None:
    # EKS writes to /aws/eks/<cluster-name>/cluster and, if it is missing, creates it with no retention and AWS's key.
    res = resources(stack)
    (cluster,) = res.of_type("eks:index:Cluster")
    group = one(res, "aws:cloudwatch/logGroup:LogGroup", f"{MESH}-control-plane-logs")
    assert group["inputs"]["name"] == f"/aws/eks/{cluster['inputs']['name']}/cluster", group["urn"]
    assert group["inputs"]["retentionInDays"] == days, group["urn"]
    key = one(res, "aws:kms/key:Key", f"{MESH}-logs-key")
    assert group["inputs"]["kmsKeyId"] == key["outputs"]["arn"], group["urn"]
    assert group["urn"] in cluster["dependencies"], f"{cluster['urn']}: created before its log group"
    for r in (group, key):
        assert r["protect"] is (stack == "prod"), f"{r['urn']}: protect {r['protect']} in {stack}"
    (grant,) = [
        st for st in json.loads(key["inputs"]["policy"])["Statement"] if st["Principal"].get("Service")
    ]
    assert grant["Principal"]["Service"] == f"logs.{REGION}.amazonaws.com", key["urn"]
    assert grant["Condition"] == {
        "ArnEquals": {
            "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:"
            f"/aws/eks/ecommerce-{stack}/cluster"
        }
    }, f"{key['urn']}: CloudWatch Logs may use the key for other log groups: {grant['Condition']}"


def test_ci_roles_get_access_entries(resources: Any) -> None:
    res = resources("prod")
    (cluster,) = res.of_type("eks:index:Cluster")
    entries = cluster["inputs"]["accessEntries"]
    by_arn = {e["principalArn"]: e for e in entries.values()}
    deploy = one(res, ROLE, "ecommerce-delivery-deploy")["outputs"]["arn"]
    preview = one(res, ROLE, "ecommerce-delivery-preview")["outputs"]["arn"]
    admin = next(iter(by_arn[deploy]["accessPolicies"].values()))["policyArn"]
    view = next(iter(by_arn[preview]["accessPolicies"].values()))["policyArn"]
    assert admin.endswith("/AmazonEKSClusterAdminPolicy"), cluster["urn"]
    assert view.endswith("/AmazonEKSViewPolicy"), cluster["urn"]


def test_pod_egress_is_enforced_by_network_policy_because_node_egress_rules_are_not() -> None:
    # Managed nodes carry the EKS cluster security group, whose default outbound rule allows all traffic
    # (EKS user guide, "security group requirements"); SG rules are a union, so the nodes SG's egress rules restrict
    # nothing. Pod egress is held by the default-deny NetworkPolicy instead.
    res, _ = build("dev")
    lt = one(res, "aws:ec2/launchTemplate:LaunchTemplate", f"{MESH}-nodes")
    (cluster,) = res.of_type("eks:index:Cluster")
    assert cluster["outputs"]["clusterSecurityGroupId"] in lt["inputs"]["vpcSecurityGroupIds"], lt["urn"]
    deny = res.named(f"{MESH}-netpol-default-deny")
    assert deny["inputs"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, deny["urn"]
    assert deny["inputs"]["metadata"]["namespace"] == NAMESPACE, deny["urn"]


def test_node_volume_key_grants_auto_scaling_by_condition_not_by_naming_its_role(resources: Any) -> None:
    """KMS rejects a key policy that names a principal that does not exist (MalformedPolicyDocumentException), and
    AWSServiceRoleForAutoScaling exists only once the account's first Auto Scaling group does — the node group's,
    created after this key. The key matches that role by aws:PrincipalArn instead (EC2 Auto Scaling key policy)."""
    key = one(resources("prod"), "aws:kms/key:Key", f"{MESH}-cluster-key")
    statements = json.loads(key["inputs"]["policy"])["Statement"]
    named = [p for s in statements for p in _principal_arns(s) if ":role/aws-service-role/" in p]
    assert named == [], f"{key['urn']} names service-linked roles as principals: {named}"
    role = {
        "StringEquals": {"kms:CallerAccount": "123456789012"},
        "ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/aws-service-role/"
                      "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"},
    }  # fmt: skip
    (use,) = [s for s in statements if s.get("Sid") == "AutoScalingEncryptsNodeVolumes"]
    assert use["Principal"] == {"AWS": "*"} and use["Condition"] == role, key["urn"]
    assert {"kms:GenerateDataKey*", "kms:Decrypt", "kms:ReEncrypt*"} <= set(use["Action"]), key["urn"]
    (grant,) = [s for s in statements if s.get("Sid") == "AutoScalingAttachesNodeVolumes"]
    assert grant["Principal"] == {"AWS": "*"} and grant["Action"] == "kms:CreateGrant", key["urn"]
    assert grant["Condition"] == {**role, "Bool": {"kms:GrantIsForAWSResource": "true"}}, key["urn"]


def _principal_arns(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if not isinstance(principal, dict):
        return []
    values = principal.get("AWS", [])
    return [values] if isinstance(values, str) else list(values)
