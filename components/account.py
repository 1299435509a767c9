"""ServiceLinkedRoles: the service-linked roles this platform needs before AWS would create them itself.

A service-linked role exists once per account, whichever stacks deploy into it, so exactly one stack owns it
(`account.createServiceLinkedRoles`, the same owner pattern as the GitHub OIDC provider) and every other stack looks
it up: a missing role then stops the preview with a message saying what to do, instead of a domain create that
fails twenty minutes in.

Which roles, and why only these (checked per service in AWS's documentation):
- OpenSearch (`opensearchservice.amazonaws.com`): a domain in a VPC needs `AWSServiceRoleForAmazonOpenSearchService`
  to place its ENIs, and a CreateDomain through the API does not create it (the console does; aws/copilot-cli
  #3006, terraform-aws-modules/terraform-aws-opensearch #27): created here, and the domain depends on it.
- EC2 Auto Scaling, EKS (cluster and node groups), ElastiCache, RDS, Elastic Load Balancing: each creates its own
  role on the first create call that needs it (CreateAutoScalingGroup "creates it if it does not exist"), and no
  resource of this program has to name one before that call — the node-volume key grants Auto Scaling's role by a
  condition rather than by naming it (components/mesh/cluster.py). Creating them here would race the services that make them.

What it must not do: delete a role on `destroy` (other stacks' resources use it; AWS refuses while they exist).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.config import AccountSettings

COMPONENT = "account"
#: The service-linked roles this program creates or looks up: AWS service name -> the role's fixed name.
SERVICE_LINKED_ROLES = {"opensearchservice.amazonaws.com": "AWSServiceRoleForAmazonOpenSearchService"}
#: The setting that decides which stack owns the account's service-linked roles.
OWNER_KEY = "account.createServiceLinkedRoles"


class ServiceLinkedRoles(pulumi.ComponentResource):
    """Service-linked roles: created here (the owning stack) or looked up (every other stack)."""

    opensearch_role_arn: pulumi.Output[str]
    #: What a VPC OpenSearch domain must depend on: the role resource in the owning stack, nothing elsewhere (the
    #: lookup already stopped the program if the role is missing).
    opensearch_dependencies: list[pulumi.Resource]

    def __init__(
        self, name: str, account: AccountSettings, *, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """
        :param account: `account.*` settings; `createServiceLinkedRoles` decides create vs look up.
        """
        super().__init__(f"ecommerce:{COMPONENT}:ServiceLinkedRoles", name, None, opts)
        service = "opensearchservice.amazonaws.com"
        if account.create_service_linked_roles:
            role = aws.iam.ServiceLinkedRole(
                f"{name}-opensearch",
                aws_service_name=service,
                description="Lets OpenSearch Service place VPC domains' network interfaces (ecommerce-platform)",
                # Account-wide and shared by every stack's domains; AWS refuses the delete while a domain uses it.
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            )
            self.opensearch_role_arn = role.arn
            self.opensearch_dependencies = [role]
        else:
            self.opensearch_role_arn = existing_role_arn(self, service)
            self.opensearch_dependencies = []
        self.register_outputs({"opensearch_role_arn": self.opensearch_role_arn})


def existing_role_arn(parent: pulumi.Resource, service: str) -> pulumi.Output[str]:
    """The ARN of the account's service-linked role for `service`; a missing role fails with what to do about it."""
    role_name = SERVICE_LINKED_ROLES[service]

    async def lookup() -> str:
        try:
            result: Any = await pulumi.runtime.invoke_async(
                "aws:iam/getRole:getRole", {"name": role_name}, opts=pulumi.InvokeOptions(parent=parent)
            )
        except Exception as e:  # the provider's not-found error, or no permission to read it
            raise pulumi.RunError(
                f"The service-linked role {role_name} ({service}) could not be read: {e}. This stack has "
                f"{OWNER_KEY}: false, so another stack of this account must create it first — deploy the stack "
                f"that owns account resources (prod in the stack files), or set {OWNER_KEY}: true in this stack "
                f"(exactly one stack per account). If the error is an access denial, the identity running "
                f"Pulumi needs iam:GetRole on arn:aws:iam::<account>:role/aws-service-role/{service}/{role_name}."
            ) from e
        return str(result["arn"])

    return pulumi.Output.from_input(lookup())
