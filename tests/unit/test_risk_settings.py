"""The risk thresholds read from the stage's RISK_* variables (docs/risk.md)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.risk import DEFAULT_AMOUNT_THRESHOLDS
from chalicelib.settings import InvalidSetting, Settings, risk_thresholds


def test_without_variables_the_thresholds_are_the_documented_defaults() -> None:
    thresholds = risk_thresholds({})
    assert dict(thresholds.amount) == dict(DEFAULT_AMOUNT_THRESHOLDS)
    assert (thresholds.velocity_max, thresholds.velocity_window, thresholds.failures_max) == (
        5, timedelta(seconds=600), 3)


def test_amount_thresholds_replace_the_defaults_whole_with_codes_upper_cased() -> None:
    thresholds = risk_thresholds({"RISK_AMOUNT_THRESHOLDS": '{"jpy": 5000000, "KWD": 2500000}',
                                  "RISK_VELOCITY_MAX": "10", "RISK_VELOCITY_WINDOW_SECONDS": "60",
                                  "RISK_FAILURES_MAX": " 4 "})
    assert dict(thresholds.amount) == {"JPY": 5_000_000, "KWD": 2_500_000}
    assert (thresholds.velocity_max, thresholds.velocity_window, thresholds.failures_max) == (
        10, timedelta(seconds=60), 4)


@pytest.mark.parametrize(("value", "says"), [
    ("{", "is not JSON"),
    ('["USD"]', "must be a JSON object"),
    ('{"XYZ": 100}', "'XYZ' is not an ISO 4217 currency code"),
    ('{"USD": 10.5}', "USD must be a whole number of minor units above 0, not 10.5"),
    ('{"USD": "100"}', 'not "100"'),
    ('{"USD": true}', "not true"),
    ('{"USD": 0}', "not 0"),
    ('{"usd": 1, "USD": 2}', "USD is listed twice"),
])
def test_a_bad_amount_threshold_is_refused_naming_the_variable_and_the_problem(value: str, says: str) -> None:
    with pytest.raises(InvalidSetting, match="RISK_AMOUNT_THRESHOLDS") as refused:
        risk_thresholds({"RISK_AMOUNT_THRESHOLDS": value})
    assert says in str(refused.value)


@pytest.mark.parametrize("name", ["RISK_VELOCITY_MAX", "RISK_VELOCITY_WINDOW_SECONDS", "RISK_FAILURES_MAX"])
@pytest.mark.parametrize(("value", "says"), [("five", "must be a whole number"), ("2.5", "must be a whole number"),
                                             ("0", "must be at least 1"), ("-3", "must be at least 1")])
def test_a_bad_count_or_window_is_refused_naming_the_variable(name: str, value: str, says: str) -> None:
    with pytest.raises(InvalidSetting, match=f"{name} {says}"):
        risk_thresholds({name: value})


def test_the_risk_queue_is_named_after_the_stage_unless_told() -> None:
    assert Settings.from_environment({"STAGE": "prod"}).risk_assessments_queue == "payment-webhooks-prod-risk-assessments"
    assert Settings.from_environment({"RISK_ASSESSMENTS_QUEUE": "q"}).risk_assessments_queue == "q"
