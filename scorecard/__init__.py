"""Open credit scorecard: from real applicant data to a transparent points table.

The package holds all the logic; the notebooks in ``notebooks/`` call it and show results.
Its subpackages are its roles (ARCHITECTURE.md): :mod:`scorecard.build` makes a card from data,
:mod:`scorecard.card` is the card format every scorer reads, :mod:`scorecard.apply` scores with it
(SQL, batch, Spark, service, calculator), :mod:`scorecard.watch` evaluates, monitors and promotes
it, and :mod:`scorecard.report` shows it. :mod:`scorecard.config` (params.yaml) and
:mod:`scorecard.errors` are shared by all; :mod:`scorecard.cli` and :mod:`scorecard.pipeline`
are the entry points. The exported card (``scorecard.json``) is read by :func:`load`, which
needs nothing but the JSON file.
"""

__version__ = "0.1.0"

from scorecard.errors import ScorecardError  # noqa: E402

__all__ = ["ScorecardError", "__version__", "load"]


def load(path):
    """Load an exported scorecard JSON file (see :mod:`scorecard.card`)."""
    from scorecard.card import load as _load

    return _load(path)
