"""Two processes appending to one local ledger at once: every record lands, in one unbroken chain."""

from __future__ import annotations

import json
import multiprocessing

from governance.ledger import Ledger, verify_ledger
from governance.signing import LocalKeySigner, PublicKeyVerifier
from governance.signing.signer import generate_private_key

PER_WRITER = 60


def _append_many(path: str, writer: str, key_pem: bytes, start, count: int) -> None:
    from cryptography.hazmat.primitives import serialization

    signer = LocalKeySigner(serialization.load_pem_private_key(key_pem, password=None))
    ledger = Ledger(path, signer, checkpoint_every=25)
    start.wait()  # both processes begin together, so their appends interleave
    for number in range(count):
        ledger.append("verify", writer, f"model-{number}", {"model": f"{number:064x}"}, {"n": number})


def test_two_processes_appending_at_once_keep_one_chain(tmp_path):
    from cryptography.hazmat.primitives import serialization

    key = generate_private_key()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    path = tmp_path / "ledger.jsonl"
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    writers = [context.Process(target=_append_many, args=(str(path), name, key_pem, start, PER_WRITER))
               for name in ("writer-a", "writer-b")]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
        assert process.exitcode == 0

    records = [json.loads(line) for line in path.read_text().splitlines()]
    events = [r for r in records if r["event"] == "verify"]
    assert sorted((r["actor"], r["details"]["n"]) for r in events) == sorted(
        (name, n) for name in ("writer-a", "writer-b") for n in range(PER_WRITER))
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    report = verify_ledger(path, PublicKeyVerifier(LocalKeySigner(key).public_key_pem()))
    assert report.records == len(records) and report.checkpoints == report.checkpoints_verified >= 4
    assert report.head == "signed"
