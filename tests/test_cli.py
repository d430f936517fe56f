"""The batch command line (scorecard.cli, scorecard.apply.batch): both engines give Card.apply's
columns on the real test set; bad rows are rejected with reasons and counted; missing columns,
empty files and bad cards stop with one clear line; output is atomic and reproducible; unseen
categories are scored, flagged and counted; `sql` and `validate-card` work."""

from __future__ import annotations

import copy
import json
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from conftest import plain
from typer.testing import CliRunner

from scorecard.apply import batch, duckdb_engine
from scorecard import card as cardlib
from scorecard.apply import sql as sqllib
from scorecard.cli import app

ID = "applicant_id"
ENGINES = ("duckdb", "python")


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def test_files(test_set, tmp_path_factory) -> dict[str, object]:
    """The test set as CSV, gzipped CSV and Parquet (every column, so extra columns too)."""
    folder = tmp_path_factory.mktemp("inputs")
    files = {"csv": folder / "test.csv", "csv.gz": folder / "test.csv.gz", "parquet": folder / "test.parquet"}
    test_set.to_csv(files["csv"], index=False)
    test_set.to_csv(files["csv.gz"], index=False, compression={"method": "gzip", "mtime": 0})
    test_set.to_parquet(files["parquet"], index=False)
    return files


def cli(*args: str, columns: int | None = None):
    """Run the command in-process; stdout and stderr apart. ``columns``: the terminal's width
    for this run (help panels truncate option names in a narrow terminal)."""
    result = CliRunner().invoke(app, [str(a) for a in args], env=None if columns is None else {"COLUMNS": str(columns)})
    assert "Traceback" not in result.output, result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def score(*args: str, code: int = 0):
    result = cli("score", *args)
    assert result.exit_code == code, f"exit {result.exit_code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


# -- helpers ----------------------------------------------------------------------------------
def columns_of(frame: pd.DataFrame) -> dict[str, list]:
    return {c: [plain(v) for v in frame[c].tolist()] for c in frame.columns}


def expected(card: cardlib.Card, frame: pd.DataFrame, n_reasons: int = 4) -> pd.DataFrame:
    """The reference: Card.apply on the frame, with the id first."""
    applied = card.apply(frame.reset_index(drop=True), n_reasons)
    applied.insert(0, ID, frame[ID].to_numpy())
    return applied


def read_output(path) -> pd.DataFrame:
    if str(path).endswith(".parquet"):
        return pd.read_parquet(path)
    # Only empty cells are missing; keep everything else as written.
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def as_text(frame: pd.DataFrame) -> dict[str, list]:
    """Columns as the text a CSV holds: missing and '' both read as None."""
    out = {}
    for column in frame.columns:
        values = []
        for v in frame[column].tolist():
            v = plain(v)
            values.append(None if v is None or v == "" else str(v))
        out[column] = values
    return out


def assert_same_columns(got: dict[str, list], want: dict[str, list]) -> None:
    assert list(got) == list(want), "columns differ (names or order)"
    for column in want:
        if got[column] != want[column]:
            bad = [i for i, (a, b) in enumerate(zip(got[column], want[column])) if a != b]
            rows = [(got[ID][i], got[column][i], want[column][i]) for i in bad[:5]]
            raise AssertionError(f"column {column}: {len(bad)} rows differ, e.g. (id, got, want) {rows}")


def rejects_of(path) -> pd.DataFrame:
    return read_output(path)


# -- 1. both engines = Card.apply on the full test set ----------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet"])
def test_engines_agree_with_card_apply_on_the_test_set(card, test_set, test_files, tmp_path, fmt):
    assert len(test_set) == 21_721
    outputs = {}
    for engine in ENGINES:
        out = tmp_path / f"{engine}.{fmt}"
        result = score(test_files[fmt], "-o", out, "--engine", engine)
        assert f"{len(test_set):,} = {len(test_set):,} + 0" in result.stdout
        assert (tmp_path / f"{engine}.rejects.{fmt}").is_file(), "the rejects file is always written"
        outputs[engine] = out
    want = expected(card, test_set)
    if fmt == "parquet":
        got = {e: read_output(p) for e, p in outputs.items()}
        assert list(got["duckdb"].dtypes) == list(got["python"].dtypes)
        assert_same_columns(columns_of(got["duckdb"]), columns_of(got["python"]))
        assert_same_columns(columns_of(got["duckdb"]), columns_of(want))
        assert got["duckdb"]["score"].dtype == np.int64
    else:
        # One writer for both engines: the CSV files are the same bytes.
        assert outputs["duckdb"].read_bytes() == outputs["python"].read_bytes()
        assert_same_columns(as_text(read_output(outputs["duckdb"])), as_text(want))


def test_the_python_api_reports_what_the_files_hold(card, test_set, test_files, tmp_path):
    out = tmp_path / "scores.parquet"
    result = batch.score_file(test_files["parquet"], out)
    assert result.published and result.balanced
    assert (result.rows_in, result.rows_scored, result.rows_rejected) == (len(test_set), len(test_set), 0)
    scores = expected(card, test_set)["score"]
    assert result.score["min"] == scores.min() and result.score["max"] == scores.max()
    assert result.score["p50"] == pytest.approx(np.percentile(scores, 50))
    assert result.score["mean"] == pytest.approx(scores.mean())
    assert result.card_version == card.version
    assert set(result.extra_columns) == set(test_set.columns) - {ID, *card.feature_names}


# -- 2. bad rows are rejected with reasons; the good rows are scored -------------------------
def bad_input(test_set: pd.DataFrame, folder) -> tuple[object, dict[int, list[str]]]:
    """500 real rows as a CSV with problems planted; returns the file and, per 0-based row,
    the fragments its reason must hold."""
    path = folder / "applicants.csv"
    test_set.head(500).to_csv(path, index=False)
    text = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    planted = {}
    text.loc[3, "dti"] = "abc"
    planted[3] = ["column 'dti': expected a number, got 'abc'"]
    text.loc[20, "revol_util"] = "1e400"
    planted[20] = ["column 'revol_util': expected a finite number, got '1e400'"]
    shared = text.loc[40, ID]
    text.loc[41, ID] = shared
    planted[40] = planted[41] = [f"column 'applicant_id': id '{shared}' is not unique: 2 rows share it (lines 42, 43)"]
    text.loc[60, ID] = None
    planted[60] = ["column 'applicant_id': the id is empty"]
    text.loc[70, "dti"] = "NA"
    text.loc[70, "inq_last_6mths"] = "1,5"
    planted[70] = ["column 'dti': expected a number, got 'NA'", "column 'inq_last_6mths': expected a number, got '1,5'"]
    text.to_csv(path, index=False)
    return path, planted


@pytest.mark.parametrize("engine", ENGINES)
def test_bad_rows_go_to_the_rejects_file_with_reasons(card, test_set, tmp_path, engine):
    source, planted = bad_input(test_set, tmp_path)
    out = tmp_path / "scores.csv"
    result = score(source, "-o", out, "--engine", engine)

    rejects = rejects_of(tmp_path / "scores.rejects.csv")
    assert list(rejects.columns) == [ID, "line", "reason"]
    assert rejects["line"].astype(int).tolist() == [i + 2 for i in sorted(planted)], "line = row + 2 (header is 1)"
    for (_, row), index in zip(rejects.iterrows(), sorted(planted)):
        for fragment in planted[index]:
            assert fragment in row["reason"], (index, row["reason"])
    n_bad = len(planted)
    assert f"500 = {500 - n_bad:,} + {n_bad}" in result.stdout
    for kind in ("not a number in dti", "duplicate applicant_id", "empty applicant_id",
                 "not a finite number in revol_util", "not a number in inq_last_6mths"):
        assert kind in result.stdout

    # The good rows are scored, in input order, exactly as Card.apply scores them.
    good = test_set.head(500).drop(index=sorted(planted))
    assert_same_columns(as_text(read_output(out)), as_text(expected(card, good)))


def test_both_engines_write_the_same_rejects(test_set, tmp_path):
    source, _ = bad_input(test_set, tmp_path)
    for engine in ENGINES:
        score(source, "-o", tmp_path / f"{engine}.csv", "--engine", engine)
    for name in ("{}.csv", "{}.rejects.csv"):
        assert (tmp_path / name.format("duckdb")).read_bytes() == (tmp_path / name.format("python")).read_bytes()


@pytest.mark.parametrize("engine", ENGINES)
def test_parquet_types_are_checked_too(card, test_set, tmp_path, engine):
    """A numeric feature stored as text is read as in a CSV; infinity in a float column is rejected."""
    frame = test_set.head(300).copy()
    frame["dti"] = frame["dti"].map(lambda v: None if pd.isna(v) else repr(v)).astype(object)
    frame.loc[5, "dti"] = "twelve"
    frame.loc[9, "revol_util"] = np.inf
    frame.loc[11, "open_to_total_acc"] = np.nan  # NaN is missing, not rejected
    source = tmp_path / "applicants.parquet"
    frame.to_parquet(source, index=False)
    out = tmp_path / "scores.parquet"
    result = score(source, "-o", out, "--engine", engine, "--rejects", tmp_path / "bad_rows.csv")
    rejects = rejects_of(tmp_path / "bad_rows.csv")
    assert rejects["line"].astype(int).tolist() == [6, 10], "Parquet rows count from 1"
    assert rejects["reason"].tolist() == ["column 'dti': expected a number, got 'twelve'",
                                          "column 'revol_util': expected a finite number, got inf"]
    assert "300 = 298 + 2" in result.stdout
    good = test_set.head(300).drop(index=[5, 9]).copy()
    good.loc[11, "open_to_total_acc"] = np.nan
    assert_same_columns(columns_of(read_output(out)), columns_of(expected(card, good)))


def test_another_id_column_and_fewer_reasons(card, test_set, tmp_path):
    """An id column with a name that needs quoting, 2 reasons: both engines, same bytes."""
    frame = test_set.head(1000).rename(columns={ID: "Loan ID"})
    source = tmp_path / "applicants.csv"
    frame.to_csv(source, index=False)
    for engine in ENGINES:
        score(source, "-o", tmp_path / f"{engine}.csv", "--engine", engine, "--id-column", "Loan ID", "--reasons", "2")
    assert (tmp_path / "duckdb.csv").read_bytes() == (tmp_path / "python.csv").read_bytes()
    got = read_output(tmp_path / "duckdb.csv")
    assert got.columns[0] == "Loan ID" and "reason_2_text" in got.columns and "reason_3" not in got.columns
    want = expected(card, test_set.head(1000), n_reasons=2)
    assert_same_columns(as_text(got.rename(columns={"Loan ID": ID})), as_text(want))


@pytest.mark.parametrize("engine", ENGINES)
def test_parquet_categories_stored_as_numbers_or_dictionaries(card, test_set, tmp_path, engine):
    """A categorical feature stored as integers (term 36, 60) or as a pandas category reads as
    Card.apply reads it."""
    frame = test_set.head(2000).copy()
    frame["term"] = frame["term"].astype("int64")
    frame["purpose"] = frame["purpose"].astype("category")
    source = tmp_path / "applicants.parquet"
    frame.to_parquet(source, index=False)
    out = tmp_path / "scores.parquet"
    score(source, "-o", out, "--engine", engine)
    assert_same_columns(columns_of(read_output(out)), columns_of(expected(card, test_set.head(2000))))


# -- 3. clear errors: missing column, empty files, bad card -----------------------------------
def one_red_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    return lines[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_missing_required_column_stops_with_its_name(card, test_set, tmp_path, engine):
    source = tmp_path / "applicants.csv"
    test_set.head(50).drop(columns=["dti"]).to_csv(source, index=False)
    result = score(source, "-o", tmp_path / "out.csv", "--engine", engine, code=2)
    message = one_red_line(result)
    assert "missing required column(s) ['dti']" in message
    assert all(name in message for name in card.feature_names), "the message lists the card's columns"
    assert not (tmp_path / "out.csv").exists()

    test_set.head(50).drop(columns=[ID]).to_csv(source, index=False)
    message = one_red_line(score(source, "-o", tmp_path / "out.csv", "--engine", engine, code=2))
    assert "missing required column(s) ['applicant_id']" in message


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_and_header_only_files_stop_with_a_clear_message(test_set, tmp_path, engine):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "the file is empty" in one_red_line(score(empty, "-o", tmp_path / "o.csv", "--engine", engine, code=2))

    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(test_set.columns) + "\n")
    message = one_red_line(score(header_only, "-o", tmp_path / "o.csv", "--engine", engine, code=2))
    assert "has a header but no data rows" in message

    no_rows = tmp_path / "no_rows.parquet"
    test_set.head(0).to_parquet(no_rows, index=False)
    message = one_red_line(score(no_rows, "-o", tmp_path / "o.csv", "--engine", engine, code=2))
    assert "no rows" in message
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_malformed_csv_row_stops_with_its_line(test_set, tmp_path, engine):
    source = tmp_path / "applicants.csv"
    test_set.head(20).to_csv(source, index=False)
    lines = source.read_text().splitlines()
    lines[5] += ",extra"
    source.write_text("\n".join(lines) + "\n")
    message = one_red_line(score(source, "-o", tmp_path / "o.csv", "--engine", engine, code=2))
    assert "line 6" in message.lower().replace(":", "")


def broken_card(root, tmp_path) -> tuple:
    document = json.loads((root / "scorecard/scorecard.json").read_text())
    bad = copy.deepcopy(document)
    bad["scaling"]["base_points"] = "five hundred"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(bad))
    return path, "scaling/base_points: 'five hundred' is not of type 'integer'"


def test_a_card_that_fails_its_schema_stops_the_run(root, test_files, tmp_path):
    path, where = broken_card(root, tmp_path)
    message = one_red_line(score(test_files["csv"], "-o", tmp_path / "o.csv", "--card", path, code=2))
    assert "invalid scorecard" in message and where in message
    assert "not found" in one_red_line(score(test_files["csv"], "-o", tmp_path / "o.csv",
                                             "--card", tmp_path / "nope.json", code=2))
    assert not (tmp_path / "o.csv").exists()


def test_bad_paths_and_options_are_one_line_errors(test_files, tmp_path):
    assert "unsupported file type" in one_red_line(score(test_files["csv"], "-o", tmp_path / "o.xlsx", code=2))
    assert "file not found" in one_red_line(score(tmp_path / "nope.csv", "-o", tmp_path / "o.csv", code=2))
    assert "would overwrite" in one_red_line(score(test_files["csv"], "-o", test_files["csv"], code=2))
    assert "--engine" in score(test_files["csv"], "-o", tmp_path / "o.csv", "--engine", "oracle", code=2).output


# -- 4. atomic, reproducible output ------------------------------------------------------------
def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_failed_rename_leaves_no_output(test_files, tmp_path, monkeypatch, engine):
    def fail(moves):
        raise OSError(28, "No space left on device", str(moves[-1][1]))

    monkeypatch.setattr(batch, "_publish", fail)
    out = tmp_path / "scores.csv"
    message = one_red_line(score(test_files["csv"], "-o", out, "--engine", engine, code=2))
    assert "No space left on device" in message
    assert not out.exists() and not (tmp_path / "scores.rejects.csv").exists()
    assert leftovers(tmp_path) == [], "temporary files are removed"


def test_a_run_failing_after_writing_keeps_the_previous_output(test_files, tmp_path, monkeypatch):
    """The scores are fully written to the temporary file, then the run fails: the output's
    name never shows a partial file, and an earlier complete output is left as it was."""
    out = tmp_path / "scores.parquet"
    seen = {}

    def fail(con, plan, path, fmt):
        seen["part"] = path
        assert path.is_file() and path.stat().st_size > 0 and path.parent == out.parent
        raise batch.BatchError("simulated failure after the scores were written")

    monkeypatch.setattr(batch, "_summarise", fail)
    one_red_line(score(test_files["parquet"], "-o", out, code=2))
    assert not out.exists()
    assert not seen["part"].exists() and leftovers(tmp_path) == []

    out.write_bytes(b"the previous, complete output")
    one_red_line(score(test_files["parquet"], "-o", out, code=2))
    assert out.read_bytes() == b"the previous, complete output"


def test_a_query_failing_midway_leaves_no_output(test_files, tmp_path, monkeypatch):
    real = sqllib.to_sql

    def failing(*args, **kwargs):
        statement = real(*args, **kwargs)
        # error() raises inside DuckDB once row 10,000 is reached, in the middle of the scan.
        return (f"SELECT * FROM (\n{statement}\n) AS s "
                "WHERE CASE WHEN sc_key.line > 10000 THEN error('simulated crash') ELSE true END")

    monkeypatch.setattr(sqllib, "to_sql", failing)
    out = tmp_path / "scores.csv"
    message = one_red_line(score(test_files["csv"], "-o", out, code=2))
    assert "simulated crash" in message
    assert not out.exists() and leftovers(tmp_path) == []


@pytest.fixture(scope="module")
def big_input(test_set, tmp_path_factory):
    """The test set 20 times over (434,420 rows, unique ids): a run that lasts a few seconds."""
    frame = pd.concat([test_set] * 20, ignore_index=True)
    frame[ID] = np.arange(1, len(frame) + 1)
    path = tmp_path_factory.mktemp("big") / "applicants.parquet"
    frame.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["kill", "term", "ctrl-c"])
def test_a_run_stopped_halfway_leaves_no_output(big_input, tmp_path, how):
    """Stopped while the scores are being written: nothing appears under the output's name.
    SIGTERM and Ctrl-C also remove the temporary files and exit 130; after a kill -9 only a
    hidden temporary file is left."""
    out = tmp_path / "scores.csv"
    process = subprocess.Popen([sys.executable, "-m", "scorecard.cli", "score", str(big_input), "-o", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # the output's hidden part (created empty at the start) once scores are being written
        while process.poll() is None and not any(p.stat().st_size for p in tmp_path.glob(".scorecard-*-0.part")):
            time.sleep(0.005)
        if process.poll() is not None:
            pytest.skip("the run ended before it could be stopped")
        process.send_signal(how)
        _, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not out.exists() and not (tmp_path / "scores.rejects.csv").exists()
    if how == signal.SIGKILL:
        assert all(name.startswith(".scorecard-") for name in leftovers(tmp_path))
    else:
        assert process.returncode == 130, stderr
        assert "interrupted; no output was written" in stderr and "Traceback" not in stderr
        assert leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet"])
def test_two_runs_give_the_same_bytes(test_files, tmp_path, fmt):
    first, second = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
    score(test_files[fmt], "-o", first)
    score(test_files[fmt], "-o", second, "--threads", "1")
    assert first.read_bytes() == second.read_bytes()
    assert (tmp_path / f"a.rejects.{fmt}").read_bytes() == (tmp_path / f"b.rejects.{fmt}").read_bytes()
    ids = read_output(first)[ID].astype(str).tolist()
    assert ids == pd.read_parquet(test_files["parquet"])[ID].astype(str).tolist(), "rows in input order"


# -- 5. unseen categories: scored, flagged, counted -------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_an_unseen_category_is_scored_flagged_and_counted(card, test_set, tmp_path, engine):
    frame = test_set.head(100).copy()
    frame.loc[4, "purpose"] = "space_travel"
    frame.loc[7, "term"] = "48"
    frame.loc[7, "purpose"] = "time_machine"
    source = tmp_path / "applicants.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "scores.csv"
    result = score(source, "-o", out, "--engine", engine)
    scored = read_output(out)
    assert len(scored) == 100, "unseen categories are not rejected"
    flags = scored[cardlib.UNSEEN_FLAG].fillna("").tolist()
    assert flags[4] == "purpose" and flags[7] == "term,purpose"
    assert sum(1 for f in flags if f) == 2
    assert_same_columns(as_text(scored), as_text(expected(card, frame)))
    unseen_purpose = next(b for b in card.features if b["name"] == "purpose")
    unseen_bin = unseen_purpose["bins"][unseen_purpose["unseen"]["bin_id"]]
    assert int(scored.loc[4, "points_purpose"]) == unseen_bin["points"]
    summary = result.stdout
    assert re.search(r"\bterm\b\D+\b1\b", summary) and re.search(r"\bpurpose\b\D+\b2\b", summary), summary
    api = batch.score_file(source, tmp_path / "again.csv", engine=engine)
    assert {k: v for k, v in api.unseen_by_feature.items() if v} == {"term": 1, "purpose": 2}


# -- 5b. the fast paths give the same rows -------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_points_only_and_codes_without_texts(card, test_set, test_files, tmp_path, engine):
    """--reasons 0: score and points only; --no-reason-texts: the codes without their texts."""
    want = expected(card, test_set)
    out = tmp_path / "points.parquet"
    score(test_files["parquet"], "-o", out, "--engine", engine, "--reasons", "0")
    got = read_output(out)
    assert list(got.columns) == [ID, "score", *(f"points_{n}" for n in card.feature_names), cardlib.UNSEEN_FLAG]
    assert_same_columns(columns_of(got), columns_of(want[list(got.columns)]))
    out = tmp_path / "codes.parquet"
    score(test_files["parquet"], "-o", out, "--engine", engine, "--no-reason-texts")
    got = read_output(out)
    assert "reason_1" in got.columns and not any(c.endswith("_text") for c in got.columns)
    assert_same_columns(columns_of(got), columns_of(want[list(got.columns)]))


def parquet_with_problems(test_set, path, rows: int = 3000, row_group_size: int = 700):
    """Real rows as Parquet in several row groups, integer ids, with a repeated id, an empty
    id and an infinity planted; returns the file and the 0-based rows that must be rejected."""
    frame = test_set.head(rows).reset_index(drop=True).copy()
    frame[ID] = pd.array(np.arange(1, rows + 1), dtype="Int64")
    frame.loc[2500, ID] = frame.loc[10, ID]          # the same id on rows 11 and 2501
    frame.loc[1600, ID] = None                       # an empty id, in the third row group
    frame.loc[2200, "revol_util"] = np.inf           # only this row group's statistics show it
    frame.to_parquet(path, index=False, row_group_size=row_group_size)
    return path, [10, 1600, 2200, 2500]


@pytest.mark.parametrize("how", ["bitmap", "hash"])
def test_integer_ids_statistics_and_row_groups(card, test_set, tmp_path, monkeypatch, how):
    """Parquet with integer ids in several row groups: repeated and empty ids and an infinity
    are rejected whichever way ids are checked (a bitmap of their range, or a hash table for a
    wide range); the other rows are scored in input order, as Card.apply scores them, by both
    engines alike."""
    if how == "hash":
        monkeypatch.setattr(duckdb_engine, "BITMAP_IDS", 1)
    source, bad = parquet_with_problems(test_set, tmp_path / "applicants.parquet")
    for engine in ENGINES:
        score(source, "-o", tmp_path / f"{engine}.csv", "--engine", engine)
    for name in ("{}.csv", "{}.rejects.csv"):
        assert (tmp_path / name.format("duckdb")).read_bytes() == (tmp_path / name.format("python")).read_bytes()
    rejects = rejects_of(tmp_path / "duckdb.rejects.csv")
    assert rejects["line"].astype(int).tolist() == [i + 1 for i in bad]
    assert "is not unique: 2 rows share it (lines 11, 2501)" in rejects["reason"].iloc[0]
    assert rejects["reason"].tolist()[1:3] == ["column 'applicant_id': the id is empty",
                                               "column 'revol_util': expected a finite number, got inf"]
    good = test_set.head(3000).reset_index(drop=True).drop(index=bad)
    good[ID] = good.index + 1
    assert_same_columns(as_text(read_output(tmp_path / "duckdb.csv")), as_text(expected(card, good)))


def test_checks_are_kept_without_statistics(card, test_set, tmp_path):
    """A file written without column statistics proves nothing: every row is checked."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = test_set.head(400).copy()
    frame.loc[frame.index[7], "dti"] = -np.inf
    source = tmp_path / "applicants.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), source, write_statistics=False)
    result = batch.score_file(source, tmp_path / "scores.parquet")
    assert (result.rows_scored, result.rows_rejected) == (399, 1)
    assert result.rejected_by_reason == {"not a finite number in dti": 1}


def test_thread_counts_and_row_groups_give_the_same_bytes(card, test_set, tmp_path, monkeypatch):
    """A Parquet file with fewer row groups than threads is copied into a temporary table so
    that the threads share the work; streamed or copied, with 1 or 2 threads, the output is
    the same bytes, rows in input order."""
    frame = pd.concat([test_set] * 3, ignore_index=True)
    frame[ID] = np.arange(1, len(frame) + 1)
    source = tmp_path / "applicants.parquet"
    frame.to_parquet(source, index=False)                       # one row group
    outputs = []
    for threads, copied in ((2, True), (2, False), (1, False)):
        monkeypatch.setattr(duckdb_engine, "MATERIALIZE_ROWS", 10**9 if copied else 0)
        out = tmp_path / f"scores_{threads}_{copied}.parquet"
        batch.score_file(source, out, threads=threads)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
    got = read_output(tmp_path / "scores_1_False.parquet")
    assert got[ID].tolist() == frame[ID].tolist()
    assert_same_columns(columns_of(got.head(3000)), columns_of(expected(card, frame.head(3000))))


# -- 6. sql and validate-card --------------------------------------------------------------------
@pytest.mark.parametrize("dialect", sqllib.DIALECTS)
def test_sql_prints_the_cards_statement(card, tmp_path, dialect):
    result = cli("sql", "--dialect", dialect)
    assert result.exit_code == 0, result.output
    assert result.stdout == sqllib.to_sql(card, dialect)
    target = tmp_path / "sql" / f"score_{dialect}.sql"
    result = cli("sql", "--dialect", dialect, "-o", target, "--table", "db.applicants", "--reasons", "2")
    assert result.exit_code == 0, result.output
    assert target.read_text() == sqllib.to_sql(card, dialect, ("db", "applicants"), ID, 2)


def test_sql_rejects_an_unknown_dialect_and_a_bad_card(root, tmp_path):
    assert cli("sql", "--dialect", "oracle").exit_code == 2
    path, _ = broken_card(root, tmp_path)
    result = cli("sql", "--card", path)
    assert result.exit_code == 2 and "invalid scorecard" in one_red_line(result)


def test_validate_card(card, root, tmp_path):
    result = cli("validate-card")
    assert result.exit_code == 0 and result.stdout.startswith("valid")
    result = cli("validate-card", root / "scorecard/scorecard.json")
    assert result.exit_code == 0
    assert card.version in result.stdout and f"{len(card.features)} features" in result.stdout

    path, where = broken_card(root, tmp_path)
    result = cli("validate-card", path)
    assert result.exit_code == 1
    assert where in one_red_line(result)

    not_json = tmp_path / "card.json"
    not_json.write_text("{ not json")
    result = cli("validate-card", not_json)
    assert result.exit_code == 1 and "not valid JSON" in one_red_line(result)


def test_help_is_there_for_a_newcomer():
    result = cli("--help", columns=120)
    assert result.exit_code == 0
    for word in ("score", "sql", "validate-card", "scorecard.json"):
        assert word in result.stdout
    result = cli("score", "--help", columns=120)
    assert result.exit_code == 0
    for word in ("--output", "--engine", "--rejects", "--id-column", "--reasons", "rejected"):
        assert word in result.stdout


def test_the_module_runs_as_a_program(tmp_path, test_files):
    """`python -m scorecard.cli`, as a user types it: summary on stdout, nothing on stderr."""
    out = tmp_path / "scores.csv.gz"
    run = subprocess.run([sys.executable, "-m", "scorecard.cli", "score", str(test_files["parquet"]), "-o", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stderr == "" and "Scoring summary" in run.stdout
    assert (tmp_path / "scores.rejects.csv.gz").is_file()
    assert len(pd.read_csv(out)) == 21_721


def test_progress_can_be_forced_on(test_files, tmp_path):
    result = score(test_files["parquet"], "-o", tmp_path / "o.parquet", "--progress")
    assert "Scoring summary" in result.stdout


def test_default_rejects_path():
    assert batch.default_rejects_path("out/scores.csv").as_posix() == "out/scores.rejects.csv"
    assert batch.default_rejects_path("scores.csv.gz").as_posix() == "scores.rejects.csv.gz"
    assert batch.default_rejects_path("s.v2.parquet").as_posix() == "s.v2.rejects.parquet"
