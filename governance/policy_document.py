"""A YAML policy document validated into a pydantic model, every problem named by ``file:line`` and key.

The fairness, monitoring and validation policies share this reader, so each gets the same bounded YAML loader
(aliases, depth and duplicate keys refused) and the same error lines.

>>> from pydantic import BaseModel, ConfigDict
>>> class Limits(BaseModel):
...     model_config = ConfigDict(extra="forbid")
...     limit: float
>>> parse_document("limit: 0.8\\n", "p.yaml", Limits, what="policy").limit
0.8
>>> parse_document("limt: 0.8\\n", "p.yaml", Limits, what="policy")
Traceback (most recent call last):
governance.errors.InputError: p.yaml:1: limt: unknown key (and 1 more)
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from governance.errors import InputError

Model = TypeVar("Model", bound=BaseModel)


def _explain(error: dict) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key is missing"
    return error["msg"].removeprefix("Value error, ")


def parse_document(text: str, label: str, model: type[Model], *, what: str,
                   reason: str = "INVALID_POLICY") -> Model:
    """Validate ``text`` as ``model``; any problem is an :class:`InputError` (``reason``) naming ``label:line``."""
    from governance.yaml_lines import load_yaml

    try:
        document = load_yaml(text, label)
    except InputError as err:  # unreadable YAML, alias bomb, too deep: the caller's reason code, the loader's words
        raise InputError(reason, err.message) from None
    data = {} if document.data is None else document.data
    if not isinstance(data, dict):
        raise InputError(reason, f"{label}:1: a {what} must be a mapping")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = []
        # Unknown keys first: a misspelt key is the likeliest cause of every other complaint.
        for error in sorted(err.errors(), key=lambda e: e["type"] != "extra_forbidden"):
            loc = tuple(error["loc"])
            key = ".".join(str(part) for part in loc) or "(top level)"
            problems.append(f"{label}:{document.line(loc)}: {key}: {_explain(error)}")
        extra = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(reason, problems[0] + extra, details={"problems": problems}) from None
    except ValueError as err:  # a model's own whole-document check (model_post_init)
        raise InputError(reason, f"{label}: {err}") from None


__all__ = ["parse_document"]
