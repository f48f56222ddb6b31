"""Re-performing an audit pack against producing it, on the real data, in one run.

    .venv/bin/python bench/bench_reproduce.py [--workdir DIR]

Reference: the govern step of ``governance demo --data cs-training.csv.gz`` (its time from ``run.json``): signing,
lineage, fairness with its bootstrap, SHAP and reason codes with their stability, the policy scan, the evidence
index and the audit pack. Measured: ``governance reproduce`` on that pack with the same raw file (pack verified,
splits re-drawn, model re-trained, every figure re-derived). Printed as seconds and their ratio.

Without ``--workdir`` (or when it holds no pack yet) the demo is first run into it (its own time is the reference).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.results_file import write_results  # noqa: E402

REAL_DATA = REPO.parent / "shared" / "data" / "cs-training.csv.gz"


def produce(workdir: Path) -> float:
    """The govern step's seconds, running the demo first when the folder holds no pack."""
    from governance.cli import main

    if not (workdir / "audit-pack.pdf").is_file():
        print(f"governance demo --data {REAL_DATA} --out {workdir} ...", flush=True)
        code = main(["demo", "--data", str(REAL_DATA), "--out", str(workdir)])
        if code not in (0, 1):  # 1: a governance verdict (the pack is still rendered)
            raise SystemExit(f"demo exited {code}")
    steps = json.loads((workdir / "run.json").read_text())["steps"]
    return float(next(step["seconds"] for step in steps if step["name"] == "govern"))


def reperform(workdir: Path) -> tuple[float, dict]:
    from governance.cli import main

    out = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = main(["reproduce", str(workdir / "audit-pack.pdf"), "--data", str(REAL_DATA), "--key",
                     str(workdir / "keys" / "pack" / "signing-key.pub.pem"), "--json"])
    seconds = time.perf_counter() - start
    result = json.loads(out.getvalue())
    if code != 0:
        raise SystemExit(f"reproduce exited {code}: {result.get('summary')}")
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", help="a demo output folder on the real data (made when absent)")
    args = parser.parse_args()
    if not REAL_DATA.is_file():
        raise SystemExit(f"real data not found at {REAL_DATA}")
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-reproduce-"))
    govern = produce(workdir)
    seconds, result = reperform(workdir)
    print(f"govern step (reference)        {govern:8.1f} s")
    print(f"governance reproduce           {seconds:8.1f} s   ({result['summary']})")
    print(f"ratio reproduce / govern       {seconds / govern:8.2f}")
    write_results("bench_reproduce", {"govern_seconds": round(govern, 2), "reproduce_seconds": round(seconds, 2),
                                      "ratio_reproduce_vs_govern": round(seconds / govern, 3),
                                      "figures": result["counts"], "summary": result["summary"]})


if __name__ == "__main__":
    main()
