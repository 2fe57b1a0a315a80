"""The report notebooks: which ones run, and the parameters they declare.

Parameter overrides (from the CLI or a batch file) are checked here against what the notebooks'
``parameters`` cells declare, before any kernel starts: unknown names (with the close ones
suggested), the names a report sets itself, wrong types, and ``*_path`` values outside the
allowed folders each get one clear error.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from prodready.errors import ParameterError, ProdreadyError
from prodready.resources import notebooks_dir

NOTEBOOK_NAME = re.compile(r"^\d{2}_[A-Za-z0-9_]+\.ipynb$")


RESERVED_PARAMETERS = ("case_path", "output_dir", "seed", "reuse_audits")  # run_report sets these

AUDIT_FILES = {
    "overview": "case_overview.json",
    "skew": "skew_audit.json",
    "rollout": "rollout_replay.json",
}
"""The JSON files notebooks 00, 01 and 02 write of the audits a readiness assessment runs with
the same calls (:func:`prodready.readiness.run_audits`): the executive summary (05) reads them
instead of running those audits again (``reuse_audits``, :func:`prodready.readiness.read_audits`).
"""


_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (float, int),  # an int is a fine float (bool is refused separately)
    "bool": (bool,),
}


def report_notebooks(directory: Path | None = None) -> list[Path]:
    """The notebooks a report runs, in order: ``NN_name.ipynb`` files of the notebooks folder."""
    folder = directory or notebooks_dir()
    found = sorted(p for p in folder.iterdir() if p.is_file() and NOTEBOOK_NAME.match(p.name))
    if not found:
        raise ProdreadyError(
            "there are no report notebooks",
            where=str(folder),
            expected="notebooks named like 00_case_overview.ipynb",
            fix="reinstall prodready, or run from a full checkout",
        )
    return found


def pick_notebooks(names: Iterable[str], directory: Path | None = None) -> list[Path]:
    """The report notebooks ``names`` asks for, in report order. Each name may be the file name
    (``01_skew_audit.ipynb``), its stem (``01_skew_audit``), the stem without its number
    (``skew_audit``) or the number (``01``), so a user can type what the report's progress
    lines show."""
    available = report_notebooks(directory)
    aliases: dict[str, Path] = {}
    for path in available:
        number, _, bare = path.stem.partition("_")
        for alias in (path.name, path.stem, bare, number, str(int(number))):
            aliases[alias.casefold()] = path
    chosen: set[Path] = set()
    for name in names:
        key = str(name).strip().casefold()
        if key not in aliases:
            close = difflib.get_close_matches(key, list(aliases), n=1)
            raise ParameterError(
                f"there is no report notebook {name!r}",
                where="--notebook",
                expected="one of " + ", ".join(p.stem for p in available),
                found=repr(name),
                fix=f"did you mean {aliases[close[0]].stem!r}?"
                if close
                else "use a name from the list, e.g. --notebook 01_skew_audit",
            )
        chosen.add(aliases[key])
    return [path for path in available if path in chosen]


def notebook_parameters(notebooks: Iterable[Path] | None = None) -> dict[str, str]:
    """Every parameter the report notebooks declare -> its type name as papermill infers it.

    The names come from the notebooks' ``parameters`` cells, so a new parameter in a notebook is
    accepted everywhere (CLI, batch files) without a list to keep in step.
    """
    paths = tuple(notebooks) if notebooks is not None else tuple(report_notebooks())
    found: dict[str, str] = {}
    for path in paths:
        for name, type_name in declared_parameters(Path(path)).items():
            found.setdefault(name, type_name)
    return dict(sorted(found.items()))


def check_parameters(
    parameters: Mapping[str, Any],
    *,
    where: str,
    allowed_folders: Sequence[Path] | None = None,
    notebooks: Iterable[Path] | None = None,
) -> dict[str, Any]:
    """A validated copy of notebook parameter overrides, checked before any kernel starts.

    Refuses names no notebook declares, the names ``run_report`` sets itself, values of the wrong
    type (bool is not int; an int is accepted for a float and made one), and ``*_path`` values
    that do not exist or lie outside every ``allowed_folders`` (resolved, symlinks followed;
    None: anywhere). Paths come back absolute, since the kernels run in the output folder.
    """
    if not isinstance(parameters, Mapping):
        raise ParameterError(
            "the parameters are not a mapping",
            where=where,
            expected="name: value pairs, e.g. {replays: 200}",
            found=f"{type(parameters).__name__}: {str(parameters)[:80]!r}",
            fix="write the parameters as a mapping of names to values",
        )
    declared = notebook_parameters(notebooks)
    valid = [name for name in declared if name not in RESERVED_PARAMETERS]
    checked: dict[str, Any] = {}
    for name, value in parameters.items():
        if name in RESERVED_PARAMETERS:
            raise ParameterError(
                f"the parameter {name!r} cannot be set here",
                where=where,
                found=f"{name}: {value!r}",
                fix="remove it: the report sets case_path, output_dir, seed and reuse_audits "
                "itself (give the case with --case or a batch file's case:, the seed with --seed "
                "or seed:)",
            )
        if name not in declared:
            close = difflib.get_close_matches(str(name), valid, n=3, cutoff=0.6)
            hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
            raise ParameterError(
                f"no report notebook has a parameter named {name!r}",
                where=where,
                expected=f"one of {', '.join(valid)}",
                found=repr(name),
                fix=f"{hint}correct or remove the name",
            )
        checked[name] = _checked_value(name, value, declared[name], where, allowed_folders)
    return dict(sorted(checked.items()))


@functools.lru_cache(maxsize=64)
def _declared_cached(path: str, mtime_ns: int) -> tuple[tuple[str, str], ...]:
    import papermill

    inferred = papermill.inspect_notebook(path)
    return tuple((name, str(p.get("inferred_type_name") or "None")) for name, p in inferred.items())


def declared_parameters(notebook: Path) -> dict[str, str]:
    """The parameters one notebook declares: name -> papermill's inferred type name."""
    path = Path(notebook)
    return dict(_declared_cached(str(path.resolve()), path.stat().st_mtime_ns))


def _checked_value(
    name: str,
    value: Any,
    type_name: str,
    where: str,
    allowed_folders: Sequence[Path] | None,
) -> Any:
    accepted = _PYTHON_TYPES.get(type_name)
    if accepted is not None:
        wrong_bool = isinstance(value, bool) and type_name != "bool"
        if wrong_bool or not isinstance(value, accepted):
            raise ParameterError(
                f"the parameter {name!r} has the wrong type",
                where=where,
                expected=f"{_TYPE_WORDS.get(type_name, type_name)}",
                found=f"{type(value).__name__} {value!r}",
                fix=f"give {name} {_TYPE_EXAMPLES.get(type_name, 'a value of that type')}",
            )
        if type_name == "float":
            value = float(value)
    if name.endswith("_path") and isinstance(value, str) and value.strip():
        value = str(_checked_path(name, value, where, allowed_folders))
    return value


_TYPE_WORDS = {
    "str": "text (str)",
    "int": "a whole number (int)",
    "float": "a number (float)",
    "bool": "true or false (bool)",
}


_TYPE_EXAMPLES = {
    "str": 'text, e.g. "90D" (quote it in YAML when it looks like a number)',
    "int": "a whole number without quotes or a decimal point, e.g. 200",
    "float": "a number without quotes, e.g. 2000.0",
    "bool": "true or false without quotes",
}


def _checked_path(
    name: str, value: str, where: str, allowed_folders: Sequence[Path] | None
) -> Path:
    path = Path(value).expanduser().resolve()  # symlinks followed: a link cannot lead outside
    if allowed_folders is not None:
        folders = [Path(f).expanduser().resolve() for f in allowed_folders]
        if not any(path.is_relative_to(folder) for folder in folders):
            raise ParameterError(
                f"the parameter {name!r} points outside the allowed folders",
                where=where,
                expected="a file inside " + ", ".join(str(f) for f in folders),
                found=f"{value} (resolved: {path})",
                fix="move the file into an allowed folder, or add its folder to allowed_folders",
            )
    if not path.is_file():
        raise ParameterError(
            f"the file of parameter {name!r} does not exist",
            where=where,
            found=str(path),
            fix="check the path (a relative path is taken from the batch file's folder or the "
            "current folder)",
        )
    return path
