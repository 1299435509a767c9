"""Rules for the supporting services: messaging and secrets, KMS, CloudWatch Logs, ECR (analytics: analytics.py)."""

from __future__ import annotations

import re

from .common import (
    ADVISORY,
    MANDATORY,
    UNKNOWN,
    Context,
    Raw,
    Res,
    Stack,
    cmk_problem,
    first,
    get,
    is_set,
    is_true,
    num,
    parse_json,
    resource_policy,
    stack_policy,
)

QUEUE = "aws:sqs/queue:Queue"
REDRIVE = "aws:sqs/redrivePolicy:RedrivePolicy"
TOPIC = "aws:sns/topic:Topic"
SECRET = "aws:secretsmanager/secret:Secret"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
KMS_KEY = "aws:kms/key:Key"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ECR_REPO = "aws:ecr/repository:Repository"
ECR_LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
ECR_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"


def _cmk(res: Res, ctx: Context, prop: str, fix: str) -> None:
    value = res.p(prop)
    problem = cmk_problem(value)
    if problem:
        ctx.violation(res, prop, Raw(f"{value!r} ({problem})" if value else problem), fix)


def _messaging_kms(res: Res, ctx: Context) -> None:
    if res.type in (QUEUE, TOPIC):
        _cmk(
            res,
            ctx,
            "kmsMasterKeyId",
            "encrypt with the messaging customer-managed KMS key (kmsMasterKeyId).",
        )
    else:
        _cmk(res, ctx, "kmsKeyId", "encrypt the secret with a customer-managed KMS key (kmsKeyId).")


def _is_dlq(stack: Stack, queue: Res) -> bool:
    if re.search(r"(^|-)dlq(-|$)|dead-?letter", queue.name):
        return True
    for other in stack.of_type(QUEUE, REDRIVE):
        if other is queue:
            continue
        if other.depends_on(queue, "redrivePolicy"):
            return True
        target = get(parse_json(other.p("redrivePolicy")), "deadLetterTargetArn")
        if isinstance(target, str) and target and target in (queue.p("arn"), queue.p("id")):
            return True
    return False


def _sqs_dlq(stack: Stack, ctx: Context) -> None:
    redrives = stack.of_type(REDRIVE)
    for queue in stack.of_type(QUEUE):
        if _is_dlq(stack, queue):
            continue
        policy = queue.p("redrivePolicy")
        if policy is UNKNOWN:
            continue
        target = get(parse_json(policy), "deadLetterTargetArn")
        if is_set(target):
            continue
        if any(r.depends_on(queue, "queueUrl") for r in redrives):
            continue
        ctx.violation(
            queue,
            "redrivePolicy",
            policy,
            "give the work queue a dead-letter queue (redrivePolicy deadLetterTargetArn, maxReceiveCount).",
        )


_DB_SECRET = re.compile(r"(db|database|aurora|rds|postgres|mysql|redis|master)", re.IGNORECASE)


def _secrets_rotation(stack: Stack, ctx: Context) -> None:
    rotations = stack.of_type(ROTATION)
    for secret in stack.of_type(SECRET):
        rotated = any(r.depends_on(secret, "secretId") for r in rotations)
        if rotated:
            continue
        text = f"{secret.name} {secret.p('name') or ''} {secret.p('description') or ''}"
        if _DB_SECRET.search(text):
            ctx.violation(
                secret,
                "rotation",
                Raw("none for a database credential"),
                "add a SecretRotation (the RDS/ElastiCache rotation Lambdas) or let RDS manage the master password "
                "(manageMasterUserPassword).",
            )
        elif not is_set(secret.p("description")):
            ctx.violation(
                secret,
                "description",
                None,
                "AWS cannot rotate this secret: say in its description who rotates it and how.",
            )


def _kms_hygiene(stack: Stack, ctx: Context) -> None:
    key_policies = stack.of_type(KMS_KEY_POLICY)
    for key in stack.of_type(KMS_KEY):
        spec = key.p("customerMasterKeySpec") or "SYMMETRIC_DEFAULT"
        usage = key.p("keyUsage") or "ENCRYPT_DECRYPT"
        if spec == "SYMMETRIC_DEFAULT" and usage == "ENCRYPT_DECRYPT":
            rotation = key.p("enableKeyRotation")
            if rotation is not UNKNOWN and not is_true(rotation):
                ctx.violation(
                    key, "enableKeyRotation", rotation, "set enableKeyRotation true (yearly rotation)."
                )
        window = key.p("deletionWindowInDays")
        if window not in (None, UNKNOWN) and (num(window) or 0) < 7:
            ctx.violation(
                key,
                "deletionWindowInDays",
                window,
                "keep a deletion window of at least 7 days (30 is the default).",
            )
        if not is_set(key.p("policy")) and not any(p.depends_on(key, "keyId") for p in key_policies):
            ctx.violation(
                key,
                "policy",
                None,
                "give the key an explicit key policy naming who administers and who uses it.",
            )


def _log_groups(res: Res, ctx: Context) -> None:
    _cmk(res, ctx, "kmsKeyId", "encrypt the log group with a customer-managed KMS key.")
    retention = res.p("retentionInDays")
    limit = num(ctx.config.get("maxRetentionDays")) or 3653
    if retention is UNKNOWN:
        return
    days = num(retention)
    if days is None or days <= 0:
        ctx.violation(
            res,
            "retentionInDays",
            retention,
            "set a retention (e.g. 30/90/365 days); unset means never expire.",
        )
    elif days > limit:
        ctx.violation(
            res, "retentionInDays", retention, f"keep at most {limit:g} days unless an exemption says why."
        )


def _ecr(stack: Stack, ctx: Context) -> None:
    lifecycles = stack.of_type(ECR_LIFECYCLE)
    registry_scan = any(
        str(s.p("scanType")).upper() == "ENHANCED" or s.p("scanType") is UNKNOWN
        for s in stack.of_type(ECR_SCANNING)
    )
    for repo in stack.of_type(ECR_REPO):
        mutability = repo.p("imageTagMutability")
        if mutability not in (UNKNOWN, "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"):
            ctx.violation(
                repo,
                "imageTagMutability",
                mutability if mutability else Raw("not set (default MUTABLE)"),
                "set 'IMMUTABLE' so a tag always names the same image.",
            )
        scan = first(repo.props, "imageScanningConfiguration", "scanOnPush")
        if not registry_scan and scan is not UNKNOWN and not is_true(scan):
            ctx.violation(repo, "imageScanningConfiguration.scanOnPush", scan, "scan images on push.")
        enc = first(repo.props, "encryptionConfigurations")
        enc_type = get(enc, "encryptionType") if isinstance(enc, dict) else None
        if enc is not UNKNOWN and enc_type not in (UNKNOWN, "KMS", "KMS_DSSE"):
            ctx.violation(
                repo,
                "encryptionConfigurations[0].encryptionType",
                enc_type if enc_type else Raw("not set (AES256)"),
                "encrypt with 'KMS' and the platform's customer-managed key.",
            )
        if not any(
            lc.depends_on(repo, "repository") or (repo.p("name") and lc.p("repository") == repo.p("name"))
            for lc in lifecycles
        ):
            ctx.violation(
                repo,
                "lifecycle policy",
                Raw("none (no aws.ecr.LifecyclePolicy refers to it)"),
                "add a LifecyclePolicy that expires untagged and old images.",
            )


POLICIES = [
    resource_policy(
        "messaging-kms",
        "SQS queues, SNS topics and Secrets Manager secrets are encrypted with a customer-managed KMS key.",
        MANDATORY,
        ["SQS.1", "SNS.1", "SecretsManager.3"],
        (QUEUE, TOPIC, SECRET),
        _messaging_kms,
    ),
    stack_policy(
        "sqs-dlq",
        "Every SQS work queue has a dead-letter queue.",
        ADVISORY,
        [],
        _sqs_dlq,
    ),
    stack_policy(
        "secrets-rotation",
        "Database credentials rotate; secrets AWS cannot rotate say in their description how they are rotated.",
        ADVISORY,
        ["SecretsManager.1", "SecretsManager.4"],
        _secrets_rotation,
    ),
    stack_policy(
        "kms-hygiene",
        "KMS keys rotate yearly, keep a deletion window of at least 7 days and have an explicit key policy.",
        MANDATORY,
        ["KMS.3", "awsguard:cmk-backing-key-rotation-enabled"],
        _kms_hygiene,
    ),
    resource_policy(
        "log-group-kms-retention",
        "CloudWatch log groups are KMS-encrypted and have a retention period.",
        ADVISORY,
        ["CloudWatch.16"],
        (LOG_GROUP,),
        _log_groups,
    ),
    stack_policy(
        "ecr-hardening",
        "ECR repositories: immutable tags, scan on push, KMS encryption, a lifecycle policy.",
        MANDATORY,
        ["ECR.1", "ECR.2", "ECR.3"],
        _ecr,
    ),
]
