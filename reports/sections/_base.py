"""What every section shares: the render context, the per-area assessment and small helpers.

Sections read evidence files through the typed readers of :mod:`reports.evidence_models`, which check the
writer's schema version and fail loudly on a renamed key. :func:`dig` and :func:`first` remain for what has no
fixed layout of ours: decoded in-toto statements, the lineage summary, the index and ledger records.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Image, ListFlowable, ListItem, Paragraph

from reports.evidence_folder import EvidenceFolder
from reports.governance_file import GovernanceFile
from reports.status import NO_EVIDENCE, STATED, check_verdict
from reports.styles import FRAME_WIDTH, esc, notice, p, styles


@dataclass
class Assessment:
    """One area's verdict for the executive summary (vocabulary: :mod:`reports.status`).

    ``verdict`` is green, amber or red only when a check ran on evidence (``ran``); an area people wrote is
    ``stated``, and an area with nothing supplied is ``grey``.
    """

    area: str
    key: str
    verdict: str
    headline: str
    blockers: list[str] = field(default_factory=list)
    open_items: list[str] = field(default_factory=list)
    sign_offs: list[str] = field(default_factory=list)  # people who still have to sign the model off
    ran: bool = True

    def __post_init__(self) -> None:
        check_verdict(self.verdict, ran=self.ran)


def stated(area: str, key: str, headline: str, **lists: list[str]) -> Assessment:
    """The assessment of an area written by people: STATED, never a colour that suggests a test."""
    return Assessment(area, key, STATED, headline, ran=False, **lists)


def not_supplied(area: str, key: str, headline: str, **lists: list[str]) -> Assessment:
    return Assessment(area, key, NO_EVIDENCE, headline, ran=False, **lists)


@dataclass
class PackContext:
    evidence: EvidenceFolder
    governance: GovernanceFile | None
    governance_name: str | None = None
    governance_sha256: str | None = None
    generated_at: str | None = None
    signed: bool = False
    pack_signer: str | None = None  # identity of the key signing this pack
    numbers: dict[str, str] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    assessments: dict[str, Assessment] = field(default_factory=dict)

    def link(self, key: str) -> str:
        """Markup for a clickable "§6 Performance" reference to another section."""
        number = self.numbers.get(key, "")
        title = self.titles.get(key, key)
        label = f"§{number} {title}" if number and number[0].isdigit() else f"{number} {title}".strip()
        return f'<a href="#{key}" color="#1d4e89">{esc(label)}</a>'

    def source(self, *relatives: str) -> Paragraph:
        """The "Source:" line under a table or chart: evidence file names with their digests."""
        parts = []
        for relative in relatives:
            digest = self.evidence.digest(relative)
            if digest is not None:
                parts.append(f"{esc(relative)} (sha256 {digest[:12]}…)")
            elif relative == "governance file" and self.governance_sha256:
                parts.append(f"{esc(self.governance_name)} (sha256 {self.governance_sha256[:12]}…)")
        return p("Source: " + "; ".join(parts) if parts else "Source: —", "small")

    def governance_source(self) -> Paragraph:
        if self.governance is None:
            return p("Source: no model governance file was supplied.", "small")
        return p(f"Source: model governance file {esc(self.governance_name)} "
                 f"(sha256 {esc((self.governance_sha256 or '')[:12])}…), written by people, not measured.", "small")


def dig(obj: Any, *path: str | int, default: Any = None) -> Any:
    """``obj[path[0]][path[1]]...`` or ``default`` when any step is missing or of the wrong type."""
    for part in path:
        in_dict = isinstance(obj, dict) and part in obj
        in_list = isinstance(obj, list) and isinstance(part, int) and -len(obj) <= part < len(obj)
        if in_dict or in_list:
            obj = obj[part]
        else:
            return default
    return obj


def first(obj: Any, *paths: tuple | str, default: Any = None) -> Any:
    """The first of several candidate paths that exists (evidence layouts vary between writers)."""
    for path in paths:
        value = dig(obj, *(path if isinstance(path, tuple) else (path,)))
        if value is not None:
            return value
    return default


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, dict) and "value" in value:
        return as_float(value["value"])
    return None


def num(value: Any, digits: int = 4) -> str:
    """A number as the pack prints it (fixed decimals); anything else as text, missing as "—"."""
    number = as_float(value)
    if number is not None:
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return f"{number:.{digits}f}"
    if value is None:
        return "—"
    return str(value)


def pct(value: Any, digits: int = 1) -> str:
    number = as_float(value)
    return "—" if number is None else f"{number * 100:.{digits}f}%"


def count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else num(value, 0)


def verdict_of(value: Any) -> str:
    """Normalise a verdict string written by the toolkit ("green"/"amber"/"red", PASS/FAIL...)."""
    text = str(value or "").strip().lower()
    if text in {"green", "pass", "passed", "ok", "verified", "true"}:
        return "green"
    if text in {"amber", "warn", "warning", "waived"}:
        return "amber"
    if text in {"red", "fail", "failed", "error", "false"}:
        return "red"
    return "grey"


def worst(verdicts: list[str]) -> str:
    order = {"red": 3, "amber": 2, "green": 1, "grey": 0}
    return max(verdicts, key=lambda v: order.get(v, 0)) if verdicts else "grey"


def png_image(data: bytes, width_mm: float, max_height_mm: float = 110) -> Image:
    """A PNG scaled to ``width_mm`` keeping its aspect ratio, shrunk further if taller than ``max_height_mm``."""
    from reportlab.lib.utils import ImageReader

    width = min(width_mm * mm, FRAME_WIDTH)
    pixels_w, pixels_h = ImageReader(io.BytesIO(data)).getSize()
    height = width * pixels_h / pixels_w
    if height > max_height_mm * mm:
        width, height = width * max_height_mm * mm / height, max_height_mm * mm
    return Image(io.BytesIO(data), width=width, height=height, hAlign="LEFT")


def natural_png(data: bytes, max_height_mm: float = 230) -> Image:
    """A PNG at the physical size its DPI says (shrunk only if wider than the frame or taller than the limit).

    For pictures drawn at print size, such as the lineage graph, so their text prints at the size it was drawn.
    """
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(data)) as picture:
        pixels_w, pixels_h = picture.size
        dpi = float((picture.info.get("dpi") or (72, 72))[0]) or 72.0
    width, height = pixels_w / dpi * 72, pixels_h / dpi * 72  # points
    scale = min(1.0, FRAME_WIDTH / width, max_height_mm * mm / height)
    return Image(io.BytesIO(data), width=width * scale, height=height * scale, hAlign="CENTER")


def figure(ctx: PackContext, relative: str, data: bytes, width_mm: float = 140) -> Flowable:
    """An evidence chart with its source line, kept on one page, with room after it."""
    from reportlab.platypus import KeepTogether, Spacer

    return KeepTogether([png_image(data, width_mm), ctx.source(relative), Spacer(0, 4 * mm)])


def bullets(items: list[str], style: str = "body") -> ListFlowable:
    """A bulleted list from already-escaped markup."""
    return ListFlowable(
        [ListItem(Paragraph(item, styles()[style]), leftIndent=10, value="•") for item in items],
        bulletType="bullet", start="•", leftIndent=10, bulletFontSize=7,
    )


def missing(what: str, kind: str = "evidence") -> Flowable:
    """The plain statement printed where an input is absent."""
    if kind == "evidence":
        return notice(f"No {esc(what)} was supplied in the evidence folder. This remains an open item.")
    return notice(f"The model governance file does not state {esc(what)}. This remains an open item for the "
                  "accountable people to write; the pack does not fill it in.")


def evidence_pngs(ctx: PackContext, folder: str) -> list[tuple[str, bytes]]:
    """Charts the evidence already holds under ``folder/`` (indexed PNGs only), in name order."""
    found = []
    for relative in ctx.evidence.paths(f"{folder}/*.png"):
        data = ctx.evidence.read_bytes(relative)
        if data is not None:
            found.append((relative, data))
    return found


def checks_table(checks: list[dict]) -> Flowable:
    """Verdict badge, check id, resource and the writer's own message (plus any waiver), one row per check."""
    from reportlab.lib.units import mm

    from reports.styles import badge, data_table

    rows = []
    for check in checks:
        shown = verdict_of(check.get("effective_verdict", check.get("verdict")))
        waiver = check.get("waiver") if isinstance(check.get("waiver"), dict) else None
        note = str(check.get("message") or "")
        if check.get("waived") and waiver:
            note += f" WAIVED by {waiver.get('approver')} until {waiver.get('expires')}: {waiver.get('reason')}"
        rows.append([badge(shown), check.get("check"), check.get("resource"), note])
    return data_table(["Verdict", "Check", "Applies to", "Finding"], rows, [27 * mm, 36 * mm, 17 * mm, None])
