"""Refresh the committed price table from AWS's published price list files, where a machine can reach them.

    python -m tools.cost_refresh                  fetch each offer's region file, print what would change
    python -m tools.cost_refresh --write          ... and rewrite prices.json (its `compiled` date becomes today)
    python -m tools.cost_refresh --from DIR       read DIR/<offer>/<region>/index.json instead of fetching

The files are AWS's Price List bulk API offer files (https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/
<offer>/current/<region>/index.json; global services such as CloudFront: .../current/index.json): `products` by SKU
with their `attributes` (usagetype, operation, ...), and `terms.OnDemand[sku][term].priceDimensions[...]` with
`pricePerUnit.USD`. Each line of prices.json with a `selector` names its offer, its usage type (`{prefix}-` is the
region's usage-type prefix: USE2- for us-east-2; us-east-1's types carry USE1- or none) and other attributes to
match. A line that matches no product, or several at different prices, keeps its committed value and is listed:
nothing is guessed. EC2's region file is several hundred MB; the refresh reads it whole.

Here (no network) the committed table is what every estimate uses; the tests run this parser on a small fixture in
the real format (tests/fixtures/pricelist/).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from policies.ecommerce_guard.pricing import PRICE_FILE

BASE_URL = "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws"
#: Usage-type prefixes per region in the price list (us-east-1's are mostly unprefixed, some USE1-).
PREFIXES: dict[str, tuple[str, ...]] = {"us-east-2": ("USE2-",), "us-east-1": ("USE1-", "")}
#: Selector keys that are not product attributes.
NOT_ATTRIBUTES = {"offer", "usagetype", "region"}

Loader = Callable[[str, str], Mapping[str, Any] | None]


def url_for(offer: str, region: str) -> str:
    return f"{BASE_URL}/{offer}/current/index.json" if region == "global" else (
        f"{BASE_URL}/{offer}/current/{region}/index.json"
    )  # fmt: skip


def fetch_loader(timeout: float = 60.0) -> Loader:
    """Fetch offer files over HTTPS; None when unreachable (then the committed prices stay)."""

    def load(offer: str, region: str) -> Mapping[str, Any] | None:
        try:
            with urllib.request.urlopen(url_for(offer, region), timeout=timeout) as answer:
                return dict(json.loads(answer.read()))
        except (urllib.error.URLError, TimeoutError, OSError, ValueError):
            return None

    return load


def directory_loader(root: Path) -> Loader:
    def load(offer: str, region: str) -> Mapping[str, Any] | None:
        path = root / offer / region / "index.json"
        return dict(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else None

    return load


def on_demand_usd(offer_file: Mapping[str, Any], sku: str) -> float | None:
    """The first non-zero on-demand price of a SKU, by its dimensions' beginRange (tier 1 after any free tier)."""
    dimensions = []
    for term in (offer_file.get("terms", {}).get("OnDemand", {}).get(sku) or {}).values():
        for dim in (term.get("priceDimensions") or {}).values():
            usd = float(dim.get("pricePerUnit", {}).get("USD", "0") or 0)
            dimensions.append((float(dim.get("beginRange", "0") or 0), usd))
    for _, usd in sorted(dimensions):
        if usd > 0:
            return usd
    return None


def match(
    offer_file: Mapping[str, Any], selector: Mapping[str, Any], region: str
) -> tuple[float | None, str]:
    """The price the selector picks in one region's offer file, or None and why not."""
    template = str(selector["usagetype"])
    prefixes = PREFIXES.get(region, ("",)) if "{prefix}-" in template else ("",)
    wanted = [template.replace("{prefix}-", p) for p in prefixes]
    extra = {k: v for k, v in selector.items() if k not in NOT_ATTRIBUTES}
    prices = set()
    for sku, product in (offer_file.get("products") or {}).items():
        attrs = product.get("attributes") or {}
        if attrs.get("usagetype") not in wanted:
            continue
        if any(attrs.get(k, product.get(k)) != v for k, v in extra.items()):
            continue
        usd = on_demand_usd(offer_file, sku)
        if usd is not None:
            prices.add(usd)
    if not prices:
        return None, f"no product with usagetype {' or '.join(wanted)}" + (f" and {extra}" if extra else "")
    if len(prices) > 1:
        return None, f"{len(prices)} products match at different prices {sorted(prices)}: narrow the selector"
    return prices.pop(), ""


def refresh(table: Mapping[str, Any], load: Loader) -> tuple[dict[str, Any], list[str], list[str]]:
    """A copy of the table with every matched price replaced; the changes, and the lines left as committed."""
    fresh = json.loads(json.dumps(table))
    changes: list[str] = []
    kept: list[str] = []
    files: dict[tuple[str, str], Mapping[str, Any] | None] = {}
    for key, entry in fresh["prices"].items():
        selector = entry.get("selector")
        if not selector:
            kept.append(f"{key}: no price-list selector (check {entry['source']} by hand)")
            continue
        for region in sorted(entry["usd"]):
            where = "global" if selector.get("region") == "global" else region
            if (selector["offer"], where) not in files:
                files[(selector["offer"], where)] = load(selector["offer"], where)
            offer_file = files[(selector["offer"], where)]
            if offer_file is None:
                kept.append(f"{key} {region}: {url_for(selector['offer'], where)} not reachable")
                continue
            usd, why = match(offer_file, selector, where)
            if usd is None:
                kept.append(f"{key} {region}: {why}")
            elif abs(usd - float(entry["usd"][region])) > 1e-9:
                changes.append(f"{key} {region}: {entry['usd'][region]} -> {usd}")
                entry["usd"][region] = usd
    if changes:
        fresh["compiled"] = datetime.date.today().isoformat()
    return fresh, changes, kept


def dump_table(table: Mapping[str, Any]) -> str:
    """prices.json as committed: the header keys, then one line per price (reviewable diffs)."""
    head = {k: v for k, v in table.items() if k != "prices"}
    lines = ["{"]
    lines += [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    lines.append('  "prices": {')
    items = list(table["prices"].items())
    for i, (key, entry) in enumerate(items):
        lines.append(f"    {json.dumps(key)}: {json.dumps(entry)}{',' if i < len(items) - 1 else ''}")
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.cost_refresh", description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite prices.json with the refreshed prices")
    parser.add_argument("--from", dest="source", type=Path, help="read offer files from this directory")
    parser.add_argument("--table", type=Path, default=PRICE_FILE, help="the price table to refresh")
    args = parser.parse_args(argv)
    table = json.loads(args.table.read_text(encoding="utf-8"))
    load = directory_loader(args.source) if args.source else fetch_loader()
    fresh, changes, kept = refresh(table, load)
    for line in changes:
        print(f"changed  {line}")
    for line in kept:
        print(f"kept     {line}")
    print(f"{len(changes)} price(s) changed, {len(kept)} line(s) kept as committed")
    if args.write and changes:
        args.table.write_text(dump_table(fresh), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
