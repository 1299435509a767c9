"""Edge settings (`edge.*`, `CdnEdge`, and the ALB's TLS in `ServiceMesh`): domain, CloudFront and WAF, and their
rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Protocol

from components.config.machinery import Stack, setting
from components.config.shared import LOG_RETENTION_DAYS

#: CloudFront price classes: edge locations served (100: North America and Europe; 200: plus most of Asia, the
#: Middle East and Africa; All: every edge location).
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
#: AWS WAF rate-based rule limits (requests per evaluation window per key); the minimum dropped from 100 to 10 in
#: August 2024.
WAF_RATE_LIMIT_RANGE = (10, 2_000_000_000)
#: Evaluation windows (seconds) a WAF rate-based rule accepts.
WAF_RATE_WINDOWS = (60, 120, 300, 600)
#: CloudFront quota: the longest Content-Security-Policy value a response headers policy accepts.
CSP_MAX_LENGTH = 1783
#: A strict default CSP for a single-page app whose API is same-origin (`/api/*` on the same distribution).
DEFAULT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
               "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
               "upgrade-insecure-requests")  # fmt: skip


@dataclass(frozen=True)
class EdgeSettings:
    """The public entry: domain, CloudFront and WAF (`CdnEdge`), and the ALB's TLS (`ServiceMesh`)."""

    domain_name: str = setting(
        "domainName",
        "Apex domain with a Route 53 hosted zone; empty: CloudFront's own domain, HTTP to the ALB.",
        "",
    )
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = setting(
        "priceClass", "CloudFront price class: PriceClass_100 (NA+EU), PriceClass_200, PriceClass_All.",
        "PriceClass_100",
    )  # fmt: skip
    http3: bool = setting("http3", "Offer HTTP/3 (QUIC) to viewers besides HTTP/2.", True)
    waf_rate_limit: int = setting(
        "wafRateLimit", "Requests one client IP may send per rate window before WAF blocks it.", 2000
    )
    waf_rate_window_seconds: int = setting(
        "wafRateWindowSeconds", "Window of the per-IP rate rule in seconds: 60, 120, 300 or 600.", 300
    )
    log_retention_days: int = setting(
        "logRetentionDays", "Days WAF logs (CloudWatch Logs) and CloudFront access logs (S3) are kept.", 90
    )
    site_noncurrent_version_days: int = setting(
        "siteNoncurrentVersionDays", "Days an overwritten or deleted site object version is kept (rollback window).",
        30,
    )  # fmt: skip
    content_security_policy: str = setting(
        "contentSecurityPolicy",
        "Content-Security-Policy header CloudFront adds to every response.",
        DEFAULT_CSP,
    )

    @property
    def origin_host(self) -> str:
        """Host name CloudFront uses for the ALB when a domain is set (regional certificate, alias record)."""
        return f"origin.{self.domain_name}" if self.domain_name else ""

    @property
    def origin_port(self) -> int:
        """The one port CloudFront reaches the ALB on: 443 with a domain (and so a certificate), else 80."""
        return 443 if self.domain_name else 80


class Context(Stack, Protocol):
    """What the edge rules read: this area and whether the stack is prod."""

    @property
    def edge(self) -> EdgeSettings: ...


def edge_rules(s: Context, problems: list[str]) -> None:
    e = s.edge
    d = e.domain_name
    if d and not re.fullmatch(r"(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", d):
        problems.append(f"edge.domainName: {d!r} is not a lower-case DNS name such as shop.example.com; "
                        "leave it empty to use CloudFront's own domain")  # fmt: skip
    low, high = WAF_RATE_LIMIT_RANGE
    if not low <= e.waf_rate_limit <= high:
        problems.append(f"edge.wafRateLimit: {e.waf_rate_limit} is out of range; AWS WAF allows {low} to {high:,} "
                        "requests per window")  # fmt: skip
    if e.waf_rate_window_seconds not in WAF_RATE_WINDOWS:
        problems.append(f"edge.wafRateWindowSeconds: {e.waf_rate_window_seconds} is not allowed; allowed: "
                        f"{', '.join(map(str, WAF_RATE_WINDOWS))}")  # fmt: skip
    if e.log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(f"edge.logRetentionDays: {e.log_retention_days} is not a CloudWatch retention; "
                        f"allowed: {', '.join(map(str, LOG_RETENTION_DAYS))}")  # fmt: skip
    if not 1 <= e.site_noncurrent_version_days <= 3650:
        problems.append(f"edge.siteNoncurrentVersionDays: {e.site_noncurrent_version_days} is out of range; "
                        "allowed: 1 to 3650 days")  # fmt: skip
    csp = e.content_security_policy
    if not csp.strip() or len(csp) > CSP_MAX_LENGTH or any(c in csp for c in "\r\n"):
        problems.append(f"edge.contentSecurityPolicy: must be one non-empty line of at most {CSP_MAX_LENGTH} "
                        f"characters (CloudFront's limit); got {len(csp)} characters")  # fmt: skip
    if s.is_prod and not d:
        problems.append("edge.domainName: prod needs a domain (a custom certificate is the only way CloudFront "
                        "enforces TLSv1.2_2021 for viewers); set it to a domain with a Route 53 hosted zone")  # fmt: skip
