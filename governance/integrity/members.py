"""A tar member as the manifest records it — name, type, size, mode, SHA-256 — compared field by field on verify.

>>> Member("xgboost-model", "file", 3, 0o644, "ab").to_dict()["mode"]
'0644'
>>> Member.from_dict(Member("a", "symlink", 0, 0o777, None, "b").to_dict()).linkname
'b'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Member:
    name: str
    type: str
    size: int
    mode: int
    sha256: str | None = None
    linkname: str | None = None

    def to_dict(self) -> dict:
        data = {"name": self.name, "type": self.type, "size": self.size, "mode": f"{self.mode:04o}",
                "sha256": self.sha256}
        if self.linkname is not None:
            data["linkname"] = self.linkname
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Member:
        return cls(str(data["name"]), str(data["type"]), int(data["size"]), int(str(data["mode"]), 8),
                   data.get("sha256"), data.get("linkname"))
