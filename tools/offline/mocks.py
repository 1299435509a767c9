"""The one Mocks class: answers the program's resource registrations and invokes the way AWS would.

Shared by the offline engine (`make preview`) and every test. Resources get unique, type-shaped ids
(`vpc-0a1b…`, `sg-…`), ARNs in their own region (a resource's `region` argument, else its provider's) and account,
and the computed attributes the program reads (`arn`, `tagsAll`, endpoints…). Invokes answer caller identity, AZs,
partition/region and render `iam.get_policy_document` to the same JSON the provider would.

To teach the mocks a new resource type, add one line to `ID_PREFIX`/`ARN_FORMAT` or a function to `EXTRA_OUTPUTS`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pulumi

ACCOUNT_ID = "123456789012"
PARTITION = "aws"
DEFAULT_REGION = "us-east-2"

#: Region -> AZ names AWS reports for it (state "available").
AZS = {
    "us-east-1": ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"],
    "us-east-2": ["us-east-2a", "us-east-2b", "us-east-2c"],
    "us-west-2": ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"],
}
#: Managed prefix lists by name (the CloudFront origin-facing list has this id in us-east-2).
PREFIX_LISTS = {"com.amazonaws.global.cloudfront.origin-facing": "pl-b6a144df"}

#: Type token -> id prefix (AWS's own shape: `vpc-0123…`); types not listed get `<name>-<hash>`.
ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/route:Route": "r-rtb",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/flowLog:FlowLog": "fl",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt",
    "aws:kms/key:Key": "",
}

#: Type token -> ARN resource part, formatted with the resource's id, name and inputs (`{id}`, `{name}`, `{i[x]}`).
ARN_FORMAT = {
    "aws:ec2/vpc:Vpc": "ec2:{region}:{account}:vpc/{id}",
    "aws:ec2/subnet:Subnet": "ec2:{region}:{account}:subnet/{id}",
    "aws:ec2/internetGateway:InternetGateway": "ec2:{region}:{account}:internet-gateway/{id}",
    "aws:ec2/routeTable:RouteTable": "ec2:{region}:{account}:route-table/{id}",
    "aws:ec2/natGateway:NatGateway": "ec2:{region}:{account}:natgateway/{id}",
    "aws:ec2/eip:Eip": "ec2:{region}:{account}:elastic-ip/{id}",
    "aws:ec2/securityGroup:SecurityGroup": "ec2:{region}:{account}:security-group/{id}",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "ec2:{region}:{account}:security-group/{id}",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "ec2:{region}:{account}:security-group-rule/{id}",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "ec2:{region}:{account}:security-group-rule/{id}",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "ec2:{region}:{account}:vpc-endpoint/{id}",
    "aws:ec2/flowLog:FlowLog": "ec2:{region}:{account}:vpc-flow-log/{id}",
    "aws:kms/key:Key": "kms:{region}:{account}:key/{id}",
    "aws:kms/alias:Alias": "kms:{region}:{account}:{i[name]}",
    "aws:cloudwatch/logGroup:LogGroup": "logs:{region}:{account}:log-group:{i[name]}",
    "aws:iam/role:Role": "iam::{account}:role/{i[name]}",
    "aws:iam/policy:Policy": "iam::{account}:policy/{i[name]}",
    "aws:s3/bucket:Bucket": "s3:::{id}",
}

#: Type token -> the input AWS uses as the resource's id when the program names it (e.g. a bucket's name).
ID_FROM_INPUT = {"aws:s3/bucket:Bucket": "bucket"}


def _hex(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _tags_all(inputs: dict[str, Any], provider_tags: dict[str, str]) -> dict[str, str]:
    return {**provider_tags, **(inputs.get("tags") or {})}


def _vpc(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {
        "defaultSecurityGroupId": f"sg-{_hex(rid, 'default')}",
        "defaultRouteTableId": f"rtb-{_hex(rid, 'main')}",
        "mainRouteTableId": f"rtb-{_hex(rid, 'main')}",
        "defaultNetworkAclId": f"acl-{_hex(rid, 'acl')}",
        "ownerId": ACCOUNT_ID,
    }


def _vpc_endpoint(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    extra: dict[str, Any] = {"state": "available", "ownerId": ACCOUNT_ID}
    if args.inputs.get("vpcEndpointType") == "Gateway":
        extra["prefixListId"] = f"pl-{_hex(rid, length=8)}"
    else:
        service = str(args.inputs.get("serviceName", "")).rsplit(".", 1)[-1]
        extra["dnsEntries"] = [
            {"dnsName": f"{rid}.{service}.{region}.vpce.amazonaws.com", "hostedZoneId": "Z1"}
        ]
        extra["networkInterfaceIds"] = [f"eni-{_hex(rid, s)}" for s in args.inputs.get("subnetIds") or []]
    return extra


def _kms_key(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {"keyId": rid}


def _eip(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    n = int(_hex(rid, length=4), 16)
    return {"allocationId": rid, "publicIp": f"3.{n % 200 + 10}.{n % 250}.{n % 240 + 1}"}


def _oidc_provider(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    host = str(args.inputs.get("url", "")).removeprefix("https://")
    return {"arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:oidc-provider/{host}"}


def _bucket(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {"bucket": rid, "bucketDomainName": f"{rid}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{rid}.s3.{region}.amazonaws.com", "hostedZoneId": "Z2O1EMRO9K5GLX"}  # fmt: skip


def _role(args: pulumi.runtime.MockResourceArgs, region: str, rid: str) -> dict[str, Any]:
    return {"uniqueId": f"AROA{_hex(rid, length=17).upper()}"}


#: Type token -> function adding the computed outputs the program reads beyond id/arn/tagsAll.
EXTRA_OUTPUTS: dict[str, Callable[[pulumi.runtime.MockResourceArgs, str, str], dict[str, Any]]] = {
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:kms/key:Key": _kms_key,
    "aws:ec2/eip:Eip": _eip,
    "aws:iam/role:Role": _role,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:s3/bucket:Bucket": _bucket,
}


def _statement_json(st: dict[str, Any]) -> dict[str, Any]:
    """One `GetPolicyDocumentStatement` (camelCase invoke args) -> its IAM JSON, as the provider renders it."""

    def one_or_many(values: list[Any]) -> Any:
        values = sorted(set(values), key=str) if len(values) > 1 else values
        return values[0] if len(values) == 1 else values

    out: dict[str, Any] = {}
    if st.get("sid"):
        out["Sid"] = st["sid"]
    out["Effect"] = st.get("effect") or "Allow"
    for src, dst in (("actions", "Action"), ("notActions", "NotAction"), ("resources", "Resource"),
                     ("notResources", "NotResource")):  # fmt: skip
        if st.get(src):
            out[dst] = one_or_many(list(st[src]))
    for src, dst in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
        if st.get(src):
            principals: dict[str, list[str]] = {}
            for p in st[src]:
                principals.setdefault(p["type"], []).extend(p["identifiers"])
            if list(principals) == ["*"] and principals["*"] == ["*"]:
                out[dst] = "*"
            else:
                out[dst] = {k: one_or_many(v) for k, v in principals.items()}
    if st.get("conditions"):
        cond: dict[str, dict[str, Any]] = {}
        for c in st["conditions"]:
            cond.setdefault(c["test"], {})[c["variable"]] = one_or_many(list(c["values"]))
        out["Condition"] = cond
    return out


def render_policy_document(args: dict[str, Any]) -> dict[str, Any]:
    """`aws:iam/getPolicyDocument:getPolicyDocument` rendered for real: {"json": ..., "minifiedJson": ...}."""
    doc: dict[str, Any] = {"Version": args.get("version") or "2012-10-17"}
    if args.get("policyId"):
        doc["Id"] = args["policyId"]
    doc["Statement"] = [_statement_json(st) for st in args.get("statements") or []]
    return {
        "json": json.dumps(doc, indent=2),
        "minifiedJson": json.dumps(doc, separators=(",", ":")),
        "id": _hex(json.dumps(doc, sort_keys=True), length=10),
        **args,
    }


class UnmockedInvokeError(LookupError):
    """The program called an invoke the mocks do not know: answer it here rather than guess."""


class PlatformMocks(pulumi.runtime.Mocks):
    """Answers like AWS for the resource and invoke types this program uses."""

    def __init__(self) -> None:
        #: provider reference (`urn::id`) -> (region, default tags), learned as providers register.
        self.providers: dict[str, tuple[str, dict[str, str]]] = {}

    # -- helpers ---------------------------------------------------------------------------------------------
    def _provider_of(self, ref: str | None) -> tuple[str, dict[str, str]]:
        return self.providers.get(ref or "", (DEFAULT_REGION, {}))

    def region_of(self, inputs: dict[str, Any], provider: str | None) -> str:
        return str(inputs.get("region") or self._provider_of(provider)[0])

    # -- resources -------------------------------------------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        typ, inputs = args.typ, dict(args.inputs)
        if typ.startswith("pulumi:providers:"):
            rid = f"provider-{_hex(args.name, length=8)}"
            if typ == "pulumi:providers:aws":
                tags = inputs.get("defaultTags") or {}
                if isinstance(tags, str):
                    tags = json.loads(tags)
                self.providers[f"{self._urn(typ, args.name)}::{rid}"] = (
                    str(inputs.get("region") or DEFAULT_REGION),
                    dict(tags.get("tags") or {}),
                )
            return rid, inputs
        region, provider_tags = self.region_of(inputs, args.provider), self._provider_of(args.provider)[1]
        prefix = ID_PREFIX.get(typ)
        seed = _hex(typ, args.name, region)
        if prefix == "":  # KMS keys: a UUID
            rid = f"{seed[:8]}-{seed[8:12]}-4{seed[13:16]}-a{_hex(seed)[:3]}-{_hex(seed, 'k', length=12)}"
        elif prefix:
            rid = f"{prefix}-{seed}"
        else:
            rid = inputs.get(ID_FROM_INPUT.get(typ, "name")) or f"{args.name}-{seed[:7]}"
        outputs: dict[str, Any] = {**inputs, "id": rid}
        fmt = ARN_FORMAT.get(typ)
        if fmt is not None:
            part = fmt.format(
                region=region, account=ACCOUNT_ID, id=rid, name=args.name, i=_Default(inputs, args.name)
            )
            outputs["arn"] = f"arn:{PARTITION}:{part}"
        elif typ.startswith("aws:"):
            service = typ.split(":")[1].split("/")[0]
            outputs["arn"] = (
                f"arn:{PARTITION}:{service}:{region}:{ACCOUNT_ID}:{typ.rsplit(':', 1)[-1].lower()}/{rid}"
            )
        if typ.startswith("aws:"):
            outputs["tagsAll"] = _tags_all(inputs, provider_tags)
            outputs.setdefault("region", region)
        extra = EXTRA_OUTPUTS.get(typ)
        if extra is not None:
            outputs.update(extra(args, region, rid))
        return rid, outputs

    @staticmethod
    def _urn(typ: str, name: str) -> str:
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{typ}::{name}"

    # -- invokes ---------------------------------------------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        a = dict(args.args)
        region = self.region_of(a, args.provider)
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/platform-deployer",
                "userId": "AROAEXAMPLEDEPLOYER:pulumi",
                "id": ACCOUNT_ID,
            }, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": PARTITION, "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws",
                    "id": PARTITION}, []  # fmt: skip
        if token == "aws:index/getRegion:getRegion":
            return {"name": region, "region": region, "endpoint": f"ec2.{region}.amazonaws.com",
                    "description": region, "id": region}, []  # fmt: skip
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = AZS.get(region, [])
            return {"names": names, "zoneIds": [f"{region[:3]}{region.split('-')[-1]}-az{i + 1}" for i in
                                                range(len(names))], "id": region, "state": "available"}, []  # fmt: skip
        if token == "aws:iam/getPolicyDocument:getPolicyDocument":
            return render_policy_document(a), []
        if token == "aws:ec2/getManagedPrefixList:getManagedPrefixList":
            name = a.get("name")
            if name not in PREFIX_LISTS:
                return {}, [("name", f"no managed prefix list named {name!r}")]
            return {"id": PREFIX_LISTS[name], "name": name, "arn": f"arn:{PARTITION}:ec2:{region}:aws:prefix-list/"
                    f"{PREFIX_LISTS[name]}", "addressFamily": "IPv4", "maxEntries": 55, "ownerId": "AWS"}, []  # fmt: skip
        raise UnmockedInvokeError(
            f"the offline mocks do not answer invoke {token}; teach tools/offline/mocks.py"
        )


class _Default(dict[str, Any]):
    """Input lookup for ARN formats: a missing input falls back to the resource's logical name."""

    def __init__(self, inputs: dict[str, Any], name: str) -> None:
        super().__init__(inputs)
        self._name = name

    def __missing__(self, key: str) -> str:
        return self._name
