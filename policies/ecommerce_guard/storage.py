"""S3 rules (stack policies joining a bucket with its configuration resources) and resource policies.

pulumi-aws v7 configures a bucket through separate resources (`BucketServerSideEncryptionConfiguration`,
`BucketPublicAccessBlock`, `BucketOwnershipControls`, `BucketPolicy`, `BucketVersioning`,
`BucketLifecycleConfiguration`, each with a `...V2` alias) that point at the bucket with their `bucket` input; the
deprecated inline arguments on `Bucket` still count. A configuration resource belongs to a bucket when its `bucket`
property depends on the bucket's URN (this works in a real preview, where the name may be unknown) or carries the
bucket's name.
"""

from __future__ import annotations

import re
from typing import Any

from .common import (
    MANDATORY,
    UNKNOWN,
    Context,
    Raw,
    Res,
    Stack,
    as_list,
    cmk_problem,
    first,
    get,
    is_true,
    resource_policy,
    stack_policy,
    statements,
)

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")


def _v(name: str) -> tuple[str, str]:
    return (f"aws:s3/{name[0].lower()}{name[1:]}:{name}", f"aws:s3/{name[0].lower()}{name[1:]}V2:{name}V2")


SSE_TYPES = _v("BucketServerSideEncryptionConfiguration")
PAB_TYPES = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
ACCOUNT_PAB_TYPES = ("aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",)
PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
OWNERSHIP_TYPES = ("aws:s3/bucketOwnershipControls:BucketOwnershipControls",)
POLICY_TYPES = ("aws:s3/bucketPolicy:BucketPolicy",)
VERSIONING_TYPES = _v("BucketVersioning")
LIFECYCLE_TYPES = _v("BucketLifecycleConfiguration")
ACL_TYPES = _v("BucketAcl")


def _related(stack: Stack, bucket: Res, types: tuple[str, ...]) -> list[Res]:
    return stack.referring(bucket, types, "bucket", bucket.p("bucket"), bucket.p("id"))


def _sse(stack: Stack, bucket: Res, ctx: Context) -> None:
    rules: list[tuple[Res, str, Any]] = []
    inline = bucket.p("serverSideEncryptionConfiguration")
    if inline:
        rules.append((bucket, "serverSideEncryptionConfiguration.rule", first(inline, "rule")))
    for cfg in _related(stack, bucket, SSE_TYPES):
        for index, rule in enumerate(as_list(cfg.p("rules"))):
            rules.append((cfg, f"rules[{index}]", rule))
    if not rules:
        ctx.violation(
            bucket,
            "server-side encryption",
            Raw("not configured (no BucketServerSideEncryptionConfiguration refers to it)"),
            "add a BucketServerSideEncryptionConfiguration with sseAlgorithm 'aws:kms', a customer-managed "
            "kmsMasterKeyId and bucketKeyEnabled true.",
        )
        return
    for owner, prop, rule in rules:
        if rule is UNKNOWN:
            continue
        algo = first(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
        key = first(rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId")
        if algo is not UNKNOWN and algo not in ("aws:kms", "aws:kms:dsse"):
            ctx.violation(
                owner,
                f"{prop}.applyServerSideEncryptionByDefault.sseAlgorithm",
                algo,
                f"use 'aws:kms' with a customer-managed key for bucket {bucket.name!r}.",
                report_on=bucket,
            )
            continue
        problem = cmk_problem(key)
        if problem:
            ctx.violation(
                owner,
                f"{prop}.applyServerSideEncryptionByDefault.kmsMasterKeyId",
                Raw(f"{key!r} ({problem})" if key else problem),
                f"set kmsMasterKeyId to the ARN of a customer-managed KMS key for bucket {bucket.name!r}.",
                report_on=bucket,
            )
        bucket_key = get(rule, "bucketKeyEnabled")
        if bucket_key is not UNKNOWN and not is_true(bucket_key):
            ctx.violation(
                owner,
                f"{prop}.bucketKeyEnabled",
                bucket_key,
                "set bucketKeyEnabled true (S3 Bucket Keys cut KMS requests and cost).",
                report_on=bucket,
            )


PUBLIC_ACLS = {"public-read", "public-read-write", "authenticated-read"}


def _block_public(stack: Stack, bucket: Res, ctx: Context) -> None:
    pabs = _related(stack, bucket, PAB_TYPES)
    if not pabs:
        ctx.violation(
            bucket,
            "public access block",
            Raw("missing (no BucketPublicAccessBlock refers to it)"),
            "add a BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and "
            "restrictPublicBuckets all true.",
        )
    for pab in pabs:
        for flag in PAB_FLAGS:
            value = pab.p(flag)
            if value is not UNKNOWN and not is_true(value):
                ctx.violation(
                    pab, flag, value, f"set {flag} true for bucket {bucket.name!r}.", report_on=bucket
                )
    owners = _related(stack, bucket, OWNERSHIP_TYPES)
    if not owners:
        ctx.violation(
            bucket,
            "object ownership",
            Raw("not enforced (no BucketOwnershipControls refers to it)"),
            "add BucketOwnershipControls with rule.objectOwnership 'BucketOwnerEnforced' (ACLs disabled).",
        )
    for own in owners:
        value = first(own.props, "rule", "objectOwnership")
        if value is not UNKNOWN and value != "BucketOwnerEnforced":
            ctx.violation(
                own,
                "rule.objectOwnership",
                value,
                f"set 'BucketOwnerEnforced' so ACLs cannot grant access to bucket {bucket.name!r}.",
                report_on=bucket,
            )
    acl = bucket.p("acl")
    if isinstance(acl, str) and acl in PUBLIC_ACLS:
        ctx.violation(
            bucket, "acl", acl, "remove the canned ACL; grant access through the bucket policy only."
        )
    for acl_res in _related(stack, bucket, ACL_TYPES):
        canned = acl_res.p("acl")
        if isinstance(canned, str) and canned in PUBLIC_ACLS:
            ctx.violation(
                acl_res, "acl", canned, "remove the public ACL; ACLs stay disabled.", report_on=bucket
            )


def _denies_insecure_transport(document: Any) -> bool | None:
    sts = statements(document)
    if sts is None:
        return None if document is UNKNOWN else False
    for st in sts:
        if st.effect != "Deny" or "*" not in st.principals:
            continue
        if not any(a in ("s3:*", "*") for a in st.actions):
            continue
        secure = st.condition_values("aws:SecureTransport")
        if any(op.startswith("Bool") and "false" in [v.lower() for v in vals] for op, vals in secure.items()):
            return True
    return False


def _tls_only(stack: Stack, bucket: Res, ctx: Context) -> None:
    docs = [bucket.p("policy")] if bucket.p("policy") else []
    docs += [p.p("policy") for p in _related(stack, bucket, POLICY_TYPES)]
    results = [_denies_insecure_transport(d) for d in docs]
    if any(r is None or r for r in results):
        return
    ctx.violation(
        bucket,
        "bucket policy",
        Raw(
            "has no Deny for aws:SecureTransport=false" if docs else "missing (no BucketPolicy refers to it)"
        ),
        "add a BucketPolicy statement: Effect Deny, Principal '*', Action 's3:*', Resource the bucket and "
        "bucket/*, Condition Bool aws:SecureTransport 'false'.",
    )


def _versioning_lifecycle(stack: Stack, bucket: Res, ctx: Context) -> None:
    is_log_bucket = bool(re.search(str(ctx.config.get("logBucketPattern") or "$^"), bucket.name))
    if not is_log_bucket:
        enabled: list[Any] = []
        inline = bucket.p("versioning")
        if inline:
            enabled.append(first(inline, "enabled"))
        for ver in _related(stack, bucket, VERSIONING_TYPES):
            enabled.append(first(ver.props, "versioningConfiguration", "status"))
        if not any(v is UNKNOWN or is_true(v) or v == "Enabled" for v in enabled):
            ctx.violation(
                bucket,
                "versioning",
                enabled[0] if enabled else Raw("not enabled (no BucketVersioning refers to it)"),
                "add a BucketVersioning with versioningConfiguration.status 'Enabled' (data buckets keep "
                "previous object versions).",
            )
    aborts: list[Any] = []
    for rule in as_list(bucket.p("lifecycleRules")):
        if is_true(get(rule, "enabled")):
            aborts.append(get(rule, "abortIncompleteMultipartUploadDays"))
    for lc in _related(stack, bucket, LIFECYCLE_TYPES):
        for rule in as_list(lc.p("rules")):
            if rule is UNKNOWN:
                aborts.append(UNKNOWN)
            elif get(rule, "status") == "Enabled":
                aborts.append(first(rule, "abortIncompleteMultipartUpload", "daysAfterInitiation"))
    if not any(a is UNKNOWN or (isinstance(a, int | float) and a > 0) for a in aborts):
        ctx.violation(
            bucket,
            "lifecycle",
            Raw("has no enabled rule aborting incomplete multipart uploads"),
            "add a BucketLifecycleConfiguration rule (status 'Enabled') with "
            "abortIncompleteMultipartUpload.daysAfterInitiation (e.g. 7).",
        )


def _per_bucket(check: Any) -> Any:
    def run(stack: Stack, ctx: Context) -> None:
        for bucket in stack.of_type(*BUCKET_TYPES):
            check(stack, bucket, ctx)

    return run


# ----------------------------------------------------------------------------------------------------------------
# Resource policies

RESOURCE_POLICY_PROPS = {
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:s3/bucket:Bucket": "policy",
    "aws:s3/bucketV2:BucketV2": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:sqs/queue:Queue": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:sns/topic:Topic": "policy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "policy",
    "aws:ecr/registryPolicy:RegistryPolicy": "policy",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "policy",
    "aws:secretsmanager/secret:Secret": "policy",
    "aws:kms/key:Key": "policy",
    "aws:kms/keyPolicy:KeyPolicy": "policy",
    "aws:kms/replicaKey:ReplicaKey": "policy",
    "aws:opensearch/domain:Domain": "accessPolicies",
    "aws:opensearch/domainPolicy:DomainPolicy": "accessPolicies",
    "aws:glue/resourcePolicy:ResourcePolicy": "policy",
    "aws:lambda/permission:Permission": "",
}

SCOPING_KEYS = {
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceowner",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalarn",
    "aws:resourceaccount",
    "kms:calleraccount",
}


def _public_access_block_flags(res: Res, ctx: Context) -> None:
    """A public-access block is judged on its own: the bucket it guards may live in another stack, where the
    join of `s3-block-public` cannot see it. A flag left out is false (the provider's default, and S3's)."""
    for flag in PAB_FLAGS:
        value = res.p(flag)
        if value is not UNKNOWN and not is_true(value):
            ctx.violation(
                res, flag, value, f"set {flag} true: every public-access block turns on all four flags."
            )


def _resource_policy_not_public(res: Res, ctx: Context) -> None:
    prop = RESOURCE_POLICY_PROPS.get(res.type, "")
    if not prop:
        return
    for st in statements(res.p(prop)) or []:
        if not st.allow or "*" not in st.principals:
            continue
        if st.condition_keys() & SCOPING_KEYS:
            continue
        ctx.violation(
            res,
            prop,
            Raw(
                f"statement {st.sid or st.actions!r} allows Principal '*' {list(st.actions)} without a source condition"
            ),
            "name the principal, or add a condition on aws:SourceArn / aws:SourceAccount / aws:PrincipalOrgID / "
            "aws:SourceVpce that pins who may call.",
        )


POLICIES = [
    stack_policy(
        "s3-sse-kms",
        "Every S3 bucket is encrypted with SSE-KMS under a customer-managed key, with S3 Bucket Keys on.",
        MANDATORY,
        ["S3.17"],
        _per_bucket(_sse),
    ),
    stack_policy(
        "s3-block-public",
        "Every S3 bucket has all four public-access-block flags on and BucketOwnerEnforced ownership.",
        MANDATORY,
        ["S3.1", "S3.2", "S3.3", "S3.8", "S3.12"],
        _per_bucket(_block_public),
    ),
    resource_policy(
        "s3-public-access-block-flags",
        "Every S3 public-access block (bucket or account) turns on all four flags, whatever bucket it guards.",
        MANDATORY,
        ["S3.1", "S3.8"],
        (*PAB_TYPES, *ACCOUNT_PAB_TYPES),
        _public_access_block_flags,
    ),
    stack_policy(
        "s3-tls-only",
        "Every S3 bucket policy denies requests when aws:SecureTransport is false.",
        MANDATORY,
        ["S3.5"],
        _per_bucket(_tls_only),
    ),
    stack_policy(
        "s3-versioning-lifecycle",
        "Data buckets are versioned; every bucket has a lifecycle rule that aborts incomplete multipart uploads.",
        MANDATORY,
        ["S3.13"],
        _per_bucket(_versioning_lifecycle),
    ),
    resource_policy(
        "resource-policy-not-public",
        "Bucket/queue/topic/repository/secret/key policies never allow Principal '*' without a source condition.",
        MANDATORY,
        ["S3.6", "SNS.4", "SQS.3", "KMS.5"],
        tuple(t for t, p in RESOURCE_POLICY_PROPS.items() if p),
        _resource_policy_not_public,
    ),
]
