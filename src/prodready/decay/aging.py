"""How fast does a model go stale? Its metric against its age, over many training origins.

Method (rolling origin, after Vela et al., "Temporal quality degradation in AI models",
Scientific Reports 12, 2022, who plot error against model age): at every point ``o`` of a grid
``step`` apart, a model is trained on the ``train_window`` before ``o`` (every label the data
holds for those rows: hindsight) and evaluated on every later period ``[o + a, o + a + step)``;
``a`` is the model's age in days at the start of the period. Across origins, each age gets the
median and the 10/25/75/90% quantiles of the metric (ages seen by fewer than ``MIN_ORIGINS``
origins are left out).

Half-life: the age at which the median curve has lost ``lost_share`` of its starting value. For a
metric where higher is better the value counted is the part above chance (ROC AUC: above 0.5,
other metrics: above 0), so ``loss(a) = (m(0) - m(a)) / (m(0) - chance)``; for an error metric
(lower is better) it is the error's relative growth, ``loss(a) = m(a) / m(0) - 1``. The age is
interpolated linearly between the two grid ages around the crossing; None when the curve never
gets there. Its 95% interval: percentile bootstrap over origins (``BOOTSTRAP`` resamples with
replacement, each giving a median curve and its crossing); written by hand because the statistic
may not exist in a resample (no crossing), which scipy.stats.bootstrap cannot express. The upper
end is None when more than 2.5% of the resamples never cross.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prodready import metrics
from prodready.case import Case
from prodready.decay.bank import ModelBank, TrainingSet
from prodready.decay.history import grid, history
from prodready.decay.periods import CHANCE, check_metric, period_metric, short_label
from prodready.errors import ParameterError
from prodready.results import Finding, most_severe_first, to_json

MIN_ORIGINS = 3
BOOTSTRAP = 1000
QUANTILES = {"q10": 0.10, "q25": 0.25, "q75": 0.75, "q90": 0.90}


@dataclass(frozen=True)
class AgingCurve:
    """The metric by model age: ``curve`` (one row per age), ``by_origin`` (every model and
    period), the half-life and its interval, and how the models were trained."""

    metric: str
    curve: pd.DataFrame
    by_origin: pd.DataFrame
    half_life_days: float | None
    half_life_low: float | None
    half_life_high: float | None
    lost_share: float
    train_window_days: int
    step_days: int
    models_trained: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        return self.curve

    @property
    def higher_is_better(self) -> bool:
        return metrics.HIGHER_IS_BETTER[self.metric]

    def age_to_lose(self, share: float) -> float | None:
        """The age (days) at which the median curve has lost ``share`` (module docstring)."""
        return _crossing(
            self.curve["model_age_days"].to_numpy(float),
            self.curve["median"].to_numpy(float),
            share,
            self.metric,
        )

    def summary(self) -> list[Finding]:
        label = short_label(self.metric)
        lose = (
            f"lose {self.lost_share:.0%} of their {label}"
            if self.higher_is_better
            else f"see their {label} grow by {self.lost_share:.0%}"
        )
        curve = self.curve
        start, end = curve["median"].iloc[0], curve["median"].iloc[-1]
        oldest = int(curve["model_age_days"].iloc[-1])
        findings = []
        if self.half_life_days is None:
            findings.append(
                Finding(
                    "info",
                    f"Models trained on {self.train_window_days} days do not {lose} within the "
                    f"{oldest} days observed "
                    f"(median {start:.3f} when new, {end:.3f} at {oldest} days).",
                )
            )
        else:
            low = "?" if self.half_life_low is None else f"{self.half_life_low:.0f}"
            high = "more" if self.half_life_high is None else f"{self.half_life_high:.0f}"
            severity = "high" if self.half_life_days <= 60 else "medium"
            findings.append(
                Finding(
                    severity,
                    f"Models trained on {self.train_window_days} days {lose} after "
                    f"{self.half_life_days:.0f} days (95% interval "
                    f"{low} to {high} days; median {start:.3f} when new, {end:.3f} at "
                    f"{oldest} days): retrain well before that.",
                )
            )
        spread = curve["q90"] - curve["q10"]
        worst = curve.loc[spread.idxmax()]
        findings.append(
            Finding(
                "info",
                f"How much depends on when a model was trained: at {worst['model_age_days']:.0f} "
                f"days of age the 10%-90% range across the {int(worst['n_origins'])} origins is "
                f"{worst['q10']:.3f} to {worst['q90']:.3f}.",
            )
        )
        findings.extend(Finding("low", note) for note in self.notes)
        return most_severe_first(findings)

    def to_dict(self) -> dict[str, Any]:
        return to_json(
            {
                "metric": self.metric,
                "half_life_days": self.half_life_days,
                "half_life_low": self.half_life_low,
                "half_life_high": self.half_life_high,
                "lost_share": self.lost_share,
                "train_window_days": self.train_window_days,
                "step_days": self.step_days,
                "models_trained": self.models_trained,
                "curve": self.curve.to_dict(orient="records"),
                "by_origin": self.by_origin.to_dict(orient="records"),
                "summary": [f.to_dict() for f in self.summary()],
                "notes": list(self.notes),
            }
        )


def _loss(values: np.ndarray, start: np.ndarray, metric: str) -> np.ndarray:
    """Share lost relative to ``start`` (module docstring), element-wise."""
    if metrics.HIGHER_IS_BETTER[metric]:
        chance = CHANCE.get(metric, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (start - values) / (start - chance)
    with np.errstate(divide="ignore", invalid="ignore"):
        return values / start - 1


def _crossing(ages: np.ndarray, median: np.ndarray, share: float, metric: str) -> float | None:
    """First age where the loss of ``median`` reaches ``share``, linearly interpolated."""
    if ages.size < 2 or not np.isfinite(median[0]):
        return None
    loss = _loss(median, median[0], metric)
    hit = np.flatnonzero(loss >= share)
    if hit.size == 0:
        return None
    i = int(hit[0])
    if i == 0:
        return float(ages[0])
    a0, a1, l0, l1 = ages[i - 1], ages[i], loss[i - 1], loss[i]
    return float(a0 + (share - l0) / (l1 - l0) * (a1 - a0))


def aging_curve(
    case: Case,
    *,
    model=None,
    train_window: str = "90D",
    step: str = "7D",
    horizon: str | None = None,
    metric: str | None = None,
    seed: int = 0,
    lost_share: float = 0.5,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AgingCurve:
    """The aging curve of ``case`` (module docstring). ``model`` is a function like
    :func:`prodready.models.fit` (default: that baseline); ``horizon`` caps the ages (e.g.
    ``"180D"``; default: as far as labels go); ``metric`` defaults to ROC AUC (binary) or MAE
    (regression). ``progress(done, total)`` is called as models are fitted."""
    if not 0 < lost_share < 1:
        raise ParameterError(
            "lost_share must be between 0 and 1", where="lost_share", found=repr(lost_share)
        )
    hist = history(case)
    metric = check_metric(metric, hist.task)
    g = grid(hist, train_window, step)
    max_age = pd.Timedelta.max if horizon is None else pd.Timedelta(_horizon_days(horizon), "D")
    threshold = case.business.threshold if case.business is not None else 0.5
    bounds = hist.position(g.points)
    keys = [TrainingSet(end=p, start=p - g.window) for p in g.points[:-1]]
    bank = ModelBank(hist, model=model, seed=seed, jobs=jobs)
    if progress is not None:
        progress(0, len(keys))
    bank.fit(
        keys,
        progress=None if progress is None else lambda n: progress(n, len(keys)),
        score_until=int(bounds[-1]),
    )

    records = []
    for k, key in enumerate(keys):
        if bank.model_for(key) is None:
            continue
        for j in range(k, g.periods):
            age = g.points[j] - g.points[k]
            if age > max_age:
                break
            lo, hi = bounds[j], bounds[j + 1]
            value = period_metric(hist, bank.predict(key, lo, hi), lo, hi, metric, threshold)
            records.append(
                {
                    "origin": g.points[k],
                    "period_start": g.points[j],
                    "model_age_days": age.days,
                    "value": value,
                }
            )
    by_origin = pd.DataFrame(
        records, columns=["origin", "period_start", "model_age_days", "value"]
    ).astype({"value": "float64"})
    notes = list(hist.notes)
    skipped = len(keys) - bank.fitted
    if skipped:
        notes.append(
            f"{skipped} of {len(keys)} training windows could not train a model (too few "
            "labelled rows or a single class) and were left out."
        )
    table = by_origin.pivot_table(
        index="origin", columns="model_age_days", values="value", dropna=False, aggfunc="first"
    )
    counts = table.notna().sum(axis=0)
    table = table.loc[:, counts >= MIN_ORIGINS]
    if table.shape[1] < 2:
        measured = by_origin["value"].notna().mean() if len(by_origin) else 0.0
        if measured < 0.5:  # most periods could not be measured: they hold too few labels
            raise ParameterError(
                "too few periods hold labels enough to measure the metric by model age",
                where="step",
                expected="periods with at least 10 positives and 10 negatives (binary) or 30 "
                "labelled rows (regression)",
                found=f"{measured:.0%} of the periods measurable with step {g.step.days} days",
                fix=f"use a longer step, e.g. {4 * g.step.days}D, so each period holds more "
                "labelled rows",
            )
        raise ParameterError(
            "too few training origins to draw an aging curve",
            where="train_window / step",
            expected=f"at least {MIN_ORIGINS} origins measured at two ages or more",
            fix="shorten step or train_window, or add history",
        )
    values = table.to_numpy(float)
    ages = table.columns.to_numpy(float)
    curve = pd.DataFrame(
        {
            "model_age_days": ages.astype(int),
            "metric": metric,
            "median": np.nanmedian(values, axis=0),
            **{name: np.nanquantile(values, q, axis=0) for name, q in QUANTILES.items()},
            "n_origins": np.sum(~np.isnan(values), axis=0),
        }
    )
    half = _crossing(ages, curve["median"].to_numpy(), lost_share, metric)
    low, high = (
        _interval(values, ages, lost_share, metric, seed)
        if half is not None
        else (
            None,
            None,
        )
    )
    return AgingCurve(
        metric=metric,
        curve=curve,
        by_origin=by_origin,
        half_life_days=half,
        half_life_low=low,
        half_life_high=high,
        lost_share=lost_share,
        train_window_days=g.window.days,
        step_days=g.step.days,
        models_trained=bank.fitted,
        notes=tuple(notes),
    )


def _interval(
    values: np.ndarray, ages: np.ndarray, share: float, metric: str, seed: int
) -> tuple[float | None, float | None]:
    """Percentile bootstrap over origins of the crossing age (module docstring)."""
    rng = np.random.default_rng(seed)
    n = values.shape[0]
    picks = rng.integers(0, n, size=(BOOTSTRAP, n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an age no resampled origin saw
        medians = np.nanmedian(values[picks], axis=1)
    found = np.array([_crossing(ages, m, share, metric) or np.inf for m in medians])
    if np.isinf(found).all():
        return None, None
    # "never" counts as an infinite age; "lower"/"higher" avoid interpolating with infinity
    low = float(np.percentile(found, 2.5, method="lower"))
    high = float(np.percentile(found, 97.5, method="higher"))
    return (None if np.isinf(low) else low), (None if np.isinf(high) else high)


def _horizon_days(value: str) -> int:
    from prodready.decay.history import _days

    return int(_days(value, "horizon"))
