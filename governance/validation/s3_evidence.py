"""``validate`` for a model whose evidence lives in S3, as the SageMaker pipeline's Govern step publishes it.

    result = validate_s3("s3://b/p/executions/E/train/JOB/output/model.tar.gz",
                         "s3://b/p/executions/E/govern/evidence/", load_signer("validator.pem"))

The evidence folder, the artefact (with its signature) and the three recorded splits are read into a temporary
folder, each bounded in size; :func:`~governance.validation.run.validate` runs there exactly as on a local folder
(ledger record, index re-sealed with the validator's key); then every evidence file it added or changed is written
back under the prefix, the index last, encrypted as the evidence's own ``index.json`` is (the Govern job's KMS key),
so approval finds the validation where the pipeline registered the evidence. Nothing is extracted or executed.

The splits are found, unless ``data`` says where, the way the pipeline lays out one execution:
``…/executions/ID/govern/evidence/`` → ``…/executions/ID/process/{train,validation,test}/FILE``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from governance import storage
from governance.errors import InputError, NotFound
from governance.evidence import INDEX, INDEX_SIGNATURE
from governance.hashing import sha256_file
from governance.jsonio import read_json
from governance.signing import Signer
from governance.validation.data import SPLITS
from governance.validation.run import ValidationResult, validate

GOVERN_EVIDENCE = "govern/evidence/"
# The largest artefact, split and signature read (a split of the public data set is ~10 MB, the model ~1 MB).
MODEL_MAX_BYTES = 2 * 1024**3
SPLIT_MAX_BYTES = 1024**3
SIGNATURE_MAX_BYTES = 1024**2


def split_candidates(evidence_uri: str, data: str | None, name: str, file: str) -> list[str]:
    """Where split ``name`` (recorded as ``file``) may be, nearest first.

    >>> split_candidates("s3://b/p/executions/E/govern/evidence/", None, "test", "test.csv")
    ['s3://b/p/executions/E/process/test/test.csv']
    >>> split_candidates("s3://b/e/", "s3://b/data/", "train", "train.csv")
    ['s3://b/data/train.csv', 's3://b/data/train/train.csv']
    """
    if data:
        base = data.rstrip("/")
        return [f"{base}/{file}", f"{base}/{name}/{file}"]
    prefix = evidence_uri.rstrip("/") + "/"
    if not prefix.endswith("/" + GOVERN_EVIDENCE):
        return []
    return [f"{prefix[:-len(GOVERN_EVIDENCE)]}process/{name}/{file}"]


def _download(uri: str, target: Path, max_bytes: int) -> Path:
    storage.write_bytes_atomic(target, storage.read_bytes(uri, max_bytes=max_bytes))
    return target


def _fetch_splits(evidence: Path, evidence_uri: str, data: str | None, into: Path) -> Path:
    outputs = read_json(evidence / "dataset.json").get("outputs", {}) if (evidence / "dataset.json").is_file() else {}
    for name in SPLITS:
        file = (outputs.get(name) or {}).get("file")
        if not file:
            continue  # load_splits names what is missing
        candidates = split_candidates(evidence_uri, data, name, Path(file).name)
        if not candidates:
            raise InputError("NO_DATA", f"{evidence_uri}: not the pipeline's layout (…/{GOVERN_EVIDENCE}); give "
                                        "--data s3://… (the prefix holding the recorded splits)")
        for uri in candidates:
            try:
                _download(uri, into / Path(file).name, SPLIT_MAX_BYTES)
                break
            except NotFound:
                continue
        else:
            raise InputError("FILE_NOT_FOUND", f"the {name} split is not at {' or '.join(candidates)} (give --data)")
    return into


def _refuse_unsignable_ledger(evidence: Path, signer: Signer) -> None:
    """Refuse before any work when the evidence ledger's head is signed by a key this validation cannot sign with
    (a pipeline's KMS key): the ``validate`` record belongs in the deployment's ledger then."""
    from governance.ledger._file import FileStore

    head = FileStore(evidence / "ledger.jsonl").head() or {}
    envelope = head.get("envelope") if isinstance(head.get("envelope"), dict) else {}
    keyids = {s.get("keyid") for s in envelope.get("signatures", []) if isinstance(s, dict)} - {"", None}
    if keyids and signer.key_hint not in keyids:
        raise InputError("LEDGER_KEY", f"the evidence ledger's head is signed by key sha256:{sorted(keyids)[0][:16]}…, "
                                       "not by the key this validation signs the ledger with: give --ledger "
                                       "s3://BUCKET/PREFIX/ledger/ (the deployment's ledger) or --ledger-key PEM")


def _publish(evidence: Path, before: dict[str, str], evidence_uri: str) -> list[str]:
    """Write back what the validation added or changed, the index and its signature last; the URIs written."""
    encryption = storage.object_encryption(f"{evidence_uri}{INDEX}") if INDEX in before else {}
    changed = sorted(path.relative_to(evidence).as_posix() for path in evidence.rglob("*")
                     if path.is_file() and before.get(path.relative_to(evidence).as_posix()) != sha256_file(path))
    ordered = [name for name in changed if name not in (INDEX, INDEX_SIGNATURE)]
    ordered += [name for name in (INDEX, INDEX_SIGNATURE) if name in changed]
    written = []
    for name in ordered:
        uri = f"{evidence_uri}{name}"
        storage.write_bytes_atomic(uri, (evidence / name).read_bytes(), encryption=encryption)
        written.append(uri)
    return written


def validate_s3(
    model_uri: str,
    evidence_uri: str,
    signer: Signer,
    *,
    policy=None,
    out_dir: str | os.PathLike | None = None,
    data: str | None = None,
    actor: str = "model-validator",
    ledger_signer: Signer | None = None,
    ledger: str | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> ValidationResult:
    """:func:`~governance.validation.run.validate` on an ``s3://`` evidence folder (see the module docstring).

    With ``out_dir`` (a local folder) ``validation.json`` goes there and nothing in S3 changes. ``data`` is an
    ``s3://`` prefix or a local folder holding the splits. ``ledger`` is where the ``validate`` record goes: the
    pipeline signs its evidence ledger's head with its KMS key, which a validator does not hold, so give the
    deployment's ``s3://…/ledger/`` (where ``governance approve`` records SageMaker decisions).
    """
    if not storage.is_s3_uri(evidence_uri):
        raise InputError("BAD_URI", f"{evidence_uri}: not an s3:// evidence folder")
    evidence_uri = evidence_uri.rstrip("/") + "/"
    with tempfile.TemporaryDirectory(prefix="validate-s3-") as scratch:
        root = Path(scratch)
        evidence = root / "evidence"
        progress(f"reading {evidence_uri}")
        try:
            before = storage.download_folder(evidence_uri, evidence)
        except NotFound:
            raise InputError("NOT_A_DIRECTORY", f"{evidence_uri}: no such evidence folder (no objects)") from None
        if ledger is None and out_dir is None:
            _refuse_unsignable_ledger(evidence, ledger_signer or signer)
        model = root / "model" / "model.tar.gz"
        if storage.is_s3_uri(model_uri):
            progress(f"reading {model_uri}")
            _download(model_uri, model, MODEL_MAX_BYTES)
            with contextlib.suppress(NotFound):  # the model signer's key hint is read from the signature beside it
                _download(f"{model_uri}.sig", model.with_name("model.tar.gz.sig"), SIGNATURE_MAX_BYTES)
        else:
            model = Path(model_uri)
        if data and not storage.is_s3_uri(data):
            data_dir = Path(data)
        else:
            progress("reading the recorded splits")
            data_dir = _fetch_splits(evidence, evidence_uri, data, root / "data")
        result = validate(model, evidence, signer, policy=policy, out_dir=out_dir, data_dir=data_dir, actor=actor,
                          ledger_signer=ledger_signer, progress=progress, artefact_label=model_uri, ledger=ledger)
        if out_dir is not None:
            return result
        progress(f"writing the validation and the re-sealed index to {evidence_uri}")
        _publish(evidence, before, evidence_uri)
    return ValidationResult(result.document, f"{evidence_uri}{result.path.name}")


__all__ = ["split_candidates", "validate_s3"]
