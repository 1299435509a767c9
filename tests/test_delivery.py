"""Delivery: the GitHub OIDC trust, the pipeline roles' policies and the state backend, dev vs prod."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from typing import Any

import pytest

from components.config import SettingsError
from components.contracts import SERVICES
from components.delivery import GITHUB_OIDC_HOST, STS_AUDIENCE, role_name
from tests.conftest import Resources, settings_for
from tools.ci.__main__ import changed_services, set_image_tags

REPO = "your-org/ecommerce-platform"
ROLES = ("preview", "deploy", "image-push")
ACCOUNT = "123456789012"


def _role(res: Resources, stack: str, role: str) -> dict[str, Any]:
    found = [r for r in res.of_type("aws:iam/role:Role") if r["inputs"].get("name") == role_name(stack, role)]
    assert len(found) == 1, f"expected one role {role_name(stack, role)}, found {[r['urn'] for r in found]}"
    return found[0]


def _doc(record: dict[str, Any], key: str) -> dict[str, Any]:
    return json.loads(record["inputs"][key])


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    st = doc["Statement"]
    return st if isinstance(st, list) else [st]


def _many(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def can_assume(trust: dict[str, Any], claims: dict[str, str]) -> bool:
    """Evaluate an OIDC trust policy's conditions against a token's claims, the way STS does for web identity."""
    for st in _statements(trust):
        if st["Effect"] != "Allow" or "sts:AssumeRoleWithWebIdentity" not in _many(st["Action"]):
            continue
        ok = True
        for test, pairs in st.get("Condition", {}).items():
            for key, values in pairs.items():
                claim = claims.get(key.removeprefix(f"{GITHUB_OIDC_HOST}:"))
                if test == "StringEquals":
                    ok &= claim in _many(values)
                elif test == "StringLike":
                    ok &= claim is not None and any(fnmatch.fnmatchcase(claim, v) for v in _many(values))
                else:
                    ok = False  # an operator this check does not know is not trusted
        if ok:
            return True
    return False


def _claims(sub: str) -> dict[str, str]:
    return {"aud": STS_AUDIENCE, "sub": sub}


EXPECTED_SUBJECTS = {
    "dev": {
        "preview": [f"repo:{REPO}:pull_request"],
        "deploy": [f"repo:{REPO}:ref:refs/heads/main"],
        "image-push": [f"repo:{REPO}:ref:refs/heads/main"],
    },
    "prod": {
        "preview": [f"repo:{REPO}:environment:prod-preview"],
        "deploy": [f"repo:{REPO}:environment:prod"],
        "image-push": [f"repo:{REPO}:ref:refs/heads/main"],
    },
}


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("role", ROLES)
def test_trust_names_exactly_the_allowed_subjects(resources: Callable[[str], Resources], stack: str,
                                                  role: str) -> None:  # fmt: skip
    r = _role(resources(stack), stack, role)
    (st,) = _statements(_doc(r, "assumeRolePolicy"))
    cond = st["Condition"]
    assert set(cond) == {"StringEquals"}, f"{r['urn']}: only exact matches allowed, got {sorted(cond)}"
    assert _many(cond["StringEquals"][f"{GITHUB_OIDC_HOST}:aud"]) == [STS_AUDIENCE], r["urn"]
    assert sorted(_many(cond["StringEquals"][f"{GITHUB_OIDC_HOST}:sub"])) == EXPECTED_SUBJECTS[stack][role], (
        r["urn"]
    )
    assert st["Principal"] == {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GITHUB_OIDC_HOST}"}, r[
        "urn"
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("role", ROLES)
def test_a_pull_request_reaches_only_the_preview_role(resources: Callable[[str], Resources], stack: str,
                                                      role: str) -> None:  # fmt: skip
    r = _role(resources(stack), stack, role)
    trust = _doc(r, "assumeRolePolicy")
    # GitHub Docs, "OpenID Connect reference": every pull_request job's `sub` is repo:<o>/<r>:pull_request, and the
    # workflow file it runs is the pull request's own — so only dev's preview (no prod secret) may trust it.
    assert can_assume(trust, _claims(f"repo:{REPO}:pull_request")) == (
        role == "preview" and stack == "dev"
    ), r["urn"]


def test_prod_deploy_only_from_the_prod_environment(resources: Callable[[str], Resources]) -> None:
    r = _role(resources("prod"), "prod", "deploy")
    trust = _doc(r, "assumeRolePolicy")
    assert can_assume(trust, _claims(f"repo:{REPO}:environment:prod")), r["urn"]
    for sub in (
        f"repo:{REPO}:pull_request",
        f"repo:{REPO}:ref:refs/heads/main",
        f"repo:{REPO}:environment:dev",
        f"repo:{REPO}:ref:refs/tags/v1.0.0",
        "repo:other-org/ecommerce-platform:environment:prod",
    ):
        assert not can_assume(trust, _claims(sub)), f"{r['urn']}: {sub} must not deploy prod"
    assert not can_assume(trust, {"aud": "sigstore", "sub": f"repo:{REPO}:environment:prod"}), r["urn"]


def _role_policies(res: Resources, stack: str) -> dict[str, dict[str, Any]]:
    """role -> its inline policy document."""
    out: dict[str, dict[str, Any]] = {}
    for role in ROLES:
        rid = _role(res, stack, role)["id"]
        found = [p for p in res.of_type("aws:iam/rolePolicy:RolePolicy") if p["inputs"]["role"] == rid]
        assert len(found) == 1, f"role {role}: expected one inline policy, found {[p['urn'] for p in found]}"
        out[role] = _doc(found[0], "policy")
    return out


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_role_or_boundary_allows_every_action(resources: Callable[[str], Resources], stack: str) -> None:
    res = resources(stack)
    docs = [(p["urn"], _doc(p, "policy")) for p in res.of_type("aws:iam/rolePolicy:RolePolicy")
            if "ecommerce:delivery" in p["urn"]]  # fmt: skip
    docs += [(p["urn"], _doc(p, "policy")) for p in res.of_type("aws:iam/policy:Policy")]
    assert len(docs) == 5, [u for u, _ in docs]  # preview, deploy, image-push, the CI runner, the boundary
    for urn, doc in docs:
        for st in _statements(doc):
            if st["Effect"] == "Deny":
                continue  # a Deny on every action refuses; it never grants
            for action in _many(st.get("Action", [])):
                assert action not in ("*", "*:*"), f"{urn}: {st.get('Sid')} has Action {action!r}"
            assert "NotAction" not in st or st["Effect"] == "Deny", f"{urn}: Allow with NotAction"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_policies_fit_iam_size_limits(resources: Callable[[str], Resources], stack: str) -> None:
    res = resources(stack)
    boundary = res.named("ecommerce-delivery-boundary")
    size = len(json.dumps(_doc(boundary, "policy"), separators=(",", ":")))
    assert size <= 6144, f"{boundary['urn']}: managed policy of {size} characters exceeds IAM's 6,144"
    for role, doc in _role_policies(res, stack).items():
        size = len(json.dumps(doc, separators=(",", ":")))
        assert size <= 10240, f"{role}: inline policy of {size} characters exceeds IAM's 10,240 per role"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_image_push_reaches_only_the_eight_repositories(
    resources: Callable[[str], Resources], stack: str
) -> None:
    doc = _role_policies(resources(stack), stack)["image-push"]
    by_sid = {st["Sid"]: st for st in _statements(doc)}
    assert set(by_sid) == {"RegistryLogin", "PushServiceImages"}, sorted(by_sid)
    assert by_sid["RegistryLogin"]["Action"] == "ecr:GetAuthorizationToken"
    expected = sorted(f"arn:aws:ecr:us-east-2:{ACCOUNT}:repository/ecommerce-{stack}/{s}" for s in SERVICES)
    assert sorted(_many(by_sid["PushServiceImages"]["Resource"])) == expected
    assert all(a.startswith("ecr:") for a in _many(by_sid["PushServiceImages"]["Action"]))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_preview_reads_no_secret_values_or_data_objects(
    resources: Callable[[str], Resources], stack: str
) -> None:
    res = resources(stack)
    doc = _role_policies(res, stack)["preview"]
    by_sid = {st["Sid"]: st for st in _statements(doc)}
    secrets = by_sid["NoSecretOrDataReads"]
    assert secrets["Effect"] == "Deny" and secrets["Resource"] == "*", secrets
    assert "secretsmanager:GetSecretValue" in _many(secrets["Action"])
    objects = by_sid["NoDataObjects"]
    assert objects["Effect"] == "Deny" and "s3:GetObject" in _many(objects["Action"])
    bucket = f"arn:aws:s3:::ecommerce-platform-state-{ACCOUNT}-us-east-2"
    for arn in _many(objects["NotResource"]):
        assert arn.startswith(f"{bucket}/.pulumi/") and (stack in arn or arn.endswith("meta.yaml")), arn
    for st in _statements(doc):
        if st["Effect"] == "Allow":
            for action in _many(st["Action"]):
                assert action.split(":")[1].startswith(
                    ("Get", "List", "Describe", "Decrypt", "Put", "Delete")
                ), action
                if action.split(":")[1].startswith(("Put", "Delete")):
                    assert "/.pulumi/locks/" in st["Resource"], f"{st['Sid']}: writes only its own lock"
    attach = [a for a in res.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
              if a["inputs"]["role"] == role_name(stack, "preview")]  # fmt: skip
    assert [a["inputs"]["policyArn"] for a in attach] == [
        "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_state_access_is_this_stacks_only(resources: Callable[[str], Resources], stack: str) -> None:
    res = resources(stack)
    other = "prod" if stack == "dev" else "dev"
    deploy = {st["Sid"]: st for st in _statements(_role_policies(res, stack)["deploy"])}
    for arn in _many(deploy["OwnStackState"]["Resource"]):
        assert f"/ecommerce-platform/{stack}" in arn and other not in arn, arn
    keys = deploy["OwnSecretsAndStateKeys"]["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"]
    assert sorted(keys) == sorted(
        [f"alias/ecommerce-platform-{stack}-secrets", "alias/ecommerce-platform-state"]
    )
    boundary = {st["Sid"]: st for st in _statements(_doc(res.named("ecommerce-delivery-boundary"), "policy"))}
    assert all(f"/ecommerce-platform/{other}" in a for a in _many(boundary["NoOtherStacksState"]["Resource"]))
    denied = boundary["NoOtherStacksSecrets"]["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"]
    assert denied == f"alias/ecommerce-platform-{other}-secrets"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_boundary_on_every_role_forbids_users_keys_and_its_own_removal(
    resources: Callable[[str], Resources], stack: str
) -> None:
    res = resources(stack)
    boundary = res.named("ecommerce-delivery-boundary")
    for role in ROLES:
        r = _role(res, stack, role)
        assert r["inputs"]["permissionsBoundary"] == boundary["outputs"]["arn"], r["urn"]
    by_sid = {st["Sid"]: st for st in _statements(_doc(boundary, "policy"))}
    assert {"iam:CreateUser", "iam:CreateAccessKey"} <= set(by_sid["NoLongLivedCredentials"]["Action"])
    assert by_sid["BoundaryStaysPut"]["Action"] == "iam:DeleteRolePermissionsBoundary"
    env_guard = by_sid["OnlyThisEnvironmentsResources"]["Condition"]
    # prod owns the account's shared resources (OIDC provider, state backend); dev may only use them.
    own = [stack, "shared"] if stack == "prod" else [stack]
    assert sorted(_many(env_guard["StringNotEquals"]["aws:ResourceTag/Environment"])) == sorted(own)


def test_session_durations_and_oidc_ownership_differ_by_stack(resources: Callable[[str], Resources]) -> None:
    dev, prod = resources("dev"), resources("prod")
    assert _role(prod, "prod", "deploy")["inputs"]["maxSessionDuration"] == 7200
    assert _role(dev, "dev", "deploy")["inputs"]["maxSessionDuration"] == 3600
    for stack, res in (("dev", dev), ("prod", prod)):
        assert _role(res, stack, "preview")["inputs"]["maxSessionDuration"] == 3600
    assert not dev.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider"), (
        "dev references prod's provider"
    )
    (provider,) = prod.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider["inputs"]["url"] == f"https://{GITHUB_OIDC_HOST}", provider["urn"]
    assert provider["inputs"]["clientIdLists"] == [STS_AUDIENCE], provider["urn"]
    assert "thumbprintLists" not in provider["inputs"], provider["urn"]
    assert provider["protect"] and provider["retainOnDelete"], provider["urn"]


def test_prod_owns_an_encrypted_versioned_private_tls_only_state_bucket(
    resources: Callable[[str], Resources],
) -> None:
    res = resources("prod")
    dev_buckets = [
        r["urn"] for r in resources("dev").of_type("aws:s3/bucket:Bucket") if ":Delivery$" in r["urn"]
    ]
    assert not dev_buckets, f"dev must not create the shared backend: {dev_buckets}"
    (bucket,) = [r for r in res.of_type("aws:s3/bucket:Bucket") if ":Delivery$" in r["urn"]]
    assert bucket["protect"] and bucket["retainOnDelete"], bucket["urn"]
    bid = bucket["id"]

    def one(typ: str) -> dict[str, Any]:
        found = [r for r in res.of_type(typ) if r["inputs"].get("bucket") == bid]
        assert len(found) == 1, f"{typ} for {bucket['urn']}: {[r['urn'] for r in found]}"
        return found[0]

    assert (
        one("aws:s3/bucketVersioning:BucketVersioning")["inputs"]["versioningConfiguration"]["status"]
        == "Enabled"
    )
    sse = one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    rule = sse["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]
    keys = {k["outputs"]["arn"]: k for k in res.of_type("aws:kms/key:Key")}
    assert rule["sseAlgorithm"] == "aws:kms" and rule["kmsMasterKeyId"] in keys, sse["urn"]
    assert keys[rule["kmsMasterKeyId"]]["inputs"]["enableKeyRotation"], rule
    pab = one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")["inputs"]
    assert all(
        pab[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    life = one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")["inputs"]["rules"][0]
    assert life["noncurrentVersionExpiration"]["noncurrentDays"] == 90, life
    policy = _doc(one("aws:s3/bucketPolicy:BucketPolicy"), "policy")
    tls = {st["Sid"]: st for st in _statements(policy)}["TlsOnly"]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, tls
    aliases = sorted(
        a["inputs"]["name"] for a in res.of_type("aws:kms/alias:Alias") if "delivery" in a["urn"]
    )
    assert aliases == ["alias/ecommerce-platform-dev-secrets", "alias/ecommerce-platform-prod-secrets",
                       "alias/ecommerce-platform-state"]  # fmt: skip


@pytest.mark.parametrize(
    ("key", "value", "stack", "message"),
    [
        ("githubRepository", "your-org/*", "dev", "delivery.githubRepository"),
        ("githubRepository", "no-slash", "dev", "delivery.githubRepository"),
        ("deployFrom", "branch", "prod", "delivery.deployFrom"),
        ("deployBranch", "release/*", "dev", "delivery.deployBranch"),
        ("deploySessionSeconds", 900, "dev", "delivery.deploySessionSeconds"),
        ("previewSessionSeconds", 43200, "dev", "delivery.previewSessionSeconds"),
        ("stateStacks", ["dev", "staging"], "prod", "delivery.stateStacks[1]"),
        ("stateBackend", "pulumi-cloud", "prod", "delivery.createStateBackend"),
        ("ecrRepositoryPrefix", "Ecommerce", "dev", "delivery.ecrRepositoryPrefix"),
        ("stateNoncurrentDays", 0, "prod", "delivery.stateNoncurrentDays"),
        ("previewFrom", "pull_request", "prod", "delivery.previewFrom"),
        ("previewEnvironment", "prod", "prod", "delivery.previewEnvironment"),
        ("previewEnvironment", "prod:*", "prod", "delivery.previewEnvironment"),
        ("runners", "github-hosted", "dev", "delivery.runners"),
        ("runners", "self-hosted", "dev", "delivery.runners"),
        ("runnerComputeType", "BUILD_GENERAL1_2XLARGE", "dev", "delivery.runnerComputeType"),
        ("githubConnectionArn", "arn:aws:iam::123456789012:role/x", "dev", "delivery.githubConnectionArn"),
        ("createStateBackend", True, "dev", "delivery.createStateBackend"),
    ],
)
def test_bad_delivery_settings_fail_naming_the_key(key: str, value: Any, stack: str, message: str) -> None:
    import yaml

    from tools.offline.engine import ROOT

    section = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"][
        "ecommerce-platform:delivery"
    ]
    with pytest.raises(SettingsError) as err:
        settings_for(stack, {"ecommerce-platform:delivery": {**section, key: value}})
    assert message in str(err.value), str(err.value)


def test_set_image_tags_keeps_comments_and_other_keys() -> None:
    text = "# header\nconfig:\n  ecommerce-platform:cluster:\n    nodeMinSize: 2\n  # next\n  ecommerce-platform:x: 1\n"
    once = set_image_tags(text, "a" * 40, ["payment", "product"])
    twice = set_image_tags(once, "b" * 12, ["product"])
    assert twice.startswith("# header\n") and "  # next\n" in twice, twice
    assert f'      product: "{"b" * 12}"\n      payment: "{"a" * 40}"' in twice, twice
    with pytest.raises(ValueError, match="commit SHA"):
        set_image_tags(text, "latest", ["product"])


def test_changed_services_follow_the_service_directories() -> None:
    paths = ["services/payment/app.py", "services/cart/Dockerfile", "README.md", "services/README.md"]
    assert changed_services(paths) == ["cart", "payment"]


# ---------------------------------------------------------------------------------------------------------------
# The paths of issue 12, each evaluated against the rendered policies the way IAM evaluates a request: an explicit
# Deny in the boundary or the role's policy ends it (IAM user guide, "Policy evaluation logic"). Each test names the
# statement that closes the path, and checks the same request on this environment's own resource is not denied.
# ---------------------------------------------------------------------------------------------------------------

_NEGATED = ("StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike")


def _matches(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)


def _condition_holds(test: str, key: str, expected: list[str], ctx: dict[str, Any]) -> bool:
    """One condition operator of IAM's, over a request context of key -> value or list of values."""
    if test == "Null":
        return (key not in ctx) == (expected[0] == "true")
    present = key in ctx
    values = _many(ctx[key]) if present else []
    qualifier, _, op = test.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    like = op.endswith("Like") or op.startswith("Arn")
    negated = op in _NEGATED

    def one(v: str) -> bool:
        hit = any(_matches(e, v) if like else v == e for e in expected)
        return not hit if negated else hit

    if not present:
        # A missing key: negated operators and ForAllValues hold, others (and ForAnyValue) do not; IfExists holds.
        return if_exists or (qualifier == "ForAllValues") or (negated and qualifier != "ForAnyValue")
    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    return any(one(v) for v in values)


def _applies(st: dict[str, Any], action: str, resource: str, ctx: dict[str, Any]) -> bool:
    if "Action" in st and not any(_matches(a, action) for a in _many(st["Action"])):
        return False
    if "NotAction" in st and any(_matches(a, action) for a in _many(st["NotAction"])):
        return False
    if "Resource" in st and not any(_matches(r, resource) for r in _many(st["Resource"])):
        return False
    if "NotResource" in st and any(_matches(r, resource) for r in _many(st["NotResource"])):
        return False
    return all(
        _condition_holds(test, key, _many(values), ctx)
        for test, pairs in st.get("Condition", {}).items()
        for key, values in pairs.items()
    )


def denied_by(docs: list[dict[str, Any]], action: str, resource: str, **ctx: Any) -> set[str]:
    """The Sids of the Deny statements of `docs` that refuse this request."""
    return {
        st.get("Sid", "?")
        for doc in docs
        for st in _statements(doc)
        if st["Effect"] == "Deny" and _applies(st, action, resource, ctx)
    }


def _pipeline(res: Resources, stack: str, role: str) -> list[dict[str, Any]]:
    """A pipeline role's policies: its boundary and its inline policy."""
    return [_doc(res.named("ecommerce-delivery-boundary"), "policy"), _role_policies(res, stack)[role]]


A = ACCOUNT
BUCKET = f"arn:aws:s3:::ecommerce-platform-state-{A}-us-east-2"
PROD_SECRETS_KEY = {"kms:ResourceAliases": ["alias/ecommerce-platform-prod-secrets"], "aws:ResourceTag/Environment":
                    "shared"}  # fmt: skip
DEV_SECRETS_KEY = {"kms:ResourceAliases": ["alias/ecommerce-platform-dev-secrets"], "aws:ResourceTag/Environment":
                   "shared"}  # fmt: skip
KEY = f"arn:aws:kms:us-east-2:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_a_pull_requests_role_cannot_decrypt_prods_secrets(resources: Callable[[str], Resources]) -> None:
    """Issue 12 item 1: the only role a pull_request token reaches is dev's preview, and it cannot use prod's key."""
    reachable = [
        (stack, role)
        for stack in ("dev", "prod")
        for role in ROLES
        if can_assume(
            _doc(_role(resources(stack), stack, role), "assumeRolePolicy"),
            _claims(f"repo:{REPO}:pull_request"),
        )
    ]
    assert reachable == [("dev", "preview")], reachable
    dev = resources("dev")
    docs = _pipeline(dev, "dev", "preview")
    for action in ("kms:Decrypt", "kms:ReEncryptFrom", "kms:CreateGrant"):
        assert "NoOtherStacksSecrets" in denied_by(docs, action, KEY, **PROD_SECRETS_KEY), action
    assert not denied_by(docs, "kms:Decrypt", KEY, **DEV_SECRETS_KEY), (
        "dev's preview must still read dev's state"
    )
    prod_state = f"{BUCKET}/.pulumi/stacks/ecommerce-platform/prod.json"
    assert "NoOtherStacksState" in denied_by(docs, "s3:GetObject", prod_state)


def test_prods_preview_needs_the_reviewed_environment(resources: Callable[[str], Resources]) -> None:
    r = _role(resources("prod"), "prod", "preview")
    trust = _doc(r, "assumeRolePolicy")
    assert can_assume(trust, _claims(f"repo:{REPO}:environment:prod-preview")), r["urn"]
    for sub in (
        f"repo:{REPO}:pull_request",
        f"repo:{REPO}:ref:refs/heads/main",
        f"repo:{REPO}:environment:prod",
    ):
        assert not can_assume(trust, _claims(sub)), f"{r['urn']}: {sub}"


PROD_TAG = {"aws:ResourceTag/Environment": "prod"}
DEV_TAG = {"aws:ResourceTag/Environment": "dev"}


@pytest.mark.parametrize(
    ("path", "action", "resource", "ctx", "closed_by"),
    [
        ("re-tag a prod resource", "rds:AddTagsToResource", f"arn:aws:rds:us-east-2:{A}:cluster:ecommerce-prod-orders",
         {**PROD_TAG, "aws:TagKeys": ["Environment"], "aws:RequestTag/Environment": "dev"}, "EnvironmentTagIsFixed"),
        ("un-tag a prod resource", "ec2:DeleteTags", f"arn:aws:ec2:us-east-2:{A}:vpc/vpc-0abc",
         {**PROD_TAG, "aws:TagKeys": ["Environment"]}, "EnvironmentTagIsFixed"),
        ("delete a prod resource", "rds:DeleteDBCluster", f"arn:aws:rds:us-east-2:{A}:cluster:ecommerce-prod-orders",
         PROD_TAG, "OnlyThisEnvironmentsResources"),
        ("create a resource tagged prod", "ec2:CreateVpc", "*", {"aws:RequestTag/Environment": "prod"},
         "NewResourcesAreThisEnvironments"),
        ("schedule deletion of a prod key", "kms:ScheduleKeyDeletion", KEY, PROD_TAG, "OnlyThisEnvironmentsResources"),
        ("disable a prod key", "kms:DisableKey", KEY, PROD_TAG, "OnlyThisEnvironmentsResources"),
        ("rewrite a prod key's policy", "kms:PutKeyPolicy", KEY, PROD_TAG, "OnlyThisEnvironmentsResources"),
        ("decrypt with a prod data key", "kms:Decrypt", KEY, PROD_TAG, "NoOtherEnvironmentsKeys"),
        ("schedule deletion of prod's secrets key", "kms:ScheduleKeyDeletion", KEY, PROD_SECRETS_KEY,
         "NoOtherStacksSecrets"),
        ("schedule deletion of the shared state key", "kms:ScheduleKeyDeletion", KEY,
         {"aws:ResourceTag/Environment": "shared"}, "OnlyThisEnvironmentsResources"),
        ("re-alias prod's secrets key", "kms:UpdateAlias", f"arn:aws:kms:us-east-2:{A}:alias/ecommerce-platform-prod-secrets",
         {}, "NoOtherStacksSecretsAliases"),
        ("read a prod secret", "secretsmanager:GetSecretValue",
         f"arn:aws:secretsmanager:us-east-2:{A}:secret:ecommerce/prod/payment/stripe-api-key-AbCdEf", PROD_TAG,
         "NoOtherEnvironmentsSecrets"),
        ("read a prod secret, untagged", "secretsmanager:GetSecretValue",
         f"arn:aws:secretsmanager:us-east-2:{A}:secret:ecommerce/prod/cart/redis-auth-token-AbCdEf", {},
         "NoOtherEnvironmentsSecrets"),
        ("read prod's state", "s3:GetObject", f"{BUCKET}/.pulumi/stacks/ecommerce-platform/prod.json", {},
         "NoOtherStacksState"),
        ("read prod's history", "s3:GetObjectVersion",
         f"{BUCKET}/.pulumi/history/ecommerce-platform/prod/prod-1.checkpoint.json", {}, "NoOtherStacksState"),
        ("overwrite prod's state", "s3:PutObject", f"{BUCKET}/.pulumi/stacks/ecommerce-platform/prod.json", {},
         "NoOtherStacksState"),
        ("replicate the state bucket away", "s3:PutReplicationConfiguration", BUCKET, {}, "StateBucketIsNotOurs"),
        ("rewrite the state bucket's policy", "s3:PutBucketPolicy", BUCKET, {}, "StateBucketIsNotOurs"),
        ("rewrite the backend's metadata", "s3:PutObject", f"{BUCKET}/.pulumi/meta.yaml", {},
         "BackendMetadataIsReadOnly"),
        ("put a policy on a prod role", "iam:PutRolePolicy", f"arn:aws:iam::{A}:role/ecommerce-prod-svc-payment",
         {**PROD_TAG, "iam:PermissionsBoundary": f"arn:aws:iam::{A}:policy/ecommerce-platform-dev-pipeline-boundary"},
         "NoOtherEnvironmentsIdentities"),
        ("attach a policy to prod's deploy role", "iam:AttachRolePolicy",
         f"arn:aws:iam::{A}:role/ecommerce-platform-prod-github-deploy", {}, "NoOtherEnvironmentsIdentities"),
        ("create a role without a boundary", "iam:CreateRole", f"arn:aws:iam::{A}:role/ecommerce-dev-admin", {},
         "RolesOnlyWithThisBoundary"),
        ("create a role with prod's boundary", "iam:CreateRole", f"arn:aws:iam::{A}:role/ecommerce-dev-admin",
         {"iam:PermissionsBoundary": f"arn:aws:iam::{A}:policy/ecommerce-platform-prod-pipeline-boundary"},
         "RolesOnlyWithThisBoundary"),
        ("put *:* on a role without the boundary", "iam:PutRolePolicy", f"arn:aws:iam::{A}:role/ecommerce-legacy", {},
         "RolesOnlyWithThisBoundary"),
        ("remove a role's boundary", "iam:DeleteRolePermissionsBoundary",
         f"arn:aws:iam::{A}:role/ecommerce-dev-svc-cart", DEV_TAG, "BoundaryStaysPut"),
        ("rewrite the boundary", "iam:CreatePolicyVersion",
         f"arn:aws:iam::{A}:policy/ecommerce-platform-dev-pipeline-boundary", DEV_TAG, "BoundaryPolicyIsImmutableHere"),
        ("widen the GitHub provider's audiences", "iam:AddClientIDToOpenIDConnectProvider",
         f"arn:aws:iam::{A}:oidc-provider/{GITHUB_OIDC_HOST}", {}, "GitHubProviderIsNotOurs"),
        ("change prod's DNS", "route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z0123",
         {"route53:ChangeResourceRecordSetsNormalizedRecordNames": ["shop.example.com"]}, "NoDnsWithoutADomain"),
    ],
)  # fmt: skip
def test_devs_deploy_role_cannot_reach_prod(
    resources: Callable[[str], Resources],
    path: str,
    action: str,
    resource: str,
    ctx: dict[str, Any],
    closed_by: str,
) -> None:
    """Issue 12 item 2: dev's deploy role (any push to main, no review) changes, deletes, re-tags, re-keys and reads
    nothing of prod — each path refused by the named boundary statement."""
    res = resources("dev")
    denied = denied_by(_pipeline(res, "dev", "deploy"), action, resource, **ctx)
    assert closed_by in denied, (
        f"{res.named('ecommerce-delivery-boundary')['urn']}: {path}: denied by {denied}"
    )


@pytest.mark.parametrize(
    ("action", "resource", "ctx"),
    [
        ("rds:DeleteDBCluster", f"arn:aws:rds:us-east-2:{A}:cluster:ecommerce-dev-orders", DEV_TAG),
        ("kms:ScheduleKeyDeletion", KEY, DEV_TAG),
        ("kms:Decrypt", KEY, DEV_SECRETS_KEY),
        ("kms:GenerateDataKey", KEY, {"kms:ResourceAliases": ["alias/ecommerce-platform-state"],
                                      "aws:ResourceTag/Environment": "shared"}),
        ("ec2:CreateVpc", "*", {"aws:RequestTag/Environment": "dev", "aws:TagKeys": ["Environment"]}),
        ("ec2:CreateTags", f"arn:aws:ec2:us-east-2:{A}:vpc/vpc-0new", {"aws:TagKeys": ["Environment"],
                                                                       "aws:RequestTag/Environment": "dev"}),
        ("s3:PutObject", f"{BUCKET}/.pulumi/stacks/ecommerce-platform/dev.json", {}),
        ("s3:GetObject", f"{BUCKET}/.pulumi/meta.yaml", {}),
        ("iam:CreateRole", f"arn:aws:iam::{A}:role/ecommerce-dev-svc-cart",
         {"iam:PermissionsBoundary": f"arn:aws:iam::{A}:policy/ecommerce-platform-dev-pipeline-boundary"}),
        ("secretsmanager:PutSecretValue",
         f"arn:aws:secretsmanager:us-east-2:{A}:secret:ecommerce/dev/payment/stripe-api-key-AbCdEf", DEV_TAG),
    ],
)  # fmt: skip
def test_devs_deploy_role_still_deploys_dev(
    resources: Callable[[str], Resources], action: str, resource: str, ctx: dict[str, Any]
) -> None:
    """The control for the paths above: the same kinds of request on dev's own resources are not denied."""
    res = resources("dev")
    denied = denied_by(_pipeline(res, "dev", "deploy"), action, resource, **ctx)
    assert not denied, (
        f"{res.named('ecommerce-delivery-boundary')['urn']}: {action} on {resource} denied by {denied}"
    )


def test_prod_keeps_its_records_under_its_domain(resources: Callable[[str], Resources]) -> None:
    res = resources("prod")
    docs = _pipeline(res, "prod", "deploy")
    zone = "arn:aws:route53:::hostedzone/Z0123"
    key = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
    assert not denied_by(
        docs, "route53:ChangeResourceRecordSets", zone, **{key: ["_a1.origin.shop.example.com"]}
    )
    assert "DnsOnlyUnderThisDomain" in denied_by(
        docs, "route53:ChangeResourceRecordSets", zone, **{key: ["shop.example.com", "www.example.com"]}
    )


#: The services of the AWS managed policies the program attaches (their JSON on the AWS Managed Policy Reference);
#: ViewOnlyAccess (the preview role) is capped by the boundary on purpose, so none of its services are required.
MANAGED_POLICY_SERVICES: dict[str, set[str]] = {
    "AmazonEKSClusterPolicy": {"autoscaling", "ec2", "elasticloadbalancing", "iam", "kms"},
    "AmazonEKSWorkerNodePolicy": {"ec2", "eks", "eks-auth"},
    "AmazonEKS_CNI_Policy": {"ec2"},
    "AmazonEC2ContainerRegistryPullOnly": {"ecr"},
    "AmazonEC2ContainerRegistryReadOnly": {"ecr"},
    "AmazonSSMManagedInstanceCore": {"ssm", "ssmmessages", "ec2messages"},
    "AmazonRDSEnhancedMonitoringRole": {"logs"},
    "ViewOnlyAccess": set(),
    # What the DR Aurora copy uses of it (snapshot, copy across regions, grants on the keys); its other services
    # (EFS, FSx, Storage Gateway...) stay outside the boundary, unused.
    "AWSBackupServiceRolePolicyForBackup": {"rds", "kms", "backup"},
    # What the runbook's Aurora restore from the DR vault uses of it (the restore, the subnet and security-group
    # reads, KMS through RDS); its other services stay outside the boundary, unused.
    "AWSBackupServiceRolePolicyForRestores": {"rds", "kms", "ec2"},
}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_role_carries_the_boundary_and_the_boundary_covers_their_services(
    resources: Callable[[str], Resources], stack: str
) -> None:
    """The boundary refuses `iam:CreateRole` without itself, so every role of the program must carry it — and must
    then find every service its policies call inside the boundary's Allow, or AWS would silently refuse it."""
    res = resources(stack)
    boundary = res.named("ecommerce-delivery-boundary")
    for r in res.of_type("aws:iam/role:Role"):
        assert r["inputs"].get("permissionsBoundary") == boundary["outputs"]["arn"], r["urn"]
    (allow,) = [st for st in _statements(_doc(boundary, "policy")) if st["Effect"] == "Allow"]
    open_services = {a.split(":")[0] for a in _many(allow["Action"])}
    for p in res.of_type("aws:iam/rolePolicy:RolePolicy"):
        for st in _statements(_doc(p, "policy")):
            if st["Effect"] == "Allow":
                services = {a.split(":")[0] for a in _many(st.get("Action", []))}
                assert services <= open_services, (
                    f"{p['urn']}: {sorted(services - open_services)} outside the boundary"
                )
    for a in res.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        name = a["inputs"]["policyArn"].rsplit("/", 1)[1]
        assert name in MANAGED_POLICY_SERVICES, (
            f"{a['urn']}: {name}: list its services here and check the boundary"
        )
        missing = MANAGED_POLICY_SERVICES[name] - open_services
        assert not missing, f"{a['urn']}: {name} needs {sorted(missing)}, outside the boundary"


class _Fake:
    """Records the commands `push_image` runs and answers `describe-images` like the AWS CLI does."""

    def __init__(self, describe_rc: int, describe_err: str = "") -> None:
        self.calls: list[list[str]] = []
        self.describe = (describe_rc, describe_err)

    def __call__(self, cmd: list[str], **_: Any) -> Any:
        import subprocess

        self.calls.append(cmd)
        if cmd[:3] == ["aws", "ecr", "describe-images"]:
            return subprocess.CompletedProcess(cmd, self.describe[0], "", self.describe[1])
        out = (
            "123456789012.dkr.ecr.us-east-2.amazonaws.com/ecommerce-dev/cart\n"
            if "describe-repositories" in cmd
            else ""
        )
        return subprocess.CompletedProcess(cmd, 0, out, "")


def test_a_rerun_skips_a_tag_ecr_already_holds() -> None:
    """ECR's immutable tags refuse a second push of a tag: a re-run for the same commit must find it and stop."""
    from tools.ci.__main__ import push_image

    exists = _Fake(0)
    assert push_image("ecommerce-dev/cart", "a" * 40, "local/cart:x", run=exists) is False
    assert not [c for c in exists.calls if c[0] == "docker"], exists.calls
    missing = _Fake(
        254, "An error occurred (ImageNotFoundException) when calling the DescribeImages operation"
    )
    assert push_image("ecommerce-dev/cart", "a" * 40, "local/cart:x", run=missing) is True
    assert [
        "docker",
        "push",
        f"123456789012.dkr.ecr.us-east-2.amazonaws.com/ecommerce-dev/cart:{'a' * 40}",
    ] in (missing.calls)
    with pytest.raises(RuntimeError, match="AccessDenied"):
        push_image("ecommerce-dev/cart", "a" * 40, "local/cart:x", run=_Fake(254, "(AccessDeniedException)"))


def allowed(docs: list[dict[str, Any]], action: str, resource: str, **ctx: Any) -> bool:
    """Allowed by every document that has an Allow (policy and boundary both must), denied by none."""
    if denied_by(docs, action, resource, **ctx):
        return False
    return all(
        any(st["Effect"] == "Allow" and _applies(st, action, resource, ctx) for st in _statements(doc))
        for doc in docs
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_deploy_role_can_run_the_provisioned_dynamodb_mode(
    resources: Callable[[str], Resources], stack: str
) -> None:
    """data.dynamodbBillingMode: provisioned registers scalable targets and target-tracking policies (Application
    Auto Scaling), which create the AWSServiceRoleForApplicationAutoScaling_DynamoDBTable service-linked role on
    first use (Application Auto Scaling user guide, "Amazon DynamoDB and Application Auto Scaling")."""
    from components.delivery import APP_AUTOSCALING_ACTIONS

    res = resources(stack)
    docs = _pipeline(res, stack, "deploy")
    region = {"aws:RequestedRegion": "us-east-2"}
    for action in APP_AUTOSCALING_ACTIONS:
        assert allowed(docs, action, "*", **region), f"{_role(res, stack, 'deploy')['urn']}: {action}"
    slr = f"arn:aws:iam::{A}:role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/x"
    assert allowed(docs, "iam:CreateServiceLinkedRole", slr,
                   **{"iam:AWSServiceName": "dynamodb.application-autoscaling.amazonaws.com"})  # fmt: skip
    assert not allowed(
        docs, "iam:CreateServiceLinkedRole", slr, **{"iam:AWSServiceName": "ec2.amazonaws.com"}
    )
    # The service-linked role then calls DynamoDB and CloudWatch itself; the deploy role needs them for the table.
    for action in ("dynamodb:UpdateTable", "cloudwatch:PutMetricAlarm"):
        assert allowed(docs, action, f"arn:aws:dynamodb:us-east-2:{A}:table/ecommerce-{stack}-products",
                       **region, **{"aws:ResourceTag/Environment": stack})  # fmt: skip


def test_codebuild_runners_need_nat_and_github_hosted_need_a_public_endpoint() -> None:
    """A runner in the private subnets reaches GitHub through NAT; GitHub-hosted runners reach only a public endpoint
    that lists their egress (GitHub Docs, "About GitHub's IP addresses": hosted runners' ranges cannot be listed)."""
    import yaml

    from tools.offline.engine import ROOT

    cfg = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    network = {**cfg["ecommerce-platform:network"], "egress": "none"}
    with pytest.raises(SettingsError, match=r"delivery\.runners: codebuild needs network\.egress"):
        settings_for("dev", {"ecommerce-platform:network": network})
    hosted = {**cfg["ecommerce-platform:delivery"], "runners": "github-hosted"}
    # A public range standing for a GitHub larger runner's static egress (documentation ranges are refused).
    cluster = {**cfg["ecommerce-platform:cluster"], "publicAccessCidrs": ["4.175.114.0/24"]}
    assert settings_for("dev", {"ecommerce-platform:delivery": hosted, "ecommerce-platform:cluster": cluster})


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_ci_runner_reaches_the_private_endpoint_and_holds_no_platform_permission(
    resources: Callable[[str], Resources], stack: str
) -> None:
    res = resources(stack)
    (cluster,) = res.of_type("eks:index:Cluster")
    assert cluster["inputs"]["endpointPublicAccess"] is False, f"{cluster['urn']}: private-only API"
    (project,) = res.of_type("aws:codebuild/project:Project")
    i, urn = project["inputs"], project["urn"]
    assert i["name"] == f"ecommerce-platform-{stack}-runner", urn
    private = sorted(
        s["id"] for s in res.primary().of_type("aws:ec2/subnet:Subnet") if "private" in s["name"]
    )
    runner_sg = res.named("ecommerce-ci-runner-sg")
    assert sorted(i["vpcConfig"]["subnets"]) == private, f"{urn}: builds run in the private subnets"
    assert i["vpcConfig"]["securityGroupIds"] == [runner_sg["id"]], urn
    assert i["environment"]["image"] == "aws/codebuild/standard:7.0", (
        f"{urn}: Ubuntu (setup-python), AWS CLI v2"
    )
    assert i["source"] == {"type": "GITHUB", "location": f"https://github.com/{REPO}.git"}, urn
    (hook,) = res.of_type("aws:codebuild/webhook:Webhook")
    assert hook["inputs"]["filterGroups"] == [
        {"filters": [{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"}]}
    ], hook["urn"]
    # The cluster's security group admits the runner on 443, and so do the interface endpoints (STS, EKS, KMS).
    to_cluster = res.named("ecommerce-ci-runner-to-cluster")["inputs"]
    assert to_cluster["securityGroupId"] == cluster["outputs"]["clusterSecurityGroupId"], to_cluster
    assert (to_cluster["fromPort"], to_cluster["toPort"], to_cluster["referencedSecurityGroupId"]) == (
        443,
        443,
        runner_sg["id"],
    )
    role = res.named("ecommerce-ci-runner-role", "aws:iam/role:Role")
    assert _doc(role, "assumeRolePolicy")["Statement"][0]["Principal"] == {
        "Service": "codebuild.amazonaws.com"
    }
    policy = _doc(res.named("ecommerce-ci-runner-role", "aws:iam/rolePolicy:RolePolicy"), "policy")
    actions = {a for st in _statements(policy) for a in _many(st["Action"])}
    assert {a.split(":")[0] for a in actions} == {"ec2"}, (
        f"{role['urn']}: only what a VPC build needs: {actions}"
    )


@pytest.mark.parametrize(
    "service",
    ["opensearchservice.amazonaws.com", "autoscaling.amazonaws.com", "pullthroughcache.ecr.amazonaws.com",
     "elasticloadbalancing.amazonaws.com"],
)  # fmt: skip
def test_deploy_role_creates_and_looks_up_the_service_linked_roles(
    resources: Callable[[str], Resources], service: str
) -> None:
    """A fresh account's first `up` creates the service-linked roles the platform relies on (OpenSearch in a VPC,
    Auto Scaling for the node-volume key, ECR pull-through cache); the other stacks look them up. Only the listed
    services (`iam:AWSServiceName`), never a role of the deploy role's choosing."""
    res = resources("prod")
    docs = _pipeline(res, "prod", "deploy")
    slr = f"arn:aws:iam::{A}:role/aws-service-role/{service}/AWSServiceRoleForX"
    assert allowed(docs, "iam:CreateServiceLinkedRole", slr, **{"iam:AWSServiceName": service}), service
    for action in ("iam:GetRole", "iam:TagRole"):
        assert allowed(docs, action, slr, **{"aws:RequestTag/Environment": "prod"}), f"{action} on {slr}"
    assert not allowed(
        docs, "iam:CreateServiceLinkedRole", slr, **{"iam:AWSServiceName": "lambda.amazonaws.com"}
    )


def test_the_dev_stack_in_provisioned_mode_is_deployable_by_its_pipeline() -> None:
    """The whole dev program with data.dynamodbBillingMode: provisioned: every table and index capacity is left to
    auto scaling on later `up`s, every scalable target is one the deploy role may register, and the policy pack
    (through its Analyzer protocol, like `make policy`) finds no mandatory violation."""
    import yaml

    from tools.offline.analyzer_host import Timeouts
    from tools.offline.engine import ROOT, build_plan
    from tools.offline.policy_run import PolicySession

    data = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]["ecommerce-platform:data"]
    plan = build_plan("dev", {"ecommerce-platform:data": {**data, "dynamodbBillingMode": "provisioned"}})
    res = Resources(plan["resources"])
    tables = res.of_type("aws:dynamodb/table:Table")
    assert len(tables) == 2, [t["urn"] for t in tables]
    for t in tables:
        assert "globalSecondaryIndexes[*].writeCapacity" in t["ignoreChanges"], t["urn"]
    targets = res.of_type("aws:appautoscaling/target:Target")
    assert len(targets) == 10, [t["urn"] for t in targets]
    docs = _pipeline(res, "dev", "deploy")
    for t in targets:
        assert allowed(docs, "application-autoscaling:RegisterScalableTarget", "*", **{"aws:RequestedRegion":
                       "us-east-2"}), t["urn"]  # fmt: skip
    with PolicySession(project="ecommerce-platform", stack="dev",
                       stack_config=plan["config"],  # the stack's config, as the CLI passes it to the pack
                       timeouts=Timeouts(call=30, start=60, stack=120)) as session:  # fmt: skip
        report = session.analyze(plan)
    assert not report.mandatory, [(d.policy, d.urn, d.message) for d in report.mandatory]


def test_only_the_account_level_resources_are_protected(resources: Callable[[str], Resources]) -> None:
    """`protectData` protects and retains what holds every stack's state or trust (the OIDC provider, the state and
    secrets keys, the state bucket); the roles, the boundary and the bucket's configuration stay unprotected, so a
    policy change is an ordinary update. Children inherit `protect` from their parent unless it is set (Pulumi
    "protect" option docs), so a component must not leave its own protect flag where the SDK keeps it."""
    protected_types = {
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:kms/key:Key",
        "aws:s3/bucket:Bucket",
    }
    for stack in ("dev", "prod"):
        children = [r for r in resources(stack) if ":Delivery$" in r["urn"]]
        assert children, f"{stack}: no Delivery children"
        for r in children:
            expected = stack == "prod" and r["type"] in protected_types
            assert r["protect"] is expected and r["retainOnDelete"] is expected, (
                f"{r['urn']}: protect={r['protect']} retainOnDelete={r['retainOnDelete']}, expected {expected}"
            )


def test_the_state_bucket_is_a_private_bucket_with_its_own_policy_and_lifecycle(
    resources: Callable[[str], Resources],
) -> None:
    """The state bucket goes through `private_bucket()` and keeps what is its own: the policy's statements in order
    (TLS-only first, then refusing objects under any other key than the state key: S3 checks the
    `s3:x-amz-server-side-encryption-aws-kms-key-id` key of a PutObject), and one lifecycle rule that expires old
    state versions and aborts incomplete uploads, applied after versioning is on."""
    res = resources("prod")
    bucket = res.named("ecommerce-delivery-state", "aws:s3/bucket:Bucket")
    assert "forceDestroy" not in bucket["inputs"], (
        f"{bucket['urn']}: created without it (the provider's false)"
    )
    for typ in (
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    ):
        part = res.named("ecommerce-delivery-state", typ)
        assert part["inputs"]["bucket"] == bucket["id"], part["urn"]
    ownership = res.named(
        "ecommerce-delivery-state", "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
    )
    assert ownership["inputs"]["rule"] == {"objectOwnership": "BucketOwnerEnforced"}, ownership["urn"]
    sse = res.named(
        "ecommerce-delivery-state",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    (rule,) = sse["inputs"]["rules"]
    assert rule["bucketKeyEnabled"] is True, f"{sse['urn']}: one data key per bucket (fewer KMS calls)"
    state_key = res.named("ecommerce-delivery-state-key", "aws:kms/key:Key")
    assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"] == state_key["outputs"]["arn"], sse[
        "urn"
    ]

    policy = res.named("ecommerce-delivery-state", "aws:s3/bucketPolicy:BucketPolicy")
    statements = _statements(_doc(policy, "policy"))
    assert [st["Sid"] for st in statements] == ["TlsOnly", "OnlyTheStateKey"], policy["urn"]
    only_key = statements[1]
    assert only_key["Effect"] == "Deny" and only_key["Action"] == "s3:PutObject", policy["urn"]
    assert only_key["Condition"] == {
        "StringNotEqualsIfExists": {
            "s3:x-amz-server-side-encryption-aws-kms-key-id": state_key["outputs"]["arn"]
        }
    }, policy["urn"]

    life = res.named(
        "ecommerce-delivery-state", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    )
    assert life["inputs"]["rules"] == [
        {
            "id": "expire-old-state-versions",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "noncurrentVersionExpiration": {"noncurrentDays": 90},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
        }
    ], life["urn"]
    versioning = res.named("ecommerce-delivery-state", "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning["urn"] in life["dependencies"], f"{life['urn']}: must wait for {versioning['urn']}"


def test_the_delivery_package_reads_like_a_table_of_contents() -> None:
    """Issue 13: no function in the delivery package over ~120 lines, no module over ~1,000, and every name other
    modules import from `components.delivery` still importable from there."""
    import ast

    import components.delivery as delivery
    from tools.offline.engine import ROOT

    for path in sorted((ROOT / "components" / "delivery").glob("*.py")):
        source = path.read_text()
        assert source.count("\n") <= 1000, f"{path}: {source.count(chr(10))} lines"
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                assert length <= 120, f"{path}:{node.lineno} {node.name} is {length} lines"
    for name in ("CiRunner", "Delivery", "with_boundary", "ecr_repository_name", "role_name",
                 "runner_project_name", "GITHUB_OIDC_HOST", "STS_AUDIENCE", "APP_AUTOSCALING_ACTIONS"):  # fmt: skip
        assert name in delivery.__all__ and hasattr(delivery, name), f"components.delivery.{name}"
