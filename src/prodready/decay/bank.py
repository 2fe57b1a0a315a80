"""Models trained on windows of the history, fitted once and shared.

The aging curve and every retraining policy ask for "a model trained on this window, with the
labels known by then". Many ask for the same one (a policy retraining every week and the aging
curve's origins; two policies that retrain on the same day), so :class:`ModelBank` keys each model
by its training set and fits each key once. Missing keys are fitted in parallel in ``jobs``
joblib worker processes (loky): each booster uses one OpenMP thread (:mod:`prodready.models`), so
``jobs`` processes use ``jobs`` cores without oversubscribing them. Threads would share the GIL
for the booster's Python loop over its iterations and run little faster than one core. Each
worker receives only its window's rows and the rows it scores. By default two workers, or fewer
where fewer cores are usable; with one, models are fitted in the calling process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, cpu_count, delayed

from prodready import models
from prodready.decay.history import LABEL, LABEL_KNOWN, History
from prodready.errors import ProdreadyError

MIN_TRAINING_ROWS = 50  # labelled rows a window needs before a model is fitted on it
DEFAULT_JOBS = 2


def default_jobs() -> int:
    """Worker processes when the caller names none: :data:`DEFAULT_JOBS`, capped at the cores
    this process may use (joblib's ``cpu_count`` honours cgroup quotas, CPU affinity and the
    ``LOKY_MAX_CPU_COUNT`` environment variable), since more workers than cores only add each
    worker's start-up (importing pandas and scikit-learn: about 4 CPU-seconds)."""
    return max(1, min(DEFAULT_JOBS, cpu_count()))


@dataclass(frozen=True)
class TrainingSet:
    """Rows with ``start <= timestamp < end`` (``start`` None = from the first row) whose label is
    known by ``labels_by`` (None = every label the data holds: hindsight)."""

    end: pd.Timestamp
    start: pd.Timestamp | None = None
    labels_by: pd.Timestamp | None = None


Fit = Callable[..., Any]  # (training frame, features, label, *, seed, task) -> .predict_score


class ModelBank:
    """Fits models by :class:`TrainingSet` once, and scores the history with each once."""

    def __init__(
        self, hist: History, *, model: Fit | None = None, seed: int = 0, jobs: int | None = None
    ):
        self.hist = hist
        self.model = model or models.fit
        self.seed = seed
        self.jobs = default_jobs() if jobs is None else max(1, int(jobs))
        self._models: dict[TrainingSet, Any] = {}
        self._scores: dict[TrainingSet, dict[tuple[int, int], np.ndarray]] = {}
        self.fitted = 0  # models fitted so far (reuse does not count)

    def rows(self, key: TrainingSet) -> pd.DataFrame:
        frame = self.hist.frame
        lo = 0 if key.start is None else int(self.hist.position(key.start)[0])
        hi = int(self.hist.position(key.end)[0])
        part = frame.iloc[lo:hi]
        if key.labels_by is None:
            return part[part[LABEL].notna()]
        return part[part[LABEL_KNOWN] <= key.labels_by]

    def _job(self, key: TrainingSet, until: int) -> tuple | None:
        """The arguments of :func:`_train_and_score` for ``key``, or None when the window
        cannot train a model (too few labelled rows, a single class)."""
        part = self.rows(key)
        if len(part) < MIN_TRAINING_ROWS:
            return None
        if self.hist.task == "binary" and part[LABEL].nunique() < 2:
            return None
        later = self.hist.frame.iloc[int(self.hist.position(key.end)[0]) : until]
        return (self.model, part, list(self.hist.features), self.hist.task, self.seed, later)

    def fit(
        self,
        keys: Iterable[TrainingSet],
        progress: Callable[[int], None] | None = None,
        *,
        score_until: int = 0,
    ):
        """Fit every key not fitted yet, ``jobs`` at a time; the workers also score the rows
        from each window's end up to row ``score_until`` (none by default). ``progress(n)``
        after each batch with the number of keys done so far in this call."""
        missing = [k for k in dict.fromkeys(keys) if k not in self._models]
        done = 0
        batch = max(self.jobs * 2, 1)
        for i in range(0, len(missing), batch):
            chunk = missing[i : i + batch]
            jobs = [self._job(k, score_until) for k in chunk]
            fitted = Parallel(n_jobs=min(self.jobs, len(chunk)))(
                delayed(_train_and_score)(*job) for job in jobs if job is not None
            )
            results = iter(fitted)
            for key, job in zip(chunk, jobs, strict=True):
                model, later = (None, None) if job is None else next(results)
                self._models[key] = model
                if model is not None:
                    start = int(self.hist.position(key.end)[0])
                    self._scores[key] = {(start, start + len(later)): later}
                self.fitted += model is not None
            done += len(chunk)
            if progress is not None:
                progress(done)

    def model_for(self, key: TrainingSet) -> Any:
        """The fitted model (fitting it now if needed), or None when the window cannot train
        one (too few labelled rows, one class)."""
        if key not in self._models:
            self.fit([key])
        return self._models[key]

    def predict(self, key: TrainingSet, lo: int, hi: int) -> np.ndarray | None:
        """The model's scores for history rows ``lo:hi`` (from what the workers scored, or now),
        or None when the window cannot train a model."""
        model = self.model_for(key)
        if model is None:
            return None
        cache = self._scores.setdefault(key, {})
        for (start, end), values in cache.items():
            if start <= lo and hi <= end:
                return values[lo - start : hi - start]
        values = model.predict_score(self.hist.frame.iloc[lo:hi]) if hi > lo else np.empty(0)
        cache[(lo, hi)] = values
        return values


def _train_and_score(fit: Fit, part, features, task, seed, later) -> tuple[Any, np.ndarray | None]:
    """Fit on ``part`` and score the rows ``later`` (run in a worker process): (model, scores),
    or (None, None) when the data cannot train one."""
    try:
        model = fit(part, features, LABEL, seed=seed, task=task)
    except ProdreadyError:
        return None, None
    return model, model.predict_score(later) if len(later) else np.empty(0)
