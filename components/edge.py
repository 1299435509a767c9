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
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from components import iam
from components.config import Settings
from components.contracts import ORIGIN_VERIFY_HEADER, AlbOrigin
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
        edge = settings.edge
        env = settings.environment
        child = pulumi.ResourceOptions(parent=self)
        keep = stateful(settings, child)
        account_id, partition, _ = iam.caller(self)
        domain = edge.domain_name
        aliases = [domain, f"www.{domain}"] if domain else []

        # --- us-east-1: the key, log group and log plumbing for WAF and CloudFront access logs ---
        # WAF accepts only log groups whose name starts with aws-waf-logs-.
        waf_log_group_name = f"aws-waf-logs-ecommerce-{env}"
        waf_log_group_arn = pulumi.Output.format(
            "arn:{0}:logs:{1}:{2}:log-group:{3}", partition, CLOUDFRONT_REGION, account_id, waf_log_group_name
        )
        delivery_source_name = f"ecommerce-{env}-cloudfront-access"
        delivery_source_arn = pulumi.Output.format(
            "arn:{0}:logs:{1}:{2}:delivery-source:{3}",
            partition,
            CLOUDFRONT_REGION,
            account_id,
            delivery_source_name,
        )
        logs_key = iam.customer_key(
            self,
            f"{name}-logs-key",
            region=CLOUDFRONT_REGION,
            description=f"Encrypts the {env} edge logs (WAF log group, CloudFront access-log bucket) in us-east-1",
            account_id=account_id,
            partition=partition,
            service_statements=[
                iam.logs_may_use_key(
                    "CloudWatchLogsUsesKeyForTheWafLogGroup",
                    CLOUDFRONT_REGION,
                    "ArnEquals",
                    waf_log_group_arn,
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
                        iam.condition("StringEquals", "aws:SourceAccount", account_id),
                        iam.condition("ArnLike", "aws:SourceArn", delivery_source_arn),
                    ],
                },
            ],
            tags=tags(COMPONENT, f"{name}-logs-key"),
            opts=keep,  # without the key the retained logs are unreadable
        )
        aws.kms.Alias(
            f"{name}-logs-key", region=CLOUDFRONT_REGION, name=f"alias/ecommerce-{env}-edge-logs",
            target_key_id=logs_key.key_id, opts=child,
        )  # fmt: skip
        waf_log_group = aws.cloudwatch.LogGroup(
            f"{name}-waf-logs",
            region=CLOUDFRONT_REGION,
            name=waf_log_group_name,
            kms_key_id=logs_key.arn,
            retention_in_days=edge.log_retention_days,
            tags=tags(COMPONENT, waf_log_group_name),
            opts=keep,
        )
        # WAF delivers through CloudWatch vended logs; without this policy AWS would try to widen the account's
        # (10-per-region) log resource policies itself, with a broader statement.
        waf_log_policy = aws.cloudwatch.LogResourcePolicy(
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
                        "resources": [pulumi.Output.concat(waf_log_group_arn, ":log-stream:*")],
                        "conditions": [
                            iam.condition("StringEquals", "aws:SourceAccount", account_id),
                            iam.condition(
                                "ArnLike",
                                "aws:SourceArn",
                                pulumi.Output.format(
                                    "arn:{0}:logs:{1}:{2}:*", partition, CLOUDFRONT_REGION, account_id
                                ),
                            ),
                        ],
                    }
                ],
            ),
            opts=child,
        )

        # --- WAF: CLOUDFRONT scope, managed groups, a per-IP rate rule, metrics everywhere ---
        # IP reputation first (cheapest, drops known-bad sources), then the rate limit, then the content rules.
        rules: list[aws.wafv2.WebAclRuleArgsDict] = [_managed_rule(MANAGED_RULE_GROUPS[0][0], 0)]
        rules.append(
            {
                "name": "rate-limit-per-ip",
                "priority": 1,
                "action": {"block": {}},
                "statement": {
                    "rate_based_statement": {
                        "aggregate_key_type": "IP",
                        "limit": edge.waf_rate_limit,
                        "evaluation_window_sec": edge.waf_rate_window_seconds,
                    }
                },
                "visibility_config": _visibility(f"ecommerce-{env}-rate-limit-per-ip"),
            }
        )
        rules += [
            _managed_rule(
                group, p, count=(BODY_SIZE_RULE,) if group == "AWSManagedRulesCommonRuleSet" else ()
            )
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
        web_acl = aws.wafv2.WebAcl(
            f"{name}-waf",
            region=CLOUDFRONT_REGION,
            name=f"ecommerce-{env}-edge",
            description="Shop edge: AWS managed protections and a per-client-IP rate limit",
            scope="CLOUDFRONT",
            default_action={"allow": {}},
            rules=rules,
            visibility_config=_visibility(f"ecommerce-{env}-edge"),
            tags=tags(COMPONENT, f"{name}-waf"),
            opts=child,
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-waf-logging",
            region=CLOUDFRONT_REGION,
            resource_arn=web_acl.arn,
            log_destination_configs=[waf_log_group.arn],
            redacted_fields=[{"single_header": {"name": h}} for h in WAF_REDACTED_HEADERS],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[waf_log_policy]),
        )

        # --- the site bucket: private, owner-enforced, SSE-KMS with a bucket key, versioned for DR ---
        site_key = aws.kms.Key(
            f"{name}-site-key",
            description=f"Encrypts the {env} static-site bucket (CloudFront decrypts through OAC)",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=tags(COMPONENT, f"{name}-site-key"),
            opts=keep,
        )
        aws.kms.Alias(
            f"{name}-site-key", name=f"alias/ecommerce-{env}-site", target_key_id=site_key.key_id, opts=child
        )
        site_bucket = aws.s3.Bucket(
            f"{name}-site",
            force_destroy=not settings.protect_data,
            tags=tags(COMPONENT, f"{name}-site", DataClass="public-content"),
            opts=keep,
        )
        _lock_down(f"{name}-site", site_bucket, site_key.arn, None, child)
        aws.s3.BucketVersioning(
            f"{name}-site", bucket=site_bucket.id, versioning_configuration={"status": "Enabled"}, opts=child
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-site",
            bucket=site_bucket.id,
            rules=[
                {
                    "id": "expire-old-versions",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "noncurrent_version_expiration": {"noncurrent_days": edge.site_noncurrent_version_days},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                },
                {
                    "id": "remove-expired-delete-markers",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"expired_object_delete_marker": True},
                },
            ],
            opts=child,
        )

        # --- the access-log bucket (us-east-1, next to the log delivery source) ---
        logs_bucket = aws.s3.Bucket(
            f"{name}-access-logs",
            region=CLOUDFRONT_REGION,
            force_destroy=not settings.protect_data,
            tags=tags(COMPONENT, f"{name}-access-logs", DataClass="logs"),
            opts=keep,
        )
        _lock_down(f"{name}-access-logs", logs_bucket, logs_key.arn, CLOUDFRONT_REGION, child)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-access-logs",
            region=CLOUDFRONT_REGION,
            bucket=logs_bucket.id,
            rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": edge.log_retention_days},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
                }
            ],
            opts=child,
        )
        logs_bucket_policy = aws.s3.BucketPolicy(
            f"{name}-access-logs",
            region=CLOUDFRONT_REGION,
            bucket=logs_bucket.id,
            policy=iam.policy_json(
                self,
                [
                    {
                        "sid": "LogDeliveryWritesAccessLogs",
                        "effect": "Allow",
                        "principals": [{"type": "Service", "identifiers": ["delivery.logs.amazonaws.com"]}],
                        "actions": ["s3:PutObject"],
                        "resources": [pulumi.Output.concat(logs_bucket.arn, "/AWSLogs/", account_id, "/*")],
                        "conditions": [
                            iam.condition("StringEquals", "s3:x-amz-acl", "bucket-owner-full-control"),
                            iam.condition("StringEquals", "aws:SourceAccount", account_id),
                            iam.condition("ArnLike", "aws:SourceArn", delivery_source_arn),
                        ],
                    },
                    {
                        "sid": "LogDeliveryChecksBucket",
                        "effect": "Allow",
                        "principals": [{"type": "Service", "identifiers": ["delivery.logs.amazonaws.com"]}],
                        "actions": ["s3:GetBucketAcl", "s3:ListBucket"],
                        "resources": [logs_bucket.arn],
                        "conditions": [
                            iam.condition("StringEquals", "aws:SourceAccount", account_id),
                            iam.condition("ArnLike", "aws:SourceArn", delivery_source_arn),
                        ],
                    },
                    _deny_insecure_transport(logs_bucket.arn),
                ],
            ),
            opts=child,
        )

        # --- CloudFront: OAC, security headers, SPA routing, certificate ---
        oac = aws.cloudfront.OriginAccessControl(
            f"{name}-site-oac",
            name=f"ecommerce-{env}-site",
            description="CloudFront signs every request to the site bucket (SigV4)",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=child,
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
                    "content_security_policy": edge.content_security_policy,
                    "override": True,
                },
            },
            opts=child,
        )
        spa_rewrite = aws.cloudfront.Function(
            f"{name}-spa-rewrite",
            name=f"ecommerce-{env}-spa-rewrite",
            runtime="cloudfront-js-2.0",
            comment="Serve /index.html for client-side routes of the single-page app",
            code=SPA_REWRITE_JS,
            publish=True,
            opts=child,
        )

        certificate_arn: pulumi.Output[str] | None = None
        zone_id: pulumi.Output[str] | None = None
        if domain:
            zone_id = aws.route53.get_zone_output(
                name=domain, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=self)
            ).zone_id
            certificate = aws.acm.Certificate(
                f"{name}-cert",
                region=CLOUDFRONT_REGION,
                domain_name=domain,
                subject_alternative_names=aliases[1:],
                validation_method="DNS",
                key_algorithm="RSA_2048",  # every viewer CloudFront serves can verify RSA; ECDSA is not universal
                options={"certificate_transparency_logging_preference": "ENABLED"},
                tags=tags(COMPONENT, f"{name}-cert"),
                opts=child,
            )
            validation_fqdns: list[pulumi.Output[str]] = []
            for alias in aliases:
                label = "apex" if alias == domain else alias.split(".", 1)[0]
                dvo = certificate.domain_validation_options.apply(functools.partial(_validation_for, alias))
                record = aws.route53.Record(
                    f"{name}-cert-validation-{label}",
                    zone_id=zone_id,
                    name=dvo.resource_record_name,
                    type=dvo.resource_record_type,
                    records=[dvo.resource_record_value],
                    ttl=300,
                    allow_overwrite=True,  # ACM reuses the same CNAME when the certificate is re-issued
                    opts=child,
                )
                validation_fqdns.append(record.fqdn)
            validation = aws.acm.CertificateValidation(
                f"{name}-cert",
                region=CLOUDFRONT_REGION,
                certificate_arn=certificate.arn,
                validation_record_fqdns=validation_fqdns,
                opts=child,
            )
            certificate_arn = validation.certificate_arn

        viewer_certificate: aws.cloudfront.DistributionViewerCertificateArgsDict = (
            {
                "acm_certificate_arn": certificate_arn,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": "TLSv1.2_2021",
            }
            if certificate_arn is not None
            # CloudFront's own certificate: it ignores any minimum and negotiates from TLSv1 (README: no domain).
            else {"cloudfront_default_certificate": True}
        )

        site_origin_id, api_origin_id = "site-s3", "api-alb"
        distribution = aws.cloudfront.Distribution(
            f"{name}-cdn",
            comment=f"ecommerce {env}: static site from S3, /api/* to the ALB",
            enabled=True,
            aliases=aliases,
            default_root_object="index.html",
            http_version="http2and3" if edge.http3 else "http2",
            is_ipv6_enabled=True,
            price_class=edge.price_class,
            web_acl_id=web_acl.arn,
            origins=[
                {
                    "origin_id": site_origin_id,
                    "domain_name": site_bucket.bucket_regional_domain_name,
                    "origin_access_control_id": oac.id,
                },
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
            default_cache_behavior={
                "target_origin_id": site_origin_id,
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": ["GET", "HEAD", "OPTIONS"],
                "cached_methods": ["GET", "HEAD"],
                "compress": True,
                "cache_policy_id": CACHING_OPTIMIZED,
                "response_headers_policy_id": headers.id,
                "function_associations": [{"event_type": "viewer-request", "function_arn": spa_rewrite.arn}],
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
                    "response_headers_policy_id": headers.id,
                }
            ],
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate=viewer_certificate,
            tags=tags(COMPONENT, f"{name}-cdn"),
            opts=child,
        )

        # --- bind the bucket and its key to this one distribution ---
        aws.kms.KeyPolicy(
            f"{name}-site-key",
            key_id=site_key.id,
            policy=iam.key_policy(
                self,
                account_id=account_id,
                partition=partition,
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
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-site",
            bucket=site_bucket.id,
            policy=iam.policy_json(
                self,
                [
                    {
                        "sid": "CloudFrontReadsThroughOac",
                        "effect": "Allow",
                        "principals": [{"type": "Service", "identifiers": ["cloudfront.amazonaws.com"]}],
                        "actions": ["s3:GetObject"],
                        "resources": [pulumi.Output.concat(site_bucket.arn, "/*")],
                        "conditions": [iam.condition("StringEquals", "AWS:SourceArn", distribution.arn)],
                    },
                    _deny_insecure_transport(site_bucket.arn),
                ],
            ),
            opts=child,
        )

        # --- CloudFront standard logging v2 to S3 (no bucket ACLs needed, unlike the legacy logging) ---
        source = aws.cloudwatch.LogDeliverySource(
            f"{name}-access-logs",
            region=CLOUDFRONT_REGION,
            name=delivery_source_name,
            log_type="ACCESS_LOGS",
            resource_arn=distribution.arn,
            tags=tags(COMPONENT, f"{name}-access-logs"),
            opts=child,
        )
        destination = aws.cloudwatch.LogDeliveryDestination(
            f"{name}-access-logs",
            region=CLOUDFRONT_REGION,
            name=f"ecommerce-{env}-cloudfront-access-s3",
            output_format="parquet",  # columnar: Athena scans a fraction of the bytes of JSON
            delivery_destination_configuration={"destination_resource_arn": logs_bucket.arn},
            tags=tags(COMPONENT, f"{name}-access-logs"),
            opts=child,
        )
        aws.cloudwatch.LogDelivery(
            f"{name}-access-logs",
            region=CLOUDFRONT_REGION,
            delivery_source_name=source.name,
            delivery_destination_arn=destination.arn,
            s3_delivery_configurations=[
                {"enable_hive_compatible_path": True, "suffix_path": "{DistributionId}/{yyyy}/{MM}/{dd}/{HH}"}
            ],
            tags=tags(COMPONENT, f"{name}-access-logs"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs_bucket_policy]),
        )

        # --- DNS: apex and www, IPv4 and IPv6, aliased to the distribution ---
        if zone_id is not None:
            for alias in aliases:
                label = "apex" if alias == domain else alias.split(".", 1)[0]
                for record_type in ("A", "AAAA"):
                    aws.route53.Record(
                        f"{name}-{label}-{record_type.lower()}",
                        zone_id=zone_id,
                        name=alias,
                        type=record_type,
                        aliases=[
                            {
                                "name": distribution.domain_name,
                                "zone_id": distribution.hosted_zone_id,
                                "evaluate_target_health": False,
                            }
                        ],
                        opts=child,
                    )

        self.distribution_id = distribution.id
        self.distribution_arn = distribution.arn
        self.distribution_domain_name = distribution.domain_name
        self.distribution_hosted_zone_id = distribution.hosted_zone_id
        self.site_bucket_name = site_bucket.bucket
        self.site_bucket_arn = site_bucket.arn
        self.site_kms_key_arn = site_key.arn
        self.logs_bucket_name = logs_bucket.bucket
        self.web_acl_arn = web_acl.arn
        self.web_acl_name = web_acl.name
        self.waf_log_group_name = waf_log_group.name
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


def _deny_insecure_transport(bucket_arn: pulumi.Output[str]) -> iam.Statement:
    """Deny every request to the bucket that does not arrive over TLS (S3 control S3.5)."""
    return {
        "sid": "DenyInsecureTransport",
        "effect": "Deny",
        "principals": [{"type": "*", "identifiers": ["*"]}],
        "actions": ["s3:*"],
        "resources": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
        "conditions": [iam.condition("Bool", "aws:SecureTransport", "false")],
    }


def _lock_down(
    name: str,
    bucket: aws.s3.Bucket,
    key_arn: pulumi.Output[str],
    region: str | None,
    opts: pulumi.ResourceOptions,
) -> None:
    """No public path, no ACLs, SSE-KMS with a bucket key (one KMS call per object batch, not per object)."""
    aws.s3.BucketPublicAccessBlock(
        name,
        region=region,
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    aws.s3.BucketOwnershipControls(
        name, region=region, bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=opts
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        name,
        region=region,
        bucket=bucket.id,
        rules=[
            {
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": key_arn,
                },
                "bucket_key_enabled": True,
            }
        ],
        opts=opts,
    )
