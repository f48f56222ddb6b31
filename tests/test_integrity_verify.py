"""Sign and verify: the tamper matrix (every way to alter an artefact or its signature is refused with the right
reason), unsafe archives at the gate, and the command line's exit codes and JSON."""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import pickle
import shutil
import tarfile
from pathlib import Path

import pytest

from governance.cli import main
from governance.errors import CheckFailed, InputError
from governance.integrity import sign_artefact, verify_artefact
from governance.integrity.paths import manifest_path
from governance.signing import load_signer, load_verifier
from governance.signing.signer import write_key_pair
from tests.test_integrity_archive import member, small_booster_bytes, tar_gz


def ordered_tarball(members: list[tuple[str, bytes]]) -> bytes:
    """A deterministic tar.gz with members in the given order (tarball_bytes sorts them)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


MEMBERS = [("xgboost-model", small_booster_bytes()), ("code/inference.py", b"def model_fn(model_dir):\n    pass\n")]


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    private, public = write_key_pair(folder / "a")
    other_private, other_public = write_key_pair(folder / "b")
    return {"private": private, "public": public, "other_private": other_private, "other_public": other_public}


@pytest.fixture
def signed(tmp_path, keys):
    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(ordered_tarball(MEMBERS))
    result = sign_artefact(artefact, load_signer(keys["private"]))
    return artefact, result


def reason_of(artefact, keys, **kwargs) -> str | None:
    kwargs.setdefault("verifier", load_verifier(keys["public"]))
    try:
        verify_artefact(artefact, **kwargs)
    except CheckFailed as failure:
        return failure.reason
    return None


def test_sign_writes_oms_bundle_and_manifest(signed, keys):
    artefact, result = signed
    bundle = json.loads(Path(result.signature).read_text())
    assert bundle["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert bundle["verificationMaterial"] == {"publicKey": {"hint": load_verifier(keys["public"]).key_hint},
                                              "tlogEntries": []}
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    import hashlib

    file_sha = hashlib.sha256(artefact.read_bytes()).hexdigest()
    assert statement["predicate"]["resources"] == [{"name": ".", "algorithm": "sha256", "digest": file_sha}]
    assert statement["subject"][0]["digest"]["sha256"] == hashlib.sha256(bytes.fromhex(file_sha)).hexdigest()
    assert result.manifest == f"{artefact}.manifest.sig" and Path(result.manifest).is_file()
    assert result.to_dict()["artefact"]["sha256"] == file_sha


def test_untouched_artefact_verifies(signed, keys):
    artefact, _ = signed
    result = verify_artefact(artefact, verifier=load_verifier(keys["public"]))
    assert result.passed and result.reason is None
    assert result.manifest_source == "signed" and [m.name for m in result.members] == [n for n, _ in MEMBERS]
    assert result.findings[0].code == "CODE_PRESENT"
    assert verify_artefact(artefact, verifier=str(keys["public"])).passed  # a key path works too


def test_untouched_verify_is_one_pass_without_the_member_walk(signed, keys, monkeypatch):
    from governance.integrity import archive

    def refuse(*args, **kwargs):
        raise AssertionError("the member walk ran for an untouched artefact")

    monkeypatch.setattr(archive, "inspect_artefact", refuse)
    artefact, _ = signed
    assert verify_artefact(artefact, verifier=load_verifier(keys["public"])).passed


def test_every_single_byte_change_is_a_digest_mismatch(signed, keys, tmp_path):
    artefact, result = signed
    original = artefact.read_bytes()
    tampered = tmp_path / "tampered.tar.gz"
    verifier = load_verifier(keys["public"])
    named = 0
    for position in range(len(original)):
        data = bytearray(original)
        data[position] ^= 0x01
        tampered.write_bytes(bytes(data))
        outcome = verify_artefact(tampered, result.signature, verifier=verifier, raise_on_failure=False)
        assert outcome.reason == "DIGEST_MISMATCH", (position, outcome.message)
        assert outcome.changes, position
        named += any(c["change"] in {"modified", "unreadable", "archive"} for c in outcome.changes)
    assert named > len(original) // 2  # most flips land in compressed data and break or alter a member
    assert verify_artefact(artefact, verifier=verifier).passed


@pytest.mark.parametrize(
    ("variant", "members", "expected"),
    [
        ("modified", [("xgboost-model", small_booster_bytes(rounds=5)), MEMBERS[1]],
         {"change": "modified", "member": "xgboost-model"}),
        ("added", [*MEMBERS, ("code/requirements.txt", b"evil==1\n")],
         {"change": "added", "member": "code/requirements.txt"}),
        ("removed", MEMBERS[:1], {"change": "removed", "member": "code/inference.py"}),
        ("renamed", [MEMBERS[0], ("code/serve.py", MEMBERS[1][1])],
         {"change": "renamed", "member": "code/inference.py", "to": "code/serve.py"}),
        ("reordered", MEMBERS[::-1], {"change": "reordered", "member": None}),
        ("duplicated", [*MEMBERS, ("xgboost-model", b"{}")], {"change": "duplicated", "member": "xgboost-model"}),
    ],
)
def test_member_changes_are_named(signed, keys, variant, members, expected):
    artefact, _ = signed
    artefact.write_bytes(ordered_tarball(members))
    with pytest.raises(CheckFailed) as failure:
        verify_artefact(artefact, verifier=load_verifier(keys["public"]))
    assert failure.value.reason == "DIGEST_MISMATCH"
    changes = failure.value.details["changes"]
    assert any(expected.items() <= change.items() for change in changes), changes


def test_recompressed_container_with_identical_members(signed, keys):
    artefact, _ = signed
    artefact.write_bytes(gzip.compress(gzip.decompress(artefact.read_bytes()), compresslevel=1, mtime=0))
    with pytest.raises(CheckFailed) as failure:
        verify_artefact(artefact, verifier=load_verifier(keys["public"]))
    assert failure.value.reason == "DIGEST_MISMATCH"
    assert [c["change"] for c in failure.value.details["changes"]] == ["container"]


def test_truncated_artefact_is_a_digest_mismatch_naming_the_damage(signed, keys):
    artefact, _ = signed
    artefact.write_bytes(artefact.read_bytes()[:-40])
    with pytest.raises(CheckFailed) as failure:
        verify_artefact(artefact, verifier=load_verifier(keys["public"]))
    assert failure.value.reason == "DIGEST_MISMATCH"
    assert any(c.get("reason") == "TRUNCATED_ARCHIVE" for c in failure.value.details["changes"])


def test_swapped_signature_from_another_artefact(signed, keys, tmp_path):
    artefact, _ = signed
    other = tmp_path / "other.tar.gz"
    other.write_bytes(ordered_tarball([("xgboost-model", small_booster_bytes(rounds=6))]))
    sign_artefact(other, load_signer(keys["private"]))
    assert reason_of(artefact, keys, signature=f"{other}.sig") == "DIGEST_MISMATCH"
    # The artefact's own signature, with the other artefact's manifest beside it.
    shutil.copyfile(f"{other}.manifest.sig", f"{artefact}.manifest.sig")
    assert reason_of(artefact, keys) == "SIGNATURE_INVALID"


def test_signature_by_another_key(signed, keys, tmp_path):
    artefact, _ = signed
    sign_artefact(artefact, load_signer(keys["other_private"]), out=tmp_path / "other.sig")
    assert reason_of(artefact, keys, signature=tmp_path / "other.sig") == "SIGNATURE_INVALID"
    # Even when the bundle claims the trusted key's hint, the signature itself does not verify.
    bundle = json.loads((tmp_path / "other.sig").read_text())
    bundle["verificationMaterial"]["publicKey"]["hint"] = load_verifier(keys["public"]).key_hint
    (tmp_path / "other.sig").write_text(json.dumps(bundle))
    assert reason_of(artefact, keys, signature=tmp_path / "other.sig") == "SIGNATURE_INVALID"


def _edit_payload(path: str, edit) -> None:
    bundle = json.loads(Path(path).read_text())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    edit(statement)
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    Path(path).write_text(json.dumps(bundle))


def test_edited_statement_is_signature_invalid(signed, keys):
    artefact, result = signed
    # Point the OMS statement at the bytes of a tampered artefact: the signature no longer covers it.
    artefact.write_bytes(ordered_tarball(MEMBERS[:1]))
    import hashlib

    new_sha = hashlib.sha256(artefact.read_bytes()).hexdigest()

    def retarget(statement):
        statement["predicate"]["resources"][0]["digest"] = new_sha
        statement["subject"][0]["digest"]["sha256"] = hashlib.sha256(bytes.fromhex(new_sha)).hexdigest()

    _edit_payload(result.signature, retarget)
    assert reason_of(artefact, keys) == "SIGNATURE_INVALID"


def test_edited_manifest_is_signature_invalid(tmp_path, keys):
    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(tar_gz(member("xgboost-model", small_booster_bytes()),
                                member("weights.pkl", pickle.dumps(os.system, protocol=4))))
    result = sign_artefact(artefact, load_signer(keys["private"]), allow_unsafe=True)
    assert reason_of(artefact, keys) == "UNSAFE_ARCHIVE"
    _edit_payload(result.manifest, lambda statement: statement["predicate"].update(findings=[]))
    assert reason_of(artefact, keys) == "SIGNATURE_INVALID"


def test_signature_swapped_between_bundle_and_manifest(signed, keys):
    _, result = signed
    bundle = json.loads(Path(result.signature).read_text())
    manifest = json.loads(Path(result.manifest).read_text())
    bundle["dsseEnvelope"]["signatures"] = manifest["dsseEnvelope"]["signatures"]
    Path(result.signature).write_text(json.dumps(bundle))
    assert reason_of(result.artefact, keys) == "SIGNATURE_INVALID"


def test_truncated_or_missing_signature_is_bad_input(signed, keys):
    artefact, result = signed
    data = Path(result.signature).read_bytes()
    Path(result.signature).write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as failure:
        verify_artefact(artefact, verifier=load_verifier(keys["public"]))
    assert failure.value.reason == "MALFORMED_SIGNATURE"
    os.unlink(result.signature)
    with pytest.raises(InputError) as failure:
        verify_artefact(artefact, verifier=load_verifier(keys["public"]))
    assert failure.value.reason == "SIGNATURE_NOT_FOUND"


@pytest.mark.parametrize(("field", "value", "reason"), [
    (("dsseEnvelope", "payloadType"), 5, "MALFORMED_ENVELOPE"),
    (("verificationMaterial", "publicKey", "hint"), 7, "MALFORMED_SIGNATURE"),
])
def test_wrongly_typed_bundle_fields_are_bad_input(signed, keys, capsys, field, value, reason):
    artefact, result = signed
    bundle = json.loads(Path(result.signature).read_text())
    parent = bundle
    for key in field[:-1]:
        parent = parent[key]
    parent[field[-1]] = value
    Path(result.signature).write_text(json.dumps(bundle))
    assert main(["verify", str(artefact), "--key", str(keys["public"])]) == 2
    assert reason in capsys.readouterr().err


def test_without_the_manifest_the_gate_inspects_in_the_same_pass(signed, keys):
    artefact, result = signed
    os.unlink(result.manifest)
    outcome = verify_artefact(artefact, verifier=load_verifier(keys["public"]))
    assert outcome.passed and outcome.manifest_source == "inspected"
    assert [m.name for m in outcome.members] == [n for n, _ in MEMBERS]


def test_unsafe_archive_is_not_signed_and_gated(tmp_path, keys):
    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(tar_gz(member("xgboost-model", small_booster_bytes()),
                                member("../../etc/cron.d/x", b"* * * * * root sh\n")))
    with pytest.raises(CheckFailed) as failure:
        sign_artefact(artefact, load_signer(keys["private"]))
    assert failure.value.reason == "UNSAFE_ARCHIVE" and "PATH_TRAVERSAL" in failure.value.message
    assert not Path(f"{artefact}.sig").exists() and not Path(f"{artefact}.manifest.sig").exists()

    sign_artefact(artefact, load_signer(keys["private"]), allow_unsafe=True)
    assert reason_of(artefact, keys) == "UNSAFE_ARCHIVE"
    allowed = verify_artefact(artefact, verifier=load_verifier(keys["public"]), allow_unsafe=True)
    assert allowed.passed and [f.code for f in allowed.blocking] == ["PATH_TRAVERSAL"]
    # Without the signed manifest the inspection finds the same.
    os.unlink(f"{artefact}.manifest.sig")
    assert reason_of(artefact, keys) == "UNSAFE_ARCHIVE"


def test_manifest_evidence_document(signed, keys, tmp_path):
    from governance.integrity import manifest_evidence, write_manifest_evidence

    artefact, result = signed
    outcome = verify_artefact(artefact, verifier=load_verifier(keys["public"]))
    evidence = manifest_evidence(outcome)
    assert evidence["artefact"]["sha256"] == result.sha256 and evidence["artefact"]["size"] == artefact.stat().st_size
    assert evidence["artefact"]["code_members"] == ["code/inference.py"]
    assert [m["name"] for m in evidence["members"]] == ["xgboost-model", "code/inference.py"]
    assert evidence["signer"]["key_hint"] == load_verifier(keys["public"]).key_hint
    assert evidence["signature"]["signature_sha256"] and evidence["signature"]["manifest_sha256"]
    assert evidence["verification"]["verified"] is True
    path = write_manifest_evidence(tmp_path / "evidence", outcome)
    assert json.loads(path.read_text()) == json.loads(json.dumps(evidence))

    artefact.write_bytes(ordered_tarball(MEMBERS[:1]))
    failed = verify_artefact(artefact, verifier=load_verifier(keys["public"]), raise_on_failure=False)
    assert manifest_evidence(failed)["verification"]["reason"] == "DIGEST_MISMATCH"


# --- the command line ---------------------------------------------------------------------------------------


def test_cli_keygen_sign_verify_inspect(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GOVERNANCE_KEY_PASSPHRASE", "correct horse")
    assert main(["keygen", "--out", str(tmp_path / "keys")]) == 0
    private = tmp_path / "keys" / "signing-key.pem"
    assert b"ENCRYPTED" in private.read_bytes()
    assert private.stat().st_mode & 0o777 == 0o600
    assert main(["keygen", "--out", str(tmp_path / "keys")]) == 2  # never overwrites

    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(ordered_tarball(MEMBERS))
    assert main(["sign", str(artefact), "--key", str(private)]) == 0
    assert Path(f"{artefact}.sig").is_file() and Path(manifest_path(f"{artefact}.sig")).is_file()
    capsys.readouterr()

    public = str(tmp_path / "keys" / "signing-key.pub.pem")
    assert main(["verify", str(artefact), "--key", public, "--json"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["verified"] is True and verdict["reason"] is None

    assert main(["inspect", str(artefact), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["safe"] and report["code_members"] == ["code/inference.py"]
    assert main(["inspect", str(artefact)]) == 0
    text = capsys.readouterr().out
    assert "code/inference.py" in text and "CODE_PRESENT" in text and report["artefact"]["sha256"] in text

    artefact.write_bytes(ordered_tarball(MEMBERS[::-1]))
    assert main(["verify", str(artefact), "--key", public, "--json"]) == 1
    captured = capsys.readouterr()
    verdict = json.loads(captured.out)
    assert verdict["reason"] == "DIGEST_MISMATCH" and "DIGEST_MISMATCH" in captured.err

    monkeypatch.delenv("GOVERNANCE_KEY_PASSPHRASE")
    assert main(["sign", str(artefact), "--key", str(private)]) == 2
    assert "KEY_ENCRYPTED" in capsys.readouterr().err


def test_cli_exit_codes_for_bad_calls(tmp_path, keys, capsys):
    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(ordered_tarball(MEMBERS))
    assert main(["verify", str(artefact), "--key", str(keys["public"]), "--json"]) == 2  # no signature
    assert json.loads(capsys.readouterr().out)["reason"] == "SIGNATURE_NOT_FOUND"
    with pytest.raises(SystemExit) as exit_info:
        main(["verify", str(artefact)])  # neither --key nor --trusted
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["sign", str(artefact), "--key", "k.pem", "--kms-key-id", "alias/x"])
    assert exit_info.value.code == 2
    assert main(["sign", str(tmp_path / "absent.tar.gz"), "--key", str(keys["private"])]) == 2
    assert main(["verify", str(artefact), "--key", str(keys["private"])]) == 2  # a private key given as public
    capsys.readouterr()


@pytest.mark.parametrize("spelling", ["{dir}/./model.tar.gz", "{dir}/sub/../model.tar.gz", "{dir}/link"])
def test_signature_never_overwrites_the_artefact_however_spelled(tmp_path, keys, capsys, spelling):
    artefact = tmp_path / "model.tar.gz"
    original = ordered_tarball(MEMBERS)
    artefact.write_bytes(original)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link").symlink_to(artefact)
    out = spelling.format(dir=tmp_path)
    assert main(["sign", str(artefact), "--key", str(keys["private"]), "--out", out]) == 2
    assert "BAD_OUTPUT" in capsys.readouterr().err
    assert artefact.read_bytes() == original
    assert not list(tmp_path.glob("*.sig"))


def test_unusable_output_paths_are_bad_input_and_write_nothing(tmp_path, keys, capsys):
    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(ordered_tarball(MEMBERS))
    (tmp_path / "folder").mkdir()
    (tmp_path / "plain-file").write_text("x")
    for out in (tmp_path / "folder", tmp_path / "plain-file" / "model.tar.gz.sig"):
        assert main(["sign", str(artefact), "--key", str(keys["private"]), "--out", str(out)]) == 2
        assert "BAD_OUTPUT" in capsys.readouterr().err
    assert main(["keygen", "--out", str(tmp_path / "plain-file")]) == 2
    assert "BAD_OUTPUT" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["folder", "model.tar.gz", "plain-file"]


def test_cli_refuses_unsafe_then_allows_explicitly(tmp_path, keys, capsys):
    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(tar_gz(member("xgboost-model", small_booster_bytes()),
                                member("loader", type=tarfile.SYMTYPE, linkname="/etc/passwd")))
    assert main(["inspect", str(artefact)]) == 1
    assert "UNSAFE_ARCHIVE" in capsys.readouterr().err
    assert main(["sign", str(artefact), "--key", str(keys["private"])]) == 1
    assert "SYMLINK" in capsys.readouterr().err and not Path(f"{artefact}.sig").exists()
    assert main(["sign", str(artefact), "--key", str(keys["private"]), "--allow-unsafe"]) == 0
    assert main(["verify", str(artefact), "--key", str(keys["public"]), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["reason"] == "UNSAFE_ARCHIVE"


def test_format_constants_agree():
    """verify.py repeats two OMS constants to stay import-light; they must not drift from oms.py."""
    from governance.integrity import oms, verify

    assert (verify.OMS_BUNDLE_MEDIA_TYPE, verify.OMS_PREDICATE_TYPE) == (oms.BUNDLE_MEDIA_TYPE, oms.PREDICATE_TYPE)
