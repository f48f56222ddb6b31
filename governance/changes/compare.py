"""What changed between two versions of the model, read from their evidence folders alone.

    from governance.changes import compare_versions, load_change_plan
    plan, source = load_change_plan("quickloan-governance.yaml")
    changes = compare_versions("versions/1/evidence", "evidence", plan)
    changes["assessment"]["substantial"]      # True: a new conformity assessment is needed (Art. 43(4))

Data digests and profile, schema, hyperparameters, code digests (from the signed provenance), AUC/KS/Brier with
their deltas (the AUC's with an interval from both standard errors), fairness by age band, the SHAP ranking and
reason-code frequencies, and policy results are compared; the change plan then says whether the change stays
within what was pre-determined. A sealed folder (local, or an ``s3://`` prefix copied first) is re-hashed against
its index before it is read.
"""

from __future__ import annotations

import base64
import json
import math
import os
import tempfile
from pathlib import Path

from governance import storage
from governance.changes.plan import ChangePlan
from governance.errors import InputError

CHANGES_FORMAT = "quickloan-governance/changes/v1"
CHANGES_FILE = "changes.json"
_Z95 = 1.959963984540054
_GRADE = {"green": 0, "amber": 1, "red": 2}


class _Evidence:
    """Reads JSON files from a local evidence folder, or from an ``s3://`` prefix copied to a temporary folder
    first, so that both are re-hashed against their index when sealed (a few MB of plain files)."""

    def __init__(self, location: str | os.PathLike) -> None:
        self.location = str(location).rstrip("/")
        self.folder = Path(self.location)
        if storage.is_s3_uri(self.location):
            self._scratch = tempfile.TemporaryDirectory(prefix="diff-evidence-")
            self.folder = Path(self._scratch.name)
            storage.download_folder(self.location, self.folder)
        elif not self.folder.is_dir():
            raise InputError("NOT_FOUND", f"{location}: no such evidence folder")
        self.sealed = (self.folder / "index.json").is_file()
        if self.sealed:
            from governance.evidence import verify_index

            verify_index(self.folder, None)
        if not self.exists("evaluation.json"):
            raise InputError("NOT_EVIDENCE", f"{location}: no evaluation.json (not an evidence folder)")

    def path(self, name: str) -> str:
        return str(self.folder / name)

    def exists(self, name: str) -> bool:
        return storage.exists(self.path(name))

    def json(self, name: str) -> dict | None:
        if not self.exists(name):
            return None
        try:
            return json.loads(storage.read_bytes(self.path(name)))
        except ValueError as err:
            raise InputError("MALFORMED_EVIDENCE", f"{self.path(name)}: not JSON ({err})") from None

    def code_digests(self) -> dict[str, str]:
        out = {}
        for step in ("process", "train", "evaluate"):
            envelope = self.json(f"provenance/{step}.intoto.json")
            if envelope is None:
                continue
            statement = json.loads(base64.b64decode(envelope["payload"]))
            for dependency in statement["predicate"]["buildDefinition"].get("resolvedDependencies", []):
                if (dependency.get("annotations") or {}).get("role") == "code":
                    out[dependency["name"]] = dependency["digest"].get("sha256", "")
        return out


def _delta(old: float | None, new: float | None) -> float | None:
    return None if old is None or new is None else new - old


def _metric(metrics: dict, name: str) -> tuple[float | None, float | None]:
    entry = metrics.get(name) or {}
    value, sd = entry.get("value"), entry.get("standard_deviation")
    sd = sd if isinstance(sd, int | float) and math.isfinite(sd) else None
    return value, sd


def _metrics(old: dict, new: dict) -> dict:
    out = {}
    a, b = old["binary_classification_metrics"], new["binary_classification_metrics"]
    for name in ("auc", "ks", "brier_score", "gini", "log_loss"):
        (v0, s0), (v1, s1) = _metric(a, name), _metric(b, name)
        entry = {"old": v0, "new": v1, "delta": _delta(v0, v1)}
        if s0 is not None and s1 is not None and entry["delta"] is not None:
            # Two validation splits drawn apart: the delta's error from both standard errors (conservative when
            # the splits overlap).
            half = _Z95 * math.hypot(s0, s1)
            entry["interval"] = [entry["delta"] - half, entry["delta"] + half]
        out[name] = entry
    return out


def _mapping_changes(old: dict, new: dict) -> dict:
    keys = sorted(set(old) | set(new))
    return {k: {"old": old.get(k), "new": new.get(k)} for k in keys if old.get(k) != new.get(k)}


def _data(old: dict | None, new: dict | None) -> dict:
    if old is None or new is None:
        return {"available": False}
    columns = {}
    for name in sorted(set(old.get("columns", {})) | set(new.get("columns", {}))):
        c0, c1 = old["columns"].get(name, {}), new["columns"].get(name, {})
        columns[name] = {k: {"old": c0.get(k), "new": c1.get(k)} for k in ("mean", "median", "missing")
                         if c0.get(k) != c1.get(k)}
    return {
        "available": True,
        "source": {k: {"old": old["source"].get(k), "new": new["source"].get(k)}
                   for k in ("sha256", "content_sha256", "bytes") if k in old["source"] or k in new["source"]},
        "digest_changed": (old["source"].get("content_sha256") or old["source"]["sha256"])
        != (new["source"].get("content_sha256") or new["source"]["sha256"]),
        "synthetic": {"old": old.get("synthetic"), "new": new.get("synthetic")},
        "rows": _mapping_changes(old.get("rows", {}), new.get("rows", {})),
        "target_rate": _mapping_changes(old.get("target_rate", {}), new.get("target_rate", {})),
        "imputation": _mapping_changes({k: v.get("value") for k, v in old.get("imputation", {}).items()},
                                       {k: v.get("value") for k, v in new.get("imputation", {}).items()}),
        "columns": {k: v for k, v in columns.items() if v},
    }


def _schema(old_data: dict | None, new_data: dict | None, old_training: dict | None,
            new_training: dict | None) -> dict:
    def features(data, training):
        return (training or {}).get("features") or ((data or {}).get("schema") or {}).get("features") or []

    f0, f1 = features(old_data, old_training), features(new_data, new_training)
    return {"old": f0, "new": f1, "added": [f for f in f1 if f not in f0], "removed": [f for f in f0 if f not in f1],
            "same": f0 == f1}


def _fairness(old: dict | None, new: dict | None) -> dict:
    if old is None or new is None:
        return {"available": False}
    bands = []
    by_label = {b["label"]: b for b in old.get("bands", [])}
    for band in new.get("bands", []):
        before = by_label.get(band["label"])
        entry = {"band": band["label"]}
        for metric in ("approval_rate", "adverse_impact_ratio", "equal_opportunity_ratio"):
            v0 = ((before or {}).get("metrics", {}).get(metric) or {}).get("value")
            v1 = (band.get("metrics", {}).get(metric) or {}).get("value")
            entry[metric] = {"old": v0, "new": v1, "delta": _delta(v0, v1)}
        bands.append(entry)

    def grades(result: dict) -> dict:
        return {f"{c['check']} [{c['resource']}]": c["effective_verdict"] for c in result.get("checks", [])}

    g0, g1 = grades(old), grades(new)
    changed = [{"check": k, "old": g0.get(k), "new": g1.get(k),
                "worse": _GRADE.get(g1.get(k), 0) > _GRADE.get(g0.get(k), 0)}
               for k in sorted(set(g0) | set(g1)) if g0.get(k) != g1.get(k)]
    return {"available": True, "verdict": {"old": old.get("verdict"), "new": new.get("verdict")}, "bands": bands,
            "checks_changed": changed}


def _explain(old: dict | None, new: dict | None) -> dict:
    if old is None or new is None:
        return {"available": False}
    r0 = [i["feature"] for i in old["global"]["importance"]]
    r1 = [i["feature"] for i in new["global"]["importance"]]
    moves = [{"feature": f, "old_rank": r0.index(f) + 1 if f in r0 else None, "new_rank": r1.index(f) + 1}
             for f in r1 if f not in r0 or r0.index(f) != r1.index(f)]
    s0 = {f["code"]: f["share"] for f in old["reason_codes"].get("frequency", [])}
    s1 = {f["code"]: f["share"] for f in new["reason_codes"].get("frequency", [])}
    reasons = [{"code": c, "old": s0.get(c), "new": s1.get(c), "delta": _delta(s0.get(c, 0.0), s1.get(c, 0.0))}
               for c in sorted(set(s0) | set(s1))]
    return {"available": True, "ranking": {"old": r0, "new": r1}, "moved": moves,
            "reason_codes": sorted(reasons, key=lambda r: -abs(r["delta"] or 0))}


def _policy(old: dict | None, new: dict | None) -> dict:
    if old is None or new is None:
        return {"available": False}

    def statuses(result: dict) -> dict:
        # Resources are absolute paths of the run that wrote them: compare by the last two parts.
        return {f"{f['check']} [{'/'.join(str(f['resource']).split('/')[-2:])}]": f["status"]
                for f in result.get("findings", [])}

    s0, s1 = statuses(old), statuses(new)
    changed = [{"finding": k, "old": s0.get(k), "new": s1.get(k)} for k in sorted(set(s0) | set(s1))
               if s0.get(k) != s1.get(k)]
    return {"available": True, "verdict": {"old": old.get("verdict"), "new": new.get("verdict")},
            "changed": changed}


def assess(changes: dict, plan: ChangePlan, plan_source: str) -> dict:
    """Each rule of the plan HOLDS or is BROKEN by the evidence; statements are STATED. Substantial when any breaks."""
    rules = []

    def rule(name: str, holds: bool | None, detail: str) -> None:
        rules.append({"rule": name, "status": "STATED" if holds is None else "HOLDS" if holds else "BROKEN",
                      "detail": detail})

    schema = changes["schema"]
    if plan.features_unchanged:
        rule("features unchanged", schema["same"], "same features in the same order" if schema["same"] else
             f"added {schema['added']}, removed {schema['removed']}" if schema["added"] or schema["removed"]
             else "feature order changed")
    extra = sorted(k for k in changes["hyperparameters"] if k not in plan.hyperparameters_may_change)
    rule("hyperparameters within the plan", not extra,
         "changed: " + (", ".join(sorted(changes["hyperparameters"])) or "none")
         + (f"; outside the plan: {', '.join(extra)}" if extra else ""))
    if not plan.training_data_may_change and changes["data"].get("available"):
        rule("training data unchanged", not changes["data"]["digest_changed"], "source digest compared")
    if not plan.code_may_change:
        rule("pipeline code unchanged", not changes["code"]["changed"],
             "changed: " + (", ".join(c["name"] for c in changes["code"]["changed"]) or "none"))
    for name, limit in (("auc", plan.auc_within), ("ks", plan.ks_within), ("brier_score", plan.brier_within)):
        delta = changes["metrics"][name]["delta"]
        rule(f"{name} within ±{limit:g}", delta is not None and abs(delta) <= limit,
             "no value in one version" if delta is None else f"delta {delta:+.4f}")
    if plan.fairness_no_worse:
        fairness = changes["fairness"]
        if fairness.get("available"):
            worse = [c["check"] for c in fairness["checks_changed"] if c["worse"]]
            rule("no fairness check worse", not worse, "worse: " + (", ".join(worse) or "none"))
        else:
            rule("no fairness check worse", False, "fairness evidence missing in one version")
    if plan.intended_purpose:
        rule("intended purpose unchanged", None, plan.intended_purpose)
    substantial = any(r["status"] == "BROKEN" for r in rules)
    return {
        "plan": plan.model_dump(mode="json"),
        "plan_source": plan_source,
        "rules": rules,
        "substantial": substantial,
        "conclusion": ("substantial modification: the change goes beyond the pre-determined change plan, so a new "
                       "conformity assessment is needed (EU AI Act Art. 43(4))") if substantial else
                      ("not a substantial modification: every change is within the pre-determined change plan "
                       "(EU AI Act Art. 43(4), Annex IV 2(f))"),
    }


def compare_versions(old: str | os.PathLike, new: str | os.PathLike, plan: ChangePlan,
                     plan_source: str = "built-in defaults", *, old_label: str | None = None,
                     new_label: str | None = None) -> dict:
    """The change log between two evidence folders (local or ``s3://``), with the substantial-change assessment."""
    a, b = _Evidence(old), _Evidence(new)
    ev0, ev1 = a.json("evaluation.json"), b.json("evaluation.json")
    d0, d1 = a.json("dataset.json"), b.json("dataset.json")
    t0, t1 = a.json("training.json"), b.json("training.json")
    c0, c1 = a.code_digests(), b.code_digests()
    changes = {
        "format": CHANGES_FORMAT,
        "old": {"label": old_label or str(old), "evidence": a.location, "sealed": a.sealed,
                "model_sha256": (ev0.get("model") or {}).get("artefact_sha256")},
        "new": {"label": new_label or str(new), "evidence": b.location, "sealed": b.sealed,
                "model_sha256": (ev1.get("model") or {}).get("artefact_sha256")},
        "data": _data(d0, d1),
        "schema": _schema(d0, d1, t0, t1),
        "hyperparameters": _mapping_changes((t0 or {}).get("hyperparameters", {}),
                                            (t1 or {}).get("hyperparameters", {})),
        "code": {"old": c0, "new": c1, "changed": [{"name": k, "old": c0.get(k), "new": c1.get(k)}
                                                   for k in sorted(set(c0) | set(c1)) if c0.get(k) != c1.get(k)]},
        "metrics": _metrics(ev0, ev1),
        "fairness": _fairness(a.json("fairness.json"), b.json("fairness.json")),
        "explain": _explain(a.json("explain.json"), b.json("explain.json")),
        "policy": _policy(a.json("policy.json"), b.json("policy.json")),
    }
    changes["assessment"] = assess(changes, plan, plan_source)
    return changes


def record_changes(previous, evidence_dir: str | os.PathLike, package,
                   governance_file: str | os.PathLike | None) -> dict:
    """Compare ``evidence_dir`` (registered as ``package``, or ``None``) with a kept version
    (:class:`governance.versions.KeptVersion`) under the governance file's change plan, and write ``changes.json``
    into the evidence (sealed with it, shown in the pack)."""
    from governance.changes.plan import load_change_plan
    from governance.jsonio import write_json

    new_label = f"version {package.version}" if package is not None else "this run (not registered)"
    plan, source = load_change_plan(governance_file)
    changes = compare_versions(previous.evidence, evidence_dir, plan, source,
                               old_label=f"version {previous.version} ({previous.arn})", new_label=new_label)
    changes["previous_version"] = previous.version
    write_json(Path(evidence_dir) / CHANGES_FILE, changes)
    return changes
