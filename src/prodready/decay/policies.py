"""How often to retrain? Retraining policies replayed on the same history, side by side.

Every policy starts from the same kind of model: a baseline (:mod:`prodready.models`) trained on
the ``train_window`` before the first grid point with the labels known by then, deployed for the
period ``[points[0], points[1])``. At each later grid point (every ``step``) the policy decides,
with what was known at that moment, whether to retrain; a new model is trained on the window
before that point (``sliding``: the last ``train_window``; ``expanding``: everything so far) with
the labels known by then (label delay honoured) and serves from that point on. Each period is then
judged with every label the data holds (hindsight): the metric, and the business value of the
decisions at the case's threshold (unlabelled decisions count 0).

Policies:

* ``never()``: the first model serves throughout.
* ``every(days, window)``: retrain every ``days`` days, rounded to whole steps.
* ``on_drift(metric, threshold)``: retrain when the largest drift over the features between the
  serving model's training rows and the last step's rows exceeds ``threshold``; ``metric`` is
  ``"psi"`` or ``"js_distance"`` (:mod:`prodready.stats.drift`: deciles of the training rows,
  natural log). Needs no label.
* ``on_performance(drop)``: retrain when the serving model's metric on the last ``LOOKBACK_STEPS``
  steps of its decisions whose labels have arrived is worse than its metric on its first step in
  service (measured once those labels arrived) by more than the share ``drop`` (for a metric where
  higher is better: below ``(1 - drop)`` times it; for an error: above ``(1 + drop)`` times it).

Cost: ``retrain_cost`` per retraining (the case's currency); ``net = value - cost``. The
recommended policy has the highest net value; without a business section, the best mean metric.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from prodready import metrics
from prodready.case import Case
from prodready.decay.bank import ModelBank, TrainingSet
from prodready.decay.history import LABEL, LABEL_KNOWN, Grid, History, grid, history
from prodready.decay.periods import (
    check_metric,
    enough,
    period_metric,
    period_value,
    short_label,
)
from prodready.errors import ParameterError
from prodready.results import Finding, format_money, most_severe_first, to_json
from prodready.stats.drift import CategoricalDrift, NumericDrift, compare_frames

LOOKBACK_STEPS = 4
DRIFT_METRICS = ("psi", "js_distance")
WINDOWS = ("sliding", "expanding")
DEFAULT_RETRAIN_COST = 2_000.0


@dataclass(frozen=True)
class Policy:
    """One retraining policy; build it with :func:`never`, :func:`every`, :func:`on_drift` or
    :func:`on_performance`."""

    kind: Literal["never", "every", "on_drift", "on_performance"]
    days: int | None = None
    window: Literal["sliding", "expanding"] = "sliding"
    drift_metric: str = "psi"
    threshold: float | None = None
    drop: float | None = None

    def __post_init__(self) -> None:
        if self.window not in WINDOWS:
            raise ParameterError(
                f"unknown training window {self.window!r}",
                where=f"policy {self.kind}",
                expected="'sliding' (the last train_window) or 'expanding' (all history so far)",
            )

    @property
    def name(self) -> str:
        suffix = "" if self.window == "sliding" else ", expanding"
        if self.kind == "never":
            return "never retrain"
        if self.kind == "every":
            return f"every {self.days} days{suffix}"
        if self.kind == "on_drift":
            return f"on drift ({self.drift_metric} > {self.threshold:g}{suffix})"
        return f"on performance (drop > {self.drop:.0%}{suffix})"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None} | {"name": self.name}


def never() -> Policy:
    return Policy("never")


def every(days: int, window: Literal["sliding", "expanding"] = "sliding") -> Policy:
    if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 1:
        raise ParameterError(
            "retrain every how many days: a whole number of at least 1",
            where="every(days)",
            found=repr(days),
            fix="e.g. every(30)",
        )
    return Policy("every", days=int(days), window=window)


def on_drift(
    metric: str = "psi",
    threshold: float = 0.25,
    window: Literal["sliding", "expanding"] = "sliding",
) -> Policy:
    if metric not in DRIFT_METRICS:
        raise ParameterError(
            f"unknown drift metric {metric!r}",
            where="on_drift(metric)",
            expected=", ".join(DRIFT_METRICS),
        )
    if not threshold > 0:
        raise ParameterError(
            "the drift threshold must be positive", where="on_drift(threshold)", found=threshold
        )
    return Policy("on_drift", drift_metric=metric, threshold=float(threshold), window=window)


def on_performance(
    drop: float = 0.05, window: Literal["sliding", "expanding"] = "sliding"
) -> Policy:
    if not 0 < drop < 1:
        raise ParameterError(
            "the drop is a share between 0 and 1 (0.05 = 5% worse)",
            where="on_performance(drop)",
            found=repr(drop),
        )
    return Policy("on_performance", drop=float(drop), window=window)


def default_policies() -> list[Policy]:
    """never; every 30 days (sliding and expanding); every 90 days; on drift (PSI > 0.25);
    on performance (5% drop)."""
    return [
        never(),
        every(30),
        every(30, "expanding"),
        every(90),
        on_drift("psi", 0.25),
        on_performance(0.05),
    ]


@dataclass(frozen=True)
class PolicyComparison:
    """Each policy replayed on the same history: ``to_frame()`` one row per policy,
    ``timeline`` the metric and value per period and policy, ``recommended`` with ``reason``."""

    metric: str
    table: pd.DataFrame
    timeline: pd.DataFrame
    recommended: str
    reason: str
    retrain_cost: float
    currency: str | None
    train_window_days: int
    step_days: int
    models_trained: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def with_retrain_cost(self, retrain_cost: float) -> PolicyComparison:
        """The same replay priced at another cost of one retraining. The cost changes only each
        policy's cost, its net value and so the recommendation, never a model: a cost control
        answers at once instead of replaying the history again."""
        _check_cost(retrain_cost)
        table = _priced(self.table.drop(columns=["cost", "net"]), retrain_cost)
        recommended, reason = _recommend(table, self.metric, self.currency)
        return replace(
            self,
            table=table,
            recommended=recommended,
            reason=reason,
            retrain_cost=float(retrain_cost),
        )

    def summary(self) -> list[Finding]:
        label = short_label(self.metric)
        table = self.table.set_index("policy")
        best = table.loc[self.recommended]
        base = table.loc[never().name] if never().name in table.index else None
        findings = [Finding("info", f"Recommended: {self.recommended}. {self.reason}")]
        if base is not None and self.recommended != never().name:
            gain = best["net"] - base["net"]
            if math.isfinite(gain):
                findings.append(
                    Finding(
                        "high" if gain > 0 else "info",
                        f"Against never retraining, it earns {format_money(gain, self.currency)}"
                        f" more over the history, net of {int(best['retrains'])} retrainings "
                        f"(mean {label} {best['mean_metric']:.3f} against "
                        f"{base['mean_metric']:.3f}).",
                        money=float(gain),
                        currency=self.currency,
                    )
                )
        findings.extend(Finding("low", note) for note in self.notes)
        return most_severe_first(findings)

    def to_dict(self) -> dict[str, Any]:
        return to_json(
            {
                "metric": self.metric,
                "recommended": self.recommended,
                "reason": self.reason,
                "retrain_cost": self.retrain_cost,
                "currency": self.currency,
                "train_window_days": self.train_window_days,
                "step_days": self.step_days,
                "models_trained": self.models_trained,
                "table": self.table.to_dict(orient="records"),
                "timeline": self.timeline.to_dict(orient="records"),
                "summary": [f.to_dict() for f in self.summary()],
                "notes": list(self.notes),
            }
        )


@dataclass
class _Run:
    """One policy's state while the history is replayed."""

    policy: Policy
    key: TrainingSet
    since: int  # grid index the serving model started at
    retrains: int = 0
    reference: float = math.nan  # on_performance: the model's metric in its first step


def _key(policy: Policy, g: Grid, k: int) -> TrainingSet:
    end = g.points[k]
    start = end - g.window if policy.window == "sliding" else None
    return TrainingSet(end=end, start=start, labels_by=end)


def compare_policies(
    case: Case,
    policies: list[Policy] | None = None,
    *,
    retrain_cost: float = DEFAULT_RETRAIN_COST,
    train_window: str = "90D",
    step: str = "7D",
    metric: str | None = None,
    model=None,
    seed: int = 0,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PolicyComparison:
    """Replay ``policies`` (default :func:`default_policies`) on the case's history (module
    docstring). ``progress(done, total)`` follows the grid's periods."""
    policies = default_policies() if policies is None else list(policies)
    if not policies or not all(isinstance(p, Policy) for p in policies):
        raise ParameterError(
            "policies must be a non-empty list of policies",
            where="compare_policies(policies)",
            fix="build them with never(), every(30), on_drift(...), on_performance(...)",
        )
    names = [p.name for p in policies]
    if len(set(names)) < len(names):
        raise ParameterError("two policies are the same", where="policies", found=names)
    _check_cost(retrain_cost)
    hist = history(case)
    metric = check_metric(metric, hist.task)
    g = grid(hist, train_window, step)
    threshold = case.business.threshold if case.business is not None else 0.5
    bounds = hist.position(g.points)
    bank = ModelBank(hist, model=model, seed=seed, jobs=jobs)
    notes = list(hist.notes)

    # the retrainings known in advance are fitted together, in parallel
    steps = g.step.days
    scheduled = set()
    for p in policies:
        scheduled.add(_key(p, g, 0))
        if p.kind == "every":
            cadence = max(1, round(p.days / steps))
            scheduled.update(_key(p, g, k) for k in range(cadence, g.periods, cadence))
    total = g.periods
    if progress is not None:
        progress(0, total)
    bank.fit(scheduled)

    runs = [_Run(p, _key(p, g, 0), 0) for p in policies]
    if bank.model_for(runs[0].key) is None:
        raise ParameterError(
            "the first training window cannot train a model",
            where="train_window",
            expected="labelled rows of both classes known by the end of the first window",
            fix="lengthen train_window (labels may arrive late)",
        )
    rows: list[dict[str, Any]] = []
    for k in range(g.periods):
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        if k > 0:
            wanted = [
                (run, _key(run.policy, g, k))
                for run in runs
                if _due(run, hist, g, k, bank, bounds, metric, threshold)
            ]
            bank.fit([key for _, key in wanted])
            for run, key in wanted:
                if bank.model_for(key) is None:
                    notes.append(
                        f"{run.policy.name}: the window before {g.points[k]:%Y-%m-%d} could not "
                        "train a model; the serving model stayed."
                    )
                    continue
                run.key, run.since, run.retrains = key, k, run.retrains + 1
                run.reference = math.nan
        for run in runs:
            score = bank.predict(run.key, lo, hi)
            rows.append(
                {
                    "period_start": g.points[k],
                    "period_end": g.points[k + 1],
                    "policy": run.policy.name,
                    "metric": period_metric(hist, score, lo, hi, metric, threshold),
                    "value": period_value(hist, score, lo, hi, case.business),
                    "model_trained_at": run.key.end,
                    "retrained": run.since == k and k > 0,
                }
            )
        if progress is not None:
            progress(k + 1, total)
    timeline = pd.DataFrame(rows)
    currency = case.business.currency if case.business is not None else None
    table = _priced(_table(timeline, runs), retrain_cost)
    recommended, reason = _recommend(table, metric, currency)
    return PolicyComparison(
        metric=metric,
        table=table,
        timeline=timeline,
        recommended=recommended,
        reason=reason,
        retrain_cost=float(retrain_cost),
        currency=currency,
        train_window_days=g.window.days,
        step_days=g.step.days,
        models_trained=bank.fitted,
        notes=tuple(dict.fromkeys(notes)),
    )


def _due(run: _Run, hist: History, g: Grid, k: int, bank: ModelBank, bounds, metric, threshold):
    """Whether ``run``'s policy retrains at grid point ``k``, with what is known at that point."""
    p = run.policy
    if p.kind == "never":
        return False
    if p.kind == "every":
        return (k - run.since) >= max(1, round(p.days / g.step.days))
    if p.kind == "on_drift":
        return _drift(hist, bank, run.key, int(bounds[k - 1]), int(bounds[k]), p) > p.threshold
    # on_performance: labels known by now, of the serving model's decisions
    now = g.points[k]
    if math.isnan(run.reference):
        run.reference = _known_metric(
            hist,
            bank,
            run.key,
            int(bounds[run.since]),
            int(bounds[run.since + 1]),
            now,
            metric,
            threshold,
        )
    if math.isnan(run.reference):
        return False
    start = int(bounds[max(run.since, k - LOOKBACK_STEPS)])
    recent = _known_metric(hist, bank, run.key, start, int(bounds[k]), now, metric, threshold)
    if math.isnan(recent):
        return False
    if metrics.HIGHER_IS_BETTER[metric]:
        return recent < run.reference * (1 - p.drop)
    return recent > run.reference * (1 + p.drop)


def _known_metric(hist, bank, key, lo, hi, now, metric, threshold) -> float:
    """The metric on rows ``lo:hi`` whose labels were known by ``now``."""
    known = (hist.frame[LABEL_KNOWN].iloc[lo:hi] <= now).to_numpy()
    truth = hist.frame[LABEL].to_numpy()[lo:hi][known]
    if not enough(hist.task, truth):
        return math.nan
    score = bank.predict(key, lo, hi)[known]
    return metrics.metric(metric, truth, score, threshold=threshold)


def _drift(hist: History, bank: ModelBank, key: TrainingSet, lo: int, hi: int, p: Policy):
    """The largest drift over the features between the model's training rows and rows lo:hi."""
    reference = bank.rows(key)
    current = hist.frame.iloc[lo:hi]
    if len(current) < 2:
        return 0.0
    numeric = [f.name for f in hist.features if f.type == "numeric"]
    categorical = [f.name for f in hist.features if f.type == "categorical"]
    results = compare_frames(
        reference, current, numeric=numeric, categorical=categorical, method="binned", workers=1
    )
    values = [
        getattr(r, p.drift_metric)
        for r in results.values()
        if isinstance(r, NumericDrift | CategoricalDrift)
    ]
    values = [v for v in values if math.isfinite(v)]
    return max(values, default=0.0)


def _check_cost(retrain_cost: float) -> None:
    if not retrain_cost >= 0:
        raise ParameterError("retrain_cost must be 0 or more", found=repr(retrain_cost))


def _table(timeline: pd.DataFrame, runs: list[_Run]) -> pd.DataFrame:
    grouped = timeline.groupby("policy", sort=False)
    table = pd.DataFrame(
        {
            "policy": [run.policy.name for run in runs],
            "retrains": [run.retrains for run in runs],
        }
    )
    table["mean_metric"] = table["policy"].map(grouped["metric"].mean())
    table["min_metric"] = table["policy"].map(grouped["metric"].min())
    table["value"] = table["policy"].map(grouped["value"].sum(min_count=1))
    return table


def _priced(table: pd.DataFrame, retrain_cost: float) -> pd.DataFrame:
    """``table`` with each policy's ``cost`` (retrainings x cost) and ``net`` (value - cost)."""
    table = table.copy()
    table["cost"] = table["retrains"] * float(retrain_cost)
    table["net"] = table["value"] - table["cost"]
    return table


def _recommend(table: pd.DataFrame, metric: str, currency: str | None) -> tuple[str, str]:
    """The best policy and why: the highest net value, or (a case without a business section,
    where every value is NaN) the best mean metric."""
    if table["net"].notna().any():
        ranked = table.sort_values(["net", "retrains"], ascending=[False, True])
        best, runner = ranked.iloc[0], ranked.iloc[1] if len(ranked) > 1 else None
        reason = (
            f"It has the highest value net of retraining cost: "
            f"{format_money(best['net'], currency)} ({int(best['retrains'])} retrainings)"
        )
        if runner is not None:
            reason += f", against {format_money(runner['net'], currency)} for {runner['policy']}"
        return str(best["policy"]), reason + "."
    higher = metrics.HIGHER_IS_BETTER[metric]
    ranked = table.sort_values(["mean_metric", "retrains"], ascending=[not higher, True])
    best = ranked.iloc[0]
    return str(best["policy"]), (
        f"The case has no business value, so policies are ranked by mean "
        f"{short_label(metric)}: {best['mean_metric']:.3f} with "
        f"{int(best['retrains'])} retrainings."
    )
