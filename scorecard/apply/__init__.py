"""Applying a card to new applicants, anywhere: SQL in each dialect (``sql``), the batch
command's file formats, checks and engines (``csv_dialect``, ``batch``, ``spark``), the HTTP
service and its connection limits (``service``, ``connections``), the declared-fields form the
service derives features with (``application``) and the browser calculator page (``calculator``).
Every scorer reads the card file (:mod:`scorecard.card`) and gives the same points.

May import: the foundation, the card format and, for the declared-fields form only, the feature
derivations and public-data joins of :mod:`scorecard.build` (until the card carries its own
recipe). Never the monitoring, the report or the command line.
"""
