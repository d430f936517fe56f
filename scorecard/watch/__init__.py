"""Judging a built card and watching it in use: discrimination, calibration and performance by
segment (``evaluate``), SHAP explanations and reason codes (``explain``), distribution drift
(``drift``), monitoring of new applicant files (``monitor``), champion/challenger promotion
(``promote``) and the daily run that chains them (``daily``).

May import: the foundation, the card format, :mod:`scorecard.build` (the processed samples, the
model) and :mod:`scorecard.apply` (monitoring scores files with the batch engines). Never the
report or the command line.
"""
