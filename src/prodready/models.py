"""Baseline models: a quick, deterministic model to replay "what would a model trained on this do".

Why it exists: several audits need a model of their own (train with and without a suspect feature,
score the serving log with what serving really computed). One small gradient-boosting pipeline with
fixed hyper-parameters keeps those numbers comparable across cases and identical across runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from threadpoolctl import threadpool_limits

from prodready.errors import DataError, ParameterError
from prodready.spec import Feature

# Fixed on purpose: a baseline is for comparing data, not for tuning. No early stopping, so no
# random validation split and the same trees on every run.
_HYPER_PARAMETERS = {
    "max_iter": 200,
    "learning_rate": 0.05,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": False,
}
# One OpenMP thread: on a small machine shared with other work (or inside parallel audits), the
# booster's threads wait on each other and a 2-second fit takes 15; one thread is steady.
_THREADS = 1


@dataclass(frozen=True)
class FittedModel:
    """A fitted baseline: the pipeline and the feature columns it expects, by role."""

    pipeline: Pipeline
    categorical: tuple[str, ...]
    numeric: tuple[str, ...]
    label: str

    @property
    def feature_names(self) -> list[str]:
        return [*self.categorical, *self.numeric]

    def predict_score(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability of the positive class (binary) or the predicted value (regression) for
        each row of ``frame``."""
        inputs = _inputs(frame, self.categorical, self.numeric)
        with threadpool_limits(limits=_THREADS, user_api="openmp"):
            if hasattr(self.pipeline, "predict_proba"):
                return self.pipeline.predict_proba(inputs)[:, 1]
            return self.pipeline.predict(inputs)


def _inputs(
    frame: pd.DataFrame, categorical: Sequence[str], numeric: Sequence[str]
) -> pd.DataFrame:
    """The feature columns in the dtypes the pipeline wants: object text, float numbers."""
    missing = [name for name in (*categorical, *numeric) if name not in frame.columns]
    if missing:
        raise DataError(
            "the data has no column for some model features",
            where=", ".join(missing),
            expected="every feature the model was fitted on",
            found=f"columns {list(frame.columns)}",
            fix="score a frame with the same feature columns as the training data",
        )
    columns: dict[str, pd.Series] = {}
    for name in categorical:
        text = frame[name].astype("str").astype(object)
        columns[name] = text.where(frame[name].notna(), np.nan)
    for name in numeric:
        try:
            columns[name] = pd.to_numeric(frame[name]).astype("float64")
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"feature {name!r} is declared numeric but holds values that are not numbers",
                where=name,
                expected="numbers (or empty cells)",
                fix=f"declare {name!r} as categorical in the case file, or clean the column",
            ) from exc
    return pd.DataFrame(columns, index=frame.index)


class SortedCodes(TransformerMixin, BaseEstimator):
    """Each text column as the rank of its value among the values seen in ``fit`` (sorted, as
    scikit-learn sorts them), unseen values as -1 and missing ones as NaN; other columns pass.

    Why: ``OrdinalEncoder`` counts and looks up text categories one value at a time in Python
    (0.3 s of a 2.5 s baseline fit on 65,000 rows), but numbers with numpy. The ranks keep the
    text's order, counts and missing cells, so the encoder that follows chooses the same
    categories, pools the same rare ones and gives the same output as it would on the text.
    """

    def __init__(self, columns: Sequence[str] = ()) -> None:
        self.columns = columns

    def fit(self, X: pd.DataFrame, y: object = None) -> SortedCodes:
        self.categories_ = {
            name: pd.Index(sorted(X[name].dropna().unique())) for name in self.columns
        }
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X.copy()
        for name, categories in self.categories_.items():
            codes = categories.get_indexer(X[name]).astype("float64")
            codes[X[name].isna().to_numpy()] = np.nan
            out[name] = codes
        return out


def fit(
    training: pd.DataFrame,
    features: list[Feature],
    label: str,
    *,
    seed: int = 0,
    task: str = "binary",
) -> FittedModel:
    """Fit the baseline on the rows of ``training`` whose label is known.

    Categoricals are ordinal-encoded (unseen values become -1, which the booster treats as
    missing) and used as native categorical splits; missing numbers are handled natively.
    ``task="regression"`` fits the same pipeline with a squared-error booster.
    """
    if not features:
        raise ParameterError("a model needs at least one feature", fix="pass the case's features")
    if label not in training.columns:
        raise DataError(
            "the label column is missing",
            where=label,
            expected="a 0/1 label column",
            found=f"columns {list(training.columns)}",
            fix="check columns.label in the case file",
        )
    categorical = tuple(f.name for f in features if f.type == "categorical")
    numeric = tuple(f.name for f in features if f.type == "numeric")
    labelled = training[training[label].notna()]
    if task == "regression":
        target = labelled[label].to_numpy(dtype="float64")
    else:
        target = labelled[label].astype("int64").to_numpy()
    if task == "binary" and len(np.unique(target)) < 2:
        raise DataError(
            "the label has a single class, so there is nothing to learn",
            where=label,
            expected="both 0 and 1 among the labelled rows",
            found=f"only {target[:1].tolist()}",
            fix="use a training set that contains both classes",
        )
    encode = ColumnTransformer(
        [
            (
                "categorical",
                # rare values pooled: the booster takes at most 255 categories per feature
                OrdinalEncoder(
                    handle_unknown="use_encoded_value", unknown_value=-1, max_categories=250
                ),
                list(categorical),
            ),
            ("numeric", "passthrough", list(numeric)),
        ]
    )
    is_categorical = [True] * len(categorical) + [False] * len(numeric)
    booster_class = (
        HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    )
    booster = booster_class(
        categorical_features=is_categorical, random_state=seed, **_HYPER_PARAMETERS
    )
    codes = SortedCodes(categorical)
    pipeline = Pipeline([("codes", codes), ("encode", encode), ("model", booster)])
    with threadpool_limits(limits=_THREADS, user_api="openmp"):
        pipeline.fit(_inputs(labelled, categorical, numeric), target)
    return FittedModel(pipeline=pipeline, categorical=categorical, numeric=numeric, label=label)
