"""``governance pack`` refuses tampered evidence; ``governance pack verify`` refuses a tampered pack.

Every case runs the real command line in-process and checks the exit code and the reason code it prints."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from governance.cli import main
from governance.errors import CheckFailed
from governance.signing.signer import write_key_pair
from reports import verify_pack
from reports.signature import sign_pack


@pytest.fixture(scope="module")
def built(pack_evidence):
    return pack_evidence  # signed_pack (conftest) is rendered by `governance pack ... --key`


def copy_pack(pack: Path, folder: Path) -> Path:
    target = folder / pack.name
    shutil.copyfile(pack, target)
    shutil.copyfile(f"{pack}.sig", f"{target}.sig")
    return target


def run(argv: list[str], capsys) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


def test_signed_pack_verifies(built, signed_pack, capsys):
    code, err = run(["pack", "verify", str(signed_pack), "--key", str(built.public_key)], capsys)
    assert code == 0, err
    assert "signature        verified" in err and "index signature  verified with this key" in err
    result = verify_pack(signed_pack, built.verifier)
    assert result["passed"] and result["attachments"] >= 20


def test_json_output(built, signed_pack, capsys):
    assert main(["pack", "verify", str(signed_pack), "--key", str(built.public_key), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["passed"] is True and result["signature"] == "verified"
    assert result["evidence_index_sha256"] == __import__("hashlib").sha256(
        (built.evidence / "index.json").read_bytes()).hexdigest()


@pytest.mark.parametrize("position", [0.02, 0.5, 0.98])
def test_one_changed_byte_in_the_pdf_fails(built, signed_pack, tmp_path, capsys, position):
    pack = copy_pack(signed_pack, tmp_path)
    data = bytearray(pack.read_bytes())
    data[int(len(data) * position)] ^= 0x01
    pack.write_bytes(data)
    code, err = run(["pack", "verify", str(pack), "--key", str(built.public_key)], capsys)
    assert code == 1 and "DIGEST_MISMATCH" in err
    code, err = run(["pack", "verify", str(pack), "--no-key"], capsys)  # the digest binding holds without the key
    assert code == 1 and "DIGEST_MISMATCH" in err


def test_verify_without_a_key_is_refused_unless_opted_out(signed_pack, capsys):
    """An unauthenticated pack must not pass a script that only checks the exit code."""
    code, err = run(["pack", "verify", str(signed_pack)], capsys)
    assert code == 2 and "no --key given" in err
    assert main(["pack", "verify", str(signed_pack), "--no-key", "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["signer_authenticated"] is False and result["signature"].startswith("not checked")
    assert "SIGNER IS NOT AUTHENTICATED" in captured.err
    code, err = run(["pack", "verify", str(signed_pack), "--no-key", "--key", "x.pub"], capsys)
    assert code == 2 and "not both" in err


def test_another_key_is_refused(signed_pack, tmp_path, capsys):
    _, other = write_key_pair(tmp_path / "other")
    code, err = run(["pack", "verify", str(signed_pack), "--key", str(other)], capsys)
    assert code == 1 and "UNTRUSTED_SIGNER" in err


def test_missing_or_edited_signature_is_refused(built, signed_pack, tmp_path, capsys):
    pack = copy_pack(signed_pack, tmp_path)
    envelope = json.loads(Path(f"{pack}.sig").read_bytes())
    envelope["signatures"][0]["sig"] = envelope["signatures"][0]["sig"][:-8] + "AAAAAAA="
    Path(f"{pack}.sig").write_text(json.dumps(envelope))
    code, err = run(["pack", "verify", str(pack), "--key", str(built.public_key)], capsys)
    assert code == 1 and "SIGNATURE_INVALID" in err
    Path(f"{pack}.sig").unlink()
    code, err = run(["pack", "verify", str(pack), "--key", str(built.public_key)], capsys)
    assert code == 1 and "SIGNATURE_MISSING" in err


def _replace_attachment(pack: Path, name: str, data: bytes) -> bytes:
    import pikepdf

    with pikepdf.open(pack) as pdf:
        spec = pdf.attachments[name]
        pdf.attachments[name] = pikepdf.AttachedFileSpec(pdf, data, filename=spec.filename)
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


def test_swapped_evidence_inside_a_resigned_pack_is_refused(built, signed_pack, tmp_path):
    """Even someone holding the signing key cannot slip changed evidence past the index the cover names."""
    pack = copy_pack(signed_pack, tmp_path)
    statement = json.loads(__import__("base64").b64decode(json.loads(Path(f"{pack}.sig").read_bytes())["payload"]))
    evaluation = (built.evidence / "evaluation.json").read_bytes().replace(b'"auc": {', b'"auc":  {', 1)
    forged = _replace_attachment(pack, "evidence/evaluation.json", evaluation)
    facts = statement["predicate"]
    facts["attachments"]["evidence/evaluation.json"] = __import__("hashlib").sha256(evaluation).hexdigest()
    pack.write_bytes(forged)
    Path(f"{pack}.sig").write_text(json.dumps(sign_pack(pack.name, forged, facts, built.signer)))
    with pytest.raises(CheckFailed) as failure:
        verify_pack(pack, built.verifier)
    assert failure.value.reason == "DIGEST_MISMATCH" and "evaluation.json" in failure.value.message


def test_one_changed_byte_in_an_evidence_file_stops_the_pack(built, tmp_path, capsys):
    evidence = tmp_path / "evidence"
    shutil.copytree(built.evidence, evidence)
    target = evidence / "fairness.json"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(data)
    out = tmp_path / "audit-pack.pdf"
    code, err = run(["pack", str(evidence), "-o", str(out), "--key", str(built.key)], capsys)
    assert code == 1 and "DIGEST_MISMATCH" in err and "fairness.json" in err
    assert not out.exists() and not Path(f"{out}.sig").exists()


def test_a_forged_index_stops_the_pack(built, tmp_path, capsys):
    evidence = tmp_path / "evidence"
    shutil.copytree(built.evidence, evidence)
    (evidence / "index.json").write_bytes((evidence / "index.json").read_bytes().replace(b"\n", b"\n ", 1))
    code, err = run(["pack", str(evidence), "-o", str(tmp_path / "x.pdf"), "--key", str(built.key)], capsys)
    assert code == 1 and ("DIGEST_MISMATCH" in err or "SIGNATURE_INVALID" in err)


def test_evidence_signed_by_someone_else_is_refused(built, tmp_path, capsys):
    other, _ = write_key_pair(tmp_path / "other")
    code, err = run(["pack", str(built.evidence), "-o", str(tmp_path / "x.pdf"), "--key", str(other)], capsys)
    assert code == 1 and "UNTRUSTED_SIGNER" in err
    # ...unless the evidence signer's key is given separately.
    code, err = run(["pack", str(built.evidence), "-o", str(tmp_path / "x.pdf"), "--key", str(other),
                     "--evidence-key", str(built.public_key)], capsys)
    assert code == 0, err


@pytest.mark.parametrize("argv, message", [
    (["pack", "verify", "x.pdf", "-o", "y.pdf"], "-o/--output is for rendering"),
    (["pack", "a", "b", "c"], "expected 'pack EVIDENCE_DIR' or 'pack verify PDF'"),
    (["pack", "no-such-folder"], "NOT_A_DIRECTORY"),
    (["pack", "verify", "no-such.pdf", "--no-key"], "FILE_NOT_FOUND"),
    (["pack", "some-folder", "--no-key"], "--no-key is for 'pack verify'"),
    (["pack", "x", "--unknown"], "unrecognized arguments"),
    (["pack"], "the following arguments are required"),
])
def test_bad_calls_exit_2(argv, message, capsys):
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse's own errors leave through the parser
        code = stop.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_bad_governance_file_names_file_and_line(built, tmp_path, capsys):
    bad = tmp_path / "gov.yaml"
    bad.write_text("schema: quickloan-governance/v1\nmodel:\n  name: X\nrisks:\n  - id: R1\n    title: t\n"
                   "    likelihood: 9\n    impact: 1\n    owner: o\n")
    code, err = run(["pack", str(built.evidence), "-o", str(tmp_path / "x.pdf"), "--governance", str(bad)], capsys)
    assert code == 2 and f"BAD_GOVERNANCE_FILE: {bad}:7: risks.0.likelihood" in err
    assert not (tmp_path / "x.pdf").exists()


def test_verify_refuses_a_pdf_that_is_not_a_pack(built, tmp_path, capsys):
    from reports.document import DocumentInfo, build_pdf
    from reports.styles import p

    plain = tmp_path / "plain.pdf"
    plain.write_bytes(build_pdf([p("hello")], [p("world")], DocumentInfo(title="not a pack")))
    Path(f"{plain}.sig").write_text(json.dumps(sign_pack(plain.name, plain.read_bytes(), {}, built.signer)))
    with pytest.raises(CheckFailed) as failure:
        verify_pack(plain, built.verifier)
    assert failure.value.reason in {"SIGNATURE_INVALID", "NOT_AN_AUDIT_PACK"}



@pytest.mark.parametrize("case", ["ledger-without-key", "output-is-a-folder"])
def test_bad_render_calls_write_nothing(built, tmp_path, capsys, case):
    # Refused before rendering: exit 2 with a reason code, and no PDF left behind.
    if case == "ledger-without-key":
        target, extra, reason = tmp_path / "x.pdf", ["--ledger", str(tmp_path / "l.jsonl")], "BAD_USAGE"
    else:
        target, extra, reason = tmp_path / "out", [], "NOT_A_FILE"
        target.mkdir()
    code, err = run(["pack", str(built.evidence), "-o", str(target), *extra], capsys)
    assert code == 2 and reason in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == (["out"] if case == "output-is-a-folder" else [])


@pytest.mark.parametrize("index", [b'{"files": ["evaluation.json"]}', b'[]', b'{"files": [{"path": "a"}]}'])
def test_a_malformed_attached_index_is_a_failed_check(index):
    from reports.pack import _index_digests

    with pytest.raises(CheckFailed) as failure:
        _index_digests(index)
    assert failure.value.reason == "EVIDENCE_MALFORMED"
