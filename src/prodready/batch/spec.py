"""The batch file: which cases to report on, with which parameters, checked before any kernel.

```yaml
seed: 0                          # optional, default 0
allowed_folders: [answers]       # optional, default: the batch file's folder
parameters: {replays: 200}       # optional defaults for every case
cases:
  - case: fraud/case.yaml        # required; relative to this file
    name: Card fraud             # optional; default: the case file's folder name
    parameters: {retrain_cost: 500.0}
```

Everything that can be checked without running a notebook is checked here, so a wrong batch file
stops the command with one message and no output. A case file that is missing or broken is not
checked here: it is that case's failure, recorded in the index while the other cases run.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from prodready.data.yaml_file import read_yaml_mapping
from prodready.errors import ParameterError

CASE_FILE_NAMES = ("case.yaml", "case.yml")
_UNSAFE_SLUG = re.compile(r"[^\w.-]+")


class BatchFileError(ParameterError):
    """The batch file (YAML) is wrong: the whole batch stops before any kernel starts."""


class _CaseEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case: str = Field(min_length=1)
    name: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)


class _BatchFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cases: list[_CaseEntry] = Field(min_length=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    seed: StrictInt = Field(default=0, ge=0)
    allowed_folders: list[str] | None = None


@dataclass(frozen=True)
class BatchCase:
    """One case of a batch, resolved: its folder name in the output and its checked parameters."""

    name: str  # as the user wrote it (shown escaped)
    slug: str  # the case's folder name under the output folder
    case_path: Path  # absolute; may be missing or broken (that case then fails alone)
    parameters: dict[str, Any]  # batch defaults overridden by the case's own, validated


@dataclass(frozen=True)
class Batch:
    """A validated batch file."""

    path: Path
    cases: tuple[BatchCase, ...]
    seed: int
    allowed_folders: tuple[Path, ...]


def load_batch(path: str | Path) -> Batch:
    """Read and check a batch file: YAML, schema, names, parameters and allowed folders.

    Raises :class:`~prodready.errors.ParameterError` (:class:`BatchFileError` for the file's
    own structure) naming the file, the entry and the fix; parameter names, types and ``*_path``
    folders are checked by :func:`prodready.report.check_parameters`, as for a single report.
    """
    from prodready.report import check_parameters

    batch_file = Path(path).expanduser().resolve()
    raw = _read_yaml(batch_file)
    try:
        spec = _BatchFile.model_validate(raw)
    except ValidationError as exc:
        raise _schema_error(exc, batch_file) from None
    base = batch_file.parent
    allowed = _allowed_folders(spec.allowed_folders, base, batch_file)
    defaults = _resolve_paths(spec.parameters, base)
    check_parameters(defaults, where=f"{batch_file}: parameters", allowed_folders=allowed)
    cases = []
    seen: dict[str, tuple[int, str]] = {}  # folded slug -> (entry, name)
    for number, entry in enumerate(spec.cases):
        where = f"{batch_file}: cases[{number}]"
        case_path = (base / Path(entry.case).expanduser()).resolve()
        name = entry.name if entry.name is not None else _default_name(case_path)
        _check_name(name, where=where)
        slug = _slug(name)
        if slug.casefold() == "index.html" or slug.casefold().endswith(".failed.ipynb"):
            raise BatchFileError(
                f"the case name {name!r} is the name of a file the batch writes",
                where=where,
                fix="give the case another name (name: ...)",
            )
        if slug.casefold() in seen:
            other, other_name = seen[slug.casefold()]
            same = other_name == name
            raise BatchFileError(
                f"two cases {'have the same name' if same else 'give the same folder name'}",
                where=where,
                found=f"{name!r} and {other_name!r} (cases[{other}]) both write to "
                f"the folder {slug!r}",
                fix="give each case its own name: add `name: ...` to one of them",
            )
        seen[slug.casefold()] = (number, name)
        merged = {**defaults, **_resolve_paths(entry.parameters, base)}
        checked = check_parameters(merged, where=f"{where} ({name})", allowed_folders=allowed)
        cases.append(BatchCase(name, slug, case_path, dict(checked)))
    return Batch(batch_file, tuple(cases), spec.seed, allowed)


# -- internals ----------------------------------------------------------------------------------
def _read_yaml(batch_file: Path) -> Any:
    if not batch_file.is_file():
        raise BatchFileError(
            "the batch file does not exist" if not batch_file.exists() else "this is a folder",
            where=str(batch_file),
            expected="a YAML file listing cases: [{case: PATH}, ...]",
            fix="pass the batch file with --batch (see docs/batch.md)",
        )
    raw, _ = read_yaml_mapping(
        batch_file,
        kind="batch file",
        error=BatchFileError,
        expected="a YAML mapping with `cases:`, a list of {case: PATH, name, parameters}",
        fix="start from the example in docs/batch.md",
    )
    return raw


def _schema_error(exc: ValidationError, batch_file: Path) -> BatchFileError:
    problems = []
    for error in exc.errors()[:8]:
        key = ""
        for part in error["loc"]:
            key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (allowed: cases, parameters, seed, allowed_folders; in a case: "
            message += "case, name, parameters)"
        elif error["type"] not in ("missing",) and not isinstance(error.get("input"), dict | list):
            message += f" (found {error.get('input')!r})"
        problems.append(f"{key or 'top level'}: {message}")
    count = len(exc.errors())
    if count == 1:
        problem, found = f"the batch file is not valid: {problems[0]}", None
    else:
        problem, found = f"the batch file has {count} problems", "\n  - " + "\n  - ".join(problems)
    return BatchFileError(
        problem,
        where=str(batch_file),
        found=found,
        fix="correct the entries named above; the format is in docs/batch.md",
    )


def _allowed_folders(given: list[str] | None, base: Path, batch_file: Path) -> tuple[Path, ...]:
    if given is None:
        return (base,)
    folders = []
    for number, text in enumerate(given):
        folder = (base / Path(text).expanduser()).resolve()
        if not folder.is_dir():
            raise BatchFileError(
                "an allowed folder does not exist",
                where=f"{batch_file}: allowed_folders[{number}]",
                found=str(folder),
                fix="name an existing folder (relative to the batch file), or remove it",
            )
        folders.append(folder)
    return tuple(folders)


def _resolve_paths(parameters: dict[str, Any], base: Path) -> dict[str, Any]:
    """``*_path`` parameters are relative to the batch file, not to wherever the command runs."""
    out = dict(parameters)
    for key, value in parameters.items():
        if key.endswith("_path") and isinstance(value, str) and value.strip():
            out[key] = str((base / Path(value).expanduser()).resolve())
    return out


def _default_name(case_path: Path) -> str:
    """The case's folder name: ``teams/fraud/case.yaml`` and ``teams/fraud`` both give fraud."""
    folder = case_path if case_path.is_dir() or case_path.suffix == "" else case_path.parent
    return folder.name


def _check_name(name: str, *, where: str) -> None:
    bad = None
    if not name.strip():
        bad = "it is empty"
    elif "/" in name or "\\" in name:
        bad = "it contains a slash"
    elif ".." in name:
        bad = "it contains '..'"
    elif any(unicodedata.category(ch).startswith("C") for ch in name):
        bad = "it contains a control character"
    elif len(name) > 120:
        bad = f"it is {len(name)} characters long (at most 120)"
    if bad:
        raise BatchFileError(
            f"the case name cannot be used: {bad}",
            where=where,
            found=repr(name),
            fix="give the case a plain name, e.g. `name: Card fraud 2024`",
        )


def _slug(name: str) -> str:
    """A folder name from a case name: letters, digits, ``.``, ``_`` and ``-``; never hidden."""
    slug = _UNSAFE_SLUG.sub("-", unicodedata.normalize("NFC", name.strip())).strip("-.")
    return slug or "case"
