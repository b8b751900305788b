"""Scoring benchmark: Loom against toad, OptBinning Scorecard and scorecardpy, same data and run.

Synthetic tables (30 skewed numeric features with missing values, 3 categoricals, about 5 % bad)
of 200,000 and 1,000,000 rows, split once (80/20, seed 0). Every library bins and fits on the
same training rows and is measured on the same holdout: training time, holdout AUC, batch
scoring time and one-row latency (median, p99).

    python bench/bench_scoring.py              # 200k and 1M rows
    python bench/bench_scoring.py --quick      # 20k rows
    python bench/bench_scoring.py --real-data  # every dataset in ../shared/datasets (5-fold CV)

scorecardpy needs pandas<3: with ``--scorecardpy`` the bench builds ``bench/.venv-scorecardpy``
on first use (``python3 -m venv`` + ``pip install scorecardpy 'pandas<3'``) and runs it there;
without the flag it is skipped with a printed reason.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

HERE = Path(__file__).resolve().parent
DATASETS = HERE.parent.parent / "shared" / "datasets"


def synthetic(n: int, seed: int = 0) -> pd.DataFrame:
    """30 skewed numerics (10 % missing in a third), 3 categoricals, ~5 % bad."""
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    lo = np.full(n, -3.6)
    for i in range(30):
        x = rng.lognormal(0.0, 1.0 + 0.05 * i, n)
        w = (0.35 if i < 8 else 0.12 if i < 16 else 0.0) * (-1) ** i
        lo += w * np.log(x)
        if i % 3 == 0:
            x[rng.random(n) < 0.1] = np.nan
        cols[f"x{i:02d}"] = x
    for j, k in enumerate((5, 12, 30)):
        c = rng.integers(0, k, n)
        lo += (c % 4 == 0) * (0.5 - 0.2 * j)
        cols[f"c{j}"] = np.array([f"L{v:02d}" for v in range(k)], dtype=object)[c]
    cols["bad"] = (rng.random(n) < 1 / (1 + np.exp(-lo))).astype(int)
    return pd.DataFrame(cols)


def _latency(fn, rows: list[dict]) -> tuple[float, float]:
    times = []
    for r in rows:
        t0 = time.perf_counter()
        fn(r)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3, float(np.quantile(times, 0.99)) * 1e3


def run_loom(tr: pd.DataFrame, te: pd.DataFrame, feats: list[str]) -> dict:
    """Loom's scorecard (fit = binning + IV + LR) and compiled scorer; plus the booster."""
    from loomcredit.scoring.booster import BoosterClassifier
    from loomcredit.scoring.compiled import CompiledScorecard
    from loomcredit.scoring.scorecard import ScorecardClassifier

    t0 = time.perf_counter()
    sc = ScorecardClassifier().fit(tr[feats], tr["bad"])
    fit_s = time.perf_counter() - t0
    spec = sc.to_spec()
    spec["calibration"] = {"slope": 1.0, "intercept": 0.0, "n": 0}
    scorer = CompiledScorecard(spec)
    t0 = time.perf_counter()
    s = scorer.score_frame(te)["score"].to_numpy()
    batch_s = time.perf_counter() - t0
    med, p99 = _latency(scorer.score_one, te[feats].head(2000).to_dict("records"))
    t0 = time.perf_counter()
    bo = BoosterClassifier(500).fit(tr[feats], tr["bad"])
    bo_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pb = bo.decision_function(te[feats])
    bo_pred = time.perf_counter() - t0
    return {
        "fit_s": fit_s,
        "auc": roc_auc_score(te["bad"], -s),
        "batch_s": batch_s,
        "one_ms": med,
        "one_p99_ms": p99,
        "booster_fit_s": bo_s,
        "booster_auc": roc_auc_score(te["bad"], pb),
        "booster_batch_s": bo_pred,
    }


def run_toad(tr: pd.DataFrame, te: pd.DataFrame, feats: list[str]) -> dict:
    """toad: decision-tree binning (empty_separate), WoE, toad ScoreCard."""
    import toad

    t0 = time.perf_counter()
    comb = toad.transform.Combiner()
    comb.fit(tr[[*feats, "bad"]], y="bad", method="dt", min_samples=0.05, empty_separate=True)
    binned = comb.transform(tr[feats])
    woe = toad.transform.WOETransformer()
    tr_woe = woe.fit_transform(binned, tr["bad"])
    card = toad.ScoreCard(combiner=comb, transer=woe)
    card.fit(tr_woe, tr["bad"])
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    s = card.predict(te[feats])
    batch_s = time.perf_counter() - t0
    med, p99 = _latency(
        lambda r: card.predict(pd.DataFrame([r])), te[feats].head(200).to_dict("records")
    )
    return {
        "fit_s": fit_s,
        "auc": roc_auc_score(te["bad"], -np.asarray(s)),
        "batch_s": batch_s,
        "one_ms": med,
        "one_p99_ms": p99,
    }


def run_optbinning(tr: pd.DataFrame, te: pd.DataFrame, feats: list[str]) -> dict:
    """Plain OptBinning: BinningProcess + Scorecard(LogisticRegression)."""
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    cats = [c for c in feats if tr[c].dtype == object]
    t0 = time.perf_counter()
    bp = BinningProcess(feats, categorical_variables=cats)
    card = Scorecard(
        binning_process=bp,
        estimator=LogisticRegression(max_iter=1000),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600},
    )
    card.fit(tr[feats], tr["bad"])
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    s = card.score(te[feats])
    batch_s = time.perf_counter() - t0
    med, p99 = _latency(
        lambda r: card.score(pd.DataFrame([r])), te[feats].head(200).to_dict("records")
    )
    return {
        "fit_s": fit_s,
        "auc": roc_auc_score(te["bad"], -np.asarray(s)),
        "batch_s": batch_s,
        "one_ms": med,
        "one_p99_ms": p99,
    }


SCORECARDPY = """
import sys, time, json, statistics, numpy as np, pandas as pd, scorecardpy as sc
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
tr = pd.read_parquet(sys.argv[1]); te = pd.read_parquet(sys.argv[2])
t0 = time.perf_counter()
bins = sc.woebin(tr, y="bad", check_cate_num=False)
t_bin = time.perf_counter() - t0
tr_w = sc.woebin_ply(tr, bins)
X = [c for c in tr_w.columns if c.endswith("_woe")]
lr = LogisticRegression(max_iter=1000).fit(tr_w[X], tr_w["bad"])
card = sc.scorecard(bins, lr, X)
fit_s = time.perf_counter() - t0
feats = [c for c in te.columns if c != "bad"]
t0 = time.perf_counter()
s = sc.scorecard_ply(te[feats], card, only_total_score=True)
t_score = time.perf_counter() - t0
times = []
for r in te[feats].head(200).to_dict("records"):
    t0 = time.perf_counter()
    sc.scorecard_ply(pd.DataFrame([r]), card, only_total_score=True)
    times.append(time.perf_counter() - t0)
print(json.dumps({"fit_s": fit_s, "bin_s": t_bin, "batch_s": t_score,
                  "one_ms": statistics.median(times) * 1e3,
                  "one_p99_ms": float(np.quantile(times, 0.99)) * 1e3,
                  "auc": roc_auc_score(te["bad"], -s["score"].to_numpy())}))
"""


def run_scorecardpy(tr: pd.DataFrame, te: pd.DataFrame) -> dict | str:
    """scorecardpy in its own pandas<3 venv (built on first use)."""
    import json

    venv = HERE / ".venv-scorecardpy"
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(py),
                "-m",
                "pip",
                "install",
                "-q",
                "scorecardpy",
                "pandas<3",
                "pyarrow",
                "scikit-learn",
            ],
            check=True,
        )
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "tr.parquet", Path(tmp) / "te.parquet"
        tr.to_parquet(a)
        te.to_parquet(b)
        out = subprocess.run(
            [str(py), "-c", SCORECARDPY, str(a), str(b)],
            capture_output=True,
            text=True,
            check=False,
        )
    if out.returncode != 0:
        return "failed: " + out.stderr.strip().splitlines()[-1]
    return json.loads(out.stdout.strip().splitlines()[-1])


def synthetic_bench(sizes: list[int], with_scorecardpy: bool) -> None:
    """Side-by-side table per size."""
    for n in sizes:
        df = synthetic(n)
        cut = int(0.8 * n)
        tr, te = df.iloc[:cut].reset_index(drop=True), df.iloc[cut:].reset_index(drop=True)
        feats = [c for c in df.columns if c != "bad"]
        print(
            f"\n## {n:,} rows ({cut:,} train / {n - cut:,} holdout), "
            f"bad rate {df['bad'].mean():.2%}"
        )
        res = {
            "loom": run_loom(tr, te, feats),
            "toad dt": run_toad(tr, te, feats),
            "optbinning": run_optbinning(tr, te, feats),
        }
        if with_scorecardpy:
            res["scorecardpy"] = run_scorecardpy(tr, te)
        else:
            print("scorecardpy: skipped (needs its own pandas<3 venv; pass --scorecardpy)")
        print("| library | train s | holdout AUC | batch score s | one row median ms | p99 ms |")
        print("|---|---|---|---|---|---|")
        for name, r in res.items():
            if isinstance(r, str):
                print(f"| {name} | {r} | | | | |")
                continue
            print(
                f"| {name} | {r['fit_s']:.2f} | {r['auc']:.4f} | {r['batch_s']:.3f} | "
                f"{r.get('one_ms', float('nan')):.4f} | {r.get('one_p99_ms', float('nan')):.4f} |"
            )
        lo = res["loom"]
        print(
            f"| loom booster | {lo['booster_fit_s']:.2f} | {lo['booster_auc']:.4f} | "
            f"{lo['booster_batch_s']:.3f} | | |"
        )
        for name in ("toad dt", "optbinning", "scorecardpy"):
            r = res.get(name)
            if not isinstance(r, dict):
                continue
            print(
                f"ratio {name}/loom: train {r['fit_s'] / lo['fit_s']:.2f}x, batch "
                f"{r['batch_s'] / lo['batch_s']:.1f}x, one row {r['one_ms'] / lo['one_ms']:.0f}x"
            )


REAL = [
    ("German credit", "german_credit/germancredit.csv", "creditability", [], False),
    ("Polish 1year (dedup)", "polish_bankruptcy/1year.arff", "class", [], True),
    ("Polish 5year (dedup)", "polish_bankruptcy/5year.arff", "class", [], True),
    (
        "SBA (all legit columns)",
        "sba_case/SBAcase.11.13.17.csv",
        "Default",
        [
            "MIS_Status",
            "ChgOffDate",
            "ChgOffPrinGr",
            "BalanceGross",
            "Selected",
            "LoanNr_ChkDgt",
            "Name",
        ],
        False,
    ),
    (
        "SBA without Term/daysterm/xx",
        "sba_case/SBAcase.11.13.17.csv",
        "Default",
        [
            "MIS_Status",
            "ChgOffDate",
            "ChgOffPrinGr",
            "BalanceGross",
            "Selected",
            "LoanNr_ChkDgt",
            "Name",
            "Term",
            "daysterm",
            "xx",
        ],
        False,
    ),
    ("HMEQ", "hmeq/hmeq.csv", "BAD", [], False),
    (
        "Taiwan credit card",
        "taiwan_credit_card/UCI_Credit_Card.csv",
        "default.payment.next.month",
        ["ID"],
        False,
    ),
]


def real_data_bench() -> None:
    """Loom's train_models on every shared dataset (stratified 5-fold CV, seed 0)."""
    from loomcredit.scoring.train import TrainConfig, train_models

    print(
        "| dataset | rows | bad rate | scorecard AUC (folds sd) | KS | Brier | booster AUC (sd) "
        "| KS | Brier | chars | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for k, (label, rel, target, drop, dedupe) in enumerate(REAL):
            t0 = time.perf_counter()
            card = train_models(
                DATASETS / rel,
                target=target,
                drop=drop,
                out_dir=Path(tmp) / str(k),
                config=TrainConfig(folds=5, dedupe=dedupe, report=False),
            )
            secs = time.perf_counter() - t0
            sc, bo = card["models"]["scorecard"], card["models"]["booster"]
            print(
                f"| {label} | {card['data']['rows']} | {card['data']['bad_rate']:.2%} | "
                f"{sc['metrics']['auc']:.3f} ({np.std(sc['fold_auc']):.3f}) | "
                f"{sc['metrics']['ks']:.3f} | {sc['metrics']['brier']:.4f} | "
                f"{bo['metrics']['auc']:.3f} ({np.std(bo['fold_auc']):.3f}) | "
                f"{bo['metrics']['ks']:.3f} | {bo['metrics']['brier']:.4f} | "
                f"{len(card['features']['scorecard'])} | {secs:.0f} |",
                flush=True,
            )


def main(argv: list[str]) -> int:
    """Parse options and run."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20k rows only")
    ap.add_argument("--sizes", default="200000,1000000", help="comma-separated row counts")
    ap.add_argument("--scorecardpy", action="store_true", help="also run scorecardpy (own venv)")
    ap.add_argument("--real-data", action="store_true", help="run on ../shared/datasets")
    args = ap.parse_args(argv)
    if args.real_data:
        real_data_bench()
        return 0
    sizes = [20_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    synthetic_bench(sizes, args.scorecardpy)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
