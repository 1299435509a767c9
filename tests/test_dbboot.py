"""The database bootstrap Job (k8s/dbboot.py, components/mesh/bootstrap.py): databases and IAM logins in the deploy.

Pure-function tests for the SQL, the secret-to-.pgpass step and the names; a real PostgreSQL (when the machine has
one) runs the SQL twice as a non-superuser master; whole-stack tests read the dev and prod plans and join the Job's
logins with the services' IAM policies, the master secret and the Aurora writer instance.
"""

from __future__ import annotations

import dataclasses
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.config import SettingsError
from components.contracts import DatabaseAdminAccess
from components.mesh import MeshNetwork, ServiceMesh
from k8s import capacity, dbboot
from k8s.catalogue import NAMESPACE
from tests.conftest import Resources, settings_for
from tests.mesh_support import fabricated_contract, listify, policy_doc
from tests.test_config import network
from tools.offline.engine import SECRET_SIG, SPECIAL_SIG, run_in_mocks

MESH = "ecommerce-mesh"
JOB, CONFIG_MAP = "kubernetes:batch/v1:Job", "kubernetes:core/v1:ConfigMap"
ROLE, ROLE_POLICY = "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"
ACCOUNT, REGION = "123456789012", "us-east-2"
LOGINS = dbboot.logins({"order": ("orders", "order_service"), "user-auth": ("users", "user_auth_service")})
STACKS = pytest.mark.parametrize("stack", ["dev", "prod"])
SECRET = {SPECIAL_SIG: SECRET_SIG, "value": "[secret]"}


def _job(res: Resources) -> dict[str, Any]:
    return res.named(f"{MESH}-{dbboot.NAME}", JOB)


def _sql(res: Resources) -> str:
    return str(res.named(f"{MESH}-{dbboot.NAME}-config", CONFIG_MAP)["inputs"]["data"]["bootstrap.sql"])


def _writer(res: Resources) -> dict[str, Any]:
    writers = [
        r
        for r in res.of_type("aws:rds/clusterInstance:ClusterInstance")
        if r["inputs"].get("promotionTier") == 0
    ]
    assert len(writers) == 1, [r["urn"] for r in writers]
    return writers[0]


def _aurora(res: Resources) -> dict[str, Any]:
    return res.named("ecommerce-data-aurora", "aws:rds/cluster:Cluster")


def _master_secret(res: Resources) -> tuple[str, str]:
    """(ARN, key ARN) of the secret holding the master credential: RDS's (dr.mode off, dev), or the DataTier's own
    for a global database's primary (prod's pilot light), which RDS cannot manage."""
    aurora = _aurora(res)
    if aurora["inputs"].get("manageMasterUserPassword"):
        return aurora["outputs"]["masterUserSecrets"][0]["secretArn"], aurora["inputs"][
            "masterUserSecretKmsKeyId"
        ]
    own = res.named("ecommerce-data-aurora-master", "aws:secretsmanager/secret:Secret")
    return own["outputs"]["arn"], own["inputs"]["kmsKeyId"]


# --- the SQL ---------------------------------------------------------------------------------------------------


def test_sql_is_idempotent_statement_by_statement() -> None:
    """Every create is guarded (CREATE DATABASE cannot run in a DO block: psql's \\gexec of a NOT EXISTS query)."""
    sql = dbboot.bootstrap_sql(LOGINS)
    lines = sql.splitlines()
    assert "\\set ON_ERROR_STOP on" in lines, "a failed statement must fail the Job (psql exits non-zero)"
    for i, line in enumerate(lines):
        if "CREATE DATABASE" in line:
            assert re.fullmatch(
                r"SELECT 'CREATE DATABASE (\w+)' WHERE NOT EXISTS "
                r"\(SELECT FROM pg_database WHERE datname = '\1'\)\\gexec",
                line,
            ), f"unguarded: {line}"
        if "CREATE ROLE" in line:
            assert lines[i - 1].strip().startswith("IF NOT EXISTS (SELECT FROM pg_roles"), (
                f"unguarded: {line}"
            )
            assert "DO $$" in lines[max(0, i - 3) : i], f"{line}: outside a DO block"
        assert not re.search(r"\b(DROP|TRUNCATE|DELETE|OWNER TO)\b", line), (
            f"destructive or ownership: {line}"
        )
    for login in LOGINS:
        assert f"GRANT rds_iam TO {login.role};" in lines, login
        assert f"REVOKE ALL ON DATABASE {login.database} FROM PUBLIC;" in lines, login
        # Membership of the master user in a login role would pass rds_iam on to it (nested grants count).
        assert not any(re.match(rf"GRANT {login.role} TO", line) for line in lines), login


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


@pytest.fixture(scope="module")
def postgres() -> Iterator[tuple[str, int]]:
    """A throw-away PostgreSQL on a Unix socket; root runs it as the `postgres` user (the server refuses root)."""
    initdb, pg_ctl, psql = _pg_bin("initdb"), _pg_bin("pg_ctl"), shutil.which("psql")
    if not (initdb and pg_ctl and psql):
        pytest.skip("no PostgreSQL server binaries on this machine")
    as_user: list[str] = []
    root = tempfile.mkdtemp(prefix="dbboot-pg-")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no `postgres` user to run the server as")
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
    port = 20000 + os.getpid() % 20000
    data = f"{root}/data"
    subprocess.run(
        [*as_user, initdb, "-D", data, "-A", "trust", "-U", "pgsuper"], check=True, capture_output=True
    )
    opts = f"-k {root} -c listen_addresses='' -p {port}"
    subprocess.run([*as_user, pg_ctl, "-D", data, "-o", opts, "-l", f"{root}/log", "-w", "start"], check=True,
                   capture_output=True)  # fmt: skip
    try:
        yield root, port
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _psql(pg: tuple[str, int], user: str, db: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["psql", "-X", "-h", pg[0], "-p", str(pg[1]), "-U", user, "-d", db, "-v", "ON_ERROR_STOP=1", *args],
        capture_output=True,
        text=True,
    )


def test_sql_runs_twice_on_postgres_and_confines_each_login_to_its_database(
    postgres: tuple[str, int],
) -> None:
    """The master user as RDS makes it (CREATEROLE, CREATEDB, not a superuser, admin of rds_iam), `orders` created
    with the cluster: the script succeeds twice, and each login reaches only its own database."""
    setup = _psql(
        postgres,
        "pgsuper",
        "postgres",
        "-c",
        "CREATE ROLE rds_iam; CREATE ROLE ecommerce_admin LOGIN CREATEROLE CREATEDB; "
        "GRANT rds_iam TO ecommerce_admin WITH ADMIN OPTION;",
        "-c",
        "CREATE DATABASE orders OWNER ecommerce_admin;",
    )
    assert setup.returncode == 0, setup.stderr
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(dbboot.bootstrap_sql(LOGINS))
    os.chmod(f.name, 0o644)
    for attempt in (1, 2):
        run = _psql(postgres, "ecommerce_admin", "postgres", "-f", f.name)
        assert run.returncode == 0, f"run {attempt} failed: {run.stderr}"
        assert "ERROR" not in run.stderr, f"run {attempt}: {run.stderr}"
    os.unlink(f.name)
    check = _psql(
        postgres,
        "pgsuper",
        "postgres",
        "-Atc",
        "SELECT rolname, rolcanlogin, pg_has_role(rolname, 'rds_iam', 'MEMBER'), "
        "has_database_privilege(rolname, 'orders', 'CONNECT'), has_database_privilege(rolname, 'users', 'CONNECT') "
        "FROM pg_roles WHERE rolname LIKE '%\\_service' ORDER BY 1",
    )
    assert check.stdout.split() == ["order_service|t|t|t|f", "user_auth_service|t|t|f|t"], check.stdout
    master = _psql(postgres, "pgsuper", "postgres", "-Atc", "SELECT pg_has_role('ecommerce_admin', 'rds_iam', "
                   "'MEMBER') AND NOT pg_has_role('ecommerce_admin', 'order_service', 'MEMBER')")  # fmt: skip
    assert master.stdout.strip() == "t", "the master user must not become a member of a login role"


def test_bad_names_are_refused_naming_the_service() -> None:
    with pytest.raises(ValueError, match=r"order's db_user 'Order-Svc' is not usable; allowed: a lower-case"):
        dbboot.logins({"order": ("orders", "Order-Svc")})
    with pytest.raises(ValueError, match=r"user-auth's database 'postgres' is not usable"):
        dbboot.logins({"user-auth": ("postgres", "u")})
    with pytest.raises(ValueError, match=r"user-auth reuses db_user 'shared'"):
        dbboot.logins({"order": ("orders", "shared"), "user-auth": ("users", "shared")})


def test_job_name_changes_with_the_login_set_so_the_job_runs_again() -> None:
    one = dbboot.job_name(dbboot.bootstrap_sql(LOGINS[:1]))
    both = dbboot.job_name(dbboot.bootstrap_sql(LOGINS))
    assert one != both and re.fullmatch(r"db-bootstrap-[0-9a-f]{10}", both), (one, both)
    assert both == dbboot.job_name(dbboot.bootstrap_sql(LOGINS)), "the name must be stable between runs"


def test_pull_through_cache_prefix_keeps_ecrs_length_and_pattern() -> None:
    """ECR API reference, CreatePullThroughCacheRule: ecrRepositoryPrefix is 2-30 characters, lower-case pattern."""
    assert dbboot.cache_prefix("ecommerce-prod") == "ecommerce-prod-ecr-public"
    for bad in ("ecommerce-production-eu", "Ecommerce-dev"):
        with pytest.raises(ValueError, match="ECR pull-through cache prefix"):
            dbboot.cache_prefix(bad)


# --- the secret, in the pod ------------------------------------------------------------------------------------


def _pgpass(secret_json: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "p.awk").write_text(dbboot.PGPASS_AWK)
        (Path(d) / "s.json").write_text(secret_json)
        return subprocess.run(["awk", "-f", f"{d}/p.awk", f"{d}/s.json"], capture_output=True, text=True)


@pytest.mark.parametrize(
    ("secret", "line"),
    [
        ('{"username":"ecommerce_admin","password":"Ab3xYz"}', "*:*:*:*:Ab3xYz"),
        # JSON escapes a backslash as \\ and may escape / and any character as \uXXXX; .pgpass escapes \ and :.
        ('{"password": "a\\\\b:c\\u0026d\\/e#!", "username": "x"}', "*:*:*:*:a\\\\b\\:c&d/e#!"),
        ('{\n  "username" : "x",\n  "password" : "p%q"\n}', "*:*:*:*:p%q"),
    ],
)
def test_master_secret_json_becomes_one_pgpass_line(secret: str, line: str) -> None:
    out = _pgpass(secret)
    assert out.returncode == 0 and out.stdout == line + "\n", (out.stdout, out.stderr)


def test_own_master_secret_of_a_global_primary_becomes_the_same_pgpass_line() -> None:
    """The DataTier's own master secret (a global database's primary, where RDS cannot manage it) goes through the
    same `.pgpass` step: every special character the password may draw (MASTER_PASSWORD_SPECIALS) survives."""
    from pulumi.runtime.sync_await import _sync_await

    from components.data.aurora import MASTER_PASSWORD_SPECIALS, master_secret_string

    password = "Ab3" + MASTER_PASSWORD_SPECIALS
    text = _sync_await(master_secret_string(password).future())
    assert isinstance(text, str), text
    out = _pgpass(text)
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    assert out.returncode == 0 and out.stdout == f"*:*:*:*:{escaped}\n", (text, out.stdout, out.stderr)


@pytest.mark.parametrize(
    "secret", ['{"username":"x"}', '{"password":""}', '{"password":"a\\u0007"}', "not json"]
)
def test_unusable_master_secret_stops_the_job(secret: str) -> None:
    out = _pgpass(secret)
    assert out.returncode != 0 and out.stdout == "" and "db-bootstrap:" in out.stderr, (
        out.stdout,
        out.stderr,
    )


# --- the plan --------------------------------------------------------------------------------------------------


@STACKS
def test_each_login_is_the_user_its_service_may_rds_db_connect_as(resources: Any, stack: str) -> None:
    """The join the README's manual step used to leave to a human: IAM policy user == role the Job creates."""
    res = resources(stack)
    sql = _sql(res)
    created = set(re.findall(r"CREATE ROLE (\w+) LOGIN;", sql))
    resource_id = _aurora(res)["outputs"]["clusterResourceId"]
    allowed: dict[str, str] = {}
    for record in res.of_type(ROLE_POLICY):
        if not record["name"].startswith(f"{MESH}-svc-"):
            continue
        for st in policy_doc(record, "policy")["Statement"]:
            for arn in listify(st["Resource"]):
                if str(arn).startswith("arn:aws:rds-db:"):
                    assert listify(st["Action"]) == ["rds-db:connect"], record["urn"]
                    want = f"arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:{resource_id}/"
                    assert arn.startswith(want), f"{record['urn']}: {arn} is not a user of this cluster"
                    allowed[record["name"].removeprefix(f"{MESH}-svc-")] = arn.removeprefix(want)
    assert allowed == {"order": "order_service", "user-auth": "user_auth_service"}, allowed
    assert created == set(allowed.values()), f"Job creates {created}, IAM allows {allowed}"
    for service, user in allowed.items():
        config = res.named(f"{MESH}-{service}-config", CONFIG_MAP)
        data = config["inputs"]["data"]
        assert data["DB_USER"] == user and data["DB_IAM_AUTH"] == "true", config["urn"]
        assert f"GRANT rds_iam TO {user};" in sql and f"ON DATABASE {data['DB_NAME']} TO {user};" in sql, user


@STACKS
def test_bootstrap_role_may_read_only_the_master_secret(resources: Any, stack: str) -> None:
    res = resources(stack)
    secret, key = _master_secret(res)
    record = res.named(f"{MESH}-{dbboot.NAME}", ROLE_POLICY)
    statements = policy_doc(record, "policy")["Statement"]
    assert [(s["Effect"], listify(s["Action"]), listify(s["Resource"])) for s in statements] == [
        ("Allow", ["secretsmanager:GetSecretValue"], [secret]),
        ("Allow", ["kms:Decrypt"], [key]),
    ], f"{record['urn']}: {statements}"
    assert statements[1]["Condition"] == {
        "StringEquals": {
            "kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com",
            "kms:EncryptionContext:SecretARN": secret,
        }
    }, f"{record['urn']}: Secrets Manager decrypts with the caller's rights, for this secret only"
    role = res.named(f"{MESH}-{dbboot.NAME}", ROLE)
    trust = policy_doc(role, "assumeRolePolicy")["Statement"]
    subs = [v for st in trust for k, v in st["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    assert subs == [f"system:serviceaccount:{NAMESPACE}:{dbboot.NAME}"], f"{role['urn']}: {subs}"
    sa = res.named(f"{MESH}-{dbboot.NAME}-sa", "kubernetes:core/v1:ServiceAccount")
    assert sa["inputs"]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role["outputs"]["arn"], (
        sa["urn"]
    )


@STACKS
def test_no_password_in_any_manifest_or_state(resources: Any, stack: str) -> None:
    res = resources(stack)
    aurora = _aurora(res)
    if (
        stack == "dev"
    ):  # RDS manages it; prod's global primary keeps a generated one, only ever a Pulumi secret
        assert aurora["inputs"]["manageMasterUserPassword"] is True, aurora["urn"]
        assert "masterPassword" not in aurora["inputs"], f"{aurora['urn']}: a master password in Pulumi state"
    else:
        assert aurora["inputs"]["masterPassword"] == SECRET, f"{aurora['urn']}: the master password unmasked"
    assert not res.of_type("kubernetes:core/v1:Secret"), (
        "no Kubernetes Secret: the password is read in the pod"
    )
    job = _job(res)
    pod = job["inputs"]["spec"]["template"]["spec"]
    memory = {v["name"] for v in pod["volumes"] if v.get("emptyDir", {}).get("medium") == "Memory"}
    for c in [*pod["initContainers"], *pod["containers"]]:
        for env in c["env"]:
            assert not re.search("PASSWORD|PGPASS$", env["name"]), (
                f"{job['urn']}: {c['name']} env {env['name']}"
            )
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        assert mounts.get(dbboot.SECRET_DIR) in memory, (
            f"{job['urn']}: {c['name']} keeps the secret off memory"
        )
    skipped = job["inputs"]["spec"]["template"]["metadata"]["annotations"][
        "eks.amazonaws.com/skip-containers"
    ]
    assert skipped == ",".join(c["name"] for c in pod["containers"]), (
        f"{job['urn']}: psql needs no AWS credentials"
    )
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    assert env["PGPASSFILE"].startswith(dbboot.SECRET_DIR + "/"), f"{job['urn']}: {env['PGPASSFILE']}"
    assert env["PGSSLMODE"] in ("require", "verify-ca", "verify-full"), f"{job['urn']}: rds.force_ssl is on"
    for r in res:
        if dbboot.NAME in r["name"]:
            assert not [k for k in _keys(r["inputs"]) if "password" in k.lower()], (
                f"{r['urn']}: a password field"
            )


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from _keys(v)


@STACKS
def test_job_waits_for_the_writer_instance_the_nodes_and_its_permissions(resources: Any, stack: str) -> None:
    res = resources(stack)
    job = _job(res)
    deps = set(job["dependencies"])
    writer = _writer(res)
    assert writer["urn"] in deps, f"{job['urn']} must wait for the Aurora writer {writer['urn']}"
    assert (
        job["inputs"]["metadata"]["annotations"]["ecommerce-platform/aurora-writer"]
        == writer["outputs"]["arn"]
    )
    for name, typ in (
        (f"{MESH}-nodes", "eks:index:ManagedNodeGroup"),
        (f"{MESH}-namespace", "kubernetes:core/v1:Namespace"),
        (f"{MESH}-{dbboot.NAME}", ROLE_POLICY),
        (f"{MESH}-node-role-pull-through", ROLE_POLICY),
        (f"{MESH}-ecr-public-cache", "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"),
        (f"{MESH}-{dbboot.NAME}-netpol", "kubernetes:networking.k8s.io/v1:NetworkPolicy"),
        (f"{MESH}-{dbboot.NAME}-config", CONFIG_MAP),
        (f"{MESH}-{dbboot.NAME}-sa", "kubernetes:core/v1:ServiceAccount"),
    ):
        assert res.named(name, typ)["urn"] in deps, f"{job['urn']} must wait for {name}"


@STACKS
def test_job_fails_the_up_loudly_and_runs_again_when_the_logins_change(resources: Any, stack: str) -> None:
    res = resources(stack)
    job = _job(res)
    spec = job["inputs"]["spec"]
    assert spec["backoffLimit"] == dbboot.BACKOFF_LIMIT and 1 <= spec["backoffLimit"] <= 6, job["urn"]
    assert spec["activeDeadlineSeconds"] == dbboot.ACTIVE_DEADLINE_SECONDS, job["urn"]
    assert spec["ttlSecondsAfterFinished"] >= 3600, (
        f"{job['urn']}: Pulumi must see it finish; logs stay readable"
    )
    assert spec["template"]["spec"]["restartPolicy"] == "Never", job["urn"]
    # pulumi-kubernetes waits for a Job to complete (10 minutes by default): the timeout outlasts the deadline.
    create = job["customTimeouts"]["create"]
    assert int(create.removesuffix("m")) * 60 > spec["activeDeadlineSeconds"], f"{job['urn']}: {create}"
    assert job["replaceOnChanges"] == ["spec"] and job["deleteBeforeReplace"], job["urn"]
    assert job["inputs"]["metadata"]["annotations"]["pulumi.com/replaceUnready"] == "true", job["urn"]
    assert job["inputs"]["metadata"]["name"] == dbboot.job_name(_sql(res)), (
        f"{job['urn']}: name not from the SQL"
    )


@STACKS
def test_images_come_from_our_ecr_through_the_ecr_public_cache(resources: Any, stack: str) -> None:
    res = resources(stack)
    rule = res.named(f"{MESH}-ecr-public-cache", "aws:ecr/pullThroughCacheRule:PullThroughCacheRule")
    prefix = rule["inputs"]["ecrRepositoryPrefix"]
    assert (
        rule["inputs"]["upstreamRegistryUrl"] == "public.ecr.aws"
        and prefix == f"ecommerce-{stack}-ecr-public"
    )
    pod = _job(res)["inputs"]["spec"]["template"]["spec"]
    images = [c["image"] for c in [*pod["initContainers"], *pod["containers"]]]
    registry = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{prefix}/"
    assert images == [registry + dbboot.AWS_CLI_IMAGE, registry + dbboot.PSQL_IMAGE], images
    for image in images:
        assert re.search(r":\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?$", image), f"{image}: not pinned to a version tag"
    pull = res.named(f"{MESH}-node-role-pull-through", ROLE_POLICY)
    assert pull["inputs"]["role"] == f"ecommerce-{stack}-EKSNodeRole", pull["urn"]
    assert [
        (listify(s["Action"]), listify(s["Resource"])) for s in policy_doc(pull, "policy")["Statement"]
    ] == [
        (
            ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
            [f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{prefix}/*"],
        )
    ], (
        f"{pull['urn']}: the first pull through a cache rule creates and imports as the node role, for this prefix"
    )


@STACKS
def test_network_policy_allows_only_aurora_and_https_in_the_private_subnets(
    resources: Any, stack: str
) -> None:
    res = resources(stack)
    netpol = res.named(f"{MESH}-{dbboot.NAME}-netpol", "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    spec = netpol["inputs"]["spec"]
    private = list(settings_for(stack).network.private_subnet_cidrs)
    assert spec["podSelector"] == {"matchLabels": {"app": dbboot.NAME}} and spec["ingress"] == [], netpol[
        "urn"
    ]
    rules = [
        ([t["ipBlock"]["cidr"] for t in e["to"]], [p["port"] for p in e["ports"]]) for e in spec["egress"]
    ]
    assert rules == [(private, [5432]), (private, [443])], f"{netpol['urn']}: {rules}"
    labels = _job(res)["inputs"]["spec"]["template"]["metadata"]["labels"]
    assert labels["app"] == dbboot.NAME, "the policy must select the Job's pod"


@STACKS
def test_job_pod_fits_in_the_capacity_checks_surge_pod(resources: Any, stack: str) -> None:
    pod = _job(resources(stack))["inputs"]["spec"]["template"]["spec"]

    def mib(v: str) -> int:
        return int(v.removesuffix("Mi"))

    def cpu(v: str) -> int:
        return int(v.removesuffix("m"))

    init = [(cpu(c["resources"]["requests"]["cpu"]), mib(c["resources"]["requests"]["memory"])) for c in pod["initContainers"]]  # fmt: skip
    main = [(cpu(c["resources"]["requests"]["cpu"]), mib(c["resources"]["requests"]["memory"])) for c in pod["containers"]]  # fmt: skip
    effective = (
        max(max(i[0] for i in init), sum(m[0] for m in main)),
        max(max(i[1] for i in init), sum(m[1] for m in main)),
    )
    assert effective == dbboot.POD_REQUEST, effective
    surge = capacity.scheduled_pods(settings_for(stack))[-1]
    assert surge.name.startswith("rolling-update surge"), surge
    assert effective[0] <= surge.cpu_m and effective[1] <= surge.memory_mib, (effective, surge)


def test_settings_refuse_a_network_without_the_jobs_endpoints() -> None:
    endpoints = ["ec2", "ecr.api", "ecr.dkr", "logs", "eks", "kms", "sqs"]
    with pytest.raises(SettingsError) as err:
        settings_for("dev", {"ecommerce-platform:network": network(interfaceEndpoints=endpoints)})
    assert "network.interfaceEndpoints: add secretsmanager, sts: the database bootstrap Job" in str(
        err.value
    ), err.value


# --- the component, on a fabricated contract -------------------------------------------------------------------


def _o(value: str) -> pulumi.Output[str]:
    return pulumi.Output.from_input(value)


ADMIN_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!cluster-test-AbCdEf"


def _mesh(stores: dict[str, Any], with_admin: bool = True) -> Resources:
    settings = settings_for("dev")

    def program() -> None:
        ServiceMesh(
            MESH,
            settings,
            network=MeshNetwork(
                vpc_id="vpc-0test",
                public_subnet_ids=["subnet-pub-a", "subnet-pub-b"],
                private_subnet_ids=["subnet-priv-a", "subnet-priv-b"],
                alb_security_group_id="sg-alb",
                nodes_security_group_id="sg-nodes",
            ),
            stores=stores,
            database_admin=DatabaseAdminAccess(
                endpoint=_o("db.cluster-test.us-east-2.rds.amazonaws.com"),
                port=5432,
                master_username="ecommerce_admin",
                master_secret_arn=_o(ADMIN_SECRET),
                master_secret_key_arn=_o(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/secrets"),
                writer_instance_arn=_o(f"arn:aws:rds:{REGION}:{ACCOUNT}:db:writer-1"),
            )
            if with_admin
            else None,
        )

    monitor, _, _ = run_in_mocks(program)
    return Resources(monitor.records)


def test_mesh_builds_the_job_from_the_contracts_databases_only_when_given_the_admin_access() -> None:
    res = _mesh(fabricated_contract())
    sql = str(res.named(f"{MESH}-{dbboot.NAME}-config", CONFIG_MAP)["inputs"]["data"]["bootstrap.sql"])
    assert set(re.findall(r"CREATE ROLE (\w+) LOGIN;", sql)) == {"order_svc", "user_auth_svc"}, sql
    assert _job(res)["inputs"]["metadata"]["annotations"]["ecommerce-platform/aurora-writer"].endswith(
        "writer-1"
    )
    without = _mesh(fabricated_contract(), with_admin=False)
    assert not [r["urn"] for r in without if dbboot.NAME in r["name"] or "pull-through" in r["name"]]


def test_mesh_refuses_a_contract_user_that_is_not_a_postgres_identifier() -> None:
    stores = fabricated_contract()
    order = stores["order"]
    assert order.database is not None
    stores["order"] = dataclasses.replace(
        order, database=dataclasses.replace(order.database, db_user="order-svc")
    )
    with pytest.raises(
        Exception, match=r"database bootstrap: DataTier contract: order's db_user 'order-svc'"
    ):
        _mesh(stores)
