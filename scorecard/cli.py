"""The ``scorecard`` command line: score files with the card, print its SQL, check a card.

Run ``python -m scorecard.cli --help``. The work is done by :mod:`scorecard.apply.batch` (scoring),
:mod:`scorecard.apply.sql` (the SQL) and :mod:`scorecard.card` (validation); this module only
parses options, shows progress and prints results.

Exit codes: 0 done; 1 a check failed (``validate-card`` on an invalid card, or rows in !=
scored + rejected); 2 the input, the card or an option is wrong (a one-line message, no
traceback); 130 interrupted.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import sys
import threading
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from scorecard.apply import batch
from scorecard.apply.interrupt import interrupt
from scorecard.errors import ScorecardError

HELP = """Score loan applicants with the exported credit scorecard (scorecard.json).

The card is one JSON document: an applicant's score is the card's base points plus, for \
each feature, the points of the bin the applicant's value falls in. These commands apply \
the card to files, print it as SQL and check card files.

Start with:  python -m scorecard.cli score applicants.csv -o scores.parquet

(or scorecard score ... where the package's scorecard command is installed). Each command \
has its own --help.
"""

app = typer.Typer(name="scorecard", help=HELP, no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False, rich_markup_mode="rich",
                  context_settings={"help_option_names": ["-h", "--help"]})


class Engine(str, Enum):
    duckdb = "duckdb"
    python = "python"
    spark = "spark"


class LogLevel(str, Enum):
    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


class Dialect(str, Enum):
    duckdb = "duckdb"
    spark = "spark"
    ansi = "ansi"


def _stdout() -> Console:
    return Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 120)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def _fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on one red line (stderr) and return the Exit to raise. Line
    breaks become one space; runs of spaces stay (a quoted value is shown as it is)."""
    one_line = re.sub(r"\s*[\r\n]+\s*", " ", str(message)).strip()
    _stderr().print(f"[bold red]error:[/bold red] [red]{escape(one_line)}[/red]", soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def _stop_cleanly_on_signals():
    """Ctrl-C (SIGINT) or SIGTERM during a run: stop it at once, remove its temporary files.

    Python runs signal handlers between bytecodes, which can be many seconds away while
    DuckDB works. So the signal's C-level handler writes to a wakeup pipe (any thread may
    receive it), a watcher thread reading that pipe calls :func:`scorecard.apply.interrupt.interrupt`,
    and the run raises KeyboardInterrupt from its own code after cleaning up.
    """
    if os.name != "posix" or threading.current_thread() is not threading.main_thread():
        yield
        return
    wake_read, wake_write = os.pipe()
    stop_read, stop_write = os.pipe()
    os.set_blocking(wake_write, False)
    signals = (signal.SIGINT, signal.SIGTERM)
    handlers = {s: signal.signal(s, lambda signum, frame: None) for s in signals}
    previous_fd = signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)

    def watch():
        import select

        while True:
            ready, _, _ = select.select([wake_read, stop_read], [], [])
            if stop_read in ready:
                return
            if os.read(wake_read, 512):
                interrupt()

    watcher = threading.Thread(target=watch, name="scorecard-signals", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        os.write(stop_write, b"x")
        watcher.join()
        signal.set_wakeup_fd(previous_fd)
        for s, handler in handlers.items():
            signal.signal(s, handler)
        for fd in (wake_read, wake_write, stop_read, stop_write):
            os.close(fd)


CardOption = Annotated[Path, typer.Option(
    "--card", "-c", help="The card JSON file. Default: the card shipped in the package.",
    show_default=False, dir_okay=False)]


# -- score ------------------------------------------------------------------------------------
def score(
    input: Annotated[Path, typer.Argument(
        help="Applicants to score: a .csv, .csv.gz or .parquet file with the id column and every "
             "feature of the card (other columns are ignored).", show_default=False, dir_okay=False,
        metavar="INPUT")],
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="Where to write the scores: .csv, .csv.gz or .parquet (format from the name). "
                               "Written atomically, rows in input order.", show_default=False, dir_okay=False)],
    card: CardOption = batch.DEFAULT_CARD,
    engine: Annotated[Engine, typer.Option(
        help="duckdb: streams files of any size with the card's SQL. python: pandas and Card.apply, "
             "the reference implementation, for small files. spark: the card's Spark SQL on a local Spark "
             "session (needs Java 17 or 21), a cluster (--master) or Spark Connect (SPARK_REMOTE).")
    ] = Engine.duckdb,
    master: Annotated[str | None, typer.Option(
        "--master", help="Only with --engine spark: where Spark runs. Default local[*] (this machine; "
                         "local[N] with --threads N). A cluster: --master spark://host:7077 (the input and "
                         "the output's folder must be on storage the cluster shares). Spark Connect: leave "
                         "--master out and set SPARK_REMOTE=sc://host:15002 (needs the pyspark\\[connect] "
                         "packages: grpcio, grpcio-status, googleapis-common-protos, zstandard).",
        show_default=False)] = None,
    id_column: Annotated[str, typer.Option(
        "--id-column", help="Column that identifies each applicant; must be unique and non-empty.")] = batch.DEFAULT_ID,
    reasons: Annotated[int, typer.Option(
        "--reasons", min=0, help="How many reasons (the features that cost the most points) to give per row; "
                                 "0: score and points only (the fastest).")] = 4,
    reason_texts: Annotated[bool, typer.Option(
        "--reason-texts/--no-reason-texts", help="Write each reason's text next to its code (reason_k_text). "
                                                 "Without: the codes only; their texts are in the card.")] = True,
    rejects: Annotated[Path | None, typer.Option(
        "--rejects", help="Where rejected rows go (id, line, reason). Default: OUTPUT with .rejects before "
                          "its extension.", show_default=False, dir_okay=False)] = None,
    memory_limit: Annotated[str, typer.Option(
        "--memory-limit", help="Memory DuckDB may use before it spills to disk beside the output (e.g. 512MB, 4GB).")
    ] = batch.DEFAULT_MEMORY_LIMIT,
    threads: Annotated[int | None, typer.Option(
        "--threads", min=1, help="DuckDB threads. Default: one per core.", show_default=False)] = None,
    progress: Annotated[bool | None, typer.Option(
        "--progress/--no-progress", help="Show a progress bar. Default: only when the terminal is interactive.",
        show_default=False)] = None,
    encoding: Annotated[str, typer.Option(
        "--encoding", help="The text encoding of a CSV input, e.g. latin-1 for a file saved by a Spanish-language "
                           "Excel ('Querétaro'); it is converted to UTF-8 beside the output before scoring "
                           "(line numbers unchanged).")] = "utf-8",
):
    """Score a CSV or Parquet file of applicants with the card.

    Every row is checked before it is scored. Rows with an empty or repeated id, or with
    text that is not a number in a numeric feature, are [bold]rejected[/bold]: written to
    the rejects file with their line and the reason, not scored. Categories the card has
    never seen are scored by the card's rule and named in the column unseen_categories.

    The run ends with a summary: rows read, scored and rejected (rows in always equal
    scored + rejected), reasons, unseen categories and the score distribution.

    Example: python -m scorecard.cli score applicants.csv.gz -o scores.parquet
    """
    if master is not None and engine is not Engine.spark:
        raise _fail(f"--master {master} is only for --engine spark (the engine is {engine.value})")
    err = _stderr()
    show = err.is_terminal if progress is None else progress
    bar = Progress(SpinnerColumn(), TextColumn("{task.description:<20}"), BarColumn(), TaskProgressColumn(),
                   TimeElapsedColumn(), console=err, transient=True, disable=not show)
    tasks: dict[str, int] = {}

    steps = batch.ENGINE_STEPS[engine.value]

    def report(step: str, fraction: float | None) -> None:
        if step not in tasks:
            for other in tasks.values():
                bar.update(other, visible=False)
            label = f"{steps.index(step) + 1}/{len(steps)} {step}" if step in steps else step
            tasks[step] = bar.add_task(label, total=None if fraction is None else 1.0)
        if fraction is not None:
            bar.update(tasks[step], total=1.0, completed=fraction)

    try:
        codec = _codec(encoding)
    except ScorecardError as error:
        raise _fail(str(error)) from None
    converted: Path | None = None
    try:
        source = input
        if codec != "utf-8" and input.is_file():
            converted = source = _to_utf8(input, codec, output)
        with _stop_cleanly_on_signals(), bar:
            result = batch.score_file(source, output, card=card, engine=engine.value, id_column=id_column,
                                      n_reasons=reasons, reason_texts=reason_texts, rejects_path=rejects,
                                      memory_limit=memory_limit,
                                      threads=threads, progress=report, master=master)
        if converted is not None:
            result = dataclasses.replace(result, input=input, input_format=f"{result.input_format}, {encoding}")
    except ScorecardError as error:
        raise _fail(_encoding_message(input, codec, encoding) or str(error)
                    if _is_encoding_error(str(error)) else str(error)) from None
    except OSError as error:
        where = f"{error.filename}: {error.strerror}" if error.filename and error.strerror else str(error)
        raise _fail(where) from None
    except KeyboardInterrupt:
        raise _fail("interrupted; no output was written", 130) from None
    finally:
        if converted is not None:
            converted.unlink(missing_ok=True)
    _print_summary(result)
    if not result.balanced:
        raise _fail(f"row accounting failed: {result.rows_in:,} rows in but {result.rows_scored:,} scored + "
                    f"{result.rows_rejected:,} rejected; nothing was written", 1)


# -- text encodings: --encoding, and where a file stops being the text it is read as ----------
def _codec(encoding: str) -> str:
    """The codec's canonical name ('utf-8', 'latin-1'...), or a BatchError naming the option."""
    import codecs

    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise batch.BatchError(f"--encoding {encoding!r}: unknown text encoding; use e.g. utf-8 or latin-1") from None
    return {"utf-8-sig": "utf-8", "iso8859-1": "latin-1"}.get(name, name)


def _is_encoding_error(message: str) -> bool:
    lower = message.lower()
    return "not utf-8" in lower or "invalid unicode" in lower or "not valid utf-8" in lower


def _open_binary(path: Path):
    import gzip

    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _first_bad_byte(path: Path, codec: str) -> tuple[int, int, bytes, bytes] | None:
    """The line (header = 1), byte offset, byte and surrounding bytes of the first byte of
    ``path`` that is not ``codec`` text; None when every byte is. Reads the file once, in blocks."""
    consumed, lines, pending = 0, 0, b""
    with _open_binary(path) as handle:
        while True:
            block = handle.read(1 << 20)
            data, final = pending + block, not block
            try:
                data.decode(codec)
                done = len(data)
            except UnicodeDecodeError as error:
                incomplete = error.reason == "unexpected end of data" and not final
                if not incomplete:
                    at = error.start
                    return (lines + data.count(b"\n", 0, at) + 1, consumed + at, data[at:at + 1],
                            data[max(at - 20, 0):at + 20])
                done = error.start
            lines += data.count(b"\n", 0, done)
            consumed += done
            pending = data[done:]
            if final:
                return None


def _encoding_message(path: Path, codec: str, given: str) -> str | None:
    """The message for a file that is not the text it is read as: the encoding, the line and
    the byte, and what to do. None when the file cannot be read or every byte is fine."""
    try:
        found = _first_bad_byte(path, codec)
    except OSError:
        return None
    if found is None:
        return None
    line, offset, byte, near = found
    hint = ("if it was saved as Latin-1 (e.g. 'Querétaro' from a Spanish-language Excel), pass --encoding latin-1, "
            "or save it as UTF-8" if codec == "utf-8" else "pass the file's encoding with --encoding")
    return (f"{path}: not {given.upper() if codec == 'utf-8' else given} text (read as --encoding {given}) at line "
            f"{line}, byte {offset}{' of the decompressed text' if path.name.lower().endswith('.gz') else ''}: "
            f"byte {byte!r} in {near!r}; {hint}")


def _to_utf8(path: Path, codec: str, output: Path) -> Path:
    """A UTF-8 copy of a CSV in another encoding, hidden beside the output (removed by the caller)."""
    import codecs
    import secrets

    if batch.file_format(path).kind != "csv":
        raise batch.BatchError(f"--encoding applies to CSV input; {path} is Parquet (its text is always UTF-8)")
    if path.resolve() == output.resolve():
        raise batch.BatchError(f"{output}: the output would overwrite {path}; choose another name")
    output.parent.mkdir(parents=True, exist_ok=True)
    target = output.parent / f".scorecard-{secrets.token_hex(6)}.input.csv"
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    try:
        with _open_binary(path) as source, open(target, "w", encoding="utf-8", newline="") as sink:
            while block := source.read(1 << 20):
                sink.write(decoder.decode(block))
            sink.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        target.unlink(missing_ok=True)
        raise batch.BatchError(_encoding_message(path, codec, codec) or f"{path}: not {codec} text") from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _print_summary(r: batch.BatchResult) -> None:
    out = _stdout()
    table = Table(title="Scoring summary", show_header=False, title_justify="left", box=None, padding=(0, 2))
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("card", escape(f"{r.card_name} — version {r.card_version}"))
    table.add_row("engine", r.engine)
    table.add_row("input", escape(f"{r.input} ({r.input_format})"))
    table.add_row("rows read", f"{r.rows_in:,}")
    table.add_row("rows scored", f"{r.rows_scored:,}")
    table.add_row("rows rejected", f"{r.rows_rejected:,}")
    mark = "[green]ok[/green]" if r.balanced else "[bold red]FAILED[/bold red]"
    table.add_row("rows in = scored + rejected",
                  f"{r.rows_in:,} = {r.rows_scored:,} + {r.rows_rejected:,}  {mark}")
    extras = ", ".join(r.extra_columns) if r.extra_columns else "none"
    table.add_row("columns ignored", escape(f"{len(r.extra_columns)}: {extras}" if r.extra_columns else extras))
    written = "written" if r.published else "[red]not written[/red]"
    table.add_row("output", f"{escape(str(r.output))} ({r.output_format}, {written})")
    table.add_row("rejects", f"{escape(str(r.rejects))} ({written})")
    rate = f", {r.rows_per_second:,.0f} rows/s" if r.seconds > 0 else ""
    table.add_row("time", f"{r.seconds:,.1f} s{rate}")
    out.print(table)

    for title, label, counts in (
        ("Rejected rows by reason (a row may have several)", "reason", r.rejected_by_reason),
        ("Unseen categories (scored by the card's rule and flagged)", "feature", r.unseen_by_feature),
    ):
        if counts:
            counted = Table(title=title, title_justify="left", min_width=60)
            counted.add_column(label)
            counted.add_column("rows", justify="right")
            for key, count in counts.items():
                counted.add_row(escape(key), f"{count:,}")
            out.print(counted)

    scores = Table(title="Score distribution (scored rows)", title_justify="left", min_width=60)
    for name in ("min", "p10", "p50", "p90", "max", "mean"):
        scores.add_column(name, justify="right")
    if r.score:
        scores.add_row(*(_number(r.score[k]) if k != "mean" else f"{r.score[k]:,.2f}"
                         for k in ("min", "p10", "p50", "p90", "max", "mean")))
    else:
        scores.add_row(*["-"] * 6)
    out.print(scores)


# -- sql --------------------------------------------------------------------------------------
def sql(
    dialect: Annotated[Dialect, typer.Option(
        help="SQL dialect: duckdb, spark (Spark SQL 3.2+) or ansi (standard SQL).")] = Dialect.duckdb,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the statement to this file instead of printing it.", show_default=False,
        dir_okay=False)] = None,
    card: CardOption = batch.DEFAULT_CARD,
    table: Annotated[str, typer.Option(
        help="The table to score (a dotted name is split: db.applicants).")] = "applicants",
    id_column: Annotated[str, typer.Option(
        "--id-column", help="Column copied to the output first.")] = batch.DEFAULT_ID,
    reasons: Annotated[int, typer.Option("--reasons", min=0, help="How many reasons per row.")] = 4,
):
    """Print the card as one SQL SELECT that scores a table inside a database.

    The statement gives, for every row, the same columns as the score command: the id,
    score, points per feature, reasons and unseen_categories.

    Example: python -m scorecard.cli sql --dialect spark -o score.sql
    """
    from scorecard.apply.sql import to_sql

    try:
        text = to_sql(batch.load_card(card), dialect.value, tuple(table.split(".")), id_column, reasons)
    except (ScorecardError, ValueError) as error:
        raise _fail(str(error)) from None
    if output is None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:  # e.g. piped into head: not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        part = output.with_name(f".{output.name}.part")
        part.write_text(text, encoding="utf-8")
        os.replace(part, output)
    except OSError as error:
        raise _fail(f"{output}: cannot write ({error.strerror or error})") from None
    _stderr().print(f"wrote {escape(str(output))} ({dialect.value}, {len(text.splitlines())} lines)")


# -- validate-card ----------------------------------------------------------------------------
def validate_card(
    path: Annotated[Path, typer.Argument(
        help="The card JSON file to check. Default: the card shipped in the package.", show_default=False,
        dir_okay=False, metavar="PATH")] = batch.DEFAULT_CARD,
):
    """Check that a card file follows the scorecard schema and its rules.

    Exit code 0 when it does; 1, with the problems (each with its JSON path), when it does not.
    """
    try:
        card = batch.validate_card_file(path)
    except ScorecardError as error:
        raise _fail(str(error), 1) from None
    document = card.document
    _stdout().print(f"[green]valid[/green] {escape(str(path))}: {escape(document.get('name', ''))}, "
                    f"version {card.version}, schema {document['schema_version']}, "
                    f"{len(card.features)} features, base points {card.base_points}", soft_wrap=True)


# -- serve ------------------------------------------------------------------------------------
def serve_rules(rules: Path | None = None, no_rules: bool = False,
                params: Path | None = None) -> tuple[Path | None, str]:
    """The business rules ``scorecard serve`` applies, and where that choice comes from.

    Parameters
    ----------
    rules : Path, optional
        ``--rules``: this file, whatever params.yaml says.
    no_rules : bool
        ``--no-rules``: none (scores and reason codes only).
    params : Path, optional
        ``--params``; None: the project's params.yaml (:data:`scorecard.apply.service.DEFAULT_PARAMS`)
        when it exists. Its ``rules.path`` (relative to the params file's folder, the project
        root) is the default; ``rules.path: null`` means no business rules.

    Returns
    -------
    (Path or None, str)
        The rules file (None: no business rules) and how it was chosen, for the log line.
        With no params file and no ``--rules``: :data:`scorecard.apply.service.DEFAULT_RULES`, as
        before params.yaml named the rules.

    Raises
    ------
    typer.BadParameter
        ``--rules`` and ``--no-rules`` together (a usage error: exit code 2).
    ScorecardError
        The params file cannot be read, or the rules file it names does not exist.
    """
    from scorecard.apply import service
    from scorecard.config import load_params
    from scorecard.errors import RulesMismatchError
    from scorecard.card.rules import rules_path

    if rules is not None and no_rules:
        raise typer.BadParameter(f"--rules {rules} and --no-rules contradict each other: give --rules PATH to "
                                 "serve those rules, or --no-rules to serve scores and reason codes only, not both",
                                 param_hint="'--rules' / '--no-rules'")
    if no_rules:
        return None, "--no-rules"
    if rules is not None:
        return rules, f"--rules {rules}"
    source = params if params is not None else (service.DEFAULT_PARAMS if service.DEFAULT_PARAMS.is_file() else None)
    if source is None:   # no params file to ask: the project's rules, as before rules.path existed
        return service.DEFAULT_RULES, f"default {service.DEFAULT_RULES} (no params file)"
    loaded = load_params(source)
    path = rules_path(loaded, Path(source).resolve().parent)
    if path is None:
        return None, f"rules.path: null in {source}"
    if not path.is_file():
        raise RulesMismatchError(f"{source} rules.path: business rules file not found: {loaded.rules.path} "
                                 f"(looked for {path}); set rules.path to a rules file, rules.path: null, "
                                 "or give --rules PATH or --no-rules")
    return path, f"rules.path {loaded.rules.path} in {source}"


def serve(
    card: CardOption = batch.DEFAULT_CARD,
    rules: Annotated[Path | None, typer.Option(
        help="Business rules: cut-offs, policy rules, loan limits per band (checked at start-up against the "
             "card and params.yaml). Default: the file params.yaml names (rules.path, relative to the params "
             "file's folder; null: none); when there is no params file, the project's "
             "business_rules/rules.json.", dir_okay=False, show_default=False)] = None,
    no_rules: Annotated[bool, typer.Option(
        "--no-rules", help="Serve no business rules: scores and reason codes only (band, decision and loan "
                           "limit null, GET /rules 404). Not with --rules.")] = False,
    params: Annotated[Path | None, typer.Option(
        help="The card's params.yaml: enables POST /score/application, which takes the fields an applicant "
             "declares and derives the features and joins the public data as the pipeline did. "
             "Default: the project's params.yaml when it exists.", dir_okay=False, show_default=False)] = None,
    no_params: Annotated[bool, typer.Option(
        "--no-params", help="Serve POST /score only (the caller sends the card's features). The business "
                            "rules are still the ones params.yaml names, checked against the card only.")] = False,
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 for every interface (e.g. in a container).")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    cors_origin: Annotated[list[str] | None, typer.Option(
        "--cors-origin", help="An origin allowed to call the service from a browser, e.g. https://lender.example; "
                              "repeat for several. Default: $SCORECARD_CORS_ORIGINS (comma-separated), else none.",
        show_default=False)] = None,
    max_applicants: Annotated[int, typer.Option(min=1, help="Applicants per request at most.")] = 1000,
    max_body_bytes: Annotated[int, typer.Option(min=1, help="Request body size limit in bytes.")] = 1_000_000,
    log_level: Annotated[LogLevel, typer.Option(
        help="uvicorn's log level; info logs every request, warning only problems.")] = LogLevel.info,
    header_timeout: Annotated[float, typer.Option(
        help="Seconds a connection has to send a request's line and headers (from opening, or from the first "
             "byte of a next request); then 408 and closed. A deadline: a byte now and then does not extend it."
    )] = 10.0,
    body_timeout: Annotated[float, typer.Option(
        help="Seconds a request's whole body has to arrive after its headers; then 408 and closed.")] = 30.0,
    keep_alive_timeout: Annotated[float, typer.Option(
        help="Seconds an idle connection is kept open between two requests.")] = 5.0,
    max_connections: Annotated[int, typer.Option(
        help="Connections served at once; a request on one more gets a 503.")] = 200,
):
    """Serve the card and the business rules over HTTP until stopped (Ctrl-C).

    POST /score takes one applicant (or a list) with the card's features; POST
    /score/application takes what the applicant declared; both answer with the score, band,
    decision, reason codes and the card and rules versions. GET /scorecard, /rules and /health
    describe what is served; /docs is the OpenAPI page. A bad card, rules file or params.yaml
    stops here with a message naming the problem.

    The business rules are the ones params.yaml names (rules.path), checked against the card
    and the params: rules written for other data refuse to start. --rules PATH serves other
    rules; --no-rules (or rules.path: null) serves scores and reason codes only, with band,
    decision and loan limit null.

    Example: scorecard serve --port 8000
    """
    from scorecard.apply import service

    params_path = None if no_params else params or (service.DEFAULT_PARAMS if service.DEFAULT_PARAMS.is_file() else None)
    try:
        # The rules follow params.yaml even with --no-params: it still says which rules apply.
        rules_path, chosen = serve_rules(rules, no_rules, params)
        if rules_path is None:
            _stderr().print(f"no business rules ({escape(chosen)}): serving scores and reason codes only",
                            soft_wrap=True)
        service.serve(card, rules_path, params_path, host=host, port=port, cors_origins=cors_origin or None,
                      max_applicants=max_applicants, max_body_bytes=max_body_bytes, log_level=log_level.value,
                      header_timeout=header_timeout, body_timeout=body_timeout,
                      keep_alive_timeout=keep_alive_timeout, max_connections=max_connections)
    except ScorecardError as error:
        raise _fail(str(error)) from None


def _paragraphs(text: str) -> str:
    """Help text for the terminal: each paragraph of a docstring on one line (rich wraps it)."""
    import inspect

    return "\n\n".join(" ".join(p.split()) for p in inspect.cleandoc(text).split("\n\n"))


app.command("score", help=_paragraphs(score.__doc__), no_args_is_help=True)(score)
app.command("sql", help=_paragraphs(sql.__doc__))(sql)
app.command("validate-card", help=_paragraphs(validate_card.__doc__))(validate_card)
app.command("serve", help=_paragraphs(serve.__doc__))(serve)


# -- monitor --------------------------------------------------------------------------------
class FailOn(str, Enum):
    never = "never"
    warn = "warn"
    alert = "alert"


_STATUS_STYLE = {"ok": "green", "warn": "yellow", "alert": "bold red"}


def _status(text: str) -> str:
    return f"[{_STATUS_STYLE.get(text, 'default')}]{text}[/]"


def monitor_command(
    input: Annotated[Path, typer.Argument(
        help="New applicants: a .csv, .csv.gz or .parquet file with every feature of the card (as for score).",
        show_default=False, dir_okay=False, metavar="NEW_APPLICANTS")],
    card: CardOption = batch.DEFAULT_CARD,
    reference: Annotated[Path, typer.Option(
        "--reference", help="The card's development sample, the population the indices compare with.",
        dir_okay=False)] = Path("data/processed/train.parquet"),
    by_month: Annotated[str | None, typer.Option(
        "--by-month", metavar="COLUMN", help="Also give the indices for each calendar month of this date column "
                                             "(e.g. issue_d).", show_default=False)] = None,
    json_path: Annotated[Path | None, typer.Option(
        "--json", help="Also write the result as JSON to this file.", show_default=False, dir_okay=False)] = None,
    params: Annotated[Path, typer.Option(
        "--params", help="Where the thresholds (monitoring) and the score band width (evaluate.band_width) come "
                         "from; without the file: 0.1 / 0.25 and 20 points.", dir_okay=False)] = Path("params.yaml"),
    fail_on: Annotated[FailOn, typer.Option(
        "--fail-on", help="Exit with code 1 when the worst status reaches this level (never: always exit 0).")
    ] = FailOn.never,
):
    """Check whether new applicants drift from the card's development sample.

    Prints the PSI of the score (over the score bands) and the CSI of each card feature (over
    the card's bins) against the development sample, each with its status: ok below the warn
    threshold, warn from it, alert from the alert threshold (params.yaml, monitoring).

    Exit code 0 whatever the status, unless --fail-on says otherwise; 2 when an input is wrong.

    Example: python -m scorecard.cli monitor data/processed/test.parquet --by-month issue_d
    """
    import json

    from scorecard.watch import monitor as monitoring
    from scorecard.config import MonitoringSpec, load_params

    err = _stderr()
    try:
        no_month = None  # why there is no month-by-month view, when params.yaml has no application date
        if params.is_file():
            loaded = load_params(params)
            thresholds, width = loaded.monitoring, loaded.evaluate.band_width
            no_month = None if loaded.data.date_column else monitoring.NO_DATE_REASON
        elif params == Path("params.yaml"):
            err.print("note: no params.yaml here: default thresholds (0.1 / 0.25) and 20-point score bands")
            thresholds, width = MonitoringSpec(), monitoring.DEFAULT_BAND_WIDTH
        else:
            raise _fail(f"{params}: parameters file not found")
        result = monitoring.run(input, batch.load_card(card), reference, thresholds, width, month_column=by_month,
                                no_month_reason=no_month)
        if json_path is not None:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            part = json_path.with_name(f".{json_path.name}.part")
            part.write_text(json.dumps(result.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
            os.replace(part, json_path)
    except ScorecardError as error:
        raise _fail(str(error)) from None
    except OSError as error:
        where = f"{error.filename}: {error.strerror}" if error.filename and error.strerror else str(error)
        raise _fail(where) from None

    out = _stdout()
    t = result.thresholds
    out.print(f"card {escape(result.card_name)} {result.card_version}: {escape(str(input))} ({result.rows:,} "
              f"applicants) against the development sample {escape(str(reference))} ({result.reference_rows:,})",
              soft_wrap=True)
    table = Table(title="Score PSI and feature CSI", title_justify="left", min_width=60)
    table.add_column("variable")
    table.add_column("index")
    table.add_column("value", justify="right")
    table.add_column("status")
    for row in result.overall.itertuples():
        table.add_row(escape(row.variable), row.measure.upper(), f"{row.value:.4f}", _status(row.status))
    out.print(table)
    if result.by_month is not None:
        months = Table(title=f"By month of {escape(by_month)}", title_justify="left", min_width=60)
        for name, justify in (("month", "left"), ("applicants", "right"), ("score PSI", "right"),
                              ("largest CSI", "right"), ("feature", "left"), ("status", "left")):
            months.add_column(name, justify=justify)
        for row in monitoring.month_summary(result.by_month).itertuples():
            months.add_row(row.month, f"{row.applicants:,}", f"{row.psi_score:.4f}",
                           "-" if row.csi_max is None else f"{row.csi_max:.4f}", escape(str(row.csi_max_feature)),
                           _status(row.status))
        out.print(months)
    for note in result.notes:
        out.print(f"[yellow]note:[/yellow] {escape(note)}", soft_wrap=True)
    out.print(f"status: {_status(result.status)} (PSI warn/alert {t.psi_warn:g}/{t.psi_alert:g}, "
              f"CSI warn/alert {t.csi_warn:g}/{t.csi_alert:g})"
              + (f"; wrote {escape(str(json_path))}" if json_path is not None else ""), soft_wrap=True)
    levels = monitoring.STATUSES
    if fail_on is not FailOn.never and levels.index(result.status) >= levels.index(fail_on.value):
        raise typer.Exit(1)


app.command("monitor", help=_paragraphs(monitor_command.__doc__), no_args_is_help=True)(monitor_command)


def main() -> None:
    """Entry point of the ``scorecard`` command."""
    app()


if __name__ == "__main__":
    main()
