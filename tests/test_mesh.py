"""ServiceMesh: cluster, nodes, add-ons, identities, ECR, the ALB and the workloads.

Unit tests build the component directly against a fabricated DataTier contract (distinct ARNs per service, so a
policy that leaks another service's store is caught); whole-stack tests read the dev and prod plans.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema
import kubernetes_validate
import pulumi
import pytest
from pulumi.runtime.sync_await import _sync_await

from components.config import KUBERNETES_VERSIONS, SettingsError
from components.contracts import (
    SERVICES,
    CacheAccess,
    DatabaseAccess,
    QueueAccess,
    SearchAccess,
    SecretAccess,
    ServiceStores,
    TableAccess,
    TopicAccess,
    UserPoolAccess,
)
from components.mesh import (
    ALB_SSL_POLICY,
    CLUSTER_AUTOSCALER_RELEASES,
    CONTROL_PLANE_LOGS,
    MeshNetwork,
    ServiceMesh,
)
from k8s.catalogue import BY_NAME, CATALOGUE, NAMESPACE
from tests.conftest import Resources, settings_for
from tools.offline.engine import run_in_mocks

ACCOUNT = "123456789012"
REGION = "us-east-2"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
MESH = "ecommerce-mesh"


def _o(value: str) -> pulumi.Output[str]:
    return pulumi.Output.from_input(value)


def _arn(service: str, kind: str, name: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{kind}{name}"


def fabricated_contract() -> dict[str, ServiceStores]:
    """One ServiceStores per service, each with ARNs no other service has."""
    key = lambda svc: _o(_arn("kms", "key/", f"key-{svc}"))  # noqa: E731
    return {
        "product": ServiceStores(
            tables=(TableAccess(_o("products"), _o(_arn("dynamodb", "table/", "products"))),),
            kms_key_arns=(key("product"),),
            env={"PRODUCTS_TABLE": "products"},
        ),
        "inventory": ServiceStores(
            tables=(TableAccess(_o("inventory"), _o(_arn("dynamodb", "table/", "inventory")), write=True),),
            kms_key_arns=(key("inventory"),),
        ),
        "cart": ServiceStores(
            secrets=(
                SecretAccess(_o(_arn("secretsmanager", "secret:", "redis-auth")), "REDIS_AUTH_SECRET_ARN"),
            ),
            cache=CacheAccess(_o("redis.example.internal"), 6379),
            kms_key_arns=(key("cart"),),
        ),
        "order": ServiceStores(
            database=DatabaseAccess(
                _o("db"), _o("db-ro"), 5432, "orders", "order_svc", _o("cluster-ORDERSRES")
            ),
            publishes=(TopicAccess(_o(_arn("sns", "", "order-events")), "ORDER_EVENTS_TOPIC_ARN"),),
            kms_key_arns=(key("order"),),
        ),
        "user-auth": ServiceStores(
            database=DatabaseAccess(
                _o("db"), _o("db-ro"), 5432, "users", "user_auth_svc", _o("cluster-ORDERSRES")
            ),
            user_pool=UserPoolAccess(
                _o("us-east-2_pool"), _o(_arn("cognito-idp", "userpool/", "us-east-2_pool")), _o("client")
            ),
        ),
        "payment": ServiceStores(
            secrets=(SecretAccess(_o(_arn("secretsmanager", "secret:", "stripe")), "STRIPE_SECRET_ARN"),),
            kms_key_arns=(key("payment"),),
        ),
        "notification": ServiceStores(
            consumes=(
                QueueAccess(_o("https://sqs/notify"), _o(_arn("sqs", "", "notify")), "NOTIFY_QUEUE_URL"),
            )
        ),
        "search": ServiceStores(
            search=SearchAccess(_o("search.example"), _o(_arn("es", "domain/", "search")))
        ),
    }


#: The ARNs (and ARN prefixes) each service may see in its policy.
OWN_ARNS = {
    "product": {
        _arn("dynamodb", "table/", "products"),
        _arn("dynamodb", "table/", "products") + "/index/*",
        _arn("kms", "key/", "key-product"),
    },
    "inventory": {
        _arn("dynamodb", "table/", "inventory"),
        _arn("dynamodb", "table/", "inventory") + "/index/*",
        _arn("kms", "key/", "key-inventory"),
    },
    "cart": {_arn("secretsmanager", "secret:", "redis-auth"), _arn("kms", "key/", "key-cart")},
    "order": {
        f"arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:cluster-ORDERSRES/order_svc",
        _arn("sns", "", "order-events"),
        _arn("kms", "key/", "key-order"),
    },
    "user-auth": {
        f"arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:cluster-ORDERSRES/user_auth_svc",
        _arn("cognito-idp", "userpool/", "us-east-2_pool"),
    },
    "payment": {_arn("secretsmanager", "secret:", "stripe"), _arn("kms", "key/", "key-payment")},
    "notification": {_arn("sqs", "", "notify")},
    "search": {_arn("es", "domain/", "search"), _arn("es", "domain/", "search") + "/*"},
}


def _build(stack: str, overrides: dict[str, Any] | None = None) -> tuple[Resources, ServiceMesh]:
    settings = settings_for(stack, overrides)
    holder: dict[str, ServiceMesh] = {}

    def program() -> None:
        holder["mesh"] = ServiceMesh(
            MESH,
            settings,
            network=MeshNetwork(
                vpc_id="vpc-0test",
                public_subnet_ids=["subnet-pub-a", "subnet-pub-b"],
                private_subnet_ids=["subnet-priv-a", "subnet-priv-b"],
                alb_security_group_id="sg-alb",
                nodes_security_group_id="sg-nodes",
            ),
            stores=fabricated_contract(),
        )

    monitor, _, _ = run_in_mocks(program, stack=stack)
    return Resources(monitor.records), holder["mesh"]


_BUILDS: dict[str, tuple[Resources, ServiceMesh]] = {}


@pytest.fixture(scope="module")
def built() -> Callable[[str], tuple[Resources, ServiceMesh]]:
    def get(key: str) -> tuple[Resources, ServiceMesh]:
        if key not in _BUILDS:
            if key == "domain":
                _BUILDS[key] = _build("prod", {"ecommerce-platform:edge": {"domainName": "shop.example.com"}})
            else:
                _BUILDS[key] = _build(key)
        return _BUILDS[key]

    return get


def _one(res: Resources, typ: str, name: str) -> dict[str, Any]:
    found = [r for r in res.of_type(typ) if r["name"] == name]
    assert len(found) == 1, f"expected one {typ} named {name!r}, found {[r['urn'] for r in found]}"
    return found[0]


ROLE, ROLE_POLICY = "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"
SUBNET = "aws:ec2/subnet:Subnet"


def _value(out: pulumi.Output[Any]) -> Any:
    return _sync_await(out.future())


def _policy(record: dict[str, Any], key: str) -> dict[str, Any]:
    raw = record["inputs"][key]
    assert isinstance(raw, str), f"{record['urn']}: {key} is not a rendered policy: {raw!r}"
    return dict(json.loads(raw))


def _listify(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


# --- identities ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_service_policy_touches_only_its_own_stores(built: Any, service: str) -> None:
    res, _ = built("dev")
    record = _one(res, ROLE_POLICY, f"{MESH}-svc-{service}")
    resources: set[str] = set()
    for st in _policy(record, "policy")["Statement"]:
        assert st["Effect"] == "Allow", f"{record['urn']}: {st}"
        assert "*" not in _listify(st["Action"]), f"{record['urn']}: wildcard action in {st}"
        resources.update(_listify(st["Resource"]))
    assert resources == OWN_ARNS[service], (
        f"{record['urn']}: policy resources {sorted(resources)} != own stores"
    )
    others = set().union(*(arns for s, arns in OWN_ARNS.items() if s != service)) - OWN_ARNS[service]
    assert not resources & others, f"{record['urn']}: touches other services' stores {resources & others}"


@pytest.mark.parametrize("service", SERVICES)
def test_service_trust_names_exactly_its_service_account(built: Any, service: str) -> None:
    res, _ = built("dev")
    role = _one(res, ROLE, f"{MESH}-svc-{service}")
    (st,) = _policy(role, "assumeRolePolicy")["Statement"]
    assert st["Action"] == "sts:AssumeRoleWithWebIdentity", role["urn"]
    assert st["Principal"]["Federated"].startswith(f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks."), role[
        "urn"
    ]
    cond = st["Condition"]["StringEquals"]
    subs = {k: v for k, v in cond.items() if k.endswith(":sub")}
    auds = {k: v for k, v in cond.items() if k.endswith(":aud")}
    assert list(subs.values()) == [f"system:serviceaccount:{NAMESPACE}:{service}"], f"{role['urn']}: {cond}"
    assert list(auds.values()) == ["sts.amazonaws.com"], f"{role['urn']}: {cond}"
    assert "StringLike" not in st["Condition"], f"{role['urn']}: wildcard trust {st['Condition']}"
    sa = res.named(f"{MESH}-{service}-sa")
    assert sa["inputs"]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role["outputs"]["arn"], (
        sa["urn"]
    )


def test_service_without_stores_gets_no_policy(build: Callable[..., Resources]) -> None:
    settings = settings_for("dev")

    def program() -> None:
        ServiceMesh(
            MESH,
            settings,
            network=MeshNetwork("vpc-0", ["s1", "s2"], ["s3", "s4"], "sg-a", "sg-n"),
            stores={s: ServiceStores() for s in SERVICES},
        )

    res = build(program)
    policies = [r["name"] for r in res.of_type("aws:iam/rolePolicy:RolePolicy") if "-svc-" in r["name"]]
    assert policies == [], f"services without stores got policies: {policies}"


def test_controller_roles_are_scoped(built: Any) -> None:
    res, _ = built("dev")
    lbc = _policy(_one(res, ROLE_POLICY, f"{MESH}-aws-load-balancer-controller"), "policy")["Statement"]
    register = next(s for s in lbc if s.get("Sid") == "RegisterPodsInOwnTargetGroups")
    tg_arns = {r["outputs"]["arn"] for r in res.of_type("aws:lb/targetGroup:TargetGroup")}
    assert set(_listify(register["Resource"])) == tg_arns, (
        f"LBC may register targets in {register['Resource']}"
    )
    actions = {a for s in lbc for a in _listify(s["Action"])}
    assert not any(
        a.startswith(("elasticloadbalancing:Create", "elasticloadbalancing:Delete")) for a in actions
    ), f"the controller must not create/delete load balancers: {sorted(actions)}"
    ca = _policy(_one(res, ROLE_POLICY, f"{MESH}-cluster-autoscaler"), "policy")["Statement"]
    scale = next(s for s in ca if s.get("Sid") == "ScaleOwnNodeGroups")
    assert scale["Condition"] == {
        "StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/ecommerce-dev": "owned"}
    }, f"autoscaler scaling not bound to this cluster's tag: {scale}"


# --- cluster, nodes, add-ons -----------------------------------------------------------------------------------


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
    key = _one(res, "aws:kms/key:Key", f"{MESH}-cluster-key")
    assert i["encryptionConfigKeyArn"] == key["outputs"]["arn"], (
        f"{urn}: secrets not encrypted with the cluster key"
    )
    assert i["version"] == "1.33", urn
    assert (
        cluster["providers"].get("aws", "").split("::")[-1] == _one(res, "pulumi:providers:aws", "aws")["id"]
    ), f"{urn}: pulumi-eks does not get the explicit aws provider: {cluster['providers']}"
    role = res.by_urn(i["serviceRole"]["urn"])
    assert role["inputs"]["name"] == f"ecommerce-{stack}-EKSClusterRole", role["urn"]
    kms = _policy(_one(res, ROLE_POLICY, f"{MESH}-cluster-role-secrets-key"), "policy")["Statement"]
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
    nodes_sg = _one(res, "aws:ec2/securityGroup:SecurityGroup", "ecommerce-vpc-nodes-sg")["id"]
    lt = _one(res, "aws:ec2/launchTemplate:LaunchTemplate", f"{MESH}-nodes")
    assert i["launchTemplate"]["id"] == lt["id"], f"{urn}: not using the hardened launch template"
    li = lt["inputs"]
    assert li["metadataOptions"]["httpTokens"] == "required", lt["urn"]
    assert li["metadataOptions"]["httpPutResponseHopLimit"] == 1, lt["urn"]
    assert "keyName" not in li, f"{lt['urn']}: an SSH key pair is set"
    (bdm,) = li["blockDeviceMappings"]
    assert bdm["ebs"]["encrypted"] == "true" and bdm["ebs"]["volumeType"] == "gp3", lt["urn"]
    assert bdm["ebs"]["kmsKeyId"] == _one(res, "aws:kms/key:Key", f"{MESH}-cluster-key")["outputs"]["arn"], (
        lt["urn"]
    )
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
        values["vpcId"] == _one(res, "aws:ec2/vpc:Vpc", "ecommerce-vpc")["id"] and values["region"] == REGION
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
    coredns = _one(res, "aws:eks/addon:Addon", f"{MESH}-coredns")
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


@pytest.mark.parametrize("version", ["1.32", "1.33", "1.34"])
def test_cluster_autoscaler_chart_runs_its_own_app_version_for_the_cluster_minor(version: str) -> None:
    # kubernetes/autoscaler charts/cluster-autoscaler: Chart.yaml appVersion and values.yaml image.tag of each pin.
    pinned = {"1.32": ("9.46.6", "1.32.0"), "1.33": ("9.51.0", "1.33.0"), "1.34": ("9.53.0", "1.34.2")}
    assert CLUSTER_AUTOSCALER_RELEASES[version] == pinned[version], version
    chart, app = CLUSTER_AUTOSCALER_RELEASES[version]
    assert app.rsplit(".", 1)[0] == version, f"chart {chart} runs autoscaler {app} on a {version} cluster"
    assert set(CLUSTER_AUTOSCALER_RELEASES) == set(KUBERNETES_VERSIONS), (
        "a supported minor has no autoscaler pin"
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_cluster_autoscaler_release_pins_the_matching_pair(resources: Any, stack: str) -> None:
    res = resources(stack)
    ca = _one(res, "kubernetes:helm.sh/v3:Release", f"{MESH}-cluster-autoscaler")
    assert (ca["inputs"]["version"], ca["inputs"]["values"]["image"]["tag"]) == ("9.51.0", "v1.33.0"), (
        f"{ca['urn']}: chart 9.51.0 is the chart whose appVersion is 1.33.0, the cluster's minor"
    )


@pytest.mark.parametrize(("stack", "days"), [("dev", 30), ("prod", 365)])
def test_control_plane_log_group_exists_before_the_cluster(resources: Any, stack: str, days: int) -> None:
    # EKS writes to /aws/eks/<cluster-name>/cluster and, if it is missing, creates it with no retention and AWS's key.
    res = resources(stack)
    (cluster,) = res.of_type("eks:index:Cluster")
    group = _one(res, "aws:cloudwatch/logGroup:LogGroup", f"{MESH}-control-plane-logs")
    assert group["inputs"]["name"] == f"/aws/eks/{cluster['inputs']['name']}/cluster", group["urn"]
    assert group["inputs"]["retentionInDays"] == days, group["urn"]
    key = _one(res, "aws:kms/key:Key", f"{MESH}-logs-key")
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


def test_every_kubernetes_object_uses_the_cluster_provider(resources: Any) -> None:
    res = resources("dev")
    provider = _one(res, "pulumi:providers:kubernetes", f"{MESH}-k8s")
    ref = f"{provider['urn']}::{provider['id']}"
    for r in res:
        if r["type"].startswith("kubernetes:"):
            assert r["provider"] == ref, f"{r['urn']}: provider {r['provider']!r}, want the cluster's"
    assert provider["inputs"]["kubeconfig"]["4dabf18193072939515e22adb298388d"] == SECRET_SIG, provider["urn"]


# --- workloads -------------------------------------------------------------------------------------------------

#: TargetGroupBinding is the Load Balancer Controller's CRD, absent from the Kubernetes schemas: checked here.
TARGET_GROUP_BINDING_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "elbv2.k8s.aws/v1beta1"},
        "kind": {"const": "TargetGroupBinding"},
        "metadata": {"type": "object", "required": ["name", "namespace"]},
        "spec": {
            "type": "object",
            "required": ["serviceRef", "targetGroupARN"],
            "additionalProperties": False,
            "properties": {
                "serviceRef": {
                    "type": "object",
                    "required": ["name", "port"],
                    "additionalProperties": False,
                    "properties": {"name": {"type": "string"}, "port": {"type": ["integer", "string"]}},
                },
                "targetGroupARN": {"type": "string", "pattern": "^arn:aws[a-z-]*:elasticloadbalancing:"},
                "targetType": {"enum": ["instance", "ip"]},
            },
        },
    },
}


def _manifest(record: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in record["inputs"].items() if not k.startswith("__")}
    if "automountServiceAccountToken" not in body and record["type"].endswith(":ServiceAccount"):
        pass
    return body


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_kubernetes_object_validates_against_the_cluster_schema(resources: Any, stack: str) -> None:
    res = resources(stack)
    version = settings_for(stack).cluster.kubernetes_version
    objects = [
        r
        for r in res
        if r["type"].startswith("kubernetes:")
        and r["custom"]
        and not r["type"].startswith("kubernetes:helm.sh")
    ]
    assert len(objects) >= 8 * 7, f"only {len(objects)} Kubernetes objects"
    for r in objects:
        m = _manifest(r)
        if m["kind"] == "TargetGroupBinding":
            jsonschema.validate(m, TARGET_GROUP_BINDING_SCHEMA)
            continue
        try:
            kubernetes_validate.validate(m, f"{version}.0", strict=True)
        except kubernetes_validate.ValidationError as err:
            raise AssertionError(f"{r['urn']}: {err.message} at {list(err.path)}") from err


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_workload_is_hardened(resources: Any, stack: str) -> None:
    res = resources(stack)
    deployments = res.of_type("kubernetes:apps/v1:Deployment")
    assert {d["inputs"]["metadata"]["name"] for d in deployments} == set(SERVICES)
    for d in deployments:
        urn, spec = d["urn"], d["inputs"]["spec"]
        pod = spec["template"]["spec"]
        assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0, urn
        assert pod["securityContext"]["runAsNonRoot"] is True, urn
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", urn
        zones = [
            t for t in pod["topologySpreadConstraints"] if t["topologyKey"] == "topology.kubernetes.io/zone"
        ]
        assert zones and zones[0]["whenUnsatisfiable"] == "DoNotSchedule", f"{urn}: not spread across AZs"
        assert pod.get("hostNetwork") is not True and pod["automountServiceAccountToken"] is False, urn
        for ctr in pod["containers"]:
            sc = ctr["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True, urn
            assert sc["capabilities"]["drop"] == ["ALL"] and "add" not in sc["capabilities"], urn
            assert sc["runAsNonRoot"] is True and sc["privileged"] is False, urn
            for kind in ("requests", "limits"):
                assert set(ctr["resources"][kind]) == {"cpu", "memory"}, f"{urn}: {kind} incomplete"
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert probe in ctr, f"{urn}: no {probe}"
            assert ctr["image"].endswith(
                f"/ecommerce-{stack}/{d['inputs']['metadata']['name']}:unpublished"
            ), f"{urn}: {ctr['image']}"
            assert not any("value" in e and "secret" in e["name"].lower() for e in ctr["env"]), urn
    ns = res.named(f"{MESH}-namespace")["inputs"]["metadata"]["labels"]
    assert ns["pod-security.kubernetes.io/enforce"] == "restricted", ns


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_unpublished_services_run_zero_replicas_and_no_hpa(resources: Any, stack: str) -> None:
    # A fresh account's ECR repositories are empty until the images workflow pushes; the Kubernetes provider waits
    # for each Deployment to become ready and fails after ten minutes if its pods cannot pull.
    res = resources(stack)
    assert settings_for(stack).cluster.image_tags == (), f"{stack} ships with published tags"
    for svc in CATALOGUE:
        d = res.named(f"{MESH}-{svc.name}-deployment")
        assert d["inputs"]["spec"]["replicas"] == 0, f"{d['urn']}: waits on an image no one has pushed"
        hpas = [r for r in res.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
                if r["name"] == f"{MESH}-{svc.name}-hpa"]  # fmt: skip
        assert hpas == [], f"{hpas[0]['urn'] if hpas else ''}: an HPA for a service with no image"
        pdb = res.named(f"{MESH}-{svc.name}-pdb")
        assert pdb["inputs"]["spec"]["maxUnavailable"] == 1, pdb["urn"]


def _published(stack: str, sha: str, services: list[str]) -> Resources:
    from tools.ci.__main__ import set_image_tags
    from tools.offline.engine import ROOT

    text = set_image_tags((ROOT / f"Pulumi.{stack}.yaml").read_text(), sha, services)
    import yaml

    cluster = yaml.safe_load(text)["config"]["ecommerce-platform:cluster"]
    return _build(stack, {"ecommerce-platform:cluster": cluster})[0]


@pytest.mark.parametrize(("stack", "hpa"), [("dev", (1, 2)), ("prod", (2, 6))])
def test_published_services_run_their_replicas_under_their_hpa(stack: str, hpa: tuple[int, int]) -> None:
    sha = "fedcba9876543210fedcba9876543210fedcba98"
    res = _published(stack, sha, list(SERVICES))
    for svc in CATALOGUE:
        d = res.named(f"{MESH}-{svc.name}-deployment")
        spec = d["inputs"]["spec"]
        # The HPA owns the count: no replicas field and no ignoreChanges. An HPA never scales a target at 0
        # replicas, so on the pin Pulumi's server-side apply drops its own `replicas: 0` (the field returns to
        # its default, 1) and the HPA raises it to minReplicas.
        assert "replicas" not in spec, f"{d['urn']}: a fixed count would reset the HPA's on every image roll"
        assert "spec.replicas" not in d["ignoreChanges"], f"{d['urn']}: would keep the unpublished 0 forever"
        assert spec["template"]["spec"]["containers"][0]["image"].endswith(f"/{svc.name}:{sha}"), d["urn"]
        h = res.named(f"{MESH}-{svc.name}-hpa")
        assert (h["inputs"]["spec"]["minReplicas"], h["inputs"]["spec"]["maxReplicas"]) == hpa, h["urn"]
        assert h["inputs"]["spec"]["scaleTargetRef"]["name"] == svc.name, h["urn"]


def test_network_policies_follow_the_catalogue(resources: Any) -> None:
    res = resources("prod")
    deny = res.named(f"{MESH}-netpol-default-deny")["inputs"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, deny
    dns = res.named(f"{MESH}-netpol-allow-dns")["inputs"]["spec"]["egress"][0]
    assert {p["port"] for p in dns["ports"]} == {53}, dns
    public_cidrs = ["10.0.1.0/24", "10.0.2.0/24"]
    for svc in CATALOGUE:
        r = res.named(f"{MESH}-{svc.name}-netpol")
        spec = r["inputs"]["spec"]
        ingress = spec.get("ingress", [])
        alb = [rule for rule in ingress if any("ipBlock" in p for p in rule["from"])]
        if svc.public:
            assert [p["ipBlock"]["cidr"] for p in alb[0]["from"]] == public_cidrs, r["urn"]
        else:
            assert not alb, f"{r['urn']}: internal service reachable from the ALB"
        callers = {
            p["podSelector"]["matchLabels"]["app"]
            for rule in ingress
            for p in rule["from"]
            if "podSelector" in p
        }
        assert callers == {s.name for s in CATALOGUE if svc.name in s.calls}, r["urn"]
        callees = {
            p["podSelector"]["matchLabels"]["app"]
            for rule in spec["egress"]
            for p in rule["to"]
            if "podSelector" in p
        }
        assert callees == set(svc.calls), r["urn"]
    assert BY_NAME["notification"].public is False


# --- ECR and the ALB -------------------------------------------------------------------------------------------


def test_ecr_repositories(resources: Any) -> None:
    res = resources("prod")
    repos = res.of_type("aws:ecr/repository:Repository")
    assert sorted(r["inputs"]["name"] for r in repos) == sorted(f"ecommerce-prod/{s}" for s in SERVICES)
    key = _one(res, "aws:kms/key:Key", f"{MESH}-ecr-key")["outputs"]["arn"]
    for r in repos:
        i = r["inputs"]
        assert i["imageTagMutability"] == "IMMUTABLE", r["urn"]
        assert i["imageScanningConfiguration"]["scanOnPush"] is True, r["urn"]
        assert i["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": key}], r["urn"]
        assert i["forceDelete"] is False, f"{r['urn']}: prod repositories must not be force-deleted"
    assert len(res.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")) == len(SERVICES)


@pytest.mark.parametrize(("stack", "protection"), [("dev", False), ("prod", True)])
def test_alb_without_domain(resources: Any, stack: str, protection: bool) -> None:
    res = resources(stack)
    (alb,) = res.of_type("aws:lb/loadBalancer:LoadBalancer")
    i = alb["inputs"]
    assert i["enableDeletionProtection"] is protection, alb["urn"]
    assert i["dropInvalidHeaderFields"] is True and i["desyncMitigationMode"] == "defensive", alb["urn"]
    assert i["securityGroups"] == [
        _one(res, "aws:ec2/securityGroup:SecurityGroup", "ecommerce-vpc-alb-sg")["id"]
    ], alb["urn"]
    assert i["subnets"] == [
        _one(res, SUBNET, "ecommerce-vpc-public-a")["id"],
        _one(res, SUBNET, "ecommerce-vpc-public-b")["id"],
    ]
    bucket = _one(res, "aws:s3/bucket:Bucket", f"{MESH}-alb-logs")
    assert i["accessLogs"] == {"bucket": bucket["outputs"]["bucket"], "prefix": "alb", "enabled": True}, alb[
        "urn"
    ]
    sse = next(
        r
        for r in res.of_type(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
        if r["name"] == f"{MESH}-alb-logs"
    )
    algo = sse["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
    assert algo == "AES256", f"{sse['urn']}: ALB access logs support only SSE-S3, got {algo}"
    if settings_for(stack).edge.domain_name:
        # prod carries a domain (edge.domainName): its HTTPS listener and redirect are checked by
        # test_alb_with_domain_serves_tls_and_hands_cdn_an_https_origin.
        assert {r["inputs"]["port"] for r in res.of_type("aws:lb/listener:Listener")} == {80, 443}, alb["urn"]
        return
    (listener,) = res.of_type("aws:lb/listener:Listener")
    assert listener["inputs"]["port"] == 80 and listener["inputs"]["protocol"] == "HTTP", listener["urn"]
    assert listener["inputs"]["defaultActions"][0]["fixedResponse"]["statusCode"] == "403", listener["urn"]
    tgs = {r["inputs"]["port"]: r for r in res.of_type("aws:lb/targetGroup:TargetGroup")}
    public = [s for s in CATALOGUE if s.public]
    assert sorted(tgs) == sorted(s.port for s in public)
    rules = res.of_type("aws:lb/listenerRule:ListenerRule")
    assert len(rules) == len(public)
    for rule in rules:
        conds = rule["inputs"]["conditions"]
        header = [c["httpHeader"] for c in conds if "httpHeader" in c]
        assert header and header[0]["httpHeaderName"] == "X-Origin-Verify", (
            f"{rule['urn']}: no origin header check"
        )
        assert header[0]["values"][0]["4dabf18193072939515e22adb298388d"] == SECRET_SIG, (
            f"{rule['urn']}: header value not secret"
        )
    for svc in public:
        tg = next(r for r in tgs.values() if r["inputs"]["port"] == svc.port)
        assert tg["inputs"]["targetType"] == "ip" and tg["inputs"]["healthCheck"]["path"] == "/ready", tg[
            "urn"
        ]
        tgb = res.named(f"{MESH}-{svc.name}-tgb")
        assert tgb["inputs"]["spec"]["targetGroupARN"] == tg["outputs"]["arn"], tgb["urn"]
        assert tgb["inputs"]["spec"]["serviceRef"] == {"name": svc.name, "port": svc.port}, tgb["urn"]


def test_alb_with_domain_serves_tls_and_hands_cdn_an_https_origin(built: Any) -> None:
    res, mesh = built("domain")
    listeners = {r["inputs"]["port"]: r for r in res.of_type("aws:lb/listener:Listener")}
    https = listeners[443]
    assert https["inputs"]["sslPolicy"] == ALB_SSL_POLICY, https["urn"]
    cert = _one(res, "aws:acm/certificate:Certificate", f"{MESH}-origin-cert")
    assert cert["inputs"]["domainName"] == "origin.shop.example.com"
    assert cert["inputs"]["validationMethod"] == "DNS", cert["urn"]
    validation = [r for r in res if r["type"] == "aws:acm/certificateValidation:CertificateValidation"]
    assert https["inputs"]["certificateArn"] == validation[0]["outputs"]["certificateArn"], https["urn"]
    redirect = listeners[80]["inputs"]["defaultActions"][0]
    assert redirect["type"] == "redirect" and redirect["redirect"]["protocol"] == "HTTPS", listeners[80][
        "urn"
    ]
    rules = res.of_type("aws:lb/listenerRule:ListenerRule")
    assert all(r["inputs"]["listenerArn"] == https["outputs"]["arn"] for r in rules), (
        "rules not on the HTTPS listener"
    )
    alias = _one(res, "aws:route53/record:Record", f"{MESH}-origin")
    (alb,) = res.of_type("aws:lb/loadBalancer:LoadBalancer")
    assert alias["inputs"]["aliases"][0]["name"] == alb["outputs"]["dnsName"], alias["urn"]
    origin = mesh.alb_origin
    assert (origin.protocol, origin.port) == ("https-only", 443)
    assert _value(origin.domain_name) == "origin.shop.example.com"
    assert _sync_await(origin.verify_header_value.is_secret()), "origin header value must stay secret"
    assert _value(origin.alb_arn) == alb["outputs"]["arn"]


def test_alb_origin_without_domain_is_the_alb_over_http(built: Any) -> None:
    res, mesh = built("dev")
    (alb,) = res.of_type("aws:lb/loadBalancer:LoadBalancer")
    origin = mesh.alb_origin
    assert (origin.protocol, origin.port) == ("http-only", 80)
    assert _value(origin.domain_name) == alb["outputs"]["dnsName"]


# --- settings --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cluster", "key"),
    [
        ({"kubernetesVersion": "1.27"}, "cluster.kubernetesVersion"),
        ({"publicAccessCidrs": ["0.0.0.0/0"]}, "cluster.publicAccessCidrs[0]"),
        ({"publicAccessCidrs": ["not-a-cidr"]}, "cluster.publicAccessCidrs[0]"),
        ({"controlPlaneLogRetentionDays": 10}, "cluster.controlPlaneLogRetentionDays"),
        ({"adminRoleArns": ["arn:aws:iam::123:user/bob"]}, "cluster.adminRoleArns[0]"),
        ({"rootVolumeSizeGib": 8}, "cluster.rootVolumeSizeGib"),
        ({"systemReplicas": 0}, "cluster.systemReplicas"),
        ({"workloadProfile": "huge"}, "cluster.workloadProfile"),
    ],
)
def test_bad_cluster_settings_fail_naming_the_key(cluster: dict[str, Any], key: str) -> None:
    base = dict(settings_for_raw("dev"))
    base.update(cluster)
    with pytest.raises(SettingsError) as err:
        settings_for("dev", {"ecommerce-platform:cluster": base})
    assert any(p.startswith(f"{key}:") for p in err.value.problems), err.value.problems


def settings_for_raw(stack: str) -> dict[str, Any]:
    import yaml

    from tools.offline.engine import ROOT

    return dict(
        yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]["ecommerce-platform:cluster"]
    )


# --- whole stack: the mesh wired to the real DataTier ------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_service_policies_name_only_data_tier_resources(resources: Any, stack: str) -> None:
    res = resources(stack)
    data = [r for r in res if ":DataTier$" in r["urn"] and r["custom"]]
    arns = {r["outputs"].get("arn") for r in data} - {None}
    resource_ids = {r["outputs"].get("clusterResourceId") for r in data} - {None}
    assert arns and resource_ids, "the DataTier registered no ARNs or Aurora cluster"
    for service in SERVICES:
        record = _one(res, ROLE_POLICY, f"{MESH}-svc-{service}")
        for st in _policy(record, "policy")["Statement"]:
            for arn in _listify(st["Resource"]):
                if arn.startswith("arn:aws:rds-db:"):
                    assert arn.split(":dbuser:")[1].split("/")[0] in resource_ids, f"{record['urn']}: {arn}"
                    continue
                base = arn.removesuffix("/index/*").removesuffix("/*")
                assert base in arns, f"{record['urn']}: {arn} is not a DataTier resource"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_secret_value_lands_in_a_manifest(resources: Any, stack: str) -> None:
    for r in resources(stack):
        if r["type"].startswith("kubernetes:") and not r["type"].startswith("kubernetes:helm.sh"):
            assert SECRET_SIG not in json.dumps(r["inputs"]), (
                f"{r['urn']}: a secret value in a plain manifest"
            )
    for svc in CATALOGUE:
        cm = _one(resources(stack), "kubernetes:core/v1:ConfigMap", f"{MESH}-{svc.name}-config")
        assert cm["inputs"]["data"]["SERVICE_NAME"] == svc.name, cm["urn"]


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("imageTag", "0.1.0", "a fresh account does not have"),
        ("maxPodsPerNode", 12, "never reached the kubelet"),
    ],
)
def test_retired_cluster_keys_say_why_and_what_instead(key: str, value: Any, says: str) -> None:
    with pytest.raises(SettingsError) as err:
        settings_for("dev", {"ecommerce-platform:cluster": {**settings_for_raw("dev"), key: value}})
    (problem,) = [p for p in err.value.problems if p.startswith(f"cluster.{key}:")]
    assert "retired" in problem and says in problem and "Remove it" in problem, problem


def test_image_tags_name_published_images_only() -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    cluster = {**settings_for_raw("dev"), "imageTags": {"payment": sha}}
    s = settings_for("dev", {"ecommerce-platform:cluster": cluster})
    assert s.cluster.image_tags.get("payment") == sha and s.cluster.image_tags.get("cart") is None
    for bad, key in (
        ({"nine": sha}, "cluster.imageTags.nine"),
        ({"cart": "latest"}, "cluster.imageTags.cart"),
        ({"cart": "unpublished"}, "cluster.imageTags.cart"),
    ):
        with pytest.raises(SettingsError) as err:
            settings_for("dev", {"ecommerce-platform:cluster": {**settings_for_raw("dev"), "imageTags": bad}})
        assert any(p.startswith(f"{key}:") for p in err.value.problems), err.value.problems


def test_ci_pinned_tag_publishes_only_that_service() -> None:
    sha = "89abcdef0123456789abcdef0123456789abcdef"
    res = _published("dev", sha, ["payment"])
    deployments = {d["inputs"]["metadata"]["name"]: d for d in res.of_type("kubernetes:apps/v1:Deployment")}
    images = {
        n: d["inputs"]["spec"]["template"]["spec"]["containers"][0]["image"] for n, d in deployments.items()
    }
    assert images["payment"].endswith(f"/ecommerce-dev/payment:{sha}"), images["payment"]
    assert "replicas" not in deployments["payment"]["inputs"]["spec"], deployments["payment"]["urn"]
    assert images["cart"].endswith("/ecommerce-dev/cart:unpublished"), images["cart"]
    assert deployments["cart"]["inputs"]["spec"]["replicas"] == 0, deployments["cart"]["urn"]
    hpas = {
        h["inputs"]["metadata"]["name"]
        for h in res.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    }
    assert hpas == {"payment"}, f"HPAs for {sorted(hpas)}; only the published service may have one"


def test_ci_roles_get_access_entries(resources: Any) -> None:
    res = resources("prod")
    (cluster,) = res.of_type("eks:index:Cluster")
    entries = cluster["inputs"]["accessEntries"]
    by_arn = {e["principalArn"]: e for e in entries.values()}
    deploy = _one(res, ROLE, "ecommerce-delivery-deploy")["outputs"]["arn"]
    preview = _one(res, ROLE, "ecommerce-delivery-preview")["outputs"]["arn"]
    admin = next(iter(by_arn[deploy]["accessPolicies"].values()))["policyArn"]
    view = next(iter(by_arn[preview]["accessPolicies"].values()))["policyArn"]
    assert admin.endswith("/AmazonEKSClusterAdminPolicy"), cluster["urn"]
    assert view.endswith("/AmazonEKSViewPolicy"), cluster["urn"]


def test_pod_egress_is_enforced_by_network_policy_because_node_egress_rules_are_not() -> None:
    # Managed nodes carry the EKS cluster security group, whose default outbound rule allows all traffic
    # (EKS user guide, "security group requirements"); SG rules are a union, so the nodes SG's egress rules restrict
    # nothing. Pod egress is held by the default-deny NetworkPolicy instead.
    res, _ = _build("dev")
    lt = _one(res, "aws:ec2/launchTemplate:LaunchTemplate", f"{MESH}-nodes")
    (cluster,) = res.of_type("eks:index:Cluster")
    assert cluster["outputs"]["clusterSecurityGroupId"] in lt["inputs"]["vpcSecurityGroupIds"], lt["urn"]
    deny = res.named(f"{MESH}-netpol-default-deny")
    assert deny["inputs"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, deny["urn"]
    assert deny["inputs"]["metadata"]["namespace"] == NAMESPACE, deny["urn"]


def test_a_manual_images_run_publishes_every_service_for_a_fresh_account() -> None:
    # After a fresh account's first `up` every service is unpublished; the images workflow run by hand
    # (workflow_dispatch: no `before` commit) must build all of them, so that pinning their tags rolls them all out.
    from tools.ci.__main__ import changed_services, git_changed_paths

    assert changed_services(git_changed_paths("", "HEAD")) == list(SERVICES)
    assert changed_services(git_changed_paths("0" * 40, "HEAD")) == list(SERVICES)


def test_node_volume_key_grants_auto_scaling_by_condition_not_by_naming_its_role(resources: Any) -> None:
    """KMS rejects a key policy that names a principal that does not exist (MalformedPolicyDocumentException), and
    AWSServiceRoleForAutoScaling exists only once the account's first Auto Scaling group does — the node group's,
    created after this key. The key matches that role by aws:PrincipalArn instead (EC2 Auto Scaling key policy)."""
    key = _one(resources("prod"), "aws:kms/key:Key", f"{MESH}-cluster-key")
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
