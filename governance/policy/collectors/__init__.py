"""Collectors, registered by resource type so a policy's ``resource:`` can name them (Cloud Custodian style).

Importing this package registers every built-in collector:

>>> from governance.policy.collectors import COLLECTORS
>>> sorted(COLLECTORS)[:3]
['artefact', 'kms_key', 'local_file']
"""

from governance.policy.collectors import (  # noqa: F401
    artefact,
    kms_key,
    local_file,
    s3_bucket,
    s3_inventory,
    s3_object,
    sagemaker,
)
from governance.policy.collectors.base import (
    COLLECTORS,
    Collector,
    Evidence,
    EvidenceUnavailable,
    ResourceRef,
    ScanContext,
    collector_for,
    register,
)

__all__ = ["COLLECTORS", "Collector", "Evidence", "EvidenceUnavailable", "ResourceRef", "ScanContext",
           "collector_for", "register"]
