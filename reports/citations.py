"""Every legal or supervisory point the pack cites, with what it asks, in our own short words.

Sections name the points they evidence (``REFERENCES``) and obligation rows name the points they answer; both
must be keys of :data:`CITATIONS`, and the tests hold each key against an independent reading of its text, so a
point cited for the wrong thing fails. The summaries orient a reader; the texts themselves govern.

Sources: Regulation (EU) 2024/1689 (the AI Act: "Art." and "Annex"), Regulation (EU) 2016/679 ("GDPR"), the UK
GDPR as amended by the Data (Use and Access) Act 2025 ("UK GDPR"), the Equality Act 2010, the FCA Handbook
(PRIN 2A), PRA Supervisory Statement SS1/23, and Regulation B (12 CFR Part 1002).
"""

from __future__ import annotations

CITATIONS: dict[str, str] = {
    # EU AI Act: classification
    "Art. 6(2)": "Systems listed in Annex III are high-risk.",
    "Art. 6(3)": "An Annex III system is not high-risk if it poses no significant risk; never when it profiles "
                 "natural persons.",
    "Annex III 5(b)": "Systems that evaluate the creditworthiness of natural persons or establish their credit "
                      "score (fraud detection excepted).",
    # Provider: requirements (Chapter III Section 2)
    "Art. 9": "A risk management system run over the whole lifecycle.",
    "Art. 9(1)–(2)": "A risk management system: identify, estimate and evaluate the risks, and adopt measures.",
    "Art. 9(2)(b)": "Estimate and evaluate the risks under intended use and reasonably foreseeable misuse.",
    "Art. 9(5)": "The residual risk of each hazard, and overall, is judged acceptable.",
    "Art. 9(9)": "Consider whether the system is likely to affect persons under 18 and other vulnerable groups.",
    "Art. 10": "Training, validation and test data under data governance and management practices.",
    "Art. 10(2)(a)–(h)": "Data governance practices: design choices, collection and origin, preparation, "
                         "assumptions, availability and suitability, examination of biases, measures against "
                         "biases, gaps and shortcomings.",
    "Art. 10(2)(b)–(c)": "Data collection processes and origin; data-preparation operations such as cleaning "
                         "and labelling.",
    "Art. 10(2)(b)": "Data collection processes and the origin of the data.",
    "Art. 10(2)(c)": "Data-preparation operations such as annotation, labelling, cleaning and enrichment.",
    "Art. 10(2)(f)": "Examination of possible biases that affect fundamental rights or lead to discrimination.",
    "Art. 10(2)(g)": "Measures to detect, prevent and mitigate the biases found.",
    "Art. 10(3)": "Data relevant, sufficiently representative, as free of errors as possible and complete.",
    "Art. 10(4)": "Data reflect the geographical, contextual, behavioural or functional setting of use.",
    "Art. 11": "Technical documentation drawn up before placing on the market, covering Annex IV.",
    "Art. 11(1)": "Technical documentation drawn up before placing on the market and kept up to date, covering "
                  "Annex IV.",
    "Art. 12": "Automatic recording of events (logs) over the lifetime of the system.",
    "Art. 12(1)–(2)": "The system technically allows automatic recording of events over its lifetime, to trace "
                      "risks and substantial modifications and to support post-market monitoring.",
    "Art. 13": "Transparency: deployers can interpret the output and use it appropriately.",
    "Art. 13(1)": "Operation transparent enough for deployers to interpret the output and use it appropriately.",
    "Art. 13(3)": "Instructions for use: provider, characteristics, capabilities and limitations, changes, "
                  "oversight, resources and lifetime, logs.",
    "Art. 13(3)(b)": "Characteristics, capabilities and limitations of performance, including intended purpose "
                     "and accuracy.",
    "Art. 13(3)(b)(iv)": "Technical capabilities that provide information relevant to explain the output.",
    "Art. 13(3)(b)(vi)": "Specifications for the input data.",
    "Art. 13(3)(e)": "Computational and hardware resources, expected lifetime, maintenance and care measures.",
    "Art. 13(3)(f)": "Mechanisms to collect, store and interpret the logs (Art. 12).",
    "Art. 14": "Human oversight: natural persons can oversee the system while it is in use.",
    "Art. 14(4)": "Overseers can understand, monitor, interpret, decide not to use, override, and stop the system.",
    "Art. 14(4)(b)": "Overseers remain aware of automation bias: over-reliance on the output.",
    "Art. 14(4)(c)": "Overseers can correctly interpret the output.",
    "Art. 15": "Accuracy, robustness and cybersecurity throughout the lifecycle.",
    "Art. 15(1)": "An appropriate level of accuracy, robustness and cybersecurity.",
    "Art. 15(1)–(3)": "Appropriate accuracy, robustness and cybersecurity; accuracy levels and metrics declared "
                      "in the instructions for use.",
    "Art. 15(1), 15(3)": "Appropriate accuracy; its levels and metrics declared in the instructions for use.",
    "Art. 15(4)": "Resilience to errors, faults and inconsistencies; redundancy; biased feedback loops.",
    "Art. 15(5)": "Resilience against unauthorised attempts to alter use, outputs or performance: tampering, "
                  "data or model poisoning, adversarial examples, confidentiality attacks.",
    "Art. 16": "The provider's obligations, including conformity assessment, declaration, CE marking and "
               "registration.",
    "Art. 17": "A quality management system with documented policies and procedures.",
    "Art. 17(1)": "A quality management system with documented policies, procedures and instructions.",
    "Art. 17(1)(d)": "Examination, test and validation procedures before, during and after development.",
    "Art. 18(1)": "Documentation kept at the authorities' disposal for ten years after placing on the market or "
                  "putting into service.",
    "Art. 19(1)": "Automatically generated logs under the provider's control kept for at least six months.",
    "Art. 43(2)": "For Annex III points 2 to 8, conformity assessment based on internal control (Annex VI), "
                  "without a notified body.",
    "Annex VI": "Internal control: the provider verifies its quality management system, the technical "
                "documentation and the consistency of design and post-market monitoring with it.",
    "Art. 47": "A signed EU declaration of conformity, kept for ten years.",
    "Art. 48": "The CE marking affixed (digitally for a system provided digitally).",
    "Art. 49(1)": "Provider and system registered in the EU database before placing on the market.",
    "Art. 72": "A post-market monitoring system and plan.",
    "Art. 72(1)–(3)": "A post-market monitoring system collecting and analysing performance data, based on a plan "
                      "that is part of the technical documentation.",
    "Art. 73": "Reporting serious incidents to the market surveillance authority.",
    "Art. 73(2)–(4)": "Serious incidents reported immediately after a causal link is established, and no later "
                      "than 15 days after awareness; 2 days for a widespread infringement; 10 days for a death.",
    "Art. 3(49)": "Definition of a serious incident.",
    # Deployer
    "Art. 26(1)–(2)": "Use in line with the instructions for use; oversight assigned to competent, trained "
                      "persons with authority.",
    "Art. 26(2)": "Human oversight assigned to natural persons with the competence, training and authority.",
    "Art. 26(6)": "Deployers keep the logs under their control for at least six months.",
    "Art. 26(9)": "Deployers use the Art. 13 information to carry out a data protection impact assessment.",
    "Art. 26(11)": "Deployers of Annex III systems inform natural persons that they are subject to the system.",
    "Art. 27(1)": "A fundamental-rights impact assessment before first use, required of deployers of Annex III "
                  "5(b) and (c) systems.",
    "Art. 86(1)": "Affected persons may obtain a clear and meaningful explanation of the system's role in a "
                  "decision and the main elements of the decision.",
    # Technical documentation
    "Annex IV": "The contents of the technical documentation.",
    "Annex IV 1": "General description: purpose, provider, version, interaction with other systems, software "
                  "versions, forms of supply, hardware, user interface, instructions for use.",
    "Annex IV 1(a)": "Intended purpose, provider, system name and version.",
    "Annex IV 1(b)–(g)": "Interaction with other hardware, software and AI systems; software versions; forms of "
                         "supply; hardware; product photos; user interface.",
    "Annex IV 1(h)": "Instructions for use for the deployer.",
    "Annex IV 2": "Development: methods, design choices, architecture, data, oversight, pre-determined changes, "
                  "validation and testing, cybersecurity.",
    "Annex IV 2(a)": "Methods and steps of development, including pre-trained systems or third-party tools used.",
    "Annex IV 2(b)": "Design specifications: general logic, key design choices with their rationale, what the "
                     "system optimises.",
    "Annex IV 2(c)": "System architecture: how software components build on each other; computational resources.",
    "Annex IV 2(d)": "Data requirements: datasheets, provenance, scope, selection, labelling and cleaning.",
    "Annex IV 2(e)": "Assessment of the human oversight measures needed (Art. 14).",
    "Annex IV 2(f)": "Pre-determined changes to the system and its performance, and how compliance is kept.",
    "Annex IV 2(g)": "Validation and testing: data, metrics for accuracy, robustness and discriminatory impact, "
                     "dated and signed test logs.",
    "Annex IV 2(h)": "Cybersecurity measures.",
    "Annex IV 3": "Monitoring, functioning and control: capabilities and limits, accuracy for specific groups, "
                  "foreseeable unintended outcomes, oversight measures, input data specifications.",
    "Annex IV 4": "Why the performance metrics are appropriate for the system.",
    "Annex IV 5": "The risk management system under Art. 9.",
    "Annex IV 6": "Relevant changes made by the provider through the lifecycle.",
    "Annex IV 7": "Harmonised standards applied, or the other solutions adopted to meet the requirements.",
    "Annex IV 8": "A copy of the EU declaration of conformity (Art. 47).",
    "Annex IV 9": "The post-market performance evaluation system, with the monitoring plan (Art. 72(3)).",
    # EU GDPR
    "GDPR Art. 22(2)–(3)": "A decision based solely on automated processing with legal or similarly significant "
                           "effects needs a basis (contract, law or explicit consent) and safeguards: human "
                           "intervention, the right to express a view and to contest.",
    "GDPR Art. 35": "A data protection impact assessment before processing likely to result in a high risk.",
    # UK
    "PRA SS1/23": "Model risk management principles: identification and classification, governance, "
                  "development and use, independent validation, risk mitigants.",
    "PRA SS1/23 Principle 4": "Independent model validation.",
    "PRIN 2A": "Consumer Duty: good outcomes for retail customers on products, price and value, understanding "
               "and support; avoid foreseeable harm.",
    "Equality Act 2010 Sch. 3 para 20A": "Age may be used in providing a financial service; a risk assessment "
                                         "using age must rely on relevant information from a reliable source.",
    "UK GDPR Arts. 22A–22D": "Significant decisions based solely on automated processing: restrictions and "
                             "safeguards (information, representations, human intervention, contest).",
    # US
    "Reg B 12 CFR 1002.6(b)(2)": "Age may be used in an empirically derived, demonstrably and statistically "
                                 "sound scoring system, provided the age of an elderly applicant is not assigned "
                                 "a negative factor or value.",
    "Reg B 12 CFR 1002.9(a)(2), (b)(2)": "Adverse action notices with a statement of specific, principal reasons.",
    "Reg B 12 CFR 1002.2(o)": "Elderly means aged 62 or older.",
    "CFPB Circular 2023-03": "Specific and accurate adverse action reasons are required even when complex "
                             "models are used; checklist reasons that do not reflect the actual reasons do not "
                             "suffice.",
}


def meaning(citation: str) -> str:
    """What ``citation`` asks; a citation the table does not hold is an error, not a guess."""
    try:
        return CITATIONS[citation]
    except KeyError:
        raise KeyError(f"{citation!r} is not in reports.citations.CITATIONS") from None
