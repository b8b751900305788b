"""scikit-learn's estimator checks on the scorecard and the booster; exclusions give reasons."""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from loomcredit.scoring.booster import BoosterClassifier
from loomcredit.scoring.scorecard import ScorecardClassifier

pytestmark = [pytest.mark.ml, pytest.mark.slow]

_COMMON = {
    "check_dtype_object": "object columns are categorical text by design, not an error",
    "check_classifiers_classes": "binary only; with the check's string labels the sign "
    "convention of decision_function it expects differs (we return log-odds of class 1)",
    "check_supervised_y_2d": "a 2-d y is refused rather than ravelled with a warning",
    "check_fit2d_1sample": "one row cannot be binned; the message comes from OptBinning/LightGBM",
}
_EXPECTED = {
    "ScorecardClassifier": {
        **_COMMON,
        "check_estimators_empty_data_messages": "OptBinning's own error on zero rows",
    },
    "BoosterClassifier": {
        **_COMMON,
        "check_estimators_empty_data_messages": "LightGBM's own error on zero features",
        "check_classifiers_train": "mismatched X/y lengths are reported by LightGBM, not sklearn",
    },
}


def _expected(estimator: object) -> dict[str, str]:
    return _EXPECTED[type(estimator).__name__]


@parametrize_with_checks(
    [ScorecardClassifier(), BoosterClassifier(n_estimators=20, early_stopping_rounds=5)],
    expected_failed_checks=_expected,
)
def test_sklearn_compatible_estimator(estimator: object, check: object) -> None:
    """Each scikit-learn estimator check passes unless listed above with its reason."""
    check(estimator)  # type: ignore[operator]
