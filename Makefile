# Entry points of the project. Everything runs from the project's own .venv, which
# scripts/setup.sh creates (and keeps in step with requirements.lock) on first use.
#
#   make report        environment + the whole DVC pipeline (data -> model -> Quarto site)
#   make serve-report  serve reports/_site on http://127.0.0.1:8000/ (PORT=... for another port)
#   make test          environment (+ chromium) + pytest; extra options: make test PYTEST_ARGS="-m 'not slow'"
#   make serve         the HTTP scoring service on http://127.0.0.1:8000/
#   make daily         re-train (dvc repro), drift monitor, champion/challenger, report, dvc push
#   make plots         dvc plots as an offline page in dvc_plots/
#   make bench         benchmarks: model quality against the peers (installs them first), ablation,
#                      levers on the validation slice, scoring speed
#   make audit         audit the pinned dependencies for known vulnerabilities (reports/security/pip_audit.json)
#   make lab           JupyterLab on notebooks/
#   make clean         remove generated outputs

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
PORT ?= 8000
PYTEST_ARGS ?=

# Pipeline stages run inside `dvc repro`: put the venv first on PATH so their `python`,
# `papermill`, `jupyter` are the project's, and ~/.local/bin for the offline Quarto install.
export PATH := $(VENV)/bin:$(HOME)/.local/bin:$(PATH)
export VIRTUAL_ENV := $(VENV)
export QUARTO_PYTHON := $(VENV)/bin/python
export DVC_NO_ANALYTICS := 1
export PYTHONHASHSEED := 0

.PHONY: help setup report serve-report serve daily plots bench audit test lab clean

help:
	@sed -n '4,13p' Makefile | sed 's/^# \{0,1\}//'

setup:
	scripts/setup.sh

report: setup
	$(VENV)/bin/dvc repro
	@echo
	@echo "Report site: $(CURDIR)/reports/_site/index.html"
	@echo "Serve it (search and scripts need a web server, not file://):"
	@echo "  make serve-report      # or: .venv/bin/python -m http.server -d reports/_site --bind 127.0.0.1 $(PORT)"
	@echo "  then open http://127.0.0.1:$(PORT)/"

serve-report:
	@test -f reports/_site/index.html || { echo "reports/_site/index.html not found: run 'make report' first" >&2; exit 1; }
	@echo "Serving reports/_site on http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	$(VENV)/bin/python -m http.server -d reports/_site --bind 127.0.0.1 $(PORT)

# The HTTP scoring service (card + business_rules/rules.json) on http://127.0.0.1:$(PORT)/
serve: setup
	$(VENV)/bin/scorecard serve --port $(PORT)

# The daily run (also .github/workflows/daily.yml): dvc repro, scorecard monitor on the
# out-of-time applicants, champion/challenger against models/champion/ (promotes or says why
# not), the report in reports/daily/summary.md, dvc push to the default remote; then the
# report by e-mail when MAIL_SERVER and MAIL_TO are set (skipped with a notice otherwise).
daily: setup
	$(VENV)/bin/python -m scorecard.watch.daily
	$(VENV)/bin/python scripts/send_report.py reports/daily/summary.md --images reports/images

# dvc plots with vega served from reports/vendor/vega (the default template loads a CDN)
plots: setup
	$(VENV)/bin/dvc plots show --html-template reports/vendor/vega/dvc_plots_template.html -o dvc_plots
	@echo "Plots: $(CURDIR)/dvc_plots/index.html"

# Model quality against optbinning, toad, scorecardpy and LightGBM (installs the peers first)
bench: setup
	$(VENV)/bin/pip install -q -r benchmarks/requirements.txt
	$(VENV)/bin/python benchmarks/model_quality.py
	$(VENV)/bin/python benchmarks/ablation.py
	$(VENV)/bin/python benchmarks/levers.py
	$(VENV)/bin/python benchmarks/scoring_speed.py

# pip-audit on every pin of requirements.lock (PyPI), with the offline PyPA advisory copy for
# what PyPI cannot answer; the result is shown on the report's Security page.
audit:
	scripts/setup.sh --test
	$(VENV)/bin/python scripts/audit_dependencies.py

test:
	scripts/setup.sh --test
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

lab: setup
	$(VENV)/bin/jupyter lab notebooks/

# Generated outputs only: inputs under data/raw and data/external, the committed
# scorecard/scorecard.json and the .venv stay.
clean:
	rm -rf data/processed/* reports/chapters reports/_site reports/.quarto .quarto dvc_plots
