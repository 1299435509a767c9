"""ServiceMesh ingress (components/mesh/ingress.py): the Pulumi-owned ALB, its log bucket, listeners, target groups
and rules, and the origin handed to CloudFront.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime.sync_await import _sync_await

from components.mesh import (
    ALB_SSL_POLICY,
)
from k8s.catalogue import CATALOGUE
from tests.conftest import settings_for
from tests.mesh_support import (
    ACCOUNT,
    MESH,
    SECRET_SIG,
    SUBNET,
    built,
    one,
    policy_doc,
    resolved,
)


@pytest.mark.parametrize(("stack", "protection"), [("dev", False), ("prod", True)])
def test_alb_without_domain(resources: Any, stack: str, protection: bool) -> None:
    res = resources(stack)
    (alb,) = res.of_type("aws:lb/loadBalancer:LoadBalancer")
    i = alb["inputs"]
    assert i["enableDeletionProtection"] is protection, alb["urn"]
    assert i["dropInvalidHeaderFields"] is True and i["desyncMitigationMode"] == "defensive", alb["urn"]
    assert i["securityGroups"] == [
        one(res, "aws:ec2/securityGroup:SecurityGroup", "ecommerce-vpc-alb-sg")["id"]
    ], alb["urn"]
    assert i["subnets"] == [
        one(res, SUBNET, "ecommerce-vpc-public-a")["id"],
        one(res, SUBNET, "ecommerce-vpc-public-b")["id"],
    ]
    bucket = one(res, "aws:s3/bucket:Bucket", f"{MESH}-alb-logs")
    assert i["accessLogs"] == {"bucket": bucket["outputs"]["bucket"], "prefix": "alb", "enabled": True}, alb[
        "urn"
    ]
    sse = next(
        r
        for r in res.of_type(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
        if r["name"] == f"{MESH}-alb-logs"
    )
    algo = sse["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
    assert algo == "AES256", f"{sse['urn']}: ALB access logs support only SSE-S3, got {algo}"
    if settings_for(stack).edge.domain_name:
        # prod carries a domain (edge.domainName): its HTTPS listener and redirect are checked by
        # test_alb_with_domain_serves_tls_and_hands_cdn_an_https_origin.
        assert {r["inputs"]["port"] for r in res.of_type("aws:lb/listener:Listener")} == {80, 443}, alb["urn"]
        return
    (listener,) = res.of_type("aws:lb/listener:Listener")
    assert listener["inputs"]["port"] == 80 and listener["inputs"]["protocol"] == "HTTP", listener["urn"]
    assert listener["inputs"]["defaultActions"][0]["fixedResponse"]["statusCode"] == "403", listener["urn"]
    tgs = {r["inputs"]["port"]: r for r in res.of_type("aws:lb/targetGroup:TargetGroup")}
    public = [s for s in CATALOGUE if s.public]
    assert sorted(tgs) == sorted(s.port for s in public)
    rules = res.of_type("aws:lb/listenerRule:ListenerRule")
    assert len(rules) == len(public)
    for rule in rules:
        conds = rule["inputs"]["conditions"]
        header = [c["httpHeader"] for c in conds if "httpHeader" in c]
        assert header and header[0]["httpHeaderName"] == "X-Origin-Verify", (
            f"{rule['urn']}: no origin header check"
        )
        assert header[0]["values"][0]["4dabf18193072939515e22adb298388d"] == SECRET_SIG, (
            f"{rule['urn']}: header value not secret"
        )
    for svc in public:
        tg = next(r for r in tgs.values() if r["inputs"]["port"] == svc.port)
        assert tg["inputs"]["targetType"] == "ip" and tg["inputs"]["healthCheck"]["path"] == "/ready", tg[
            "urn"
        ]
        tgb = res.named(f"{MESH}-{svc.name}-tgb")
        assert tgb["inputs"]["spec"]["targetGroupARN"] == tg["outputs"]["arn"], tgb["urn"]
        assert tgb["inputs"]["spec"]["serviceRef"] == {"name": svc.name, "port": svc.port}, tgb["urn"]


def test_alb_with_domain_serves_tls_and_hands_cdn_an_https_origin() -> None:
    res, mesh = built("domain")
    listeners = {r["inputs"]["port"]: r for r in res.of_type("aws:lb/listener:Listener")}
    https = listeners[443]
    assert https["inputs"]["sslPolicy"] == ALB_SSL_POLICY, https["urn"]
    cert = one(res, "aws:acm/certificate:Certificate", f"{MESH}-origin-cert")
    assert cert["inputs"]["domainName"] == "origin.shop.example.com"
    assert cert["inputs"]["validationMethod"] == "DNS", cert["urn"]
    validation = [r for r in res if r["type"] == "aws:acm/certificateValidation:CertificateValidation"]
    assert https["inputs"]["certificateArn"] == validation[0]["outputs"]["certificateArn"], https["urn"]
    redirect = listeners[80]["inputs"]["defaultActions"][0]
    assert redirect["type"] == "redirect" and redirect["redirect"]["protocol"] == "HTTPS", listeners[80][
        "urn"
    ]
    rules = res.of_type("aws:lb/listenerRule:ListenerRule")
    assert all(r["inputs"]["listenerArn"] == https["outputs"]["arn"] for r in rules), (
        "rules not on the HTTPS listener"
    )
    alias = one(res, "aws:route53/record:Record", f"{MESH}-origin")
    (alb,) = res.of_type("aws:lb/loadBalancer:LoadBalancer")
    assert alias["inputs"]["aliases"][0]["name"] == alb["outputs"]["dnsName"], alias["urn"]
    origin = mesh.alb_origin
    assert (origin.protocol, origin.port) == ("https-only", 443)
    assert resolved(origin.domain_name) == "origin.shop.example.com"
    assert _sync_await(origin.verify_header_value.is_secret()), "origin header value must stay secret"
    assert resolved(origin.alb_arn) == alb["outputs"]["arn"]


def test_alb_origin_without_domain_is_the_alb_over_http() -> None:
    res, mesh = built("dev")
    (alb,) = res.of_type("aws:lb/loadBalancer:LoadBalancer")
    origin = mesh.alb_origin
    assert (origin.protocol, origin.port) == ("http-only", 80)
    assert resolved(origin.domain_name) == alb["outputs"]["dnsName"]


#: Elastic Load Balancing's log-delivery account in us-east-2 (ALB User Guide, "Enable access logs": the account of
#: each Region opened before August 2022; AWS SDKs carry the same table, e.g. amazonka-elb's getAccountId).
ELB_ACCOUNT_US_EAST_2 = "033677994240"


@pytest.mark.parametrize(("stack", "days"), [("dev", 14), ("prod", 365)])
def test_alb_log_bucket_is_private_sse_s3_unversioned_and_only_elb_writes_to_it(
    resources: Any, stack: str, days: int
) -> None:
    """The ALB writes access logs only to an SSE-S3 bucket ("the only server-side encryption option that's
    supported"), as ELB's regional account, under `<prefix>/AWSLogs/<account>/`; the rest is the private baseline."""
    res = resources(stack)
    name = f"{MESH}-alb-logs"
    bucket = one(res, "aws:s3/bucket:Bucket", name)
    block = one(res, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name)["inputs"]
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                          "restrictPublicBuckets")), f"{bucket['urn']}: {block}"  # fmt: skip
    ownership = one(res, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", name)["inputs"]
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced", bucket["urn"]
    versioning = [r for r in res.of_type("aws:s3/bucketVersioning:BucketVersioning") if r["name"] == name]
    assert versioning == [], f"{bucket['urn']}: access logs are write-once; versioning only adds cost"
    (rule,) = one(res, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", name)["inputs"][
        "rules"
    ]
    assert rule["expiration"]["days"] == days, f"{bucket['urn']}: cluster.albLogRetentionDays of {stack}"
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 7, bucket["urn"]
    statements = policy_doc(one(res, "aws:s3/bucketPolicy:BucketPolicy", name), "policy")["Statement"]
    (elb,) = [s for s in statements if s["Effect"] == "Allow"]
    assert elb["Principal"] == {"AWS": f"arn:aws:iam::{ELB_ACCOUNT_US_EAST_2}:root"}, bucket["urn"]
    assert elb["Action"] == "s3:PutObject", bucket["urn"]
    assert elb["Resource"] == f"arn:aws:s3:::{bucket['outputs']['bucket']}/alb/AWSLogs/{ACCOUNT}/*", bucket[
        "urn"
    ]
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, (
        f"{bucket['urn']}: no TLS-only deny"
    )
