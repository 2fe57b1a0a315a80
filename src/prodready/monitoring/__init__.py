"""Silent-failure monitoring: business, model-output, data-quality, performance and
system-health monitors replayed day by day on the serving log, and exported for a team's own
monitoring stack.

``replay(case)`` answers "would we have noticed, and when?"; ``default_monitors(case)`` is the
set it uses by default; ``export_monitors`` / ``load_monitors`` write and read the portable YAML
form. Definitions: :mod:`prodready.monitoring.profiles` (the daily series) and
:mod:`prodready.monitoring.rules` (threshold, EWMA and CUSUM rules).
"""

from prodready.monitoring.export import export_monitors, load_monitors
from prodready.monitoring.incidents import DetectionReport, detection_report
from prodready.monitoring.replay import MonitoringReplay, default_monitors, replay
from prodready.monitoring.rules import Monitor, cusum, ewma, threshold_rule

__all__ = [
    "DetectionReport",
    "Monitor",
    "MonitoringReplay",
    "cusum",
    "default_monitors",
    "detection_report",
    "ewma",
    "export_monitors",
    "load_monitors",
    "replay",
    "threshold_rule",
]
