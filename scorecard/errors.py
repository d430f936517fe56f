"""Errors a user sees. Each names the field, the rule and what was expected."""


class ScorecardError(Exception):
    """Base class: a problem the user can fix (bad input, bad parameters, bad card)."""


class ConfigError(ScorecardError):
    """params.yaml (or another parameters file) is invalid."""


class DataValidationError(ScorecardError):
    """An input data file does not match its declared schema."""


class CardError(ScorecardError):
    """A scorecard JSON file is invalid or cannot score the given input."""


class RulesError(ScorecardError):
    """A business rules file is invalid, or contradicts the card it is applied to."""


class RulesMismatchError(RulesError, ConfigError):
    """Business rules that are valid in themselves but written for other data or another card:
    a field the applicant file lacks, cut-offs outside the card's score range, another dataset.
    A :class:`ConfigError` too: the fix is ``rules.path`` in params.yaml."""
