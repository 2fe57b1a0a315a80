"""Batch reports: many cases (one per model or team), each with its own parameters, in parallel.

``load_batch`` checks a batch file before any kernel starts; ``run_batch`` writes one report
folder per case and an ``index.html`` linking them (see docs/batch.md).
"""

from prodready.batch.runner import BatchResult, BatchStep, CaseOutcome, run_batch
from prodready.batch.spec import Batch, BatchCase, BatchFileError, load_batch

__all__ = [
    "Batch",
    "BatchCase",
    "BatchFileError",
    "BatchResult",
    "BatchStep",
    "CaseOutcome",
    "load_batch",
    "run_batch",
]
