"""IAM rules: identity policies, trust policies, managed attachments, users.

Identity policy documents live on `aws:iam/policy:Policy`, `aws:iam/rolePolicy:RolePolicy`,
`aws:iam/groupPolicy:GroupPolicy` and a role's `inlinePolicies`; trust policies in a role's `assumeRolePolicy`.
The engine sends them as JSON strings (occasionally objects); `statements()` reads both.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .common import (
    MANDATORY,
    Context,
    Raw,
    Res,
    Statement,
    action_matches,
    as_list,
    resource_policy,
    statements,
)

POLICY = "aws:iam/policy:Policy"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
IDENTITY_POLICY_TYPES = (POLICY, ROLE, ROLE_POLICY, GROUP_POLICY, USER_POLICY)

ATTACHMENT_TYPES = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
)

USER_TYPES = (
    "aws:iam/user:User",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/accessKey:AccessKey",
    "aws:iam/userLoginProfile:UserLoginProfile",
    "aws:iam/userGroupMembership:UserGroupMembership",
    "aws:iam/groupMembership:GroupMembership",
    "aws:iam/serviceSpecificCredential:ServiceSpecificCredential",
    "aws:iam/sshKey:SshKey",
)


def identity_documents(res: Res) -> Iterator[tuple[str, Any]]:
    """(property path, document) for every identity policy document `res` carries."""
    if res.type == ROLE:
        for index, inline in enumerate(as_list(res.p("inlinePolicies"))):
            if isinstance(inline, dict) and inline.get("policy") not in (None, ""):
                yield f"inlinePolicies[{index}].policy", inline.get("policy")
        return
    doc = res.p("policy")
    if doc not in (None, ""):
        yield "policy", doc


def allow_statements(res: Res) -> Iterator[tuple[str, Statement]]:
    for prop, doc in identity_documents(res):
        for st in statements(doc) or []:
            if st.allow:
                yield prop, st


def _describe(st: Statement) -> str:
    parts = [f"Sid {st.sid!r}" if st.sid else "a statement"]
    if st.actions:
        parts.append(f"Action {list(st.actions)}")
    if st.not_actions:
        parts.append(f"NotAction {list(st.not_actions)}")
    parts.append(f"Resource {list(st.resources or st.not_resources)}")
    return " ".join(parts)


def _is_star_resource(resource: str) -> bool:
    return resource == "*" or bool(re.fullmatch(r"arn:aws[a-z-]*:[a-z0-9-]+:[^:]*:[^:]*:\*", resource))


# ----------------------------------------------------------------------------------------------------------------


def _no_admin_star(res: Res, ctx: Context) -> None:
    for prop, st in allow_statements(res):
        if "*" in st.actions and "*" in st.resources:
            ctx.violation(
                res,
                prop,
                Raw(f"{_describe(st)} (full administrator)"),
                "name the actions and the resource ARNs this principal needs instead of Allow * on *.",
            )


def _no_wildcard_actions(res: Res, ctx: Context) -> None:
    for prop, st in allow_statements(res):
        wild = [a for a in st.actions if a == "*" or a.endswith(":*")]
        if wild:
            ctx.violation(
                res,
                prop,
                Raw(f"{_describe(st)} (wildcard actions {wild})"),
                "list the individual actions (e.g. s3:GetObject) instead of a service-wide '*'.",
            )
        if st.not_actions:
            ctx.violation(
                res,
                prop,
                Raw(f"{_describe(st)} (Allow with NotAction grants every other action)"),
                "use Action with the actions needed; keep NotAction for Deny statements only.",
            )


def _resource_star_restricted(res: Res, ctx: Context) -> None:
    allowed: dict[str, str] = dict(ctx.config.get("allowedResourceStarActions") or {})
    prefixes = [p.lower() for p in ctx.config.get("scopingConditionPrefixes") or []]
    for prop, st in allow_statements(res):
        if not any(_is_star_resource(r) for r in st.resources) and not st.not_resources:
            continue
        if any(key.startswith(prefix) for key in st.condition_keys() for prefix in prefixes):
            continue  # scoped by tag/service conditions (attribute-based access control)
        unscoped = [
            action
            for action in st.actions
            if action != "*" and not any(action_matches(a, action) or a == action for a in allowed)
        ]
        if unscoped:
            ctx.violation(
                res,
                prop,
                Raw(f"{_describe(st)} (actions {unscoped} on Resource '*')"),
                "scope these actions to the ARNs they act on; only actions in the pack's "
                "allowedResourceStarActions list (each with its reason) may use '*'.",
            )


PRIVESC_ACTIONS = (
    "iam:PassRole",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:AddUserToGroup",
    "iam:UpdateAssumeRolePolicy",
    "iam:CreateRole",
    "iam:CreateUser",
    "iam:CreatePolicy",
    "sts:AssumeRole",
)
EXFIL_ACTIONS = ("kms:Decrypt", "kms:ReEncryptFrom")


def _wide_resources(st: Statement) -> list[str]:
    """Resources that reach every role/key/policy: '*', or an ARN whose resource part is only a wildcard."""
    return [
        r
        for r in st.resources
        if r == "*" or re.fullmatch(r"arn:aws[a-z-]*:[a-z0-9-]*:[^:]*:[^:]*:([a-z-]+/)?\*", r)
    ]


KEY_SCOPING_CONDITIONS = ("kms:resourcealiases", "aws:resourcetag/")


def _scoped_to_named_keys(st: Statement) -> bool:
    """A positive condition on the key's aliases or tags limits `key/*` to those keys (AWS's ABAC for KMS);
    kms:ViaService does not: it limits the path, not the keys."""
    return any(
        "Not" not in op and key.lower().startswith(KEY_SCOPING_CONDITIONS)
        for op, keys in st.conditions.items()
        for key in keys
    )


def _no_privesc_exfil(res: Res, ctx: Context) -> None:
    for prop, st in allow_statements(res):
        wide = _wide_resources(st)
        if not wide:
            continue
        # A bare '*' is iam-no-admin-star's and iam-no-wildcard-actions' finding; this rule names the dangerous
        # actions a narrower grant (e.g. 'iam:*', 'iam:Pass*', 'kms:*') still carries.
        esc = [a for a in st.actions if a != "*" and any(action_matches(a, p) for p in PRIVESC_ACTIONS)]
        if esc:
            ctx.violation(
                res,
                prop,
                Raw(f"{_describe(st)} (privilege escalation: {esc} on {wide})"),
                "grant iam:PassRole / IAM write actions only on the specific role or policy ARNs needed.",
            )
        exfil = [a for a in st.actions if a != "*" and any(action_matches(a, p) for p in EXFIL_ACTIONS)]
        if exfil and not _scoped_to_named_keys(st):
            ctx.violation(
                res,
                prop,
                Raw(f"{_describe(st)} (decrypt with every KMS key: {exfil} on {wide})"),
                "list the key ARNs this principal decrypts with (FSBP KMS.1/KMS.2).",
            )


def _no_admin_managed_attach(res: Res, ctx: Context) -> None:
    forbidden = {name.lower() for name in ctx.config.get("forbiddenManagedPolicies") or []}
    candidates: list[tuple[str, Any]] = []
    if res.type == ROLE:
        candidates += [
            (f"managedPolicyArns[{i}]", a) for i, a in enumerate(as_list(res.p("managedPolicyArns")))
        ]
    elif res.type.endswith("Exclusive"):
        candidates += [(f"policyArns[{i}]", a) for i, a in enumerate(as_list(res.p("policyArns")))]
    else:
        candidates.append(("policyArn", res.p("policyArn")))
    for prop, arn in candidates:
        if isinstance(arn, str) and arn.rsplit("/", 1)[-1].lower() in forbidden and ":aws:policy/" in arn:
            ctx.violation(
                res,
                prop,
                arn,
                "attach a least-privilege policy written for this principal instead of an AWS admin policy.",
            )


def _trust_statements(res: Res) -> list[Statement]:
    return [st for st in statements(res.p("assumeRolePolicy")) or [] if st.allow]


def _trust_no_public(res: Res, ctx: Context) -> None:
    for st in _trust_statements(res):
        if "*" in st.principals and not st.conditions:
            ctx.violation(
                res,
                "assumeRolePolicy",
                Raw(f"{_describe(st)} with Principal '*' and no Condition"),
                "trust a specific account, service or federated provider, or add conditions that pin the caller.",
            )


GITHUB_ISSUER = "token.actions.githubusercontent.com"
# GitHub's subject formats: `ref:` (push/tag jobs), `environment:` (jobs in an environment) and `pull_request`
# (every pull-request job, which has no branch of its own to pin) — each exact, for one repository.
_GITHUB_SUB = re.compile(
    r"^repo:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+:(ref:refs/(heads|tags)/[^*?]+|environment:[^*?]+|pull_request)$"
)


def _federated(st: Statement) -> list[str]:
    return list(st.principal_kinds.get("Federated", ()))


def _github_oidc_pinned(res: Res, ctx: Context) -> None:
    for st in _trust_statements(res):
        if not any(GITHUB_ISSUER in f for f in _federated(st)):
            continue
        aud = st.condition_values(f"{GITHUB_ISSUER}:aud")
        aud_ok = any(
            op.startswith("StringEquals") and set(v) == {"sts.amazonaws.com"} for op, v in aud.items()
        )
        if not aud_ok:
            ctx.violation(
                res,
                f"assumeRolePolicy Condition {GITHUB_ISSUER}:aud",
                aud or None,
                "require StringEquals token.actions.githubusercontent.com:aud = sts.amazonaws.com.",
            )
        subs = st.condition_values(f"{GITHUB_ISSUER}:sub")
        values = [v for vs in subs.values() for v in vs]
        if not values or not all(_GITHUB_SUB.match(v) for v in values):
            ctx.violation(
                res,
                f"assumeRolePolicy Condition {GITHUB_ISSUER}:sub",
                values or None,
                "pin sub to one repository and a branch/tag ('repo:org/repo:ref:refs/heads/main') or a "
                "GitHub environment ('repo:org/repo:environment:prod'), without wildcards.",
            )


_IRSA_SUB = re.compile(
    r"^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-.a-z0-9]*[a-z0-9])?$"
)


def _is_eks_oidc(federated: str) -> bool:
    return "oidc.eks." in federated or (":oidc-provider/" in federated and GITHUB_ISSUER not in federated)


def _irsa_pinned(res: Res, ctx: Context) -> None:
    for st in _trust_statements(res):
        feds = _federated(st)
        if not feds or not any(_is_eks_oidc(f) for f in feds):
            continue
        subs = {
            op: v
            for key in st.condition_keys()
            if key.endswith(":sub")
            for op, v in st.condition_values(key).items()
        }
        auds = {
            op: v
            for key in st.condition_keys()
            if key.endswith(":aud")
            for op, v in st.condition_values(key).items()
        }
        sub_values = [v for op, vs in subs.items() if op.startswith("StringEquals") for v in vs]
        if (
            not sub_values
            or not all(_IRSA_SUB.match(v) for v in sub_values)
            or any(not op.startswith("StringEquals") for op in subs)
        ):
            ctx.violation(
                res,
                "assumeRolePolicy Condition <oidc-issuer>:sub",
                {op: list(v) for op, v in subs.items()} or None,
                "require StringEquals <issuer>:sub = system:serviceaccount:<namespace>:<serviceaccount> "
                "(one service account, no wildcards).",
            )
        aud_ok = any(
            op.startswith("StringEquals") and set(v) == {"sts.amazonaws.com"} for op, v in auds.items()
        )
        if not aud_ok:
            ctx.violation(
                res,
                "assumeRolePolicy Condition <oidc-issuer>:aud",
                {op: list(v) for op, v in auds.items()} or None,
                "require StringEquals <issuer>:aud = sts.amazonaws.com.",
            )


def _no_users(res: Res, ctx: Context) -> None:
    ctx.violation(
        res,
        "resource type",
        res.type,
        "no IAM users, user policies or access keys: people use IAM Identity Center, CI uses GitHub OIDC roles, "
        "workloads use IRSA roles.",
    )


POLICIES = [
    resource_policy(
        "iam-no-admin-star",
        "IAM policies must not allow '*' actions on '*' resources (no full administrator grants).",
        MANDATORY,
        ["IAM.1"],
        IDENTITY_POLICY_TYPES,
        _no_admin_star,
    ),
    resource_policy(
        "iam-no-wildcard-actions",
        "IAM policies must name actions: no '*' or 'service:*', no Allow with NotAction.",
        MANDATORY,
        ["IAM.21"],
        IDENTITY_POLICY_TYPES,
        _no_wildcard_actions,
    ),
    resource_policy(
        "iam-resource-star-restricted",
        "Resource '*' only for actions AWS cannot scope (configured list, each with its reason) or under "
        "tag/service conditions.",
        MANDATORY,
        ["IAM.21"],
        IDENTITY_POLICY_TYPES,
        _resource_star_restricted,
    ),
    resource_policy(
        "iam-no-privesc-exfil",
        "No unconstrained privilege escalation (iam:PassRole, IAM write actions on '*') and no kms:Decrypt on "
        "all keys.",
        MANDATORY,
        ["KMS.1", "KMS.2"],
        IDENTITY_POLICY_TYPES,
        _no_privesc_exfil,
    ),
    resource_policy(
        "iam-no-admin-managed-attach",
        "No AdministratorAccess / IAMFullAccess / PowerUserAccess attachments.",
        MANDATORY,
        [],
        (*ATTACHMENT_TYPES, ROLE),
        _no_admin_managed_attach,
    ),
    resource_policy(
        "iam-trust-no-public",
        "Role trust policies must not trust Principal '*' without conditions.",
        MANDATORY,
        [],
        (ROLE,),
        _trust_no_public,
    ),
    resource_policy(
        "iam-github-oidc-pinned",
        "Roles trusting GitHub OIDC pin aud to sts.amazonaws.com and sub to one repository and branch/environment.",
        MANDATORY,
        [],
        (ROLE,),
        _github_oidc_pinned,
    ),
    resource_policy(
        "iam-irsa-pinned",
        "Roles trusting the EKS OIDC provider pin sub to one service account and aud to sts.amazonaws.com.",
        MANDATORY,
        [],
        (ROLE,),
        _irsa_pinned,
    ),
    resource_policy(
        "iam-no-users",
        "No IAM users, user policies or access keys.",
        MANDATORY,
        ["IAM.2", "IAM.3", "IAM.5"],
        USER_TYPES,
        _no_users,
    ),
]
