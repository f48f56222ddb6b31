"""Model design and training: algorithm, hyperparameters, inputs with their digests, the artefact produced."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from reports import evidence_models as em
from reports.sections._base import Assessment, PackContext, count, missing, num
from reports.styles import data_table, esc, kv_table, mono, p

KEY = "training"
TITLE = "Model design and training"
REFERENCES = ("Annex IV 2(a)", "Annex IV 2(b)", "Annex IV 2(c)", "Art. 15(1)")


SOURCE = "training.json"


def assess(ctx: PackContext) -> Assessment:
    training = em.training(ctx.evidence)
    if training is None:
        return Assessment("Model design and training", KEY, "grey", "No training record in the evidence.",
                          open_items=["No training record (training.json)."])
    described = (f"{training.algorithm} {training.xgboost_version or ''} trained on "
                 f"{count(training.rows.get('train'))} rows; hyperparameters recorded")
    # The check: the training record names the very artefact that was evaluated (and signed).
    evaluation = em.evaluation(ctx.evidence)
    if evaluation is None:
        return Assessment("Model design and training", KEY, "grey", described + "; no evaluation to match it to.")
    if training.model_sha256 != evaluation.model.get("artefact_sha256"):
        return Assessment("Model design and training", KEY, "red", described + ".",
                          blockers=["The training record names another artefact than the one evaluated."])
    return Assessment("Model design and training", KEY, "green",
                      described + "; it names the artefact that was evaluated.")


def _run(ctx: PackContext, training: em.Training) -> list[Flowable]:
    final = training.final_metrics
    return [p("Training run", "h2"), kv_table([
        ("Algorithm", f"{training.algorithm} {training.xgboost_version or ''}".strip()),
        ("Objective", training.hyperparameters.get("objective")),
        ("Model format", f"{training.model_format} (native, member '{training.member}'; never pickled)"),
        ("Training rows", count(training.rows.get("train"))),
        ("Validation rows", count(training.rows.get("validation"))),
        ("Features", ", ".join(training.features) or "—"),
        ("Final AUC (train / validation)", f"{num(final.get('train_auc'))} / {num(final.get('validation_auc'))}"),
        ("Model artefact sha256", mono(training.model_sha256)),
    ]), ctx.source(SOURCE)]


def _parameters_and_inputs(ctx: PackContext, training: em.Training) -> list[Flowable]:
    story: list[Flowable] = []
    if training.hyperparameters:
        story += [p("Hyperparameters", "h2"),
                  data_table(["Parameter", "Value"], [[k, v] for k, v in sorted(training.hyperparameters.items())],
                             [60 * mm, 60 * mm]), ctx.source(SOURCE)]
    if training.inputs:
        story += [p("Inputs", "h2"),
                  data_table(["Input", "File", "sha256"],
                             [[name, spec.get("file"), spec.get("sha256")] for name, spec in
                              sorted(training.inputs.items())], [25 * mm, 30 * mm, None], mono_columns=(2,)),
                  ctx.source(SOURCE)]
    return story


def build(ctx: PackContext) -> list[Flowable]:
    training = em.training(ctx.evidence)
    story: list[Flowable] = []
    gov = ctx.governance
    if gov and gov.model.description:
        story += [p("Design", "h2"), p(esc(gov.model.description)), ctx.governance_source()]
    if training is None:
        return [*story, missing("training record (training.json)")]
    return [*story, *_run(ctx, training), *_parameters_and_inputs(ctx, training)]
