"""Human-in-the-loop review: which decisions should a person check before the model acts?

:func:`simulate` replays a review band on a binary case's serving log against a daily reviewer
capacity; :func:`sweep` compares bands of several widths and picks the best one within capacity.
Definitions are in :mod:`prodready.review.simulate`.
"""

from prodready.review.simulate import ReviewResult, simulate
from prodready.review.sweep import DEFAULT_WIDTHS, ReviewSweep, sweep

__all__ = ["DEFAULT_WIDTHS", "ReviewResult", "ReviewSweep", "simulate", "sweep"]
