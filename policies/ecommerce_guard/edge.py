"""Edge rules: load balancers (as aws.lb resources or as Ingresses the AWS Load Balancer Controller turns into
ALBs), CloudFront, WAFv2 and ACM."""

from __future__ import annotations

from typing import Any

from .common import (
    ADVISORY,
    MANDATORY,
    UNKNOWN,
    Context,
    Raw,
    Res,
    Stack,
    as_list,
    first,
    get,
    is_false,
    is_set,
    is_true,
    parse_json,
    resource_policy,
    stack_policy,
)

LISTENER = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LB = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENER_RULE = ("aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule")
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_ASSOC = "aws:wafv2/webAclAssociation:WebAclAssociation"
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
LOG_DELIVERY_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
SG = "aws:ec2/securityGroup:SecurityGroup"
SG_RULES = (
    "aws:ec2/securityGroupRule:SecurityGroupRule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
)
CERTIFICATE = "aws:acm/certificate:Certificate"

A = "alb.ingress.kubernetes.io/"


def is_alb_ingress(res: Res) -> bool:
    if res.type != INGRESS:
        return False
    annotations = res.p("metadata", "annotations") or {}
    return (
        res.p("spec", "ingressClassName") == "alb" or get(annotations, "kubernetes.io/ingress.class") == "alb"
    )


def _annotation(res: Res, key: str) -> Any:
    return get(res.p("metadata", "annotations") or {}, A + key)


def _attributes(res: Res) -> dict[str, str]:
    raw = _annotation(res, "load-balancer-attributes")
    if not isinstance(raw, str):
        return {}
    pairs = [p.split("=", 1) for p in raw.split(",") if "=" in p]
    return {k.strip(): v.strip() for k, v in pairs}


# ----------------------------------------------------------------------------------------------------------------


def _alb_tls(res: Res, ctx: Context) -> None:
    allowed = list(ctx.config.get("allowedSslPolicies") or [])
    if res.type == INGRESS:
        if not is_alb_ingress(res):
            return
        ports_raw = _annotation(res, "listen-ports")
        if ports_raw is UNKNOWN:
            return
        has_cert = is_set(_annotation(res, "certificate-arn"))
        ports = parse_json(ports_raw) if ports_raw else [{"HTTPS": 443}] if has_cert else [{"HTTP": 80}]
        protocols = {str(k).upper() for p in as_list(ports) if isinstance(p, dict) for k in p}
        if "HTTPS" not in protocols or not has_cert:
            ctx.violation(
                res,
                f"metadata.annotations[{A}listen-ports/certificate-arn]",
                Raw(
                    f"listeners {sorted(protocols) or ports_raw} certificate {'set' if has_cert else 'missing'}"
                ),
                "listen on HTTPS:443 with an ACM certificate-arn.",
            )
        if "HTTP" in protocols and not is_set(_annotation(res, "ssl-redirect")):
            ctx.violation(
                res,
                f"metadata.annotations[{A}ssl-redirect]",
                None,
                "set ssl-redirect '443' so the HTTP listener only redirects.",
            )
        policy = _annotation(res, "ssl-policy")
        if policy is not UNKNOWN and policy not in allowed:
            ctx.violation(
                res,
                f"metadata.annotations[{A}ssl-policy]",
                policy
                if policy
                else Raw("not set (controller default ELBSecurityPolicy-2016-08 allows TLS 1.0)"),
                f"use one of {allowed[:2]}...",
            )
        return
    protocol = res.p("protocol")
    if protocol in ("HTTPS", "TLS"):
        policy = res.p("sslPolicy")
        if policy is not UNKNOWN and policy not in allowed:
            ctx.violation(
                res,
                "sslPolicy",
                policy if policy else Raw("not set (AWS default ELBSecurityPolicy-2016-08 allows TLS 1.0)"),
                f"use {allowed[0]} or another allowed TLS 1.2/1.3 policy.",
            )
        if not is_set(res.p("certificateArn")):
            ctx.violation(res, "certificateArn", None, "attach the ACM certificate.")
        return
    if protocol in ("HTTP", None):
        _http_listener_actions(res, ctx)


def _http_listener_actions(res: Res, ctx: Context) -> None:
    actions = as_list(res.p("defaultActions"))
    for index, action in enumerate(actions):
        if action is UNKNOWN:
            continue
        kind = get(action, "type")
        redirect_proto = first(action, "redirect", "protocol")
        status = first(action, "fixedResponse", "statusCode")
        if kind == "redirect" and redirect_proto == "HTTPS":
            continue
        if kind == "fixed-response" and str(status) in ("403", "404"):
            continue
        ctx.violation(
            res,
            f"defaultActions[{index}]",
            Raw(f"type {kind!r} on a plain-HTTP listener"),
            "make the HTTP listener only redirect to HTTPS (type 'redirect', protocol 'HTTPS', HTTP_301).",
        )
    if not actions:
        ctx.violation(res, "defaultActions", None, "the HTTP listener must redirect to HTTPS.")


def _alb_hardening(res: Res, ctx: Context) -> None:
    if res.type == INGRESS:
        if not is_alb_ingress(res):
            return
        attrs = _attributes(res)
        wanted = {
            "routing.http.drop_invalid_header_fields.enabled": "true",
            "access_logs.s3.enabled": "true",
        }
        if ctx.prod:
            wanted["deletion_protection.enabled"] = "true"
        if attrs.get("routing.http.desync_mitigation_mode", "defensive") not in ("defensive", "strictest"):
            wanted["routing.http.desync_mitigation_mode"] = "defensive"
        if _annotation(res, "load-balancer-attributes") is UNKNOWN:
            return
        for key, value in wanted.items():
            if attrs.get(key) != value:
                ctx.violation(
                    res,
                    f"metadata.annotations[{A}load-balancer-attributes] {key}",
                    attrs.get(key),
                    f"add '{key}={value}' to the load-balancer-attributes annotation.",
                )
        return
    if res.p("loadBalancerType") not in (None, "application", UNKNOWN):
        return
    drop = res.p("dropInvalidHeaderFields")
    if drop is not UNKNOWN and not is_true(drop):
        ctx.violation(res, "dropInvalidHeaderFields", drop, "set dropInvalidHeaderFields true.")
    desync = res.p("desyncMitigationMode")
    if desync not in (None, UNKNOWN, "defensive", "strictest"):
        ctx.violation(res, "desyncMitigationMode", desync, "use 'defensive' or 'strictest'.")
    if ctx.prod:
        protect = res.p("enableDeletionProtection")
        if protect is not UNKNOWN and not is_true(protect):
            ctx.violation(
                res, "enableDeletionProtection", protect, "set enableDeletionProtection true in prod."
            )
    logs = first(res.props, "accessLogs")
    if logs is not UNKNOWN and (not is_set(get(logs, "bucket")) or is_false(get(logs, "enabled"))):
        ctx.violation(
            res, "accessLogs", logs, "enable access logs to the log bucket (accessLogs.enabled, bucket)."
        )


def _internet_facing(res: Res) -> bool:
    if res.type == INGRESS:
        return is_alb_ingress(res) and _annotation(res, "scheme") == "internet-facing"
    return (
        res.p("loadBalancerType") in (None, "application")
        and not is_true(res.p("internal"))
        and res.p("internal") is not UNKNOWN
    )


def _cloudfront_with_waf(stack: Stack) -> list[Res]:
    return [d for d in stack.of_type(DISTRIBUTION) if is_set(d.p("webAclId"))]


def _only_from_prefix_lists(stack: Stack, groups: list[Res]) -> bool:
    if not groups:
        return False
    for sg in groups:
        for rule in as_list(sg.p("ingress")):
            if isinstance(rule, dict) and (
                as_list(rule.get("cidrBlocks")) or as_list(rule.get("ipv6CidrBlocks"))
            ):
                return False
        for rule in stack.of_type(*SG_RULES):
            if not rule.depends_on(sg, "securityGroupId"):
                continue
            if rule.p("type") not in (None, "ingress"):
                continue
            if is_set(rule.p("cidrBlocks")) or is_set(rule.p("cidrIpv4")) or is_set(rule.p("cidrIpv6")):
                return False
    return True


def _alb_waf(stack: Stack, ctx: Context) -> None:
    cloudfront = _cloudfront_with_waf(stack)
    for lb in [*stack.of_type(*LB), *[i for i in stack.of_type(INGRESS) if is_alb_ingress(i)]]:
        if not _internet_facing(lb):
            continue
        if lb.type == INGRESS and is_set(_annotation(lb, "wafv2-acl-arn")):
            continue
        if lb.type != INGRESS and any(a.depends_on(lb, "resourceArn") for a in stack.of_type(WEB_ACL_ASSOC)):
            continue
        groups = [
            stack.by_urn[u] for u in lb.dependencies if u in stack.by_urn and stack.by_urn[u].type == SG
        ]
        if lb.type != INGRESS:
            groups = [
                stack.by_urn[u]
                for u in lb.property_dependencies.get("securityGroups", [])
                if u in stack.by_urn
            ]
        if cloudfront and _only_from_prefix_lists(stack, groups):
            continue
        ctx.violation(
            lb,
            "web ACL",
            Raw(
                "internet-facing with no WAFv2 association, and not restricted to CloudFront (with a web ACL)"
            ),
            "associate a WAFv2 web ACL (WebAclAssociation / wafv2-acl-arn annotation), or open its security group "
            "only to CloudFront's origin-facing prefix list behind a distribution with a web ACL.",
        )


# ----------------------------------------------------------------------------------------------------------------
# CloudFront


def _behaviors(res: Res) -> list[tuple[str, Any]]:
    out = [("defaultCacheBehavior", first(res.props, "defaultCacheBehavior"))]
    out += [(f"orderedCacheBehaviors[{i}]", b) for i, b in enumerate(as_list(res.p("orderedCacheBehaviors")))]
    return out


def _cloudfront_tls(res: Res, ctx: Context) -> None:
    for prop, behavior in _behaviors(res):
        policy = get(behavior, "viewerProtocolPolicy")
        if policy not in (UNKNOWN, "redirect-to-https", "https-only"):
            ctx.violation(
                res, f"{prop}.viewerProtocolPolicy", policy, "use 'redirect-to-https' or 'https-only'."
            )
    cert = first(res.props, "viewerCertificate") or {}
    allowed = list(ctx.config.get("allowedMinimumProtocolVersions") or [])
    if as_list(res.p("aliases")):
        if not is_set(get(cert, "acmCertificateArn")):
            ctx.violation(
                res,
                "viewerCertificate.acmCertificateArn",
                None,
                "serve the custom domain with the us-east-1 ACM certificate.",
            )
        if get(cert, "sslSupportMethod") not in (UNKNOWN, "sni-only"):
            ctx.violation(
                res, "viewerCertificate.sslSupportMethod", get(cert, "sslSupportMethod"), "use 'sni-only'."
            )
        version = get(cert, "minimumProtocolVersion")
        if version is not UNKNOWN and version not in allowed:
            ctx.violation(res, "viewerCertificate.minimumProtocolVersion", version, f"use one of {allowed}.")
    elif not is_true(get(cert, "cloudfrontDefaultCertificate")) and is_set(get(cert, "acmCertificateArn")):
        version = get(cert, "minimumProtocolVersion")
        if version is not UNKNOWN and version not in allowed:
            ctx.violation(res, "viewerCertificate.minimumProtocolVersion", version, f"use one of {allowed}.")
    for index, origin in enumerate(as_list(res.p("origins"))):
        custom = first(origin, "customOriginConfig")
        if not isinstance(custom, dict):
            continue
        if custom.get("originProtocolPolicy") not in (UNKNOWN, "https-only"):
            ctx.violation(
                res,
                f"origins[{index}].customOriginConfig.originProtocolPolicy",
                custom.get("originProtocolPolicy"),
                "talk to custom origins over HTTPS only ('https-only').",
            )
        protocols = [p for p in as_list(custom.get("originSslProtocols")) if p is not UNKNOWN]
        old = [p for p in protocols if p in ("SSLv3", "TLSv1", "TLSv1.1")]
        if old:
            ctx.violation(
                res,
                f"origins[{index}].customOriginConfig.originSslProtocols",
                protocols,
                "allow TLSv1.2 only.",
            )


def _is_s3_origin(origin: Any) -> bool:
    domain = get(origin, "domainName")
    return first(origin, "customOriginConfig") in (None, []) and (
        (isinstance(domain, str) and ".s3." in domain)
        or is_set(get(origin, "originAccessControlId"))
        or is_set(first(origin, "s3OriginConfig"))
    )


def _cloudfront_oac_waf(res: Res, ctx: Context) -> None:
    for index, origin in enumerate(as_list(res.p("origins"))):
        if _is_s3_origin(origin) and not is_set(get(origin, "originAccessControlId")):
            ctx.violation(
                res,
                f"origins[{index}].originAccessControlId",
                first(origin, "s3OriginConfig") or None,
                "reach the S3 origin through an Origin Access Control (not a legacy OAI or a public bucket).",
            )
    if not is_set(res.p("webAclId")):
        ctx.violation(
            res, "webAclId", None, "attach the CLOUDFRONT-scope WAFv2 web ACL (created in us-east-1)."
        )
    if not is_set(res.p("defaultRootObject")):
        ctx.violation(res, "defaultRootObject", None, "set defaultRootObject (e.g. 'index.html').")


def _cloudfront_logging(stack: Stack, ctx: Context) -> None:
    sources = stack.of_type(LOG_DELIVERY_SOURCE)
    for dist in stack.of_type(DISTRIBUTION):
        if (
            is_set(first(dist.props, "loggingConfig"))
            and dist.p("loggingConfig") is not UNKNOWN
            and get(first(dist.props, "loggingConfig"), "bucket")
        ):
            continue
        if dist.p("loggingConfig") is UNKNOWN:
            continue
        if any(s.depends_on(dist, "resourceArn") for s in sources):
            continue
        ctx.violation(
            dist,
            "loggingConfig",
            None,
            "log viewer requests: standard logging v2 (a CloudWatch LogDeliverySource for the distribution) or loggingConfig.",
        )


# ----------------------------------------------------------------------------------------------------------------
# WAF and ACM


def _deep_find(value: Any, key: str) -> list[Any]:
    """Every value under a key named `key` (case-insensitive) anywhere in `value`."""
    found: list[Any] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k.lower() == key.lower():
                found.append(v)
            found += _deep_find(v, key)
    elif isinstance(value, list):
        for v in value:
            found += _deep_find(v, key)
    return found


def _waf_baseline(stack: Stack, ctx: Context) -> None:
    loggers = stack.of_type(WEB_ACL_LOGGING)
    for acl in stack.of_type(WEB_ACL):
        rules: Any = acl.p("rules")
        if acl.p("ruleJson") not in (None, ""):
            rules = parse_json(acl.p("ruleJson"))
        if rules is UNKNOWN:
            continue
        groups = {
            str(get(g, "name") or get(g, "Name")) for g in _deep_find(rules, "managedRuleGroupStatement")
        }
        for needed in ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"):
            if needed not in groups:
                ctx.violation(
                    acl,
                    "rules",
                    Raw(f"managed groups {sorted(groups)}"),
                    f"add the {needed} managed rule group.",
                )
        if not _deep_find(rules, "rateBasedStatement"):
            ctx.violation(
                acl,
                "rules",
                Raw("no rate-based rule"),
                "add a rateBasedStatement rule (per-IP request limit).",
            )
        metrics = [
            get(v, "cloudwatchMetricsEnabled")
            for v in [first(acl.props, "visibilityConfig"), *_deep_find(rules, "visibilityConfig")]
        ]
        if any(m is not UNKNOWN and not is_true(m) for m in metrics):
            ctx.violation(
                acl,
                "visibilityConfig.cloudwatchMetricsEnabled",
                metrics,
                "enable CloudWatch metrics on the ACL and every rule.",
            )
        if not any(log.depends_on(acl, "resourceArn") for log in loggers):
            ctx.violation(
                acl,
                "logging",
                Raw("no WebAclLoggingConfiguration refers to it"),
                "add a WebAclLoggingConfiguration to a log group named aws-waf-logs-*.",
            )


def _acm(res: Res, ctx: Context) -> None:
    method = res.p("validationMethod")
    if is_set(res.p("certificateBody")) or is_set(res.p("certificateAuthorityArn")):
        return  # imported or private-CA certificates are not validated by DNS
    if method not in (UNKNOWN, "DNS"):
        ctx.violation(res, "validationMethod", method, "validate by DNS (renewals stay automatic).")
    algo = res.p("keyAlgorithm")
    if algo not in (
        None,
        UNKNOWN,
        "RSA_2048",
        "RSA_3072",
        "RSA_4096",
        "EC_prime256v1",
        "EC_secp384r1",
        "EC_secp521r1",
    ):
        ctx.violation(res, "keyAlgorithm", algo, "use RSA_2048 or stronger, or an ECDSA curve.")


def _alb_tls_stack(stack: Stack, ctx: Context) -> None:
    for res in stack.of_type(*LISTENER, INGRESS):
        _alb_tls(res, ctx)
    http = [lst for lst in stack.of_type(*LISTENER) if lst.p("protocol") in ("HTTP", None)]
    for rule in stack.of_type(*LISTENER_RULE):
        if not any(rule.depends_on(lst, "listenerArn") for lst in http):
            continue
        for index, action in enumerate(as_list(rule.p("actions"))):
            kind = get(action, "type")
            if kind in ("forward", "authenticate-oidc", "authenticate-cognito"):
                ctx.violation(
                    rule,
                    f"actions[{index}].type",
                    kind,
                    "serve traffic on HTTPS listeners only: plain-HTTP listeners may only redirect to HTTPS or refuse "
                    "(put the rule on an HTTPS listener; CloudFront reaches the origin with originProtocolPolicy "
                    "'https-only').",
                )


POLICIES = [
    stack_policy(
        "alb-tls",
        "Load balancer listeners use HTTPS with an allowed TLS 1.2/1.3 policy; HTTP listeners only redirect.",
        MANDATORY,
        ["ELB.1", "ELB.17", "ELB.18"],
        _alb_tls_stack,
    ),
    resource_policy(
        "alb-hardening",
        "ALBs drop invalid headers, mitigate desync, keep access logs and (prod) deletion protection.",
        MANDATORY,
        ["ELB.4", "ELB.5", "ELB.6", "ELB.12"],
        (*LB, INGRESS),
        _alb_hardening,
    ),
    stack_policy(
        "alb-waf-or-cloudfront",
        "An internet-facing ALB has a WAFv2 web ACL, or is reachable only from CloudFront with a web ACL.",
        MANDATORY,
        [],
        _alb_waf,
    ),
    resource_policy(
        "cloudfront-tls",
        "CloudFront: viewers on HTTPS, the ACM certificate with SNI and TLSv1.2_2021+, HTTPS to custom origins.",
        MANDATORY,
        ["CloudFront.3", "CloudFront.7", "CloudFront.8", "CloudFront.9", "CloudFront.10", "CloudFront.15"],
        (DISTRIBUTION,),
        _cloudfront_tls,
    ),
    resource_policy(
        "cloudfront-oac-waf",
        "CloudFront: Origin Access Control on S3 origins, a web ACL, a default root object.",
        MANDATORY,
        ["CloudFront.1", "CloudFront.6", "CloudFront.13"],
        (DISTRIBUTION,),
        _cloudfront_oac_waf,
    ),
    stack_policy(
        "cloudfront-logging",
        "CloudFront distributions log viewer requests.",
        ADVISORY,
        ["CloudFront.5"],
        _cloudfront_logging,
    ),
    stack_policy(
        "wafv2-baseline",
        "WAFv2 web ACLs use the common and known-bad-inputs managed groups, a rate rule, metrics and logging.",
        ADVISORY,
        ["WAF.10", "WAF.12"],
        _waf_baseline,
    ),
    resource_policy(
        "acm-dns-validated",
        "ACM certificates are DNS-validated with RSA >= 2048 or ECDSA keys.",
        ADVISORY,
        ["ACM.2"],
        (CERTIFICATE,),
        _acm,
    ),
]
