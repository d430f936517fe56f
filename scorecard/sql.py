"""The card as one SQL ``SELECT``: score a table inside a database, no Python at scoring time.

:func:`to_sql` turns the exported card (``scorecard.json``, the single source of truth) into
one statement that gives, for every row of a table, exactly what :meth:`Card.apply
<scorecard.card.Card.apply>` gives: the id column, ``score``, ``points_<feature>`` for each
feature in card order, ``reason_k``, ``reason_k_text``, ``reason_k_points_lost`` for
``k = 1..n_reasons`` and ``unseen_categories``.

Dialects: ``duckdb``, ``spark`` (Spark SQL 3.2+) and ``ansi`` (standard SQL; also runs on
DuckDB). Identifiers that are not plain lower-case words, or are reserved words, are quoted:
``"double quotes"`` for DuckDB and ANSI, ```backticks``` for Spark.

How the statement reads (one CTE per step, each computed once):

``sc_input``
    Each feature column read once: numeric features as ``DOUBLE``, categorical features as
    text (the rule below).
``sc_bins``
    One ``CASE`` per feature, one ``WHEN`` per bin, in the card's rule order: missing first,
    then special values (``IN (...)``), then the ranges with their edges exactly as the card
    states them (``>=``/``>`` and ``<``/``<=`` as ``lower_inclusive``/``upper_inclusive``
    say; a null edge is left out). For a categorical feature a value listed in no bin leaves
    the ``CASE`` NULL: that is the unseen flag.
``sc_points``
    Unseen categories get the points of the bin ``unseen.bin_id`` names.
``sc_lost``
    For each feature a sort key: ``lost * W + (F - i)`` when the applicant lost points on the
    feature (``lost`` = best points among the bins with training rows − the applicant's
    points; ``i`` = the feature's position in the card, ``F`` the number of features,
    ``W`` the first power of ten above ``F``), else 0. Keys are unique within a row and sort
    exactly as the reasons do: most points lost first, ties by card order.
``sc_reason_k``
    The k-th reason is the largest key below the (k−1)-th: ``GREATEST`` over the features,
    no sort, no join, no per-row subquery. Its feature is ``F − MOD(key, W)`` and its points
    lost ``key DIV W``; a key of 0 means no reason (nothing lost).

Decisions a reader of the SQL should know:

* **Numbers are compared as DOUBLE**: each numeric column is ``CAST`` to ``DOUBLE`` (ANSI:
  ``DOUBLE PRECISION``) and each edge is written with the digits of ``repr()`` — the
  shortest text that round-trips the card's double — plus an exponent (``3.5E0``) so that
  every engine reads it as an approximate (double) literal, not a decimal.
* **NaN is missing**, as in Python. DuckDB and Spark: ``isnan(x)``. ANSI has no ``isnan``
  and engines disagree on NaN: IEEE engines make ``x <> x`` true for NaN, while DuckDB,
  Spark and PostgreSQL make NaN equal to itself and greater than every number. The ANSI
  test is therefore ``x <> x OR x > 1.7976931348623157E308`` (the largest double): NaN on
  both kinds of engine, never a finite number.
* **Infinity**: Python refuses it (``CardError``); SQL cannot raise portably. DuckDB and
  Spark score ``-inf``/``+inf`` in the unbounded first/last range bin; ANSI scores ``-inf``
  in the first bin and ``+inf`` as missing (the NaN test above cannot tell them apart).
  A column that holds text that is not a number fails the ``CAST`` in DuckDB (an error, as
  in Python); Spark with ``spark.sql.ansi.enabled=false`` reads it as NULL (missing).
* **Categorical values as text** follow Python's ``_as_category``: text stays as it is
  (``'36.0'`` is not ``'36'``: it is unseen); an integer column reads as its digits; a
  floating-point value that is integral reads as its integer (``36.0`` → ``'36'``), NaN is
  missing. DuckDB and Spark learn the column's type with ``typeof()`` (constant per
  column), so the rule is exact whatever the column's type: only ``FLOAT``/``DOUBLE``
  columns take the integral branch, through ``CAST(... AS BIGINT)`` when
  ``|x| < 2**63``; above that the engine's text of the double is used (Python prints every
  digit; such a value is unseen either way unless a card lists a 20-digit category).
  ANSI has neither ``typeof`` nor ``TRY_CAST``: it uses ``CAST(x AS VARCHAR(n))``, exact for
  text and integer columns; a floating-point categorical column must be cast by the caller
  (engines print ``36.0`` differently: DuckDB ``'36.0'``, PostgreSQL ``'36'``).
* **The unseen flag** lists every categorical feature whose value was unseen, in card
  order, comma-separated, ``''`` when none — like Python, whatever ``unseen.flag`` says.
* **ANSI constructs**: ``WITH``, ``CASE``, ``CAST``, ``COALESCE``, ``MOD``, ``||``,
  ``SUBSTRING(s FROM 2)`` and ``GREATEST`` (standard only since SQL:2023, but present in
  DuckDB, Spark, PostgreSQL, MySQL, Oracle, Snowflake, BigQuery and SQL Server 2022). Every
  ``GREATEST`` argument is non-NULL, so engines that return NULL when an argument is NULL
  (Oracle, MySQL) agree with those that skip NULLs.
* Rows come out in the engine's order; add ``ORDER BY`` around the statement if needed.

Run ``python -m scorecard.sql --dialect duckdb`` to print the statement for the packaged card.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from scorecard import card as cardlib
from scorecard.errors import CardError

DIALECTS = ("duckdb", "spark", "ansi")
DEFAULT_CARD = Path(__file__).with_name("scorecard.json")

# Words that stay quoted as identifiers: SQL:2016 reserved words that are also reserved or
# awkward in DuckDB or Spark. A name that is not a plain lower-case word is quoted anyway.
RESERVED = frozenset("""
all allocate alter analyse analyze and anti any array as asc asymmetric at authorization between
bigint binary blob boolean both by call cascaded case cast char character check collate column
commit constraint create cross cube current current_catalog current_date current_role
current_schema current_time current_timestamp current_user cursor date day deallocate dec decimal
declare default delete desc describe distinct do double drop else end escape except exists
external false fetch filter float for foreign from full function global grant group grouping
having hour if ilike in inner insert int integer intersect interval into is join lateral leading
left like limit local localtime localtimestamp minus minute month natural new no none not null
numeric of offset old on only or order out outer over overlaps partition pivot placing position
primary qualify range real recursive references right rollback rollup row rows second select
semi session_user set similar smallint some start symmetric system_user table tablesample then
time timestamp to trailing true union unique unknown unpivot update user using values varchar
variadic verbose when where window with within year
""".split())
PLAIN = re.compile(r"[a-z_][a-z0-9_]*")
CTE_NAMES = ("sc_input", "sc_bins", "sc_points", "sc_lost")
MAX_DOUBLE = "1.7976931348623157E308"
TWO_POW_63 = "9.223372036854775808E18"  # 2**63: doubles below it fit a BIGINT exactly


class _Writer:
    """Quoting and the few expressions that differ between dialects."""

    def __init__(self, dialect: str, text_length: int):
        self.dialect = dialect
        self.quote_char = "`" if dialect == "spark" else '"'
        self.double = "DOUBLE PRECISION" if dialect == "ansi" else "DOUBLE"
        self.text = {"duckdb": "VARCHAR", "spark": "STRING", "ansi": f"VARCHAR({text_length})"}[dialect]

    def ident(self, name: str) -> str:
        if PLAIN.fullmatch(name) and name not in RESERVED:
            return name
        q = self.quote_char
        return q + name.replace(q, q + q) + q

    def string(self, value: str) -> str:
        if self.dialect == "spark":
            # Spark reads backslash escapes in literals, and '' is two adjacent literals.
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + value.replace("'", "''") + "'"

    @staticmethod
    def number(value) -> str:
        value = float(value)
        if not math.isfinite(value):
            raise CardError(f"the card holds a non-finite number ({value}); SQL cannot state it")
        text = repr(value)
        return text if "e" in text else text + "E0"

    def is_missing(self, x: str) -> str:
        if self.dialect == "ansi":
            return f"{x} IS NULL OR {x} <> {x} OR {x} > {MAX_DOUBLE}"
        return f"{x} IS NULL OR isnan({x})"

    def as_number(self, column: str) -> str:
        return f"CAST({column} AS {self.double})"

    def as_category(self, column: str) -> str:
        """Text of a categorical column, as Python's ``_as_category`` reads it."""
        text = f"CAST({column} AS {self.text})"
        if self.dialect == "ansi":
            return text
        float_types = "('FLOAT', 'DOUBLE')" if self.dialect == "duckdb" else "('float', 'double')"
        try_cast = "TRY_CAST" if self.dialect == "duckdb" else "try_cast"
        x = f"{try_cast}({column} AS DOUBLE)"
        return (f"CASE WHEN typeof({column}) IN {float_types} THEN CASE\n"
                f"        WHEN isnan({x}) THEN NULL\n"
                f"        WHEN abs({x}) >= {TWO_POW_63} THEN {text}\n"
                f"        WHEN floor({x}) = {x} THEN CAST(CAST({x} AS BIGINT) AS {self.text})\n"
                f"        ELSE {text} END\n"
                f"      ELSE {text} END")


def _comment(text: str) -> str:
    """Text made safe for a ``--`` comment (no line breaks or control characters)."""
    return re.sub(r"[\x00-\x1f\x7f]", " ", str(text))


def _document(card) -> dict:
    if isinstance(card, cardlib.Card):
        return card.document
    if isinstance(card, (str, Path)):
        return cardlib.load(card).document
    if isinstance(card, dict):
        cardlib.validate(card)
        return card
    raise TypeError(f"card must be a card dict, a scorecard.card.Card or a path, not {type(card).__name__}")


def _check_name(what: str, value) -> str:
    if not isinstance(value, str) or not value or "\x00" in value:
        raise ValueError(f"{what} must be a non-empty string without NUL characters, got {value!r}")
    return value


def _best_points(feature: dict) -> int:
    seen = [b["points"] for b in feature["bins"] if b["count"] > 0]
    if not seen:
        raise CardError(f"feature '{feature['name']}': no bin has training rows (count > 0), "
                        "so the points it can lose are undefined")
    return max(seen)


def _range_condition(x: str, b: dict) -> str:
    parts = []
    if b["lower"] is not None:
        parts.append(f"{x} {'>=' if b['lower_inclusive'] else '>'} {_Writer.number(b['lower'])}")
    if b["upper"] is not None:
        parts.append(f"{x} {'<=' if b['upper_inclusive'] else '<'} {_Writer.number(b['upper'])}")
    return " AND ".join(parts) or f"{x} IS NOT NULL"


def _feature_case(w: _Writer, feature: dict, value: str, target: str) -> list:
    """Select-list items of one feature: a comment naming it, then its CASE, one WHEN per bin."""
    name, kind = feature["name"], feature["type"]
    pad = "      "
    missing = next(b for b in feature["bins"] if b["kind"] == "missing")
    test = w.is_missing(value) if kind == "numeric" else f"{value} IS NULL"
    whens = [f"WHEN {test} THEN {missing['points']}  -- bin {missing['id']}: missing"]
    if kind == "numeric":
        for b in feature["bins"]:
            if b["kind"] == "special":
                values = ", ".join(w.number(v) for v in b["values"])
                whens.append(f"WHEN {value} IN ({values}) THEN {b['points']}  -- bin {b['id']}: special")
        ranges = [b for b in feature["bins"] if b["kind"] == "range"]
        if not ranges:
            raise CardError(f"feature '{name}': a numeric feature needs at least one range bin")
        for b in ranges:
            whens.append(f"WHEN {_range_condition(value, b)} THEN {b['points']}  "
                         f"-- bin {b['id']}: {_comment(cardlib.bin_label(b))}")
        note = None
    else:
        for b in feature["bins"]:
            if b["kind"] == "categories":
                values = ", ".join(w.string(c) for c in b["categories"])
                whens.append(f"WHEN {value} IN ({values}) THEN {b['points']}  -- bin {b['id']}")
        note = "NULL: a category the card does not list (unseen)"
    code = "CASE\n" + "".join(f"{pad}{line}\n" for line in whens) + f"    END AS {target}"
    return [f"-- {_comment(name)} ({kind}; {_comment(feature['reason_code'])} {_comment(feature['reason_text'])})",
            (code, note)]


def _select(items: list, indent: str = "    ") -> str:
    """A select list: each item is an expression ``(code, comment)`` or a ``-- comment`` line.

    Commas go between the expressions (before their trailing comments)."""
    last = max(i for i, item in enumerate(items) if isinstance(item, tuple))
    lines = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            lines.append(indent + item)
            continue
        code, comment = item
        text = indent + code + ("," if i < last else "")
        lines.append(text + (f"  -- {_comment(comment)}" if comment else ""))
    return "\n".join(lines)


def to_sql(card, dialect: str = "duckdb", table: str | Sequence[str] = "applicants",
           id_column: str = "applicant_id", n_reasons: int = 4) -> str:
    """One SQL ``SELECT`` that scores ``table`` exactly as :meth:`Card.apply` does.

    Parameters
    ----------
    card
        The card: its JSON dict (validated here), a :class:`scorecard.card.Card`, or a path.
    dialect
        ``"duckdb"``, ``"spark"`` or ``"ansi"``.
    table
        The table to score: one name, or a sequence of names for a qualified name
        (``("db", "applicants")``). Each part is quoted when it needs to be.
    id_column
        A column copied to the output as its first column.
    n_reasons
        How many reasons per row (0 for none).

    Raises
    ------
    ValueError
        An unknown dialect, an empty name, a name clashing with an output column, a bad
        ``n_reasons``.
    CardError
        The card fails its schema or rules.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    parts = [table] if isinstance(table, str) else list(table) if isinstance(table, Sequence) else [table]
    if not parts:
        raise ValueError("table must name a table")
    for part in parts:
        _check_name("table", part)
    _check_name("id_column", id_column)
    if isinstance(n_reasons, bool) or not isinstance(n_reasons, int) or n_reasons < 0:
        raise ValueError(f"n_reasons must be a whole number >= 0, got {n_reasons!r}")
    document = _document(card)
    features = document["features"]
    names = [f["name"] for f in features]

    longest = max((len(c) for f in features for b in f["bins"] for c in b.get("categories", [])), default=0)
    w = _Writer(dialect, max(255, longest + 1))
    count = len(features)
    weight = 10 ** len(str(count))  # first power of ten above the number of features
    best = [_best_points(f) for f in features] if n_reasons else []

    generated = (["score", cardlib.UNSEEN_FLAG]
                 + [f"{prefix}{n}" for n in names for prefix in ("value_", "bin_points_", "points_", "key_")]
                 + [f"reason_{k}{suffix}" for k in range(1, n_reasons + 1) for suffix in ("", "_text", "_points_lost")]
                 + [f"top_{k}" for k in range(1, n_reasons + 1)])
    if id_column in generated:
        raise ValueError(f"id_column {id_column!r} clashes with a column the statement makes")
    ctes = set(CTE_NAMES) | {f"sc_reason_{k}" for k in range(1, n_reasons + 1)}
    if parts[-1] in ctes:
        raise ValueError(f"table {parts[-1]!r} clashes with a CTE name of the statement ({sorted(ctes)})")

    ident = w.ident
    value = {n: ident(f"value_{n}") for n in names}
    bin_points = {n: ident(f"bin_points_{n}") for n in names}
    points = {n: ident(f"points_{n}") for n in names}
    key = {n: ident(f"key_{n}") for n in names}
    id_ = ident(id_column)
    source = ".".join(ident(p) for p in parts)
    categorical = [f for f in features if f["type"] == "categorical"]

    out = [f"-- Scorecard: {_comment(document['name'])}",
           f"-- model_version {document['model_version']}, schema {document['schema_version']}; "
           f"dialect {dialect}; generated by scorecard.sql.to_sql from the card JSON",
           f"-- score = {document['scaling']['base_points']} base points + the points of each "
           "feature's bin; reasons = the features that lost the most points (ties: card order)",
           "WITH"]

    # 1. Each column read once, typed.
    items = [(id_, None)]
    for f in features:
        column = ident(f["name"])
        expr = w.as_number(column) if f["type"] == "numeric" else w.as_category(column)
        items.append((f"{expr} AS {value[f['name']]}", None))
    out += ["sc_input AS (", "  SELECT", _select(items), f"  FROM {source}", "),"]

    # 2. One CASE per feature: the points of the bin the value falls in.
    items = [(id_, None)]
    for f in features:
        items += _feature_case(w, f, value[f["name"]], bin_points[f["name"]])
    out += ["sc_bins AS (", "  SELECT", _select(items), "  FROM sc_input", "),"]

    # 3. Unseen categories take the points of the card's unseen bin.
    items = [(id_, None)]
    for f in features:
        n = f["name"]
        if f["type"] == "categorical":
            unseen = f["bins"][f["unseen"]["bin_id"]]
            items.append((f"COALESCE({bin_points[n]}, {unseen['points']}) AS {points[n]}",
                          f"unseen: bin {unseen['id']}"))
        else:
            items.append((f"{bin_points[n]} AS {points[n]}", None))
    items += [(bin_points[f["name"]], "NULL = unseen") for f in categorical]
    out += ["sc_points AS (", "  SELECT", _select(items), "  FROM sc_bins", ")"]

    # 4. Reasons: a sort key per feature, then the k-th largest key, rank by rank.
    previous = "sc_points"
    if n_reasons:
        out[-1] += ","
        items = [("*", None)]
        for i, f in enumerate(features):
            n, lost = f["name"], f"{best[i]} - {points[f['name']]}"
            items.append((f"CASE WHEN {lost} > 0 THEN ({lost}) * {weight} + {count - i} ELSE 0 END AS {key[n]}",
                          f"{f['reason_code']}: most points {best[i]}"))
        out += [f"-- key = points lost * {weight} + ({count} - position in the card), 0 when nothing is lost:",
                "-- unique within a row, and larger for a better reason (more points lost, then card order)",
                "sc_lost AS (", "  SELECT", _select(items), "  FROM sc_points", "),"]
        previous = "sc_lost"
        for k in range(1, n_reasons + 1):
            if k == 1:
                candidates = [key[n] for n in names]
                note = "-- reason 1: the largest key"
            else:
                candidates = [f"CASE WHEN {key[n]} < top_{k - 1} THEN {key[n]} ELSE 0 END" for n in names]
                note = f"-- reason {k}: the largest key below reason {k - 1}'s"
            body = ",\n      ".join(["0", *candidates])
            out += [note,
                    f"sc_reason_{k} AS (",
                    f"  SELECT *, GREATEST(\n      {body}\n    ) AS top_{k}",
                    f"  FROM {previous}",
                    ")," if k < n_reasons else ")"]
            previous = f"sc_reason_{k}"

    # 5. The output columns, in Python's order.
    total = "\n".join([str(document["scaling"]["base_points"])] + [f"    + {points[n]}" for n in names])
    items = [(id_, None), (f"{total} AS score", None)]
    items += [(points[n], None) for n in names]
    for k in range(1, n_reasons + 1):
        slot = f"MOD(top_{k}, {weight})"
        codes = " ".join(f"WHEN {count - i} THEN {w.string(f['reason_code'])}" for i, f in enumerate(features))
        items.append((f"CASE {slot} {codes} END AS reason_{k}", None))
        texts = "".join(f"\n    WHEN {count - i} THEN {w.string(f['reason_text'])}" for i, f in enumerate(features))
        items.append((f"CASE {slot}{texts}\n  END AS reason_{k}_text", None))
        items.append((f"CAST((top_{k} - {slot}) / {weight} AS INTEGER) AS reason_{k}_points_lost", None))
    flag = ident(cardlib.UNSEEN_FLAG)
    if categorical:
        pieces = " || ".join(f"CASE WHEN {bin_points[f['name']]} IS NULL THEN {w.string(',' + f['name'])} ELSE '' END"
                             for f in categorical)
        items.append((f"SUBSTRING({pieces} FROM 2) AS {flag}", "unseen categorical features, card order"))
    else:
        items.append((f"'' AS {flag}", None))
    out += ["SELECT", _select(items, indent="  "), f"FROM {previous}"]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scorecard.sql", description="Print the card as one SQL SELECT.")
    parser.add_argument("--card", default=str(DEFAULT_CARD), help="the card JSON (default: the packaged card)")
    parser.add_argument("--dialect", default="duckdb", choices=DIALECTS)
    parser.add_argument("--table", default="applicants")
    parser.add_argument("--id-column", default="applicant_id")
    parser.add_argument("--n-reasons", type=int, default=4)
    args = parser.parse_args(argv)
    try:
        text = to_sql(args.card, args.dialect, args.table, args.id_column, args.n_reasons)
    except (CardError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
