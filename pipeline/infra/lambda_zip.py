"""Build the nightly scan function's zip: ``governance`` + ``policies`` and the libraries the scan imports, boto3
included, for the Lambda runtime (Python 3.12 on x86_64 by default)::

    python -m pipeline.infra.lambda_zip --out build/governance-scan.zip

boto3 is bundled rather than taken from the runtime: Lambda runtimes ship an older boto3 than this package
needs (``Config(response_checksum_validation=…)`` needs botocore 1.36 or newer). The data-science libraries are
left out: the scan never imports them (:data:`SCAN_MODULES` is what a test imports from the zip in a clean
virtual environment). Wheels come from the package index through ``pip install --target --platform``; the zip
is written with fixed timestamps and sorted entries, so the same inputs give the same bytes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("governance", "policies")
# What the scan imports at run time (pip requirement specifiers; boto3 at the version this package needs).
REQUIREMENTS = ("boto3>=1.40", "pydantic>=2.7", "PyYAML>=6", "rich>=13", "cryptography>=43",
                # policy `matches` conditions run on RE2 (linear time)
                "google-re2>=1.1")
# The modules the handler reaches during a scan; the import test loads each one from the zip.
SCAN_MODULES = ("governance.policy.lambda_handler", "governance.policy.collectors", "governance.integrity",
                "governance.lineage", "governance.ledger", "governance.signing.kms", "boto3", "botocore")
DEFAULT_PLATFORM = "manylinux2014_x86_64"
DEFAULT_PYTHON = "3.12"
_EPOCH = (2020, 1, 1, 0, 0, 0)


def install_dependencies(target: Path, *, python_version: str, platform: str, pip: list[str] | None = None) -> None:
    """``pip install --target`` the requirements as binary wheels for the runtime's Python and platform."""
    command = [*(pip or [sys.executable, "-m", "pip"]), "install", "--quiet", "--disable-pip-version-check",
               "--no-compile", "--target", str(target), "--platform", platform, "--python-version", python_version,
               "--implementation", "cp", "--only-binary=:all:", *REQUIREMENTS]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"lambda_zip: pip failed ({done.returncode}): {done.stderr.strip()[-400:]}")


def copy_packages(target: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(REPO / package, target / package, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def write_zip(source: Path, out: Path) -> int:
    """A reproducible zip of ``source`` (sorted entries, fixed times, no bytecode); returns the entry count."""
    out.parent.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), _EPOCH)
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    partial.replace(out)
    return len(files)


def build(out: str | os.PathLike, *, python_version: str = DEFAULT_PYTHON, platform: str = DEFAULT_PLATFORM) -> Path:
    """Build the zip at ``out`` (written whole or not at all)."""
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="lambda-zip-") as scratch:
        target = Path(scratch) / "package"
        install_dependencies(target, python_version=python_version, platform=platform)
        copy_packages(target)
        write_zip(target, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipeline.infra.lambda_zip", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="build/governance-scan.zip", help="the zip to write")
    parser.add_argument("--python-version", default=DEFAULT_PYTHON, help="the Lambda runtime's Python (3.12)")
    parser.add_argument("--platform", default=DEFAULT_PLATFORM, help="wheel platform tag of the runtime")
    args = parser.parse_args(argv)
    path = build(args.out, python_version=args.python_version, platform=args.platform)
    print(f"{path} ({path.stat().st_size // 1024} KiB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
