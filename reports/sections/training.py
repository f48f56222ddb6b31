"""Model design and training: algorithm, hyperparameters, inputs with their digests, the artefact produced."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from reports.sections._base import Assessment, PackContext, count, dig, missing, num
from reports.styles import data_table, esc, kv_table, mono, p

KEY = "training"
TITLE = "Model design and training"
REFERENCES = ("Annex IV 2(a)", "Annex IV 2(b)", "Annex IV 2(c)", "Art. 15(1)")


def assess(ctx: PackContext) -> Assessment:
    training = ctx.evidence.json("training.json")
    if training is None:
        return Assessment("Model design and training", KEY, "grey", "No training record in the evidence.",
                          open_items=["No training record (training.json)."])
    described = (f"{training.get('algorithm', 'model')} {training.get('xgboost_version', '')} trained on "
                 f"{count(dig(training, 'rows', 'train'))} rows; hyperparameters recorded")
    # The check: the training record names the very artefact that was evaluated (and signed).
    evaluated = dig(ctx.evidence.json("evaluation.json"), "model", "artefact_sha256")
    if evaluated is None:
        return Assessment("Model design and training", KEY, "grey", described + "; no evaluation to match it to.")
    if training.get("model_sha256") != evaluated:
        return Assessment("Model design and training", KEY, "red", described + ".",
                          blockers=["The training record names another artefact than the one evaluated."])
    return Assessment("Model design and training", KEY, "green",
                      described + "; it names the artefact that was evaluated.")


def build(ctx: PackContext) -> list[Flowable]:
    training = ctx.evidence.json("training.json")
    story: list[Flowable] = []
    gov = ctx.governance
    if gov and gov.model.description:
        story += [p("Design", "h2"), p(esc(gov.model.description)), ctx.governance_source()]
    if training is None:
        return [*story, missing("training record (training.json)")]
    final = dig(training, "final_metrics", default={}) or {}
    story += [p("Training run", "h2"), kv_table([
        ("Algorithm", f"{training.get('algorithm')} {training.get('xgboost_version', '')}".strip()),
        ("Objective", dig(training, "hyperparameters", "objective")),
        ("Model format", f"{training.get('model_format')} (native, member '{training.get('member')}'; never pickled)"),
        ("Training rows", count(dig(training, "rows", "train"))),
        ("Validation rows", count(dig(training, "rows", "validation"))),
        ("Features", ", ".join(training.get("features") or []) or "—"),
        ("Final AUC (train / validation)", f"{num(final.get('train_auc'))} / {num(final.get('validation_auc'))}"),
        ("Model artefact sha256", mono(training.get("model_sha256"))),
    ]), ctx.source("training.json")]
    params = training.get("hyperparameters") or {}
    if params:
        story += [p("Hyperparameters", "h2"),
                  data_table(["Parameter", "Value"], [[k, v] for k, v in sorted(params.items())], [60 * mm, 60 * mm]),
                  ctx.source("training.json")]
    inputs = training.get("inputs") or {}
    if inputs:
        story += [p("Inputs", "h2"),
                  data_table(["Input", "File", "sha256"],
                             [[name, dig(spec, "file"), dig(spec, "sha256")] for name, spec in sorted(inputs.items())],
                             [25 * mm, 30 * mm, None], mono_columns=(2,)),
                  ctx.source("training.json")]
    return story
