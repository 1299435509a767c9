"""The IAM vocabulary of the pipeline roles and their boundary: which services the platform uses, which actions each
role needs, and which reads or writes no pipeline role may make. Data only; the policies are assembled in
`boundary.py` and `roles.py`.
"""

from __future__ import annotations

#: Services the program manages; the deploy role gets each one's actions, only in the platform's regions.
PLATFORM_SERVICES = (
    "acm", "athena", "autoscaling", "cloudfront", "cloudwatch", "cognito-idp", "dynamodb", "ec2", "ecr", "eks",
    "elasticache", "elasticloadbalancing", "es", "events", "glue", "kms", "logs", "rds", "route53", "s3",
    "secretsmanager", "sns", "sqs", "ssm", "wafv2", "codebuild",
    # The observability canary: Synthetics creates its Lambda function and layer as the caller.
    "synthetics", "lambda",
    # the analytics lake (its flags included)
    "firehose", "lakeformation", "quicksight", "sagemaker",
    # DR: AWS Backup's plan, selection and vaults (a vault is created through backup-storage, AWS Backup docs)
    "backup", "backup-storage",
)  # fmt: skip
#: Further services the boundary leaves open: provisioned-table auto scaling (the deploy role gets named actions of
#: it), and what only the platform's own roles call (IRSA database auth, Pod Identity, the runner's GitHub
#: connection, Session Manager on the nodes) — every role the pipeline creates carries the boundary.
BOUNDED_EXTRA_SERVICES = (
    "application-autoscaling", "rds-db", "eks-auth", "codeconnections", "codestar-connections", "ssmmessages",
    "ec2messages",
)  # fmt: skip
#: What a key is used for (not administered with): the state and secrets keys are shared, their use is per stack.
KMS_DATA_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")
#: Route 53 writes; a stack may change records only under its own domain (Route 53 has no resource tags to scope by).
ROUTE53_WRITES = (
    "route53:ChangeResourceRecordSets", "route53:CreateHostedZone", "route53:DeleteHostedZone",
    "route53:UpdateHostedZoneComment", "route53:AssociateVPCWithHostedZone", "route53:ChangeTagsForResource",
)  # fmt: skip
#: Services whose resources hold the data or run the platform: another environment's may not be changed.
GUARDED_SERVICES = (
    "dynamodb", "ec2", "ecr", "eks", "elasticache", "elasticloadbalancing", "es", "kms", "logs", "rds",
    "secretsmanager", "sns", "sqs", "cloudfront", "cognito-idp", "iam",
)  # fmt: skip
#: AWS managed policies that would make any role the deploy role creates an administrator.
ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
#: Services the deploy role may hand the platform's roles to (EKS cluster/nodes, flow logs, Glue, RDS monitoring).
PASS_ROLE_SERVICES = (
    "eks.amazonaws.com", "ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com", "glue.amazonaws.com",
    "monitoring.rds.amazonaws.com", "pods.eks.amazonaws.com", "sagemaker.amazonaws.com", "codebuild.amazonaws.com",
    # The canary's execution role, passed by Synthetics to its Lambda function (CloudWatchSyntheticsFullAccess).
    "lambda.amazonaws.com", "synthetics.amazonaws.com",
    # the lake: Firehose's delivery role, SNS's subscription role, Lake Formation's and QuickSight's data roles
    "firehose.amazonaws.com", "sns.amazonaws.com", "lakeformation.amazonaws.com", "quicksight.amazonaws.com",
    # DR: S3's replication role (PutBucketReplication passes it) and ECR's repository-creation-template role
    "s3.amazonaws.com", "ecr.amazonaws.com", "backup.amazonaws.com",
)  # fmt: skip
#: Service-linked roles `pulumi up` may cause AWS to create (first Auto Scaling group, OpenSearch VPC domain,
#: DynamoDB auto scaling, ELB, RDS, ElastiCache, EKS and its node groups): `iam:AWSServiceName` values.
SERVICE_LINKED_ROLE_SERVICES = (
    "autoscaling.amazonaws.com", "opensearchservice.amazonaws.com", "es.amazonaws.com",
    "dynamodb.application-autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com", "rds.amazonaws.com",
    "elasticache.amazonaws.com", "eks.amazonaws.com", "eks-nodegroup.amazonaws.com", "eks-fargate.amazonaws.com",
    "pullthroughcache.ecr.amazonaws.com",
    # DR: DynamoDB global-table replicas (AWSServiceRoleForDynamoDBReplication), ECR registry replication
    # (AWSServiceRoleForECRReplication) and repository creation templates (AWSServiceRoleForECRTemplate).
    "replication.dynamodb.amazonaws.com", "replication.ecr.amazonaws.com", "ecr.amazonaws.com",
)  # fmt: skip
#: Application Auto Scaling actions of the provisioned DynamoDB mode (`aws.appautoscaling.Target`/`Policy`).
APP_AUTOSCALING_ACTIONS = (
    "application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
    "application-autoscaling:DescribeScalableTargets", "application-autoscaling:PutScalingPolicy",
    "application-autoscaling:DeleteScalingPolicy", "application-autoscaling:DescribeScalingPolicies",
    "application-autoscaling:DescribeScalingActivities", "application-autoscaling:TagResource",
    "application-autoscaling:UntagResource", "application-autoscaling:ListTagsForResource",
)  # fmt: skip
#: What `pulumi up` does to IAM for this program: roles, their policies, instance profiles, OIDC providers.
IAM_MANAGE_ACTIONS = (
    "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy",
    "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags", "iam:PutRolePolicy", "iam:GetRolePolicy",
    "iam:DeleteRolePolicy", "iam:ListRolePolicies", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
    "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:PutRolePermissionsBoundary",
    "iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:CreatePolicyVersion",
    "iam:DeletePolicyVersion", "iam:ListPolicyVersions", "iam:TagPolicy", "iam:UntagPolicy",
    "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:GetInstanceProfile",
    "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile",
    "iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", "iam:GetOpenIDConnectProvider",
    "iam:UpdateOpenIDConnectProviderThumbprint", "iam:AddClientIDToOpenIDConnectProvider",
    "iam:RemoveClientIDFromOpenIDConnectProvider", "iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider",
)  # fmt: skip
#: What the preview role reads beyond ViewOnlyAccess (which lists but does not `Get` IAM documents or key policies).
PREVIEW_READ_ACTIONS = (
    "iam:GetRole", "iam:GetRolePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetInstanceProfile",
    "iam:GetOpenIDConnectProvider", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
)  # fmt: skip
#: Reads that return secret values or customer data: denied to the preview role whatever else it is granted.
DATA_READ_ACTIONS = (
    "secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue",
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "sqs:ReceiveMessage",
    "rds-data:ExecuteStatement", "es:ESHttpGet", "es:ESHttpPost", "athena:GetQueryResults",
)  # fmt: skip
#: Parameter Store reads: denied outside AWS's public parameters.
PARAMETER_READ_ACTIONS = (
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
)
#: Object reads denied to the preview role outside its own state files.
OBJECT_READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
#: Long-lived credentials: no pipeline role may create or grant them.
IAM_USER_ACTIONS = (
    "iam:CreateUser", "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile", "iam:AttachUserPolicy", "iam:PutUserPolicy", "iam:AddUserToGroup",
    "iam:CreateServiceSpecificCredential", "iam:UploadSSHPublicKey",
)  # fmt: skip
#: ECR actions a `docker push` (and the buildx cache check before it) needs on the target repository.
ECR_PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
    "ecr:PutImage", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages",
)  # fmt: skip
