"""What the sample generators share: the known-problem record and its table."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class KnownProblem:
    """One problem in a sample: where (feature), when (start inclusive, end exclusive)."""

    problem: str
    feature: str | None
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    description: str


def problems_frame(problems: list[KnownProblem]) -> pd.DataFrame:
    """The problems as a frame: problem, feature, start, end (UTC, end exclusive), description."""
    frame = pd.DataFrame(
        {
            "problem": pd.array([p.problem for p in problems], dtype="str"),
            "feature": pd.array([p.feature for p in problems], dtype="str"),
            "start": pd.to_datetime([p.start for p in problems], utc=True),
            "end": pd.to_datetime([p.end for p in problems], utc=True),
            "description": pd.array([p.description for p in problems], dtype="str"),
        }
    )
    frame["start"] = frame["start"].astype("datetime64[us, UTC]")
    frame["end"] = frame["end"].astype("datetime64[us, UTC]")
    return frame
