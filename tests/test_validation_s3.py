"""``governance validate --evidence s3://…``: refusals that happen before any work and leave S3 as it was.

The whole path (validation of a package registered by the pipeline, written back encrypted, then approved under the
shipped validation policy) is rehearsed in tests/test_aws_rehearsal.py.
"""

from __future__ import annotations

import json

import boto3
import pytest

from governance.cli import main
from governance.ledger import Ledger
from governance.signing import load_signer
from governance.signing.signer import write_key_pair

pytestmark = pytest.mark.servers
BUCKET = "validation-evidence"


def keys(client, prefix: str = "") -> dict[str, str]:
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {item["Key"]: item["ETag"] for item in listed}


@pytest.fixture
def evidence(aws, tmp_path):
    """A minimal evidence folder in S3 (what validate reads first) whose ledger head is signed by the pipeline."""
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    pipeline_key, _ = write_key_pair(tmp_path / "pipeline")
    local = tmp_path / "evidence"
    local.mkdir()
    Ledger(local / "ledger.jsonl", load_signer(pipeline_key)).append("sign", actor="pipeline", subject="model")
    outputs = {name: {"file": f"{name}.csv", "sha256": "0" * 64} for name in ("train", "validation", "test")}
    (local / "dataset.json").write_text(json.dumps({"outputs": outputs}))
    for path in local.iterdir():
        for prefix in ("run/executions/E/govern/evidence", "elsewhere/evidence"):
            client.put_object(Bucket=BUCKET, Key=f"{prefix}/{path.name}", Body=path.read_bytes())
    client.put_object(Bucket=BUCKET, Key="run/model.tar.gz", Body=b"not read")
    validator, _ = write_key_pair(tmp_path / "validator")
    return client, pipeline_key, validator


def test_a_ledger_head_the_validator_cannot_sign_is_refused_before_any_work(evidence, capsys):
    client, _, validator = evidence
    before = keys(client)
    assert main(["validate", "--model", f"s3://{BUCKET}/run/model.tar.gz", "--evidence",
                 f"s3://{BUCKET}/run/executions/E/govern/evidence/", "--key", str(validator)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("governance validate: LEDGER_KEY:") and "--ledger s3://" in err[-1], err
    assert keys(client) == before  # nothing written


def test_splits_outside_the_pipeline_layout_need_data(evidence, capsys):
    client, pipeline_key, validator = evidence
    before = keys(client)
    assert main(["validate", "--model", f"s3://{BUCKET}/run/model.tar.gz", "--evidence",
                 f"s3://{BUCKET}/elsewhere/evidence", "--key", str(validator), "--ledger-key", str(pipeline_key)]) == 2
    assert "NO_DATA" in capsys.readouterr().err
    # Where --data names a prefix, a split that is not there is named.
    assert main(["validate", "--model", f"s3://{BUCKET}/run/model.tar.gz", "--evidence",
                 f"s3://{BUCKET}/elsewhere/evidence", "--key", str(validator), "--ledger-key", str(pipeline_key),
                 "--data", f"s3://{BUCKET}/data/"]) == 2
    assert f"s3://{BUCKET}/data/train.csv" in capsys.readouterr().err
    assert keys(client) == before


def test_an_empty_evidence_prefix_is_bad_input(evidence, capsys):
    _, _, validator = evidence
    assert main(["validate", "--model", f"s3://{BUCKET}/run/model.tar.gz", "--evidence",
                 f"s3://{BUCKET}/nothing/here/", "--key", str(validator)]) == 2
    assert "NOT_A_DIRECTORY" in capsys.readouterr().err
