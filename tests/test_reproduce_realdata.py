"""``governance reproduce`` on a pack of the real data: every numeric figure of the performance, fairness,
explainability and data sections re-derived from the raw file, none left unchecked."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from governance.cli import main
from tests.test_reproduce import printed_numbers

pytestmark = pytest.mark.realdata


def test_every_printed_figure_of_the_real_data_pack_reproduces(real_pack, real_data):
    from reports.evidence_folder import open_evidence

    built, pdf = real_pack
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["reproduce", str(pdf), "--data", str(real_data), "--key", str(built.public_key), "--json"])
    result = json.loads(out.getvalue())
    assert code == 0, result["summary"]
    assert result["counts"]["differs"] == 0
    figures = {f["figure"]: f for f in result["figures"]}
    sections = {f["section"] for f in figures.values()}
    assert {"data", "performance", "fairness", "explainability"} <= sections
    assert printed_numbers(open_evidence(built.evidence, built.verifier)) - figures.keys() == set()
    # The splits and the model are the real ones, byte for byte.
    assert figures["dataset.json:source.content_sha256"]["status"] == "match"
    assert figures["training.json:model_sha256"]["status"] == "match"
    assert figures["dataset.json:rows.total"]["recomputed"] == 150_000
    assert f"{result['counts']['match']} matched, 0 differ" in err.getvalue()
