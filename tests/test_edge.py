"""CdnEdge: the site bucket has no public path, CloudFront's TLS/behaviours/headers/logging/WAF, us-east-1 placement,
DNS only with a domain, the origin lock, and the edge settings' validation.

The component is built directly against a fabricated `AlbOrigin` (the ServiceMesh's hand-off), once per stack.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.config import PRICE_CLASSES, EdgeSettings, SettingsError
from components.contracts import ORIGIN_VERIFY_HEADER, AlbOrigin
from components.edge import (
    ALL_VIEWER_EXCEPT_HOST_HEADER,
    BODY_SIZE_LABEL,
    BODY_SIZE_RULE_WCU,
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    CLOUDFRONT_REGION,
    MANAGED_RULE_GROUPS,
    RATE_RULE_WCU,
    SPA_REWRITE_JS,
    WAF_BASE_WCU,
    CdnEdge,
)
from components.network import CLOUDFRONT_ORIGIN_PREFIX_LIST
from tests.conftest import Resources, settings_for
from tools.offline.engine import MASK, SECRET_SIG, SPECIAL_SIG, run_in_mocks
from tools.offline.mocks import CLOUDFRONT_HOSTED_ZONE_ID, PREFIX_LISTS, hosted_zone_id

NS = "ecommerce-platform:"
SECRET = "origin-verify-test-value-7f3a9c"
ALB_DNS = "k8s-ecommerce-0123456789.us-east-2.elb.amazonaws.com"
STACKS = ["dev", "prod"]

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
RECORD = "aws:route53/record:Record"
CERT = "aws:acm/certificate:Certificate"
CERT_VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
SG_INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def _edge_program(stack: str) -> Callable[[], None]:
    s = settings_for(stack)

    def program() -> None:
        provider = aws.Provider("aws", region=s.region)
        origin = AlbOrigin(
            domain_name=pulumi.Output.from_input(s.edge.origin_host or ALB_DNS),
            protocol="https-only" if s.edge.domain_name else "http-only",
            port=s.edge.origin_port,
            verify_header_value=pulumi.Output.secret(SECRET),
            alb_arn=pulumi.Output.from_input(
                "arn:aws:elasticloadbalancing:us-east-2:123456789012:loadbalancer/app/ecommerce/0123456789abcdef"
            ),
        )
        CdnEdge(
            "ecommerce-edge", s, alb_origin=origin, opts=pulumi.ResourceOptions(providers={"aws": provider})
        )

    return program


_BUILT: dict[str, Resources] = {}


@pytest.fixture(scope="module")
def edge() -> Callable[[str], Resources]:
    """`edge("prod")`: the CdnEdge's registrations for that stack's settings (built once per stack)."""

    def get(stack: str) -> Resources:
        if stack not in _BUILT:
            monitor, _, _ = run_in_mocks(_edge_program(stack), stack=stack)
            _BUILT[stack] = Resources(monitor.records)
        return _BUILT[stack]

    return get


def one(res: Resources, typ: str, name: str) -> dict[str, Any]:
    found = [r for r in res.of_type(typ) if r["name"] == name]
    assert len(found) == 1, f"expected one {typ} named {name}, found {[r['urn'] for r in found]}"
    return found[0]


def policy(record: dict[str, Any], key: str = "policy") -> dict[str, Any]:
    doc = record["inputs"][key]
    return json.loads(doc) if isinstance(doc, str) else dict(doc)


def statements(record: dict[str, Any], key: str = "policy") -> dict[str, dict[str, Any]]:
    return {st["Sid"]: st for st in policy(record, key)["Statement"]}


def distribution(res: Resources) -> dict[str, Any]:
    return one(res, DISTRIBUTION, "ecommerce-edge-cdn")


def by_bucket(res: Resources, typ: str, bucket: dict[str, Any]) -> dict[str, Any]:
    found = [r for r in res.of_type(typ) if r["inputs"].get("bucket") == bucket["id"]]
    assert len(found) == 1, f"expected one {typ} for {bucket['urn']}, found {[r['urn'] for r in found]}"
    return found[0]


# --- the site bucket: no public path, encrypted, versioned, bound to the distribution ---------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_site_bucket_is_private_encrypted_and_versioned(edge: Callable[[str], Resources], stack: str) -> None:
    res = edge(stack)
    bucket = one(res, BUCKET, "ecommerce-edge-site")
    pab = by_bucket(res, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket)
    for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
        assert pab["inputs"].get(flag) is True, f"{pab['urn']}: {flag} must be true"
    own = by_bucket(res, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", bucket)
    assert own["inputs"]["rule"]["objectOwnership"] == "BucketOwnerEnforced", own["urn"]
    sse = by_bucket(res, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                    bucket)  # fmt: skip
    rule = sse["inputs"]["rules"][0]
    key = one(res, "aws:kms/key:Key", "ecommerce-edge-site-key")
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId":
                                                          key["outputs"]["arn"]}, sse["urn"]  # fmt: skip
    assert rule["bucketKeyEnabled"] is True, sse["urn"]
    assert key["inputs"]["enableKeyRotation"] is True, key["urn"]
    ver = by_bucket(res, "aws:s3/bucketVersioning:BucketVersioning", bucket)
    assert ver["inputs"]["versioningConfiguration"]["status"] == "Enabled", (
        f"{ver['urn']}: DR replication needs it"
    )
    life = by_bucket(res, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", bucket)
    days = settings_for(stack).edge.site_noncurrent_version_days
    rules = life["inputs"]["rules"]
    assert any(r.get("noncurrentVersionExpiration", {}).get("noncurrentDays") == days for r in rules), life[
        "urn"
    ]
    assert any("abortIncompleteMultipartUpload" in r for r in rules), life["urn"]
    assert bucket["protect"] is (stack == "prod") and key["protect"] is (stack == "prod"), bucket["urn"]


@pytest.mark.parametrize("stack", STACKS)
def test_site_bucket_policy_admits_only_this_distribution(
    edge: Callable[[str], Resources], stack: str
) -> None:
    res = edge(stack)
    bucket = one(res, BUCKET, "ecommerce-edge-site")
    pol = by_bucket(res, BUCKET_POLICY, bucket)
    dist_arn = distribution(res)["outputs"]["arn"]
    sts = statements(pol)
    allows = [st for st in sts.values() if st["Effect"] == "Allow"]
    assert len(allows) == 1, f"{pol['urn']}: exactly one Allow (CloudFront), got {allows}"
    oac = allows[0]
    assert oac["Principal"] == {"Service": "cloudfront.amazonaws.com"}, pol["urn"]
    assert oac["Action"] == "s3:GetObject" and oac["Resource"] == f"{bucket['outputs']['arn']}/*", pol["urn"]
    assert oac["Condition"] == {"StringEquals": {"AWS:SourceArn": dist_arn}}, pol["urn"]
    deny = sts["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, pol[
        "urn"
    ]
    assert set(deny["Resource"]) == {bucket["outputs"]["arn"], f"{bucket['outputs']['arn']}/*"}, pol["urn"]


@pytest.mark.parametrize("stack", STACKS)
def test_site_key_lets_only_this_distribution_decrypt(edge: Callable[[str], Resources], stack: str) -> None:
    """OAC reads SSE-KMS objects only if the key policy lets cloudfront.amazonaws.com decrypt for this distribution."""
    res = edge(stack)
    key = one(res, "aws:kms/key:Key", "ecommerce-edge-site-key")
    kp = one(res, "aws:kms/keyPolicy:KeyPolicy", "ecommerce-edge-site-key")
    assert kp["inputs"]["keyId"] == key["id"], kp["urn"]
    cf = statements(kp)["CloudFrontDecryptsForThisDistribution"]
    assert cf["Principal"] == {"Service": "cloudfront.amazonaws.com"} and cf["Action"] == "kms:Decrypt", kp[
        "urn"
    ]
    assert cf["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution(res)["outputs"]["arn"]}}, kp[
        "urn"
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_data_and_its_keys_are_protected_in_prod_only(edge: Callable[[str], Resources], stack: str) -> None:
    res = edge(stack)
    held = [one(res, BUCKET, "ecommerce-edge-site"), one(res, BUCKET, "ecommerce-edge-access-logs"),
            one(res, "aws:kms/key:Key", "ecommerce-edge-site-key"), one(res, "aws:kms/key:Key", "ecommerce-edge-logs-key"),
            one(res, "aws:cloudwatch/logGroup:LogGroup", "ecommerce-edge-waf-logs")]  # fmt: skip
    for r in held:
        assert r["protect"] is (stack == "prod") and r["retainOnDelete"] is (stack == "prod"), r["urn"]
    for r in res.of_type(BUCKET):
        assert r["inputs"].get("forceDestroy") is (stack == "dev"), (
            f"{r['urn']}: only dev may empty a bucket on delete"
        )


BUCKET_PARTS = {
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    BUCKET_POLICY,
}


@pytest.mark.parametrize("stack", STACKS)
def test_edge_buckets_have_the_helpers_baseline_managed_in_the_buckets_region(
    edge: Callable[[str], Resources], stack: str
) -> None:
    """S3 serves a bucket's configuration only from the bucket's region (elsewhere it answers PermanentRedirect:
    "must be addressed using the specified endpoint"), so every part of the us-east-1 log bucket carries its region;
    the log bucket is the one without versioning (its objects expire), the site bucket keeps versions for DR."""
    res = edge(stack)
    for name, region, versioned in (("ecommerce-edge-site", None, True),
                                    ("ecommerce-edge-access-logs", CLOUDFRONT_REGION, False)):  # fmt: skip
        bucket = one(res, BUCKET, name)
        parts = {
            r["type"]: r
            for r in res
            if r["name"] == name and r["type"].startswith("aws:s3/bucket") and r["type"] != BUCKET
        }
        expected = BUCKET_PARTS | ({"aws:s3/bucketVersioning:BucketVersioning"} if versioned else set())
        assert set(parts) == expected, f"{bucket['urn']}: parts {sorted(parts)}"
        for r in parts.values():
            assert r["inputs"]["bucket"] == bucket["id"], r["urn"]
            assert r["inputs"].get("region") == region, (
                f"{r['urn']}: must be managed in {region or 'us-east-2'}"
            )


@pytest.mark.parametrize("stack", STACKS)
def test_site_bucket_policy_is_created_after_the_distribution_it_names(
    edge: Callable[[str], Resources], stack: str
) -> None:
    res = edge(stack)
    pol = by_bucket(res, BUCKET_POLICY, one(res, BUCKET, "ecommerce-edge-site"))
    dist = distribution(res)
    assert dist["urn"] in pol["dependencies"], f"{pol['urn']}: its OAC statement names {dist['urn']}"


# --- the distribution ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_distribution_behaviours(edge: Callable[[str], Resources], stack: str) -> None:
    res = edge(stack)
    d = distribution(res)
    i = d["inputs"]
    s = settings_for(stack).edge
    origins = {o["originId"]: o for o in i["origins"]}
    bucket = one(res, BUCKET, "ecommerce-edge-site")
    oac = one(res, "aws:cloudfront/originAccessControl:OriginAccessControl", "ecommerce-edge-site-oac")
    # With DR on the behaviour targets an origin group whose first member is the site bucket (tests/test_dr.py).
    groups = {g["originId"]: g["members"][0]["originId"] for g in i.get("originGroups") or []}
    target = i["defaultCacheBehavior"]["targetOriginId"]
    site = origins[groups.get(target, target)]
    assert site["domainName"] == bucket["outputs"]["bucketRegionalDomainName"], d["urn"]
    assert site["originAccessControlId"] == oac["id"] and "s3OriginConfig" not in site, d["urn"]
    assert oac["inputs"]["signingBehavior"] == "always" and oac["inputs"]["signingProtocol"] == "sigv4", oac[
        "urn"
    ]

    default = i["defaultCacheBehavior"]
    assert default["viewerProtocolPolicy"] == "redirect-to-https", d["urn"]
    assert default["cachePolicyId"] == CACHING_OPTIMIZED, d["urn"]
    (api,) = [b for b in i["orderedCacheBehaviors"] if b["pathPattern"] == "/api/*"]
    assert api["viewerProtocolPolicy"] == "https-only", d["urn"]
    assert api["cachePolicyId"] == CACHING_DISABLED, f"{d['urn']}: the API must not be cached"
    assert api["originRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER, d["urn"]
    assert set(api["allowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}, d[
        "urn"
    ]
    alb = origins[api["targetOriginId"]]
    assert alb["domainName"] == (s.origin_host or ALB_DNS), d["urn"]
    cfg = alb["customOriginConfig"]
    assert cfg["originProtocolPolicy"] == ("https-only" if s.domain_name else "http-only"), d["urn"]
    port_key = "httpsPort" if s.domain_name else "httpPort"
    assert cfg[port_key] == s.origin_port and cfg["originSslProtocols"] == ["TLSv1.2"], d["urn"]
    # Distribution-wide error pages would turn the API's (and WAF's) 403/404 into `200 index.html`.
    assert not i.get("customErrorResponses"), (
        f"{d['urn']}: SPA routing belongs to the viewer-request function"
    )
    fn = one(res, "aws:cloudfront/function:Function", "ecommerce-edge-spa-rewrite")
    assert default["functionAssociations"] == [
        {"eventType": "viewer-request", "functionArn": fn["outputs"]["arn"]}
    ], d["urn"]
    assert "functionAssociations" not in api, d["urn"]
    assert i["defaultRootObject"] == "index.html", d["urn"]


@pytest.mark.parametrize("stack", STACKS)
def test_distribution_protocols_price_and_waf(edge: Callable[[str], Resources], stack: str) -> None:
    res = edge(stack)
    d = distribution(res)
    i = d["inputs"]
    s = settings_for(stack).edge
    assert i["httpVersion"] == ("http2and3" if s.http3 else "http2") and i["isIpv6Enabled"] is True, d["urn"]
    assert i["priceClass"] == s.price_class, d["urn"]
    acl = one(res, WEB_ACL, "ecommerce-edge-waf")
    assert i["webAclId"] == acl["outputs"]["arn"], f"{d['urn']}: WAF must be attached"
    headers = one(
        res, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "ecommerce-edge-security-headers"
    )
    for b in [i["defaultCacheBehavior"], *i["orderedCacheBehaviors"]]:
        assert b["responseHeadersPolicyId"] == headers["id"], f"{d['urn']}: {b.get('pathPattern', 'default')}"
        assert b["viewerProtocolPolicy"] != "allow-all", d["urn"]


def test_prod_viewers_get_tls12_2021_with_the_validated_certificate(edge: Callable[[str], Resources]) -> None:
    res = edge("prod")
    d = distribution(res)
    vc = d["inputs"]["viewerCertificate"]
    cert = one(res, CERT, "ecommerce-edge-cert")
    assert vc == {"acmCertificateArn": cert["outputs"]["arn"], "sslSupportMethod": "sni-only",
                  "minimumProtocolVersion": "TLSv1.2_2021"}, d["urn"]  # fmt: skip
    assert d["inputs"]["aliases"] == ["shop.example.com", "www.shop.example.com"], d["urn"]
    # The distribution waits for validation, not just for the certificate request.
    validation = one(res, CERT_VALIDATION, "ecommerce-edge-cert")
    assert validation["urn"] in d["dependencies"], f"{d['urn']} must depend on {validation['urn']}"


def test_dev_without_domain_uses_cloudfronts_certificate(edge: Callable[[str], Resources]) -> None:
    res = edge("dev")
    d = distribution(res)
    assert d["inputs"]["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}, d["urn"]
    assert not d["inputs"].get("aliases"), d["urn"]
    assert not res.of_type(CERT) and not res.of_type(CERT_VALIDATION), "no certificate without a domain"


@pytest.mark.parametrize("stack", STACKS)
def test_security_headers(edge: Callable[[str], Resources], stack: str) -> None:
    res = edge(stack)
    p = one(
        res, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "ecommerce-edge-security-headers"
    )
    h = p["inputs"]["securityHeadersConfig"]
    hsts = h["strictTransportSecurity"]
    assert hsts["accessControlMaxAgeSec"] >= 31536000, f"{p['urn']}: HSTS preload needs max-age >= 1 year"
    assert hsts["includeSubdomains"] is True and hsts["preload"] is True and hsts["override"] is True, p[
        "urn"
    ]
    assert h["contentTypeOptions"]["override"] is True, p["urn"]
    assert h["frameOptions"]["frameOption"] == "DENY", p["urn"]
    assert h["referrerPolicy"]["referrerPolicy"] == "strict-origin-when-cross-origin", p["urn"]
    csp = h["contentSecurityPolicy"]["contentSecurityPolicy"]
    assert csp == settings_for(stack).edge.content_security_policy and "frame-ancestors 'none'" in csp, p[
        "urn"
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_origin_secret_header_is_sent_and_never_in_plain_text(
    edge: Callable[[str], Resources], stack: str
) -> None:
    res = edge(stack)
    d = distribution(res)
    (alb,) = [o for o in d["inputs"]["origins"] if "customOriginConfig" in o]
    (header,) = alb["customHeaders"]
    assert header["name"] == ORIGIN_VERIFY_HEADER, d["urn"]
    assert header["value"] == {SPECIAL_SIG: SECRET_SIG, "value": MASK}, (
        f"{d['urn']}: the value must stay secret"
    )
    leaked = [r["urn"] for r in res if SECRET in json.dumps(r)]
    assert leaked == [], f"the origin secret appears in plain text in {leaked}"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the CloudFront function")
@pytest.mark.parametrize(
    ("uri", "served"),
    [("/", "/index.html"), ("/products/42", "/index.html"), ("/cart/", "/index.html"),
     ("/assets/app.3f9c.js", "/assets/app.3f9c.js"), ("/favicon.ico", "/favicon.ico"),
     ("/v1.2/checkout", "/index.html")],
)  # fmt: skip
def test_spa_rewrite_serves_index_for_routes_only(uri: str, served: str) -> None:
    script = SPA_REWRITE_JS + f"console.log(handler({{request: {{uri: {json.dumps(uri)}}}}}).uri);"
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True, timeout=10)
    assert out.stdout.strip() == served, f"{uri} -> {out.stdout.strip()}, expected {served}"


# --- WAF ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_web_acl_rules(edge: Callable[[str], Resources], stack: str) -> None:
    res = edge(stack)
    acl = one(res, WEB_ACL, "ecommerce-edge-waf")
    i = acl["inputs"]
    assert i["scope"] == "CLOUDFRONT" and i["region"] == CLOUDFRONT_REGION, acl["urn"]
    assert i["defaultAction"] == {"allow": {}}, acl["urn"]
    rules = i["rules"]
    managed = {r["statement"]["managedRuleGroupStatement"]["name"] for r in rules if "managedRuleGroupStatement"
               in r["statement"]}  # fmt: skip
    assert managed == {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                       "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesAmazonIpReputationList"}, acl["urn"]  # fmt: skip
    for r in rules:
        if "managedRuleGroupStatement" in r["statement"]:
            assert r["overrideAction"] == {"none": {}}, (
                f"{acl['urn']}: {r['name']} must block, not only count"
            )
    (rate,) = [r for r in rules if "rateBasedStatement" in r["statement"]]
    s = settings_for(stack).edge
    stmt = rate["statement"]["rateBasedStatement"]
    assert stmt == {"aggregateKeyType": "IP", "limit": s.waf_rate_limit, "evaluationWindowSec":
                    s.waf_rate_window_seconds}, acl["urn"]  # fmt: skip
    assert rate["action"] == {"block": {}}, acl["urn"]
    assert len({r["priority"] for r in rules}) == len(rules), f"{acl['urn']}: priorities must be unique"
    for vc in [i["visibilityConfig"], *(r["visibilityConfig"] for r in rules)]:
        assert vc["cloudwatchMetricsEnabled"] is True and vc["sampledRequestsEnabled"] is True, acl["urn"]
    assert len({r["visibilityConfig"]["metricName"] for r in rules}) == len(rules), acl["urn"]


def test_web_acl_stays_within_the_base_capacity() -> None:
    """Above 1,500 WCU AWS WAF bills extra per million requests; the groups' published capacities must fit."""
    assert sum(w for _, w in MANAGED_RULE_GROUPS) + RATE_RULE_WCU + BODY_SIZE_RULE_WCU <= WAF_BASE_WCU


@pytest.mark.parametrize("stack", STACKS)
def test_waf_body_size_limit_spares_the_api(edge: Callable[[str], Resources], stack: str) -> None:
    """The common rule set's SizeRestrictions_BODY blocks every body over 8 KB; it only counts (and labels) inside
    the group, and our own rule re-blocks that label everywhere but /api/* (AWS WAF rule labels)."""
    res = edge(stack)
    acl = one(res, WEB_ACL, "ecommerce-edge-waf")
    rules = acl["inputs"]["rules"]
    (crs,) = [r for r in rules if r["statement"].get("managedRuleGroupStatement", {}).get("name")
              == "AWSManagedRulesCommonRuleSet"]  # fmt: skip
    overrides = crs["statement"]["managedRuleGroupStatement"]["ruleActionOverrides"]
    assert overrides == [{"name": "SizeRestrictions_BODY", "actionToUse": {"count": {}}}], acl["urn"]
    (body,) = [r for r in rules if r["name"] == "body-size-outside-api"]
    assert body["action"] == {"block": {}} and body["priority"] > crs["priority"], (
        f"{acl['urn']}: the label rule must run after the group that adds the label"
    )
    label, negated = body["statement"]["andStatement"]["statements"]
    assert label == {"labelMatchStatement": {"scope": "LABEL", "key": BODY_SIZE_LABEL}}, acl["urn"]
    match = negated["notStatement"]["statement"]["byteMatchStatement"]
    assert match["fieldToMatch"] == {"uriPath": {}} and match["positionalConstraint"] == "STARTS_WITH", acl[
        "urn"
    ]
    assert match["searchString"] == "/api/", acl["urn"]


@pytest.mark.parametrize("stack", STACKS)
def test_waf_logs_to_an_encrypted_us_east_1_log_group_with_secrets_redacted(
    edge: Callable[[str], Resources], stack: str
) -> None:
    res = edge(stack)
    cfg = one(
        res, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "ecommerce-edge-waf-logging"
    )
    acl = one(res, WEB_ACL, "ecommerce-edge-waf")
    group = one(res, "aws:cloudwatch/logGroup:LogGroup", "ecommerce-edge-waf-logs")
    assert cfg["inputs"]["resourceArn"] == acl["outputs"]["arn"], cfg["urn"]
    assert cfg["inputs"]["region"] == CLOUDFRONT_REGION, cfg["urn"]
    assert cfg["inputs"]["logDestinationConfigs"] == [group["outputs"]["arn"]], cfg["urn"]
    assert group["inputs"]["name"].startswith("aws-waf-logs-"), (
        f"{group['urn']}: WAF requires the aws-waf-logs- prefix"
    )
    assert group["inputs"]["region"] == CLOUDFRONT_REGION, group["urn"]
    assert group["inputs"]["retentionInDays"] == settings_for(stack).edge.log_retention_days, group["urn"]
    redacted = {f["singleHeader"]["name"].lower() for f in cfg["inputs"]["redactedFields"]}
    assert redacted == {"authorization", "cookie"}, cfg["urn"]
    key = one(res, "aws:kms/key:Key", "ecommerce-edge-logs-key")
    assert group["inputs"]["kmsKeyId"] == key["outputs"]["arn"], group["urn"]
    logs = statements(key)["CloudWatchLogsUsesKeyForTheWafLogGroup"]
    assert logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] == group["outputs"]["arn"], (
        key["urn"]
    )
    rp = one(res, "aws:cloudwatch/logResourcePolicy:LogResourcePolicy", "ecommerce-edge-waf-logs")
    assert rp["inputs"]["region"] == CLOUDFRONT_REGION and rp["urn"] in cfg["dependencies"], rp["urn"]
    (st,) = policy(rp, "policyDocument")["Statement"]
    assert st["Resource"] == f"{group['outputs']['arn']}:log-stream:*", rp["urn"]


# --- us-east-1 placement ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_cloudfront_bound_resources_live_in_us_east_1(edge: Callable[[str], Resources], stack: str) -> None:
    res = edge(stack)
    must = (CERT, CERT_VALIDATION, WEB_ACL, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
            "aws:cloudwatch/logDeliverySource:LogDeliverySource", "aws:cloudwatch/logDelivery:LogDelivery",
            "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination")  # fmt: skip
    for r in res:
        if r["type"] in must:
            assert r["inputs"].get("region") == CLOUDFRONT_REGION, f"{r['urn']} must set region us-east-1"
    if stack == "prod":
        assert res.of_type(CERT), "prod has a domain and so a certificate"
        assert one(res, CERT, "ecommerce-edge-cert")["outputs"]["arn"].startswith("arn:aws:acm:us-east-1:")


@pytest.mark.parametrize("stack", STACKS)
def test_kms_keys_are_in_the_region_of_what_they_encrypt(
    edge: Callable[[str], Resources], stack: str
) -> None:
    res = edge(stack)
    key_regions = {
        k["outputs"]["arn"]: k["outputs"]["arn"].split(":")[3] for k in res.of_type("aws:kms/key:Key")
    }
    checked = 0
    for r in res:
        if not r["type"].startswith("aws:"):
            continue
        where = r["outputs"].get("region")
        found = json.dumps(r["inputs"])
        for arn, key_region in key_regions.items():
            if arn in found and r["type"] not in ("aws:kms/alias:Alias", "aws:kms/keyPolicy:KeyPolicy"):
                assert key_region == where, f"{r['urn']} in {where} uses a KMS key in {key_region}"
                checked += 1
    assert checked >= 3, "expected the site bucket, logs bucket and WAF log group to use a key"


# --- access logs ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_access_logs_v2_to_a_private_encrypted_expiring_bucket(
    edge: Callable[[str], Resources], stack: str
) -> None:
    res = edge(stack)
    bucket = one(res, BUCKET, "ecommerce-edge-access-logs")
    assert bucket["inputs"]["region"] == CLOUDFRONT_REGION, bucket["urn"]
    pab = by_bucket(res, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket)
    assert all(pab["inputs"][f] is True for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                  "restrictPublicBuckets")), pab["urn"]  # fmt: skip
    own = by_bucket(res, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", bucket)
    assert own["inputs"]["rule"]["objectOwnership"] == "BucketOwnerEnforced", (
        f"{own['urn']}: v2 logging needs no ACLs"
    )
    sse = by_bucket(res, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                    bucket)  # fmt: skip
    key = one(res, "aws:kms/key:Key", "ecommerce-edge-logs-key")
    by_default = sse["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]
    assert by_default == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key["outputs"]["arn"]}, sse["urn"]
    life = by_bucket(res, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", bucket)
    (rule,) = life["inputs"]["rules"]
    assert rule["expiration"]["days"] == settings_for(stack).edge.log_retention_days, life["urn"]

    source = one(res, "aws:cloudwatch/logDeliverySource:LogDeliverySource", "ecommerce-edge-access-logs")
    assert source["inputs"]["logType"] == "ACCESS_LOGS", source["urn"]
    assert source["inputs"]["resourceArn"] == distribution(res)["outputs"]["arn"], source["urn"]
    dest = one(
        res, "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination", "ecommerce-edge-access-logs"
    )
    target = dest["inputs"]["deliveryDestinationConfiguration"]["destinationResourceArn"]
    assert target == bucket["outputs"]["arn"], dest["urn"]
    delivery = one(res, "aws:cloudwatch/logDelivery:LogDelivery", "ecommerce-edge-access-logs")
    assert delivery["inputs"]["deliverySourceName"] == source["inputs"]["name"], delivery["urn"]
    assert delivery["inputs"]["deliveryDestinationArn"] == dest["outputs"]["arn"], delivery["urn"]

    pol = by_bucket(res, BUCKET_POLICY, bucket)
    assert pol["urn"] in delivery["dependencies"], f"{delivery['urn']} must wait for {pol['urn']}"
    sts = statements(pol)
    write = sts["LogDeliveryWritesAccessLogs"]
    assert write["Principal"] == {"Service": "delivery.logs.amazonaws.com"}, pol["urn"]
    assert write["Condition"]["ArnLike"]["aws:SourceArn"] == source["outputs"]["arn"], pol["urn"]
    assert sts["DenyInsecureTransport"]["Effect"] == "Deny", pol["urn"]
    kms = statements(key)["LogDeliveryWritesCloudFrontAccessLogs"]
    assert kms["Condition"]["ArnLike"]["aws:SourceArn"] == source["outputs"]["arn"], key["urn"]


# --- DNS ------------------------------------------------------------------------------------------------------------


def test_dns_records_only_with_a_domain(edge: Callable[[str], Resources]) -> None:
    assert edge("dev").of_type(RECORD) == [], "dev has no domain: no Route 53 records"
    res = edge("prod")
    zone = hosted_zone_id("shop.example.com")
    d = distribution(res)
    aliases = {
        (r["inputs"]["name"], r["inputs"]["type"]): r
        for r in res.of_type(RECORD)
        if r["inputs"].get("aliases")
    }
    wanted_aliases = {(n, t) for n in ("shop.example.com", "www.shop.example.com") for t in ("A", "AAAA")}
    assert set(aliases) == wanted_aliases, [r["urn"] for r in aliases.values()]
    for r in aliases.values():
        assert r["inputs"]["zoneId"] == zone, r["urn"]
        assert r["inputs"]["aliases"] == [{"name": d["outputs"]["domainName"], "zoneId": CLOUDFRONT_HOSTED_ZONE_ID,
                                           "evaluateTargetHealth": False}], r["urn"]  # fmt: skip
    cert = one(res, CERT, "ecommerce-edge-cert")
    assert cert["inputs"]["validationMethod"] == "DNS", cert["urn"]
    assert cert["inputs"]["subjectAlternativeNames"] == ["www.shop.example.com"], cert["urn"]
    wanted = {o["resourceRecordName"]: o for o in cert["outputs"]["domainValidationOptions"]}
    validations = [r for r in res.of_type(RECORD) if not r["inputs"].get("aliases")]
    assert {r["inputs"]["name"] for r in validations} == set(wanted), (
        "one validation record per certificate name"
    )
    for r in validations:
        o = wanted[r["inputs"]["name"]]
        assert r["inputs"]["zoneId"] == zone and r["inputs"]["records"] == [o["resourceRecordValue"]], r[
            "urn"
        ]
    v = one(res, CERT_VALIDATION, "ecommerce-edge-cert")
    assert v["inputs"]["certificateArn"] == cert["outputs"]["arn"], v["urn"]
    assert sorted(v["inputs"]["validationRecordFqdns"]) == sorted(n.rstrip(".") for n in wanted), v["urn"]


# --- the origin lock's security-group half, over the whole plans ----------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_cloudfront_prefix_list_is_referenced_by_one_rule_at_most(resources: Callable[[str], Resources],
                                                                  stack: str) -> None:  # fmt: skip
    """The origin-facing list weighs ~55 entries against the 60-rules-per-group quota: one rule, never two (the DR
    VPC's ALB group, in the DR region, has its own)."""
    res = resources(stack).primary()
    pl = PREFIX_LISTS[CLOUDFRONT_ORIGIN_PREFIX_LIST]
    users = [r for r in res.of_type(SG_INGRESS) if r["inputs"].get("prefixListId") == pl]
    assert len(users) <= 1, (
        f"more than one rule references the CloudFront prefix list: {[r['urn'] for r in users]}"
    )
    if settings_for(stack).network.alb_ingress == "cloudfront":
        (rule,) = users
        port = settings_for(stack).edge.origin_port
        assert (rule["inputs"]["fromPort"], rule["inputs"]["toPort"]) == (port, port), rule["urn"]
        alb_open = [r["urn"] for r in res.of_type(SG_INGRESS) if r["inputs"].get("cidrIpv4") == "0.0.0.0/0"]
        assert alb_open == [], f"a CloudFront-fronted ALB must not be open to the world: {alb_open}"


# --- settings -------------------------------------------------------------------------------------------------------


def _edge(**changes: Any) -> dict[str, Any]:
    return {NS + "edge": {"domainName": "", **changes}}


BAD_EDGE: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("price-class", "dev", _edge(priceClass="PriceClass_300"), "edge.priceClass", "allowed: PriceClass_100"),
    ("rate-below-min", "dev", _edge(wafRateLimit=9), "edge.wafRateLimit", "allows 10 to 2,000,000,000"),
    ("rate-above-max", "dev", _edge(wafRateLimit=2_000_000_001), "edge.wafRateLimit", "out of range"),
    ("rate-window", "dev", _edge(wafRateWindowSeconds=30), "edge.wafRateWindowSeconds", "allowed: 60, 120, 300, 600"),
    ("log-retention", "dev", _edge(logRetentionDays=42), "edge.logRetentionDays", "allowed: 1, 3, 5"),
    ("noncurrent-days", "dev", _edge(siteNoncurrentVersionDays=0), "edge.siteNoncurrentVersionDays", "1 to 3650"),
    ("csp-too-long", "dev", _edge(contentSecurityPolicy="default-src 'self'; " + "a" * 1800),
     "edge.contentSecurityPolicy", "at most 1783"),
    ("csp-multiline", "dev", _edge(contentSecurityPolicy="default-src 'self';\nscript-src 'self'"),
     "edge.contentSecurityPolicy", "one non-empty line"),
    ("csp-empty", "dev", _edge(contentSecurityPolicy="  "), "edge.contentSecurityPolicy", "non-empty"),
    ("http3-not-bool", "dev", _edge(http3="maybe"), "edge.http3", "true or false"),
    ("prod-without-domain", "prod", _edge(), "edge.domainName", "prod needs a domain"),
]  # fmt: skip


@pytest.mark.parametrize(("stack", "overrides", "key", "allowed"), [b[1:] for b in BAD_EDGE],
                         ids=[b[0] for b in BAD_EDGE])  # fmt: skip
def test_bad_edge_setting_is_refused(stack: str, overrides: dict[str, Any], key: str, allowed: str) -> None:
    with pytest.raises(SettingsError) as err:
        settings_for(stack, overrides)
    message = str(err.value)
    assert f"  - {key}:" in message and allowed in message, message


def test_edge_setting_limits_are_accepted_at_the_boundaries() -> None:
    """The counterpart: the documented extremes pass (WAF's 10 and 2e9, every price class)."""
    for rate in (10, 2_000_000_000):
        assert settings_for("dev", _edge(wafRateLimit=rate)).edge.waf_rate_limit == rate
    for pc in PRICE_CLASSES:
        assert settings_for("dev", _edge(priceClass=pc)).edge.price_class == pc


def test_dev_and_prod_edges_differ_where_they_should() -> None:
    dev, prod = settings_for("dev").edge, settings_for("prod").edge
    assert dev.domain_name == "" and prod.domain_name == "shop.example.com"
    assert (dev.price_class, prod.price_class) == ("PriceClass_100", "PriceClass_All")
    assert prod.log_retention_days > dev.log_retention_days
    assert EdgeSettings().price_class in PRICE_CLASSES


# --- the whole stacks ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_stack_fronts_the_mesh_alb_with_the_edge(plan: Callable[[str], dict[str, Any]], stack: str) -> None:
    p = plan(stack)
    res = Resources(p["resources"])
    (component,) = res.of_type("ecommerce:edge:CdnEdge")
    children = [r for r in res if r["parent"] == component["urn"]]
    assert children and all(r["provider"] for r in children if r["custom"]), component["urn"]
    (d,) = res.of_type(DISTRIBUTION)
    (alb,) = [o for o in d["inputs"]["origins"] if "customOriginConfig" in o]
    s = settings_for(stack).edge
    if s.domain_name:
        assert alb["domainName"] == s.origin_host, d["urn"]
    (header,) = alb["customHeaders"]
    assert header["name"] == ORIGIN_VERIFY_HEADER and header["value"].get(SPECIAL_SIG) == SECRET_SIG, d["urn"]
    for key in ("siteUrl", "distributionId", "siteBucketName", "webAclArn"):
        assert key in p["outputs"], f"stack output {key} missing"
