"""One-click challengers to replay a plan with: the case's own, a broken one, an identical one,
and a baseline retrained by prodready (for a case without a challenger of its own).

They answer "would our plan and triggers do the right thing?" on the team's own log: an identical
challenger (A/A) must be promoted; a challenger whose feature pipeline breaks when it starts
serving must be rolled back during the canary, before it reaches much traffic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from prodready.case import Case
from prodready.errors import ParameterError
from prodready.rollout.plan import Plan

SCENARIOS: dict[str, str] = {
    "sample challenger": "the case's challenger column, as logged",
    "broken challenger": "the champion's scores until the challenger first serves traffic, then "
    "scores pushed up as when a feature pipeline breaks and feeds a risky default",
    "identical challenger (A/A)": "the champion's own scores: any rollback is a false alarm",
    "retrained baseline": "prodready's baseline model trained on the training set with the "
    "features known at prediction time (as in the skew audit): a candidate for any case",
}
BROKEN_SHIFT = 3.0  # added to the logit of every score once the pipeline breaks


def challenger_scores(
    case: Case, name: str, *, plan: Plan | None = None, seed: int = 0
) -> np.ndarray:
    """Challenger scores aligned with the serving log for scenario ``name`` (see ``SCENARIOS``).

    The broken challenger breaks on the first day the plan serves it traffic (the first stage
    with a share above 0, counted from the log's first day, as :func:`simulate` replays it), and
    its scores move up by ``BROKEN_SHIFT`` on the logit scale, plus seeded noise: it flags far
    more events than the champion, as a stuck upstream feature would make it. For a regression
    case its predictions move up by twice the champion's standard deviation, plus noise.
    """
    if name not in SCENARIOS:
        raise ParameterError(
            f"there is no scenario called {name!r}",
            expected=f"one of {', '.join(SCENARIOS)}",
            fix="pick a scenario from the list",
        )
    cols = case.columns
    if name == "sample challenger":
        if not cols.challenger:
            raise ParameterError(
                "the case has no challenger column",
                where="case columns",
                fix="set columns.challenger in the case, or replay the broken or identical "
                "challenger scenario",
            )
        return case.serving[cols.challenger].to_numpy(dtype="float64")
    champion = case.serving[cols.prediction].to_numpy(dtype="float64")
    if name == "identical challenger (A/A)":
        return champion.copy()
    if name == "retrained baseline":
        return _retrained_baseline(case, seed)
    plan = Plan.from_value(plan)
    stages = plan.to_frame()
    serving_stages = stages[stages["share"] > 0]
    if serving_stages.empty:
        raise ParameterError(
            "the plan never serves the challenger, so its pipeline never breaks in service",
            fix="add a stage with a share above 0",
        )
    times = pd.to_datetime(case.serving[cols.timestamp], utc=True)
    day = ((times - times.min().normalize()) // pd.Timedelta(days=1)).to_numpy()
    broken = day >= int(serving_stages["first_day"].iloc[0])
    rng = np.random.default_rng(seed)
    if case.task == "regression":  # predictions move up by twice their spread, plus noise
        spread = float(np.std(champion)) or 1.0
        shifted = champion + 2 * spread + rng.normal(0, 0.25 * spread, champion.size)
    else:
        clipped = np.clip(champion, 1e-6, 1 - 1e-6)
        shifted = expit(logit(clipped) + BROKEN_SHIFT + rng.normal(0, 0.5, champion.size))
    return np.where(broken, shifted, champion)


def _retrained_baseline(case: Case, seed: int) -> np.ndarray:
    """Scores of :func:`prodready.models.fit` on the training set (features available at
    prediction time only: a leaky feature would not exist when the model serves) for every
    serving row."""
    from prodready import models

    honest = [f for f in case.features if f.available_at_prediction]
    if not honest:
        raise ParameterError(
            "the case has no feature available at prediction time to train a baseline on",
            where="case file: features",
            fix="declare at least one feature without available_at_prediction: false",
        )
    fitted = models.fit(case.training, honest, case.columns.label, seed=seed, task=case.task)
    return np.asarray(fitted.predict_score(case.serving), dtype="float64")
