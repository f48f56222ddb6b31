"""The scan function's zip: built by the repository's script, boto3 >= 1.40 bundled, importable in a clean venv."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile

import pytest

from pipeline.infra import lambda_zip

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory):
    """Built for this interpreter's Python (the same wheels the runtime gets, for the version that can run here)."""
    work = tmp_path_factory.mktemp("lambda-zip")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    zipped = lambda_zip.build(work / "governance-scan.zip", python_version=version)
    folder = work / "unpacked"
    with zipfile.ZipFile(zipped) as archive:  # our own build, not an untrusted archive
        archive.extractall(folder)
    return zipped, folder


def test_zip_bundles_boto3_and_imports_in_a_clean_venv(unpacked, tmp_path):
    """Defect: the zip relied on the runtime's boto3, older than the botocore 1.36 the scan's S3 client needs."""
    zipped, folder = unpacked
    names = zipfile.ZipFile(zipped).namelist()
    assert "governance/policy/lambda_handler.py" in names and "policies/encryption.yaml" in names
    assert not [n for n in names if n.startswith(("numpy/", "pandas/", "xgboost/", "shap/"))]
    clean = tmp_path / "venv"
    venv.create(clean, with_pip=False)  # nothing installed: only the zip's contents can be imported
    modules = ", ".join(repr(m) for m in lambda_zip.SCAN_MODULES)
    probe = (f"import importlib, sys; sys.path.insert(0, {str(folder)!r})\n"
             f"for name in ({modules}):\n"
             f"    module = importlib.import_module(name)\n"
             f"    assert module.__file__.startswith({str(folder)!r}), (name, module.__file__)\n"
             "import boto3, botocore\n"
             "from botocore.config import Config\n"
             "Config(response_checksum_validation='when_supported')\n"
             "from governance.policy import load_policies\n"
             "print(boto3.__version__, len(load_policies().checks))\n")
    done = subprocess.run([str(clean / "bin" / "python"), "-I", "-c", probe], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    version, checks = done.stdout.split()
    assert tuple(int(part) for part in version.split(".")[:2]) >= (1, 40)
    assert int(checks) > 0


def test_zip_is_reproducible(unpacked, tmp_path):
    _, folder = unpacked
    again = tmp_path / "again.zip"
    lambda_zip.write_zip(folder, again)
    first = tmp_path / "first.zip"
    lambda_zip.write_zip(folder, first)
    assert first.read_bytes() == again.read_bytes()
