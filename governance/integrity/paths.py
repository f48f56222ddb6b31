"""Where an artefact's signature files live: ``ARTEFACT.sig`` (OMS bundle) and ``ARTEFACT.manifest.sig``.

>>> signature_path("model.tar.gz"), manifest_path("model.tar.gz.sig")
('model.tar.gz.sig', 'model.tar.gz.manifest.sig')
>>> manifest_path("s3://b/m/model.tar.gz.sig"), manifest_path("sig.json")
('s3://b/m/model.tar.gz.manifest.sig', 'sig.json.manifest.sig')
"""

from __future__ import annotations

import os


def signature_path(artefact: str | os.PathLike) -> str:
    """The default signature location: beside the artefact, with ``.sig`` appended (as ``model_signing`` does)."""
    return f"{artefact}.sig"


def manifest_path(signature: str | os.PathLike) -> str:
    """Where the manifest bundle lives for a signature path or URI."""
    text = str(signature)
    return (text[: -len(".sig")] if text.endswith(".sig") else text) + ".manifest.sig"
