"""Two ``governance demo`` runs in one folder: the first version is kept under ``versions/1/``, the second pack
gets "Changes since version 1", and ``governance diff`` reports deltas that are exactly the evaluations'."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from governance.cli import main
from governance.registry import LocalRegistry
from tests.pack_evidence import pdf_text

GROUP = "quickloan-credit-default"


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    work = tmp_path_factory.mktemp("versions") / "demo"
    for rounds in (40, 120):
        assert main(["demo", "--out", str(work), "--rows", "5000", "--num-round", str(rounds)]) == 0
    return work


def _evaluation(folder: Path) -> dict:
    return json.loads((folder / "evaluation.json").read_text())


def test_the_first_version_is_kept_and_still_resolves(two_versions):
    kept = two_versions / "versions" / "1"
    assert (kept / "evidence" / "evaluation.json").is_file() and (kept / "audit-pack.pdf").is_file()
    registry = LocalRegistry(two_versions / "registry.db")
    first, second = registry.get(GROUP, 1), registry.get(GROUP, 2)
    assert Path(first.artefact_uri) == kept / "model" / "model.tar.gz"
    digest = hashlib.sha256(Path(first.artefact_uri).read_bytes()).hexdigest()
    assert digest == first.customer_metadata["artefact_sha256"] != second.customer_metadata["artefact_sha256"]
    assert Path(first.customer_metadata["evidence_uri"]) == kept / "evidence"
    assert json.loads((kept / "evidence" / "training.json").read_text())["hyperparameters"]["num_round"] == 40


def test_diff_auc_delta_is_the_difference_of_the_evaluations(two_versions, capsys):
    old, new = _evaluation(two_versions / "versions" / "1" / "evidence"), _evaluation(two_versions / "evidence")
    code = main(["diff", f"local:model-package/{GROUP}/1", f"local:model-package/{GROUP}/2", "--registry",
                 str(two_versions / "registry.db"), "--json"])
    changes = json.loads(capsys.readouterr().out)
    metrics = changes["metrics"]
    for name in ("auc", "ks", "brier_score"):
        expected = (new["binary_classification_metrics"][name]["value"]
                    - old["binary_classification_metrics"][name]["value"])
        assert metrics[name]["delta"] == expected
    for name in ("auc", "ks", "brier_score"):  # each with the interval of its change, from both standard errors
        low, high = metrics[name]["interval"]
        assert low < metrics[name]["delta"] < high
    assert changes["hyperparameters"] == {"num_round": {"old": 40, "new": 120}}
    assert changes["schema"]["same"] and not changes["code"]["changed"] and not changes["data"]["digest_changed"]
    assert code == (1 if changes["assessment"]["substantial"] else 0)
    # Folder references give the same change log as registry references.
    assert main(["diff", str(two_versions / "versions" / "1"), str(two_versions), "--json"]) == code
    assert json.loads(capsys.readouterr().out)["metrics"] == metrics


def test_the_second_pack_has_the_changes_section_with_the_verdict(two_versions):
    evidence = two_versions / "evidence"
    changes = json.loads((evidence / "changes.json").read_text())
    index = json.loads((evidence / "index.json").read_text())
    assert "changes.json" in json.dumps(index)  # sealed with the rest of the evidence
    assert changes["previous_version"] == 1
    text = pdf_text(two_versions / "audit-pack.pdf")
    assert "Changes since version 1" in text
    assert ("new conformity assessment is needed" in text) == changes["assessment"]["substantial"]
    first = pdf_text(two_versions / "versions" / "1" / "audit-pack.pdf")
    assert "no earlier version to compare" in first


def _plan(tmp_path: Path, **rules) -> str:
    from reports import example_path

    document = yaml.safe_load(Path(example_path()).read_text())
    document["change_plan"] = {**document["change_plan"], **rules}
    path = tmp_path / "governance.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return str(path)


def test_exit_code_follows_the_change_plan(two_versions, tmp_path, capsys):
    old, new = str(two_versions / "versions" / "1"), str(two_versions)
    loose = _plan(tmp_path, auc_within=1.0, ks_within=1.0, brier_within=1.0, fairness_no_worse=False)
    assert main(["diff", old, new, "--governance-file", loose]) == 0
    capsys.readouterr()
    frozen = _plan(tmp_path, auc_within=1.0, ks_within=1.0, brier_within=1.0, fairness_no_worse=False,
                   hyperparameters_may_change=[])
    assert main(["diff", old, new, "--governance-file", frozen]) == 1
    err = capsys.readouterr().err
    assert "SUBSTANTIAL_MODIFICATION" in err and "hyperparameters within the plan" in err
    tight = _plan(tmp_path, auc_within=0.0)
    assert main(["diff", old, new, "--governance-file", tight, "--out", str(tmp_path / "c.json")]) == 1
    rules = {r["rule"]: r["status"] for r in json.loads((tmp_path / "c.json").read_text())["assessment"]["rules"]}
    assert rules["auc within ±0"] == "BROKEN"


def test_bad_references_are_input_errors(two_versions, tmp_path, capsys):
    assert main(["diff", str(tmp_path / "nothing"), str(two_versions)]) == 2
    assert "NOT_FOUND" in capsys.readouterr().err
    assert main(["diff", f"local:model-package/{GROUP}/9", str(two_versions), "--registry",
                 str(two_versions / "registry.db")]) == 2
    bad = _plan(tmp_path, auc_within="lots")
    assert main(["diff", str(two_versions), str(two_versions), "--governance-file", bad]) == 2
    assert "change_plan" in capsys.readouterr().err


def _upload(s3, bucket: str, folder: Path, prefix: str) -> str:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            s3.put_object(Bucket=bucket, Key=f"{prefix}/{path.relative_to(folder).as_posix()}", Body=path.read_bytes())
    return f"s3://{bucket}/{prefix}/"


def test_diff_of_sagemaker_packages_reads_their_s3_evidence(two_versions, aws, capsys):
    """Two versions registered in SageMaker (moto), their evidence in S3: the same change log as the local folders;
    S3 evidence is re-hashed against its sealed index too, so a changed report is refused."""
    import boto3

    s3, sagemaker = boto3.client("s3", region_name="us-east-1"), boto3.client("sagemaker", region_name="us-east-1")
    bucket = "quickloan-artefacts-123456789012"
    s3.create_bucket(Bucket=bucket)
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    arns = []
    for version, folder in ((1, two_versions / "versions" / "1"), (2, two_versions)):
        evidence = _upload(s3, bucket, folder / "evidence", f"quickloan/runs/v{version}/evidence")
        arns.append(sagemaker.create_model_package(
            ModelPackageGroupName=GROUP, ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={"Containers": [{"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/"
                                                             "sagemaker-xgboost:3.2-0",
                                                    "ModelDataUrl": f"s3://{bucket}/v{version}/model.tar.gz"}],
                                    "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
            CustomerMetadataProperties={"evidence_uri": evidence})["ModelPackageArn"])
    code = main(["diff", *arns, "--json"])
    remote = json.loads(capsys.readouterr().out)
    local_code = main(["diff", str(two_versions / "versions" / "1"), str(two_versions), "--json"])
    local = json.loads(capsys.readouterr().out)
    assert code == local_code
    assert remote["old"]["label"] == arns[0] and remote["new"]["evidence"].startswith(f"s3://{bucket}/")
    assert remote["old"]["sealed"] and remote["new"]["sealed"]
    for part in ("metrics", "hyperparameters", "data", "schema", "code", "fairness", "explain", "policy"):
        assert remote[part] == local[part], part
    assert remote["assessment"]["substantial"] == local["assessment"]["substantial"]
    # A report changed in S3 after sealing: refused, not compared.
    key = "quickloan/runs/v2/evidence/evaluation.json"
    s3.put_object(Bucket=bucket, Key=key, Body=s3.get_object(Bucket=bucket, Key=key)["Body"].read() + b" ")
    assert main(["diff", *arns]) == 1
    assert "DIGEST_MISMATCH" in capsys.readouterr().err


def test_after_an_unregistered_run_the_next_compares_with_the_last_kept_version(two_versions):
    # Runs last in this module: it adds versions to the shared folder. A gate no model passes: not registered.
    assert main(["demo", "--out", str(two_versions), "--rows", "5000", "--num-round", "40",
                 "--auc-threshold", "0.999"]) == 1
    assert (two_versions / "versions" / "2").is_dir()  # version 2 was kept before the unregistered run
    assert json.loads((two_versions / "evidence" / "changes.json").read_text())["previous_version"] == 2
    assert main(["demo", "--out", str(two_versions), "--rows", "5000", "--num-round", "60"]) == 0
    changes = json.loads((two_versions / "evidence" / "changes.json").read_text())
    assert changes["previous_version"] == 2  # not the unregistered run's stale log
    assert changes["hyperparameters"]["num_round"] == {"old": 120, "new": 60}
    assert not (two_versions / "versions" / "3").exists()
