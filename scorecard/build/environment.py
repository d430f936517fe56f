"""Public environment data joined to applicants by a key and, mostly, the application date.

A source is declared in ``params.yaml`` (``environment.sources``): its file, its layout, its
key and time columns, the applicant column it joins on (``join_key``: a state, a municipality,
a postal code...) and how its dates align with the application date (``align: none``: one
value per key, no date). Each source is read into a long table ``key, period, values...``
(``key, values...`` without time) and joined exactly: an applicant whose key or period the
source does not cover stops the run with a message naming both.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from scorecard.config import EnvironmentSpec, SourceSpec
from scorecard.build.data import read_text_table, resolve, verify_checksum
from scorecard.errors import DataValidationError

KEY, PERIOD = "key", "period"

US_STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "District of Columbia": "DC",
    "Florida": "FL", "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL",
    "Indiana": "IN", "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA",
    "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN",
    "Mississippi": "MS", "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV",
    "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY",
    "North Carolina": "NC", "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR",
    "Pennsylvania": "PA", "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD",
    "Tennessee": "TN", "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA",
    "Washington": "WA", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
    "Puerto Rico": "PR",
}

# INEGI state codes (CVE_ENT) and the names CONAPO and INEGI use for them, past and present.
MX_STATES = {
    1: ["Aguascalientes"], 2: ["Baja California"], 3: ["Baja California Sur"], 4: ["Campeche"],
    5: ["Coahuila de Zaragoza", "Coahuila"], 6: ["Colima"], 7: ["Chiapas"], 8: ["Chihuahua"],
    9: ["Ciudad de México", "Distrito Federal", "CDMX"], 10: ["Durango"], 11: ["Guanajuato"],
    12: ["Guerrero"], 13: ["Hidalgo"], 14: ["Jalisco"], 15: ["México", "Estado de México"],
    16: ["Michoacán de Ocampo", "Michoacán"], 17: ["Morelos"], 18: ["Nayarit"],
    19: ["Nuevo León"], 20: ["Oaxaca"], 21: ["Puebla"], 22: ["Querétaro", "Querétaro de Arteaga"],
    23: ["Quintana Roo"], 24: ["San Luis Potosí"], 25: ["Sinaloa"], 26: ["Sonora"],
    27: ["Tabasco"], 28: ["Tamaulipas"], 29: ["Tlaxcala"],
    30: ["Veracruz de Ignacio de la Llave", "Veracruz"], 31: ["Yucatán"], 32: ["Zacatecas"],
}


def _plain(text: str) -> str:
    """Lower-case, accents removed, spaces collapsed: 'Nuevo León' -> 'nuevo leon'."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


_MX_BY_NAME = {_plain(name): code for code, names in MX_STATES.items() for name in names}


def mx_state_code(value) -> int | None:
    """INEGI code (1-32) of a Mexican state given as a code or a name (accents optional)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if re.fullmatch(r"\d{1,2}(\.0)?", text):
        code = int(float(text))
        return code if code in MX_STATES else None
    return _MX_BY_NAME.get(_plain(text))


_US_CODES = set(US_STATES.values())


def us_state_code(value) -> str | None:
    """Two-letter code of a US state given as a code ('NY') or a full name ('New York')."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text.upper() if text.upper() in _US_CODES else US_STATES.get(text)


def normalise_keys(values: pd.Series, key_names: str | None) -> pd.Series:
    """Map state keys, given as codes or names, to codes (two-letter US, INEGI 1-32); with
    ``key_names`` null, keys are text compared as written, trimmed ("01000" stays "01000")."""
    if key_names == "us_state_name":
        return values.map(us_state_code)
    if key_names == "mx_state":
        return values.map(mx_state_code).astype("Int64")
    return values.str.strip()


def _as_text(values: pd.Series) -> pd.Series:
    """An applicant key column as text, a missing value staying missing (not the text 'nan')."""
    return values.astype(object).where(values.notna(), None).map(lambda v: v if v is None else str(v))


def _shown(values, limit: int = 20) -> str:
    """A list for a message: a postal-code source covers thousands of keys."""
    values = sorted(map(str, values))
    more = f" and {len(values) - limit} more" if len(values) > limit else ""
    return f"{values[:limit]}{more}"


def _numeric_or_text(column: pd.Series) -> pd.Series:
    """Numbers with thousands separators become floats; a text column stays text."""
    numbers = pd.to_numeric(column.str.replace(",", "", regex=False), errors="coerce")
    return numbers if numbers.notna().sum() == column.notna().sum() else column


def load_source(spec: SourceSpec, root: str | Path | None = None) -> pd.DataFrame:
    """Read one environment source into a long table ``key, period, value columns``.

    ``period`` is the first day of the month for ``align: month`` and the year for
    ``align: year`` and ``align: year_asof``; a source with ``align: none`` (``layout:
    key_rows``) has no period column: one row per key.
    """
    path = resolve(spec.path, root)
    verify_checksum(path, spec.sha256)
    raw = read_text_table(path, spec.encoding, spec.missing_values)
    needed = [c for c in (spec.key_column, spec.time_column) if c] + list(spec.value_columns or {})
    absent = [c for c in needed if c not in raw.columns]
    if absent:
        raise DataValidationError(f"{path}: missing column(s) {absent} declared in params.yaml")

    if spec.layout == "time_rows_key_columns":
        long = raw.melt(id_vars=[spec.time_column], var_name=KEY, value_name=spec.value_name)
        long = long.rename(columns={spec.time_column: PERIOD})
    elif spec.layout == "key_rows_time_columns":
        # Year headers may carry footnotes ("2013 (39)"); when a year appears twice the
        # first (newest, revised) estimate is kept.
        years = {c: re.match(r"\s*(\d{4})", c) for c in raw.columns if c != spec.key_column}
        keep = {}
        for column, match in years.items():
            if match and int(match.group(1)) not in keep.values():
                keep[column] = int(match.group(1))
        long = raw[[spec.key_column, *keep]].rename(columns=keep).melt(
            id_vars=[spec.key_column], var_name=PERIOD, value_name=spec.value_name)
        long = long.rename(columns={spec.key_column: KEY})
    elif spec.layout == "key_rows":
        long = raw[[spec.key_column, *spec.value_columns]].rename(
            columns={spec.key_column: KEY, **spec.value_columns})
    else:
        long = raw[[spec.key_column, spec.time_column, *spec.value_columns]].rename(
            columns={spec.key_column: KEY, spec.time_column: PERIOD, **spec.value_columns})

    long[KEY] = normalise_keys(long[KEY], spec.key_names)
    long = long[long[KEY].notna()]  # aggregate rows (national totals) carry no state key
    if spec.align == "month":
        long[PERIOD] = pd.to_datetime(long[PERIOD]).dt.to_period("M").dt.to_timestamp()
    elif spec.dated:
        long[PERIOD] = pd.to_numeric(long[PERIOD]).astype(int)
    for column in spec.output_columns():
        long[column] = _numeric_or_text(long[column])
    by = [KEY, PERIOD] if spec.dated else [KEY]
    repeated = long[long.duplicated(by, keep=False)]
    if len(repeated):
        what = "key and period" if spec.dated else "key"
        raise DataValidationError(
            f"{path}: {len(repeated)} rows repeat a {what} (column '{spec.key_column or KEY}'), e.g. "
            f"{repeated[by].head(3).to_dict('records')}; expected one value each")
    return long.sort_values(by).reset_index(drop=True)


def _periods(dates: pd.Series, align: str) -> pd.Series:
    if align == "month":
        return dates.dt.to_period("M").dt.to_timestamp()
    return dates.dt.year.astype(int)


def join_source(applicants: pd.DataFrame, table: pd.DataFrame, spec: SourceSpec, name: str,
                key_column: str, date_column: str | None) -> pd.DataFrame:
    """Add one source's columns to ``applicants`` (same rows, same order).

    Parameters
    ----------
    key_column
        The applicant column the source joins on (``environment.key_of(name)``).
    date_column
        The application date (``data.date_column``); unused, and may be None, for a source
        with ``align: none``.
    """
    keys = normalise_keys(_as_text(applicants[key_column]), spec.key_names)
    covered = table[KEY].unique()   # a few dozen states, not the table's thousands of rows
    unknown = applicants.loc[keys.isna() | ~keys.isin(covered), key_column]
    if len(unknown):
        raise DataValidationError(
            f"column '{key_column}': {len(unknown)} rows have a key that source '{name}' does not "
            f"cover, e.g. {sorted(map(str, unknown.unique()))[:5]}; expected one of {_shown(covered)}"
        )
    if not spec.dated:
        left = pd.DataFrame({KEY: keys.reset_index(drop=True)})
        merged = left.merge(table, on=KEY, how="left")   # one row per key: load_source
        values = merged[spec.output_columns()].reset_index(drop=True)
        return _with_values(applicants, values)
    periods = _periods(applicants[date_column], spec.align)
    left = pd.DataFrame({KEY: keys.reset_index(drop=True), PERIOD: periods.reset_index(drop=True)})
    if spec.align == "year_asof":
        # The latest census year on or before the application year.
        left["_row"] = np.arange(len(left))
        merged = pd.merge_asof(left.sort_values(PERIOD), table.sort_values(PERIOD), on=PERIOD,
                               by=KEY, direction="backward").sort_values("_row")
    else:
        merged = left.merge(table, on=[KEY, PERIOD], how="left")   # one row per key and period: load_source
    values = merged[spec.output_columns()].reset_index(drop=True)
    uncovered = values.isna().all(axis=1).to_numpy()
    if uncovered.any():
        examples = left.loc[uncovered, [KEY, PERIOD]].drop_duplicates().head(5)
        raise DataValidationError(
            f"source '{name}': no value for {uncovered.sum()} applicants' key and period (column "
            f"'{key_column}', align {spec.align}), e.g. {examples.to_dict('records')}; the source covers "
            f"{table[PERIOD].min()} to {table[PERIOD].max()}"
        )
    return _with_values(applicants, values)


def _with_values(applicants: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    out = applicants.reset_index(drop=True).copy()
    for column in values:
        out[column] = values[column].to_numpy()
    return out


def load_environment(environment: EnvironmentSpec, root: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """Every enabled source as its long table (see :func:`load_source`), by source name."""
    return {name: load_source(spec, root) for name, spec in environment.enabled_sources().items()}


def join_environment(applicants: pd.DataFrame, environment: EnvironmentSpec, date_column: str | None,
                     root: str | Path | None = None,
                     tables: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Join every enabled source of ``environment`` to the applicants.

    ``tables`` are the sources already read by :func:`load_environment` (a service reads
    them once at start-up); without them each source is read from its file now. Each source
    joins on its own key column (``environment.key_of``); ``date_column`` may be None when
    every enabled source has ``align: none``.
    """
    tables = load_environment(environment, root) if tables is None else tables
    for name, spec in environment.enabled_sources().items():
        applicants = join_source(applicants, tables[name], spec, name, environment.key_of(name), date_column)
    return applicants


def source_table(environment: EnvironmentSpec) -> pd.DataFrame:
    """The declared sources, for the report."""
    return pd.DataFrame([
        {"source": name, "file": spec.path, "adds": ", ".join(spec.output_columns()),
         "aligned by": spec.align, "used": spec.enabled, "description": spec.description}
        for name, spec in environment.sources.items()
    ])
