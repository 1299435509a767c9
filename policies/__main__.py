"""The ecommerce-platform CrossGuard pack: builds the `PolicyPack`, which starts the Analyzer gRPC server, prints
its port and blocks. The Pulumi CLI runs this file from inside `policies/` (`python -m pulumi.policy <engine> .`);
the rules live in the `ecommerce_guard` package next to it, imported the same way whatever the folder is called
(a published pack is unpacked under a different name)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ecommerce_guard.pack import PACK_DESCRIPTION, PACK_LEVEL, PACK_NAME, all_policies, initial_config
from pulumi_policy import PolicyPack

PolicyPack(
    name=PACK_NAME,
    description=PACK_DESCRIPTION,
    enforcement_level=PACK_LEVEL,
    policies=all_policies(),
    initial_config=initial_config(),
    provider="aws",
    tags=["aws", "eks", "kubernetes", "fsbp", "pss"],
)
