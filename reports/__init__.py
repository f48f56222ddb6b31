"""Audit packs: a PDF for regulators rendered only from a signed evidence folder, carrying that evidence inside.

>>> from reports import example_path, render_pack, verify_pack
>>> render_pack("evidence", "audit-pack.pdf", example_path(), signer)
PosixPath('audit-pack.pdf')
>>> verify_pack("audit-pack.pdf", verifier)["passed"]
True

``reports`` reads evidence; it never imports the pipeline, and the ``governance`` library never imports it.
"""

from reports.governance_file import GovernanceFile, example_path, load_governance_file
from reports.pack import render_pack, verify_pack

__all__ = ["GovernanceFile", "example_path", "load_governance_file", "render_pack", "verify_pack"]
