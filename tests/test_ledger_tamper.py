"""The local ledger: a hash chain whose every break — edit, deletion, reordering, truncation — is named."""

from __future__ import annotations

import itertools
import json

import pytest

from governance.errors import CheckFailed, InputError
from governance.jsonio import canonical
from governance.ledger import GENESIS, Ledger, check_ledger, verify_ledger
from governance.ledger._record import record_hash
from tests.lineage_support import cli, keypair

SHA = "ab" * 32


@pytest.fixture
def keys(tmp_path):
    return keypair(tmp_path / "keys")


@pytest.fixture
def ledger_path(tmp_path, keys):
    """Ten event records; with a checkpoint after every 4th record, records 5, 9 and 13 are checkpoints."""
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger(path, keys[0], checkpoint_every=4)
    for number in range(10):
        ledger.append(["pipeline-run", "sign", "verify", "scan", "approve", "pack"][number % 6], f"user{number}",
                      f"model-{number}", {"model.tar.gz": SHA}, {"number": number})
    return path


def lines(path):
    return path.read_bytes().splitlines(keepends=True)


def write(path, parts):
    path.write_bytes(b"".join(parts))


def first_problem(path, verifier):
    report = check_ledger(path, verifier)
    assert not report.passed
    return report.problems[0]


def test_records_are_chained_and_carry_the_event(ledger_path, keys):
    records = [json.loads(line) for line in lines(ledger_path)]
    assert [r["seq"] for r in records] == list(range(1, 14))
    assert records[0]["prev"] == GENESIS
    for before, after in itertools.pairwise(records):
        assert after["prev"] == before["hash"] == record_hash(before)
    assert {"time", "actor", "event", "subject", "digests", "details"} <= set(records[0])
    assert [r["seq"] for r in records if r["event"] == "checkpoint"] == [5, 9, 13]
    report = verify_ledger(ledger_path, keys[1])
    assert (report.records, report.checkpoints_verified, report.head) == (13, 3, "signed")


def test_an_edited_record_is_named(ledger_path, keys):
    parts = lines(ledger_path)
    parts[2] = parts[2].replace(b'"user2"', b'"mallory"')
    write(ledger_path, parts)
    problem = first_problem(ledger_path, keys[1])
    assert (problem.kind, problem.seq) == ("edited", 3)
    assert "record 3 (line 3) was edited" in problem.message


def test_an_edited_and_rehashed_record_is_named_by_the_next_link(ledger_path, keys):
    parts = lines(ledger_path)
    record = json.loads(parts[6])
    record["actor"] = "mallory"
    record["hash"] = record_hash(record)
    parts[6] = canonical(record) + b"\n"
    write(ledger_path, parts)
    problem = first_problem(ledger_path, None)  # no key needed: the chain alone shows it
    assert (problem.kind, problem.seq) == ("edited", 7)
    assert "record 7 was altered" in problem.message


def test_a_rewritten_chain_is_caught_by_the_signed_checkpoint(ledger_path, keys):
    records = [json.loads(line) for line in lines(ledger_path)]
    records[1]["actor"] = "mallory"
    for index, record in enumerate(records):  # someone who can write the file rebuilds every hash after the edit
        if index:
            record["prev"] = records[index - 1]["hash"]
        record["hash"] = record_hash(record)
    write(ledger_path, [canonical(r) + b"\n" for r in records])
    head_path = ledger_path.with_name("ledger.jsonl.head")
    head = json.loads(head_path.read_text())
    head_path.write_text(json.dumps({**head, "hash": records[-1]["hash"]}))
    assert check_ledger(ledger_path, None).passed  # the bare chain and head are consistent again…
    problem = first_problem(ledger_path, keys[1])  # …but the checkpoint signed the original head
    assert problem.kind == "edited" and problem.seq == 1
    assert "checkpoint record 5 signed a different head" in problem.message


def test_a_deleted_record_is_named(ledger_path, keys):
    parts = lines(ledger_path)
    del parts[3]
    write(ledger_path, parts)
    problem = first_problem(ledger_path, keys[1])
    assert (problem.kind, problem.seq) == ("deleted", 4)
    assert "record 4 deleted" in problem.message


def test_a_deleted_first_record_is_named(ledger_path, keys):
    write(ledger_path, lines(ledger_path)[1:])
    problem = first_problem(ledger_path, keys[1])
    assert (problem.kind, problem.seq) == ("deleted", 1)


def test_reordered_records_are_named(ledger_path, keys):
    parts = lines(ledger_path)
    parts[2], parts[3] = parts[3], parts[2]
    write(ledger_path, parts)
    problem = first_problem(ledger_path, keys[1])
    assert problem.kind == "reordered"
    assert problem.position == "line 3" and "record 4 (line 3) is out of order" in problem.message


def test_records_cut_off_the_end_are_named_by_the_head(ledger_path, keys):
    write(ledger_path, lines(ledger_path)[:-3])
    assert check_ledger(ledger_path, None).problems[0].kind == "truncated"  # the head alone shows it
    problem = first_problem(ledger_path, keys[1])
    assert (problem.kind, problem.seq) == ("truncated", 11)
    assert "records 11–13 missing at the end" in problem.message


def test_a_truncated_record_is_named(ledger_path, keys):
    data = ledger_path.read_bytes()
    ledger_path.write_bytes(data[: len(data) - 40])
    problem = first_problem(ledger_path, keys[1])
    assert (problem.kind, problem.seq, problem.position) == ("truncated", 13, "line 13")
    assert "cut off" in problem.message
    with pytest.raises(CheckFailed):  # and nothing can be appended after a damaged tail
        Ledger(ledger_path, keys[0]).append("sign", "ci")


def test_removing_the_head_of_a_signed_ledger_fails(ledger_path, keys):
    write(ledger_path, lines(ledger_path)[:-1])
    ledger_path.with_name("ledger.jsonl.head").unlink()
    problem = first_problem(ledger_path, keys[1])
    assert problem.kind == "truncated" and "head file is missing" in problem.message


def test_a_checkpoint_signed_by_another_key_fails(ledger_path, keys, tmp_path):
    other, other_verifier, _ = keypair()
    parts = lines(ledger_path)
    forged = Ledger(tmp_path / "other.jsonl", other)
    forged.append("sign", "ci")
    report = check_ledger(ledger_path, other_verifier)
    assert {p.reason for p in report.problems} == {"UNTRUSTED_SIGNER"}
    write(ledger_path, parts)


def test_appending_after_records_were_removed_is_refused(ledger_path, keys):
    write(ledger_path, lines(ledger_path)[:-2])
    with pytest.raises(CheckFailed) as failed:
        Ledger(ledger_path, keys[0]).append("sign", "ci")
    assert "ends before its head" in failed.value.message
    assert len(lines(ledger_path)) == 11


@pytest.mark.parametrize(("event", "actor", "digests", "reason"), [
    ("Signed Model", "ci", {}, "BAD_EVENT"),
    ("sign", " ", {}, "BAD_ACTOR"),
    ("sign", "ci", {"model": "not-a-digest"}, "BAD_DIGEST"),
])
def test_bad_records_are_refused(tmp_path, event, actor, digests, reason):
    with pytest.raises(InputError) as failed:
        Ledger(tmp_path / "ledger.jsonl").append(event, actor, digests=digests)
    assert failed.value.reason == reason


def test_cli_verify_passes_and_names_the_first_bad_record(ledger_path, keys, capsys):
    public = str(keys[2])
    code, out, _ = cli(capsys, "ledger", "verify", str(ledger_path), "--key", public)
    assert code == 0 and "13 records, chain intact, 3/3 checkpoint(s) verified" in out
    parts = lines(ledger_path)
    parts[5] = parts[5].replace(b'"user4"', b'"mallory"')
    write(ledger_path, parts)
    code, _, err = cli(capsys, "ledger", "verify", str(ledger_path), "--key", public)
    assert code == 1
    assert err.strip().splitlines()[-1].startswith("governance ledger verify: LEDGER_TAMPERED:")
    assert "record 6 (line 6) was edited" in err
    code, out, _ = cli(capsys, "ledger", "verify", str(ledger_path), "--json")
    assert code == 1 and json.loads(out)["problems"][0]["seq"] == 6


def test_cli_append_and_bad_input(tmp_path, keys, capsys):
    path = tmp_path / "ci.jsonl"
    code, _, _ = cli(capsys, "ledger", "append", str(path), "approve", "--actor", "risk-officer",
                     "--subject", "local:model-package/g/1", "--digest", f"model={SHA}", "--detail", "ticket=RISK-12")
    assert code == 0
    record = json.loads(path.read_text())
    assert (record["event"], record["digests"], record["details"]) == ("approve", {"model": SHA}, {"ticket": "RISK-12"})
    code, _, err = cli(capsys, "ledger", "verify", str(tmp_path / "absent.jsonl"))
    assert code == 2 and err.count("\n") == 1 and "no such ledger" in err


@pytest.mark.parametrize("drop_head", [False, True])
def test_a_ledger_rebuilt_without_the_key_fails_when_a_key_is_given(tmp_path, keys, drop_head):
    # Fewer records than the checkpoint interval: only the signed head vouches for the chain.
    path = tmp_path / "short.jsonl"
    for number in range(3):
        Ledger(path, keys[0]).append("sign", "ci", details={"number": number})
    assert verify_ledger(path, keys[1]).head == "signed"
    path.unlink()
    path.with_name("short.jsonl.head").unlink()
    for number in range(3):  # rewritten by someone without the key: a consistent but unsigned chain
        Ledger(path).append("sign", "mallory", details={"number": number})
    if drop_head:
        path.with_name("short.jsonl.head").unlink()
    assert check_ledger(path, None).passed  # the bare chain is consistent…
    report = check_ledger(path, keys[1])  # …but nothing in it is signed by the trusted key
    assert not report.passed
    assert report.problems[0].kind == ("truncated" if drop_head else "signature")


def test_an_unsigned_writer_cannot_replace_a_signed_head(tmp_path):
    """Appending without the key to a signed ledger is refused, so a keyed verify keeps vouching for it."""
    from governance.errors import InputError
    from governance.ledger import Ledger, verify_ledger
    from governance.signing.signer import LocalKeySigner, PublicKeyVerifier, generate_private_key

    signer = LocalKeySigner(generate_private_key())
    path = tmp_path / "ledger.jsonl"
    Ledger(path, signer).append("sign", actor="pipeline", subject="model.tar.gz")
    before = path.read_bytes(), (tmp_path / "ledger.jsonl.head").read_bytes()
    with pytest.raises(InputError) as err:
        Ledger(path).append("approve", actor="someone", subject="model.tar.gz")
    assert err.value.reason == "LEDGER_SIGNED"
    assert (path.read_bytes(), (tmp_path / "ledger.jsonl.head").read_bytes()) == before
    verify_ledger(path, PublicKeyVerifier(signer.public_key_pem()))
