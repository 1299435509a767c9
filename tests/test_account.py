"""ServiceLinkedRoles: one stack per account creates the service-linked roles AWS does not create by itself; the
others look them up, and a missing one stops the program with what to do (AWS facts mocks cannot catch)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import pulumi
import pulumi_aws as aws
import pytest

from components.account import OWNER_KEY, ServiceLinkedRoles
from components.config import AccountSettings
from tests.conftest import Resources
from tools.offline.engine import ROOT, run_in_mocks

SLR = "aws:iam/serviceLinkedRole:ServiceLinkedRole"
DOMAIN = "aws:opensearch/domain:Domain"


def _program(create: bool) -> Callable[[], None]:
    def program() -> None:
        provider = aws.Provider("aws", region="us-east-2")
        roles = ServiceLinkedRoles("ecommerce-account", AccountSettings(create_service_linked_roles=create),
                                   opts=pulumi.ResourceOptions(provider=provider))  # fmt: skip
        pulumi.export("opensearchRoleArn", roles.opensearch_role_arn)

    return program


def test_owner_creates_the_opensearch_service_linked_role_and_keeps_it(
    build: Callable[..., Resources],
) -> None:
    """OpenSearch needs AWSServiceRoleForAmazonOpenSearchService before a VPC domain, and its API does not make it."""
    res = build(_program(create=True))
    (role,) = res.of_type(SLR)
    assert role["inputs"]["awsServiceName"] == "opensearchservice.amazonaws.com", role["urn"]
    assert role["retainOnDelete"] is True, (
        f"{role['urn']}: shared by every stack of the account, never deleted"
    )


def test_non_owner_creates_nothing_and_looks_the_role_up() -> None:
    monitor, outputs, _ = run_in_mocks(_program(create=False))
    assert [r["urn"] for r in monitor.records if r["type"] == SLR] == []
    assert outputs["opensearchRoleArn"] == (
        "arn:aws:iam::123456789012:role/aws-service-role/opensearchservice.amazonaws.com/"
        "AWSServiceRoleForAmazonOpenSearchService"
    )


def test_missing_service_linked_role_fails_the_preview_saying_what_to_do() -> None:
    """A non-owner stack in an account without the role stops at preview (not 20 minutes into a domain create).

    Run in a child process: the failure surfaces from an output, and the mock runtime of this process is shared.
    """
    script = (
        "from tools.offline import mocks\n"
        "mocks.EXISTING_SERVICE_LINKED_ROLES.discard('opensearchservice.amazonaws.com')\n"
        "from tests.test_account import _program\n"
        "from tools.offline.engine import run_in_mocks\n"
        "run_in_mocks(_program(create=False))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    message = done.stdout + done.stderr
    assert done.returncode != 0, f"a missing service-linked role must stop the program:\n{message}"
    assert "AWSServiceRoleForAmazonOpenSearchService" in message and OWNER_KEY in message, message
    assert "deploy the stack that owns account resources" in message, message


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_vpc_opensearch_domain_depends_on_its_service_linked_role_where_the_stack_owns_it(
    resources: Callable[[str], Resources], stack: str
) -> None:
    """The contract the deployability rule checks: in the owning stack (prod) the VPC domain's `depends_on` names
    the `ServiceLinkedRole` for opensearchservice.amazonaws.com; dev owns none and creates none."""
    res = resources(stack)
    (domain,) = res.of_type(DOMAIN)
    assert domain["inputs"].get("vpcOptions"), f"{domain['urn']} is a VPC domain"
    roles = [
        r for r in res.of_type(SLR) if r["inputs"]["awsServiceName"] == "opensearchservice.amazonaws.com"
    ]
    if stack == "prod":
        assert len(roles) == 1 and roles[0]["urn"] in domain["dependencies"], (
            f"{domain['urn']} must depend on the OpenSearch service-linked role"
        )
    else:
        assert roles == [], [r["urn"] for r in roles]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_key_policies_name_only_principals_that_exist_before_the_key(
    resources: Callable[[str], Resources], stack: str
) -> None:
    """KMS rejects a key policy that names a principal which does not exist yet (MalformedPolicyDocumentException).
    Every key policy here names only the account root and AWS service principals; roles (service-linked or ours)
    are matched by conditions, never named."""
    res = resources(stack)
    keys = [*res.of_type("aws:kms/key:Key"), *res.of_type("aws:kms/keyPolicy:KeyPolicy")]
    assert keys, "no KMS key in the plan"
    root = "arn:aws:iam::123456789012:root"
    for key in keys:
        if not key["inputs"].get("policy"):
            continue
        for st in json.loads(key["inputs"]["policy"])["Statement"]:
            principal = st.get("Principal", {})
            if principal == "*":
                continue
            aws_principals = principal.get("AWS", [])
            for p in [aws_principals] if isinstance(aws_principals, str) else aws_principals:
                assert p in (root, "*"), f"{key['urn']}: statement {st.get('Sid')} names {p}"
                if p == "*":
                    assert st.get("Condition"), (
                        f"{key['urn']}: statement {st.get('Sid')} opens the key to '*'"
                    )
