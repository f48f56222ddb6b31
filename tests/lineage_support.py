"""Helpers for the lineage, evidence and ledger tests: keys on disk, private copies of a run, the CLI in-process."""

from __future__ import annotations

import shutil
from pathlib import Path

from governance.signing import LocalKeySigner, PublicKeyVerifier, load_signer, load_verifier
from governance.signing.signer import generate_private_key, write_key_pair


def keypair(folder: Path | None = None) -> tuple[LocalKeySigner, PublicKeyVerifier, Path | None]:
    """A fresh signer and its verifier; with ``folder``, the pair is written there by ``write_key_pair`` (the
    public key is the third value, for ``--key``)."""
    if folder is None:
        signer = LocalKeySigner(generate_private_key())
        return signer, PublicKeyVerifier(signer.public_key_pem()), None
    private, public = write_key_pair(folder)
    return load_signer(private), load_verifier(public), public


def copy_run(run, target: Path) -> Path:
    """Copy a session-shared run's work folder (so a test may damage it) and point its run.json at the copy."""
    source = Path(run.workdir).resolve()
    shutil.copytree(source, target)
    run_json = target / "run.json"
    run_json.write_text(run_json.read_text().replace(str(source), str(target.resolve())))
    return run_json


def flip_byte(path: Path, offset: int | None = None) -> None:
    """Change exactly one byte (in the middle by default) without changing the length."""
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if offset is None else offset
    data[at] = ord("0") if data[at] != ord("0") else ord("1")
    path.write_bytes(bytes(data))


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    from governance.cli import main

    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err
