"""Rules for the analytics lake: Athena, Glue, Firehose and its SNS subscription, SageMaker.

Each rule sees one resource's inputs (camelCase engine names). What they hold the lake to: query results, catalog,
ETL output, logs and bookmarks, and the stream encrypted with a customer-managed key; workgroup settings enforced;
Glue jobs and crawlers under a security configuration; every SNS-to-Firehose subscription with its own role and a
dead-letter queue; SageMaker only inside the VPC. The lake's buckets are held to the S3 rules (storage.py) like
every bucket.
"""

from __future__ import annotations

from .common import (
    MANDATORY,
    UNKNOWN,
    Context,
    Raw,
    Res,
    cmk_problem,
    first,
    get,
    is_set,
    is_true,
    parse_json,
    resource_policy,
)

SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"


def _cmk(res: Res, ctx: Context, prop: str, fix: str) -> None:
    value = res.p(prop)
    problem = cmk_problem(value)
    if problem:
        ctx.violation(res, prop, Raw(f"{value!r} ({problem})" if value else problem), fix)


def _analytics(res: Res, ctx: Context) -> None:
    t = res.type
    if t == "aws:athena/workgroup:Workgroup":
        conf = first(res.props, "configuration") or {}
        if conf is UNKNOWN:
            return
        if (
            not is_true(get(conf, "enforceWorkgroupConfiguration"))
            and get(conf, "enforceWorkgroupConfiguration") is not None
        ):
            ctx.violation(
                res,
                "configuration.enforceWorkgroupConfiguration",
                get(conf, "enforceWorkgroupConfiguration"),
                "enforce the workgroup configuration (clients cannot turn encryption off).",
            )
        option = first(conf, "resultConfiguration", "encryptionConfiguration", "encryptionOption")
        if option not in (UNKNOWN, "SSE_KMS", "CSE_KMS"):
            ctx.violation(
                res,
                "configuration.resultConfiguration.encryptionConfiguration.encryptionOption",
                option,
                "encrypt query results with SSE_KMS and the lake's key.",
            )
        elif not is_set(first(conf, "resultConfiguration", "encryptionConfiguration", "kmsKeyArn")):
            ctx.violation(
                res,
                "configuration.resultConfiguration.encryptionConfiguration.kmsKeyArn",
                None,
                "name the lake's KMS key.",
            )
    elif t == "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings":
        settings = first(res.props, "dataCatalogEncryptionSettings") or {}
        mode = first(settings, "encryptionAtRest", "catalogEncryptionMode")
        if mode not in (UNKNOWN, "SSE-KMS", "SSE-KMS-WITH-SERVICE-ROLE"):
            ctx.violation(
                res,
                "dataCatalogEncryptionSettings.encryptionAtRest.catalogEncryptionMode",
                mode,
                "use 'SSE-KMS' with the lake's key.",
            )
        elif mode is not UNKNOWN:
            key = first(settings, "encryptionAtRest", "sseAwsKmsKeyId")
            if key is not UNKNOWN and not is_set(key):
                ctx.violation(
                    res,
                    "dataCatalogEncryptionSettings.encryptionAtRest.sseAwsKmsKeyId",
                    None,
                    "name a customer-managed key (without one Glue uses the AWS managed key aws/glue).",
                )
            role = first(settings, "encryptionAtRest", "catalogEncryptionServiceRole")
            if mode == "SSE-KMS-WITH-SERVICE-ROLE" and role is not UNKNOWN and not is_set(role):
                ctx.violation(
                    res,
                    "dataCatalogEncryptionSettings.encryptionAtRest.catalogEncryptionServiceRole",
                    None,
                    "name the role Glue assumes to use the key (required by SSE-KMS-WITH-SERVICE-ROLE).",
                )
        pw = first(settings, "connectionPasswordEncryption", "returnConnectionPasswordEncrypted")
        if pw is not UNKNOWN and not is_true(pw):
            ctx.violation(
                res,
                "dataCatalogEncryptionSettings.connectionPasswordEncryption.returnConnectionPasswordEncrypted",
                pw,
                "encrypt connection passwords.",
            )
    elif t == "aws:glue/securityConfiguration:SecurityConfiguration":
        conf = first(res.props, "encryptionConfiguration") or {}
        checks = (
            ("s3Encryption", "s3EncryptionMode", "SSE-KMS"),
            ("cloudwatchEncryption", "cloudwatchEncryptionMode", "SSE-KMS"),
            ("jobBookmarksEncryption", "jobBookmarksEncryptionMode", "CSE-KMS"),
        )
        for block, key, wanted in checks:
            value = first(conf, block, key)
            if value is not UNKNOWN and value != wanted:
                ctx.violation(
                    res,
                    f"encryptionConfiguration.{block}.{key}",
                    value,
                    f"use '{wanted}' with the lake's KMS key.",
                )
    elif t in ("aws:glue/job:Job", "aws:glue/crawler:Crawler"):
        if not is_set(res.p("securityConfiguration")):
            ctx.violation(
                res,
                "securityConfiguration",
                None,
                "run under the lake's Glue security configuration (KMS everywhere).",
            )
    elif t == "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
        sse = first(res.props, "serverSideEncryption") or {}
        source = first(res.props, "kinesisSourceConfiguration")
        if (
            not is_set(source)
            and sse is not UNKNOWN
            and (
                not is_true(get(sse, "enabled"))
                or get(sse, "keyType") not in ("CUSTOMER_MANAGED_CMK", UNKNOWN)
            )
        ):
            ctx.violation(
                res,
                "serverSideEncryption",
                sse or None,
                "enable serverSideEncryption with keyType CUSTOMER_MANAGED_CMK and the lake's key.",
            )
        s3 = first(res.props, "extendedS3Configuration")
        if isinstance(s3, dict) and not is_set(s3.get("kmsKeyArn")):
            ctx.violation(
                res, "extendedS3Configuration.kmsKeyArn", None, "write to the lake with its KMS key."
            )


def _sagemaker(res: Res, ctx: Context) -> None:
    t = res.type
    if t == "aws:sagemaker/domain:Domain":
        if res.p("appNetworkAccessType") not in (UNKNOWN, "VpcOnly"):
            ctx.violation(
                res,
                "appNetworkAccessType",
                res.p("appNetworkAccessType") or Raw("not set (PublicInternetOnly)"),
                "use 'VpcOnly'.",
            )
        _cmk(res, ctx, "kmsKeyId", "encrypt the domain's storage with a customer-managed KMS key.")
        if res.p("appNetworkAccessType") == "VpcOnly":
            # CreateDomain: with VpcOnly the apps' security groups are required (in DefaultUserSettings unless
            # every user profile brings its own), and the domain's subnets place its network interfaces.
            groups = first(res.props, "defaultUserSettings", "securityGroups")
            if groups is not UNKNOWN and not is_set(groups):
                ctx.violation(
                    res,
                    "defaultUserSettings.securityGroups",
                    None,
                    "give the apps a security group: AWS requires one for VpcOnly domains.",
                )
            if not is_set(res.p("subnetIds")):
                ctx.violation(res, "subnetIds", None, "place the domain in the private subnets.")
    elif t == "aws:sagemaker/notebookInstance:NotebookInstance":
        if res.p("directInternetAccess") not in (UNKNOWN, "Disabled"):
            ctx.violation(
                res,
                "directInternetAccess",
                res.p("directInternetAccess") or Raw("not set (Enabled)"),
                "set 'Disabled' (traffic goes through the VPC).",
            )
        if res.p("rootAccess") not in (UNKNOWN, "Disabled"):
            ctx.violation(
                res, "rootAccess", res.p("rootAccess") or Raw("not set (Enabled)"), "set 'Disabled'."
            )
        if not is_set(res.p("subnetId")):
            ctx.violation(res, "subnetId", None, "launch the notebook in a private subnet.")
        _cmk(res, ctx, "kmsKeyId", "encrypt the notebook volume with a customer-managed KMS key.")
    elif t == "aws:sagemaker/model:Model":
        if not is_true(res.p("enableNetworkIsolation")) and res.p("enableNetworkIsolation") is not UNKNOWN:
            ctx.violation(
                res,
                "enableNetworkIsolation",
                res.p("enableNetworkIsolation"),
                "set enableNetworkIsolation true.",
            )
        if not is_set(res.p("vpcConfig")):
            ctx.violation(res, "vpcConfig", None, "run the model inside the VPC (vpcConfig).")
    elif t == "aws:sagemaker/endpointConfiguration:EndpointConfiguration":
        _cmk(res, ctx, "kmsKeyArn", "encrypt the endpoint's storage with a customer-managed KMS key.")


def _firehose_subscription(res: Res, ctx: Context) -> None:
    if res.p("protocol") != "firehose":
        return
    if not is_set(res.p("subscriptionRoleArn")):
        ctx.violation(
            res,
            "subscriptionRoleArn",
            None,
            "name the role SNS assumes to put records into the stream (SNS requires it for Firehose endpoints).",
        )
    policy = res.p("redrivePolicy")
    if policy is UNKNOWN:
        return
    target = get(parse_json(policy), "deadLetterTargetArn")
    if not is_set(target):
        ctx.violation(
            res,
            "redrivePolicy.deadLetterTargetArn",
            policy or None,
            "give the subscription a dead-letter queue, or events the stream refuses are lost after SNS's retries.",
        )


POLICIES = [
    resource_policy(
        "analytics-encryption",
        "Athena, Glue and Firehose use KMS everywhere; workgroup configuration is enforced; Glue jobs and crawlers "
        "run under a security configuration.",
        MANDATORY,
        ["Athena.4", "Glue.1"],
        (
            "aws:athena/workgroup:Workgroup",
            "aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings",
            "aws:glue/securityConfiguration:SecurityConfiguration",
            "aws:glue/job:Job",
            "aws:glue/crawler:Crawler",
            "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
        ),
        _analytics,
    ),
    resource_policy(
        "sagemaker-isolation",
        "SageMaker runs in the VPC without direct internet or root access, with KMS and network isolation.",
        MANDATORY,
        ["SageMaker.1", "SageMaker.2", "SageMaker.3", "SageMaker.5"],
        (
            "aws:sagemaker/domain:Domain",
            "aws:sagemaker/notebookInstance:NotebookInstance",
            "aws:sagemaker/model:Model",
            "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        ),
        _sagemaker,
    ),
    resource_policy(
        "analytics-ingest-dlq",
        "SNS subscriptions that feed a Firehose stream have their subscription role and a dead-letter queue.",
        MANDATORY,
        ["SNS (dead-letter queues)"],
        (SUBSCRIPTION,),
        _firehose_subscription,
    ),
]
