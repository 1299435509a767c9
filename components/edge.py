"""CdnEdge: the shop's public front door — the static-site bucket, CloudFront (S3 and `/api/*` to the ALB), the
WAFv2 web ACL, the viewer certificate and the DNS records.

Request path: viewer -> CloudFront (+ WAF) -> the private site bucket through Origin Access Control, or `/api/*`
to the ServiceMesh's ALB with the secret `ORIGIN_VERIFY_HEADER` (the ALB's listener rules answer 403 without it;
its security group admits only CloudFront's origin-facing prefix list — that half lives in `EcommerceVpc`).

CloudFront is global, but its certificate, its WAF ACL and the vended-log plumbing for both live in us-east-1:
those resources carry `region="us-east-1"` (pulumi-aws v7) and use a KMS key of their own in us-east-1, because a
KMS key cannot encrypt outside its region. The site bucket and its key stay in the platform's region.

What it must not do: make the bucket reachable other than through this distribution, forward the viewer's Host
header to the ALB, cache API responses, or let the origin secret out in plain text.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from components import buckets, iam
from components.config import Settings
from components.contracts import ORIGIN_VERIFY_HEADER, AlbOrigin
from components.dr import replica_bucket_name
from components.naming import stateful, tags

COMPONENT = "edge"
#: CloudFront reads viewer certificates and CLOUDFRONT-scope web ACLs only from this region.
CLOUDFRONT_REGION = "us-east-1"

#: AWS managed CloudFront policies. Their ids are fixed and identical in every account (CloudFront developer guide,
#: "Use managed cache policies" / "origin request policies"), so they are constants rather than look-ups.
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"

#: AWS managed rule groups on the ACL, cheapest first, with their web ACL capacity units (WCU). Above 1,500 WCU
#: AWS WAF charges more per request, so the total is kept (and tested) under it.
MANAGED_RULE_GROUPS: tuple[tuple[str, int], ...] = (
    ("AWSManagedRulesAmazonIpReputationList", 25),
    ("AWSManagedRulesCommonRuleSet", 700),
    ("AWSManagedRulesKnownBadInputsRuleSet", 200),
    ("AWSManagedRulesSQLiRuleSet", 200),
)
RATE_RULE_WCU = 2
#: The common rule set's `SizeRestrictions_BODY` blocks every body over 8 KB; the API takes larger ones (orders with
#: many lines). The rule is switched to count inside the group and re-applied by a rule of our own everywhere but
#: `/api/*`, matching the label the group still adds ("AWS WAF rule labels", core rule set).
BODY_SIZE_RULE = "SizeRestrictions_BODY"
BODY_SIZE_LABEL = "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"
API_PATH_PREFIX = "/api/"
#: WCU of that rule: a label match (1) and a starts-with byte match on the URI path (2), under AND/NOT.
BODY_SIZE_RULE_WCU = 3
WAF_BASE_WCU = 1500
#: Headers AWS WAF must never write to its logs: session cookies and bearer tokens.
WAF_REDACTED_HEADERS = ("authorization", "cookie")

#: Every method the API may use; CloudFront accepts exactly this set or GET/HEAD(/OPTIONS).
ALL_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]

#: Viewer-request function for the site: a path without a file extension is a client-side route of the single-page
#: app and is served `/index.html`. Done here rather than with distribution-wide custom error responses, which would
#: also turn the API's 403/404 and WAF's 403 blocks into `200 index.html`.
SPA_REWRITE_JS = """\
function handler(event) {
  var request = event.request;
  var last = request.uri.substring(request.uri.lastIndexOf('/') + 1);
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
"""


@dataclass(frozen=True)
class _Keys:
    """The edge's two customer keys: the logs key lives in us-east-1 beside the logs, the site key beside the site."""

    logs: aws.kms.Key
    site: aws.kms.Key


@dataclass(frozen=True)
class _Certificate:
    """The validated us-east-1 viewer certificate and the public hosted zone of the domain."""

    arn: pulumi.Output[str]
    zone_id: pulumi.Output[str]


@dataclass(frozen=True)
class _Waf:
    web_acl: aws.wafv2.WebAcl
    log_group: aws.cloudwatch.LogGroup


@dataclass(frozen=True)
class _ViewerParts:
    """What the distribution's behaviours refer to: the site origin's OAC, the headers policy, the SPA function."""

    oac: aws.cloudfront.OriginAccessControl
    headers: aws.cloudfront.ResponseHeadersPolicy
    spa_rewrite: aws.cloudfront.Function


@dataclass(frozen=True)
class _SiteFailover:
    """The DR replica origin and the origin group the site's behaviour targets (empty with DR off)."""

    origins: list[aws.cloudfront.DistributionOriginArgsDict]
    groups: list[aws.cloudfront.DistributionOriginGroupArgsDict]
    target: str | None


class CdnEdge(pulumi.ComponentResource):
    """Site bucket, CloudFront distribution, WAF ACL, certificate and DNS. Children are named `{name}-<role>`."""

    distribution_id: pulumi.Output[str]
    distribution_arn: pulumi.Output[str]
    distribution_domain_name: pulumi.Output[str]
    distribution_hosted_zone_id: pulumi.Output[str]
    site_bucket_name: pulumi.Output[str]
    site_bucket_arn: pulumi.Output[str]
    site_kms_key_arn: pulumi.Output[str]
    logs_bucket_name: pulumi.Output[str]
    web_acl_arn: pulumi.Output[str]
    web_acl_name: pulumi.Output[str]
    waf_log_group_name: pulumi.Output[str]
    site_url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: Settings,
        *,
        alb_origin: AlbOrigin,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param settings: the validated stack settings (`edge.*`, `environment`, `protectData`).
        :param alb_origin: the ServiceMesh's ALB as the `/api/*` origin, with the secret origin-verify value.
        """
        super().__init__("ecommerce:edge:CdnEdge", name, None, opts)
        self._name = name
        self._settings = settings
        self._edge = settings.edge
        self._env = settings.environment
        self._child = pulumi.ResourceOptions(parent=self)
        self._keep = stateful(settings, self._child)
        self._account, self._partition, _ = iam.caller(self)
        domain = self._edge.domain_name
        # Not `_aliases`: pulumi.Resource keeps the component's URN aliases under that name.
        self._hostnames: list[str] = [domain, f"www.{domain}"] if domain else []
        # WAF accepts only log groups whose name starts with aws-waf-logs-.
        self._waf_log_group_name = f"aws-waf-logs-ecommerce-{self._env}"
        self._delivery_source_name = f"ecommerce-{self._env}-cloudfront-access"

        keys = self._keys()
        site = self._site_bucket(keys.site)
        access_logs = self._access_log_bucket(keys.logs)
        certificate = self._certificate()
        waf = self._waf(keys.logs)
        viewer = self._viewer_parts()
        distribution = self._distribution(site, waf.web_acl, viewer, certificate, alb_origin)
        self._bind_site_to(distribution, site, keys.site)
        self._access_logging(distribution, access_logs)
        self._dns_records(distribution, certificate)

        self.distribution_id = distribution.id
        self.distribution_arn = distribution.arn
        self.distribution_domain_name = distribution.domain_name
        self.distribution_hosted_zone_id = distribution.hosted_zone_id
        self.site_bucket_name = site.name
        self.site_bucket_arn = site.arn
        self.site_kms_key_arn = keys.site.arn
        self.logs_bucket_name = access_logs.name
        self.web_acl_arn = waf.web_acl.arn
        self.web_acl_name = waf.web_acl.name
        self.waf_log_group_name = waf.log_group.name
        self.site_url = (
            pulumi.Output.from_input(f"https://{domain}")
            if domain
            else pulumi.Output.concat("https://", distribution.domain_name)
        )
        self.register_outputs(
            {
                "distribution_id": self.distribution_id,
                "distribution_arn": self.distribution_arn,
                "distribution_domain_name": self.distribution_domain_name,
                "distribution_hosted_zone_id": self.distribution_hosted_zone_id,
                "site_bucket_name": self.site_bucket_name,
                "site_bucket_arn": self.site_bucket_arn,
                "site_kms_key_arn": self.site_kms_key_arn,
                "logs_bucket_name": self.logs_bucket_name,
                "web_acl_arn": self.web_acl_arn,
                "waf_log_group_name": self.waf_log_group_name,
                "site_url": self.site_url,
            }
        )

    # -- helpers ---------------------------------------------------------------------------------------------------
    def _us_east_1_arn(self, kind: str, resource: str) -> pulumi.Output[str]:
        """The ARN of a CloudWatch Logs `kind` (log-group, delivery-source) named `resource`, in us-east-1."""
        return pulumi.Output.format(
            "arn:{0}:logs:{1}:{2}:{3}:{4}", self._partition, CLOUDFRONT_REGION, self._account, kind, resource
        )

    @property
    def _waf_log_group_arn(self) -> pulumi.Output[str]:
        return self._us_east_1_arn("log-group", self._waf_log_group_name)

    @property
    def _delivery_source_arn(self) -> pulumi.Output[str]:
        return self._us_east_1_arn("delivery-source", self._delivery_source_name)

    # -- KMS: the us-east-1 logs key (WAF log group, access-log bucket) and the site key ---------------------------
    def _keys(self) -> _Keys:
        name, env = self._name, self._env
        logs_key = iam.customer_key(
            self,
            f"{name}-logs-key",
            region=CLOUDFRONT_REGION,
            description=f"Encrypts the {env} edge logs (WAF log group, CloudFront access-log bucket) in us-east-1",
            account_id=self._account,
            partition=self._partition,
            service_statements=[
                iam.logs_may_use_key(
                    "CloudWatchLogsUsesKeyForTheWafLogGroup",
                    CLOUDFRONT_REGION,
                    "ArnEquals",
                    self._waf_log_group_arn,
                ),
                {
                    "sid": "LogDeliveryWritesCloudFrontAccessLogs",
                    "effect": "Allow",
                    "principals": [{"type": "Service", "identifiers": ["delivery.logs.amazonaws.com"]}],
                    "actions": [
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:DescribeKey",
                    ],
                    "resources": ["*"],
                    "conditions": [
                        iam.condition("StringEquals", "aws:SourceAccount", self._account),
                        iam.condition("ArnLike", "aws:SourceArn", self._delivery_source_arn),
                    ],
                },
            ],
            tags=tags(COMPONENT, f"{name}-logs-key"),
            opts=self._keep,  # without the key the retained logs are unreadable
        )
        aws.kms.Alias(
            f"{name}-logs-key", region=CLOUDFRONT_REGION, name=f"alias/ecommerce-{env}-edge-logs",
            target_key_id=logs_key.key_id, opts=self._child,
        )  # fmt: skip
        # Its key policy names the distribution, which does not exist yet: `_bind_site_to` sets it (aws.kms.KeyPolicy).
        site_key = aws.kms.Key(
            f"{name}-site-key",
            description=f"Encrypts the {env} static-site bucket (CloudFront decrypts through OAC)",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=tags(COMPONENT, f"{name}-site-key"),
            opts=self._keep,
        )
        aws.kms.Alias(
            f"{name}-site-key",
            name=f"alias/ecommerce-{env}-site",
            target_key_id=site_key.key_id,
            opts=self._child,
        )
        return _Keys(logs=logs_key, site=site_key)

    # -- S3: the site bucket and the access-log bucket -------------------------------------------------------------
    def _site_bucket(self, key: aws.kms.Key) -> buckets.PrivateBucket:
        """Private, owner-enforced, SSE-KMS with a bucket key, versioned for DR; its policy (OAC) comes later."""
        return buckets.private_bucket(
            f"{self._name}-site",
            parent=self,
            tags=tags(COMPONENT, f"{self._name}-site", DataClass="public-content"),
            kms_key_arn=key.arn,
            lifecycle_rules=[
                {
                    "id": "expire-old-versions",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "noncurrent_version_expiration": {
                        "noncurrent_days": self._edge.site_noncurrent_version_days
                    },
                    "abort_incomplete_multipart_upload": {
                        "days_after_initiation": buckets.ABORT_INCOMPLETE_DAYS
                    },
                },
                {
                    "id": "remove-expired-delete-markers",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"expired_object_delete_marker": True},
                },
            ],
            # CloudFront's OAC statement names the distribution, whose origin is this bucket.
            policy_statements=buckets.DEFERRED,
            force_destroy=not self._settings.protect_data,
            bucket_opts=self._keep,
        )

    def _access_log_bucket(self, key: aws.kms.Key) -> buckets.PrivateBucket:
        """In us-east-1, next to the log delivery source; logs expire after `edge.logRetentionDays`."""
        account_id, source_arn = self._account, self._delivery_source_arn

        def statements(bucket: aws.s3.Bucket) -> list[iam.Statement]:
            return [
                {
                    "sid": "LogDeliveryWritesAccessLogs",
                    "effect": "Allow",
                    "principals": [{"type": "Service", "identifiers": ["delivery.logs.amazonaws.com"]}],
                    "actions": ["s3:PutObject"],
                    "resources": [pulumi.Output.concat(bucket.arn, "/AWSLogs/", account_id, "/*")],
                    "conditions": [
                        iam.condition("StringEquals", "s3:x-amz-acl", "bucket-owner-full-control"),
                        iam.condition("StringEquals", "aws:SourceAccount", account_id),
                        iam.condition("ArnLike", "aws:SourceArn", source_arn),
                    ],
                },
                {
                    "sid": "LogDeliveryChecksBucket",
                    "effect": "Allow",
                    "principals": [{"type": "Service", "identifiers": ["delivery.logs.amazonaws.com"]}],
                    "actions": ["s3:GetBucketAcl", "s3:ListBucket"],
                    "resources": [bucket.arn],
                    "conditions": [
                        iam.condition("StringEquals", "aws:SourceAccount", account_id),
                        iam.condition("ArnLike", "aws:SourceArn", source_arn),
                    ],
                },
                buckets.deny_insecure_transport(bucket.arn),
            ]

        return buckets.private_bucket(
            f"{self._name}-access-logs",
            parent=self,
            region=CLOUDFRONT_REGION,
            tags=tags(COMPONENT, f"{self._name}-access-logs", DataClass="logs"),
            kms_key_arn=key.arn,
            lifecycle_rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": self._edge.log_retention_days},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
                }
            ],
            policy_statements=statements,
            versioned=False,
            unversioned_reason="access logs are written once and expire after edge.logRetentionDays; "
            "noncurrent versions would only keep expired logs (and their cost) longer",
            force_destroy=not self._settings.protect_data,
            bucket_opts=self._keep,
        )

    # -- ACM: the viewer certificate in us-east-1, validated through Route 53 --------------------------------------
    def _certificate(self) -> _Certificate | None:
        """None without `edge.domainName`: CloudFront's own certificate and no DNS."""
        domain = self._edge.domain_name
        if not domain:
            return None
        name, hostnames = self._name, self._hostnames
        zone_id = aws.route53.get_zone_output(
            name=domain, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=self)
        ).zone_id
        certificate = aws.acm.Certificate(
            f"{name}-cert",
            region=CLOUDFRONT_REGION,
            domain_name=domain,
            subject_alternative_names=hostnames[1:],
            validation_method="DNS",
            key_algorithm="RSA_2048",  # every viewer CloudFront serves can verify RSA; ECDSA is not universal
            options={"certificate_transparency_logging_preference": "ENABLED"},
            tags=tags(COMPONENT, f"{name}-cert"),
            opts=self._child,
        )
        validation_fqdns: list[pulumi.Output[str]] = []
        for alias in hostnames:
            dvo = certificate.domain_validation_options.apply(functools.partial(_validation_for, alias))
            record = aws.route53.Record(
                f"{name}-cert-validation-{self._label(alias)}",
                zone_id=zone_id,
                name=dvo.resource_record_name,
                type=dvo.resource_record_type,
                records=[dvo.resource_record_value],
                ttl=300,
                allow_overwrite=True,  # ACM reuses the same CNAME when the certificate is re-issued
                opts=self._child,
            )
            validation_fqdns.append(record.fqdn)
        validation = aws.acm.CertificateValidation(
            f"{name}-cert",
            region=CLOUDFRONT_REGION,
            certificate_arn=certificate.arn,
            validation_record_fqdns=validation_fqdns,
            opts=self._child,
        )
        return _Certificate(arn=validation.certificate_arn, zone_id=zone_id)

    def _label(self, alias: str) -> str:
        """`apex` for the domain itself, else the first label (`www`)."""
        return "apex" if alias == self._edge.domain_name else alias.split(".", 1)[0]

    # -- WAF: CLOUDFRONT scope in us-east-1, managed groups, a per-IP rate rule, logs to an encrypted group --------
    def _waf(self, logs_key: aws.kms.Key) -> _Waf:
        name, env = self._name, self._env
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-waf-logs",
            region=CLOUDFRONT_REGION,
            name=self._waf_log_group_name,
            kms_key_id=logs_key.arn,
            retention_in_days=self._edge.log_retention_days,
            tags=tags(COMPONENT, self._waf_log_group_name),
            opts=self._keep,
        )
        # WAF delivers through CloudWatch vended logs; without this policy AWS would try to widen the account's
        # (10-per-region) log resource policies itself, with a broader statement.
        log_policy = aws.cloudwatch.LogResourcePolicy(
            f"{name}-waf-logs",
            region=CLOUDFRONT_REGION,
            policy_name=f"ecommerce-{env}-waf-log-delivery",
            policy_document=iam.policy_json(
                self,
                [
                    {
                        "sid": "WafLogDelivery",
                        "effect": "Allow",
                        "principals": [{"type": "Service", "identifiers": ["delivery.logs.amazonaws.com"]}],
                        "actions": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "resources": [pulumi.Output.concat(self._waf_log_group_arn, ":log-stream:*")],
                        "conditions": [
                            iam.condition("StringEquals", "aws:SourceAccount", self._account),
                            iam.condition(
                                "ArnLike",
                                "aws:SourceArn",
                                pulumi.Output.format(
                                    "arn:{0}:logs:{1}:{2}:*",
                                    self._partition,
                                    CLOUDFRONT_REGION,
                                    self._account,
                                ),
                            ),
                        ],
                    }
                ],
            ),
            opts=self._child,
        )
        web_acl = aws.wafv2.WebAcl(
            f"{name}-waf",
            region=CLOUDFRONT_REGION,
            name=f"ecommerce-{env}-edge",
            description="Shop edge: AWS managed protections and a per-client-IP rate limit",
            scope="CLOUDFRONT",
            default_action={"allow": {}},
            rules=_waf_rules(env, self._edge.waf_rate_limit, self._edge.waf_rate_window_seconds),
            visibility_config=_visibility(f"ecommerce-{env}-edge"),
            tags=tags(COMPONENT, f"{name}-waf"),
            opts=self._child,
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-waf-logging",
            region=CLOUDFRONT_REGION,
            resource_arn=web_acl.arn,
            log_destination_configs=[log_group.arn],
            redacted_fields=[{"single_header": {"name": h}} for h in WAF_REDACTED_HEADERS],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_policy]),
        )
        return _Waf(web_acl=web_acl, log_group=log_group)

    # -- CloudFront: OAC, security headers, SPA routing, then the distribution -------------------------------------
    def _viewer_parts(self) -> _ViewerParts:
        name, env = self._name, self._env
        oac = aws.cloudfront.OriginAccessControl(
            f"{name}-site-oac",
            name=f"ecommerce-{env}-site",
            description="CloudFront signs every request to the site bucket (SigV4)",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=self._child,
        )
        headers = aws.cloudfront.ResponseHeadersPolicy(
            f"{name}-security-headers",
            name=f"ecommerce-{env}-security-headers",
            comment="HSTS (preload), nosniff, DENY framing, strict referrer, CSP",
            security_headers_config={
                "strict_transport_security": {
                    "access_control_max_age_sec": 63072000,  # two years: the HSTS preload list's minimum is one
                    "include_subdomains": True,
                    "preload": True,
                    "override": True,
                },
                "content_type_options": {"override": True},
                "frame_options": {"frame_option": "DENY", "override": True},
                "referrer_policy": {"referrer_policy": "strict-origin-when-cross-origin", "override": True},
                "content_security_policy": {
                    "content_security_policy": self._edge.content_security_policy,
                    "override": True,
                },
            },
            opts=self._child,
        )
        spa_rewrite = aws.cloudfront.Function(
            f"{name}-spa-rewrite",
            name=f"ecommerce-{env}-spa-rewrite",
            runtime="cloudfront-js-2.0",
            comment="Serve /index.html for client-side routes of the single-page app",
            code=SPA_REWRITE_JS,
            publish=True,
            opts=self._child,
        )
        return _ViewerParts(oac=oac, headers=headers, spa_rewrite=spa_rewrite)

    def _distribution(
        self,
        site: buckets.PrivateBucket,
        web_acl: aws.wafv2.WebAcl,
        viewer: _ViewerParts,
        certificate: _Certificate | None,
        alb_origin: AlbOrigin,
    ) -> aws.cloudfront.Distribution:
        edge, env = self._edge, self._env
        viewer_certificate: aws.cloudfront.DistributionViewerCertificateArgsDict = (
            {
                "acm_certificate_arn": certificate.arn,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": "TLSv1.2_2021",
            }
            if certificate is not None
            # CloudFront's own certificate: it ignores any minimum and negotiates from TLSv1 (README: no domain).
            else {"cloudfront_default_certificate": True}
        )
        site_origin_id, api_origin_id = "site-s3", "api-alb"
        failover = self._site_failover(viewer.oac)
        return aws.cloudfront.Distribution(
            f"{self._name}-cdn",
            comment=f"ecommerce {env}: static site from S3, /api/* to the ALB",
            enabled=True,
            aliases=self._hostnames,
            default_root_object="index.html",
            http_version="http2and3" if edge.http3 else "http2",
            is_ipv6_enabled=True,
            price_class=edge.price_class,
            web_acl_id=web_acl.arn,
            origins=[
                {
                    "origin_id": site_origin_id,
                    "domain_name": site.bucket.bucket_regional_domain_name,
                    "origin_access_control_id": viewer.oac.id,
                },
                *failover.origins,
                {
                    "origin_id": api_origin_id,
                    "domain_name": alb_origin.domain_name,
                    "custom_origin_config": {
                        "origin_protocol_policy": alb_origin.protocol,
                        "http_port": alb_origin.port if alb_origin.protocol == "http-only" else 80,
                        "https_port": alb_origin.port if alb_origin.protocol == "https-only" else 443,
                        "origin_ssl_protocols": ["TLSv1.2"],
                        # Below the ALB's 60 s idle timeout, so CloudFront closes idle connections first and never
                        # reuses one the ALB has just dropped (a source of 502s).
                        "origin_keepalive_timeout": 30,
                        "origin_read_timeout": 30,
                    },
                    "custom_headers": [
                        {"name": ORIGIN_VERIFY_HEADER, "value": alb_origin.verify_header_value}
                    ],
                },
            ],
            origin_groups=failover.groups,
            default_cache_behavior={
                "target_origin_id": failover.target or site_origin_id,
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": ["GET", "HEAD", "OPTIONS"],
                "cached_methods": ["GET", "HEAD"],
                "compress": True,
                "cache_policy_id": CACHING_OPTIMIZED,
                "response_headers_policy_id": viewer.headers.id,
                "function_associations": [
                    {"event_type": "viewer-request", "function_arn": viewer.spa_rewrite.arn}
                ],
            },
            ordered_cache_behaviors=[
                {
                    "path_pattern": "/api/*",
                    "target_origin_id": api_origin_id,
                    # No redirect for the API: a 301 turns a POST into a GET in many clients and drops its body.
                    "viewer_protocol_policy": "https-only",
                    "allowed_methods": ALL_METHODS,
                    "cached_methods": ["GET", "HEAD"],
                    "compress": True,
                    "cache_policy_id": CACHING_DISABLED,
                    # Every viewer header, cookie and query string except Host: the ALB's certificate and listener
                    # rules are for the origin's name, and a forwarded viewer Host would fail TLS at the origin.
                    "origin_request_policy_id": ALL_VIEWER_EXCEPT_HOST_HEADER,
                    "response_headers_policy_id": viewer.headers.id,
                }
            ],
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate=viewer_certificate,
            tags=tags(COMPONENT, f"{self._name}-cdn"),
            opts=self._child,
        )

    def _site_failover(self, oac: aws.cloudfront.OriginAccessControl) -> _SiteFailover:
        """With DR on: the site's replica in the DR region as the second member of an origin group (same OAC).

        CloudFront fails over on the listed origin status codes and on connection errors, for GET, HEAD and OPTIONS
        only (the site's behaviour allows no others); 5xx only, so a missing page is not fetched twice. The replica's
        name is fixed (`components.dr.replica_bucket_name`), so the origin needs no DR resource to exist first.
        """
        if not self._settings.dr.enabled:
            return _SiteFailover([], [], None)
        replica = pulumi.Output.format(
            "{0}.s3.{1}.amazonaws.com",
            replica_bucket_name(self._settings.environment, "site", self._account),
            self._settings.dr_region,
        )
        origin: aws.cloudfront.DistributionOriginArgsDict = {
            "origin_id": "site-s3-replica", "domain_name": replica, "origin_access_control_id": oac.id,
        }  # fmt: skip
        group: aws.cloudfront.DistributionOriginGroupArgsDict = {
            "origin_id": "site-failover",
            "failover_criteria": {"status_codes": [500, 502, 503, 504]},
            "members": [{"origin_id": "site-s3"}, {"origin_id": "site-s3-replica"}],
        }
        return _SiteFailover([origin], [group], "site-failover")

    # -- bind the site bucket and its key to this one distribution -------------------------------------------------
    def _bind_site_to(
        self, distribution: aws.cloudfront.Distribution, site: buckets.PrivateBucket, key: aws.kms.Key
    ) -> None:
        aws.kms.KeyPolicy(
            f"{self._name}-site-key",
            key_id=key.id,
            policy=iam.key_policy(
                self,
                account_id=self._account,
                partition=self._partition,
                service_statements=[
                    {
                        "sid": "CloudFrontDecryptsForThisDistribution",
                        "effect": "Allow",
                        "principals": [{"type": "Service", "identifiers": ["cloudfront.amazonaws.com"]}],
                        "actions": ["kms:Decrypt"],
                        "resources": ["*"],  # in a key policy "*" is this key
                        "conditions": [iam.condition("StringEquals", "AWS:SourceArn", distribution.arn)],
                    }
                ],
            ),
            opts=self._child,
        )
        site.attach_policy(
            [
                {
                    "sid": "CloudFrontReadsThroughOac",
                    "effect": "Allow",
                    "principals": [{"type": "Service", "identifiers": ["cloudfront.amazonaws.com"]}],
                    "actions": ["s3:GetObject"],
                    "resources": [site.objects()],
                    "conditions": [iam.condition("StringEquals", "AWS:SourceArn", distribution.arn)],
                },
                buckets.deny_insecure_transport(site.arn),
            ]
        )

    # -- CloudFront standard logging v2 to S3 (no bucket ACLs needed, unlike the legacy logging) -------------------
    def _access_logging(
        self, distribution: aws.cloudfront.Distribution, access_logs: buckets.PrivateBucket
    ) -> None:
        name = self._name
        source = aws.cloudwatch.LogDeliverySource(
            f"{name}-access-logs",
            region=CLOUDFRONT_REGION,
            name=self._delivery_source_name,
            log_type="ACCESS_LOGS",
            resource_arn=distribution.arn,
            tags=tags(COMPONENT, f"{name}-access-logs"),
            opts=self._child,
        )
        destination = aws.cloudwatch.LogDeliveryDestination(
            f"{name}-access-logs",
            region=CLOUDFRONT_REGION,
            name=f"ecommerce-{self._env}-cloudfront-access-s3",
            output_format="parquet",  # columnar: Athena scans a fraction of the bytes of JSON
            delivery_destination_configuration={"destination_resource_arn": access_logs.arn},
            tags=tags(COMPONENT, f"{name}-access-logs"),
            opts=self._child,
        )
        bucket_policy = cast(aws.s3.BucketPolicy, access_logs.policy)
        aws.cloudwatch.LogDelivery(
            f"{name}-access-logs",
            region=CLOUDFRONT_REGION,
            delivery_source_name=source.name,
            delivery_destination_arn=destination.arn,
            s3_delivery_configurations=[
                {"enable_hive_compatible_path": True, "suffix_path": "{DistributionId}/{yyyy}/{MM}/{dd}/{HH}"}
            ],
            tags=tags(COMPONENT, f"{name}-access-logs"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[bucket_policy]),
        )

    # -- DNS: apex and www, IPv4 and IPv6, aliased to the distribution ---------------------------------------------
    def _dns_records(
        self, distribution: aws.cloudfront.Distribution, certificate: _Certificate | None
    ) -> None:
        if certificate is None:
            return
        for alias in self._hostnames:
            for record_type in ("A", "AAAA"):
                aws.route53.Record(
                    f"{self._name}-{self._label(alias)}-{record_type.lower()}",
                    zone_id=certificate.zone_id,
                    name=alias,
                    type=record_type,
                    aliases=[
                        {
                            "name": distribution.domain_name,
                            "zone_id": distribution.hosted_zone_id,
                            "evaluate_target_health": False,
                        }
                    ],
                    opts=self._child,
                )


def _waf_rules(env: str, rate_limit: int, rate_window_seconds: int) -> list[aws.wafv2.WebAclRuleArgsDict]:
    """IP reputation first (cheapest, drops known-bad sources), then the rate limit, then the content rules, then
    the body-size rule everywhere but the API."""
    rules: list[aws.wafv2.WebAclRuleArgsDict] = [_managed_rule(MANAGED_RULE_GROUPS[0][0], 0)]
    rules.append(
        {
            "name": "rate-limit-per-ip",
            "priority": 1,
            "action": {"block": {}},
            "statement": {
                "rate_based_statement": {
                    "aggregate_key_type": "IP",
                    "limit": rate_limit,
                    "evaluation_window_sec": rate_window_seconds,
                }
            },
            "visibility_config": _visibility(f"ecommerce-{env}-rate-limit-per-ip"),
        }
    )
    rules += [
        _managed_rule(group, p, count=(BODY_SIZE_RULE,) if group == "AWSManagedRulesCommonRuleSet" else ())
        for p, (group, _) in enumerate(MANAGED_RULE_GROUPS[1:], start=2)
    ]
    rules.append(
        {
            "name": "body-size-outside-api",
            "priority": len(MANAGED_RULE_GROUPS) + 1,
            "action": {"block": {}},
            "statement": {
                "and_statement": {
                    "statements": [
                        {"label_match_statement": {"scope": "LABEL", "key": BODY_SIZE_LABEL}},
                        {
                            "not_statement": {
                                "statement": {
                                    "byte_match_statement": {
                                        "field_to_match": {"uri_path": {}},
                                        "positional_constraint": "STARTS_WITH",
                                        "search_string": API_PATH_PREFIX,
                                        "text_transformations": [{"priority": 0, "type": "NONE"}],
                                    }
                                }
                            }
                        },
                    ]
                }
            },
            "visibility_config": _visibility(f"ecommerce-{env}-body-size-outside-api"),
        }
    )
    return rules


def _validation_for(
    domain: str, options: list[aws.acm.outputs.CertificateDomainValidationOption]
) -> aws.acm.outputs.CertificateDomainValidationOption:
    """The DNS record ACM wants for one name of the certificate (ACM returns them as a set, in no fixed order)."""
    return next(o for o in options if o.domain_name == domain)


def _visibility(metric: str) -> aws.wafv2.WebAclVisibilityConfigArgsDict:
    """CloudWatch metrics and sampled requests on: without them a blocked customer leaves no trace to debug."""
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


def _managed_rule(group: str, priority: int, count: Sequence[str] = ()) -> aws.wafv2.WebAclRuleArgsDict:
    """An AWS managed rule group with its own actions (override none) and its own metric; `count` lists rules of the
    group that only count (and label) instead of blocking."""
    statement: dict[str, Any] = {"vendor_name": "AWS", "name": group}
    if count:
        statement["rule_action_overrides"] = [{"name": r, "action_to_use": {"count": {}}} for r in count]
    return {
        "name": group,
        "priority": priority,
        "override_action": {"none": {}},
        "statement": {"managed_rule_group_statement": cast(Any, statement)},
        "visibility_config": _visibility(group),
    }
