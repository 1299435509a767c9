"""Shared machinery for the rules: reading engine properties safely, policy documents, joins, exemptions.

Everything here works on *plain* Python values: `plain()` turns the SDK's unknown-checking proxies into dicts and
lists once, with every unknown preview value replaced by the `UNKNOWN` marker, so a rule never trips over an
`UnknownValueError` half-way and never mistakes "not known yet" for "missing". A value that is unknown during
preview is computed by the provider (a KMS key ARN of a key created in the same run, a policy rendered from new
ARNs): the rules skip what they cannot see rather than guess, and `pulumi up` runs the same pack on known values.

No rule module may create resources, read files or start servers at import time.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, _DictProxy, _ListProxy

from . import settings

MANDATORY: Final = EnforcementLevel.MANDATORY
ADVISORY: Final = EnforcementLevel.ADVISORY

# The engine's sentinels for values that are not known during preview (pulumi_policy.proxy has the same list).
UNKNOWN_SENTINELS: Final = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)


class _Unknown:
    """A value the engine will only know after the resource is created."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown during preview>"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Final = _Unknown()

# pulumi_policy's unknown-checking proxies: `proxy["__target"]` is their raw container (the SDK's own
# serialiser unwraps them the same way).
_PROXIES: Final = (_DictProxy, _ListProxy)


def plain(value: Any) -> Any:
    """The SDK's proxies (or plain test data) as plain dicts/lists, unknowns replaced by `UNKNOWN`."""
    kind = type(value)
    if kind is str:
        return UNKNOWN if value in UNKNOWN_SENTINELS else value
    if kind in _PROXIES:
        # The proxy's raw container: its children are proxies or raw values, unknowns still as sentinels.
        return plain(value["__target"])
    if kind is dict:
        return {k: plain(v) for k, v in value.items()}
    if kind is list:
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in list(value.keys()):
            try:
                out[key] = plain(value[key])
            except UnknownValueError:
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def get(obj: Any, *path: str | int) -> Any:
    """`obj[p0][p1]...` on plain data; None when any step is missing, UNKNOWN when any step is unknown."""
    cur = obj
    for key in path:
        if cur is UNKNOWN:
            return UNKNOWN
        if isinstance(key, int):
            if not isinstance(cur, list) or not -len(cur) <= key < len(cur):
                return None
            cur = cur[key]
        else:
            if not isinstance(cur, dict):
                return None
            cur = cur.get(key)
    return cur


def first(obj: Any, *path: str | int) -> Any:
    """Like `get`, but a list met on the way (a provider's single-element block) is entered at index 0."""
    cur = obj
    for key in path:
        if isinstance(cur, list) and not isinstance(key, int):
            cur = cur[0] if cur else None
        cur = get(cur, key)
        if cur is None or cur is UNKNOWN:
            return cur
    if isinstance(cur, list) and len(cur) == 1 and isinstance(cur[0], dict):
        return cur[0]
    return cur


def as_list(value: Any) -> list[Any]:
    """A list, a single value, None or UNKNOWN as a list (UNKNOWN stays one UNKNOWN element)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_false(value: Any) -> bool:
    """Explicitly false (not merely missing)."""
    return value is False or (isinstance(value, str) and value.lower() == "false")


def is_set(value: Any) -> bool:
    """Given and non-empty; an unknown value counts as set (the provider computes it)."""
    if value is UNKNOWN:
        return True
    return value not in (None, "", [], {})


def known(value: Any) -> bool:
    return value is not UNKNOWN


def num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def parse_json(value: Any) -> Any:
    """A JSON string (as the engine sends documents and provider blocks) or an already-parsed value."""
    if isinstance(value, str):
        try:
            return plain(json.loads(value))
        except ValueError:
            return None
    return value


def show(value: Any) -> str:
    """A bad value, short enough for one violation line."""
    if value is None:
        return "not set"
    if value is UNKNOWN:
        return "unknown"
    text = json.dumps(value, default=str, sort_keys=True) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 160 else text[:157] + "..."


# ----------------------------------------------------------------------------------------------------------------
# Policy documents


@dataclass(frozen=True)
class Statement:
    """One statement of an IAM or resource policy, normalised (lists everywhere, keys as AWS spells them)."""

    sid: str
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principals: tuple[str, ...]
    """Every principal value, `*` for the public; service/federated/AWS values alike."""
    principal_kinds: Mapping[str, tuple[str, ...]]
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]]
    """operator -> key -> values."""

    @property
    def allow(self) -> bool:
        return self.effect == "Allow"

    def condition_keys(self) -> set[str]:
        return {key.lower() for keys in self.conditions.values() for key in keys}

    def condition_values(self, key: str) -> dict[str, tuple[str, ...]]:
        """operator -> values for one condition key (case-insensitive key)."""
        return {
            op: values
            for op, keys in self.conditions.items()
            for k, values in keys.items()
            if k.lower() == key.lower()
        }


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in as_list(value) if v is not None and v is not UNKNOWN)


def statements(document: Any) -> list[Statement] | None:
    """The statements of a policy document (JSON string or dict); None when unknown or unparsable."""
    doc = parse_json(document)
    if not isinstance(doc, dict):
        return None
    raw = doc.get("Statement", doc.get("statement"))
    result: list[Statement] = []
    for st in as_list(raw):
        if not isinstance(st, dict):
            continue
        principal = st.get("Principal", st.get("principals"))
        kinds: dict[str, tuple[str, ...]] = {}
        if principal == "*":
            kinds["*"] = ("*",)
        elif isinstance(principal, dict):
            kinds = {str(k): _strings(v) for k, v in principal.items()}
        conditions: dict[str, dict[str, tuple[str, ...]]] = {}
        cond = st.get("Condition")
        if isinstance(cond, dict):
            for op, keys in cond.items():
                if isinstance(keys, dict):
                    conditions[str(op)] = {str(k): _strings(v) for k, v in keys.items()}
        result.append(
            Statement(
                sid=str(st.get("Sid", "")),
                effect=str(st.get("Effect", "Allow")),
                actions=_strings(st.get("Action")),
                not_actions=_strings(st.get("NotAction")),
                resources=_strings(st.get("Resource")),
                not_resources=_strings(st.get("NotResource")),
                principals=tuple(v for values in kinds.values() for v in values),
                principal_kinds=kinds,
                conditions=conditions,
            )
        )
    return result


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, `*` and `?` wildcards."""
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


# ----------------------------------------------------------------------------------------------------------------
# Resources, stacks, joins


@dataclass
class Res:
    """One resource as the rules see it: plain props, and (in a stack) its links."""

    type: str
    name: str
    urn: str
    props: dict[str, Any]
    protect: bool = False
    parent: Res | None = None
    provider_props: dict[str, Any] | None = None
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    #: the resource option `ignore_changes` (input property paths the engine leaves as they are in AWS)
    ignore_changes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.type} '{self.name}'"

    def p(self, *path: str | int) -> Any:
        return get(self.props, *path)

    def depends_on(self, other: Res, prop: str | None = None) -> bool:
        if prop is not None:
            return other.urn in self.property_dependencies.get(prop, [])
        return other.urn in self.dependencies or any(
            other.urn in urns for urns in self.property_dependencies.values()
        )


def resource_from_args(args: ResourceValidationArgs) -> Res:
    provider_props = plain(args.provider.props) if args.provider is not None else None
    return Res(
        type=args.resource_type,
        name=args.name,
        urn=args.urn,
        props=plain(args.props),
        protect=bool(args.opts.protect) if args.opts is not None else False,
        provider_props=provider_props,
        ignore_changes=list(args.opts.ignore_changes or []) if args.opts is not None else [],
    )


class Stack:
    """All resources of a stack, indexed for joins (by type, by URN, by the values others refer to them with)."""

    def __init__(self, resources: Iterable[PolicyResource]) -> None:
        self.resources: list[Res] = []
        by_urn: dict[str, Res] = {}
        parents: dict[str, str] = {}
        for r in resources:
            res = Res(
                type=r.resource_type,
                name=r.name,
                urn=r.urn,
                props=plain(r.props),
                protect=bool(r.opts.protect) if r.opts is not None else False,
                provider_props=plain(r.provider.props) if r.provider is not None else None,
                dependencies=[d.urn for d in r.dependencies],
                property_dependencies={k: [d.urn for d in v] for k, v in r.property_dependencies.items()},
                ignore_changes=list(r.opts.ignore_changes or []) if r.opts is not None else [],
            )
            if r.parent is not None:
                parents[r.urn] = r.parent.urn
            self.resources.append(res)
            by_urn[r.urn] = res
        for urn, parent in parents.items():
            by_urn[urn].parent = by_urn.get(parent)
        self.by_urn = by_urn

    def of_type(self, *types: str) -> list[Res]:
        return [r for r in self.resources if r.type in types]

    def referring(self, target: Res, types: Iterable[str], prop: str, *values: Any) -> list[Res]:
        """Resources of `types` whose `prop` points at `target`: by property dependency (works in a real preview,
        where ids are unknown) or by value (a name/id/ARN the target is known by)."""
        wanted = {v for v in values if isinstance(v, str) and v}
        found = []
        for r in self.of_type(*types):
            if r.depends_on(target, prop):
                found.append(r)
                continue
            val = r.p(prop)
            if isinstance(val, str) and val in wanted:
                found.append(r)
        return found

    def aws_default_tags(self) -> dict[str, str]:
        for r in self.resources:
            if r.type == "pulumi:providers:aws":
                return provider_default_tags(r.props)
        return {}


def provider_default_tags(provider_props: Mapping[str, Any] | None) -> dict[str, str]:
    """The `tags` of an AWS provider's `defaultTags` (the engine sends nested provider config as JSON)."""
    if not provider_props:
        return {}
    default_tags = parse_json(provider_props.get("defaultTags"))
    tags = get(default_tags, "tags") if isinstance(default_tags, dict) else None
    tags = parse_json(tags)
    if not isinstance(tags, dict):
        return {}
    return {str(k): str(v) for k, v in tags.items() if isinstance(v, str)}


# ----------------------------------------------------------------------------------------------------------------
# Environment and configuration


def environment(config: Mapping[str, Any], *provider_props: Mapping[str, Any] | None) -> str:
    """The stack's environment (dev/prod): explicit pack config, the AWS provider's Environment default tag,
    the stack config `<project>:environment` the CLI passes in PULUMI_CONFIG, the stack name; else prod (strictest)."""
    explicit = config.get("environment")
    if isinstance(explicit, str) and explicit:
        return explicit
    for props in provider_props:
        env = provider_default_tags(props).get("Environment")
        if env:
            return env.lower()
    raw = os.environ.get("PULUMI_CONFIG")
    if raw:
        try:
            stack_config = json.loads(raw)
        except ValueError:
            stack_config = {}
        for key, value in stack_config.items():
            if key.endswith(":environment") and isinstance(value, str) and value:
                return value.lower()
    stack = os.environ.get("PULUMI_STACK", "")
    if stack:
        return stack.rsplit("/", 1)[-1].lower()
    return "prod"


def is_prod(env: str) -> bool:
    return env.lower() in ("prod", "production")


@dataclass(frozen=True)
class Exemption:
    urn: str
    reason: str

    def matches(self, urn: str) -> bool:
        return fnmatch.fnmatchcase(urn, self.urn) if any(c in self.urn for c in "*?[") else urn == self.urn


def exemptions_of(config: Mapping[str, Any]) -> list[Exemption]:
    result = []
    for entry in as_list(config.get("exemptions")):
        if isinstance(entry, Mapping) and entry.get("urn") and entry.get("reason"):
            result.append(Exemption(str(entry["urn"]), str(entry["reason"])))
    return result


def effective_config(rule: str, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The rule's schema defaults overlaid with what the engine passed in `Configure` (if anything)."""
    merged = dict(settings.defaults_for(rule))
    if given:
        merged.update(plain(dict(given)))
    return merged


# ----------------------------------------------------------------------------------------------------------------
# Building policies


@dataclass
class Context:
    """What a validator gets: the rule's effective config, the environment and a report function that knows
    the rule's exemptions."""

    rule: str
    config: dict[str, Any]
    env: str
    _report: ReportViolation
    _exemptions: list[Exemption]
    default_urn: str | None = None

    @property
    def prod(self) -> bool:
        return is_prod(self.env)

    def violation(self, res: Res, prop: str, bad: Any, fix: str, *, report_on: Res | None = None) -> None:
        """Report `res`'s `prop` with its bad value and the fix (one line, names all four). `report_on` files it
        under another resource (a bucket, for the configuration resources that belong to it), so one exemption
        of that resource covers its parts."""
        described = f"{prop}: {bad.text}" if isinstance(bad, Raw) else f"{prop} is {show(bad)}"
        self.report((report_on or res).urn, f"{res.label}: {described}; {fix}")

    def report(self, urn: str, message: str) -> None:
        if any(e.matches(urn) for e in self._exemptions):
            return
        if self.default_urn is not None and urn == self.default_urn:
            self._report(message, None)
        else:
            self._report(message, urn)


@dataclass(frozen=True)
class Raw:
    """A bad value already described in words (e.g. 'no BucketPolicy refers to this bucket')."""

    text: str


ResourceCheck = Callable[[Res, Context], None]
StackCheck = Callable[[Stack, Context], None]


def _framework(controls: Sequence[str]) -> PolicyComplianceFramework:
    return PolicyComplianceFramework(
        name="aws-fsbp+pss",
        version="2024",
        reference=", ".join(controls) if controls else "ecommerce-platform baseline",
        specification="AWS Security Hub FSBP / Kubernetes Pod Security Standards (restricted) / project baseline",
    )


def resource_policy(
    name: str,
    description: str,
    level: EnforcementLevel,
    controls: Sequence[str],
    types: Sequence[str],
    check: ResourceCheck,
    *,
    severity: Severity = Severity.HIGH,
    remediation: str = "",
) -> ResourceValidationPolicy:
    """A typed resource validator for `types` (full type tokens), with exemptions and preview-safe props."""
    wanted = frozenset(types)

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in wanted:
            return
        config = effective_config(name, args.get_config())
        res = resource_from_args(args)
        ctx = Context(
            rule=name,
            config=config,
            env=environment(config, res.provider_props),
            _report=report_violation,
            _exemptions=exemptions_of(config),
            default_urn=args.urn,
        )
        check(res, ctx)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        config_schema=settings.schema_for(name),
        severity=severity,
        framework=_framework(controls),
        tags=[*controls, *sorted({t.split(":")[0] + ":" + t.split(":")[1].split("/")[0] for t in types})],
        remediation_steps=remediation or None,
    )


def stack_policy(
    name: str,
    description: str,
    level: EnforcementLevel,
    controls: Sequence[str],
    check: StackCheck,
    *,
    severity: Severity = Severity.HIGH,
    remediation: str = "",
) -> StackValidationPolicy:
    """A stack validator (joins across resources), with exemptions applied per reported URN."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config = effective_config(name, args.get_config())
        stack = Stack(args.resources)
        ctx = Context(
            rule=name,
            config=config,
            env=environment(config, *(r.props for r in stack.of_type("pulumi:providers:aws"))),
            _report=report_violation,
            _exemptions=exemptions_of(config),
        )
        check(stack, ctx)

    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=level,
        config_schema=settings.schema_for(name),
        severity=severity,
        framework=_framework(controls),
        tags=list(controls),
        remediation_steps=remediation or None,
    )


def arn_is_aws_managed_key(value: Any) -> bool:
    """`alias/aws/<service>` or an ARN of one: an AWS-managed key, not a customer-managed CMK."""
    return isinstance(value, str) and bool(re.search(r"(^|:)alias/aws/", value))


def cmk_problem(value: Any) -> str | None:
    """Why `value` is not a customer-managed KMS key reference, or None when it is (or is unknown)."""
    if value is UNKNOWN:
        return None
    if not is_set(value):
        return "no KMS key given (the AWS-managed key is used)"
    if arn_is_aws_managed_key(value):
        return "an AWS-managed key alias"
    return None


# ----------------------------------------------------------------------------------------------------------------
# Network topology (shared by the network and data rules)

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE = "aws:ec2/route:Route"
RT_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
IGW = "aws:ec2/internetGateway:InternetGateway"


def _points_at_igw(stack: Stack, holder: Res, prop: str, value: Any) -> bool:
    if isinstance(value, str) and value.startswith("igw-"):
        return True
    return any(
        stack.by_urn.get(urn) is not None and stack.by_urn[urn].type == IGW
        for urn in holder.property_dependencies.get(prop, [])
    )


def _is_default_route(cidr: Any, ipv6: Any) -> bool:
    return cidr == "0.0.0.0/0" or ipv6 == "::/0"


def public_subnets(stack: Stack) -> set[str]:
    """URNs of subnets that are public: they map public IPs on launch or route 0.0.0.0/0 to an internet gateway."""
    igw_tables: set[str] = set()
    for rt in stack.of_type(ROUTE_TABLE):
        for route in as_list(rt.p("routes")):
            if _is_default_route(get(route, "cidrBlock"), get(route, "ipv6CidrBlock")) and (
                str(get(route, "gatewayId") or "").startswith("igw-")
                or any(
                    stack.by_urn[u].type == IGW
                    for u in rt.property_dependencies.get("routes", [])
                    if u in stack.by_urn
                )
            ):
                igw_tables.add(rt.urn)
    for route in stack.of_type(ROUTE):
        if _is_default_route(
            route.p("destinationCidrBlock"), route.p("destinationIpv6CidrBlock")
        ) and _points_at_igw(stack, route, "gatewayId", route.p("gatewayId")):
            for rt in stack.of_type(ROUTE_TABLE):
                if route.depends_on(rt, "routeTableId") or (
                    rt.p("id") and route.p("routeTableId") == rt.p("id")
                ):
                    igw_tables.add(rt.urn)
    public: set[str] = set()
    for subnet in stack.of_type(SUBNET):
        if is_true(subnet.p("mapPublicIpOnLaunch")):
            public.add(subnet.urn)
    for assoc in stack.of_type(RT_ASSOCIATION):
        tables = [u for u in assoc.property_dependencies.get("routeTableId", []) if u in igw_tables]
        if not tables:
            continue
        for subnet in stack.of_type(SUBNET):
            if assoc.depends_on(subnet, "subnetId") or (
                subnet.p("id") and assoc.p("subnetId") == subnet.p("id")
            ):
                public.add(subnet.urn)
    return public


def referenced(stack: Stack, holder: Res, prop: str, types: Iterable[str]) -> list[Res]:
    """Resources of `types` that `holder`'s `prop` depends on."""
    wanted = set(types)
    return [
        stack.by_urn[urn]
        for urn in holder.property_dependencies.get(prop, [])
        if urn in stack.by_urn and stack.by_urn[urn].type in wanted
    ]
