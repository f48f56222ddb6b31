"""Version-to-version change logs and the substantial-modification assessment against the change plan.

    from governance.changes import compare_versions, load_change_plan
    plan, source = load_change_plan("quickloan-governance.yaml")
    changes = compare_versions("versions/1/evidence", "evidence", plan, source)
"""

from governance.changes.compare import CHANGES_FILE, CHANGES_FORMAT, assess, compare_versions, record_changes
from governance.changes.plan import ChangePlan, load_change_plan, parse_change_plan

__all__ = ["CHANGES_FILE", "CHANGES_FORMAT", "ChangePlan", "assess", "compare_versions", "load_change_plan",
           "parse_change_plan", "record_changes"]
