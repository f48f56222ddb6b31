"""Embed the evidence in the PDF as file attachments, so the pack carries its own proof; and read them back.

Every indexed evidence file, ``index.json`` and its signature, and the model governance file are attached.
Names in the PDF's embedded-files tree keep the folder layout (``evidence/provenance/train.intoto.json``); the
file name a reader saves to is flattened (``provenance__train.intoto.json``) because extractors refuse slashes.
Each attachment is also listed in the catalog's ``/AF`` array with ``/AFRelationship /Data`` (the PDF/A-3 way
of saying "the document is rendered from these").

>>> from reports.evidence_folder import open_evidence
>>> folder = open_evidence("evidence", verifier)
>>> plan = attachment_plan(folder, "gov.yaml", b"model: {name: demo}")
>>> [a.name for a in plan][:3], plan[-1].name
(['evidence/index.json', 'evidence/index.json.sig', 'evidence/dataset.json'], 'governance/gov.yaml')
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath

from governance.errors import CheckFailed
from governance.hashing import sha256_bytes
from reports.evidence_folder import INDEX, INDEX_SIGNATURE, EvidenceFolder

EVIDENCE_PREFIX = "evidence/"
GOVERNANCE_PREFIX = "governance/"
INDEX_NAME = EVIDENCE_PREFIX + INDEX
INDEX_SIGNATURE_NAME = EVIDENCE_PREFIX + INDEX_SIGNATURE
# Document information keys that tie the PDF to its evidence (also carried in the pack's signed statement).
INFO_INDEX = "/EvidenceIndexSHA256"
INFO_ARTEFACT = "/ModelArtefactSHA256"
INFO_GOVERNANCE = "/ModelGovernanceFileSHA256"

_MIME = {".json": "application/json", ".jsonl": "application/jsonl", ".sarif": "application/sarif+json",
         ".xml": "application/xml", ".png": "image/png", ".yaml": "application/yaml", ".yml": "application/yaml",
         ".sig": "application/json", ".csv": "text/csv", ".txt": "text/plain"}


@dataclass(frozen=True)
class Attachment:
    name: str  # key in the embedded-files tree
    source: str  # evidence-relative path, or the governance file's name
    mime_type: str
    description: str
    data: bytes = b""

    @property
    def filename(self) -> str:
        return self.name.split("/", 1)[1].replace("/", "__")

    @property
    def sha256(self) -> str:
        return sha256_bytes(self.data)


def _mime(path: str) -> str:
    return _MIME.get(PurePosixPath(path).suffix.lower(), "application/octet-stream")


def attachment_plan(folder: EvidenceFolder, governance_name: str | None, governance_bytes: bytes | None,
                    *, with_data: bool = False) -> list[Attachment]:
    """What the pack embeds, in a fixed order: the index and its signature, every indexed file, the governance file."""
    plan = [Attachment(INDEX_NAME, INDEX, "application/json", "Evidence index: every file with its sha256",
                       folder.index_bytes if with_data else b"")]
    if folder.index_signature_bytes is not None:
        plan.append(Attachment(INDEX_SIGNATURE_NAME, INDEX_SIGNATURE, "application/json",
                               "DSSE signature over index.json by the evidence signer",
                               folder.index_signature_bytes if with_data else b""))
    for relative in sorted(folder.digests):
        data = (folder.read_bytes(relative) or b"") if with_data else b""
        plan.append(Attachment(EVIDENCE_PREFIX + relative, relative, _mime(relative),
                               f"Evidence file {relative} (sha256 {folder.digests[relative]})", data))
    if governance_name is not None and governance_bytes is not None:
        name = PurePosixPath(governance_name).name
        plan.append(Attachment(GOVERNANCE_PREFIX + name, name, _mime(name),
                               "Model governance file: the human-written parts of the pack", governance_bytes))
    return plan


def pdf_date(iso: str | None) -> str:
    """``D:YYYYMMDDHHmmSSZ`` from an ISO timestamp (empty when there is none)."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        return moment.strftime("D:%Y%m%d%H%M%S")
    return moment.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")


def embed(pdf_bytes: bytes, attachments: list[Attachment], info: dict[str, str], *, date: str | None = None) -> bytes:
    """Return ``pdf_bytes`` with the attachments and document-information entries added, saved deterministically."""
    import pikepdf

    stamp = pdf_date(date)
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        specs = []
        for item in attachments:
            spec = pikepdf.AttachedFileSpec(pdf, item.data, description=item.description, filename=item.filename,
                                            mime_type=item.mime_type, creation_date=stamp, mod_date=stamp,
                                            relationship=pikepdf.Name.Data)
            pdf.attachments[item.name] = spec
            specs.append(spec.obj)
        pdf.Root.AF = pdf.make_indirect(pikepdf.Array(specs))
        for key, value in info.items():
            pdf.docinfo[key] = value
        if stamp:  # the evidence's own date, not reportlab's fixed invariant date
            pdf.docinfo["/CreationDate"] = stamp
            pdf.docinfo["/ModDate"] = stamp
        if "/ID" in pdf.trailer:  # ghostscript writes a random one; qpdf would keep its first half
            del pdf.trailer["/ID"]
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True, compress_streams=True)
    return out.getvalue()


def read_attachments(pdf_bytes: bytes) -> tuple[dict[str, bytes], dict[str, str]]:
    """``({name: bytes}, {info key: value})`` from a pack; an unreadable PDF is a failed check."""
    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
            files = {name: bytes(spec.get_file().read_bytes()) for name, spec in pdf.attachments.items()}
            info = {str(k): str(v) for k, v in pdf.docinfo.items()}
    except pikepdf.PdfError as err:
        raise CheckFailed("PDF_UNREADABLE", f"not a readable PDF ({err})") from None
    return files, info
