"""Monte Carlo over the arm assignment: how often would the same plan, on the same log, roll back?

:func:`simulate` replays a rollout once, with one hash key. Which events the challenger serves is
luck of the hash: :func:`monte_carlo` re-draws the assignment ``n`` times (a different hash key per
replay) and reports how often the plan rolls back, promotes or holds, on which day, and how often
the call is wrong.

How it stays fast (no Python loop per event, none per replay):

1. **Aggregate once.** Every event goes to one of ``buckets`` hash buckets (pandas' hash of its
   id, as :func:`arm_position`, mixed with a key derived from ``seed``). The labelled
   statistics the rules use (labelled count, value sum, value squared sum, flagged, true
   positives, positives; for champion and challenger scores) are summed per (bucket, stage of
   the event's day, day the label is known), and the score-bin counts of the PSI rules per
   (bucket, day, bin). Labels known only after the plan's horizon are dropped.
2. **Replay by buckets.** Replay ``r`` gives each bucket a position ``u`` in [0, 1) by hashing
   the bucket's number with replay ``r``'s own key (splitmix64, see :func:`bucket_positions`).
   On a stage with share ``s`` the challenger serves the buckets with ``u < s / 100``: the same
   id keeps its arm across stages, and a bucket in the 5% canary stays with the challenger at
   25%, exactly as in
   :func:`simulate`. The arms' cumulative statistics for all replays and days are then a matrix
   product per stage (replays x buckets times buckets x days x statistics) and a cumulative sum.
3. **Check every rule for all replays and days at once**, with the same definitions and the same
   anytime-valid confidence sequence as :func:`simulate`; the first day a rule fires is the
   rollback day.

Randomising buckets instead of events is cluster randomisation with clusters formed by a hash,
i.e. at random with respect to everything in the log: the difference between arms has the same
expectation and (up to the ``1/buckets`` granularity of a share) the same variance as with
event-level hashing. With ``buckets`` of a few thousand, a 1% canary still spans ~40 buckets;
raise ``buckets`` for smaller shares.

Hold rules make a replay's stage dates depend on its own path (a stage lasts until the rule stops
firing), so a plan with hold rules takes a second, day-by-day path (:func:`_replay_paths`): one
pass over the days, vectorised over replays, each replay in its own stage; its work grows with
replays x events. Both paths reproduce :func:`simulate` exactly when a unit is one event
(tested).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prodready.case import Case
from prodready.errors import ParameterError
from prodready.results import Finding, most_severe_first, to_json
from prodready.rollout.plan import Plan
from prodready.rollout.replay_log import ReplayLog, replay_log
from prodready.rollout.sequential import half_width, mixing_variance
from prodready.rollout.simulate import (
    MIN_LABELLED,
    MIN_SCORES,
    PSI_EPSILON,
    PSI_WINDOW_DAYS,
    TIGHT_AT,
)
from prodready.rollout.triggers import Trigger

DEFAULT_BUCKETS = 4096
OUTCOMES = ("promoted", "rolled_back", "held")

# statistics per arm, in this order (as simulate's _STATS): labelled ones by the day the label is
# known, then every decision and every flagged decision by the event's day; arm 1 starts at _W
_N, _V, _V2, _FLAGGED, _TP, _POS, _DECISIONS, _FLAGS = range(8)
_W = 8


@dataclass(frozen=True)
class MonteCarloResult:
    """Outcomes of ``n`` replays of one plan on one log, each with its own arm assignment.

    * ``rollback_rate``, ``promotion_rate``, ``hold_rate``: shares of replays ending so.
    * ``wrong_promotion_rate``: share of replays whose call was **wrong**: promoted although the
      challenger's true value over the whole log is worse than the champion's beyond the margin,
      or rolled back although it is not. "True value" = business value per 1,000 decisions of
      each model serving *every* labelled event of the log (not only the replayed days);
      "margin" = the margin of the overall (unsegmented) business-value rule, 0 without one.
      Held replays made no call and are never wrong. ``challenger_worse`` says which kind of
      error is possible on this log (wrong promotions if True, wrong rollbacks if False).
    * ``days_to_decision``: one row per replay: ``replay``, ``seed`` (the replay's hash key, see
      :func:`bucket_positions`), ``outcome``, ``decision_day`` (0-based
      day of the plan on which it rolled back or was promoted; the last replayed day when held),
      ``stage`` and ``reason`` (the rules that fired, for a rollback).
    """

    n: int
    seed: int
    buckets: int
    rollback_rate: float
    promotion_rate: float
    hold_rate: float
    wrong_promotion_rate: float
    challenger_worse: bool
    true_delta_per_1000: float
    margin: float
    days_to_decision: pd.DataFrame
    plan: Plan
    triggers: tuple[Trigger, ...]
    days_replayed: int
    currency: str | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        return self.days_to_decision

    def _mc_error(self, rate: float) -> float:
        """Two standard errors of a rate estimated from ``n`` replays."""
        return float(2 * np.sqrt(max(rate * (1 - rate), 0.25 / self.n) / self.n))

    def summary(self) -> list[Finding]:
        frame = self.days_to_decision
        findings: list[Finding] = []
        rolled = frame[frame["outcome"] == "rolled_back"]
        text = (
            f"Over {self.n} replays with re-drawn arm assignments the plan rolled back "
            f"{self.rollback_rate:.0%} of the time (± {self._mc_error(self.rollback_rate):.0%}), "
            f"promoted {self.promotion_rate:.0%} and held {self.hold_rate:.0%}."
        )
        if len(rolled):
            text += (
                f" Rollbacks came on day {rolled['decision_day'].median():.0f} of the plan "
                f"(median; {rolled['decision_day'].min()} to {rolled['decision_day'].max()})."
            )
        findings.append(Finding("info", text))
        kind = "promotions" if self.challenger_worse else "rollbacks"
        truth = "worse" if self.challenger_worse else "not worse"
        severity = (
            "high"
            if self.wrong_promotion_rate > 0.2
            else "medium"
            if self.wrong_promotion_rate > 0.05
            else "info"
        )
        findings.append(
            Finding(
                severity,
                f"Over the whole log the challenger is {truth} than the champion beyond the "
                f"margin ({self.true_delta_per_1000:,.1f} per 1,000 decisions; margin "
                f"{self.margin:g}): {self.wrong_promotion_rate:.0%} of replays made the wrong "
                f"call (wrong {kind}).",
            )
        )
        findings.extend(Finding("low", note) for note in self.notes)
        return most_severe_first(findings)

    def to_dict(self) -> dict[str, Any]:
        return to_json(
            {
                "n": self.n,
                "seed": self.seed,
                "buckets": self.buckets,
                "rollback_rate": self.rollback_rate,
                "promotion_rate": self.promotion_rate,
                "hold_rate": self.hold_rate,
                "wrong_promotion_rate": self.wrong_promotion_rate,
                "challenger_worse": self.challenger_worse,
                "true_delta_per_1000": self.true_delta_per_1000,
                "margin": self.margin,
                "days_replayed": self.days_replayed,
                "currency": self.currency,
                "plan": self.plan.to_dict(),
                "triggers": [t.to_dict() for t in self.triggers],
                "days_to_decision": self.days_to_decision.to_dict(orient="records"),
                "summary": [f.to_dict() for f in self.summary()],
                "notes": list(self.notes),
            }
        )


def replay_seeds(seed: int, n: int) -> np.ndarray:
    """The ``n`` replays' hash keys: deterministic for ``seed``, distinct across replays."""
    state = np.random.SeedSequence(int(seed)).generate_state(n, dtype=np.uint64)
    return (state >> np.uint64(2)).astype(np.int64)


def _mix(values: np.ndarray, key: int) -> np.ndarray:
    """Position in [0, 1) from 64-bit values and a key: splitmix64's finaliser of
    ``values + key * golden ratio``, a bijection of the 64-bit words, so every key gives an
    independent-looking uniform position."""
    with np.errstate(over="ignore"):
        z = values.astype(np.uint64) + np.uint64(key % 2**64) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / 2.0**53


def _bucket_of(ids, seed: int, buckets: int) -> np.ndarray:
    """Each id's bucket: pandas' hash of the id (as :func:`arm_position`), mixed with a key
    derived from ``seed`` (numeric ids are hashed without pandas' key, so the mixing is what
    makes the buckets depend on the seed)."""
    digest = hashlib.sha256(f"prodready-montecarlo-buckets-{int(seed)}".encode()).digest()
    hashed = pd.util.hash_pandas_object(pd.Series(ids), index=False).to_numpy(np.uint64)
    position = _mix(hashed, int.from_bytes(digest[:8], "big"))
    return np.minimum((position * buckets).astype(np.int64), buckets - 1)


def bucket_positions(seeds: np.ndarray, buckets: int) -> np.ndarray:
    """Replay x bucket positions in [0, 1): bucket ``b`` of the replay with key ``k`` is served by
    the challenger when its position is below the share."""
    numbers = np.arange(buckets, dtype=np.uint64)
    return np.stack([_mix(numbers, int(k)) for k in seeds])


@dataclass
class _Prepared:
    """The log aggregated by (unit, stage, known day) and (unit, day, bin): everything a replay
    needs. A unit is a hash bucket (or, in tests, a single event)."""

    units: int
    horizon: int
    shares: np.ndarray  # per stage, 0-1
    stage_of_day: np.ndarray  # per plan day < horizon
    label: np.ndarray  # [scope, stage, unit, known day, stat 0..15]: stats of arm 0 then arm 1
    psi: np.ndarray  # [scope, unit, day, bin]: champion, challenger, challenger on own bins
    n_bins: int
    n_self: int
    shadow_days: int
    scopes: list
    triggers: tuple[Trigger, ...]


def _prepare(
    log: ReplayLog, plan: Plan, units: np.ndarray, n_units: int
) -> tuple[_Prepared, list[str]]:
    """Aggregate the log by (unit, stage, known day) and (unit, day, bin) for :func:`_replay`."""
    notes = list(log.notes)
    triggers, day, known = log.triggers, log.day, log.known
    horizon = min(plan.days, log.log_days)
    if horizon < plan.days:
        notes.append(
            f"The log covers {log.log_days} of the plan's {plan.days} days: only that much was "
            "replayed, so replays without a rollback are held."
        )

    frame = plan.to_frame()
    shares = frame["share"].to_numpy(float) / 100
    stage_of_day = np.repeat(np.arange(len(frame)), frame["days"].to_numpy())[:horizon]
    n_stages = len(frame)

    n_bins, n_self = log.n_bins, log.n_self
    bins0, bins1, self_bins = log.bins0, log.bins1, log.self_bins
    scopes = log.scopes

    in_plan = day < horizon
    stage = np.zeros(day.shape, np.int64)
    stage[in_plan] = stage_of_day[day[in_plan]]
    lab_rows = in_plan & (known < horizon)
    label = np.zeros((len(scopes), n_stages, n_units, horizon, 2 * _W))
    psi = np.zeros((len(scopes), n_units, horizon, 2 * n_bins + n_self))
    pos = log.truth == 1
    per_arm = [(log.v0, log.flags0), (log.v1, log.flags1)]
    for s, mask in enumerate(log.masks):
        rows = np.flatnonzero(mask & lab_rows)
        cell = (stage[rows] * n_units + units[rows]) * horizon + known[rows]
        size = n_stages * n_units * horizon
        for a, (v, f) in enumerate(per_arm):
            weights = (
                np.ones(rows.size),
                v[rows],
                v[rows] ** 2,
                f[rows],
                (f & pos)[rows],
                pos[rows],
            )
            for j, w in enumerate(weights):
                label[s, ..., a * _W + j] = np.bincount(cell, weights=w, minlength=size).reshape(
                    n_stages, n_units, horizon
                )
        rows = np.flatnonzero(mask & in_plan)
        cell = (stage[rows] * n_units + units[rows]) * horizon + day[rows]
        for a, (_, f) in enumerate(per_arm):
            for j, w in ((_DECISIONS, np.ones(rows.size)), (_FLAGS, f[rows])):
                label[s, ..., a * _W + j] = np.bincount(cell, weights=w, minlength=size).reshape(
                    n_stages, n_units, horizon
                )
        width = 2 * n_bins + n_self
        size = n_units * horizon * width
        base = (units[rows] * horizon + day[rows]) * width
        counts = np.bincount(base + bins0[rows], minlength=size)
        counts += np.bincount(base + n_bins + bins1[rows], minlength=size)
        counts += np.bincount(base + 2 * n_bins + self_bins[rows], minlength=size)
        psi[s] = counts.reshape(n_units, horizon, width)

    prepared = _Prepared(
        units=n_units,
        horizon=horizon,
        shares=shares,
        stage_of_day=stage_of_day,
        label=label,
        psi=psi,
        n_bins=n_bins,
        n_self=n_self,
        shadow_days=log.shadow_days,
        scopes=scopes,
        triggers=triggers,
    )
    return prepared, notes


def _replay(p: _Prepared, u: np.ndarray) -> np.ndarray:
    """For unit positions ``u`` (replays x units): fires[trigger, replay, day]."""
    n_rep = u.shape[0]
    n_stages = p.shares.size
    fires = np.zeros((len(p.triggers), n_rep, p.horizon), bool)
    for s, scope in enumerate(p.scopes):
        # arms' statistics, increments per known day: [replay, day, 2 * _W]
        inc = np.zeros((n_rep, p.horizon, 2 * _W))
        for g in range(n_stages):
            table = p.label[s, g].reshape(p.units, -1)  # units x (day * 2 _W)
            total = table.sum(axis=0).reshape(p.horizon, 2 * _W)
            if not total.any():
                continue
            if p.shares[g] == 0:  # shadow: both arms are every event
                inc += total
                continue
            served = (u < p.shares[g]).astype(float)
            part = (served @ table).reshape(n_rep, p.horizon, 2 * _W)
            inc[..., :_W] += total[:, :_W] - part[..., :_W]
            inc[..., _W:] += part[..., _W:]
        stats = np.cumsum(inc, axis=1)
        # score-bin counts per day and arm: [replay, day, champion | challenger | own bins]
        nb, width = p.n_bins, 2 * p.n_bins + p.n_self
        daily = np.zeros((n_rep, p.horizon, width))
        for g in range(n_stages):
            days = np.flatnonzero(p.stage_of_day == g)
            if days.size == 0:
                continue
            table = p.psi[s][:, days, :]  # units x days x bins
            total = table.sum(axis=0)
            if p.shares[g] == 0:
                daily[:, days] += total
                continue
            served = (u < p.shares[g]).astype(float)
            part = (served @ table.reshape(p.units, -1)).reshape(n_rep, days.size, width)
            daily[:, days, :nb] += total[:, :nb] - part[..., :nb]
            daily[:, days, nb:] += part[..., nb:]
        cum = np.concatenate([np.zeros((n_rep, 1, width)), np.cumsum(daily, axis=1)], axis=1)
        ends = np.arange(p.horizon) + 1
        window = cum[:, ends] - cum[:, np.maximum(ends - PSI_WINDOW_DAYS, 0)]
        sd = p.shadow_days
        if sd and sd < p.horizon:
            # reference: the challenger's own-bin scores of the shadow days (all events);
            # current: its scores over the last 7 days, shadow days excluded
            since = np.maximum(sd, ends - PSI_WINDOW_DAYS)
            current = cum[:, ends, 2 * nb :] - cum[:, since, 2 * nb :]
            reference = np.broadcast_to(cum[:, sd : sd + 1, 2 * nb :], current.shape)
            self_counts = np.concatenate([reference, current], axis=-1)
        for i, t in enumerate(p.triggers):
            if t.segment != scope:
                continue
            if t.kind == "score_psi" and t.reference == "shadow" and sd:
                if sd >= p.horizon:
                    continue  # nothing served within the replayed days
                f = _fires(t, stats, self_counts, p.n_self)
                f[:, :sd] = False
                fires[i] = f
            else:
                fires[i] = _fires(t, stats, window[..., : 2 * nb], nb)
    return fires


def _mean_var(n, total, squares):
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / n
        var = np.maximum(squares / n - mean**2, 0.0) * n / (n - 1)
    return mean, var


def _fires(t: Trigger, stats: np.ndarray, counts: np.ndarray, nb: int) -> np.ndarray:
    """Vectorised :func:`prodready.rollout.simulate._check`: fires[replay, day]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if t.kind == "score_psi":
            c0, c1 = counts[..., :nb], counts[..., nb:]
            n0, n1 = c0.sum(axis=-1, keepdims=True), c1.sum(axis=-1, keepdims=True)
            p = np.where(c0 == 0, PSI_EPSILON, c0 / n0)
            q = np.where(c1 == 0, PSI_EPSILON, c1 / n1)
            value = np.sum((q - p) * np.log(q / p), axis=-1)
            enough = (n0[..., 0] >= MIN_SCORES) & (n1[..., 0] >= MIN_SCORES)
            return enough & (value > t.limit)
        if t.kind == "business_value":
            n0, n1 = stats[..., _N], stats[..., _W + _N]
            m0, var0 = _mean_var(n0, stats[..., _V], stats[..., _V2])
            m1, var1 = _mean_var(n1, stats[..., _W + _V], stats[..., _W + _V2])
            est = (m1 - m0) * 1000
            variance = (var1 / n1 + var0 / n0) * 1e6
            tau2 = mixing_variance((var0 + var1) / 2 * 1e6, TIGHT_AT)
            high = est + half_width(variance, tau2, t.alpha)
            return (np.minimum(n0, n1) >= MIN_LABELLED) & (high < -t.margin)
        if t.kind == "flag_rate":
            n = stats[..., _W + _DECISIONS]
            rate = stats[..., _W + _FLAGS] / n
            fires = np.zeros(n.shape, bool)
            for bound, below in ((t.floor, True), (t.ceiling, False)):
                if bound is None:
                    continue
                null_var = bound * (1 - bound)
                h = half_width(null_var / n, mixing_variance(null_var, TIGHT_AT), t.alpha)
                fires |= (rate + h < bound) if below else (rate - h > bound)
            return (n >= MIN_SCORES) & fires
        k = stats[..., _W + (_FLAGGED if t.metric == "precision" else _POS)]
        p = stats[..., _W + _TP] / k
        null_var = t.floor * (1 - t.floor)
        high = p + half_width(null_var / k, mixing_variance(null_var, TIGHT_AT), t.alpha)
        return (k >= MIN_LABELLED) & (high < t.floor)


def _replay_paths(
    log: ReplayLog, plan: Plan, units: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Replays whose stage dates depend on their own path (plans with ``hold`` rules): one pass
    over the days, vectorised over replays, each replay in its own stage. Same definitions as
    :func:`prodready.rollout.simulate` (a rule is checked daily; a hold keeps the replay in its
    stage past the stage's end while it fires). Returns (outcome, decision day, stage index,
    reason) per replay. Work grows with replays x events, not replays x buckets x days."""
    n_rep, horizon = u.shape[0], log.log_days
    frame = plan.to_frame()
    shares = frame["share"].to_numpy(float) / 100
    stage_days = frame["days"].to_numpy(np.int64)
    triggers = log.triggers
    nb, width, sd = log.n_bins, 2 * log.n_bins + log.n_self, log.shadow_days
    rollback = np.array([t.action == "rollback" for t in triggers], bool)
    names = np.array([t.name for t in triggers], dtype=object)

    pos = log.truth == 1
    lab = [
        np.stack([log.labelled, v, v**2, f & log.labelled, f & pos, pos], axis=1).astype(float)
        for v, f in ((log.v0, log.flags0), (log.v1, log.flags1))
    ]
    dec = [np.stack([np.ones(f.size), f], axis=1).astype(float) for f in (log.flags0, log.flags1)]
    eye_nb, eye_self = np.eye(nb), np.eye(log.n_self)
    bins = np.hstack([eye_nb[log.bins0], eye_nb[log.bins1], eye_self[log.self_bins]])

    n_scopes = len(log.scopes)
    pending = np.zeros((n_scopes, n_rep, horizon, 2 * _W))  # by the day the label is known
    running = np.zeros((n_scopes, n_rep, 2 * _W))
    daily = np.zeros((n_scopes, n_rep, horizon, width))  # score-bin counts per day and arm
    stage = np.zeros(n_rep, np.int64)
    in_stage = np.zeros(n_rep, np.int64)
    done = np.zeros(n_rep, bool)
    outcome = np.full(n_rep, "held", dtype=object)
    decision_day = np.full(n_rep, horizon - 1, np.int64)
    reasons = [""] * n_rep
    order = np.argsort(log.day, kind="stable")
    bounds = np.searchsorted(log.day[order], np.arange(horizon + 1))

    def split(served, shadow, values):
        """(champion arm, challenger arm) sums per replay of per-event ``values``."""
        total = values.sum(axis=0)
        part = served @ values
        return (
            np.where(shadow[:, None], total, total - part),
            np.where(shadow[:, None], total, part),
        )

    for d in range(horizon):
        share = shares[stage]
        shadow = share == 0
        today = order[bounds[d] : bounds[d + 1]]
        for s, mask in enumerate(log.masks):
            ii = today[mask[today]]
            if ii.size == 0:
                continue
            served = (u[:, units[ii]] < share[:, None]).astype(float)
            arm0, arm1 = split(served, shadow, np.hstack([dec[0][ii], dec[1][ii]]))
            running[s, :, _DECISIONS : _FLAGS + 1] += arm0[:, :2]
            running[s, :, _W + _DECISIONS : _W + _FLAGS + 1] += arm1[:, 2:]
            arm0, arm1 = split(served, shadow, bins[ii])
            daily[s, :, d, :nb] = arm0[:, :nb]
            daily[s, :, d, nb:] = arm1[:, nb:]
            k = log.known[ii]
            for known_day in np.unique(k[k < horizon]):
                sel = k == known_day
                both = np.hstack([lab[0][ii[sel]], lab[1][ii[sel]]])
                arm0, arm1 = split(served[:, sel], shadow, both)
                pending[s, :, known_day, :6] += arm0[:, :6]
                pending[s, :, known_day, _W : _W + 6] += arm1[:, 6:]
        running += pending[:, :, d]

        fires = np.zeros((len(triggers), n_rep), bool)
        start = max(0, d - PSI_WINDOW_DAYS + 1)
        for i, t in enumerate(triggers):
            s = log.scopes.index(t.segment)
            stats = running[s][:, None, :]
            if t.kind == "score_psi" and t.reference == "shadow" and sd:
                if d < sd:
                    continue  # nothing served yet to compare
                reference = daily[s, :, :sd, 2 * nb :].sum(axis=1)
                current = daily[s, :, max(sd, start) : d + 1, 2 * nb :].sum(axis=1)
                counts = np.concatenate([reference, current], axis=-1)
                fires[i] = _fires(t, stats, counts[:, None, :], log.n_self)[:, 0]
            else:
                window = daily[s, :, start : d + 1, : 2 * nb].sum(axis=1)
                fires[i] = _fires(t, stats, window[:, None, :], nb)[:, 0]

        active = ~done
        rolled = active & fires[rollback].any(axis=0)
        for r in np.flatnonzero(rolled):
            reasons[r] = "; ".join(names[rollback & fires[:, r]])
        outcome[rolled], decision_day[rolled], done[rolled] = "rolled_back", d, True
        going = active & ~rolled
        in_stage[going] += 1
        ended = going & (in_stage >= stage_days[stage]) & ~fires[~rollback].any(axis=0)
        last = ended & (stage + 1 == shares.size)
        outcome[last], decision_day[last], done[last] = "promoted", d, True
        advance = ended & ~last
        stage[advance] += 1
        in_stage[advance] = 0
        if done.all():
            break
    return outcome.astype(str), decision_day, stage, reasons


def _truth(log: ReplayLog) -> tuple[float, float]:
    """(challenger minus champion value per 1,000 labelled decisions over the whole log, the
    margin of the overall business-value rule or 0)."""
    margin = next(
        (t.margin for t in log.triggers if t.kind == "business_value" and not t.segment), 0.0
    )
    n_lab = log.labelled.sum()
    delta = float((log.v1.sum() - log.v0.sum()) / n_lab * 1000) if n_lab else 0.0
    return delta, float(margin)


def _fast_outcomes(
    p: _Prepared, plan: Plan, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(outcome, decision day, stage index, reason) per replay from :func:`_replay`."""
    fires = _replay(p, u)
    any_fire = fires.any(axis=0)
    fired = any_fire.any(axis=1)
    day = np.where(fired, any_fire.argmax(axis=1), p.horizon - 1)
    complete = p.horizon == plan.days
    outcome = np.where(fired, "rolled_back", "promoted" if complete else "held")
    names = [t.name for t in p.triggers]
    reasons = [
        "; ".join(names[i] for i in np.flatnonzero(fires[:, r, day[r]])) if fired[r] else ""
        for r in range(u.shape[0])
    ]
    return outcome, day, p.stage_of_day[day], reasons


def monte_carlo(
    case: Case,
    plan: Plan | None = None,
    triggers: list[Trigger] | None = None,
    n: int = 500,
    seed: int = 0,
    challenger=None,
    *,
    buckets: int = DEFAULT_BUCKETS,
) -> MonteCarloResult:
    """Replay ``plan`` ``n`` times on the case's serving log, each replay with its own hash key
    for the arm assignment; ``plan``, ``triggers`` and ``challenger`` as in :func:`simulate`.
    Deterministic for ``seed``. Method in the module docstring."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ParameterError(
            "the number of replays must be a whole number of at least 1",
            where="monte_carlo: n",
            found=repr(n),
            fix="e.g. n=500",
        )
    if isinstance(buckets, bool) or not isinstance(buckets, int | np.integer) or buckets < 100:
        raise ParameterError(
            "buckets must be a whole number of at least 100",
            where="monte_carlo: buckets",
            found=repr(buckets),
            fix="keep the default 4096, or more for shares below 1%",
        )
    plan = Plan.from_value(plan)
    log = replay_log(case, plan, triggers, challenger)
    units = _bucket_of(case.serving[case.columns.id], seed, int(buckets))
    seeds = replay_seeds(seed, int(n))
    u = bucket_positions(seeds, int(buckets))
    return _run(log, plan, units, int(buckets), u, seeds, int(seed), case.business.currency)


def _run(log, plan, units, n_units, u, seeds, seed, currency) -> MonteCarloResult:
    """The replays (the fast path without hold rules, else the path-by-path one) as a result."""
    notes = list(log.notes)
    if any(t.action == "hold" for t in log.triggers):
        outcome, day, stage, reasons = _replay_paths(log, plan, units, u)
        days_replayed = int(day.max()) + 1
        notes.append(
            "Hold rules make each replay's stage dates its own: replayed day by day, so it "
            "takes longer than a plan with rollback rules only."
        )
    else:
        prepared, notes = _prepare(log, plan, units, n_units)
        outcome, day, stage, reasons = _fast_outcomes(prepared, plan, u)
        days_replayed = prepared.horizon
    delta, margin = _truth(log)
    names = plan.to_frame()["name"].to_numpy()
    frame = pd.DataFrame(
        {
            "replay": np.arange(u.shape[0]),
            "seed": seeds,
            "outcome": pd.array(outcome, dtype="str"),
            "decision_day": day.astype(np.int64),
            "decision_date": log.origin + pd.to_timedelta(day, unit="D"),
            "stage": pd.array(names[stage], dtype="str"),
            "reason": pd.array(reasons, dtype="str"),
        }
    )
    worse = delta < -margin
    wrong = (outcome == "promoted") & worse | (outcome == "rolled_back") & ~worse
    return MonteCarloResult(
        n=u.shape[0],
        seed=seed,
        buckets=n_units,
        rollback_rate=float(np.mean(outcome == "rolled_back")),
        promotion_rate=float(np.mean(outcome == "promoted")),
        hold_rate=float(np.mean(outcome == "held")),
        wrong_promotion_rate=float(np.mean(wrong)),
        challenger_worse=bool(worse),
        true_delta_per_1000=delta,
        margin=margin,
        days_to_decision=frame,
        plan=plan,
        triggers=log.triggers,
        days_replayed=days_replayed,
        currency=currency,
        notes=tuple(notes),
    )
