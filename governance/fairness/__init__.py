"""Fairness of the credit decisions by age band: fairlearn metrics, bootstrap intervals, policy verdicts, waivers.

>>> from governance.fairness import assess_fairness, load_policy
>>> policy = load_policy(None)  # the shipped policies/fairness.yaml; fewer resamples keep this example quick
>>> policy = policy.model_copy(update={"bootstrap": policy.bootstrap.model_copy(update={"resamples": 100})})
>>> result = assess_fairness("model/model.tar.gz", "data/validation.csv", policy=policy, out_dir="evidence")
>>> result["verdict"] in ("green", "amber", "red")
True

One concept per module: ``metrics`` (fairlearn per-band metrics and disparities), ``bootstrap`` (vectorised
intervals), ``sweep`` (threshold trade-off), ``charts``, ``policy`` (the policy file) and ``assess`` (all of it
together); the age bands (:mod:`governance.age_bands`) and the green / amber / red grading with waivers
(:mod:`governance.grading`) are shared with the explanations.
"""

from governance.age_bands import DEFAULT_BANDS, AgeBand, assign_bands
from governance.fairness.assess import assess_fairness
from governance.fairness.policy import FairnessPolicy, load_policy

__all__ = ["DEFAULT_BANDS", "AgeBand", "FairnessPolicy", "assess_fairness", "assign_bands", "load_policy"]
