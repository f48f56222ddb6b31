"""The train step on the real data, side by side with the per-round watch-list fit it replaced, in one run.

    .venv/bin/python bench/bench_train.py [--workdir DIR] [--repeats 3]

Reference: ``xgboost.train`` with the train and validation splits as a watch-list (AUC of both after every round,
200 rounds), as the train step used to fit. Ours: the train step now (one fit, the watch-list metrics taken once
from the finished model). Both also fit the unconstrained comparison model. The bench checks that the two give the
same model bytes and the same final metrics, then prints the median wall and CPU time of ``--repeats`` runs each
and the ratio. Without ``--workdir`` the process step is first run on ../shared/data/cs-training.csv.gz (not
timed).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
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


def interleaved(actions: dict, repeats: int) -> dict[str, dict]:
    """Each action ``repeats`` times, taking turns, so a change in the machine's load falls on both alike."""
    runs: dict[str, dict] = {name: {"wall": [], "cpu": []} for name in actions}
    for _ in range(repeats):
        for name, action in actions.items():
            wall, cpu = time.perf_counter(), time.process_time()
            runs[name]["result"] = action()
            runs[name]["wall"].append(time.perf_counter() - wall)
            runs[name]["cpu"].append(time.process_time() - cpu)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = prepare(args.workdir)
    out = Path(tempfile.mkdtemp(prefix="bench-train-model-"))
    train_step(work, out)  # warm-up: library load and thread pool, not timed
    runs = interleaved({"per-round watch-list (reference)": lambda: per_round_watch_list(work, out),
                        "train step": lambda: train_step(work, out)}, args.repeats)
    for name, run in runs.items():
        print(f"{name:33s} median {statistics.median(run['wall']):6.2f} s wall (best {min(run['wall']):6.2f}), "
              f"{statistics.median(run['cpu']):6.2f} s CPU   {run['result'][1]}")
    reference, ours = runs.values()
    print(f"ratio {statistics.median(reference['wall']) / statistics.median(ours['wall']):.1f}x (median wall), "
          f"{min(reference['wall']) / min(ours['wall']):.1f}x (best wall), "
          f"{statistics.median(reference['cpu']) / statistics.median(ours['cpu']):.1f}x (CPU); {args.repeats} runs "
          f"each, interleaved; same model bytes: {reference['result'][0] == ours['result'][0]}; "
          f"same final metrics: {reference['result'][1] == ours['result'][1]}")
    if reference["result"] != ours["result"]:
        raise SystemExit("the train step no longer gives the reference's model or metrics")


if __name__ == "__main__":
    main()
