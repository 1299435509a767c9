"""The pack's configuration: one JSON schema per rule, with the project's values as the schema defaults.

The Pulumi CLI fills every rule's config from these defaults, then the pack's initial config (our named
exemptions, from `policies/exemptions.json`), then `--policy-pack-config <file>`, validates the result against the
schema and sends it to the pack in `Configure`. A rule that runs without `Configure` (a unit test calling the
validator directly) gets the same defaults, so both paths judge alike.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

from pulumi_policy import PolicyConfigSchema

EXEMPTIONS_SCHEMA: Final[dict[str, Any]] = {
    "type": "array",
    "description": "Named exemptions: resources this rule does not apply to, each with the reason.",
    "items": {
        "type": "object",
        "properties": {
            "urn": {
                "type": "string",
                "minLength": 10,
                "description": "Resource URN (shell-style * allowed).",
            },
            "reason": {"type": "string", "minLength": 15, "description": "Why the rule does not apply."},
        },
        "required": ["urn", "reason"],
        "additionalProperties": False,
    },
    "default": [],
}

ENVIRONMENT_SCHEMA: Final[dict[str, Any]] = {
    "type": "string",
    "enum": ["dev", "prod"],
    "description": "Force the environment (normally taken from the AWS provider's Environment tag or the stack).",
}

# Actions AWS does not let you scope to a resource ARN (the Service Authorization Reference lists no resource
# type for them), so `Resource: "*"` is the only way to grant them.
RESOURCE_STAR_ACTIONS: Final[dict[str, str]] = {
    "ecr:GetAuthorizationToken": "registry-wide token; the action has no resource type",
    "sts:GetCallerIdentity": "identity call; no resource type",
    "ec2:Describe*": "EC2 Describe actions do not support resource-level permissions",
    "elasticloadbalancing:Describe*": "ELB Describe actions do not support resource-level permissions",
    "autoscaling:Describe*": "Auto Scaling Describe actions do not support resource-level permissions",
    "cloudwatch:PutMetricData": "no resource type; scope with the cloudwatch:namespace condition instead",
    "xray:PutTraceSegments": "no resource type",
    "xray:PutTelemetryRecords": "no resource type",
    "xray:GetSamplingRules": "no resource type",
    "xray:GetSamplingTargets": "no resource type",
    "logs:DescribeLogGroups": "list call across the account; no resource type",
    "tag:GetResources": "no resource type",
    "acm:ListCertificates": "list call; no resource type",
    "iam:ListServerCertificates": "list call; no resource type",
    "iam:GetServerCertificate": "read of certificates the Load Balancer Controller may attach; no narrower scope",
    "cognito-idp:DescribeUserPoolClient": "called by the Load Balancer Controller for any referenced pool",
    "waf-regional:GetWebACLForResource": "no resource type for the lookup",
    "wafv2:GetWebACLForResource": "lookup keyed by the load balancer; no narrower resource type",
    "shield:GetSubscriptionState": "account-level; no resource type",
    "ec2:GetSecurityGroupsForVpc": "no resource type",
    "ec2:GetCoipPoolUsage": "no resource type",
    "ec2:GetInstanceTypesFromInstanceRequirements": "no resource type (cluster autoscaler discovery)",
    "kms:ListAliases": "list call; no resource type",
    "secretsmanager:GetRandomPassword": "no resource type",
    "secretsmanager:ListSecrets": "list call; no resource type",
    "sqs:ListQueues": "list call; no resource type",
    "sns:ListTopics": "list call; no resource type",
    "athena:ListWorkGroups": "list call; no resource type",
    "glue:GetDatabases": "catalog-wide listing used by Athena consoles; no narrower scope",
    "lakeformation:GetDataAccess": "Lake Formation's credential vending; the action has no resource type",
    "route53:ListHostedZones": "list call; no resource type",
    "s3:ListAllMyBuckets": "list call; no resource type (the Synthetics canary role needs it before writing)",
    "cloudfront:ListDistributions": "list call; no resource type",
    "ecr:BatchImportUpstreamImage": "pull-through cache; scoped by the registry, not a repository",
}

SCOPING_CONDITION_PREFIXES: Final[list[str]] = [
    "aws:ResourceTag/",
    "aws:RequestTag/",
    "ec2:ResourceTag/",
    "iam:AWSServiceName",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "kms:ViaService",
]

ALLOWED_INSTANCE_TYPES: Final[dict[str, list[str]]] = {
    # Dev: burstable and small; the capacity check in the program proves the pods fit.
    "dev": [
        "t3.micro",
        "t3.small",
        "t3.medium",
        "db.t4g.medium",
        "db.t4g.large",
        "db.serverless",
        "cache.t4g.micro",
        "cache.t4g.small",
        "cache.t3.micro",
        "t3.small.search",
        "t3.medium.search",
    ],
    # Prod: the design's t3.medium nodes plus the current-generation families we size up to.
    "prod": [
        "t3.medium",
        "t3.large",
        "m6i.large",
        "m6i.xlarge",
        "m7i.large",
        "m7g.large",
        "db.t4g.medium",
        "db.t4g.large",
        "db.r6g.large",
        "db.r7g.large",
        "db.serverless",
        "cache.t4g.small",
        "cache.t4g.medium",
        "cache.r6g.large",
        "cache.r7g.large",
        "t3.medium.search",
        "m6g.large.search",
        "r6g.large.search",
        "m7g.large.search",
        "r7g.large.search",
    ],
}

K8S_SYSTEM_NAMESPACES: Final[list[str]] = [
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "amazon-cloudwatch",
    "aws-observability",
]

_K8S_EXCLUDED: Final[dict[str, Any]] = {
    "type": "array",
    "items": {"type": "string"},
    "description": "Namespaces the Pod Security rules skip (the platform's own system namespaces).",
    "default": K8S_SYSTEM_NAMESPACES,
}

_EXTERNAL_SLRS: Final[dict[str, Any]] = {
    "type": "array",
    "items": {"type": "string", "pattern": "^[a-z0-9.-]+\\.amazonaws\\.com$"},
    "description": "AWS service names (autoscaling.amazonaws.com) whose service-linked role another stack or the "
    "account's bootstrap creates before this stack's first `pulumi up`.",
    "default": [],
}

# Rule-specific properties (besides `exemptions` and `environment`, which every rule takes).
_SPECIFIC: Final[dict[str, dict[str, dict[str, Any]]]] = {
    "stack-monthly-budget": {
        "budget": {
            "type": "number",
            "minimum": 0,
            "description": "Monthly budget in USD; replaces the stack config's `budget` (0: no budget).",
        },
    },
    "iam-resource-star-restricted": {
        "allowedResourceStarActions": {
            "type": "object",
            "description": "IAM actions that may use Resource '*', each with the reason AWS allows nothing narrower.",
            "additionalProperties": {"type": "string", "minLength": 10},
            "default": RESOURCE_STAR_ACTIONS,
        },
        "scopingConditionPrefixes": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Condition keys that scope a Resource '*' statement (tag-based access control).",
            "default": SCOPING_CONDITION_PREFIXES,
        },
    },
    "iam-no-admin-managed-attach": {
        "forbiddenManagedPolicies": {
            "type": "array",
            "items": {"type": "string"},
            "description": "AWS managed policy names no role, user or group may carry.",
            "default": ["AdministratorAccess", "IAMFullAccess", "PowerUserAccess"],
        }
    },
    "aurora-resilience": {
        "minBackupRetentionDays": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 35},
            "description": "Minimum automated backup retention per environment.",
            "default": {"dev": 1, "prod": 7},
        },
        "protectedEnvironments": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Environments where deletion protection and a final snapshot are required.",
            "default": ["prod"],
        },
    },
    "s3-versioning-lifecycle": {
        "logBucketPattern": {
            "type": "string",
            "description": "Regex on the bucket's resource name marking log buckets (no versioning needed).",
            "default": "(^|-)(access-)?logs?(-|$)",
        }
    },
    "sg-no-public-ingress": {
        "publicPorts": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "Ports the load balancer's security group may open to the world.",
            "default": [80, 443],
        },
        "albSecurityGroupPattern": {
            "type": "string",
            "description": "Regex on a security group's resource name marking the load balancer's group.",
            "default": "(^|-)alb(-|$)",
        },
    },
    "alb-tls": {
        "allowedSslPolicies": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Listener TLS policies (TLS 1.2/1.3 only).",
            "default": [
                "ELBSecurityPolicy-TLS13-1-2-2021-06",
                "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
                "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
                "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
                "ELBSecurityPolicy-TLS13-1-3-2021-06",
                "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
                "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
                "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
                "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
            ],
        }
    },
    "cloudfront-tls": {
        "allowedMinimumProtocolVersions": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Viewer security policies (TLSv1.2_2021 or newer).",
            "default": ["TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"],
        }
    },
    "opensearch-encryption": {
        "allowedTlsPolicies": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Domain endpoint TLS policies (the latest).",
            "default": ["Policy-Min-TLS-1-2-PFS-2023-10"],
        }
    },
    "eks-version": {
        "supportedVersions": {
            "type": "array",
            "items": {"type": "string", "pattern": "^1\\.[0-9]+$"},
            "description": "Kubernetes versions in EKS standard support that we run.",
            "default": ["1.31", "1.32", "1.33", "1.34"],
        }
    },
    "allowed-instance-types": {
        "allowedInstanceTypes": {
            "type": "object",
            "description": "Instance/node/class types allowed per environment (shell-style * allowed).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "default": ALLOWED_INSTANCE_TYPES,
        }
    },
    "required-tags": {
        "requiredTags": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Tags every taggable AWS resource carries (provider default tags count).",
            "default": ["Project", "Environment", "ManagedBy", "Component"],
        }
    },
    "k8s-image-pinned": {
        "allowedRegistries": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Regexes an image reference must match (our ECR registries).",
            "default": ["^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com/"],
        },
        "excludedNamespaces": _K8S_EXCLUDED,
    },
    "k8s-non-root": {"excludedNamespaces": _K8S_EXCLUDED},
    "k8s-readonly-rootfs": {"excludedNamespaces": _K8S_EXCLUDED},
    "k8s-no-privilege": {"excludedNamespaces": _K8S_EXCLUDED},
    "k8s-resources": {"excludedNamespaces": _K8S_EXCLUDED},
    "k8s-probes": {"excludedNamespaces": _K8S_EXCLUDED},
    "k8s-service-account": {"excludedNamespaces": _K8S_EXCLUDED},
    "kms-key-policy-principals-exist": {
        "externalPrincipals": {
            "type": "array",
            "items": {"type": "string", "pattern": "^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:"},
            "description": "IAM principal ARNs created outside this stack that exist before its first `pulumi up` "
            "(e.g. a break-glass admin role); key policies may name them.",
            "default": [],
        },
        "externalServiceLinkedRoles": _EXTERNAL_SLRS,
    },
    "opensearch-vpc-slr": {"externalServiceLinkedRoles": _EXTERNAL_SLRS},
    "log-group-kms-retention": {
        "maxRetentionDays": {
            "type": "integer",
            "minimum": 1,
            "description": "Longest retention without an explicit reason (an exemption).",
            "default": 3653,
        }
    },
}


def schema_for(rule: str) -> PolicyConfigSchema:
    properties: dict[str, dict[str, Any]] = {
        "exemptions": copy.deepcopy(EXEMPTIONS_SCHEMA),
        "environment": copy.deepcopy(ENVIRONMENT_SCHEMA),
    }
    properties.update(copy.deepcopy(_SPECIFIC.get(rule, {})))
    return PolicyConfigSchema(properties=properties)


def defaults_for(rule: str) -> Mapping[str, Any]:
    props = schema_for(rule).properties
    return {k: copy.deepcopy(v["default"]) for k, v in props.items() if "default" in v}
