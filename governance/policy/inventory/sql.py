"""The inventory as one SQL relation, and policy conditions compiled to SQL over it (DuckDB and Athena).

Every engine first projects the raw inventory (CSV strings, or Parquet/ORC types) onto the same typed columns
(:data:`COLUMNS`); the checks then run as one query over that relation, word for word the same on DuckDB and on
Athena. A condition compiles to a three-valued SQL boolean with the policy engine's meaning: ``all`` is ``AND``,
``any`` is ``OR``, ``not`` is ``NOT`` (SQL's NULL logic is Kleene's), a leaf over a field the inventory does not
carry is ``NULL`` (the check is then an ERROR, never a pass), and a leaf over a missing *value* is false exactly
where the Python engine says false.

>>> from governance.policy.operators import Compiler, compile_condition
>>> cond = compile_condition({"in": {"path": "encryption.algorithm", "values": ["aws:kms"]}}, Compiler())
>>> condition_sql(cond, available={"encryption_status"}, now_epoch=0.0)
"coalesce((CASE encryption_status WHEN 'SSE-KMS' THEN 'aws:kms' WHEN 'DSSE-KMS' THEN 'aws:kms:dsse' WHEN 'SSE-S3' THEN 'AES256' END) IN ('aws:kms'), false)"
"""  # noqa: E501

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from governance.policy.operators import Condition, _Combine, _Leaf, _Not

# The typed relation every engine projects the inventory onto: column -> SQL type.
COLUMNS = {
    "bucket": "VARCHAR", "key": "VARCHAR", "version_id": "VARCHAR", "is_latest": "BOOLEAN",
    "is_delete_marker": "BOOLEAN", "size": "BIGINT", "last_modified_epoch": "DOUBLE",
    "encryption_status": "VARCHAR", "bucket_key_status": "VARCHAR", "object_lock_mode": "VARCHAR",
    "retain_until_epoch": "DOUBLE", "legal_hold_status": "VARCHAR", "checksum_algorithm": "VARCHAR",
}
# Inventory field (as S3 names it in a CSV fileSchema) -> its snake_case column in Parquet/ORC and Athena tables.
FIELDS = {
    "Bucket": "bucket", "Key": "key", "VersionId": "version_id", "IsLatest": "is_latest",
    "IsDeleteMarker": "is_delete_marker", "Size": "size", "LastModifiedDate": "last_modified_date",
    "ETag": "e_tag", "StorageClass": "storage_class", "IsMultipartUploaded": "is_multipart_uploaded",
    "ReplicationStatus": "replication_status", "EncryptionStatus": "encryption_status",
    "ObjectLockRetainUntilDate": "object_lock_retain_until_date", "ObjectLockMode": "object_lock_mode",
    "ObjectLockLegalHoldStatus": "object_lock_legal_hold_status",
    "IntelligentTieringAccessTier": "intelligent_tiering_access_tier", "BucketKeyStatus": "bucket_key_status",
    "ChecksumAlgorithm": "checksum_algorithm", "ObjectAccessControlList": "object_access_control_list",
    "ObjectOwner": "object_owner",
}
ENCRYPTION_ALGORITHMS = {"SSE-KMS": "aws:kms", "DSSE-KMS": "aws:kms:dsse", "SSE-S3": "AES256"}
_ALGORITHM_SQL = "CASE encryption_status " + " ".join(
    f"WHEN '{status}' THEN '{algorithm}'" for status, algorithm in ENCRYPTION_ALGORITHMS.items()) + " END"


@dataclass(frozen=True)
class PathSql:
    """An evidence path as SQL over :data:`COLUMNS`: its expression, value type and the columns it needs."""

    sql: str
    kind: type
    needs: tuple[str, ...] = ()


# ``{now}`` is the scan's clock, fixed once per scan so every object is judged at the same instant.
PATHS = {
    "bucket": PathSql("bucket", str),
    "key": PathSql("key", str),
    "version_id": PathSql("coalesce(version_id, 'null')", str),
    "size": PathSql("size", int, ("size",)),
    "encryption.status": PathSql("encryption_status", str, ("encryption_status",)),
    "encryption.algorithm": PathSql(f"({_ALGORITHM_SQL})", str, ("encryption_status",)),
    "encryption.bucket_key_enabled": PathSql("coalesce(bucket_key_status = 'ENABLED', false)", bool,
                                             ("bucket_key_status",)),
    "lock.mode": PathSql("object_lock_mode", str, ("object_lock_mode",)),
    "lock.legal_hold": PathSql("coalesce(upper(legal_hold_status) = 'ON', false)", bool, ("legal_hold_status",)),
    # The collector's rule: whole days from creation to retain-until, with an hour of clock slack.
    "lock.retained_days": PathSql("CAST(floor((retain_until_epoch - last_modified_epoch + 3600) / 86400) AS BIGINT)",
                                  int, ("retain_until_epoch", "last_modified_epoch")),
    "lock.locked_now": PathSql("coalesce(retain_until_epoch > {now}, false)", bool, ("retain_until_epoch",)),
    "checksum.algorithm": PathSql("checksum_algorithm", str, ("checksum_algorithm",)),
}
NULL = "CAST(NULL AS BOOLEAN)"


class NotCompilable(Exception):
    """A condition the inventory query cannot evaluate (an operator or path it does not translate)."""


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise NotCompilable(f"value {value!r} has no SQL literal here")


def _same_kind(value: Any, kind: type) -> bool:
    if kind is bool or isinstance(value, bool):
        return kind is bool and isinstance(value, bool)
    if kind is int:
        return isinstance(value, int | float)
    return isinstance(value, kind)


def condition_sql(condition: Condition, *, available: set[str], now_epoch: float) -> str:
    """SQL for ``condition`` over :data:`COLUMNS`; ``available``: the columns this inventory actually carries."""
    if isinstance(condition, _Combine):
        joiner = " AND " if condition.op == "all" else " OR "
        return "(" + joiner.join(condition_sql(p, available=available, now_epoch=now_epoch)
                                 for p in condition.parts) + ")"
    if isinstance(condition, _Not):
        return f"(NOT {condition_sql(condition.part, available=available, now_epoch=now_epoch)})"
    if not isinstance(condition, _Leaf) or condition.relative:
        raise NotCompilable(f"operator {getattr(condition, 'op', '?')!r}")
    path = PATHS.get(condition.path)
    if path is None:
        raise NotCompilable(f"evidence path {condition.path!r}")
    if not set(path.needs) <= available:
        return NULL
    return _leaf(condition.op, path.sql.replace("{now}", repr(float(now_epoch))), path.kind, condition.expected)


def _leaf(op: str, sql: str, kind: type, expected: Any) -> str:
    if op == "exists":
        return f"({sql} IS NOT NULL)"
    if op in ("eq", "ne"):
        if expected is None:
            equal = f"({sql} IS NULL)"
        elif _same_kind(expected, kind):
            equal = f"coalesce({sql} = {literal(expected)}, false)"
        else:
            equal = "false"
        return equal if op == "eq" else f"(NOT {equal})"
    if op in ("gt", "gte", "lt", "lte"):
        symbol = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
        return f"coalesce({sql} {symbol} {literal(expected)}, false)" if kind is int else "false"
    if op in ("in", "not_in"):
        values = [v for v in expected if v is not None and _same_kind(v, kind)]
        inside = f"coalesce({sql} IN ({', '.join(literal(v) for v in values)}), false)" if values else "false"
        return inside if op == "in" else f"(NOT {inside})"
    if op in ("startswith", "prefix_overlaps"):
        prefixes = [p for p in expected if isinstance(p, str)]
        if kind is not str or not prefixes:
            return "false"
        parts = [f"substr({sql}, 1, {len(p)}) = {literal(p)}" for p in prefixes]
        if op == "prefix_overlaps":
            parts += [f"substr({literal(p)}, 1, length({sql})) = {sql}" for p in prefixes]
        return f"coalesce({' OR '.join(parts)}, false)"
    raise NotCompilable(f"operator {op!r}")


def status_sql(when: str | None, assertion: str) -> str:
    """One check's status per object: P(ass), F(ail), N(ot applicable) or E(rror: could not be decided)."""
    decided = f"CASE WHEN {assertion} IS NULL THEN 'E' WHEN {assertion} THEN 'P' ELSE 'F' END"
    if when is None:
        return decided
    return f"CASE WHEN {when} IS NULL THEN 'E' WHEN NOT {when} THEN 'N' ELSE {decided} END"


def identifier(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise NotCompilable(f"identifier {name!r}")
    return f'"{name}"'
