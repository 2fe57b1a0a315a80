"""A segment guardrail suggested from the team's own history: where does the challenger lose?

A challenger that is better overall can be worse for one group of customers. The labelled serving
log shows where: :func:`suggest_guardrail` compares the two models' ROC AUC (scikit-learn) inside
every segment of every low-cardinality column and picks the segment where the challenger loses
most. Labels usually arrive weeks after the decision, too late for a value rule inside a small
segment to act during a plan of a few weeks, so the suggested rule is label-free: a ceiling on the
challenger's flag rate there (the share of the segment's decisions it would act on), at
``CEILING_FACTOR`` times the champion's flag rate in the segment on the serving log. A team reads
it as "in this segment, the new model may act on at most half as many decisions again as today's".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from prodready.case import Case
from prodready.rollout.replay_log import challenger_scores
from prodready.rollout.triggers import Trigger

CEILING_FACTOR = 1.5  # the challenger may flag at most 1.5x the champion's share in the segment
MIN_LOSS = 0.02  # ROC AUC the challenger must lose in a segment before a guardrail is suggested
MAX_VALUES = 20  # columns with more distinct values are not segments
MIN_EACH_CLASS = 10  # labelled positives and negatives a segment needs for its ROC AUC


@dataclass(frozen=True)
class Guardrail:
    """A suggested segment rule, with the evidence behind it."""

    trigger: Trigger
    why: str
    champion_auc: float
    challenger_auc: float
    labelled: int


def _segment_columns(case: Case) -> list[str]:
    cols = case.columns
    reserved = {
        cols.id,
        cols.timestamp,
        cols.label,
        cols.prediction,
        cols.challenger,
        cols.label_time,
    }
    out = []
    for name in case.serving.columns:
        series = case.serving[name]
        if name in reserved or pd.api.types.is_float_dtype(series.dtype):
            continue
        if 2 <= series.nunique(dropna=True) <= MAX_VALUES:
            out.append(str(name))
    return out


def suggest_guardrail(case: Case, challenger=None) -> Guardrail | None:
    """The segment (column == value) where the challenger's ROC AUC on the labelled serving log
    falls furthest below the champion's (by at least ``MIN_LOSS``), as a flag-rate ceiling rule;
    None when the case has no binary labels, no business threshold, or no such segment.
    ``challenger`` as in :func:`prodready.rollout.simulate`."""
    if case.task != "binary" or case.business is None:
        return None
    cols, serving = case.columns, case.serving
    scores1, _ = challenger_scores(case, challenger)
    truth = serving[cols.label].astype("Float64").to_numpy(float, na_value=np.nan)
    labelled = ~np.isnan(truth)
    scores0 = serving[cols.prediction].to_numpy(float)
    flags0 = scores0 >= case.business.threshold
    best: tuple[float, str, object, float, float, int] | None = None
    for column in _segment_columns(case):
        values = serving[column]
        for value in values.dropna().unique():
            inside = (values == value).fillna(False).to_numpy(bool)
            rows = inside & labelled
            positives = int((truth[rows] == 1).sum())
            if min(positives, int(rows.sum()) - positives) < MIN_EACH_CLASS:
                continue
            auc0 = float(roc_auc_score(truth[rows], scores0[rows]))
            auc1 = float(roc_auc_score(truth[rows], scores1[rows]))
            loss = auc0 - auc1
            if loss >= MIN_LOSS and (best is None or loss > best[0]):
                best = (loss, column, value, auc0, auc1, int(rows.sum()))
    if best is None:
        return None
    _, column, value, auc0, auc1, n = best
    inside = (serving[column] == value).fillna(False).to_numpy(bool)
    rate0 = float(flags0[inside].mean())
    ceiling = float(f"{min(CEILING_FACTOR * rate0, 0.99):.3g}")
    if not 0 < ceiling < 1:
        return None
    value = value.item() if isinstance(value, np.generic) else value
    trigger = Trigger("flag_rate", ceiling=ceiling, segment=(column, value))
    why = (
        f"On the labelled serving log the challenger ranks {column} = {value} worse than the "
        f"champion (ROC AUC {auc1:.2f} against {auc0:.2f}, {n:,} labelled events). Labels come "
        f"too late for a value rule in so small a segment to act within the plan, so the "
        f"guardrail watches, without labels, the share of its decisions the challenger flags "
        f"there: at most {CEILING_FACTOR:g} times the champion's {rate0:.1%}, i.e. {ceiling:.1%}."
    )
    return Guardrail(trigger, why, auc0, auc1, n)
