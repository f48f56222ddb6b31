"""The train step on the real data, side by side with the per-round watch-list fit it replaced, in one run.

    .venv/bin/python bench/bench_train.py [--workdir DIR] [--repeats 3]

Reference: ``xgboost.train`` with the train and validation splits as a watch-list (AUC of both after every round,
200 rounds), as the train step used to fit, with OpenMP's default wait policy. Ours: the train step now (one fit,
the watch-list metrics taken once from the finished model), first with the default wait policy, then with
``OMP_WAIT_POLICY=PASSIVE`` as the command line and the step's entry point set it. Both also fit the unconstrained
comparison model. Each run is a fresh process (OpenMP reads the wait policy when the library loads) that fits once
untimed, then once timed; the variants take turns so a change in the machine's load falls on all alike. The bench
checks that every variant gives the same model bytes and final metrics, then prints median wall and CPU times and
the ratios. Without ``--workdir`` the process step is first run on ../shared/data/cs-training.csv.gz (not timed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results_file import write_results  # noqa: E402

REAL_DATA = REPO.parent / "shared" / "data" / "cs-training.csv.gz"


def prepare(workdir: str | None) -> Path:
    target = Path(workdir or tempfile.mkdtemp(prefix="bench-train-"))
    if (target / "train" / "train.csv").is_file():
        return target
    from pipeline.steps.process import process

    print(f"running the process step on {REAL_DATA} into {target} (not timed) ...", flush=True)
    process(REAL_DATA, target / "train", target / "validation", target / "profile", test_dir=target / "test")
    return target


def per_round_watch_list(work: Path, out: Path) -> tuple[bytes, dict]:
    """The reference: the same fit with both splits evaluated after every boosting round."""
    import xgboost

    from governance.credit_data import FEATURES, read_split
    from pipeline.steps.train import coerce_hyperparameters, constraint_cost

    params = coerce_hyperparameters(None)
    evals = []
    for name in ("train", "validation"):
        frame = read_split(work / name / f"{name}.csv")
        evals.append((xgboost.DMatrix(frame[list(FEATURES)], label=frame.iloc[:, 0], feature_names=list(FEATURES)),
                      name))
    booster_params = {k: v for k, v in params.items() if k != "num_round"}
    history: dict = {}
    booster = xgboost.train(booster_params, evals[0][0], num_boost_round=int(params["num_round"]), evals=evals,
                            evals_result=history, verbose_eval=False)
    final = {f"{split}_{metric}": values[-1] for split, d in history.items() for metric, values in d.items()}
    constraint_cost(booster_params, evals[0][0], evals[1][0], int(params["num_round"]), final["validation_auc"])
    return bytes(booster.save_raw("ubj")), final


def train_step(work: Path, out: Path) -> tuple[bytes, dict]:
    from governance.model_artifact import MODEL_MEMBER
    from pipeline.steps.train import train

    result = train(work / "train", work / "validation", out)
    with tarfile.open(result.model_path, "r:gz") as tar:  # our own archive, just written
        member = tar.extractfile(MODEL_MEMBER)
        return member.read(), result.metadata["final_metrics"]


VARIANTS = {
    "per-round watch-list (reference)": ("reference", "ACTIVE"),
    "train step, default OpenMP wait": ("train-step", "ACTIVE"),
    "train step, OMP_WAIT_POLICY=PASSIVE": ("train-step", "PASSIVE"),
}


def child(variant: str, work: Path) -> None:
    """One fresh-process measurement: an untimed fit, then a timed one; JSON on stdout."""
    out = Path(tempfile.mkdtemp(prefix="bench-train-model-"))
    action = {"reference": per_round_watch_list, "train-step": train_step}[variant]
    action(work, out)
    wall, cpu = time.perf_counter(), time.process_time()
    model, metrics = action(work, out)
    print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                      "model_sha256": hashlib.sha256(model).hexdigest(), "metrics": metrics}))


def measure(name: str, work: Path) -> dict:
    variant, policy = VARIANTS[name]
    done = subprocess.run([sys.executable, __file__, "--workdir", str(work), "--child", variant], check=True,
                          capture_output=True, text=True, env={**os.environ, "OMP_WAIT_POLICY": policy})
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=("reference", "train-step"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = prepare(args.workdir)
    if args.child:
        child(args.child, work)
        return
    runs: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    for repeat in range(args.repeats):
        for name in VARIANTS:
            runs[name].append(measure(name, work))
            print(f"  run {repeat + 1}: {name}: {runs[name][-1]['wall']:.2f} s", flush=True)
    walls = {name: statistics.median(r["wall"] for r in rs) for name, rs in runs.items()}
    cpus = {name: statistics.median(r["cpu"] for r in rs) for name, rs in runs.items()}
    reference = next(iter(VARIANTS))
    for name in VARIANTS:
        print(f"{name:38s} {walls[name]:7.2f} s wall {cpus[name]:7.2f} s CPU   "
              f"{walls[reference] / walls[name]:5.1f}x faster (wall), {cpus[reference] / cpus[name]:5.1f}x less CPU")
    outcomes = {(r["model_sha256"], json.dumps(r["metrics"], sort_keys=True)) for rs in runs.values() for r in rs}
    print(f"median of {args.repeats} interleaved runs each; model sha256 {next(iter(outcomes))[0][:16]}…, "
          f"{next(iter(outcomes))[1]}; identical across every run and variant: {len(outcomes) == 1}")
    write_results("bench_train", {"repeats": args.repeats, "median_wall_s": walls, "median_cpu_s": cpus,
                                  "ratio_wall_vs_reference": {n: walls[reference] / walls[n] for n in VARIANTS},
                                  "identical_model_and_metrics": len(outcomes) == 1, "runs": runs,
                                  "load_average": os.getloadavg()})
    if len(outcomes) != 1:
        raise SystemExit("the variants do not give the same model and metrics")


if __name__ == "__main__":
    main()
