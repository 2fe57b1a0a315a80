"""Every figure prodready shows, built once here and shown by the app, notebooks and reports.

Each function takes a result object and returns a plotly ``Figure``; none computes statistics.
"""

from prodready.charts.decay import (
    aging_curve,
    estimate_vs_realised,
    policy_pareto,
    policy_timeline,
)
from prodready.charts.monitoring import monitor_panel, time_to_detect
from prodready.charts.overview import feature_missingness, offline_vs_serving, volume_over_time
from prodready.charts.readiness import (
    roadmap_gantt,
    score_trend,
    section_radar,
    team_comparison,
)
from prodready.charts.review import review_net_value, review_queue
from prodready.charts.rollout import (
    money_at_risk,
    monte_carlo_outcomes,
    outcome_sentence,
    rollout_timeline,
)
from prodready.charts.scale import cost_growth
from prodready.charts.skew import (
    feature_distribution,
    mismatch_scatter,
    production_gap,
    psi_by_month,
    skew_ranking,
)

__all__ = [
    "aging_curve",
    "cost_growth",
    "estimate_vs_realised",
    "feature_distribution",
    "feature_missingness",
    "mismatch_scatter",
    "money_at_risk",
    "monitor_panel",
    "monte_carlo_outcomes",
    "offline_vs_serving",
    "outcome_sentence",
    "policy_pareto",
    "policy_timeline",
    "production_gap",
    "psi_by_month",
    "review_net_value",
    "review_queue",
    "roadmap_gantt",
    "rollout_timeline",
    "score_trend",
    "section_radar",
    "skew_ranking",
    "team_comparison",
    "time_to_detect",
    "volume_over_time",
]
