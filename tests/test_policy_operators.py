"""The assertion operators: each one's meaning, three-valued logic over unreadable evidence, and the trace."""

from __future__ import annotations

import pytest

from governance.policy.operators import OPERATORS, Compiler, ConditionError, EvidenceView, compile_condition

EVIDENCE = {
    "name": "signing-key.pem",
    "count": 3,
    "flag": True,
    "zero": 0,
    "prefix": "logs/",
    "tags": ["a", "b"],
    "nested": {"value": "aws:kms:dsse", "missing": None},
    "rules": [{"status": "Enabled", "days": 30}, {"status": "Disabled", "days": 1}],
}


def value(condition: dict, evidence: dict = EVIDENCE, errors: dict | None = None, parameters: dict | None = None):
    compiled = compile_condition(condition, Compiler(parameters or {}))
    return compiled.evaluate(EvidenceView(evidence, errors)).value


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"eq": {"path": "count", "value": 3}}, True),
        ({"eq": {"path": "flag", "value": True}}, True),
        ({"eq": {"path": "count", "value": True}}, False),  # YAML true is not the number 1
        ({"eq": {"path": "zero", "value": False}}, False),
        ({"ne": {"path": "nested.missing", "value": "x"}}, True),
        ({"eq": {"path": "nested.missing", "value": None}}, True),
        ({"gt": {"path": "count", "value": 2}}, True),
        ({"gte": {"path": "count", "value": 3}}, True),
        ({"lt": {"path": "count", "value": 3}}, False),
        ({"lte": {"path": "nested.value", "value": 3}}, False),  # a string is never compared as a number
        ({"lt": {"path": "nested.missing", "value": 3}}, False),
        ({"in": {"path": "nested.value", "values": ["aws:kms", "aws:kms:dsse"]}}, True),
        ({"in": {"path": "nested.missing", "values": [None]}}, False),
        ({"not_in": {"path": "nested.value", "values": ["AES256"]}}, True),
        ({"exists": "nested.value"}, True),
        ({"exists": "nested.missing"}, False),
        ({"exists": {"path": "nowhere.at.all"}}, False),
        ({"matches": {"path": "name", "pattern": r".*key\.pem"}}, True),
        ({"matches": {"path": "name", "pattern": "key"}}, False),  # whole-string match
        ({"contains": {"path": "tags", "value": "b"}}, True),
        ({"contains": {"path": "nested.value", "value": "dsse"}}, True),
        ({"subset": {"path": "tags", "values": ["a", "b", "c"]}}, True),
        ({"subset": {"path": "tags", "values": ["a"]}}, False),
        ({"subset": {"path": "nested.missing", "values": []}}, True),
        ({"startswith": {"path": "prefix", "values": ["log", "x"]}}, True),
        ({"prefix_overlaps": {"path": "prefix", "values": ["logs/app/"]}}, True),
        ({"prefix_overlaps": {"path": "prefix", "values": ["models/"]}}, False),
        ({"every": {"path": "rules", "where": {"gte": {"path": "days", "value": 1}}}}, True),
        ({"some": {"path": "rules", "where": {"eq": {"path": "status", "value": "Disabled"}}}}, True),
        ({"none": {"path": "rules", "where": {"lt": {"path": "days", "value": 7}}}}, False),
        ({"every": {"path": "nowhere", "where": {"exists": "x"}}}, True),
        ({"some": {"path": "tags", "where": {"eq": {"path": ".", "value": "a"}}}}, True),
        ({"all": [{"exists": "name"}, {"eq": {"path": "count", "value": 3}}]}, True),
        ({"any": [{"exists": "nope"}, {"eq": {"path": "count", "value": 4}}]}, False),
        ({"not": {"exists": "nope"}}, True),
    ],
)
def test_operator_semantics(condition, expected):
    assert value(condition) is expected


def test_every_operator_in_the_closed_set_is_covered_above():
    covered = {"eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "exists", "matches", "contains", "subset",
               "startswith", "prefix_overlaps", "every", "some", "none", "all", "any", "not"}
    assert covered == set(OPERATORS)


def test_parameters_are_substituted_when_compiling():
    condition = {"in": {"path": "nested.value", "values": "${allowed}"}}
    assert value(condition, parameters={"allowed": ["aws:kms:dsse"]}) is True
    assert value(condition, parameters={"allowed": []}) is False


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # Kleene logic: a part that cannot be decided only matters when the rest does not settle it.
        ({"all": [{"eq": {"path": "count", "value": 4}}, {"exists": "broken.x"}]}, False),
        ({"all": [{"eq": {"path": "count", "value": 3}}, {"exists": "broken.x"}]}, None),
        ({"any": [{"eq": {"path": "count", "value": 3}}, {"exists": "broken.x"}]}, True),
        ({"any": [{"eq": {"path": "count", "value": 4}}, {"exists": "broken.x"}]}, None),
        ({"not": {"exists": "broken.x"}}, None),
        ({"none": {"path": "broken", "where": {"exists": "x"}}}, None),
        ({"eq": {"path": "count", "value": 3}}, True),
    ],
)
def test_unreadable_evidence_is_unknown_never_true(condition, expected):
    assert value(condition, {**EVIDENCE, "broken": None}, errors={"broken": "s3:GetX: access denied"}) is expected


def test_a_failed_resource_makes_every_leaf_unknown():
    assert value({"exists": "name"}, errors={"*": "HeadObject: access denied"}) is None


def test_trace_records_each_condition_with_actual_and_expected():
    compiled = compile_condition({"all": [
        {"gte": {"path": "count", "value": 5}},
        {"none": {"path": "rules", "where": {"eq": {"path": "status", "value": "Disabled"}}}},
        {"exists": "broken.x"},
    ]}, Compiler())
    outcome = compiled.evaluate(EvidenceView({**EVIDENCE, "broken": None}, {"broken": "denied"}))
    trace = outcome.trace
    assert outcome.value is False and trace["op"] == "all" and trace["result"] == "false"
    gte, none, broken = trace["conditions"]
    assert gte == {"op": "gte", "path": "count", "expected": 5, "actual": 3, "result": "false"}
    assert none["result"] == "false" and [i["result"] for i in none["items"]] == ["false", "true"]
    assert broken == {"op": "exists", "path": "broken.x", "result": "error", "error": "denied"}


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ({"eq": {"path": "x"}}, "needs 'value'"),
        ({"eq": {"path": "x", "value": 1, "extra": 2}}, "does not take 'extra'"),
        ({"in": {"path": "x", "values": "abc"}}, "needs a list"),
        ({"eq": {"path": "bad path", "value": 1}}, "evidence path"),
        ({"all": []}, "non-empty list"),
        ({"eq": {"path": "x", "value": 1}, "ne": {"path": "x", "value": 2}}, "exactly one operator"),
        ({"eq": {"path": "x", "value": "prefix-${p}"}}, "whole value"),
    ],
)
def test_malformed_conditions_are_refused(condition, words):
    with pytest.raises(ConditionError, match=words.replace("(", r"\(").replace("$", r"\$")):
        compile_condition(condition, Compiler({"p": 1}))
