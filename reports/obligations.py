"""The obligations map of a credit-scoring provider that is also the deployer: every duty, and what earns it.

Each :class:`Obligation` names the points it answers (keys of :data:`reports.citations.CITATIONS`), whether it is
mandatory, and a judge that returns an :class:`~reports.status.Earned` status from the evidence and the model
governance file, naming the evidence file and the check (or the governance-file entry) behind it. Nothing here
is green by default: a duty nobody supplied is ``Open``.

The EU AI Act and the EU GDPR always apply; the UK and US duties appear when the governance file lists ``uk`` or
``us`` under ``frameworks``. Deployer duties appear when ``classification.roles`` names the deployer (the
default: QuickLoan develops and uses its own model).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reports import evidence_models as em
from reports.governance_file import STATEMENTS
from reports.sections._base import PackContext
from reports.status import GOVERNANCE_FILE, Earned, Status

Judge = Callable[[PackContext], Earned]


@dataclass(frozen=True)
class Obligation:
    key: str
    citations: tuple[str, ...]
    framework: str  # "EU AI Act" | "EU GDPR" | "UK" | "US"
    role: str  # "provider" | "deployer"
    duty: str  # the duty in a few words
    mandatory: bool
    judge: Judge


# --- judges -------------------------------------------------------------------------------------------------------


def _either(evidence: Judge, otherwise: Judge) -> Judge:
    """``evidence`` when it earns Evidenced; else the people's word (``otherwise``), which never turns green."""

    def judge(ctx: PackContext) -> Earned:
        earned = evidence(ctx)
        return earned if earned.status is Status.EVIDENCED else otherwise(ctx)
    return judge


def statement(key: str, *, evidence: Judge | None = None) -> Judge:
    """The governance file's word on ``key``; with ``evidence``, a check covering part of the item first.

    ``done`` (with its reference) is Stated; ``not applicable`` needs a reason; anything else is Open with its
    owner. Where evidence covers part of the item, the row says so, but stays Open until people close the rest.
    """
    what = STATEMENTS[key]

    def judge(ctx: PackContext) -> Earned:
        entry = (ctx.governance.obligations or {}).get(key) if ctx.governance else None
        partial = evidence(ctx) if evidence else None
        if entry is not None and entry.status == "done":
            note = f"obligations.{key}: done ({entry.reference}" + (f", {entry.date}" if entry.date else "") + ")"
            if partial is not None and partial.status in (Status.EVIDENCED, Status.PARTLY):
                note += f"; evidence: {partial.check} ({partial.evidence})"
            return Earned(Status.STATED, GOVERNANCE_FILE, note, owner=entry.owner)
        if entry is not None and entry.status == "not applicable":
            return Earned(Status.NOT_APPLICABLE, GOVERNANCE_FILE, f"obligations.{key}", note=entry.note or "",
                          owner=entry.owner)
        covered = ""
        if partial is not None and partial.status in (Status.EVIDENCED, Status.PARTLY):
            covered = f"; evidence covers part of it: {partial.check} ({partial.evidence})"
        if entry is not None:
            return Earned(Status.OPEN, GOVERNANCE_FILE, f"obligations.{key}: {entry.status}",
                          note=(entry.note or f"{what}: {entry.status}") + covered, owner=entry.owner)
        return Earned(Status.OPEN, GOVERNANCE_FILE, f"obligations.{key}: not in the governance file",
                      note=f"{what} is not stated" + covered)
    return judge


def governance_part(attribute: str, what: str, *, complete: Callable[[object], str] | None = None) -> Judge:
    """Stated when the governance file has ``attribute``; ``complete`` may name a missing piece (then Open)."""

    def judge(ctx: PackContext) -> Earned:
        value = getattr(ctx.governance, attribute, None) if ctx.governance else None
        if not value:
            return Earned(Status.OPEN, GOVERNANCE_FILE, f"{attribute}: not in the governance file",
                          note=f"{what} is not stated")
        gap = complete(value) if complete else ""
        if gap:
            return Earned(Status.OPEN, GOVERNANCE_FILE, attribute, note=gap)
        return Earned(Status.STATED, GOVERNANCE_FILE, f"{attribute}: {what}")
    return judge


def _bias_examination(ctx: PackContext) -> Earned:
    fairness = em.fairness(ctx.evidence)
    if fairness is None:
        return Earned(Status.OPEN, "fairness.json", "fairness assessment", note="no fairness evidence")
    ran = [c for c in fairness.checks if c.status != "error"]
    if not ran:
        return Earned(Status.OPEN, "fairness.json", "fairness assessment", note="no fairness check could run")
    return Earned(Status.EVIDENCED, "fairness.json",
                  f"fairness assessment by age band: {len(ran)} check result(s) with bootstrap intervals")


def _bias_measures(ctx: PackContext) -> Earned:
    fairness = em.fairness(ctx.evidence)
    if fairness is None:
        return Earned(Status.OPEN, "fairness.json", "fairness verdict", note="no fairness evidence")
    verdicts = [c.effective_verdict for c in fairness.checks]
    if "red" in verdicts:
        return Earned(Status.OPEN, "fairness.json", "fairness verdict: RED",
                      note=f"{verdicts.count('red')} red finding(s) without a waiver")
    if "amber" in verdicts:
        return Earned(Status.PARTLY, "fairness.json", "fairness verdict: AMBER",
                      note=f"{verdicts.count('amber')} amber finding(s) to review or waived")
    return Earned(Status.EVIDENCED, "fairness.json", "fairness verdict: GREEN")


def _data_provenance(ctx: PackContext) -> Earned:
    have = [name for name in ("dataset.json", "lineage.json") if ctx.evidence.has(name)]
    if len(have) < 2:
        return Earned(Status.OPEN, "dataset.json", "data profile and lineage", note="data profile or lineage missing")
    return Earned(Status.EVIDENCED, "dataset.json, lineage.json",
                  "process step's data profile and quality findings; signed lineage chain")


def _data_quality(ctx: PackContext) -> Earned:
    if not ctx.evidence.has("dataset.json"):
        return Earned(Status.OPEN, "dataset.json", "data-quality findings", note="no data profile")
    return Earned(Status.PARTLY, "dataset.json", "data-quality findings (errors, missing values)",
                  note="no representativeness check ran")


def _accuracy(ctx: PackContext) -> Earned:
    performance = ctx.assessments.get("performance")
    if performance is None or performance.verdict not in ("green", "amber", "red"):
        return Earned(Status.OPEN, "evaluation.json", "AUC against the acceptance minimum",
                      note="no evaluation or no acceptance criterion")
    if performance.verdict == "red":
        return Earned(Status.OPEN, "evaluation.json", "AUC against the acceptance minimum: RED",
                      note=performance.headline)
    return Earned(Status.EVIDENCED, "evaluation.json", "AUC against the acceptance minimum: " + performance.headline)


def _tamper_resistance(ctx: PackContext) -> Earned:
    integrity = ctx.assessments.get("integrity")
    if integrity is None or integrity.verdict != "green":
        return Earned(Status.OPEN, "manifest.json", "signature verification and archive safety",
                      note="artefact integrity not evidenced as passed")
    return Earned(Status.PARTLY, "manifest.json", "artefact signature verified; archive safety scan passed",
                  note="adversarial and poisoning testing not evidenced")


def _development(ctx: PackContext) -> Earned:
    have = [n for n in ("lineage.json", "evaluation.json", "fairness.json", "manifest.json") if ctx.evidence.has(n)]
    if not have:
        return Earned(Status.OPEN, "lineage.json", "development evidence", note="none supplied")
    return Earned(Status.PARTLY, ", ".join(have), "lineage, evaluation, fairness and integrity checks",
                  note="2(b) design rationale and 2(f) pre-determined changes are not described")


def _group_accuracy(ctx: PackContext) -> Earned:
    fairness = em.fairness(ctx.evidence)
    if fairness is None or not fairness.bands:
        return Earned(Status.OPEN, "fairness.json", "accuracy by age band", note="no per-band results")
    return Earned(Status.PARTLY, "fairness.json", f"accuracy by age band ({len(fairness.bands)} bands)",
                  note="input data specifications and foreseeable unintended outcomes are stated only in part")


def _retention_scan(ctx: PackContext) -> Earned:
    policy = em.policy(ctx.evidence)
    if policy is None:
        return Earned(Status.OPEN, "policy.json", "retention policy checks", note="no policy scan")
    findings = [f for f in policy.findings if f.policy == "retention"]
    passed = [f for f in findings if f.status == "PASS"]
    if passed and not any(f.status in ("FAIL", "ERROR") for f in findings):
        return Earned(Status.PARTLY, "policy.json", f"retention policy: {len(passed)} check(s) passed on storage")
    return Earned(Status.OPEN, "policy.json", "retention policy checks",
                  note=f"no retention check passed ({len(findings)} finding(s), none PASS: the stores scanned "
                       "hold no retention settings to check)")


def _decision_logging(ctx: PackContext) -> Earned:
    """Art. 12 / 26(6): a deployment through the deploy gate whose Data Capture logs inputs and outputs, encrypted."""
    from reports.sections import post_market

    logged = [d for d in post_market.deployments(ctx) if post_market.capture_ok(d)]
    if logged:
        endpoints = ", ".join(sorted({str((d.get("details") or {}).get("endpoint")) for d in logged}))
        return Earned(Status.EVIDENCED, "ledger.jsonl", f"deploy record: Data Capture of inputs and outputs on, "
                                                        f"KMS-encrypted ({endpoints})")
    return Earned(Status.OPEN, "ledger.jsonl", "deploy records", note="no deployment through `governance deploy` "
                                                                      "with encrypted Data Capture is recorded")


def _capture_retention(ctx: PackContext) -> Earned:
    """Art. 19(1) / 26(6): decisions logged (deploy record) and their store keeps them ≥ 6 months (DEP-SM-003)."""
    from reports.sections import post_market

    logging = _decision_logging(ctx)
    policy = em.policy(ctx.evidence)
    kept = [f.status for f in (policy.findings if policy else []) if f.check == "DEP-SM-003"]
    logged = [d for d in post_market.deployments(ctx) if post_market.capture_ok(d)]
    at_deploy = ((logged[-1].get("details") or {}).get("policy") or {}).get("DEP-SM-003") if logged else None
    kept += [at_deploy.get("status")] if isinstance(at_deploy, dict) else []  # checked by the deploy gate itself
    if logging.status is Status.EVIDENCED and kept and all(status == "PASS" for status in kept):
        return Earned(Status.EVIDENCED, "ledger.jsonl, policy.json",
                      f"{logging.check}; DEP-SM-003 PASS ({len(kept)} result(s)): capture kept ≥ 6 months")
    missing = "no passing DEP-SM-003 (capture retention) finding" if logging.status is Status.EVIDENCED \
        else logging.note
    return Earned(Status.OPEN, "ledger.jsonl, policy.json", "decision logs and their retention", note=missing)


def _monitoring_results(ctx: PackContext) -> Earned:
    """Art. 72: a plan is not a result — Evidenced only by a passing ``governance monitor`` run in the ledger."""
    from reports.sections import post_market

    runs = post_market.monitoring_runs(ctx)
    if not runs:
        return Earned(Status.OPEN, "ledger.jsonl", "monitor records", note="a monitoring plan, no monitoring results")
    verdict = (runs[-1].get("details") or {}).get("verdict")
    if verdict == "PASS":
        return Earned(Status.EVIDENCED, "ledger.jsonl", f"monitor records: {len(runs)} run(s), last PASS")
    return Earned(Status.OPEN, "ledger.jsonl", f"monitor records: last run {verdict}",
                  note="the latest monitoring run did not pass")


def _elderly_age(ctx: PackContext) -> Earned:
    fairness = em.fairness(ctx.evidence)
    checks = [c for c in (fairness.checks if fairness else []) if c.check == "elderly-age-effect"]
    if not checks:
        return Earned(Status.OPEN, "fairness.json", "elderly-age-effect check", note="the check did not run")
    verdict = checks[0].effective_verdict
    if verdict == "green":
        return Earned(Status.EVIDENCED, "fairness.json", "elderly-age-effect check: GREEN (mean SHAP of age for "
                                                         "applicants aged 62+ not adverse)")
    return Earned(Status.OPEN, "fairness.json", f"elderly-age-effect check: {verdict.upper()}",
                  note=checks[0].message)


def _reason_codes(ctx: PackContext) -> Earned:
    explain = em.explain(ctx.evidence)
    if explain is None or explain.reason_codes.withheld:
        return Earned(Status.OPEN, "explain.json", "reason codes", note="no reason codes, or withheld")
    if not explain.stability.passed:
        return Earned(Status.OPEN, "explain.json", "reason-code stability: FAILED", note="reasons are unstable")
    return Earned(Status.EVIDENCED, "explain.json", "reason codes from SHAP values; additivity and stability "
                                                    "checks passed")


def _technical_documentation(ctx: PackContext) -> Earned:
    annex = [o for o in OBLIGATIONS if o.citations[0].startswith("Annex IV")]
    open_points = [o.citations[0] for o in annex if o.judge(ctx).status is Status.OPEN]
    if open_points:
        return Earned(Status.OPEN, GOVERNANCE_FILE, "Annex IV points", note="open: " + ", ".join(open_points))
    return Earned(Status.STATED, GOVERNANCE_FILE, "every Annex IV point is evidenced or stated")


def _instructions_gap(use) -> str:
    return ("the instructions for use are a summary: input-data specifications (Art. 13(3)(b)(vi)), expected "
            "lifetime and maintenance (Art. 13(3)(e)) and log collection (Art. 13(3)(f)) are not covered")


def _oversight_gap(oversight) -> str:
    missing = [name for name in ("override", "stop", "competence") if not getattr(oversight, name)]
    return f"oversight does not state: {', '.join(missing)}" if missing else ""


def _declaration(ctx: PackContext) -> Earned:
    conformity = ctx.governance.declaration_of_conformity if ctx.governance else None
    if conformity is None:
        return Earned(Status.OPEN, GOVERNANCE_FILE, "declaration_of_conformity: not in the governance file",
                      note="the EU declaration of conformity is not stated")
    if conformity.status != "signed":
        return Earned(Status.OPEN, GOVERNANCE_FILE, f"declaration_of_conformity: {conformity.status}",
                      note=conformity.note or "not signed")
    return Earned(Status.STATED, GOVERNANCE_FILE, f"declaration_of_conformity: signed ({conformity.reference})")


def _incidents(plan) -> str:
    text = (plan.incident_reporting or "").lower()
    return "" if text else "serious incident reporting is not described"


# --- the map ------------------------------------------------------------------------------------------------------

P, D = "provider", "deployer"
EU, GDPR, UK, US = "EU AI Act", "EU GDPR", "UK", "US"

OBLIGATIONS: tuple[Obligation, ...] = (
    Obligation("risk-management", ("Art. 9(1)–(2)", "Annex IV 5"), EU, P, "risk management system", True,
               governance_part("risks", "risk register")),
    Obligation("misuse", ("Art. 9(2)(b)",), EU, P, "foreseeable misuse evaluated", True,
               statement("foreseeable-misuse")),
    Obligation("residual-risk", ("Art. 9(5)",), EU, P, "residual risk accepted", True,
               statement("residual-risk-acceptance")),
    Obligation("vulnerable-groups", ("Art. 9(9)",), EU, P, "vulnerable groups considered", True,
               statement("vulnerable-groups")),
    Obligation("data-provenance", ("Art. 10(2)(b)–(c)", "Annex IV 2(d)"), EU, P, "data origin and preparation", True,
               _data_provenance),
    Obligation("bias-examination", ("Art. 10(2)(f)",), EU, P, "examination of biases", True, _bias_examination),
    Obligation("bias-measures", ("Art. 10(2)(g)",), EU, P, "measures against biases", True, _bias_measures),
    Obligation("data-quality", ("Art. 10(3)",), EU, P, "representative, error-free, complete data", True,
               statement("data-representativeness", evidence=_data_quality)),
    Obligation("data-setting", ("Art. 10(4)",), EU, P, "data fit the setting of use", True,
               statement("data-setting")),
    Obligation("technical-documentation", ("Art. 11(1)",), EU, P, "technical documentation (this pack)", True,
               _technical_documentation),
    Obligation("logging", ("Art. 12(1)–(2)",), EU, P, "automatic event logs of the running system", True,
               _either(_decision_logging, statement("runtime-logging"))),
    Obligation("instructions", ("Art. 13(3)",), EU, P, "instructions for use", True,
               statement("instructions-for-use")),
    Obligation("oversight", ("Art. 14(4)",), EU, P, "human oversight measures", True,
               governance_part("oversight", "review, override, stop and competence", complete=_oversight_gap)),
    Obligation("accuracy", ("Art. 15(1), 15(3)",), EU, P, "declared accuracy", True, _accuracy),
    Obligation("robustness", ("Art. 15(4)",), EU, P, "robustness to errors and faults", True,
               statement("robustness-testing")),
    Obligation("cybersecurity", ("Art. 15(5)",), EU, P, "resilience to tampering and attacks", True,
               statement("security-testing", evidence=_tamper_resistance)),
    Obligation("quality-management", ("Art. 17(1)",), EU, P, "quality management system", True,
               statement("quality-management-system")),
    Obligation("independent-validation", ("Art. 17(1)(d)", "PRA SS1/23 Principle 4"), EU, P,
               "independent validation", True, statement("independent-validation")),
    Obligation("documentation-kept", ("Art. 18(1)",), EU, P, "documentation kept ten years", True,
               governance_part("document", "retention of this documentation",
                               complete=lambda d: "" if d.retention else "the retention period is not stated")),
    Obligation("provider-logs-kept", ("Art. 19(1)",), EU, P, "logs kept at least six months", True,
               _either(_capture_retention, statement("provider-log-retention", evidence=_retention_scan))),
    Obligation("conformity-assessment", ("Art. 43(2)", "Annex VI"), EU, P, "conformity assessment (internal "
               "control)", True, statement("conformity-assessment")),
    Obligation("declaration", ("Art. 47", "Annex IV 8"), EU, P, "signed EU declaration of conformity", True,
               _declaration),
    Obligation("ce-marking", ("Art. 48",), EU, P, "CE marking", True, statement("ce-marking")),
    Obligation("registration", ("Art. 49(1)",), EU, P, "registration in the EU database", True,
               statement("eu-database-registration")),
    Obligation("post-market-monitoring", ("Art. 72(1)–(3)", "Annex IV 9"), EU, P, "post-market monitoring plan",
               True, _either(_monitoring_results, governance_part("monitoring", "monitoring plan"))),
    Obligation("serious-incidents", ("Art. 73(2)–(4)",), EU, P, "serious incident reporting", True,
               governance_part("monitoring", "incident reporting", complete=_incidents)),
    Obligation("general-description", ("Annex IV 1(b)–(g)",), EU, P, "general description of the system", True,
               statement("system-description")),
    Obligation("development", ("Annex IV 2",), EU, P, "development process and testing", True, _development),
    Obligation("functioning", ("Annex IV 3",), EU, P, "capabilities, limits and group accuracy", True,
               _group_accuracy),
    Obligation("metrics-rationale", ("Annex IV 4",), EU, P, "why these metrics", True,
               statement("metrics-rationale")),
    Obligation("changes", ("Annex IV 6",), EU, P, "changes through the lifecycle", True,
               governance_part("changes", "change record")),
    Obligation("standards", ("Annex IV 7",), EU, P, "standards or other solutions", True,
               governance_part("standards", "standards applied")),
    Obligation("use-and-oversight", ("Art. 26(1)–(2)",), EU, D, "use per instructions; competent overseers", True,
               governance_part("oversight", "assigned, competent overseers",
                               complete=lambda o: "" if o.competence else "the overseers' competence is not "
                                                                           "stated")),
    Obligation("deployer-logs-kept", ("Art. 26(6)",), EU, D, "logs kept at least six months", True,
               _either(_capture_retention, statement("deployer-log-retention"))),
    Obligation("notice", ("Art. 26(11)",), EU, D, "applicants told a high-risk AI system is used", True,
               statement("notice-to-applicants")),
    Obligation("fria", ("Art. 27(1)",), EU, D, "fundamental-rights impact assessment", True, statement("fria")),
    Obligation("explanation", ("Art. 86(1)",), EU, D, "explanation of decisions on request", True,
               statement("explanation-process", evidence=_reason_codes)),
    Obligation("dpia", ("GDPR Art. 35", "Art. 26(9)"), GDPR, D, "data protection impact assessment", True,
               statement("dpia")),
    Obligation("automated-decisions", ("GDPR Art. 22(2)–(3)",), GDPR, D, "basis and safeguards for automated "
               "decisions", True, statement("automated-decision-basis")),
    Obligation("uk-model-risk", ("PRA SS1/23",), UK, P, "model risk management principles (good practice "
               "outside PRA-regulated banks)", False, statement("uk-model-risk-management")),
    Obligation("uk-consumer-duty", ("PRIN 2A",), UK, D, "Consumer Duty outcomes", True,
               statement("uk-consumer-duty")),
    Obligation("uk-age", ("Equality Act 2010 Sch. 3 para 20A",), UK, D, "basis for using age", True,
               statement("uk-age-exception", evidence=_bias_examination)),
    Obligation("uk-automated-decisions", ("UK GDPR Arts. 22A–22D",), UK, D, "safeguards for solely automated "
               "significant decisions", True, statement("uk-automated-decisions")),
    Obligation("us-age", ("Reg B 12 CFR 1002.6(b)(2)",), US, D, "age of elderly applicants never adverse", True,
               _elderly_age),
    Obligation("us-reasons", ("Reg B 12 CFR 1002.9(a)(2), (b)(2)", "CFPB Circular 2023-03"), US, D,
               "specific reasons for adverse action", True,
               statement("adverse-action-notices", evidence=_reason_codes)),
)


@dataclass(frozen=True)
class Row:
    obligation: Obligation
    earned: Earned

    @property
    def blocks_sign_off(self) -> bool:
        return self.obligation.mandatory and self.earned.status is Status.OPEN


def applicable(ctx: PackContext) -> list[Obligation]:
    """The obligations of the roles and frameworks the governance file names (EU duties always)."""
    gov = ctx.governance
    roles = set(gov.classification.roles) if gov and gov.classification else {P, D}
    frameworks = {EU, GDPR} | {{"uk": UK, "us": US}[f] for f in (gov.frameworks or [])} if gov else {EU, GDPR}
    return [o for o in OBLIGATIONS if o.role in roles and o.framework in frameworks]


def obligation_rows(ctx: PackContext) -> list[Row]:
    return [Row(o, o.judge(ctx)) for o in applicable(ctx)]


def open_mandatory(ctx: PackContext) -> list[Row]:
    return [row for row in obligation_rows(ctx) if row.blocks_sign_off]
