"""The pack's look: fonts, paragraph styles, verdict colours and the few table shapes every section uses.

Text comes from evidence files and a human-written YAML file, so everything put into a paragraph goes through
:func:`esc` first: a ``<`` in a finding must print, not break the markup.

The fonts are the DejaVu family that ships inside matplotlib (already a dependency): they cover ≥, ×, → and
other signs the standard PDF fonts lack, and they are embedded, which archival PDF (PDF/A) requires.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from reports.status import VERDICT_LABELS, VERDICT_MEANINGS, Status

PAGE_SIZE = A4
MARGIN = 18 * mm
FRAME_WIDTH = PAGE_SIZE[0] - 2 * MARGIN

SANS, SANS_BOLD, SANS_ITALIC, MONO = "PackSans", "PackSans-Bold", "PackSans-Oblique", "PackMono"

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
RULE = colors.HexColor("#cbd2d9")
HEADER_FILL = colors.HexColor("#e4e7eb")
STRIPE_FILL = colors.HexColor("#f5f7fa")
ACCENT = colors.HexColor("#1d4e89")

# Verdicts of checks that ran ("green" | "amber" | "red"), "stated" (written by people, not tested; blue, never
# green) and "grey" (no evidence). Their labels and meanings live in reports.status.
VERDICT_COLOURS = {
    "green": colors.HexColor("#2f7d32"),
    "amber": colors.HexColor("#b26a00"),
    "red": colors.HexColor("#b3261e"),
    "stated": colors.HexColor("#1d4e89"),
    "grey": colors.HexColor("#616e7c"),
}


@cache
def register_fonts() -> None:
    """Register the embedded font family once per process."""
    import matplotlib
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for name, file in (
        (SANS, "DejaVuSans.ttf"),
        (SANS_BOLD, "DejaVuSans-Bold.ttf"),
        (SANS_ITALIC, "DejaVuSans-Oblique.ttf"),
        (MONO, "DejaVuSansMono.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, str(ttf / file)))
    addMapping(SANS, 0, 0, SANS)
    addMapping(SANS, 1, 0, SANS_BOLD)
    addMapping(SANS, 0, 1, SANS_ITALIC)
    addMapping(SANS, 1, 1, SANS_BOLD)


def _style(name: str, **kw) -> ParagraphStyle:
    base = {"fontName": SANS, "fontSize": 9, "leading": 12, "textColor": INK}
    base.update(kw)
    return ParagraphStyle(name, **base)


@cache
def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    return {
        "title": _style("title", fontName=SANS_BOLD, fontSize=22, leading=28, textColor=ACCENT, spaceAfter=6),
        "subtitle": _style("subtitle", fontSize=12, leading=16, textColor=MUTED, spaceAfter=14),
        "h1": _style("h1", fontName=SANS_BOLD, fontSize=15, leading=19, textColor=ACCENT, spaceBefore=4, spaceAfter=4),
        "h2": _style("h2", fontName=SANS_BOLD, fontSize=11, leading=14, spaceBefore=10, spaceAfter=4),
        "body": _style("body", spaceAfter=5),
        "small": _style("small", fontSize=7.5, leading=9.5, textColor=MUTED),
        "refs": _style("refs", fontSize=8, leading=10.5, textColor=MUTED, spaceAfter=8),
        "cell": _style("cell", fontSize=8, leading=10),
        "cell_bold": _style("cell_bold", fontName=SANS_BOLD, fontSize=8, leading=10),
        "cell_mono": _style("cell_mono", fontName=MONO, fontSize=6.6, leading=8.5),
        "cell_head": _style("cell_head", fontName=SANS_BOLD, fontSize=8, leading=10),
        "mono": _style("mono", fontName=MONO, fontSize=7.5, leading=10),
        "badge": _style("badge", fontName=SANS_BOLD, fontSize=7.5, leading=9.5, textColor=colors.white,
                         alignment=TA_CENTER),
        "banner": _style("banner", fontName=SANS_BOLD, fontSize=10, leading=13, textColor=colors.white,
                         alignment=TA_CENTER),
        "toc0": _style("toc0", fontSize=10, leading=15),
    }


def esc(value: object) -> str:
    """Text for a paragraph: markup characters escaped, ``None`` shown as an em dash."""
    if value is None:
        return "—"
    return escape(str(value))


def sentence(text: str) -> str:
    """``text`` escaped, with a capital first letter and one full stop."""
    text = text.strip().rstrip(".")
    return esc(text[:1].upper() + text[1:] + ".")


def p(text: str, style: str = "body") -> Paragraph:
    """A paragraph from trusted markup (callers escape evidence text with :func:`esc`)."""
    return Paragraph(text, styles()[style])


def cell(value: object, style: str = "cell") -> Paragraph:
    return Paragraph(esc(value), styles()[style])


def mono(value: object) -> Paragraph:
    return cell(value, "cell_mono")


def badge(verdict: str | None) -> Table:
    """A coloured verdict label; unknown verdicts show as grey with their own name."""
    key = (verdict or "grey").lower()
    colour = VERDICT_COLOURS.get(key, VERDICT_COLOURS["grey"])
    label = VERDICT_LABELS.get(key, esc(verdict).upper())
    table = Table([[Paragraph(label, styles()["badge"])]], colWidths=[25 * mm])
    table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), colour), ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5)]))
    return table


def verdict_text(verdict: str | None) -> str:
    """Inline coloured verdict for a paragraph."""
    key = (verdict or "grey").lower()
    colour = VERDICT_COLOURS.get(key, VERDICT_COLOURS["grey"]).hexval()[2:]
    return f'<font color="#{colour}"><b>{VERDICT_LABELS.get(key, esc(verdict).upper())}</b></font>'


def data_table(
    header: list[str],
    rows: list[list[object]],
    widths: list[float] | None = None,
    *,
    mono_columns: tuple[int, ...] = (),
    align_right: tuple[int, ...] = (),
    row_fills: dict[int, colors.Color] | None = None,
) -> Table:
    """A table that repeats its header on every page it spans and splits between rows, never inside one."""
    sheet = styles()
    body = []
    for row in rows:
        cells = []
        for column, value in enumerate(row):
            if isinstance(value, Flowable):
                cells.append(value)
            else:
                style = sheet["cell_mono"] if column in mono_columns else sheet["cell"]
                cells.append(Paragraph(esc(value), style))
        body.append(cells)
    head = [Paragraph(esc(h), sheet["cell_head"]) for h in header]
    table = Table([head, *body], colWidths=_widths(widths, len(header)), repeatRows=1, hAlign="LEFT")
    commands = [
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, MUTED),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for column in align_right:
        commands.append(("ALIGN", (column, 1), (column, -1), "RIGHT"))
    for index, fill in (row_fills or {}).items():
        commands.append(("BACKGROUND", (0, index + 1), (-1, index + 1), fill))
    table.setStyle(TableStyle(commands))
    return table


def kv_table(pairs: list[tuple[str, object]], widths: tuple[float, float] = (55 * mm, None)) -> Table:
    """Label → value rows (document control, model facts); values may be flowables."""
    sheet = styles()
    rows = []
    for label, value in pairs:
        shown = value if isinstance(value, Flowable) else Paragraph(esc(value), sheet["cell"])
        rows.append([Paragraph(esc(label), sheet["cell_bold"]), shown])
    table = Table(rows, colWidths=_widths(list(widths), 2), hAlign="LEFT")
    table.setStyle(TableStyle([
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), STRIPE_FILL),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]))
    return table


def _widths(widths: list[float | None] | None, count: int) -> list[float]:
    if widths is None:
        return [FRAME_WIDTH / count] * count
    fixed = sum(w for w in widths if w is not None)
    free = [w for w in widths if w is None]
    share = (FRAME_WIDTH - fixed) / len(free) if free else 0
    return [share if w is None else w for w in widths]


def notice(text: str, kind: str = "open") -> KeepTogether:
    """A boxed note: ``open`` (an open item: evidence or a human part is missing), ``warn`` or ``info``."""
    fill = {"open": colors.HexColor("#fff4e5"), "warn": colors.HexColor("#fdecea"), "info": colors.HexColor("#e8f1fb")}
    edge = {"open": VERDICT_COLOURS["amber"], "warn": VERDICT_COLOURS["red"], "info": ACCENT}
    label = {"open": "Open item. ", "warn": "Attention. ", "info": ""}[kind]
    table = Table([[Paragraph(f"<b>{label}</b>{text}", styles()["cell"])]], colWidths=[FRAME_WIDTH])
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), fill[kind]),
        ("LINEBEFORE", (0, 0), (0, -1), 3, edge[kind]),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
    ]))
    return KeepTogether([table, Spacer(0, 6)])


def gap(height_mm: float = 3) -> Spacer:
    return Spacer(0, height_mm * mm)


def status_text(status: Status) -> str:
    """An obligation status as coloured inline markup."""
    colour = VERDICT_COLOURS[status.colour].hexval()[2:]
    return f'<font color="#{colour}"><b>{esc(status.value)}</b></font>'


def verdict_legend() -> str:
    """The one legend for verdicts, printed wherever verdicts are shown."""
    return " ".join(f"{verdict_text(key)} {esc(meaning)};" for key, meaning in VERDICT_MEANINGS.items())[:-1] + "."


def status_legend() -> str:
    """The one legend for obligation statuses."""
    return " ".join(f"{status_text(status)}: {esc(status.meaning)};" for status in Status)[:-1] + "."
