"""The pack as a whole: its metadata, the coverage of the rule tests, the config schema and exemptions file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from policies.ecommerce_guard import pack, settings
from tests.policies import (
    test_analytics_rules,
    test_budget_rules,
    test_data_rules,
    test_deployability_rules,
    test_dr_rules,
    test_edge_rules,
    test_eks_network_rules,
    test_iam_rules,
    test_k8s_rules,
    test_observability_rules,
    test_services_rules,
    test_storage_rules,
)
from tests.policies.cases import Case

ALL_CASES: list[Case] = [
    *test_iam_rules.CASES,
    *test_storage_rules.CASES,
    *test_data_rules.CASES,
    *test_eks_network_rules.CASES,
    *test_edge_rules.CASES,
    *test_services_rules.CASES,
    *test_analytics_rules.CASES,
    *test_k8s_rules.CASES,
    *test_deployability_rules.CASES,
    *test_observability_rules.CASES,
    *test_budget_rules.CASES,
    *test_dr_rules.CASES,
]
POLICIES = pack.all_policies()


def test_pack_has_at_least_45_rules_with_metadata() -> None:
    assert len(POLICIES) >= 45, len(POLICIES)
    for p in POLICIES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", p.name), p.name
        assert p.description and p.description.endswith("."), p.name
        assert p.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY), p.name
        assert p.framework is not None and p.framework.reference, p.name
        assert isinstance(p, ResourceValidationPolicy | StackValidationPolicy), p.name


def test_every_rule_has_a_violating_a_compliant_and_a_missing_property_case() -> None:
    names = {p.name for p in POLICIES}
    for name in sorted(names):
        mine = [c for c in ALL_CASES if c.rule == name]
        assert any(c.violates for c in mine), f"{name}: no violating case"
        assert any(not c.violates for c in mine), f"{name}: no compliant case"
        assert any("missing" in c.label for c in mine), f"{name}: no missing-property case"
    assert {c.rule for c in ALL_CASES} <= names


def test_some_config_overrides_change_the_outcome() -> None:
    assert sum(1 for c in ALL_CASES if c.config) >= 8


@pytest.mark.parametrize("rule", [p.name for p in POLICIES])
def test_schema_defaults_validate_against_the_schema(rule: str) -> None:
    schema = settings.schema_for(rule)
    defaults = dict(settings.defaults_for(rule))
    jsonschema.Draft7Validator({"type": "object", "properties": schema.properties}).validate(defaults)


def test_resource_star_allowlist_gives_a_reason_for_each_action() -> None:
    for action, reason in settings.RESOURCE_STAR_ACTIONS.items():
        assert ":" in action and len(reason) >= 10, (action, reason)


def test_exemptions_file_is_valid_and_each_names_a_rule_and_a_reason() -> None:
    entries = pack.load_exemptions()
    for e in entries:
        assert e["urn"].startswith("urn:pulumi:") and len(e["reason"]) >= 15, e
    config = pack.initial_config(entries)
    for rule, value in config.items():
        schema = settings.schema_for(rule)
        jsonschema.Draft7Validator({"type": "object", "properties": schema.properties}).validate(value)


def test_bad_exemption_entries_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "exemptions.json"
    path.write_text(json.dumps([{"rule": "s3-sse-kms", "urn": "urn:pulumi:prod::x::t::n", "reason": ""}]))
    with pytest.raises(ValueError, match="reason"):
        pack.load_exemptions(path)
    path.write_text(
        json.dumps(
            [{"rule": "no-such-rule", "urn": "urn:pulumi:prod::x::t::n", "reason": "a long enough reason"}]
        )
    )
    with pytest.raises(ValueError, match="unknown rule"):
        pack.load_exemptions(path)


def test_pulumi_policy_yaml_names_the_pack_and_its_virtualenv() -> None:
    text = (Path(pack.__file__).parents[1] / "PulumiPolicy.yaml").read_text()
    assert f"name: {pack.PACK_NAME}" in text
    assert re.search(r"^version: \d+\.\d+\.\d+$", text, re.M)
    assert "description:" in text and "virtualenv: .venv" in text


def test_requirements_pin_the_same_sdk_as_the_program() -> None:
    root = Path(pack.__file__).parents[2]
    program = dict(
        line.split("==")
        for line in (root / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    mine = dict(
        line.split("==")
        for line in (root / "policies" / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    for name in ("pulumi", "pulumi-policy", "grpcio", "protobuf"):
        assert mine[name].strip() == program[name].strip(), name
    for name, version in mine.items():
        assert re.fullmatch(r"[0-9][0-9A-Za-z.+-]*", version.strip()), (name, version)
