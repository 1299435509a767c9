"""IAM rules: one violating, one compliant and one missing-property input each, plus config overrides."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.policies.cases import Case, check
from tests.policies.helpers import UNKNOWN, R, provider, violations

P = provider("prod")
ACCOUNT = "123456789012"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "arn:aws:s3:::ecommerce-orders/*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def policy(statement: dict[str, Any], name: str = "svc-policy") -> list[dict[str, Any]]:
    return [P, R("aws:iam/policy:Policy", name, {"policy": doc(statement)})]


def role(trust: dict[str, Any] | None = None, name: str = "svc-role", **inputs: Any) -> list[dict[str, Any]]:
    props: dict[str, Any] = dict(inputs)
    if trust is not None:
        props["assumeRolePolicy"] = doc(trust)
    return [P, R("aws:iam/role:Role", name, props)]


IRSA_ISSUER = "oidc.eks.us-east-2.amazonaws.com/id/ABCDEF0123456789"
IRSA_FED = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{IRSA_ISSUER}"


def irsa_trust(
    sub: Any = "system:serviceaccount:orders:orders", aud: Any = "sts.amazonaws.com", op: str = "StringEquals"
) -> dict[str, Any]:
    cond: dict[str, Any] = {op: {f"{IRSA_ISSUER}:sub": sub}}
    if aud is not None:
        cond.setdefault("StringEquals", {})[f"{IRSA_ISSUER}:aud"] = aud
    return {
        "Effect": "Allow",
        "Principal": {"Federated": IRSA_FED},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": cond,
    }


GH = "token.actions.githubusercontent.com"


def gh_trust(
    sub: Any = "repo:acme/ecommerce-platform:environment:prod", aud: Any = "sts.amazonaws.com"
) -> dict[str, Any]:
    cond: dict[str, Any] = {"StringEquals": {f"{GH}:aud": aud}, "StringLike": {f"{GH}:sub": sub}}
    return {
        "Effect": "Allow",
        "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GH}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": cond,
    }


SERVICE_TRUST = {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}

CASES = [
    # iam-no-admin-star
    Case("iam-no-admin-star", "allow star on star", policy(allow("*", "*")), True, "policy"),
    Case("iam-no-admin-star", "star actions on one bucket", policy(allow("s3:GetObject")), False),
    Case(
        "iam-no-admin-star",
        "inline policy on a role",
        role(SERVICE_TRUST, inlinePolicies=[{"name": "x", "policy": doc(allow(["*"], ["*"]))}]),
        True,
        "inlinePolicies[0].policy",
    ),
    Case("iam-no-admin-star", "missing policy", [P, R("aws:iam/policy:Policy", "empty", {})], False),
    Case(
        "iam-no-admin-star",
        "unknown policy during preview",
        [P, R("aws:iam/policy:Policy", "later", {"policy": UNKNOWN})],
        False,
    ),
    # iam-no-wildcard-actions
    Case("iam-no-wildcard-actions", "service star", policy(allow("s3:*")), True, "s3:*"),
    Case(
        "iam-no-wildcard-actions",
        "allow with NotAction",
        policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        True,
        "NotAction",
    ),
    Case("iam-no-wildcard-actions", "named actions", policy(allow(["s3:GetObject", "s3:PutObject"])), False),
    Case(
        "iam-no-wildcard-actions",
        "deny star is fine",
        policy({"Effect": "Deny", "Action": "*", "Resource": "*"}),
        False,
    ),
    Case(
        "iam-no-wildcard-actions",
        "missing statement",
        [P, R("aws:iam/rolePolicy:RolePolicy", "rp", {"policy": json.dumps({"Version": "2012-10-17"})})],
        False,
    ),
    # iam-resource-star-restricted
    Case(
        "iam-resource-star-restricted",
        "getobject on star",
        policy(allow("s3:GetObject", "*")),
        True,
        "s3:GetObject",
    ),
    Case(
        "iam-resource-star-restricted",
        "ecr token on star",
        policy(allow("ecr:GetAuthorizationToken", "*")),
        False,
    ),
    Case(
        "iam-resource-star-restricted",
        "describe on star",
        policy(allow(["ec2:DescribeInstances", "ec2:DescribeSubnets"], "*")),
        False,
    ),
    Case(
        "iam-resource-star-restricted",
        "tag-scoped star",
        policy(
            allow(
                "ec2:CreateTags", "*", Condition={"Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}}
            )
        ),
        False,
    ),
    Case(
        "iam-resource-star-restricted",
        "scoped arn",
        policy(allow("dynamodb:GetItem", f"arn:aws:dynamodb:us-east-2:{ACCOUNT}:table/products")),
        False,
    ),
    Case(
        "iam-resource-star-restricted",
        "missing resource",
        policy({"Effect": "Allow", "Action": "s3:GetObject"}),
        False,
    ),
    Case(
        "iam-resource-star-restricted",
        "config allows the action",
        policy(allow("s3:ListAllMyBuckets", "*")),
        False,
        config={
            "allowedResourceStarActions": {"s3:ListAllMyBuckets": "console listing has no resource type"}
        },
    ),
    # iam-no-privesc-exfil
    Case(
        "iam-no-privesc-exfil", "passrole on star", policy(allow("iam:PassRole", "*")), True, "iam:PassRole"
    ),
    Case(
        "iam-no-privesc-exfil",
        "iam star on all roles",
        policy(allow("iam:*", f"arn:aws:iam::{ACCOUNT}:role/*")),
        True,
        "iam:*",
    ),
    Case(
        "iam-no-privesc-exfil",
        "decrypt on all keys",
        policy(allow("kms:Decrypt", f"arn:aws:kms:us-east-2:{ACCOUNT}:key/*")),
        True,
        "kms:Decrypt",
    ),
    Case(
        "iam-no-privesc-exfil",
        "passrole on one role",
        policy(allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/ecommerce-node")),
        False,
    ),
    Case(
        "iam-no-privesc-exfil",
        "decrypt with one key",
        policy(allow("kms:Decrypt", f"arn:aws:kms:us-east-2:{ACCOUNT}:key/1234abcd")),
        False,
    ),
    Case(
        "iam-no-privesc-exfil",
        "decrypt on key/* limited to named aliases",
        policy(
            allow(
                "kms:Decrypt",
                f"arn:aws:kms:us-east-2:{ACCOUNT}:key/*",
                Condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": ["alias/state"]}},
            )
        ),
        False,
    ),
    Case(
        "iam-no-privesc-exfil",
        "decrypt on key/* via a service is still every key",
        policy(
            allow(
                "kms:Decrypt",
                "*",
                Condition={"StringEquals": {"kms:ViaService": "s3.us-east-2.amazonaws.com"}},
            )
        ),
        True,
        "kms:Decrypt",
    ),
    Case(
        "iam-no-privesc-exfil",
        "passrole to a service is still every role",
        policy(
            allow(
                "iam:PassRole",
                f"arn:aws:iam::{ACCOUNT}:role/*",
                Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            )
        ),
        True,
        "iam:PassRole",
    ),
    Case("iam-no-privesc-exfil", "missing actions", policy({"Effect": "Allow", "Resource": "*"}), False),
    # iam-no-admin-managed-attach
    Case(
        "iam-no-admin-managed-attach",
        "admin attachment",
        [
            P,
            R(
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                "att",
                {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            ),
        ],
        True,
        "policyArn",
    ),
    Case(
        "iam-no-admin-managed-attach",
        "power user in managedPolicyArns",
        role(SERVICE_TRUST, managedPolicyArns=["arn:aws:iam::aws:policy/PowerUserAccess"]),
        True,
        "managedPolicyArns[0]",
    ),
    Case(
        "iam-no-admin-managed-attach",
        "eks worker policy",
        [
            P,
            R(
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                "att",
                {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"},
            ),
        ],
        False,
    ),
    Case(
        "iam-no-admin-managed-attach",
        "our own policy named AdministratorAccess is not AWS's",
        [
            P,
            R(
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                "att",
                {"policyArn": f"arn:aws:iam::{ACCOUNT}:policy/ReadOnly"},
            ),
        ],
        False,
    ),
    Case(
        "iam-no-admin-managed-attach",
        "missing policyArn",
        [P, R("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "att", {})],
        False,
    ),
    Case(
        "iam-no-admin-managed-attach",
        "config forbids more",
        [
            P,
            R(
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                "att",
                {"policyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"},
            ),
        ],
        True,
        config={"forbiddenManagedPolicies": ["AdministratorAccess", "AmazonS3FullAccess"]},
    ),
    # iam-trust-no-public
    Case(
        "iam-trust-no-public",
        "star principal",
        role({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}),
        True,
        "assumeRolePolicy",
    ),
    Case("iam-trust-no-public", "service principal", role(SERVICE_TRUST), False),
    Case(
        "iam-trust-no-public",
        "star with org condition",
        role(
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
            }
        ),
        False,
    ),
    Case("iam-trust-no-public", "missing trust", role(None), False),
    # iam-github-oidc-pinned
    Case("iam-github-oidc-pinned", "any branch of any repo", role(gh_trust(sub="repo:acme/*")), True, ":sub"),
    Case(
        "iam-github-oidc-pinned",
        "wrong audience",
        role(gh_trust(aud="https://github.com/acme")),
        True,
        ":aud",
    ),
    Case("iam-github-oidc-pinned", "pinned environment", role(gh_trust()), False),
    Case(
        "iam-github-oidc-pinned",
        "pinned branch",
        role(gh_trust(sub="repo:acme/ecommerce-platform:ref:refs/heads/main")),
        False,
    ),
    Case(
        "iam-github-oidc-pinned",
        "missing conditions",
        role(
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{GH}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
            }
        ),
        True,
        ":sub",
    ),
    Case("iam-github-oidc-pinned", "not a github role", role(SERVICE_TRUST), False),
    # iam-irsa-pinned
    Case(
        "iam-irsa-pinned",
        "wildcard service account",
        role(irsa_trust(sub="system:serviceaccount:orders:*", op="StringLike")),
        True,
        ":sub",
    ),
    Case("iam-irsa-pinned", "no audience", role(irsa_trust(aud=None)), True, ":aud"),
    Case("iam-irsa-pinned", "pinned", role(irsa_trust()), False),
    Case(
        "iam-irsa-pinned",
        "missing condition",
        role(
            {
                "Effect": "Allow",
                "Principal": {"Federated": IRSA_FED},
                "Action": "sts:AssumeRoleWithWebIdentity",
            }
        ),
        True,
        ":sub",
    ),
    Case("iam-irsa-pinned", "not an irsa role", role(SERVICE_TRUST), False),
    # iam-no-users
    Case(
        "iam-no-users",
        "a user",
        [P, R("aws:iam/user:User", "deployer", {"name": "deployer"})],
        True,
        "resource type",
    ),
    Case(
        "iam-no-users",
        "an access key",
        [P, R("aws:iam/accessKey:AccessKey", "key", {"user": "deployer"})],
        True,
    ),
    Case("iam-no-users", "a role is fine", role(SERVICE_TRUST), False),
    Case("iam-no-users", "missing everything", [P, R("aws:iam/user:User", "bare", {})], True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case) -> None:
    check(case)


def test_policy_documents_as_objects_are_read_too() -> None:
    resources = [
        P,
        R(
            "aws:iam/policy:Policy",
            "obj",
            {"policy": {"Version": "2012-10-17", "Statement": [allow("*", "*")]}},
        ),
    ]
    assert violations("iam-no-admin-star", resources)


def test_exemption_by_urn_silences_only_that_resource() -> None:
    bad = [
        P,
        R("aws:iam/policy:Policy", "a", {"policy": doc(allow("s3:*"))}),
        R("aws:iam/policy:Policy", "b", {"policy": doc(allow("s3:*"))}),
    ]
    exempt = {"exemptions": [{"urn": bad[1]["urn"], "reason": "a test exemption with a reason"}]}
    names = [f.name for f in violations("iam-no-wildcard-actions", bad, config=exempt)]
    assert names == ["b"], names
