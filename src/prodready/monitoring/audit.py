"""The monitoring audit in one call, for the CLI's ``audit monitoring`` and for reports: the
replay, and the detection report when the incidents are known."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from prodready.case import Case
from prodready.monitoring.incidents import DetectionReport, detection_report
from prodready.monitoring.replay import MonitoringReplay, replay
from prodready.results import Finding, most_severe_first, to_json


@dataclass(frozen=True)
class MonitoringAudit:
    """``replay`` and, when incidents were given, ``detection`` (else None)."""

    replay: MonitoringReplay
    detection: DetectionReport | None

    def to_frame(self) -> pd.DataFrame:
        return self.replay.to_frame()

    def summary(self) -> list[Finding]:
        findings = list(self.replay.summary())
        if self.detection is not None:
            findings.extend(self.detection.summary())
        unique = {f.text: f for f in findings}
        return most_severe_first(list(unique.values()))

    def to_dict(self) -> dict[str, Any]:
        return to_json(
            {
                "replay": self.replay.to_dict(),
                "detection": None if self.detection is None else self.detection.to_dict(),
                "summary": [f.to_dict() for f in self.summary()],
            }
        )


def audit(case: Case, incidents: pd.DataFrame | None = None) -> MonitoringAudit:
    """Replay the default monitors; with ``incidents`` (problem, start, end), say how fast each
    was caught (:func:`prodready.monitoring.detection_report`)."""
    result = replay(case)
    detection = None if incidents is None else detection_report(result, case, incidents)
    return MonitoringAudit(result, detection)
