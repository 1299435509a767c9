"""The README's architecture picture is drawn from prod's plan (tools/diagram.py) and kept in step with it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from tools import diagram


def test_readme_diagram_is_current(plan: Callable[[str], dict[str, Any]]) -> None:
    text = diagram.README.read_text(encoding="utf-8")
    fresh = diagram.readme_with_diagram(text, diagram.diagram(plan("prod")))
    assert fresh == text, "README's architecture diagram is stale: run `make docs`"


def test_the_request_path_and_the_order_events_flow_are_drawn(plan: Callable[[str], dict[str, Any]]) -> None:
    drawing = diagram.diagram(plan("prod"))
    for edge in (
        'viewer -->|"HTTPS"| ecommerce_edge_waf',
        'ecommerce_edge_cdn -->|"/api/*"| ecommerce_mesh_alb',
        'ecommerce_mesh_alb -->|"ip targets"| ecommerce_mesh_nodes',
        'ecommerce_data_order_events -->|"firehose"| ecommerce_lake_order_events',
        'ecommerce_lake_order_events -->|"raw/ (GZIP)"| ecommerce_lake_bucket',
    ):
        assert edge in drawing, f"missing edge {edge!r}"


def test_a_store_in_the_dr_region_is_drawn_as_replication(plan: Callable[[str], dict[str, Any]]) -> None:
    """When the DR component adds a copy in drRegion (us-east-1), the picture links it to the primary store."""
    p = copy.deepcopy(plan("prod"))
    table = next(r for r in p["resources"] if r["type"] == "aws:dynamodb/table:Table")
    replica = {**copy.deepcopy(table), "urn": table["urn"] + "-dr", "name": "ecommerce-dr-products"}
    replica["inputs"]["region"] = "us-east-1"
    p["resources"].append(replica)
    drawing = diagram.diagram(p)
    assert (
        f'{diagram.node_id(table["name"])} -->|"replication to us-east-1"| ecommerce_dr_products' in drawing
    )
