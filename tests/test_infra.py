"""The infrastructure template: cfn-lint clean, and secure where our own policies look.

Parsed with cfn-lint's own decoder (intrinsic functions become ``{"Ref": ...}``, ``{"Fn::GetAtt": [...]}``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "pipeline" / "infra" / "quickloan-governance.yaml"


@pytest.fixture(scope="module")
def template() -> dict:
    from cfnlint.decode import decode_str

    parsed, problems = decode_str(TEMPLATE.read_text(encoding="utf-8"))
    assert not problems
    return parsed


def resources(template: dict, kind: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def statements(document: dict) -> list[dict]:
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_cfn_lint_passes():
    from cfnlint.api import lint_file

    problems = lint_file(TEMPLATE)
    assert problems == [], "\n".join(str(p) for p in problems)


def test_cfn_lint_catches_a_broken_template():
    """The lint step can fail: a bucket with a misspelt property is reported."""
    from cfnlint.api import lint

    broken = TEMPLATE.read_text(encoding="utf-8").replace("ObjectLockEnabled: true", "ObjectLockEnabld: true", 1)
    assert any("ObjectLockEnabld" in str(problem) for problem in lint(broken))


def test_artefact_bucket(template):
    bucket = template["Resources"]["ArtefactBucket"]
    assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"
    props = bucket["Properties"]
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                     "KMSMasterKeyID": {"Fn::GetAtt": ["ArtefactKey", "Arn"]}}
    assert rule["BucketKeyEnabled"] is True
    assert props["PublicAccessBlockConfiguration"] == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                       "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert props["ObjectLockEnabled"] is True
    retention = props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert retention == {"Mode": {"Ref": "ObjectLockMode"}, "Days": {"Ref": "ArtefactRetentionDays"}}
    # No lifecycle rule may expire governed objects early.
    for lifecycle_rule in props["LifecycleConfiguration"]["Rules"]:
        assert not {"ExpirationInDays", "ExpirationDate", "NoncurrentVersionExpiration"} & set(lifecycle_rule)


def test_retention_defaults_come_from_the_policy(template):
    """The template's defaults equal the retention policy's parameters, so a fresh stack passes the scan."""
    policy = yaml.safe_load((REPO / "policies" / "retention.yaml").read_text(encoding="utf-8"))
    parameters = template["Parameters"]
    assert parameters["ArtefactRetentionDays"]["Default"] == policy["parameters"]["artefact_retention_days"]
    assert parameters["ObjectLockMode"]["Default"] == policy["parameters"]["object_lock_mode"]
    low, high = policy["parameters"]["log_retention_min_days"], policy["parameters"]["log_retention_max_days"]
    assert low <= parameters["AccessLogRetentionDays"]["Default"] <= high
    assert parameters["AccessLogRetentionDays"]["MinValue"] >= low


def test_tls_only_bucket_policy(template):
    for bucket_policy in resources(template, "AWS::S3::BucketPolicy").values():
        denies = [s for s in statements(bucket_policy["Properties"]["PolicyDocument"]) if s["Effect"] == "Deny"]
        tls = [s for s in denies if s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}]
        assert len(tls) == 1 and tls[0]["Principal"] == "*" and tls[0]["Action"] == "s3:*"
        assert len(as_list(tls[0]["Resource"])) == 2  # the bucket and its objects
    artefact = template["Resources"]["ArtefactBucketPolicy"]["Properties"]["PolicyDocument"]
    assert any(s.get("Condition") == {"NumericLessThan": {"s3:TlsVersion": "1.2"}} for s in statements(artefact))
    assert not [s for s in statements(artefact) if s["Effect"] == "Allow"]


def test_keys(template):
    data = template["Resources"]["ArtefactKey"]["Properties"]
    assert data["EnableKeyRotation"] is True and data["KeySpec"] == "SYMMETRIC_DEFAULT"
    signing = template["Resources"]["SigningKey"]["Properties"]
    assert (signing["KeySpec"], signing["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
    for name in ("ArtefactKey", "SigningKey"):
        assert template["Resources"][name]["DeletionPolicy"] == "Retain"
        for statement in statements(template["Resources"][name]["Properties"]["KeyPolicy"]):
            # Only the account (IAM-delegated) administers a key; no wildcard principal. CloudWatch Logs may use
            # the artefact key for the scan's log group only (pinned by the encryption context).
            if statement.get("Sid") == "CloudWatchLogsEncryptsTheScanLogs":
                assert name == "ArtefactKey"
                assert statement["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}}
                assert "kms:EncryptionContext:aws:logs:arn" in statement["Condition"]["ArnLike"]
                continue
            assert statement["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}


# Allow statements that legitimately have no resource scope, and why.
UNSCOPED = {
    "EcrLoginHasNoResourceScope": "ecr:GetAuthorizationToken has no resource-level permissions",
    "JobMetrics": "cloudwatch:PutMetricData has no resource-level permissions (namespace-conditioned instead)",
    "JobNetworkInterfaces": "ec2 network-interface calls for VPC jobs take no resource scope at creation",
    "ReadAccountPublicAccessBlockForPolicyScans": "s3:GetAccountPublicAccessBlock has no resource-level permissions",
}


def policy_documents(template: dict):
    for name, resource in template["Resources"].items():
        if resource["Type"] in ("AWS::IAM::RolePolicy", "AWS::IAM::ManagedPolicy"):
            yield name, resource["Properties"]["PolicyDocument"]


def test_least_privilege(template):
    for name, document in policy_documents(template):
        for statement in statements(document):
            if statement["Effect"] != "Allow":
                continue
            actions = as_list(statement["Action"])
            assert not [a for a in actions if a == "*" or a.endswith(":*")], (name, statement["Sid"])
            if statement["Sid"] not in UNSCOPED:
                assert "*" not in as_list(statement["Resource"]), (name, statement["Sid"])
            if statement["Sid"] == "JobMetrics":
                assert "StringLike" in statement["Condition"]
    from tests.stack_support import ACCOUNT, offline_stack

    trust = statements(offline_stack(template, "quickloan").properties("PipelineRole")["AssumeRolePolicyDocument"])
    assert [s["Principal"] for s in trust] == [{"Service": "sagemaker.amazonaws.com"}]
    assert trust[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    pipeline = {s["Sid"]: s for s in statements(template["Resources"]["PipelineRolePolicy"]["Properties"]
                                                ["PolicyDocument"])}
    # Separation of duties: the pipeline registers, it never approves.
    assert pipeline["NeverApproveItsOwnModels"]["Effect"] == "Deny"
    assert pipeline["NeverApproveItsOwnModels"]["Action"] == "sagemaker:UpdateModelPackage"
    assert pipeline["PassThisRoleToSageMakerOnly"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    assert pipeline["SignWithTheModelSigningKey"]["Resource"] == {"Fn::GetAtt": ["SigningKey", "Arn"]}
    writes = [s for s in pipeline.values() if "s3:PutObject" in as_list(s["Action"])]
    assert [s["Resource"] for s in writes] == [{"Fn::Sub": "${ArtefactBucket.Arn}/${ArtefactPrefix}/*"}]
    approver = {s["Sid"]: s for s in statements(template["Resources"]["ModelApproverPolicy"]["Properties"]
                                                ["PolicyDocument"])}
    assert "sagemaker:UpdateModelPackage" in approver["ReviewAndApprovePackages"]["Action"]
    assert "kms:Sign" not in str(approver)  # approvers verify; only the pipeline signs


def test_outputs_are_the_pipeline_settings(template):
    """Each setting `governance pipeline deploy` needs from the stack is an output under the name the docs give."""
    from pipeline.sagemaker.config import REQUIRED

    settings = template["Metadata"]["Settings"]
    assert set(REQUIRED) - {"region"} <= set(settings)
    for key, output in settings.items():
        assert output.split()[0] in template["Outputs"], key


def test_scan_schedule_is_referenced_not_duplicated(template):
    nested = template["Resources"]["ScanSchedule"]
    assert nested["Type"] == "AWS::CloudFormation::Stack" and nested["Condition"] == "HasScanSchedule"
    assert not resources(template, "AWS::Scheduler::Schedule") and not resources(template, "AWS::Lambda::Function")
    from cfnlint.decode import decode_str

    child, problems = decode_str((REPO / "pipeline" / "infra" / "scan-schedule.yaml").read_text(encoding="utf-8"))
    assert not problems
    passed = set(nested["Properties"]["Parameters"])
    declared = set(child["Parameters"])
    required = {name for name, p in child["Parameters"].items() if "Default" not in p}
    assert passed <= declared and required <= passed


# --- day-one defects: each test fails on the template as it was before its fix ----------------------------------------

def test_object_lock_defaults_to_governance_mode(template):
    """Defect: COMPLIANCE for ten years on the whole bucket made trial data, personal data and failed runs
    undeletable by anyone. GOVERNANCE is the default; COMPLIANCE stays one parameter away (documented)."""
    assert template["Parameters"]["ObjectLockMode"]["Default"] == "GOVERNANCE"
    assert "COMPLIANCE" in template["Parameters"]["ObjectLockMode"]["AllowedValues"]


def test_nested_scan_template_is_packaged_by_the_cli(template):
    """Defect: `aws cloudformation package` uploads a nested TemplateURL only when it is a plain string."""
    url = template["Resources"]["ScanSchedule"]["Properties"]["TemplateURL"]
    assert isinstance(url, str) and (TEMPLATE.parent / url).is_file()


def test_scan_code_comes_from_a_bucket_that_exists_before_the_stack(template):
    """Defect: the function's code was read from the artefact bucket, which the same stack creates."""
    parameters = template["Resources"]["ScanSchedule"]["Properties"]["Parameters"]
    assert parameters["CodeS3Bucket"] == {"Ref": "ScanCodeS3Bucket"}
    assert parameters["CodeS3Key"] == {"Ref": "ScanCodeS3Key"}
    assert "ArtefactBucket" not in str(parameters["CodeS3Bucket"])


def test_nightly_scan_gets_the_deployments_settings_from_one_place(template):
    """Defect: the nested stack passed only allowed_kms_keys; no trusted signer, account or retention. Its
    PolicyParameters must be exactly what the Govern step derives (governance.policy.stack_parameters)."""
    from governance.policy.stack_parameters import deployment_parameters
    from tests.stack_support import ACCOUNT, offline_stack

    stack = offline_stack(template, "quickloan")
    nested = stack.resolve(template["Resources"]["ScanSchedule"]["Properties"]["Parameters"])
    expected = deployment_parameters(
        kms_key_arns=[stack.get_att("ArtefactKey", "Arn")], account_ids=[ACCOUNT],
        signing_keys=[stack.get_att("SigningKey", "Arn")], object_lock_mode="GOVERNANCE", retention_days=3650)
    assert json.loads(nested["PolicyParameters"]) == expected
    assert nested["SigningKeyArn"] == stack.get_att("SigningKey", "Arn")


def test_rehearsal_as_the_pipeline_role_needs_and_gets_a_named_principal(template):
    """Defect: `governance pipeline rehearse --as-role` assumes the pipeline role as the caller, but the role trusted
    only SageMaker, so it could never work. RehearsalPrincipalArn adds exactly that one principal; by default
    nothing but SageMaker may assume the role."""
    from tests.stack_support import offline_stack

    principal = "arn:aws:iam::123456789012:role/ml-engineer"
    granted = statements(offline_stack(template, "quickloan", RehearsalPrincipalArn=principal)
                         .properties("PipelineRole")["AssumeRolePolicyDocument"])
    default = statements(offline_stack(template, "quickloan").properties("PipelineRole")["AssumeRolePolicyDocument"])
    assert granted[0] == default[0] and len(default) == 1
    assert granted[1] == {"Sid": "RehearsalRunsItsSteps", "Effect": "Allow", "Principal": {"AWS": principal},
                          "Action": "sts:AssumeRole"}
    parameter = template["Parameters"]["RehearsalPrincipalArn"]
    assert parameter["Default"] == "" and "--as-role" in parameter["Description"]
    assert "RehearsalPrincipalArn" in (REPO / "docs" / "sagemaker.md").read_text(encoding="utf-8")
