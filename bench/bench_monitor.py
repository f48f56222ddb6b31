"""Benchmark: capture records per second through ``governance monitor``, against pandas reading the same JSONL.

A Data Capture stream of N records (validation rows resampled, scored by the model, 1,000 records a file in
hourly folders) is written once. Timed side by side in one run:

* reference — ``pandas.read_json(lines=True)`` on every file, then ``pandas.json_normalize`` to reach the input
  payload column: the least a pandas reader does, with the CSV payloads still unparsed;
* read — :func:`governance.monitoring.capture.read_capture` (JSON lines, payloads parsed into a float matrix,
  every file hashed);
* monitor — the whole run: baseline, model hash and load, capture read, re-scoring, every check.

    .venv/bin/python bench/bench_monitor.py                      # 200,000 records, real data when present
    .venv/bin/python bench/bench_monitor.py --records 50000

Results are also written to ``bench/results/bench_monitor.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results_file import write_results  # noqa: E402

REAL_DATA = REPO.parent / "shared" / "data" / "cs-training.csv.gz"


def _best(action, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)

    import pandas as pd

    from governance.credit_data import FEATURES, read_split
    from governance.monitoring import load_policy, monitor
    from governance.monitoring.capture import list_files, read_capture
    from pipeline.runner import run_pipeline
    from tests.capture_support import capture_records, layout, score, write_tree

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        data = REAL_DATA
        if not data.is_file():
            from pipeline.synthetic import write_csv

            data = write_csv(work / "synthetic.csv", rows=20_000, seed=7)
        print(f"pipeline run on {data.name} …", file=sys.stderr)
        run = run_pipeline(data, work / "run")
        validation = read_split(run.validation_path)
        frame = validation.sample(n=args.records, replace=True, random_state=1).reset_index(drop=True)
        print(f"writing {args.records:,} capture records …", file=sys.stderr)
        records = capture_records(frame, score(run.model_path, frame))
        capture = write_tree(work / "capture", layout(records, per_file=1000))
        files = list_files(capture)
        size = sum(os.path.getsize(f) for f in files)

        def reference() -> None:
            frames = [pd.read_json(f, lines=True) for f in files]
            table = pd.concat(frames, ignore_index=True)
            assert len(pd.json_normalize(table["captureData"].tolist())["endpointInput.data"]) == args.records

        def read() -> None:
            assert read_capture(capture, len(FEATURES)).rows == args.records

        def whole() -> None:
            assert monitor(run.model_path, run.evidence_dir, capture, load_policy())["capture"]["rows"] == args.records

        timings = {"pandas_read_json": _best(reference, args.repeat), "read_capture": _best(read, args.repeat),
                   "monitor": _best(whole, args.repeat)}
    rates = {name: args.records / seconds for name, seconds in timings.items()}
    result = {
        "records": args.records, "files": len(files), "bytes": size, "cpus": os.cpu_count(), "data": data.name,
        "seconds": timings, "records_per_second": rates,
        "ratio_read_vs_pandas": rates["read_capture"] / rates["pandas_read_json"],
        "ratio_monitor_vs_pandas": rates["monitor"] / rates["pandas_read_json"],
    }
    for name, rate in rates.items():
        print(f"{name:18} {rate:12,.0f} records/s  ({timings[name]:.2f} s)")
    print(f"read_capture / pandas read_json: {result['ratio_read_vs_pandas']:.2f}x; "
          f"whole monitor run / pandas read_json: {result['ratio_monitor_vs_pandas']:.2f}x")
    write_results("bench_monitor", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
