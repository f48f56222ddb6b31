"""Ledger append and verify cost, beside the floors they cannot beat, in one process.

References (named in the output):

* ``plain append`` — open, write one JSON line, close: no lock, no hash, no fsync (what a naive log does);
* ``fsync append`` — the same plus ``fsync``: the durability floor every crash-safe append pays;
* ``parse+hash`` — ``json.loads`` and one sha256 per line: the least a chain check must do.

Ours appends under ``flock`` with a hash chain, fsync and a head file (signed when a key is given).

    .venv/bin/python bench/bench_ledger.py                 # 2000 records
    .venv/bin/python bench/bench_ledger.py --records 500
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results_file import write_results
from governance.ledger import Ledger, verify_ledger
from governance.signing import LocalKeySigner, PublicKeyVerifier
from governance.signing.signer import generate_private_key

DIGEST = "ab" * 32


def plain_append(path: Path, count: int, durable: bool) -> float:
    start = time.perf_counter()
    for number in range(count):
        with open(path, "ab") as handle:
            handle.write(json.dumps({"seq": number, "event": "sign", "actor": "bench",
                                     "digests": {"model": DIGEST}}).encode() + b"\n")
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
    return time.perf_counter() - start


def ledger_append(path: Path, count: int, signer) -> float:
    ledger = Ledger(path, signer, checkpoint_every=100)
    start = time.perf_counter()
    for number in range(count):
        ledger.append("sign", "bench", f"model-{number}", {"model": DIGEST})
    return time.perf_counter() - start


def parse_and_hash(path: Path) -> float:
    start = time.perf_counter()
    with open(path, "rb") as handle:
        for line in handle:
            json.loads(line)
            hashlib.sha256(line).hexdigest()
    return time.perf_counter() - start


def append_after_large_record(path: Path, signer, record_bytes: int, repeats: int) -> float:
    """Median seconds of one signed append made right after a record of ``record_bytes`` (that write untimed)."""
    ledger = Ledger(path, signer, checkpoint_every=1_000_000)
    times = []
    for number in range(repeats):
        ledger.append("sign", "bench", details={"blob": "x" * record_bytes})
        start = time.perf_counter()
        ledger.append("sign", "bench", f"model-{number}", {"model": DIGEST})
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000)
    args = parser.parse_args()
    count = args.records
    folder = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    try:
        signer = LocalKeySigner(generate_private_key())
        plain = plain_append(folder / "plain.jsonl", count, durable=False)
        durable = plain_append(folder / "durable.jsonl", count, durable=True)
        unsigned = ledger_append(folder / "unsigned.jsonl", count, None)
        signed = ledger_append(folder / "signed.jsonl", count, signer)
        floor = parse_and_hash(folder / "signed.jsonl")
        after_small = append_after_large_record(folder / "small-tail.jsonl", signer, 200, repeats=15)
        after_large = append_after_large_record(folder / "large-tail.jsonl", signer, 32 << 20, repeats=5)
        start = time.perf_counter()
        report = verify_ledger(folder / "signed.jsonl", PublicKeyVerifier(signer.public_key_pem()))
        verify = time.perf_counter() - start
        results = {
            "records": count,
            "append_per_record_ms": {"plain append": 1000 * plain / count, "fsync append": 1000 * durable / count,
                                     "ledger unsigned": 1000 * unsigned / count,
                                     "ledger signed": 1000 * signed / count},
            "verify_seconds": {"parse+hash": floor, "ledger verify (signed, checkpoints checked)": verify},
            "ratios": {"ledger unsigned / fsync append": unsigned / durable,
                       "ledger signed / fsync append": signed / durable,
                       "ledger unsigned / plain append": unsigned / plain,
                       "ledger verify / parse+hash": verify / floor},
            "checkpoints_verified": report.checkpoints_verified,
            # An append's cost should not depend on the size of the record before it (the signed head carries the
            # file size, so the tail is not re-read).
            "append_after_32MiB_record_vs_200B_record": after_large / after_small,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"ledger, {count} records")
    for name, value in results["append_per_record_ms"].items():
        print(f"  append  {name:<20} {value:8.3f} ms/record")
    for name, value in results["verify_seconds"].items():
        print(f"  verify  {name:<46} {value:7.3f} s  ({count / value:,.0f} records/s)")
    for name, value in results["ratios"].items():
        print(f"  ratio   {name:<32} {value:6.2f}x")
    print(f"  ratio   append after a 32 MiB record / after a 200 B record "
          f"{results['append_after_32MiB_record_vs_200B_record']:6.2f}x")
    write_results("bench_ledger", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
