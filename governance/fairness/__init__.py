"""Fairness of the credit decisions by age band: fairlearn metrics, bootstrap intervals, policy verdicts, waivers.

>>> from governance.fairness import assess_fairness, load_policy                  # doctest: +SKIP
>>> result = assess_fairness("model.tar.gz", "validation.csv", out_dir="evidence")  # doctest: +SKIP
>>> result["verdict"]                                                                # doctest: +SKIP
'amber'

One concept per module: ``bands`` (the sensitive feature), ``metrics`` (fairlearn per-band metrics and
disparities), ``bootstrap`` (vectorised intervals), ``verdicts`` (rules and waivers), ``sweep`` (threshold
trade-off), ``charts``, ``policy`` (the policy file) and ``assess`` (all of it together).
"""

from governance.age_bands import DEFAULT_BANDS, AgeBand, assign_bands
from governance.fairness.assess import assess_fairness
from governance.fairness.policy import FairnessPolicy, load_policy

__all__ = ["DEFAULT_BANDS", "AgeBand", "FairnessPolicy", "assess_fairness", "assign_bands", "load_policy"]
