"""Independent model validation: challenger, DeLong, sensitivity, robustness, security, signed by the validator.

    from governance.validation import validate
    result = validate("work/model/model.tar.gz", "work/evidence", load_signer("validator.pem"))
    result.passed, result.document["challenger"]["delong"]["p_value"]

An evidence folder in S3 (the SageMaker pipeline's) is validated in place by ``validate_s3``.
"""

from governance.validation.delong import delong_test
from governance.validation.policy import ValidationPolicy, load_validation_policy
from governance.validation.run import (
    VALIDATION_FILE,
    VALIDATION_SIGNATURE,
    ValidationResult,
    read_validation,
    validate,
)
from governance.validation.s3_evidence import validate_s3

__all__ = ["VALIDATION_FILE", "VALIDATION_SIGNATURE", "ValidationPolicy", "ValidationResult", "delong_test",
           "load_validation_policy", "read_validation", "validate", "validate_s3"]
