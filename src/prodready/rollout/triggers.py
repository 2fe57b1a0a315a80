"""Rollback and hold rules, checked once a day on what is known that day.

Kinds (each may be restricted to a segment ``(column, value)`` of the serving log):

* ``"business_value"``: fires when the challenger's business value per 1,000 decisions is worse
  than the champion's by more than ``margin`` (money per 1,000 decisions), with confidence
  ``1 - alpha``: the upper end of the anytime-valid confidence sequence of
  ``challenger - champion`` (see :mod:`prodready.rollout.sequential`) is below ``-margin``.
  Uses labelled decisions only, once their label has arrived.
* ``"metric_floor"``: fires when the challenger's ``metric`` (``"precision"`` at the case's
  threshold: fraud among flagged; or ``"recall"``) is below ``floor`` with confidence
  ``1 - alpha`` (upper end of its confidence sequence below the floor). Labelled only.
* ``"score_psi"``: fires when the PSI of the challenger's scores over the last 7 days against a
  reference is above ``limit``. ``reference="champion"``: the champion's scores on the same
  days (a retrained model is often calibrated differently, so this fires on most of them);
  ``reference="shadow"``: the challenger's own scores during the shadow stages, checked once it
  serves (it catches a challenger whose inputs change when it goes live). Bins: the deciles of
  the reference's scores (as :func:`prodready.stats.drift.numeric_drift`), natural log,
  1e-4 smoothing; both sides need at least 100 scores. Label-free: against the champion it
  can fire on day 1; the 7-day window lets a break after weeks of healthy scores show at once.

* ``"flag_rate"``: fires when the challenger's flag rate (share of its decisions at or above the
  case's threshold, every decision, labelled or not) is above ``ceiling`` or below ``floor``
  (shares in [0, 1]) with confidence ``1 - alpha``, cumulative from the plan's first day.
  Label-free, so it can act long before labels arrive: a ceiling inside a segment is the
  business guardrail "decline no more than this share of international payments"; a floor
  catches a model that silently stops acting (a pipeline feeding zeros). The band uses the
  variance at the boundary, ``b * (1 - b)``, as the precision floor does, so a flag rate of
  exactly 0 still gives a finite band.

``action`` is ``"rollback"`` (stop, serve the champion only from the next day) or ``"hold"``
(do not advance to the next stage while the rule fires).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from prodready.case import Case
from prodready.errors import ParameterError

KINDS = ("business_value", "metric_floor", "score_psi", "flag_rate")
ACTIONS = ("rollback", "hold")
METRICS = ("precision", "recall")
REFERENCES = ("champion", "shadow")


@dataclass(frozen=True)
class Trigger:
    """One rule; see the module docstring for each kind's definition."""

    kind: Literal["business_value", "metric_floor", "score_psi", "flag_rate"]
    action: Literal["rollback", "hold"] = "rollback"
    margin: float = 0.0
    metric: str = "precision"
    floor: float | None = None
    limit: float = 0.25
    segment: tuple[str, Any] | None = None
    alpha: float = 0.05
    reference: Literal["champion", "shadow"] = "champion"  # score_psi: compared with what
    ceiling: float | None = None  # flag_rate: the highest acceptable share of flagged decisions

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ParameterError(
                f"unknown trigger kind {self.kind!r}",
                where="rollout trigger",
                expected=", ".join(KINDS),
                fix="pick one of the kinds listed",
            )
        if self.action not in ACTIONS:
            raise ParameterError(
                f"unknown trigger action {self.action!r}",
                where=f"rollout trigger {self.kind}",
                expected="'rollback' or 'hold'",
            )
        if not 0 < self.alpha < 1:
            raise ParameterError(
                "alpha must be between 0 and 1",
                where=f"trigger {self.name}",
                found=repr(self.alpha),
            )
        if self.kind == "metric_floor":
            if self.metric not in METRICS:
                raise ParameterError(
                    f"unknown metric {self.metric!r} for a metric floor",
                    where=f"trigger {self.name}",
                    expected=", ".join(METRICS),
                )
            if self.floor is None or not 0 <= self.floor <= 1:
                raise ParameterError(
                    "a metric floor needs floor between 0 and 1",
                    where=f"trigger {self.name}",
                    found=repr(self.floor),
                    fix="e.g. Trigger('metric_floor', metric='precision', floor=0.02)",
                )
        if self.kind == "flag_rate":
            bounds = {"floor": self.floor, "ceiling": self.ceiling}
            if all(b is None for b in bounds.values()):
                raise ParameterError(
                    "a flag-rate rule needs a floor, a ceiling or both",
                    where=f"trigger {self.kind}",
                    fix="e.g. Trigger('flag_rate', ceiling=0.25, segment=('region', "
                    "'international'))",
                )
            for label, b in bounds.items():
                if b is not None and not 0 < b < 1:
                    raise ParameterError(
                        f"a flag-rate {label} is a share of decisions strictly between 0 and 1",
                        where=f"trigger {self.name}",
                        found=repr(b),
                        fix="e.g. 0.25 for a quarter of the decisions",
                    )
            if self.floor is not None and self.ceiling is not None and self.floor >= self.ceiling:
                raise ParameterError(
                    "the flag-rate floor must be below its ceiling",
                    where=f"trigger {self.name}",
                    found=f"floor {self.floor}, ceiling {self.ceiling}",
                )
        if self.kind == "score_psi" and self.reference not in REFERENCES:
            raise ParameterError(
                f"unknown PSI reference {self.reference!r}",
                where=f"trigger {self.kind}",
                expected="'champion' (the champion's scores on the same days) or 'shadow' (the "
                "challenger's own scores during shadow mode)",
            )
        if self.kind == "score_psi" and not self.limit > 0:
            raise ParameterError(
                "the PSI limit must be positive",
                where=f"trigger {self.name}",
                found=repr(self.limit),
            )
        if self.kind == "business_value" and self.margin < 0:
            raise ParameterError(
                "the margin must be zero or positive (money per 1,000 decisions)",
                where=f"trigger {self.name}",
                found=repr(self.margin),
            )
        if self.segment is not None:
            if not (isinstance(self.segment, tuple | list) and len(self.segment) == 2):
                raise ParameterError(
                    "a segment is a (column, value) pair",
                    where=f"trigger {self.kind}",
                    found=repr(self.segment),
                    fix="e.g. segment=('region', 'international')",
                )
            object.__setattr__(self, "segment", (str(self.segment[0]), self.segment[1]))

    @property
    def name(self) -> str:
        if self.kind == "business_value":
            base = f"value per 1,000 worse by > {self.margin:g}"
        elif self.kind == "metric_floor":
            base = (
                f"{self.metric} < {self.floor if self.floor is None else format(self.floor, '.3g')}"
            )
        elif self.kind == "flag_rate":
            parts = []
            if self.floor is not None:
                parts.append(f"flag rate < {self.floor:.3g}")
            if self.ceiling is not None:
                parts.append(f"flag rate > {self.ceiling:.3g}")
            base = " or ".join(parts)
        else:
            base = f"score PSI > {self.limit:g}"
            if self.reference == "shadow":
                base += " vs shadow"
        if self.segment is not None:
            base += f" [{self.segment[0]} == {self.segment[1]}]"
        return base

    def to_dict(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "kind": self.kind,
            "action": self.action,
            "alpha": self.alpha,
            "segment": list(self.segment) if self.segment else None,
        }
        if self.kind == "business_value":
            out["margin"] = self.margin
        elif self.kind == "metric_floor":
            out.update(metric=self.metric, floor=self.floor)
        elif self.kind == "flag_rate":
            out.update(floor=self.floor, ceiling=self.ceiling)
        else:
            out.update(limit=self.limit, reference=self.reference)
        return out


def default_triggers(case: Case) -> list[Trigger]:
    """The default set, all ``rollback`` at 95% confidence:

    1. business value: the challenger worse than the champion by any amount (margin 0);
    2. precision at the case's threshold below half the champion's precision on the case's
       labelled serving log (what the team knew of its current model), skipped when the
       champion flags no labelled event;
    3. score shift: PSI of the challenger's recent scores against its own shadow-mode scores
       above 0.25 (a significant shift), checked once it serves. Against the champion it would
       fire on most retrained models, which are calibrated differently (PSI 1.45 on the sample);
    4. a model that stops acting: the challenger's flag rate below a quarter of the champion's on
       the whole serving log, skipped when the champion flags nothing. Label-free, so it acts
       within days, where the value rule would wait for labels (and, on a log where doing
       nothing is worth more than the champion's decisions, would never object).

    A regression case (a prediction of a number acts on nothing) gets rules 1 and 3: value is
    minus the cost of each prediction's absolute error.
    """
    triggers = [Trigger("business_value", margin=0.0)]
    if case.task != "binary":  # a regression case: value (money lost to errors) and score shift
        return [*triggers, Trigger("score_psi", limit=0.25, reference="shadow")]
    labelled = case.labelled_serving
    if case.business is not None and len(labelled):
        flagged = labelled[case.columns.prediction].to_numpy(float) >= case.business.threshold
        truth = labelled[case.columns.label].to_numpy(float)
        if flagged.any():
            precision = float(np.mean(truth[flagged] == 1))
            if precision > 0:
                triggers.append(Trigger("metric_floor", metric="precision", floor=precision / 2))
    triggers.append(Trigger("score_psi", limit=0.25, reference="shadow"))
    if case.business is not None:
        scores = case.serving[case.columns.prediction].to_numpy(float)
        rate = float(np.mean(scores >= case.business.threshold))
        if 0 < rate < 1:
            triggers.append(Trigger("flag_rate", floor=float(f"{rate / 4:.3g}")))
    return triggers
