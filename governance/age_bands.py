"""Age bands: the sensitive feature, grouped the way the fairness policy says (read by fairness and explain).

Bands are closed integer ranges (``max`` inclusive; the last may be open). An age counts in a band when
``min <= age < max + 1``, so a fractional age never falls between two bands. Ages outside the policy's valid range
(a recorded age of 0, say) are a data-quality finding: they get code :data:`OUT_OF_RANGE`, never a band.

>>> banding = assign_bands([0, 23, 30, 64, 61.5], DEFAULT_BANDS)
>>> banding.codes.tolist()
[-1, 0, 1, 5, 4]
>>> [banding.label(c) for c in banding.codes]
['out of range', '18-24', '25-34', '62+', '55-61']
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

OUT_OF_RANGE = -1
UNBANDED = -2  # a valid age in a gap between two bands of a custom policy


@dataclass(frozen=True)
class AgeBand:
    label: str
    low: int
    high: int | None = None  # inclusive; None = no upper end

    def contains(self, age: float) -> bool:
        return self.low <= age and (self.high is None or age < self.high + 1)

    def to_dict(self) -> dict:
        return {"label": self.label, "min": self.low, "max": self.high}


# Regulation B (12 CFR 1002.2(o)) calls an applicant aged 62 or older "elderly": 62+ is its own band.
DEFAULT_BANDS: tuple[AgeBand, ...] = (
    AgeBand("18-24", 18, 24),
    AgeBand("25-34", 25, 34),
    AgeBand("35-44", 35, 44),
    AgeBand("45-54", 45, 54),
    AgeBand("55-61", 55, 61),
    AgeBand("62+", 62, None),
)
DEFAULT_VALID_RANGE = (18, 120)
ELDERLY_AGE = 62


@dataclass(frozen=True)
class Banding:
    """Band codes per row (index into ``bands``, or :data:`OUT_OF_RANGE` / :data:`UNBANDED`)."""

    bands: tuple[AgeBand, ...]
    codes: np.ndarray
    ages: np.ndarray
    valid_range: tuple[int, int]

    @property
    def labels(self) -> list[str]:
        return [band.label for band in self.bands]

    def label(self, code: int) -> str:
        return {OUT_OF_RANGE: "out of range", UNBANDED: "unbanded"}.get(int(code)) or self.bands[int(code)].label

    def counts(self) -> np.ndarray:
        banded = self.codes[self.codes >= 0]
        return np.bincount(banded, minlength=len(self.bands))

    def rows(self, code: int) -> np.ndarray:
        return np.flatnonzero(self.codes == code)

    def findings(self) -> dict:
        """The data-quality side: how many ages were out of range or fell between bands, with examples."""
        out = self.codes == OUT_OF_RANGE
        gap = self.codes == UNBANDED

        def examples(mask: np.ndarray) -> list:
            values = np.unique(self.ages[mask])
            return [None if math.isnan(v) else float(v) for v in values[:10]]

        return {
            "valid_range": list(self.valid_range),
            "out_of_range": {"count": int(out.sum()), "examples": examples(out)},
            "unbanded": {"count": int(gap.sum()), "examples": examples(gap)},
            "banded": int((self.codes >= 0).sum()),
            "rows": len(self.codes),
        }


def validate_bands(bands: tuple[AgeBand, ...] | list[AgeBand]) -> tuple[AgeBand, ...]:
    """Bands must exist, have unique labels, and be in ascending order without overlaps; else ``ValueError``."""
    bands = tuple(bands)
    if not bands:
        raise ValueError("no age bands defined")
    labels = [band.label for band in bands]
    duplicate = next((label for label in labels if labels.count(label) > 1), None)
    if duplicate is not None:
        raise ValueError(f"band label {duplicate!r} is used twice")
    for band in bands:
        if band.high is not None and band.high < band.low:
            raise ValueError(f"band {band.label!r}: max {band.high} is below min {band.low}")
    for before, after in itertools.pairwise(bands):
        if before.high is None or after.low <= before.high:
            raise ValueError(f"bands {before.label!r} and {after.label!r} overlap or are out of order")
    return bands


def assign_bands(ages, bands: tuple[AgeBand, ...] | list[AgeBand] = DEFAULT_BANDS,
                 valid_range: tuple[int, int] = DEFAULT_VALID_RANGE) -> Banding:
    """Band each age; out-of-range and missing ages get :data:`OUT_OF_RANGE`, ages in gaps :data:`UNBANDED`."""
    bands = validate_bands(bands)
    ages = np.asarray(ages, dtype=np.float64)
    low, high = valid_range
    codes = np.full(ages.shape, UNBANDED, dtype=np.int64)
    valid = np.isfinite(ages) & (ages >= low) & (ages < high + 1)
    codes[~valid] = OUT_OF_RANGE
    for code, band in enumerate(bands):
        upper = np.inf if band.high is None else band.high + 1
        codes[valid & (ages >= band.low) & (ages < upper)] = code
    return Banding(bands, codes, ages, (int(low), int(high)))
