"""The card as one SQL SELECT (scorecard.apply.sql): on DuckDB it gives exactly what the Python
scorer gives — score, points, reasons and the unseen flag — on every row of the real test set
and on rows built to sit on every edge, NULL, NaN, special value and unseen category. The
ANSI statement runs on DuckDB too; the Spark statement is checked for its structure."""

from __future__ import annotations

import copy
import math
import re
import subprocess
import sys
import time

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from conftest import plain

from scorecard import card as cardlib
from scorecard.apply import sql as sqllib
from scorecard.errors import CardError

ID = "applicant_id"


# -- helpers ------------------------------------------------------------------------------
def needs(card: cardlib.Card, *names: str) -> None:
    """Skip a test built around features the card no longer has."""
    absent = [n for n in names if n not in card.feature_names]
    if absent:
        pytest.skip(f"feature(s) {absent} not in the card")


def run_sql(text: str, table, name: str = "applicants", id_column: str = ID) -> dict[str, list]:
    """Run the statement on DuckDB over ``table`` (pandas or Arrow); columns by name, rows by id."""
    con = duckdb.connect()
    con.register(name, table)
    quoted = '"' + id_column.replace('"', '""') + '"'
    result = con.sql(f"SELECT * FROM (\n{text}\n) AS scored ORDER BY {quoted}").to_arrow_table()
    return {column: [plain(v) for v in values] for column, values in result.to_pydict().items()}


def python_result(card: cardlib.Card, frame: pd.DataFrame, n_reasons: int = 4, id_column: str = ID) -> dict[str, list]:
    applied = card.apply(frame, n_reasons)
    applied.insert(0, id_column, frame[id_column].to_numpy())
    applied = applied.sort_values(id_column, kind="stable")
    return {column: [plain(v) for v in applied[column].tolist()] for column in applied.columns}


def assert_same(got: dict[str, list], want: dict[str, list], id_column: str = ID) -> None:
    assert list(got) == list(want), "columns differ (names or order)"
    assert got[id_column] == want[id_column], "rows differ"
    for column in want:
        if got[column] != want[column]:
            bad = [i for i, (a, b) in enumerate(zip(got[column], want[column])) if a != b]
            examples = [(got[id_column][i], got[column][i], want[column][i]) for i in bad[:5]]
            raise AssertionError(f"column {column}: {len(bad)} rows differ; (id, sql, python): {examples}")


def columns_of(frame: pd.DataFrame, names: list[str]) -> dict[str, list]:
    return {name: [plain(v) for v in frame[name].astype(object).tolist()] for name in names}


def numeric_probes(feature: dict) -> list:
    """Every edge, the doubles either side of it, special values, extremes, NaN and NULL."""
    edges = sorted({b[side] for b in feature["bins"] if b["kind"] == "range"
                    for side in ("lower", "upper") if b[side] is not None})
    specials = [v for b in feature["bins"] if b["kind"] == "special" for v in b["values"]]
    values = []
    for edge in edges + specials:
        values += [float(edge), float(np.nextafter(edge, -np.inf)), float(np.nextafter(edge, np.inf))]
    return values + [0.0, -0.0, 1e300, -1e300, 5e-324, -5e-324, 1.7976931348623157e308,
                     -1.7976931348623157e308, 123456789.0, float("nan"), None]


def categorical_probes(feature: dict) -> list:
    listed = [c for b in feature["bins"] if b["kind"] == "categories" for c in b["categories"]]
    return listed + [None, "never_seen_before", "", " 36", "36.0", "036", "nan", listed[0].upper() + "x"]


def constructed(card: cardlib.Card, sample: pd.DataFrame) -> dict[str, list]:
    """A sample of the test set plus rows built on purpose, as lists (None = NULL, nan = NaN)."""
    names = card.feature_names
    columns = columns_of(sample, [ID, *names])
    template = {name: columns[name][0] for name in names}
    rows = [{name: None for name in names}]  # NULL in every feature
    for feature in card.features:
        probes = numeric_probes(feature) if feature["type"] == "numeric" else categorical_probes(feature)
        rows += [{**template, feature["name"]: value} for value in probes]
    next_id = 10_000_000
    for row in rows:
        columns[ID].append(next_id)
        next_id += 1
        for name in names:
            columns[name].append(row[name])
    return columns


def arrow_table(columns: dict[str, list], card: cardlib.Card, term_type=pa.string()) -> pa.Table:
    """Arrow keeps NaN apart from NULL (pandas would turn NaN into NULL on the way to DuckDB)."""
    types = {ID: pa.int64()}
    types.update({f["name"]: pa.float64() if f["type"] == "numeric" else pa.string() for f in card.features})
    types["term"] = term_type
    return pa.table({name: pa.array(values, type=types[name]) for name, values in columns.items()})


def python_frame(columns: dict[str, list], card: cardlib.Card, term_dtype=object) -> pd.DataFrame:
    frame = {}
    for name, values in columns.items():
        numeric = name == ID or any(f["name"] == name and f["type"] == "numeric" for f in card.features)
        dtype = term_dtype if name == "term" else ("float64" if name != ID else "int64") if numeric else object
        frame[name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(frame)


def tokens(text: str, dialect: str) -> str:
    """The statement with its comments removed, its string literals emptied and its quoted
    identifiers replaced by ``q`` (read left to right, as a lexer would)."""
    string = r"'(?:\\.|[^'\\])*'" if dialect == "spark" else r"'(?:''|[^'])*'"
    quoted = r"`(?:``|[^`])*`" if dialect == "spark" else r'"(?:""|[^"])*"'
    pattern = re.compile(rf"--[^\n]*|{string}|{quoted}")

    def replace(match: re.Match) -> str:
        token = match.group()
        return "" if token.startswith("--") else "''" if token.startswith("'") else "q"

    return pattern.sub(replace, text)


# -- 1. the real test set -------------------------------------------------------------------
@pytest.mark.parametrize("dialect", ["duckdb", "ansi"])
def test_sql_scores_the_real_test_set_exactly(card, test_set, dialect):
    text = sqllib.to_sql(card, dialect)
    started = time.perf_counter()
    got = run_sql(text, test_set)
    print(f"{dialect}: {len(test_set)} rows scored in {time.perf_counter() - started:.3f}s")
    assert len(got[ID]) == len(test_set) == 21721
    assert_same(got, python_result(card, test_set))


def test_the_real_test_set_exercises_ties_and_absent_reasons(card, test_set):
    """Reasons with equal points lost (broken by card order) and rows with fewer than 4 reasons."""
    reasons = card.reasons(test_set, 4)
    lost = reasons[[f"reason_{k}_points_lost" for k in range(1, 5)]].to_numpy()
    assert ((lost[:, :-1] == lost[:, 1:]) & (lost[:, 1:] > 0)).any(), "no tie among the reasons"
    assert reasons["reason_4"].isna().any() and reasons["reason_1"].notna().any()


# -- 2. rows built on purpose -------------------------------------------------------------
TERMS = {
    "text": (pa.string(), object, str),
    "bigint": (pa.int64(), "Int64", int),
    "double": (pa.float64(), "float64", float),
    "float": (pa.float32(), "float32", float),
}
TERM_EXTRAS = {  # values the term column gets on top of the sample's, per column type
    "text": [],
    "bigint": [36, 60, 48, 0, -36, 9_000_000_000_000_000_000, None],
    "double": [36.0, 60.0, 36.5, -0.0, 48.0, 1e20, 2.0**63, 2.0**63 - 1024, float("inf"), float("-inf"), float("nan"), None],
    "float": [36.0, 60.0, 36.5, 48.0, float("nan"), None],
}


def edge_rows(card: cardlib.Card, test_set: pd.DataFrame, term_type: str) -> dict[str, list]:
    """:func:`constructed` rows with the term column as text or as numbers of ``term_type``
    (the probes that only make sense as text dropped, :data:`TERM_EXTRAS` added). Also used by
    tests/apply/test_spark.py."""
    columns = constructed(card, test_set.sample(300, random_state=0))
    _, _, convert = TERMS[term_type]
    if term_type != "text":
        # the term column as numbers: '36' -> 36 / 36.0, and the probes that only make sense as text dropped
        keep = [i for i, v in enumerate(columns["term"]) if v is None or re.fullmatch(r"\d+", v)]
        columns = {name: [values[i] for i in keep] for name, values in columns.items()}
        columns["term"] = [None if v is None else convert(v) for v in columns["term"]]
        extra = TERM_EXTRAS[term_type]
        first = max(columns[ID]) + 1
        template = {name: values[0] for name, values in columns.items()}
        for i, value in enumerate(extra):
            for name in columns:
                columns[name].append(first + i if name == ID else value if name == "term" else template[name])
    return columns


@pytest.mark.parametrize("dialect", ["duckdb", "ansi"])
@pytest.mark.parametrize("term_type", list(TERMS))
def test_sql_agrees_on_edges_nulls_nan_specials_and_unseen(card, test_set, dialect, term_type):
    needs(card, "term", "dti")
    if dialect == "ansi" and term_type in ("double", "float"):
        pytest.skip("ANSI SQL cannot tell a float column's type: a floating-point categorical column "
                    "must be cast by the caller (documented in scorecard.apply.sql)")
    columns = edge_rows(card, test_set, term_type)
    arrow_type, pandas_dtype, _ = TERMS[term_type]
    table = arrow_table(columns, card, arrow_type)
    frame = python_frame(columns, card, pandas_dtype)
    got = run_sql(sqllib.to_sql(card, dialect), table)
    want = python_result(card, frame)
    assert_same(got, want)
    # the probes reached what they were built for
    assert "" in want[cardlib.UNSEEN_FLAG] and any(want[cardlib.UNSEEN_FLAG])
    if term_type == "text":
        nan_rows = sum(1 for v in columns["dti"] if isinstance(v, float) and math.isnan(v))
        assert nan_rows == 1 and table.column("dti").null_count >= 1


def test_unseen_flag_lists_every_unseen_feature_in_card_order(card, test_set):
    needs(card, "term", "purpose")
    frame = test_set.head(3)[[ID, *card.feature_names]].copy()
    frame["term"] = ["48", "36", "48"]
    frame["purpose"] = ["space_travel", "space_travel", "car"]
    got = run_sql(sqllib.to_sql(card), frame)
    assert got[cardlib.UNSEEN_FLAG] == ["term,purpose", "purpose", "term"]
    assert_same(got, python_result(card, frame))


@pytest.mark.parametrize("n_reasons", [0, 1, 2, 12, 14])
def test_any_number_of_reasons(card, test_set, n_reasons):
    sample = test_set.sample(2000, random_state=1)
    got = run_sql(sqllib.to_sql(card, n_reasons=n_reasons), sample)
    assert_same(got, python_result(card, sample, n_reasons))


def test_infinity_falls_in_the_unbounded_bins(card, test_set):
    """Python refuses infinity; SQL cannot raise portably, so it scores it (documented)."""
    needs(card, "dti")
    feature = card.features[card.feature_names.index("dti")]
    ranges = [b for b in feature["bins"] if b["kind"] == "range"]
    missing = next(b for b in feature["bins"] if b["kind"] == "missing")
    frame = test_set.head(2)[[ID, *card.feature_names]].copy()
    frame["dti"] = [float("inf"), float("-inf")]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    assert run_sql(sqllib.to_sql(card), table)["points_dti"] == [ranges[-1]["points"], ranges[0]["points"]]
    assert run_sql(sqllib.to_sql(card, "ansi"), table)["points_dti"] == [missing["points"], ranges[0]["points"]]
    with pytest.raises(CardError, match="finite"):
        card.apply(frame)


# -- names that need quoting ----------------------------------------------------------------
def renamed_card(card: cardlib.Card) -> tuple[dict, dict]:
    """The card with awkward feature names (space, reserved word, quotes, capitals) and a
    category holding a quote and a backslash."""
    needs(card, "term", "dti", "purpose", "revol_util")
    document = copy.deepcopy(card.document)
    renames = {"term": "Loan Term", "dti": "select", "purpose": 'purpose "of" it`s', "revol_util": "order"}
    for feature in document["features"]:
        feature["name"] = renames.get(feature["name"], feature["name"])
        if feature["name"] == renames["purpose"]:
            feature["bins"][0]["categories"].append("o'neil \\ co")
            feature["reason_text"] = "Purpose's \\ text"
    cardlib.validate(document)
    return document, renames


def test_awkward_names_are_quoted_and_run(card, test_set):
    document, renames = renamed_card(card)
    frame = test_set.sample(500, random_state=2)[[ID, *card.feature_names]].rename(columns=renames)
    frame = frame.rename(columns={ID: 'Applicant "ID"'})
    frame.iloc[0, frame.columns.get_loc(renames["purpose"])] = "o'neil \\ co"
    text = sqllib.to_sql(document, table="my applicants", id_column='Applicant "ID"')
    assert '"Loan Term"' in text and '"select"' in text and '"order"' in text
    assert '"purpose ""of"" it`s"' in text and 'FROM "my applicants"' in text
    assert "'o''neil \\ co'" in text
    got = run_sql(text, frame, name="my applicants", id_column='Applicant "ID"')
    want = python_result(cardlib.Card(document), frame, id_column='Applicant "ID"')
    assert_same(got, want, id_column='Applicant "ID"')
    row = got['Applicant "ID"'].index(frame['Applicant "ID"'].iloc[0])
    purpose = next(f for f in document["features"] if f["name"] == renames["purpose"])
    assert got[f"points_{renames['purpose']}"][row] == purpose["bins"][0]["points"]


def test_qualified_table_name(card, test_set):
    text = sqllib.to_sql(card, table=("main", "Applicants 2011"))
    assert 'FROM main."Applicants 2011"' in text
    con = duckdb.connect()
    con.register("frame", test_set.head(50))
    con.execute('CREATE TABLE "Applicants 2011" AS SELECT * FROM frame')
    assert len(con.sql(text).fetchall()) == 50


# -- 3. ANSI --------------------------------------------------------------------------------
def test_ansi_uses_no_engine_specific_function(card):
    text = tokens(sqllib.to_sql(card, "ansi"), "ansi")
    for word in ("isnan", "typeof", "try_cast", "string", "greatest_ignore_nulls", "list_"):
        assert not re.search(rf"\b{word}\b", text, re.IGNORECASE), word
    for symbol in ("::", "`", "//"):
        assert symbol not in text, symbol
    assert "DOUBLE PRECISION" in text and "VARCHAR(" in text and "<> value_dti" in text


def test_command_line_prints_the_statement(card, root):
    result = subprocess.run([sys.executable, "-m", "scorecard.apply.sql", "--dialect", "ansi"], cwd=root,
                            capture_output=True, text=True, check=True)
    assert result.stdout == sqllib.to_sql(card, "ansi")
    bad = subprocess.run([sys.executable, "-m", "scorecard.apply.sql", "--dialect", "oracle"], cwd=root,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


# -- 4. Spark ---------------------------------------------------------------------------------
SPARK_FUNCTIONS = {"cast", "try_cast", "typeof", "isnan", "abs", "floor", "coalesce", "greatest", "mod", "substring"}
SQL_WORDS = {"as", "in", "and", "or", "not", "then", "else", "when", "from", "select", "over"}


def spark_checks(text: str) -> None:
    assert text.count("`") % 2 == 0
    bare = tokens(text, "spark")
    assert '"' not in bare and "`" not in bare, "Spark quotes identifiers with backticks, never double quotes"
    depth = 0
    for char in bare:
        depth += {"(": 1, ")": -1}.get(char, 0)
        assert depth >= 0, "unbalanced parentheses"
    assert depth == 0, "unbalanced parentheses"
    calls = {m.lower() for m in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", bare)}
    ctes = {name.lower() for name in re.findall(r"(sc_[a-z0-9_]+) AS \(", bare)}
    unknown = calls - SPARK_FUNCTIONS - SQL_WORDS - ctes
    assert not unknown, f"functions Spark may not have: {unknown}"
    for word in ("TRY_CAST(", "VARCHAR", "::", "DOUBLE PRECISION", "//", "list_", "regexp_matches", "strftime"):
        assert word not in bare, word
    assert re.search(r"\bWITH\b", bare) and bare.strip().startswith("WITH")


def test_spark_statement_is_well_formed(card):
    spark_checks(sqllib.to_sql(card, "spark"))


def test_spark_quotes_and_escapes(card):
    document, _ = renamed_card(card)
    text = sqllib.to_sql(document, "spark", table="my applicants", id_column="Applicant ID")
    spark_checks(text)
    assert "`Loan Term`" in text and "`select`" in text and '`purpose "of" it``s`' in text
    assert "FROM `my applicants`" in text and "`Applicant ID`" in text
    # Spark reads backslash escapes in string literals; '' would be two adjacent literals
    assert r"'o\'neil \\ co'" in text and r"'Purpose\'s \\ text'" in text


def test_spark_statement_parses_with_sqlglot(card):
    sqlglot = pytest.importorskip("sqlglot", reason="sqlglot is not installed (optional parser check)")
    document, _ = renamed_card(card)
    for source in (card, document):
        tree = sqlglot.parse_one(sqllib.to_sql(source, "spark", id_column="Applicant ID"), read="spark")
        assert isinstance(tree, sqlglot.exp.Select)
        assert not list(tree.find_all(sqlglot.exp.Anonymous)), "a function sqlglot does not know for Spark"
        names = [e.alias_or_name for e in tree.expressions]
        assert names[:2] == ["Applicant ID", "score"] and names[-1] == cardlib.UNSEEN_FLAG


# -- 5. bad input -------------------------------------------------------------------------------
def test_unknown_dialect_names_the_allowed_ones(card):
    with pytest.raises(ValueError, match="unknown SQL dialect 'oracle'; choose one of duckdb, spark, ansi"):
        sqllib.to_sql(card, "oracle")


def test_card_failing_its_schema_or_rules_is_refused(card):
    broken = copy.deepcopy(card.document)
    del broken["features"][0]["bins"][0]["points"]
    with pytest.raises(CardError, match="invalid scorecard: features/0/bins/0"):
        sqllib.to_sql(broken)
    overlapping = copy.deepcopy(card.document)
    feature = next(f for f in overlapping["features"] if f["type"] == "numeric")
    next(b for b in feature["bins"] if b["kind"] == "range")["upper_inclusive"] = True
    with pytest.raises(CardError, match="must belong to exactly one of bins"):
        sqllib.to_sql(overlapping)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"table": ""}, "table must be a non-empty string"),
        ({"table": ()}, "table must name a table"),
        ({"id_column": ""}, "id_column must be a non-empty string"),
        ({"id_column": "score"}, "clashes with a column"),
        ({"id_column": "points_dti"}, "clashes with a column"),
        ({"table": "sc_input"}, "clashes with a CTE name"),
        ({"n_reasons": -1}, "n_reasons must be a whole number"),
        ({"n_reasons": True}, "n_reasons must be a whole number"),
        ({"n_reasons": 2.0}, "n_reasons must be a whole number"),
    ],
)
def test_bad_parameters_are_refused_up_front(card, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sqllib.to_sql(card, **kwargs)


def test_card_dict_card_object_and_path_give_the_same_statement(card, root):
    text = sqllib.to_sql(card)
    assert sqllib.to_sql(card.document) == text == sqllib.to_sql(root / "scorecard/scorecard.json")
    assert text.startswith(f"-- Scorecard: {card.document['name']}\n-- model_version {card.version}")
    with pytest.raises(TypeError):
        sqllib.to_sql(42)


def test_every_bin_has_its_own_line_and_every_feature_a_comment(card):
    text = sqllib.to_sql(card)
    for feature in card.features:
        assert f"-- {feature['name']} ({feature['type']};" in text
        for b in feature["bins"]:
            if b["kind"] != "special" or feature["type"] == "numeric":
                assert re.search(rf"THEN {b['points']}  -- bin {b['id']}\b", text), (feature["name"], b["id"])
        for b in feature["bins"]:
            for side in ("lower", "upper"):
                if b.get(side) is not None:
                    assert repr(float(b[side])) in text


# -- 6. the compact DuckDB statement (what `scorecard score` runs) -----------------------------
@pytest.fixture(params=["packed", "keys"])
def compact_mode(request, monkeypatch):
    """The compact statement packs the reasons into a bit mask; a card needing more bits than
    MASK_BITS ranks them with keys instead. Both ways are checked on this card."""
    if request.param == "keys":
        monkeypatch.setattr(sqllib, "MASK_BITS", 0)
    return request.param


def compact(card, **kwargs) -> str:
    return sqllib.to_sql(card, "duckdb", compact=True, **kwargs)


def test_compact_scores_the_real_test_set_exactly(card, test_set, compact_mode):
    text = compact(card)
    assert ("packed in a" in text) == (compact_mode == "packed")
    got = run_sql(text, test_set)
    assert len(got[ID]) == len(test_set)
    assert_same(got, python_result(card, test_set))


@pytest.mark.parametrize("term_type", list(TERMS))
def test_compact_agrees_on_edges_nulls_nan_specials_and_unseen(card, test_set, term_type, compact_mode):
    needs(card, "term", "dti")
    columns = constructed(card, test_set.sample(300, random_state=0))
    arrow_type, pandas_dtype, convert = TERMS[term_type]
    if term_type != "text":
        keep = [i for i, v in enumerate(columns["term"]) if v is None or re.fullmatch(r"\d+", v)]
        columns = {name: [values[i] for i in keep] for name, values in columns.items()}
        columns["term"] = [None if v is None else convert(v) for v in columns["term"]]
        first = max(columns[ID]) + 1
        template = {name: values[0] for name, values in columns.items()}
        for i, value in enumerate(TERM_EXTRAS[term_type]):
            for name in columns:
                columns[name].append(first + i if name == ID else value if name == "term" else template[name])
    got = run_sql(compact(card), arrow_table(columns, card, arrow_type))
    want = python_result(card, python_frame(columns, card, pandas_dtype))
    assert_same(got, want)
    assert "" in want[cardlib.UNSEEN_FLAG] and any(want[cardlib.UNSEEN_FLAG])


@pytest.mark.parametrize("n_reasons", [0, 1, 2, 12, 14])
def test_compact_any_number_of_reasons(card, test_set, n_reasons, compact_mode):
    sample = test_set.sample(2000, random_state=1)
    frame = sample.copy()
    frame.iloc[:40, frame.columns.get_loc("purpose")] = "space_travel"   # unseen: scored, flagged
    frame.iloc[20:60, frame.columns.get_loc("term")] = "48"
    got = run_sql(compact(card, n_reasons=n_reasons), frame)
    assert_same(got, python_result(card, frame, n_reasons))


def test_reason_texts_can_be_left_out(card, test_set):
    sample = test_set.sample(500, random_state=3)
    want = python_result(card, sample, 3)
    want = {k: v for k, v in want.items() if not k.endswith("_text")}
    for text in (sqllib.to_sql(card, n_reasons=3, reason_texts=False), compact(card, n_reasons=3, reason_texts=False)):
        got = run_sql(text, sample)
        assert "reason_1" in got and "reason_1_text" not in got
        assert_same(got, want)


def test_compact_infinity_falls_in_the_unbounded_bins(card, test_set):
    needs(card, "dti")
    feature = card.features[card.feature_names.index("dti")]
    ranges = [b for b in feature["bins"] if b["kind"] == "range"]
    frame = test_set.head(2)[[ID, *card.feature_names]].copy()
    frame["dti"] = [float("inf"), float("-inf")]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    assert run_sql(compact(card), table)["points_dti"] == [ranges[-1]["points"], ranges[0]["points"]]


def right_closed(card: cardlib.Card) -> dict:
    """The card with every numeric range closed on the right: (a, b] instead of [a, b)."""
    document = copy.deepcopy(card.document)
    for feature in document["features"]:
        for b in feature["bins"]:
            if b["kind"] == "range":
                b["lower_inclusive"] = b["lower_inclusive"] and b["lower"] is None
                b["upper_inclusive"] = b["upper"] is not None
    return document


@pytest.mark.parametrize("closed", ["left", "right"])
def test_compact_tests_each_edge_once_and_agrees_on_both_closings(card, test_set, closed, compact_mode):
    document = card.document if closed == "left" else right_closed(card)
    variant = cardlib.Card(document)
    text = compact(variant)
    for feature in variant.features:
        if feature["type"] != "numeric":
            continue
        x = f"value_{feature['name']}"
        edges = [b["upper"] for b in feature["bins"] if b["kind"] == "range" and b["upper"] is not None]
        # a range's lower edge is implied by the WHEN before it: one comparison per edge
        assert len(re.findall(rf"WHEN {x} (?:<|<=|>|>=) [0-9]", text)) == len(edges), feature["name"]
    columns = constructed(variant, test_set.sample(300, random_state=4))
    got = run_sql(text, arrow_table(columns, variant))
    assert_same(got, python_result(variant, python_frame(columns, variant)))


def test_compact_awkward_names(card, test_set, compact_mode):
    document, renames = renamed_card(card)
    frame = test_set.sample(500, random_state=2)[[ID, *card.feature_names]].rename(columns=renames)
    frame = frame.rename(columns={ID: 'Applicant "ID"'})
    frame.iloc[0, frame.columns.get_loc(renames["purpose"])] = "o'neil \\ co"
    frame.iloc[1, frame.columns.get_loc(renames["purpose"])] = "not a purpose"
    text = compact(document, table="my applicants", id_column='Applicant "ID"')
    got = run_sql(text, frame, name="my applicants", id_column='Applicant "ID"')
    want = python_result(cardlib.Card(document), frame, id_column='Applicant "ID"')
    assert_same(got, want, id_column='Applicant "ID"')


def test_compact_text_columns_are_enums_read_back_as_text(card, test_set, tmp_path, monkeypatch):
    """ENUM columns cost a small integer per row; Parquet and pandas see plain strings."""
    sample = test_set.head(300).copy()
    sample.loc[sample.index[0], "purpose"] = "space_travel"
    con = duckdb.connect()
    con.register("applicants", sample)
    types = {row[0]: row[1] for row in con.sql(f"DESCRIBE ({compact(card, n_reasons=2)})").fetchall()}
    assert types == {**types, **sqllib.compact_types(card, 2)}
    assert types["reason_1"].startswith("ENUM(") and types[cardlib.UNSEEN_FLAG].startswith("ENUM(")
    path = tmp_path / "scores.parquet"
    con.execute(f"COPY ({compact(card, n_reasons=2)}) TO '{path}' (FORMAT parquet)")
    written = pd.read_parquet(path)
    assert pd.api.types.is_string_dtype(written["reason_1"]) and pd.api.types.is_string_dtype(written[cardlib.UNSEEN_FLAG])
    assert "purpose" in written[cardlib.UNSEEN_FLAG].tolist()
    # more categorical features than FLAG_ENUM_FEATURES: the flag is built as text
    monkeypatch.setattr(sqllib, "FLAG_ENUM_FEATURES", 1)
    assert sqllib.compact_types(card, 2)[cardlib.UNSEEN_FLAG] == "VARCHAR"
    assert_same(run_sql(compact(card, n_reasons=2), sample), python_result(card, sample, 2))


def test_compact_is_duckdb_only(card):
    for dialect in ("spark", "ansi"):
        with pytest.raises(ValueError, match="compact statement is DuckDB SQL"):
            sqllib.to_sql(card, dialect, compact=True)
