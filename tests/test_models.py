"""The baseline model's text columns: ranked before scikit-learn's OrdinalEncoder (speed), with
the same encoding, so the same trees and scores as the encoder given the text itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from prodready import models
from prodready.models import SortedCodes, _inputs
from prodready.spec import Feature

FEATURES = [
    Feature(name="merchant", type="categorical"),
    Feature(name="channel", type="categorical"),
    Feature(name="amount", type="numeric"),
]


def _frame(rows: int, seed: int) -> pd.DataFrame:
    """300 merchants (more than the 250 the encoder keeps: rare ones are pooled), unicode and
    empty text, missing cells and a label that depends on the channel."""
    rng = np.random.default_rng(seed)
    names = np.array([f"m{i:03d}" for i in range(296)] + ["é", "Z", "a b", ""], dtype=object)
    weights = np.linspace(1, 3, names.size)  # uneven counts, so the pooling has a choice
    merchant = rng.choice(names, rows, p=weights / weights.sum())
    merchant[rng.random(rows) < 0.05] = None
    channel = rng.choice(np.array(["web", "pos", "app"], dtype=object), rows)
    label = (rng.random(rows) < np.where(channel == "web", 0.5, 0.2)).astype(int)
    return pd.DataFrame(
        {"merchant": merchant, "channel": channel, "amount": rng.normal(size=rows), "y": label}
    )


def test_codes_keep_order_mark_unseen_and_missing() -> None:
    text = pd.DataFrame({"c": ["b", None, "a", "b"], "n": [1.0, 2.0, 3.0, 4.0]})
    codes = SortedCodes(["c"]).fit(text)
    out = codes.transform(pd.DataFrame({"c": ["a", "b", "zz", None], "n": [5.0, 6, 7, 8]}))
    np.testing.assert_array_equal(out["c"], [0.0, 1.0, -1.0, np.nan])
    np.testing.assert_array_equal(out["n"], [5.0, 6, 7, 8])  # other columns pass


def test_baseline_scores_equal_the_encoder_on_the_text_itself() -> None:
    training = _frame(20_000, seed=0)
    fitted = models.fit(training, FEATURES, "y")
    assert [name for name, _ in fitted.pipeline.steps] == ["codes", "encode", "model"]
    reference = Pipeline([(name, clone(step)) for name, step in fitted.pipeline.steps[1:]])
    categorical, numeric = ["merchant", "channel"], ["amount"]
    reference.fit(_inputs(training, categorical, numeric), training["y"])

    later = _frame(5_000, seed=1)
    later.loc[:99, "merchant"] = "never seen in training"
    later.loc[100:199, "channel"] = None
    expected = reference.predict_proba(_inputs(later, categorical, numeric))[:, 1]
    np.testing.assert_array_equal(fitted.predict_score(later), expected)
    encoder = fitted.pipeline.named_steps["encode"].named_transformers_["categorical"]
    assert encoder.infrequent_categories_[0] is not None  # rare merchants were pooled
