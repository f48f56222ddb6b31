"""Independent model validation: challenger, DeLong, sensitivity, robustness, security, signed by the validator.

    from governance.validation import validate
    result = validate("work/model/model.tar.gz", "work/evidence", load_signer("validator.pem"))
    result.passed, result.document["challenger"]["delong"]["p_value"]
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

__all__ = ["VALIDATION_FILE", "VALIDATION_SIGNATURE", "ValidationPolicy", "ValidationResult", "delong_test",
           "load_validation_policy", "read_validation", "validate"]
