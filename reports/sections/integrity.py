"""Integrity: the artefact's digest, its signature and signer, the verification result, members and safety findings.

Read from ``manifest.json`` (written by ``governance.integrity.write_manifest_evidence``). The section also lays
the artefact digest recorded by every other evidence file next to it: they must all name the same bytes.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph

from reports import evidence_models as em
from reports.sections._base import (
    Assessment,
    PackContext,
    bullets,
    count,
    dig,
    first,
    missing,
)
from reports.styles import data_table, esc, kv_table, mono, notice, p, styles, verdict_text

KEY = "integrity"
TITLE = "Integrity"
REFERENCES = ("Art. 15(5)", "Annex IV 2(h)")
SOURCE = "manifest.json"
MEMBER_ROWS = 60  # a model archive has a handful of members; past this the table is cut and says so


def artefact_digests(ctx: PackContext) -> list[tuple[str, str]]:
    """``(where, sha256)`` of the model artefact as each evidence file records it."""
    found = []
    for relative, paths in (
        (SOURCE, [("artefact", "sha256")]),
        ("evaluation.json", [("model", "artefact_sha256")]),
        ("training.json", ["model_sha256"]),
        ("lineage.json", [("model", "sha256")]),
        ("fairness.json", [("model", "sha256")]),
        ("explain.json", [("model", "sha256")]),
    ):
        if ctx.evidence.has(relative):
            value = first(ctx.evidence.json(relative), *paths)
            if isinstance(value, str):
                found.append((relative, value))
    return found


def assess(ctx: PackContext) -> Assessment:
    digests = artefact_digests(ctx)
    disagree = len({d for _, d in digests}) > 1
    manifest = em.manifest(ctx.evidence)
    if manifest is None:
        blockers = ["No integrity evidence (manifest.json): the artefact's signature and safety are not evidenced."]
        if disagree:
            blockers.append("The evidence files name different model artefacts (digests disagree).")
        return Assessment("Integrity", KEY, "red" if disagree else "grey", "No integrity manifest in the evidence.",
                          ran=disagree, blockers=blockers)
    verification = manifest.verification
    blockers = []
    if not verification.verified:
        blockers.append(f"The artefact did not verify: {esc(verification.reason or '')} "
                        f"{esc(verification.message or '')}".strip())
    blockers += [f"Unsafe archive: {esc(f.code)} {esc(f.message)}" for f in manifest.blocking]
    if disagree:
        blockers.append("The evidence files name different model artefacts (digests disagree).")
    verdict = "red" if blockers else "amber" if manifest.findings else "green"
    signer = manifest.signer.get("identity") or "an unknown signer"
    headline = (f"Signature by {signer[:28]}… {'verified' if verification.verified else 'NOT verified'}; "
                f"{len(manifest.blocking)} blocking and {len(manifest.findings) - len(manifest.blocking)} other "
                "safety finding(s).")
    return Assessment("Integrity", KEY, verdict, headline, blockers=blockers)


def key_duties(ctx: PackContext) -> list[tuple[str, str | None, str]]:
    """``(duty, key identity, where it is recorded)`` for the three signing duties."""
    manifest = em.manifest(ctx.evidence)
    return [("Signs the model artefact", manifest.signer.get("identity") if manifest else None, "manifest.json"),
            ("Seals the evidence (index, provenance, ledger heads)",
             dig(ctx.evidence.index, "signer", "identity"), "index.json"),
            ("Signs this audit pack", ctx.pack_signer, "audit-pack.pdf.sig")]


def _segregation(ctx: PackContext) -> list[Flowable]:
    duties = key_duties(ctx)
    keys = [identity for _, identity, _ in duties if identity]
    story: list[Flowable] = [p("Keys and duties", "h2"), data_table(
        ["Duty", "Key", "Recorded in"], [[duty, mono(identity or "not signed"), where] for duty, identity, where in
                                         duties], [55 * mm, None, 32 * mm])]
    if len(keys) == 3 and len(set(keys)) == 3:
        story.append(p("Three different keys: no single key can both make the model and vouch for its evidence or "
                       "this pack (segregation of duties)."))
    else:
        story.append(notice("One key holds more than one of these duties, or a duty is unsigned: the duties are "
                            "not segregated.", "warn"))
    return story


def _artefact_and_signature(ctx: PackContext, manifest: em.Manifest) -> list[Flowable]:
    artefact, signature, signer = manifest.artefact, manifest.signature, manifest.signer
    verification = manifest.verification
    story: list[Flowable] = [p("Artefact", "h2"), kv_table([
        ("Name", artefact.get("name")),
        ("Location when checked", artefact.get("uri")),
        ("Size", f"{count(artefact.get('size'))} bytes"),
        ("sha256 of the bytes", mono(artefact.get("sha256"))),
        ("sha256 that was signed", mono(artefact.get("signed_sha256"))),
        ("OMS subject digest", mono(artefact.get("oms_subject_digest"))),
    ]), p("Signature and verification", "h2"), kv_table([
        ("Result", Paragraph(verdict_text("green" if verification.verified else "red") + " " +
                             esc(verification.message), styles()["cell"])),
        ("Reason code", verification.reason or "—"),
        ("Checked at", verification.checked_at),
        ("Unsafe archive allowed", "yes" if verification.allow_unsafe else "no"),
        ("Signer", signer.get("identity")),
        ("Signed at", signer.get("signed_at")),
        ("Trusted as", signer.get("trusted_as") or "the key given to the verifier"),
        ("Signature format", f"{signature.get('format')}; statement {signature.get('predicate_type')}"),
        ("Signature file sha256", mono(signature.get("signature_sha256"))),
        ("Member manifest", f"{manifest.manifest_source}; statement {signature.get('manifest_predicate_type')}"),
    ])]
    if verification.changes:
        story += [p("What changed since signing", "h2"),
                  bullets([esc(c.get("detail") or f"{c.get('member')} {c.get('change')}")
                           for c in verification.changes])]
    return [*story, ctx.source(SOURCE)]


def _members_and_findings(ctx: PackContext, manifest: em.Manifest) -> list[Flowable]:
    members = manifest.members
    story: list[Flowable] = [p(f"Members of the archive ({count(len(members))})", "h2"), data_table(
        ["Member", "Type", "Mode", "Bytes", "sha256"],
        [[m.name, m.type, m.mode, count(m.size), m.sha256] for m in members[:MEMBER_ROWS]],
        [40 * mm, 12 * mm, 12 * mm, 18 * mm, None], mono_columns=(4,), align_right=(3,))]
    if len(members) > MEMBER_ROWS:
        story.append(p(f"… and {count(len(members) - MEMBER_ROWS)} more member(s), listed in the attached "
                       "manifest.json.", "small"))
    code = manifest.artefact.get("code_members") or []
    story.append(p(("<b>Code shipped in the archive</b> (installed by SageMaker at serving time): "
                    + ", ".join(esc(c) for c in code)) if code else "No code/ members: the archive carries no code "
                   "that would run at serving time."))
    story += [p("Archive safety findings", "h2")]
    story.append(data_table(["Severity", "Code", "Member", "Finding"],
                            [[f.severity, f.code, f.member or "—", f.message] for f in manifest.findings],
                            [18 * mm, 36 * mm, 30 * mm, None])
                 if manifest.findings else p("None: no path traversal, links, special files, pickle data or "
                                             "oversized members were found, and the model member parses as a "
                                             "native XGBoost model."))
    return [*story, ctx.source(SOURCE)]


def build(ctx: PackContext) -> list[Flowable]:
    manifest = em.manifest(ctx.evidence)
    story: list[Flowable] = _segregation(ctx)
    if manifest is None:
        story.append(missing("integrity manifest (manifest.json): the signature and safety findings"))
    else:
        story += _artefact_and_signature(ctx, manifest) + _members_and_findings(ctx, manifest)
    story += _same_artefact(ctx)
    return story


def _same_artefact(ctx: PackContext) -> list[Flowable]:
    story: list[Flowable] = []
    digests = artefact_digests(ctx)
    if digests:
        agree = len({d for _, d in digests}) == 1
        story += [p("The same artefact everywhere", "h2"),
                  p("Every evidence file that names the model artefact, with the digest it records. "
                    + ("They all agree." if agree else "<b>They do not agree: the evidence describes more than one "
                                                       "artefact.</b>")),
                  data_table(["Evidence file", "Artefact sha256 it records"], [[w, d] for w, d in digests],
                             [40 * mm, None], mono_columns=(1,))]
    return story
