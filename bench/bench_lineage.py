"""Lineage record and verify time on a real pipeline run, beside hashing the same bytes with hashlib.

The reference ``hashlib floor`` is one sha256 pass over every file the chain names (dataset, splits, model,
evaluation, code): the least any re-verification must read. ``lineage verify`` adds the index, the DSSE
signatures, the chain links and the ledger. Recording adds the PNG graph (matplotlib) on top of the hashing.

    .venv/bin/python bench/bench_lineage.py                         # real data if present, else synthetic
    .venv/bin/python bench/bench_lineage.py --data some.csv --rounds 5
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REAL_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "cs-training.csv.gz"


def hashlib_floor(paths: list[Path]) -> float:
    start = time.perf_counter()
    for path in paths:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="raw CSV (default: the real data beside the repository, else synthetic)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from governance.evidence import write_index
    from governance.ledger import Ledger
    from governance.lineage import check_lineage, record_pipeline_run
    from governance.lineage.record import location_of
    from governance.signing import LocalKeySigner, PublicKeyVerifier
    from governance.signing.signer import generate_private_key
    from pipeline import synthetic
    from pipeline.runner import run_pipeline

    work = Path(tempfile.mkdtemp(prefix="bench-lineage-"))
    try:
        data = args.data or (str(REAL_DATA) if REAL_DATA.is_file() else None)
        if data is None:
            data = str(work / "synthetic.csv")
            synthetic.write_csv(data, rows=150_000)
        run = run_pipeline(data, work / "run")
        signer = LocalKeySigner(generate_private_key())
        verifier = PublicKeyVerifier(signer.public_key_pem())
        evidence = run.evidence_dir
        record_times, graph_free = [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            record = record_pipeline_run(run, evidence, signer, ledger=Ledger(evidence / "ledger.jsonl", signer))
            record_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            record_pipeline_run(run, evidence, signer, graph=False)
            graph_free.append(time.perf_counter() - start)
        write_index(evidence, signer)
        files = sorted({Path(r.readable) for s in record.steps for r in [*s.inputs, *s.outputs]}
                       | {Path(location_of(s.code.uri)) for s in record.steps})
        total = sum(p.stat().st_size for p in files)
        floors, verifies = [], []
        for _ in range(args.rounds):  # interleaved, so machine load drifts over both alike
            floors.append(hashlib_floor(files))
            start = time.perf_counter()
            report = check_lineage(evidence, verifier)
            verifies.append(time.perf_counter() - start)
        assert report.passed, report.problems
    finally:
        shutil.rmtree(work, ignore_errors=True)
    floor, verify = statistics.median(floors), statistics.median(verifies)
    print(f"lineage of {Path(data).name}: {len(files)} referenced files, {total / 1e6:.1f} MB; median of "
          f"{args.rounds} rounds")
    print(f"  record (4 statements + lineage.json + PNG)   {statistics.median(record_times):7.3f} s")
    print(f"  record without the PNG                       {statistics.median(graph_free):7.3f} s")
    print(f"  hashlib floor (sha256 of every file)          {floor:7.3f} s")
    print(f"  lineage verify (index, signatures, chain, files, ledger) {verify:7.3f} s")
    print(f"  ratio   lineage verify / hashlib floor        {verify / floor:6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
