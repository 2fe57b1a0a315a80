"""Replay a rollout plan on the historical serving log: what would the safe rollout have done?

Realism (issue 4, section 1):

* **Arms by hash of the id.** Each event's id is hashed with
  ``pandas.util.hash_pandas_object`` (a hash key derived from ``seed``) and mapped to ``u`` in
  [0, 1); on a day with share ``s`` percent the challenger serves the events with
  ``u < s / 100``. The same id always gets the same ``u`` (so the same arm at the same share, and
  an id in the 5% canary stays with the challenger at 25%); row order plays no part.
* **Shadow.** At share 0 the challenger scores every event and serves none: both arms are then
  every event of the day (the challenger's decisions are hypothetical), so the comparison uses
  the same events twice and its two-sample variance is conservative.
* **Labels only once arrived.** An event's label counts from the day its ``label_time`` falls on
  (UTC calendar day, label known at the end of that day), never before; events without a label
  never count in label-based measures. Without a ``label_time`` column a label counts from the
  event's own day.
* **Shadow measures.** Every day the timeline also shows ``decision agreement`` (share of the
  day's events on which both models decide alike), ``score PSI vs champion`` (last 7 days, the
  same bins as the ``score_psi`` rule) and ``value delta per 1000`` (challenger minus champion,
  labels arrived so far), whether or not a rule uses them.
* **Daily checks** use the anytime-valid confidence sequence of
  :mod:`prodready.rollout.sequential`, valid however many days are looked at. Measures are
  cumulative from the first day of the plan.

Money (valued with the case's value matrix at the case's threshold, on every event whose label
is in the log, arrived or not, since the replay looks back from the export; unlabelled events
count 0): ``realised`` = value of the decisions actually served in the replay; ``champion_only``
= the champion serving everything over the same days; ``big_bang`` = the challenger serving
everything from day one; ``at_risk`` = the money lost to the challenger up to and including
the decision: ``realised - champion_only`` over those days when negative, else 0.
``money_by_day`` has the three running totals for every day valued: the replayed days, and after
a rollback the rest of the plan's days (champion serving everything), so the curves show what the
rollback saved.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prodready.case import Case
from prodready.results import Finding, format_money, most_severe_first, to_json
from prodready.rollout.plan import Plan
from prodready.rollout.replay_log import replay_log
from prodready.rollout.sequential import confidence_sequence, mixing_variance
from prodready.rollout.triggers import Trigger

MIN_LABELLED = 30  # labelled events per arm before a label-based rule may fire
MIN_SCORES = 100  # scores per arm before the PSI rule may fire
PSI_EPSILON = 1e-4
PSI_WINDOW_DAYS = 7  # the score PSI rule compares the last 7 days of each arm's scores
TIGHT_AT = 1000  # the confidence sequences are tightest near this many observations per arm


def arm_position(ids: pd.Series | np.ndarray, seed: int = 0) -> np.ndarray:
    """Each id's position ``u`` in [0, 1): a deterministic hash of the id alone (salted by
    ``seed``). The challenger serves an event when ``u < share / 100``."""
    key = hashlib.sha256(f"prodready-rollout-{int(seed)}".encode()).hexdigest()[:16]
    # as text: pandas ignores the hash key for numbers, so numeric ids would ignore the seed
    text = pd.Series(ids).astype("str")
    hashed = pd.util.hash_pandas_object(text, index=False, hash_key=key)
    return (hashed.to_numpy(np.uint64) >> np.uint64(11)).astype(np.float64) / 2.0**53


@dataclass(frozen=True)
class RolloutResult:
    """What the replayed rollout did: ``outcome``, ``decisions``, ``timeline``, ``money``."""

    outcome: str  # "promoted" | "rolled_back" | "held"
    decisions: pd.DataFrame
    timeline: pd.DataFrame
    money: dict[str, float]
    plan: Plan
    triggers: tuple[Trigger, ...]
    days_replayed: int
    plan_days: int
    log_days: int
    currency: str | None
    decision_date: pd.Timestamp | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    money_by_day: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_frame(self) -> pd.DataFrame:
        """The timeline: one row per replayed day."""
        return self.timeline

    def summary(self) -> list[Finding]:
        cur = self.currency
        findings: list[Finding] = []
        last = self.decisions.iloc[-1]
        if self.outcome == "rolled_back":
            findings.append(
                Finding(
                    "high",
                    f"The rollout would have been rolled back on {last['date']:%Y-%m-%d} during "
                    f"the {last['stage']} stage: {last['reason']}. Money at risk before the "
                    f"rollback: {format_money(self.money['at_risk'], cur)}.",
                    money=self.money["at_risk"],
                    currency=cur,
                )
            )
        elif self.outcome == "promoted":
            findings.append(
                Finding(
                    "info",
                    f"The challenger would have been promoted on {last['date']:%Y-%m-%d}: no "
                    "rollback rule fired during the plan.",
                )
            )
        else:
            findings.append(Finding("medium", f"No decision was reached: {last['reason']}."))
        gain = self.money["realised"] - self.money["champion_only"]
        valued = len(self.money_by_day) or self.days_replayed
        span = f"the {valued} days valued"
        if self.outcome == "rolled_back" and valued > self.days_replayed:
            span += f" ({self.days_replayed} until the rollback, the champion alone after)"
        findings.append(
            Finding(
                "info" if gain >= 0 else "medium",
                f"Over {span} the rollout realised "
                f"{format_money(self.money['realised'], cur)} against "
                f"{format_money(self.money['champion_only'], cur)} with the champion only and "
                f"{format_money(self.money['big_bang'], cur)} switching everything on day one.",
                money=gain,
                currency=cur,
            )
        )
        if self.log_days < self.plan_days:
            findings.append(
                Finding(
                    "medium",
                    f"The log covers {self.log_days} of the plan's {self.plan_days} days: "
                    "only that much was replayed.",
                )
            )
        findings.extend(Finding("low", note) for note in self.notes)
        return most_severe_first(findings)

    def to_dict(self) -> dict[str, Any]:
        return to_json(
            {
                "outcome": self.outcome,
                "decision_date": self.decision_date,
                "days_replayed": self.days_replayed,
                "plan_days": self.plan_days,
                "log_days": self.log_days,
                "currency": self.currency,
                "money": self.money,
                "plan": self.plan.to_dict(),
                "triggers": [t.to_dict() for t in self.triggers],
                "decisions": self.decisions.to_dict(orient="records"),
                "timeline": self.timeline.to_dict(orient="records"),
                "money_by_day": self.money_by_day.to_dict(orient="records"),
                "summary": [f.to_dict() for f in self.summary()],
                "notes": list(self.notes),
            }
        )


def _psi(challenger_counts: np.ndarray, champion_counts: np.ndarray) -> float:
    p = champion_counts / champion_counts.sum()
    q = challenger_counts / challenger_counts.sum()
    p = np.where(p == 0, PSI_EPSILON, p)
    q = np.where(q == 0, PSI_EPSILON, q)
    return float(np.sum((q - p) * np.log(q / p)))


# statistics accumulated per scope and arm, in this order: the labelled ones (counted once the
# label is known), then every decision and every flagged decision (counted on the event's day)
_STATS = ("n", "v", "v2", "flagged", "tp", "pos", "decisions", "flags")


def simulate(
    case: Case,
    plan: Plan | None = None,
    triggers: list[Trigger] | None = None,
    challenger=None,
    seed: int = 0,
) -> RolloutResult:
    """Replay ``plan`` (default :meth:`Plan.default`) on the case's serving log with
    ``triggers`` (default :func:`default_triggers`), the challenger being the case's challenger
    column, another column's name, or an array of scores aligned with the serving log. Definitions
    in the module docstring."""
    plan = Plan.from_value(plan)
    log = replay_log(case, plan, triggers, challenger)
    triggers, notes, scopes, masks = log.triggers, log.notes, log.scopes, log.masks
    v0, v1, flags0, flags1, truth, labelled = (
        log.v0,
        log.v1,
        log.flags0,
        log.flags1,
        log.truth,
        log.labelled,
    )
    day, known, origin, log_days = log.day, log.known, log.origin, log.log_days
    bins0, bins1, n_bins, self_bins, n_self = (
        log.bins0,
        log.bins1,
        log.n_bins,
        log.self_bins,
        log.n_self,
    )
    shadow_days = log.shadow_days
    u = arm_position(case.serving[case.columns.id], seed)

    order = np.argsort(day, kind="stable")
    bounds = np.searchsorted(day[order], np.arange(log_days + 1))
    n_scopes, horizon = len(scopes), log_days + 1
    pending = np.zeros((n_scopes, 2, len(_STATS), horizon))  # [scope, arm, stat, known day]
    running = np.zeros((n_scopes, 2, len(_STATS)))
    psi_daily = np.zeros((horizon, n_scopes, 2, n_bins))  # score bins per day, for a window
    self_daily = np.zeros((horizon, n_scopes, n_self))  # challenger-arm scores, own bins

    stage_idx, stage_day = 0, 0
    outcome, decision_date = None, None
    decisions: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    money_rows: list[dict[str, Any]] = []
    money = {"realised": 0.0, "champion_only": 0.0, "big_bang": 0.0, "at_risk": 0.0}
    d = 0
    decisions.append(
        {"date": origin, "stage": plan.stages[0].name, "action": "start", "reason": "plan starts"}
    )
    while d < log_days:
        stage = plan.stages[stage_idx]
        share = 0.0 if outcome == "rolled_back" else stage.share
        idx = order[bounds[d] : bounds[d + 1]]
        served1 = u[idx] < share / 100
        money["realised"] += float(v1[idx][served1].sum() + v0[idx][~served1].sum())
        money["champion_only"] += float(v0[idx].sum())
        money["big_bang"] += float(v1[idx].sum())
        money_rows.append(
            {
                "date": origin + pd.Timedelta(days=d),
                "stage": stage.name if outcome is None else "champion only (rolled back)",
                "share": share,
                **{k: money[k] for k in ("realised", "champion_only", "big_bang")},
            }
        )
        if outcome is not None:
            d += 1
            if d >= min(log_days, plan.days if outcome == "rolled_back" else d):
                break
            continue
        shadow = stage.share == 0
        arm1 = np.ones(idx.size, bool) if shadow else served1
        arm0 = np.ones(idx.size, bool) if shadow else ~served1
        kd = np.minimum(known[idx], log_days)  # NEVER -> the spare slot at log_days
        for s, mask in enumerate(masks):
            m = mask[idx]
            for a, (arm, v, f, b) in enumerate(
                ((arm0, v0, flags0, bins0), (arm1, v1, flags1, bins1))
            ):
                sel = arm & m
                ii, k = idx[sel], kd[sel]
                lab = labelled[ii]
                w = [
                    lab,
                    v[ii],
                    v[ii] ** 2,
                    f[ii] & lab,
                    f[ii] & (truth[ii] == 1),
                    truth[ii] == 1,
                ]
                for j, weights in enumerate(w):
                    pending[s, a, j] += np.bincount(k, weights=weights, minlength=horizon)
                pending[s, a, 6:, d] += [ii.size, f[ii].sum()]
                psi_daily[d, s, a] += np.bincount(b[ii], minlength=n_bins)
                if a == 1:
                    self_daily[d, s] += np.bincount(self_bins[ii], minlength=n_self)
        running += pending[:, :, :, d]

        date = origin + pd.Timedelta(days=d)
        row: dict[str, Any] = {"date": date, "stage": stage.name, "share": share}
        row.update(_arm_kpis(running[0]))
        # score shift is judged on recent days: a cumulative count would let weeks of healthy
        # shadow scores hide a pipeline that breaks once the challenger serves
        psi_counts = psi_daily[max(0, d - PSI_WINDOW_DAYS + 1) : d + 1].sum(axis=0)
        since = max(shadow_days, d - PSI_WINDOW_DAYS + 1)
        self_counts = np.stack(
            [self_daily[:shadow_days].sum(axis=0), self_daily[since : d + 1].sum(axis=0)], axis=1
        )  # [scope, reference/current, bin]
        row.update(_shadow_measures(row, flags0[idx], flags1[idx], psi_counts[0]))
        fired: list[tuple[Trigger, str]] = []
        for t in triggers:
            s = scopes.index(t.segment)
            against_shadow = t.kind == "score_psi" and t.reference == "shadow" and shadow_days
            if against_shadow and d < shadow_days:
                fires, stat, reason = False, np.nan, ""  # nothing served yet to compare
            else:
                counts = self_counts[s] if against_shadow else psi_counts[s]
                fires, stat, reason = _check(t, running[s], counts)
            row[f"{t.name}: value"] = stat
            row[f"{t.name}: fires"] = fires
            if fires:
                fired.append((t, reason))
        rows.append(row)

        stage_day += 1
        rollback = [(t, r) for t, r in fired if t.action == "rollback"]
        hold = [(t, r) for t, r in fired if t.action == "hold"]
        if rollback:
            outcome, decision_date = "rolled_back", date
            money["at_risk"] = min(0.0, money["realised"] - money["champion_only"])
            decisions.append(
                {
                    "date": date,
                    "stage": stage.name,
                    "action": "rollback",
                    "reason": "; ".join(f"{t.name}: {r}" for t, r in rollback),
                }
            )
        elif stage_day >= stage.days:
            if hold:
                decisions.append(
                    {
                        "date": date,
                        "stage": stage.name,
                        "action": "hold",
                        "reason": "; ".join(f"{t.name}: {r}" for t, r in hold),
                    }
                )
            elif stage_idx + 1 < len(plan.stages):
                stage_idx, stage_day = stage_idx + 1, 0
                decisions.append(
                    {
                        "date": date + pd.Timedelta(days=1),
                        "stage": plan.stages[stage_idx].name,
                        "action": "advance",
                        "reason": f"{stage.name} completed without a rule firing",
                    }
                )
            else:
                outcome, decision_date = "promoted", date
                money["at_risk"] = min(0.0, money["realised"] - money["champion_only"])
                decisions.append(
                    {
                        "date": date,
                        "stage": stage.name,
                        "action": "promote",
                        "reason": "every stage completed without a rollback",
                    }
                )
        d += 1
        if outcome == "promoted":
            break
    days_replayed = len(rows)
    if outcome is None:
        outcome = "held"
        money["at_risk"] = min(0.0, money["realised"] - money["champion_only"])
        decisions.append(
            {
                "date": origin + pd.Timedelta(days=days_replayed - 1),
                "stage": plan.stages[stage_idx].name,
                "action": "stop",
                "reason": f"the log ended after {days_replayed} days, in the "
                f"{plan.stages[stage_idx].name} stage (the plan needs {plan.days})",
            }
        )
    return RolloutResult(
        outcome=outcome,
        decisions=pd.DataFrame(decisions),
        timeline=pd.DataFrame(rows),
        money=money,
        plan=plan,
        triggers=triggers,
        days_replayed=days_replayed,
        money_by_day=pd.DataFrame(money_rows),
        plan_days=plan.days,
        log_days=log_days,
        currency=case.business.currency,
        decision_date=decision_date,
        notes=tuple(notes),
    )


def _mean_var(stats: np.ndarray) -> tuple[float, float, float]:
    """Mean value per decision, its per-observation variance and count, from the sums."""
    n = stats[0]
    if n < 2:
        return np.nan, np.nan, n
    mean = stats[1] / n
    var = max(stats[2] / n - mean**2, 0.0) * n / (n - 1)
    return mean, var, n


def _arm_kpis(stats: np.ndarray) -> dict[str, float]:
    out: dict[str, float] = {}
    for a, arm in enumerate(("champion", "challenger")):
        mean, var, n = _mean_var(stats[a])
        low, high = confidence_sequence(
            mean * 1000, var * 1e6 / n if n >= 2 else np.nan, mixing_variance(var * 1e6, TIGHT_AT)
        )
        out[f"{arm} decisions"] = float(stats[a][6])
        out[f"{arm} labelled"] = float(n)
        out[f"{arm} value per 1000"] = float(mean * 1000)
        out[f"{arm} value low"] = float(low)
        out[f"{arm} value high"] = float(high)
        flagged = stats[a][3]
        out[f"{arm} precision"] = float(stats[a][4] / flagged) if flagged else np.nan
        out[f"{arm} flag rate"] = float(stats[a][7] / stats[a][6]) if stats[a][6] else np.nan
    return out


def _shadow_measures(
    row: dict[str, Any], flags0: np.ndarray, flags1: np.ndarray, counts: np.ndarray
) -> dict[str, float]:
    """What shadow mode shows before and as labels arrive: the share of the day's events on
    which both models decide alike (the challenger scores every event, served or not), the PSI
    of the challenger arm's last 7 days of scores against the champion arm's, and the value
    difference per 1,000 decisions (labels arrived so far)."""
    enough = counts[0].sum() >= MIN_SCORES and counts[1].sum() >= MIN_SCORES
    return {
        "decision agreement": float(np.mean(flags0 == flags1)) if flags0.size else np.nan,
        "score PSI vs champion": _psi(counts[1], counts[0]) if enough else np.nan,
        "value delta per 1000": row["challenger value per 1000"] - row["champion value per 1000"],
    }


def _check(t: Trigger, stats: np.ndarray, counts: np.ndarray) -> tuple[bool, float, str]:
    """(fires, statistic, reason) for one rule on the cumulative statistics of its scope."""
    if t.kind == "score_psi":
        if counts[0].sum() < MIN_SCORES or counts[1].sum() < MIN_SCORES:
            return False, np.nan, ""
        psi = _psi(counts[1], counts[0])
        return psi > t.limit, psi, f"PSI {psi:.2f} above {t.limit:g}"
    if t.kind == "business_value":
        m0, var0, n0 = _mean_var(stats[0])
        m1, var1, n1 = _mean_var(stats[1])
        if min(n0, n1) < MIN_LABELLED:
            return False, np.nan, ""
        est = (m1 - m0) * 1000
        variance = (var1 / n1 + var0 / n0) * 1e6
        tau2 = mixing_variance((var0 + var1) / 2 * 1e6, TIGHT_AT)
        _, high = confidence_sequence(est, variance, tau2, t.alpha)
        return (
            bool(high < -t.margin),
            float(est),
            f"challenger minus champion {est:,.0f} per 1,000 decisions "
            f"(upper {1 - t.alpha:.0%} bound {float(high):,.0f})",
        )
    if t.kind == "flag_rate":
        n, rate = stats[1][6], stats[1][7] / max(stats[1][6], 1)
        if n < MIN_SCORES:
            return False, np.nan, ""
        for bound, below in ((t.floor, True), (t.ceiling, False)):
            if bound is None:
                continue
            null_var = bound * (1 - bound)  # the variance at the boundary, as the metric floor
            low, high = confidence_sequence(
                rate, null_var / n, mixing_variance(null_var, TIGHT_AT), t.alpha
            )
            if (high < bound) if below else (low > bound):
                side = "below the floor" if below else "above the ceiling"
                return True, float(rate), f"flag rate {rate:.2%} {side} {bound:.2%}"
        return False, float(rate), ""
    # metric_floor on the challenger arm: precision = TP / flagged, recall = TP / positives
    k = stats[1][3] if t.metric == "precision" else stats[1][5]
    if k < MIN_LABELLED:
        return False, np.nan, ""
    p = stats[1][4] / k
    null_var = t.floor * (1 - t.floor)  # the variance at the floor (a score-test band)
    _, high = confidence_sequence(p, null_var / k, mixing_variance(null_var, TIGHT_AT), t.alpha)
    return (
        bool(high < t.floor),
        float(p),
        f"{t.metric} {p:.3f} (upper bound {float(high):.3f}) below {t.floor:.3f}",
    )
