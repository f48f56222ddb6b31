"""Benchmark: an organisation-wide scan of 20 accounts on moto, fanned out, against 20 sequential scans.

moto's server runs in its own process on 127.0.0.1; the organisation has 19 member accounts besides the
management account, each with a bucket of ``--objects`` objects. Both runs use :func:`scan_accounts` with the same
targets and policies: once with ``--max-accounts-in-flight`` accounts at a time, once with one (the sequential
reference). Reported: both wall times, their ratio, and that both reach the same findings.

    .venv/bin/python bench/bench_fanout.py
    .venv/bin/python bench/bench_fanout.py --objects 50 --max-accounts-in-flight 10

Results are also written to ``bench/results/bench_fanout.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import boto3  # noqa: E402

from bench.bench_scan import MotoProcess  # noqa: E402
from bench.results_file import write_results  # noqa: E402
from governance.policy.fanout import scan_accounts  # noqa: E402

ROLE = "GovernanceReadOnly"
ACCOUNTS = 20


def build_organisation(objects: int) -> list[str]:
    org = boto3.client("organizations")
    org.create_organization(FeatureSet="ALL")
    ids = [boto3.client("sts").get_caller_identity()["Account"]]
    for n in range(ACCOUNTS - 1):
        ids.append(org.create_account(AccountName=f"team-{n}", Email=f"team-{n}@example.com")
                   ["CreateAccountStatus"]["AccountId"])
    for account in ids:
        credentials = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}",
                                                      RoleSessionName="setup")["Credentials"]
        s3 = boto3.client("s3", aws_access_key_id=credentials["AccessKeyId"],
                          aws_secret_access_key=credentials["SecretAccessKey"],
                          aws_session_token=credentials["SessionToken"])
        s3.create_bucket(Bucket=f"gov-{account}")
        s3.put_bucket_versioning(Bucket=f"gov-{account}", VersioningConfiguration={"Status": "Enabled"})
        for index in range(objects):
            s3.put_object(Bucket=f"gov-{account}", Key=f"models/{index:04d}.bin", Body=b"x")
    return ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=20, help="objects per account's bucket (default 20)")
    parser.add_argument("--max-accounts-in-flight", type=int, default=10)
    args = parser.parse_args()
    server = MotoProcess().start()
    os.environ.update(AWS_ENDPOINT_URL=server.endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_DEFAULT_REGION="us-east-1")
    os.environ.pop("AWS_PROFILE", None)
    try:
        ids = build_organisation(args.objects)
        targets = ["s3://gov-{account}/"]
        clock = time.perf_counter()
        sequential = scan_accounts(targets, "ORG", ROLE, max_in_flight=1)
        sequential_seconds = time.perf_counter() - clock
        clock = time.perf_counter()
        fanned = scan_accounts(targets, "ORG", ROLE, max_in_flight=args.max_accounts_in_flight)
        fanned_seconds = time.perf_counter() - clock
    finally:
        server.stop()

    def verdicts(result) -> Counter:
        return Counter((f.check.id, f.resource.id, str(f.status)) for f in result.findings)

    same = verdicts(sequential) == verdicts(fanned)
    ratio = sequential_seconds / fanned_seconds
    results = {"accounts": len(ids), "objects_per_account": args.objects,
               "max_accounts_in_flight": args.max_accounts_in_flight,
               "reference": {"name": "20 sequential account scans (max_in_flight=1)",
                             "seconds": round(sequential_seconds, 3)},
               "fan_out": {"seconds": round(fanned_seconds, 3), "accounts_scanned": fanned.stats["accounts_scanned"],
                           "findings": fanned.counts},
               "speedup": round(ratio, 2), "same_findings": same}
    print(f"accounts: {len(ids)} on moto, {args.objects} objects each")
    print(f"sequential (1 account at a time):        {sequential_seconds:8.2f} s")
    print(f"fan-out ({args.max_accounts_in_flight} accounts in flight):         {fanned_seconds:8.2f} s")
    print(f"fan-out vs sequential: {ratio:.2f}x; same findings: {same}")
    write_results("bench_fanout", results)
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
