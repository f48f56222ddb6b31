"""Benchmark: the policy scan against Cloud Custodian on the policy-analysis scenario, in one run.

The scenario (``tests/policy_scenario.py``: 17 buckets, 7 objects, 4 KMS keys) is built on ``moto_server`` in a
child process. Timed, each as the command a user runs (interpreter start-up included on both sides), median of
``--repeat`` runs:

* ``governance scan --discover`` — every bucket, object and key, all shipped checks;
* ``custodian run`` with the equivalent policies (``tests/custodian_policies.yml``, 7 policies over buckets and
  keys), cold (``--cache-period=0``) and cached (its resource cache filled by a previous run);
* ``governance.policy.scan`` in process (no start-up), for reference.

Reported: seconds and the ratio Custodian / ours (above 1: ours is faster). Our scan does more work (objects,
every check, evidence, Access Analyzer probe); the ratio is for the whole job as each tool does it.

    .venv/bin/python bench/bench_policy_custodian.py [--repeat 3]

Results are also written to ``bench/results/bench_policy_custodian.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_scan import MotoProcess  # noqa: E402
from bench.results_file import write_results  # noqa: E402
from governance.policy import scan  # noqa: E402
from governance.policy.targets import DISCOVER_TARGET  # noqa: E402
from tests import policy_scenario  # noqa: E402
from tests.custodian_run import POLICIES, custodian_binary  # noqa: E402


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, env=dict(os.environ))
    seconds = time.perf_counter() - started
    if run.returncode not in (0, 1, 3):
        raise RuntimeError(f"{command[0]} exited {run.returncode}: {run.stderr[-1500:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    server = MotoProcess().start()
    os.environ.update(AWS_ENDPOINT_URL=server.endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_DEFAULT_REGION="us-east-1")
    os.environ.pop("AWS_PROFILE", None)
    work = Path(tempfile.mkdtemp(prefix="bench-custodian-"))
    try:
        import boto3

        built = policy_scenario.build(boto3.client("s3"), boto3.client("kms"))
        sets = [arg for name, value in built["parameters"].items() for arg in ("--set", f"{name}={json.dumps(value)}")]
        ours_cli = [sys.executable, "-m", "governance", "scan", "--discover", "--quiet", "-o",
                    str(work / "scan.json"), *sets]
        cache = work / "custodian.cache"
        custodian = [custodian_binary(), "run", "-s", str(work / "c7n"), "--region", "us-east-1", str(POLICIES)]
        cold = [*custodian[:2], "--cache-period=0", *custodian[2:]]
        cached = [*custodian[:2], "--cache", str(cache), *custodian[2:]]
        timed(cached)  # fills Custodian's resource cache
        runs: dict[str, list[float]] = {"ours_cli": [], "ours_in_process": [], "custodian_cold": [],
                                        "custodian_cached": []}
        for _ in range(args.repeat):
            runs["ours_cli"].append(timed(ours_cli))
            runs["custodian_cold"].append(timed(cold))
            runs["custodian_cached"].append(timed(cached))
            started = time.perf_counter()
            result = scan([DISCOVER_TARGET], parameters=built["parameters"])
            runs["ours_in_process"].append(time.perf_counter() - started)
    finally:
        server.stop()

    median = {name: statistics.median(values) for name, values in runs.items()}
    results = {
        "scenario": {"buckets": len(built["buckets"]), "objects": result.stats["resources"].get("s3_object", 0),
                     "kms_keys": result.stats["resources"].get("kms_key", 0)},
        "repeat": args.repeat,
        "seconds_median": {k: round(v, 3) for k, v in median.items()},
        "seconds_all": {k: [round(x, 3) for x in v] for k, v in runs.items()},
        "ours": {"findings": result.counts, "api_calls": result.stats["api_calls_total"]},
        "custodian_policies": str(POLICIES.relative_to(REPO)),
        "ratio_custodian_cold_over_ours_cli": round(median["custodian_cold"] / median["ours_cli"], 2),
        "ratio_custodian_cached_over_ours_cli": round(median["custodian_cached"] / median["ours_cli"], 2),
    }
    print(f"scenario: {results['scenario']} on moto_server; median of {args.repeat}")
    for name, seconds in median.items():
        print(f"  {name:<20} {seconds:7.2f} s")
    print(f"Custodian cold   / governance scan (CLI): {results['ratio_custodian_cold_over_ours_cli']:.2f}x")
    print(f"Custodian cached / governance scan (CLI): {results['ratio_custodian_cached_over_ours_cli']:.2f}x")
    write_results("bench_policy_custodian", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
