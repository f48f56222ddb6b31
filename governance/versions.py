"""Earlier versions kept beside the current one in a work folder, so a new version can be compared with the last.

A work folder (what ``governance demo --out DIR`` writes) holds one version at a time: ``evidence/``, ``model/``,
the verdict and the audit pack. Before a new run overwrites them, :func:`keep_previous_version` moves the
registered version's files to ``versions/N/`` (N = its registry version) and points its registry entry at the
new place, so ``local:model-package/GROUP/N`` still resolves to its own artefact and evidence. A run that was not
registered is not a version: its files are overwritten as before.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from governance.errors import InputError

VERSIONS_DIR = "versions"
# What one version owns in a work folder (the data/ folder is an input, keys/ and registry.db are shared).
VERSION_FILES = ("evidence", "model", "governance.json", "governance.json.sig", "audit-pack.pdf",
                 "audit-pack.pdf.sig", "run.json")


@dataclass(frozen=True)
class KeptVersion:
    version: int
    arn: str
    folder: Path

    @property
    def evidence(self) -> Path:
        return self.folder / "evidence"


def _registered(work: Path) -> tuple[str, int] | None:
    try:
        record = json.loads((work / "run.json").read_text())
    except (OSError, ValueError):
        return None
    package = record.get("model_package") or {}
    if not record.get("registered") or not isinstance(package.get("ModelPackageVersion"), int):
        return None
    return package["ModelPackageGroupName"], package["ModelPackageVersion"]


def _moved(value: str, work: Path, target: Path) -> str:
    for base in {str(work), str(work.resolve())}:
        for name in VERSION_FILES:
            old = f"{base}/{name}"
            if value == old or value.startswith(old + "/"):
                return str(target / name) + value[len(old):]
    return value


def keep_previous_version(work: str | Path) -> KeptVersion | None:
    """Move the registered version in ``work`` to ``work/versions/N/``; ``None`` when there is none to keep."""
    from governance.registry import LocalRegistry

    work = Path(work)
    found = _registered(work)
    if found is None or not (work / "evidence" / "evaluation.json").is_file():
        return None
    group, version = found
    target = work / VERSIONS_DIR / str(version)
    if target.exists():
        raise InputError("VERSION_EXISTS", f"{target}: version {version} is already kept there; move it away first")
    target.mkdir(parents=True)
    for name in VERSION_FILES:
        if (work / name).exists():
            shutil.move(work / name, target / name)
    registry_path = work / "registry.db"
    arn = f"local:model-package/{group}/{version}"
    if registry_path.is_file():
        registry = LocalRegistry(registry_path)
        package = registry.get(group, version)
        metadata = {key: _moved(value, work, target) for key, value in package.customer_metadata.items()}
        registry.update(package, customer_metadata=metadata, artefact_uri=_moved(package.artefact_uri, work, target))
        arn = package.arn
    return KeptVersion(version, arn, target)


def latest_kept_version(work: str | Path) -> KeptVersion | None:
    """The highest version kept under ``versions/`` (what a run after an unregistered one compares with)."""
    work = Path(work)
    for version in reversed(kept_versions(work)):
        folder = work / VERSIONS_DIR / str(version)
        if (folder / "evidence" / "evaluation.json").is_file():
            found = _registered(folder)
            arn = f"local:model-package/{found[0]}/{found[1]}" if found else f"version {version}"
            return KeptVersion(version, arn, folder)
    return None


def previous_version(work: str | Path) -> tuple[KeptVersion | None, bool]:
    """What a new run in ``work`` compares with, and whether it was kept just now.

    The registered version in the folder is kept first; after a run that was not registered (its files are
    overwritten), the last kept version — and that run's change log is removed, so it is never sealed again.
    """
    from governance.changes.compare import CHANGES_FILE

    kept = keep_previous_version(work)
    if kept is not None:
        return kept, True
    (Path(work) / "evidence" / CHANGES_FILE).unlink(missing_ok=True)
    return latest_kept_version(work), False


def kept_versions(work: str | Path) -> list[int]:
    folder = Path(work) / VERSIONS_DIR
    return sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit()) if folder.is_dir() else []
