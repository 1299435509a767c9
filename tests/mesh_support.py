"""What the ServiceMesh's test modules share: a fabricated DataTier contract (distinct ARNs per service, so a policy
that leaks another service's store is caught), the component built on the mock runtime (cached per stack), and small
readers of the records it registered. The test modules mirror `components/mesh/`: `test_mesh_<seam>.py`.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pulumi.runtime.sync_await import _sync_await

from components.contracts import (
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
from components.mesh import MeshNetwork, ServiceMesh
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


def build(stack: str, overrides: dict[str, Any] | None = None) -> tuple[Resources, ServiceMesh]:
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


def built(key: str) -> tuple[Resources, ServiceMesh]:
    """The mesh built alone for `dev`, `prod` or `domain` (prod with `edge.domainName`), once per test process."""
    if key not in _BUILDS:
        if key == "domain":
            _BUILDS[key] = build("prod", {"ecommerce-platform:edge": {"domainName": "shop.example.com"}})
        else:
            _BUILDS[key] = build(key)
    return _BUILDS[key]


def one(res: Resources, typ: str, name: str) -> dict[str, Any]:
    found = [r for r in res.of_type(typ) if r["name"] == name]
    assert len(found) == 1, f"expected one {typ} named {name!r}, found {[r['urn'] for r in found]}"
    return found[0]


ROLE, ROLE_POLICY = "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"
SUBNET = "aws:ec2/subnet:Subnet"


def resolved(out: pulumi.Output[Any]) -> Any:
    return _sync_await(out.future())


def policy_doc(record: dict[str, Any], key: str) -> dict[str, Any]:
    raw = record["inputs"][key]
    assert isinstance(raw, str), f"{record['urn']}: {key} is not a rendered policy: {raw!r}"
    return dict(json.loads(raw))


def listify(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def settings_for_raw(stack: str) -> dict[str, Any]:
    import yaml

    from tools.offline.engine import ROOT

    return dict(
        yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]["ecommerce-platform:cluster"]
    )


def published(stack: str, sha: str, services: list[str]) -> Resources:
    from tools.ci.__main__ import set_image_tags
    from tools.offline.engine import ROOT

    text = set_image_tags((ROOT / f"Pulumi.{stack}.yaml").read_text(), sha, services)
    import yaml

    cluster = yaml.safe_load(text)["config"]["ecommerce-platform:cluster"]
    return build(stack, {"ecommerce-platform:cluster": cluster})[0]
