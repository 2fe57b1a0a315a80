"""The ``delivery_time`` sample case: a year of synthetic food-delivery orders, a regression task.

A food-delivery platform predicts, when an order is placed, how many minutes it will take to reach
the customer. Why synthetic: as with ``card_fraud``, every problem the audits should find is
planted on purpose with a stated feature, dates and magnitude (:data:`KNOWN_PROBLEMS`,
docs/sample_cases.md), so every audit can be shown on a regression task with a known answer.

How it is built (one ``np.random.default_rng(seed)``, a fixed order of draws, so the same
``rows`` and ``seed`` give the same bytes):

1. Orders spread over 2025 by a daily volume curve (busier Friday to Sunday, a slow upward trend,
   the December rush) and an hour-of-day curve with lunch and dinner peaks. Times are stored in
   UTC, which the sample takes to be the city's local time.
2. Each order has a delivery zone, a restaurant (with its own preparation time), a courier (with
   a tenure), a distance, a number of items, the day's weather and the traffic at that hour.
3. The true delivery time = preparation + courier assignment + travel + hand-over, with noise.
   Travel = distance x 4 minutes per km x traffic x weather, slower for new couriers and in the
   new zone. From 2025-09-01 the minutes per km rise linearly, +30% on 31 December (gradual
   concept drift: more couriers on bicycles, road works); December adds waiting time (the rush).
4. ``restaurant_prep_avg_min`` is a true rolling mean of the restaurant's preparation times over
   28 days up to the day before (``availability_lag: 1d``).
5. Each feature is logged twice, by the offline (training) pipeline and the online (serving)
   pipeline; they differ exactly where a known problem says so.
6. The champion (``predicted_minutes``) is a linear formula fitted by least squares to the
   training period (January-July, offline features) and then frozen. The challenger
   (``challenger_minutes``) is the same formula plus three terms the champion lacks (the minutes
   per km trend since September, the new zone, the December rush), fitted on the whole year's
   offline data: it stands in for a model that knows the drift.
7. Training = January-July, delivered orders only (a cancelled order has no delivery time), with
   offline features; the serving log = July-December, every order, with online features, as a
   snapshot taken on 2026-01-01. A label (the delivery time) arrives when the order is delivered
   (``label_time`` = order time + delivery minutes); about 2% of orders are cancelled and never
   get one.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from prodready.errors import ParameterError
from prodready.samples._common import KnownProblem, problems_frame

DEFAULT_ROWS = 60_000
DEFAULT_SEED = 0
MIN_ROWS = 5_000  # fewer leaves too few orders in a ten-day window for the problems to show

_DAY = 86_400
_YEAR_START = pd.Timestamp("2025-01-01", tz="UTC")
_YEAR_END = pd.Timestamp("2026-01-01", tz="UTC")
TRAINING_END = pd.Timestamp("2025-08-01", tz="UTC")  # exclusive: training is January-July
SERVING_START = pd.Timestamp("2025-07-01", tz="UTC")  # July is in both sets (same ids)
SNAPSHOT = pd.Timestamp("2026-01-01", tz="UTC")  # when the serving log was exported
DRIFT_START = pd.Timestamp("2025-09-01", tz="UTC")
DRIFT_AT_YEAR_END = 0.30  # minutes per km +30% on 31 December, rising linearly from 1 September
STUCK_START = pd.Timestamp("2025-08-11", tz="UTC")
STUCK_END = pd.Timestamp("2025-08-21", tz="UTC")  # exclusive: ten days, 11-20 August
TRAFFIC_DEFAULT = 1.0  # what the online feature service returns when the traffic feed is down
UNIT_START = pd.Timestamp("2025-10-13", tz="UTC")
UNIT_END = pd.Timestamp("2025-11-03", tz="UTC")  # exclusive: three weeks
UNIT_CLIENT = "android"  # the app release that sent miles
KM_PER_MILE = 1.609344
NEW_ZONE = "riverside"
NEW_ZONE_START = pd.Timestamp("2025-11-01", tz="UTC")
RUSH_START = pd.Timestamp("2025-12-01", tz="UTC")
RUSH_END = _YEAR_END
CANCEL_RATE = 0.02
COST_PER_MINUTE = 0.40  # EUR per minute of absolute error (refunds, vouchers, idle couriers)

FEATURES: list[dict[str, object]] = [
    {"name": "distance_km", "type": "numeric"},
    {"name": "items", "type": "numeric"},
    {"name": "hour_of_day", "type": "numeric"},
    {"name": "weekday", "type": "categorical"},
    {"name": "weather", "type": "categorical"},
    {"name": "city_zone", "type": "categorical"},
    {"name": "client", "type": "categorical"},
    {"name": "courier_tenure_days", "type": "numeric"},
    {"name": "restaurant_prep_avg_min", "type": "numeric", "availability_lag": "1d"},
    {"name": "traffic_index", "type": "numeric"},
]
FEATURE_NAMES = [str(f["name"]) for f in FEATURES]
_COLUMNS = ["order_id", "order_time", *FEATURE_NAMES]

_WEEKDAYS = np.array(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
_WEEKDAY_VOLUME = np.array([0.85, 0.85, 0.9, 0.95, 1.15, 1.3, 1.1])
_RUSH_VOLUME = 1.45
# fmt: off
_HOUR_VOLUME = np.array([2, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3, 4, 6, 12,
                         16, 12, 6, 4, 5, 9, 16, 20, 16, 10, 6, 3], dtype=float)
# traffic by hour of day: morning and evening rush hours
_HOUR_TRAFFIC = np.array([0.65, 0.6, 0.6, 0.6, 0.65, 0.8, 1.05, 1.5, 1.6, 1.25, 1.05, 1.15,
                          1.2, 1.15, 1.05, 1.15, 1.4, 1.6, 1.5, 1.25, 1.0, 0.85, 0.75, 0.7])
# fmt: on
_ZONES = np.array(["centre", "north", "south", "east", "west"])
_ZONE_P = np.array([0.32, 0.18, 0.18, 0.16, 0.16])
_ZONE_DISTANCE = {"centre": 2.6, "north": 3.8, "south": 3.6, "east": 4.2, "west": 4.0}
_NEW_ZONE_SHARE = 0.09  # of orders from 1 November
_NEW_ZONE_DISTANCE = 5.0
_NEW_ZONE_EXTRA_MIN = 5.0  # bridges, new addresses the couriers do not know yet
_NEW_ZONE_TRAVEL = 1.15
_CLIENTS = np.array(["ios", "android", "web"])
_CLIENT_P = np.array([0.45, 0.4, 0.15])
_WEATHER = np.array(["clear", "cloudy", "rain", "snow"])
_WEATHER_TRAVEL = np.array([1.0, 1.0, 1.15, 1.4])
_WEATHER_TRAFFIC = np.array([1.0, 1.0, 1.1, 1.25])
_MINUTES_PER_KM = 4.0
_RUSH_WAIT_MIN = 4.0  # December: couriers are busy, orders wait longer for one
_PEAK_WAIT_MIN = 2.0  # lunch and dinner
_PEAK_HOURS = (11, 12, 13, 18, 19, 20)


@dataclass(frozen=True)
class DeliverySample:
    """What :func:`generate` returns: the two data sets, and the truth the log does not show.

    ``serving_truth`` has one row per serving row: the delivery minutes (also where the label has
    not arrived; NaN for a cancelled order), ``cancelled``, and the true ``distance_km`` and
    ``traffic_index`` where the online pipeline logged something else.
    """

    training: pd.DataFrame
    serving: pd.DataFrame
    serving_truth: pd.DataFrame


# Magnitudes are those of the bundled copy (default rows, seed 0); tests check each one.
# "Error" is actual - predicted minutes: positive = the order arrived later than predicted.
KNOWN_PROBLEMS: list[KnownProblem] = [
    KnownProblem(
        "gradual_drift",
        "distance_km",
        DRIFT_START,
        _YEAR_END,
        "From 2025-09-01 every kilometre takes longer (more couriers on bicycles, road works): "
        "the true minutes per km rise linearly, +30% on 31 December. The champion, fitted on "
        "January-July and never retrained, decays month by month: on the orders outside the "
        "other problems its mean error is +0.1 minutes in July, -0.1 in August, +0.7 in "
        "September, +2.1 in October and +3.6 in November (MAE 3.6, 3.5, 3.6, 4.0, 4.8), and "
        "+11.2 in December on top of the rush (MAE 11.2).",
    ),
    KnownProblem(
        "stuck_feed",
        "traffic_index",
        STUCK_START,
        STUCK_END,
        f"From 2025-08-11 to 2025-08-20 (ten days, 1,385 orders) the traffic feed is down and "
        f"the online feature service silently returns its default, {TRAFFIC_DEFAULT}, on every "
        "order, with no missing values (outside the window 1.2% of orders happen to read "
        "1.0). The champion misses every rush hour: its MAE in the window is 5.3 minutes "
        "against 3.5 in the rest of August.",
    ),
    KnownProblem(
        "unit_change",
        "distance_km",
        UNIT_START,
        UNIT_END,
        f"From 2025-10-13 to 2025-11-02 (three weeks) one client, the {UNIT_CLIENT} app, sends "
        "the distance in miles, not kilometres (logged = km / 1.609344), on its 41% of the "
        "orders. The champion predicts those orders 10.4 minutes too short on average (MAE 10.5 "
        "against 4.1 for the other clients in the same weeks).",
    ),
    KnownProblem(
        "new_zone",
        "city_zone",
        NEW_ZONE_START,
        _YEAR_END,
        f"A delivery zone never seen in training, {NEW_ZONE!r}, opens on 2025-11-01: 9.1% of "
        "orders from then on, farther and slower (bridges, addresses the couriers do not know "
        "yet). The champion treats it like the centre and predicts 21 minutes too short on "
        "average there (MAE 21.2 against 8.6 in the other zones over November-December).",
    ),
    KnownProblem(
        "december_rush",
        None,
        RUSH_START,
        RUSH_END,
        "Seasonality: in December 235 orders a day against 166 in September-November (x1.41); "
        "orders wait about 4 minutes longer for a courier, kitchens and streets are slower, and "
        "35% of orders go to couriers hired in the last 60 days (12% before). The mean delivery "
        "time is 58 minutes in December against 45 in November; the champion, which never saw a "
        "December, predicts 12.4 minutes too short on average.",
    ),
    KnownProblem(
        "cancelled_orders",
        None,
        None,
        None,
        "2.1% of serving orders are cancelled: they are in the serving log with a prediction but "
        "their delivery time never arrives (no label, no label_time); training holds delivered "
        "orders only. Every other label arrives within hours (median 41 minutes after the "
        "order, 90% within 68 minutes), so only 3 more serving orders (the last minutes of the "
        "year) have no label at the snapshot.",
    ),
]


def known_problems_frame() -> pd.DataFrame:
    """The planted problems as a frame: problem, feature, start, end (UTC, end exclusive)."""
    return problems_frame(KNOWN_PROBLEMS)


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


def _seconds(ts: pd.Timestamp) -> int:
    return int(ts.timestamp())


def _timestamps(seconds: np.ndarray) -> pd.Series:
    """Seconds since the epoch as UTC timestamps (microsecond unit, pandas' parsed default)."""
    return pd.Series((seconds * 1_000_000).astype("datetime64[us]")).dt.tz_localize("UTC")


def drift_factor(seconds: np.ndarray) -> np.ndarray:
    """True minutes per km relative to before September: 1 until 2025-09-01, then rising
    linearly to 1 + DRIFT_AT_YEAR_END at the end of the year."""
    start, end = _seconds(DRIFT_START), _seconds(_YEAR_END)
    return 1.0 + DRIFT_AT_YEAR_END * np.clip((seconds - start) / (end - start), 0.0, 1.0)


def _daily_profile() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Day start (s), relative volume and month (1-12) of each day of 2025."""
    days = pd.date_range(_YEAR_START, _YEAR_END, freq="D", inclusive="left")
    n = len(days)
    volume = _WEEKDAY_VOLUME[days.day_of_week] * (1 + 0.1 * np.arange(n) / n)
    volume[(days.month == 8)] *= 0.9  # summer holidays
    volume[days >= RUSH_START] *= _RUSH_VOLUME
    starts = (days.asi8 // 1_000_000).astype(np.int64)  # datetime64[us] -> seconds
    return starts, volume, np.asarray(days.month)


def _weather(rng: np.random.Generator, month: np.ndarray) -> np.ndarray:
    """Index into _WEATHER for each day: rain more often in autumn and winter, snow in winter."""
    winter = np.isin(month, [1, 2, 12])
    autumn = np.isin(month, [3, 10, 11])
    p = np.where(
        winter[:, None],
        [[0.35, 0.3, 0.25, 0.1]],
        np.where(autumn[:, None], [[0.35, 0.3, 0.35, 0.0]], [[0.6, 0.25, 0.15, 0.0]]),
    )
    return (rng.random(len(month))[:, None] > np.cumsum(p, axis=1)).sum(axis=1).clip(0, 3)


def _rolling_mean(
    key: np.ndarray, source_key: np.ndarray, values: np.ndarray, window: int, lag: int
) -> np.ndarray:
    """For each ``key``, the mean of ``values`` whose ``source_key`` is in
    (key - lag - window, key - lag]: NaN where that window is empty.

    Keys are restaurant * 2**40 + seconds and ``source_key`` is sorted, so one ``searchsorted``
    finds every row's window without leaving its restaurant: a real rolling window, vectorised.
    """
    end = np.searchsorted(source_key, key - lag, side="right")
    start = np.searchsorted(source_key, key - lag - window, side="right")
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    count = end - start
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (cumulative[end] - cumulative[start]) / count, np.nan)


def _design(frame: pd.DataFrame, *, knows_drift: bool, seconds: np.ndarray) -> np.ndarray:
    """The formulas' inputs, one row per order: intercept, distance x traffic (and its rain and
    snow interactions), distance x new-courier decay, items, the restaurant's average preparation
    time (0 and a missing flag when unknown), a lunch/dinner-peak flag and zone dummies (centre
    is the baseline, so a zone the formula never saw counts as the centre). ``knows_drift`` adds
    the challenger's terms: distance x traffic x (minutes-per-km trend - 1), the new zone (alone
    and x distance x traffic) and a December flag."""
    distance = frame["distance_km"].to_numpy(dtype=float)
    traffic = frame["traffic_index"].to_numpy(dtype=float)
    weather = frame["weather"].to_numpy(dtype=object)
    zone = frame["city_zone"].to_numpy(dtype=object)
    tenure = frame["courier_tenure_days"].to_numpy(dtype=float)
    prep = frame["restaurant_prep_avg_min"].to_numpy(dtype=float)
    known_prep = ~np.isnan(prep)
    travel = distance * traffic
    columns = [
        np.ones(len(frame)),
        travel,
        travel * (weather == "rain"),
        travel * (weather == "snow"),
        distance * np.exp(-tenure / 45.0),
        frame["items"].to_numpy(dtype=float),
        np.where(known_prep, prep, 0.0),
        (~known_prep).astype(float),
        np.isin(frame["hour_of_day"].to_numpy(), _PEAK_HOURS).astype(float),
        *[(zone == name).astype(float) for name in _ZONES[1:]],
    ]
    if knows_drift:
        columns += [
            travel * (drift_factor(seconds) - 1.0),
            (zone == NEW_ZONE).astype(float),
            travel * (zone == NEW_ZONE),
            (seconds >= _seconds(RUSH_START)).astype(float),
        ]
    return np.column_stack(columns)


def _fit(design: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """Least-squares coefficients, rounded so the formula can be written down."""
    coefficients, *_ = np.linalg.lstsq(design, minutes, rcond=None)
    return np.round(coefficients, 3)


def _predict(design: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    return np.round(np.maximum(design @ coefficients, 5.0), 1)


def generate(rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> DeliverySample:
    """Build the training set and the serving log (in memory); see the module docstring."""
    check_rows(rows)
    rng = np.random.default_rng(seed)
    day_start, volume, month = _daily_profile()
    n_days = len(day_start)
    n = int(rows)

    # When: day by the volume curve, hour by the lunch and dinner peaks.
    day = np.sort(rng.choice(n_days, size=n, p=volume / volume.sum()))
    hour = rng.choice(24, size=n, p=_HOUR_VOLUME / _HOUR_VOLUME.sum())
    time = day_start[day] + hour * 3600 + rng.integers(0, 3600, size=n)
    weekday = ((day_start[day] // _DAY + 3) % 7).astype(np.int64)  # 1970-01-01 was a Thursday
    day_weather = _weather(rng, month)
    weather = day_weather[day]

    # Where: delivery zone (the new zone from November), client app, distance.
    zone = _ZONES[rng.choice(len(_ZONES), size=n, p=_ZONE_P)].astype(object)
    to_new = (time >= _seconds(NEW_ZONE_START)) & (rng.random(n) < _NEW_ZONE_SHARE)
    zone[to_new] = NEW_ZONE
    client = _CLIENTS[rng.choice(len(_CLIENTS), size=n, p=_CLIENT_P)]
    median_km = np.array([_ZONE_DISTANCE.get(z, _NEW_ZONE_DISTANCE) for z in zone])
    distance_km = np.round(np.clip(median_km * np.exp(rng.normal(0, 0.45, n)), 0.3, 15.0), 2)
    items = np.minimum(1 + rng.poisson(1.3, n), 12)

    # Traffic at that hour (true value): rush hours, weekends lighter, bad weather, December.
    in_rush = time >= _seconds(RUSH_START)
    traffic = (
        _HOUR_TRAFFIC[hour]
        * np.where(weekday >= 5, 0.9, 1.0)
        * _WEATHER_TRAFFIC[weather]
        * np.where(in_rush, 1.1, 1.0)
        * np.exp(rng.normal(0, 0.15, n))
    )
    traffic = np.round(traffic, 2)

    # Couriers: most have months or years of experience; December brings seasonal hires.
    new_hire = rng.random(n) < np.where(in_rush, 0.35, 0.12)
    hired_recently = rng.uniform(0, 60, n)
    experienced = np.minimum(np.exp(rng.normal(np.log(300), 0.8, n)), 3000) + 30
    tenure = np.where(new_hire, hired_recently, experienced)
    tenure = np.floor(tenure).astype(np.int32)

    # Restaurants, each with its own preparation time; orders pick them by popularity.
    n_restaurants = max(60, n // 150)
    popularity = rng.gamma(1.2, size=n_restaurants)
    restaurant = rng.choice(n_restaurants, size=n, p=popularity / popularity.sum())
    base_prep = np.exp(rng.normal(np.log(12.0), 0.3, n_restaurants))
    peak = np.isin(hour, _PEAK_HOURS)
    prep = (
        base_prep[restaurant]
        * (1 + 0.04 * (items - 1))
        * np.where(peak, 1.1, 1.0)
        * np.where(in_rush, 1.1, 1.0)
        * np.exp(rng.normal(0, 0.15, n))
    )

    # The true delivery time.
    assign = rng.uniform(1.0, 4.0, n) + _PEAK_WAIT_MIN * peak + _RUSH_WAIT_MIN * in_rush
    new_zone = zone == NEW_ZONE
    travel = (
        distance_km
        * _MINUTES_PER_KM
        * traffic
        * _WEATHER_TRAVEL[weather]
        * drift_factor(time)
        * (1 + 0.3 * np.exp(-tenure / 45.0))
        * np.where(new_zone, _NEW_ZONE_TRAVEL, 1.0)
    )
    handover = rng.uniform(1.0, 3.0, n) + _NEW_ZONE_EXTRA_MIN * new_zone
    late = rng.random(n) < 0.03  # a wrong address, a lost courier: the long tail
    minutes = (prep + assign + travel + handover) * np.exp(rng.normal(0, 0.08, n))
    minutes = np.round(minutes + late * rng.uniform(5, 25, n), 1)
    cancelled = rng.random(n) < CANCEL_RATE
    label_time = time + np.round(minutes * 60).astype(np.int64)

    # Restaurant's mean preparation time of delivered orders over the 28 days up to the day
    # before (both pipelines honour the declared one-day lag).
    order = np.lexsort((time, restaurant))
    key = restaurant[order].astype(np.int64) * (1 << 40) + time[order]
    done = ~cancelled[order]
    rolling = _rolling_mean(key, key[done], prep[order][done], 28 * _DAY, _DAY)
    prep_avg = np.empty(n)
    prep_avg[order] = np.round(rolling, 1)

    # In time order; order ids follow time.
    by_time = np.argsort(time, kind="stable")
    t = time[by_time]
    width = max(7, len(str(n)))
    common = pd.DataFrame(
        {
            "order_id": pd.array([f"O{i:0{width}d}" for i in range(1, n + 1)], dtype="str"),
            "order_time": _timestamps(t),
            "items": items[by_time].astype(np.int16),
            "hour_of_day": hour[by_time].astype(np.int8),
            "weekday": pd.array(_WEEKDAYS[weekday[by_time]], dtype="str"),
            "weather": pd.array(_WEATHER[weather[by_time]], dtype="str"),
            "city_zone": pd.array(zone[by_time].astype(str), dtype="str"),
            "client": pd.array(client[by_time], dtype="str"),
            "courier_tenure_days": tenure[by_time],
            "restaurant_prep_avg_min": prep_avg[by_time].astype(np.float64),
        }
    )
    km = distance_km[by_time].astype(np.float64)
    true_traffic = traffic[by_time].astype(np.float64)
    offline = common.assign(distance_km=km, traffic_index=true_traffic)[_COLUMNS]
    stuck = (t >= _seconds(STUCK_START)) & (t < _seconds(STUCK_END))
    in_miles = (
        (t >= _seconds(UNIT_START)) & (t < _seconds(UNIT_END)) & (client[by_time] == UNIT_CLIENT)
    )
    online = common.assign(
        distance_km=np.where(in_miles, np.round(km / KM_PER_MILE, 2), km),
        traffic_index=np.where(stuck, TRAFFIC_DEFAULT, true_traffic),
    )[_COLUMNS]
    truth_minutes = minutes[by_time]
    is_cancelled = cancelled[by_time]
    label_at = label_time[by_time]

    in_training = (t < _seconds(TRAINING_END)) & ~is_cancelled
    training = offline[in_training].reset_index(drop=True)
    champion = _fit(
        _design(training, knows_drift=False, seconds=t[in_training]), truth_minutes[in_training]
    )
    delivered = ~is_cancelled
    challenger = _fit(
        _design(offline[delivered], knows_drift=True, seconds=t[delivered]),
        truth_minutes[delivered],
    )
    training = training.assign(
        predicted_minutes=_predict(
            _design(training, knows_drift=False, seconds=t[in_training]), champion
        ),
        delivery_minutes=truth_minutes[in_training],
        label_time=_timestamps(label_at[in_training]),
    )

    in_serving = t >= _seconds(SERVING_START)
    serving = online[in_serving].reset_index(drop=True)
    st = t[in_serving]
    arrived = ~is_cancelled[in_serving] & (label_at[in_serving] <= _seconds(SNAPSHOT))
    serving = serving.assign(
        predicted_minutes=_predict(_design(serving, knows_drift=False, seconds=st), champion),
        challenger_minutes=_predict(_design(serving, knows_drift=True, seconds=st), challenger),
        delivery_minutes=np.where(arrived, truth_minutes[in_serving], np.nan),
        label_time=_timestamps(label_at[in_serving]).where(arrived),
    )
    truth = pd.DataFrame(
        {
            "delivery_minutes": np.where(is_cancelled, np.nan, truth_minutes)[in_serving],
            "cancelled": is_cancelled[in_serving],
            "distance_km": km[in_serving],
            "traffic_index": true_traffic[in_serving],
        }
    )
    return DeliverySample(training=training, serving=serving, serving_truth=truth)


def case_yaml(rows: int, seed: int) -> str:
    """The case file for data generated with ``rows`` and ``seed`` (paths relative to it)."""
    feature_lines = []
    for feature in FEATURES:
        extras = "".join(
            f", {key}: {value}" for key, value in feature.items() if key not in ("name", "type")
        )
        feature_lines.append(f"  - {{name: {feature['name']}, type: {feature['type']}{extras}}}")
    features = "\n".join(feature_lines)
    return f"""\
# Sample case generated by prodready.samples.delivery_time (rows={rows}, seed={seed}).
# Regenerate: prodready sample delivery_time --rows {rows} --seed {seed} --out DIR
name: Food delivery time
task: regression
description: >-
  Synthetic food-delivery orders for 2025 ({rows} orders, seed {seed}): predict the minutes from
  order to delivery. Training is January-July (delivered orders) as the offline pipeline
  computed it; the serving log is July-December as the online pipeline computed it, exported on
  2026-01-01; a delivery time arrives when the order is delivered, and never for a cancelled
  order. Six problems are planted on purpose: see
  prodready.samples.known_problems('delivery_time').
training: {{path: training.parquet}}
serving: {{path: serving_log.parquet}}
columns:
  id: order_id
  timestamp: order_time
  label: delivery_minutes
  label_time: label_time
  prediction: predicted_minutes
  challenger: challenger_minutes
features:
{features}
business:
  currency: EUR
  cost_per_unit_error: {COST_PER_MINUTE}  # per minute of absolute error: refunds, vouchers
"""
