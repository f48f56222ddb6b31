"""A ledger that survives crashes and resists forgery: records after the signed head, duplicate keys, cut lines,
rollback, and ``kill -9`` among concurrent appenders."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from governance.errors import CheckFailed, InputError
from governance.evidence import write_index
from governance.jsonio import canonical
from governance.ledger import Ledger, check_ledger, verify_ledger
from governance.ledger._file import FileStore
from governance.ledger._record import new_record, record_hash
from tests.lineage_support import cli, keypair

SHA = "cd" * 32


@pytest.fixture
def keys(tmp_path):
    return keypair(tmp_path / "keys")


@pytest.fixture
def signed(tmp_path, keys):
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger(path, keys[0], checkpoint_every=100)
    for number in range(4):
        ledger.append("sign", "pipeline", f"model-{number}", {"model": SHA})
    return path


def forge_after_head(path: Path, actor: str = "mallory") -> dict:
    """What someone who can write the file but holds no key does: a perfectly chained record, head untouched."""
    last = json.loads(path.read_bytes().splitlines()[-1])
    record = new_record(last, "approve", actor, "model-3", {"model": SHA}, {"forged": True})
    with open(path, "ab") as handle:
        handle.write(canonical(record) + b"\n")
    return record


def test_a_keyed_verify_fails_on_a_record_after_the_signed_head(signed, keys):
    forge_after_head(signed)
    assert check_ledger(signed, None).passed  # without a key it is only a warning…
    report = check_ledger(signed, keys[1])  # …with the key nothing vouches for record 5
    assert [(p.reason, p.seq) for p in report.problems] == [("LEDGER_UNSIGNED_RECORDS", 5)]


def test_a_signed_append_refuses_to_sign_over_a_forged_record(signed, keys):
    forge_after_head(signed)
    before = signed.read_bytes(), signed.with_name("ledger.jsonl.head").read_bytes()
    with pytest.raises(CheckFailed) as refused:
        Ledger(signed, keys[0]).append("approve", "risk-officer", "model-3")
    assert refused.value.reason == "LEDGER_UNSIGNED_RECORDS"
    assert (signed.read_bytes(), signed.with_name("ledger.jsonl.head").read_bytes()) == before


def test_a_head_signed_by_another_key_refuses_the_append(signed, keys):
    other, _, _ = keypair()
    before = signed.read_bytes()
    with pytest.raises(InputError) as refused:  # named as the wrong key: the envelope says which key signed it
        Ledger(signed, other).append("sign", "ci")
    assert refused.value.reason == "LEDGER_KEY_MISMATCH" and signed.read_bytes() == before
    head = signed.with_name("ledger.jsonl.head")
    stored = json.loads(head.read_bytes())
    stored["envelope"]["signatures"][0]["keyid"] = other.key_hint  # a forged key hint: the signature decides
    head.write_text(json.dumps(stored))
    with pytest.raises(CheckFailed) as forged:
        Ledger(signed, other).append("sign", "ci")
    assert forged.value.reason == "LEDGER_TAMPERED" and signed.read_bytes() == before


def test_a_signed_append_refuses_an_unsigned_ledger(tmp_path, keys):
    path = tmp_path / "ledger.jsonl"
    Ledger(path).append("sign", "ci")
    with pytest.raises(CheckFailed) as refused:
        Ledger(path, keys[0]).append("sign", "ci")
    assert refused.value.reason == "LEDGER_UNSIGNED_RECORDS"


def test_a_duplicate_key_in_a_record_is_tampering(signed, keys):
    lines = signed.read_bytes().splitlines(keepends=True)
    # First-wins readers see "mallory"; a last-wins parser sees the original actor, whose hash still matches.
    lines[1] = lines[1].replace(b'{"actor":', b'{"actor":"mallory","actor":', 1)
    signed.write_bytes(b"".join(lines))
    report = check_ledger(signed, keys[1])
    assert (report.problems[0].kind, report.problems[0].seq) == ("edited", 2)


def test_a_cut_line_is_repaired_on_the_record_and_appends_work_again(signed, keys):
    data = signed.read_bytes()
    complete = data.splitlines()
    fragment = b'{"actor":"pipeline","deta'
    signed.write_bytes(data + fragment)
    with pytest.raises(CheckFailed) as refused:
        Ledger(signed, keys[0]).append("sign", "ci")
    assert refused.value.reason == "LEDGER_INCOMPLETE" and "ledger repair" in refused.value.message

    repaired = Ledger(signed, keys[0]).repair("ops")
    side = signed.with_name(repaired["moved_to"])
    assert side.read_bytes() == fragment and repaired["cut_line_bytes"] == len(fragment)
    record = repaired["record"]
    assert (record["event"], record["seq"], record["digests"]["moved"]) == ("repair", 5, record["details"]
                                                                            ["moved_sha256"])
    Ledger(signed, keys[0]).append("sign", "ci")
    report = verify_ledger(signed, keys[1])
    assert report.records == 6 and report.head == "signed"
    assert signed.read_bytes().splitlines()[:4] == complete
    assert Ledger(signed, keys[0]).repair("ops") is None  # nothing left to repair


def test_repair_on_the_command_line(signed, keys, capsys, tmp_path):
    signed.write_bytes(signed.read_bytes() + b'{"cut')
    private = tmp_path / "keys" / "signing-key.pem"
    from cryptography.hazmat.primitives import serialization

    private.write_bytes(keys[0]._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    code, _, err = cli(capsys, "ledger", "repair", str(signed), "--key", str(private))
    assert code == 0 and "moved 5 byte(s)" in err
    code, _, _ = cli(capsys, "ledger", "verify", str(signed), "--key", str(keys[2]))
    assert code == 0
    code, _, err = cli(capsys, "ledger", "repair", str(signed))  # a signed ledger needs its key
    assert code == 2 and "LEDGER_SIGNED" in err
    code, _, err = cli(capsys, "ledger", "repair", str(tmp_path / "absent.jsonl"))
    assert code == 2 and "FILE_NOT_FOUND" in err and not (tmp_path / "absent.jsonl").exists()


def test_repair_moves_aside_a_complete_record_the_signed_head_does_not_cover(signed, keys):
    forged = forge_after_head(signed)
    repaired = Ledger(signed, keys[0]).repair("ops")
    assert repaired["records_moved"] == 1
    assert json.loads(signed.with_name(repaired["moved_to"]).read_bytes()) == forged
    verify_ledger(signed, keys[1])


def test_repair_refuses_what_is_not_a_crash(signed, keys):
    lines = signed.read_bytes().splitlines(keepends=True)
    lines[-1] = lines[-1].replace(b'"pipeline"', b'"mallory!"')  # edited, not cut
    signed.write_bytes(b"".join(lines) + b'{"cut')
    before = signed.read_bytes()
    with pytest.raises(CheckFailed) as refused:
        Ledger(signed, keys[0]).repair("ops")
    assert refused.value.reason == "LEDGER_TAMPERED" and signed.read_bytes() == before


def test_an_append_does_not_re_read_the_last_record_when_the_head_vouches_for_the_size(signed, keys, monkeypatch):
    Ledger(signed, keys[0]).append("sign", "ci", details={"blob": "x" * (4 << 20)})

    def no_tail_read(*_):
        raise AssertionError("the last record was re-read")

    monkeypatch.setattr(FileStore, "_tail", no_tail_read)
    Ledger(signed, keys[0]).append("sign", "ci")
    verify_ledger(signed, keys[1])


def test_a_rollback_to_an_older_signed_head_is_caught_by_the_sealed_index(tmp_path, keys):
    evidence = tmp_path / "evidence"
    path = evidence / "ledger.jsonl"
    ledger = Ledger(path, keys[0])
    for number in range(3):
        ledger.append("sign", "pipeline", f"model-{number}")
    older = tmp_path / "older"
    older.mkdir()
    shutil.copy(path, older / "ledger.jsonl")
    shutil.copy(path.with_name("ledger.jsonl.head"), older / "ledger.jsonl.head")
    ledger.append("approve", "risk-officer", "model-2")
    write_index(evidence, keys[0])  # sealed with the approval in it
    verify_ledger(path, keys[1])

    # Roll back to the signed state before the approval: consistent and signed on its own…
    shutil.copy(older / "ledger.jsonl", path)
    shutil.copy(older / "ledger.jsonl.head", path.with_name("ledger.jsonl.head"))
    assert check_ledger(older / "ledger.jsonl", keys[1]).passed
    # …but not the ledger the signed index sealed.
    report = check_ledger(path, keys[1])
    assert report.problems[0].reason == "LEDGER_ROLLED_BACK"
    with pytest.raises(CheckFailed):
        verify_ledger(older / "ledger.jsonl", keys[1], anchor=evidence / "index.json")
    with pytest.raises(InputError):
        check_ledger(path, keys[1], anchor=tmp_path / "keys" / "signing-key.pub.pem")


def _appender(path: str, key_pem: bytes, writer: int, done_dir: str, start) -> None:
    from cryptography.hazmat.primitives import serialization

    from governance.signing import LocalKeySigner

    signer = LocalKeySigner(serialization.load_pem_private_key(key_pem, password=None))
    ledger = Ledger(path, signer, checkpoint_every=7)
    start.wait()
    padding = "p" * (96 << 10)  # large records, so a kill can land in the middle of a write
    for number in range(10_000):
        try:
            record = ledger.append("verify", f"writer-{writer}", f"n{number}", details={"pad": padding})
        except (CheckFailed, InputError):
            return  # another writer died mid-append: appends stop until the ledger is repaired
        with open(Path(done_dir) / f"{writer}", "a") as done:
            done.write(f"{record['seq']} {record['hash']}\n")


def test_kill_9_among_ten_concurrent_appenders_then_repair_keeps_every_completed_record(tmp_path, keys):
    from cryptography.hazmat.primitives import serialization

    key_pem = keys[0]._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
    path = tmp_path / "ledger.jsonl"
    done = tmp_path / "done"
    done.mkdir()
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(11)
    writers = [context.Process(target=_appender, args=(str(path), key_pem, n, str(done), start)) for n in range(10)]
    for process in writers:
        process.start()
    start.wait()
    time.sleep(1.5)
    for process in writers:  # every appender is killed wherever it is
        os.kill(process.pid, signal.SIGKILL)
    for process in writers:
        process.join(timeout=30)

    repaired = Ledger(path, keys[0]).repair("ops")  # whatever the kill left behind (possibly nothing)
    assert repaired is None or repaired["record"]["event"] == "repair"
    Ledger(path, keys[0]).append("sign", "after-the-crash")
    report = verify_ledger(path, keys[1])
    assert report.head == "signed"
    kept = {(r["seq"], r["hash"]) for r in map(json.loads, path.read_bytes().splitlines())}
    completed = {tuple(line.split()) for file in done.iterdir() for line in file.read_text().splitlines()}
    completed = {(int(seq), digest) for seq, digest in completed}
    assert completed and completed <= kept
    assert all(record_hash(json.loads(line)) for line in path.read_bytes().splitlines())
