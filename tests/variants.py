"""Other lenders' files, built from the real LendingClub data, and whole projects around them.

Each variant is a reproducible sample of the real file (``conftest.sample_rows``) reshaped the way
another lender would bring it, with the ``params.yaml`` that describes it. The variants test the
mechanics (nothing in the package, the notebooks or the pages names LendingClub's columns, labels,
country or currency); they are not data of another lender. ``tests/fixtures/README.md`` says how
each one is derived.

* **A: no date, no state, no environment.** 2,000 loans (400 per issue year) without the issue
  date and the state, columns renamed to Spanish, the outcome relabelled ``incumplido`` /
  ``pagado``, an id column, amounts said to be MXN, a stratified 20% test sample.
* **B: the Mexican template** (``examples/mexico/params.yaml``) on the fixture
  ``tests/variants.mexican_fixture``.
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from conftest import ROOT, sample_rows, write_csv

CHARGED_OFF = {"Charged Off", "Does not meet the credit policy. Status:Charged Off"}

#: Variant A: LendingClub's names -> the Spanish names of the fixture.
RENAME_A = {
    "loan_amnt": "monto_solicitado", "term": "plazo", "emp_title": "puesto", "emp_length": "antiguedad_empleo",
    "home_ownership": "vivienda", "annual_inc": "ingreso_anual", "verification_status": "verificacion_ingreso",
    "purpose": "destino", "dti": "deuda_ingreso", "delinq_2yrs": "atrasos_2a", "inq_last_6mths": "consultas_6m",
    "open_acc": "lineas_abiertas", "pub_rec": "registros_publicos", "mths_since_last_delinq": "meses_ultimo_atraso",
    "mths_since_last_record": "meses_ultimo_registro", "revol_bal": "saldo_revolvente",
    "revol_util": "uso_revolvente", "total_acc": "lineas_totales", "pub_rec_bankruptcies": "quiebras",
    "loan_status": "resultado",
}
#: Derived features and model features of the default card that need the application date or the
#: state: a file without both cannot have them (dropped for such a file).
NEEDS_DATE_OR_STATE = {"credit_history_months", "state_median_income", "income_to_state_median"}

#: Words that must not appear on any page of a site built from another lender's data.
FOREIGN_WORDS = ["LendingClub", "Lending Club", "United States", "USD", "charged off", "Charged Off",
                 "Bureau of Labor Statistics", "Census Bureau", "addr_state", "loan_status", "issue_d"]


def without_date_and_state(raw, split=None):
    """params for a file with no application date, no state column and no environment source,
    whose target says 'bad' / 'good'."""
    data = raw["data"]
    for column in ("issue_d", "addr_state"):
        del data["columns"][column]
    data.update(date_column=None, state_column=None,
                target={"column": "loan_status", "bad": ["bad"], "good": ["good"]})
    raw["environment"] = {"join_key": None, "sources": {}}
    for name in ("credit_history_months", "income_to_state_median"):
        del raw["features"]["derived"][name]
    raw["features"]["model_features"] = [f for f in raw["features"]["model_features"] if f not in NEEDS_DATE_OR_STATE]
    raw["binning"]["monotonic_trend_by_feature"].pop("income_to_state_median")
    evaluate = raw.setdefault("evaluate", {})
    evaluate["segments"] = [s for s in evaluate.get("segments", []) if s["column"] != "addr_state"]
    raw["split"] = split or {"method": "stratified", "test_share": 0.2, "seed": 7}
    return raw


def _renamed(node, names):
    if isinstance(node, dict):
        return {names.get(k, k): _renamed(v, names) for k, v in node.items()}
    if isinstance(node, list):
        return [_renamed(v, names) for v in node]
    return names.get(node, node) if isinstance(node, str) else node


def variant_a_frame(raw_text: pd.DataFrame) -> pd.DataFrame:
    """2,000 real loans with no date and no state, Spanish names, outcome incumplido / pagado."""
    frame = sample_rows(raw_text, 400, seed=3).drop(columns=["issue_d", "addr_state"]).reset_index(drop=True)
    frame["loan_status"] = np.where(frame["loan_status"].isin(CHARGED_OFF), "incumplido", "pagado")
    frame = frame[[c for c in RENAME_A]].rename(columns=RENAME_A)
    frame.insert(0, "folio", [f"A{i:05d}" for i in range(len(frame))])
    return frame


def variant_a_params(applicants: str) -> dict:
    """params.yaml of variant A, from the project's own by renaming and removing what needs a date."""
    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    data = raw["data"]
    for column in ("issue_d", "addr_state"):
        del data["columns"][column]
    data["columns"] = {k: v for k, v in data["columns"].items() if k in RENAME_A}
    for spec in data["columns"].values():
        spec["description"] = spec.get("description", "").replace("USD", "MXN")
    data.update(date_column=None, state_column=None, id_column="folio",
                target={"column": "loan_status", "bad": ["incumplido"], "good": ["pagado"]})
    raw["environment"] = {"join_key": None, "sources": {}}
    derived = raw["features"]["derived"]
    for name in NEEDS_DATE_OR_STATE & set(derived):
        del derived[name]
    raw["features"]["model_features"] = [f for f in raw["features"]["model_features"] if f not in NEEDS_DATE_OR_STATE]
    raw["binning"]["monotonic_trend_by_feature"].pop("income_to_state_median")
    raw["binning"]["overrides_path"] = None
    raw["explain"]["reason_texts"] = {k: v for k, v in raw["explain"]["reason_texts"].items()
                                      if k not in NEEDS_DATE_OR_STATE | {"state_unemployment_rate"}}
    raw["split"] = {"method": "stratified", "test_share": 0.2, "seed": 20240601}
    # The project's rules are LendingClub's (its dataset and fields): refused for these data.
    raw["rules"] = {"path": None}
    raw["evaluate"]["segments"] = [{"column": "purpose", "label": "destino del crédito"},
                                   {"column": "annual_inc", "label": "ingreso anual (MXN)",
                                    "edges": [30000, 60000, 90000]}]
    raw = _renamed(raw, RENAME_A)
    raw["features"]["forbidden"] = [p.replace("loan_status", "resultado") for p in raw["features"]["forbidden"]]
    data = raw["data"]
    data["applicants"] = {"path": applicants, "sha256": None, "encoding": "utf-8"}
    raw["dataset"] = {
        "id": "fixture-a-no-date", "name": "Fixture A: 2,000 public loan records, renamed (tests the mechanics)",
        "lender": "Fixture lender A", "country": "Mexico", "currency": "MXN", "product": "personal loan",
        "rows_are": "solicitudes", "bad_outcome": "incumplido", "period": None,
        "outcome_window": "a solicitud counts as bad if it was ever in default over its full term",
        "protected_fields": [],
        "citations": [{"text": "Fixture A of this repository's tests (tests/fixtures/README.md): a sample of public "
                               "loan records with columns renamed; it tests the mechanics, it is not a lender's data.",
                       "publisher": "this repository's tests", "licence": "as the source file (data/README.md)",
                       "used_for": "applicants, outcome"}],
    }
    return raw


# -- a whole project around a variant -----------------------------------------------------------
#: Tracked files a project needs besides its data: not the tests, the benchmarks' code or the
#: pipeline's outputs (the variant's own run makes those).
_LEFT_OUT = ("tests/", "benchmarks/", "data/raw/", "dvc.lock", "metrics.json", "reports/plots/", "reports/images/",
             ".github/", "security/")


def make_project(dest: Path, params: dict, frame: pd.DataFrame, applicants: str, encoding: str = "utf-8") -> Path:
    """A project folder with the repository's code, pages, notebooks and public data, the
    variant's applicant file at ``applicants`` (relative to ``dest``) and its ``params.yaml``.

    The published LendingClub champion and the LendingClub benchmark results are copied too: the
    variant's site must say that neither is for its data."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in tracked.decode().split("\0"):
        if not name or name.startswith(_LEFT_OUT) or not (ROOT / name).is_file():
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    for generated in ("reports/plots", "reports/images"):
        (dest / generated).mkdir(parents=True, exist_ok=True)
    write_csv(frame, dest / applicants, encoding=encoding)
    (dest / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    return dest


def env_with_venv() -> dict:
    """The environment for ``dvc repro`` in a copied project: it has no .venv of its own, so
    scripts/run takes this one (``VIRTUAL_ENV``)."""
    from conftest import VENV_BIN, project_env

    return {**project_env(), "VIRTUAL_ENV": str(VENV_BIN.parent)}


# -- variant B: the Mexican template's shape ----------------------------------------------------
#: Employer group (the default keyword groups read from the declared job title) -> the SCIAN
#: sector standing in for it; no group (other, missing, retired): blank.
SECTOR_OF_GROUP = {"military": "93", "government": "93", "health_care": "62", "education": "61", "finance": "52",
                   "retail": "46", "transport": "48-49", "technology": "51", "management": "55",
                   "self_employed": "81"}
#: Home ownership -> the education level standing in for it.
EDUCATION_OF_HOME = {"RENT": "preparatoria", "MORTGAGE": "licenciatura", "OWN": "secundaria",
                     "OTHER": "primaria", "NONE": "primaria"}
EMPLOYMENT_YEARS = {"< 1 year": "0", "1 year": "1", "10+ years": "10", "n/a": ""}
TEMPLATE = ROOT / "examples/mexico/params.yaml"


def mexican_fixture(raw_text: pd.DataFrame, per_year: int = 600) -> pd.DataFrame:
    """Real LendingClub loans mapped onto the Mexican template's fields (``tests/fixtures/README.md``).

    Each field is filled from one LendingClub column by a fixed rule, so the pipeline sees the
    template's shape with a real outcome behind it: dates moved 12 years later (2007-2011 ->
    2019-2023), amounts unchanged but called MXN (monthly income = annual income / 12), the US
    state mapped to an INEGI code (the sorted list of codes, cycled over 1-32; every 50th row
    by its name, every 100th without accents), age = 18 + whole years of credit history (blank without a first credit line), jobs
    in five years = recent inquiries + 1 (at most 8), income growth = (0.5 - revolving
    utilisation) x 40 %, education from home ownership, the SCIAN sector from the employer
    keyword group, days past due 120 for charged off, 0 for fully paid and 45 (indeterminate)
    for the loans granted outside the credit policy. It tests the mechanics; it is not Mexican data.
    """
    from scorecard.build import environment, features
    from scorecard.config import parse_params

    frame = sample_rows(raw_text, per_year, seed=5).reset_index(drop=True)
    issued = pd.to_datetime(frame["issue_d"])
    opened = pd.to_datetime(frame["earliest_cr_line"])
    codes = {s: i % 32 + 1 for i, s in enumerate(sorted(frame["addr_state"].unique()))}
    state = frame["addr_state"].map(codes)
    names = state.map(lambda c: environment.MX_STATES[c][0])
    plain = names.map(environment._plain)
    estado = state.astype(str)
    estado[frame.index % 50 == 0] = names[frame.index % 50 == 0]
    estado[frame.index % 100 == 0] = plain[frame.index % 100 == 0]
    default = parse_params(yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8")))
    spec = default.features.derived["emp_title_group"]
    group = features.keyword_group(frame["emp_title"], spec.groups, spec.missing_group, spec.other_group)
    years = frame["emp_length"].map(lambda v: EMPLOYMENT_YEARS.get(v, str(v).split()[0]) if isinstance(v, str) else "")
    status = frame["loan_status"]
    days = np.where(status.str.startswith("Does not meet"), 45, np.where(status.isin(CHARGED_OFF), 120, 0))
    history_years = (issued - opened).dt.days // 365.25   # NaN where the file has no first credit line
    inquiries = pd.to_numeric(frame["inq_last_6mths"])
    utilisation = pd.to_numeric(frame["revol_util"])
    out = pd.DataFrame({
        "folio": [f"MX-{i:06d}" for i in range(len(frame))],
        "fecha_solicitud": (issued + pd.DateOffset(years=12)).dt.strftime("%Y-%m-%d"),
        "monto_solicitado": frame["loan_amnt"],
        "plazo_meses": frame["term"],
        "ingreso_mensual": (pd.to_numeric(frame["annual_inc"]) / 12).round(2).map(lambda v: "" if pd.isna(v) else f"{v:.2f}"),
        "antiguedad_empleo_anios": years,
        "empleos_ultimos_5_anios": (inquiries.clip(upper=7) + 1).map(lambda v: "" if pd.isna(v) else str(int(v))),
        "edad": (18 + history_years).map(lambda v: "" if pd.isna(v) else str(int(v))),
        "estado": estado,
        "crecimiento_ingreso_pct": ((0.5 - utilisation) * 40).round(1).map(lambda v: "" if pd.isna(v) else f"{v:.1f}"),
        "escolaridad": frame["home_ownership"].map(EDUCATION_OF_HOME),
        "sector_scian": group.map(SECTOR_OF_GROUP).fillna(""),
        "dias_atraso_max": days.astype(str),
    })
    return out


def mexican_params(applicants: str) -> dict:
    """The Mexican template with the fixture's file and a truthful description of the fixture."""
    raw = yaml.safe_load(TEMPLATE.read_text(encoding="utf-8"))
    raw["data"]["applicants"] = {"path": applicants, "sha256": None, "encoding": "utf-8"}
    raw["dataset"].update(
        id="fixture-b-mexican-shape", name="Fixture B: 3,000 public loan records mapped onto the Mexican template",
        lender="Fixture lender B", outcome_window="days past due as mapped by the fixture (tests/fixtures/README.md)")
    raw["dataset"]["citations"] = [{
        "text": "Fixture B of this repository's tests (tests/fixtures/README.md): public loan records mapped onto the "
                "Mexican template's fields; it tests the mechanics, it is not Mexican data.",
        "publisher": "this repository's tests", "licence": "as the source file (data/README.md)",
        "used_for": "applicants, outcome"}]
    return raw


# -- what a reader of the variant's site sees ---------------------------------------------------
class _PageText(HTMLParser):
    """A page's text as a reader gets it: the visible text and the data embedded for the page's
    own scripts (the calculator's card and rules JSON), not the code of the scripts (plotly.js,
    Quarto's) or the styles."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == "style" or (tag == "script" and dict(attrs).get("type") != "application/json"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "script") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def site_text(project: Path) -> dict[str, str]:
    """Every HTML page of the project's rendered site (``reports/_site``), by its path there."""
    pages = {}
    site = project / "reports/_site"
    for page in sorted(site.rglob("*.html")):
        parser = _PageText()
        parser.feed(page.read_text(encoding="utf-8"))
        pages[page.relative_to(site).as_posix()] = " ".join(" ".join(parser.parts).split())
    return pages
