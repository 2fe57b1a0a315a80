"""The ``elec2`` sample case: real electricity-market data whose concept drifts over 2.5 years.

Source and attribution: the Electricity market data set (Elec2), 45,312 half-hourly records of
the New South Wales (Australia) electricity market from 7 May 1996 to early December 1998,
collected by M. Harries (Harries, "Splice-2 comparative evaluation: electricity pricing",
University of New South Wales, 1999) and analysed by J. Gama (Gama et al., "Learning with drift
detection", 2004); one of the most used real data sets for concept drift. Licence: public domain
(Open Data Commons PDDL). prodready ships the unmodified CSV, gzip-compressed, as
``samples/data/elec2.csv.gz``.

Why it is here: the synthetic samples plant every problem on purpose; this one is real, so its
drift is whatever the market did. It is the real-data case for decay, retraining, monitoring and
rollout replay.

How the case is built from the CSV (nothing random, so every run gives the same bytes):

1. Row ``i`` is the half hour starting at 1996-05-07 00:00 UTC + 30 min x ``i`` (the rows are in
   time order at 48 a day; the rebuilt weekday agrees with the ``day`` column on every row). The
   CSV's ``date`` column is not used: it is not monotonic, and as a feature it would only encode
   time.
2. ``record_id`` = ``"elec2-000000"``, ``"elec2-000001"``, ... in row order; the label
   ``price_up`` = 1 when ``class`` is ``UP`` (the NSW price rose against its last-24-hour
   average), else 0, known at the end of the half hour (``label_time`` = start + 30 min).
3. Features: ``day`` (1 = Monday ... 7 = Sunday, categorical), ``period`` (half hour of the day,
   normalised 0-1), ``nswprice``, ``nswdemand``, ``vicprice``, ``vicdemand``, ``transfer`` (all
   normalised 0-1 in the source).
4. Training = the first 12 months (1996-05-07 to 1997-05-06); serving = the rest (1997-05-07 to
   1998-12-06), all labelled.
5. The champion (``score``) is :func:`prodready.models.fit` (seed 0) trained on the first 6 months
   of training only and never retrained; its score on the training rows includes the 6 months it
   was fitted on. The challenger (``challenger_score``, serving only) is the same baseline
   trained on the last 6 months of training.
"""

from __future__ import annotations

import numbers
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from prodready.errors import DataError, ParameterError
from prodready.samples._common import KnownProblem, problems_frame
from prodready.spec import Feature

SOURCE = Path(__file__).resolve().parent / "data" / "elec2.csv.gz"
SOURCE_COLUMNS = [
    "date",
    "day",
    "period",
    "nswprice",
    "nswdemand",
    "vicprice",
    "vicdemand",
    "transfer",
    "class",
]
DEFAULT_ROWS = 45_312  # the whole data set: elec2 has a fixed size
DEFAULT_SEED = 0  # the baseline models' seed; nothing else is random

START = pd.Timestamp("1996-05-07", tz="UTC")
STEP = pd.Timedelta(minutes=30)
CHAMPION_END = pd.Timestamp("1996-11-07", tz="UTC")  # exclusive: the champion's 6 months
TRAINING_END = pd.Timestamp("1997-05-07", tz="UTC")  # exclusive: training is the first 12 months
END = START + DEFAULT_ROWS * STEP  # exclusive: 1998-12-07 00:00
VICTORIA_START = pd.Timestamp("1997-05-05", tz="UTC")  # first row with real Victorian values
WORST_START = pd.Timestamp("1997-12-01", tz="UTC")  # the champion's worst stretch in serving
WORST_END = pd.Timestamp("1998-05-01", tz="UTC")  # exclusive

ID_COLUMN = "record_id"
TIME_COLUMN = "interval_start"
LABEL = "price_up"
FEATURES: list[dict[str, object]] = [
    {"name": "day", "type": "categorical"},
    {"name": "period", "type": "numeric"},
    {"name": "nswprice", "type": "numeric"},
    {"name": "nswdemand", "type": "numeric"},
    {"name": "vicprice", "type": "numeric"},
    {"name": "vicdemand", "type": "numeric"},
    {"name": "transfer", "type": "numeric"},
]
FEATURE_NAMES = [str(f["name"]) for f in FEATURES]
SCORE_DECIMALS = 6

ATTRIBUTION = (
    "Electricity market data (Elec2), New South Wales, 1996-1998: collected by M. Harries "
    "(University of New South Wales) and analysed by J. Gama; public domain (ODC-PDDL)."
)

# Measured on this case (tests/test_sample_elec2.py checks every figure).
KNOWN_PROBLEMS: list[KnownProblem] = [
    KnownProblem(
        "concept_drift",
        None,
        TRAINING_END,
        END,
        "Real concept drift (nothing planted). The champion, trained on May-October 1996 and never "
        "retrained, scores ROC AUC 0.97 on the months it was fitted on, 0.86 on November "
        "1996-April 1997 (training months it never saw) and 0.75 on the serving log. Month by "
        "month in serving: 0.92 in May 1997 and 0.87 in June, below 0.80 from July 1997 "
        "(0.74-0.82 July-October, 0.87 in November), its worst stretch from December 1997 to "
        "April 1998 (0.58-0.69, lowest 0.58 in January 1998), and back to 0.86-0.93 from July "
        "1998. Not a steady slide: the relation between the features and the price move "
        "changes, partly comes back, and changes again.",
    ),
    KnownProblem(
        "same_period_price",
        "nswprice",
        None,
        None,
        "nswprice is the price of the very half hour the label describes (price_up compares it "
        "with the last 24 hours' average), so in production it is known only at the end of the "
        "half hour, with the label. The case keeps it, as the classic benchmark does; alone it "
        "scores ROC AUC 0.89 in training and 0.78 in serving, and the skew audit's leakage "
        "probe flags it. A model that must decide before the half hour would use the previous "
        "half hour's values instead.",
    ),
    KnownProblem(
        "filled_vicprice",
        "vicprice",
        START,
        VICTORIA_START,
        "Victorian data are missing in the source until 1997-05-05 and were filled with one "
        "constant (0.003467): vicprice is that constant on 99.5% of training rows (every row "
        "before 1997-05-05) and on 0.01% of serving rows. A model trained on it cannot use it, "
        "and the skew audit sees a large shift (PSI about 1.4) and a feature that gains signal "
        "in serving (the leakage probe flags it): a data artefact, not a change in the market.",
    ),
    KnownProblem(
        "filled_vicdemand",
        "vicdemand",
        START,
        VICTORIA_START,
        "Like vicprice: vicdemand is the fill constant 0.422915 on every row before 1997-05-05 "
        "(99.5% of training, one serving row); PSI about 3.2, flagged by the leakage probe.",
    ),
    KnownProblem(
        "filled_transfer",
        "transfer",
        START,
        VICTORIA_START,
        "Like vicprice: transfer (between New South Wales and Victoria) is the fill constant "
        "0.414912 on every row before 1997-05-05 (99.5% of training, 0.2% of serving); the "
        "largest shift of the case (PSI about 4.8).",
    ),
    KnownProblem(
        "challenger_not_better",
        None,
        TRAINING_END,
        END,
        "The challenger, trained on the 6 most recent months of training (November 1996-April "
        "1997), is not the better model: on the serving log it scores ROC AUC 0.72 against the "
        "champion's 0.75, and it wins only 3 of the 20 serving months (May 1997, May and June "
        "1998). The most recent data is not always the most relevant when the drift comes and "
        "goes.",
    ),
]


@dataclass(frozen=True)
class Elec2Sample:
    """What :func:`generate` returns: the training set and the serving log."""

    training: pd.DataFrame
    serving: pd.DataFrame


def known_problems_frame() -> pd.DataFrame:
    """The known problems as a frame: problem, feature, start, end (UTC, end exclusive)."""
    return problems_frame(KNOWN_PROBLEMS)


def check_rows(rows: object) -> None:
    """elec2 is a fixed data set: only its own row count can be written."""
    if isinstance(rows, bool) or not isinstance(rows, numbers.Integral) or rows != DEFAULT_ROWS:
        raise ParameterError(
            "elec2 is real data with a fixed number of rows; it cannot be resized",
            where="rows",
            expected=f"{DEFAULT_ROWS} (the whole data set), or leave rows out",
            found=repr(rows),
            fix="leave --rows out (or pass rows=45312); to try another size, use a synthetic "
            "sample such as card_fraud or delivery_time",
        )


def check_seed(seed: object) -> None:
    """elec2 has nothing random to seed: only the default seed is accepted."""
    if seed != DEFAULT_SEED or isinstance(seed, bool):
        raise ParameterError(
            "elec2 is real data: there is nothing random to seed, so another seed would give "
            "the same case",
            where="seed",
            expected=f"{DEFAULT_SEED}, or leave the seed out",
            found=repr(seed),
            fix="leave --seed out; to get other data from another seed, use a synthetic sample "
            "such as card_fraud or delivery_time",
        )


def read_source(path: str | Path = SOURCE) -> pd.DataFrame:
    """The CSV as shipped, checked: the columns, the row count and the labels it must have."""
    path = Path(path)
    if not path.is_file():
        raise DataError(
            "the elec2 data file that ships with prodready is missing",
            where=str(path),
            expected="the CSV installed with prodready (prodready/samples/data/elec2.csv.gz)",
            found="no such file",
            fix="reinstall prodready (pip install --force-reinstall prodready)",
        )
    frame = pd.read_csv(path)
    if list(frame.columns) != SOURCE_COLUMNS or len(frame) != DEFAULT_ROWS:
        raise DataError(
            "the elec2 data file is not the one prodready ships",
            where=str(path),
            expected=f"{DEFAULT_ROWS} rows with columns {', '.join(SOURCE_COLUMNS)}",
            found=f"{len(frame)} rows with columns {', '.join(map(str, frame.columns))}",
            fix="reinstall prodready (pip install --force-reinstall prodready)",
        )
    if not frame["class"].isin(["UP", "DOWN"]).all():
        raise DataError(
            "the elec2 class column holds values other than UP and DOWN",
            where=f"{path}, column 'class'",
            expected="UP or DOWN on every row",
            found=", ".join(sorted(map(str, frame["class"].unique()[:5]))),
            fix="reinstall prodready (pip install --force-reinstall prodready)",
        )
    return frame


def _features() -> list[Feature]:
    return [Feature.model_validate(f) for f in FEATURES]


def generate(rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> Elec2Sample:
    """Build the training set and the serving log from the shipped CSV (see the module
    docstring); ``rows`` and ``seed`` only accept their defaults."""
    from prodready import models  # scikit-learn: imported only when a case is built

    check_rows(rows)
    check_seed(seed)
    source = read_source()
    position = np.arange(len(source), dtype=np.int64)
    step_us = int(STEP / pd.Timedelta(microseconds=1))
    start_us = int(START.value // 1_000)  # ns -> us
    start = pd.Series((start_us + position * step_us).astype("datetime64[us]")).dt.tz_localize(
        "UTC"
    )
    frame = pd.DataFrame(
        {
            ID_COLUMN: pd.array([f"elec2-{i:06d}" for i in position], dtype="str"),
            TIME_COLUMN: start,
            "day": pd.array(source["day"].astype(str), dtype="str"),
            **{name: source[name].astype("float64") for name in FEATURE_NAMES[1:]},
        }
    )
    label = pd.array((source["class"] == "UP").astype("int8"), dtype="Int8")
    label_time = start + STEP

    features = _features()
    fit_rows = frame.assign(**{LABEL: label})
    champion = models.fit(
        fit_rows[frame[TIME_COLUMN] < CHAMPION_END], features, LABEL, seed=int(seed)
    )
    recent = (frame[TIME_COLUMN] >= CHAMPION_END) & (frame[TIME_COLUMN] < TRAINING_END)
    challenger = models.fit(fit_rows[recent], features, LABEL, seed=int(seed))
    score = np.round(champion.predict_score(frame), SCORE_DECIMALS)

    in_training = (frame[TIME_COLUMN] < TRAINING_END).to_numpy()
    training = frame[in_training].reset_index(drop=True)
    training = training.assign(
        score=score[in_training],
        **{LABEL: label[in_training]},
        label_time=label_time[in_training].reset_index(drop=True),
    )
    serving = frame[~in_training].reset_index(drop=True)
    serving = serving.assign(
        score=score[~in_training],
        challenger_score=np.round(challenger.predict_score(serving), SCORE_DECIMALS),
        **{LABEL: label[~in_training]},
        label_time=label_time[~in_training].reset_index(drop=True),
    )
    return Elec2Sample(training=training, serving=serving)


def case_yaml(rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> str:
    """The case file (paths relative to it)."""
    features = "\n".join(f"  - {{name: {f['name']}, type: {f['type']}}}" for f in FEATURES)
    description = textwrap.fill(
        f"Real data: {ATTRIBUTION} Half-hourly records; the timestamp is rebuilt from the row "
        "order (row i = 1996-05-07 00:00 UTC + 30 min x i). price_up = 1 when the NSW price rose "
        "against its last-24-hour average. Training is the first 12 months (1996-05-07 to "
        "1997-05-06); the serving log is the rest (to 1998-12-06), every label known half an "
        "hour later. The champion (score) is prodready's baseline trained on the first 6 months "
        "and never retrained; the challenger on the last 6 months of training. The business "
        "values are illustrative. Known problems (real concept drift, the same half hour's "
        "price as a feature, filled Victorian columns): see "
        "prodready.samples.known_problems('elec2').",
        width=96,
        initial_indent="  ",
        subsequent_indent="  ",
        break_on_hyphens=False,
    )
    return f"""\
# Sample case generated by prodready.samples.elec2 from the shipped elec2.csv (rows={rows},
# seed={seed}). Regenerate: prodready sample elec2 --out DIR
name: Electricity prices (Elec2)
task: binary
description: >-
{description}
training: {{path: training.parquet}}
serving: {{path: serving_log.parquet}}
columns:
  id: {ID_COLUMN}
  timestamp: {TIME_COLUMN}
  label: {LABEL}
  label_time: label_time
  prediction: score
  challenger: challenger_score
features:
{features}
business:  # illustrative: buy when the model says UP, +10 AUD if the price rose, -10 if not
  currency: AUD
  value: {{true_positive: 10, false_positive: -10, false_negative: 0, true_negative: 0}}
  threshold: 0.5
"""
