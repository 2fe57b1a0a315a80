"""prodready: will this model survive production, and what to fix first."""

from prodready.case import Case, load_case
from prodready.errors import ProdreadyError

__all__ = ["Case", "ProdreadyError", "load_case"]
__version__ = "0.1.0"
