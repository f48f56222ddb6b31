"""Charts of the independent validation, drawn only from numbers in ``validation.json`` (deterministic PNG bytes).

Each chart names the fields of the document it draws from; :func:`write_charts` writes them under
``validation/`` beside the document and returns the entries (file, caption, fields, sha256) the document lists, so
the validator's signature over ``validation.json`` covers the pictures too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from governance import hashing
from governance.charts import NEUTRAL, TOWARDS_DEFAULT, TOWARDS_REPAYMENT, render
from governance.storage import write_bytes_atomic

FOLDER = "validation"


def _limit(document: dict, check: str) -> float | None:
    return next((c["limit"] for c in document.get("checks", []) if c["id"] == check), None)


def _p(value: float) -> str:
    return f"{value:.2g}" if value >= 1e-3 or value == 0 else f"{value:.1e}"


def roc(document: dict) -> bytes:
    comparison = document["challenger"]
    champion, challenger, delong = comparison["champion"], comparison["challenger"], comparison["delong"]

    def draw(fig):
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1], color="black", linewidth=0.6, linestyle=":", label="chance")
        ax.plot(champion["roc"]["fpr"], champion["roc"]["tpr"], color=TOWARDS_REPAYMENT, linewidth=1.6,
                drawstyle="steps-post", label=f"champion, XGBoost (AUC {champion['auc']:.4f})")
        ax.plot(challenger["roc"]["fpr"], challenger["roc"]["tpr"], color=TOWARDS_DEFAULT, linewidth=1.2,
                drawstyle="steps-post", label=f"challenger, {challenger.get('model', 'logistic')} "
                                              f"(AUC {challenger['auc']:.4f})")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.set_xlabel("false-positive rate (good payers declined)")
        ax.set_ylabel("true-positive rate (defaulters declined)")
        low, high = delong["interval"]
        ax.set_title(f"ROC on the untouched test split ({comparison['rows']:,} rows)\nAUC difference "
                     f"{delong['difference']:.4f}, 95% interval [{low:.4f}, {high:.4f}], DeLong p = "
                     f"{_p(delong['p_value'])}")
        ax.legend(fontsize=8, loc="lower right")

    return render(draw, (6.5, 5.0))


def _hbars(ax, labels: list[str], values: list[float], colour: str, limits=()) -> None:
    y = np.arange(len(labels))
    ax.barh(y, values, color=colour, height=0.6)
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    for limit in limits:
        ax.axvline(limit, color=TOWARDS_DEFAULT, linestyle="--", linewidth=0.8)


def sensitivity(document: dict) -> bytes:
    sens = document["sensitivity"]
    hyper_limit = _limit(document, "hyperparameter-auc-change")

    def draw(fig):
        seeds, hyper, dropped = fig.subplots(1, 3, width_ratios=[1, 1.3, 1.3])
        seeds.plot([r["seed"] for r in sens["seeds"]], [r["auc"] for r in sens["seeds"]], "o", color=NEUTRAL)
        seeds.axhline(sens["baseline"]["auc"], color=TOWARDS_REPAYMENT, linewidth=0.8, label="baseline seed")
        seeds.set_xlabel("training seed")
        seeds.set_ylabel("test AUC (cheap retrain)")
        limit = _limit(document, "seed-auc-range")
        seeds.set_title(f"Seeds: AUC range {sens['seed_auc_range']:.4f}"
                        + (f" (limit {limit:g})" if limit is not None else ""))
        seeds.legend(fontsize=7)
        _hbars(hyper, [f"{r['parameter']} {r['from']:g}→{r['to']:g}" for r in sens["hyperparameters"]],
               [r["auc_change"] for r in sens["hyperparameters"]], NEUTRAL,
               (-hyper_limit, hyper_limit) if hyper_limit is not None else ())
        hyper.axvline(0, color="black", linewidth=0.6)
        hyper.set_xlabel("AUC change")
        hyper.set_title("Hyperparameters ± one step")
        _hbars(dropped, [r["feature"] for r in sens["features_dropped"]],
               [r["auc_change"] for r in sens["features_dropped"]], TOWARDS_DEFAULT)
        dropped.axvline(0, color="black", linewidth=0.6)
        dropped.set_xlabel("AUC change")
        dropped.set_title("Each feature dropped")

    return render(draw, (11.0, 4.2))


def robustness(document: dict) -> bytes:
    robust = document["robustness"]
    order = [r["feature"] for r in robust["perturbed_feature"]]
    missing = {r["feature"]: r["flip_rate"] for r in robust["missing_feature"]}

    def draw(fig):
        left, right = fig.subplots(1, 2, sharey=True)
        _hbars(left, order, [missing[f] for f in order], NEUTRAL,
               [v for v in (_limit(document, "missing-feature-flip-rate"),) if v is not None])
        left.set_xlabel("share of decisions flipped")
        left.set_title("Feature missing")
        y = np.arange(len(order))
        by_feature = {r["feature"]: r for r in robust["perturbed_feature"]}
        right.barh(y - 0.2, [by_feature[f]["up"] for f in order], height=0.4, color=TOWARDS_DEFAULT,
                   label=f"+{robust['perturbation']:.0%}")
        right.barh(y + 0.2, [by_feature[f]["down"] for f in order], height=0.4, color=TOWARDS_REPAYMENT,
                   label=f"−{robust['perturbation']:.0%}")
        limit = _limit(document, "perturbation-flip-rate")
        if limit is not None:
            right.axvline(limit, color=TOWARDS_DEFAULT, linestyle="--", linewidth=0.8, label=f"limit {limit:g}")
        right.set_xlabel("share of decisions flipped")
        right.set_title(f"Feature moved ±{robust['perturbation']:.0%} (all together: "
                        f"{robust['perturbation_all_features_flip_rate']:.2%})")
        right.legend(fontsize=7, loc="lower right")

    return render(draw, (10.0, 4.2))


def membership_inference(document: dict) -> bytes:
    attack = document["security"]["membership_inference"]
    histograms = attack["loss_histogram"]

    def draw(fig):
        left, right = fig.subplots(1, 2)
        for name, colour, label in (("members", TOWARDS_DEFAULT, f"training rows ({attack['members']:,})"),
                                    ("non_members", TOWARDS_REPAYMENT, f"test rows ({attack['non_members']:,})")):
            counts = np.array(histograms[name]["counts"], dtype=float)
            left.stairs(counts / max(counts.sum(), 1), histograms[name]["edges"], color=colour, label=label)
        left.set_xscale("log")
        left.set_xlabel("log loss of the model on the row")
        left.set_ylabel("share of rows")
        left.set_title("Loss on training vs unseen rows")
        left.legend(fontsize=7)
        right.plot([0, 1], [0, 1], color="black", linewidth=0.6, linestyle=":")
        right.plot(attack["roc"]["fpr"], attack["roc"]["tpr"], color=NEUTRAL, drawstyle="steps-post")
        low, high = attack["interval"] or (attack["auc"], attack["auc"])
        right.set_title(f"Attack ROC: AUC {attack['auc']:.3f} [{low:.3f}, {high:.3f}] (0.5 = no leak)")
        right.set_xlabel("unseen rows called members")
        right.set_ylabel("training rows called members")
        right.set_xlim(0, 1)
        right.set_ylim(0, 1.01)

    return render(draw, (10.0, 4.2))


def extraction(document: dict) -> bytes:
    ext = document["security"]["extraction"]

    def draw(fig):
        ax = fig.add_subplot()
        for run in ext["runs"]:
            ax.plot([c["queries"] for c in run["curve"]], [c["agreement"] for c in run["curve"]], marker="o",
                    markersize=3, linewidth=1, color=NEUTRAL, alpha=0.8,
                    label="query draws" if run["repeat"] == 0 else None)
        ax.axhline(ext["agreement_target"], color=TOWARDS_DEFAULT, linestyle="--", linewidth=0.8,
                   label=f"target {ext['agreement_target']:.0%}")
        ax.axhline(ext["majority_class_agreement"], color=TOWARDS_REPAYMENT, linestyle=":", linewidth=0.8,
                   label=f"a constant answer ({ext['majority_class_agreement']:.1%})")
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(ext["budgets"], [f"{b:,}" for b in ext["budgets"]])
        ax.set_xlabel("label queries to the model")
        ax.set_ylabel("surrogate agrees with the model's decisions (test split)")
        reached = (f"median {ext['queries_needed']:,} queries (draws: {ext['range'][0]:,}–{ext['range'][1]:,})"
                   if ext["queries_needed"] else "target not reached in every draw")
        ax.set_title(f"Extraction by a surrogate decision tree: {reached}")
        ax.legend(fontsize=7, loc="lower right")

    return render(draw, (6.5, 4.0))


@dataclass(frozen=True)
class Chart:
    name: str
    draw: Callable[[dict], bytes]
    caption: str
    draws_from: tuple[str, ...]


CHARTS = (
    Chart("roc.png", roc, "Champion and challenger ROC curves on the untouched test split, with the DeLong test of "
          "the AUC difference.", ("challenger.champion.roc", "challenger.challenger.roc", "challenger.delong")),
    Chart("sensitivity.png", sensitivity, "Test AUC across training seeds, for one step down and up of each "
          "hyperparameter, and with each feature dropped (cheap retrains, baseline retrained alike).",
          ("sensitivity.seeds", "sensitivity.hyperparameters", "sensitivity.features_dropped")),
    Chart("robustness.png", robustness, "Share of test decisions that flip when one feature is missing or moved "
          "by the policy's perturbation, per feature, with the policy limits.",
          ("robustness.missing_feature", "robustness.perturbed_feature")),
    Chart("membership_inference.png", membership_inference, "Loss-threshold membership-inference attack: the "
          "model's loss on training rows against unseen test rows, and the attack's ROC.",
          ("security.membership_inference.loss_histogram", "security.membership_inference.roc")),
    Chart("extraction.png", extraction, "Model extraction: how often a decision tree fitted on the model's answers "
          "to N queries agrees with the model on unseen applicants, per query draw, against the target and a "
          "constant answer.", ("security.extraction.runs", "security.extraction.agreement_target")),
)


def write_charts(document: dict, out: Path) -> list[dict]:
    """Draw every chart from ``document``, write it under ``out/validation/`` and return the document's entries."""
    entries = []
    for chart in CHARTS:
        png = chart.draw(document)
        relative = f"{FOLDER}/{chart.name}"
        write_bytes_atomic(out / relative, png)
        entries.append({"file": relative, "caption": chart.caption, "draws_from": list(chart.draws_from),
                        "sha256": hashing.sha256_bytes(png)})
    return entries


__all__ = ["CHARTS", "write_charts"]
