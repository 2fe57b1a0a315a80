"""Audit evidence for the readiness questions: each audit result proposes answers, with a reason.

A workshop should not rest on what a team remembers: when the skew audit has found training and
serving computing different values, "Training and serving are not skewed" (Breck et al. 2017,
Monitor 3) is 0 whatever anyone believes. ``propose(audits)`` turns audit results into proposed
answers, each linked to the finding it rests on; the facilitator confirms or overrides them
(the store keeps every override with who and when); ``apply(proposals, answers)`` fills the
unanswered questions.

The principle (written out in ``docs/readiness.md``, "Evidence links"):

- a measured failure is 0;
- an audit run by hand with prodready is at best 0.5 ("done by hand, documented"): only the
  team's own automation earns 1, and no audit can see that;
- when the audit shows what would happen but cannot know the team's practice (does anyone watch
  these monitors? is there a human reviewer?), the row *informs*: ``proposed`` is NaN and the
  reason gives the numbers.

The rules read the audits' JSON form (``.to_dict()``), so a stored snapshot and a live result
propose the same answers.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

from prodready.errors import ParameterError
from prodready.metrics import METRIC_LABELS
from prodready.readiness.bank import question_ids
from prodready.readiness.scoring import check_id, validate_answers
from prodready.results import format_money

AUDIT_KEYS: tuple[str, ...] = ("overview", "skew", "rollout", "monitoring", "decay", "review")
"""The audits ``propose`` reads, in the order their rows appear for a question."""

COLUMNS: tuple[str, ...] = (
    "id",
    "proposed",
    "reason",
    "audit",
    "finding",
    "severity",
    "money",
    "currency",
)

METRIC_AGREEMENT = 0.05
"""Offline and online metrics "correlate" (Model 2) when they are within 5% of the offline value;
further apart, they disagree and Model 2 is proposed 0."""

# keys that tell one audit's JSON from another's (any one of a tuple is enough)
_SIGNATURE: dict[str, tuple[str, ...]] = {
    "overview": ("numbers", "headline"),
    "skew": ("features", "metric_gap"),
    "rollout": ("outcome", "decisions", "plan"),
    "monitoring": ("replay", "alerts"),
    "decay": ("policies", "aging"),
    "review": ("totals", "band"),
}
_WHAT = {
    "overview": "CaseOverview (prodready.overview.overview)",
    "skew": "SkewAudit (prodready.skew.audit)",
    "rollout": "RolloutResult (prodready.rollout.simulate)",
    "monitoring": "MonitoringAudit or MonitoringReplay (prodready.monitoring)",
    "decay": "DecayAudit (prodready.decay.audit.audit)",
    "review": "ReviewResult (prodready.review.simulate)",
}

Row = dict[str, Any]


# ----------------------------------------------------------------------------- public API
def propose(audits: Mapping[str, Any]) -> pd.DataFrame:
    """Proposed answers from audit results: one row per question an audit speaks to.

    ``audits``: audit name (``overview``, ``skew``, ``rollout``, ``monitoring``, ``decay``,
    ``review``) -> the result object or its ``.to_dict()``. A missing audit yields no rows.
    Columns: ``id, proposed`` (0, 0.5, 1, or NaN when the evidence informs but does not decide),
    ``reason`` (one sentence, with the numbers), ``audit``, ``finding`` (the audit's finding it
    rests on), ``severity``, ``money``, ``currency``.
    """
    if not isinstance(audits, Mapping):
        raise ParameterError(
            "the audits are not a mapping",
            where="propose",
            expected="a mapping of audit name -> result, e.g. {'skew': skew.audit(case)}",
            found=f"a {type(audits).__name__}",
            fix="pass a dict keyed by " + ", ".join(AUDIT_KEYS),
        )
    unknown = [key for key in audits if key not in AUDIT_KEYS]
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), AUDIT_KEYS, n=1)
        raise ParameterError(
            f"propose does not know the audit {unknown[0]!r}",
            where="propose: audits",
            expected="keys among " + ", ".join(AUDIT_KEYS),
            found=", ".join(repr(k) for k in unknown)
            + (f" (did you mean {close[0]!r}?)" if close else ""),
            fix="rename or remove those keys",
        )
    rows: list[Row] = []
    for key in AUDIT_KEYS:
        if audits.get(key) is None:
            continue
        rows.extend(_RULES[key](_as_dict(key, audits[key])))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["proposed"] = frame["proposed"].astype(float)
    frame["money"] = frame["money"].astype(float)
    for column in ("id", "reason", "audit", "finding", "severity", "currency"):
        frame[column] = frame[column].astype("str")
    order = {qid: i for i, qid in enumerate(question_ids())}
    frame["_q"] = frame["id"].map(order)
    frame["_a"] = frame["audit"].map({a: i for i, a in enumerate(AUDIT_KEYS)})
    frame = frame.sort_values(["_q", "_a"], kind="stable").drop(columns=["_q", "_a"])
    return frame.reset_index(drop=True)


def apply(proposals: pd.DataFrame, answers: Mapping[str, Any] | None = None) -> dict[str, float]:
    """``answers`` with every unanswered question that has a proposal filled in.

    Explicit answers always win; among several proposals for one question the lowest wins
    (one measured failure outweighs evidence of practice); NaN proposals (evidence that informs)
    fill nothing. Returns a validated dict in bank order.
    """
    checked = validate_answers({} if answers is None else answers)
    if not isinstance(proposals, pd.DataFrame) or not {"id", "proposed"} <= set(proposals.columns):
        raise ParameterError(
            "the proposals are not a frame from prodready.readiness.propose",
            where="apply: proposals",
            expected="a DataFrame with columns " + ", ".join(COLUMNS),
            found=f"a {type(proposals).__name__}"
            + (
                f" with columns {list(proposals.columns)}"
                if isinstance(proposals, pd.DataFrame)
                else ""
            ),
            fix="pass propose(audits)",
        )
    filled = dict(checked)
    for qid, (value, _reason) in decisive(proposals).items():
        if qid not in checked:
            filled[qid] = value
    return validate_answers(filled, where="apply: proposals")


def decisive(proposals: pd.DataFrame) -> dict[str, tuple[float, str | None]]:
    """Question id -> (the lowest proposed score, its reason): the proposal :func:`apply` uses
    and the store records beside an answer, so an override is visible. NaN proposals (evidence
    that informs) decide nothing."""
    out: dict[str, tuple[float, str | None]] = {}
    values = pd.to_numeric(proposals["proposed"], errors="coerce")
    reasons = proposals["reason"] if "reason" in proposals.columns else [None] * len(proposals)
    for qid, value, reason in zip(proposals["id"], values, reasons, strict=True):
        check_id(qid, where="proposals")
        if pd.isna(value) or (qid in out and out[qid][0] <= value):
            continue
        out[qid] = (float(value), None if pd.isna(reason) else str(reason))
    return out


# ----------------------------------------------------------------------------- helpers
def _as_dict(key: str, value: Any) -> dict[str, Any]:
    """The JSON form of an audit result (objects are converted with ``.to_dict()``)."""
    if isinstance(value, Mapping):
        data = dict(value)
    elif callable(getattr(value, "to_dict", None)):
        data = value.to_dict()
    else:
        data = None
    if not isinstance(data, dict) or not any(k in data for k in _SIGNATURE[key]):
        found = (
            f"a dict with keys {sorted(data)[:8]}"
            if isinstance(data, dict)
            else f"a {type(value).__name__}"
        )
        raise ParameterError(
            f"the {key!r} entry is not a {key} audit result",
            where=f"propose: audits[{key!r}]",
            expected=f"a {_WHAT[key]} or its .to_dict()",
            found=found,
            fix=f"pass the result of the {key} audit under the key {key!r}",
        )
    return data


def _row(
    qid: str,
    proposed: float | None,
    reason: str,
    audit: str,
    finding: Mapping[str, Any] | None = None,
    *,
    money: float | None = None,
    currency: str | None = None,
    severity: str | None = None,
) -> Row:
    finding = finding or {}
    if money is None:
        money = finding.get("money")
    if currency is None:
        currency = finding.get("currency")
    return {
        "id": qid,
        "proposed": math.nan if proposed is None else float(proposed),
        "reason": reason,
        "audit": audit,
        "finding": str(finding.get("text") or ""),
        "severity": severity or str(finding.get("severity") or "info"),
        "money": math.nan if money is None else float(money),
        "currency": "" if money is None or currency is None else str(currency),
    }


def _find(summary: Iterable[Mapping[str, Any]], test: Callable[[str], bool]) -> dict | None:
    """The first finding whose text passes ``test``."""
    for finding in summary or []:
        if test(str(finding.get("text", ""))):
            return dict(finding)
    return None


def _names(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _money(amount: float | None, currency: str | None) -> str:
    return format_money(float(amount), currency or None) if amount is not None else "n/a"


def _date(value: Any) -> str:
    return str(value)[:10] if value else "?"


def _metric_rows(
    audit: str,
    label: str,
    offline: float | None,
    serving: float | None,
    what: str,
    finding: dict | None,
) -> list[Row]:
    """Model 2 from an offline and a serving value of the same metric."""
    if offline is None or serving is None or not offline:
        return []
    apart = abs(offline - serving) / abs(offline)
    if apart > METRIC_AGREEMENT:
        reason = (
            f"{what} scores {label} {offline:.3f} offline but {serving:.3f} on the serving log "
            f"({apart:.0%} apart, more than {METRIC_AGREEMENT:.0%}): offline and online metrics "
            "disagree, so offline gains do not predict production."
        )
        return [_row("model_2", 0.0, reason, audit, finding)]
    reason = (
        f"{what} scores {label} {offline:.3f} offline and {serving:.3f} on the serving log "
        f"(within {METRIC_AGREEMENT:.0%}), compared by hand with prodready."
    )
    return [_row("model_2", 0.5, reason, audit, finding)]


def _leakage_rows(audit: str, names: list[str], finding: dict | None, how: str) -> list[Row]:
    """Data 4 and the pilot trap from features a model cannot have at prediction time."""
    listed = _names(names)
    return [
        _row(
            "data_4",
            0.0,
            f"The {audit} audit found {len(names)} feature(s) {how} ({listed}): availability at "
            "prediction time is a meta-level requirement they break.",
            audit,
            finding,
        ),
        _row(
            "org_pilot",
            0.0,
            f"The model was built with {listed}, which production does not have at prediction "
            "time: the pilot was not built on the production architecture (the pilot trap).",
            audit,
            finding,
        ),
    ]


# ----------------------------------------------------------------------------- the rules
def _overview_rules(data: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    summary = data.get("summary") or []
    primary = data.get("primary_metric")
    headline = next((h for h in data.get("headline") or [] if h.get("metric") == primary), None)
    if headline:
        finding = _find(summary, lambda t: "on the training data but" in t)
        rows += _metric_rows(
            "overview",
            str(headline.get("label") or primary),
            headline.get("offline"),
            headline.get("serving"),
            "The served model",
            finding,
        )
    hidden = [
        str(f["feature"])
        for f in data.get("features") or []
        if f.get("available_at_prediction") is False
    ]
    if hidden:
        finding = _find(summary, lambda t: "not available at prediction time" in t)
        rows += _leakage_rows("overview", hidden, finding, "declared not available at prediction")
    value, without = data.get("business_value"), data.get("value_without_model")
    if value and without and value.get("total") is not None and without.get("total") is not None:
        currency = value.get("currency")
        difference = float(value["total"]) - float(without["total"])
        finding = _find(summary, lambda t: "decisions were worth" in t)
        if difference < 0:
            verdict = (
                f"{_money(-difference, currency)} less than never acting: a team that counts "
                "this model a success measures something other than business impact"
            )
        else:
            verdict = f"{_money(difference, currency)} more than never acting"
        reason = (
            f"On {int(value.get('decisions') or 0):,} labelled decisions the served model was "
            f"worth {_money(value['total'], currency)}, {verdict}; the audit cannot tell how the "
            "team measures success."
        )
        rows.append(
            _row(
                "org_success",
                None,
                reason,
                "overview",
                finding,
                money=difference,
                currency=currency,
            )
        )
    return rows


def _skew_rules(data: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    summary = data.get("summary") or []
    features = data.get("features") or []

    def about(name: str) -> dict | None:
        return _find(summary, lambda t: t.startswith(f"{name} "))

    skewed = [f for f in features if f.get("problem") in ("row mismatch", "unit change")]
    leaky = [str(f["feature"]) for f in features if f.get("problem") == "leakage"]
    not_other = ("leakage", "row mismatch", "unit change", "", None)
    other = [
        f
        for f in features
        if f.get("severity") in ("high", "medium") and f.get("problem") not in not_other
    ]
    joined = (data.get("rows") or {}).get("joined")
    if skewed:
        listed = [f"{f['feature']} {float(f.get('row_mismatch_rate') or 0):.0%}" for f in skewed]
        names = [str(f["feature"]) for f in skewed]
        finding = about(names[0])
        rows.append(
            _row(
                "monitor_3",
                0.0,
                f"The skew audit found {len(skewed)} feature(s) computed differently in training "
                f"and serving on the same events ({_names(listed)} of events differ).",
                "skew",
                finding,
            )
        )
        rows.append(
            _row(
                "data_7",
                None,
                f"Feature code computes different values offline and online for {_names(names)}: "
                "no test compares the two pipelines, or one that does has not run on them.",
                "skew",
                finding,
            )
        )
    elif joined:
        rows.append(
            _row(
                "monitor_3",
                0.5,
                f"The skew audit compared {int(joined):,} events value by value, by hand with "
                "prodready: no feature is computed differently in training and serving.",
                "skew",
                _find(summary, lambda t: "events are in both data sets" in t),
            )
        )
    else:
        rows.append(
            _row(
                "monitor_3",
                None,
                f"Training and serving share no event ids, so only distributions were compared: "
                f"{len(other)} feature(s) shift; a value-by-value check needs shared ids.",
                "skew",
            )
        )
    flagged = skewed + other
    if flagged:
        listed = [f"{f['feature']} ({f.get('problem')})" for f in flagged]
        rows.append(
            _row(
                "data_1",
                None,
                f"A schema with units, ranges and known categories would flag {len(flagged)} "
                f"feature(s) the skew audit found: {_names(listed)}; the audit cannot tell "
                "whether the team has one.",
                "skew",
                about(str(flagged[0]["feature"])),
            )
        )
    if leaky:
        rows += _leakage_rows(
            "skew", leaky, about(leaky[0]), "not available at prediction time or leaking"
        )
    else:
        rows.append(
            _row(
                "data_4",
                None,
                "The skew audit found no feature unavailable at prediction time or leaking; other "
                "meta-level rules (sources, personal data) are for the team to show.",
                "skew",
            )
        )
    gap = data.get("metric_gap") or {}
    table = gap.get("table") or []
    if table:
        rows += _metric_rows(
            "skew",
            str(gap.get("label") or gap.get("metric") or "the metric"),
            table[0].get("offline"),
            table[0].get("serving"),
            "Trained on all features, the skew audit's baseline model",
            _find(summary, lambda t: t.startswith("Trained on all features")),
        )
    return rows


def _rollout_rules(data: dict[str, Any]) -> list[Row]:
    summary = data.get("summary") or []
    stages = (data.get("plan") or {}).get("stages") or []
    decisions = data.get("decisions") or []
    last = decisions[-1] if decisions else {}
    outcome = data.get("outcome")
    plan = ", ".join(
        f"{s.get('name')} {s.get('days')} d at {float(s.get('share') or 0):g}%" for s in stages
    )
    if outcome == "promoted":
        decided = (
            f"the challenger would have been promoted on {_date(last.get('date'))}, "
            "no rollback rule firing"
        )
    elif outcome == "rolled_back":
        decided = (
            f"the challenger would have been rolled back on {_date(last.get('date'))} in the "
            f"{last.get('stage')} stage ({last.get('reason')})"
        )
    else:
        decided = f"no decision was reached ({last.get('reason', 'the log ended')})"
    finding = _find(summary, lambda t: "would have been" in t or "No decision" in t)
    gain = _find(summary, lambda t: "the rollout realised" in t)
    money = (finding or {}).get("money")
    if money is None:
        money = (gain or {}).get("money")
    currency = data.get("currency")
    shadow = any(float(s.get("share") or 0) == 0 for s in stages)
    canary = any(0 < float(s.get("share") or 0) < 100 for s in stages)
    rollback_rules = [
        str(t.get("name")) for t in data.get("triggers") or [] if t.get("action") == "rollback"
    ]
    replayed = f"A {data.get('plan_days', '?')}-day rollout plan ({plan}) was replayed by hand"

    def row(qid: str, ok: bool, reason: str) -> Row:
        return _row(
            qid, 0.5 if ok else None, reason, "rollout", finding, money=money, currency=currency
        )

    rows = [
        row(
            "infra_6",
            canary,
            f"{replayed} with prodready: {decided}."
            + ("" if canary else " The plan has no canary stage (0 < share < 100%)."),
        ),
        row(
            "org_shadow_canary",
            shadow and canary,
            f"{replayed} with prodready"
            + (
                f", shadow and canary included: {decided}."
                if shadow and canary
                else f": {decided}; it lacks a "
                + ("shadow" if not shadow else "canary")
                + " stage."
            ),
        ),
    ]
    if rollback_rules:
        said = (
            f"{len(rollback_rules)} rollback rule(s) replayed on the log "
            f"({_names(rollback_rules, 4)}): {decided}."
        )
    else:
        said = f"The replayed plan had no rollback rule: {decided}."
    rows.append(row("infra_7", bool(rollback_rules), said))
    rows.append(row("org_rollback", bool(rollback_rules), said))
    return rows


def _monitoring_rules(data: dict[str, Any]) -> list[Row]:
    replay = data.get("replay") or data
    detection = data.get("detection")
    summary = data.get("summary") or replay.get("summary") or []
    alerts = replay.get("alerts") or []
    span = f"{_date(replay.get('monitored_start'))} to {_date(replay.get('monitored_end'))}"

    def fired(family: str) -> list[dict]:
        return [a for a in alerts if a.get("family") == family]

    def first_alert(family: str, words: str) -> tuple[str, dict | None]:
        hits = sorted(fired(family), key=lambda a: str(a.get("first_fire")))
        if not hits:
            return f"no {words} monitor fired over the replay ({span})", None
        head = hits[0]
        return (
            f"{len(hits)} {words} monitor(s) fired, the first on {_date(head.get('first_fire'))} "
            f"({head.get('monitor')})",
            _find(summary, lambda t: t.startswith(f"First {words} alert")),
        )

    rows: list[Row] = []
    practice = "the audit cannot tell whether the team watches them"
    # business KPIs: the silent-failure finding, and what watching only system health cost
    business, finding = first_alert("business", "business")
    silent = _find(summary, lambda t: t.startswith("System health") and "stayed green" in t)
    money = currency = None
    if detection and detection.get("table"):
        lost = [
            float(r["money_lost_before_detection"])
            for r in detection["table"]
            if r.get("family") == "system_health"
            and r.get("money_lost_before_detection") is not None
        ]
        if lost:
            money, currency = sum(lost), detection.get("currency") or replay.get("currency")
            business += (
                f"; a team watching only system health would have lost "
                f"{_money(money, currency)} over the {len(lost)} known incident(s)"
            )
    rows.append(
        _row(
            "org_business_kpis",
            None,
            f"Replayed on the serving log, {business}; {practice}.",
            "monitoring",
            silent or finding,
            money=money,
            currency=currency,
        )
    )
    quality, finding = first_alert("performance", "performance")
    skipped = [n for n in replay.get("notes") or [] if "is skipped" in str(n)]
    if skipped:
        quality += f"; {len(skipped)} label-based monitor(s) could not run (labels arrive late)"
    rows.append(
        _row(
            "monitor_7",
            None,
            f"Replayed on the serving log, {quality}; {practice}.",
            "monitoring",
            finding,
        )
    )
    inputs, finding = first_alert("data_quality", "data quality")
    targets = sorted({str(a.get("target")) for a in fired("data_quality")})
    if targets:
        inputs += f" on {_names(targets)}"
    rows.append(
        _row(
            "monitor_2",
            None,
            f"Replayed on the serving log, {inputs}; {practice}.",
            "monitoring",
            finding,
        )
    )
    health, finding = first_alert("system_health", "system health")
    if not fired("system_health"):
        finding = silent or _find(summary, lambda t: t.startswith("No system health"))
    rows.append(
        _row(
            "monitor_6",
            None,
            f"Replayed on the serving log, {health}: volume and error rate say the service runs, "
            "not how fast or at what cost; latency and resources are for the team to show.",
            "monitoring",
            finding,
        )
    )
    return rows


def _decay_rules(data: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    summary = data.get("summary") or []
    aging = data.get("aging") or {}
    policies = data.get("policies") or {}
    curve = aging.get("curve") or []
    if aging.get("models_trained") and curve:
        first, last = curve[0], curve[-1]
        metric = METRIC_LABELS.get(str(aging.get("metric")), str(aging.get("metric") or "metric"))
        half = aging.get("half_life_days")
        half_text = (
            f"half-life {float(half):.0f} days"
            if half is not None
            else f"no half-life within {last.get('model_age_days')} days"
        )
        rows.append(
            _row(
                "model_4",
                0.5,
                f"The decay audit measured staleness by hand with prodready: "
                f"{aging['models_trained']} models, median {metric} {first.get('median'):.3f} "
                f"when new and {last.get('median'):.3f} at {last.get('model_age_days')} days "
                f"({half_text}).",
                "decay",
                (aging.get("summary") or [None])[0],
            )
        )
    table = policies.get("table") or []
    recommended = policies.get("recommended")
    never = next((p for p in table if p.get("policy") == "never retrain"), None)
    best = next((p for p in table if p.get("policy") == recommended), None)
    currency = policies.get("currency")
    if never and best and never.get("net") is not None and best.get("net") is not None:
        gain = float(best["net"]) - float(never["net"])
        if gain > 0:
            finding = _find(summary, lambda t: t.startswith("Against never retraining"))
            reason = (
                f"The decay audit found a model that is never retrained loses "
                f"{_money(gain, currency)} over the history against '{recommended}' "
                f"({best.get('retrains')} retrainings, net of their cost): unless the team "
                "already retrains that way, staleness costs money."
            )
            for qid in ("monitor_4", "org_retraining"):
                rows.append(_row(qid, 0.0, reason, "decay", finding, money=gain, currency=currency))
            return rows
        reason = (
            f"The decay audit found no retraining policy worth its cost: '{recommended}' is "
            f"best ({_money(best['net'], currency)} net); staleness costs nothing measurable yet."
        )
    elif recommended:
        reason = f"The decay audit recommends '{recommended}': {policies.get('reason', '')}"
    else:
        return rows
    finding = _find(summary, lambda t: t.startswith("Recommended"))
    for qid in ("monitor_4", "org_retraining"):
        rows.append(_row(qid, None, reason, "decay", finding))
    return rows


def _review_rules(data: dict[str, Any]) -> list[Row]:
    totals = data.get("totals") or {}
    summary = data.get("summary") or []
    band = data.get("band") or []
    where = f"[{band[0]:g}, {band[1]:g})" if len(band) == 2 else "(as set)"
    currency = data.get("currency")
    net = totals.get("net")
    value = (
        f"net {_money(net, currency)} ({int(totals.get('errors_avoided') or 0):,} errors "
        f"avoided, review cost {_money(totals.get('cost'), currency)})"
        if net is not None
        else "no net value yet (no labels have arrived)"
    )
    reason = (
        f"Replaying a review band {where} with "
        f"{data.get('capacity_per_day')} reviews a day on the serving log: {value}; the queue "
        f"overflowed on {totals.get('days_with_overflow', 0)} of {totals.get('days', 0)} days. "
        "The audit cannot tell whether the team has reviewers."
    )
    finding = _find(summary, lambda t: "review" in t and "net" in t) or (
        dict(summary[0]) if summary else None
    )
    return [_row("org_human_review", None, reason, "review", finding, money=net, currency=currency)]


_RULES: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "overview": _overview_rules,
    "skew": _skew_rules,
    "rollout": _rollout_rules,
    "monitoring": _monitoring_rules,
    "decay": _decay_rules,
    "review": _review_rules,
}
