"""Every figure prodready shows, built once here and shown by the app, notebooks and reports.

Each function takes a result object and returns a plotly ``Figure``; none computes statistics.
"""

from prodready.charts.overview import feature_missingness, offline_vs_serving, volume_over_time

__all__ = ["feature_missingness", "offline_vs_serving", "volume_over_time"]
