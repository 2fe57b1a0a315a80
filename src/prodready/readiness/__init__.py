"""Readiness: is the team organised and tested enough to run this model in production?

The question bank (:func:`questions`) holds eight organisation questions and the 28 tests of
Breck et al., "The ML Test Score: A Rubric for ML Production Readiness and Technical Debt
Reduction" (IEEE Big Data 2017). :func:`score` sums the answers per section, takes the minimum
over the four ML Test sections, reads it with the paper's bands and places the team on Google
Cloud's MLOps levels ("MLOps: Continuous delivery and automation pipelines in machine learning")
and Microsoft's "Machine Learning operations maturity model" by the rule in docs/readiness.md.
:func:`propose` turns audit results into proposed answers with their evidence; :func:`apply`
fills unanswered questions from them; :func:`read_answers` reads answers from a file.
:func:`run_audits` runs a case's audits for evidence, :func:`top_risks` ranks their findings by
money, :func:`roadmap` plans the fixes and :func:`assess` joins them in one
:class:`ReadinessReport`.
"""

from prodready.notebooks import AUDIT_FILES
from prodready.readiness.answers import read_answers
from prodready.readiness.audits import AUDIT_NAMES, AuditRun, read_audits, run_audits, top_risks
from prodready.readiness.bank import ML_TEST_SECTIONS, SECTIONS, bank_version, questions
from prodready.readiness.evidence import apply, decisive, propose
from prodready.readiness.report import ReadinessReport, assess
from prodready.readiness.roadmap import Roadmap, roadmap
from prodready.readiness.scoring import Scorecard, score, validate_answers

BANK_VERSION = bank_version()

__all__ = [
    "AUDIT_FILES",
    "AUDIT_NAMES",
    "BANK_VERSION",
    "ML_TEST_SECTIONS",
    "SECTIONS",
    "AuditRun",
    "ReadinessReport",
    "Roadmap",
    "Scorecard",
    "apply",
    "assess",
    "decisive",
    "propose",
    "questions",
    "read_answers",
    "read_audits",
    "roadmap",
    "run_audits",
    "score",
    "top_risks",
    "validate_answers",
]
