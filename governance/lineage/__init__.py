"""Lineage from dataset to model package, as signed in-toto Statement v1 + SLSA Provenance v1 statements.

Record a finished pipeline run, then verify or show it::

    from governance.lineage import record_pipeline_run, verify_lineage
    record_pipeline_run(run, "work/evidence", signer)      # provenance/*.intoto.json, lineage.json, lineage.png
    verify_lineage("work/evidence", verifier)              # raises CheckFailed naming the broken hop

``run`` is the :class:`~pipeline.runner.PipelineRun` the runner returned (or the path of its ``run.json``).
Seal the folder afterwards with :func:`governance.evidence.write_index`, once every other evidence file exists.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from governance import storage
from governance.jsonio import write_json
from governance.lineage.chain import Chain, load_chain, summary
from governance.lineage.graph import LINEAGE_PNG, lineage_tree, write_lineage_png
from governance.lineage.provenance import write_provenance
from governance.lineage.record import StepLineage, record_steps
from governance.lineage.verify import LINEAGE_SUMMARY, LineageReport, check_lineage, verify_lineage
from governance.signing import Signer

TRAINING_COPY = "training.json"
LEDGER_DIGEST_ROLES = ("dataset", "train", "validation", "test", "model", "evaluation")


@dataclass
class LineageRecord:
    """What :func:`record_pipeline_run` wrote; iterating over it yields every file it wrote."""

    evidence_dir: Path
    steps: list[StepLineage]
    statements: list[Path]
    chain: Chain
    summary: dict
    graph: Path | None
    files: list[Path] = field(default_factory=list)
    ledger_record: dict | None = None

    def __iter__(self) -> Iterator[Path]:
        return iter(self.files)


def _copy_training_metadata(steps: list[StepLineage], root: Path) -> Path | None:
    train = next((s for s in steps if s.name == "train"), None)
    metadata = train.output("training_metadata") if train else None
    if metadata is None:
        return None
    data = storage.read_bytes(metadata.readable)
    target = root / TRAINING_COPY
    if not target.is_file() or target.read_bytes() != data:
        storage.write_bytes_atomic(target, data)
    return target


def _digests(steps: list[StepLineage]) -> dict[str, str]:
    found: dict[str, str] = {}
    for step in steps:
        for resource in [*step.inputs, *step.outputs]:
            if resource.role in LEDGER_DIGEST_ROLES:
                found.setdefault(resource.role, resource.sha256)
    return found


def record_pipeline_run(
    run,
    evidence_dir: str | os.PathLike,
    signer: Signer,
    *,
    sagemaker: Mapping[str, Mapping[str, str]] | None = None,
    ledger=None,
    actor: str = "pipeline",
    graph: bool = True,
) -> LineageRecord:
    """Write the lineage of a finished run into the evidence folder.

    Writes ``provenance/<step>.intoto.json`` (one DSSE envelope per step, and one for the registration when the
    model was registered), ``training.json`` (the training metadata the chain names), ``lineage.json`` (the chain
    as plain data) and, with ``graph``, ``lineage.png``. With a :class:`governance.ledger.Ledger`, appends a
    ``pipeline-run`` event carrying the chain's digests.
    """
    root = Path(evidence_dir)
    steps = record_steps(run, sagemaker=sagemaker)
    statements = write_provenance(steps, root, signer)
    training = _copy_training_metadata(steps, root)
    chain, _ = load_chain(root)  # just written by us; the signatures are checked by verify_lineage
    chain_summary = summary(chain)
    write_json(root / LINEAGE_SUMMARY, chain_summary)
    picture = write_lineage_png(chain, root / LINEAGE_PNG) if graph else None
    written = [*statements, root / LINEAGE_SUMMARY, *(p for p in (training, picture) if p is not None)]
    record = LineageRecord(root, steps, statements, chain, chain_summary, picture, written)
    if ledger is not None:
        package = next((s.model_package for s in steps if s.model_package), None)
        model = chain_summary.get("model") or {}
        record.ledger_record = ledger.append(
            "pipeline-run", actor, subject=package or model.get("uri") or "", digests=_digests(steps),
            details={"steps": [s.name for s in steps], "model_package": package,
                     "statements": [p.relative_to(root).as_posix() for p in statements]},
        )
    return record


__all__ = [
    "LineageRecord",
    "LineageReport",
    "check_lineage",
    "lineage_tree",
    "load_chain",
    "record_pipeline_run",
    "verify_lineage",
    "write_lineage_png",
]
