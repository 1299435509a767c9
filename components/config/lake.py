"""Analytics lake settings (`lake.*`, `AnalyticsLake`): storage lifecycle, the order-event stream, ETL, Athena and
the flags (Lake Formation, QuickSight, SageMaker)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Protocol

from components.config.machinery import Stack, in_range, setting
from components.config.network import NetworkSettings
from components.config.shared import LOG_RETENTION_DAYS

#: Interface endpoints a VpcOnly SageMaker domain shares with the nodes (the network owns them); the lake adds the
#: SageMaker API, runtime and Studio endpoints itself.
SAGEMAKER_SHARED_ENDPOINTS = ("sts", "logs", "kms")
#: Glue versions with Spark 3.x and Python 3 the ETL script is written for.
GLUE_VERSIONS = ("4.0", "5.0")
GLUE_WORKER_TYPES = ("G.1X", "G.2X")
#: S3 lifecycle: an object must be 30 days old before it may move to Standard-IA (S3 User Guide, "Transitioning
#: objects using Amazon S3 Lifecycle", constraints).
S3_IA_MIN_DAYS = 30
#: Firehose S3 buffering hints: 1-128 MiB, 0-900 seconds.
FIREHOSE_BUFFER_MB_RANGE = (1, 128)
FIREHOSE_BUFFER_SECONDS_RANGE = (0, 900)
#: Athena's smallest per-query data usage control is 10 MB (`BytesScannedCutoffPerQuery` minimum 10000000).
ATHENA_MIN_CUTOFF_MB = 10
_GLUE_CRON = re.compile(r"cron\((\S+ ){5}\S+\)")
_QUICKSIGHT_PRINCIPAL = re.compile(
    r"arn:aws:quicksight:[a-z0-9-]+:\d{12}:(user|group)/[A-Za-z0-9_.@+=-]+/[^/\s]+"
)
_IAM_ROLE_ARN = re.compile(r"arn:aws:iam::\d{12}:role/[\w+=,.@/-]{1,512}")


@dataclass(frozen=True)
class LakeSettings:
    """The analytics lake (`AnalyticsLake`): storage lifecycle, the order-event stream, ETL, Athena and the flags."""

    enabled: bool = setting("enabled", "Build the analytics lake (S3 zones, Firehose, Glue, Athena).", True)
    raw_ia_days: int = setting(
        "rawIaDays", "Days before raw-zone objects move to S3 Standard-IA (at least 30, an S3 rule).", 30
    )
    raw_glacier_days: int = setting(
        "rawGlacierDays",
        "Days before raw-zone objects move to Glacier Flexible Retrieval (after rawIaDays).",
        90,
    )
    raw_expiration_days: int = setting(
        "rawExpirationDays", "Days after which raw-zone objects are deleted; 0 keeps them (after rawGlacierDays).",
        0,
    )  # fmt: skip
    results_expiration_days: int = setting(
        "resultsExpirationDays", "Days Athena query results are kept (1-365).", 30
    )
    firehose_buffer_mb: int = setting(
        "firehoseBufferMb",
        "Firehose buffer size before it writes an object to the raw zone, MiB (1-128).",
        64,
    )
    firehose_buffer_seconds: int = setting(
        "firehoseBufferSeconds", "Firehose buffer interval before it writes an object, seconds (0-900).", 300
    )
    athena_cutoff_mb: int = setting(
        "athenaCutoffMb", "Bytes one Athena query may scan before it is cancelled, MB (at least 10, AWS's minimum).",
        1000,
    )  # fmt: skip
    etl_schedule: str = setting(
        "etlSchedule", "When the raw-to-Parquet Glue job runs: a Glue cron expression, cron(min h dom mon dow yr).",
        "cron(15 * * * ? *)",
    )  # fmt: skip
    glue_version: Literal["4.0", "5.0"] = setting(
        "glueVersion", "Glue version of the ETL job: 4.0 or 5.0.", "5.0"
    )
    glue_worker_type: Literal["G.1X", "G.2X"] = setting(
        "glueWorkerType", "Glue worker type of the ETL job: G.1X or G.2X.", "G.1X"
    )
    glue_workers: int = setting("glueWorkers", "Glue workers of the ETL job (2-20).", 2)
    crawler: bool = setting(
        "crawler",
        "A Glue crawler over the curated zone (the tables are explicit; for schema drift only).",
        False,
    )
    log_retention_days: int = setting(
        "logRetentionDays", "CloudWatch retention of the Firehose and Glue logs (a CloudWatch value).", 30
    )
    kms_deletion_window_days: int = setting(
        "kmsDeletionWindowDays", "Waiting period before a deleted lake key is gone, days (7-30).", 30
    )
    create_catalog_settings: bool = setting(
        "createCatalogSettings", "Own the account's Glue Data Catalog encryption (and, with lakeFormation, the Lake "
        "Formation settings) in this region; one stack per account owns them, like createOidcProvider.",
        True,
    )  # fmt: skip
    lake_formation: bool = setting(
        "lakeFormation", "Govern the lake with Lake Formation: register the bucket, grant each principal its tables.",
        False,
    )  # fmt: skip
    lake_formation_admins: tuple[str, ...] = setting(
        "lakeFormationAdmins", "IAM role ARNs made Lake Formation administrators besides the deploy role "
        "(with createCatalogSettings; the list replaces the account's admins).", (),
    )  # fmt: skip
    quicksight: bool = setting(
        "quicksight", "QuickSight Athena data source and orders data set (needs the account's QuickSight "
        "subscription, a documented prerequisite).", False,
    )  # fmt: skip
    quicksight_principal: str = setting(
        "quicksightPrincipal", "ARN of the QuickSight user or group that owns the data source and data set "
        "(arn:aws:quicksight:<region>:<account>:user|group/<namespace>/<name>).", "",
    )  # fmt: skip
    sagemaker: bool = setting(
        "sagemaker", "A SageMaker Studio domain (VpcOnly, private subnets) reading the curated zone.", False
    )


class Context(Stack, Protocol):
    """What the lake rules read: this area and the network's interface endpoints."""

    @property
    def lake(self) -> LakeSettings: ...
    @property
    def network(self) -> NetworkSettings: ...


def lake_rules(s: Context, problems: list[str]) -> None:
    lk, k = s.lake, "lake"
    if not lk.enabled:
        for flag in ("lake_formation", "quicksight", "sagemaker"):
            if getattr(lk, flag):
                key = {"lake_formation": "lakeFormation"}.get(flag, flag)
                problems.append(f"{k}.{key}: true with lake.enabled false; the flag needs the lake")
        return
    if lk.raw_ia_days < S3_IA_MIN_DAYS:
        problems.append(f"{k}.rawIaDays: {lk.raw_ia_days} is too soon; S3 moves objects to Standard-IA only after "
                        f"{S3_IA_MIN_DAYS} days or more")  # fmt: skip
    if lk.raw_glacier_days <= lk.raw_ia_days:
        problems.append(f"{k}.rawGlacierDays: {lk.raw_glacier_days} must be after rawIaDays {lk.raw_ia_days}")
    if lk.raw_expiration_days and lk.raw_expiration_days <= lk.raw_glacier_days:
        problems.append(f"{k}.rawExpirationDays: {lk.raw_expiration_days} must be 0 (keep) or after rawGlacierDays "
                        f"{lk.raw_glacier_days}")  # fmt: skip
    in_range(problems, f"{k}.resultsExpirationDays", lk.results_expiration_days, 1, 365, " days")
    in_range(problems, f"{k}.firehoseBufferMb", lk.firehose_buffer_mb, *FIREHOSE_BUFFER_MB_RANGE, " MiB")
    in_range(problems, f"{k}.firehoseBufferSeconds", lk.firehose_buffer_seconds, *FIREHOSE_BUFFER_SECONDS_RANGE,
              " seconds")  # fmt: skip
    if lk.athena_cutoff_mb < ATHENA_MIN_CUTOFF_MB:
        problems.append(f"{k}.athenaCutoffMb: {lk.athena_cutoff_mb} is below Athena's minimum per-query cutoff; "
                        f"allowed: {ATHENA_MIN_CUTOFF_MB} MB or more")  # fmt: skip
    if not _GLUE_CRON.fullmatch(lk.etl_schedule):
        problems.append(f"{k}.etlSchedule: {lk.etl_schedule!r} is not a Glue cron expression; expected six fields "
                        "as in cron(15 * * * ? *)")  # fmt: skip
    in_range(problems, f"{k}.glueWorkers", lk.glue_workers, 2, 20, " workers")
    if lk.log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(f"{k}.logRetentionDays: {lk.log_retention_days} is not a CloudWatch retention; "
                        f"allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}")  # fmt: skip
    in_range(problems, f"{k}.kmsDeletionWindowDays", lk.kms_deletion_window_days, 7, 30, " days")
    for i, arn in enumerate(lk.lake_formation_admins):
        if not _IAM_ROLE_ARN.fullmatch(arn):
            problems.append(f"{k}.lakeFormationAdmins[{i}]: {arn!r} is not an IAM role ARN "
                            "(arn:aws:iam::<account>:role/<name>)")  # fmt: skip
    if lk.lake_formation_admins and not (lk.lake_formation and lk.create_catalog_settings):
        problems.append(f"{k}.lakeFormationAdmins: set, but only the stack with lakeFormation and "
                        "createCatalogSettings true writes the account's Lake Formation admins")  # fmt: skip
    if lk.quicksight and not _QUICKSIGHT_PRINCIPAL.fullmatch(lk.quicksight_principal):
        problems.append(f"{k}.quicksightPrincipal: {lk.quicksight_principal!r} with quicksight true; expected the ARN "
                        "of a QuickSight user or group, arn:aws:quicksight:<region>:<account>:user/default/<name>")  # fmt: skip
    if lk.sagemaker:
        missing = [e for e in SAGEMAKER_SHARED_ENDPOINTS if e not in s.network.interface_endpoints]
        if missing:
            problems.append(f"{k}.sagemaker: true, but network.interfaceEndpoints lacks {', '.join(missing)}; a "
                            "VpcOnly domain reaches those services only through endpoints")  # fmt: skip
