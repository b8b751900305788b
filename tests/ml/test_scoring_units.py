"""Metrics against hand calculations, the compiled scorer against the pipeline, estimator rules."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from loomcredit.scoring import metrics
from loomcredit.scoring.calibration import fit_platt
from loomcredit.scoring.compiled import CompiledScorecard
from loomcredit.scoring.data import DataError, prepare, to_binary_target
from loomcredit.scoring.scorecard import ScorecardClassifier

pytestmark = pytest.mark.ml


def test_auc_and_ks_match_hand_calculation() -> None:
    """y=[0,0,1,1], p=[.1,.4,.35,.8]: 3 of 4 bad/good pairs ordered (AUC .75), KS .5."""
    y, p = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    assert metrics.auc(y, p) == pytest.approx(0.75)
    assert metrics.gini(y, p) == pytest.approx(0.5)
    assert metrics.ks(y, p) == pytest.approx(0.5)
    assert metrics.brier(y, p) == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)


def test_psi_matches_hand_calculation() -> None:
    """Shares 50/50 against 25/75: PSI = .25 ln 2 + .25 ln 1.5 = 0.2747."""
    expected = np.array([0.0] * 50 + [1.0] * 50)
    actual = np.array([0.0] * 25 + [1.0] * 75)
    assert metrics.psi(expected, actual, n_bins=2) == pytest.approx(
        0.25 * math.log(2) + 0.25 * math.log(1.5)
    )


def test_characteristic_stability_is_the_mean_points_shift() -> None:
    """Half the rows moving from a 10-point bin to a 30-point bin shifts the mean by 10 points."""
    assert metrics.characteristic_stability([10, 10, 30, 30], [10, 30, 30, 30]) == pytest.approx(
        5.0
    )


def test_target_labels_bad_good_become_one_zero() -> None:
    """Text labels bad/good map to 1/0, and a three-valued target is refused."""
    assert list(to_binary_target(pd.Series(["good", "bad", "good"], name="t"))) == [0, 1, 0]
    with pytest.raises(DataError):
        to_binary_target(pd.Series([0, 1, 2], name="t"))


def test_sentinels_and_question_marks_are_missing() -> None:
    """-999 and '?' become missing values; text columns become categorical."""
    df = pd.DataFrame({"a": [1.0, -999.0, 3.0, 4.0], "b": ["x", "?", "y", "x"], "t": [0, 1, 0, 1]})
    ds = prepare(df, "t")
    assert ds.X["a"].isna().tolist() == [False, True, False, False]
    assert ds.X["b"].isna().tolist() == [False, True, False, False]
    assert isinstance(ds.X["b"].dtype, pd.CategoricalDtype)


@pytest.fixture(scope="module")
def fitted() -> tuple[ScorecardClassifier, pd.DataFrame]:
    rng = np.random.default_rng(3)
    n = 4000
    X = pd.DataFrame(
        {
            "income": rng.lognormal(3, 1, n),
            "dpd": rng.poisson(1.0, n).astype(float),
            "noise": rng.normal(size=n),
            "grade": rng.choice(list("ABCD"), n),
        }
    )
    X.loc[rng.random(n) < 0.1, "income"] = np.nan
    lo = -2 - 0.6 * np.log(X["income"].fillna(20)) + 0.5 * X["dpd"] + (X["grade"] == "D") * 0.9
    y = (rng.random(n) < 1 / (1 + np.exp(-(lo + 1.5)))).astype(int)
    return ScorecardClassifier().fit(X, y), X


def test_compiled_one_row_equals_pipeline_points(
    fitted: tuple[ScorecardClassifier, pd.DataFrame],
) -> None:
    """The compiled one-row scorer gives the pipeline's score for every row (missing included)."""
    model, X = fitted
    spec = model.to_spec()
    spec["calibration"] = fit_platt(model.decision_function(X), model.predict(X)).to_dict()
    scorer = CompiledScorecard(spec)
    expected = model.points(X.iloc[:300])
    got = [scorer.score_one(r).score for r in X.iloc[:300].to_dict("records")]
    np.testing.assert_allclose(got, expected, atol=1e-9)
    np.testing.assert_allclose(scorer.score_frame(X.iloc[:300])["score"], expected, atol=1e-9)


def test_pure_noise_is_not_selected(fitted: tuple[ScorecardClassifier, pd.DataFrame]) -> None:
    """A feature with no relation to the outcome falls below the IV threshold."""
    model, _ = fitted
    assert "noise" not in model.features_
    assert {"income", "dpd"} <= set(model.features_)


def test_points_double_the_odds_every_pdo(fitted: tuple[ScorecardClassifier, pd.DataFrame]) -> None:
    """A score 20 points higher (PDO) has half the odds of bad; 600 points is odds 50:1."""
    model, X = fitted
    s = model.points(X.iloc[:50])
    odds_bad = np.exp(model.decision_function(X.iloc[:50]))
    np.testing.assert_allclose(odds_bad, (1 / 50) * 2 ** (-(s - 600) / 20), rtol=1e-9)


def test_one_row_scoring_is_under_a_tenth_of_a_millisecond(
    fitted: tuple[ScorecardClassifier, pd.DataFrame],
) -> None:
    """Median one-row scorecard scoring (with reasons) takes under 0.1 ms."""
    model, X = fitted
    spec = model.to_spec()
    spec["calibration"] = {"slope": 1.0, "intercept": 0.0, "n": 1}
    scorer = CompiledScorecard(spec)
    rows = X.iloc[:500].to_dict("records")
    times = []
    for r in rows:
        t0 = time.perf_counter()
        scorer.score_one(r)
        times.append(time.perf_counter() - t0)
    assert float(np.median(times)) < 1e-4


def test_clone_keeps_parameters() -> None:
    """The scorecard follows the estimator contract: clone and set_params keep every parameter."""
    model = ScorecardClassifier(0.05, pdo=40.0)
    copy = clone(model).set_params(base_score=500.0)
    assert copy.get_params()["pdo"] == 40.0
    assert copy.get_params()["min_iv"] == 0.05
    assert copy.offset == pytest.approx(500.0 - 40.0 / math.log(2) * math.log(50.0))


def test_rare_decisive_flag_gets_its_own_bin() -> None:
    """A flag on 1 % of rows with a 60 % bad rate (an overdue bureau account) is binned and
    selected; a 5 % minimum bin would merge it into the zero bin with IV 0."""
    rng = np.random.default_rng(3)
    n = 20_000
    flag = (rng.random(n) < 0.01).astype(float)
    noise = rng.normal(size=n)
    y = (rng.random(n) < np.where(flag > 0, 0.6, 0.03)).astype(int)
    sc = ScorecardClassifier().fit(pd.DataFrame({"overdue": flag, "noise": noise}), y)
    assert "overdue" in sc.features_
    assert len(sc.pipeline_.named_steps["binning"].bins_["overdue"]["splits"]) == 1


def test_prepare_accepts_a_frame_with_repeated_index_labels() -> None:
    """Concatenated monthly snapshots repeat index labels; features keep their values."""
    part = pd.DataFrame({"x": [1.0, 2.0, 3.0], "bad": [0, 1, 0]})
    ds = prepare(pd.concat([part, part]), "bad")
    assert ds.X["x"].tolist() == [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]
