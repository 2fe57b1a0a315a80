"""Effect-size bands that turn skew measures into a severity, with per-feature overrides.

Severity comes from effect sizes, not p-values alone: at a million rows every difference is
significant. A measure at or above the band's first, second or third boundary is ``low``,
``medium`` or ``high``. PSI defaults to the industry's usual bands (below 0.1 no real change,
0.1-0.25 a moderate shift, 0.25 and above a significant shift), with ``low`` from 0.05.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from prodready.errors import ParameterError

Band = tuple[float, float, float]
SEVERITIES = ("none", "low", "medium", "high")


@dataclass(frozen=True)
class Thresholds:
    """Boundaries (low, medium, high) for each measure; ``features`` overrides them per feature.

    ``alpha`` is the false discovery rate under which a distribution difference counts as real
    (Benjamini-Hochberg across features); a shift whose corrected p-value is above it is at most
    ``low`` whatever its size.
    """

    psi: Band = (0.05, 0.1, 0.25)
    unseen_share: Band = (0.01, 0.05, 0.2)  # serving rows in categories training never had
    missing_change: Band = (0.01, 0.05, 0.2)  # |missing rate in serving - in training|
    out_of_range_share: Band = (0.01, 0.05, 0.2)  # serving values outside the training range
    row_mismatch_rate: Band = (0.001, 0.01, 0.1)  # same id, different value
    alpha: float = 0.05
    features: Mapping[str, Mapping[str, Band]] = field(default_factory=dict)

    @classmethod
    def measures(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.name not in ("alpha", "features")]

    @classmethod
    def from_value(cls, value: Thresholds | Mapping[str, Any] | None) -> Thresholds:
        """Accept a Thresholds, None (defaults) or a dict such as
        ``{"psi": [0.1, 0.2, 0.3], "features": {"amount": {"psi": [0.2, 0.3, 0.5]}}}``."""
        if value is None:
            return cls()
        if isinstance(value, Thresholds):
            return value
        if not isinstance(value, Mapping):
            raise ParameterError(
                "thresholds must be a mapping of measure to (low, medium, high)",
                found=repr(value)[:80],
                fix='pass e.g. {"psi": [0.1, 0.2, 0.3]}',
            )
        known = {*cls.measures(), "alpha", "features"}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ParameterError(
                f"unknown threshold(s): {', '.join(unknown)}",
                expected=f"any of {', '.join(sorted(known))}",
                fix="correct the name; per-feature bands go under 'features'",
            )
        kwargs: dict[str, Any] = {
            m: _band(m, value[m], "thresholds") for m in cls.measures() if m in value
        }
        if "alpha" in value:
            try:
                alpha = float(value["alpha"])
            except (TypeError, ValueError):
                alpha = float("nan")
            if not 0 < alpha < 1:
                raise ParameterError(
                    "alpha must be a number between 0 and 1",
                    found=repr(value["alpha"]),
                    fix="e.g. alpha: 0.05",
                )
            kwargs["alpha"] = alpha
        per_feature = {}
        for feature, bands in dict(value.get("features") or {}).items():
            if not isinstance(bands, Mapping):
                raise ParameterError(
                    f"the thresholds for feature {feature!r} must map measures to bands",
                    found=repr(bands)[:80],
                    fix=f'e.g. "features": {{"{feature}": {{"psi": [0.1, 0.2, 0.3]}}}}',
                )
            wrong = sorted(set(bands) - set(cls.measures()))
            if wrong:
                raise ParameterError(
                    f"unknown threshold(s) for feature {feature!r}: {', '.join(wrong)}",
                    expected=f"any of {', '.join(cls.measures())}",
                )
            per_feature[str(feature)] = {
                m: _band(m, b, f"thresholds for {feature!r}") for m, b in bands.items()
            }
        return cls(**kwargs, features=per_feature)

    def band(self, feature: str, measure: str) -> Band:
        return self.features.get(feature, {}).get(measure, getattr(self, measure))

    def severity(self, feature: str, measure: str, value: float) -> str:
        """The severity of ``value`` for ``measure`` on ``feature``; NaN is ``none``."""
        if value is None or value != value:  # NaN
            return "none"
        low, medium, high = self.band(feature, measure)
        if value >= high:
            return "high"
        if value >= medium:
            return "medium"
        return "low" if value >= low else "none"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {m: list(getattr(self, m)) for m in self.measures()}
        out["alpha"] = self.alpha
        out["features"] = {
            f: {m: list(b) for m, b in bs.items()} for f, bs in self.features.items()
        }
        return out


def _band(measure: str, value: Any, where: str) -> Band:
    try:
        band = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        band = ()
    if len(band) != 3 or not (0 <= band[0] <= band[1] <= band[2]):
        raise ParameterError(
            f"the {measure} band must be three increasing numbers (low, medium, high)",
            where=where,
            found=repr(value),
            fix=f"e.g. {measure}: [0.1, 0.2, 0.3]",
        )
    return band  # type: ignore[return-value]


def worst(severities: list[str]) -> str:
    return max(severities, key=SEVERITIES.index, default="none")
