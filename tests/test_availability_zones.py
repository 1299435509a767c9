"""The VPCs' Availability Zones: `dr.availabilityZones`, and the preview-time guard that asks the account which zone
ID each chosen AZ name is (`guard_availability_zones`) and stops before anything is registered when EKS refuses it.

AWS facts pinned here: AZ names map onto zone IDs per account (AWS RAM user guide, "Availability Zone IDs for your
AWS resources"); EKS refuses a cluster's subnets in use1-az3, usw1-az2 and cac1-az3 (EKS user guide, "Subnet
requirements for clusters"); the provider's `get_availability_zones` answers names and zone IDs as parallel lists
sorted by name (terraform-provider-aws, ec2_availability_zones_data_source.go).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pytest
import yaml

from components.config import SettingsError
from components.config.dr import standby_network
from components.config.shared import REGION_AZS
from components.network import EKS_UNSUPPORTED_ZONE_IDS, eks_zone_problems
from tests.conftest import settings_for
from tools.offline.engine import ROOT, RecordingMonitor, build_plan, run_program
from tools.offline.mocks import ZONE_IDS, PlatformMocks, UnmockedInvokeError

NS = "ecommerce-platform"
AZ_TOKEN = "aws:index/getAvailabilityZones:getAvailabilityZones"
SUBNET = "aws:ec2/subnet:Subnet"
#: Another account's draw of us-east-1: here us-east-1a, the DR VPC's default first AZ, is the zone EKS refuses.
OTHER_ACCOUNT = {**ZONE_IDS, "us-east-1": {"us-east-1a": "use1-az3", "us-east-1b": "use1-az4",
                                           "us-east-1c": "use1-az6", "us-east-1d": "use1-az1"}}  # fmt: skip


def stack_area(stack: str, area: str) -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"][f"{NS}:{area}"])


def dr_overrides(stack: str, **dr: Any) -> dict[str, Any]:
    return {f"{NS}:dr": {**stack_area(stack, "dr"), **dr}}


class AskingMocks(PlatformMocks):
    """The platform's mocks, remembering each AZ question: (region asked, provider reference)."""

    def __init__(self, zone_ids: Mapping[str, Mapping[str, str]] | None = None) -> None:
        super().__init__(zone_ids)
        self.asked: list[tuple[str, str | None]] = []

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == AZ_TOKEN:
            self.asked.append((self.region_of(dict(args.args), args.provider), args.provider))
        return super().call(args)


def run_stopped(stack: str, overrides: Mapping[str, Any] | None = None,
                zone_ids: Mapping[str, Mapping[str, str]] | None = None) -> tuple[str, RecordingMonitor]:  # fmt: skip
    """Run `__main__.py`, expecting the guard to stop it; its message and what was registered before."""
    monitor = RecordingMonitor(AskingMocks(zone_ids))
    with pytest.raises(SettingsError) as err:
        run_program(stack, overrides, monitor=monitor)
    return str(err.value), monitor


# -- the AWS facts ---------------------------------------------------------------------------------------------------
def test_eks_refused_zone_ids_are_the_eks_user_guides_subnet_requirements_table() -> None:
    # EKS user guide, "Subnet requirements for clusters": "The subnets can't reside in the following Availability
    # Zones": us-east-1 use1-az3, us-west-1 usw1-az2, ca-central-1 cac1-az3.
    assert dict(EKS_UNSUPPORTED_ZONE_IDS) == {
        "us-east-1": {"use1-az3"},
        "us-west-1": {"usw1-az2"},
        "ca-central-1": {"cac1-az3"},
    }, f"EKS_UNSUPPORTED_ZONE_IDS drifted from the EKS user guide's table: {EKS_UNSUPPORTED_ZONE_IDS}"


def test_the_mock_answers_zone_ids_parallel_to_names_sorted_by_name_as_the_provider_does() -> None:
    mocks = PlatformMocks(zone_ids={"us-east-1": {"us-east-1c": "use1-az3", "us-east-1a": "use1-az6",
                                                  "us-east-1b": "use1-az1"}})  # fmt: skip
    answer = mocks._availability_zones({}, "us-east-1")
    assert (answer["names"], answer["zoneIds"]) == (
        ["us-east-1a", "us-east-1b", "us-east-1c"],
        ["use1-az6", "use1-az1", "use1-az3"],
    ), f"DescribeAvailabilityZones via the provider: sorted by name, zone IDs parallel; got {answer}"
    only = mocks._availability_zones({"filters": [{"name": "zone-id", "values": ["use1-az3"]}],
                                      "excludeNames": ["us-east-1a"]}, "us-east-1")  # fmt: skip
    assert only["names"] == ["us-east-1c"], f"the zone-id filter selects by zone ID, not by name; got {only}"
    with pytest.raises(UnmockedInvokeError, match="group-name"):
        mocks._availability_zones({"filters": [{"name": "group-name", "values": ["x"]}]}, "us-east-1")


def test_the_mock_account_maps_names_onto_zone_ids_not_in_name_order() -> None:
    east = ZONE_IDS["us-east-1"]
    assert set(east.values()) == {f"use1-az{i}" for i in range(1, 7)}, f"us-east-1 has six zones: {east}"
    assert east["us-east-1e"] == "use1-az3", "the mock account needs a name on use1-az3 to exercise the guard"
    assert [east[n] for n in sorted(east)] != sorted(east.values()), (
        f"names map onto zone IDs per account; the mock must not pretend us-east-1a is use1-az1 and so on: {east}"
    )


# -- dr.availabilityZones: the setting -------------------------------------------------------------------------------
BAD = [
    ("not-in-dr-region", "prod", {"availabilityZones": ["us-east-1a", "us-east-2b"]}, "dr.availabilityZones[1]",
     "is not an AZ of drRegion us-east-1; allowed: us-east-1a, us-east-1b"),
    ("too-few", "prod", {"availabilityZones": ["us-east-1a"]}, "dr.availabilityZones", "give exactly 2"),
    ("twice", "prod", {"availabilityZones": ["us-east-1c", "us-east-1c"]}, "dr.availabilityZones", "an AZ twice"),
    ("without-dr-vpc", "prod", {"mode": "backup-restore", "availabilityZones": ["us-east-1c", "us-east-1d"]},
     "dr.availabilityZones", "builds no DR VPC"),
]  # fmt: skip


@pytest.mark.parametrize(("stack", "dr", "key", "says"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_dr_availability_zones_name_the_key_and_what_is_allowed(stack: str, dr: dict[str, Any], key: str,
                                                                    says: str) -> None:  # fmt: skip
    with pytest.raises(SettingsError) as err:
        settings_for(stack, dr_overrides(stack, **dr))
    message = str(err.value)
    assert f"  - {key}:" in message, f"message should name {key!r}:\n{message}"
    assert says in message, f"message should say {says!r}:\n{message}"


def test_dr_vpc_takes_dr_availability_zones_and_defaults_to_the_regions_first() -> None:
    chosen = settings_for("prod", dr_overrides("prod", availabilityZones=["us-east-1c", "us-east-1d"]))
    default = settings_for("prod")
    pick = {s: standby_network(v.network, v.dr, REGION_AZS[v.dr_region]).availability_zones
            for s, v in (("chosen", chosen), ("default", default))}  # fmt: skip
    assert pick == {"chosen": ("us-east-1c", "us-east-1d"), "default": ("us-east-1a", "us-east-1b")}, pick


def test_prod_dr_vpc_subnets_land_in_the_chosen_azs() -> None:
    plan = build_plan("prod", dr_overrides("prod", availabilityZones=["us-east-1d", "us-east-1c"]))
    dr_subnets = {
        r["name"]: r
        for r in plan["resources"]
        if r["type"] == SUBNET and r["name"].startswith("ecommerce-dr-")
    }
    assert dr_subnets, "prod (pilot-light) should build the DR VPC's subnets"
    for name, r in dr_subnets.items():
        want = "us-east-1d" if name.endswith("-d") else "us-east-1c"
        assert r["inputs"]["availabilityZone"] == want, (
            f"{r['urn']}: in {r['inputs']['availabilityZone']}, not {want}"
        )


# -- the guard ---------------------------------------------------------------------------------------------------------
def test_guard_stops_on_a_chosen_az_that_is_use1_az3_before_anything_is_registered() -> None:
    message, monitor = run_stopped(
        "prod", dr_overrides("prod", availabilityZones=["us-east-1e", "us-east-1a"])
    )
    assert "dr.availabilityZones[0]: 'us-east-1e'" in message and "use1-az3" in message, message
    assert "UnsupportedAvailabilityZoneException" in message, message
    assert "choose from us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1f" in message, message
    assert "e.g. [us-east-1b, us-east-1a]" in message, message
    registered = sorted(r["type"] for r in monitor.records)
    assert registered == ["pulumi:providers:aws", "pulumi:pulumi:Stack"], (
        f"the guard must stop before any resource but the stack and its provider; got {registered}"
    )


def test_guard_stops_the_default_dr_azs_in_an_account_where_us_east_1a_is_use1_az3() -> None:
    message, _ = run_stopped("prod", zone_ids=OTHER_ACCOUNT)
    assert "dr.availabilityZones[0]: 'us-east-1a' (dr.availabilityZones is unset" in message, message
    assert "use1-az3" in message and "choose from us-east-1b, us-east-1c, us-east-1d" in message, message


def test_guard_asks_each_region_through_the_stacks_provider() -> None:
    mocks = AskingMocks()
    monitor = RecordingMonitor(mocks)
    run_program("prod", monitor=monitor)
    stack_provider = next(
        r for r in monitor.records if r["type"] == "pulumi:providers:aws" and r["name"] == "aws"
    )
    regions = [region for region, _ in mocks.asked]
    assert regions[:2] == ["us-east-2", "us-east-1"], (
        f"primary, then the DR region (pilot light); asked {regions}"
    )
    for _, ref in mocks.asked[:2]:
        assert ref and ref.startswith(stack_provider["urn"]), (
            f"asked through {ref}, not {stack_provider['urn']}"
        )


def test_guard_leaves_the_dr_region_alone_without_a_dr_vpc() -> None:
    mocks = AskingMocks(OTHER_ACCOUNT)
    run_program("dev", monitor=RecordingMonitor(mocks))
    assert [r for r, _ in mocks.asked] == ["us-east-2"], f"dev (dr off) builds no DR VPC; asked {mocks.asked}"


def test_guard_checks_the_primary_vpc_in_its_own_region() -> None:
    overrides = {f"{NS}:region": "us-east-1", f"{NS}:drRegion": "us-east-2",
                 f"{NS}:network": {**stack_area("dev", "network"), "availabilityZones": ["us-east-1b", "us-east-1e"]}}  # fmt: skip
    message, monitor = run_stopped("dev", overrides)
    assert "network.availabilityZones[1]: 'us-east-1e' is zone use1-az3" in message, message
    assert len(monitor.records) == 2, f"stopped before any resource: {[r['urn'] for r in monitor.records]}"


def test_eks_zone_problems_name_an_az_the_account_does_not_have() -> None:
    problems = eks_zone_problems("dr.availabilityZones", "us-east-1", ["us-east-1a", "us-east-1f"],
                                 {"us-east-1a": "use1-az6", "us-east-1b": "use1-az1", "us-east-1c": "use1-az3"})  # fmt: skip
    assert problems[0].startswith(
        "dr.availabilityZones[1]: 'us-east-1f' is not an Availability Zone of this account"
    ), problems
    assert problems[-1].endswith("choose from us-east-1a, us-east-1b (this account's AZs of us-east-1 EKS accepts), "
                                 "e.g. [us-east-1a, us-east-1b]"), problems  # fmt: skip
    assert (
        eks_zone_problems(
            "network.availabilityZones",
            "us-east-2",
            ["us-east-2a", "us-east-2b"],
            {"us-east-2a": "use2-az1", "us-east-2b": "use2-az2"},
        )
        == []
    ), "us-east-2 refuses nothing"
