# The scoring service: the champion card (models/champion/scorecard.json) and the business
# rules behind POST /score, as `make serve` runs it, for Cloud Run (deploy.yml) or
# `docker compose up` (compose.yaml). Build: docker build -t scorecard-service .
#
# Base image pinned by tag and digest (python 3.11.14, Debian bookworm, multi-arch index).
FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    PORT=8080

WORKDIR /app

# Only the service's packages, at the versions of requirements.lock (the lock is a
# constraint: nothing it does not pin can change version).
COPY requirements.lock requirements-service.txt /app/
RUN pip install -c requirements.lock -r requirements-service.txt \
    && pip check

# The package (run from /app through PYTHONPATH: no build step), the rules and the card in
# production. The package's own scorecard/scorecard.json is the last card built, not
# necessarily the promoted one: the service is told to use the champion. params.yaml names the
# business rules (rules.path, checked against it at start-up; null: scores and reason codes
# only), and with the public data of data/external/ lets POST /score/application derive the
# features and join the environment as the pipeline did (the applicant data of data/raw/ stay out).
COPY scorecard/ /app/scorecard/
COPY business_rules/ /app/business_rules/
COPY models/champion/ /app/models/champion/
COPY params.yaml /app/params.yaml
COPY data/external/ /app/data/external/

RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin scorecard
USER 10001

EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8080'), timeout=4)"]

# Cloud Run sets $PORT; the shell expands it (exec: the server gets the signals, not sh).
CMD ["sh", "-c", "exec python -m scorecard.cli serve --card /app/models/champion/scorecard.json --host 0.0.0.0 --port \"${PORT:-8080}\""]
