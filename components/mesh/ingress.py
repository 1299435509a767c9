"""Ingress: the public ALB, owned by Pulumi — its access-log bucket, its listeners (a 403 by default, TLS with a
domain), one IP target group and one path rule per public service, and the origin CloudFront is handed.

The Load Balancer Controller only registers pod IPs in these target groups (`TargetGroupBinding`), so `pulumi
destroy` leaves no controller-made load balancer behind. What it must not do: forward a request that lacks the
origin header when CloudFront fronts the ALB, or serve TLS older than `ALB_SSL_POLICY`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components import iam
from components.buckets import ABORT_INCOMPLETE_DAYS, PrivateBucket, deny_insecure_transport, private_bucket
from components.contracts import ORIGIN_VERIFY_HEADER, AlbOrigin
from components.mesh.scope import COMPONENT, MeshNetwork, Scope, StandbyRole
from components.naming import tags
from k8s.catalogue import CATALOGUE, READY_PATH

#: TLS 1.3 + 1.2 only; the newest ELB policy family as of this writing.
ALB_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
#: Elastic Load Balancing's log-delivery account per region (regions opened before August 2022 need it in the
#: bucket policy; the service principal `logdelivery.elasticloadbalancing.amazonaws.com` covers newer regions).
ELB_LOG_ACCOUNTS = {"us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-2": "797873946194"}


@dataclass(frozen=True)
class Ingress:
    """The ALB as the rest of the mesh and the edge need it."""

    alb_arn: pulumi.Output[str]
    alb_dns_name: pulumi.Output[str]
    origin: AlbOrigin
    target_group_arns: Mapping[str, pulumi.Output[str]]
    alb_arn_suffix: pulumi.Output[str]
    """The ALB's CloudWatch dimension (`app/<name>/<id>`)."""
    target_group_arn_suffixes: Mapping[str, pulumi.Output[str]]
    """Each target group's CloudWatch dimension (`targetgroup/<name>/<id>`), by service."""
    alb_zone_id: pulumi.Output[str]
    validation_fqdn: pulumi.Output[str] | None
    """The `origin.<domain>` certificate's validation record (None without a domain or when given one)."""


@dataclass(frozen=True)
class _Serving:
    listener_arn: pulumi.Output[str]
    origin_domain: pulumi.Output[str]
    protocol: str
    validation_fqdn: pulumi.Output[str] | None = None


def ingress(
    scope: Scope,
    network: MeshNetwork,
    *,
    route_origin: bool | Sequence[pulumi.Alias] = True,
    standby: StandbyRole | None = None,
) -> Ingress:
    """The ALB, its logs, listeners, target groups and path rules."""
    logs = _log_bucket(scope)
    assert logs.policy is not None, "private_bucket always writes a policy"
    c, prefix = scope.settings.cluster, scope.prefix
    alb = aws.lb.LoadBalancer(
        f"{scope.name}-alb",
        name=f"{prefix}-alb",
        load_balancer_type="application",
        internal=False,
        security_groups=[network.alb_security_group_id],
        subnets=list(network.public_subnet_ids),
        drop_invalid_header_fields=True,
        desync_mitigation_mode="defensive",
        enable_deletion_protection=c.alb_deletion_protection,
        enable_http2=True,
        idle_timeout=60,
        access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=logs.name, prefix="alb", enabled=True),
        tags=tags(COMPONENT, f"{prefix}-alb"),
        opts=pulumi.ResourceOptions(parent=scope.owner, depends_on=[logs.policy]),
    )
    validation_fqdn = standby.certificate_validation_fqdn if standby is not None else None
    if standby is None:
        verify = random.RandomPassword(
            f"{scope.name}-origin-verify", length=48, special=False, opts=scope.child
        )
        header_value: pulumi.Output[str] = pulumi.Output.secret(cast(Any, verify.result))
    else:
        header_value = pulumi.Output.secret(standby.origin_verify_value)
    serving = _listeners(scope, alb, route_origin=route_origin, validation_fqdn=validation_fqdn)
    groups = _routes(scope, network, serving.listener_arn, header_value)
    origin = AlbOrigin(
        domain_name=serving.origin_domain,
        protocol=serving.protocol,
        port=scope.settings.edge.origin_port,
        verify_header_value=header_value,
        alb_arn=alb.arn,
    )
    return Ingress(
        alb.arn,
        alb.dns_name,
        origin,
        {svc: tg.arn for svc, tg in groups.items()},
        alb.arn_suffix,
        {svc: tg.arn_suffix for svc, tg in groups.items()},
        alb.zone_id,
        serving.validation_fqdn,
    )


def _log_bucket(scope: Scope) -> PrivateBucket:
    """The ALB's access-log bucket, delivered to by Elastic Load Balancing's log-delivery account."""
    name, settings = scope.name, scope.settings
    log_name = f"{name}-alb-logs"

    def statements(bucket: aws.s3.Bucket) -> list[iam.Statement]:
        log_objects = pulumi.Output.format(
            "arn:{0}:s3:::{1}/alb/AWSLogs/{2}/*", scope.partition, bucket.bucket, scope.account_id
        )
        elb_account = scope.region.apply(lambda r: ELB_LOG_ACCOUNTS.get(r, ""))
        delivery = pulumi.Output.format("arn:{0}:iam::{1}:root", scope.partition, elb_account)
        return [
            {
                "sid": "ElbDeliversAccessLogs",
                "effect": "Allow",
                "actions": ["s3:PutObject"],
                "resources": [log_objects],
                "principals": [{"type": "AWS", "identifiers": [delivery]}],
            },
            deny_insecure_transport(bucket.arn),
        ]

    return private_bucket(
        log_name,
        parent=scope.owner,
        tags=tags(COMPONENT, log_name),
        kms_key_arn=None,
        sse_s3_reason="ALB access logs are delivered only to buckets encrypted with SSE-S3; SSE-KMS is not "
        'supported for them (ALB User Guide, "Enable access logs for your Application Load Balancer": "the only '
        "server-side encryption option that's supported is SSE-S3\")",
        versioned=False,
        unversioned_reason="access logs are written once and expire after cluster.albLogRetentionDays; no "
        "object is ever overwritten, so versions would only add cost",
        lifecycle_rules=[
            {
                "id": "expire-access-logs",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "expiration": {"days": settings.cluster.alb_log_retention_days},
                "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_INCOMPLETE_DAYS},
            }
        ],
        policy_statements=statements,
        bucket_prefix=f"{scope.prefix}-alb-logs-",
        force_destroy=not settings.protect_data,
    )


def _forbidden() -> aws.lb.ListenerDefaultActionArgs:
    return aws.lb.ListenerDefaultActionArgs(
        type="fixed-response",
        fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
            content_type="text/plain", status_code="403", message_body="Forbidden"
        ),
    )


def _listeners(
    scope: Scope,
    alb: aws.lb.LoadBalancer,
    *,
    route_origin: bool | Sequence[pulumi.Alias],
    validation_fqdn: pulumi.Input[str] | None,
) -> _Serving:
    """The listener the rules go on: HTTPS (and an HTTP redirect) with a domain, HTTP without; default 403.

    With `validation_fqdn` (the standby's certificate for the same name) the certificate validates with that
    existing record instead of writing it again; without `route_origin` no `origin.<domain>` record is written here.
    """
    name, edge = scope.name, scope.settings.edge
    if not edge.domain_name:
        serving = aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=alb.arn,
            port=80,
            protocol="HTTP",
            default_actions=[_forbidden()],
            tags=tags(COMPONENT, f"{name}-http"),
            opts=scope.child,
        )
        return _Serving(serving.arn, alb.dns_name, "http-only")
    zone = aws.route53.get_zone_output(
        name=edge.domain_name, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=scope.owner)
    )
    cert = aws.acm.Certificate(
        f"{name}-origin-cert",
        domain_name=edge.origin_host,
        validation_method="DNS",
        tags=tags(COMPONENT, edge.origin_host),
        opts=scope.child,
    )
    if validation_fqdn is None:
        dvo = cert.domain_validation_options[0]
        validation_record = aws.route53.Record(
            f"{name}-origin-cert-validation",
            zone_id=zone.zone_id,
            name=dvo.resource_record_name,
            type=dvo.resource_record_type,
            records=[dvo.resource_record_value],
            ttl=300,
            allow_overwrite=True,
            opts=scope.child,
        )
        written: pulumi.Output[str] | None = validation_record.fqdn
        fqdn: pulumi.Input[str] = validation_record.fqdn
    else:
        # ACM's validation token works in every region for this account and name (ACM user guide, "DNS
        # validation"): the primary's record validates this certificate too.
        written, fqdn = None, validation_fqdn
    validated = aws.acm.CertificateValidation(
        f"{name}-origin-cert",
        certificate_arn=cert.arn,
        validation_record_fqdns=[fqdn],
        opts=scope.child,
    )
    serving = aws.lb.Listener(
        f"{name}-https",
        load_balancer_arn=alb.arn,
        port=443,
        protocol="HTTPS",
        ssl_policy=ALB_SSL_POLICY,
        certificate_arn=validated.certificate_arn,
        default_actions=[_forbidden()],
        tags=tags(COMPONENT, f"{name}-https"),
        opts=scope.child,
    )
    aws.lb.Listener(
        f"{name}-http",
        load_balancer_arn=alb.arn,
        port=80,
        protocol="HTTP",
        default_actions=[
            aws.lb.ListenerDefaultActionArgs(
                type="redirect",
                redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                    protocol="HTTPS", port="443", status_code="HTTP_301"
                ),
            )
        ],
        tags=tags(COMPONENT, f"{name}-http"),
        opts=scope.child,
    )
    if route_origin is not False:
        was = [] if route_origin is True else list(route_origin)
        aws.route53.Record(
            f"{name}-origin",
            zone_id=zone.zone_id,
            name=edge.origin_host,
            type="A",
            aliases=[
                aws.route53.RecordAliasArgs(
                    name=alb.dns_name, zone_id=alb.zone_id, evaluate_target_health=True
                )
            ],
            # Back from a failover pair (warm standby off): the pair's primary becomes this record again, replaced
            # and deleted first, as Route 53 keeps one routing policy per name and type.
            opts=pulumi.ResourceOptions.merge(
                scope.child, pulumi.ResourceOptions(aliases=was, delete_before_replace=bool(was))
            ),
        )
    return _Serving(serving.arn, pulumi.Output.from_input(edge.origin_host), "https-only", written)


def _routes(
    scope: Scope, network: MeshNetwork, listener_arn: pulumi.Output[str], header_value: pulumi.Output[str]
) -> dict[str, aws.lb.TargetGroup]:
    """One IP target group and one path rule per public service; the target groups by service."""
    name, prefix = scope.name, scope.prefix
    groups: dict[str, aws.lb.TargetGroup] = {}
    priority = 10
    for svc in CATALOGUE:
        if not svc.public:
            continue
        tg = aws.lb.TargetGroup(
            f"{name}-tg-{svc.name}",
            # ALB names: 32 characters at most.
            name=f"{prefix}-{svc.name}"[:32],
            target_type="ip",
            protocol="HTTP",
            port=svc.port,
            vpc_id=network.vpc_id,
            deregistration_delay=30,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                path=READY_PATH,
                port="traffic-port",
                protocol="HTTP",
                matcher="200",
                interval=15,
                timeout=5,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            tags=tags(COMPONENT, f"{prefix}-{svc.name}", Service=svc.name),
            opts=scope.child,
        )
        groups[svc.name] = tg
        conditions = [
            aws.lb.ListenerRuleConditionArgs(
                path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=list(svc.paths))
            )
        ]
        if scope.settings.network.alb_ingress == "cloudfront":
            # Only CloudFront knows the value; anything else reaching the ALB gets the default 403.
            conditions.append(
                aws.lb.ListenerRuleConditionArgs(
                    http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(
                        http_header_name=ORIGIN_VERIFY_HEADER, values=[header_value]
                    )
                )
            )
        aws.lb.ListenerRule(
            f"{name}-rule-{svc.name}",
            listener_arn=listener_arn,
            priority=priority,
            conditions=conditions,
            actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=tg.arn)],
            tags=tags(COMPONENT, f"{name}-rule-{svc.name}"),
            opts=scope.child,
        )
        priority += 10
    return groups
