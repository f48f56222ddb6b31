"""The pack's sections, one module each, in reading order.

A section module has ``KEY`` (its anchor), ``TITLE``, ``REFERENCES`` (the points it relates to, keys of
``reports.citations.CITATIONS``; how far each is met is the obligations map's job), ``build(ctx) -> flowables``
and, if it judges an area for the executive summary, ``assess(ctx) -> Assessment``.
A section whose input is missing still appears and says so plainly.
"""

from __future__ import annotations

from types import ModuleType

from reports.sections import (
    appendix,
    classification,
    data,
    explainability,
    fairness,
    integrity,
    lessons,
    lineage,
    model_card,
    monitoring,
    oversight,
    performance,
    policy,
    risks,
    summary,
    training,
    validation,
)

# (number printed in the heading, module); the cover and the contents page come before these.
SECTIONS: tuple[tuple[str, ModuleType], ...] = (
    ("1", summary),
    ("2", classification),
    ("3", model_card),
    ("4", data),
    ("5", training),
    ("6", performance),
    ("7", fairness),
    ("8", explainability),
    ("9", integrity),
    ("10", lineage),
    ("11", policy),
    ("12", risks),
    ("13", oversight),
    ("14", monitoring),
    ("15", lessons),
    ("16", validation),
    ("Appendix A", appendix),
)
