"""Benchmark: fairness and SHAP at 10x the real data (300,000 validation rows), against the row-level methods.

    .venv/bin/python bench/bench_fairness_scale.py --workdir governance-demo-1500k   # a `governance demo --rows 1500000` output
    .venv/bin/python bench/bench_fairness_scale.py                                    # runs the pipeline first (not timed)

In one run, on the same model and validation split:

1. Bootstrap intervals, ``--resamples`` each: the row-level bootstrap (:mod:`governance.fairness.bootstrap`, the
   reference) against the bootstrap drawn on cells (:mod:`governance.fairness.cells`): seconds, ratio, and the
   largest difference of any interval bound in bootstrap standard deviations (Monte Carlo error is ~0.12).
2. TreeSHAP of every validation row: XGBoost ``pred_contribs`` on the whole model (the reference, timed on
   ``--shap-reference-rows`` rows and scaled to all of them) against the region method
   (:mod:`governance.explain.shap_regions`), with the largest difference of any value.
3. The fairness step as the govern step runs it (``assess_fairness`` with the shared SHAP values): seconds (goal
   <= 10 s at 300,000 rows).
"""  # noqa: E501

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results_file import write_results  # noqa: E402


def timed(action):
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def prepare(workdir: str | None, rows: int) -> Path:
    if workdir and (Path(workdir) / "model" / "model.tar.gz").is_file():
        return Path(workdir)
    from pipeline.runner import run_pipeline
    from pipeline.synthetic import write_csv

    target = Path(workdir or tempfile.mkdtemp(prefix="bench-fairness-scale-"))
    target.mkdir(parents=True, exist_ok=True)
    data = target / "synthetic.csv"
    print(f"generating {rows:,} synthetic rows and running the pipeline into {target} (not timed) ...", flush=True)
    write_csv(data, rows=rows)
    run_pipeline(data, target)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", help="a pipeline or demo output folder (model/, data/validation.csv)")
    parser.add_argument("--rows", type=int, default=1_500_000, help="synthetic rows when no --workdir (1,500,000)")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--shap-reference-rows", type=int, default=30_000)
    args = parser.parse_args()

    from governance.credit_data import PROTECTED_ATTRIBUTE
    from governance.explain import load_inputs
    from governance.explain.inputs import dmatrix
    from governance.explain.shap_regions import tree_contributions
    from governance.explain.shap_values import tree_shap
    from governance.fairness import assess_fairness, assign_bands, load_policy
    from governance.fairness.bootstrap import ResampleData, bootstrap
    from governance.fairness.cells import CellData, bootstrap_cells

    folder = prepare(args.workdir, args.rows)
    model, validation = folder / "model" / "model.tar.gz", folder / "data" / "validation.csv"
    evaluation = next((p for p in (folder / "evidence" / "evaluation.json", folder / "evaluation.json") if p.is_file()),
                      None)
    inputs = load_inputs(str(model), str(validation))
    policy = load_policy(None)
    banding = assign_bands(inputs.features[PROTECTED_ATTRIBUTE].to_numpy(), policy.age.age_bands(),
                           policy.age.valid_range)
    banded = np.flatnonzero(banding.codes >= 0)
    codes, y, scores = banding.codes[banded], inputs.target[banded], inputs.scores()[banded]
    judged = banding.counts() >= policy.age.min_count
    print(f"validation rows: {inputs.rows:,} ({folder})", flush=True)

    rows_boot, rows_seconds = timed(lambda: bootstrap(ResampleData.build(codes, y, scores, 0.2, judged),
                                                      args.resamples, seed=1))
    cells_boot, cells_seconds = timed(lambda: bootstrap_cells(CellData.build(codes, y, scores, 0.2, judged),
                                                              args.resamples, seed=2))
    worst = 0.0
    for name, values in rows_boot.samples.overall.items():
        sd = np.nanstd(values)
        if np.isfinite(sd) and sd > 0:
            for a, b in zip(rows_boot.interval(name, 0.95), cells_boot.interval(name, 0.95), strict=True):
                worst = max(worst, abs(a - b) / sd)
    print(f"\n1. bootstrap, {args.resamples:,} resamples on {len(codes):,} rows")
    print(f"   row-level (reference): {rows_seconds:8.2f} s")
    print(f"   drawn on cells:        {cells_seconds:8.2f} s   ({rows_seconds / cells_seconds:.0f}x faster)")
    print(f"   largest interval-bound difference: {worst:.3f} bootstrap sd (Monte Carlo error ~0.12 sd)")

    matrix = inputs.features.to_numpy(dtype=np.float64)
    sample = matrix[: min(args.shap_reference_rows, len(matrix))]
    reference, reference_seconds = timed(
        lambda: inputs.booster.predict(dmatrix(inputs.booster, sample), pred_contribs=True))
    reference_all = reference_seconds * len(matrix) / len(sample)
    regions, regions_seconds = timed(lambda: tree_contributions(inputs.booster, matrix))
    difference = float(np.abs(regions[: len(sample)] - reference).max())
    print(f"\n2. TreeSHAP of {len(matrix):,} rows")
    print(f"   whole-model pred_contribs (reference): {reference_all:8.2f} s (timed on {len(sample):,} rows, scaled)")
    print(f"   by region:                             {regions_seconds:8.2f} s   "
          f"({reference_all / regions_seconds:.0f}x faster); largest difference {difference:.1e}")

    shap_values = tree_shap(inputs)
    result, fairness_seconds = timed(lambda: assess_fairness(
        str(model), str(validation), policy, evaluation=str(evaluation) if evaluation else None,
        shap_values=shap_values))
    print(f"\n3. fairness step (assess_fairness, SHAP shared): {fairness_seconds:.2f} s "
          f"({'met' if fairness_seconds <= 10 else 'MISSED'} goal 10 s); verdict {result['verdict']}")
    results = {
        "rows": inputs.rows, "resamples": args.resamples,
        "bootstrap": {"reference": "row-level bootstrap", "reference_seconds": round(rows_seconds, 3),
                      "cells_seconds": round(cells_seconds, 3), "speedup": round(rows_seconds / cells_seconds, 1),
                      "largest_bound_difference_sd": round(worst, 4)},
        "shap": {"reference": "whole-model pred_contribs, scaled from a sample",
                 "reference_seconds": round(reference_all, 3), "reference_sample_rows": len(sample),
                 "regions_seconds": round(regions_seconds, 3), "speedup": round(reference_all / regions_seconds, 1),
                 "largest_difference": difference},
        "fairness_step_seconds": round(fairness_seconds, 3),
    }
    write_results("bench_fairness_scale", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
