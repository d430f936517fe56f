"""Open credit scorecard: from real applicant data to a transparent points table.

The package holds all the logic; the notebooks in ``notebooks/`` call it and show results.
The exported card (``scorecard.json``) is read by :func:`scorecard.card.load`, which needs
nothing but the JSON file.
"""

__version__ = "0.1.0"

from scorecard.errors import ScorecardError  # noqa: E402

__all__ = ["ScorecardError", "__version__", "load"]


def load(path):
    """Load an exported scorecard JSON file (see :mod:`scorecard.card`)."""
    from scorecard.card import load as _load

    return _load(path)
