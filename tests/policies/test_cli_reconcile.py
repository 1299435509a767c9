"""The offline policy run reconciles config exactly as the Pulumi CLI does. Each test names the CLI source it pins
(pulumi/pulumi: `sdk/go/common/resource/plugin/analyzer_plugin.go`, `pkg/resource/analyzer/config.go`)."""

from __future__ import annotations

import pytest

from tools.offline.cli_config import (
    PolicyConfig,
    PolicyConfigError,
    PolicyInfo,
    apply_config,
    defaults,
    level_from_proto,
    load_config_file,
    parse_config_file,
    reconcile,
    validate,
    with_injected_level,
)

EXEMPTIONS = {"type": "array", "default": [], "items": {"type": "object", "required": ["urn", "reason"]}}
POLICIES = [
    PolicyInfo("s3-sse-kms", "mandatory", with_injected_level({"exemptions": EXEMPTIONS})),
    PolicyInfo("iam-no-users", "mandatory", with_injected_level({"exemptions": EXEMPTIONS})),
    PolicyInfo("k8s-probes", "advisory", with_injected_level({"exemptions": EXEMPTIONS})),
]
EXEMPTION = {"urn": "urn:pulumi:dev::p::aws:s3/bucket:Bucket::logs", "reason": "ELB writes only SSE-S3 logs"}


def levels(config: dict[str, PolicyConfig]) -> dict[str, str]:
    return {name: entry.level for name, entry in config.items()}


# --- GetAnalyzerInfo (analyzer_plugin.go) ------------------------------------------------------------------------


def test_get_analyzer_info_reads_protobuf_zero_as_advisory_a_valid_level() -> None:
    # convertEnforcementLevel: EnforcementLevel_ADVISORY is the enum's 0, the value of a field the pack left unset.
    assert level_from_proto(0) == "advisory"
    assert [level_from_proto(n) for n in (1, 2, 3)] == ["mandatory", "disabled", "remediate"]
    with pytest.raises(PolicyConfigError, match="invalid enforcement level 7"):
        level_from_proto(7)


def test_get_analyzer_info_injects_enforcement_level_into_every_schema() -> None:
    schema = with_injected_level({"exemptions": EXEMPTIONS})
    assert schema["enforcementLevel"] == {
        "type": "string",
        "enum": ["advisory", "mandatory", "remediate", "disabled"],
    }
    assert schema["exemptions"] == EXEMPTIONS


# --- ReconcilePolicyPackConfig (config.go) -----------------------------------------------------------------------


def test_create_config_with_defaults_takes_each_policys_level_and_schema_defaults() -> None:
    config = defaults(POLICIES)
    assert levels(config) == {
        "s3-sse-kms": "mandatory",
        "iam-no-users": "mandatory",
        "k8s-probes": "advisory",
    }
    assert config["s3-sse-kms"].properties == {"exemptions": []}


def test_an_initial_config_entry_without_a_level_makes_the_rule_advisory() -> None:
    # The pack sent {"s3-sse-kms": {"exemptions": [...]}} with no level: GetAnalyzerInfo gives "advisory" (0), and
    # applyConfig lets every valid level replace the policy's own — the rule is advisory for EVERY resource.
    initial = {"s3-sse-kms": PolicyConfig(level_from_proto(0), {"exemptions": [EXEMPTION]})}
    config = reconcile(POLICIES, initial, None)
    assert config["s3-sse-kms"].level == "advisory"
    assert config["iam-no-users"].level == "mandatory"


def test_an_initial_config_entry_carrying_the_rules_own_level_keeps_it() -> None:
    initial = {"s3-sse-kms": PolicyConfig("mandatory", {"exemptions": [EXEMPTION]})}
    config = reconcile(POLICIES, initial, None)
    assert config["s3-sse-kms"].level == "mandatory"
    assert config["s3-sse-kms"].properties == {"exemptions": [EXEMPTION]}


def test_apply_config_user_level_replaces_and_a_user_entry_without_level_keeps_it() -> None:
    initial = {"s3-sse-kms": PolicyConfig("mandatory", {"exemptions": [EXEMPTION]})}
    user = parse_config_file({"s3-sse-kms": "advisory", "iam-no-users": {"exemptions": []}})
    config = reconcile(POLICIES, initial, user)
    assert config["s3-sse-kms"].level == "advisory"
    assert config["s3-sse-kms"].properties == {"exemptions": [EXEMPTION]}
    assert config["iam-no-users"].level == "mandatory"


def test_apply_config_properties_are_set_key_by_key_so_a_user_list_replaces_the_packs() -> None:
    initial = {"s3-sse-kms": PolicyConfig("mandatory", {"exemptions": [EXEMPTION]})}
    user = parse_config_file({"s3-sse-kms": {"exemptions": []}})
    assert reconcile(POLICIES, initial, user)["s3-sse-kms"].properties == {"exemptions": []}


def test_apply_config_all_comes_first_then_the_entries_of_the_same_layer() -> None:
    user = parse_config_file({"all": "advisory", "iam-no-users": "mandatory"})
    config = reconcile(POLICIES, None, user)
    assert levels(config) == {
        "s3-sse-kms": "advisory",
        "iam-no-users": "mandatory",
        "k8s-probes": "advisory",
        "all": "advisory",  # applyConfig also keeps `all` itself as an entry, and Configure sends it
    }


def test_apply_config_all_in_the_user_layer_overrides_the_initial_configs_levels() -> None:
    initial = {"s3-sse-kms": PolicyConfig("mandatory", {"exemptions": [EXEMPTION]})}
    config = reconcile(POLICIES, initial, parse_config_file({"all": "disabled"}))
    assert config["s3-sse-kms"].level == "disabled" and config["k8s-probes"].level == "disabled"


def test_apply_config_an_invalid_all_level_changes_nothing() -> None:
    result = apply_config(defaults(POLICIES), {"all": PolicyConfig("", {"x": 1})})
    assert result["s3-sse-kms"].level == "mandatory"


def test_configure_refuses_an_entry_for_an_unknown_rule_without_a_level() -> None:
    # applyConfig adds names that are no policy; Configure then finds level "" invalid.
    with pytest.raises(PolicyConfigError, match='invalid enforcement level ""'):
        reconcile(POLICIES, None, parse_config_file({"no-such-rule": {"threshold": 3}}))


def test_validate_checks_properties_not_the_level_against_each_schema() -> None:
    config = defaults(POLICIES)
    config["s3-sse-kms"] = PolicyConfig("mandatory", {"exemptions": [{"urn": "x"}]})
    errors = validate(POLICIES, config)
    assert errors and errors[0].startswith("s3-sse-kms: exemptions.0: 'reason' is a required property"), (
        errors
    )
    with pytest.raises(PolicyConfigError, match="validating policy config"):
        reconcile(POLICIES, {"s3-sse-kms": config["s3-sse-kms"]}, None)


def test_validate_honours_required_properties() -> None:
    policies = [
        PolicyInfo("budget", "advisory", with_injected_level({"limit": {"type": "number"}}), ["limit"])
    ]
    assert validate(policies, defaults(policies)) == ["budget: 'limit' is a required property"]


# --- parsePolicyPackConfig: the --policy-pack-config file (config.go) -------------------------------------------


def test_parse_config_file_shorthand_objects_and_empty_entries() -> None:
    parsed = parse_config_file({"a": "mandatory", "b": {"enforcementLevel": "disabled", "x": 1}, "c": {}})
    assert parsed == {"a": PolicyConfig("mandatory", None), "b": PolicyConfig("disabled", {"x": 1})}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"a": "strict"}, '"strict" is not a valid enforcement level'),
        ({"a": {"enforcementLevel": 1}}, "must be a string"),
        ({"a": {"enforcementLevel": "loud"}}, '"loud" is not a valid enforcement level'),
        ({"a": 3}, "must be a string or object"),
    ],
)
def test_parse_config_file_refuses_bad_levels_and_values(given: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyConfigError, match=message):
        parse_config_file(given)


def test_load_config_file_allows_empty_content() -> None:
    assert load_config_file("  \n") == {}
    with pytest.raises(PolicyConfigError, match="not JSON"):
        load_config_file("{")
