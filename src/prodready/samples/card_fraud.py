"""The ``card_fraud`` sample case: twelve months of synthetic card transactions with known problems.

Why synthetic: a team learning the kit needs data where the answer is known. Every problem the
audits should find is planted here on purpose, with a stated feature, dates and magnitude (see
:data:`KNOWN_PROBLEMS` and docs/sample_case.md), so a finding can be checked against the truth.

How it is built (all with one ``np.random.default_rng(seed)``, in a fixed order, so the same
``rows`` and ``seed`` give the same bytes):

1. Cards (customers) with their own spending level, age, travel habits and account age.
2. Legitimate transactions spread over 2025 by a daily volume curve (weekdays, a slow trend, the
   holiday season); fraud arrives as *episodes* (a stolen card or a synthetic identity) of one to
   four transactions within an hour or two on one card.
3. Features are computed from that history: rolling windows per card are real rolling windows.
   Each feature is computed twice, the way the offline (training) pipeline does it and the way the
   online (serving) pipeline does it; the two differ exactly where a known problem says so.
4. The champion's and the challenger's scores are fixed logistic formulas of the features, standing
   in for trained models (fast and byte-reproducible).
5. Training = January-July with offline features and all labels (backfilled); the serving log =
   July-December with online features, as a snapshot taken on 2026-01-01, so labels that arrive
   later (30-90 days after the transaction) are still missing.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from prodready.errors import ParameterError
from prodready.samples._common import KnownProblem, problems_frame

DEFAULT_ROWS = 120_000
DEFAULT_SEED = 0
MIN_ROWS = 2_000  # fewer leaves too few frauds a month for the problems to show

_DAY = 86_400
_YEAR_START = pd.Timestamp("2025-01-01", tz="UTC")
_YEAR_END = pd.Timestamp("2026-01-01", tz="UTC")
TRAINING_END = pd.Timestamp("2025-08-01", tz="UTC")  # exclusive: training is January-July
SERVING_START = pd.Timestamp("2025-07-01", tz="UTC")  # July is in both sets (same ids)
SNAPSHOT = pd.Timestamp("2026-01-01", tz="UTC")  # when the serving log was exported
NEW_CATEGORY_START = pd.Timestamp("2025-09-01", tz="UTC")
INCIDENT_START = pd.Timestamp("2025-09-08", tz="UTC")
INCIDENT_END = pd.Timestamp("2025-09-18", tz="UTC")  # exclusive: ten days, 8-17 September
HOLIDAY_START = pd.Timestamp("2025-11-28", tz="UTC")  # Black Friday
HOLIDAY_END = _YEAR_END

NEW_CATEGORY = "crypto_exchange"
DEVICE_RISK_DEFAULT = 0.5  # what the online feature service returns when the vendor times out
KM_PER_MILE = 1.609344
LABEL_DELAY_DAYS = (30, 90)

FEATURES: list[dict[str, object]] = [
    {"name": "amount", "type": "numeric"},
    {"name": "merchant_category", "type": "categorical"},
    {"name": "channel", "type": "categorical"},
    {"name": "region", "type": "categorical"},
    {"name": "hour_of_day", "type": "numeric"},
    {"name": "customer_age", "type": "numeric"},
    {"name": "account_age_days", "type": "numeric"},
    {"name": "distance_from_home_km", "type": "numeric"},
    {"name": "avg_amount_30d", "type": "numeric", "availability_lag": "1d"},
    {"name": "txn_count_24h", "type": "numeric"},
    {"name": "device_risk_score", "type": "numeric"},
    {"name": "chargebacks_90d", "type": "numeric", "available_at_prediction": False},
]
FEATURE_NAMES = [str(f["name"]) for f in FEATURES]

# Volume and fraud rate by day: the holiday season brings more of both, the new category more fraud.
_WEEKDAY_VOLUME = np.array([0.95, 0.97, 1.0, 1.02, 1.12, 1.15, 0.9])  # Monday..Sunday
_HOLIDAY_VOLUME = 1.5
_BLACK_FRIDAY_VOLUME = 2.2  # on top of the season: 2025-11-28 and Cyber Monday 2025-12-01
_BASE_FRAUD_RATE = 0.0135
_NEW_CATEGORY_FRAUD_BOOST = 1.3  # fraud rings moving to crypto exchanges add fraud from September
_HOLIDAY_FRAUD_BOOST = 2.0
_NEW_CATEGORY_SHARE = {"legit": 0.03, "fraud": 0.38}

_CATEGORIES = [
    "grocery",
    "restaurants",
    "fuel",
    "retail",
    "online_retail",
    "travel",
    "entertainment",
    "electronics",
    "health",
    "jewelry",
]
_CATEGORY_P = {
    "legit": [0.22, 0.17, 0.10, 0.16, 0.12, 0.05, 0.06, 0.05, 0.05, 0.02],
    "fraud": [0.17, 0.13, 0.09, 0.14, 0.16, 0.06, 0.06, 0.10, 0.05, 0.04],
}
# log-amount shift by category, same order as _CATEGORIES, then the new category
_CATEGORY_AMOUNT = np.array([0.0, -0.2, 0.1, 0.3, 0.2, 1.3, 0.0, 1.0, 0.2, 1.3, 1.0])
_CHANNELS = np.array(["in_store", "online", "mobile_app"])
_COLUMNS = ["transaction_id", "event_time", *FEATURE_NAMES]
_KEY = 1 << 40  # card * _KEY + seconds: one sortable key per (card, time)

# How fraud differs from legitimate use (tuned so the stated AUCs hold; see docs/sample_case.md).
_EPISODE_KIND_P = np.array([0.7, 0.22, 0.08])  # stolen card at home, cloned card abroad, synthetic
_BURST_P = np.array([0.84, 0.1, 0.04, 0.02])  # transactions per episode: 1, 2, 3, 4
_FRAUD_CHANNEL_P = [0.65, 0.22, 0.13]
_FRAUD_DISTANCE_KM = 7.0
_FRAUD_DEVICE_BETA = (2.8, 6.8)
_FRAUD_LOG_AMOUNT = np.log(44)
_SYNTHETIC_ACCOUNT_DAYS = (2, 40)
_CHARGEBACK_P = {"fraud": 0.82, "legit": 0.004}  # most frauds are charged back, few disputes
BUSINESS_THRESHOLD = 0.06  # the champion's alert threshold: best value on its offline scores

# Hour-of-day profiles (UTC, relative weights for hours 0-23): people shop by day, fraudsters
# also at night.
# fmt: off
_HOUR_LEGIT = np.array([10, 6, 4, 3, 3, 5, 12, 25, 40, 50, 55, 60,
                        65, 60, 58, 58, 60, 65, 70, 65, 50, 40, 30, 20], dtype=float)
_HOUR_FRAUD = np.array([20, 20, 18, 15, 12, 12, 15, 25, 35, 40, 45, 50,
                        50, 50, 50, 50, 50, 50, 50, 50, 45, 40, 30, 25], dtype=float)
# fmt: on

# The champion leaned on the leaky feature; the challenger is trained without it and knows the new
# category, but ignores distance (and so misses most of what gives international fraud away).
_CHAMPION = {
    "intercept": -7.5,
    "chargebacks": 3.2,
    "device_risk": 6.0,
    "log_amount": 0.1,
    "log_distance": 0.28,
    "night": 0.3,
}
_CHALLENGER = {
    "intercept": -7.0,
    "device_risk": 4.5,
    "log_amount": 0.35,
    "log_amount_ratio": 0.35,
    "txn_count_24h": 0.35,
    "new_account": 1.4,
    "online": 0.6,
    "international": 1.5,
}
_CHALLENGER_CATEGORY = {"electronics": 0.8, "jewelry": 0.9, "travel": 0.5, NEW_CATEGORY: 1.6}


# Magnitudes are those of the bundled copy (default rows, seed 0); other seeds land close by.
KNOWN_PROBLEMS: list[KnownProblem] = [
    KnownProblem(
        "leaky_feature",
        "chargebacks_90d",
        None,
        None,
        "Offline, chargebacks_90d counts the card's chargebacks on transactions of the 90 days up "
        "to and including this one, so it includes this transaction's own chargeback, which is "
        "known only 30-90 days later; online it counts only chargebacks already known at "
        "prediction time (89% of July frauds have a value above 0 offline, 2% online). It is "
        "declared available_at_prediction: false. prodready.models.fit on January-June with all "
        "features scores ROC AUC 0.94 on July and 0.72 on the labelled serving log (0.80 and 0.77 "
        "without it); the champion's score tells the same story: 0.94 on July, 0.72 in serving.",
    ),
    KnownProblem(
        "window_mismatch",
        "avg_amount_30d",
        SERVING_START,
        _YEAR_END,
        "The online pipeline averages the card's amounts over 7 days instead of 30 (both up to "
        "the day before, as the 1d availability lag says). On the July transaction ids present in "
        "both sets the values differ on 94% of the rows where both exist (median relative "
        "difference 30%), and the value is missing on 22% of rows online against 5% offline.",
    ),
    KnownProblem(
        "unit_change",
        "distance_from_home_km",
        SERVING_START,
        _YEAR_END,
        "The online pipeline reports distance from home in miles, not kilometres "
        "(online = km / 1.609344): on the shared July ids offline / online = 1.609.",
    ),
    KnownProblem(
        "new_category",
        "merchant_category",
        NEW_CATEGORY_START,
        _YEAR_END,
        f"A merchant category never seen in training, {NEW_CATEGORY!r}, appears on 2025-09-01: "
        "3.8% of transactions from then on, with a fraud rate of 21% (14% among the labels "
        "arrived by the snapshot) against 1-2% for the other categories (concept drift).",
    ),
    KnownProblem(
        "silent_incident",
        "device_risk_score",
        INCIDENT_START,
        INCIDENT_END,
        f"From 2025-09-08 to 2025-09-17 (ten days, labels all arrived) the serving log's "
        f"device_risk_score is stuck at its default {DEVICE_RISK_DEFAULT} on every row, with no "
        "nulls. Nothing crashes, but the champion's ROC AUC in the window is 0.59 against 0.75 "
        "outside it, and its alert rate at the 0.06 threshold is 7.2% against 2.1%.",
    ),
    KnownProblem(
        "holiday_season",
        None,
        HOLIDAY_START,
        HOLIDAY_END,
        "From Black Friday (2025-11-28) to year end about 495 transactions a day against 318 from "
        "September to 27 November (x1.56; 793 on Black Friday), and a true fraud rate of 3.7% "
        "against 1.65% (x2.2). Most of these labels arrive after the snapshot (2026-01-01): the "
        "serving log shows the volume rise, not yet the fraud-rate rise.",
    ),
    KnownProblem(
        "challenger_subgroup",
        "region",
        None,
        None,
        "The challenger beats the champion on the labelled serving log (ROC AUC 0.77 against "
        "0.72) but loses on region == 'international' (0.51 against 0.61): it ignores distance "
        "from home, the one sign of a cloned card used abroad.",
    ),
]


@dataclass(frozen=True)
class CardFraudSample:
    """What :func:`generate` returns: the two data sets, and the truth the log does not show."""

    training: pd.DataFrame
    serving: pd.DataFrame
    serving_truth: pd.Series  # is_fraud of every serving row, also where the label has not arrived


def known_problems_frame() -> pd.DataFrame:
    """The planted problems as a frame: problem, feature, start, end (UTC, end exclusive)."""
    return problems_frame(KNOWN_PROBLEMS)


def _seconds(ts: pd.Timestamp) -> int:
    return int(ts.timestamp())


def _daily_profile() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day start (s), relative volume and fraud rate for each day of 2025."""
    days = pd.date_range(_YEAR_START, _YEAR_END, freq="D", inclusive="left")
    n = len(days)
    volume = _WEEKDAY_VOLUME[days.day_of_week] * (1 + 0.08 * np.arange(n) / n)
    holiday = days >= HOLIDAY_START
    volume[holiday] *= _HOLIDAY_VOLUME
    for peak in ("2025-11-28", "2025-12-01"):
        volume[days == pd.Timestamp(peak, tz="UTC")] *= _BLACK_FRIDAY_VOLUME / _HOLIDAY_VOLUME
    rate = np.full(n, _BASE_FRAUD_RATE)
    rate[days >= NEW_CATEGORY_START] *= _NEW_CATEGORY_FRAUD_BOOST
    rate[holiday] *= _HOLIDAY_FRAUD_BOOST
    starts = (days.asi8 // 1_000_000).astype(np.int64)  # datetime64[us] -> seconds
    return starts, volume, rate


def _times(rng: np.random.Generator, day_start: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Event times (s) on the given days, at hours drawn from a profile."""
    hour = rng.choice(24, size=len(day_start), p=hours / hours.sum())
    return day_start + hour * 3600 + rng.integers(0, 3600, size=len(day_start))


def _window_stats(
    key: np.ndarray, values: np.ndarray, window: int, lag: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Count and sum of the same card's earlier rows with time in (t - lag - window, t - lag].

    ``key`` is card * _KEY + seconds, sorted, so one ``searchsorted`` finds every row's window
    without leaving its card: a real rolling window, vectorised. With no lag the row itself is
    left out.
    """
    position = np.arange(len(key))
    end = position if lag == 0 else np.searchsorted(key, key - lag, side="right")
    start = np.searchsorted(key, key - lag - window, side="right")
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    return end - start, cumulative[end] - cumulative[start]


def _logistic(logit: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logit))


def _champion(frame: pd.DataFrame) -> np.ndarray:
    """The champion: a logistic model that learned to lean on chargebacks_90d."""
    w = _CHAMPION
    device = frame["device_risk_score"].fillna(0.2).to_numpy(dtype=float)
    logit = (
        w["intercept"]
        + w["chargebacks"] * np.minimum(frame["chargebacks_90d"].to_numpy(dtype=float), 2)
        + w["device_risk"] * device
        + w["log_amount"] * np.log1p(frame["amount"].to_numpy(dtype=float))
        + w["log_distance"] * np.log1p(frame["distance_from_home_km"].to_numpy(dtype=float))
        + w["night"] * (frame["hour_of_day"].to_numpy() < 6)
    )
    return np.round(_logistic(logit), 4)


def _challenger(frame: pd.DataFrame) -> np.ndarray:
    """The challenger: no leaky feature, knows the new category, ignores distance from home."""
    w = _CHALLENGER
    amount = frame["amount"].to_numpy(dtype=float)
    average = frame["avg_amount_30d"].to_numpy(dtype=float)
    known = ~np.isnan(average)
    ratio = np.where(known, np.log(amount / np.where(known, average, 1.0)), 0.0)
    category = frame["merchant_category"].map(_CHALLENGER_CATEGORY).fillna(0.0)
    logit = (
        w["intercept"]
        + w["device_risk"] * frame["device_risk_score"].fillna(0.2).to_numpy(dtype=float)
        + w["log_amount"] * np.log1p(amount)
        + w["log_amount_ratio"] * np.clip(ratio, -2, 4)
        + w["txn_count_24h"] * np.minimum(frame["txn_count_24h"].to_numpy(dtype=float), 6)
        + w["new_account"] * (frame["account_age_days"].to_numpy() < 60)
        + w["online"] * (frame["channel"] == "online").to_numpy()
        + w["international"] * (frame["region"] == "international").to_numpy()
        + category.to_numpy(dtype=float)
    )
    return np.round(_logistic(logit), 4)


def check_rows(rows: object) -> None:
    """Refuse a row count that cannot hold a year of data, saying what to pass instead."""
    if isinstance(rows, bool) or not isinstance(rows, numbers.Integral) or rows < MIN_ROWS:
        raise ParameterError(
            "the number of rows must be a whole number large enough for a year of data",
            where="rows",
            expected=f"a whole number of at least {MIN_ROWS}",
            found=repr(rows),
            fix=f"use {MIN_ROWS} rows or more (the bundled copy has {DEFAULT_ROWS})",
        )


def generate(rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> CardFraudSample:
    """Build the training set and the serving log (in memory); see the module docstring."""
    check_rows(rows)
    rng = np.random.default_rng(seed)
    day_start, volume, fraud_rate = _daily_profile()
    share = volume / volume.sum()
    n_days = len(day_start)

    # Fraud episodes: a stolen card used at home (a burst of one to four transactions), a cloned
    # card used once abroad like a tourist would, or a synthetic identity (a brand-new customer).
    burst = np.array([1, 2, 3, 4])
    mean_size = _EPISODE_KIND_P[1] + (1 - _EPISODE_KIND_P[1]) * (burst @ _BURST_P)
    episodes_per_day = rng.poisson(rows * share * fraud_rate / mean_size)
    episode_day = np.repeat(np.arange(n_days), episodes_per_day)
    n_episodes = len(episode_day)
    episode_kind = rng.choice(3, size=n_episodes, p=_EPISODE_KIND_P)
    episode_abroad, episode_synthetic = episode_kind == 1, episode_kind == 2
    episode_size = np.where(episode_abroad, 1, rng.choice(burst, size=n_episodes, p=_BURST_P))
    episode_start = _times(rng, day_start[episode_day], _HOUR_FRAUD)
    n_fraud = int(episode_size.sum())
    n_legit = rows - n_fraud
    n = rows

    # Customers (existing ones, then one per synthetic identity) and legitimate transactions.
    n_customers = max(200, rows // 60)
    activity = rng.gamma(0.7, size=n_customers)
    activity /= activity.sum()
    spend = np.concatenate([rng.normal(np.log(40), 0.5, n_customers), np.full(n_episodes, 3.7)])
    age = np.concatenate([rng.normal(46, 15, n_customers), rng.normal(36, 12, n_episodes)])
    age = np.clip(np.round(age), 18, 90)
    travel = np.concatenate([rng.beta(0.5, 12, n_customers), np.zeros(n_episodes)])
    legit_p = share * (1 - fraud_rate)
    legit_day = rng.choice(n_days, size=n_legit, p=legit_p / legit_p.sum())
    legit_time = _times(rng, day_start[legit_day], _HOUR_LEGIT)
    legit_customer = rng.choice(n_customers, size=n_legit, p=activity)

    # Expand episodes into transactions, minutes apart.
    episode_customer = np.where(
        episode_synthetic,
        n_customers + np.arange(n_episodes),
        rng.choice(n_customers, size=n_episodes, p=activity),
    )
    episode_of = np.repeat(np.arange(n_episodes), episode_size)
    first_of = np.concatenate([[0], np.cumsum(episode_size)[:-1]])
    gap = np.round(rng.exponential(45 * 60, size=n_fraud)).astype(np.int64) + 30
    gap[first_of] = 0
    offset = np.cumsum(gap) - np.repeat(np.cumsum(gap)[first_of], episode_size)
    fraud_time = np.minimum(episode_start[episode_of] + offset, _seconds(_YEAR_END) - 1)

    is_fraud = np.concatenate([np.zeros(n_legit, bool), np.ones(n_fraud, bool)])
    customer = np.concatenate([legit_customer, episode_customer[episode_of]])
    time = np.concatenate([legit_time, fraud_time]).astype(np.int64)
    abroad = np.concatenate([np.zeros(n_legit, bool), episode_abroad[episode_of]])
    looks_legit = ~is_fraud | abroad  # a cloned card abroad shops like its owner on holiday

    # After a stolen or cloned card is used, the bank reissues it a few days later: a new card
    # number, so its history (rolling windows, chargebacks) starts again.
    episode_end = np.maximum.reduceat(fraud_time, first_of)
    reissue = episode_end + np.round(rng.uniform(1, 10, n_episodes) * _DAY).astype(np.int64)
    reissue_key = np.sort((episode_customer * _KEY + reissue)[~episode_synthetic])
    customer_key = customer * _KEY
    generation = np.searchsorted(reissue_key, customer_key + time, side="right") - np.searchsorted(
        reissue_key, customer_key, side="left"
    )
    card = np.unique(customer * (n_episodes + 1) + generation, return_inverse=True)[1]

    # Merchant category: one per episode; the new category exists from September.
    category_index = rng.choice(10, size=n, p=_CATEGORY_P["legit"])
    episode_category = rng.choice(10, size=n_episodes, p=_CATEGORY_P["fraud"])
    abroad_category = category_index[n_legit + first_of]  # abroad: what the owner would buy
    episode_category = np.where(episode_abroad, abroad_category, episode_category)
    category_index[n_legit:] = episode_category[episode_of]
    to_new = rng.random(n) < _NEW_CATEGORY_SHARE["legit"]
    episode_to_new = ~episode_abroad & (rng.random(n_episodes) < _NEW_CATEGORY_SHARE["fraud"])
    to_new[n_legit:] = episode_to_new[episode_of]
    category_index[(time >= _seconds(NEW_CATEGORY_START)) & to_new] = 10
    online_category = np.isin(category_index, [4, 10])

    # Channel and region.
    channel_p = np.where(
        online_category[:, None],
        [[0.0, 0.7, 0.3]],
        np.where(looks_legit[:, None], [[0.7, 0.15, 0.15]], [_FRAUD_CHANNEL_P]),
    )
    channel_index = (rng.random(n)[:, None] > np.cumsum(channel_p, axis=1)).sum(axis=1)
    channel = _CHANNELS[np.minimum(channel_index, 2)].astype(object)
    channel[rng.random(n) < 0.01] = None
    international = np.where(is_fraud, abroad, rng.random(n) < travel[customer])

    # Distance from home: what gives a cloned card away abroad (far beyond where owners travel).
    fraud_abroad, fraud_home = is_fraud & international, is_fraud & ~international
    conditions = [fraud_abroad, international, fraud_home]
    distance_median = np.select(conditions, [4000.0, 1200.0, _FRAUD_DISTANCE_KM], 6.0)
    distance_sigma = np.select(conditions, [0.55, 0.8, 1.2], 1.1)
    distance_km = np.round(distance_median * np.exp(rng.normal(0, 1, n) * distance_sigma), 2)
    distance_km = np.maximum(distance_km, 0.1)

    # Device risk: informative at home; the vendor's fingerprinting barely covers trips abroad,
    # and the rings behind the new category use clean devices.
    clean_device = looks_legit | (category_index == 10)
    device_risk = np.where(
        clean_device, rng.beta(2.0, 9.0, size=n), rng.beta(*_FRAUD_DEVICE_BETA, size=n)
    )
    device_risk = np.round(device_risk, 3)
    device_risk[rng.random(n) < 0.02] = np.nan

    # Amount: the customer's own level (and a cloned card's), a bit larger for fraudsters.
    log_amount = np.where(
        looks_legit,
        spend[customer] + rng.normal(0, 0.8, n),
        _FRAUD_LOG_AMOUNT + rng.normal(0, 1.0, n),
    )
    amount = np.round(np.exp(log_amount + _CATEGORY_AMOUNT[category_index]), 2)
    amount = np.maximum(amount, 0.5)

    customer_age = age[customer]
    customer_age[rng.random(n) < 0.03] = np.nan

    # Account age: existing customers opened their account before their first transaction
    # (7% recently), synthetic identities days before their fraud.
    first_seen = np.full(n_customers + n_episodes, np.iinfo(np.int64).max)
    np.minimum.at(first_seen, customer, time)
    recent = rng.random(n_customers) < 0.07
    open_days = np.where(
        recent, rng.uniform(0, 60, n_customers), rng.uniform(60, 4000, n_customers)
    )
    open_days = np.concatenate([open_days, rng.uniform(*_SYNTHETIC_ACCOUNT_DAYS, n_episodes)])
    opened = first_seen - np.round(open_days * _DAY).astype(np.int64)
    account_age_days = ((time - opened[customer]) // _DAY).astype(np.int32)

    # Labels arrive 30-90 days late; chargebacks (most frauds, a few disputes) arrive with them.
    delay = rng.uniform(LABEL_DELAY_DAYS[0] * _DAY, LABEL_DELAY_DAYS[1] * _DAY, n)
    label_time = time + np.round(delay).astype(np.int64)
    chargeback = np.where(
        is_fraud, rng.random(n) < _CHARGEBACK_P["fraud"], rng.random(n) < _CHARGEBACK_P["legit"]
    )

    # Rolling windows per card number, on rows ordered by card then time.
    order = np.lexsort((time, card))
    s_card, s_time, s_amount = card[order], time[order], amount[order]
    s_chargeback, s_label_time = chargeback[order], label_time[order]
    key = s_card.astype(np.int64) * _KEY + s_time
    count_24h, _ = _window_stats(key, s_amount, _DAY)
    # both pipelines honour the declared availability lag (1 day); they differ in the window
    count_30d, sum_30d = _window_stats(key, s_amount, 30 * _DAY, lag=_DAY)
    count_7d, sum_7d = _window_stats(key, s_amount, 7 * _DAY, lag=_DAY)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg_30d = np.round(np.where(count_30d > 0, sum_30d / count_30d, np.nan), 2)
        avg_7d = np.round(np.where(count_7d > 0, sum_7d / count_7d, np.nan), 2)
    # offline (backfilled over event time): chargebacks in (t - 90d, t], this one's own included
    _, prior = _window_stats(key, s_chargeback.astype(float), 90 * _DAY)
    cb_offline = np.round(prior).astype(np.int16) + s_chargeback
    # online: chargebacks on earlier transactions that are already known at time t
    cb_card = s_card[s_chargeback].astype(np.int64) * _KEY
    known = np.sort(cb_card + s_label_time[s_chargeback])
    expired = np.sort(cb_card + s_time[s_chargeback] + 90 * _DAY)
    cb_online = np.searchsorted(known, key, side="right") - np.searchsorted(
        expired, key, side="right"
    )
    rolling = np.empty((n, 5))
    rolling[order] = np.column_stack([count_24h, avg_30d, avg_7d, cb_offline, cb_online])

    # Both pipelines' views, in time order; transaction ids follow time.
    by_time = np.argsort(time, kind="stable")
    categories = np.array([*_CATEGORIES, NEW_CATEGORY])
    width = max(7, len(str(n)))
    ids = pd.array([f"T{i:0{width}d}" for i in range(1, n + 1)], dtype="str")
    t = time[by_time]
    common = pd.DataFrame(
        {
            "transaction_id": ids,
            "event_time": _timestamps(t),
            "amount": amount[by_time],
            "merchant_category": pd.array(categories[category_index[by_time]], dtype="str"),
            "channel": pd.array(channel[by_time], dtype="str"),
            "region": pd.array(
                np.where(international[by_time], "international", "domestic"), dtype="str"
            ),
            "hour_of_day": ((t % _DAY) // 3600).astype(np.int8),
            "customer_age": customer_age[by_time].astype(np.float64),
            "account_age_days": account_age_days[by_time],
            "txn_count_24h": rolling[by_time, 0].astype(np.int16),
        }
    )
    km = distance_km[by_time]
    device = device_risk[by_time].astype(np.float64)
    offline = common.assign(
        distance_from_home_km=km.astype(np.float64),
        avg_amount_30d=rolling[by_time, 1].astype(np.float64),
        device_risk_score=device,
        chargebacks_90d=rolling[by_time, 3].astype(np.int16),
    )[_COLUMNS]
    stuck = (t >= _seconds(INCIDENT_START)) & (t < _seconds(INCIDENT_END))
    online = common.assign(
        distance_from_home_km=np.round(km / KM_PER_MILE, 2).astype(np.float64),
        avg_amount_30d=rolling[by_time, 2].astype(np.float64),
        device_risk_score=np.where(stuck, np.float64(DEVICE_RISK_DEFAULT), device),
        chargebacks_90d=rolling[by_time, 4].astype(np.int16),
    )[_COLUMNS]
    label = is_fraud[by_time].astype(np.int8)
    label_at = label_time[by_time]

    in_training = t < _seconds(TRAINING_END)
    training = offline[in_training].reset_index(drop=True)
    training = training.assign(
        score=_champion(training),
        is_fraud=pd.array(label[in_training], dtype="Int8"),
        label_time=_timestamps(label_at[in_training]),
    )

    in_serving = t >= _seconds(SERVING_START)
    serving = online[in_serving].reset_index(drop=True)
    arrived = label_at[in_serving] <= _seconds(SNAPSHOT)
    truth = pd.Series(pd.array(label[in_serving], dtype="Int8"), name="is_fraud")
    serving = serving.assign(
        score=_champion(serving),
        challenger_score=_challenger(serving),
        is_fraud=truth.where(arrived),
        label_time=_timestamps(label_at[in_serving]).where(arrived),
    )
    return CardFraudSample(training=training, serving=serving, serving_truth=truth)


def _timestamps(seconds: np.ndarray) -> pd.Series:
    """Seconds since the epoch as UTC timestamps (microsecond unit, pandas' parsed default)."""
    return pd.Series((seconds * 1_000_000).astype("datetime64[us]")).dt.tz_localize("UTC")


def case_yaml(rows: int, seed: int, parts: int | None = None) -> str:
    """The case file for data generated with ``rows`` and ``seed`` (paths relative to it);
    with ``parts`` the serving log is the glob ``serving_log/*.parquet``."""
    feature_lines = []
    for feature in FEATURES:
        extras = "".join(
            f", {key}: {str(value).lower() if isinstance(value, bool) else value}"
            for key, value in feature.items()
            if key not in ("name", "type")
        )
        feature_lines.append(f"  - {{name: {feature['name']}, type: {feature['type']}{extras}}}")
    features = "\n".join(feature_lines)
    if parts is None:
        header = (
            f"# Sample case generated by prodready.samples.card_fraud (rows={rows}, seed={seed}).\n"
            f"# Regenerate: prodready sample card_fraud --rows {rows} --seed {seed} --out DIR"
        )
        serving = "serving_log.parquet}"
    else:
        header = (
            f"# Sample case generated by prodready.samples.card_fraud (rows={rows}, seed={seed}, "
            f'parts={parts}).\n# Regenerate: python -c "from prodready import samples; '
            f"samples.write('card_fraud', 'DIR', rows={rows}, seed={seed}, parts={parts})\""
        )
        serving = "serving_log/*.parquet}  # one file per time span, read in name order"
    return f"""\
{header}
name: Card fraud detection
task: binary
description: >-
  Synthetic card transactions for 2025 ({rows} transactions, seed {seed}). Training is
  January-July as the offline pipeline computed it; the serving log is July-December as the
  online pipeline computed it, exported on 2026-01-01, with labels that arrive 30-90 days late.
  Seven problems are planted on purpose: see prodready.samples.known_problems().
training: {{path: training.parquet}}
serving: {{path: {serving}
columns:
  id: transaction_id
  timestamp: event_time
  label: is_fraud
  label_time: label_time
  prediction: score
  challenger: challenger_score
features:
{features}
business:
  currency: USD
  value: {{true_positive: 120, false_positive: -15, false_negative: -250, true_negative: 0}}
  threshold: {BUSINESS_THRESHOLD}  # the champion's alert threshold, chosen on offline scores
  amount: amount  # each transaction's money: the caught-amount KPI
"""


# --- the serving log in parts: the same year, generated time slice by time slice -------------

MAX_PARTS = 4_416  # one hour of the serving period (July-December) per part at most
_HOUR = 3_600
_PART_ORIGIN = _seconds(_YEAR_START) - 128 * _DAY  # keys count seconds from here...
_PART_KEY = 1 << 26  # ...up to 776 days: card * _PART_KEY + seconds never overflows int64
_CB_HORIZON = 90 * _DAY  # chargebacks older than this change no window (see _part_windows)
_AMOUNT_HORIZON = 31 * _DAY  # the 30-day average, one day late


@dataclass(frozen=True)
class SampleChunk:
    """One time slice of the year from :func:`generate_parts`.

    ``training`` holds the slice's rows before August (offline view, None when there are none);
    ``serving`` the slice's rows from July (online view) when the slice is serving part
    ``part``; ``part`` is None for a slice before July, which only feeds the training set.
    """

    training: pd.DataFrame | None
    serving: pd.DataFrame | None
    part: int | None


def check_parts(parts: object) -> None:
    """Refuse a number of parts that is not a whole number from 1 to :data:`MAX_PARTS`."""
    if (
        isinstance(parts, bool)
        or not isinstance(parts, numbers.Integral)
        or not 1 <= parts <= MAX_PARTS
    ):
        raise ParameterError(
            "the number of parts must be a whole number from 1 to one per hour of serving",
            where="parts",
            expected=f"a whole number from 1 to {MAX_PARTS}",
            found=repr(parts),
            fix="use about one part per million serving rows, e.g. parts=100 for rows=100_000_000",
        )


def generate_parts(
    rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED, parts: int = 1
) -> Iterator[SampleChunk]:
    """The same sample as :func:`generate`, built time slice by time slice in bounded memory.

    ``rows`` means what it means for :func:`generate`: every transaction of 2025, training and
    serving together (July, in both sets, counts once), so the serving log holds a bit over half
    of them (about 55%) and the training set the other half plus July.

    Design (so the planted problems keep their meaning at any size):

    1. What is small is drawn once, up front, with the first stream of
       ``np.random.SeedSequence(seed).spawn``: the customers, every fraud episode (its card, its
       transactions' times, its category, the card reissued after it) and how many legitimate
       transactions fall in each hour of the year (one multinomial draw over the 8,760 hours,
       from the same daily volume and hour-of-day curves as :func:`generate`). That is about
       2% of the rows for the frauds and rows / 60 for the customers.
    2. The year is cut at hour boundaries into slices: the serving period (July-December) into
       ``parts`` slices of equal row counts, the months before July into slices of about the
       same size (training only). Slices are generated in time order, each with its own stream
       (``spawn`` child ``1 + slice``): the legitimate transactions of its hours, the fraud
       transactions that fall in it, then every per-transaction draw of :func:`generate`.
    3. What crosses slices is carried, not recomputed: each customer's first transaction (for
       the account age; slices come in time order, so the first slice a customer shows up in
       holds it), the last 31 days of each card's amounts (the 7- and 30-day averages one day
       late, the 24-hour count) and its last 90 days of chargebacks (older ones cancel out of
       both chargebacks_90d views). Rolling windows are therefore the real ones, as in
       :func:`generate`; memory is one slice plus 31 days of (card, time, amount), 16 bytes a
       row: about 200 MB in December for 100M rows.
    4. Each slice's rows get the offline and the online view exactly as in :func:`generate`
       (the stuck device score from 8 September, the new category from 1 September, miles,
       7-day average, leaky chargebacks, labels 30-90 days late, the snapshot), transaction ids
       continue across slices in time order, and July rows go to both sets with one id.

    So part ``k`` covers one contiguous span of time, later than part ``k - 1``; the same
    ``rows``, ``seed`` and ``parts`` give the same rows, and another ``parts`` other rows (the
    slices draw from other streams). Same-second ties in the rolling windows are broken by time
    only, so a window never counts a transaction made in the same second as the current one.
    """
    check_rows(rows)
    check_parts(parts)
    rng = _stream(seed, 0)
    day_start, volume, fraud_rate = _daily_profile()
    share = volume / volume.sum()
    n_days = len(day_start)
    year_start = _seconds(_YEAR_START)

    # 1. Episodes and customers, as in generate().
    burst = np.array([1, 2, 3, 4])
    mean_size = _EPISODE_KIND_P[1] + (1 - _EPISODE_KIND_P[1]) * (burst @ _BURST_P)
    episodes_per_day = rng.poisson(rows * share * fraud_rate / mean_size)
    episode_day = np.repeat(np.arange(n_days), episodes_per_day)
    n_episodes = len(episode_day)
    episode_kind = rng.choice(3, size=n_episodes, p=_EPISODE_KIND_P)
    episode_abroad, episode_synthetic = episode_kind == 1, episode_kind == 2
    episode_size = np.where(episode_abroad, 1, rng.choice(burst, size=n_episodes, p=_BURST_P))
    episode_start = _times(rng, day_start[episode_day], _HOUR_FRAUD)
    n_fraud = int(episode_size.sum())
    n_legit = rows - n_fraud
    n_customers = max(200, rows // 60)
    activity = rng.gamma(0.7, size=n_customers)
    activity_cdf = np.cumsum(activity / activity.sum())
    spend = np.concatenate([rng.normal(np.log(40), 0.5, n_customers), np.full(n_episodes, 3.7)])
    age = np.concatenate([rng.normal(46, 15, n_customers), rng.normal(36, 12, n_episodes)])
    age = np.clip(np.round(age), 18, 90)
    travel = np.concatenate([rng.beta(0.5, 12, n_customers), np.zeros(n_episodes)])
    recent = rng.random(n_customers) < 0.07
    open_days = np.where(
        recent, rng.uniform(0, 60, n_customers), rng.uniform(60, 4000, n_customers)
    )
    open_days = np.concatenate([open_days, rng.uniform(*_SYNTHETIC_ACCOUNT_DAYS, n_episodes)])
    open_seconds = np.round(open_days * _DAY).astype(np.int64)
    del open_days, recent

    episode_customer = np.where(
        episode_synthetic,
        n_customers + np.arange(n_episodes),
        _pick(rng, activity_cdf, n_episodes),
    )
    episode_of = np.repeat(np.arange(n_episodes), episode_size)
    first_of = np.concatenate([[0], np.cumsum(episode_size)[:-1]])
    gap = np.round(rng.exponential(45 * 60, size=n_fraud)).astype(np.int64) + 30
    gap[first_of] = 0
    offset = np.cumsum(gap) - np.repeat(np.cumsum(gap)[first_of], episode_size)
    fraud_time = np.minimum(episode_start[episode_of] + offset, _seconds(_YEAR_END) - 1)
    del gap, offset

    # Cards: a stolen or cloned card is reissued a few days after its episode (new history).
    episode_end = np.maximum.reduceat(fraud_time, first_of)
    reissue = episode_end + np.round(rng.uniform(1, 10, n_episodes) * _DAY).astype(np.int64)
    reissued = episode_customer[~episode_synthetic]
    reissue_key = np.sort(reissued * _PART_KEY + (reissue[~episode_synthetic] - _PART_ORIGIN))
    n_all = n_customers + n_episodes
    card_base = np.concatenate([[0], np.cumsum(np.bincount(reissued, minlength=n_all) + 1)])
    del episode_end, reissue, reissued

    # One category per episode (abroad: what the owner would buy); the new category from September.
    episode_category = rng.choice(10, size=n_episodes, p=_CATEGORY_P["fraud"])
    abroad_category = rng.choice(10, size=n_episodes, p=_CATEGORY_P["legit"])
    episode_category = np.where(episode_abroad, abroad_category, episode_category)
    episode_to_new = ~episode_abroad & (rng.random(n_episodes) < _NEW_CATEGORY_SHARE["fraud"])

    by_time = np.argsort(fraud_time, kind="stable")
    fraud = {
        "time": fraud_time[by_time],
        "customer": episode_customer[episode_of][by_time],
        "abroad": episode_abroad[episode_of][by_time],
        "category": episode_category[episode_of][by_time],
        "to_new": episode_to_new[episode_of][by_time],
    }
    del by_time, fraud_time, episode_of, episode_start

    # Legitimate transactions per hour of the year: day volume x hour-of-day profile.
    legit_p = share * (1 - fraud_rate)
    hour_p = _HOUR_LEGIT / _HOUR_LEGIT.sum()
    cell_p = (legit_p[:, None] / legit_p.sum() * hour_p[None, :]).ravel()
    legit_count = rng.multinomial(n_legit, cell_p / cell_p.sum())
    n_hours = len(legit_count)
    hour_count = legit_count + np.bincount((fraud["time"] - year_start) // _HOUR, minlength=n_hours)

    # 2. Slices: the serving period in `parts` equal slices, the months before in like sizes.
    first_serving = (_seconds(SERVING_START) - year_start) // _HOUR
    serving_edges = _cut(hour_count[first_serving:], parts) + first_serving
    size = hour_count[first_serving:].sum() / parts
    pre = max(1, int(np.ceil(hour_count[:first_serving].sum() / size)))
    pre_edges = _cut(hour_count[:first_serving], pre)
    edges = np.concatenate([pre_edges[:-1], serving_edges])
    if (np.diff(serving_edges) <= 0).any() or any(
        hour_count[a:b].sum() == 0 for a, b in itertools.pairwise(serving_edges)
    ):
        raise ParameterError(
            f"{parts} parts leave some part of the serving log without a transaction",
            where="parts",
            found=f"parts={parts} for rows={rows}",
            fix="use fewer parts (one per million serving rows is a good size)",
        )

    # 3. Generate slice by slice, carrying first transactions and recent card history.
    first_seen = np.full(n_all, np.iinfo(np.int64).max)
    history = _History()
    width = max(7, len(str(rows)))
    next_id = 1
    for index, (lo, hi) in enumerate(itertools.pairwise(edges)):
        chunk_rng = _stream(seed, 1 + index)
        t0, t1 = year_start + lo * _HOUR, year_start + hi * _HOUR
        f_lo, f_hi = np.searchsorted(fraud["time"], [t0, t1], side="left")
        counts = legit_count[lo:hi]
        legit_time = np.repeat(year_start + np.arange(lo, hi) * _HOUR, counts)
        legit_time = legit_time + chunk_rng.integers(0, _HOUR, size=len(legit_time))
        n_l = len(legit_time)
        slice_ = {
            "time": np.concatenate([legit_time, fraud["time"][f_lo:f_hi]]).astype(np.int64),
            "customer": np.concatenate(
                [_pick(chunk_rng, activity_cdf, n_l), fraud["customer"][f_lo:f_hi]]
            ),
            "is_fraud": np.concatenate([np.zeros(n_l, bool), np.ones(f_hi - f_lo, bool)]),
            "abroad": np.concatenate([np.zeros(n_l, bool), fraud["abroad"][f_lo:f_hi]]),
            "category": np.concatenate(
                [
                    chunk_rng.choice(10, size=n_l, p=_CATEGORY_P["legit"]),
                    fraud["category"][f_lo:f_hi],
                ]
            ),
            "to_new": np.concatenate(
                [chunk_rng.random(n_l) < _NEW_CATEGORY_SHARE["legit"], fraud["to_new"][f_lo:f_hi]]
            ),
        }
        del legit_time
        customer, time = slice_["customer"], slice_["time"]
        np.minimum.at(first_seen, customer, time)
        customer_key = customer * _PART_KEY
        relative = time - _PART_ORIGIN
        generation = np.searchsorted(
            reissue_key, customer_key + relative, side="right"
        ) - np.searchsorted(reissue_key, customer_key, side="left")
        card = card_base[customer] + generation
        columns = _part_columns(
            chunk_rng,
            slice_,
            card=card,
            history=history,
            next_start=t1,
            customer_data={
                "spend": spend,
                "age": age,
                "travel": travel,
                "opened": first_seen - open_seconds,
            },
        )
        training, serving, next_id = _part_views(columns, next_id=next_id, width=width)
        is_serving = index >= len(pre_edges) - 1
        yield SampleChunk(
            training=training,
            serving=serving if is_serving else None,
            part=index - (len(pre_edges) - 1) if is_serving else None,
        )


def _stream(seed: int, index: int) -> np.random.Generator:
    """Random stream ``index`` of ``seed``: child ``index`` of ``SeedSequence(seed).spawn``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


def _pick(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    """``size`` draws of an index with the probabilities whose cumulative sum is ``cdf``."""
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(cdf) - 1)


def _cut(counts: np.ndarray, parts: int) -> np.ndarray:
    """``parts + 1`` hour edges cutting ``counts`` into runs of about equal sums."""
    cumulative = np.cumsum(counts)
    targets = cumulative[-1] * np.arange(1, parts) / parts
    inner = np.searchsorted(cumulative, targets, side="left") + 1
    return np.concatenate([[0], inner, [len(counts)]]).astype(np.int64)


class _History:
    """What one slice leaves the next: recent amounts and chargebacks per card, as sorted keys
    (card * _PART_KEY + seconds from _PART_ORIGIN)."""

    def __init__(self) -> None:
        self.key = np.empty(0, np.int64)  # every transaction of the last 31 days, sorted
        self.amount = np.empty(0, np.float64)  # aligned with key
        self.cb_time = np.empty(0, np.int64)  # chargebacks of the last 90 days: card, time
        self.cb_label = np.empty(0, np.int64)  # their card, label time (same order)


def _part_columns(
    rng: np.random.Generator,
    slice_: dict[str, np.ndarray],
    *,
    card: np.ndarray,
    history: _History,
    next_start: int,
    customer_data: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Every per-transaction draw of :func:`generate`, for one slice (rows in any order)."""
    time, customer, is_fraud = slice_["time"], slice_["customer"], slice_["is_fraud"]
    abroad, category_index = slice_["abroad"], slice_["category"].copy()
    n = len(time)
    looks_legit = ~is_fraud | abroad
    category_index[(time >= _seconds(NEW_CATEGORY_START)) & slice_["to_new"]] = 10
    online_category = np.isin(category_index, [4, 10])

    channel_p = np.where(
        online_category[:, None],
        [[0.0, 0.7, 0.3]],
        np.where(looks_legit[:, None], [[0.7, 0.15, 0.15]], [_FRAUD_CHANNEL_P]),
    )
    channel_index = (rng.random(n)[:, None] > np.cumsum(channel_p, axis=1)).sum(axis=1)
    del channel_p
    channel = _CHANNELS[np.minimum(channel_index, 2)].astype(object)
    channel[rng.random(n) < 0.01] = None
    travel = customer_data["travel"]
    international = np.where(is_fraud, abroad, rng.random(n) < travel[customer])

    fraud_abroad, fraud_home = is_fraud & international, is_fraud & ~international
    conditions = [fraud_abroad, international, fraud_home]
    distance_median = np.select(conditions, [4000.0, 1200.0, _FRAUD_DISTANCE_KM], 6.0)
    distance_sigma = np.select(conditions, [0.55, 0.8, 1.2], 1.1)
    distance_km = np.round(distance_median * np.exp(rng.normal(0, 1, n) * distance_sigma), 2)
    distance_km = np.maximum(distance_km, 0.1)

    clean_device = looks_legit | (category_index == 10)
    device_risk = np.where(
        clean_device, rng.beta(2.0, 9.0, size=n), rng.beta(*_FRAUD_DEVICE_BETA, size=n)
    )
    device_risk = np.round(device_risk, 3)
    device_risk[rng.random(n) < 0.02] = np.nan

    log_amount = np.where(
        looks_legit,
        customer_data["spend"][customer] + rng.normal(0, 0.8, n),
        _FRAUD_LOG_AMOUNT + rng.normal(0, 1.0, n),
    )
    amount = np.round(np.exp(log_amount + _CATEGORY_AMOUNT[category_index]), 2)
    amount = np.maximum(amount, 0.5)
    customer_age = customer_data["age"][customer]
    customer_age[rng.random(n) < 0.03] = np.nan
    account_age_days = ((time - customer_data["opened"][customer]) // _DAY).astype(np.int32)

    delay = rng.uniform(LABEL_DELAY_DAYS[0] * _DAY, LABEL_DELAY_DAYS[1] * _DAY, n)
    label_time = time + np.round(delay).astype(np.int64)
    chargeback = np.where(
        is_fraud, rng.random(n) < _CHARGEBACK_P["fraud"], rng.random(n) < _CHARGEBACK_P["legit"]
    )
    rolling = _part_windows(
        history, card, time, amount, chargeback, label_time, next_start=next_start
    )
    return {
        "time": time,
        "is_fraud": is_fraud,
        "category_index": category_index,
        "channel": channel,
        "international": international,
        "distance_km": distance_km,
        "device_risk": device_risk,
        "amount": amount,
        "customer_age": customer_age,
        "account_age_days": account_age_days,
        "label_time": label_time,
        **rolling,
    }


def _part_windows(
    history: _History,
    card: np.ndarray,
    time: np.ndarray,
    amount: np.ndarray,
    chargeback: np.ndarray,
    label_time: np.ndarray,
    *,
    next_start: int,
) -> dict[str, np.ndarray]:
    """The rolling-window features of one slice's rows, from the slice and the carried history;
    then keep in ``history`` only what the next slice (from ``next_start``) can still need.

    Exact: every window reaches back at most 31 days (amounts) or 90 days (chargebacks), and a
    chargeback older than 90 days is both known and expired online, so it counts in neither view.
    """
    key = card * _PART_KEY + (time - _PART_ORIGIN)
    order = np.argsort(key, kind="stable")
    at = np.searchsorted(history.key, key[order], side="right")
    merged_key = np.insert(history.key, at, key[order])
    merged_amount = np.insert(history.amount, at, amount[order])
    del at, order
    history.key = history.amount = np.empty(0)  # the merged copies replace them: free them now
    cumulative = np.concatenate([[0.0], np.cumsum(merged_amount)])

    def window(span: int, lag: int) -> tuple[np.ndarray, np.ndarray]:
        end = np.searchsorted(merged_key, key - lag, side="left" if lag == 0 else "right")
        start = np.searchsorted(merged_key, key - lag - span, side="right")
        return end - start, cumulative[end] - cumulative[start]

    count_24h, _ = window(_DAY, 0)
    count_30d, sum_30d = window(30 * _DAY, _DAY)
    count_7d, sum_7d = window(7 * _DAY, _DAY)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg_30d = np.round(np.where(count_30d > 0, sum_30d / count_30d, np.nan), 2)
        avg_7d = np.round(np.where(count_7d > 0, sum_7d / count_7d, np.nan), 2)

    # chargebacks: offline (t - 90d, t] with this one's own; online those known by t, unexpired
    card_key = card[chargeback] * _PART_KEY
    cb_time = np.concatenate([history.cb_time, card_key + (time[chargeback] - _PART_ORIGIN)])
    cb_label = np.concatenate(
        [history.cb_label, card_key + (label_time[chargeback] - _PART_ORIGIN)]
    )
    by_time = np.sort(cb_time)
    prior = np.searchsorted(by_time, key, side="left") - np.searchsorted(
        by_time, key - _CB_HORIZON, side="right"
    )
    cb_offline = prior + chargeback
    known = np.sort(cb_label)
    cb_online = np.searchsorted(known, key, side="right") - np.searchsorted(
        by_time + _CB_HORIZON, key, side="right"
    )

    # keep what the next slice can need
    since = next_start - _PART_ORIGIN
    keep = (merged_key % _PART_KEY) > since - _AMOUNT_HORIZON
    history.key, history.amount = merged_key[keep], merged_amount[keep]
    keep_cb = (cb_time % _PART_KEY) > since - _CB_HORIZON
    history.cb_time, history.cb_label = cb_time[keep_cb], cb_label[keep_cb]
    return {
        "count_24h": count_24h,
        "avg_30d": avg_30d,
        "avg_7d": avg_7d,
        "cb_offline": cb_offline,
        "cb_online": cb_online,
    }


def _part_views(
    columns: dict[str, np.ndarray], *, next_id: int, width: int
) -> tuple[pd.DataFrame | None, pd.DataFrame, int]:
    """The slice's offline rows before August and online rows from July, as :func:`generate`
    builds them; ids continue from ``next_id`` in time order. Returns the next free id too."""
    by_time = np.argsort(columns["time"], kind="stable")
    t = columns["time"][by_time]
    n = len(t)
    categories = np.array([*_CATEGORIES, NEW_CATEGORY])
    ids = pd.array([f"T{i:0{width}d}" for i in range(next_id, next_id + n)], dtype="str")
    common = pd.DataFrame(
        {
            "transaction_id": ids,
            "event_time": _timestamps(t),
            "amount": columns["amount"][by_time],
            "merchant_category": pd.array(
                categories[columns["category_index"][by_time]], dtype="str"
            ),
            "channel": pd.array(columns["channel"][by_time], dtype="str"),
            "region": pd.array(
                np.where(columns["international"][by_time], "international", "domestic"),
                dtype="str",
            ),
            "hour_of_day": ((t % _DAY) // 3600).astype(np.int8),
            "customer_age": columns["customer_age"][by_time].astype(np.float64),
            "account_age_days": columns["account_age_days"][by_time],
            "txn_count_24h": columns["count_24h"][by_time].astype(np.int16),
        }
    )
    km = columns["distance_km"][by_time]
    device = columns["device_risk"][by_time].astype(np.float64)
    label = columns["is_fraud"][by_time].astype(np.int8)
    label_at = columns["label_time"][by_time]

    training = None
    in_training = t < _seconds(TRAINING_END)
    if in_training.any():
        offline = common[in_training].assign(
            distance_from_home_km=km[in_training].astype(np.float64),
            avg_amount_30d=columns["avg_30d"][by_time][in_training].astype(np.float64),
            device_risk_score=device[in_training],
            chargebacks_90d=columns["cb_offline"][by_time][in_training].astype(np.int16),
        )[_COLUMNS]
        training = offline.reset_index(drop=True).assign(
            score=lambda f: _champion(f),
            is_fraud=pd.array(label[in_training], dtype="Int8"),
            label_time=_timestamps(label_at[in_training]),
        )

    in_serving = t >= _seconds(SERVING_START)
    ts = t[in_serving]
    stuck = (ts >= _seconds(INCIDENT_START)) & (ts < _seconds(INCIDENT_END))
    online = common[in_serving].assign(
        distance_from_home_km=np.round(km[in_serving] / KM_PER_MILE, 2).astype(np.float64),
        avg_amount_30d=columns["avg_7d"][by_time][in_serving].astype(np.float64),
        device_risk_score=np.where(stuck, np.float64(DEVICE_RISK_DEFAULT), device[in_serving]),
        chargebacks_90d=columns["cb_online"][by_time][in_serving].astype(np.int16),
    )[_COLUMNS]
    serving = online.reset_index(drop=True)
    arrived = label_at[in_serving] <= _seconds(SNAPSHOT)
    truth = pd.Series(pd.array(label[in_serving], dtype="Int8"), name="is_fraud")
    serving = serving.assign(
        score=_champion(serving),
        challenger_score=_challenger(serving),
        is_fraud=truth.where(arrived),
        label_time=_timestamps(label_at[in_serving]).where(arrived),
    )
    return training, serving, next_id + n
