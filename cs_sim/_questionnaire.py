"""The maturity questionnaire and a team's answers: reading and validation.

:func:`load_questionnaire` reads ``templates/maturity_questionnaire.yaml`` (dimensions,
questions with anchored answers 1-5, the stage rules and focus metrics);
:func:`load_answers` reads a team's answers (``templates/maturity_answers.yaml``). Both
report every problem with the file, the key and the fix
(:class:`~cs_sim.errors.StrategyInputError`). Scoring is :mod:`cs_sim.maturity`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cs_sim._yaml import load_yaml_mapping
from cs_sim.errors import StrategyInputError

__all__ = ["Answers", "Dimension", "Question", "Questionnaire", "StageRule", "load_answers",
           "load_questionnaire"]

#: the stages, lowest first
STAGES: tuple[str, ...] = ("reactive", "proactive", "predictive", "strategic")
QUESTIONNAIRE_FILE = "maturity_questionnaire.yaml"
_ANSWER_KEYS = {"company", "assessed_on", "assessed_by", "answers", "comments"}


# ------------------------------------------------------------------------ questionnaire
@dataclass(frozen=True)
class Question:
    """One question: its key, text and the anchored description of each score."""

    key: str
    text: str
    answers: dict[int, str]


@dataclass(frozen=True)
class Dimension:
    """One dimension of the questionnaire."""

    key: str
    label: str
    owner: str
    capability: str
    build_buy_partner: dict[str, str]
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class StageRule:
    """The score rules of one stage (none for reactive)."""

    name: str
    label: str
    description: str
    min_mean: float = 0.0
    min_each: float = 0.0
    requires: dict[str, float] = field(default_factory=dict)
    focus: tuple[tuple[str, str], ...] = ()  # (KPI name, why)


@dataclass(frozen=True)
class Questionnaire:
    """A validated maturity questionnaire (see :func:`load_questionnaire`).

    Attributes
    ----------
    dimensions : tuple of Dimension
    stages : dict of str to StageRule
        One rule per name of :data:`STAGES`.
    scale : (int, int)
        Lowest and highest answer.
    source : str
        Where it was read from.
    """

    dimensions: tuple[Dimension, ...]
    stages: dict[str, StageRule]
    scale: tuple[int, int]
    source: str

    def dimension(self, key: str) -> Dimension:
        """The dimension called ``key``."""
        return next(d for d in self.dimensions if d.key == key)

    def to_frame(self) -> pd.DataFrame:
        """The questions as a table: dimension, question, text and one column per score."""
        rows = [{"dimension": d.key, "question": q.key, "text": q.text,
                 **{str(k): v for k, v in q.answers.items()}}
                for d in self.dimensions for q in d.questions]
        return pd.DataFrame(rows)


def _fail(src: str, where: str, problem: str, fix: str) -> StrategyInputError:
    return StrategyInputError(f"{src}: {where}: {problem}\n    fix: {fix}")


def _mapping(value: Any, src: str, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(src, where, f"must be a mapping (key: value), got {type(value).__name__}",
                    "see templates/maturity_questionnaire.yaml for the layout")
    return value


def _number(value: Any, src: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(src, where, f"must be a number, got {value!r}", "write a number")
    return float(value)


def _parse_questionnaire(data: Mapping[str, Any], src: str) -> Questionnaire:
    scale = _mapping(data.get("scale", {"min": 1, "max": 5}), src, "scale")
    lo, hi = int(_number(scale.get("min"), src, "scale.min")), int(
        _number(scale.get("max"), src, "scale.max"))
    dims = []
    raw_dims = _mapping(data.get("dimensions"), src, "dimensions")
    if not raw_dims:
        raise _fail(src, "dimensions", "no dimensions", "list at least one dimension")
    for key, raw in raw_dims.items():
        raw = _mapping(raw, src, f"dimensions.{key}")
        questions = []
        for qkey, q in _mapping(raw.get("questions"), src, f"dimensions.{key}.questions").items():
            q = _mapping(q, src, f"dimensions.{key}.questions.{qkey}")
            anchors = _mapping(q.get("answers"), src, f"dimensions.{key}.questions.{qkey}.answers")
            levels = {int(k): str(v) for k, v in anchors.items()}
            if sorted(levels) != list(range(lo, hi + 1)):
                raise _fail(src, f"dimensions.{key}.questions.{qkey}.answers",
                            f"anchors given for {sorted(levels)}",
                            f"give one anchored description for each score {lo}..{hi}")
            questions.append(Question(str(qkey), str(q.get("text", qkey)), levels))
        if not questions:
            raise _fail(src, f"dimensions.{key}.questions", "no questions",
                        "give the dimension at least one question")
        bbp = {k: str(v) for k, v in dict(raw.get("build_buy_partner") or {}).items()}
        if bbp.get("recommend", "build") not in ("build", "buy", "partner"):
            raise _fail(src, f"dimensions.{key}.build_buy_partner.recommend",
                        f"{bbp['recommend']!r} is not build, buy or partner",
                        "write build, buy or partner")
        dims.append(Dimension(str(key), str(raw.get("label", key)), str(raw.get("owner", "")),
                              str(raw.get("capability", raw.get("label", key))), bbp,
                              tuple(questions)))
    names = {d.key for d in dims}
    raw_stages = _mapping(data.get("stages"), src, "stages")
    if set(raw_stages) != set(STAGES):
        raise _fail(src, "stages", f"found {sorted(raw_stages)}",
                    f"define exactly the stages {', '.join(STAGES)}")
    from cs_sim.kpis.registry import registered_kpis

    kpis = [k.name for k in registered_kpis()]
    stages = {}
    for name in STAGES:
        raw = _mapping(raw_stages[name] or {}, src, f"stages.{name}")
        requires = {}
        for dim, v in _mapping(raw.get("requires") or {}, src, f"stages.{name}.requires").items():
            if dim not in names:
                raise _fail(src, f"stages.{name}.requires.{dim}", "unknown dimension",
                            f"use one of {', '.join(sorted(names))}")
            requires[str(dim)] = _number(v, src, f"stages.{name}.requires.{dim}")
        focus = []
        for i, item in enumerate(raw.get("focus") or []):
            item = _mapping(item, src, f"stages.{name}.focus[{i}]")
            if set(item) - {"metric", "why"}:
                raise _fail(src, f"stages.{name}.focus[{i}]",
                            f"unknown keys {sorted(set(item) - {'metric', 'why'})}",
                            "give only metric and why; quote a text that holds a comma")
            if item.get("metric") not in kpis:
                raise _fail(src, f"stages.{name}.focus[{i}].metric",
                            f"{item.get('metric')!r} is not a KPI of the baseline",
                            f"use one of {', '.join(kpis)}")
            focus.append((str(item["metric"]), str(item.get("why", ""))))
        stages[name] = StageRule(
            name, str(raw.get("label", name)), " ".join(str(raw.get("description", "")).split()),
            _number(raw.get("min_mean", 0), src, f"stages.{name}.min_mean"),
            _number(raw.get("min_each", 0), src, f"stages.{name}.min_each"), requires,
            tuple(focus))
    return Questionnaire(tuple(dims), stages, (lo, hi), src)


def load_questionnaire(path: str | os.PathLike[str] | None = None) -> Questionnaire:
    """Read and validate a maturity questionnaire (YAML, ``safe_load`` only).

    Parameters
    ----------
    path : str or os.PathLike, optional
        The YAML file; default the packaged copy of
        ``templates/maturity_questionnaire.yaml`` (the copy users edit).

    Returns
    -------
    Questionnaire

    Raises
    ------
    cs_sim.errors.StrategyInputError
        If the file cannot be read or is invalid; the message names the file, the key
        and the fix.
    """
    if path is None:
        from importlib.resources import files

        src: Any = files("cs_sim").joinpath("resources", QUESTIONNAIRE_FILE)
        name = f"templates/{QUESTIONNAIRE_FILE}"
    else:
        src, name = path, str(path)
    data = load_yaml_mapping(src, what="maturity questionnaire", source=name,
                             error=StrategyInputError)
    return _parse_questionnaire(data, name)


# ----------------------------------------------------------------------------- answers
@dataclass(frozen=True)
class Answers:
    """A team's validated answers: dimension -> question -> score, and comments."""

    scores: dict[str, dict[str, int]]
    comments: dict[str, str]
    company: str | None
    assessed_on: dt.date | None
    source: str


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f"did you mean '{close[0]}'? " if close else ""


def _parse_answers(data: Mapping[str, Any], q: Questionnaire, src: str) -> Answers:
    problems: list[str] = []
    lo, hi = q.scale
    anchors = f"the anchored answers are in {q.source}"
    if "answers" in data:
        extra = sorted(set(data) - _ANSWER_KEYS)
        problems += [f"{k}: unknown key; fix: use {', '.join(sorted(_ANSWER_KEYS))}"
                     for k in extra]
        given = data["answers"]
    else:
        given = data
    if not isinstance(given, Mapping):
        raise _fail(src, "answers", "must be a mapping of dimension -> answers",
                    "see templates/maturity_answers.yaml")
    dims = [d.key for d in q.dimensions]
    scores: dict[str, dict[str, int]] = {}
    for dim, value in given.items():
        if dim not in dims:
            problems.append(f"answers.{dim}: unknown dimension; fix: "
                            f"{_did_you_mean(str(dim), dims)}the dimensions are "
                            f"{', '.join(dims)}")
            continue
        qkeys = [x.key for x in q.dimension(dim).questions]
        single = not isinstance(value, Mapping)  # one number for every question
        items = {qkeys[0]: value} if single else value
        scores[dim] = {}
        for qk, v in items.items():
            where = f"answers.{dim}" + ("" if single else f".{qk}")
            if qk not in qkeys:
                problems.append(f"answers.{dim}.{qk}: unknown question; fix: "
                                f"{_did_you_mean(str(qk), qkeys)}the questions of {dim} are "
                                f"{', '.join(qkeys)}")
            elif isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v):
                problems.append(f"{where}: {v!r} is not a whole number; fix: give a whole "
                                f"number from {lo} to {hi} ({anchors})")
            elif not lo <= v <= hi:
                problems.append(f"{where}: {v!r} is out of range; fix: give a whole number "
                                f"from {lo} to {hi} ({anchors})")
            elif single:
                scores[dim] = dict.fromkeys(qkeys, int(v))
            else:
                scores[dim][str(qk)] = int(v)
    missing = [f"{d.key}.{x.key}" for d in q.dimensions for x in d.questions
               if d.key in given and x.key not in scores.get(d.key, {})
               and not any(p.startswith(f"answers.{d.key}") for p in problems)]
    missing += [d for d in dims if d not in given]
    if missing:
        problems.append(f"answers: no answer for {', '.join(missing)}; fix: answer every "
                        f"question ({lo}-{hi}), or give a dimension one number for all its "
                        "questions")
    comments = data.get("comments") or {} if "answers" in data else {}
    if not isinstance(comments, Mapping):
        problems.append("comments: must be a mapping of dimension -> text")
        comments = {}
    for dim in comments:
        if dim not in dims:
            problems.append(f"comments.{dim}: unknown dimension; fix: "
                            f"{_did_you_mean(str(dim), dims)}the dimensions are {', '.join(dims)}")
    if problems:
        n = len(problems)
        body = "\n".join(f"  - {p}" for p in problems)
        raise StrategyInputError(f"{src}: {n} problem{'s' if n > 1 else ''} in the "
                                 f"maturity answers:\n{body}")
    when = data.get("assessed_on") if "answers" in data else None
    if when is not None and not isinstance(when, dt.date):
        try:
            when = pd.Timestamp(str(when)).date()
        except ValueError:
            raise _fail(src, "assessed_on", f"{when!r} is not a date",
                        "write the date as YYYY-MM-DD") from None
    company = data.get("company") if "answers" in data else None
    return Answers(scores, {str(k): str(v) for k, v in comments.items()},
                   None if company is None else str(company), when, src)


def load_answers(answers: str | os.PathLike[str] | Mapping[str, Any], *,
                 questionnaire: Questionnaire | None = None) -> Answers:
    """Read and validate a team's answers (a YAML file or a mapping).

    Parameters
    ----------
    answers : str, os.PathLike or mapping
        A file like ``templates/maturity_answers.yaml`` (keys ``answers`` and optionally
        ``company``, ``assessed_on``, ``assessed_by``, ``comments``), the same as a
        mapping, or a plain mapping ``dimension -> {question: score}`` (or
        ``dimension -> score`` for all its questions).
    questionnaire : Questionnaire, optional
        Default: :func:`load_questionnaire` ().

    Returns
    -------
    Answers

    Raises
    ------
    cs_sim.errors.StrategyInputError
        Naming the file and every bad key (unknown dimension or question, a score out of
        range or not a whole number, an unanswered question) with its fix.
    """
    q = questionnaire or load_questionnaire()
    if isinstance(answers, Mapping):
        return _parse_answers(answers, q, "answers")
    data = load_yaml_mapping(answers, what="maturity answers", error=StrategyInputError)
    return _parse_answers(data, q, str(answers))
