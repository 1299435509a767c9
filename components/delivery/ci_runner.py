"""The `CiRunner` component: AWS CodeBuild-hosted GitHub Actions runners inside the VPC, so preview and deploy reach
a private-only cluster endpoint. The constructor lists what it builds: the runner's security group and the rules
that admit it, the project's role, the CodeBuild project and its webhook.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from components import iam
from components.config import DeliverySettings
from components.delivery.names import COMPONENT, runner_project_name
from components.naming import tags

#: CodeBuild's Ubuntu standard image: AWS CLI v2 (for `aws eks get-token`), Python and git; actions/setup-python
#: ships builds for Ubuntu only, so the Amazon Linux images would not do.
RUNNER_IMAGE = "aws/codebuild/standard:7.0"
#: A first prod `up` takes ~45 minutes; CodeBuild stops a build at its timeout (minutes).
RUNNER_TIMEOUT_MINUTES = 120


class CiRunner(pulumi.ComponentResource):
    """AWS CodeBuild-hosted GitHub Actions runners inside the VPC, so preview and deploy reach a private cluster.

    A CodeBuild project whose webhook takes `WORKFLOW_JOB_QUEUED` events starts a build for each queued job that
    asks for `runs-on: codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}`; the build registers as
    an ephemeral self-hosted runner in the private subnets (CodeBuild user guide, "Self-hosted GitHub Actions
    runners in AWS CodeBuild"). The job still assumes the pipeline roles through GitHub OIDC; the project's own
    role can only run the build (network interfaces, its GitHub connection), so a job choosing this runner gains a
    network position, never permissions. What it must not do: hold any permission on the platform's resources.
    """

    project_name: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        delivery: DeliverySettings,
        *,
        environment: str,
        vpc_id: pulumi.Input[str],
        private_subnet_ids: Sequence[pulumi.Input[str]],
        cluster_security_group_id: pulumi.Input[str],
        endpoints_security_group_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(f"ecommerce:{COMPONENT}:CiRunner", name, None, opts)
        self._name, self._delivery, self._environment = name, delivery, environment
        self._project = runner_project_name(environment)
        self._vpc_id, self._subnets = vpc_id, list(private_subnet_ids)
        self._account_id, self._partition, self._region = iam.caller(self)

        sg = self._security_group(cluster_security_group_id, endpoints_security_group_id)
        role, role_policy = self._role(sg)
        project = self._codebuild_project(sg, role, role_policy)
        self._webhook(project)

        self.project_name = project.name
        self.security_group_id = sg.id
        self.role_arn = role.arn
        self.register_outputs(
            {
                "project_name": self.project_name,
                "security_group_id": self.security_group_id,
                "role_arn": self.role_arn,
            }
        )

    # -- the network position ------------------------------------------------------------------------------------
    def _security_group(
        self, cluster_security_group_id: pulumi.Input[str], endpoints_security_group_id: pulumi.Input[str]
    ) -> aws.ec2.SecurityGroup:
        """The runner's security group (HTTPS out), admitted by the cluster's and the interface endpoints' groups."""
        name, child = self._name, pulumi.ResourceOptions(parent=self)
        sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=self._vpc_id,
            description=f"CodeBuild GitHub Actions runners of {self._environment}: HTTPS out only",
            tags=tags(COMPONENT, f"{name}-sg"),
            opts=child,
        )
        # GitHub (jobs, actions, OIDC tokens) and Pulumi's plugin downloads through NAT; AWS APIs through the
        # interface endpoints; the cluster's private endpoint. DNS to the VPC resolver is not filtered by SGs.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-out-443", security_group_id=sg.id, description="HTTPS: GitHub, AWS APIs, the cluster API",
            ip_protocol="tcp", from_port=443, to_port=443, cidr_ipv4="0.0.0.0/0", opts=child,
        )  # fmt: skip
        # pulumi-eks's cluster_security_group_id is the EKS-created cluster security group when
        # skip_default_security_groups is set (its docstring): the one on the control plane's private ENIs.
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-to-cluster", security_group_id=cluster_security_group_id,
            description="Kubernetes API (private endpoint) from the CI runners", ip_protocol="tcp", from_port=443,
            to_port=443, referenced_security_group_id=sg.id, opts=child,
        )  # fmt: skip
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-to-endpoints", security_group_id=endpoints_security_group_id,
            description="AWS APIs (STS, EKS, KMS...) through the interface endpoints from the CI runners",
            ip_protocol="tcp", from_port=443, to_port=443, referenced_security_group_id=sg.id, opts=child,
        )  # fmt: skip
        return sg

    # -- the project's role ------------------------------------------------------------------------------------------
    def _role(self, sg: aws.ec2.SecurityGroup) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        """The CodeBuild service role: runs builds in the private subnets and uses the GitHub connection, nothing else."""
        name, env, child = self._name, self._environment, pulumi.ResourceOptions(parent=self)
        partition, region, account_id = self._partition, self._region, self._account_id
        project_arn = pulumi.Output.format(
            "arn:{0}:codebuild:{1}:{2}:project/{3}", partition, region, account_id, self._project
        )
        role = aws.iam.Role(
            f"{name}-role",
            name=f"ecommerce-{env}-ci-runner",
            description=f"CodeBuild runner project {self._project}: runs builds, nothing else",
            assume_role_policy=iam.service_trust(
                self, "codebuild.amazonaws.com", account_id=account_id, source_arn=project_arn
            ),
            tags=tags(COMPONENT, f"ecommerce-{env}-ci-runner"),
            opts=child,
        )
        subnet_arns = [
            pulumi.Output.format("arn:{0}:ec2:{1}:{2}:subnet/{3}", partition, region, account_id, subnet)
            for subnet in self._subnets
        ]
        eni_arns = pulumi.Output.format(
            "arn:{0}:ec2:{1}:{2}:network-interface/*", partition, region, account_id
        )
        statements: list[iam.Statement] = [
            # "*": EC2 Describe* actions have no resource-level permissions.
            iam.allow(
                ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
                 "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"],
                ["*"],
                sid="SeeTheVpc",
            ),
            # A build's network interface: in the private subnets, with the runner's security group only.
            iam.allow(["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"], [eni_arns, *subnet_arns, sg.arn],
                      sid="RunInThePrivateSubnets"),
            iam.allow(
                ["ec2:CreateNetworkInterfacePermission"],
                [eni_arns],
                sid="AttachToThePrivateSubnets",
                conditions=[
                    iam.condition("StringEquals", "ec2:AuthorizedService", "codebuild.amazonaws.com"),
                    iam.condition("ArnEquals", "ec2:Subnet", *subnet_arns),
                ],
            ),
            *self._connection_use(),
        ]  # fmt: skip
        role_policy = aws.iam.RolePolicy(
            f"{name}-role", role=role.id, policy=iam.policy_json(self, statements), opts=child
        )
        return role, role_policy

    def _connection_use(self) -> list[iam.Statement]:
        connection = self._delivery.github_connection_arn
        if not connection:
            return []
        return [
            iam.allow(
                [
                    "codeconnections:GetConnectionToken",
                    "codeconnections:GetConnection",
                    "codeconnections:UseConnection",
                    "codestar-connections:GetConnectionToken",
                    "codestar-connections:GetConnection",
                    "codestar-connections:UseConnection",
                ],
                [connection],
                sid="UseTheGitHubConnection",
            )
        ]

    # -- the CodeBuild project and its webhook ---------------------------------------------------------------------
    def _codebuild_project(
        self, sg: aws.ec2.SecurityGroup, role: aws.iam.Role, role_policy: aws.iam.RolePolicy
    ) -> aws.codebuild.Project:
        delivery = self._delivery
        source = aws.codebuild.ProjectSourceArgs(
            type="GITHUB",
            location=f"https://github.com/{delivery.github_repository}.git",
            auth=aws.codebuild.ProjectSourceAuthArgs(
                type="CODECONNECTIONS", resource=delivery.github_connection_arn
            )
            if delivery.github_connection_arn
            else None,
        )
        return aws.codebuild.Project(
            f"{self._name}-project",
            name=self._project,
            description=f"Ephemeral GitHub Actions runners for the {self._environment} preview and deploy jobs",
            service_role=role.arn,
            source=source,
            artifacts={"type": "NO_ARTIFACTS"},
            environment={
                "type": "LINUX_CONTAINER",
                "compute_type": delivery.runner_compute_type,
                "image": RUNNER_IMAGE,
                "image_pull_credentials_type": "CODEBUILD",
            },
            vpc_config=aws.codebuild.ProjectVpcConfigArgs(
                vpc_id=self._vpc_id, subnets=self._subnets, security_group_ids=[sg.id]
            ),
            build_timeout=RUNNER_TIMEOUT_MINUTES,
            # The job's log lives in the GitHub run; CodeBuild's own copy would be a second, unencrypted one.
            logs_config={"cloudwatch_logs": {"status": "DISABLED"}},
            tags=tags(COMPONENT, self._project),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy]),
        )

    def _webhook(self, project: aws.codebuild.Project) -> aws.codebuild.Webhook:
        """One build per queued workflow job (`WORKFLOW_JOB_QUEUED`): each becomes an ephemeral runner."""
        return aws.codebuild.Webhook(
            f"{self._name}-webhook",
            project_name=project.name,
            build_type="BUILD",
            filter_groups=[{"filters": [{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"}]}],
            opts=pulumi.ResourceOptions(parent=self),
        )
