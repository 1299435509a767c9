"""Deployability rules: create-time failures of a first `pulumi up` on a fresh AWS account that the plan can show.

Mocks answer whatever is asked, so none of these mistakes fails a test or an offline preview: AWS (or the
Kubernetes provider's await logic) refuses them only when `pulumi up` runs, often after a long timeout. Each rule
names the AWS or Pulumi source of its fact in its description.

All of them but `provider-conflicting-arguments` (a resource rule: it judges the program's inputs) are stack
rules: whether something exists *before* a resource is created is a question about the
resource's dependencies (what the engine creates first), which only `AnalyzeStack` sees. In a real preview the
values a rule needs are often known already (account id, partition and region come from invokes; names and
service names are literals), and a value that is not known yet is skipped, never guessed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any, Final

from .common import (
    MANDATORY,
    UNKNOWN,
    Context,
    Raw,
    Res,
    Stack,
    Statement,
    action_matches,
    as_list,
    get,
    is_false,
    is_true,
    num,
    parse_json,
    resource_policy,
    stack_policy,
    statements,
)

KMS_KEY: Final = "aws:kms/key:Key"
KMS_KEY_POLICY: Final = "aws:kms/keyPolicy:KeyPolicy"
KMS_REPLICA_KEY: Final = "aws:kms/replicaKey:ReplicaKey"
IAM_ROLE: Final = "aws:iam/role:Role"
IAM_USER: Final = "aws:iam/user:User"
SLR: Final = "aws:iam/serviceLinkedRole:ServiceLinkedRole"
VPC_ENDPOINT: Final = "aws:ec2/vpcEndpoint:VpcEndpoint"
VPC_ENDPOINT_POLICY: Final = "aws:ec2/vpcEndpointPolicy:VpcEndpointPolicy"
OPENSEARCH_DOMAIN: Final = "aws:opensearch/domain:Domain"
EKS_CLUSTER: Final = "eks:index:Cluster"
AWS_EKS_CLUSTER: Final = "aws:eks/cluster:Cluster"
EKS_ADDON: Final = "aws:eks/addon:Addon"
NODE_GROUPS: Final = (
    "eks:index:ManagedNodeGroup",
    "aws:eks/nodeGroup:NodeGroup",
    "eks:index:NodeGroupV2",
    "eks:index:NodeGroup",
)
FARGATE_PROFILE: Final = "aws:eks/fargateProfile:FargateProfile"
ECR_REPO: Final = "aws:ecr/repository:Repository"
# The workloads the Kubernetes provider waits on until their replicas are ready (pulumi-kubernetes await logic).
REPLICATED: Final = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")

OPENSEARCH_SERVICE: Final = "opensearchservice.amazonaws.com"


# ----------------------------------------------------------------------------------------------------------------
# Shared helpers


def upstream(stack: Stack, res: Res) -> set[str]:
    """URNs of every resource `res` depends on, directly or through others: all of them exist before it is created."""
    seen: set[str] = set()
    todo = [res]
    while todo:
        cur = todo.pop()
        for urn in [*cur.dependencies, *(u for urns in cur.property_dependencies.values() for u in urns)]:
            if urn not in seen:
                seen.add(urn)
                if urn in stack.by_urn:
                    todo.append(stack.by_urn[urn])
    return seen


def stack_config() -> dict[str, Any]:
    """The stack's config as the Pulumi CLI hands it to a policy pack: the `PULUMI_CONFIG` environment variable,
    a JSON map `<project>:<key>` -> string, objects JSON-encoded (pulumi/pulumi
    sdk/go/common/resource/plugin/analyzer_plugin.go, `constructEnv`/`constructConfig`)."""
    raw = os.environ.get("PULUMI_CONFIG")
    if not raw:
        return {}
    try:
        config = json.loads(raw)
    except ValueError:
        return {}
    return config if isinstance(config, dict) else {}


def stack_setting(section: str, *path: str) -> Any:
    """`<project>:<section>` of the stack config (its JSON object parsed), then `path` inside it; None if absent."""
    config = stack_config()
    project = os.environ.get("PULUMI_PROJECT", "")
    value: Any = None
    if project and f"{project}:{section}" in config:
        value = config[f"{project}:{section}"]
    else:
        for key, candidate in config.items():
            if key.endswith(f":{section}"):
                value = candidate
                break
    if isinstance(value, str) and value.startswith(("{", "[")):
        value = parse_json(value)
    return get(value, *path) if path else value


def _service_linked_role_services(stack: Stack, among: Iterable[str]) -> set[str]:
    """The AWS service names of the service-linked roles among the given URNs."""
    services = set()
    for urn in among:
        res = stack.by_urn.get(urn)
        if res is not None and res.type == SLR:
            name = res.p("awsServiceName")
            if isinstance(name, str):
                services.add(name.lower())
    return services


def _external_slrs(ctx: Context) -> set[str]:
    return {str(s).lower() for s in as_list(ctx.config.get("externalServiceLinkedRoles")) if s}


# ----------------------------------------------------------------------------------------------------------------
# 1. kms-key-policy-principals-exist

_ACCOUNT = re.compile(r"^\d{12}$")
_ROOT = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:root$")
_IAM_ENTITY = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):(role|user)/(.+)$")
_SLR_PATH = re.compile(r"^aws-service-role/([^/]+)/")


def _entity_matches(entity: Res, arn: str, kind: str, path_and_name: str) -> bool:
    """Does `entity` (an IAM role/user/service-linked role of the stack) carry this ARN? By its known ARN, else by
    the path and name the ARN is built from (a real preview knows names long before the provider computes ARNs)."""
    known_arn = entity.p("arn")
    if isinstance(known_arn, str) and known_arn:
        return known_arn == arn
    if entity.type == SLR:
        return False
    if (kind == "role") != (entity.type == IAM_ROLE):
        return False
    name = entity.p("name")
    if not isinstance(name, str) or not name:
        return False
    path = entity.p("path")
    path = path if isinstance(path, str) and path else "/"
    return path_and_name == f"{path.lstrip('/')}{name}"


def _principal_problem(stack: Stack, holder: Res, arn: str, before: set[str], ctx: Context) -> str | None:
    """Why `arn` (an AWS principal of a key policy) may not exist when `holder` is created, or None."""
    if arn == "*" or _ACCOUNT.match(arn) or _ROOT.match(arn):
        return None
    if any(arn == str(p) for p in as_list(ctx.config.get("externalPrincipals"))):
        return None
    match = _IAM_ENTITY.match(arn)
    if match is None:
        return (
            "is neither an account, an IAM role or user of this stack, nor listed in externalPrincipals "
            "(assumed-role sessions and unique ids do not exist before the key)"
        )
    _, _, kind, path_and_name = match.groups()
    slr = _SLR_PATH.match(path_and_name) if kind == "role" else None
    if slr is not None:
        service = slr.group(1).lower()
        if service in _service_linked_role_services(stack, before) or service in _provided_elsewhere(ctx):
            return None
        return (
            f"is the service-linked role of {service}, absent from a fresh account until that service first "
            f"creates it (create it in the stack, aws.iam.ServiceLinkedRole aws_service_name={service!r}, and make "
            "the key depend on it; or list the service in externalServiceLinkedRoles when another stack owns it)"
        )
    entities = [r for r in stack.of_type(IAM_ROLE, IAM_USER) if _entity_matches(r, arn, kind, path_and_name)]
    if not entities:
        return (
            f"is an IAM {kind} this stack does not create (list it in externalPrincipals only if it exists "
            "before the first `pulumi up`)"
        )
    if not any(e.urn in before for e in entities):
        return (
            f"is the IAM {kind} {entities[0].label} of this stack, but the key does not depend on it, so it may "
            "be created after the key (build the policy from its ARN output, or add depends_on)"
        )
    return None


def _key_policy_principals(stack: Stack, ctx: Context) -> None:
    for holder in stack.of_type(KMS_KEY, KMS_KEY_POLICY, KMS_REPLICA_KEY):
        document = holder.p("policy")
        if document is UNKNOWN or document in (None, ""):
            # No policy: AWS's default key policy, which names only the account.
            continue
        parsed = statements(document)
        if parsed is None:
            continue
        before = upstream(stack, holder)
        for index, st in enumerate(parsed):
            for arn in st.principal_kinds.get("AWS", ()):
                problem = _principal_problem(stack, holder, arn, before, ctx)
                if problem:
                    where = f"Statement[{index}]" + (f" ({st.sid})" if st.sid else "")
                    ctx.violation(
                        holder,
                        "policy",
                        Raw(f"{where} names {arn!r}, which {problem}"),
                        "KMS refuses a key policy whose principals do not exist yet "
                        "(MalformedPolicyDocumentException); name only the account, service principals and "
                        "principals the key depends on.",
                    )


# ----------------------------------------------------------------------------------------------------------------
# 2./3. VPC endpoint policies


_ENDPOINT_SERVICE: Final = re.compile(r"^(?:cn\.)?com\.amazonaws\.([a-z0-9-]+)\.([a-z0-9.-]+)$")

#: Condition keys that describe the calling principal: absent from the request context of an unsigned call
#: (AssumeRoleWithWebIdentity), and describing AWS's own identity for URLs AWS signs (ECR's layer downloads).
PRINCIPAL_KEYS: Final = (
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalarn",
    "aws:principaltag/",
    "aws:principalisawsservice",
    "aws:principalservicename",
    "aws:principalservicenameslist",
    "aws:principaltype",
    "aws:userid",
    "aws:username",
)
#: Condition keys that describe the owner of the resource: ECR's layer bucket belongs to AWS, not to us.
RESOURCE_OWNER_KEYS: Final = (
    "aws:resourceaccount",
    "aws:resourceorgid",
    "aws:resourceorgpaths",
    "s3:resourceaccount",
)


def _key_in(key: str, keys: Iterable[str]) -> bool:
    lowered = key.lower()
    return any(lowered == k or (k.endswith("/") and lowered.startswith(k)) for k in keys)


def _negated(operator: str) -> bool:
    base = operator.split(":")[-1]
    return "Not" in base or operator.startswith("ForAllValues:")


def _holds_when_absent(operator: str, values: tuple[str, ...]) -> bool:
    """IAM semantics of a condition on a key the request does not carry: `...IfExists` and negated operators
    (StringNotEquals, ArnNotLike, ForAllValues:...) hold, `Null: true` holds, every other operator does not."""
    if operator == "Null":
        return all(v.lower() == "true" for v in values)
    return operator.endswith("IfExists") or _negated(operator)


def _holds_when_foreign(operator: str, values: tuple[str, ...]) -> bool:
    """A condition on a key the request carries with a value that is not ours (AWS's own account): negated
    operators hold, `Null: false` holds, positive comparisons with our values do not."""
    if operator == "Null":
        return all(v.lower() == "false" for v in values)
    return _negated(operator)


def _applies(st: Statement, action: str, resource: str | None) -> bool:
    """Does the statement cover `action` (and `resource`) for the anonymous principal `*`?"""
    if not ("*" in st.principal_kinds.get("*", ()) or "*" in st.principal_kinds.get("AWS", ())):
        return False
    if st.actions:
        if not any(action_matches(a, action) for a in st.actions):
            return False
    elif st.not_actions and any(action_matches(a, action) for a in st.not_actions):
        return False
    if resource is not None:
        if st.resources and not any(action_matches(r, resource) for r in st.resources):
            return False
        if st.not_resources and any(action_matches(r, resource) for r in st.not_resources):
            return False
    return True


def _blocking_conditions(st: Statement, keys: Iterable[str], *, absent: bool) -> list[str]:
    """The conditions on `keys` that keep an Allow from applying (absent=True: the request lacks the key; False:
    the key carries a value we cannot control, e.g. AWS's own account)."""
    found = []
    for operator, by_key in st.conditions.items():
        for key, values in by_key.items():
            if not _key_in(key, keys):
                continue
            if absent and _holds_when_absent(operator, values):
                continue
            found.append(f"{operator} {key}")
    return found


def _denying_conditions(st: Statement, keys: Iterable[str], *, absent: bool) -> list[str] | None:
    """For a Deny statement that covers the request: the conditions on `keys` that make it deny (a list, empty
    when it denies unconditionally); None when a condition on those keys keeps it from applying. Conditions on
    other keys (aws:SourceVpce...) are assumed to hold: the Deny is then judged by its principal conditions."""
    used = []
    for operator, by_key in st.conditions.items():
        for key, values in by_key.items():
            if not _key_in(key, keys):
                continue
            holds = _holds_when_absent(operator, values) if absent else _holds_when_foreign(operator, values)
            if not holds:
                return None
            used.append(f"{operator} {key}")
    other = [k for by_key in st.conditions.values() for k in by_key if not _key_in(k, keys)]
    if other and not used:
        return None
    return used


def _endpoint_policies(stack: Stack) -> list[tuple[Res, Res, Any]]:
    """(endpoint, holder of its policy, policy document) for every endpoint with a policy."""
    found: list[tuple[Res, Res, Any]] = []
    separate = stack.of_type(VPC_ENDPOINT_POLICY)
    for endpoint in stack.of_type(VPC_ENDPOINT):
        holders = [
            p
            for p in separate
            if p.depends_on(endpoint, "vpcEndpointId")
            or (endpoint.p("id") and p.p("vpcEndpointId") == endpoint.p("id"))
        ]
        for holder in holders:
            found.append((endpoint, holder, holder.p("policy")))
        if not holders and endpoint.p("policy") not in (None, ""):
            found.append((endpoint, endpoint, endpoint.p("policy")))
    return found


def _endpoint_service(endpoint: Res) -> tuple[str, str] | None:
    name = endpoint.p("serviceName")
    if not isinstance(name, str):
        return None
    match = _ENDPOINT_SERVICE.match(name)
    return (match.group(1), match.group(2)) if match else None


def _endpoint_statements(stack: Stack, service: str) -> Iterator[tuple[Res, Res, str, list[Statement]]]:
    """(endpoint, holder of its policy, region, the policy's statements) of each `service` endpoint whose policy is
    known and parses."""
    for endpoint, holder, document in _endpoint_policies(stack):
        found = _endpoint_service(endpoint)
        if found is None or found[1] != service or document is UNKNOWN:
            continue
        parsed = statements(document)
        if parsed is not None:
            yield endpoint, holder, found[0], parsed


def _judge(
    parsed: list[Statement], action: str, resource: str | None, keys: tuple[str, ...], *, absent: bool
) -> str | None:
    """Why the endpoint policy refuses the request, or None when it lets it through."""
    for st in parsed:
        if st.effect == "Deny" and _applies(st, action, resource):
            conditions = _denying_conditions(st, keys, absent=absent)
            if conditions is not None:
                sid = f" {st.sid!r}" if st.sid else ""
                how = f" through {', '.join(conditions)}" if conditions else ""
                return f"its Deny statement{sid} refuses {action}{how}"
    blocked: list[str] = []
    for st in parsed:
        if st.effect != "Allow" or not _applies(st, action, resource):
            continue
        conditions = _blocking_conditions(st, keys, absent=absent)
        if not conditions:
            return None
        blocked.extend(conditions)
    if blocked:
        return f"its only Allow for {action} requires {', '.join(sorted(set(blocked)))}"
    return f"no statement allows {action} for Principal '*'" + (f" on {resource}" if resource else "")


def _sts_web_identity(stack: Stack, ctx: Context) -> None:
    for _, holder, _, parsed in _endpoint_statements(stack, "sts"):
        problem = _judge(parsed, "sts:AssumeRoleWithWebIdentity", None, PRINCIPAL_KEYS, absent=True)
        if problem:
            ctx.violation(
                holder,
                "policy",
                Raw(f"the STS endpoint's policy: {problem}"),
                "AssumeRoleWithWebIdentity (IRSA, EKS Pod Identity's web-identity path, GitHub OIDC) is an unsigned "
                "call whose request carries no aws:PrincipalAccount/OrgID/Arn: allow it for Principal '*' without "
                "principal conditions (IfExists operators are fine), scoped by the role's own trust policy.",
            )


def _s3_ecr_layers(stack: Stack, ctx: Context) -> None:
    for endpoint, holder, region, parsed in _endpoint_statements(stack, "s3"):
        partition = "aws-cn" if str(endpoint.p("serviceName")).startswith("cn.") else "aws"
        layer = f"arn:{partition}:s3:::prod-{region}-starport-layer-bucket/sha256/layer"
        problem = _judge(parsed, "s3:GetObject", layer, (*PRINCIPAL_KEYS, *RESOURCE_OWNER_KEYS), absent=False)
        if problem:
            ctx.violation(
                holder,
                "policy",
                Raw(
                    f"the S3 endpoint's policy: {problem} (ECR's layer bucket prod-{region}-starport-layer-bucket)"
                ),
                f"ECR serves image layers from AWS's bucket prod-{region}-starport-layer-bucket through URLs "
                "ECR signs, so the caller is not our account: allow s3:GetObject on "
                f"arn:{partition}:s3:::prod-{region}-starport-layer-bucket/* for Principal '*' without principal "
                "or resource-account conditions, or image pulls end in ImagePullBackOff.",
            )


# ----------------------------------------------------------------------------------------------------------------
# 4. opensearch-vpc-slr


#: The program's owner flag for account-level resources (components/account.py): exactly one stack per account has
#: `account.createServiceLinkedRoles: true` and creates these service-linked roles; every other stack looks them up,
#: and its program stops at preview when one is missing. So with the flag false the roles exist before the `up`.
OWNER_FLAG: Final = ("account", "createServiceLinkedRoles")
OWNED_SERVICE_LINKED_ROLES: Final = (OPENSEARCH_SERVICE,)


def _provided_elsewhere(ctx: Context) -> set[str]:
    """Services whose service-linked role exists before this stack's `up` without it creating the role: the rule's
    `externalServiceLinkedRoles`, plus the program's own roles when the stack config says another stack owns them."""
    provided = _external_slrs(ctx)
    if is_false(stack_setting(*OWNER_FLAG)):
        provided.update(OWNED_SERVICE_LINKED_ROLES)
    return provided


def _opensearch_slr(stack: Stack, ctx: Context) -> None:
    if OPENSEARCH_SERVICE in _provided_elsewhere(ctx):
        return
    for domain in stack.of_type(OPENSEARCH_DOMAIN):
        vpc = domain.p("vpcOptions")
        if vpc is UNKNOWN or not vpc:
            continue
        subnets = get(vpc[0] if isinstance(vpc, list) and vpc else vpc, "subnetIds")
        if subnets is not UNKNOWN and not subnets:
            continue
        if OPENSEARCH_SERVICE in _service_linked_role_services(stack, upstream(stack, domain)):
            continue
        ctx.violation(
            domain,
            "vpcOptions",
            Raw("a VPC domain that does not depend on the AWSServiceRoleForAmazonOpenSearchService role"),
            "OpenSearch creates its network interfaces in the VPC through that service-linked role, and a fresh "
            "account does not have it: create aws.iam.ServiceLinkedRole(aws_service_name="
            f"{OPENSEARCH_SERVICE!r}) and make the domain depend on it, or list {OPENSEARCH_SERVICE} in "
            "externalServiceLinkedRoles when another stack owns it.",
        )


# ----------------------------------------------------------------------------------------------------------------
# 5. eks-coredns-after-nodes


def _creates_coredns_addon(cluster: Res) -> Any:
    """Does pulumi-eks create the CoreDNS managed add-on inside this `eks:index:Cluster` (True/False/UNKNOWN)?

    pulumi-eks (nodejs/eks/cluster/cluster.ts, since PR #1371 and #1591) creates it when `enabled` is true or
    `configurationValues` is given, or when the cluster has its own capacity (Fargate, the default node group,
    Auto Mode) and `enabled` is not false. The Python SDK's CoreDnsAddonOptionsArgs sends `enabled: true` when
    it is not given, so any options object built from it counts as explicitly enabled.
    """
    options = cluster.p("corednsAddonOptions")
    if options is UNKNOWN:
        return UNKNOWN
    enabled = get(options, "enabled") if isinstance(options, dict) else None
    values = get(options, "configurationValues") if isinstance(options, dict) else None
    if is_true(enabled):
        return True
    if enabled is UNKNOWN or values is UNKNOWN:
        return UNKNOWN
    # JavaScript truthiness: any object, even {}, counts as given.
    if values not in (None, ""):
        return True
    own_capacity = (
        not is_true(cluster.p("skipDefaultNodeGroup"))
        or is_true(cluster.p("fargate"))
        or isinstance(cluster.p("fargate"), dict)
        or is_true(get(cluster.p("autoMode"), "enabled"))
    )
    return own_capacity and not is_false(enabled)


def _has_capacity(stack: Stack, addon: Res) -> bool:
    before = upstream(stack, addon)
    if any(stack.by_urn[u].type in (*NODE_GROUPS, FARGATE_PROFILE) for u in before if u in stack.by_urn):
        return True
    # pulumi-eks's own add-on child of a cluster with its own capacity (default node group, Fargate, Auto Mode).
    parent = addon.parent
    if parent is not None and parent.type == EKS_CLUSTER:
        return not is_true(parent.p("skipDefaultNodeGroup")) or bool(parent.p("fargate"))
    auto = [
        stack.by_urn[u]
        for u in before
        if u in stack.by_urn
        and stack.by_urn[u].type == AWS_EKS_CLUSTER
        and is_true(get(stack.by_urn[u].p("computeConfig"), "enabled"))
    ]
    return bool(auto)


def _coredns_after_nodes(stack: Stack, ctx: Context) -> None:
    for cluster in stack.of_type(EKS_CLUSTER):
        if not is_true(cluster.p("skipDefaultNodeGroup")):
            continue
        creates = _creates_coredns_addon(cluster)
        if creates is True:
            ctx.violation(
                cluster,
                "corednsAddonOptions",
                cluster.p("corednsAddonOptions"),
                "with skipDefaultNodeGroup the cluster has no nodes when pulumi-eks creates this CoreDNS add-on, "
                "so it stays DEGRADED, times out after 20 minutes and the node groups (which wait for the Cluster "
                "component) never start: pass corednsAddonOptions enabled=False (and no configurationValues) and "
                "create CoreDNS as an aws.eks.Addon that depends on the node group.",
            )
    for addon in stack.of_type(EKS_ADDON):
        name = addon.p("addonName")
        if name is UNKNOWN or str(name).lower() != "coredns":
            continue
        if _has_capacity(stack, addon):
            continue
        ctx.violation(
            addon,
            "dependencies",
            Raw("none on a node group or Fargate profile"),
            "CoreDNS's pods need nodes: EKS keeps the add-on DEGRADED until they run and the provider fails after "
            "20 minutes; make the add-on depend on the node group (depends_on=[node_group]).",
        )


# ----------------------------------------------------------------------------------------------------------------
# 6. deployment-image-published

_IMAGE = re.compile(r"^(?P<repo>[^@]+?)(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>.+))?$")


def _published_tags() -> dict[str, str]:
    """`cluster.imageTags` of the stack config: service -> tag, written by the images workflow after its push."""
    tags = stack_setting("cluster", "imageTags")
    if isinstance(tags, str):
        tags = parse_json(tags)
    if not isinstance(tags, dict):
        return {}
    return {str(k): str(v) for k, v in tags.items() if isinstance(v, str | int | float)}


def _repository_of(stack: Stack, workload: Res, image: Any) -> tuple[Res | None, str | None]:
    """The ECR repository of this stack an image comes from, and the image's tag (or digest) when known."""
    repos = stack.of_type(ECR_REPO)
    if isinstance(image, str):
        match = _IMAGE.match(image)
        if match is None:
            return None, None
        path, ref = match.group("repo"), match.group("digest") or match.group("tag")
        for repo in repos:
            url = repo.p("repositoryUrl")
            if isinstance(url, str) and url and url == path:
                return repo, ref
            name = repo.p("name")
            if (
                (not isinstance(url, str) or not url)
                and isinstance(name, str)
                and name
                and re.search(r"\.dkr\.ecr\.|\.dkr-ecr\.", path)
                and path.split("/", 1)[-1] == name
            ):
                return repo, ref
        return None, None
    if image is UNKNOWN:
        # A real preview of a first deploy: the image is built from the repository's URL, unknown until created.
        for repo in repos:
            if workload.depends_on(repo, "spec"):
                return repo, None
    return None, None


def _containers(workload: Res) -> list[tuple[str, dict[str, Any]]]:
    spec = workload.p("spec", "template", "spec")
    if not isinstance(spec, dict):
        return []
    found = []
    for kind in ("initContainers", "containers"):
        for index, c in enumerate(as_list(get(spec, kind))):
            if isinstance(c, dict):
                found.append((f"spec.template.spec.{kind}[{index}]", c))
    return found


def _count(replicas: Any) -> str:
    value = num(replicas)
    return "not set (1)" if replicas is None else (f"{value:g}" if value is not None else repr(replicas))


def _image_published(stack: Stack, ctx: Context) -> None:
    published = _published_tags()
    for workload in stack.of_type(*REPLICATED):
        replicas = workload.p("spec", "replicas")
        if replicas is UNKNOWN or (replicas is not None and num(replicas) == 0):
            continue
        for path, container in _containers(workload):
            image = container.get("image")
            repo, ref = _repository_of(stack, workload, image)
            if repo is None:
                continue
            name = repo.p("name")
            service = str(name).rsplit("/", 1)[-1] if isinstance(name, str) else ""
            # Unknown URL: the repository is created (or replaced) by this very `up`, so it holds no image yet,
            # whatever cluster.imageTags says.
            created_now = repo.p("repositoryUrl") is UNKNOWN
            if not created_now:
                if ref is None:
                    # The repository exists already and the tag is not known yet: nothing to judge.
                    continue
                if published.get(service) == ref:
                    continue
            listed = (
                f"cluster.imageTags.{service} is {published[service]!r}"
                if service in published
                else f"cluster.imageTags has no {service!r}"
            )
            what = (
                f"an image from the repository {repo.label} this same `up` creates (nothing can be in it yet)"
                if created_now
                else f"{image!r} from the repository {repo.label} this stack creates"
            )
            ctx.violation(
                workload,
                f"{path}.image",
                Raw(f"{what}, with spec.replicas {_count(replicas)}; {listed}"),
                "the Kubernetes provider waits for the Deployment's pods to become ready, which never happens for "
                "an image not pushed yet: set spec.replicas 0 until the images workflow has pushed the tag and "
                "written it to cluster.imageTags.",
            )
            break


# ----------------------------------------------------------------------------------------------------------------
# 7. provider-conflicting-arguments

#: Arguments the AWS provider's schema declares `ConflictsWith` each other, per resource type the program creates
#: (terraform-provider-aws internal/service/rds/cluster.go: manage_master_user_password, master_password and
#: master_password_wo, and snapshot_identifier with global_cluster_identifier; rds/global_cluster.go:
#: source_db_cluster_identifier with engine; internal/service/elasticache/replication_group.go: auth_token and
#: user_group_ids). At most one argument of each group may be set.
CONFLICTING_ARGUMENTS: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "aws:rds/cluster:Cluster": (
        ("masterPassword", "masterPasswordWo", "manageMasterUserPassword"),
        ("snapshotIdentifier", "globalClusterIdentifier"),
    ),
    "aws:rds/globalCluster:GlobalCluster": (("sourceDbClusterIdentifier", "engine"),),
    "aws:elasticache/replicationGroup:ReplicationGroup": (("authToken", "userGroupIds"),),
}


def _is_set(res: Res, prop: str) -> bool:
    """Set in the program, whatever the value: the SDK drops None, so a present key (an explicit false, an empty
    list, a secret or a value unknown until apply included) is one the provider's ConflictsWith check sees."""
    return isinstance(res.props, dict) and prop in res.props and res.props[prop] is not None


def _conflicting_arguments(res: Res, ctx: Context) -> None:
    # A resource rule: its props are the program's inputs, what the provider's ConflictsWith judges. A stack rule
    # would see the state's outputs, where an Optional+Computed argument (GlobalCluster's engine) is filled in by
    # the provider itself.
    for group in CONFLICTING_ARGUMENTS.get(res.type, ()):
        both = [prop for prop in group if _is_set(res, prop)]
        if len(both) < 2:
            continue
        ctx.violation(
            res,
            both[-1],
            # Names only: a password's value never goes into a finding.
            Raw(f"set together with {', '.join(both[:-1])}"),
            f"the AWS provider declares {' and '.join(group)} ConflictsWith each other and counts an "
            "explicit false or empty value as set (hashicorp/terraform-provider-aws #32002), so `pulumi up` "
            "fails at the provider's check: leave out all but one (pass None, not False).",
        )


# ----------------------------------------------------------------------------------------------------------------

POLICIES = [
    stack_policy(
        "kms-key-policy-principals-exist",
        "A KMS key policy names only principals that exist before the key: the account, service principals, and "
        "IAM roles/users and service-linked roles the key depends on. KMS CreateKey/PutKeyPolicy: 'The principals "
        "in the key policy must exist and be visible to KMS' (MalformedPolicyDocumentException, AWS re:Post "
        "kms-policy-error-invalid-principals); EC2 Auto Scaling's 'Required AWS KMS key policy for use with "
        "encrypted volumes': AWSServiceRoleForAutoScaling exists only once Auto Scaling has created it (the account's "
        "first Auto Scaling group) or it was created explicitly.",
        MANDATORY,
        [],
        _key_policy_principals,
    ),
    stack_policy(
        "sts-endpoint-allows-web-identity",
        "An STS interface endpoint's policy lets sts:AssumeRoleWithWebIdentity through for Principal '*' without "
        "principal conditions: the call is unsigned and its request carries no aws:PrincipalAccount/OrgID/Arn "
        "(IAM User Guide, 'Control access to AWS STS with VPC endpoint policies'); otherwise IRSA fails.",
        MANDATORY,
        [],
        _sts_web_identity,
    ),
    stack_policy(
        "s3-endpoint-allows-ecr-layers",
        "An S3 VPC endpoint's policy allows s3:GetObject on arn:aws:s3:::prod-<region>-starport-layer-bucket/* "
        "without principal or resource-account conditions: ECR serves image layers from that AWS-owned bucket "
        "(ECR User Guide, 'Amazon ECR interface VPC endpoints', minimum Amazon S3 bucket permissions). Every S3 "
        "endpoint with a policy is judged: the pack cannot see whether another stack runs containers behind it.",
        MANDATORY,
        [],
        _s3_ecr_layers,
    ),
    stack_policy(
        "opensearch-vpc-slr",
        "An OpenSearch domain in a VPC depends on the AWSServiceRoleForAmazonOpenSearchService service-linked "
        "role (aws.iam.ServiceLinkedRole opensearchservice.amazonaws.com), unless another stack of the account "
        "owns it (stack config account.createServiceLinkedRoles false) or externalServiceLinkedRoles lists it: "
        "CreateDomain with VPC options fails without it (OpenSearch Developer Guide, 'Using service-linked roles'; "
        "pulumi-aws opensearch.Domain VPC example).",
        MANDATORY,
        [],
        _opensearch_slr,
    ),
    stack_policy(
        "eks-coredns-after-nodes",
        "CoreDNS is created only where nodes exist: an eks:index:Cluster with skipDefaultNodeGroup does not "
        "create pulumi-eks's CoreDNS add-on (corednsAddonOptions enabled=False, no configurationValues), and a "
        "coredns aws.eks.Addon depends on a node group (pulumi/pulumi-eks #1371, #1819; EKS add-ons stay DEGRADED "
        "without nodes).",
        MANDATORY,
        [],
        _coredns_after_nodes,
    ),
    stack_policy(
        "deployment-image-published",
        "A Deployment or StatefulSet whose image comes from an ECR repository this stack creates runs 0 replicas "
        "until the image's tag is listed in the stack config cluster.imageTags (written by the images workflow "
        "after its push): the Kubernetes provider waits for the pods to become ready and fails the `up` "
        "(pulumi-kubernetes await logic, ImagePullBackOff).",
        MANDATORY,
        [],
        _image_published,
    ),
    resource_policy(
        "provider-conflicting-arguments",
        "No resource sets two arguments the AWS provider declares ConflictsWith each other, not even one of them "
        "as false or empty: aws.rds.Cluster manageMasterUserPassword, masterPassword and masterPasswordWo "
        "(terraform-provider-aws internal/service/rds/cluster.go; an explicit false counts as set, "
        "hashicorp/terraform-provider-aws #32002), and snapshotIdentifier and globalClusterIdentifier; "
        "aws.rds.GlobalCluster sourceDbClusterIdentifier and engine (rds/global_cluster.go); "
        "aws.elasticache.ReplicationGroup authToken and userGroupIds "
        "(internal/service/elasticache/replication_group.go). The provider refuses the configuration at `pulumi "
        "up`/`preview` against the real provider; the mocks accept it.",
        MANDATORY,
        [],
        list(CONFLICTING_ARGUMENTS),
        _conflicting_arguments,
    ),
]
