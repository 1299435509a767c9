"""ServiceMesh in the standby role (`StandbyRole`), built alone: `-dr` names, no repositories of its own, no bootstrap
Job, the replicated repositories in the Deployments, the primary's origin header and validation record."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.contracts import DatabaseAdminAccess
from components.mesh import MeshNetwork, ServiceMesh, StandbyRole
from tests.conftest import Resources, settings_for
from tests.mesh_support import fabricated_contract
from tools.offline.engine import run_in_mocks

DOMAIN = {"ecommerce-platform:edge": {"domainName": "shop.example.com"}}
REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ecommerce-prod/{}"
NETWORK = MeshNetwork(
    vpc_id="vpc-0dr",
    public_subnet_ids=["subnet-pub-a", "subnet-pub-b"],
    private_subnet_ids=["subnet-priv-a", "subnet-priv-b"],
    alb_security_group_id="sg-alb",
    nodes_security_group_id="sg-nodes",
)


def role() -> StandbyRole:
    from k8s.catalogue import CATALOGUE

    return StandbyRole(
        repository_urls={s.name: pulumi.Output.from_input(REPO.format(s.name)) for s in CATALOGUE},
        certificate_validation_fqdn="_abc.origin.shop.example.com",
        api_access_cidrs=["18.1.2.3/32"],
        origin_verify_value="the-primary-header-value",
    )


def build(**extra: Any) -> Resources:
    settings = settings_for("prod", {**DOMAIN, "ecommerce-platform:cluster": {
        "nodeInstanceType": "t3.medium", "nodeMinSize": 2, "nodeDesiredSize": 2, "nodeMaxSize": 6,
        "imageTags": {"product": "abc1234"}}})  # fmt: skip

    def program() -> None:
        ServiceMesh("ecommerce-dr-mesh", settings, network=NETWORK, stores=fabricated_contract(), standby=role(),
                    route_origin=False, **extra)  # fmt: skip

    monitor, _, _ = run_in_mocks(program, stack="prod")
    return Resources(monitor.records)


@pytest.fixture(scope="module")
def standby() -> Resources:
    return build()


def test_standby_names_carry_dr_and_it_creates_no_repository_or_origin_record(standby: Resources) -> None:
    cluster = standby.named("ecommerce-dr-mesh-cluster", "eks:index:Cluster")
    assert cluster["inputs"]["name"] == "ecommerce-prod-dr", cluster["urn"]
    roles = sorted(r["inputs"]["name"] for r in standby.of_type("aws:iam/role:Role"))
    assert roles and all(n.startswith("ecommerce-prod-dr-") for n in roles), roles
    assert not [r["urn"] for r in standby.of_type("aws:ecr/repository:Repository")]
    records = [r["name"] for r in standby.of_type("aws:route53/record:Record")]
    assert records == [], (
        f"the standby writes no record (validation: the primary's; origin: the pair): {records}"
    )


def test_standby_pulls_the_replicated_image_and_validates_with_the_primary_record(standby: Resources) -> None:
    deployment = standby.named("ecommerce-dr-mesh-product-deployment", "kubernetes:apps/v1:Deployment")
    image = deployment["inputs"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == REPO.format("product") + ":abc1234", deployment["urn"]
    validation = standby.named(
        "ecommerce-dr-mesh-origin-cert", "aws:acm/certificateValidation:CertificateValidation"
    )
    assert validation["inputs"]["validationRecordFqdns"] == ["_abc.origin.shop.example.com"], validation[
        "urn"
    ]
    cluster = standby.named("ecommerce-dr-mesh-cluster", "eks:index:Cluster")
    assert cluster["inputs"]["publicAccessCidrs"] == ["18.1.2.3/32"], cluster["urn"]
    assert not standby.of_type("random:index/randomPassword:RandomPassword"), (
        "the standby reuses the header value"
    )


def test_a_standby_mesh_refuses_a_database_bootstrap() -> None:
    admin = DatabaseAdminAccess(
        endpoint=pulumi.Output.from_input("aurora.example"), port=5432, master_username="postgres",
        master_secret_arn=pulumi.Output.from_input("arn:aws:secretsmanager:us-east-1:1:secret:x"),
        master_secret_key_arn=pulumi.Output.from_input("arn:aws:kms:us-east-1:1:key/x"),
        writer_instance_arn=pulumi.Output.from_input("arn:aws:rds:us-east-1:1:db:x"),
    )  # fmt: skip
    with pytest.raises(Exception, match="read-only"):
        build(database_admin=admin)
