"""The pack's two vocabularies, defined once so that no page can claim more than its evidence earns.

*Verdicts* judge a check that ran: GREEN (passed), AMBER (passed with findings to review), RED (failed).
Areas that people wrote rather than a check measured get STATED, never a colour that suggests a test; an area
with nothing supplied gets NO EVIDENCE.

*Obligation statuses* say how far the pack meets a legal or supervisory item:

- ``Evidenced``: a check ran on hashed evidence and passed; the row names the check and the evidence file.
- ``Partly``: a check ran but covers only part of the item (the row says which part is missing).
- ``Stated``: people wrote it in the model governance file; nothing tested it.
- ``Open``: nothing was supplied, or the people responsible say it is not done yet.
- ``Not applicable``: only with the reason the governance file gives.

>>> earned = Earned(Status.EVIDENCED, "fairness.json", "fairness assessment: 12 checks ran")
>>> earned.status.colour
'green'
>>> Earned(Status.STATED, "fairness.json", "x")
Traceback (most recent call last):
...
ValueError: Stated is earned only from the model governance file, not fairness.json
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

GOVERNANCE_FILE = "governance file"


class Status(StrEnum):
    EVIDENCED = "Evidenced"
    PARTLY = "Partly"
    STATED = "Stated"
    OPEN = "Open"
    NOT_APPLICABLE = "Not applicable"

    @property
    def colour(self) -> str:
        """The colour key the pack prints the status in; ``Stated`` is never green."""
        return _STATUS_COLOURS[self]

    @property
    def meaning(self) -> str:
        return _STATUS_MEANINGS[self]


_STATUS_COLOURS = {Status.EVIDENCED: "green", Status.PARTLY: "amber", Status.STATED: "stated",
                   Status.OPEN: "red", Status.NOT_APPLICABLE: "grey"}
_STATUS_MEANINGS = {
    Status.EVIDENCED: "a check ran on hashed evidence and passed; the row names the check and the file",
    Status.PARTLY: "a check ran but covers only part of the item; the row says what is missing",
    Status.STATED: "written by people in the model governance file; not tested",
    Status.OPEN: "not supplied, or not done yet; the row names an owner when one is known",
    Status.NOT_APPLICABLE: "does not apply, for the reason the governance file gives",
}


@dataclass(frozen=True)
class Earned:
    """An obligation's status with what earned it: the evidence file (or the governance file) and the check."""

    status: Status
    evidence: str
    check: str
    note: str = ""
    owner: str | None = None

    def __post_init__(self) -> None:
        if self.status in (Status.EVIDENCED, Status.PARTLY) and (
                not self.check or not self.evidence or self.evidence == GOVERNANCE_FILE):
            raise ValueError(f"{self.status} needs a check that ran on an evidence file, got {self.evidence!r}")
        if self.status is Status.STATED and self.evidence != GOVERNANCE_FILE:
            raise ValueError(f"Stated is earned only from the model governance file, not {self.evidence}")
        if self.status is Status.NOT_APPLICABLE and not self.note:
            raise ValueError("Not applicable needs the reason")


# Verdicts of an area for the executive summary. GREEN, AMBER and RED only where a check ran.
CHECK_VERDICTS = ("green", "amber", "red")
STATED, NO_EVIDENCE = "stated", "grey"
VERDICTS = (*CHECK_VERDICTS, STATED, NO_EVIDENCE)
VERDICT_LABELS = {"green": "GREEN", "amber": "AMBER", "red": "RED", STATED: "STATED", NO_EVIDENCE: "NO EVIDENCE"}
VERDICT_MEANINGS = {
    "green": "a check ran and passed",
    "amber": "a check ran and passed with findings to review (or a finding is waived)",
    "red": "a check ran and failed, or a significant breach of a blocking limit that is not waived",
    STATED: "written by people, not tested",
    NO_EVIDENCE: "nothing supplied, so not judged",
}


def check_verdict(verdict: str, *, ran: bool) -> str:
    """The verdict an area may show: a colour only when a check ran, else STATED (or NO EVIDENCE)."""
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}")
    if verdict in CHECK_VERDICTS and not ran:
        raise ValueError(f"{verdict} claims a check that did not run")
    return verdict


def sign_off_readiness(mandatory_open: int, blockers: int) -> str:
    """The one sentence the executive summary leads with; ready only when nothing mandatory is open."""
    if blockers or mandatory_open:
        parts = [f"{blockers} blocking finding(s)"] if blockers else []
        parts += [f"{mandatory_open} mandatory item(s) open"] if mandatory_open else []
        return "Not ready for sign-off: " + " and ".join(parts) + "."
    return "Ready for sign-off: no blocking finding and no mandatory item open."
