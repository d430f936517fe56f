"""The bad-input matrix: bad input never costs a lender a wrong score or a lost row.

One table, one test. Every row is a case: the surface it enters by (the raw-data ETL, the
batch command line, the service's POST /score and POST /score/application, the business rules
file, the card file), how the bad input is built (always by breaking real rows or the real
files), and the outcome a user must get:

* **refused**: the input stops with a message that names the field, the rule and the offending
  value (for the service: a 4xx answer, never a 500);
* **rejected** (batch only): the bad rows go to the rejects file with their line and a reason
  naming the field, the rule and the value; the good rows are scored;
* **scored**: the input is right to score (an unseen category, an unknown column) and the
  outcome is checked: the score is the card's rule and the flag or report is present.

For every batch run, rows in = rows scored + rows rejected, read from the files written. Each
case prints the message the user sees: ``pytest tests/test_bad_input.py -s`` (or ``-rA``).
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import ROOT, sample_rows, write_csv
from scorecard import card as cardlib
from scorecard.build import etl
from scorecard.apply.application import ApplicationForm, json_records
from scorecard.cli import app as cli_app
from scorecard.build.data import ID, validate_applicants
from scorecard.errors import CardError, DataValidationError, RulesError, ScorecardError
from scorecard.card.rules import DEFAULT_RULES, load_rules
from scorecard.apply.service import DEFAULT_CARD, DEFAULT_PARAMS, MAX_APPLICANTS, MAX_BODY_BYTES, create_app

with warnings.catch_warnings():   # starlette would rather have httpx2 than httpx: harmless here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

MB = 1 << 20


# -- expected outcomes ------------------------------------------------------------------------
@dataclass(frozen=True)
class Refused:
    """Stopped with a message holding every fragment (field, rule, value); ``status``: the
    HTTP status of a service answer, or the exit code of the command line."""

    fragments: tuple[str, ...]
    status: int | None = None


@dataclass(frozen=True)
class Rejected:
    """Batch: the planted rows (0-based) go to the rejects file, the reason of each holding
    every fragment; the other rows are scored."""

    rows: tuple[int, ...]
    fragments: tuple[str, ...]


@dataclass(frozen=True)
class Scored:
    """Accepted and scored; ``check(outcome)`` asserts what must hold and returns the report
    the user sees."""

    check: Callable


def refused(*fragments: str, status: int | None = None) -> Refused:
    return Refused(fragments, status)


@dataclass(frozen=True)
class Case:
    id: str
    surface: str          # etl | cli | score | application | rules | card
    how: str              # how the bad input is built, in words
    build: Callable       # builds it from real rows / the real files
    expect: Refused | Rejected | Scored
    options: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.id


# -- building bad input from real rows --------------------------------------------------------
def cell(column: str, row: int, value):
    """Change one cell of a real row."""
    def build(frame: pd.DataFrame, *_):
        frame.loc[row, column] = value
        return frame
    return build


def cells(*changes: tuple[str, int, object]):
    def build(frame: pd.DataFrame, *_):
        for column, row, value in changes:
            frame.loc[row, column] = value
        return frame
    return build


def drop(column: str):
    return lambda frame, *_: frame.drop(columns=[column])


def add_column(name: str, value):
    def build(frame: pd.DataFrame, *_):
        frame[name] = value
        return frame
    return build


def duplicate_id(column: str, copy_of: int, row: int):
    def build(frame: pd.DataFrame, *_):
        frame.loc[row, column] = frame.loc[copy_of, column]
        return frame
    return build


def csv_bytes(frame: pd.DataFrame, encoding: str = "utf-8") -> bytes:
    return frame.to_csv(index=False).encode(encoding)


def empty_file(frame, *_):
    return b""


def header_only(frame, *_):
    return csv_bytes(frame.head(0))


def extra_field_in_row(row: int):
    """A row with one field more than the header (an unquoted comma, say)."""
    def build(frame: pd.DataFrame, *_):
        lines = csv_bytes(frame.head(20)).decode().splitlines()
        assert len(lines) == 21, "these rows hold no line break inside a field"
        lines[row + 1] += ",EXTRA"
        return ("\n".join(lines) + "\n").encode()
    return build


def duplicate_header(column: str):
    """The header names ``column`` twice (a copy of it pasted as a new column)."""
    def build(frame: pd.DataFrame, *_):
        frame["sc_copy"] = frame[column]
        text = csv_bytes(frame).decode()
        header, rest = text.split("\n", 1)
        return (header.replace("sc_copy", column) + "\n" + rest).encode()
    return build


MEXICO = {"emp_title": (0, "Gobierno de Querétaro"), "title": (1, "Mudanza a Nuevo León")}


def latin1(column_rows: dict[str, tuple[int, str]]):
    """Real rows with accented text, saved as Latin-1 (what a Spanish-language Excel exports)."""
    def build(frame: pd.DataFrame, *_):
        for column, (row, value) in column_rows.items():
            frame.loc[row, column] = value
        return csv_bytes(frame, "latin-1")
    return build


def with_encoding(params, encoding: str):
    data = params.data
    return params.model_copy(update={"data": data.model_copy(update={
        "applicants": data.applicants.model_copy(update={"encoding": encoding})})})


def with_id_column(params, column: str):
    return params.model_copy(update={"data": params.data.model_copy(update={"id_column": column})})


def loan_ids(column: str, copy_of: int, row: int):
    """Give the real rows loan ids (the public file has them blanked), one of them twice."""
    def build(frame: pd.DataFrame, *_):
        frame[column] = [f"L{i:05d}" for i in range(len(frame))]
        frame.loc[row, column] = frame.loc[copy_of, column]
        return frame
    return build


# -- service bodies ---------------------------------------------------------------------------
def change(index: int = 0, **values):
    """One real applicant with some fields changed."""
    return lambda rows, *_: {**rows[index], **values}


def without(key: str, index: int = 0):
    return lambda rows, *_: {k: v for k, v in rows[index].items() if k != key}


def raw_json(text_of: Callable):
    """A body sent as written (NaN, Infinity, 1e999 are not what json.dumps writes)."""
    return lambda rows, *_: text_of(rows).encode()


def same_ids(rows, *_):
    return [{**rows[0], "id": "A-17"}, {**rows[1], "id": "A-18"}, {**rows[2], "id": "A-17"}]


def huge_body(rows, *_):
    """100 MB of real applicants, produced chunk by chunk (never held in memory)."""
    return ("stream", 100 * MB, rows)


def many_applicants(rows, *_):
    """100,000 real applicants in one request, produced chunk by chunk."""
    return ("applicants", 100_000, rows)


# -- checks of scored outcomes ----------------------------------------------------------------
def unseen_bin_points(card: cardlib.Card, feature: str) -> int:
    spec = next(f for f in card.features if f["name"] == feature)
    return spec["bins"][spec["unseen"]["bin_id"]]["points"]


def etl_reports_ignored(column: str):
    def check(o):
        s = o.result.summary
        assert column in s["columns_ignored"], s["columns_ignored"]
        for table in (o.result.train, o.result.test):
            assert column not in table.columns, "an unknown column must never reach the model"
        assert s["rows_in"] == s["rows_train"] + s["rows_test"] + s["rows_excluded"] == len(o.input)
        return (f"accepted: {s['rows_in']} rows in = {s['rows_train']} train + {s['rows_test']} test + "
                f"{s['rows_excluded']} excluded; columns_ignored ({len(s['columns_ignored'])}) includes "
                f"'{column}'; log: {o.log}")
    return check


def etl_accepts_all_rows(o):
    s = o.result.summary
    assert s["rows_in"] == len(o.input) == s["rows_train"] + s["rows_test"] + s["rows_excluded"]
    return f"accepted: {s['rows_in']} rows in = {s['rows_train']} train + {s['rows_test']} test + {s['rows_excluded']} excluded"


def cli_unseen(feature: str, row: int):
    def check(o):
        scored = o.output
        assert len(scored) == len(o.input) and len(o.rejects) == 0, "an unseen category is scored, not rejected"
        flags = scored[cardlib.UNSEEN_FLAG].fillna("").tolist()
        assert flags[row] == feature and sum(1 for f in flags if f) == 1
        got = scored.loc[row]
        assert int(got[f"points_{feature}"]) == unseen_bin_points(o.card, feature), "the card's unseen rule"
        want = o.card.apply(o.input.reset_index(drop=True)[o.card.feature_names]).loc[row]
        assert int(got["score"]) == int(want["score"]) == o.card.base_points + sum(
            int(got[f"points_{n}"]) for n in o.card.feature_names)
        return (f"scored {int(got['score'])} (points_{feature} {int(got[f'points_{feature}'])} = the unseen bin's), "
                f"unseen_categories = {flags[row]!r}; summary: {o.summary_line('Unseen categories')}")
    return check


def cli_ignores(column: str):
    def check(o):
        assert len(o.output) == len(o.input) and column not in o.output.columns
        line = o.summary_line("columns ignored")
        assert column in line
        want = o.card.apply(o.input.reset_index(drop=True)[o.card.feature_names])["score"].astype(int).tolist()
        assert o.output["score"].astype(int).tolist() == want, "the extra column changes no score"
        return f"scored every row, same scores as without it; summary: {line}"
    return check


def service_unseen(feature: str, value: str):
    def check(o):
        assert o.status == 200, o.text
        result = o.json
        assert result["unseen_categories"] == [feature]
        assert result["points"][feature] == unseen_bin_points(o.card, feature), "the card's unseen rule"
        assert result["score"] == o.card.base_points + sum(result["points"].values())
        if o.features is not None:
            want = o.card.apply(pd.DataFrame([{**o.features, feature: value}])[o.card.feature_names])
            assert result["score"] == int(want["score"].iloc[0])
        return (f"200: score {result['score']} (points {feature} {result['points'][feature]} = the unseen bin's), "
                f"unseen_categories {result['unseen_categories']}")
    return check


# -- rules and card files ---------------------------------------------------------------------
def set_key(path: list, value):
    def build(doc, *_):
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return doc
    return build


def delete_key(path: list):
    def build(doc, *_):
        node = doc
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
        return doc
    return build


def add_policy_rule(**rule):
    def build(doc, *_):
        base = copy.deepcopy(doc["policy_rules"][0])
        base.update(rule)
        doc["policy_rules"].append(base)
        return doc
    return build


def overlapping_range_bins(doc, *_):
    """Two range bins of 'dti' overlap: the upper edge of bin 1 passes the lower edge of bin 2."""
    dti = next(f for f in doc["features"] if f["name"] == "dti")
    ranges = [b for b in dti["bins"] if b["kind"] == "range"]
    ranges[0]["upper"] = ranges[1]["upper"]
    return doc


# -- the matrix -------------------------------------------------------------------------------
# Rows of the raw sample are 0-based; their line in the file is row + 2 (the header is line 1).
CASES = [
    # ---- raw-data ETL (scorecard.build.data / scorecard.build.etl, params.yaml's schema) ----
    Case("etl-missing-column", "etl", "drop annual_inc from the real file", drop("annual_inc"),
         refused("missing required column(s) ['annual_inc']")),
    Case("etl-duplicate-column", "etl", "the header names annual_inc twice", duplicate_header("annual_inc"),
         refused("header rule", "column 'annual_inc' appears 2 times")),
    Case("etl-extra-column", "etl", "add a column favourite_colour the schema does not declare",
         add_column("favourite_colour", "blue"), Scored(etl_reports_ignored("favourite_colour"))),
    Case("etl-wrong-type", "etl", "annual_inc = 'fifty thousand' on row 3", cell("annual_inc", 3, "fifty thousand"),
         refused("column 'annual_inc'", "expected a number", "line 5: 'fifty thousand'")),
    Case("etl-empty-file", "etl", "a 0-byte file", empty_file,
         refused("the file is empty", "expected a header row and data rows")),
    Case("etl-header-only", "etl", "the real header, no rows", header_only,
         refused("has a header but no data rows")),
    Case("etl-malformed-row", "etl", "row 5 of 20 gets one field too many", extra_field_in_row(5),
         refused("malformed CSV", "line 7 has 147 fields but the header has 146")),
    Case("etl-latin1-declared-utf8", "etl", "Latin-1 file ('Querétaro', 'Nuevo León'), params declare utf-8",
         latin1(MEXICO), refused("not valid utf-8 text", "line 2, byte", "b'\\xe9'", "latin-1")),
    Case("etl-latin1-declared-latin1", "etl", "the same Latin-1 file, params declare latin-1",
         latin1(MEXICO), Scored(etl_accepts_all_rows), {"params": lambda p: with_encoding(p, "latin-1")}),
    Case("etl-income-negative", "etl", "annual_inc = -1200", cell("annual_inc", 0, "-1200"),
         refused("column 'annual_inc'", "rule min_exclusive: expected values > 0", "line 2: '-1200'")),
    Case("etl-income-zero", "etl", "annual_inc = 0", cell("annual_inc", 1, "0"),
         refused("column 'annual_inc'", "rule min_exclusive: expected values > 0", "line 3: '0'")),
    Case("etl-income-nan", "etl", "annual_inc = NaN", cell("annual_inc", 2, "NaN"),
         refused("column 'annual_inc'", "expected a number", "line 4: 'NaN'")),
    Case("etl-income-infinite", "etl", "annual_inc = inf", cell("annual_inc", 3, "inf"),
         refused("column 'annual_inc'", "expected a finite number", "line 5: 'inf'")),
    Case("etl-credit-line-after-application", "etl", "earliest_cr_line 2009-03-01 after issue_d 2008-01-01",
         cells(("issue_d", 0, "2008-01-01"), ("earliest_cr_line", 0, "2009-03-01")),
         refused("column 'earliest_cr_line'", "rule earliest_cr_line <= issue_d",
                 "line 2: earliest_cr_line 2009-03-01 after issue_d 2008-01-01")),
    Case("etl-date-year-2200", "etl", "earliest_cr_line = 2200-01-01", cell("earliest_cr_line", 4, "2200-01-01"),
         refused("column 'earliest_cr_line'", "rule max: expected values <= 2012-12-31", "line 6: '2200-01-01'")),
    Case("etl-date-february-30", "etl", "issue_d = 2011-02-30", cell("issue_d", 5, "2011-02-30"),
         refused("column 'issue_d'", "expected a date as yyyy-mm-dd", "line 7: '2011-02-30'")),
    Case("etl-unknown-state", "etl", "addr_state = ZZ", cell("addr_state", 9, "ZZ"),
         refused("column 'addr_state'", "does not cover", "['ZZ']")),
    Case("etl-category-not-allowed", "etl", "home_ownership = CASTLE", cell("home_ownership", 7, "CASTLE"),
         refused("column 'home_ownership'", "expected one of ['RENT'", "line 9: 'CASTLE'")),
    Case("etl-duplicate-ids", "etl", "id_column: id, and loan L00000 twice", loan_ids("id", 0, 4),
         refused("column 'id'", "expected unique", "line 2: 'L00000', line 6: 'L00000'"),
         {"params": lambda p: with_id_column(p, "id")}),

    # ---- batch command line (scorecard score INPUT -o OUTPUT) on the ETL's real features ----
    Case("cli-missing-column", "cli", "drop dti", drop("dti"),
         refused("missing required column(s) ['dti']", status=2)),
    Case("cli-extra-column", "cli", "add a column favourite_colour the card does not use",
         add_column("favourite_colour", "blue"), Scored(cli_ignores("favourite_colour"))),
    Case("cli-wrong-type", "cli", "dti = 'abc' on row 3", cell("dti", 3, "abc"),
         Rejected((3,), ("column 'dti': expected a number, got 'abc'",))),
    Case("cli-nan-text", "cli", "revol_util = NaN on row 6", cell("revol_util", 6, "NaN"),
         Rejected((6,), ("column 'revol_util': expected a number, got 'NaN'",))),
    Case("cli-infinite", "cli", "loan_to_income = 1e400 on row 8", cell("loan_to_income", 8, "1e400"),
         Rejected((8,), ("column 'loan_to_income': expected a finite number, got '1e400'",))),
    Case("cli-duplicate-ids", "cli", "row 7 repeats row 3's applicant_id", duplicate_id(ID, 3, 7),
         Rejected((3, 7), ("column 'applicant_id': id", "is not unique: 2 rows share it (lines 5, 9)"))),
    Case("cli-empty-id", "cli", "row 9 has no applicant_id", cell(ID, 9, None),
         Rejected((9,), ("column 'applicant_id': the id is empty",))),
    Case("cli-empty-file", "cli", "a 0-byte file", empty_file, refused("the file is empty", status=2)),
    Case("cli-header-only", "cli", "the header, no rows", header_only,
         refused("has a header but no data rows", status=2)),
    Case("cli-malformed-row", "cli", "row 5 of 20 gets one field too many", extra_field_in_row(5),
         refused("line 7 has 14 fields, the header has 13", "nothing was scored", status=2)),
    Case("cli-latin1-declared-utf8", "cli", "purpose 'préstamo Querétaro' saved as Latin-1, read as UTF-8",
         latin1({"purpose": (2, "préstamo Querétaro")}),
         refused("not UTF-8 text", "line 4", "byte", "--encoding latin-1", status=2)),
    Case("cli-latin1-deep-in-the-file", "cli", "purpose 'Nuevo León' on row 150, saved as Latin-1, read as UTF-8",
         latin1({"purpose": (150, "Nuevo León")}),
         refused("not UTF-8 text", "line 152", "byte", "b'\\xf3'", "--encoding latin-1", status=2)),
    Case("cli-latin1-declared-latin1", "cli", "the same Latin-1 file with --encoding latin-1",
         latin1({"purpose": (2, "préstamo Querétaro")}), Scored(cli_unseen("purpose", 2)),
         {"args": ["--encoding", "latin-1"]}),
    Case("cli-unseen-category", "cli", "purpose = 'Nuevo León' (a category the card never saw)",
         cell("purpose", 4, "Nuevo León"), Scored(cli_unseen("purpose", 4))),

    # ---- service: POST /score (the card's features) ----
    Case("score-missing-field", "score", "one real applicant without dti", without("dti"),
         refused("field 'dti'", "required", status=422)),
    Case("score-unknown-field", "score", "a real applicant plus favourite_colour", change(favourite_colour="blue"),
         refused("field 'favourite_colour'", "unknown field", status=422)),
    Case("score-wrong-type", "score", "revol_util = 'high'", change(revol_util="high"),
         refused("field 'revol_util'", "expected a number or null", 'got a string ("high")', status=422)),
    Case("score-number-for-string", "score", "term = 36 (a JSON number; the card's categories are text)",
         change(term=36), refused("field 'term'", "expected a string", "got a number (36)", status=422)),
    Case("score-nan", "score", "dti: NaN (not JSON)",
         raw_json(lambda rows: json.dumps({**rows[0], "dti": 0.5}).replace("0.5", "NaN")),
         refused("not valid JSON", "NaN is not a JSON number", "field 'dti'", status=400)),
    Case("score-infinite", "score", "dti: 1e999 (infinite as a float)",
         raw_json(lambda rows: json.dumps({**rows[0], "dti": 0.5}).replace("0.5", "1e999")),
         refused("field 'dti'", "expected a finite number", "got inf", status=422)),
    Case("score-duplicate-ids", "score", "3 real applicants, ids A-17, A-18, A-17", same_ids,
         refused("field 'id'", "not unique", '"A-17"', "applicants 0 and 2", status=422)),
    Case("score-unseen-category", "score", "purpose = 'Nuevo León'", change(purpose="Nuevo León"),
         Scored(service_unseen("purpose", "Nuevo León"))),
    Case("score-100MB-body", "score", "100 MB of real applicants, streamed without Content-Length", huge_body,
         refused("over the limit of 1000000 bytes", status=413)),
    Case("score-100k-applicants", "score", "100,000 real applicants in one request, streamed", many_applicants,
         refused(f"at most {MAX_APPLICANTS} applicants per request", str(MAX_BODY_BYTES), status=413)),
    Case("score-100k-applicants-past-the-count", "score",
         "100,000 real applicants to a service whose body limit (64 MB) lets them all through", many_applicants,
         refused(f"at most {MAX_APPLICANTS} applicants per request, got 100000", status=413),
         {"app": {"max_body_bytes": 64 * MB}}),

    # ---- service: POST /score/application (the declared fields) ----
    Case("application-missing-field", "application", "a real application without revol_util", without("revol_util"),
         refused("field 'revol_util'", "required", status=422)),
    Case("application-income-negative", "application", "annual_inc = -1200", change(annual_inc=-1200),
         refused("field 'annual_inc'", "greater than 0", "got -1200", status=422)),
    Case("application-income-zero", "application", "annual_inc = 0", change(annual_inc=0),
         refused("field 'annual_inc'", "greater than 0", "got 0", status=422)),
    Case("application-income-nan", "application", "annual_inc: NaN (not JSON)",
         raw_json(lambda rows: json.dumps({**rows[0], "annual_inc": 0.5}).replace("0.5", "NaN")),
         refused("not valid JSON", "NaN is not a JSON number", "field 'annual_inc'", status=400)),
    Case("application-income-infinite", "application", "annual_inc: 1e999",
         raw_json(lambda rows: json.dumps({**rows[0], "annual_inc": 0.5}).replace("0.5", "1e999")),
         refused("field 'annual_inc'", "expected a finite number", "got inf", status=422)),
    Case("application-income-subnormal", "application",
         "annual_inc = 1e-320 in the second of three applications (loan_amnt / annual_inc overflows)",
         lambda rows, *_: [rows[0], {**rows[1], "annual_inc": 1e-320}, rows[2]],
         refused("applicant 1 (id ", "field 'annual_inc'", "1e-320 is too close to 0", "loan_amnt / annual_inc",
                 status=422)),
    Case("application-income-as-text", "application", "annual_inc = '60000' (a string where a number is expected)",
         change(annual_inc="60000"), refused("field 'annual_inc'", "expected a number or null", '"60000"', status=422)),
    Case("application-number-for-string", "application", "emp_length = 5 (a JSON number where text is expected)",
         change(emp_length=5), refused("field 'emp_length'", "expected a string", "got a number (5)", status=422)),
    Case("application-date-year-2200", "application", "issue_d = 2200-01-01", change(issue_d="2200-01-01"),
         refused("field 'issue_d'", "expected a date from 2007-01-01 to 2011-12-31", "got 2200-01-01", status=422)),
    Case("application-date-february-30", "application", "issue_d = 2011-02-30", change(issue_d="2011-02-30"),
         refused("field 'issue_d'", "expected a date as yyyy-mm-dd", "'2011-02-30'", status=422)),
    Case("application-unknown-state", "application", "addr_state = ZZ", change(addr_state="ZZ"),
         refused("column 'addr_state'", "does not cover", "'ZZ'", status=422)),
    Case("application-unseen-category", "application", "purpose = 'Nuevo León'", change(purpose="Nuevo León"),
         Scored(service_unseen("purpose", "Nuevo León"))),

    # ---- business rules file (scorecard.card.rules) ----
    Case("rules-overlapping-cutoffs", "rules", "decline_below 560 above approve_from 540",
         set_key(["cutoffs", "decline_below"], 560),
         refused("cutoffs: decline_below (560) must be below approve_from (540)", "overlap")),
    Case("rules-contradicting-policy", "rules", "add 'annual_inc > 10000 declines' beside 'annual_inc < 12000'",
         add_policy_rule(id="max_income", reason_code="P09", operator=">", threshold=10000),
         refused("policy_rules[0] 'min_annual_income' (annual_inc < 12000)",
                 "policy_rules[3] 'max_income' (annual_inc > 10000)", "fire for every value of 'annual_inc'")),
    Case("rules-bands-overlap", "rules", "band B starts at 535, below band C's 540",
         set_key(["score_bands", 4, "min_score"], 535),
         refused("score_bands[4] 'B': min_score 535 must be above the previous band's 540")),

    # ---- card file (scorecard.card.load / validate) ----
    Case("card-schema-type", "card", "scaling.base_points = 'five hundred'",
         set_key(["scaling", "base_points"], "five hundred"),
         refused("invalid scorecard", "scaling/base_points", "'five hundred' is not of type 'integer'")),
    Case("card-schema-missing-key", "card", "feature 2 loses its reason_code", delete_key(["features", 2, "reason_code"]),
         refused("invalid scorecard", "features/2", "'reason_code' is a required property")),
    Case("card-overlapping-bins", "card", "dti's first range bin reaches into the second", overlapping_range_bins,
         refused("invalid scorecard", "feature 'dti'", "do not touch")),
]


def test_the_matrix_is_complete():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)) and len(CASES) >= 25
    assert {c.surface for c in CASES} == {"etl", "cli", "score", "application", "rules", "card"}


# -- fixtures: small samples of the real data -------------------------------------------------
@pytest.fixture(scope="module")
def raw_sample(raw_text) -> pd.DataFrame:
    """200 real loans (40 per issue year), every column as text, as the ETL reads them."""
    return sample_rows(raw_text, 40).reset_index(drop=True)


@pytest.fixture(scope="module")
def feature_rows(raw_sample, params, tmp_path_factory) -> pd.DataFrame:
    """The same loans through the ETL: applicant_id and the card's features (as the batch reads them)."""
    path = write_csv(raw_sample, tmp_path_factory.mktemp("features") / "sample.csv")
    result = etl.run(params, root=ROOT, applicants_path=path)
    card = cardlib.load(DEFAULT_CARD)
    both = pd.concat([result.train, result.test]).sort_values(ID).reset_index(drop=True)
    return both[[ID, *card.feature_names]]


@pytest.fixture(scope="module")
def service_app():
    return create_app(DEFAULT_CARD, DEFAULT_RULES, params_path=DEFAULT_PARAMS)


@pytest.fixture(scope="module")
def score_bodies(feature_rows) -> list[dict]:
    """Real applicants as POST /score takes them (id, the card's features)."""
    return json_records(feature_rows.head(5).rename(columns={ID: "id"}))


@pytest.fixture(scope="module")
def application_bodies(raw_sample, params) -> list[dict]:
    """Real applications as POST /score/application takes them (id, the declared fields)."""
    card = cardlib.load(DEFAULT_CARD)
    form = ApplicationForm(card, params, root=ROOT)
    typed = validate_applicants(raw_sample.head(5).copy(), params)
    return json_records(typed[[ID, *form.columns]].rename(columns={ID: "id"}))


# -- running one case on its surface ----------------------------------------------------------
@dataclass
class Outcome:
    message: str = ""
    card: cardlib.Card | None = None
    input: pd.DataFrame | None = None
    result: object = None
    log: str = ""
    output: pd.DataFrame | None = None
    rejects: pd.DataFrame | None = None
    stdout: str = ""
    status: int | None = None
    text: str = ""
    json: object = None
    features: dict | None = None

    def summary_line(self, start: str) -> str:
        """The summary's line that starts so; for a table title, the title and its rows."""
        lines = self.stdout.splitlines()
        for i, line in enumerate(lines):
            if line.strip().startswith(start):
                if not start[0].isupper():
                    return " ".join(line.split())
                rows = []
                for text in lines[i + 1:]:
                    if not text.strip():
                        break
                    cells = [c.strip() for c in re.split(r"[│┃]", text) if c.strip()]
                    if cells and not set("".join(cells)) <= set("─━┏┓┡┩└┘┗┛╇┳┻╋┼┬┴╭╮╰╯┃│ "):
                        rows.append(" ".join(cells))
                return f"{line.strip()}: " + "; ".join(rows[1:])
        raise AssertionError(f"no '{start}' in the summary:\n{self.stdout}")


def write_input(made, path: Path) -> Path:
    if isinstance(made, bytes):
        path.write_bytes(made)
    else:
        made.to_csv(path, index=False)
    return path


def read_text(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def run_etl(case: Case, request, tmp_path, caplog) -> Outcome:
    params = request.getfixturevalue("params")
    frame = request.getfixturevalue("raw_sample").copy()
    params = case.options.get("params", lambda p: p)(params)
    made = case.build(frame, params)
    path = write_input(made, tmp_path / "applicants.csv")
    if isinstance(case.expect, Refused):
        with pytest.raises(DataValidationError) as error:
            etl.run(params, root=ROOT, applicants_path=path)
        return Outcome(message=str(error.value))
    with caplog.at_level("INFO", logger="scorecard.build.etl"):
        result = etl.run(params, root=ROOT, applicants_path=path)
    log = " ".join(r.getMessage()[:160] + "..." for r in caplog.records if r.name == "scorecard.build.etl")
    return Outcome(result=result, input=frame, log=log)


def run_cli(case: Case, request, tmp_path) -> Outcome:
    frame = request.getfixturevalue("feature_rows").copy().astype(object)
    card = cardlib.load(DEFAULT_CARD)
    made = case.build(frame)
    source = write_input(made, tmp_path / "applicants.csv")
    out, rejects = tmp_path / "scores.csv", tmp_path / "scores.rejects.csv"
    result = CliRunner().invoke(cli_app, ["score", str(source), "-o", str(out), *case.options.get("args", [])])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if isinstance(case.expect, Refused):
        assert result.exit_code == case.expect.status, (result.exit_code, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
        assert not out.exists() and not rejects.exists(), "a refused file writes nothing"
        return Outcome(message=lines[0])
    assert result.exit_code == 0, result.output
    # Every row is accounted for, on the files as written.
    rows_in = len(made) if isinstance(made, pd.DataFrame) else sum(1 for _ in made.decode("latin-1").splitlines()) - 1
    scored, rejected = read_text(out), read_text(rejects)
    assert rows_in == len(scored) + len(rejected), f"{rows_in} rows in != {len(scored)} scored + {len(rejected)} rejected"
    assert f"{rows_in:,} = {len(scored):,} + {len(rejected):,}" in result.stdout
    return Outcome(card=card, input=frame if isinstance(made, pd.DataFrame) else read_source(source, case),
                   output=scored, rejects=rejected, stdout=result.stdout)


def read_source(path: Path, case: Case) -> pd.DataFrame:
    encoding = dict(zip(*[iter(case.options.get("args", []))] * 2)).get("--encoding", "utf-8")
    return pd.read_csv(path, encoding=encoding)


def _chunks(kind: str, size: int, rows: list[dict], produced: list[int]):
    """A JSON list of real applicants, made chunk by chunk: ``size`` bytes or ``size`` applicants."""
    yield b"["
    produced[0] += 1
    count = 0
    while True:
        batch = []
        for _ in range(200):
            if (kind == "applicants" and count >= size) or (kind == "stream" and produced[0] >= size):
                break
            batch.append(json.dumps({**rows[count % len(rows)], "id": f"A{count}"}))
            count += 1
        if not batch:
            break
        chunk = (b"," if count > len(batch) else b"") + ",".join(batch).encode()
        produced[0] += len(chunk)
        yield chunk
    yield b"]"


def stream_post(app, path: str, kind: str, size: int, rows: list[dict]) -> tuple[int, dict, int]:
    """POST a body produced lazily (chunked, no Content-Length) through the ASGI app; return the
    status, the answer and how many bytes the client had to produce before the answer."""
    import httpx

    produced = [0]

    async def body():
        for chunk in _chunks(kind, size, rows, produced):
            yield chunk

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.post(path, content=body(), headers={"Content-Type": "application/json"})
            return response.status_code, response.json()

    status, answer = asyncio.run(go())
    return status, answer, produced[0]


def run_service(case: Case, request) -> Outcome:
    if "app" in case.options:
        app = create_app(DEFAULT_CARD, DEFAULT_RULES, params_path=None, **case.options["app"])
    else:
        app = request.getfixturevalue("service_app")
    path = "/score" if case.surface == "score" else "/score/application"
    rows = request.getfixturevalue("score_bodies" if case.surface == "score" else "application_bodies")
    card = cardlib.load(DEFAULT_CARD)
    body = case.build(copy.deepcopy(rows))
    if isinstance(body, tuple) and body[0] in ("stream", "applicants"):
        kind, size, _ = body
        status, answer, produced = stream_post(app, path, kind, size, rows)
        if "app" not in case.options:
            # The service stops reading at the limit: the client never had to produce the rest.
            assert produced < 4 * MB, f"the client produced {produced:,} bytes before the answer"
        text = json.dumps(answer)
        outcome = Outcome(status=status, text=text, json=answer, card=card)
        outcome.text += f" (the client produced {produced / MB:.1f} MB of the {size:,} {'bytes' if kind == 'stream' else 'applicants'})"
    else:
        client = TestClient(app, raise_server_exceptions=False)
        if isinstance(body, bytes):
            response = client.post(path, content=body, headers={"Content-Type": "application/json"})
        else:
            response = client.post(path, json=body)
        outcome = Outcome(status=response.status_code, text=response.text, card=card)
        outcome.json = response.json()
    assert outcome.status < 500, outcome.text
    if case.surface == "score":
        features = {k: v for k, v in rows[0].items() if k != "id"}
        outcome.features = features
    if isinstance(case.expect, Refused):
        assert outcome.status == case.expect.status, (outcome.status, outcome.text)
        outcome.message = f"{outcome.status}: " + " | ".join(d["msg"] for d in outcome.json["detail"])
        if "limit" in outcome.json["detail"][0]:
            outcome.message += f" (limit: {outcome.json['detail'][0]['limit']})"
        outcome.message += outcome.text[outcome.text.rfind(" (the client"):] if "the client produced" in outcome.text else ""
    return outcome


def run_file(case: Case, tmp_path) -> Outcome:
    source = DEFAULT_RULES if case.surface == "rules" else DEFAULT_CARD
    document = case.build(json.loads(source.read_text(encoding="utf-8")))
    path = tmp_path / source.name
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(RulesError if case.surface == "rules" else CardError) as error:
        if case.surface == "rules":
            load_rules(path, cardlib.load(DEFAULT_CARD))
        else:
            cardlib.load(path)
    assert isinstance(error.value, ScorecardError)
    return Outcome(message=str(error.value))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input(case: Case, request, tmp_path, caplog):
    if case.surface == "etl":
        outcome = run_etl(case, request, tmp_path, caplog)
    elif case.surface == "cli":
        outcome = run_cli(case, request, tmp_path)
    elif case.surface in ("score", "application"):
        outcome = run_service(case, request)
    else:
        outcome = run_file(case, tmp_path)

    expect = case.expect
    if isinstance(expect, Refused):
        message = outcome.message
    elif isinstance(expect, Rejected):
        rejects = outcome.rejects
        assert rejects["line"].astype(int).tolist() == [r + 2 for r in expect.rows], "line = row + 2"
        for reason in rejects["reason"]:
            for fragment in expect.fragments:
                assert fragment in reason, (fragment, reason)
        good = outcome.input.drop(index=list(expect.rows)).reset_index(drop=True)
        want = outcome.card.apply(good[outcome.card.feature_names])["score"].astype(int).tolist()
        assert outcome.output["score"].astype(int).tolist() == want, "the good rows are scored as the card says"
        message = "rejects file: " + " | ".join(f"line {line}: {reason}" for line, reason
                                                in zip(rejects["line"], rejects["reason"]))
        message += f"; summary: {outcome.summary_line('rows in = scored + rejected')}"
    else:
        message = expect.check(outcome)
    print(f"\n[{case.id}] ({case.surface}) {case.how}\n    -> {message}")
    if isinstance(expect, (Refused, Rejected)):
        for fragment in expect.fragments:
            assert fragment in message, f"{fragment!r} not in the message: {message}"
