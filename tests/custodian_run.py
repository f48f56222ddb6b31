"""Run Cloud Custodian (``custodian run``) against the moto endpoint and read its verdicts per check.

Custodian honours ``AWS_ENDPOINT_URL`` (boto3 reads it for every client), so the stock command line runs against
moto unchanged. Each policy in ``custodian_policies.yml`` mirrors one of our checks; the resources it returns are
its FAILs, every other resource of that type is its PASS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

POLICIES = Path(__file__).with_name("custodian_policies.yml")
# Custodian policy name -> our check id
CHECKS = {
    "enc-s3-001-kms-key": "ENC-S3-001",
    "enc-s3-002-tls": "ENC-S3-002",
    "enc-s3-004-bucket-key": "ENC-S3-004",
    "acc-s3-002-public": "ACC-S3-002",
    "acc-s3-005-cross-account": "ACC-S3-005",
    "ret-s3-002-lock": "RET-S3-002",
    "acc-kms-002-cross-account": "ACC-KMS-002",
}


def custodian_binary() -> str:
    return str(Path(sys.executable).parent / "custodian")


def run_custodian(output_dir: Path, *, cache: bool = False, region: str = "us-east-1") -> subprocess.CompletedProcess:
    """``custodian run`` of every policy, in the caller's environment (which points at moto)."""
    command = [custodian_binary(), "run", "-s", str(output_dir), "--region", region, str(POLICIES)]
    if not cache:
        command.insert(2, "--cache-period=0")
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=dict(os.environ))


def verdicts(output_dir: Path, buckets: list[str], keys: list[str]) -> dict[tuple[str, str], str]:
    """``{(check, resource id): "PASS" | "FAIL"}`` with our resource ids (``s3://bucket``, key ARNs)."""
    out: dict[tuple[str, str], str] = {}
    for policy, check in CHECKS.items():
        found = json.loads((output_dir / policy / "resources.json").read_text())
        if check.startswith("ACC-KMS"):
            flagged = {r["Arn"] for r in found}
            universe = keys
        else:
            flagged = {f"s3://{r['Name']}" for r in found}
            universe = [f"s3://{b}" for b in buckets]
        for resource in universe:
            out[(check, resource)] = "FAIL" if resource in flagged else "PASS"
    return out
