"""Explanations of the credit model with SHAP: checked values, global importance, age-band decomposition, reasons.

>>> from governance.explain import explain_model
>>> result = explain_model("model/model.tar.gz", "data/validation.csv", out_dir="evidence",
...                        stability_resamples=3, stability_applicants=50)
>>> result["additivity"]["passed"], len(result["reason_codes"]["frequency"]) > 0
(True, True)

To compute SHAP once for both this and the fairness assessment::

    inputs = load_inputs("model.tar.gz", "validation.csv")
    values = tree_shap(inputs)
    explain_model("model.tar.gz", "validation.csv", out_dir="evidence", shap_values=values)
    assess_fairness("model.tar.gz", "validation.csv", out_dir="evidence", shap_values=values)
"""

from governance.explain.explain import explain_model
from governance.explain.inputs import load_inputs
from governance.explain.reason_codes import REASONS
from governance.explain.shap_values import ShapValues, tree_shap

__all__ = ["REASONS", "ShapValues", "explain_model", "load_inputs", "tree_shap"]
