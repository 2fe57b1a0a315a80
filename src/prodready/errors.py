"""The one exception family of prodready.

Every message is written for the person who must fix the input: it names where the problem is
(file, column, row or line), what was expected, what was found, and what to do. The app shows
``str(error)`` as it is; the CLI prints it without a traceback.
"""

from __future__ import annotations


class ProdreadyError(Exception):
    """Base of every error prodready raises on purpose."""

    def __init__(
        self,
        problem: str,
        *,
        where: str | None = None,
        expected: str | None = None,
        found: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.where = where
        self.expected = expected
        self.found = found
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        head = f"{self.where}: {self.problem}" if self.where else self.problem
        lines = [head]
        if self.expected:
            lines.append(f"Expected: {self.expected}.")
        if self.found:
            lines.append(f"Found: {self.found}.")
        if self.fix:
            lines.append(f"How to fix: {self.fix}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, str | None]:
        """JSON-safe form, for the CLI's --json output and reports."""
        return {
            "error": type(self).__name__,
            "where": self.where,
            "problem": self.problem,
            "expected": self.expected,
            "found": self.found,
            "fix": self.fix,
        }


class CaseFileError(ProdreadyError):
    """The case description (YAML file or the app's mapping form) is wrong."""


class DataError(ProdreadyError):
    """A data file cannot be read, or its contents break the case contract."""


class ParameterError(ProdreadyError):
    """A function or command was called with an argument it cannot use."""


class StoreError(ProdreadyError):
    """The assessment store (database) cannot be opened, read or written as asked."""


def first_line(err: BaseException, limit: int | None = 300) -> str:
    """The first line of another library's error (DuckDB's, Arrow's and Spark's run long), cut
    to ``limit`` characters, for the ``found`` of our own message; the error's type when it has
    no text."""
    text = str(err).strip()
    line = text.splitlines()[0] if text else type(err).__name__
    return line if limit is None else line[:limit]
