"""Audit packs: a PDF for regulators rendered only from a signed evidence folder, carrying that evidence inside.

>>> from reports import render_pack, verify_pack                       # doctest: +SKIP
>>> render_pack("work/evidence", "work/audit-pack.pdf", "model-governance.yaml", signer)   # doctest: +SKIP
>>> verify_pack("work/audit-pack.pdf", verifier)["passed"]              # doctest: +SKIP
True

``reports`` reads evidence; it never imports the pipeline, and the ``governance`` library never imports it.
"""

from reports.governance_file import GovernanceFile, example_path, load_governance_file
from reports.pack import render_pack, verify_pack

__all__ = ["GovernanceFile", "example_path", "load_governance_file", "render_pack", "verify_pack"]
