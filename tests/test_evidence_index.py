"""The evidence folder's signed index: every file listed with sha256 and size; any change is named."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from governance.errors import CheckFailed, InputError
from governance.evidence import INDEX, INDEX_SIGNATURE, check_index, verify_index, write_index
from governance.jsonio import write_json
from governance.ledger import Ledger
from tests.lineage_support import flip_byte, keypair


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "evidence"
    write_json(root / "evaluation.json", {"auc": 0.86})
    write_json(root / "dataset.json", {"rows": 150000})
    (root / "provenance").mkdir()
    (root / "provenance" / "train.intoto.json").write_text('{"payload": "x"}\n')
    (root / "fairness").mkdir()
    (root / "fairness" / "chart.png").write_bytes(bytes(range(256)) * 4)
    return root


def test_index_lists_every_file_with_its_sha256_and_size(folder):
    signer, verifier, _ = keypair()
    write_index(folder, signer)
    index = json.loads((folder / INDEX).read_text())
    listed = {e["path"]: e for e in index["files"]}
    on_disk = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
                     and p.name not in (INDEX, INDEX_SIGNATURE))
    assert sorted(listed) == on_disk == ["dataset.json", "evaluation.json", "fairness/chart.png",
                                         "provenance/train.intoto.json"]
    for path, entry in listed.items():
        data = (folder / path).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data)
    assert index["signer"]["key_hint"] == signer.key_hint
    assert verify_index(folder, verifier) == {p: e["sha256"] for p, e in listed.items()}


def test_signature_is_a_dsse_envelope_over_the_index_digest(folder):
    signer, verifier, _ = keypair()
    write_index(folder, signer)
    envelope = json.loads((folder / INDEX_SIGNATURE).read_text())
    from governance.signing import dsse

    statement = dsse.verify_envelope(envelope, verifier)
    assert statement["subject"] == [{"name": INDEX, "digest": {"sha256": hashlib.sha256(
        (folder / INDEX).read_bytes()).hexdigest()}}]


def test_one_changed_byte_in_a_file_is_named(folder):
    signer, verifier, _ = keypair()
    write_index(folder, signer)
    flip_byte(folder / "fairness" / "chart.png")
    with pytest.raises(CheckFailed) as failed:
        verify_index(folder, verifier)
    assert failed.value.reason == "DIGEST_MISMATCH"
    assert "fairness/chart.png" in failed.value.message


@pytest.mark.parametrize("offset", [None, 0])  # a changed value, and a change that breaks the JSON itself
def test_one_changed_byte_in_the_index_fails_the_signature(folder, offset):
    signer, verifier, _ = keypair()
    write_index(folder, signer)
    flip_byte(folder / INDEX, offset)
    with pytest.raises(CheckFailed) as failed:
        verify_index(folder, verifier)
    assert failed.value.reason == "DIGEST_MISMATCH"
    assert failed.value.message.startswith("index.json")


def test_an_index_signed_by_another_key_is_untrusted(folder):
    signer, _, _ = keypair()
    _, other, _ = keypair()
    write_index(folder, signer)
    with pytest.raises(CheckFailed) as failed:
        verify_index(folder, other)
    assert failed.value.reason == "UNTRUSTED_SIGNER"


def test_added_and_removed_files_are_named(folder):
    signer, verifier, _ = keypair()
    write_index(folder, signer)
    (folder / "extra.json").write_text("{}")
    os.unlink(folder / "dataset.json")
    check = check_index(folder, verifier)
    assert {(p.reason, p.path) for p in check.problems} == {("EVIDENCE_MISSING", "dataset.json"),
                                                            ("EVIDENCE_UNLISTED", "extra.json")}


def test_a_missing_or_unsigned_index_fails(folder):
    signer, verifier, _ = keypair()
    with pytest.raises(CheckFailed) as failed:
        verify_index(folder, verifier)
    assert failed.value.reason == "INDEX_MISSING"
    write_index(folder, signer)
    os.unlink(folder / INDEX_SIGNATURE)
    with pytest.raises(CheckFailed) as failed:
        verify_index(folder, verifier)
    assert failed.value.reason == "SIGNATURE_MISSING"
    assert verify_index(folder, None)  # digests alone still check out without a key


def test_the_ledger_may_grow_after_sealing_but_not_change(folder):
    signer, verifier, _ = keypair()
    ledger = Ledger(folder / "ledger.jsonl", signer)
    ledger.append("pipeline-run", "ci", "model.tar.gz", {"model": "a" * 64})
    write_index(folder, signer)
    entries = {e["path"]: e for e in json.loads((folder / INDEX).read_text())["files"]}
    assert entries["ledger.jsonl"]["mode"] == "append" and entries["ledger.jsonl.head"]["mode"] == "state"
    ledger.append("pack", "ci", "audit-pack.pdf", {"pack": "b" * 64})
    assert verify_index(folder, verifier)
    lines = (folder / "ledger.jsonl").read_bytes().splitlines(keepends=True)
    (folder / "ledger.jsonl").write_bytes(lines[0].replace(b'"ci"', b'"cj"') + b"".join(lines[1:]))
    with pytest.raises(CheckFailed) as failed:
        verify_index(folder, verifier)
    assert "ledger.jsonl" in failed.value.message


def test_symbolic_links_are_refused(folder, tmp_path):
    signer, _, _ = keypair()
    (tmp_path / "outside.json").write_text("{}")
    (folder / "link.json").symlink_to(tmp_path / "outside.json")
    with pytest.raises(InputError) as failed:
        write_index(folder, signer)
    assert failed.value.reason == "EVIDENCE_SYMLINK"


@pytest.mark.parametrize("verified", [True, False])
def test_an_index_entry_with_a_bad_size_is_a_failed_check_not_a_crash(folder, verified):
    signer, verifier, _ = keypair()
    Ledger(folder / "ledger.jsonl", signer).append("sign", "ci")
    write_index(folder, signer)
    index = json.loads((folder / INDEX).read_text())
    for entry in index["files"]:
        entry["size"] = str(entry["size"])
    (folder / INDEX).write_text(json.dumps(index))
    with pytest.raises(CheckFailed) as failed:
        verify_index(folder, verifier if verified else None)
    assert failed.value.reason == ("DIGEST_MISMATCH" if verified else "MALFORMED_INDEX")
