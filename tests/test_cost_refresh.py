"""The price table's refresh, run offline on a small fixture in the real format of AWS's price list offer files
(products by SKU with attributes; terms.OnDemand[sku][term].priceDimensions with pricePerUnit.USD)."""

from __future__ import annotations

import datetime
from pathlib import Path

from policies.ecommerce_guard.pricing import PRICE_FILE, PriceTable
from tools import cost_refresh

FIXTURE = Path(__file__).parent / "fixtures" / "pricelist"


def test_matched_prices_are_refreshed_and_the_rest_kept_with_a_reason() -> None:
    table = PriceTable.load().data
    fresh, changes, kept = cost_refresh.refresh(table, cost_refresh.directory_loader(FIXTURE))
    # us-east-1's EKS type in the fixture is USE1-prefixed at $0.11: refreshed; us-east-2's matches the table.
    assert changes == ["eks.cluster-hour us-east-1: 0.1 -> 0.11"], changes
    assert fresh["prices"]["eks.cluster-hour"]["usd"] == {"us-east-2": 0.10, "us-east-1": 0.11}
    assert fresh["compiled"] == datetime.date.today().isoformat(), fresh["compiled"]
    assert any(k.startswith("ec2.t3.micro us-east-2:") and "not reachable" in k for k in kept), kept
    assert any(k.startswith("cognito.plus-mau: no price-list selector") for k in kept), kept


def test_a_tiered_price_takes_its_first_tier_and_extended_support_is_not_standard() -> None:
    vpc = cost_refresh.directory_loader(FIXTURE)("AmazonVPC", "us-east-2")
    assert vpc is not None
    assert cost_refresh.match(
        vpc, {"offer": "AmazonVPC", "usagetype": "{prefix}-VpcEndpoint-Bytes"}, "us-east-2"
    ) == (
        0.01,
        "",
    )
    eks = cost_refresh.directory_loader(FIXTURE)("AmazonEKS", "us-east-2")
    assert eks is not None
    usd, _ = cost_refresh.match(
        eks, {"offer": "AmazonEKS", "usagetype": "{prefix}-AmazonEKS-Hours:perCluster"}, "us-east-2"
    )
    assert usd == 0.10


def test_an_ambiguous_selector_keeps_the_committed_price() -> None:
    """Interface and Gateway Load Balancer endpoints share a usage type; without `operation` nothing is picked."""
    vpc = cost_refresh.directory_loader(FIXTURE)("AmazonVPC", "us-east-2")
    assert vpc is not None
    usd, why = cost_refresh.match(
        vpc, {"offer": "AmazonVPC", "usagetype": "{prefix}-VpcEndpoint-Hours"}, "us-east-2"
    )
    assert usd is None and "different prices" in why, why
    usd, _ = cost_refresh.match(
        vpc,
        {"offer": "AmazonVPC", "usagetype": "{prefix}-VpcEndpoint-Hours", "operation": "VpcEndpoint"},
        "us-east-2",
    )
    assert usd == 0.01


def test_the_committed_table_is_in_the_refresh_scripts_format() -> None:
    text = PRICE_FILE.read_text(encoding="utf-8")
    assert cost_refresh.dump_table(PriceTable.load().data) == text, (
        "prices.json: run the table through dump_table"
    )
