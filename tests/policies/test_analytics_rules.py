"""Rules for the analytics lake: Athena, Glue, Firehose and its SNS subscription, SageMaker (analytics.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.policies.cases import Case, check
from tests.policies.helpers import R, provider

P = provider("prod")
KEY = "arn:aws:kms:us-east-2:123456789012:key/1234abcd"
STREAM = "arn:aws:firehose:us-east-2:123456789012:deliverystream/ecommerce-prod-order-events"
TOPIC = "arn:aws:sns:us-east-2:123456789012:ecommerce-prod-order-events"
DLQ = "arn:aws:sqs:us-east-2:123456789012:ecommerce-prod-lake-order-events-dlq"
ROLE = "arn:aws:iam::123456789012:role/ecommerce-prod-lake-subscription"

WORKGROUP = {
    "configuration": {
        "enforceWorkgroupConfiguration": True,
        "resultConfiguration": {"encryptionConfiguration": {"encryptionOption": "SSE_KMS", "kmsKeyArn": KEY}},
    }
}
GLUE_SEC = {
    "encryptionConfiguration": {
        "s3Encryption": {"s3EncryptionMode": "SSE-KMS", "kmsKeyArn": KEY},
        "cloudwatchEncryption": {"cloudwatchEncryptionMode": "SSE-KMS", "kmsKeyArn": KEY},
        "jobBookmarksEncryption": {"jobBookmarksEncryptionMode": "CSE-KMS", "kmsKeyArn": KEY},
    }
}

CATALOG = {
    "dataCatalogEncryptionSettings": {
        "encryptionAtRest": {
            "catalogEncryptionMode": "SSE-KMS-WITH-SERVICE-ROLE",
            "catalogEncryptionServiceRole": "arn:aws:iam::123456789012:role/ecommerce-glue-catalog-encryption",
            "sseAwsKmsKeyId": KEY,
        },
        "connectionPasswordEncryption": {"returnConnectionPasswordEncrypted": True, "awsKmsKeyId": KEY},
    }
}
FIREHOSE = {
    "destination": "extended_s3",
    "serverSideEncryption": {"enabled": True, "keyType": "CUSTOMER_MANAGED_CMK", "keyArn": KEY},
    "extendedS3Configuration": {"bucketArn": "arn:aws:s3:::lake", "kmsKeyArn": KEY, "roleArn": ROLE},
}
DOMAIN = {
    "appNetworkAccessType": "VpcOnly",
    "kmsKeyId": KEY,
    "subnetIds": ["subnet-a", "subnet-b"],
    "defaultUserSettings": {"executionRole": ROLE, "securityGroups": ["sg-studio"]},
}


def subscription(**changes: Any) -> list[dict[str, Any]]:
    inputs: dict[str, Any] = {
        "topic": TOPIC,
        "protocol": "firehose",
        "endpoint": STREAM,
        "subscriptionRoleArn": ROLE,
        "redrivePolicy": json.dumps({"deadLetterTargetArn": DLQ}),
    }
    inputs.update(changes)
    return [P, R("aws:sns/topicSubscription:TopicSubscription", "lake-order-events",
                 {k: v for k, v in inputs.items() if v is not None})]  # fmt: skip


def with_changes(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


CASES: list[Case] = [
    Case(
        "analytics-encryption",
        "workgroup results unencrypted",
        [
            P,
            R(
                "aws:athena/workgroup:Workgroup",
                "wg",
                {"configuration": {"enforceWorkgroupConfiguration": True}},
            ),
        ],
        True,
        "encryptionOption",
    ),
    Case(
        "analytics-encryption",
        "glue job without security configuration",
        [P, R("aws:glue/job:Job", "etl", {"roleArn": "r"})],
        True,
        "securityConfiguration",
    ),
    Case(
        "analytics-encryption",
        "glue s3 encryption off",
        [
            P,
            R(
                "aws:glue/securityConfiguration:SecurityConfiguration",
                "sec",
                {
                    "encryptionConfiguration": {
                        **GLUE_SEC["encryptionConfiguration"],
                        "s3Encryption": {"s3EncryptionMode": "DISABLED"},
                    }
                },
            ),
        ],
        True,
        "s3EncryptionMode",
    ),
    Case(
        "analytics-encryption",
        "compliant workgroup and glue",
        [
            P,
            R("aws:athena/workgroup:Workgroup", "wg", WORKGROUP),
            R("aws:glue/securityConfiguration:SecurityConfiguration", "sec", GLUE_SEC),
            R("aws:glue/crawler:Crawler", "c", {"securityConfiguration": "sec"}),
        ],
        False,
    ),
    Case("analytics-encryption", "missing everything", [P, R("aws:glue/crawler:Crawler", "bare", {})], True),
    Case(
        "sagemaker-isolation",
        "notebook with internet",
        [
            P,
            R(
                "aws:sagemaker/notebookInstance:NotebookInstance",
                "nb",
                {
                    "directInternetAccess": "Enabled",
                    "rootAccess": "Disabled",
                    "subnetId": "s",
                    "kmsKeyId": KEY,
                },
            ),
        ],
        True,
        "directInternetAccess",
    ),
    Case(
        "sagemaker-isolation",
        "domain public",
        [
            P,
            R(
                "aws:sagemaker/domain:Domain",
                "dom",
                {"appNetworkAccessType": "PublicInternetOnly", "kmsKeyId": KEY},
            ),
        ],
        True,
        "appNetworkAccessType",
    ),
    Case(
        "sagemaker-isolation",
        "isolated notebook",
        [
            P,
            R(
                "aws:sagemaker/notebookInstance:NotebookInstance",
                "nb",
                {
                    "directInternetAccess": "Disabled",
                    "rootAccess": "Disabled",
                    "subnetId": "s",
                    "kmsKeyId": KEY,
                },
            ),
        ],
        False,
    ),
    Case("sagemaker-isolation", "missing everything", [P, R("aws:sagemaker/model:Model", "bare", {})], True),
    Case(
        "analytics-encryption",
        "catalog with the AWS managed key",
        [
            P,
            R(
                "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings",
                "cat",
                {
                    "dataCatalogEncryptionSettings": {
                        "encryptionAtRest": {"catalogEncryptionMode": "SSE-KMS"},
                        "connectionPasswordEncryption": {"returnConnectionPasswordEncrypted": True},
                    }
                },
            ),
        ],
        True,
        "sseAwsKmsKeyId",
    ),
    Case(
        "analytics-encryption",
        "catalog service-role mode without the role",
        [
            P,
            R(
                "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings",
                "cat",
                {
                    "dataCatalogEncryptionSettings": {
                        "encryptionAtRest": {
                            "catalogEncryptionMode": "SSE-KMS-WITH-SERVICE-ROLE",
                            "sseAwsKmsKeyId": KEY,
                        },
                        "connectionPasswordEncryption": {"returnConnectionPasswordEncrypted": True},
                    }
                },
            ),
        ],
        True,
        "catalogEncryptionServiceRole",
    ),
    Case(
        "analytics-encryption",
        "compliant catalog and stream",
        [
            P,
            R("aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings", "cat", CATALOG),
            R("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "stream", FIREHOSE),
        ],
        False,
    ),
    Case(
        "analytics-encryption",
        "stream buffer with an AWS owned key",
        [
            P,
            R(
                "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
                "stream",
                with_changes(FIREHOSE, serverSideEncryption={"enabled": True, "keyType": "AWS_OWNED_CMK"}),
            ),
        ],
        True,
        "serverSideEncryption",
    ),
    Case(
        "analytics-encryption",
        "stream writing without the lake key (missing kmsKeyArn)",
        [
            P,
            R(
                "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
                "stream",
                with_changes(
                    FIREHOSE, extendedS3Configuration={"bucketArn": "arn:aws:s3:::lake", "roleArn": ROLE}
                ),
            ),
        ],
        True,
        "extendedS3Configuration.kmsKeyArn",
    ),
    Case(
        "sagemaker-isolation",
        "VpcOnly domain without app security groups",
        [
            P,
            R(
                "aws:sagemaker/domain:Domain",
                "dom",
                with_changes(DOMAIN, defaultUserSettings={"executionRole": ROLE}),
            ),
        ],
        True,
        "defaultUserSettings.securityGroups",
    ),
    Case(
        "sagemaker-isolation",
        "compliant VpcOnly domain",
        [P, R("aws:sagemaker/domain:Domain", "dom", DOMAIN)],
        False,
    ),
    Case(
        "sagemaker-isolation",
        "domain missing its network access type (PublicInternetOnly by default)",
        [
            P,
            R(
                "aws:sagemaker/domain:Domain",
                "dom",
                {k: v for k, v in DOMAIN.items() if k != "appNetworkAccessType"},
            ),
        ],
        True,
        "appNetworkAccessType",
    ),
    Case("analytics-ingest-dlq", "compliant firehose subscription", subscription(), False),
    Case(
        "analytics-ingest-dlq",
        "missing dead-letter queue",
        subscription(redrivePolicy=None),
        True,
        "redrivePolicy.deadLetterTargetArn",
    ),
    Case(
        "analytics-ingest-dlq",
        "missing subscription role",
        subscription(subscriptionRoleArn=None),
        True,
        "subscriptionRoleArn",
    ),
    Case(
        "analytics-ingest-dlq",
        "sqs subscription is another rule's business",
        subscription(protocol="sqs", subscriptionRoleArn=None, redrivePolicy=None),
        False,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule(case: Case) -> None:
    check(case)
