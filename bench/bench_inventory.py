"""Benchmark: object-level checks of 1,000,000 objects from S3 Inventory, against the HeadObject path.

An inventory of ``--objects`` objects in 10 buckets is written in S3's own layout (half the buckets Parquet, half
CSV.gz) with planted violations (unencrypted or SSE-S3 objects; governed objects without a GOVERNANCE lock, in
COMPLIANCE mode or with a short retention). Reported in one run:

* the inventory scan's time and objects per second, its HeadObject calls (goal 0), and the recall of the planted
  violations with nothing else reported (goal 100 %);
* the reference: ``governance scan s3://…`` — one HeadObject per object — on ``--head-objects`` objects in
  SeaweedFS, as objects per second, and the inventory scan's speed as a multiple of it (goal ≥ 150×, and
  ≥ 100,000 objects/s).

    .venv/bin/python bench/bench_inventory.py                        # 1,000,000 inventoried, 10,000 HeadObject
    .venv/bin/python bench/bench_inventory.py --objects 200000 --head-objects 2000

Results are also written to ``bench/results/bench_inventory.json``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_scan import populate  # noqa: E402
from bench.results_file import write_results  # noqa: E402
from governance.policy import Status, scan  # noqa: E402
from governance.policy.inventory import scan_inventory  # noqa: E402
from tests.inventory_support import CREATED, synthetic_objects, write_delivery  # noqa: E402
from tests.servers import SeaweedFS  # noqa: E402

BUCKETS = 10


def write_inventories(root: Path, objects: int, planted_per_bucket: int) -> tuple[list[str], dict[str, set[str]]]:
    manifests, planted = [], {"INV-ENC-001": set(), "INV-RET-001": set()}
    per_bucket = objects // BUCKETS
    for index in range(BUCKETS):
        bucket = f"bench-inventory-{index:02d}"
        columns, found = synthetic_objects(bucket, per_bucket, seed=index,
                                           violations={"INV-ENC-001": planted_per_bucket,
                                                       "INV-RET-001": planted_per_bucket})
        fmt = "Parquet" if index % 2 == 0 else "CSV"
        manifests.append(str(write_delivery(root, bucket, columns, fmt, rows_per_file=50_000)))
        for check, keys in found.items():
            planted[check] |= keys
        print(f"  inventory {bucket}: {per_bucket:,} objects ({fmt})", flush=True)
    return manifests, planted


def head_object_path(objects: int) -> tuple[int, float, int]:
    """(objects, seconds, HeadObject calls) of a plain policy scan of ``objects`` objects on SeaweedFS."""
    server = SeaweedFS().start()
    os.environ.update(AWS_ENDPOINT_URL=server.endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_DEFAULT_REGION="us-east-1")
    os.environ.pop("AWS_PROFILE", None)
    try:
        buckets = populate(server.client(), objects)
        result = scan([f"s3://{b}/" for b in buckets])
    finally:
        server.stop()
        for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.pop(name, None)
    return result.stats["resources"].get("s3_object", 0), result.seconds, result.stats["api_calls"].get(
        "s3:HeadObject", 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=1_000_000, help="inventoried objects (default 1,000,000)")
    parser.add_argument("--planted", type=int, default=100, help="violations of each check per bucket (default 100)")
    parser.add_argument("--head-objects", type=int, default=10_000,
                        help="objects for the HeadObject reference on SeaweedFS (default 10,000; 0 to skip)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-inventory-"))
    try:
        started = time.perf_counter()
        print(f"writing {args.objects:,} inventoried objects in {BUCKETS} buckets ...", flush=True)
        manifests, planted = write_inventories(work, args.objects, args.planted)
        print(f"written in {time.perf_counter() - started:.1f} s", flush=True)
        clock = time.perf_counter()
        result = scan_inventory(manifests, now=CREATED)
        seconds = time.perf_counter() - clock
    finally:
        shutil.rmtree(work, ignore_errors=True)
    found: dict[str, set[str]] = {}
    for finding in result.findings:
        if finding.status is Status.FAIL:
            found.setdefault(finding.check.id, set()).add(finding.resource.id)
    expected = sum(len(v) for v in planted.values())
    hits = sum(len(found.get(check, set()) & keys) for check, keys in planted.items())
    extra = sum(len(found.get(check, set()) - planted.get(check, set())) for check in found)
    objects = result.stats["resources"]["s3_inventory_object"]
    rate = objects / seconds
    results = {
        "objects": objects, "buckets": BUCKETS, "formats": ["Parquet", "CSV"],
        "inventory_scan": {"seconds": round(seconds, 3), "objects_per_second": round(rate),
                           "head_object_calls": result.stats["head_object_calls"],
                           "api_calls_total": result.stats["api_calls_total"], "findings": result.counts},
        "planted": expected, "found": hits, "recall": hits / expected if expected else None,
        "false_positives": extra,
    }
    print()
    print(f"inventory scan:     {objects:,} objects in {seconds:.2f} s = {rate:,.0f} objects/s "
          f"({'met' if rate >= 100_000 else 'MISSED'} goal 100,000/s); HeadObject calls "
          f"{result.stats['head_object_calls']} (goal 0)")
    print(f"planted violations: {hits:,} of {expected:,} found (recall {hits / expected:.1%}), "
          f"{extra} reported that were not planted")
    if args.head_objects:
        print(f"\nreference: governance scan with HeadObject on {args.head_objects:,} objects (SeaweedFS) ...",
              flush=True)
        ref_objects, ref_seconds, heads = head_object_path(args.head_objects)
        ref_rate = ref_objects / ref_seconds
        ratio = rate / ref_rate
        results["reference"] = {"name": "governance scan s3:// (HeadObject per object) on SeaweedFS",
                                "objects": ref_objects, "seconds": round(ref_seconds, 3),
                                "objects_per_second": round(ref_rate, 1), "head_object_calls": heads,
                                "extrapolated_seconds_for_inventory_objects": round(objects / ref_rate, 1)}
        results["speedup"] = round(ratio, 1)
        print(f"HeadObject path:    {ref_objects:,} objects in {ref_seconds:.2f} s = {ref_rate:,.0f} objects/s "
              f"({heads:,} HeadObject); {objects:,} objects would take {objects / ref_rate:,.0f} s")
        print(f"inventory vs HeadObject path: {ratio:,.0f}x ({'met' if ratio >= 150 else 'MISSED'} goal 150x)")
    write_results("bench_inventory", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
