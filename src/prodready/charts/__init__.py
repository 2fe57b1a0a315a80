"""Every figure prodready shows, built once here and shown by the app, notebooks and reports.

Each function takes a result object and returns a plotly ``Figure``; none computes statistics.

A chart module is imported when one of its charts is first used (PEP 562 ``__getattr__``):
``from prodready import charts`` stays light, and a notebook or page that draws no decay chart
does not load the decay models and scikit-learn's model classes (a third of a second at each
kernel start).
"""

from __future__ import annotations

import importlib
from typing import Any

_CHARTS = {
    "decay": ("aging_curve", "estimate_vs_realised", "policy_pareto", "policy_timeline"),
    "monitoring": ("monitor_panel", "time_to_detect"),
    "overview": ("feature_missingness", "offline_vs_serving", "volume_over_time"),
    "readiness": ("roadmap_gantt", "score_trend", "section_radar", "team_comparison"),
    "review": ("review_net_value", "review_queue"),
    "rollout": ("money_at_risk", "monte_carlo_outcomes", "outcome_sentence", "rollout_timeline"),
    "scale": ("cost_growth",),
    "skew": (
        "feature_distribution",
        "mismatch_scatter",
        "production_gap",
        "psi_by_month",
        "skew_ranking",
    ),
}
_MODULE_OF = {name: module for module, names in _CHARTS.items() for name in names}

__all__ = sorted(_MODULE_OF)  # each found by ``__getattr__``


def __getattr__(name: str) -> Any:
    """A chart (``charts.skew_ranking``) or a chart module (``charts.rollout.OUTCOME_WORDS``)."""
    if name in _CHARTS:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _MODULE_OF:
        chart = getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
        globals()[name] = chart  # found directly from now on
        return chart
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return [*__all__, *_CHARTS]
