"""Optional archival output: convert the rendered pack to PDF/A-3b with ghostscript, when it is installed.

Ghostscript embeds every font, adds the sRGB output intent and the XMP identification; attachments are added
afterwards (with their ``/AF`` entries, which ghostscript would drop). Conformance is **not** validated here:
no PDF/A validator is part of the toolkit, so the result is "converted towards PDF/A-3b", not certified.

>>> ghostscript() is None or ghostscript().endswith("gs")
True
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

from governance.errors import Incomplete, InputError

TIMEOUT_SECONDS = 300


def ghostscript() -> str | None:
    return shutil.which("gs")


def _icc_profile() -> Path:
    import pikepdf

    return Path(pikepdf.__file__).parent / "pdfa" / "data" / "sRGB.icc"


def _definition(icc: Path, docinfo: dict[str, str]) -> str:
    # The PostScript prologue that tells pdfwrite which output intent and document information to write
    # (pdfwrite keeps only what the prologue states: without it /Subject and /Keywords would be lost).
    def ps(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    entries = " ".join(f"/{key} ({ps(value)})" for key, value in docinfo.items() if value)
    return (
        "%!\n"
        f"[ {entries} /DOCINFO pdfmark\n"
        f"/ICCProfile ({ps(str(icc))}) def\n"
        "[/_objdef {icc_PDFA} /type /stream /OBJ pdfmark\n"
        "[{icc_PDFA} << /N 3 >> /PUT pdfmark\n"
        "[{icc_PDFA} ICCProfile (r) file /PUT pdfmark\n"
        "[/_objdef {OutputIntent_PDFA} /type /dict /OBJ pdfmark\n"
        "[{OutputIntent_PDFA} << /Type /OutputIntent /S /GTS_PDFA1 /DestOutputProfile {icc_PDFA} "
        "/OutputConditionIdentifier (sRGB) >> /PUT pdfmark\n"
        "[{Catalog} << /OutputIntents [ {OutputIntent_PDFA} ] >> /PUT pdfmark\n"
    )


def convert_to_pdfa(pdf_bytes: bytes, *, docinfo: dict[str, str], date: str | None) -> bytes:
    """PDF/A-3b bytes from ``pdf_bytes`` (without attachments: add them after). ``docinfo`` is the document
    information to keep (``{"Title": ..., "Subject": ..., "Keywords": ...}``); ``date`` pins the timestamps."""
    gs = ghostscript()
    if gs is None:
        raise InputError("GHOSTSCRIPT_MISSING", "PDF/A output needs ghostscript (the 'gs' command); install it "
                                                "(Debian: apt-get install ghostscript) or drop --pdfa")
    env = dict(os.environ)
    if date:
        with contextlib.suppress(ValueError):
            env["SOURCE_DATE_EPOCH"] = str(int(datetime.fromisoformat(date.replace("Z", "+00:00")).timestamp()))
    with tempfile.TemporaryDirectory(prefix="pack-pdfa-") as work:
        source, target, prologue = Path(work, "in.pdf"), Path(work, "out.pdf"), Path(work, "pdfa_def.ps")
        source.write_bytes(pdf_bytes)
        icc = _icc_profile()
        prologue.write_text(_definition(icc, docinfo), encoding="utf-8")
        command = [gs, "-q", "-dPDFA=3", "-dBATCH", "-dNOPAUSE", "-dSAFER", f"--permit-file-read={icc}",
                   "-dNOOUTERSAVE",
                   "-dPDFACompatibilityPolicy=1", "-sColorConversionStrategy=RGB", "-sDEVICE=pdfwrite",
                   f"-sOutputFile={target}", str(prologue), str(source)]
        try:
            done = subprocess.run(command, capture_output=True, env=env, timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise Incomplete("PDFA_TIMEOUT", f"ghostscript did not finish within {TIMEOUT_SECONDS} s") from None
        if done.returncode != 0 or not target.is_file():
            detail = (done.stderr or done.stdout).decode("utf-8", errors="replace").strip().splitlines()
            raise Incomplete("PDFA_FAILED", f"ghostscript could not convert the pack to PDF/A "
                                            f"({detail[-1] if detail else f'exit {done.returncode}'})")
        return _restore_docinfo(target.read_bytes(), docinfo)


def _restore_docinfo(pdf_bytes: bytes, docinfo: dict[str, str]) -> bytes:
    """Write ``docinfo`` into the converted file's document information and XMP alike (PDF/A wants the two to
    agree): pdfwrite keeps only some of the entries the prologue states, and /Keywords carries the evidence index
    digest."""
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        for key, value in docinfo.items():
            if value:
                pdf.docinfo[f"/{key}"] = value
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
            meta.load_from_docinfo(pdf.docinfo, delete_missing=False)
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
    return out.getvalue()
