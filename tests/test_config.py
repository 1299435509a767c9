"""Settings validation: every bad input stops the program with one message naming the key — and nothing is created."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from components.config import NODE_INSTANCE_TYPES, SettingsError, describe, load_settings
from components.config.loader import area, area_rules
from components.config.machinery import build, describe_fields, setting
from tests.conftest import settings_for
from tools.offline.engine import RecordingMonitor, run_program
from tools.offline.mocks import PlatformMocks

NS = "ecommerce-platform:"


def network(**changes: Any) -> dict[str, Any]:
    """The dev stack's network object with some keys changed."""
    base = {
        "vpcName": "ecommerce-vpc",
        "vpcCidr": "10.0.0.0/16",
        "availabilityZones": ["us-east-2a", "us-east-2b"],
        "publicSubnetCidrs": ["10.0.1.0/24", "10.0.2.0/24"],
        "privateSubnetCidrs": ["10.0.10.0/24", "10.0.11.0/24"],
        "egress": "single-nat",
        "interfaceEndpointAzCount": 1,
        "albIngress": "cloudfront",
        "flowLogRetentionDays": 30,
    }
    return {**base, **changes}


def cluster(**changes: Any) -> dict[str, Any]:
    return {
        "nodeInstanceType": "t3.micro",
        "nodeMinSize": 2,
        "nodeDesiredSize": 2,
        "nodeMaxSize": 4,
        **changes,
    }


# (case id, stack, overrides, the dotted key the message must name, a fragment of what is allowed/expected)
BAD: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("cidr-outside-vpc", "dev", {"network": network(publicSubnetCidrs=["10.1.1.0/24", "10.0.2.0/24"])},
     "network.publicSubnetCidrs[0]", "outside the VPC"),
    ("overlapping-subnets", "dev", {"network": network(privateSubnetCidrs=["10.0.1.0/25", "10.0.11.0/24"])},
     "network.privateSubnetCidrs[0]", "overlaps network.publicSubnetCidrs[0]"),
    ("subnet-az-count-mismatch", "dev", {"network": network(privateSubnetCidrs=["10.0.10.0/24"])},
     "network.privateSubnetCidrs", "1 CIDR(s) for 2 AZ(s)"),
    ("az-outside-region", "dev", {"network": network(availabilityZones=["us-east-2a", "us-west-2b"])},
     "network.availabilityZones[1]", "allowed: us-east-2a, us-east-2b, us-east-2c"),
    ("single-az", "dev", {"network": network(availabilityZones=["us-east-2a"], publicSubnetCidrs=["10.0.1.0/24"],
                                            privateSubnetCidrs=["10.0.10.0/24"])},
     "network.availabilityZones", "at least 2"),
    ("bad-vpc-cidr", "dev", {"network": network(vpcCidr="10.0.0.0/33")}, "network.vpcCidr", "not an IPv4 CIDR"),
    ("public-vpc-cidr", "dev", {"network": network(vpcCidr="8.8.0.0/16", publicSubnetCidrs=["8.8.1.0/24",
     "8.8.2.0/24"], privateSubnetCidrs=["8.8.10.0/24", "8.8.11.0/24"])}, "network.vpcCidr", "RFC 1918"),
    ("bad-subnet-cidr", "dev", {"network": network(publicSubnetCidrs=["10.0.1.0/24", "banana"])},
     "network.publicSubnetCidrs[1]", "not an IPv4 CIDR"),
    ("unknown-egress", "dev", {"network": network(egress="two-nat")}, "network.egress",
     "allowed: none, single-nat, nat-per-az"),
    ("no-egress-refused-stripe-and-public-images", "dev", {"network": network(egress="none")}, "network.egress",
     "no VPC endpoint serves"),
    ("unknown-endpoint", "dev", {"network": network(interfaceEndpoints=["sts", "lambda"])},
     "network.interfaceEndpoints", "'lambda' is not supported"),
    ("endpoint-az-count", "dev", {"network": network(interfaceEndpointAzCount=3)},
     "network.interfaceEndpointAzCount", "allowed: 1 to 2"),
    ("retention-not-cloudwatch", "dev", {"network": network(flowLogRetentionDays=42)},
     "network.flowLogRetentionDays", "allowed: 1, 3, 5"),
    ("alb-ingress", "dev", {"network": network(albIngress="everyone")}, "network.albIngress",
     "allowed: cloudfront, internet"),
    ("service-ports", "dev", {"network": network(servicePorts={"from": 9000, "to": 8000})}, "network.servicePorts",
     "from <= to"),
    ("min-above-desired", "dev", {"cluster": cluster(nodeMinSize=3, nodeDesiredSize=2)}, "cluster.nodeDesiredSize",
     "nodeMinSize <= nodeDesiredSize <= nodeMaxSize"),
    ("desired-above-max", "prod", {"cluster": cluster(nodeInstanceType="t3.medium", nodeDesiredSize=5,
                                                      nodeMaxSize=4)},
     "cluster.nodeDesiredSize", "min 2 <= desired 5 <= max 4"),
    ("instance-not-for-env", "prod", {"cluster": cluster(nodeInstanceType="t3.micro")}, "cluster.nodeInstanceType",
     "allowed: " + ", ".join(NODE_INSTANCE_TYPES["prod"])),
    ("unknown-instance-type", "dev", {"cluster": cluster(nodeInstanceType="x9.huge")}, "cluster.nodeInstanceType",
     "'x9.huge' is not allowed in dev"),
    ("unknown-top-level-key", "dev", {"vpcCidr": "10.0.0.0/16"}, "vpcCidr", "unknown key"),
    ("unknown-nested-key", "dev", {"network": network(cidr="10.0.0.0/16")}, "network.cidr", "unknown key"),
    ("wrong-type-int", "dev", {"cluster": cluster(nodeMinSize="two")}, "cluster.nodeMinSize", "whole number"),
    ("wrong-type-bool", "dev", {"protectData": "yes"}, "protectData", "true or false"),
    ("wrong-type-list", "dev", {"network": network(availabilityZones="us-east-2a")},
     "network.availabilityZones", "expected a list"),
    ("wrong-type-object", "dev", {"network": "10.0.0.0/16"}, "network", "expected an object"),
    ("missing-environment", "dev", {"environment": None}, "environment", "required, not set"),
    ("unknown-environment", "dev", {"environment": "staging"}, "environment", "allowed: dev, prod"),
    ("unknown-region", "dev", {"region": "mars-1"}, "region", "not supported"),
    ("dr-same-as-primary", "dev", {"drRegion": "us-east-2"}, "drRegion", "is the primary region"),
    ("bad-domain", "dev", {"edge": {"domainName": "Not A Domain"}}, "edge.domainName", "lower-case DNS name"),
    # AWS facts mocks cannot catch: an RFC 5737 documentation range is never a deployer's source address, and the
    # public endpoint never sees a private one — every Kubernetes/Helm resource would time out.
    ("api-cidr-rfc5737-test-net-3", "dev", {"cluster": cluster(publicAccessCidrs=["203.0.113.0/24"])},
     "cluster.publicAccessCidrs[0]", "documentation range (RFC 5737"),
    ("api-cidr-rfc5737-inside-test-net-1", "prod", {"cluster": cluster(nodeInstanceType="t3.medium",
     publicAccessCidrs=["198.51.100.0/24", "192.0.2.10/32"])}, "cluster.publicAccessCidrs[1]", "documentation range"),
    ("api-cidr-private-never-a-public-source", "dev", {"cluster": cluster(publicAccessCidrs=["10.20.0.0/16"])},
     "cluster.publicAccessCidrs[0]", "not a public range"),
]  # fmt: skip


def _overrides(values: dict[str, Any]) -> dict[str, Any]:
    return {NS + k: v for k, v in values.items()}


@pytest.mark.parametrize(
    ("stack", "overrides", "key", "allowed"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_setting_names_key_value_and_allowed(
    stack: str, overrides: dict[str, Any], key: str, allowed: str
) -> None:
    with pytest.raises(SettingsError) as err:
        settings_for(stack, _overrides(overrides))
    message = str(err.value)
    assert f"  - {key}:" in message, f"message should name {key!r}:\n{message}"
    assert allowed in message, f"message should say {allowed!r}:\n{message}"
    assert f"Pulumi.{stack}.yaml" in message and "nothing was created" in message, message


@pytest.mark.parametrize("case", ["cidr-outside-vpc", "unknown-top-level-key", "instance-not-for-env"])
def test_invalid_settings_register_no_resource(case: str) -> None:
    """The whole program, with a bad stack file: it stops before the provider or any resource is registered."""
    _, stack, overrides, key, _ = next(b for b in BAD if b[0] == case)
    monitor = RecordingMonitor(PlatformMocks())
    with pytest.raises(SettingsError, match=re.escape(key)):
        run_program(stack, _overrides(overrides), monitor=monitor)
    registered = [r["urn"] for r in monitor.records if r["type"] != "pulumi:pulumi:Stack"]
    assert registered == [], f"resources registered despite invalid settings: {registered}"


def test_valid_settings_do_register_resources() -> None:
    """The counterpart of the test above: the same check sees resources when the settings are good."""
    monitor = RecordingMonitor(PlatformMocks())
    run_program("dev", monitor=monitor)
    assert any(r["type"] == "aws:ec2/vpc:Vpc" for r in monitor.records)


def test_several_problems_are_reported_together() -> None:
    with pytest.raises(SettingsError) as err:
        settings_for("dev", _overrides({"network": network(egress="x", flowLogRetentionDays="long")}))
    assert "network.egress" in str(err.value) and "network.flowLogRetentionDays" in str(err.value)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_are_valid_and_follow_the_seed(stack: str) -> None:
    s = settings_for(stack)
    assert s.environment == stack
    assert s.region == "us-east-2" and s.dr_region == "us-east-1"
    assert s.network.vpc_name == "ecommerce-vpc" and s.network.vpc_cidr == "10.0.0.0/16"
    assert s.network.availability_zones == ("us-east-2a", "us-east-2b")
    assert s.network.public_subnet_cidrs == ("10.0.1.0/24", "10.0.2.0/24")
    assert s.network.private_subnet_cidrs == ("10.0.10.0/24", "10.0.11.0/24")
    assert s.cluster.node_instance_type == {"dev": "t3.micro", "prod": "t3.medium"}[stack]


def test_dev_and_prod_differ_where_they_should() -> None:
    dev, prod = settings_for("dev"), settings_for("prod")
    assert (dev.protect_data, prod.protect_data) == (False, True)
    assert (dev.network.egress, prod.network.egress) == ("single-nat", "nat-per-az")
    assert prod.network.flow_log_retention_days > dev.network.flow_log_retention_days


def test_scalars_arrive_as_strings_from_the_cli() -> None:
    """The CLI hands every scalar over as a string; numbers and booleans must still parse."""
    s = load_settings({"environment": "dev", "protectData": "false", "cluster": {"nodeInstanceType": "t3.micro",
                       "nodeMinSize": "3", "nodeDesiredSize": "3", "nodeMaxSize": "5", "prefixDelegation": "true",
                       "controlPlaneLogRetentionDays": "30", "workloadProfile": "small", "systemReplicas": "1"}},
                      stack="dev")  # fmt: skip
    assert s.protect_data is False and s.cluster.node_min_size == 3 and s.cluster.prefix_delegation is True


def test_every_setting_is_described() -> None:
    rows = describe()
    keys = [r[0] for r in rows]
    assert len(keys) == len(set(keys))
    for key, _type, doc, _default, _path in rows:
        assert doc.endswith(")") or doc.endswith("."), f"{key}: description should be a sentence: {doc!r}"
    assert "network.vpcCidr" in keys and "cluster.nodeInstanceType" in keys


def test_readme_settings_table_is_current() -> None:
    from tools.offline.engine import ROOT
    from tools.settings_table import END, START, table

    readme = (ROOT / "README.md").read_text()
    current = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert current == table(), "README settings table is stale: run `python -m tools.settings_table --write`"


def test_public_egress_cidr_is_accepted_and_empty_means_private_api() -> None:
    """The counterpart of the documentation-range cases: a real public range passes; [] is the private-only API."""
    import yaml

    from tools.offline.engine import ROOT

    dev_cluster = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"][f"{NS}cluster"]
    s = settings_for("dev", _overrides({"cluster": {**dev_cluster, "publicAccessCidrs": ["3.120.0.0/16"]}}))
    assert s.cluster.public_access_cidrs == ("3.120.0.0/16",)
    assert settings_for("dev").cluster.public_access_cidrs == (), "the stack files ship a private-only API"
    assert settings_for("prod").cluster.public_access_cidrs == ()


def test_account_owner_flag_prod_owns_dev_looks_up() -> None:
    """One stack per account creates the service-linked roles (`account.createServiceLinkedRoles`)."""
    assert settings_for("prod").account.create_service_linked_roles is True
    assert settings_for("dev").account.create_service_linked_roles is False


def test_rules_run_top_level_then_each_area_then_the_capacity_check_last() -> None:
    """The order the messages come out in, pinned: each area's rules in field order, the cluster's second set (whose
    capacity check needs an otherwise valid configuration) after every area's own."""
    from components.config import RULES

    assert [r.__module__.rsplit(".", 1)[-1] + "." + r.__name__ for r in RULES] == [
        "loader._top_level_rules",
        "network.network_rules",
        "cluster.node_group_rules",
        "edge.edge_rules",
        "delivery.delivery_rules",
        "data.data_rules",
        "dr.dr_rules",
        "cluster.cluster_rules",
        "observability.observability_rules",
        "lake.lake_rules",
    ]


@dataclass(frozen=True)
class _LakeSettings:
    raw_ia_days: int = setting("rawIaDays", "Days before raw objects move to Standard-IA.", 30)


def _lake_rules(s: Any, problems: list[str]) -> None:
    if s.lake.raw_ia_days < 30:
        problems.append(f"lake.rawIaDays: {s.lake.raw_ia_days} is too soon")


@dataclass(frozen=True)
class _Aggregate:
    lake: _LakeSettings = area(_LakeSettings(), "lake", "Lake settings (below).", _lake_rules)


def test_a_new_area_is_one_field_its_keys_are_described_and_its_rules_run() -> None:
    """What the package docstring promises for a new area: one `area(...)` field, nothing else to register."""
    rows = describe_fields(_Aggregate)
    assert [(r[0], r[4]) for r in rows] == [("lake.rawIaDays", ("lake", "raw_ia_days"))], rows
    problems: list[str] = []
    built = build(_Aggregate, {"lake": {"rawIaDays": "7"}}, "", problems)
    assert problems == [] and built.lake.raw_ia_days == 7
    for rule in area_rules(_Aggregate):
        rule(built, problems)
    assert problems == ["lake.rawIaDays: 7 is too soon"]


def test_package_reexports_every_name_importers_use() -> None:
    """`from components.config import X` keeps working for every name the program and tests import."""
    import components.config as config

    for name in ("PROJECT", "Settings", "SettingsError", "NetworkSettings", "ClusterSettings", "EdgeSettings",
                 "DeliverySettings", "DataSettings", "AccountSettings", "PRIVATE_CLUSTER_ENDPOINTS",
                 "KUBERNETES_VERSIONS", "NODE_INSTANCE_TYPES", "PRICE_CLASSES", "load_settings", "secret_setting",
                 "describe", "as_config"):  # fmt: skip
        assert hasattr(config, name), f"components.config.{name} is gone"
    assert sorted(config.__all__) == sorted(set(config.__all__)), "duplicate names in __all__"


#: Edge values per settings type: the empty and the zero/negative ends of each, where a rule that divides, indexes
#: or slices by a setting would crash instead of reporting.
EDGE_VALUES: dict[str, tuple[Any, ...]] = {
    "int": (0, -1),
    "float": (0.0, -1.0),
    "str": ("",),
    "list of str": ([], [""]),
    "map of str": ({},),
}


def _override(path: str, value: Any) -> dict[str, Any]:
    """`network.availabilityZones` -> {"ecommerce-platform:network": {"availabilityZones": value}}."""
    area_key, _, rest = path.partition(".")
    if not rest:
        return {NS + area_key: value}
    inner: Any = value
    for part in reversed(rest.split(".")):
        inner = {part: inner}
    return {NS + area_key: inner}


EDGE_CASES = [
    pytest.param(stack, key, value, id=f"{stack}-{key}={value!r}")
    for stack in ("dev", "prod")
    for key, type_name, *_ in describe()
    for value in EDGE_VALUES.get(type_name, ())
]


@pytest.mark.parametrize(("stack", "key", "value"), EDGE_CASES)
def test_an_edge_value_of_any_setting_is_accepted_or_reported_never_a_crash(
    stack: str, key: str, value: Any
) -> None:
    """Every setting at its empty/zero/negative end: the settings load, or SettingsError names what is wrong. Any
    other exception (a rule dividing by an empty list's length, indexing it) would stop `pulumi up` with a traceback
    instead of the key and what is allowed."""
    try:
        settings_for(stack, _override(key, value))
    except SettingsError:
        pass
    except Exception as e:  # the point: nothing but SettingsError may escape the settings
        pytest.fail(f"{stack}: {key} = {value!r} raised {type(e).__name__}: {e}")
