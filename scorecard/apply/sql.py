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

``to_sql(..., compact=True)`` (DuckDB only) gives the statement ``scorecard score`` runs: the
same values with fewer operations per row (reasons packed in a bit mask, texts as ENUMs; see
:func:`_compact_sql`). ``reason_texts=False`` leaves the ``reason_k_text`` columns out of
either statement.

Run ``python -m scorecard.apply.sql --dialect duckdb`` to print the statement for the packaged card.
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
DEFAULT_CARD = Path(__file__).resolve().parent.parent / "scorecard.json"

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
COMPACT_CTE_NAMES = ("sc_input", "sc_codes", "sc_sums", "sc_ranks")
#: The compact statement packs a row's reasons into one BIGINT: one bit per (feature, points
#: lost) pair of the card, above the bits that hold the sum of the points. When the card needs
#: more than this many bits, it ranks the reasons as the readable statement does.
MASK_BITS = 62
#: The compact statement types the unseen flag as an ENUM of every combination of the card's
#: categorical features when there are at most this many (2**6 = 64 values); else as text.
FLAG_ENUM_FEATURES = 6
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


def _opening(document: dict, kind: str, w: _Writer, id_: str, features: list, value: dict,
             source: str) -> list[str]:
    """The header comments and the ``sc_input`` CTE (each column read once, typed)."""
    out = [f"-- Scorecard: {_comment(document['name'])}",
           f"-- model_version {document['model_version']}, schema {document['schema_version']}; "
           f"{kind}; generated by scorecard.apply.sql.to_sql from the card JSON",
           f"-- score = {document['scaling']['base_points']} base points + the points of each "
           "feature's bin; reasons = the features that lost the most points (ties: card order)",
           "WITH"]
    items = [(id_, None)]
    for f in features:
        column = w.ident(f["name"])
        expr = w.as_number(column) if f["type"] == "numeric" else w.as_category(column)
        items.append((f"{expr} AS {value[f['name']]}", None))
    return out + ["sc_input AS (", "  SELECT", _select(items), f"  FROM {source}", "),"]


def to_sql(card, dialect: str = "duckdb", table: str | Sequence[str] = "applicants",
           id_column: str = "applicant_id", n_reasons: int = 4, *, reason_texts: bool = True,
           compact: bool = False) -> str:
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
    reason_texts
        False: leave the ``reason_k_text`` columns out (the codes stay; their texts are in
        the card).
    compact
        DuckDB only: the compact statement that ``scorecard score`` runs (see
        :func:`compact_types`): the same values, computed with fewer operations per row and
        with the text columns typed as ``ENUM`` (written to Parquet as plain strings).

    Raises
    ------
    ValueError
        An unknown dialect, an empty name, a name clashing with an output column, a bad
        ``n_reasons``, ``compact`` with another dialect than DuckDB.
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
    if compact and dialect != "duckdb":
        raise ValueError(f"the compact statement is DuckDB SQL; dialect {dialect!r} has the readable one only")
    document = _document(card)
    features = document["features"]
    names = [f["name"] for f in features]

    longest = max((len(c) for f in features for b in f["bins"] for c in b.get("categories", [])), default=0)
    w = _Writer(dialect, max(255, longest + 1))
    count = len(features)
    weight = 10 ** len(str(count))  # first power of ten above the number of features
    best = [_best_points(f) for f in features] if n_reasons else []

    generated = (["score", cardlib.UNSEEN_FLAG, "sc_total", "sc_unseen"]
                 + [f"{prefix}{n}" for n in names for prefix in ("value_", "bin_points_", "points_", "key_", "code_")]
                 + [f"reason_{k}{suffix}" for k in range(1, n_reasons + 1) for suffix in ("", "_text", "_points_lost")]
                 + [f"{prefix}{k}" for k in range(1, n_reasons + 2) for prefix in ("top_", "sc_mask_", "sc_rank_")])
    if id_column in generated:
        raise ValueError(f"id_column {id_column!r} clashes with a column the statement makes")
    ctes = set(CTE_NAMES) | set(COMPACT_CTE_NAMES) | {f"sc_reason_{k}" for k in range(1, n_reasons + 1)}
    if parts[-1] in ctes:
        raise ValueError(f"table {parts[-1]!r} clashes with a CTE name of the statement ({sorted(ctes)})")
    if compact:
        return _compact_sql(document, w, ".".join(w.ident(p) for p in parts), id_column, n_reasons, reason_texts)

    ident = w.ident
    value = {n: ident(f"value_{n}") for n in names}
    bin_points = {n: ident(f"bin_points_{n}") for n in names}
    points = {n: ident(f"points_{n}") for n in names}
    key = {n: ident(f"key_{n}") for n in names}
    id_ = ident(id_column)
    source = ".".join(ident(p) for p in parts)
    categorical = [f for f in features if f["type"] == "categorical"]

    # 1. Each column read once, typed.
    out = _opening(document, f"dialect {dialect}", w, id_, features, value, source)

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
        if reason_texts:
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


# -- the compact statement (DuckDB) -------------------------------------------------------------
def _reason_positions(features: list[dict], best: list[int], weight: int) -> list[tuple[int, int]]:
    """Every (feature index, points lost > 0) pair of the card, best reason first: most points
    lost, ties by card order (the sort key of the readable statement)."""
    count = len(features)
    pairs = {(i, best[i] - b["points"]) for i, f in enumerate(features) for b in f["bins"] if best[i] > b["points"]}
    return sorted(pairs, key=lambda pair: -(pair[1] * weight + count - pair[0]))


def _flag_values(categorical: list[str]) -> list[str]:
    """The unseen flag of every combination of unseen categorical features: bit j of the index
    is the j-th categorical feature (card order)."""
    return [",".join(n for j, n in enumerate(categorical) if u >> j & 1) for u in range(2 ** len(categorical))]


def _enum(w: _Writer, values: list[str]) -> str:
    return "ENUM(" + ", ".join(w.string(v) for v in dict.fromkeys(values)) + ")"


def compact_types(card, n_reasons: int = 4) -> dict[str, str]:
    """The DuckDB types of the compact statement's text columns, by output column: ``reason_k``
    an ``ENUM`` of the card's reason codes, ``reason_k_text`` of its reason texts,
    ``unseen_categories`` an ``ENUM`` of every combination of categorical features (``''`` for
    none) when the card has at most :data:`FLAG_ENUM_FEATURES` of them, else ``VARCHAR``.

    ENUM columns cost a small integer per row; DuckDB writes them to Parquet and CSV as plain
    text, so a reader sees strings."""
    return _compact_types(_document(card), n_reasons)


def _compact_types(document: dict, n_reasons: int) -> dict[str, str]:
    w = _Writer("duckdb", 255)
    features = document["features"]
    codes = _enum(w, [f["reason_code"] for f in features])
    texts = _enum(w, [f["reason_text"] for f in features])
    categorical = [f["name"] for f in features if f["type"] == "categorical"]
    flag = _enum(w, _flag_values(categorical)) if len(categorical) <= FLAG_ENUM_FEATURES else "VARCHAR"
    types = {}
    for k in range(1, n_reasons + 1):
        types[f"reason_{k}"] = codes
        types[f"reason_{k}_text"] = texts
    types[cardlib.UNSEEN_FLAG] = flag
    return types


def _compact_sql(document: dict, w: _Writer, source: str, id_column: str, n_reasons: int,
                 reason_texts: bool) -> str:
    """The compact DuckDB statement: the readable one's values with fewer operations per row.

    * One ``CASE`` per feature gives a *code* per bin: special values first, then the ranges
      (or category lists) in card order, the missing bin last (the ``ELSE`` of a numeric
      feature: NULL and NaN fail every other test, the last range stopping at +inf), so
      most rows skip the missing test. A range whose lower edge the ranges before it
      already cover is tested by its upper edge alone: one comparison per edge. Without
      reasons the code is the bin's points.
    * With reasons, the code is ``bit << S | (points + offset)``: ``offset`` makes the points
      of every bin of the feature >= 0 and ``S`` leaves room for their sum, so the sum of
      a row's codes holds the score (low ``S`` bits) and a mask (high bits) with one bit
      per (feature, points lost) pair of the card, ordered best reason first (most points
      lost, ties by card order). The k-th reason is then the k-th lowest set bit, found
      with two integer operations (``m & -m``, ``m & (m - 1)``), and its code, text and
      points lost are read from constant lists. A card needing more than
      :data:`MASK_BITS` bits ranks its reasons with the readable statement's keys instead.
    * Texts (reason codes and texts, the unseen flag) are ENUM values from constant lists
      (:func:`compact_types`), not strings built per row.
    """
    features = document["features"]
    names = [f["name"] for f in features]
    count = len(features)
    weight = 10 ** len(str(count))
    ident = w.ident
    id_ = ident(id_column)
    categorical = [f["name"] for f in features if f["type"] == "categorical"]
    best = [_best_points(f) for f in features] if n_reasons else []
    offset = [-min(b["points"] for b in f["bins"]) for f in features]
    span = sum(max(b["points"] for b in f["bins"]) + offset[i] for i, f in enumerate(features))
    shift = max(1, span.bit_length())  # the sum of (points + offset) fits in `shift` bits
    positions = _reason_positions(features, best, weight) if n_reasons else []
    packed = bool(n_reasons) and len(positions) + shift <= MASK_BITS
    position = {pair: k for k, pair in enumerate(positions)}
    low = (1 << shift) - 1

    def code(i: int, b: dict) -> str:
        if not packed:
            return str(b["points"])
        lost = best[i] - b["points"]
        bit = 1 << position[(i, lost)] if lost > 0 else 0
        return str((bit << shift) + b["points"] + offset[i])

    value = {n: ident(f"value_{n}") for n in names}
    code_of = {n: ident(f"code_{n}") for n in names}
    points = {n: ident(f"points_{n}") for n in names}
    types = _compact_types(document, n_reasons)
    mode = (f"reasons packed in a {len(positions)}-bit mask above {shift} bits of points" if packed
            else "reasons ranked by keys" if n_reasons else "no reasons")
    # 1. Each column read once, typed (as the readable statement).
    out = _opening(document, f"compact DuckDB statement ({mode})", w, id_, features, value, source)

    # 2. One CASE per feature: the code of the bin the value falls in (NULL: unseen category).
    # The missing bin is tested last (ELSE for a numeric feature): the other tests are false
    # for NULL, and for NaN too (DuckDB orders NaN above +inf, so the unbounded last range
    # stops at +inf), so most rows skip the missing test.
    infinity = "CAST('Infinity' AS DOUBLE)"
    items = [(id_, None)]
    for i, f in enumerate(features):
        name, x = f["name"], value[f["name"]]
        missing = next(b for b in f["bins"] if b["kind"] == "missing")
        whens = []
        below = None   # (upper, upper_inclusive) of the ranges tested so far, unbroken from -inf
        for b in sorted(f["bins"], key=lambda b: b["kind"] != "special"):  # special values first
            if b["kind"] == "special":
                values = ", ".join(w.number(v) for v in b["values"])
                whens.append(f"WHEN {x} IN ({values}) THEN {code(i, b)}  -- bin {b['id']}: special")
            elif b["kind"] == "range":
                # A value reaching this WHEN failed the earlier ranges: when they cover every
                # number below this range's lower edge, that edge needs no test of its own.
                implied = b["lower"] is None or below == (b["lower"], not b["lower_inclusive"])
                bounds = dict(b, lower=None) if implied else b
                condition = _range_condition(x, bounds) if b["upper"] is not None else " AND ".join(
                    [*([_range_condition(x, bounds)] if bounds["lower"] is not None else []),
                     f"{x} <= {infinity}"])
                below = (b["upper"], b["upper_inclusive"]) if implied else None
                whens.append(f"WHEN {condition} THEN {code(i, b)}  -- bin {b['id']}: {_comment(cardlib.bin_label(b))}")
            elif b["kind"] == "categories":
                categories = ", ".join(w.string(c) for c in b["categories"])
                whens.append(f"WHEN {x} IN ({categories}) THEN {code(i, b)}  -- bin {b['id']}: "
                             f"{_comment(cardlib.bin_label(b))}")
        if f["type"] == "numeric":
            whens.append(f"ELSE {code(i, missing)}  -- bin {missing['id']}: missing (NULL, NaN)")
        else:
            whens.append(f"WHEN {x} IS NULL THEN {code(i, missing)}  -- bin {missing['id']}: missing")
        items.append(f"-- {_comment(name)} ({f['type']}; {_comment(f['reason_code'])} {_comment(f['reason_text'])})")
        body = "".join(f"      {line}\n" for line in whens)
        items.append((f"CASE\n{body}    END AS {code_of[name]}",
                      "NULL: a category the card does not list (unseen)" if f["type"] == "categorical" else None))
    out += ["sc_codes AS (", "  SELECT", _select(items), "  FROM sc_input", "),"]

    # 3. Unseen categories take the code of the card's unseen bin; the codes are summed.
    items = [(id_, None)]
    scored = {}  # the code of each feature, unseen categories included
    for i, f in enumerate(features):
        n = f["name"]
        if f["type"] == "categorical":
            unseen = f["bins"][f["unseen"]["bin_id"]]
            scored[n] = f"COALESCE({code_of[n]}, {code(i, unseen)})"
            items.append((f"{scored[n]} AS {code_of[n]}", f"unseen: bin {unseen['id']}"))
        else:
            scored[n] = code_of[n]
            items.append((code_of[n], None))
    if types[cardlib.UNSEEN_FLAG] == "VARCHAR":
        pieces = " || ".join(f"CASE WHEN {code_of[n]} IS NULL THEN {w.string(',' + n)} ELSE '' END"
                             for n in categorical)
        items.append((f"SUBSTRING({pieces} FROM 2) AS sc_unseen", "unseen categorical features, card order"))
    elif categorical:
        bits = " + ".join(f"CAST({code_of[n]} IS NULL AS INTEGER) * {1 << j}" for j, n in enumerate(categorical))
        items.append((f"{bits} AS sc_unseen", "bit j: the j-th categorical feature is unseen"))
    else:
        items.append(("0 AS sc_unseen", None))
    total = "\n      + ".join(scored[n] for n in names)
    items.append((f"CAST({total} AS BIGINT) AS sc_total", None))
    out += ["sc_sums AS (", "  SELECT", _select(items), "  FROM sc_codes", ")"]

    # 4. Reasons, rank by rank.
    previous = "sc_sums"
    if packed:
        out[-1] += ","
        out += [f"-- the mask: bit p = the p-th (feature, points lost) pair of the card, best reason first",
                "sc_ranks AS (", f"  SELECT *, sc_total >> {shift} AS sc_mask_1", "  FROM sc_sums", ")"]
        previous = "sc_ranks"
        for k in range(1, n_reasons + 1):
            nxt = f",\n    sc_mask_{k} & (sc_mask_{k} - 1) AS sc_mask_{k + 1}" if k < n_reasons else ""
            out[-1] += ","
            out += [f"-- reason {k}: the lowest bit left (its position + 1; 65 when none is left)",
                    f"sc_rank_{k} AS (",
                    f"  SELECT *, bit_count((sc_mask_{k} & -sc_mask_{k}) - 1) + 1 AS sc_rank_{k}{nxt}",
                    f"  FROM {previous}", ")"]
            previous = f"sc_rank_{k}"
    elif n_reasons:
        out[-1] += ","
        items = [("*", None)]
        for i, f in enumerate(features):
            lost = f"{best[i]} - {code_of[f['name']]}"
            items.append((f"CASE WHEN {lost} > 0 THEN ({lost}) * {weight} + {count - i} ELSE 0 END AS "
                          f"{ident('key_' + f['name'])}", None))
        out += [f"-- key = points lost * {weight} + ({count} - position in the card), 0 when nothing is lost",
                "sc_ranks AS (", "  SELECT", _select(items), "  FROM sc_sums", ")"]
        previous = "sc_ranks"
        keys = [ident(f"key_{n}") for n in names]
        for k in range(1, n_reasons + 1):
            candidates = keys if k == 1 else [f"CASE WHEN {key} < top_{k - 1} THEN {key} ELSE 0 END" for key in keys]
            body = ",\n      ".join(["0", *candidates])
            out[-1] += ","
            out += [f"sc_rank_{k} AS (", f"  SELECT *, GREATEST(\n      {body}\n    ) AS top_{k}",
                    f"  FROM {previous}", ")"]
            previous = f"sc_rank_{k}"

    # 5. The output columns, in Python's order.
    base = document["scaling"]["base_points"]
    if packed:
        items = [(id_, None), (f"(sc_total & {low}) + {base - sum(offset)} AS score", None)]
        items += [(f"({code_of[n]} & {low}){f' - {offset[i]}' if offset[i] else ''} AS {points[n]}", None)
                  for i, n in enumerate(names)]
    else:
        items = [(id_, None), (f"sc_total + {base} AS score", None)]
        items += [(f"{code_of[n]} AS {points[n]}", None) for n in names]
    by = positions if packed else [(i, None) for i in range(count)]
    codes = ", ".join(w.string(features[i]["reason_code"]) for i, _ in by)
    texts = ", ".join(w.string(features[i]["reason_text"]) for i, _ in by)
    for k in range(1, n_reasons + 1):
        if packed:
            # points lost by position; 0 at position 65 (no reason left)
            padded = [str(l) for _, l in positions] + ["0"] * (65 - len(positions))
            index, lost = f"sc_rank_{k}", f"CAST([{', '.join(padded)}] AS BIGINT[])[sc_rank_{k}]"
        else:
            index, lost = f"{count + 1} - top_{k} % {weight}", f"top_{k} // {weight}"
        items.append((f"([{codes}]::{types[f'reason_{k}']}[])[{index}] AS reason_{k}", None))
        if reason_texts:
            items.append((f"([{texts}]::{types[f'reason_{k}_text']}[])[{index}] AS reason_{k}_text", None))
        items.append((f"{lost} AS reason_{k}_points_lost", None))
    flag_type = types[cardlib.UNSEEN_FLAG]
    flag = ident(cardlib.UNSEEN_FLAG)
    if flag_type == "VARCHAR":
        items.append((f"sc_unseen AS {flag}", None))
    else:
        flags = ", ".join(w.string(v) for v in _flag_values(categorical))
        items.append((f"([{flags}]::{flag_type}[])[sc_unseen + 1] AS {flag}",
                      "unseen categorical features, card order"))
    out += ["SELECT", _select(items, indent="  "), f"FROM {previous}"]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scorecard.apply.sql", description="Print the card as one SQL SELECT.")
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
