"""Render an audit pack from an evidence folder, and verify a pack someone hands you.

>>> from governance.signing import load_signer, load_verifier
>>> from reports import render_pack, verify_pack
>>> render_pack("evidence", "audit-pack.pdf", signer=load_signer("keys/signing-key.pem"))
PosixPath('audit-pack.pdf')
>>> verify_pack("audit-pack.pdf", load_verifier("keys/signing-key.pub.pem"))["passed"]
True

Rendering verifies the evidence index first and refuses tampered evidence; it reads nothing but the evidence
folder and the optional model governance file. The same inputs give a byte-identical PDF (the signature,
ECDSA, differs on every run, and covers those same bytes).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from reportlab.platypus import PageBreak

from governance import __version__
from governance.errors import CheckFailed, InputError, reading
from governance.hashing import sha256_bytes
from governance.jsonio import MAX_BYTES, dumps, loads
from governance.signing import PublicKeyVerifier, Signer, Verifier
from governance.storage import read_bytes, write_bytes_atomic
from reports import attachments as att
from reports.document import DocumentInfo, build_pdf, heading, table_of_contents
from reports.evidence_folder import EvidenceFolder, open_evidence, pack_date
from reports.governance_file import GovernanceFile, parse_governance_file
from reports.sections import SECTIONS, cover
from reports.sections._base import PackContext
from reports.signature import PACK_PREDICATE_TYPE, sign_pack
from reports.styles import p

SIGNATURE_SUFFIX = ".sig"
GOVERNANCE_IN_EVIDENCE = ("governance.yaml", "governance.yml", "model-governance.yaml")


def _governance(folder: EvidenceFolder, governance_file: str | os.PathLike | None) -> tuple[GovernanceFile | None,
                                                                                            str | None, bytes | None]:
    """The governance file given, else one sealed inside the evidence folder, else none (open items)."""
    if governance_file is not None:
        path = Path(governance_file)
        try:
            with reading(path, "governance file"):
                data = path.read_bytes()
        except OSError as err:
            raise InputError("BAD_GOVERNANCE_FILE", f"{path}: cannot read ({err.strerror})") from None
        name = path.name
    else:
        name = next((n for n in GOVERNANCE_IN_EVIDENCE if folder.has(n)), None)
        if name is None:
            return None, None, None
        data = folder.read_bytes(name)
        path = Path(name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("BAD_GOVERNANCE_FILE", f"{path}: not UTF-8 text") from None
    return parse_governance_file(text, str(path)), name, data


def _story(ctx: PackContext) -> tuple[list, list]:
    for number, module in SECTIONS:
        ctx.numbers[module.KEY] = number
        ctx.titles[module.KEY] = module.TITLE
    ctx.numbers[cover.KEY], ctx.titles[cover.KEY] = "", "Cover"
    for _, module in SECTIONS:
        assess: Callable | None = getattr(module, "assess", None)
        if assess is not None:
            ctx.assessments[module.KEY] = assess(ctx)
    front = cover.build(ctx)
    body: list = [p("Contents", "h1"), table_of_contents()]
    for number, module in SECTIONS:
        refs = ", ".join(module.REFERENCES)
        body += [PageBreak(), heading(number, module.TITLE, module.KEY),
                 p(f"Relates to: {refs} (how far each is met: §2)", "refs")]
        body += module.build(ctx)
    return front, body


def render_pack(
    evidence_dir: str | os.PathLike,
    out_pdf: str | os.PathLike,
    governance_file: str | os.PathLike | None = None,
    signer: Signer | None = None,
    *,
    verifier: Verifier | None = None,
    pdfa: bool = False,
    on_step: Callable[[str], None] = lambda name: None,
) -> Path:
    """Render ``evidence_dir`` to ``out_pdf`` (and ``out_pdf.sig`` when a signer is given); return the PDF path.

    The index is verified with ``verifier``, or with the signer's own public key when only a signer is given;
    with neither, only its digests are checked and the cover says so.
    """
    on_step("verify evidence")
    if verifier is None and signer is not None:
        verifier = PublicKeyVerifier(signer.public_key_pem())
    folder = open_evidence(evidence_dir, verifier)
    governance, governance_name, governance_bytes = _governance(folder, governance_file)
    ctx = PackContext(folder, governance, governance_name,
                      sha256_bytes(governance_bytes) if governance_bytes is not None else None, pack_date(folder),
                      signed=signer is not None, pack_signer=signer.identity if signer is not None else None)

    on_step("lay out pages")
    front, body = _story(ctx)
    model = governance.model if governance else None
    artefact = cover.artefact_sha256(ctx)
    title = f"Audit pack: {model.name}" + (f" {model.version}" if model and model.version else "") if model else \
        "Model audit pack"
    info = DocumentInfo(
        title=title,
        author=(governance.document.owner if governance and governance.document and governance.document.owner
                else (model.provider if model and model.provider else "QuickLoan governance toolkit")),
        subject="EU AI Act technical documentation (Annex IV) and evidence for one model version",
        keywords=("EU AI Act", "Annex IV", "Annex III 5(b)", "credit scoring", "audit pack", "model governance",
                  f"evidence-index-sha256:{folder.index_sha256}"),
        creator=f"quickloan-governance {__version__}",
        header=title,
        footer=f"evidence index sha256 {folder.index_sha256}",
        banner="SYNTHETIC DATA" if cover.is_synthetic(ctx) else None,
    )
    pdf = build_pdf(front, body, info)
    if pdfa:
        on_step("convert to PDF/A-3b")
        from reports.pdfa import convert_to_pdfa

        pdf = convert_to_pdfa(pdf, docinfo={"Title": info.title, "Author": info.author, "Subject": info.subject,
                                            "Keywords": ", ".join(info.keywords), "Creator": info.creator},
                              date=ctx.generated_at)

    on_step("attach evidence")
    plan = att.attachment_plan(folder, governance_name, governance_bytes, with_data=True)
    facts = {att.INFO_INDEX: folder.index_sha256}
    if artefact:
        facts[att.INFO_ARTEFACT] = artefact
    if ctx.governance_sha256:
        facts[att.INFO_GOVERNANCE] = ctx.governance_sha256
    pdf = att.embed(pdf, plan, facts, date=ctx.generated_at)

    out = Path(out_pdf)
    envelope = None
    if signer is not None:
        on_step("sign")
        envelope = sign_pack(out.name, pdf, _predicate(folder, artefact, ctx, plan), signer)
    write_bytes_atomic(out, pdf)
    signature = Path(f"{out}{SIGNATURE_SUFFIX}")
    if envelope is not None:
        write_bytes_atomic(signature, dumps(envelope))
    elif signature.exists():
        signature.unlink()  # a stale signature over an older PDF would only mislead
    return out


def _predicate(folder: EvidenceFolder, artefact: str | None, ctx: PackContext, plan: list) -> dict:
    return {
        "evidence_index_sha256": folder.index_sha256,
        "artefact_sha256": artefact,
        "governance_file_sha256": ctx.governance_sha256,
        "evidence_dated": ctx.generated_at,
        "attachments": {item.name: item.sha256 for item in plan},
        "renderer": f"quickloan-governance {__version__}",
    }


def verify_pack(pdf: str | os.PathLike, verifier: Verifier | None, *,
                signature: str | os.PathLike | None = None) -> dict:
    """Check a pack: its signature (when a verifier is given), and that every attached evidence file matches the
    index whose digest the PDF states. Return what was checked; raise ``CheckFailed`` with a reason code if not.
    """
    path = Path(pdf)
    with reading(path, "audit pack PDF"):
        pdf_bytes = path.read_bytes()
    result: dict = {"pdf": str(path), "sha256": sha256_bytes(pdf_bytes), "checks": []}
    statement = _check_signature(path, pdf_bytes, verifier, Path(signature) if signature else None, result)

    files, info = att.read_attachments(pdf_bytes)
    stated = info.get(att.INFO_INDEX)
    if not stated:
        raise CheckFailed("NOT_AN_AUDIT_PACK", f"{path}: states no evidence index digest; not an audit pack")
    result["evidence_index_sha256"] = stated
    predicate = statement.get("predicate") if isinstance(statement.get("predicate"), dict) else {}
    signed = predicate.get("attachments") if isinstance(predicate.get("attachments"), dict) else {}
    if predicate.get("evidence_index_sha256") != stated:
        raise CheckFailed("DIGEST_MISMATCH", "the evidence index digest in the PDF differs from the signed one")
    index_bytes = files.get(att.INDEX_NAME)
    if index_bytes is None:
        raise CheckFailed("EVIDENCE_MISSING", f"{path}: the evidence index ({att.INDEX_NAME}) is not attached")
    if sha256_bytes(index_bytes) != stated:
        raise CheckFailed("DIGEST_MISMATCH", f"the attached {att.INDEX_NAME} does not have the digest the pack states")
    result["checks"].append("attached index.json matches the digest on the cover")

    expected = _index_digests(index_bytes)
    checked = 0
    for name, data in sorted(files.items()):
        digest = sha256_bytes(data)
        if signed.get(name) != digest:
            raise CheckFailed("DIGEST_MISMATCH", f"attachment {name}: not as listed in the signed pack statement")
        if name in (att.INDEX_NAME, att.INDEX_SIGNATURE_NAME):
            continue
        if name.startswith(att.GOVERNANCE_PREFIX):
            if digest != info.get(att.INFO_GOVERNANCE):
                raise CheckFailed("DIGEST_MISMATCH", f"attachment {name}: differs from the governance file digest")
            checked += 1
            continue
        relative = name.removeprefix(att.EVIDENCE_PREFIX)
        if not name.startswith(att.EVIDENCE_PREFIX) or relative not in expected:
            raise CheckFailed("EVIDENCE_UNLISTED", f"attachment {name}: not listed in the evidence index")
        if digest != expected[relative]:
            raise CheckFailed("DIGEST_MISMATCH", f"attachment {name}: sha256 differs from the evidence index")
        checked += 1
    missing = sorted(set(expected) - {n.removeprefix(att.EVIDENCE_PREFIX) for n in files})
    if missing:
        raise CheckFailed("EVIDENCE_MISSING", f"evidence file {missing[0]} is in the index but not attached"
                                              + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    absent = sorted(set(signed) - set(files))
    if absent:
        raise CheckFailed("EVIDENCE_MISSING", f"attachment {absent[0]} was signed but is no longer in the PDF")
    result["attachments"] = checked + 1 + (att.INDEX_SIGNATURE_NAME in files)
    result["checks"].append(f"{checked} attached file(s) match the evidence index")
    result["index_signature"] = _index_signature(files, index_bytes, verifier)
    result["signer_authenticated"] = verifier is not None
    result["passed"] = True
    return result


def _index_digests(index_bytes: bytes) -> dict[str, str]:
    """Digests of the index entries a pack attaches ("state" files move after sealing and are not attached)."""
    try:
        index = loads(index_bytes, what="the attached index.json", error=CheckFailed)
        return {e["path"]: e["sha256"] for e in index["files"] if e.get("mode", "fixed") != "state"}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CheckFailed("EVIDENCE_MALFORMED", "the attached index.json is not an evidence index") from None


def _check_signature(path: Path, pdf_bytes: bytes, verifier: Verifier | None, signature: Path | None,
                     result: dict) -> dict:
    from governance.evidence import open_statement
    from governance.signing import dsse

    sig_path = signature or Path(f"{path}{SIGNATURE_SUFFIX}")
    if not sig_path.is_file():
        # An unsigned pack proves nothing about its own bytes: it never verifies.
        raise CheckFailed("SIGNATURE_MISSING", f"{sig_path}: no signature beside the pack; it cannot be verified")
    envelope = loads(read_bytes(sig_path, max_bytes=MAX_BYTES), what=str(sig_path), error=CheckFailed)
    if not isinstance(envelope, dict):
        raise CheckFailed("SIGNATURE_INVALID", f"{sig_path}: not a signature envelope")
    if verifier is not None:
        statement = open_statement(envelope, verifier, sig_path.name)
        result["signature"] = "verified"
        result["signer_key"] = f"sha256:{verifier.key_hint}"
    else:
        _, payload, _ = dsse.decode_envelope(envelope)
        statement = loads(payload, what=f"{sig_path}: the signed payload", error=CheckFailed)
        result["signature"] = "not checked (no --key given)"
    if not isinstance(statement, dict) or statement.get("predicateType") != PACK_PREDICATE_TYPE:
        raise CheckFailed("SIGNATURE_INVALID", f"{sig_path}: not an audit pack signature")
    subject = (statement.get("subject") or [{}])[0]
    if subject.get("digest", {}).get("sha256") != result["sha256"]:
        raise CheckFailed("DIGEST_MISMATCH", f"{path}: the PDF changed after it was signed (its sha256 differs)")
    result["checks"].append("PDF sha256 matches the signed statement")
    return statement


def _index_signature(files: dict[str, bytes], index_bytes: bytes, verifier: Verifier | None) -> str:
    """Whether the attached index signature verifies with the same key (informative: the evidence signer may
    differ from the pack signer, whose signature already covers the index)."""
    envelope_bytes = files.get(att.INDEX_SIGNATURE_NAME)
    if envelope_bytes is None:
        return "not attached"
    if verifier is None:
        return "not checked (no --key given)"
    from governance.signing import dsse

    try:
        statement = dsse.verify_envelope(loads(envelope_bytes, what="index.json.sig"), verifier)
    except (CheckFailed, InputError, ValueError):
        return "does not verify with this key (the evidence may have another signer)"
    subject = (statement.get("subject") or [{}])[0]
    if subject.get("digest", {}).get("sha256") != sha256_bytes(index_bytes):
        raise CheckFailed("DIGEST_MISMATCH", "the attached index.json.sig signs a different index")
    return "verified with this key"
