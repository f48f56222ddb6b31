"""Verify throughput on one large artefact: ``governance verify`` beside ``openssl dgst -sha256`` and ``model_signing``.

Builds a 1 GiB ``model.tar.gz`` under /tmp (a real XGBoost model plus incompressible weight shards, gzip
stored blocks — random bytes do not compress anyway), signs it once, warms the page cache, then times each
command as a separate process, several rounds, interleaved so drifting machine load hits all of them alike.
The folder is deleted at the end. Goal: ``governance verify`` at ≥ 0.9x the throughput of
``openssl dgst -sha256`` and faster than ``model_signing verify key``.

    .venv/bin/python bench/bench_verify.py                # 1 GiB, 7 rounds
    .venv/bin/python bench/bench_verify.py --size-mib 256 --rounds 3
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
SHARD = 64 << 20


def build_artefact(path: Path, size: int) -> None:
    """A model.tar.gz of about ``size`` bytes: xgboost-model plus random shards, written as gzip stored blocks."""
    import gzip

    import numpy as np
    import xgboost

    rng = np.random.default_rng(7)
    features = rng.random((2000, 10))
    labels = (features[:, 0] + rng.normal(0, 0.1, 2000) > 0.5).astype(int)
    booster = xgboost.train({"max_depth": 4}, xgboost.DMatrix(features, label=labels), 50)
    model = bytes(booster.save_raw("ubj"))
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=0, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(model)
        tar.addfile(info, io.BytesIO(model))
        left, index = size - len(model), 0
        while left > 0:
            shard = rng.bytes(min(SHARD, left))
            info = tarfile.TarInfo(f"weights/shard-{index:03d}.bin")
            info.size = len(shard)
            tar.addfile(info, io.BytesIO(shard))
            left -= len(shard)
            index += 1


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    completed = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({completed.returncode}): {completed.stderr.decode()[-400:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if shutil.which("openssl") is None:
        raise SystemExit("openssl is not on PATH")

    from governance.integrity import sign_artefact, verify_artefact
    from governance.signing.signer import load_signer, write_key_pair

    work = Path(tempfile.mkdtemp(prefix="bench-verify-", dir="/tmp"))
    try:
        artefact = work / "model.tar.gz"
        started = time.perf_counter()
        build_artefact(artefact, args.size_mib << 20)
        size = artefact.stat().st_size
        print(f"artefact   {artefact} ({size / 2**30:.2f} GiB) built in {time.perf_counter() - started:.1f} s")
        private, public = write_key_pair(work / "keys")
        started = time.perf_counter()
        sign_artefact(artefact, load_signer(private))
        print(f"sign       {time.perf_counter() - started:.2f} s (one pass: digest + inspection of every member)")
        signature = f"{artefact}.sig"

        commands = {
            "openssl dgst -sha256": ["openssl", "dgst", "-sha256", str(artefact)],
            "governance verify": [str(VENV_BIN / "governance"), "verify", str(artefact), "--key", str(public)],
            "model_signing verify key": [str(VENV_BIN / "model_signing"), "verify", "key", str(artefact),
                                         "--signature", signature, "--public_key", str(public)],
        }
        for command in commands.values():  # warm the page cache and every import once
            timed(command)
        times: dict[str, list[float]] = {name: [] for name in commands}
        times["verify_artefact (in process)"] = []
        for _ in range(args.rounds):
            for name, command in commands.items():
                times[name].append(timed(command))
            started = time.perf_counter()
            verify_artefact(artefact, verifier=public)
            times["verify_artefact (in process)"].append(time.perf_counter() - started)

        # Best-of-N estimates the cost on a quiet machine (other load only ever adds time); the median is shown too.
        best = {name: min(samples) for name, samples in times.items()}
        middle = {name: statistics.median(samples) for name, samples in times.items()}
        print(f"\n{args.rounds} rounds, wall time per process (interpreter start-up included):")
        print(f"{'command':32s} {'best s':>7s} {'MB/s':>6s} {'vs openssl':>10s}   {'median s':>8s} {'vs openssl':>10s}")
        for name in times:
            print(f"{name:32s} {best[name]:7.3f} {size / best[name] / 1e6:6.0f} "
                  f"{best['openssl dgst -sha256'] / best[name]:9.2f}x   {middle[name]:8.3f} "
                  f"{middle['openssl dgst -sha256'] / middle[name]:9.2f}x")
        ratio = best["openssl dgst -sha256"] / best["governance verify"]
        speedup = best["model_signing verify key"] / best["governance verify"]
        print(f"\ngovernance verify throughput = {ratio:.2f}x openssl dgst -sha256 "
              f"(goal >= 0.90x: {'met' if ratio >= 0.9 else 'NOT met'})")
        print(f"governance verify is {speedup:.2f}x as fast as model_signing verify key "
              f"(goal > 1: {'met' if speedup > 1 else 'NOT met'})")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    raise SystemExit(main())
