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

from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_ROWS = 120_000
DEFAULT_SEED = 0

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

# Volume and fraud rate by time: the holiday season carries more of both, the new category more fraud.
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
    "fraud": [0.04, 0.04, 0.05, 0.10, 0.25, 0.12, 0.06, 0.22, 0.02, 0.10],
}
# log-amount shift by category, same order as _CATEGORIES, then the new category
_CATEGORY_AMOUNT = np.array([0.0, -0.2, 0.1, 0.3, 0.2, 1.3, 0.0, 1.0, 0.2, 1.3, 1.0])
_CHANNELS = np.array(["in_store", "online", "mobile_app"])

# Hour-of-day profiles (UTC): people shop by day, fraudsters also at night.
_HOUR_LEGIT = np.array(
    [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.5, 4, 5, 5.5, 6, 6.5, 6, 5.8, 5.8, 6, 6.5, 7, 6.5, 5, 4, 3, 2]
)
_HOUR_FRAUD = np.array(
    [3, 3.5, 3.5, 3, 2.5, 2, 2, 2.5, 3, 3.5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3.5, 3]
)

# The champion leaned on the leaky feature; the challenger is trained without it and knows the new
# category, but ignores distance (and so misses most of what gives international fraud away).
_CHAMPION = {
    "intercept": -7.3,
    "chargebacks": 3.2,
    "device_risk": 4.0,
    "log_amount": 0.35,
    "log_distance": 0.28,
    "night": 0.5,
}
_CHALLENGER = {
    "intercept": -7.0,
    "device_risk": 4.5,
    "log_amount": 0.35,
    "log_amount_ratio": 0.35,
    "txn_count_24h": 0.35,
    "new_account": 1.4,
    "online": 0.6,
    "category": {"electronics": 0.8, "jewelry": 0.9, "travel": 0.5, NEW_CATEGORY: 1.6},
}


@dataclass(frozen=True)
class KnownProblem:
    """One problem planted in the sample: where (feature), when (start inclusive, end exclusive)."""

    problem: str
    feature: str | None
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    description: str


KNOWN_PROBLEMS: list[KnownProblem] = [
    KnownProblem(
        "leaky_feature",
        "chargebacks_90d",
        None,
        None,
        "Offline, chargebacks_90d counts the card's chargebacks in the 90 days up to and including "
        "this transaction, so it includes this transaction's own chargeback (known only 30-90 "
        "days later); online it counts only chargebacks already known at prediction time. It is "
        "declared available_at_prediction: false. A model trained on January-June with it scores "
        "ROC AUC about 0.94 on July (offline features) and about 0.71 on the labelled serving log; "
        "the champion's score tells the same story.",
    ),
    KnownProblem(
        "window_mismatch",
        "avg_amount_30d",
        SERVING_START,
        _YEAR_END,
        "The online pipeline averages the card's amounts over 7 days instead of 30: for the same "
        "July transaction ids the two values differ on most rows (and are more often missing "
        "online).",
    ),
    KnownProblem(
        "unit_change",
        "distance_from_home_km",
        SERVING_START,
        _YEAR_END,
        "The online pipeline reports distance in miles, not kilometres: on shared July ids the "
        "offline value is 1.609 times the online one.",
    ),
    KnownProblem(
        "new_category",
        "merchant_category",
        NEW_CATEGORY_START,
        _YEAR_END,
        f"A merchant category unseen in training, {NEW_CATEGORY!r}, appears on 2025-09-01 with a "
        "fraud rate of about 20%, ten times the rest (concept drift).",
    ),
    KnownProblem(
        "silent_incident",
        "device_risk_score",
        INCIDENT_START,
        INCIDENT_END,
        f"For ten days (2025-09-08 to 2025-09-17) the serving log's device_risk_score is stuck at "
        f"the default {DEVICE_RISK_DEFAULT}: nothing crashes, but the champion's ROC AUC inside "
        "the window drops clearly and its alert rate jumps.",
    ),
    KnownProblem(
        "holiday_season",
        None,
        HOLIDAY_START,
        HOLIDAY_END,
        "From Black Friday (2025-11-28) to year end daily volume is about 1.6 times and the true "
        "fraud rate about twice that of September-November; most of these labels have not "
        "arrived by the snapshot (2026-01-01).",
    ),
    KnownProblem(
        "challenger_subgroup",
        "region",
        None,
        None,
        "The challenger has a higher ROC AUC than the champion on the labelled serving log, but "
        "a lower one on region == 'international' (it ignores distance from home).",
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
    frame = pd.DataFrame(
        {
            "problem": pd.array([p.problem for p in KNOWN_PROBLEMS], dtype="str"),
            "feature": pd.array([p.feature for p in KNOWN_PROBLEMS], dtype="str"),
            "start": pd.to_datetime([p.start for p in KNOWN_PROBLEMS], utc=True),
            "end": pd.to_datetime([p.end for p in KNOWN_PROBLEMS], utc=True),
            "description": pd.array([p.description for p in KNOWN_PROBLEMS], dtype="str"),
        }
    )
    frame["start"] = frame["start"].astype("datetime64[us, UTC]")
    frame["end"] = frame["end"].astype("datetime64[us, UTC]")
    return frame


def _seconds(ts: pd.Timestamp) -> int:
    return int(ts.timestamp())


def _daily_profile() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day start (s), relative volume and fraud rate for each day of 2025."""
    days = pd.date_range(_YEAR_START, _YEAR_END, freq="D", inclusive="left")
    n = len(days)
    volume = _WEEKDAY_VOLUME[days.dayofweek] * (1 + 0.08 * np.arange(n) / n)
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
    key_time: np.ndarray, values: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """Count and sum of earlier rows of the same card within ``window`` seconds (sorted input).

    ``key_time`` is card * 2**40 + time, sorted, so one ``searchsorted`` finds every row's window
    start without leaving its card: a real rolling window, vectorised.
    """
    start = np.searchsorted(key_time, key_time - window, side="right")
    position = np.arange(len(key_time))
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    return position - start, cumulative[position] - cumulative[start]


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
    return np.round(_logistic(logit), 4).astype(np.float32)


def _challenger(frame: pd.DataFrame) -> np.ndarray:
    """The challenger: no leaky feature, knows the new category, ignores distance from home."""
    w = _CHALLENGER
    amount = frame["amount"].to_numpy(dtype=float)
    average = frame["avg_amount_30d"].to_numpy(dtype=float)
    ratio = np.where(np.isnan(average), 0.0, np.log(amount / np.where(np.isnan(average), 1, average)))
    category = frame["merchant_category"].map(w["category"]).fillna(0.0).to_numpy(dtype=float)
    logit = (
        w["intercept"]
        + w["device_risk"] * frame["device_risk_score"].fillna(0.2).to_numpy(dtype=float)
        + w["log_amount"] * np.log1p(amount)
        + w["log_amount_ratio"] * np.clip(ratio, -2, 4)
        + w["txn_count_24h"] * np.minimum(frame["txn_count_24h"].to_numpy(dtype=float), 6)
        + w["new_account"] * (frame["account_age_days"].to_numpy() < 60)
        + w["online"] * (frame["channel"] == "online").to_numpy()
        + category
    )
    return np.round(_logistic(logit), 4).astype(np.float32)


def generate(rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> CardFraudSample:
    """Build the training set and the serving log (in memory); see the module docstring."""
    if rows < 2_000:
        raise ValueError(f"rows must be at least 2000 to hold twelve months of data, got {rows}")
    rng = np.random.default_rng(seed)
    day_start, volume, fraud_rate = _daily_profile()
    share = volume / volume.sum()
    n_days = len(day_start)
    new_category_day = _seconds(NEW_CATEGORY_START)

    # Fraud episodes: a stolen card (existing customer) or a synthetic identity (new card).
    burst_sizes, burst_p = np.array([1, 2, 3, 4]), np.array([0.55, 0.25, 0.12, 0.08])
    episodes_per_day = rng.poisson(rows * share * fraud_rate / (burst_sizes @ burst_p))
    episode_day = np.repeat(np.arange(n_days), episodes_per_day)
    n_episodes = len(episode_day)
    episode_size = rng.choice(burst_sizes, size=n_episodes, p=burst_p)
    episode_start = _times(rng, day_start[episode_day], _HOUR_FRAUD)
    episode_synthetic = rng.random(n_episodes) < 0.3
    n_fraud = int(episode_size.sum())
    n_legit = rows - n_fraud

    # Cards and legitimate transactions.
    n_cards = max(200, rows // 25)
    activity = rng.gamma(0.7, size=n_cards)
    activity /= activity.sum()
    card_spend = rng.normal(np.log(40), 0.5, size=n_cards)
    card_age = np.clip(np.round(rng.normal(46, 15, size=n_cards)), 18, 90)
    card_travel = rng.beta(0.5, 12, size=n_cards)
    legit_day = rng.choice(n_days, size=n_legit, p=(share * (1 - fraud_rate)) / (share * (1 - fraud_rate)).sum())
    legit_time = _times(rng, day_start[legit_day], _HOUR_LEGIT)
    legit_card = rng.choice(n_cards, size=n_legit, p=activity)

    # Expand episodes into transactions, minutes apart on one card.
    synthetic_card = n_cards + np.arange(n_episodes)
    stolen_card = rng.choice(n_cards, size=n_episodes, p=activity)
    episode_card = np.where(episode_synthetic, synthetic_card, stolen_card)
    episode_of = np.repeat(np.arange(n_episodes), episode_size)
    first_of = np.concatenate([[0], np.cumsum(episode_size)[:-1]])
    gap = np.round(rng.exponential(45 * 60, size=n_fraud)).astype(np.int64) + 30
    gap[first_of] = 0
    offset = np.cumsum(gap) - np.repeat(np.cumsum(gap)[first_of], episode_size)
    fraud_time = np.minimum(episode_start[episode_of] + offset, _seconds(_YEAR_END) - 1)

    is_fraud = np.concatenate([np.zeros(n_legit, bool), np.ones(n_fraud, bool)])
    card = np.concatenate([legit_card, episode_card[episode_of]])
    time = np.concatenate([legit_time, fraud_time]).astype(np.int64)
    synthetic = np.concatenate([np.zeros(n_legit, bool), episode_synthetic[episode_of]])
    n = rows

    # Merchant category: fraud episodes keep one category; the new one exists from September.
    category_index = np.empty(n, dtype=np.int64)
    category_index[:n_legit] = rng.choice(10, size=n_legit, p=_CATEGORY_P["legit"])
    episode_category = rng.choice(10, size=n_episodes, p=_CATEGORY_P["fraud"])
    category_index[n_legit:] = episode_category[episode_of]
    after = time >= new_category_day
    to_new = np.where(
        is_fraud,
        np.repeat(rng.random(n_episodes), episode_size)[np.maximum(np.arange(n) - n_legit, 0)]
        < _NEW_CATEGORY_SHARE["fraud"],
        rng.random(n) < _NEW_CATEGORY_SHARE["legit"],
    )
    category_index[after & to_new] = 10
    categories = np.array([*_CATEGORIES, NEW_CATEGORY])
    online_category = np.isin(category_index, [4, 10])

    # Channel, region, distance, device risk: drawn by class.
    channel_p = np.where(
        online_category[:, None],
        [[0.0, 0.7, 0.3]],
        np.where(is_fraud[:, None], [[0.35, 0.4, 0.25]], [[0.7, 0.15, 0.15]]),
    )
    channel_index = (rng.random(n)[:, None] > np.cumsum(channel_p, axis=1)).sum(axis=1)
    channel = _CHANNELS[np.minimum(channel_index, 2)].astype(object)
    channel[rng.random(n) < 0.01] = None

    card_travel_all = np.concatenate([card_travel, np.full(n_episodes, 0.1)])
    international = np.where(
        is_fraud & ~synthetic, rng.random(n) < 0.3, rng.random(n) < card_travel_all[card]
    )
    region = np.where(international, "international", "domestic").astype(object)

    distance_median = np.select(
        [international & is_fraud, international, is_fraud], [6000.0, 1200.0, 40.0], 6.0
    )
    distance_sigma = np.select(
        [international & is_fraud, international, is_fraud], [0.5, 0.8, 1.4], 1.1
    )
    distance_km = np.maximum(
        np.round(distance_median * np.exp(rng.normal(0, 1, n) * distance_sigma), 2), 0.1
    )

    # Device risk: informative at home; the vendor's fingerprinting barely covers trips abroad.
    device_informative = is_fraud & ~international
    device_risk = np.where(
        device_informative, rng.beta(3.5, 5.0, size=n), rng.beta(2.0, 9.0, size=n)
    )
    device_risk = np.round(device_risk, 3)
    device_risk[rng.random(n) < 0.02] = np.nan

    # Amount: the card's own level for its owner, larger and wider for fraudsters.
    card_spend_all = np.concatenate([card_spend, np.full(n_episodes, np.log(40))])
    log_amount = np.where(
        is_fraud,
        np.log(60) + 0.5 + rng.normal(0, 1.0, n),
        card_spend_all[card] + rng.normal(0, 0.8, n),
    )
    amount = np.maximum(np.round(np.exp(log_amount + _CATEGORY_AMOUNT[category_index]), 2), 0.5)

    customer_age = np.concatenate(
        [card_age, np.clip(np.round(rng.normal(32, 9, n_episodes)), 18, 90)]
    )[card]
    customer_age[rng.random(n) < 0.03] = np.nan

    # Order by card then time: rolling windows per card.
    order = np.lexsort((time, card))
    card, time, is_fraud, amount = card[order], time[order], is_fraud[order], amount[order]
    key = card.astype(np.int64) * (1 << 40) + time
    first_seen = np.full(n_cards + n_episodes, np.iinfo(np.int64).max)
    np.minimum.at(first_seen, card, time)
    new_account = rng.random(n_cards) < 0.07
    open_offset = np.where(
        new_account, rng.uniform(0, 60, n_cards), rng.uniform(60, 4000, n_cards)
    )
    open_offset = np.concatenate([open_offset, rng.uniform(2, 40, n_episodes)])
    opened = first_seen - np.round(open_offset * _DAY).astype(np.int64)
    account_age_days = ((time - opened[card]) // _DAY).astype(np.int32)

    count_24h, _ = _window_stats(key, amount, _DAY)
    count_30d, sum_30d = _window_stats(key, amount, 30 * _DAY)
    count_7d, sum_7d = _window_stats(key, amount, 7 * _DAY)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg_30d = np.round(np.where(count_30d > 0, sum_30d / count_30d, np.nan), 2)
        avg_7d = np.round(np.where(count_7d > 0, sum_7d / count_7d, np.nan), 2)

    # Labels arrive 30-90 days late; chargebacks (most frauds, a few disputes) arrive with them.
    delay = rng.uniform(LABEL_DELAY_DAYS[0] * _DAY, LABEL_DELAY_DAYS[1] * _DAY, n)
    label_time = time + np.round(delay).astype(np.int64)
    chargeback = np.where(is_fraud, rng.random(n) < 0.75, rng.random(n) < 0.004)
    # offline (backfill over event time): the card's chargebacks in (t - 90d, t], own included
    cb_count, cb_sum = _window_stats(key, chargeback.astype(float), 90 * _DAY)
    chargebacks_offline = (cb_sum + chargeback).astype(np.int16)
    del cb_count
    # online: chargebacks on the card's earlier transactions already known at time t
    known_key = np.sort(card[chargeback].astype(np.int64) * (1 << 40) + label_time[chargeback])
    expiry_key = np.sort(card[chargeback].astype(np.int64) * (1 << 40) + time[chargeback] + 90 * _DAY)
    chargebacks_online = (
        np.searchsorted(known_key, key, side="right") - np.searchsorted(expiry_key, key, side="right")
    ).astype(np.int16)

    reorder = {
        "category_index": category_index[order],
        "channel": channel[order],
        "region": region[order],
        "distance_km": distance_km[order],
        "device_risk": device_risk[order],
        "customer_age": customer_age[order],
    }

    base = pd.DataFrame(
        {
            "time": time,
            "amount": amount.astype(np.float64),
            "merchant_category": pd.array(categories[reorder["category_index"]], dtype="str"),
            "channel": pd.array(reorder["channel"], dtype="str"),
            "region": pd.array(reorder["region"], dtype="str"),
            "hour_of_day": ((time % _DAY) // 3600).astype(np.int8),
            "customer_age": reorder["customer_age"].astype(np.float32),
            "account_age_days": account_age_days,
            "txn_count_24h": count_24h.astype(np.int16),
            "device_risk_score": reorder["device_risk"].astype(np.float32),
            "is_fraud": is_fraud,
            "label_time": label_time,
        }
    )
    base = base.assign(
        avg_offline=avg_30d,
        avg_online=avg_7d,
        km=reorder["distance_km"],
        cb_offline=chargebacks_offline,
        cb_online=chargebacks_online,
    )
    # Transaction ids in time order; ties broken by the card order above (stable sort).
    base = base.sort_values("time", kind="stable", ignore_index=True)
    width = max(7, len(str(n)))
    ids = pd.array([f"T{i:0{width}d}" for i in range(1, n + 1)], dtype="str")

    def timestamps(seconds: np.ndarray) -> pd.Series:
        return pd.Series(seconds * 1_000_000).astype("datetime64[us]").dt.tz_localize("UTC")

    common = pd.DataFrame(
        {
            "transaction_id": ids,
            "event_time": timestamps(base["time"].to_numpy()),
            **{c: base[c] for c in ("amount", "merchant_category", "channel", "region")},
            **{c: base[c] for c in ("hour_of_day", "customer_age", "account_age_days")},
        }
    )

    offline = common.assign(
        distance_from_home_km=base["km"].astype(np.float32),
        avg_amount_30d=base["avg_offline"].astype(np.float32),
        txn_count_24h=base["txn_count_24h"],
        device_risk_score=base["device_risk_score"],
        chargebacks_90d=base["cb_offline"],
    )
    online_device = base["device_risk_score"].mask(
        (base["time"] >= _seconds(INCIDENT_START)) & (base["time"] < _seconds(INCIDENT_END)),
        np.float32(DEVICE_RISK_DEFAULT),
    )
    online = common.assign(
        distance_from_home_km=np.round(base["km"] / KM_PER_MILE, 2).astype(np.float32),
        avg_amount_30d=base["avg_online"].astype(np.float32),
        txn_count_24h=base["txn_count_24h"],
        device_risk_score=online_device.astype(np.float32),
        chargebacks_90d=base["cb_online"],
    )
    label = pd.array(base["is_fraud"].astype(np.int8), dtype="Int8")
    label_ts = timestamps(base["label_time"].to_numpy())

    in_training = (base["time"] < _seconds(TRAINING_END)).to_numpy()
    in_serving = (base["time"] >= _seconds(SERVING_START)).to_numpy()

    training = offline[in_training].reset_index(drop=True)[["transaction_id", "event_time", *FEATURE_NAMES]]
    training = training.assign(
        score=_champion(training),
        is_fraud=label[in_training],
        label_time=label_ts[in_training].reset_index(drop=True),
    )

    serving = online[in_serving].reset_index(drop=True)[["transaction_id", "event_time", *FEATURE_NAMES]]
    arrived = (base["label_time"] <= _seconds(SNAPSHOT)).to_numpy()[in_serving]
    truth = pd.Series(label[in_serving], name="is_fraud")
    serving = serving.assign(
        score=_champion(serving),
        challenger_score=_challenger(serving),
        is_fraud=truth.where(arrived).astype("Int8"),
        label_time=label_ts[in_serving].reset_index(drop=True).where(arrived),
    )
    return CardFraudSample(training=training, serving=serving, serving_truth=truth)
