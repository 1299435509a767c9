"""AnalyticsLake: settings, storage through the private-bucket helper, the order-event path from the order service's
`sns:Publish` to a table Athena queries, Glue, Athena, the account-level owner flag, and (in a test stack config
with every flag on) Lake Formation, QuickSight and SageMaker, checked by the policy pack and the mutation suite."""

from __future__ import annotations

import ast
import hashlib
import json
import py_compile
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from components import lake as lake_module
from components.config import SettingsError
from tests.conftest import Resources, settings_for
from tests.policies.mutation import MUTANTS, render, run_mutants
from tools.offline.engine import ROOT, build_plan, stack_area
from tools.offline.policy_run import PolicySession

NS = "ecommerce-platform"
STACKS = ("dev", "prod")
LAKE = "ecommerce:analytics:AnalyticsLake"
QUICKSIGHT_GROUP = "arn:aws:quicksight:us-east-2:123456789012:group/default/analysts"
ADMIN = "arn:aws:iam::123456789012:role/data-platform-admin"


def stack_lake(stack: str) -> dict[str, Any]:
    return stack_area(stack, "lake")


#: The test stack config: prod's lake with every flag on (Lake Formation, QuickSight, SageMaker, the crawler).
FULL = {
    f"{NS}:lake": {
        **stack_lake("prod"),
        "lakeFormation": True,
        "quicksight": True,
        "quicksightPrincipal": QUICKSIGHT_GROUP,
        "sagemaker": True,
        "crawler": True,
        "lakeFormationAdmins": [ADMIN],
    }
}

_FULL: dict[str, Any] = {}


@pytest.fixture(scope="module")
def full_plan() -> dict[str, Any]:
    if not _FULL:
        _FULL.update(build_plan("prod", FULL))
    return _FULL


@pytest.fixture(scope="module")
def full(full_plan: dict[str, Any]) -> Resources:
    return Resources(full_plan["resources"])


def lake_of(r: Resources) -> list[dict[str, Any]]:
    comp = r.of_type(LAKE)
    assert len(comp) == 1, f"expected one AnalyticsLake, found {[c['urn'] for c in comp]}"
    return [x for x in r if x["parent"] == comp[0]["urn"]]


def one(r: Resources, typ: str, name_has: str = "") -> dict[str, Any]:
    found = [x for x in r.of_type(typ) if name_has in x["name"]]
    assert len(found) == 1, f"expected one {typ} named *{name_has}*, found {[x['urn'] for x in found]}"
    return found[0]


def doc(resource: dict[str, Any], prop: str = "policy") -> dict[str, Any]:
    return dict(json.loads(resource["inputs"][prop]))


def statements(r: Resources, role_policy_name: str) -> list[dict[str, Any]]:
    return list(doc(r.named(role_policy_name, "aws:iam/rolePolicy:RolePolicy"))["Statement"])


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# -- settings ----------------------------------------------------------------------------------------------------

BAD_LAKE = [
    ({"rawIaDays": 10}, "lake.rawIaDays: 10 is too soon"),
    ({"rawGlacierDays": 30}, "lake.rawGlacierDays"),
    ({"rawExpirationDays": 60}, "lake.rawExpirationDays"),
    ({"resultsExpirationDays": 0}, "lake.resultsExpirationDays"),
    ({"firehoseBufferMb": 129}, "lake.firehoseBufferMb"),
    ({"firehoseBufferSeconds": 901}, "lake.firehoseBufferSeconds"),
    ({"athenaCutoffMb": 5}, "lake.athenaCutoffMb: 5 is below Athena's minimum"),
    ({"etlSchedule": "rate(1 hour)"}, "lake.etlSchedule"),
    ({"glueVersion": "3.0"}, "lake.glueVersion: '3.0' is not allowed"),
    ({"glueWorkers": 1}, "lake.glueWorkers"),
    ({"logRetentionDays": 10}, "lake.logRetentionDays"),
    ({"kmsDeletionWindowDays": 3}, "lake.kmsDeletionWindowDays"),
    ({"quicksight": True, "quicksightPrincipal": ""}, "lake.quicksightPrincipal"),
    ({"quicksight": True, "quicksightPrincipal": "analysts"}, "lake.quicksightPrincipal"),
    ({"lakeFormationAdmins": ["arn:aws:iam::123456789012:user/bob"]}, "lake.lakeFormationAdmins[0]"),
    ({"enabled": False, "sagemaker": True}, "lake.sagemaker: true with lake.enabled false"),
    ({"crawlers": True}, "lake.crawlers: unknown key"),
]


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize(("change", "expected"), BAD_LAKE, ids=[e for _, e in BAD_LAKE])
def test_bad_lake_setting_fails_naming_the_key(stack: str, change: dict[str, Any], expected: str) -> None:
    with pytest.raises(SettingsError) as err:
        settings_for(stack, {f"{NS}:lake": {**stack_lake(stack), **change}})
    assert expected in str(err.value), f"{stack}: {change} should fail with {expected!r}; got: {err.value}"


def test_lake_formation_admins_only_where_the_account_settings_are_written() -> None:
    with pytest.raises(SettingsError, match=r"lake\.lakeFormationAdmins: set, but only the stack"):
        settings_for("dev", {f"{NS}:lake": {**stack_lake("dev"), "lakeFormationAdmins": [ADMIN]}})


def test_sagemaker_needs_the_shared_endpoints_in_the_network() -> None:
    net = dict(yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"][f"{NS}:network"])
    net["interfaceEndpoints"] = ["ec2", "ecr.api", "ecr.dkr", "eks", "eks-auth", "elasticloadbalancing",
                                 "autoscaling", "secretsmanager", "sns", "sqs"]  # fmt: skip
    with pytest.raises(
        SettingsError, match=r"lake\.sagemaker: true, but network\.interfaceEndpoints lacks sts"
    ):
        settings_for("prod", {**FULL, f"{NS}:network": net})


def test_stack_files_set_the_lake_as_designed() -> None:
    dev, prod = settings_for("dev").lake, settings_for("prod").lake
    assert dev.enabled and prod.enabled
    # One owner per account for the catalog's encryption, as for the OIDC provider: prod.
    assert (dev.create_catalog_settings, prod.create_catalog_settings) == (False, True)
    assert not (dev.quicksight or dev.sagemaker or dev.lake_formation), "dev: QuickSight, SageMaker, LF off"
    assert prod.raw_expiration_days == 0 and dev.raw_expiration_days > 0, (
        "prod keeps raw events, dev expires them"
    )


# -- storage -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_lake_buckets_go_through_the_private_bucket_helper(
    stack: str, resources: Callable[[str], Resources]
) -> None:
    r = resources(stack)
    key_arn = r.named("ecommerce-lake-key", "aws:kms/key:Key")["outputs"]["arn"]
    for name, bucket_name in (("ecommerce-lake-bucket", f"ecommerce-{stack}-lake-123456789012"),
                              ("ecommerce-lake-results", f"ecommerce-{stack}-lake-results-123456789012")):  # fmt: skip
        b = r.named(name, "aws:s3/bucket:Bucket")
        assert b["inputs"]["bucket"] == bucket_name, f"{b['urn']}: per-stack, per-account name"
        sse = r.named(
            name, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
        rule = sse["inputs"]["rules"][0]
        assert rule["applyServerSideEncryptionByDefault"] == {
            "sseAlgorithm": "aws:kms",
            "kmsMasterKeyId": key_arn,
        }
        assert rule["bucketKeyEnabled"] is True, f"{sse['urn']}: bucket key on"
        pab = r.named(name, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")["inputs"]
        assert all(pab[f] for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                    "restrictPublicBuckets")), f"{b['urn']}: all four flags"  # fmt: skip
        policy = doc(r.named(name, "aws:s3/bucketPolicy:BucketPolicy"))
        assert any(s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
                   for s in policy["Statement"]), f"{b['urn']}: TLS only"  # fmt: skip
        assert r.named(name, "aws:s3/bucketVersioning:BucketVersioning")["inputs"][
            "versioningConfiguration"
        ] == {"status": "Enabled"}
    lake = r.named("ecommerce-lake-bucket", "aws:s3/bucket:Bucket")
    assert lake["protect"] is (stack == "prod"), f"{lake['urn']}: the lake's data is protected in prod"
    rules = {x["id"]: x for x in r.named("ecommerce-lake-bucket", "aws:s3/bucketLifecycleConfiguration:"
                                         "BucketLifecycleConfiguration")["inputs"]["rules"]}  # fmt: skip
    s = settings_for(stack).lake
    assert rules["raw-to-cold-storage"]["filter"] == {"prefix": "raw/"}
    assert rules["raw-to-cold-storage"]["transitions"] == [
        {"days": s.raw_ia_days, "storageClass": "STANDARD_IA"},
        {"days": s.raw_glacier_days, "storageClass": "GLACIER"},
    ], "raw zone: IA then Glacier after the configured days"
    results = r.named(
        "ecommerce-lake-results", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    )
    assert results["inputs"]["rules"][0]["expiration"] == {"days": s.results_expiration_days}, results["urn"]


# -- the order-event path ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_an_order_event_reaches_a_table_athena_can_query(
    stack: str, resources: Callable[[str], Resources]
) -> None:
    """Follow the references in the plan: order service role -> topic -> subscription -> stream -> raw prefix ->
    raw table and Glue job -> curated prefix -> curated table -> database -> workgroup and named queries."""
    r = resources(stack)
    # 1. The order service's IRSA role may publish to exactly one topic, and it is the order-events topic.
    order_role = r.named("ecommerce-mesh-svc-order", "aws:iam/role:Role")
    trust = json.dumps(doc(order_role, "assumeRolePolicy"))
    assert "system:serviceaccount:ecommerce:order" in trust, (
        f"{order_role['urn']}: the order service's own SA"
    )
    (publish,) = [
        s for s in statements(r, "ecommerce-mesh-svc-order") if "sns:Publish" in as_list(s["Action"])
    ]
    (topic_arn,) = as_list(publish["Resource"])
    topic = r.by_id(topic_arn)
    assert topic["name"] == "ecommerce-data-order-events", f"{order_role['urn']} publishes to {topic_arn}"
    # 2. A Firehose subscription on that topic, through its own role, with a DLQ that admits the topic.
    subs = [s for s in r.of_type("aws:sns/topicSubscription:TopicSubscription") if s["inputs"]["topic"] == topic_arn
            and s["inputs"]["protocol"] == "firehose"]  # fmt: skip
    assert len(subs) == 1, f"expected one Firehose subscription on {topic_arn}: {[s['urn'] for s in subs]}"
    sub = subs[0]["inputs"]
    stream = r.by_id(sub["endpoint"])
    assert stream["type"] == "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", subs[0]["urn"]
    # 3. The stream writes the raw prefix of the lake bucket.
    s3 = stream["inputs"]["extendedS3Configuration"]
    bucket = next(b for b in r.of_type("aws:s3/bucket:Bucket") if b["outputs"]["arn"] == s3["bucketArn"])
    assert bucket["name"] == "ecommerce-lake-bucket", f"{stream['urn']}: writes the lake bucket"
    raw_prefix = s3["prefix"].split("dt=")[0]
    assert raw_prefix == lake_module.RAW_PREFIX, f"{stream['urn']}: {s3['prefix']}"
    lake_uri = f"s3://{bucket['inputs']['bucket']}/"
    # 4. The raw table reads that prefix; the Glue job reads it too and writes the curated table's prefix.
    tables = {t["inputs"]["name"]: t for t in r.of_type("aws:glue/catalogTable:CatalogTable")}
    raw, curated = tables[lake_module.RAW_TABLE], tables[lake_module.CURATED_TABLE]
    assert raw["inputs"]["storageDescriptor"]["location"] == lake_uri + raw_prefix, raw["urn"]
    job = one(r, "aws:glue/job:Job")
    args = job["inputs"]["defaultArguments"]
    assert args["--RAW_PATH"] == lake_uri + raw_prefix, f"{job['urn']}: reads what Firehose writes"
    assert args["--CURATED_PATH"] == curated["inputs"]["storageDescriptor"]["location"], job["urn"]
    # 5. Both tables are in the stack's database, which the workgroup's named queries use.
    database = one(r, "aws:glue/catalogDatabase:CatalogDatabase")
    assert raw["inputs"]["databaseName"] == curated["inputs"]["databaseName"] == database["inputs"]["name"]
    workgroup = one(r, "aws:athena/workgroup:Workgroup")
    queries = r.of_type("aws:athena/namedQuery:NamedQuery")
    assert len(queries) == 3, [q["urn"] for q in queries]
    for q in queries:
        assert q["inputs"]["workgroup"] == workgroup["inputs"]["name"], q["urn"]
        assert f'"{database["inputs"]["name"]}"."{lake_module.CURATED_TABLE}"' in q["inputs"]["query"], q[
            "urn"
        ]


@pytest.mark.parametrize("stack", STACKS)
def test_subscription_role_dlq_and_stream_follow_aws(
    stack: str, resources: Callable[[str], Resources]
) -> None:
    r = resources(stack)
    sub = r.named("ecommerce-lake-order-events", "aws:sns/topicSubscription:TopicSubscription")
    i, u = sub["inputs"], sub["urn"]
    role = r.by_id(i["subscriptionRoleArn"].rsplit("/", 1)[-1])
    (trust,) = doc(role, "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "sns.amazonaws.com"}, f"{u}: SNS assumes the subscription role"
    assert "Condition" not in trust, (
        f"{u}: the trust SNS documents (no context keys SNS is not known to send)"
    )
    (put,) = statements(r, "ecommerce-lake-subscription")
    assert put["Resource"] == i["endpoint"], f"{u}: SNS may put only into this stream"
    assert (
        "firehose:PutRecordBatch" in put["Action"] and "firehose:DeleteDeliveryStream" not in put["Action"]
    ), u
    assert i["rawMessageDelivery"] is False, f"{u}: the SNS envelope is what the raw table reads"
    dlq_arn = json.loads(i["redrivePolicy"])["deadLetterTargetArn"]
    dlq = next(q for q in r.of_type("aws:sqs/queue:Queue") if q["outputs"]["arn"] == dlq_arn)
    messaging = r.named("ecommerce-data-messaging-key", "aws:kms/key:Key")["outputs"]["arn"]
    assert dlq["inputs"]["kmsMasterKeyId"] == messaging, (
        f"{dlq['urn']}: the topic's data class, the topic's key"
    )
    qp = next(p for p in r.of_type("aws:sqs/queuePolicy:QueuePolicy") if p["inputs"]["queueUrl"] == dlq["id"])
    allow = next(s for s in doc(qp)["Statement"] if s["Effect"] == "Allow")
    assert allow["Principal"] == {"Service": "sns.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"] == i["topic"], f"{qp['urn']}: only the topic"
    assert set(sub["dependencies"]) >= {qp["urn"], r.named("ecommerce-lake-subscription",
                                                           "aws:iam/rolePolicy:RolePolicy")["urn"]}, u  # fmt: skip
    stream = r.named(
        "ecommerce-lake-order-events", "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
    )
    si, key = stream["inputs"], r.named("ecommerce-lake-key", "aws:kms/key:Key")["outputs"]["arn"]
    assert si["serverSideEncryption"] == {"enabled": True, "keyType": "CUSTOMER_MANAGED_CMK", "keyArn": key}
    s3, s = si["extendedS3Configuration"], settings_for(stack).lake
    assert s3["prefix"] == "raw/order-events/dt=!{timestamp:yyyy-MM-dd}/", stream["urn"]
    # Firehose requires an error prefix with the error-output-type expression when the prefix uses expressions.
    assert "!{firehose:error-output-type}" in s3["errorOutputPrefix"], stream["urn"]
    assert (s3["bufferingSize"], s3["bufferingInterval"]) == (s.firehose_buffer_mb, s.firehose_buffer_seconds)
    assert s3["kmsKeyArn"] == key and s3["cloudwatchLoggingOptions"]["enabled"] is True, stream["urn"]
    assert "dynamicPartitioningConfiguration" not in s3, f"{stream['urn']}: timestamp prefix, not dynamic"


@pytest.mark.parametrize("stack", STACKS)
def test_firehose_role_writes_only_its_prefixes_with_only_the_lake_key(
    stack: str, resources: Callable[[str], Resources]
) -> None:
    r = resources(stack)
    bucket = r.named("ecommerce-lake-bucket", "aws:s3/bucket:Bucket")["outputs"]["arn"]
    key = r.named("ecommerce-lake-key", "aws:kms/key:Key")["outputs"]["arn"]
    (trust,) = doc(r.named("ecommerce-lake-firehose", "aws:iam/role:Role"), "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": "123456789012"}}, (
        "Firehose passes the account id as sts:ExternalId when it assumes its delivery role"
    )
    by_sid = {s["Sid"]: s for s in statements(r, "ecommerce-lake-firehose")}
    assert sorted(as_list(by_sid["WriteRawOrderEventsOnly"]["Resource"])) == [
        f"{bucket}/errors/order-events/*",
        f"{bucket}/raw/order-events/*",
    ], "Firehose writes its raw and error prefixes, nothing else"
    kms = by_sid["EncryptRawObjectsWithLakeKey"]
    assert kms["Resource"] == key, "only the lake key"
    assert kms["Condition"]["StringEquals"]["kms:ViaService"] == "s3.us-east-2.amazonaws.com", (
        "only through S3"
    )
    # S3 Bucket Keys: the encryption context S3 sends to KMS is the bucket ARN, so an object-ARN pattern would
    # deny every write of the stream.
    assert kms["Condition"]["StringEquals"]["kms:EncryptionContext:aws:s3:arn"] == bucket, (
        "with a bucket key, the KMS encryption context is the bucket's ARN"
    )


# -- Glue and Athena -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_glue_job_runs_encrypted_on_schedule_with_bookmarks(
    stack: str, resources: Callable[[str], Resources]
) -> None:
    r = resources(stack)
    s = settings_for(stack).lake
    job = one(r, "aws:glue/job:Job")
    i, u = job["inputs"], job["urn"]
    sec = one(r, "aws:glue/securityConfiguration:SecurityConfiguration")
    assert i["securityConfiguration"] == sec["inputs"]["name"], (
        f"{u}: under the lake's security configuration"
    )
    enc = sec["inputs"]["encryptionConfiguration"]
    assert enc["jobBookmarksEncryption"]["jobBookmarksEncryptionMode"] == "CSE-KMS", sec["urn"]
    assert (
        enc["s3Encryption"]["s3EncryptionMode"]
        == enc["cloudwatchEncryption"]["cloudwatchEncryptionMode"]
        == ("SSE-KMS")
    )
    assert i["defaultArguments"]["--job-bookmark-option"] == "job-bookmark-enable", f"{u}: bookmarks"
    assert (i["glueVersion"], i["numberOfWorkers"]) == (s.glue_version, s.glue_workers), u
    script = r.named("ecommerce-lake-job-script", "aws:s3/bucketObjectv2:BucketObjectv2")["inputs"]
    # The plan records a file asset by its path from the program's folder and its content hash, as the engine diffs it.
    assert script["source"]["path"] == str(lake_module.JOB_SCRIPT.relative_to(ROOT)), (
        "the repository's script"
    )
    assert script["source"]["hash"] == hashlib.sha256(lake_module.JOB_SCRIPT.read_bytes()).hexdigest(), (
        "its content"
    )
    assert i["command"]["scriptLocation"].endswith(script["key"]), f"{u}: runs the uploaded script"
    trigger = one(r, "aws:glue/trigger:Trigger")["inputs"]
    assert trigger["schedule"] == s.etl_schedule and trigger["actions"][0]["jobName"] == i["name"]
    # The job reads raw, writes curated and temp; nothing else of the bucket.
    by_sid = {st["Sid"]: st for st in statements(r, "ecommerce-lake-glue-job")}
    assert all(
        "/curated/" in x or "/glue/temp/" in x for x in as_list(by_sid["WriteCuratedAndTemp"]["Resource"])
    )
    for table in r.of_type("aws:glue/catalogTable:CatalogTable"):
        p = table["inputs"]["parameters"]
        assert p["projection.enabled"] == "true" and p["projection.dt.type"] == "date", table["urn"]
        assert (
            p["storage.location.template"] == table["inputs"]["storageDescriptor"]["location"] + "dt=${dt}/"
        )
    assert not r.of_type("aws:glue/crawler:Crawler"), "no crawler unless lake.crawler"


def test_job_script_compiles_and_matches_what_the_component_configures() -> None:
    path = lake_module.JOB_SCRIPT
    py_compile.compile(str(path), doraise=True)
    tree = ast.parse(path.read_text())
    consts = {
        t.id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name) and t.id in ("CURATED_COLUMNS", "PARTITION")
    }
    assert consts["CURATED_COLUMNS"] == tuple(c for c, _ in lake_module.CURATED_COLUMNS), (
        "the script writes the curated table's columns, in order"
    )
    assert consts["PARTITION"] == "dt", "the script partitions by the tables' partition key"
    text = path.read_text()
    for arg in ("RAW_PATH", "CURATED_PATH"):
        assert f'"{arg}"' in text, f"the script reads the job argument --{arg}"
    for field in ("Type", "MessageId", "Message", "Timestamp"):
        assert f'"{field}"' in text, f"the script reads the SNS envelope's {field} (the raw table's columns)"
    assert {c for c, _ in lake_module.RAW_COLUMNS} == {
        "type",
        "messageid",
        "topicarn",
        "message",
        "timestamp",
    }


@pytest.mark.parametrize("stack", STACKS)
def test_workgroup_enforces_kms_results_and_the_scan_cutoff(
    stack: str, resources: Callable[[str], Resources]
) -> None:
    r = resources(stack)
    wg = one(r, "aws:athena/workgroup:Workgroup")
    c, u = wg["inputs"]["configuration"], wg["urn"]
    key = r.named("ecommerce-lake-key", "aws:kms/key:Key")["outputs"]["arn"]
    assert c["enforceWorkgroupConfiguration"] is True, f"{u}: clients cannot override"
    assert c["resultConfiguration"]["encryptionConfiguration"] == {
        "encryptionOption": "SSE_KMS",
        "kmsKeyArn": key,
    }
    results = r.named("ecommerce-lake-results", "aws:s3/bucket:Bucket")["inputs"]["bucket"]
    assert c["resultConfiguration"]["outputLocation"] == f"s3://{results}/", u
    # Athena's minimum BytesScannedCutoffPerQuery is 10 MB (10000000 bytes).
    assert (
        c["bytesScannedCutoffPerQuery"] == settings_for(stack).lake.athena_cutoff_mb * 1_000_000 >= 10_000_000
    )
    assert c["engineVersion"] == {"selectedEngineVersion": "Athena engine version 3"}, f"{u}: pinned"
    assert wg["inputs"]["name"] == f"ecommerce-{stack}-lake", f"{u}: per-stack name"


@pytest.mark.parametrize("stack", STACKS)
def test_catalog_encryption_only_in_the_owner_stack(
    stack: str, resources: Callable[[str], Resources]
) -> None:
    r = resources(stack)
    found = r.of_type("aws:glue/dataCatalogEncryptionSettings:DataCatalogEncryptionSettings")
    if stack == "dev":
        assert not found, "dev does not own the account's catalog settings (lake.createCatalogSettings false)"
        return
    (settings,) = found
    rest = settings["inputs"]["dataCatalogEncryptionSettings"]["encryptionAtRest"]
    role = r.by_id(rest["catalogEncryptionServiceRole"].rsplit("/", 1)[-1])
    assert rest["catalogEncryptionMode"] == "SSE-KMS-WITH-SERVICE-ROLE", settings["urn"]
    assert doc(role, "assumeRolePolicy")["Statement"][0]["Principal"] == {"Service": "glue.amazonaws.com"}
    key = r.named("ecommerce-lake-catalog-key", "aws:kms/key:Key")
    assert rest["sseAwsKmsKeyId"] == key["outputs"]["arn"], settings["urn"]
    assert key["protect"] and key["retainOnDelete"], f"{key['urn']}: every stack's catalog depends on it"


def test_no_lake_when_disabled() -> None:
    plan = build_plan("dev", {f"{NS}:lake": {**stack_lake("dev"), "enabled": False}})
    assert not [x["urn"] for x in plan["resources"] if "AnalyticsLake" in x["urn"]]
    assert "lake" not in plan["outputs"]


@pytest.mark.parametrize("stack", STACKS)
def test_stack_exports_the_lake_contract(stack: str, plan: Callable[[str], dict[str, Any]]) -> None:
    out = plan(stack)["outputs"]["lake"]
    assert out["streamName"] == f"ecommerce-{stack}-order-events" and out["jobName"].endswith(
        "orders-to-parquet"
    )
    assert out["streamArn"].startswith("arn:aws:firehose:us-east-2:123456789012:deliverystream/"), out
    assert set(out) >= {"bucket", "resultsBucket", "database", "workgroup", "deadLetterQueueArn"}


@pytest.mark.parametrize("stack", [*STACKS, "full"])
def test_every_lake_policy_names_its_resources(
    stack: str, resources: Callable[[str], Resources], full: Resources
) -> None:
    r = full if stack == "full" else resources(stack)
    allowed_star = {"cloudwatch:PutMetricData", "lakeformation:GetDataAccess"}
    for p in (x for x in lake_of(r) if x["type"] == "aws:iam/rolePolicy:RolePolicy"):
        for st in doc(p)["Statement"]:
            if "*" in as_list(st["Resource"]):
                assert set(as_list(st["Action"])) <= allowed_star, f"{p['urn']}: {st['Sid']} on '*'"
            assert not any(a.endswith(":*") for a in as_list(st["Action"])), f"{p['urn']}: {st['Sid']}"


# -- the test stack config: every flag on -----------------------------------------------------------------------------


def test_full_config_builds_lake_formation_quicksight_and_sagemaker(full: Resources) -> None:
    mine = lake_of(full)
    types = {x["type"] for x in mine}
    for typ in ("aws:lakeformation/dataLakeSettings:DataLakeSettings", "aws:lakeformation/resource:Resource",
                "aws:lakeformation/permissions:Permissions", "aws:quicksight/dataSource:DataSource",
                "aws:quicksight/dataSet:DataSet", "aws:sagemaker/domain:Domain",
                "aws:sagemaker/userProfile:UserProfile", "aws:glue/crawler:Crawler"):  # fmt: skip
        assert typ in types, f"the full config builds a {typ}"
    lf = one(full, "aws:lakeformation/dataLakeSettings:DataLakeSettings")
    deploy = full.named("ecommerce-delivery-deploy", "aws:iam/role:Role")["outputs"]["arn"]
    assert lf["inputs"]["admins"] == [deploy, ADMIN], f"{lf['urn']}: the deploy role stays an admin"
    # pulumi-aws #4366: an update does not clear default permissions, so a change replaces the settings.
    assert lf["deleteBeforeReplace"], lf["urn"]
    for grant in full.of_type("aws:lakeformation/permissions:Permissions"):
        assert lf["urn"] in grant["dependencies"], f"{grant['urn']}: granted after the deployer is an admin"
    source = one(full, "aws:quicksight/dataSource:DataSource")["inputs"]
    qs_role = full.named("ecommerce-lake-quicksight", "aws:iam/role:Role")["outputs"]["arn"]
    assert source["type"] == "ATHENA" and source["parameters"]["athena"]["roleArn"] == qs_role
    assert source["permissions"][0]["principal"] == QUICKSIGHT_GROUP
    data_set = one(full, "aws:quicksight/dataSet:DataSet")["inputs"]
    assert data_set["physicalTableMaps"][0]["relationalTable"]["name"] == lake_module.CURATED_TABLE


def test_sagemaker_is_vpc_only_in_the_private_subnets_with_only_its_endpoints(full: Resources) -> None:
    domain = one(full, "aws:sagemaker/domain:Domain")
    i, u = domain["inputs"], domain["urn"]
    private = {s["id"] for s in full.primary().of_type("aws:ec2/subnet:Subnet") if "private" in s["name"]}
    assert i["appNetworkAccessType"] == "VpcOnly" and set(i["subnetIds"]) == private, u
    assert i["kmsKeyId"] == full.named("ecommerce-lake-key", "aws:kms/key:Key")["outputs"]["arn"], u
    assert i["defaultUserSettings"]["securityGroups"], f"{u}: VpcOnly needs the apps' security groups"
    endpoints = [e for e in lake_of(full) if e["type"] == "aws:ec2/vpcEndpoint:VpcEndpoint"]
    assert sorted(e["inputs"]["serviceName"] for e in endpoints) == [
        "aws.sagemaker.us-east-2.studio",
        "com.amazonaws.us-east-2.sagemaker.api",
        "com.amazonaws.us-east-2.sagemaker.runtime",
    ], "the SageMaker API, runtime and Studio endpoints, and only those"
    s3_out = full.named("ecommerce-lake-sagemaker-domain-out-s3")["inputs"]
    assert s3_out["prefixListId"] == "pl-7ba54012", (
        "Studio reaches S3 through the gateway endpoint's prefixes"
    )
    by_sid = {s["Sid"]: s for s in statements(full, "ecommerce-lake-sagemaker")}
    every_resource = json.dumps([s["Resource"] for s in by_sid.values()])
    assert "/raw/" not in every_resource and "raw_order_events" not in every_resource, (
        "the SageMaker execution role reads nothing of the raw zone"
    )
    assert as_list(by_sid["ReadCuratedOnly"]["Resource"])[0].endswith("/curated/order-events/*")


def test_full_config_passes_the_pack_and_its_lake_mutants_are_caught(full_plan: dict[str, Any]) -> None:
    lake_mutants = [m for m in MUTANTS if m.area == "analytics"]
    with PolicySession.for_plan(full_plan) as session:
        report = session.analyze(full_plan)
        assert not report.mandatory, "\n".join(f"{d.policy}: {d.message}" for d in report.mandatory)
        outcomes = run_mutants(session, full_plan, lake_mutants, baseline_report=report)
    assert all(o.applicable and o.caught for o in outcomes), render(outcomes)


@pytest.mark.parametrize("stack", STACKS)
def test_the_deploy_role_can_create_the_lake_and_pass_its_roles(
    stack: str, resources: Callable[[str], Resources]
) -> None:
    """`pulumi up` from CI creates Firehose, Lake Formation, QuickSight and SageMaker resources and hands roles to
    Firehose, SNS (SubscriptionRoleArn), Lake Formation (RegisterResource) and QuickSight (AthenaParameters)."""
    by_sid = {s["Sid"]: s for s in statements(resources(stack), "ecommerce-delivery-deploy")}
    actions = set(as_list(by_sid["ManagePlatformServices"]["Action"]))
    for service in ("firehose", "glue", "athena", "lakeformation", "quicksight", "sagemaker"):
        assert f"{service}:*" in actions, f"the deploy role cannot manage {service}"
    passed = set(
        as_list(
            by_sid["PassPlatformRolesToTheirServices"]["Condition"]["StringEquals"]["iam:PassedToService"]
        )
    )
    for service in ("firehose", "sns", "glue", "lakeformation", "quicksight", "sagemaker"):
        assert f"{service}.amazonaws.com" in passed, (
            f"the deploy role cannot pass the lake's role to {service}"
        )
