"""Identities: one IRSA role per microservice (least privilege, built only from that service's `ServiceStores`),
the IRSA trust every role of the mesh uses, and the OpenSearch domain's resource policy.

What it must not do: give a service's role any store that is not in that service's `ServiceStores`, or trust a
role to more than one service account.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import iam
from components.contracts import DataContract, ServiceStores
from components.mesh.cluster import Cluster
from components.mesh.scope import COMPONENT, Scope
from components.naming import tags
from k8s.catalogue import CATALOGUE, NAMESPACE

_WRITE_TABLE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
_READ_TABLE = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
#: The OpenSearch HTTP verbs the search service uses (index, query, delete documents); no domain administration.
_SEARCH_HTTP = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"]
_COGNITO_ADMIN = (
    "cognito-idp:AdminCreateUser",
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminInitiateAuth",
    "cognito-idp:AdminRespondToAuthChallenge",
    "cognito-idp:AdminUpdateUserAttributes",
    "cognito-idp:AdminSetUserPassword",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminUserGlobalSignOut",
    "cognito-idp:ListUsers",
)


@dataclass(frozen=True)
class Identity:
    """An IRSA role: its id (for inline policies) and ARN (for the service account's annotation)."""

    id: pulumi.Output[str]
    arn: pulumi.Output[str]


def service_statements(
    stores: ServiceStores,
    *,
    partition: pulumi.Input[str],
    region: pulumi.Input[str],
    account_id: pulumi.Input[str],
) -> list[iam.Statement]:
    """The IAM statements of one service's role, built only from that service's stores."""
    st: list[iam.Statement] = []
    for i, t in enumerate(stores.tables):
        actions = _READ_TABLE + (_WRITE_TABLE if t.write else ())
        st.append(iam.allow(actions, [t.arn, pulumi.Output.concat(t.arn, "/index/*")], sid=f"Table{i}"))
    if stores.secrets:
        st.append(
            iam.allow(
                ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                [s.arn for s in stores.secrets],
                sid="ReadOwnSecrets",
            )
        )
    if stores.database is not None:
        db = stores.database
        user = pulumi.Output.format(
            "arn:{0}:rds-db:{1}:{2}:dbuser:{3}/{4}",
            partition,
            region,
            account_id,
            db.cluster_resource_id,
            db.db_user,
        )
        st.append(iam.allow(["rds-db:connect"], [user], sid="ConnectAsOwnDatabaseUser"))
    if stores.publishes:
        st.append(iam.allow(["sns:Publish"], [t.arn for t in stores.publishes], sid="PublishOwnTopics"))
    if stores.consumes:
        st.append(
            iam.allow(
                [
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                ],
                [q.arn for q in stores.consumes],
                sid="ConsumeOwnQueues",
            )
        )
    if stores.search is not None:
        arn = stores.search.domain_arn
        st.append(
            iam.allow(
                _SEARCH_HTTP,
                [arn, pulumi.Output.concat(arn, "/*")],
                sid="SearchOwnDomain",
            )
        )
    if stores.user_pool is not None:
        st.append(iam.allow(_COGNITO_ADMIN, [stores.user_pool.arn], sid="AdministerOwnUserPool"))
    if stores.kms_key_arns:
        st.append(
            iam.allow(["kms:Decrypt", "kms:GenerateDataKey"], list(stores.kms_key_arns), sid="UseStoreKeys")
        )
    return st


def irsa_role(
    scope: Scope, cluster: Cluster, role: str, namespace: str, service_account: str, description: str
) -> Identity:
    """A role only `namespace/service_account` of this cluster can assume, for the regional STS audience."""
    issuer = cluster.oidc_issuer
    trust = iam.policy_json(
        scope.owner,
        [
            {
                "effect": "Allow",
                "actions": ["sts:AssumeRoleWithWebIdentity"],
                "principals": [{"type": "Federated", "identifiers": [cluster.oidc_provider_arn]}],
                "conditions": [
                    iam.condition(
                        "StringEquals",
                        pulumi.Output.concat(issuer, ":sub"),
                        f"system:serviceaccount:{namespace}:{service_account}",
                    ),
                    iam.condition("StringEquals", pulumi.Output.concat(issuer, ":aud"), "sts.amazonaws.com"),
                ],
            }
        ],
    )
    resource = aws.iam.Role(
        f"{scope.name}-{role}",
        name=f"{scope.prefix}-{role}",
        description=description,
        assume_role_policy=trust,
        tags=tags(COMPONENT, f"{scope.prefix}-{role}"),
        opts=scope.child,
    )
    return Identity(resource.id, resource.arn)


def service_identities(scope: Scope, cluster: Cluster, stores: DataContract) -> dict[str, pulumi.Output[str]]:
    """One IRSA role per catalogue service with exactly its stores; the role ARNs by service."""
    arns: dict[str, pulumi.Output[str]] = {}
    for svc in CATALOGUE:
        role = irsa_role(
            scope, cluster, f"svc-{svc.name}", NAMESPACE, svc.name, f"IRSA role of the {svc.name} service"
        )
        statements = service_statements(
            stores[svc.name], partition=scope.partition, region=scope.region, account_id=scope.account_id
        )
        if statements:
            aws.iam.RolePolicy(
                f"{scope.name}-svc-{svc.name}",
                role=role.id,
                policy=iam.policy_json(scope.owner, statements),
                opts=scope.child,
            )
        arns[svc.name] = role.arn
        search = stores[svc.name].search
        if search is not None:
            search_domain_policy(scope, search.domain_arn, role.arn)
    return arns


def search_domain_policy(scope: Scope, domain_arn: pulumi.Output[str], role_arn: pulumi.Output[str]) -> None:
    """The OpenSearch domain's resource policy: HTTP verbs for the search service's role and no one else.

    It lives here, not in the DataTier, because the role is created here from the DataTier's contract; setting
    it on the domain itself would need the role before the domain, and the role needs the domain's ARN.
    """
    aws.opensearch.DomainPolicy(
        f"{scope.name}-search-access",
        domain_name=domain_arn.apply(lambda arn: arn.rsplit("/", 1)[-1]),
        access_policies=iam.policy_json(
            scope.owner,
            [
                {
                    "sid": "SearchServiceOnly",
                    "effect": "Allow",
                    "principals": [{"type": "AWS", "identifiers": [role_arn]}],
                    "actions": _SEARCH_HTTP,
                    "resources": [pulumi.Output.concat(domain_arn, "/*")],
                }
            ],
        ),
        opts=scope.child,
    )
