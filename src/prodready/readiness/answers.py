"""Read a team's answers from a file: YAML, JSON or CSV, with errors that name the line.

Facilitators prepare answers before a workshop or export them from a spreadsheet, so the three
formats a spreadsheet or an editor writes are accepted:

- YAML or JSON: a mapping ``{question_id: score}``, or ``{answers: {question_id: score}}``;
- CSV: columns ``id`` and ``score`` (other columns, e.g. notes, are ignored; an empty score is
  an unanswered question).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import yaml

from prodready.errors import DataError, ParameterError
from prodready.readiness.scoring import check_id, check_score, validate_answers

SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".csv": "csv"}


def read_answers(path: str | Path) -> dict[str, float]:
    """Question id -> 0, 0.5 or 1 from ``path`` (format by its suffix), in bank order.

    An empty value (YAML ``org_owner:``, JSON ``null``, an empty CSV cell) is an unanswered
    question. A missing or unreadable file, or one in the wrong shape, raises DataError; an
    unknown id or a bad score raises ParameterError naming the file and the line (YAML, CSV) or
    the entry (JSON).
    """
    path = Path(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataError(
            "prodready cannot tell the format of this answers file",
            where=str(path),
            expected="a .yaml/.yml, .json or .csv file",
            found=f"the suffix {path.suffix!r}" if path.suffix else "no suffix",
            fix="save the answers as YAML, JSON or CSV (columns id,score)",
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise DataError(
            "the answers file does not exist",
            where=str(path),
            fix="check the path (relative paths start from the current folder)",
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(
            "the answers file cannot be read",
            where=str(path),
            found=str(exc),
            fix="save it as UTF-8 text and check its permissions",
        ) from exc
    reader = {"yaml": _from_yaml, "json": _from_json, "csv": _from_csv}[kind]
    entries = reader(text, path)  # (id, score, where) triples, checked one by one
    answers: dict[str, float] = {}
    for qid, value, where in entries:
        qid = check_id(qid, where=where)
        if value is None:  # "org_owner:" with nothing after it: unanswered
            continue
        if qid in answers:
            raise ParameterError(
                f"question {qid} is answered twice",
                where=where,
                fix=f"keep one answer for {qid}",
            )
        answers[qid] = check_score(value, qid, where=where)
    return validate_answers(answers, where=str(path))


def _shape_error(path: Path, found: str) -> DataError:
    return DataError(
        "the answers file is not a mapping of question id to score",
        where=str(path),
        expected="{question_id: score} or {answers: {question_id: score}}",
        found=found,
        fix="write one 'question_id: score' per line, e.g. 'org_owner: 1'",
    )


def _from_yaml(text: str, path: Path) -> list[tuple[Any, Any, str]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}" if mark is not None else str(path)
        raise DataError(
            "the answers file is not valid YAML",
            where=where,
            found=str(getattr(exc, "problem", None) or exc),
            fix="check indentation and the ':' after each question id",
        ) from exc
    if root is None:
        raise _shape_error(path, "an empty file")
    if not isinstance(root, yaml.MappingNode):
        raise _shape_error(path, f"a YAML {root.tag.rsplit(':', 1)[-1]}")
    inner = [v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "answers"]
    if len(root.value) == 1 and inner:
        root = inner[0]
        if not isinstance(root, yaml.MappingNode):
            raise _shape_error(path, f"answers: a YAML {root.tag.rsplit(':', 1)[-1]}")
    entries = []
    loader = yaml.SafeLoader("")
    for key, value in root.value:
        where = f"{path}, line {key.start_mark.line + 1}"
        if not isinstance(value, yaml.ScalarNode):
            raise ParameterError(
                f"the answer to {key.value} is not a single score",
                where=where,
                expected="0, 0.5 or 1",
                found=f"a YAML {value.tag.rsplit(':', 1)[-1]}",
                fix=f"write '{key.value}: 0.5' on one line",
            )
        entries.append((loader.construct_object(key), loader.construct_object(value), where))
    loader.dispose()
    return entries


def _from_json(text: str, path: Path) -> list[tuple[Any, Any, str]]:
    def pairs(items: list[tuple[str, Any]]) -> _Pairs:
        return _Pairs(items)

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise DataError(
            "the answers file is not valid JSON",
            where=f"{path}, line {exc.lineno}",
            found=exc.msg,
            fix="check quotes and commas (no trailing comma)",
        ) from exc
    if not isinstance(data, _Pairs):
        raise _shape_error(path, f"a JSON {type(data).__name__}")
    if len(data) == 1 and data[0][0] == "answers":
        data = data[0][1]
        if not isinstance(data, _Pairs):
            raise _shape_error(path, f"answers: a JSON {type(data).__name__}")
    return [(key, value, f"{path}, entry {key!r}") for key, value in data]


class _Pairs(list):
    """A JSON object kept as its (key, value) pairs, so repeated keys are seen, not merged."""


def _from_csv(text: str, path: Path) -> list[tuple[Any, Any, str]]:
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    if header is None:
        raise _shape_error(path, "an empty file")
    names = [h.strip().lower() for h in header]
    if "id" not in names or "score" not in names:
        raise DataError(
            "the answers CSV lacks the columns it needs",
            where=f"{path}, line 1",
            expected="a header with the columns id and score",
            found=f"columns {header}",
            fix="name the columns id and score (one question per line)",
        )
    id_at, score_at = names.index("id"), names.index("score")
    entries = []
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = row + [""] * (len(names) - len(row))
        qid, value = cells[id_at].strip(), cells[score_at].strip()
        if value == "":  # an unanswered question: left out
            check_id(qid, where=f"{path}, line {line}")
            continue
        entries.append((qid, value, f"{path}, line {line}"))
    return entries
