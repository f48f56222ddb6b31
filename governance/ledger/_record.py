"""One ledger record: its fields, its hash, and the signed statements that checkpoints and heads carry.

A record is one compact canonical JSON line::

    {"actor":"ci","details":{},"digests":{"model.tar.gz":"ab…"},"event":"sign","hash":"…","prev":"…",
     "seq":7,"subject":"model/model.tar.gz","time":"2026-11-29T02:43:04.123456Z","v":1}

``hash`` is the sha256 of the canonical JSON of every other field, and ``prev`` is the previous record's
``hash`` (64 zeros for the first), so changing, removing or moving one record breaks the chain at that point.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from governance.errors import InputError
from governance.hashing import sha256_bytes
from governance.jsonio import canonical
from governance.signing import Signer, dsse

FORMAT_VERSION = 1
GENESIS = "0" * 64
CHECKPOINT = "checkpoint"
SUBJECT_NAME = "ledger"
CHECKPOINT_PREDICATE_TYPE = "https://quickloan-governance.dev/ledger-checkpoint/v1"

# The governance events the toolkit writes; other lower-case names are accepted for extensions.
EVENTS = ("pipeline-run", "sign", "verify", "scan", "fairness", "explain", "approve", "pack", CHECKPOINT, "repair")
_EVENT_NAME = re.compile(r"^[a-z][a-z0-9._-]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def record_hash(record: dict) -> str:
    return sha256_bytes(canonical({k: v for k, v in record.items() if k != "hash"}))


def encode(record: dict) -> bytes:
    return canonical(record) + b"\n"


def new_record(previous: dict | None, event: str, actor: str, subject: str, digests: dict[str, str] | None,
               details: dict | None) -> dict:
    """The next record after ``previous`` (``None`` for the first), hashed and ready to write."""
    if not isinstance(event, str) or not _EVENT_NAME.match(event):
        raise InputError("BAD_EVENT", f"ledger event {event!r}: use a lower-case name such as {', '.join(EVENTS[:4])}")
    if not isinstance(actor, str) or not actor.strip():
        raise InputError("BAD_ACTOR", "a ledger record needs an actor (who or what did it)")
    for name, value in (digests or {}).items():
        if not isinstance(value, str) or not _SHA256.match(value):
            raise InputError("BAD_DIGEST", f"ledger digest {name!r}: expected 64 lower-case hex characters (sha256)")
    record = {
        "v": FORMAT_VERSION,
        "seq": previous["seq"] + 1 if previous else 1,
        "time": now(),
        "actor": actor,
        "event": event,
        "subject": subject or "",
        "digests": dict(digests or {}),
        "details": dict(details or {}),
        "prev": previous["hash"] if previous else GENESIS,
    }
    record["hash"] = record_hash(record)
    return record


def head_statement(seq: int, head_hash: str, size: int | None = None) -> dict:
    """What a checkpoint (or head) signs: "after ``seq`` records, the chain's head is ``head_hash``" — and, for
    a local ledger's head, "the file is ``size`` bytes long", so an append need not re-read the last record."""
    return dsse.statement(
        [{"name": SUBJECT_NAME, "digest": {"sha256": head_hash}}],
        CHECKPOINT_PREDICATE_TYPE,
        {"seq": seq, **({"size": size} if size is not None else {})},
    )


def sign_head(seq: int, head_hash: str, signer: Signer, *, size: int | None = None) -> dict:
    return dsse.sign_statement(head_statement(seq, head_hash, size), signer, keyid=signer.key_hint)


def signed_head(statement: dict) -> tuple[int | None, str | None, int | None]:
    """``(seq, hash, size)`` as a head or checkpoint statement signed them (``size`` only for heads)."""
    subject = (statement.get("subject") or [{}])[0]
    predicate = statement.get("predicate") or {}
    digest = subject.get("digest") if isinstance(subject, dict) else None
    return (predicate.get("seq") if isinstance(predicate, dict) else None,
            digest.get("sha256") if isinstance(digest, dict) else None,
            predicate.get("size") if isinstance(predicate, dict) else None)


def checkpoint_record(previous: dict, signer: Signer) -> dict:
    """A signed checkpoint over ``previous`` (the current head); it is itself a chained record."""
    envelope = sign_head(previous["seq"], previous["hash"], signer)
    return new_record(
        previous, CHECKPOINT, signer.identity, SUBJECT_NAME, {"head": previous["hash"]},
        {"covers": previous["seq"], "key_hint": signer.key_hint, "envelope": envelope},
    )
