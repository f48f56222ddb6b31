"""Object-level policy checks at scale from S3 Inventory: one query per delivery, no per-object API call.

>>> from governance.policy.inventory import scan_inventory                        # doctest: +SKIP
>>> result = scan_inventory(["s3://inventory/models/daily/2026-11-29T01-00Z/manifest.json"])  # doctest: +SKIP
>>> result.stats["head_object_calls"], result.exit_code                            # doctest: +SKIP
(0, 1)

``manifest`` reads a delivery and verifies its files, ``sql`` compiles the checks, ``engines`` runs the query on
DuckDB or Athena, ``scan`` turns the answers into findings.
"""

from governance.policy.inventory.engines import AthenaSettings
from governance.policy.inventory.manifest import Manifest, read_manifest
from governance.policy.inventory.scan import scan_inventory

__all__ = ["AthenaSettings", "Manifest", "read_manifest", "scan_inventory"]
