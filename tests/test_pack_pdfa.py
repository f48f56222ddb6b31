"""Optional archival output: PDF/A-3b through ghostscript keeps the attachments, the signature and determinism.

Conformance itself is not validated (no PDF/A validator is part of the toolkit); these tests check what we
control: the PDF/A identification and output intent, embedded fonts, associated files, and verification."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest

from reports import example_path, render_pack, verify_pack
from tests.pack_evidence import pdf_text

pytestmark = pytest.mark.skipif(shutil.which("gs") is None,
                                reason="ghostscript (gs) is not installed (Debian package: ghostscript)")


@pytest.fixture(scope="module")
def archival(tmp_path_factory, pack_evidence):
    built = pack_evidence
    out = tmp_path_factory.mktemp("pdfa") / "audit-pack.pdf"
    return built, render_pack(built.evidence, out, example_path(), built.signer, pdfa=True)


def test_pdfa_identification_fonts_and_attachments(archival):
    import pikepdf

    built, pdf_path = archival
    with pikepdf.open(pdf_path) as pdf:
        assert pdf.open_metadata().pdfa_status == "3B"
        assert "/OutputIntents" in pdf.Root
        assert len(pdf.Root.AF) == len(pdf.attachments) >= 20
        assert all(str(spec.obj.AFRelationship) == "/Data" for spec in pdf.attachments.values())
    if shutil.which("pdffonts"):
        listing = subprocess.run(["pdffonts", str(pdf_path)], capture_output=True, text=True, check=True).stdout
        rows = listing.splitlines()[2:]
        assert rows and all(" yes " in row for row in rows), listing
    assert verify_pack(pdf_path, built.verifier)["passed"]
    assert "SYNTHETIC DATA" in pdf_text(pdf_path, 1, 1)


def test_pdfa_keeps_the_document_information(archival, tmp_path):
    """/Subject and /Keywords (which carries the evidence index digest) survive the conversion."""
    import pikepdf

    built, pdf_path = archival
    plain = render_pack(built.evidence, tmp_path / "plain.pdf", example_path(), built.signer)
    with pikepdf.open(plain) as pdf:
        expected = {key: str(pdf.docinfo[key]) for key in ("/Title", "/Author", "/Subject", "/Keywords")}
    with pikepdf.open(pdf_path) as pdf:
        kept = {key: str(pdf.docinfo.get(key, "")) for key in expected}
    assert kept == expected
    index_sha256 = hashlib.sha256((built.evidence / "index.json").read_bytes()).hexdigest()
    assert f"evidence-index-sha256:{index_sha256}" in kept["/Keywords"]


def test_pdfa_is_deterministic_too(archival, tmp_path):
    built, pdf_path = archival
    again = render_pack(built.evidence, tmp_path / "again.pdf", example_path(), built.signer, pdfa=True)
    assert again.read_bytes() == pdf_path.read_bytes()
