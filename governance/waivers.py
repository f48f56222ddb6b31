"""Waivers: a named person accepts a known finding on matching resources until a date, for a stated reason.

Shared by the policy engine and the fairness verdicts. An expired waiver no longer applies; ``--ignore-waivers``
on the command line shows the unwaived truth.

>>> from datetime import date
>>> w = Waiver(check="s3-*", resource="s3://models/*", reason="migration", approver="J. Doe", expires=date(2030, 1, 1))
>>> w.applies("s3-versioning", "s3://models/a.tar.gz", today=date(2026, 11, 29))
True
>>> w.applies("s3-versioning", "s3://models/a.tar.gz", today=date(2031, 1, 1))
False
"""

from __future__ import annotations

import fnmatch
from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str = Field(description="check id, or a glob over check ids")
    resource: str = Field(default="*", description="glob over resource identifiers (paths, s3:// URIs, ARNs, bands)")
    reason: str = Field(min_length=3)
    approver: str = Field(min_length=2)
    expires: date
    ticket: str | None = None

    @field_validator("reason", "approver")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    def expired(self, today: date | None = None) -> bool:
        return (today or datetime.now(UTC).date()) > self.expires

    def matches(self, check_id: str, resource: str) -> bool:
        return fnmatch.fnmatchcase(check_id, self.check) and fnmatch.fnmatchcase(resource, self.resource)

    def applies(self, check_id: str, resource: str, today: date | None = None) -> bool:
        return self.matches(check_id, resource) and not self.expired(today)

    def to_dict(self) -> dict:
        return self.model_dump(mode="json", exclude_none=True)


def find_waiver(waivers: list[Waiver], check_id: str, resource: str, today: date | None = None) -> Waiver | None:
    """The first waiver that applies today, else ``None`` (expired ones never apply)."""
    return next((w for w in waivers if w.applies(check_id, resource, today)), None)
