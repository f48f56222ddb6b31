"""The document shell: page templates, running header and footer ("Page 3 of 21"), table of contents, outline
and metadata.

Built with ``invariant=1`` so the same story gives the same bytes (no wall-clock dates, no random document ID).

>>> from reports.styles import p
>>> pdf = build_pdf([p("Cover")], [heading("1", "Summary", "summary"), p("Hello")], DocumentInfo(title="t"))
>>> pdf[:5]
b'%PDF-'
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, NextPageTemplate, PageBreak, PageTemplate, Paragraph
from reportlab.platypus.tableofcontents import TableOfContents

from reports.styles import (
    MARGIN,
    MONO,
    MUTED,
    PAGE_SIZE,
    RULE,
    SANS,
    SANS_BOLD,
    VERDICT_COLOURS,
    esc,
    register_fonts,
    styles,
)


@dataclass(frozen=True)
class DocumentInfo:
    """What goes into the PDF's metadata and onto every page's header and footer."""

    title: str
    author: str = "QuickLoan governance toolkit"
    subject: str = ""
    keywords: tuple[str, ...] = ()
    creator: str = "quickloan-governance"
    header: str = ""
    footer: str = ""
    banner: str | None = None  # e.g. "SYNTHETIC DATA": repeated in red on every page
    lang: str = "en-GB"
    extra: dict[str, str] = field(default_factory=dict)


class SectionHeading(Paragraph):
    """A numbered level-1 heading: feeds the table of contents, the PDF outline and internal links."""

    def __init__(self, number: str, title: str, key: str) -> None:
        self.toc_text = f"{number}  {title}" if number else title
        self.key = key
        super().__init__(f'<a name="{key}"/>{esc(self.toc_text)}', styles()["h1"])


def heading(number: str, title: str, key: str) -> SectionHeading:
    return SectionHeading(number, title, key)


class _PackTemplate(BaseDocTemplate):
    def afterFlowable(self, flowable) -> None:
        if isinstance(flowable, SectionHeading):
            self.canv.bookmarkPage(flowable.key)
            self.canv.addOutlineEntry(flowable.toc_text, flowable.key, level=0, closed=False)
            self.notify("TOCEntry", (0, flowable.toc_text, self.page, flowable.key))


def table_of_contents() -> TableOfContents:
    toc = TableOfContents(dotsMinLevel=0)
    toc.levelStyles = [styles()["toc0"]]
    return toc


def _canvas_class(info: DocumentInfo):
    """A canvas that holds pages back until the end, so each footer can say "Page n of N"."""

    class PackCanvas(Canvas):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total: int) -> None:
            number = self.getPageNumber()
            width, height = PAGE_SIZE
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            if number > 1:
                self.line(MARGIN, height - MARGIN + 4 * mm, width - MARGIN, height - MARGIN + 4 * mm)
                self.setFont(SANS, 7.5)
                self.setFillColor(MUTED)
                self.drawString(MARGIN, height - MARGIN + 5.5 * mm, info.header)
            if info.banner:
                self.setFillColor(VERDICT_COLOURS["red"])
                self.setFont(SANS_BOLD, 7.5)
                self.drawRightString(width - MARGIN, height - MARGIN + 5.5 * mm, info.banner)
            self.line(MARGIN, MARGIN - 4 * mm, width - MARGIN, MARGIN - 4 * mm)
            self.setFillColor(MUTED)
            self.setFont(MONO, 6.5)
            self.drawString(MARGIN, MARGIN - 8 * mm, info.footer)
            self.setFont(SANS, 7.5)
            self.drawRightString(width - MARGIN, MARGIN - 8 * mm, f"Page {number} of {total}")
            self.restoreState()

    return PackCanvas


def build_pdf(cover: list, body: list, info: DocumentInfo) -> bytes:
    """Lay out the cover page then the body, and return the PDF bytes."""
    register_fonts()
    buffer = io.BytesIO()
    doc = _PackTemplate(
        buffer,
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=info.title,
        author=info.author,
        subject=info.subject,
        keywords=list(info.keywords),
        creator=info.creator,
        producer=info.creator,
        invariant=1,
        lang=info.lang,
        displayDocTitle=1,
        initialFontName=SANS,
    )
    frame = Frame(MARGIN, MARGIN, PAGE_SIZE[0] - 2 * MARGIN, PAGE_SIZE[1] - 2 * MARGIN, id="body",
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate("cover", [frame]), PageTemplate("body", [frame])])
    doc.multiBuild([*cover, NextPageTemplate("body"), PageBreak(), *body], canvasmaker=_canvas_class(info))
    return buffer.getvalue()


