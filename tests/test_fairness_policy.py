"""The fairness policy file and the age bands: defaults, strict keys with file:line, and banding edge cases."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from governance.age_bands import DEFAULT_BANDS, OUT_OF_RANGE, UNBANDED, AgeBand, assign_bands
from governance.errors import InputError
from governance.fairness.policy import FairnessPolicy, load_policy, parse_policy


def test_shipped_policy_matches_the_model_defaults():
    shipped = load_policy()
    assert shipped.model_dump(exclude={"description"}) == FairnessPolicy().model_dump(exclude={"description"})
    assert [b.label for b in shipped.age.bands] == ["18-24", "25-34", "35-44", "45-54", "55-61", "62+"]
    assert shipped.checks.adverse_impact_ratio.limit == 0.80
    assert shipped.checks.adverse_impact_ratio.on_significant == "red"
    assert shipped.checks.demographic_parity_difference.limit == 0.10
    assert shipped.checks.elderly_age_effect.min_age == 62
    assert shipped.bootstrap.resamples == 1000 and shipped.age.min_count == 100


def test_unknown_key_names_file_line_and_key(tmp_path):
    path = tmp_path / "fairness.yaml"
    path.write_text("kind: fairness\nchecks:\n  adverse-impact-ratio:\n    limit: 0.8\n    on_significnt: red\n")
    with pytest.raises(InputError) as error:
        load_policy(path)
    assert error.value.reason == "INVALID_POLICY"
    assert error.value.message.startswith(f"{path}:5: checks.adverse-impact-ratio.on_significnt: unknown key")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("age:\n  bands: []\n", "p.yaml:2: age.bands: no age bands defined"),
        ("age:\n  bands:\n    - {label: a, min: 18, max: 40}\n    - {label: b, min: 30}\n", "overlap"),
        ("checks:\n  calibration:\n    limit: high\n", "p.yaml:3: checks.calibration.limit"),
        ("kind: encryption\n", "p.yaml:1: kind"),
        ("decision:\n  threshold: 1.5\n", "p.yaml:2: decision.threshold"),
        ("[1, 2]\n", "must be a mapping"),
        ("checks: {calibration: {limit: 0.1\n", "YAML syntax error"),
        ("bootstrap:\n  seed: 1\n  seed: 2\n", "p.yaml:3: duplicate key 'seed'"),
        # A NaN limit would make every comparison false: every metric would pass.
        ("checks:\n  adverse-impact-ratio:\n    limit: .nan\n", "p.yaml:3: checks.adverse-impact-ratio.limit"),
        ("checks:\n  calibration:\n    limit: .inf\n", "p.yaml:3: checks.calibration.limit"),
        ("waivers:\n  - check: calibration\n    reason: pilot\n    approver: J. Doe\n    expires: 2031-02-30\n",
         "p.yaml:5:"),
    ],
)
def test_invalid_policies_are_input_errors(text, expected):
    with pytest.raises(InputError) as error:
        parse_policy(text, "p.yaml")
    assert expected in error.value.message


def test_partial_policy_keeps_defaults_and_parses_waivers():
    policy = parse_policy(
        "checks:\n  adverse-impact-ratio: {limit: 0.9, on_significant: red, on_breach: red}\n"
        "waivers:\n  - {check: adverse-impact-ratio, resource: '18-24', reason: thin file, approver: MRM lead,"
        " expires: 2030-01-31}\n"
    )
    assert policy.checks.adverse_impact_ratio.limit == 0.9
    assert policy.checks.adverse_impact_ratio.on_uncertain == "amber"  # not written: the default stays
    assert policy.checks.calibration.limit == 0.10
    assert policy.waivers[0].expires == date(2030, 1, 31)


def test_waiver_without_approver_is_rejected():
    with pytest.raises(InputError, match=r"waivers\.0\.approver"):
        parse_policy("waivers:\n  - {check: '*', reason: because, expires: 2030-01-01}\n", "p.yaml")


def test_bands_known_answers():
    ages = [0, 17, 18, 24, 24.5, 25, 61, 61.9, 62, 103, 121, float("nan")]
    banding = assign_bands(ages)
    expected = [OUT_OF_RANGE, OUT_OF_RANGE, 0, 0, 0, 1, 4, 4, 5, 5, OUT_OF_RANGE, OUT_OF_RANGE]
    assert banding.codes.tolist() == expected
    findings = banding.findings()
    assert findings["out_of_range"]["count"] == 4
    assert findings["out_of_range"]["examples"][:3] == [0.0, 17.0, 121.0]
    assert banding.counts().tolist() == [3, 1, 0, 0, 2, 2]


def test_gap_between_custom_bands_is_unbanded():
    banding = assign_bands(np.array([20, 35, 50]), [AgeBand("young", 18, 30), AgeBand("old", 45)])
    assert banding.codes.tolist() == [0, UNBANDED, 1]
    assert banding.findings()["unbanded"]["count"] == 1


def test_default_bands_start_the_elderly_band_at_62():
    assert DEFAULT_BANDS[-1] == AgeBand("62+", 62, None)


# --- one verdict rule, the same in the policy, fairness.json and the pack's legend ---------------------------------


@pytest.mark.parametrize(("check", "expected"), [
    ("adverse-impact-ratio:\n    on_significant: amber\n", "a significant breach of a blocking limit is red"),
    ("calibration:\n    on_uncertain: green\n", "on_uncertain: green means the interval lies within the limit"),
    ("calibration:\n    on_breach: red\n", "on_breach: only a blocking check is red"),
    ("auc-gap:\n    reason: null\n", "a disabled check says why"),
])
def test_a_rule_that_contradicts_the_legend_is_refused(check, expected):
    with pytest.raises(InputError) as error:
        parse_policy("checks:\n  " + check, "p.yaml")
    assert expected in error.value.message


def test_the_shipped_rules_follow_the_legend():
    from governance.grading import judge

    checks = load_policy().checks
    for name in type(checks).model_fields:
        rule = getattr(checks, name)
        assert rule.reason, name  # every rule says why it is blocking, monitored or not judged
        assert "green" not in (rule.on_significant, rule.on_breach, rule.on_uncertain), name
        assert (rule.on_significant == "red") == rule.blocking, name
        # A significant breach (the whole interval beyond the limit) of a blocking limit is red.
        if rule.enabled and rule.blocking:
            assert judge(-1.0, (-1.5, -0.5), rule, "min")[1] == "red", name
    assert "not a legal limit" in checks.adverse_impact_ratio.reason
    assert not checks.equalized_odds_difference.enabled and "Not judged" in checks.equalized_odds_difference.reason
    # Crossing the limit is never green: calibration whose interval crosses ±0.10 is amber.
    assert judge(0.05, (-0.02, 0.12), checks.calibration, "abs_max") == ("uncertain", "amber")


def test_enabling_a_disabled_check_drops_the_default_reason():
    policy = parse_policy("checks:\n  auc-gap: {enabled: true}\n", "p.yaml")
    assert policy.checks.auc_gap.enabled and policy.checks.auc_gap.reason is None
