"""Mutation suite: take the real prod plan, break one thing at a time, and check a mandatory rule catches it.

Each mutant finds its target in the plan (by type and a name fragment), changes the inputs the way a careless
edit of the program would (and drops the same keys from the mock outputs, so the stack view agrees), and names
the rule it expects. A mutant is *caught* when the pack reports a mandatory violation that the unmutated plan
does not have. Mutants whose target is not in the plan (a component not built yet) are *not applicable*.

    python -m tests.policies.mutation [--stack prod]     prints every mutant and the catch rate
"""

from __future__ import annotations

import argparse
import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tools.offline.policy_run import PolicySession, Report

Resource = dict[str, Any]
Plan = dict[str, Any]


@dataclass(frozen=True)
class Mutant:
    id: str
    area: str
    what: str
    target_type: str
    name_has: str
    change: Callable[[Plan, Resource], None]
    expect: str
    """The rule expected to catch it (any new mandatory finding counts; this one is reported alongside)."""


@dataclass
class Outcome:
    mutant: Mutant
    applicable: bool
    caught_by: list[str]

    @property
    def caught(self) -> bool:
        return bool(self.caught_by)


# ----------------------------------------------------------------------------------------------------------------
# Editing helpers


def _set(*path: Any, value: Any) -> Callable[[Plan, Resource], None]:
    def change(_: Plan, r: Resource) -> None:
        for side in ("inputs", "outputs"):
            if side == "outputs" and not r.get("outputs"):
                continue
            cur = r.setdefault(side, {})
            for key in path[:-1]:
                cur = cur[key] if isinstance(key, int) else cur.setdefault(key, {})
            cur[path[-1]] = copy.deepcopy(value)

    return change


def _drop(*keys: str) -> Callable[[Plan, Resource], None]:
    def change(_: Plan, r: Resource) -> None:
        for side in ("inputs", "outputs"):
            for key in keys:
                (r.get(side) or {}).pop(key, None)

    return change


def _forget_ignore_changes(*paths: str) -> Callable[[Plan, Resource], None]:
    """Drop paths from the resource option `ignore_changes` (the engine sends it to the pack with the resource)."""

    def change(_: Plan, r: Resource) -> None:
        r["ignoreChanges"] = [p for p in r.get("ignoreChanges") or [] if p not in paths]

    return change


def _both(*changes: Callable[[Plan, Resource], None]) -> Callable[[Plan, Resource], None]:
    def change(plan: Plan, r: Resource) -> None:
        for c in changes:
            c(plan, r)

    return change


def _edit_doc(prop: str, edit: Callable[[dict[str, Any]], None]) -> Callable[[Plan, Resource], None]:
    """Parse the JSON policy document in `prop`, edit it, write it back as the engine would (a JSON string)."""

    def change(_: Plan, r: Resource) -> None:
        raw = r["inputs"][prop]
        doc = json.loads(raw) if isinstance(raw, str) else copy.deepcopy(raw)
        edit(doc)
        r["inputs"][prop] = json.dumps(doc)
        if prop in (r.get("outputs") or {}):
            r["outputs"][prop] = r["inputs"][prop]

    return change


def _first_statement(doc: dict[str, Any]) -> dict[str, Any]:
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    return next(s for s in statements if s.get("Effect", "Allow") == "Allow")


def _widen_action(to: str, resource: Any = None) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        st = _first_statement(doc)
        st["Action"] = to
        if resource is not None:
            st["Resource"] = resource
        st.pop("Condition", None)

    return edit


def _add_statement(statement: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        doc["Statement"] = [
            *(doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]),
            statement,
        ]

    return edit


def _trust(edit: Callable[[dict[str, Any]], None]) -> Callable[[Plan, Resource], None]:
    return _edit_doc("assumeRolePolicy", lambda doc: edit(_first_statement(doc)))


def _gh_condition(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(st: dict[str, Any]) -> None:
        for op in list(st.get("Condition", {})):
            if key in st["Condition"][op]:
                if value is None:
                    del st["Condition"][op][key]
                else:
                    st["Condition"][op][key] = value

    return edit


def _add_resource(
    type_: str, name: str, inputs: Mapping[str, Any], deps_on_target: str | None = None
) -> Callable[[Plan, Resource], None]:
    """Add a new resource next to the target (same parent and provider)."""

    def change(plan: Plan, r: Resource) -> None:
        head, project, qualified, _ = r["urn"].split("::")
        chain = qualified.rsplit("$", 1)[0] if "$" in qualified else ""
        new = {
            **{k: copy.deepcopy(v) for k, v in r.items() if k in ("custom", "parent", "provider", "protect")},
            "urn": f"{head}::{project}::{chain + '$' if chain else ''}{type_}::{name}",
            "type": type_,
            "name": name,
            "inputs": copy.deepcopy(dict(inputs)),
            "outputs": {},
            "dependencies": [r["urn"]] if deps_on_target else [],
            "propertyDependencies": {deps_on_target: [r["urn"]]} if deps_on_target else {},
        }
        plan["resources"].append(new)

    return change


def _remove_related(type_: str, prop: str) -> Callable[[Plan, Resource], None]:
    """Remove every resource of `type_` whose `prop` depends on the target (e.g. the VPC's flow log)."""

    def change(plan: Plan, r: Resource) -> None:
        plan["resources"] = [
            x
            for x in plan["resources"]
            if not (x["type"] == type_ and r["urn"] in (x.get("propertyDependencies") or {}).get(prop, []))
        ]

    return change


def _edit_containers(edit: Callable[[dict[str, Any]], None]) -> Callable[[Plan, Resource], None]:
    def change(_: Plan, r: Resource) -> None:
        edit(r["inputs"]["spec"]["template"]["spec"]["containers"][0])

    return change


def _sc(**values: Any) -> Callable[[Plan, Resource], None]:
    return _edit_containers(lambda c: c.setdefault("securityContext", {}).update(values))


def _open_to_everyone(st: dict[str, Any]) -> None:
    st["Principal"] = {"AWS": "*"}
    st.pop("Condition", None)


def _drop_dependencies_on(type_: str) -> Callable[[Plan, Resource], None]:
    """Remove the target's dependencies (plain and per property) on every resource of `type_`."""

    def change(plan: Plan, r: Resource) -> None:
        of_type = {x["urn"] for x in plan["resources"] if x["type"] == type_}
        r["dependencies"] = [u for u in r.get("dependencies") or [] if u not in of_type]
        r["propertyDependencies"] = {
            k: [u for u in v if u not in of_type] for k, v in (r.get("propertyDependencies") or {}).items()
        }

    return change


def _name_role_of(role_name_has: str) -> Callable[[Plan, Resource], None]:
    """The key policy names a role of the stack (by its ARN) without the key depending on it."""

    def change(plan: Plan, r: Resource) -> None:
        role = next(
            x for x in plan["resources"] if x["type"] == "aws:iam/role:Role" and role_name_has in x["name"]
        )
        arn = str((role.get("outputs") or {})["arn"])
        _edit_doc("policy", _add_statement(_key_grant(arn)))(plan, r)

    return change


def _key_grant(arn: str) -> dict[str, Any]:
    return {
        "Sid": "Mutant",
        "Effect": "Allow",
        "Principal": {"AWS": arn},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    }


def _replace_doc(prop: str, document: dict[str, Any]) -> Callable[[Plan, Resource], None]:
    def edit(doc: dict[str, Any]) -> None:
        doc.clear()
        doc.update(copy.deepcopy(document))

    return _edit_doc(prop, edit)


ACCOUNT_ONLY_ENDPOINT_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": "123456789012"}},
        }
    ],
}
ASG_SLR_ARN = (
    "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
)


WORLD = "0.0.0.0/0"
ACCOUNT_WIDE_KEY = "arn:aws:kms:us-east-2:123456789012:key/*"


def _detach_pab(_: Plan, r: Resource) -> None:
    """The block now guards a bucket of another stack (no link the stack join could follow), one flag off."""
    for side in ("inputs", "outputs"):
        if r.get(side):
            r[side]["bucket"] = "bucket-of-another-stack"
            r[side]["blockPublicPolicy"] = False
    r["dependencies"] = []
    r["propertyDependencies"] = {}


MUTANTS: list[Mutant] = [
    # --- network -----------------------------------------------------------------------------------------
    Mutant(
        "sg-db-5432-world",
        "network",
        "database SG opens PostgreSQL to the world",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "database-in-5432",
        _both(_drop("referencedSecurityGroupId"), _set("cidrIpv4", value=WORLD)),
        "sg-no-public-ingress",
    ),
    Mutant(
        "sg-redis-ipv6-world",
        "network",
        "database SG opens Redis to ::/0",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "database-in-6379",
        _both(_drop("referencedSecurityGroupId"), _set("cidrIpv6", value="::/0")),
        "sg-no-public-ingress",
    ),
    Mutant(
        "sg-alb-8080-world",
        "network",
        "ALB SG opens 8080 to the world",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "alb-in",
        _both(
            _drop("prefixListId"),
            _set("cidrIpv4", value=WORLD),
            _set("fromPort", value=8080),
            _set("toPort", value=8080),
        ),
        "sg-no-public-ingress",
    ),
    Mutant(
        "sg-nodes-ssh-inline",
        "network",
        "nodes SG gets an inline SSH rule from anywhere",
        "aws:ec2/securityGroup:SecurityGroup",
        "nodes",
        _set(
            "ingress",
            value=[
                {
                    "protocol": "tcp",
                    "fromPort": 22,
                    "toPort": 22,
                    "cidrBlocks": [WORLD],
                    "description": "debug",
                }
            ],
        ),
        "sg-no-public-ingress",
    ),
    Mutant(
        "default-sg-open",
        "network",
        "default SG allows all from itself",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "",
        _set("ingress", value=[{"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]),
        "default-sg-closed",
    ),
    Mutant(
        "flow-log-removed",
        "network",
        "the VPC's flow log is deleted",
        "aws:ec2/vpc:Vpc",
        "",
        _remove_related("aws:ec2/flowLog:FlowLog", "vpcId"),
        "vpc-flow-logs",
    ),
    Mutant(
        "private-subnet-public-ip",
        "network",
        "a private subnet maps public IPs",
        "aws:ec2/subnet:Subnet",
        "private",
        _set("mapPublicIpOnLaunch", value=True),
        "vpc-flow-logs",
    ),
    Mutant(
        "sg-endpoints-443-world",
        "network",
        "the VPC endpoints SG opens 443 to the world",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "endpoints-in-443",
        _both(_drop("referencedSecurityGroupId"), _set("cidrIpv4", value=WORLD)),
        "sg-no-public-ingress",
    ),
    Mutant(
        "sg-nodes-all-world",
        "network",
        "node-to-node rule opened to the world",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "nodes-in-self",
        _both(_drop("referencedSecurityGroupId"), _set("cidrIpv4", value=WORLD)),
        "sg-no-public-ingress",
    ),
    # --- IAM ---------------------------------------------------------------------------------------------
    Mutant(
        "iam-admin-star",
        "iam",
        "a role policy becomes Allow * on *",
        "aws:iam/rolePolicy:RolePolicy",
        "flow-logs",
        _edit_doc("policy", _widen_action("*", "*")),
        "iam-no-admin-star",
    ),
    Mutant(
        "iam-service-star",
        "iam",
        "an action widened to logs:*",
        "aws:iam/rolePolicy:RolePolicy",
        "flow-logs",
        _edit_doc("policy", _widen_action("logs:*")),
        "iam-no-wildcard-actions",
    ),
    Mutant(
        "iam-resource-star",
        "iam",
        "an image-push grant put on Resource *",
        "aws:iam/rolePolicy:RolePolicy",
        "image-push",
        _edit_doc("policy", _add_statement({"Effect": "Allow", "Action": ["ecr:PutImage"], "Resource": "*"})),
        "iam-resource-star-restricted",
    ),
    Mutant(
        "iam-passrole-star",
        "iam",
        "iam:PassRole on every role",
        "aws:iam/rolePolicy:RolePolicy",
        "image-push",
        _edit_doc("policy", _add_statement({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"})),
        "iam-no-privesc-exfil",
    ),
    Mutant(
        "iam-decrypt-all-keys",
        "iam",
        "kms:Decrypt on every key",
        "aws:iam/rolePolicy:RolePolicy",
        "flow-logs",
        _edit_doc(
            "policy",
            _add_statement({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": ACCOUNT_WIDE_KEY}),
        ),
        "iam-no-privesc-exfil",
    ),
    Mutant(
        "iam-admin-attached",
        "iam",
        "AdministratorAccess attached to a role",
        "aws:iam/role:Role",
        "flow-logs",
        _add_resource(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "oops-admin",
            {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            "role",
        ),
        "iam-no-admin-managed-attach",
    ),
    Mutant(
        "iam-trust-public",
        "iam",
        "a role's trust opened to Principal *",
        "aws:iam/role:Role",
        "flow-logs",
        _trust(_open_to_everyone),
        "iam-trust-no-public",
    ),
    Mutant(
        "iam-github-sub-wildcard",
        "iam",
        "the deploy role trusts any branch of any repo",
        "aws:iam/role:Role",
        "delivery-deploy",
        _trust(_gh_condition("token.actions.githubusercontent.com:sub", "repo:your-org/*")),
        "iam-github-oidc-pinned",
    ),
    Mutant(
        "iam-github-aud-dropped",
        "iam",
        "the image-push role drops its audience check",
        "aws:iam/role:Role",
        "image-push",
        _trust(_gh_condition("token.actions.githubusercontent.com:aud", None)),
        "iam-github-oidc-pinned",
    ),
    Mutant(
        "iam-user-added",
        "iam",
        "an IAM user with an access key appears",
        "aws:iam/role:Role",
        "flow-logs",
        _add_resource("aws:iam/user:User", "ci-user", {"name": "ci-user"}),
        "iam-no-users",
    ),
    Mutant(
        "irsa-sub-wildcard",
        "iam",
        "an IRSA role trusts every service account",
        "aws:iam/role:Role",
        "",
        _trust(
            lambda st: st.update(
                Condition={
                    "StringLike": {
                        k.replace(":aud", ":sub"): "system:serviceaccount:*"
                        for k in _all_condition_keys(st)
                        if k.endswith(":aud")
                    }
                }
            )
        ),
        "iam-irsa-pinned",
    ),
    Mutant(
        "iam-notaction",
        "iam",
        "a grant rewritten as Allow NotAction",
        "aws:iam/rolePolicy:RolePolicy",
        "flow-logs",
        _edit_doc("policy", _add_statement({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})),
        "iam-no-wildcard-actions",
    ),
    Mutant(
        "iam-create-role-star",
        "iam",
        "iam:CreateRole and AttachRolePolicy on every role",
        "aws:iam/rolePolicy:RolePolicy",
        "image-push",
        _edit_doc(
            "policy",
            _add_statement(
                {
                    "Effect": "Allow",
                    "Action": ["iam:CreateRole", "iam:AttachRolePolicy"],
                    "Resource": "arn:aws:iam::123456789012:role/*",
                }
            ),
        ),
        "iam-no-privesc-exfil",
    ),
    Mutant(
        "iam-power-user",
        "iam",
        "PowerUserAccess in a role's managedPolicyArns",
        "aws:iam/role:Role",
        "flow-logs",
        _set("managedPolicyArns", value=["arn:aws:iam::aws:policy/PowerUserAccess"]),
        "iam-no-admin-managed-attach",
    ),
    # --- KMS, logs, messaging ---------------------------------------------------------------------------
    Mutant(
        "kms-rotation-off",
        "kms",
        "key rotation turned off",
        "aws:kms/key:Key",
        "",
        _set("enableKeyRotation", value=False),
        "kms-hygiene",
    ),
    Mutant(
        "kms-policy-public",
        "kms",
        "key policy lets anyone decrypt",
        "aws:kms/key:Key",
        "",
        _edit_doc(
            "policy",
            _add_statement(
                {"Sid": "Oops", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
            ),
        ),
        "resource-policy-not-public",
    ),
    Mutant(
        "sqs-unencrypted",
        "messaging",
        "a queue loses its CMK",
        "aws:sqs/queue:Queue",
        "",
        _both(_drop("kmsMasterKeyId"), _set("sqsManagedSseEnabled", value=True)),
        "messaging-kms",
    ),
    Mutant(
        "sns-aws-key",
        "messaging",
        "a topic uses the AWS-managed key",
        "aws:sns/topic:Topic",
        "",
        _set("kmsMasterKeyId", value="alias/aws/sns"),
        "messaging-kms",
    ),
    Mutant(
        "secret-unencrypted",
        "messaging",
        "a secret loses its CMK",
        "aws:secretsmanager/secret:Secret",
        "",
        _drop("kmsKeyId"),
        "messaging-kms",
    ),
    Mutant(
        "queue-policy-public",
        "messaging",
        "a queue policy opens SendMessage to everyone",
        "aws:sqs/queuePolicy:QueuePolicy",
        "",
        _edit_doc(
            "policy",
            _add_statement(
                {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}
            ),
        ),
        "resource-policy-not-public",
    ),
    # --- data stores -----------------------------------------------------------------------------------
    Mutant(
        "aurora-unencrypted",
        "data",
        "Aurora storage unencrypted",
        "aws:rds/cluster:Cluster",
        "",
        _set("storageEncrypted", value=False),
        "rds-cluster-encrypted",
    ),
    Mutant(
        "aurora-backups-1d",
        "data",
        "Aurora keeps one day of backups",
        "aws:rds/cluster:Cluster",
        "",
        _set("backupRetentionPeriod", value=1),
        "aurora-resilience",
    ),
    Mutant(
        "aurora-no-deletion-protection",
        "data",
        "Aurora deletion protection off",
        "aws:rds/cluster:Cluster",
        "",
        _set("deletionProtection", value=False),
        "aurora-resilience",
    ),
    Mutant(
        "aurora-public-instance",
        "data",
        "an Aurora instance made public",
        "aws:rds/clusterInstance:ClusterInstance",
        "",
        _set("publiclyAccessible", value=True),
        "aurora-private",
    ),
    Mutant(
        "aurora-tls-off",
        "data",
        "rds.force_ssl set to 0",
        "aws:rds/clusterParameterGroup:ClusterParameterGroup",
        "",
        _set("parameters", value=[{"name": "rds.force_ssl", "value": "0"}]),
        "aurora-tls",
    ),
    Mutant(
        "aurora-iam-auth-off",
        "data",
        "Aurora IAM auth off",
        "aws:rds/cluster:Cluster",
        "",
        _set("iamDatabaseAuthenticationEnabled", value=False),
        "aurora-observability-auth",
    ),
    Mutant(
        "dynamodb-pitr-off",
        "data",
        "PITR off on a table",
        "aws:dynamodb/table:Table",
        "",
        _set("pointInTimeRecovery", value={"enabled": False}),
        "dynamodb-protect",
    ),
    Mutant(
        "dynamodb-aws-key",
        "data",
        "a table falls back to the AWS-owned key",
        "aws:dynamodb/table:Table",
        "",
        _drop("serverSideEncryption"),
        "dynamodb-protect",
    ),
    Mutant(
        "redis-no-tls",
        "data",
        "Redis transit encryption off",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "",
        _set("transitEncryptionEnabled", value=False),
        "redis-encryption-auth",
    ),
    Mutant(
        "redis-no-auth",
        "data",
        "Redis AUTH token removed",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "",
        _drop("authToken", "authTokenWo", "userGroupIds"),
        "redis-encryption-auth",
    ),
    Mutant(
        "redis-no-failover",
        "data",
        "Redis automatic failover off in prod",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "",
        _set("automaticFailoverEnabled", value=False),
        "redis-resilience",
    ),
    Mutant(
        "opensearch-http",
        "data",
        "OpenSearch stops enforcing HTTPS",
        "aws:opensearch/domain:Domain",
        "",
        _set("domainEndpointOptions", "enforceHttps", value=False),
        "opensearch-encryption",
    ),
    Mutant(
        "opensearch-old-tls",
        "data",
        "OpenSearch TLS policy lowered",
        "aws:opensearch/domain:Domain",
        "",
        _set("domainEndpointOptions", "tlsSecurityPolicy", value="Policy-Min-TLS-1-0-2019-07"),
        "opensearch-encryption",
    ),
    Mutant(
        "opensearch-public",
        "data",
        "OpenSearch moved out of the VPC",
        "aws:opensearch/domain:Domain",
        "",
        _drop("vpcOptions"),
        "opensearch-private",
    ),
    # --- S3 ----------------------------------------------------------------------------------------------
    Mutant(
        "s3-public-access",
        "s3",
        "a bucket's public access block turned off",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "",
        _set("restrictPublicBuckets", value=False),
        "s3-block-public",
    ),
    Mutant(
        "s3-pab-other-stack",
        "s3",
        "a public access block for another stack's bucket with a flag off",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "",
        _detach_pab,
        "s3-public-access-block-flags",
    ),
    Mutant(
        "s3-acls-on",
        "s3",
        "a bucket re-enables ACLs",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "",
        _set("rule", value={"objectOwnership": "ObjectWriter"}),
        "s3-block-public",
    ),
    Mutant(
        "s3-tls-deny-removed",
        "s3",
        "a bucket policy loses its TLS-only deny",
        "aws:s3/bucketPolicy:BucketPolicy",
        "",
        _edit_doc(
            "policy",
            lambda d: d.update(
                Statement=[s for s in d["Statement"] if "aws:SecureTransport" not in json.dumps(s)]
            ),
        ),
        "s3-tls-only",
    ),
    Mutant(
        "s3-no-abort-rule",
        "s3",
        "a bucket's lifecycle loses its abort-multipart rule",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "",
        _set("rules", value=[{"id": "expire", "status": "Enabled", "expiration": {"days": 30}}]),
        "s3-versioning-lifecycle",
    ),
    Mutant(
        "s3-sse-s3",
        "s3",
        "a data bucket falls back to SSE-S3",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "",
        _set("rules", value=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]),
        "s3-sse-kms",
    ),
    Mutant(
        "s3-pab-removed",
        "s3",
        "a bucket's public access block deleted",
        "aws:s3/bucket:Bucket",
        "",
        _remove_related("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "bucket"),
        "s3-block-public",
    ),
    Mutant(
        "s3-versioning-suspended",
        "s3",
        "a data bucket's versioning suspended",
        "aws:s3/bucketVersioning:BucketVersioning",
        "",
        _set("versioningConfiguration", value={"status": "Suspended"}),
        "s3-versioning-lifecycle",
    ),
    Mutant(
        "s3-policy-public-read",
        "s3",
        "a bucket policy grants GetObject to everyone",
        "aws:s3/bucketPolicy:BucketPolicy",
        "",
        _edit_doc(
            "policy",
            _add_statement({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}),
        ),
        "resource-policy-not-public",
    ),
    Mutant(
        "kms-no-key-policy",
        "kms",
        "a key loses its explicit key policy",
        "aws:kms/key:Key",
        "",
        _drop("policy"),
        "kms-hygiene",
    ),
    # --- EKS ---------------------------------------------------------------------------------------------
    Mutant(
        "eks-public-endpoint",
        "eks",
        "the API endpoint opened to the world",
        "eks:index:Cluster",
        "",
        _both(_set("endpointPublicAccess", value=True), _set("publicAccessCidrs", value=[WORLD])),
        "eks-endpoint-private",
    ),
    Mutant(
        "eks-no-secrets-kms",
        "eks",
        "secrets envelope encryption removed",
        "eks:index:Cluster",
        "",
        _drop("encryptionConfigKeyArn"),
        "eks-secrets-kms",
    ),
    Mutant(
        "eks-less-logging",
        "eks",
        "control-plane logging reduced to api",
        "eks:index:Cluster",
        "",
        _set("enabledClusterLogTypes", value=["api"]),
        "eks-logging",
    ),
    Mutant(
        "eks-imdsv1",
        "eks",
        "node launch template allows IMDSv1",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "",
        _set("metadataOptions", "httpTokens", value="optional"),
        "eks-nodes-hardened",
    ),
    Mutant(
        "eks-unencrypted-volume",
        "eks",
        "node root volume unencrypted",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "",
        _set(
            "blockDeviceMappings",
            value=[{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false", "volumeSize": 30}}],
        ),
        "eks-nodes-hardened",
    ),
    Mutant(
        "eks-ssh-nodes",
        "eks",
        "SSH access to managed nodes",
        "eks:index:ManagedNodeGroup",
        "",
        _set("remoteAccess", value={"ec2SshKey": "ops"}),
        "eks-nodes-hardened",
    ),
    Mutant(
        "eks-huge-nodes",
        "eks",
        "node type outside the allowed list",
        "eks:index:ManagedNodeGroup",
        "",
        _set("instanceTypes", value=["m5.24xlarge"]),
        "allowed-instance-types",
    ),
    Mutant(
        "ecr-mutable",
        "eks",
        "an ECR repository allows tag overwrites",
        "aws:ecr/repository:Repository",
        "",
        _set("imageTagMutability", value="MUTABLE"),
        "ecr-hardening",
    ),
    Mutant(
        "ecr-no-scan",
        "eks",
        "an ECR repository stops scanning",
        "aws:ecr/repository:Repository",
        "",
        _set("imageScanningConfiguration", value={"scanOnPush": False}),
        "ecr-hardening",
    ),
    # --- Kubernetes --------------------------------------------------------------------------------------
    Mutant(
        "k8s-privileged",
        "k8s",
        "a pod made privileged",
        "kubernetes:apps/v1:Deployment",
        "",
        _sc(privileged=True),
        "k8s-no-privilege",
    ),
    Mutant(
        "k8s-root",
        "k8s",
        "a pod runs as root",
        "kubernetes:apps/v1:Deployment",
        "",
        _sc(runAsUser=0, runAsNonRoot=False),
        "k8s-non-root",
    ),
    Mutant(
        "k8s-writable-root",
        "k8s",
        "a container's root filesystem writable",
        "kubernetes:apps/v1:Deployment",
        "",
        _sc(readOnlyRootFilesystem=False),
        "k8s-readonly-rootfs",
    ),
    Mutant(
        "k8s-latest",
        "k8s",
        "an image pinned to :latest",
        "kubernetes:apps/v1:Deployment",
        "",
        _edit_containers(lambda c: c.update(image=c["image"].rsplit(":", 1)[0] + ":latest")),
        "k8s-image-pinned",
    ),
    Mutant(
        "k8s-no-resources",
        "k8s",
        "a container without requests/limits",
        "kubernetes:apps/v1:Deployment",
        "",
        _edit_containers(lambda c: c.pop("resources", None)),
        "k8s-resources",
    ),
    Mutant(
        "k8s-host-network",
        "k8s",
        "a pod on the host network",
        "kubernetes:apps/v1:Deployment",
        "",
        lambda _p, r: r["inputs"]["spec"]["template"]["spec"].update(hostNetwork=True),
        "k8s-no-privilege",
    ),
    # --- edge --------------------------------------------------------------------------------------------
    Mutant(
        "alb-old-tls",
        "edge",
        "HTTPS listener on a TLS 1.0 policy",
        "aws:lb/listener:Listener",
        "https",
        _set("sslPolicy", value="ELBSecurityPolicy-2016-08"),
        "alb-tls",
    ),
    Mutant(
        "alb-keeps-bad-headers",
        "edge",
        "ALB stops dropping invalid headers",
        "aws:lb/loadBalancer:LoadBalancer",
        "",
        _set("dropInvalidHeaderFields", value=False),
        "alb-hardening",
    ),
    Mutant(
        "cf-allow-http",
        "edge",
        "CloudFront serves viewers over HTTP",
        "aws:cloudfront/distribution:Distribution",
        "",
        _set("defaultCacheBehavior", "viewerProtocolPolicy", value="allow-all"),
        "cloudfront-tls",
    ),
    Mutant(
        "cf-old-tls",
        "edge",
        "CloudFront viewer TLS lowered",
        "aws:cloudfront/distribution:Distribution",
        "",
        _set("viewerCertificate", "minimumProtocolVersion", value="TLSv1"),
        "cloudfront-tls",
    ),
    Mutant(
        "cf-no-waf",
        "edge",
        "CloudFront loses its web ACL",
        "aws:cloudfront/distribution:Distribution",
        "",
        _drop("webAclId"),
        "cloudfront-oac-waf",
    ),
    # --- deployability: create-time failures of a first `up` ---------------------------------------------
    Mutant(
        "kms-names-asg-slr",
        "deployability",
        "a key policy names AWSServiceRoleForAutoScaling, which a fresh account lacks",
        "aws:kms/key:Key",
        "aurora-key",
        _edit_doc("policy", _add_statement(_key_grant(ASG_SLR_ARN))),
        "kms-key-policy-principals-exist",
    ),
    Mutant(
        "kms-names-role-created-later",
        "deployability",
        "a key policy names the node role without depending on it",
        "aws:kms/key:Key",
        "logs-key",
        _name_role_of("node-role"),
        "kms-key-policy-principals-exist",
    ),
    Mutant(
        "kms-cluster-key-names-asg-role",
        "deployability",
        "the node-volume key names AWSServiceRoleForAutoScaling as its principal again (not by condition)",
        "aws:kms/key:Key",
        "cluster-key",
        _edit_doc("policy", _add_statement(_key_grant(ASG_SLR_ARN))),
        "kms-key-policy-principals-exist",
    ),
    Mutant(
        "sts-endpoint-principal-account",
        "deployability",
        "the STS endpoint policy admits only the account's principals (IRSA's call carries none)",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "-sts",
        _replace_doc("policy", ACCOUNT_ONLY_ENDPOINT_POLICY),
        "sts-endpoint-allows-web-identity",
    ),
    Mutant(
        "sts-endpoint-org-deny",
        "deployability",
        "the STS endpoint policy denies principals outside an organization",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "-sts",
        _edit_doc(
            "policy",
            _add_statement(
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sts:*",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-example"}},
                }
            ),
        ),
        "sts-endpoint-allows-web-identity",
    ),
    Mutant(
        "s3-endpoint-account-only",
        "deployability",
        "the S3 gateway endpoint policy admits only the account's principals (ECR's layer URLs are AWS's)",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "-s3",
        _replace_doc("policy", ACCOUNT_ONLY_ENDPOINT_POLICY),
        "s3-endpoint-allows-ecr-layers",
    ),
    Mutant(
        "opensearch-slr-dependency-dropped",
        "deployability",
        "the VPC OpenSearch domain no longer depends on its service-linked role",
        "aws:opensearch/domain:Domain",
        "",
        _drop_dependencies_on("aws:iam/serviceLinkedRole:ServiceLinkedRole"),
        "opensearch-vpc-slr",
    ),
    Mutant(
        "coredns-in-cluster-enabled",
        "deployability",
        "pulumi-eks's CoreDNS add-on turned back on in a cluster without a default node group",
        "eks:index:Cluster",
        "",
        _set("corednsAddonOptions", "enabled", value=True),
        "eks-coredns-after-nodes",
    ),
    Mutant(
        "coredns-addon-before-nodes",
        "deployability",
        "a CoreDNS add-on that does not wait for the node group",
        "aws:eks/addon:Addon",
        "metrics-server",
        _add_resource(
            "aws:eks/addon:Addon",
            "ecommerce-mesh-coredns-mutant",
            {"addonName": "coredns", "clusterName": "ecommerce-prod"},
        ),
        "eks-coredns-after-nodes",
    ),
    Mutant(
        "deployment-replicas-before-push",
        "deployability",
        "a Deployment runs replicas of an image the images workflow has not pushed",
        "kubernetes:apps/v1:Deployment",
        "cart-deployment",
        _set("spec", "replicas", value=2),
        "deployment-image-published",
    ),
    Mutant(
        "aurora-own-password-managed-false",
        "deployability",
        "Aurora with its own master password passes manage_master_user_password=False again (the provider counts "
        "an explicit false as set: ConflictsWith master_password)",
        "aws:rds/cluster:Cluster",
        "data-aurora",
        _set("manageMasterUserPassword", value=False),
        "provider-conflicting-arguments",
    ),
    Mutant(
        "global-cluster-engine-with-source",
        "deployability",
        "the global database names its engine beside the source cluster it is made from (ConflictsWith engine)",
        "aws:rds/globalCluster:GlobalCluster",
        "aurora-global",
        _set("engine", value="aurora-postgresql"),
        "provider-conflicting-arguments",
    ),
    Mutant(
        "redis-auth-token-with-user-group",
        "deployability",
        "the carts cache gets a user group beside its AUTH token (ConflictsWith auth_token)",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "data-redis",
        _set("userGroupIds", value=["ecommerce-carts"]),
        "provider-conflicting-arguments",
    ),
    # --- observability -----------------------------------------------------------------------------------------
    Mutant(
        "alarm-no-ok-action",
        "observability",
        "an alarm stops sending OK (the pager never hears it is over)",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aurora-writer-cpu",
        _set("okActions", value=[]),
        "alarm-has-action",
    ),
    Mutant(
        "alarm-actions-disabled",
        "observability",
        "the composite shop-down alarm has its actions disabled",
        "aws:cloudwatch/compositeAlarm:CompositeAlarm",
        "shop-down",
        _set("actionsEnabled", value=False),
        "alarm-has-action",
    ),
    Mutant(
        "alarm-topic-aws-key",
        "observability",
        "the alarm topic moves to the AWS-managed SNS key (CloudWatch cannot use it)",
        "aws:sns/topic:Topic",
        "observability-alarms",
        _set("kmsMasterKeyId", value="alias/aws/sns"),
        "alarm-topic-encrypted",
    ),
    Mutant(
        "alarm-key-without-cloudwatch",
        "observability",
        "the alarm topic's key policy loses CloudWatch's grant",
        "aws:kms/key:Key",
        "observability-key",
        _edit_doc(
            "policy",
            lambda doc: doc.update(
                Statement=[
                    st
                    for st in doc["Statement"]
                    if "cloudwatch.amazonaws.com" not in json.dumps(st.get("Principal", {}))
                ]
            ),
        ),
        "alarm-topic-encrypted",
    ),
    # --- analytics lake ------------------------------------------------------------------------------------
    Mutant(
        "athena-results-sse-s3",
        "analytics",
        "the lake workgroup writes query results with SSE-S3",
        "aws:athena/workgroup:Workgroup",
        "lake-workgroup",
        _set(
            "configuration",
            "resultConfiguration",
            "encryptionConfiguration",
            value={"encryptionOption": "SSE_S3"},
        ),
        "analytics-encryption",
    ),
    Mutant(
        "glue-job-no-security-config",
        "analytics",
        "the ETL job runs without the lake's security configuration",
        "aws:glue/job:Job",
        "orders-to-parquet",
        _drop("securityConfiguration"),
        "analytics-encryption",
    ),
    Mutant(
        "glue-bookmarks-unencrypted",
        "analytics",
        "job bookmarks no longer encrypted",
        "aws:glue/securityConfiguration:SecurityConfiguration",
        "glue-security",
        _set(
            "encryptionConfiguration",
            "jobBookmarksEncryption",
            value={"jobBookmarksEncryptionMode": "DISABLED"},
        ),
        "analytics-encryption",
    ),
    Mutant(
        "glue-catalog-aws-key",
        "analytics",
        "the account's catalog encrypted with the AWS managed key",
        "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings",
        "catalog-encryption",
        _set("dataCatalogEncryptionSettings", "encryptionAtRest", value={"catalogEncryptionMode": "SSE-KMS"}),
        "analytics-encryption",
    ),
    Mutant(
        "firehose-aws-owned-key",
        "analytics",
        "the order-events stream buffers with an AWS owned key",
        "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
        "order-events",
        _set("serverSideEncryption", value={"enabled": True, "keyType": "AWS_OWNED_CMK"}),
        "analytics-encryption",
    ),
    Mutant(
        "firehose-subscription-no-dlq",
        "analytics",
        "the SNS-to-Firehose subscription loses its dead-letter queue",
        "aws:sns/topicSubscription:TopicSubscription",
        "lake-order-events",
        _drop("redrivePolicy"),
        "analytics-ingest-dlq",
    ),
    Mutant(
        "sagemaker-domain-public",
        "analytics",
        "the SageMaker domain opens direct internet access",
        "aws:sagemaker/domain:Domain",
        "lake-sagemaker",
        _set("appNetworkAccessType", value="PublicInternetOnly"),
        "sagemaker-isolation",
    ),
    Mutant(
        "lake-bucket-public-policy",
        "analytics",
        "the lake bucket's public access block lets a public policy in",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "lake-bucket",
        _set("blockPublicPolicy", value=False),
        "s3-public-access-block-flags",
    ),
    # --- disaster recovery ---------------------------------------------------------------------------------
    Mutant(
        "dr-table-replica-default-key",
        "dr",
        "a DynamoDB replica in the DR region falls back to an AWS-owned key",
        "aws:dynamodb/tableReplica:TableReplica",
        "products-replica",
        _drop("kmsKeyArn"),
        "dr-replica-encrypted-protected",
    ),
    Mutant(
        "dr-table-replica-no-pitr",
        "dr",
        "a DynamoDB replica without point-in-time recovery",
        "aws:dynamodb/tableReplica:TableReplica",
        "inventory-replica",
        _set("pointInTimeRecovery", value=False),
        "dr-replica-encrypted-protected",
    ),
    Mutant(
        "dr-lake-replication-disabled",
        "dr",
        "the lake's replication rule is disabled: the order events stay in one region",
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "lake-replication",
        _set("rules", value=[{"id": "to-us-east-1", "status": "Disabled", "filter": {"prefix": ""}}]),
        "dr-replication-covers-data-buckets",
    ),
    Mutant(
        "dr-backup-vault-default-key",
        "dr",
        "the DR vault the Aurora copies land in loses its customer key",
        "aws:backup/vault:Vault",
        "ecommerce-dr-backups",
        _drop("kmsKeyArn"),
        "dr-replica-encrypted-protected",
    ),
    Mutant(
        "dr-aurora-secondary-default-key",
        "dr",
        "the Aurora global database's secondary in the DR region loses its customer key",
        "aws:rds/cluster:Cluster",
        "ecommerce-dr-aurora",
        _drop("kmsKeyId"),
        "dr-replica-encrypted-protected",
    ),
    Mutant(
        "dr-aurora-secondary-detachable",
        "dr",
        "the Aurora secondary stops ignoring replicationSourceIdentifier: the next up detaches it",
        "aws:rds/cluster:Cluster",
        "ecommerce-dr-aurora",
        _forget_ignore_changes("replicationSourceIdentifier"),
        "dr-replica-encrypted-protected",
    ),
    Mutant(
        "dr-secret-replica-default-key",
        "dr",
        "the Stripe key's DR replica falls back to the region's aws/secretsmanager key",
        "aws:secretsmanager/secret:Secret",
        "ecommerce-data-stripe",
        _set("replicas", value=[{"region": "us-east-1"}]),
        "dr-replica-encrypted-protected",
    ),
    Mutant(
        "dr-provider-untagged",
        "dr",
        "the DR region's provider loses the stack's default tags",
        "pulumi:providers:aws",
        "ecommerce-dr-",
        _drop("defaultTags"),
        "dr-provider-stack-tags",
    ),
]


def _all_condition_keys(st: dict[str, Any]) -> list[str]:
    return [k for keys in (st.get("Condition") or {}).values() for k in keys]


# ----------------------------------------------------------------------------------------------------------------


def _candidates(plan: Plan, mutant: Mutant) -> list[Resource]:
    found = []
    for r in plan["resources"]:
        if r["type"] != mutant.target_type or mutant.name_has not in r["name"]:
            continue
        if mutant.id.startswith("iam-github") and "githubusercontent" not in json.dumps(
            r["inputs"].get("assumeRolePolicy", "")
        ):
            continue
        if mutant.id == "irsa-sub-wildcard" and "oidc.eks" not in json.dumps(
            r["inputs"].get("assumeRolePolicy", "")
        ):
            continue
        found.append(r)
    return found


def _meaningful(target: Resource, mutant: Mutant, baseline: Report, config: Mapping[str, Any]) -> bool:
    """A target already failing the expected rule, or exempted from it, cannot show whether the rule works."""
    name = f"'{target['name']}'"
    if any(d.policy == mutant.expect and name in d.message for d in baseline.diagnostics):
        return False
    exemptions = (config.get(mutant.expect) or {}).get("exemptions") or []
    return not any(str(e.get("urn", "")).endswith(f"::{target['name']}") for e in exemptions)


def _mandatory(report: Report) -> set[tuple[str, str, str]]:
    return {(d.policy, d.urn, d.message) for d in report.mandatory}


@dataclass
class _Applied:
    mutant: Mutant
    plan: Plan
    target_urn: str
    changed: set[str]
    near: set[str]
    """URNs a finding about this mutant may be filed under: what changed, the target and what it points at."""


def _apply(plan: Plan, mutant: Mutant, target: Resource) -> _Applied:
    """Apply one mutant to `plan` in place. Only the target is copied: every other resource stays the very same
    object, so what changed is exactly what is no longer identical (or new)."""
    before = {id(r) for r in plan["resources"]}
    index = next(i for i, r in enumerate(plan["resources"]) if r is target)
    copy_ = plan["resources"][index] = copy.deepcopy(target)
    mutant.change(plan, copy_)
    changed = {r["urn"] for r in plan["resources"] if id(r) not in before}
    near = {*changed, target["urn"], *target.get("dependencies", [])}
    for deps in (target.get("propertyDependencies") or {}).values():
        near.update(deps)
    return _Applied(mutant, plan, target["urn"], changed, near)


def run_mutants(
    session: PolicySession,
    plan: Plan,
    mutants: list[Mutant] = MUTANTS,
    user_config: Mapping[str, Any] | None = None,
    baseline_report: Report | None = None,
) -> list[Outcome]:
    """Every mutant alone through Analyze (its changed resources); those no resource rule catches go through
    AnalyzeStack in batches (distinct targets; mutants expecting the same rule only when the resources a finding
    could be filed under do not overlap), a finding credited only to the mutant expecting that rule on that target
    or its neighbours; a mutant a batch does not catch is re-run on its own, where any new mandatory finding
    counts."""
    if baseline_report is None:
        baseline_report = session.analyze(plan, user_config=user_config)
    baseline = _mandatory(baseline_report)
    config = session.configure(user_config)
    caught: dict[str, list[str]] = {}
    pending: list[tuple[Mutant, Resource]] = []
    applicable: set[str] = set()
    for mutant in mutants:
        targets = [t for t in _candidates(plan, mutant) if _meaningful(t, mutant, baseline_report, config)]
        if not targets:
            continue
        applicable.add(mutant.id)
        mutated = {**plan, "resources": list(plan["resources"])}
        applied = _apply(mutated, mutant, targets[0])
        report = session.analyze(mutated, only=applied.changed, stack=False, user_config=user_config)
        new = sorted({policy for policy, _, _ in _mandatory(report) - baseline})
        if new:
            caught[mutant.id] = new
        else:
            pending.append((mutant, targets[0]))

    def stack_round(batch: list[tuple[Mutant, Resource]]) -> None:
        mutated = {**plan, "resources": list(plan["resources"])}
        applied = [_apply(mutated, m, t) for m, t in batch]
        changed = set().union(*(a.changed for a in applied))
        findings = _mandatory(session.analyze(mutated, only=changed, user_config=user_config)) - baseline
        for a in applied:
            if len(applied) == 1:
                mine = sorted({policy for policy, _, _ in findings})
            else:
                # In a batch a finding counts for a mutant only if it is the rule that mutant expects, filed under
                # that mutant's target or its neighbours (which no other mutant expecting the rule shares).
                mine = sorted({p for p, urn, _ in findings if p == a.mutant.expect and urn in a.near})
            if mine:
                caught[a.mutant.id] = mine

    def near_of(target: Resource) -> set[str]:
        near = {target["urn"], *target.get("dependencies", [])}
        for deps in (target.get("propertyDependencies") or {}).values():
            near.update(deps)
        return near

    while pending:
        # Mutants expecting the same rule share a batch only if nothing a finding could be filed under overlaps.
        batch: list[tuple[Mutant, Resource]] = []
        claimed: dict[str, set[str]] = {}
        used_targets: set[str] = set()
        rest = []
        for mutant, target in pending:
            near = near_of(target)
            if target["urn"] in used_targets or near & claimed.get(mutant.expect, set()):
                rest.append((mutant, target))
                continue
            batch.append((mutant, target))
            claimed.setdefault(mutant.expect, set()).update(near)
            used_targets.add(target["urn"])
        stack_round(batch)
        if len(batch) > 1:
            for mutant, target in batch:
                if mutant.id not in caught:
                    stack_round([(mutant, target)])
        pending = rest
    return [Outcome(m, m.id in applicable, caught.get(m.id, [])) for m in mutants]


def summary(outcomes: list[Outcome]) -> str:
    applicable = [o for o in outcomes if o.applicable]
    caught = [o for o in applicable if o.caught]
    areas = sorted({o.mutant.area for o in applicable})
    rate = 100.0 * len(caught) / len(applicable) if applicable else 0.0
    return (
        f"Mutation suite: {len(caught)}/{len(applicable)} mutants caught by a mandatory rule ({rate:.0f}%) across "
        f"{len(areas)} areas {areas}; {len(outcomes) - len(applicable)} not applicable to this plan"
    )


def render(outcomes: list[Outcome]) -> str:
    lines = []
    for o in outcomes:
        status = "n/a   " if not o.applicable else ("caught" if o.caught else "MISSED")
        by = f" by {', '.join(o.caught_by)}" if o.caught else ""
        lines.append(f"  {status} {o.mutant.id:32} {o.mutant.what}{by}")
    lines.append(summary(outcomes))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from tools.offline.policy_run import load_plan

    parser = argparse.ArgumentParser(
        prog="python -m tests.policies.mutation", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--stack", default="prod")
    args = parser.parse_args(argv)
    plan = load_plan(args.stack)
    with PolicySession.for_plan(plan) as session:
        outcomes = run_mutants(session, plan)
    print(render(outcomes))
    return 0 if all(o.caught for o in outcomes if o.applicable) else 1


if __name__ == "__main__":
    raise SystemExit(main())
