"""The database bootstrap: a one-shot Kubernetes Job that creates each service's Aurora database and IAM-auth login.

Pure functions, like `k8s/workloads.py`: `(values) -> manifest` and the SQL. The ServiceMesh applies the manifests
after the Aurora writer instance and the nodes exist; the Kubernetes provider waits for the Job to complete, so a
failed bootstrap fails the `up` instead of leaving services that cannot connect.

What the Job does, in one pod of the `ecommerce` namespace under its own IRSA role:
1. an init container (AWS CLI) reads the cluster's managed master secret from Secrets Manager and writes it to an
   in-memory `emptyDir` — the password never enters a manifest, a Kubernetes Secret or Pulumi state;
2. a psql container turns it into a `.pgpass` file in the same memory volume and runs `bootstrap.sql` over TLS as
   the master user: `CREATE DATABASE` where missing, `CREATE ROLE ... LOGIN` where missing, `GRANT rds_iam` (IAM
   authentication only for that role), and privileges on the role's own database only (PUBLIC loses CONNECT).
Every statement is idempotent, so a re-run (a changed login set, a refresh that finds the finished Job gone) ends
in the same state without an error.

Images come from this account's ECR through a pull-through cache rule for ECR Public: a fresh account has pushed
nothing, and ECR fetches the upstream layers itself, so private nodes need no internet path.

What it must not do: read the secret anywhere but in the pod at run time; touch another service's database; drop
or alter anything it did not create.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from k8s.catalogue import CATALOGUE, NAMESPACE
from k8s.workloads import RUN_AS, Manifest, container_security_context

#: Name of the Job's ServiceAccount, ConfigMap, NetworkPolicy and `app` label (and the IRSA role's suffix).
NAME = "db-bootstrap"
#: The ECR Public images the Job runs, pulled through our registry (`<registry>/<cache prefix>/<upstream path>`).
#: Pinned by version tag: no digest for either is published in AWS's or Docker's documentation, and an image ECR
#: has cached under a tag is not re-fetched while the cache is fresh. The psql client's major matches Aurora's.
AWS_CLI_IMAGE = "aws-cli/aws-cli:2.27.26"
PSQL_IMAGE = "docker/library/postgres:16.10-alpine"
#: The ECR Public registry host a pull-through cache rule names as its upstream (no credentials needed).
ECR_PUBLIC = "public.ecr.aws"
#: Where the ServiceMesh's pull-through cache rule puts ECR Public images: one prefix per stack, because a rule's
#: prefix is unique per registry and two stacks may share an account.
CACHE_PREFIX_SUFFIX = "ecr-public"
#: Secrets Manager and STS (IRSA) reached through their interface endpoints: the NetworkPolicy allows HTTPS only
#: to the private subnets, where the endpoints' network interfaces live.
REQUIRED_ENDPOINTS = ("secretsmanager", "sts")
#: Job limits: a few retries for a writer still warming up or DNS not yet served; ten minutes in all, which covers
#: the first pull through the cache; the finished Job stays a day for `kubectl logs`, then the TTL controller deletes it.
BACKOFF_LIMIT = 4
ACTIVE_DEADLINE_SECONDS = 600
TTL_SECONDS_AFTER_FINISHED = 86400
#: The pod's requests stay within the capacity check's rolling-update surge pod (k8s/capacity.py), which the Job
#: borrows: it runs when the login set changes, not during a rollout's surge. Init containers run before the main
#: one, so the pod's request is the larger of the two, not the sum.
AWS_CLI_RESOURCES = {
    "requests": {"cpu": "25m", "memory": "48Mi"},
    "limits": {"cpu": "250m", "memory": "256Mi"},
}
PSQL_RESOURCES = {"requests": {"cpu": "25m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}}
POD_REQUEST = (25, 48)
"""(cpu millicores, memory MiB) of the pod as the scheduler counts it: max(init, main)."""

#: PostgreSQL identifiers we create unquoted: lower-case, at most 63 bytes (NAMEDATALEN - 1).
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_RESERVED = ("postgres", "template0", "template1", "rdsadmin", "rds_iam", "rds_superuser", "public")

SECRET_DIR = "/run/db"
SQL_DIR = "/etc/db-bootstrap"


@dataclass(frozen=True)
class Login:
    """One service's database and the IAM-auth role it connects as (`DatabaseAccess.db_user`)."""

    service: str
    database: str
    role: str


def logins(databases: Mapping[str, tuple[str, str] | None]) -> tuple[Login, ...]:
    """The catalogue's services that own a database, in catalogue order: service -> (database, db_user) or None.

    Raises ValueError naming the service when a name is not a plain PostgreSQL identifier, is reserved, or when two
    services claim the same role (a role owns one database's privileges here).
    """
    found: list[Login] = []
    for svc in CATALOGUE:
        entry = databases.get(svc.name)
        if entry is None:
            continue
        database, role = entry
        for kind, value in (("database", database), ("db_user", role)):
            if not _IDENTIFIER.match(value) or value in _RESERVED:
                raise ValueError(
                    f"DataTier contract: {svc.name}'s {kind} {value!r} is not usable; allowed: a lower-case "
                    "PostgreSQL identifier ([a-z_][a-z0-9_]*, at most 63 characters) other than "
                    + ", ".join(_RESERVED)
                )
        if any(other.role == role for other in found):
            raise ValueError(
                f"DataTier contract: {svc.name} reuses db_user {role!r}; each service needs its own"
            )
        found.append(Login(svc.name, database, role))
    return tuple(found)


def bootstrap_sql(entries: Sequence[Login]) -> str:
    """psql script run as the master user on the `postgres` database; idempotent statement by statement.

    `CREATE DATABASE` cannot run inside a transaction or a DO block, so it is generated by a query that returns
    nothing when the database exists and run with psql's `\\gexec`; roles are created or fixed in a DO block only
    when missing or unable to log in; GRANT and REVOKE of privileges are no-ops when already in place (a repeated
    role GRANT is a NOTICE). Privileges are granted, never ownership transferred: altering an owner needs
    membership in the new owner's role, and the master user, as a member of a role that holds `rds_iam`, would
    itself be IAM-only ("nested memberships or indirect grants", Aurora User Guide, IAM database accounts).
    """
    lines = [
        "-- Generated by k8s/dbboot.py: one database and one IAM-auth login per service. Safe to run again.",
        "\\set ON_ERROR_STOP on",
    ]
    for e in entries:
        lines += [
            f"-- {e.service}: database {e.database}, login {e.role}",
            f"SELECT 'CREATE DATABASE {e.database}' "
            f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{e.database}')\\gexec",
            "DO $$",
            "BEGIN",
            f"  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{e.role}') THEN",
            f"    CREATE ROLE {e.role} LOGIN;",
            f"  ELSIF NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = '{e.role}') THEN",
            f"    ALTER ROLE {e.role} LOGIN;",
            "  END IF;",
            "END",
            "$$;",
            f"GRANT rds_iam TO {e.role};",
            f"REVOKE ALL ON DATABASE {e.database} FROM PUBLIC;",
            f"GRANT CONNECT, TEMPORARY, CREATE ON DATABASE {e.database} TO {e.role};",
            f"\\connect {e.database}",
            f"GRANT USAGE, CREATE ON SCHEMA public TO {e.role};",
            "\\connect postgres",
        ]
    return "\n".join(lines) + "\n"


#: Turns the secret's JSON (`{"username": ..., "password": ...}`) into one `.pgpass` line. A full JSON string
#: decoder (escapes and `\u` code points), because the writer of the secret may escape any character; RDS master passwords
#: are printable ASCII (Aurora User Guide, master password constraints), anything else stops the Job. `.pgpass`
#: escapes `\` and `:` with a backslash (PostgreSQL docs, "The Password File").
PGPASS_AWK = r"""function hexval(h,   i, v, d) {
  v = 0
  for (i = 1; i <= 4; i++) {
    d = index("0123456789abcdef", tolower(substr(h, i, 1))) - 1
    if (d < 0) { print "db-bootstrap: bad \\u escape in the master secret" > "/dev/stderr"; exit 2 }
    v = v * 16 + d
  }
  return v
}
function emit(c) {
  if (c == "\\" || c == ":") out = out "\\"
  out = out c
}
{ s = s $0 "\n" }
END {
  i = index(s, "\"password\"")
  if (i == 0) { print "db-bootstrap: the master secret has no password" > "/dev/stderr"; exit 1 }
  s = substr(s, i + 10)
  if (!sub(/^[ \t\r\n]*:[ \t\r\n]*"/, "", s)) { print "db-bootstrap: unreadable master secret" > "/dev/stderr"; exit 1 }
  out = ""
  while (1) {
    if (length(s) == 0) { print "db-bootstrap: unterminated password" > "/dev/stderr"; exit 1 }
    c = substr(s, 1, 1)
    if (c == "\"") break
    if (c != "\\") { emit(c); s = substr(s, 2); continue }
    n = substr(s, 2, 1)
    if (n == "u") {
      v = hexval(substr(s, 3, 4))
      if (v < 32 || v > 126) { print "db-bootstrap: non-printable password character" > "/dev/stderr"; exit 3 }
      emit(sprintf("%c", v)); s = substr(s, 7); continue
    }
    if (n == "\"" || n == "\\" || n == "/") { emit(n); s = substr(s, 3); continue }
    print "db-bootstrap: control character in the password" > "/dev/stderr"; exit 3
  }
  if (length(out) == 0) { print "db-bootstrap: empty password" > "/dev/stderr"; exit 1 }
  printf "*:*:*:*:%s\n", out
}
"""

#: The psql container's entrypoint (busybox sh and awk in the Alpine image): the secret becomes a `.pgpass` in the
#: memory volume, the raw JSON is removed, then psql runs the SQL as the master user.
RUN_SCRIPT = f"""set -eu
umask 077
trap 'rm -f {SECRET_DIR}/master.json' EXIT
awk -f {SQL_DIR}/pgpass.awk {SECRET_DIR}/master.json > {SECRET_DIR}/pgpass
rm -f {SECRET_DIR}/master.json
psql -X -f {SQL_DIR}/bootstrap.sql
"""

#: The init container's command: the secret's JSON string straight into the memory volume, never to stdout.
FETCH_SCRIPT = f"""set -eu
umask 077
aws secretsmanager get-secret-value --secret-id "$MASTER_SECRET_ARN" --query SecretString --output text \\
  > {SECRET_DIR}/master.json
"""


#: ECR API reference, CreatePullThroughCacheRule: `ecrRepositoryPrefix` is 2-30 characters of this pattern.
_CACHE_PREFIX = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")


def cache_prefix(cluster: str) -> str:
    """The pull-through cache rule's repository prefix for this stack (ECR's length and pattern limits)."""
    prefix = f"{cluster}-{CACHE_PREFIX_SUFFIX}"
    if not 2 <= len(prefix) <= 30 or not _CACHE_PREFIX.fullmatch(prefix):
        raise ValueError(
            f"ECR pull-through cache prefix {prefix!r} must be 2-30 lower-case letters, digits and . _ - / "
            "(ECR's limits); shorten the cluster name"
        )
    return prefix


def job_name(sql: str) -> str:
    """`db-bootstrap-<hash>`: a new login set (or a new image or script) is a new Job, so it runs again."""
    parts = (sql, RUN_SCRIPT, FETCH_SCRIPT, PGPASS_AWK, AWS_CLI_IMAGE, PSQL_IMAGE)
    digest = hashlib.sha256("\n".join(parts).encode())
    return f"{NAME}-{digest.hexdigest()[:10]}"


def endpoint_problems(
    interface_endpoints: Sequence[str], key: str = "network.interfaceEndpoints"
) -> list[str]:
    """The Job reaches Secrets Manager and STS only through interface endpoints (see `REQUIRED_ENDPOINTS`)."""
    missing = [e for e in REQUIRED_ENDPOINTS if e not in interface_endpoints]
    if not missing:
        return []
    return [
        f"{key}: add {', '.join(missing)}: the database bootstrap Job reads the Aurora master secret through the "
        "Secrets Manager endpoint with IRSA credentials from the STS endpoint, and its NetworkPolicy allows HTTPS "
        "only to the private subnets where those endpoints live"
    ]


def labels() -> dict[str, str]:
    return {"app": NAME, "app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "ecommerce-platform"}


def _meta(name: str = NAME, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": NAMESPACE, "labels": labels(), **extra}


def service_account(role_arn: Any) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(
            annotations={
                "eks.amazonaws.com/role-arn": role_arn,
                "eks.amazonaws.com/sts-regional-endpoints": "true",
            }
        ),
        "automountServiceAccountToken": False,
    }


def config_map(sql: str, master_secret_arn: Any) -> Manifest:
    """The SQL, the scripts and the master secret's ARN: no secret value (the password is read in the pod)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(),
        "data": {
            "bootstrap.sql": sql,
            "run.sh": RUN_SCRIPT,
            "fetch.sh": FETCH_SCRIPT,
            "pgpass.awk": PGPASS_AWK,
            "MASTER_SECRET_ARN": master_secret_arn,
        },
    }


def network_policy(private_cidrs: Sequence[str], postgres_port: int) -> Manifest:
    """Egress to Aurora's port and to HTTPS (the Secrets Manager and STS endpoints) in the private subnets; no ingress.

    DNS comes from the namespace's `allow-dns` policy; everything else stays denied by `default-deny`.
    """
    to = [{"ipBlock": {"cidr": c}} for c in private_cidrs]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(),
        "spec": {
            "podSelector": {"matchLabels": {"app": NAME}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],
            "egress": [
                {"to": to, "ports": [{"protocol": "TCP", "port": postgres_port}]},
                {"to": to, "ports": [{"protocol": "TCP", "port": 443}]},
            ],
        },
    }


def _fetch_container(image: Any, region: Any, mounts: list[dict[str, Any]]) -> dict[str, Any]:
    """The init container: the master secret's JSON into the memory volume, with the Job's IRSA credentials."""
    return {
        "name": "fetch-master-secret",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/sh", f"{SQL_DIR}/fetch.sh"],
        "env": [
            {
                "name": "MASTER_SECRET_ARN",
                "valueFrom": {"configMapKeyRef": {"name": NAME, "key": "MASTER_SECRET_ARN"}},
            },
            {"name": "AWS_REGION", "value": region},
            {"name": "AWS_DEFAULT_REGION", "value": region},
            {"name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "regional"},
            {"name": "AWS_PAGER", "value": ""},
            {"name": "HOME", "value": "/tmp"},
        ],
        "resources": AWS_CLI_RESOURCES,
        "securityContext": container_security_context(),
        "volumeMounts": mounts,
    }


def _psql_container(
    image: Any, host: Any, port: int, master_username: str, mounts: list[dict[str, Any]]
) -> dict[str, Any]:
    """The main container: `.pgpass` from the fetched secret, then the SQL as the master user over TLS."""
    return {
        "name": "psql",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/sh", f"{SQL_DIR}/run.sh"],
        "env": [
            {"name": "PGHOST", "value": host},
            {"name": "PGPORT", "value": str(port)},
            {"name": "PGUSER", "value": master_username},
            {"name": "PGDATABASE", "value": "postgres"},
            {"name": "PGPASSFILE", "value": f"{SECRET_DIR}/pgpass"},
            # rds.force_ssl is on; `require` encrypts without verifying the server: the RDS CA
            # bundle is not in the image and cannot be fetched without internet egress.
            {"name": "PGSSLMODE", "value": "require"},
            {"name": "PGCONNECT_TIMEOUT", "value": "10"},
            {"name": "PGAPPNAME", "value": NAME},
            {"name": "HOME", "value": "/tmp"},
        ],
        "resources": PSQL_RESOURCES,
        "securityContext": container_security_context(),
        "volumeMounts": mounts,
    }


def job(
    name: str,
    *,
    aws_cli_image: Any,
    psql_image: Any,
    region: Any,
    host: Any,
    port: int,
    master_username: str,
    writer: Any,
) -> Manifest:
    """The Job. `writer` (an output of the Aurora writer instance) is recorded as an annotation, which makes the Job
    wait for that instance: the cluster accepts no connection before its first instance is available."""
    mounts: list[dict[str, Any]] = [
        {"name": "tmp", "mountPath": "/tmp"},
        {"name": "secret", "mountPath": SECRET_DIR},
        {"name": "sql", "mountPath": SQL_DIR, "readOnly": True},
    ]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(
            name,
            annotations={
                # A Job that failed is replaced (run again) on the next `up`, not awaited forever.
                "pulumi.com/replaceUnready": "true",
                "ecommerce-platform/aurora-writer": writer,
            },
        ),
        "spec": {
            "backoffLimit": BACKOFF_LIMIT,
            "activeDeadlineSeconds": ACTIVE_DEADLINE_SECONDS,
            "ttlSecondsAfterFinished": TTL_SECONDS_AFTER_FINISHED,
            "template": {
                "metadata": {
                    "labels": labels(),
                    # Only the init container needs AWS credentials: the EKS pod identity webhook leaves the role's
                    # token out of the containers named here (its README, "skip-containers").
                    "annotations": {"eks.amazonaws.com/skip-containers": "psql"},
                },
                "spec": {
                    "serviceAccountName": NAME,
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "restartPolicy": "Never",
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": RUN_AS,
                        "runAsGroup": RUN_AS,
                        "fsGroup": RUN_AS,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "initContainers": [_fetch_container(aws_cli_image, region, mounts)],
                    "containers": [_psql_container(psql_image, host, port, master_username, mounts)],
                    "volumes": [
                        {"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}},
                        # tmpfs: the master password lives in memory for the pod's few seconds and never on disk.
                        {"name": "secret", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
                        {"name": "sql", "configMap": {"name": NAME, "defaultMode": 0o444}},
                    ],
                },
            },
        },
    }
