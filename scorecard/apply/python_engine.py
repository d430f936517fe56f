"""The Python engine, the reference: the file read into pandas, checked row by row in Python and
scored by :meth:`scorecard.card.Card.apply`; its rejects are written through DuckDB like the
other engines'."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from scorecard.apply.duckdb_engine import _close, _connect, _copy_options, _lit, _output_select, _run, _write_rejects, csv_batches
from scorecard.apply.inputs import _one_line, FileFormat
from scorecard.apply.interrupt import _check_interrupted
from scorecard.apply.plan import _python_problems, Plan, ProgressCallback
from scorecard.errors import DataValidationError


# -- the Python engine ------------------------------------------------------------------------
def _read_python(plan: Plan) -> tuple[dict[str, object], np.ndarray]:
    """The required columns of the input (a pyarrow array per column) and each row's line."""
    import pyarrow as pa

    src = plan.source
    needed = list(dict.fromkeys(plan.required))
    if src.format.kind == "parquet":
        import pyarrow.parquet as pq

        try:
            with open(src.path, "rb") as handle:
                table = pq.read_table(handle, columns=needed)
        except Exception as error:
            raise DataValidationError(f"{src.path}: cannot read the Parquet file ({_one_line(error)})") from None
        columns = {}
        for c in needed:
            array = table.column(c).combine_chunks()
            # dictionary-encoded columns are read as their values, as DuckDB reads them
            columns[c] = array.dictionary_decode() if pa.types.is_dictionary(array.type) else array
        return columns, np.arange(table.num_rows, dtype=np.int64) + 1
    schema, batches = csv_batches(plan)
    table = pa.Table.from_batches(list(batches), schema=schema)
    return {c: table.column(c).combine_chunks() for c in needed}, table.column("sc_line").to_numpy()


def _feature_frame(plan: Plan, columns: dict, keep: np.ndarray) -> pd.DataFrame:
    """The feature columns of the kept rows, as :meth:`Card.apply` reads them."""
    import pyarrow as pa

    frame = {}
    for name in plan.features:
        array = columns[name].filter(pa.array(keep))
        kind = plan.kind(name)
        if name in plan.numeric:
            if kind == "text":
                frame[name] = np.array([np.nan if v is None else float(v.strip(" ")) for v in array.to_pylist()],
                                       dtype="float64")
            elif kind == "null":
                frame[name] = np.full(len(array), np.nan)
            else:
                frame[name] = array.cast(pa.float64()).to_numpy(zero_copy_only=False)
        elif kind == "text":
            frame[name] = pd.Series(array.to_pylist(), dtype=object)
        elif kind == "null":
            frame[name] = pd.Series([None] * len(array), dtype=object)
        else:
            frame[name] = array.to_pandas()
    return pd.DataFrame(frame)


def _score_python(plan: Plan, out: Path, out_fmt: FileFormat, rej: Path, rej_fmt: FileFormat,
                  memory_limit: str | None, threads: int | None, spill: Path,
                  progress: ProgressCallback | None, timings: dict[str, float]):
    """Check in Python and score with :meth:`Card.apply`; same return as :func:`scorecard.apply.duckdb_engine._score_duckdb`."""
    import pyarrow as pa

    def step(name: str, fraction: float | None) -> None:
        _check_interrupted()
        if progress is not None:
            progress(name, fraction)

    started = time.perf_counter()
    step("reading", None)
    columns, lines = _read_python(plan)
    rows_in = len(lines)
    timings["reading"] = time.perf_counter() - started

    started = time.perf_counter()
    step("checking values", None)
    problems, rejected = _python_problems(plan, columns, lines)
    keep = ~rejected
    timings["checking values"] = time.perf_counter() - started

    started = time.perf_counter()
    step("scoring", None)
    features = _feature_frame(plan, columns, keep)
    applied = plan.card.apply(features, plan.n_reasons) if len(features) else None
    ids = columns[plan.id_column]
    scored = {"sc_line": pa.array(lines[keep]), "sc_id": ids.filter(pa.array(keep))}
    for column in plan.output_columns[1:]:
        if applied is not None:
            values = applied[column]
            scored[column] = pa.array(values.to_numpy(dtype=np.int64) if column in plan.integer_columns
                                      else values.astype(object).where(values.notna(), None).tolist(),
                                      type=pa.int64() if column in plan.integer_columns else pa.string())
        else:
            scored[column] = pa.array([], type=pa.int64() if column in plan.integer_columns else pa.string())
    sc_scored = pa.table(scored)
    spill.mkdir(parents=True, exist_ok=True)
    con = _connect(memory_limit, threads, spill, ordered=True)
    try:
        con.register("sc_scored", sc_scored)
        select = _output_select(plan, "sc_scored", "sc_id", "sc_line")
        _run(con, f"COPY (\n{select}\n) TO {_lit(str(out))} ({_copy_options(out_fmt)})", "writing the output", plan)
        timings["scoring"] = time.perf_counter() - started
        started = time.perf_counter()
        step("writing rejects", None)
        by_reason = _write_rejects(con, plan, rej, rej_fmt, lines, ids, problems)
        timings["writing rejects"] = time.perf_counter() - started
    except BaseException:
        _close(con)
        raise
    return rows_in, by_reason, con
