"""Rendering time of the demo's audit pack, by phase, side by side with named references, in one run.

    .venv/bin/python bench/bench_pack.py [--evidence DIR --key PEM] [--rows 20000] [--repeat 3]

Without ``--evidence`` an evidence folder is first built the way ``governance demo`` builds it (synthetic data,
20,000 rows, every governance part at its default settings; not timed).

Measured (median of ``--repeat`` runs):

1. ``render_pack`` end to end: verify the signed index, lay out the pages (charts included), attach the evidence,
   sign — against the reference **reportlab layout alone** (the same story, already assessed, built by
   reportlab with nothing else), and against **hashing the evidence folder** (``verify_index``, the floor for any
   renderer that must check its inputs first).
2. ``verify_pack`` against the reference **pikepdf open + read every attachment** (its floor).
3. PDF/A-3b conversion (ghostscript), when ``gs`` is installed, against the plain render.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def median_time(action, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def prepare(args) -> tuple[Path, Path]:
    if args.evidence:
        return Path(args.evidence), Path(args.key)
    from tests.pack_evidence import build_evidence

    root = Path(tempfile.mkdtemp(prefix="bench-pack-"))
    print(f"building the demo's evidence ({args.rows:,} synthetic rows, default settings) in {root} (not timed) ...",
          flush=True)
    built = build_evidence(root, args.rows, fast=False)
    return built.evidence, built.key


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evidence", help="an existing, sealed evidence folder")
    parser.add_argument("--key", help="its signing key (PEM); required with --evidence")
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.evidence and not args.key:
        parser.error("--evidence needs --key")

    import pikepdf

    from governance.evidence import verify_index
    from governance.signing import PublicKeyVerifier, load_signer
    from reports import example_path, render_pack, verify_pack
    from reports.document import DocumentInfo, build_pdf
    from reports.evidence_folder import open_evidence, pack_date
    from reports.pack import _governance, _story
    from reports.sections._base import PackContext

    evidence, key = prepare(args)
    signer = load_signer(key)
    verifier = PublicKeyVerifier(signer.public_key_pem())
    out = Path(tempfile.mkdtemp(prefix="bench-pack-out-")) / "audit-pack.pdf"
    governance = example_path()

    phases: dict[str, list[float]] = {}

    def timed_render() -> Path:
        marks = [("start", time.perf_counter())]
        path = render_pack(evidence, out, governance, signer, on_step=lambda name: marks.append((name,
                                                                                                 time.perf_counter())))
        marks.append(("end", time.perf_counter()))
        for (name, began), (_, ended) in itertools.pairwise(marks[1:]):
            phases.setdefault(name, []).append(ended - began)
        return path

    render_pack(evidence, out, governance, signer)  # warm: imports, fonts, matplotlib
    total, pdf = median_time(timed_render, args.repeat)

    def layout_only() -> bytes:
        folder = open_evidence(evidence, verifier)
        gov, name, data = _governance(folder, governance)
        from governance.hashing import sha256_bytes

        ctx = PackContext(folder, gov, name, sha256_bytes(data), pack_date(folder))
        front, body = _story(ctx)
        return build_pdf(front, body, DocumentInfo(title="reference"))

    hashing, _ = median_time(lambda: verify_index(evidence, verifier), args.repeat)
    layout, _ = median_time(layout_only, args.repeat)
    layout -= hashing  # layout_only verifies the index too; the reference is reportlab + charts alone
    checking, _ = median_time(lambda: verify_pack(pdf, verifier), args.repeat)

    def read_attachments() -> int:
        with pikepdf.open(pdf) as doc:
            return sum(len(spec.get_file().read_bytes()) for spec in doc.attachments.values())

    floor, attached_bytes = median_time(read_attachments, args.repeat)
    with pikepdf.open(pdf) as doc:
        pages, attachments = len(doc.pages), len(doc.attachments)
    size = pdf.stat().st_size

    print(f"\naudit pack: {pages} pages, {attachments} attachments ({attached_bytes / 1e6:.2f} MB of evidence), "
          f"{size / 1e6:.2f} MB PDF; median of {args.repeat}")
    print(f"{'measure':46s} {'seconds':>8s}  ratio")
    print(f"{'render_pack, end to end':46s} {total:8.3f}")
    medians = {name: statistics.median(values) for name, values in phases.items()}
    for name, value in medians.items():
        print(f"{'  ' + name:46s} {value:8.3f}  {value / sum(medians.values()):5.0%} of the phases")
    print(f"{'reference: reportlab layout alone':46s} {layout:8.3f}  render/reference = {total / layout:.2f}x")
    print(f"{'reference: verify_index (hash the evidence)':46s} {hashing:8.3f}  "
          f"render/reference = {total / hashing:.1f}x")
    print(f"{'verify_pack':46s} {checking:8.3f}")
    print(f"{'reference: pikepdf read every attachment':46s} {floor:8.3f}  verify/reference = {checking / floor:.2f}x")

    import shutil

    if shutil.which("gs"):
        pdfa_out = out.with_name("audit-pack-pdfa.pdf")
        archival, _ = median_time(lambda: render_pack(evidence, pdfa_out, governance, signer, pdfa=True), args.repeat)
        print(f"{'render_pack --pdfa (ghostscript)':46s} {archival:8.3f}  pdfa/plain = {archival / total:.2f}x "
              f"({pdfa_out.stat().st_size / 1e6:.2f} MB)")
    else:
        print("ghostscript not installed: PDF/A conversion not measured")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
