"""What every page of the app shares: the current case in session state, caches, and the few
rendering helpers that give every table a CSV download and every figure an HTML download.

Nothing here computes a number: cases come from :mod:`prodready` (``load_case``,
``samples.load``, ``Case.from_frames``), numbers from :func:`prodready.overview.overview`,
:func:`prodready.skew.audit`, :func:`prodready.rollout.simulate`,
:func:`prodready.rollout.monte_carlo`, :func:`prodready.decay.aging_curve`,
:func:`prodready.decay.compare_policies` and :func:`prodready.estimate.estimate_case`, figures from
:mod:`prodready.charts`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from prodready import Case, decay, estimate, load_case, monitoring, review, rollout, samples, skew
from prodready.data.readers import read_table
from prodready.errors import ParameterError, ProdreadyError
from prodready.overview import CaseOverview, overview
from prodready.rollout import scenarios

SAMPLE = "card_fraud"
CASE_ENV = "PRODREADY_CASE"
SEED = 0

# session-state keys
CASE = "case"
CASE_KEY = "case_key"  # identifies the case's data and mapping; keys the overview cache
CASE_ORIGIN = "case_origin"  # "default" (sample or PRODREADY_CASE) or "upload"
DEFAULT_ERROR = "default_case_error"


# -- the case --------------------------------------------------------------------------------
def default_source() -> str:
    """The case loaded at start: ``PRODREADY_CASE`` if set, else the bundled sample."""
    path = os.environ.get(CASE_ENV, "").strip()
    return f"file:{Path(path).expanduser().resolve()}" if path else f"sample:{SAMPLE}"


def describe_source(source: str) -> str:
    kind, _, value = source.partition(":")
    return f"the bundled sample case {value!r}" if kind == "sample" else f"the case file {value}"


@st.cache_resource(show_spinner=False, max_entries=4)
def _load_default(source: str) -> Case:
    """Loaded once per process and shared by every session (a case is never modified)."""
    kind, _, value = source.partition(":")
    if kind == "sample":
        from prodready import samples

        return samples.load(value)
    return load_case(value)


def sample_source(name: str) -> str:
    """The source key of bundled sample ``name``."""
    return f"sample:{name}"


def load_default_case(source: str | None = None) -> Case | None:
    """Load the default case (or the bundled sample ``source``) into this session; on failure
    remember the message and return None."""
    source = source or default_source()
    try:
        with st.spinner(f"Loading {describe_source(source)}…"):
            case = _load_default(source)
    except ProdreadyError as err:
        st.session_state[DEFAULT_ERROR] = str(err)
        return None
    st.session_state.pop(DEFAULT_ERROR, None)
    set_case(case, key=source, origin="default")
    return case


def set_case(case: Case, *, key: str, origin: str) -> None:
    st.session_state[CASE] = case
    st.session_state[CASE_KEY] = key
    st.session_state[CASE_ORIGIN] = origin


def current_case() -> Case | None:
    """The session's case; the default one is loaded the first time a page asks."""
    if CASE not in st.session_state and DEFAULT_ERROR not in st.session_state:
        load_default_case()
    return st.session_state.get(CASE)


def default_case_error() -> str | None:
    return st.session_state.get(DEFAULT_ERROR)


def require_case() -> Case:
    """The case, or a clear message and a stop when there is none."""
    case = current_case()
    if case is None:
        if error := default_case_error():
            show_error(error)
        st.info("No case is loaded yet: load the sample or upload your data on the Case page.")
        st.page_link(
            "app_pages/case.py", label="Go to the Case page", icon=":material/folder_open:"
        )
        st.stop()
    return case


@st.cache_resource(show_spinner=False, max_entries=16)
def _overview(key: str, _case: Case, seed: int) -> CaseOverview:
    """One overview per case (``key`` names the case's data and mapping); results are frozen."""
    return overview(_case, seed=seed)


def case_overview(case: Case) -> CaseOverview:
    with st.spinner("Summarising the case (rows, time span, labels, offline vs serving)…"):
        return _overview(st.session_state.get(CASE_KEY) or f"id:{id(case)}", case, SEED)


@st.cache_resource(show_spinner=False, max_entries=16)
def _skew_audit(key: str, _case: Case, seed: int) -> skew.SkewAudit:
    """One skew audit per case, keyed like the overview; results are frozen."""
    return skew.audit(_case, seed=seed)


def skew_audit(case: Case) -> skew.SkewAudit:
    with st.spinner(
        "Auditing training against serving (distributions, shared rows, leakage, and two "
        "baseline models trained to measure the production gap)…"
    ):
        return _skew_audit(st.session_state.get(CASE_KEY) or f"id:{id(case)}", case, SEED)


@st.cache_data(show_spinner=False, max_entries=64)
def _distribution_table(key: str, _case: Case, feature: str) -> pd.DataFrame:
    return skew.distribution_table(_case, feature)


def distribution_table(case: Case, feature: str) -> pd.DataFrame:
    """Training and serving shares of one feature (for its distribution chart), cached."""
    return _distribution_table(st.session_state.get(CASE_KEY) or f"id:{id(case)}", case, feature)


# -- the rollout simulator ---------------------------------------------------------------------
SAMPLE_SCENARIO = "sample challenger"  # the case's own challenger column
STAGE_COLUMNS = ["name", "days", "share"]
SEGMENT_COLUMN, SEGMENT_VALUE = "segment column", "segment value"
TRIGGER_FIELDS = [f.name for f in dataclasses.fields(rollout.Trigger) if f.name != "segment"]


def stage_table(plan: rollout.Plan | None = None) -> pd.DataFrame:
    """The stage editor's rows: name, days, share (percent served by the challenger)."""
    return (plan or rollout.Plan.default()).to_frame()[STAGE_COLUMNS]


def plan_from_table(table: pd.DataFrame) -> rollout.Plan:
    """The edited stage rows as a Plan; an empty cell reaches the Plan's own validation as a
    missing value, so every mistake gets the Plan's message."""
    stages = []
    for row in table.to_dict(orient="records"):
        name, days, share = (row.get(c) for c in STAGE_COLUMNS)
        stages.append(
            {
                "name": "" if _missing(name) else str(name),
                "days": float("nan") if _missing(days) else days,
                "share": float("nan") if _missing(share) else share,
            }
        )
    return rollout.Plan(tuple(stages))


def trigger_table(triggers: Sequence[rollout.Trigger]) -> pd.DataFrame:
    """The trigger editor's rows: one per rule, the segment split into column and value."""
    rows = []
    for trigger in triggers:
        row: dict[str, Any] = {"use": True, "rule": trigger.name}
        row.update({name: getattr(trigger, name) for name in TRIGGER_FIELDS})
        column, value = trigger.segment or ("", "")
        row[SEGMENT_COLUMN], row[SEGMENT_VALUE] = column, "" if value is None else str(value)
        rows.append(row)
    return pd.DataFrame(rows)


def triggers_from_table(table: pd.DataFrame, case: Case) -> list[rollout.Trigger]:
    """The ticked rows of the trigger editor as Triggers (their own validation applies). A
    segment value is read as a number when the segment column is numeric."""
    defaults = {f.name: f.default for f in dataclasses.fields(rollout.Trigger)}
    triggers = []
    for number, row in enumerate(table.to_dict(orient="records"), start=1):
        if row.get("use") is False:
            continue
        values = {
            name: defaults.get(name) if _missing(row.get(name)) else row[name]
            for name in TRIGGER_FIELDS
        }
        if _missing(values.get("kind")):
            raise ParameterError(
                "a trigger needs a kind",
                where=f"trigger row {number}",
                fix="pick business_value, metric_floor or score_psi, or untick the row",
            )
        column = row.get(SEGMENT_COLUMN)
        if not _missing(column) and str(column).strip():
            column = str(column).strip()
            value: Any = row.get(SEGMENT_VALUE)
            value = "" if _missing(value) else str(value).strip()
            if column in case.serving.columns and pd.api.types.is_numeric_dtype(
                case.serving[column].dtype
            ):
                try:
                    value = float(value)
                except ValueError:
                    raise ParameterError(
                        f"the segment column {column!r} holds numbers",
                        where=f"trigger row {number}",
                        found=repr(value),
                        fix="give a number as the segment value",
                    ) from None
            values["segment"] = (column, value)
        triggers.append(rollout.Trigger(**values))
    return triggers


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


@st.cache_resource(show_spinner=False, max_entries=16)
def _guardrail(key: str, _case: Case) -> rollout.Guardrail | None:
    """The package's suggested segment guardrail for the case's challenger, once per case.

    A suggestion only: when the package has none to give (no challenger column, say) the page
    starts from the default rules, and the replay itself explains what the case lacks.
    """
    try:
        return rollout.suggest_guardrail(_case)
    except ProdreadyError:
        return None


def suggested_guardrail(case: Case) -> rollout.Guardrail | None:
    """:func:`prodready.rollout.suggest_guardrail` for the case (``.trigger``, ``.why``), or
    None when no segment needs one; cached per case."""
    with st.spinner("Looking for a segment where the challenger needs a guardrail…"):
        return _guardrail(_case_key(case), case)


def initial_triggers(case: Case) -> tuple[list[rollout.Trigger], Any | None]:
    """The rules the trigger editor starts from: the default set, plus the suggested segment
    guardrail's rule when there is one; and that guardrail (or None)."""
    triggers = list(rollout.default_triggers(case))
    guardrail = suggested_guardrail(case)
    if guardrail is not None:
        triggers.append(guardrail.trigger)
    return triggers, guardrail


def _case_key(case: Case) -> str:
    return st.session_state.get(CASE_KEY) or f"id:{id(case)}"


def _challenger(case: Case, plan: rollout.Plan, scenario: str, seed: int):
    """The scenario's challenger scores; None for the case's own challenger column (the engine
    explains when there is none)."""
    if scenario == SAMPLE_SCENARIO:
        return None
    return scenarios.challenger_scores(case, scenario, plan=plan, seed=seed)


@st.cache_resource(show_spinner=False, max_entries=32)
def _rollout(
    key: str,
    _case: Case,
    plan_key: str,
    _plan: rollout.Plan,
    triggers_key: str,
    _triggers: tuple[rollout.Trigger, ...],
    scenario: str,
    seed: int,
) -> rollout.RolloutResult:
    """One replay per case, plan, triggers, scenario and seed (the keys spell them out)."""
    challenger = _challenger(_case, _plan, scenario, seed)
    return rollout.simulate(
        _case, plan=_plan, triggers=list(_triggers), challenger=challenger, seed=seed
    )


def rollout_result(
    case: Case,
    plan: rollout.Plan,
    triggers: Sequence[rollout.Trigger],
    scenario: str,
    seed: int = SEED,
) -> rollout.RolloutResult:
    """The replay of ``plan`` with ``triggers`` and the scenario's challenger, cached."""
    with st.spinner(f"Replaying the {plan.days}-day plan on the serving log ({scenario})…"):
        return _rollout(
            _case_key(case),
            case,
            _plan_key(plan),
            plan,
            _triggers_key(triggers),
            tuple(triggers),
            scenario,
            seed,
        )


def _plan_key(plan: rollout.Plan) -> str:
    return json.dumps(plan.to_dict(), sort_keys=True)


def _triggers_key(triggers: Sequence[rollout.Trigger]) -> str:
    return repr(tuple(triggers))  # every field of every rule


MONTE_CARLO = "rollout_monte_carlo"  # session state: {inputs' key: MonteCarloResult}
MONTE_CARLO_KEPT = 8  # results kept per session


@st.cache_data(show_spinner=False, max_entries=16)
def _monte_carlo(
    key: str,
    _case: Case,
    plan_key: str,
    _plan: rollout.Plan,
    triggers_key: str,
    _triggers: tuple[rollout.Trigger, ...],
    scenario: str,
    replays: int,
    seed: int,
) -> rollout.MonteCarloResult:
    """One Monte Carlo per case, plan, triggers, scenario, number of replays and seed."""
    challenger = _challenger(_case, _plan, scenario, seed)
    return rollout.monte_carlo(
        _case, plan=_plan, triggers=list(_triggers), n=replays, seed=seed, challenger=challenger
    )


def monte_carlo_key(
    case: Case,
    plan: rollout.Plan,
    triggers: Sequence[rollout.Trigger],
    scenario: str,
    replays: int,
    seed: int = SEED,
) -> str:
    """Names every input of a Monte Carlo run (the key its result is kept under)."""
    parts = [_case_key(case), _plan_key(plan), _triggers_key(triggers), scenario, replays, seed]
    return json.dumps(parts)


def run_monte_carlo(
    case: Case,
    plan: rollout.Plan,
    triggers: Sequence[rollout.Trigger],
    scenario: str,
    replays: int,
    seed: int = SEED,
) -> rollout.MonteCarloResult:
    """``replays`` replays of the plan, each with its own arm assignment (cached), kept in the
    session under its inputs so later reruns show it again without the button."""
    with st.spinner(
        f"Replaying the {plan.days}-day plan {replays:,} times, each with its own arm "
        f"assignment ({scenario})…"
    ):
        result = _monte_carlo(
            _case_key(case),
            case,
            _plan_key(plan),
            plan,
            _triggers_key(triggers),
            tuple(triggers),
            scenario,
            int(replays),
            seed,
        )
    key = monte_carlo_key(case, plan, triggers, scenario, replays, seed)
    kept = {k: v for k, v in st.session_state.get(MONTE_CARLO, {}).items() if k != key}
    kept[key] = result  # the newest last: the oldest go first
    st.session_state[MONTE_CARLO] = dict(list(kept.items())[-MONTE_CARLO_KEPT:])
    return result


def kept_monte_carlo(
    case: Case,
    plan: rollout.Plan,
    triggers: Sequence[rollout.Trigger],
    scenario: str,
    replays: int,
    seed: int = SEED,
) -> rollout.MonteCarloResult | None:
    """The session's Monte Carlo result for exactly these inputs, if it was run."""
    kept = st.session_state.get(MONTE_CARLO, {})
    return kept.get(monte_carlo_key(case, plan, triggers, scenario, replays, seed))


def has_monte_carlo() -> bool:
    """Whether this session ran any Monte Carlo (for other inputs, when none is kept for these)."""
    return bool(st.session_state.get(MONTE_CARLO))


# -- decay and retraining ----------------------------------------------------------------------
DECAY_RESULTS = "decay_results"  # session state: {inputs' key: DecayRun}
DECAY_KEPT = 8  # runs kept per session


def decay_policy_names() -> list[str]:
    """The names of :func:`prodready.decay.default_policies`, in order (the page's choices)."""
    return [p.name for p in decay.default_policies()]


def decay_policies(names: Sequence[str], every_days: int = 0) -> list[decay.Policy]:
    """The chosen default policies, in their order, and ``every(every_days)`` when it is not 0
    and not one of them already."""
    chosen = [p for p in decay.default_policies() if p.name in set(names)]
    if every_days:
        custom = decay.every(int(every_days))
        if custom.name not in {p.name for p in chosen}:
            chosen.append(custom)
    return chosen


@dataclasses.dataclass(frozen=True)
class DecaySettings:
    """The page's controls: what one run of the aging curve and the policy comparison uses."""

    train_window_days: int = 90
    step_days: int = 7
    metric: str | None = None  # None: the task's default (ROC AUC or MAE)
    lost_share: float = 0.5
    retrain_cost: float = decay.policies.DEFAULT_RETRAIN_COST
    policies: tuple[str, ...] = tuple(decay_policy_names())
    every_days: int = 0  # a custom "every N days" policy; 0: none
    seed: int = SEED


@dataclasses.dataclass(frozen=True)
class DecayRun:
    """One run: each part's result, or None when it failed, and the failures' messages."""

    aging: decay.AgingCurve | None
    policies: decay.PolicyComparison | None
    errors: tuple[str, ...] = ()


def _progress_bar(text: str):
    """A progress bar and the ``progress(done, total)`` callback the decay functions call."""
    bar = st.progress(0.0, text=text)

    def progress(done: int, total: int) -> None:
        share = done / total if total else 1.0
        bar.progress(min(max(share, 0.0), 1.0), text=f"{text} {done} of {total}")

    return bar, progress


@st.cache_data(show_spinner=False, max_entries=16)
def _aging(
    key: str, _case: Case, train_window: int, step: int, metric: str | None, lost: float, seed: int
) -> decay.AgingCurve:
    """One aging curve per case and settings. The progress bar is made here, so a cache hit
    replays it (full, then gone) instead of pointing at a bar of another run."""
    bar, progress = _progress_bar("Aging curve: models trained")
    try:
        return decay.aging_curve(
            _case,
            train_window=train_window,
            step=step,
            metric=metric,
            lost_share=lost,
            seed=seed,
            progress=progress,
        )
    finally:
        bar.empty()


@st.cache_data(show_spinner=False, max_entries=16)
def _policy_comparison(
    key: str,
    _case: Case,
    names: tuple[str, ...],
    every_days: int,
    train_window: int,
    step: int,
    metric: str | None,
    seed: int,
) -> decay.PolicyComparison:
    """One policy comparison per case and settings but the retraining cost, which only
    reprices it (``with_retrain_cost``): a new cost answers at once. Progress bar as for
    :func:`_aging`."""
    bar, progress = _progress_bar("Retraining policies: periods replayed")
    try:
        return decay.compare_policies(
            _case,
            decay_policies(names, every_days),
            retrain_cost=0.0,
            train_window=train_window,
            step=step,
            metric=metric,
            seed=seed,
            progress=progress,
        )
    finally:
        bar.empty()


def decay_key(case: Case, settings: DecaySettings) -> str:
    """Names every input of a decay run but the retraining cost, which only reprices a run
    (the key its result is kept under)."""
    replayed = dataclasses.asdict(dataclasses.replace(settings, retrain_cost=0.0))
    return json.dumps([_case_key(case), replayed], sort_keys=True)


def run_decay(case: Case, settings: DecaySettings) -> DecayRun:
    """The aging curve and the policy comparison for ``settings`` (cached per case and
    settings), kept in the session under its inputs so later reruns show it without the
    button. A part the package refuses (history too short, no policy chosen...) is None and its
    message is in ``errors``."""
    key, s = _case_key(case), settings
    aging = policies = None
    errors: list[str] = []
    try:
        aging = _aging(key, case, s.train_window_days, s.step_days, s.metric, s.lost_share, s.seed)
    except ProdreadyError as error:
        errors.append(str(error))
    try:
        policies = _policy_comparison(
            key,
            case,
            tuple(s.policies),
            int(s.every_days),
            s.train_window_days,
            s.step_days,
            s.metric,
            s.seed,
        ).with_retrain_cost(float(s.retrain_cost))
    except ProdreadyError as error:
        errors.append(str(error))
    run = DecayRun(aging, policies, tuple(dict.fromkeys(errors)))
    run_key = decay_key(case, settings)
    kept = {k: v for k, v in st.session_state.get(DECAY_RESULTS, {}).items() if k != run_key}
    kept[run_key] = run  # the newest last: the oldest go first
    st.session_state[DECAY_RESULTS] = dict(list(kept.items())[-DECAY_KEPT:])
    return run


def kept_decay(case: Case, settings: DecaySettings) -> DecayRun | None:
    """The session's run for these inputs, if it was run, priced at their retraining cost."""
    run = st.session_state.get(DECAY_RESULTS, {}).get(decay_key(case, settings))
    if run is None or run.policies is None:
        return run
    return dataclasses.replace(
        run, policies=run.policies.with_retrain_cost(float(settings.retrain_cost))
    )


def has_decay() -> bool:
    """Whether this session ran the decay audit at all (for other inputs, when none is kept)."""
    return bool(st.session_state.get(DECAY_RESULTS))


@st.cache_data(show_spinner=False, max_entries=16)
def _estimate(key: str, _case: Case) -> estimate.PerformanceEstimate:
    return estimate.estimate_case(_case)


def label_free_estimate(case: Case) -> estimate.PerformanceEstimate:
    """:func:`prodready.estimate.estimate_case` with its defaults, cached per case."""
    with st.spinner("Estimating ROC AUC and accuracy from calibrated scores…"):
        return _estimate(_case_key(case), case)


# -- human review ------------------------------------------------------------------------------
REVIEW_CAPACITY = 20  # the page's defaults: reviews a day, cost of one review, reviewer accuracy
REVIEW_COST = 5.0
REVIEW_ACCURACY = 0.95


@st.cache_resource(show_spinner=False, max_entries=32)
def _review_sweep(
    key: str, _case: Case, capacity: int, cost: float, accuracy: float, seed: int
) -> review.ReviewSweep:
    """One sweep of the default band widths per case and settings; results are frozen."""
    return review.sweep(
        _case,
        capacity_per_day=capacity,
        cost_per_review=cost,
        reviewer_accuracy=accuracy,
        seed=seed,
    )


def review_sweep(
    case: Case, capacity: int, cost: float, accuracy: float, seed: int = SEED
) -> review.ReviewSweep:
    """:func:`prodready.review.sweep` around the case threshold with the default widths,
    cached per case and settings."""
    with st.spinner("Replaying review bands of every width on the serving log…"):
        return _review_sweep(_case_key(case), case, int(capacity), float(cost), accuracy, seed)


@st.cache_resource(show_spinner=False, max_entries=32)
def _review_result(
    key: str,
    _case: Case,
    band: tuple[float, float],
    capacity: int,
    cost: float,
    accuracy: float,
    seed: int,
) -> review.ReviewResult:
    """One replay per case, band and settings; results are frozen."""
    return review.simulate(
        _case,
        band=band,
        capacity_per_day=capacity,
        cost_per_review=cost,
        reviewer_accuracy=accuracy,
        seed=seed,
    )


def review_result(
    case: Case,
    band: tuple[float, float],
    capacity: int,
    cost: float,
    accuracy: float,
    seed: int = SEED,
) -> review.ReviewResult:
    """:func:`prodready.review.simulate` of ``band``, cached per case, band and settings."""
    with st.spinner("Replaying the review band on the serving log, day by day…"):
        return _review_result(
            _case_key(case),
            case,
            (float(band[0]), float(band[1])),
            int(capacity),
            float(cost),
            accuracy,
            seed,
        )


# -- monitoring ----------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False, max_entries=16)
def _monitoring_replay(key: str, _case: Case) -> monitoring.MonitoringReplay:
    """One replay of the default monitors per case; results are frozen."""
    return monitoring.replay(_case)


def monitoring_replay(case: Case) -> monitoring.MonitoringReplay:
    """:func:`prodready.monitoring.replay` with the default monitors, cached per case."""
    with st.spinner("Replaying the monitors on the serving log, day by day…"):
        return _monitoring_replay(_case_key(case), case)


@st.cache_resource(show_spinner=False)
def _sample_names() -> dict[str, str]:
    """{case name: sample name} of the bundled samples."""
    return {samples.load(name).name: name for name in samples.available()}


def sample_name(case: Case) -> str | None:
    """The bundled sample this case is (matched by case name), else None."""
    return _sample_names().get(case.name)


@st.cache_resource(show_spinner=False, max_entries=16)
def _detection(
    key: str, incidents_key: str, _case: Case, _incidents: pd.DataFrame
) -> monitoring.DetectionReport:
    """One detection report per case and incidents; results are frozen."""
    return monitoring.detection_report(_monitoring_replay(key, _case), _case, _incidents)


def detection(
    case: Case, incidents: pd.DataFrame, incidents_key: str
) -> monitoring.DetectionReport:
    """:func:`prodready.monitoring.detection_report` of the cached replay, cached per case and
    incidents (``incidents_key`` names them: a sample's name or an upload's hash)."""
    return _detection(_case_key(case), incidents_key, case, incidents)


# -- uploads and the mapping form ------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=6)
def read_upload(data: bytes, name: str) -> pd.DataFrame:
    """An uploaded CSV or Parquet file as a frame (cached by content, so reruns are fast)."""
    return read_table(data, name=name)


def upload_key(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def mapping_key(mapping: Mapping[str, Any]) -> str:
    return json.dumps(mapping, sort_keys=True, default=str)


_ROLE_PATTERNS: dict[str, tuple[str, ...]] = {
    "timestamp": (
        r"^(event_)?time(stamp)?$",
        r"^(prediction|scored|event|created|request)_(time|at|ts)$",
        r"^ts$",
        r"^date(time)?$",
        r"time|date",
    ),
    "label": (r"^(label|target|y|outcome|class|truth)$", r"^is_", r"label|target"),
    "prediction": (
        r"^(score|prediction|pred|proba|probability|y_pred|model_score)$",
        r"^(champion_)?(score|pred)",
        r"score|pred|prob",
    ),
    "id": (r"^id$", r"_id$", r"^(key|uuid)$"),
    "label_time": (r"^label_(time|at|ts|date)$", r"^(labelled|labeled|outcome)_(at|time)$"),
    "challenger": (r"challenger", r"^(candidate|new)_(score|model)"),
}


def guess_role(role: str, columns: Sequence[str], taken: Sequence[str] = ()) -> str | None:
    """The column most likely to play ``role``, by name (the user can always change it)."""
    free = [c for c in columns if c not in taken]
    if role == "timestamp":
        free = [c for c in free if not re.search(r"label", c, re.IGNORECASE)]
    if role == "prediction":
        free = [c for c in free if not re.search(r"challenger", c, re.IGNORECASE)]
    for pattern in _ROLE_PATTERNS[role]:
        for column in free:
            if re.search(pattern, column, re.IGNORECASE):
                return column
    return None


def guess_roles(training: pd.DataFrame, serving: pd.DataFrame) -> dict[str, str | None]:
    columns = all_columns(training, serving)
    order = ("label_time", "challenger", "timestamp", "label", "prediction", "id")
    roles: dict[str, str | None] = {}
    for role in order:
        roles[role] = guess_role(role, columns, [c for c in roles.values() if c])
    return roles


def guess_task(training: pd.DataFrame, label: str | None) -> str:
    """Binary when the label takes at most two values, else regression."""
    if label is None or label not in training:
        return "binary"
    values = training[label].dropna()
    return "binary" if values.nunique() <= 2 else "regression"


def all_columns(training: pd.DataFrame, serving: pd.DataFrame) -> list[str]:
    """Training columns first, then the serving log's own (both sets, in file order)."""
    names = [str(c) for c in training.columns]
    return names + [str(c) for c in serving.columns if str(c) not in names]


def feature_defaults(
    training: pd.DataFrame, serving: pd.DataFrame, roles: Mapping[str, str | None]
) -> pd.DataFrame:
    """The features table the form starts from: every training column, typed by its dtype.

    Role columns start unticked; a column the serving log lacks starts as not available at
    prediction time (production cannot have fed it to the model).
    """
    taken = {c for c in roles.values() if c}
    rows = []
    for name in map(str, training.columns):
        dtype = training[name].dtype
        numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        rows.append(
            {
                "feature": name,
                "use": name not in taken,
                "type": "numeric" if numeric else "categorical",
                "available_at_prediction": name in serving.columns,
                "availability_lag": "",
            }
        )
    return pd.DataFrame(rows)


def features_from_table(table: pd.DataFrame, roles: Mapping[str, str | None]) -> list[dict]:
    """The ticked rows of the features table as feature entries; role columns are skipped."""
    taken = {c for c in roles.values() if c}
    features = []
    for row in table.to_dict(orient="records"):
        if not row.get("use") or row["feature"] in taken:
            continue
        entry: dict[str, Any] = {
            "name": row["feature"],
            "type": row.get("type") or "numeric",
            "available_at_prediction": bool(row.get("available_at_prediction", True)),
        }
        lag = row.get("availability_lag")
        if isinstance(lag, str) and lag.strip():
            entry["availability_lag"] = lag.strip()
        features.append(entry)
    return features


def build_case(
    training: pd.DataFrame,
    serving: pd.DataFrame,
    mapping: Mapping[str, Any],
    names: tuple[str, str] = ("training data", "serving log"),
) -> tuple[Case | None, str | None]:
    """Frames + the form's mapping -> (case, None) or (None, the message to show). ``names``
    (the uploaded files' names) are what messages call the two files."""
    try:
        return Case.from_frames(training, serving, **mapping, names=names), None
    except ProdreadyError as err:
        return None, str(err)


# -- rendering helpers -----------------------------------------------------------------------
def show_error(error: ProdreadyError | str) -> None:
    """``st.error(str(error))``, keeping the message's lines (problem, Expected, Found, How to
    fix) on their own lines: markdown would otherwise run them into one paragraph."""
    st.error(str(error).replace("\n", "  \n"), icon=":material/error:")


TILES_CSS = Path(__file__).with_name("tiles.css")  # fixed rules, no user text


def tile_style() -> None:
    """The app's one style sheet (``tiles.css``): tiles show whole values and labels at laptop
    size instead of Streamlit's ellipsis. ``st.html`` adds a style-only file without taking
    room on the page."""
    st.html(TILES_CSS)


def intro(text: str) -> None:
    """The one sentence under a page title that says what the page tells you. The text is
    escaped (callers pass fixed text; escaping keeps it so should one ever pass user text)."""
    st.markdown(
        f"<p style='font-size:1.1rem;color:#555;margin-top:-0.6rem'>{html.escape(text)}</p>",
        unsafe_allow_html=True,
    )


def upload_cap_mb() -> int:
    """The largest file an uploader takes, in MB, as Streamlit enforces it (the cap set in
    app/.streamlit/config.toml): the uploaders' help says this number, read here once, so the
    text cannot drift from the cap."""
    return int(st.get_option("server.maxUploadSize"))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "case"


def table(
    frame: pd.DataFrame,
    *,
    file_name: str,
    key: str,
    column_config: Mapping[str, Any] | None = None,
    index: bool = True,
    show_index: bool | None = None,
    height: int | str = "auto",
) -> None:
    """A table with its CSV download. ``index`` keeps the index in the CSV; ``show_index``
    (default: the same) shows it on screen."""
    st.dataframe(
        frame,
        hide_index=not (index if show_index is None else show_index),
        width="stretch",
        column_config=column_config,
        height=height,
    )
    st.download_button(
        "Download table (CSV)",
        data=frame.to_csv(index=index).encode("utf-8"),
        file_name=f"{file_name}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
        icon=":material/download:",
    )


def figure(fig: go.Figure, *, file_name: str, key: str) -> None:
    """A plotly figure (PNG from its modebar camera) with a standalone HTML download."""
    st.plotly_chart(
        fig,
        key=f"{key}_chart",
        config={
            "displaylogo": False,
            "toImageButtonOptions": {"format": "png", "filename": file_name, "scale": 2},
        },
    )
    st.download_button(
        "Download figure (HTML, opens offline)",
        data=lambda: fig.to_html(include_plotlyjs=True, full_html=True),
        file_name=f"{file_name}.html",
        mime="text/html",
        key=f"{key}_html",
        on_click="ignore",
        icon=":material/download:",
        help="A self-contained page with the interactive figure. For a PNG, use the camera "
        "icon above the chart.",
    )


# -- formatting (presentation only) ----------------------------------------------------------
def fmt_int(value: Any) -> str:
    return "n/a" if value is None else f"{int(value):,}"


def fmt_share(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}%}"


def fmt_days(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.1f} days"


def fmt_metric(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.3f}"


def fmt_span(start: Any, end: Any) -> str:
    if start is None or end is None or pd.isna(start) or pd.isna(end):
        return "n/a"
    days = (end - start) / pd.Timedelta(days=1)
    return f"{days:,.0f} days"


def fmt_dates(start: Any, end: Any) -> str:
    if start is None or end is None or pd.isna(start) or pd.isna(end):
        return ""
    return f"{start:%d %b %Y} – {end:%d %b %Y}"


SEVERITY_BADGES = {
    "high": (":material/error:", "red"),
    "medium": (":material/warning:", "orange"),
    "low": (":material/info:", "blue"),
    "info": (":material/check_circle:", "green"),
    "none": (":material/check_circle:", "green"),
}


def badge(severity: str) -> str:
    """A coloured badge for a severity, as every page shows findings."""
    icon, colour = SEVERITY_BADGES.get(severity, SEVERITY_BADGES["info"])
    return f":{colour}-badge[{icon} {severity}]"


# How the skew audit's distribution measures are shown (the Skew audit and Audit from profiles
# pages' feature tables).
DISTRIBUTION_COLUMNS = {
    "psi": st.column_config.NumberColumn("PSI", format="%.3f"),
    "js_distance": st.column_config.NumberColumn("Jensen-Shannon", format="%.3f"),
    "wasserstein_norm": st.column_config.NumberColumn("Wasserstein / std", format="%.3f"),
    "ks_stat": st.column_config.NumberColumn("KS statistic", format="%.3f"),
    "ks_pvalue": st.column_config.NumberColumn("KS p-value (BH)", format="%.2g"),
    "hellinger": st.column_config.NumberColumn("Hellinger", format="%.3f"),
    "linf": st.column_config.NumberColumn("L-infinity", format="%.3f"),
    "chi2_pvalue": st.column_config.NumberColumn("chi-square p-value (BH)", format="%.2g"),
    "unseen_share": st.column_config.NumberColumn("unseen categories", format="percent"),
    "out_of_range_share": st.column_config.NumberColumn("out of range", format="percent"),
    "missing_train": st.column_config.NumberColumn("missing (training)", format="percent"),
    "missing_serving": st.column_config.NumberColumn("missing (serving)", format="percent"),
}
