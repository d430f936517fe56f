"""Odd but plausible files: the batch engines read exactly the file named, refuse what they
cannot read exactly (with the file, line, column, rule and value), and agree byte for byte.

Inputs are rows of the real out-of-time test set (the ``test_set`` fixture: the ETL of
data/raw), written as CSV, gzipped CSV or Parquet with the quirks each test names. Every test
prints the message a user sees. The last test is a differential one: Hypothesis (fixed seed,
300 files) writes files with many quirks at once and checks that the DuckDB and Python engines
write the same bytes, or both refuse with the same message, and that rows in = scored + rejected.
"""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scorecard.apply import batch, csv_dialect
from scorecard.errors import ScorecardError

ENGINES = ("duckdb", "python")
ID = "applicant_id"


@pytest.fixture(scope="module")
def rows(test_set, card) -> pd.DataFrame:
    """60 real applicants: the id, the card's features and one free-text column, as text."""
    frame = test_set.head(60)[[ID, *card.feature_names]].copy()
    frame["note"] = [f"loan {i}" for i in range(len(frame))]
    return frame.map(lambda v: "" if pd.isna(v) else (f"{v:.17g}" if isinstance(v, float) else str(v)))


def csv_text(frame: pd.DataFrame, ends: str = "\n") -> str:
    def field(value: str) -> str:
        return f'"{value}"' if any(c in value for c in ',"\n\r') else value

    lines = [",".join(frame.columns)] + [",".join(field(v) for v in row) for row in frame.itertuples(index=False)]
    return ends.join(lines) + ends


def text_parquet(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as a Parquet file of text columns, an empty cell stored as null."""
    pq.write_table(pa.table({c: pa.array([None if v == "" else v for v in frame[c]], type=pa.string())
                             for c in frame.columns}), path)


def run(engine: str, source: Path, out: Path) -> tuple[str, bytes, bytes] | tuple[str, str]:
    """Score ``source`` with ``engine``: ("ok", output bytes, rejects bytes) or ("refused", message)."""
    try:
        result = batch.score_file(source, out, engine=engine)
    except ScorecardError as error:
        return "refused", str(error)
    assert result.balanced and result.published, result
    rejects = batch.default_rejects_path(out)
    return "ok", out.read_bytes(), rejects.read_bytes()


def both(source: Path, tmp_path: Path, name: str = "scores.csv"):
    """Both engines on ``source``; asserts they agree; returns the common outcome."""
    outcomes = {}
    for engine in ENGINES:
        folder = tmp_path / f"out-{engine}"
        folder.mkdir(exist_ok=True)
        outcomes[engine] = run(engine, source, folder / name)
    assert outcomes["duckdb"] == outcomes["python"], outcomes
    return outcomes["duckdb"]


def scores_of(data: bytes) -> list[int]:
    lines = data.decode().splitlines()
    column = lines[0].split(",").index("score")
    return [int(line.split(",")[column]) for line in lines[1:]]


# -- 1. a file name is never a pattern -------------------------------------------------------
@pytest.mark.parametrize("name, decoy", [("june[final].csv", "junef.csv"), ("q?.csv", "qa.csv"),
                                          ("a*b.parquet", "axb.parquet"), ("x{1,2}.csv", "x1.csv")])
def test_a_file_name_is_read_literally(rows, tmp_path, card, name, decoy):
    folder = tmp_path / "in [2024]"
    folder.mkdir()
    named, other = rows.head(20), rows.iloc[20:45]
    for path, frame in ((folder / name, named), (folder / decoy, other)):
        if path.suffix == ".parquet":
            text_parquet(frame, path)
        else:
            path.write_text(csv_text(frame))
    outcome = both(folder / name, tmp_path, name="scores [v2].csv")
    assert outcome[0] == "ok"
    want = card.score(named[card.feature_names].replace("", np.nan).astype(
        {f["name"]: float for f in card.features if f["type"] == "numeric"})).tolist()
    print(f"\n{name} beside {decoy}: {len(scores_of(outcome[1]))} rows scored, as the named file says")
    assert scores_of(outcome[1]) == want
    assert (tmp_path / "out-duckdb" / "scores [v2].rejects.csv").is_file()


# -- 2. a row with a field too many ------------------------------------------------------------
def test_a_row_with_an_extra_empty_field_is_refused(rows, tmp_path):
    frame = rows.head(10).copy()
    frame["note"] = ""  # the last column empty: DuckDB used to take the extra field as padding
    text = csv_text(frame).splitlines()
    cells = text[2].split(",")
    dti = frame.columns.get_loc("dti")
    cells[dti] = "27,65"  # a decimal comma, unquoted
    text[2] = ",".join(cells)  # 14 fields, the last one empty
    source = tmp_path / "applicants.csv"
    source.write_text("\n".join(text) + "\n")
    kind, message = both(source, tmp_path)
    print("\n" + message)
    assert kind == "refused" and "line 3 has" in message and "fields, the header has" in message


# -- 3. damaged compressed data ---------------------------------------------------------------
def test_altered_gzip_data_are_refused_before_anything_is_published(rows, tmp_path):
    data = csv_text(rows.head(50)).encode()
    packed = bytearray(gzip.compress(data, compresslevel=0, mtime=0))  # stored blocks: bytes as they are
    at = packed.index(b"\n", 200) + 3
    packed[at] = ord("9") if packed[at] != ord("9") else ord("8")  # a digit changed: still a CSV
    source = tmp_path / "applicants.csv.gz"
    source.write_bytes(bytes(packed))
    kind, message = both(source, tmp_path)
    print("\n" + message)
    assert kind == "refused" and "compressed data are damaged" in message and "CRC" in message
    assert not (tmp_path / "out-duckdb" / "scores.csv").exists()


def test_corrupt_gzip_is_a_message_not_a_traceback(rows, tmp_path):
    packed = bytearray(gzip.compress(csv_text(rows).encode(), mtime=0))
    packed[len(packed) // 2] ^= 0xFF
    source = tmp_path / "applicants.csv.gz"
    source.write_bytes(bytes(packed))
    kind, message = both(source, tmp_path)
    print("\n" + message)
    assert kind == "refused" and "compressed data are damaged" in message


# -- 4. a quote that does not open a field -----------------------------------------------------
def test_a_space_before_an_opening_quote_is_refused_by_both(rows, tmp_path):
    frame = rows.head(10)
    text = csv_text(frame).splitlines()
    cells = text[4].split(",")
    purpose = frame.columns.get_loc("purpose")
    cells[purpose] = f'  "{cells[purpose]}"'
    text[4] = ",".join(cells)
    source = tmp_path / "applicants.csv"
    source.write_text("\n".join(text) + "\n")
    kind, message = both(source, tmp_path)
    print("\n" + message)
    assert kind == "refused" and "line 5, column 'purpose'" in message and "double quote" in message


# -- 5. Parquet types ----------------------------------------------------------------------------
def test_float16_int8_decimal_and_dictionary_columns_score_alike(rows, tmp_path, card):
    numeric = [f["name"] for f in card.features if f["type"] == "numeric"]
    table = {ID: pa.array(rows[ID]).dictionary_encode()}
    for i, name in enumerate(numeric):
        values = pd.to_numeric(rows[name].replace("", np.nan))
        kind = i % 4
        if kind == 0:
            table[name] = pa.array(values.to_numpy(), type=pa.float64()).cast(pa.float16())
        elif kind == 1 and values.dropna().between(-128, 127).all() and (values.dropna() % 1 == 0).all():
            table[name] = pa.array(values.astype("Int64"), type=pa.int64()).cast(pa.int8())
        elif kind == 2:
            table[name] = pa.array([None if pd.isna(v) else Decimal(repr(round(v, 4))) for v in values],
                                   type=pa.decimal128(18, 4))
        else:
            table[name] = pa.array(values.to_numpy(), type=pa.float32())
    for name in (f["name"] for f in card.features if f["type"] == "categorical"):
        table[name] = pa.array(rows[name].replace("", None)).dictionary_encode()
    source = tmp_path / "typed.parquet"
    pq.write_table(pa.table(table), source)
    kind, output, _ = both(source, tmp_path)
    print(f"\nfloat16/int8/decimal/float32/dictionary columns: {len(scores_of(output))} rows scored alike")
    assert kind == "ok" and len(scores_of(output)) == len(rows)


def test_an_integer_beyond_2_to_the_53_is_rejected_by_both(rows, tmp_path, card):
    numeric = [f["name"] for f in card.features if f["type"] == "numeric"]
    frame = rows.head(10).replace("", np.nan).astype({n: float for n in numeric})
    target = numeric[0]
    values = [int(v) if not pd.isna(v) else 0 for v in frame[target]]
    values[3] = 2**53 + 1
    table = pa.Table.from_pandas(frame.drop(columns=[target]), preserve_index=False)
    table = table.append_column(target, pa.array(values, type=pa.int64()))
    source = tmp_path / "big.parquet"
    pq.write_table(table, source)
    kind, output, rejects = both(source, tmp_path)
    print("\n" + rejects.decode())
    assert kind == "ok" and "9007199254740993 is beyond +/-2^53" in rejects.decode()
    assert len(scores_of(output)) == 9


# -- 6. mixed line ends --------------------------------------------------------------------------
def test_mixed_line_ends_are_read_alike(rows, tmp_path):
    lines = csv_text(rows.head(30)).splitlines()
    text = "".join(line + ("\r\n" if i % 7 == 3 else "\n") for i, line in enumerate(lines))
    source = tmp_path / "mixed.csv"
    source.write_bytes(text.encode())
    kind, output, _ = both(source, tmp_path)
    print(f"\nLF file with {sum(1 for i in range(len(lines)) if i % 7 == 3)} CRLF rows: "
          f"{len(scores_of(output))} rows scored alike")
    assert kind == "ok" and len(scores_of(output)) == 30


def test_a_lone_carriage_return_is_refused_with_its_line(rows, tmp_path):
    lines = csv_text(rows.head(10)).splitlines()
    source = tmp_path / "cr.csv"
    source.write_bytes(("\n".join(lines[:4]) + "\r" + "\n".join(lines[4:]) + "\n").encode())
    kind, message = both(source, tmp_path)
    print("\n" + message)
    assert kind == "refused" and "line 4" in message and "carriage return" in message


# -- 7. messages ---------------------------------------------------------------------------------
@pytest.mark.parametrize("row", [0, 30])
def test_a_long_field_is_read_the_same_wherever_it_is(rows, tmp_path, row):
    frame = rows.head(40).copy()
    frame.loc[row, "note"] = "x" * 200_000  # over Python's default 128 KiB, under the dialect's 1 MiB
    source = tmp_path / "long.csv"
    source.write_text(csv_text(frame))
    kind, output, _ = both(source, tmp_path)
    print(f"\na 200,000-character value on row {row + 1}: scored alike")
    assert kind == "ok" and len(scores_of(output)) == 40


def test_a_field_over_the_limit_and_a_3_mb_line_give_their_cause_first(rows, tmp_path):
    frame = rows.head(5).copy()
    frame.loc[2, "note"] = "y" * (csv_dialect.MAX_FIELD_CHARS + 1)
    source = tmp_path / "huge.csv"
    source.write_text(csv_text(frame))
    kind, message = both(source, tmp_path)
    print("\n" + message)
    assert kind == "refused" and "line 4" in message and "longer than 1,048,576 characters" in message
    assert len(message) < 400
    lines = csv_text(rows.head(5)).splitlines()
    lines[3] += ",z" * 1_500_000  # a 3 MB line with 1.5 million fields too many
    source.write_text("\n".join(lines) + "\n")
    kind, message = both(source, tmp_path)
    print(message)
    assert kind == "refused" and "line 4 has" in message and len(message) < 400


def test_invisible_characters_are_shown_visibly(rows, tmp_path):
    frame = rows.head(10).copy()
    frame.loc[2, "dti"] = "12\u00a0"
    frame.loc[5, "dti"] = "\u200b7"
    source = tmp_path / "nbsp.csv"
    source.write_text(csv_text(frame))
    kind, _, rejects = both(source, tmp_path)
    text = rejects.decode()
    print("\n" + text)
    assert "got '12<U+00A0 NO-BREAK SPACE>'" in text and "got '<U+200B ZERO WIDTH SPACE>7'" in text


def test_a_nul_character_is_refused_as_not_text(rows, tmp_path):
    source = tmp_path / "utf16.csv"
    source.write_bytes(csv_text(rows.head(5)).encode("utf-16-le"))
    kind, message = both(source, tmp_path)
    print("\n" + message)
    assert kind == "refused" and "NUL" in message and "UTF-16" in message


def test_an_output_folder_that_cannot_be_written_is_named(rows, tmp_path):
    source = tmp_path / "a.csv"
    source.write_text(csv_text(rows.head(5)))
    full = Path("/proc/self")  # a folder nobody, root included, may create files in
    for engine in ENGINES:
        with pytest.raises(ScorecardError) as caught:
            batch.score_file(source, full / "scores.csv", engine=engine)
        message = str(caught.value)
        print(f"\n{engine}: {message}")
        assert message.startswith(f"{full}: cannot ") and ".part" not in message and ".spill" not in message


# -- the differential test --------------------------------------------------------------------
NUMBER_SPELLINGS = ["1e3", "+.5", "1.", "-0", " 12 ", "0x10", "1_000", "1,5", "inf", "nan", "NaN", "1e400",
                    "-1e400", "1e-320", "9007199254740993", "\u0661\u0662", "12\u00a0", "\u00a012", "٫5", "1e",
                    ".", "", "  ", "00012", "1.0000000000000000000001", "+", "--1", "1e+0300"]
TEXT_SPELLINGS = ["", " ", "car", " car", "car ", "Car", "ca\u00a0r", "ca,r", 'ca"r', "ca\nr", "ca\r\nr", "é€😀",
                  "\ufeffcar", "credit_card", "other", "36", " 36", "36 months", "x" * 300, "\t", "\u00a0"]
#: Ids that are empty, or only look empty: the engines must agree on which is which.
ID_SPELLINGS = ["", " ", "   ", "\u00a0", " \u00a0", "\t", "\u200b", "\u3000", " 7", "7 "]
#: Output names: every format the engines write, with pattern characters.
OUTPUTS = ["scores [1].csv", "scores [1].csv", "scores*.parquet", "scores?.csv.gz"]
NAMES = ["applicants.csv", "june[final].csv", "q?.csv", "a*b.csv", "$(echo x) 'y'.csv", "ñandú {1}.csv",
         "data.csv.gz", "[x].csv.gz", "p.parquet", "p[1].parquet"]


def _quote(value: str, how: str) -> str:
    if how == "plain" and not any(c in value for c in ',"\n\r') and not value.startswith('"'):
        return value
    if how == "space-before-quote":
        return '  "' + value.replace('"', '""') + '"'
    return '"' + value.replace('"', '""') + '"'


@st.composite
def odd_file(draw, base: pd.DataFrame, numeric: list[str], categorical: list[str]):
    n = draw(st.integers(1, 12))
    frame = base.sample(n, random_state=draw(st.integers(0, 2**16))).reset_index(drop=True)
    for _ in range(draw(st.integers(0, 6))):
        row = draw(st.integers(0, n - 1))
        column = draw(st.sampled_from([ID, "note", *numeric, *categorical]))
        pool = NUMBER_SPELLINGS if column in numeric else TEXT_SPELLINGS
        frame.loc[row, column] = draw(st.sampled_from(pool + [frame.loc[draw(st.integers(0, n - 1)), column]]))
    if draw(st.booleans()):  # a duplicated or empty id
        frame.loc[draw(st.integers(0, n - 1)), ID] = draw(st.sampled_from(ID_SPELLINGS + [frame.loc[0, ID]]))
    name = draw(st.sampled_from(NAMES))
    output = draw(st.sampled_from(OUTPUTS))
    if name.endswith(".parquet"):
        return name, ("parquet", frame, draw(st.sampled_from(["text", "typed", "dictionary"]))), output
    ends = draw(st.sampled_from(["\n", "\r\n", "mixed"]))
    quoting = [draw(st.sampled_from(["plain", "plain", "plain", "all", "space-before-quote"])) for _ in range(3)]
    lines = [",".join(frame.columns)]
    for i, record in enumerate(frame.itertuples(index=False)):
        how = quoting[i % 3]
        lines.append(",".join(_quote(v, how if j % 3 == 0 else "plain") for j, v in enumerate(record)))
    structure = draw(st.sampled_from(["none", "none", "extra-empty", "extra", "missing", "blank-lines",
                                      "trailing-empty-line", "no-final-newline"]))
    if structure in ("extra-empty", "extra", "missing") and n:
        at = draw(st.integers(1, len(lines) - 1))
        lines[at] = lines[at] + ("," if structure == "extra-empty" else ",9" if structure == "extra" else "")
        if structure == "missing":
            lines[at] = lines[at].rsplit(",", 1)[0]
    if structure == "blank-lines":
        lines.insert(draw(st.integers(1, len(lines))), "")
    text = "".join(line + ("\r\n" if ends == "\r\n" or (ends == "mixed" and i % 2) else "\n")
                   for i, line in enumerate(lines))
    if structure == "no-final-newline":
        text = text.rstrip("\r\n")
    if structure == "trailing-empty-line":
        text += "\n"
    if draw(st.booleans()):
        text = "\ufeff" + text
    if draw(st.integers(0, 20)) == 0:
        text = text.replace("loan", "lo\x00an", 1)
    return name, ("csv", text), output


def _write(path: Path, spec) -> None:
    if spec[0] == "csv":
        data = spec[1].encode("utf-8")
        path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)
        return
    _, frame, how = spec
    columns = {}
    for column in frame.columns:
        values = frame[column].replace("", None)
        if how == "text":
            columns[column] = pa.array(values, type=pa.string())
        elif how == "dictionary":
            columns[column] = pa.array(values, type=pa.string()).dictionary_encode()
        else:
            numbers = pd.to_numeric(values, errors="coerce")
            whole = numbers.dropna().map(lambda v: float(v).is_integer() and abs(v) < 2**62).all()
            if numbers.notna().sum() == values.notna().sum() and column not in (ID, "note"):
                columns[column] = (pa.array(numbers.astype("Int64"), type=pa.int64()) if whole and len(numbers)
                                   else pa.array(numbers.to_numpy(dtype=float), type=pa.float64()))
            else:
                columns[column] = pa.array(values, type=pa.string())
    pq.write_table(pa.table(columns), path)


def batch_rows(output: Path) -> int:
    """Rows in the rejects file of ``output`` (any format)."""
    rejects = batch.default_rejects_path(output)
    if rejects.name.endswith(".parquet"):
        return pq.read_metadata(rejects).num_rows
    data = gzip.decompress(rejects.read_bytes()) if rejects.name.endswith(".gz") else rejects.read_bytes()
    return len(data.decode().splitlines()) - 1


def differential(base: pd.DataFrame, card, folders, engines: tuple[str, str], examples: int) -> dict[str, int]:
    """Score ``examples`` generated files with both ``engines`` (each in its own folder) and
    assert that they write the same bytes or refuse with the same message. Each input has a
    decoy beside it that its name would match as a pattern. Returns the outcomes' counts."""
    numeric = [f["name"] for f in card.features if f["type"] == "numeric"]
    categorical = [f["name"] for f in card.features if f["type"] == "categorical"]
    seen = {"ok": 0, "refused": 0, "rejected rows": 0}
    counter = iter(range(10**6))

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(odd_file(base, numeric, categorical))
    def check(case):
        name, spec, output = case
        folder = folders.mktemp(f"odd{next(counter)}")
        source = folder / name
        _write(source, spec)
        decoy = folder / name.translate(str.maketrans({c: "x" for c in "[]*?{}"}))
        if decoy != source:
            _write(decoy, spec if spec[0] == "parquet" else ("csv", csv_text(base.head(3))))
        outcomes = {}
        for engine in engines:
            out = folder / engine / output
            out.parent.mkdir()
            outcomes[engine] = run(engine, source, out)
        assert outcomes[engines[0]] == outcomes[engines[1]], (name, spec, outcomes)
        kind = outcomes[engines[0]][0]
        seen[kind] += 1
        if kind == "ok":
            seen["rejected rows"] += batch_rows(folder / engines[0] / output)

    check()
    return seen


def test_the_engines_agree_on_300_odd_files(rows, card, tmp_path_factory):
    seen = differential(rows, card, tmp_path_factory, ("duckdb", "python"), 300)
    print(f"\n300 odd files: {seen['ok']} scored alike (with {seen['rejected rows']} rejected rows in all), "
          f"{seen['refused']} refused alike")
    assert seen["ok"] > 50 and seen["refused"] > 20 and seen["rejected rows"] > 20


def test_the_spark_engine_agrees_on_40_odd_files(rows, card, spark, tmp_path_factory):
    """The same generator, fewer files (a Spark job per file): Spark writes the Python engine's
    bytes, or refuses with its message."""
    seen = differential(rows, card, tmp_path_factory, ("python", "spark"), 40)
    print(f"\n40 odd files: {seen['ok']} scored alike by Spark and Python, {seen['refused']} refused alike")
    assert seen["ok"] > 5 and seen["refused"] > 5
