"""The audit pack as a reader and an archivist see it: the numbers it prints, its structure, its attachments,
and that the same evidence always renders to the same bytes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from governance.hashing import sha256_bytes, sha256_file
from reports import example_path, render_pack
from reports.attachments import INFO_INDEX, read_attachments
from reports.sections.fairness import DISPARITY_NAMES
from tests.pack_evidence import pdf_text


@pytest.fixture(scope="module")
def built(pack_evidence):
    return pack_evidence


@pytest.fixture(scope="module")
def pack(signed_pack) -> Path:
    return signed_pack


@pytest.fixture(scope="module")
def text(pack) -> str:
    return pdf_text(pack)


def evidence_json(built, name: str) -> dict:
    return json.loads((built.evidence / name).read_bytes())


def needs(binary: str) -> None:
    if shutil.which(binary) is None:
        pytest.skip(f"{binary} is not installed (Debian package: "
                    f"{'qpdf' if binary == 'qpdf' else 'poppler-utils'})")


def test_auc_printed_equals_evaluation_json(built, text):
    metrics = evidence_json(built, "evaluation.json")["binary_classification_metrics"]
    auc, error = metrics["auc"]["value"], metrics["auc"]["standard_deviation"]
    found = re.search(r"AUC \(area under the ROC curve\) (\d\.\d{4}) \(standard error (\d\.\d{4})\)", text)
    assert found, "the performance table's AUC row is missing"
    assert found.groups() == (f"{auc:.4f}", f"{error:.4f}")
    for name in ("gini", "ks", "brier_score"):
        assert f"{metrics[name]['value']:.4f}" in text


def test_fairness_disparities_printed_equal_fairness_json(built, text):
    disparities = evidence_json(built, "fairness.json")["disparities"]
    assert disparities, "the fixture must produce fairness disparities"
    for name, entry in disparities.items():
        label = re.escape(DISPARITY_NAMES.get(name, name))
        found = re.search(label + r" (-?\d+\.\d{3}) (-?\d+\.\d{3}) to (-?\d+\.\d{3})", text)
        assert found, f"no row for {name}"
        low, high = entry["interval"]
        assert found.groups() == (f"{entry['value']:.3f}", f"{low:.3f}", f"{high:.3f}"), name


def test_cover_states_the_digests_of_the_evidence(built, pack):
    cover = pdf_text(pack, 1, 1)
    artefact = evidence_json(built, "manifest.json")["artefact"]["sha256"]
    assert artefact == evidence_json(built, "evaluation.json")["model"]["artefact_sha256"]
    assert f"Model artefact sha256 {artefact}" in cover
    assert f"Evidence index sha256 {sha256_file(built.evidence / 'index.json')}" in cover
    assert "SYNTHETIC DATA" in cover


def test_every_page_is_numbered_and_bannered(pack, text):
    pages = len(re.findall(r"Page \d+ of (\d+)", text))
    total = int(re.search(r"Page 1 of (\d+)", text).group(1))
    assert pages == total > 15
    assert text.count("SYNTHETIC DATA") >= total


def test_sections_name_their_regulation_items(text):
    for heading, item in (("Data governance", "Art. 10(2)(a)–(h)"), ("Fairness", "Art. 10(2)(f)"),
                          ("Integrity", "Annex IV 2(h)"), ("Post-market monitoring plan", "Art. 72")):
        assert re.search(re.escape(heading) + r" Relates to: .{0,120}?" + re.escape(item), text), heading
    for item in ("Art. 9", "Art. 17", "Art. 19", "Annex IV 1", "Annex IV 5", "Annex IV 9"):
        assert item in text


def test_metadata_outline_and_contents(pack):
    import pikepdf

    with pikepdf.open(pack) as pdf:
        info = pdf.docinfo
        assert str(info["/Title"]).startswith("Audit pack: QuickLoan credit default model")
        assert "Annex IV" in str(info["/Keywords"]) and str(info["/Subject"]) and str(info["/Author"])
        assert str(info[INFO_INDEX]) in str(info["/Keywords"])
        with pdf.open_outline() as outline:
            titles = [item.title for item in outline.root]
    assert titles[0] == "Contents" or titles[0].startswith("1")
    assert any(t.endswith("Fairness") for t in titles) and any(t.endswith("Evidence index") for t in titles)


def test_qpdf_check_passes(pack):
    needs("qpdf")
    done = subprocess.run(["qpdf", "--check", str(pack)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_attachments_extract_and_match_the_index(built, pack, tmp_path):
    needs("pdfdetach")
    subprocess.run(["pdfdetach", "-saveall", "-o", str(tmp_path), str(pack)], check=True, capture_output=True)
    index = json.loads((built.evidence / "index.json").read_bytes())
    extracted = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert extracted["index.json"] == (built.evidence / "index.json").read_bytes()
    checked = 0
    for entry in index["files"]:
        if entry["mode"] == "state":
            continue
        data = extracted[entry["path"].replace("/", "__")]
        assert len(data) == entry["size"] and sha256_bytes(data) == entry["sha256"], entry["path"]
        checked += 1
    assert checked >= 20
    assert sha256_bytes(extracted["quickloan-governance.yaml"]) == sha256_file(example_path())


def test_attachment_dates_are_the_evidence_date(built, pack):
    files, info = read_attachments(pack.read_bytes())
    assert set(files) >= {"evidence/index.json", "evidence/index.json.sig", "evidence/fairness.json"}
    stamp = json.loads((built.evidence / "index.json").read_bytes())["created_at"]
    assert info["/CreationDate"].startswith("D:" + stamp[:10].replace("-", ""))


def test_same_evidence_renders_the_same_bytes(built, pack, tmp_path):
    again = render_pack(built.evidence, tmp_path / pack.name, example_path(), built.signer)
    assert again.read_bytes() == pack.read_bytes()
    # The ECDSA signature is randomised, but both signatures cover the same payload, and both verify.
    from governance.signing import dsse

    first = json.loads(Path(f"{pack}.sig").read_bytes())
    second = json.loads(Path(f"{again}.sig").read_bytes())
    assert (first["payloadType"], first["payload"]) == (second["payloadType"], second["payload"])
    assert dsse.verify_envelope(first, built.verifier) == dsse.verify_envelope(second, built.verifier)


def test_missing_evidence_and_governance_are_open_items(built, tmp_path):
    from governance.evidence import write_index

    evidence = tmp_path / "evidence"
    shutil.copytree(built.evidence, evidence)
    shutil.rmtree(evidence / "fairness")
    for name in ("fairness.json", "manifest.json", "index.json", "index.json.sig"):
        (evidence / name).unlink()
    write_index(evidence, built.signer)
    pdf = render_pack(evidence, tmp_path / "partial.pdf", None, built.signer)
    text = pdf_text(pdf)
    assert "No fairness evidence was supplied: the bias examination (Art. 10(2)(f)) is open." in text
    assert "No fairness assessment (fairness.json) was supplied in the evidence folder." in text
    assert "No integrity manifest (manifest.json): the signature and safety findings was supplied" in text \
        or "No integrity evidence (manifest.json)" in text
    assert "Not ready for sign-off" in text
    # Without a governance file nothing human-written is invented.
    assert "does not state the intended use" in text
    assert "QuickLoan Lending Ltd" not in text and "R-01" not in text
    assert "Fairness 7" in pdf_text(pdf, 2, 2) or "7 Fairness" in pdf_text(pdf, 2, 2)


def test_evidence_without_a_key_is_rendered_but_flagged(built, tmp_path):
    stale = tmp_path / "unsigned.pdf.sig"
    stale.write_text("{}")  # a signature left from an earlier render must not stay beside a new, unsigned PDF
    pdf = render_pack(built.evidence, tmp_path / "unsigned.pdf", example_path())
    assert not stale.exists()
    cover = pdf_text(pdf, 1, 1)
    assert "signature NOT checked (no verification key was given)" in cover
    assert "This copy of the PDF is not signed." in cover
