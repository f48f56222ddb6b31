"""Every point the pack cites means what the pack says it means.

``EXPECTED`` is an independent reading of each text (Regulation (EU) 2024/1689, the GDPR, the UK GDPR as amended
by the Data (Use and Access) Act 2025, the Equality Act 2010, PRIN 2A, SS1/23 and Regulation B): words the
summary of each point must contain. A citation attached to the wrong duty (tampering under Art. 15(4), past
changes under Annex IV 2(f), incidents without the 2-day route) fails here.
"""

from __future__ import annotations

import re

import pytest

from reports.citations import CITATIONS, meaning
from reports.obligations import OBLIGATIONS
from reports.sections import SECTIONS

EXPECTED: dict[str, tuple[str, ...]] = {
    "Art. 6(2)": ("annex iii", "high-risk"),
    "Art. 6(3)": ("significant risk", "profil"),
    "Annex III 5(b)": ("creditworthiness", "credit score", "fraud"),
    "Art. 9": ("risk management",),
    "Art. 9(1)–(2)": ("risk management", "identify", "estimate"),
    "Art. 9(2)(b)": ("foreseeable misuse",),
    "Art. 9(5)": ("residual risk", "acceptable"),
    "Art. 9(9)": ("under 18", "vulnerable"),
    "Art. 10": ("data governance",),
    "Art. 10(2)(a)–(h)": ("design choices", "origin", "biases", "gaps"),
    "Art. 10(2)(b)–(c)": ("collection", "origin", "preparation"),
    "Art. 10(2)(b)": ("collection", "origin"),
    "Art. 10(2)(c)": ("preparation", "cleaning"),
    "Art. 10(2)(f)": ("examination", "biases"),
    "Art. 10(2)(g)": ("detect", "prevent", "mitigate"),
    "Art. 10(3)": ("representative", "errors", "complete"),
    "Art. 10(4)": ("geographical", "behavioural", "setting"),
    "Art. 11": ("technical documentation", "annex iv"),
    "Art. 11(1)": ("technical documentation", "before placing", "annex iv"),
    "Art. 12": ("automatic", "logs", "lifetime"),
    "Art. 12(1)–(2)": ("automatic recording", "lifetime", "post-market"),
    "Art. 13": ("transparen", "interpret"),
    "Art. 13(1)": ("transparent", "interpret"),
    "Art. 13(3)": ("instructions for use", "lifetime", "logs"),
    "Art. 13(3)(b)": ("capabilities", "limitations", "accuracy"),
    "Art. 13(3)(b)(iv)": ("explain",),
    "Art. 13(3)(b)(vi)": ("input data",),
    "Art. 13(3)(e)": ("lifetime", "maintenance"),
    "Art. 13(3)(f)": ("logs",),
    "Art. 14": ("human oversight",),
    "Art. 14(4)": ("interpret", "override", "stop"),
    "Art. 14(4)(b)": ("automation bias",),
    "Art. 14(4)(c)": ("interpret",),
    "Art. 15": ("accuracy", "robustness", "cybersecurity"),
    "Art. 15(1)": ("accuracy", "robustness", "cybersecurity"),
    "Art. 15(1)–(3)": ("accuracy", "instructions for use"),
    "Art. 15(1), 15(3)": ("accuracy", "instructions for use"),
    "Art. 15(4)": ("errors", "faults", "feedback loops"),
    "Art. 15(5)": ("unauthorised", "tampering", "poisoning", "adversarial"),
    "Art. 16": ("provider", "conformity assessment", "registration"),
    "Art. 17": ("quality management",),
    "Art. 17(1)": ("quality management",),
    "Art. 17(1)(d)": ("test", "validation"),
    "Art. 18(1)": ("ten years", "placing on the market"),
    "Art. 19(1)": ("logs", "six months"),
    "Art. 43(2)": ("internal control", "annex vi", "points 2 to 8"),
    "Annex VI": ("internal control", "quality management", "technical documentation"),
    "Art. 47": ("declaration of conformity", "ten years"),
    "Art. 48": ("ce marking",),
    "Art. 49(1)": ("registered", "eu database", "before placing"),
    "Art. 72": ("post-market monitoring",),
    "Art. 72(1)–(3)": ("post-market monitoring", "plan", "technical documentation"),
    "Art. 73": ("serious incidents",),
    "Art. 73(2)–(4)": ("immediately", "15 days", "2 days", "widespread infringement", "10 days"),
    "Art. 3(49)": ("serious incident",),
    "Art. 26(1)–(2)": ("instructions for use", "competen"),
    "Art. 26(2)": ("oversight", "competence"),
    "Art. 26(6)": ("logs", "six months"),
    "Art. 26(9)": ("data protection impact assessment",),
    "Art. 26(11)": ("inform", "natural persons"),
    "Art. 27(1)": ("fundamental-rights impact assessment", "5(b)"),
    "Art. 86(1)": ("explanation", "main elements of the decision"),
    "Annex IV": ("technical documentation",),
    "Annex IV 1": ("general description", "instructions for use"),
    "Annex IV 1(a)": ("intended purpose", "version"),
    "Annex IV 1(b)–(g)": ("interaction", "software versions", "hardware", "user interface"),
    "Annex IV 1(h)": ("instructions for use",),
    "Annex IV 2": ("development", "pre-determined changes", "validation"),
    "Annex IV 2(a)": ("methods",),
    "Annex IV 2(b)": ("design", "rationale"),
    "Annex IV 2(c)": ("architecture", "computational"),
    "Annex IV 2(d)": ("provenance", "cleaning"),
    "Annex IV 2(e)": ("human oversight",),
    "Annex IV 2(f)": ("pre-determined changes",),
    "Annex IV 2(g)": ("validation", "testing", "discriminatory"),
    "Annex IV 2(h)": ("cybersecurity",),
    "Annex IV 3": ("capabilities", "specific groups", "unintended outcomes"),
    "Annex IV 4": ("performance metrics", "appropriate"),
    "Annex IV 5": ("risk management", "art. 9"),
    "Annex IV 6": ("changes", "lifecycle"),
    "Annex IV 7": ("harmonised standards", "other solutions"),
    "Annex IV 8": ("declaration of conformity", "art. 47"),
    "Annex IV 9": ("post-market", "art. 72(3)"),
    "GDPR Art. 22(2)–(3)": ("solely on automated processing", "contract", "explicit consent", "human intervention",
                            "contest"),
    "GDPR Art. 35": ("data protection impact assessment", "high risk"),
    "PRA SS1/23": ("model risk", "independent validation"),
    "PRA SS1/23 Principle 4": ("independent", "validation"),
    "PRIN 2A": ("consumer duty", "outcomes", "foreseeable harm"),
    "Equality Act 2010 Sch. 3 para 20A": ("age", "financial service", "relevant information", "reliable source"),
    "UK GDPR Arts. 22A–22D": ("solely on automated processing", "safeguards", "human intervention"),
    "Reg B 12 CFR 1002.6(b)(2)": ("empirically derived", "elderly", "negative factor"),
    "Reg B 12 CFR 1002.9(a)(2), (b)(2)": ("adverse action", "specific"),
    "Reg B 12 CFR 1002.2(o)": ("62",),
    "CFPB Circular 2023-03": ("specific", "accurate", "complex"),
}

# Points that must never be cited for these duties (the mistakes an earlier pack made).
NEVER = {
    ("integrity", "Art. 15(4)"),      # tampering is Art. 15(5)
    ("integrity", "Art. 12"),         # a signature is not an event log
    ("lineage", "Art. 12"),           # build-time provenance is not the running system's logs
    ("lineage", "Art. 19"),
    ("lessons", "Annex IV 2(f)"),     # pre-determined changes, not past ones
    ("performance", "Art. 15(1)–(3)"),  # 15(2) is the Commission's duty
    ("performance", "Annex IV 4"),    # no rationale for the metrics is evidenced
}


def test_every_citation_has_an_independent_reading():
    assert set(CITATIONS) == set(EXPECTED)


@pytest.mark.parametrize("citation", sorted(EXPECTED))
def test_each_citation_means_what_its_text_says(citation):
    summary = meaning(citation).lower()
    missing = [word for word in EXPECTED[citation] if word not in summary]
    assert not missing, f"{citation}: the summary {summary!r} lacks {missing}"


def test_sections_and_obligations_cite_only_known_points():
    for _, module in SECTIONS:
        for reference in module.REFERENCES:
            meaning(reference)
    for obligation in OBLIGATIONS:
        for citation in obligation.citations:
            meaning(citation)


def test_known_mistakes_are_not_cited():
    cited = {(module.KEY, reference) for _, module in SECTIONS for reference in module.REFERENCES}
    assert not cited & NEVER, cited & NEVER


@pytest.mark.parametrize(("duty", "citation"), [
    ("conformity-assessment", "Art. 43(2)"), ("ce-marking", "Art. 48"), ("registration", "Art. 49(1)"),
    ("declaration", "Art. 47"), ("fria", "Art. 27(1)"), ("notice", "Art. 26(11)"), ("explanation", "Art. 86(1)"),
    ("deployer-logs-kept", "Art. 26(6)"), ("cybersecurity", "Art. 15(5)"), ("robustness", "Art. 15(4)"),
    ("serious-incidents", "Art. 73(2)–(4)"), ("changes", "Annex IV 6"), ("dpia", "GDPR Art. 35"),
    ("uk-age", "Equality Act 2010 Sch. 3 para 20A"), ("uk-automated-decisions", "UK GDPR Arts. 22A–22D"),
    ("us-age", "Reg B 12 CFR 1002.6(b)(2)"), ("logging", "Art. 12(1)–(2)"), ("documentation-kept", "Art. 18(1)"),
])
def test_each_duty_cites_its_own_article(duty, citation):
    obligation = next(o for o in OBLIGATIONS if o.key == duty)
    assert obligation.citations[0] == citation


def test_the_obligation_map_has_no_duplicate_duties():
    keys = [o.key for o in OBLIGATIONS]
    assert len(keys) == len(set(keys))
    assert all(re.fullmatch(r"[a-z0-9-]+", k) for k in keys)
