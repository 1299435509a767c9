"""Account settings (`account.*`, `ServiceLinkedRoles`): what exists once per AWS account. No cross-field rules."""

from __future__ import annotations

from dataclasses import dataclass

from components.config.machinery import setting


@dataclass(frozen=True)
class AccountSettings:
    """Account-wide resources that exist once per AWS account, whichever stacks deploy into it (`ServiceLinkedRoles`)."""

    create_service_linked_roles: bool = setting(
        "createServiceLinkedRoles", "Create the service-linked roles AWS does not create by itself (OpenSearch in a "
        "VPC); one stack per account owns them, the others look them up and stop at preview if they are missing.",
        True,
    )  # fmt: skip
