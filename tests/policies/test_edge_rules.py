"""Edge rules: ALB (aws.lb resources and Load Balancer Controller Ingresses), CloudFront, WAF, ACM."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.policies.cases import Case, check
from tests.policies.helpers import R, provider

P = provider("prod")
D = provider("dev")
CERT = "arn:aws:acm:us-east-2:123456789012:certificate/abc"
TLS13 = "ELBSecurityPolicy-TLS13-1-2-2021-06"
A = "alb.ingress.kubernetes.io/"


def listener(**inputs: Any) -> list[dict[str, Any]]:
    return [P, R("aws:lb/listener:Listener", "listener", inputs)]


REDIRECT = [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]
GOOD_ATTRS = "routing.http.drop_invalid_header_fields.enabled=true,access_logs.s3.enabled=true,access_logs.s3.bucket=logs,deletion_protection.enabled=true"


def ingress(p: dict[str, Any] = P, **annotations: Any) -> list[dict[str, Any]]:
    ann = {
        f"{A}scheme": "internet-facing",
        f"{A}listen-ports": json.dumps([{"HTTPS": 443}]),
        f"{A}certificate-arn": CERT,
        f"{A}ssl-policy": TLS13,
        f"{A}load-balancer-attributes": GOOD_ATTRS,
        f"{A}wafv2-acl-arn": "arn:aws:wafv2:us-east-2:123456789012:regional/webacl/x/1",
    }
    for k, v in annotations.items():
        key = A + k.replace("_", "-")
        if v is None:
            ann.pop(key, None)
        else:
            ann[key] = v
    spec = {
        "ingressClassName": "alb",
        "rules": [
            {
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": "web", "port": {"number": 80}}},
                        }
                    ]
                }
            }
        ],
    }
    return [
        p,
        R(
            "kubernetes:networking.k8s.io/v1:Ingress",
            "api",
            {"metadata": {"namespace": "shop", "annotations": ann}, "spec": spec},
            custom=True,
        ),
    ]


def lb(**changes: Any) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "loadBalancerType": "application",
        "internal": False,
        "dropInvalidHeaderFields": True,
        "desyncMitigationMode": "defensive",
        "enableDeletionProtection": True,
        "accessLogs": {"bucket": "logs", "enabled": True},
    }
    inputs.update(changes)
    return R("aws:lb/loadBalancer:LoadBalancer", "alb", {k: v for k, v in inputs.items() if v is not None})


def distribution(**changes: Any) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "aliases": ["shop.example.com"],
        "defaultRootObject": "index.html",
        "webAclId": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/1",
        "defaultCacheBehavior": {"viewerProtocolPolicy": "redirect-to-https", "targetOriginId": "site"},
        "orderedCacheBehaviors": [
            {"pathPattern": "/api/*", "viewerProtocolPolicy": "https-only", "targetOriginId": "api"}
        ],
        "viewerCertificate": {
            "acmCertificateArn": CERT,
            "sslSupportMethod": "sni-only",
            "minimumProtocolVersion": "TLSv1.2_2021",
        },
        "origins": [
            {
                "originId": "site",
                "domainName": "site.s3.us-east-2.amazonaws.com",
                "originAccessControlId": "oac-1",
            },
            {
                "originId": "api",
                "domainName": "alb.example.com",
                "customOriginConfig": {
                    "originProtocolPolicy": "https-only",
                    "originSslProtocols": ["TLSv1.2"],
                    "httpPort": 80,
                    "httpsPort": 443,
                },
            },
        ],
        "loggingConfig": {"bucket": "logs.s3.amazonaws.com"},
    }
    inputs.update(changes)
    return R(
        "aws:cloudfront/distribution:Distribution", "cdn", {k: v for k, v in inputs.items() if v is not None}
    )


def web_acl(logged: bool = True, **changes: Any) -> list[dict[str, Any]]:
    vis = {"cloudwatchMetricsEnabled": True, "metricName": "m", "sampledRequestsEnabled": True}
    rules = [
        {
            "name": "common",
            "priority": 1,
            "statement": {
                "managedRuleGroupStatement": {"name": "AWSManagedRulesCommonRuleSet", "vendorName": "AWS"}
            },
            "visibilityConfig": vis,
        },
        {
            "name": "bad-inputs",
            "priority": 2,
            "statement": {
                "managedRuleGroupStatement": {
                    "name": "AWSManagedRulesKnownBadInputsRuleSet",
                    "vendorName": "AWS",
                }
            },
            "visibilityConfig": vis,
        },
        {
            "name": "rate",
            "priority": 3,
            "action": {"block": {}},
            "statement": {"rateBasedStatement": {"limit": 2000, "aggregateKeyType": "IP"}},
            "visibilityConfig": vis,
        },
    ]
    inputs: dict[str, Any] = {
        "scope": "CLOUDFRONT",
        "defaultAction": {"allow": {}},
        "rules": rules,
        "visibilityConfig": vis,
    }
    inputs.update(changes)
    acl = R("aws:wafv2/webAcl:WebAcl", "edge-acl", inputs)
    out = [P, acl]
    if logged:
        out.append(
            R(
                "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
                "edge-acl-logs",
                {"resourceArn": "arn:x", "logDestinationConfigs": ["arn:y"]},
                deps={"resourceArn": [acl]},
            )
        )
    return out


CASES = [
    Case(
        "alb-tls",
        "https with an old policy",
        listener(protocol="HTTPS", port=443, certificateArn=CERT, sslPolicy="ELBSecurityPolicy-2016-08"),
        True,
        "sslPolicy",
    ),
    Case(
        "alb-tls",
        "https without a policy",
        listener(protocol="HTTPS", port=443, certificateArn=CERT),
        True,
        "sslPolicy",
    ),
    Case(
        "alb-tls",
        "http forwarding",
        listener(protocol="HTTP", port=80, defaultActions=[{"type": "forward", "targetGroupArn": "tg"}]),
        True,
        "defaultActions[0]",
    ),
    Case(
        "alb-tls",
        "https tls13",
        listener(protocol="HTTPS", port=443, certificateArn=CERT, sslPolicy=TLS13),
        False,
    ),
    Case("alb-tls", "http redirect", listener(protocol="HTTP", port=80, defaultActions=REDIRECT), False),
    Case("alb-tls", "missing everything", listener(), True),
    Case(
        "alb-tls",
        "http listener refusing by default but forwarding by rule",
        [
            P,
            (
                http := R(
                    "aws:lb/listener:Listener",
                    "http",
                    {
                        "protocol": "HTTP",
                        "port": 80,
                        "defaultActions": [
                            {"type": "fixed-response", "fixedResponse": {"statusCode": "403"}}
                        ],
                    },
                )
            ),
            R(
                "aws:lb/listenerRule:ListenerRule",
                "api",
                {"listenerArn": "arn", "actions": [{"type": "forward", "targetGroupArn": "tg"}]},
                deps={"listenerArn": [http]},
            ),
        ],
        True,
        "actions[0].type",
    ),
    Case(
        "alb-tls",
        "http listener that only refuses",
        [
            P,
            R(
                "aws:lb/listener:Listener",
                "http",
                {
                    "protocol": "HTTP",
                    "port": 80,
                    "defaultActions": [{"type": "fixed-response", "fixedResponse": {"statusCode": "403"}}],
                },
            ),
        ],
        False,
    ),
    Case("alb-tls", "ingress default policy", ingress(ssl_policy=None), True, "ssl-policy"),
    Case(
        "alb-tls",
        "ingress http without redirect",
        ingress(listen_ports=json.dumps([{"HTTP": 80}, {"HTTPS": 443}])),
        True,
        "ssl-redirect",
    ),
    Case("alb-tls", "ingress compliant", ingress(), False),
    Case(
        "alb-hardening",
        "headers kept",
        [P, lb(dropInvalidHeaderFields=False)],
        True,
        "dropInvalidHeaderFields",
    ),
    Case("alb-hardening", "no access logs", [P, lb(accessLogs=None)], True, "accessLogs"),
    Case(
        "alb-hardening",
        "no deletion protection in prod",
        [P, lb(enableDeletionProtection=False)],
        True,
        "enableDeletionProtection",
    ),
    Case("alb-hardening", "compliant", [P, lb()], False),
    Case("alb-hardening", "dev without deletion protection", [D, lb(enableDeletionProtection=False)], False),
    Case(
        "alb-hardening",
        "ingress without attributes",
        ingress(load_balancer_attributes=None),
        True,
        "load-balancer-attributes",
    ),
    Case("alb-hardening", "ingress compliant", ingress(), False),
    Case("alb-hardening", "missing everything", [P, R("aws:lb/loadBalancer:LoadBalancer", "bare", {})], True),
    Case("alb-waf-or-cloudfront", "public alb without waf", [P, lb()], True, "web ACL"),
    Case("alb-waf-or-cloudfront", "public ingress without waf", ingress(wafv2_acl_arn=None), True, "web ACL"),
    Case("alb-waf-or-cloudfront", "ingress with waf", ingress(), False),
    Case(
        "alb-waf-or-cloudfront",
        "alb with association",
        [
            P,
            (alb := lb()),
            R(
                "aws:wafv2/webAclAssociation:WebAclAssociation",
                "assoc",
                {"resourceArn": "arn:alb", "webAclArn": "arn:acl"},
                deps={"resourceArn": [alb]},
            ),
        ],
        False,
    ),
    Case("alb-waf-or-cloudfront", "internal alb", [P, lb(internal=True)], False),
    Case(
        "alb-waf-or-cloudfront",
        "missing scheme means public",
        [P, R("aws:lb/loadBalancer:LoadBalancer", "bare", {})],
        True,
    ),
    Case(
        "cloudfront-tls",
        "allow-all viewers",
        [P, distribution(defaultCacheBehavior={"viewerProtocolPolicy": "allow-all"})],
        True,
        "viewerProtocolPolicy",
    ),
    Case(
        "cloudfront-tls",
        "tls 1.1 viewers",
        [
            P,
            distribution(
                viewerCertificate={
                    "acmCertificateArn": CERT,
                    "sslSupportMethod": "sni-only",
                    "minimumProtocolVersion": "TLSv1.1_2016",
                }
            ),
        ],
        True,
        "minimumProtocolVersion",
    ),
    Case(
        "cloudfront-tls",
        "http to the alb",
        [
            P,
            distribution(
                origins=[
                    {
                        "originId": "api",
                        "domainName": "alb",
                        "customOriginConfig": {"originProtocolPolicy": "http-only"},
                    }
                ]
            ),
        ],
        True,
        "originProtocolPolicy",
    ),
    Case("cloudfront-tls", "compliant", [P, distribution()], False),
    Case(
        "cloudfront-tls",
        "missing everything",
        [P, R("aws:cloudfront/distribution:Distribution", "bare", {})],
        True,
    ),
    Case("cloudfront-oac-waf", "no web acl", [P, distribution(webAclId=None)], True, "webAclId"),
    Case(
        "cloudfront-oac-waf",
        "s3 origin without oac",
        [P, distribution(origins=[{"originId": "site", "domainName": "site.s3.us-east-2.amazonaws.com"}])],
        True,
        "originAccessControlId",
    ),
    Case("cloudfront-oac-waf", "compliant", [P, distribution()], False),
    Case(
        "cloudfront-oac-waf",
        "missing everything",
        [P, R("aws:cloudfront/distribution:Distribution", "bare", {})],
        True,
    ),
    Case("cloudfront-logging", "no logging", [P, distribution(loggingConfig=None)], True, "loggingConfig"),
    Case(
        "cloudfront-logging",
        "v2 log delivery",
        [
            P,
            (d := distribution(loggingConfig=None)),
            R(
                "aws:cloudwatch/logDeliverySource:LogDeliverySource",
                "cdn-logs",
                {"logType": "ACCESS_LOGS", "resourceArn": "arn:cdn"},
                deps={"resourceArn": [d]},
            ),
        ],
        False,
    ),
    Case("cloudfront-logging", "legacy logging", [P, distribution()], False),
    Case(
        "cloudfront-logging",
        "missing everything",
        [P, R("aws:cloudfront/distribution:Distribution", "bare", {})],
        True,
    ),
    Case("wafv2-baseline", "no rate rule", web_acl(rules=[]), True, "rules"),
    Case("wafv2-baseline", "no logging", web_acl(logged=False), True, "logging"),
    Case("wafv2-baseline", "compliant", web_acl(), False),
    Case(
        "wafv2-baseline",
        "rules as ruleJson",
        web_acl(
            rules=None,
            ruleJson=json.dumps(
                [
                    {
                        "Name": "c",
                        "Statement": {"ManagedRuleGroupStatement": {"Name": "AWSManagedRulesCommonRuleSet"}},
                    },
                    {
                        "Name": "b",
                        "Statement": {
                            "ManagedRuleGroupStatement": {"Name": "AWSManagedRulesKnownBadInputsRuleSet"}
                        },
                    },
                    {"Name": "r", "Statement": {"RateBasedStatement": {"Limit": 100}}},
                ]
            ),
        ),
        False,
    ),
    Case("wafv2-baseline", "missing everything", [P, R("aws:wafv2/webAcl:WebAcl", "bare", {})], True),
    Case(
        "acm-dns-validated",
        "email validation",
        [
            P,
            R(
                "aws:acm/certificate:Certificate",
                "cert",
                {"domainName": "shop.example.com", "validationMethod": "EMAIL"},
            ),
        ],
        True,
        "validationMethod",
    ),
    Case(
        "acm-dns-validated",
        "weak key",
        [
            P,
            R(
                "aws:acm/certificate:Certificate",
                "cert",
                {"validationMethod": "DNS", "keyAlgorithm": "RSA_1024"},
            ),
        ],
        True,
        "keyAlgorithm",
    ),
    Case(
        "acm-dns-validated",
        "dns rsa2048",
        [
            P,
            R(
                "aws:acm/certificate:Certificate",
                "cert",
                {"validationMethod": "DNS", "keyAlgorithm": "RSA_2048"},
            ),
        ],
        False,
    ),
    Case(
        "acm-dns-validated", "missing everything", [P, R("aws:acm/certificate:Certificate", "bare", {})], True
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case) -> None:
    check(case)
