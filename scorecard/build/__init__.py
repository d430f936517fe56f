"""Building a card from a lender's data: the applicant file read and validated against its
declared schema (``data``), public data joined by key (``environment``), derived features and the
split (``features``), the ETL stage (``etl``), optimal binning (``binning``), the logistic model and
its scaling to points (``model``), and the card document assembled from them (``assemble``).

May import: the foundation (:mod:`scorecard.errors`, :mod:`scorecard.config`) and the card format
(:mod:`scorecard.card`, whose business rules the ETL checks first). Never a scoring engine, the
service, the monitoring or the report: a card is built from params.yaml and data alone.
"""
