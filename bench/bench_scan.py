"""Benchmark: a policy scan of N objects in 10 buckets on a local S3 server, full and incremental.

Reference, in the same run: a plain boto3 loop that lists each bucket and calls HeadObject on every object, one
call at a time — the least a scanner must ask S3, with none of the policy work. Reported:

* objects per second of the full scan, and its ratio to the reference loop;
* API calls per object of the full scan (goal ≤ 1.1: bucket configuration is fetched once per bucket, not per
  object), beside the calls a per-object collector would make (1 HeadObject + 10 bucket calls per object);
* the calls of an incremental rescan of the unchanged store (goal: the listing calls only).

    .venv/bin/python bench/bench_scan.py                       # 10,000 objects on SeaweedFS
    .venv/bin/python bench/bench_scan.py --objects 2000 --server moto

Servers run in their own process on 127.0.0.1 (SeaweedFS's ``weed mini``, or ``moto_server``), so the scanner's
threads do not share a GIL with the server. Results are also written to ``bench/results/bench_scan.json``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results_file import write_results  # noqa: E402
from governance.policy import ScanState, scan  # noqa: E402
from tests.servers import LOOPBACK, SeaweedFS, free_port  # noqa: E402

BUCKETS = 10
# What a collector without shared bucket evidence would send per object: HeadObject plus every bucket call.
PER_OBJECT_BUCKET_CALLS = 10


class MotoProcess:
    """``moto_server`` in a child process (the test fixture runs it in-process, which would share our GIL)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://{LOOPBACK}:{self.port}"
        self._process: subprocess.Popen | None = None

    def start(self) -> MotoProcess:
        binary = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
        self._process = subprocess.Popen([binary, "-H", LOOPBACK, "-p", str(self.port)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                with urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("moto_server did not start")

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            config=Config(s3={"addressing_style": "path"}, max_pool_connections=32))

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)


def populate(client, objects: int) -> list[str]:
    buckets = [f"bench-scan-{i:02d}" for i in range(BUCKETS)]
    for bucket in buckets:
        client.create_bucket(Bucket=bucket)
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    def put(index: int) -> None:
        client.put_object(Bucket=buckets[index % BUCKETS], Key=f"models/run-{index // 100:04d}/part-{index:06d}.bin",
                          Body=index.to_bytes(4, "big"))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(objects)))
    return buckets


def reference_loop(client, buckets: list[str]) -> tuple[int, int, float]:
    """(objects, calls, seconds) of list + HeadObject per object, sequentially."""
    start = time.perf_counter()
    objects = calls = 0
    for bucket in buckets:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            calls += 1
            for item in page.get("Contents", []):
                client.head_object(Bucket=bucket, Key=item["Key"])
                objects += 1
                calls += 1
    return objects, calls, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=10_000, help="objects in total (default 10000)")
    parser.add_argument("--server", choices=("seaweedfs", "moto"), default="seaweedfs")
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()

    server = (SeaweedFS() if args.server == "seaweedfs" else MotoProcess()).start()
    work = Path(tempfile.mkdtemp(prefix="bench-scan-"))
    os.environ.update(AWS_ENDPOINT_URL=server.endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_DEFAULT_REGION="us-east-1")
    os.environ.pop("AWS_PROFILE", None)
    try:
        client = server.client()
        started = time.perf_counter()
        buckets = populate(client, args.objects)
        print(f"server      {args.server} at {server.endpoint}; {args.objects} objects in {BUCKETS} buckets "
              f"written in {time.perf_counter() - started:.1f} s")
        ref_objects, ref_calls, ref_seconds = reference_loop(client, buckets)

        targets = [f"s3://{b}/" for b in buckets]
        state_path = work / "state.json"
        full = scan(targets, state=ScanState(state_path), workers=args.workers)
        rescan = scan(targets, state=ScanState(state_path), workers=args.workers)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    objects = full.stats["resources"].get("s3_object", 0)
    rescan_objects = rescan.stats["resources"].get("s3_object", 0)
    results = {
        "server": args.server,
        "objects": objects,
        "buckets": BUCKETS,
        "workers": args.workers,
        "reference": {"name": "sequential boto3 list + HeadObject loop", "objects": ref_objects, "calls": ref_calls,
                      "seconds": round(ref_seconds, 3), "objects_per_second": round(ref_objects / ref_seconds, 1)},
        "full_scan": {"seconds": full.seconds, "objects_per_second": round(objects / full.seconds, 1),
                      "api_calls": full.stats["api_calls_total"], "api_calls_per_object": full.stats[
                          "api_calls_per_object"], "listing_calls": full.stats["listing_calls"],
                      "findings": full.counts, "calls_by_api": full.stats["api_calls"]},
        "incremental_rescan": {"seconds": rescan.seconds, "objects": rescan_objects,
                               "api_calls": rescan.stats["api_calls_total"],
                               "listing_calls": rescan.stats["listing_calls"],
                               "reused_evidence": rescan.stats["reused_evidence"],
                               "calls_by_api": rescan.stats["api_calls"]},
        "per_object_collector_calls": objects * (1 + PER_OBJECT_BUCKET_CALLS),
    }
    ref_rate = results["reference"]["objects_per_second"]
    full_rate = results["full_scan"]["objects_per_second"]
    print()
    print(f"{'':34}{'objects/s':>12}{'API calls':>12}{'calls/object':>14}{'seconds':>10}")
    print(f"{'reference: sequential list+Head':34}{ref_rate:>12,.0f}{ref_calls:>12,}{ref_calls / ref_objects:>14.3f}"
          f"{ref_seconds:>10.2f}")
    print(f"{'governance scan, full':34}{full_rate:>12,.0f}{full.stats['api_calls_total']:>12,}"
          f"{full.stats['api_calls_per_object']:>14.3f}{full.seconds:>10.2f}")
    print(f"{'governance scan, incremental':34}{rescan_objects / rescan.seconds:>12,.0f}"
          f"{rescan.stats['api_calls_total']:>12,}{rescan.stats['api_calls_total'] / max(rescan_objects, 1):>14.4f}"
          f"{rescan.seconds:>10.2f}")
    print()
    print(f"full scan speed vs reference loop:            {full_rate / ref_rate:6.2f}x")
    print(f"full scan calls/object (goal <= 1.1):         {full.stats['api_calls_per_object']:6.3f}  "
          f"({'met' if full.stats['api_calls_per_object'] <= 1.1 else 'MISSED'})")
    naive = results["per_object_collector_calls"]
    print(f"calls vs a per-object bucket collector:       {full.stats['api_calls_total']:,} vs {naive:,} "
          f"({full.stats['api_calls_total'] / naive:.3f}x)")
    only_listing = rescan.stats["api_calls_total"] == rescan.stats["listing_calls"]
    print(f"incremental rescan calls (goal: listing only): {rescan.stats['api_calls_total']:,} "
          f"of which listing {rescan.stats['listing_calls']:,} ({'met' if only_listing else 'MISSED'}); "
          f"{rescan.stats['reused_evidence']:,} resources reused")
    print(f"incremental rescan vs full scan time:         {rescan.seconds / full.seconds:6.3f}x")
    write_results("bench_scan", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
