"""Policy files: the shipped set loads, other kinds are left alone, and every mistake names its file and line."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from governance.cli import main
from governance.errors import InputError
from governance.policy import default_policies_dir, load_policies

SHIPPED = {"encryption", "access", "retention", "artefact"}

GOOD_CHECK = """\
kind: policy
name: custom
parameters:
  min_days: 30
checks:
  - id: CUS-001
    title: Versioning on
    resource: s3_bucket
    severity: low
    assert:
      eq: {path: versioning.status, value: Enabled}
    remediation: Turn versioning on.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def load_error(folder: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_policies(folder)
    assert caught.value.reason == "INVALID_POLICY"
    assert caught.value.exit_code == 2
    return caught.value.message


def test_shipped_policies_load_and_leave_the_fairness_file_alone():
    bundle = load_policies()
    policies = {c.policy for c in bundle.checks}
    assert policies == SHIPPED
    assert len(bundle.checks) == len({c.id for c in bundle.checks}) >= 25
    if (default_policies_dir() / "fairness.yaml").exists():
        assert "fairness.yaml" in {Path(s["file"]).name for s in bundle.skipped}
    for check in bundle.checks:
        assert check.regulations, f"{check.id} names no regulation"
        assert check.remediation and check.severity in ("critical", "high", "medium", "low", "info")
        assert check.source.startswith(str(default_policies_dir()))


def test_a_file_of_another_kind_is_skipped_not_parsed(tmp_path):
    write(tmp_path, "custom.yaml", GOOD_CHECK)
    write(tmp_path, "fairness.yaml", "kind: fairness\nthresholds: {dpd: 0.1}\nunknown_to_us: [1, 2]\n")
    bundle = load_policies(tmp_path)
    assert [c.id for c in bundle.checks] == ["CUS-001"]
    assert bundle.skipped == [{"file": str(tmp_path / "fairness.yaml"), "kind": "fairness"}]


def test_parameters_are_overridden_by_name_and_type_checked(tmp_path):
    write(tmp_path, "custom.yaml", GOOD_CHECK)
    assert load_policies(tmp_path, parameters={"min_days": 90}).parameters["min_days"] == 90
    with pytest.raises(InputError, match="not declared"):
        load_policies(tmp_path, parameters={"max_days": 1})
    with pytest.raises(InputError, match="is a number; got a list"):
        load_policies(tmp_path, parameters={"min_days": [1]})


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        pytest.param("kind: policy\nname: x\nchecks:\n  - id: X-1\n    title: [unclosed\n", 6,
                     "YAML syntax error", id="syntax-error"),
        pytest.param(GOOD_CHECK.replace("      eq: {path", "      equals: {path"), 11,
                     "unknown operator 'equals'", id="unknown-operator"),
        pytest.param(GOOD_CHECK.replace("    severity: low\n", "    severity: low\n    colour: red\n"), 10,
                     "unknown key 'colour'", id="unknown-key"),
        pytest.param(GOOD_CHECK.replace("versioning.status", "versioning.state"), 11,
                     "unknown evidence path 'versioning.state'", id="unknown-evidence-path"),
        pytest.param(GOOD_CHECK.replace("value: Enabled}", "value: '${max_days}'}"), 11,
                     "unknown parameter ${max_days}", id="unknown-parameter"),
        pytest.param(GOOD_CHECK.replace("resource: s3_bucket", "resource: s3_buckets"), 8,
                     "unknown resource type 's3_buckets'", id="unknown-resource"),
        pytest.param(GOOD_CHECK.replace("    severity: low\n", "    severity: low\n    severity: high\n"), 10,
                     "duplicate key 'severity'", id="duplicate-key"),
        pytest.param(GOOD_CHECK.replace("      eq: {path: versioning.status, value: Enabled}",
                                        "      matches: {path: versioning.status, pattern: '(unclosed'}"), 11,
                     "invalid regular expression", id="bad-regex"),
        pytest.param(GOOD_CHECK.replace("      eq: {path: versioning.status, value: Enabled}",
                                        "      gte: {path: object_lock.default_retention_days, value: ten}"), 11,
                     "'gte' compares numbers", id="non-numeric-comparison"),
        pytest.param(GOOD_CHECK + "  - id: CUS-001\n    title: again\n    resource: s3_bucket\n    severity: low\n"
                     "    assert: {exists: bucket}\n    remediation: none\n", 13,
                     "duplicate check id CUS-001", id="duplicate-check-id"),
        pytest.param(GOOD_CHECK + "waivers:\n  - check: CUS-001\n    reason: migration to KMS\n"
                     "    expires: 2030-01-01\n", 14, "missing required key 'approver'", id="waiver-without-approver"),
        pytest.param(GOOD_CHECK.replace("      eq: {path: versioning.status, value: Enabled}",
                                        "      every: {path: lifecycle.rules, where: {eq: {path: prefixx, value: a}}}"),
                     11, "unknown evidence path 'prefixx' for the items of this list", id="bad-path-in-where"),
        pytest.param(GOOD_CHECK.replace("    severity: low\n", "    severity: low\n    decided_by: policy.engin\n"),
                     10, "unknown evidence path 'policy.engin'", id="bad-decided-by-path"),
    ],
)
def test_bad_policy_is_an_input_error_with_file_and_line(tmp_path, text, line, words):
    write(tmp_path, "bad.yaml", text)
    message = load_error(tmp_path)
    assert message.startswith(f"{tmp_path / 'bad.yaml'}:{line}: "), message
    assert words in message


def test_a_waiver_file_is_its_own_kind(tmp_path):
    write(tmp_path, "custom.yaml", GOOD_CHECK)
    write(tmp_path, "waivers.yaml", """\
        kind: waivers
        waivers:
          - {check: CUS-001, resource: "s3://legacy-*", reason: migrating, approver: J. Doe, expires: 2031-01-01}
          - {check: CUS-*, reason: pilot, approver: A. N. Other, expires: 2030-06-30}
    """)
    bundle = load_policies(tmp_path)
    assert [w.waiver.approver for w in bundle.waivers] == ["J. Doe", "A. N. Other"]
    assert bundle.waivers[1].source == f"{tmp_path / 'waivers.yaml'}:4"
    write(tmp_path, "waivers.yaml", "kind: waivers\nwaivers:\n  - {check: CUS-001, reason: x, approver: Jo, "
                                    "expires: 2031-01-01}\n")
    assert "reason" in load_error(tmp_path) and ":3:" in load_error(tmp_path)


def test_cli_reports_a_bad_policy_with_exit_2_and_file_line(tmp_path, capsys):
    policies = tmp_path / "policies"
    policies.mkdir()
    write(policies, "bad.yaml", GOOD_CHECK.replace("      eq: {path", "      equal: {path"))
    (tmp_path / "file.txt").write_text("x")
    code = main(["scan", str(tmp_path / "file.txt"), "--policies", str(policies), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"INVALID_POLICY: {policies / 'bad.yaml'}:11: check CUS-001: unknown operator 'equal'" in err
    assert "Traceback" not in err


def test_an_impossible_date_is_an_input_error_with_its_line(tmp_path, capsys):
    # YAML reads 2031-13-01 as a timestamp and fails while building it: still a bad policy, not a crash.
    write(tmp_path, "custom.yaml", GOOD_CHECK)
    write(tmp_path, "waivers.yaml", "kind: waivers\nwaivers:\n  - check: CUS-001\n    reason: migrating\n"
                                    "    approver: J. Doe\n    expires: 2031-13-01\n")
    assert f"{tmp_path / 'waivers.yaml'}:6:" in load_error(tmp_path)
    (tmp_path / "file.txt").write_text("x")
    assert main(["scan", str(tmp_path / "file.txt"), "--policies", str(tmp_path), "--quiet"]) == 2
    assert "INVALID_POLICY" in capsys.readouterr().err


def test_an_edited_copy_of_the_shipped_folder_works(tmp_path):
    copy = tmp_path / "policies"
    shutil.copytree(default_policies_dir(), copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (copy / "retention.yaml").read_text()
    text = text.replace("artefact_retention_days: 3650", "artefact_retention_days: 4000")
    (copy / "retention.yaml").write_text(text)
    assert load_policies(copy).parameters["artefact_retention_days"] == 4000


def test_no_policy_files_is_an_input_error(tmp_path):
    write(tmp_path, "other.yaml", "kind: fairness\n")
    with pytest.raises(InputError, match="no checks found"):
        load_policies(tmp_path)
