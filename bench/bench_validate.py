"""``governance validate`` on the real data, side by side with named references, in one run.

    .venv/bin/python bench/bench_validate.py [--workdir DIR]

1. DeLong's test (mid-rank structural components) vs the reference a validator would otherwise run: a paired
   bootstrap of the AUC difference (200 resamples) on the same 30,000-row test split; the standard errors must agree.
2. The whole validation (challenger, DeLong, 26 sensitivity retrains, robustness, security) vs the production
   training fit of the same model (the train step: 200 rounds on the full training split). The target is under
   60 s wall time on 2 cores; CPU time is printed beside wall time because a shared machine inflates the latter.
   Sensitivity and poisoning retrains are kept cheap by the policy (``retrain: rows 15000, num_round 40``).

Without ``--workdir`` the local pipeline is first run on ../shared/data/cs-training.csv.gz (not timed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
REAL_DATA = REPO.parent / "shared" / "data" / "cs-training.csv.gz"


def timed(action):
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def prepare(workdir: str | None) -> Path:
    if workdir and (Path(workdir) / "model" / "model.tar.gz").is_file():
        return Path(workdir)
    from pipeline.runner import run_pipeline

    target = Path(workdir or tempfile.mkdtemp(prefix="bench-validate-"))
    print(f"running the pipeline on {REAL_DATA} into {target} (not timed) ...", flush=True)
    run_pipeline(REAL_DATA, target)
    return target


def bench_delong(work: Path) -> None:
    from sklearn.metrics import roc_auc_score

    from governance.credit_data import FEATURES, TARGET, read_split
    from governance.model_artifact import load_booster
    from governance.validation.challenger import BinnedLogistic
    from governance.validation.data import predict
    from governance.validation.delong import delong_test

    train, test = read_split(work / "data" / "train.csv"), read_split(work / "data" / "test.csv")
    champion = predict(load_booster(work / "model" / "model.tar.gz"), test[list(FEATURES)].to_numpy(np.float64))
    challenger = BinnedLogistic().fit(train[list(FEATURES)].to_numpy(np.float64), train[TARGET].to_numpy()) \
        .predict_proba(test[list(FEATURES)].to_numpy(np.float64))
    y = test[TARGET].to_numpy()
    ours, wall, _ = timed(lambda: delong_test(y, champion, challenger))

    def bootstrap():
        rng = np.random.default_rng(0)
        out = []
        for _ in range(200):
            i = rng.integers(0, len(y), len(y))
            out.append(roc_auc_score(y[i], champion[i]) - roc_auc_score(y[i], challenger[i]))
        return float(np.std(out))

    reference, ref_wall, _ = timed(bootstrap)
    print(f"DeLong         {wall:8.3f} s   SE {ours['standard_error']:.5f}  (AUC {ours['auc_a']:.4f} vs "
          f"{ours['auc_b']:.4f}, p {ours['p_value']:.2g})")
    print(f"bootstrap x200 {ref_wall:8.3f} s   SE {reference:.5f}   ratio {ref_wall / wall:,.0f}x slower")


def bench_validate(work: Path) -> None:
    from governance.signing import load_signer
    from governance.signing.signer import write_key_pair
    from governance.validation import validate
    from pipeline.steps.train import train

    keys = Path(tempfile.mkdtemp(prefix="bench-validator-"))
    private, _ = write_key_pair(keys)
    if not (work / "evidence" / "training.json").is_file():
        (work / "evidence" / "training.json").write_bytes((work / "model" / "training.json").read_bytes())
    _, train_wall, train_cpu = timed(lambda: train(work / "data" / "train.csv", work / "data" / "validation.csv",
                                                   keys / "model"))
    result, wall, cpu = timed(lambda: validate(work / "model" / "model.tar.gz", work / "evidence",
                                               load_signer(private), out_dir=keys / "out"))
    print(f"train step     {train_wall:8.1f} s wall {train_cpu:7.1f} s CPU (reference: the production fit, "
          "with its unconstrained comparison fit)")
    print(f"validate       {wall:8.1f} s wall {cpu:7.1f} s CPU   ratio {wall / train_wall:.1f}x the train step; "
          f"target < 60 s wall: {'met' if wall < 60 else 'NOT met'}")
    print(f"               by part: {result.document['seconds_by_part']}; status {result.document['status']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir")
    args = parser.parse_args()
    from governance.runtime import prefer_passive_openmp

    prefer_passive_openmp()  # as `governance validate` does, before XGBoost loads
    work = prepare(args.workdir)
    bench_delong(work)
    bench_validate(work)


if __name__ == "__main__":
    main()
