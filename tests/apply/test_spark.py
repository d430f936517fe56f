"""The Spark engine (scorecard.apply.spark, `scorecard score --engine spark`) and the card's Spark SQL
run by Spark: the statement gives exactly what Card.apply gives on every row of the real test
set and on the rows tests/apply/test_sql.py builds on every edge, NULL, NaN, special value and unseen
category; the engine writes what the DuckDB engine writes, rejects included; a missing Java
stops it with one line saying what to install.

One local Spark session serves the whole module (starting one takes a while); the engine
borrows it, as it borrows any session already running in the process. One test starts the
command in a fresh process, as a user does."""

from __future__ import annotations

import dataclasses

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import project_env
from test_cli import as_text, bad_input, cli, columns_of, expected, one_red_line, read_output, score
from test_sql import (ID, TERMS, arrow_table, assert_same, edge_rows, needs, python_frame, python_result,
                      renamed_card)

from scorecard.apply import batch
from scorecard import card as cardlib
from scorecard.apply import spark as sparklib
from scorecard.apply import sql as sqllib
from scorecard.apply.batch import BatchError

pytest.importorskip("pyspark")
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")



def run_spark(spark, text: str, table: pa.Table, folder: Path, name: str = "applicants",
              id_column: str = ID) -> dict[str, list]:
    """Run a statement on Spark over ``table`` (written to Parquet, which keeps NaN apart from
    NULL and every column's type); columns by name, rows by id."""
    path = folder / f"{abs(hash(name))}.parquet"
    pq.write_table(table, path)
    spark.read.parquet(str(path)).createOrReplaceTempView(sparklib._q(name))
    try:
        result = spark.sql(text).toArrow()
    finally:
        spark.catalog.dropTempView(name)
    columns = result.to_pydict()
    order = sorted(range(result.num_rows), key=lambda i: columns[id_column][i])
    return {column: [values[i] for i in order] for column, values in columns.items()}


# -- 1. the card's Spark SQL, run by Spark ------------------------------------------------------
def test_spark_sql_scores_the_real_test_set_exactly(spark, card, test_set, tmp_path):
    assert len(test_set) == 21_721
    table = pa.Table.from_pandas(test_set[[ID, *card.feature_names]], preserve_index=False)
    got = run_spark(spark, sqllib.to_sql(card, "spark"), table, tmp_path)
    assert len(got[ID]) == 21_721
    assert_same(got, python_result(card, test_set))


@pytest.mark.parametrize("term_type", list(TERMS))
def test_spark_sql_agrees_on_edges_nulls_nan_specials_and_unseen(spark, card, test_set, tmp_path, term_type):
    """test_sql's constructed rows: NULL in every feature, every edge and the doubles either
    side of it, special values, +-0, extremes, NaN, unseen and near-miss categories; the term
    column as text, bigint, double and float."""
    needs(card, "term", "dti")
    columns = edge_rows(card, test_set, term_type)
    arrow_type, pandas_dtype, _ = TERMS[term_type]
    got = run_spark(spark, sqllib.to_sql(card, "spark"), arrow_table(columns, card, arrow_type), tmp_path)
    want = python_result(card, python_frame(columns, card, pandas_dtype))
    assert_same(got, want)
    assert "" in want[cardlib.UNSEEN_FLAG] and any(want[cardlib.UNSEEN_FLAG])


def test_spark_sql_quotes_awkward_names(spark, card, test_set, tmp_path):
    """Backticks around names with spaces, reserved words, quotes and backticks; a category
    holding a quote and a backslash; two reasons."""
    document, renames = renamed_card(card)
    frame = test_set.sample(500, random_state=2)[[ID, *card.feature_names]].rename(columns=renames)
    frame = frame.rename(columns={ID: "Applicant ID"})
    frame.iloc[0, frame.columns.get_loc(renames["purpose"])] = "o'neil \\ co"
    text = sqllib.to_sql(document, "spark", table="my applicants", id_column="Applicant ID", n_reasons=2)
    got = run_spark(spark, text, pa.Table.from_pandas(frame, preserve_index=False), tmp_path,
                    name="my applicants", id_column="Applicant ID")
    want = python_result(cardlib.Card(document), frame, n_reasons=2, id_column="Applicant ID")
    assert_same(got, want, id_column="Applicant ID")


# -- 2. the engine = the DuckDB engine ------------------------------------------------------------
def score_both(source: Path, folder: Path, suffix: str, *options: str) -> dict[str, object]:
    results = {}
    for engine in ("duckdb", "spark"):
        out = folder / f"{engine}.{suffix}"
        results[engine] = (out, score(source, "-o", out, "--engine", engine, *options))
    return results


def test_the_engine_rejects_and_scores_as_duckdb_does(spark, card, test_set, tmp_path):
    """Bad ids, text in numeric columns, an overflowing number: same rejects (line, reason),
    same scores, same summary data, same bytes. The summaries are compared as data, not as
    the terminal layout (which wraps a path where the terminal's width and the folder's
    length say)."""
    source, planted = bad_input(test_set, tmp_path)
    results = {engine: batch.score_file(source, tmp_path / f"{engine}.csv", engine=engine)
               for engine in ("duckdb", "spark")}
    duck, spark_out = tmp_path / "duckdb.csv", tmp_path / "spark.csv"
    assert spark_out.read_bytes() == duck.read_bytes()
    rejects = tmp_path / "spark.rejects.csv"
    assert rejects.read_bytes() == (tmp_path / "duckdb.rejects.csv").read_bytes()
    assert read_output(rejects)["line"].astype(int).tolist() == [i + 2 for i in sorted(planted)]
    summary = {engine: {k: v for k, v in dataclasses.asdict(r).items()
                        if k not in ("engine", "seconds", "steps", "output", "rejects")}
               for engine, r in results.items()}
    assert summary["spark"] == summary["duckdb"]
    assert (summary["spark"]["rows_in"], summary["spark"]["rows_scored"], summary["spark"]["rows_rejected"]) == (
        500, 500 - len(planted), len(planted))
    good = test_set.head(500).drop(index=sorted(planted))
    assert as_text(read_output(spark_out)) == as_text(expected(card, good))


def test_csv_details_are_read_as_duckdb_reads_them(spark, test_set, tmp_path):
    """A byte-order mark, CRLF line ends, a blank line, a line break inside quotes, a quoted
    empty cell, numbers with spaces and signs, not-numbers, overflow, a blank id, an id on 8
    rows, long and non-ASCII values, a header with a case twin of a feature: same files."""
    frame = test_set.head(40).map(lambda v: "" if pd.isna(v) else str(v))
    frame["DTI"] = "9"  # not a card column: read as another column, never as dti
    edits = {0: '""', 1: '" 12 "', 2: "1.", 3: ".5", 4: "+3e1", 5: "1_000", 6: "inf", 7: "NaN", 8: "1e400",
             9: "-1e400", 11: '"' + "x" * 60 + '"', 22: '"é€😀' + "y" * 45 + '"'}
    lines = []
    for i, row in enumerate(frame.to_dict("records")):
        row["dti"] = edits.get(i, row["dti"])
        row[ID] = '"  "' if i == 10 else "777" if 13 <= i <= 20 else row[ID]
        row["issue_d"] = '"multi\nline"' if i == 21 else row["issue_d"]
        lines.append(",".join(row.values()) + ("\r\n" if i == 24 else ""))
    source = tmp_path / "applicants.csv"
    source.write_text("\ufeff" + ",".join(frame.columns) + "\r\n" + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    for engine in ("duckdb", "spark"):
        batch.score_file(source, tmp_path / f"{engine}.csv", engine=engine)
    assert (tmp_path / "spark.csv").read_bytes() == (tmp_path / "duckdb.csv").read_bytes()
    rejects = (tmp_path / "spark.rejects.csv").read_text()
    assert rejects == (tmp_path / "duckdb.rejects.csv").read_text()
    assert "8 rows share it (lines 15, 16, 17, 18, 19 and 3 more)" in rejects and "the id is empty" in rejects
    assert "got 'é€😀yyy" in rejects and "expected a finite number, got '-1e400'" in rejects


def test_parquet_types_unseen_categories_and_parquet_output(spark, card, test_set, tmp_path):
    """A numeric feature stored as text, infinity and NaN in float columns, the term as
    integers with an unseen value, an unseen purpose; Parquet out: same values and types."""
    frame = test_set.head(300).copy()
    frame["dti"] = frame["dti"].map(lambda v: None if pd.isna(v) else repr(v)).astype(object)
    frame.loc[5, "dti"] = "twelve"
    frame.loc[9, "revol_util"] = float("inf")
    frame.loc[11, "total_acc"] = float("nan")
    frame["term"] = frame["term"].astype("int64")
    frame.loc[7, "term"] = 48
    frame.loc[8, "purpose"] = "space_travel"
    source = tmp_path / "applicants.parquet"
    frame.to_parquet(source, index=False)
    results = score_both(source, tmp_path, "parquet", "--reasons", "2")
    got, want = read_output(results["spark"][0]), read_output(results["duckdb"][0])
    assert list(got.dtypes) == list(want.dtypes)
    assert columns_of(got) == columns_of(want)
    assert got[cardlib.UNSEEN_FLAG].tolist().count("term") == 1
    rejects = read_output(tmp_path / "spark.rejects.parquet")
    assert rejects["line"].tolist() == [6, 10], "Parquet rows count from 1"
    assert columns_of(rejects) == columns_of(read_output(tmp_path / "duckdb.rejects.parquet"))
    assert "300 = 298 + 2" in results["spark"][1].stdout


def test_the_python_api(spark, test_set, tmp_path):
    source = tmp_path / "applicants.csv.gz"
    test_set.head(200).to_csv(source, index=False, compression="gzip")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    result = batch.score_file(source, tmp_path / "scores.csv", engine="spark")
    reference = batch.score_file(source, tmp_path / "reference.csv")
    assert result.engine == "spark" and result.published and result.balanced
    assert (result.rows_in, result.rows_scored, result.score) == (200, 200, reference.score)
    assert (tmp_path / "scores.csv").read_bytes() == (tmp_path / "reference.csv").read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no temporary file left"
    assert spark.conf.get("spark.sql.session.timeZone") == "America/New_York", "a borrowed session keeps its settings"
    spark.conf.set("spark.sql.session.timeZone", "UTC")


def test_a_malformed_csv_stops_with_its_line(spark, test_set, tmp_path):
    source = tmp_path / "applicants.csv"
    test_set.head(20).to_csv(source, index=False)
    lines = source.read_text().splitlines()
    lines[5] += ",extra"
    source.write_text("\n".join(lines) + "\n")
    message = one_red_line(score(source, "-o", tmp_path / "o.csv", "--engine", "spark", code=2))
    assert "line 6 has 29 fields, the header has 28" in message
    assert not (tmp_path / "o.csv").exists()


# -- 3. options and the environment ---------------------------------------------------------------
def test_master_is_only_for_the_spark_engine(tmp_path, test_set):
    source = tmp_path / "a.csv"
    test_set.head(5).to_csv(source, index=False)
    message = one_red_line(score(source, "-o", tmp_path / "o.csv", "--master", "local[1]", code=2))
    assert "--master local[1] is only for --engine spark" in message
    with pytest.raises(BatchError, match="applies only to the spark engine"):
        batch.score_file(source, tmp_path / "o.csv", engine="python", master="local[1]")
    help_text = cli("score", "--help", columns=120).stdout
    assert "--master" in help_text and "spark://" in help_text and "SPARK_REMOTE" in help_text


def test_spark_connect_without_its_packages_says_which(monkeypatch, tmp_path, test_set):
    missing = sparklib._connect_missing()
    if not missing:
        pytest.skip("the Spark Connect client packages are installed")
    monkeypatch.setenv("SPARK_REMOTE", "sc://127.0.0.1:15002")
    source = tmp_path / "a.csv"
    test_set.head(5).to_csv(source, index=False)
    message = one_red_line(score(source, "-o", tmp_path / "o.csv", "--engine", "spark", code=2))
    assert "Spark Connect" in message and all(package in message for package in missing)
    assert "pyspark[connect]" in message
    message = one_red_line(score(source, "-o", tmp_path / "o.csv", "--engine", "spark", "--master", "local[1]",
                                 code=2))
    assert "not both" in message


def fake_java(folder: Path, version: str) -> Path:
    """A JAVA_HOME whose bin/java reports ``version``."""
    java = folder / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f'#!/bin/sh\necho \'openjdk version "{version}" 2025-09-16\' >&2\n')
    java.chmod(0o755)
    return folder


def test_find_java(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(fake_java(tmp_path / "jdk25", "25.0.1")))
    with pytest.raises(BatchError, match=r"is Java 25, which Spark \S+ does not support: it needs Java 17 or 21"):
        sparklib.find_java()
    monkeypatch.setenv("JAVA_HOME", str(fake_java(tmp_path / "jdk21", "21.0.8")))
    assert sparklib.find_java().major == 21
    # nothing set: the set-up's .java-home, then PATH, then /usr/lib/jvm
    monkeypatch.delenv("JAVA_HOME")
    monkeypatch.setattr(sparklib, "java_home_file", lambda: tmp_path / "java-home")
    (tmp_path / "java-home").write_text(str(tmp_path / "jdk21") + "\n")
    found = sparklib.find_java()
    assert (found.major, found.home, found.source) == (21, tmp_path / "jdk21", str(tmp_path / "java-home"))
    (tmp_path / "java-home").unlink()
    monkeypatch.setenv("PATH", str(tmp_path / "jdk25" / "bin"))
    monkeypatch.setattr(sparklib, "JVM_FOLDER", tmp_path / "jvm")
    with pytest.raises(BatchError, match="found only Java 25 at .*openjdk-21-jre-headless"):
        sparklib.find_java()
    fake_java(tmp_path / "jvm" / "java-17-openjdk-amd64", "17.0.15")
    assert sparklib.find_java().home == tmp_path / "jvm" / "java-17-openjdk-amd64"


def test_without_java_the_command_says_what_to_install(tmp_path, test_set, root):
    """A fresh process, as a user runs it, with JAVA_HOME pointing nowhere: one line, no traceback."""
    source = tmp_path / "a.csv"
    test_set.head(5).to_csv(source, index=False)
    env = {**project_env(), "JAVA_HOME": str(tmp_path / "no-such-jdk")}
    env.pop("SPARK_REMOTE", None)
    run = subprocess.run([sys.executable, "-m", "scorecard.cli", "score", str(source), "-o", str(tmp_path / "o.csv"),
                          "--engine", "spark"], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    message = " ".join(run.stderr.split())
    assert f"JAVA_HOME={tmp_path / 'no-such-jdk'} holds no working bin/java" in message
    assert "openjdk-21-jre-headless" in message and "scripts/setup.sh" in message
    assert not (tmp_path / "o.csv").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


def test_the_command_starts_and_stops_its_own_session(tmp_path, test_set, root):
    """`python -m scorecard.cli score --engine spark` in a fresh process: Spark starts on this
    machine, nothing but the summary is printed, the files equal the DuckDB engine's."""
    source = tmp_path / "applicants.csv"
    test_set.head(300).to_csv(source, index=False)
    env = project_env()
    env.pop("SPARK_REMOTE", None)
    env["JAVA_TOOL_OPTIONS"] = "-XX:TieredStopAtLevel=1"  # as TEST_JVM: a faster start
    out = tmp_path / "scores.csv"
    run = subprocess.run([sys.executable, "-m", "scorecard.cli", "score", str(source), "-o", str(out),
                          "--engine", "spark", "--threads", "2"], cwd=root, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stderr == "", "no Spark or JVM output on the terminal"
    assert "Scoring summary" in run.stdout and "300 = 300 + 0" in run.stdout and "spark" in run.stdout
    batch.score_file(source, tmp_path / "reference.csv")
    assert out.read_bytes() == (tmp_path / "reference.csv").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["applicants.csv", "reference.csv", "reference.rejects.csv",
                                                          "scores.csv", "scores.rejects.csv"]

