"""ServiceMesh registry (components/mesh/registry.py): one immutable, scanned, KMS-encrypted ECR repository per
service.
"""

from __future__ import annotations

from typing import Any

from components.contracts import SERVICES
from tests.mesh_support import (
    MESH,
    one,
)


def test_ecr_repositories(resources: Any) -> None:
    res = resources("prod")
    repos = res.of_type("aws:ecr/repository:Repository")
    assert sorted(r["inputs"]["name"] for r in repos) == sorted(f"ecommerce-prod/{s}" for s in SERVICES)
    key = one(res, "aws:kms/key:Key", f"{MESH}-ecr-key")["outputs"]["arn"]
    for r in repos:
        i = r["inputs"]
        assert i["imageTagMutability"] == "IMMUTABLE", r["urn"]
        assert i["imageScanningConfiguration"]["scanOnPush"] is True, r["urn"]
        assert i["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": key}], r["urn"]
        assert i["forceDelete"] is False, f"{r['urn']}: prod repositories must not be force-deleted"
    assert len(res.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")) == len(SERVICES)
