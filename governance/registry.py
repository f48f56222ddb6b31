"""The local model registry (SQLite, the embedded default): SageMaker model packages' fields, kept in a file.

Packages carry the same approval statuses and ``CustomerMetadataProperties`` keys as SageMaker model packages,
so tools that read one read the other.

>>> import tempfile, os
>>> registry = LocalRegistry(os.path.join(tempfile.mkdtemp(), "registry.db"))
>>> package = registry.register("quickloan-credit-default", "model.tar.gz", "ab" * 32, {"auc": 0.86})
>>> package.arn, package.approval_status
('local:model-package/quickloan-credit-default/1', 'PendingManualApproval')
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from governance.errors import CheckFailed, Incomplete, InputError, NotFound

APPROVAL_STATUSES = ("PendingManualApproval", "Approved", "Rejected")
# CustomerMetadataProperties keys shared with the SageMaker registry.
META_ARTEFACT_SHA256 = "artefact_sha256"
META_SIGNATURE_URI = "signature_uri"
META_EVIDENCE_URI = "evidence_uri"
META_AUDIT_PACK_URI = "audit_pack_uri"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS model_package (
    group_name TEXT NOT NULL,
    version INTEGER NOT NULL,
    artefact_uri TEXT NOT NULL,
    approval_status TEXT NOT NULL,
    metrics TEXT NOT NULL,
    customer_metadata TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    approved_by TEXT,
    approval_description TEXT,
    PRIMARY KEY (group_name, version)
)
"""


@dataclass(frozen=True)
class ModelPackage:
    group_name: str
    version: int
    artefact_uri: str
    approval_status: str
    metrics: dict
    customer_metadata: dict[str, str] = field(default_factory=dict)
    created_at: str = ""
    updated_at: str = ""
    approved_by: str | None = None
    approval_description: str | None = None

    @property
    def arn(self) -> str:
        return f"local:model-package/{self.group_name}/{self.version}"

    def to_dict(self) -> dict:
        return {
            "ModelPackageArn": self.arn,
            "ModelPackageGroupName": self.group_name,
            "ModelPackageVersion": self.version,
            "ModelApprovalStatus": self.approval_status,
            "ModelDataUrl": self.artefact_uri,
            "ModelMetrics": self.metrics,
            "CustomerMetadataProperties": self.customer_metadata,
            "CreationTime": self.created_at,
            "LastModifiedTime": self.updated_at,
            "ApprovedBy": self.approved_by,
            "ApprovalDescription": self.approval_description,
        }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class LocalRegistry:
    """Model package groups and versions in one SQLite file; writes are transactions."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute(_SCHEMA)
        except sqlite3.DatabaseError as err:
            raise InputError("BAD_REGISTRY", f"{self.path}: not a model registry database ({err})") from None

    def _connect(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, timeout=30, isolation_level="IMMEDIATE")
        except sqlite3.OperationalError as err:
            raise Incomplete("REGISTRY_UNAVAILABLE", f"{self.path}: cannot open the registry ({err})") from None
        db.row_factory = sqlite3.Row
        return db

    def register(
        self,
        group_name: str,
        artefact_uri: str,
        artefact_sha256: str,
        metrics: dict,
        customer_metadata: dict[str, str] | None = None,
        *,
        approval_status: str = "PendingManualApproval",
    ) -> ModelPackage:
        if approval_status not in APPROVAL_STATUSES:
            raise InputError("BAD_STATUS", f"approval status must be one of {APPROVAL_STATUSES}")
        meta = {**(customer_metadata or {}), META_ARTEFACT_SHA256: artefact_sha256}
        now = _now()
        with self._connect() as db:
            row = db.execute("SELECT MAX(version) FROM model_package WHERE group_name = ?", (group_name,)).fetchone()
            version = (row[0] or 0) + 1
            db.execute(
                "INSERT INTO model_package VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                (
                    group_name,
                    version,
                    artefact_uri,
                    approval_status,
                    json.dumps(metrics, sort_keys=True),
                    json.dumps(meta, sort_keys=True),
                    now,
                    now,
                ),
            )
        return self.get(group_name, version)

    def get(self, group_name: str, version: int | None = None) -> ModelPackage:
        with self._connect() as db:
            if version is None:
                row = db.execute(
                    "SELECT * FROM model_package WHERE group_name = ? ORDER BY version DESC LIMIT 1", (group_name,)
                ).fetchone()
            else:
                row = db.execute(
                    "SELECT * FROM model_package WHERE group_name = ? AND version = ?", (group_name, version)
                ).fetchone()
        if row is None:
            raise NotFound("NOT_FOUND", f"{self.path}: no model package {group_name}/{version or 'latest'}")
        return _package(row)

    def get_by_arn(self, arn: str) -> ModelPackage:
        prefix = "local:model-package/"
        if not arn.startswith(prefix) or arn.count("/") != 2:
            raise InputError("BAD_ARN", f"{arn}: not a local model package ARN ({prefix}GROUP/VERSION)")
        group, _, version = arn[len(prefix) :].partition("/")
        if not version.isdigit():
            raise InputError("BAD_ARN", f"{arn}: the version must be a number")
        return self.get(group, int(version))

    def list(self, group_name: str | None = None) -> list[ModelPackage]:
        with self._connect() as db:
            query = "SELECT * FROM model_package"
            rows = (
                db.execute(query + " WHERE group_name = ? ORDER BY version", (group_name,))
                if group_name
                else db.execute(query + " ORDER BY group_name, version")
            ).fetchall()
        return [_package(r) for r in rows]

    def update(
        self,
        package: ModelPackage,
        *,
        approval_status: str | None = None,
        approved_by: str | None = None,
        approval_description: str | None = None,
        customer_metadata: dict[str, str] | None = None,
        expected_status: str | None = None,
    ) -> ModelPackage:
        """Change one package, merged onto its row as it is now (read and written in one transaction), so a
        decision recorded since ``package`` was read is never undone. With ``expected_status`` the change is a
        compare-and-set: refused (``STATUS_CHANGED``) unless the package still has that status."""
        if approval_status is not None and approval_status not in APPROVAL_STATUSES:
            raise InputError("BAD_STATUS", f"approval status must be one of {APPROVAL_STATUSES}")
        key = (package.group_name, package.version)
        with self._connect() as db:  # IMMEDIATE: the write lock is taken before the read
            row = db.execute("SELECT * FROM model_package WHERE group_name = ? AND version = ?", key).fetchone()
            if row is None:
                raise InputError("NOT_FOUND", f"{self.path}: no model package {package.arn}")
            current = _package(row)
            if expected_status is not None and current.approval_status != expected_status:
                raise CheckFailed("STATUS_CHANGED", f"{package.arn} is {current.approval_status} now, not "
                                                    f"{expected_status}: it was decided in the meantime")
            meta = {**current.customer_metadata, **(customer_metadata or {})}
            db.execute(
                "UPDATE model_package SET approval_status = ?, approved_by = COALESCE(?, approved_by), "
                "approval_description = COALESCE(?, approval_description), customer_metadata = ?, updated_at = ? "
                "WHERE group_name = ? AND version = ?",
                (approval_status or current.approval_status, approved_by, approval_description,
                 json.dumps(meta, sort_keys=True), _now(), *key),
            )
        return self.get(*key)


def _package(row: sqlite3.Row) -> ModelPackage:
    return ModelPackage(
        group_name=row["group_name"],
        version=row["version"],
        artefact_uri=row["artefact_uri"],
        approval_status=row["approval_status"],
        metrics=json.loads(row["metrics"]),
        customer_metadata=json.loads(row["customer_metadata"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        approved_by=row["approved_by"],
        approval_description=row["approval_description"],
    )
