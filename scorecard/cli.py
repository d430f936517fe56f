"""The ``scorecard`` command line: score files with the card, print its SQL, check a card.

Run ``python -m scorecard.cli --help``. The work is done by :mod:`scorecard.batch` (scoring),
:mod:`scorecard.sql` (the SQL) and :mod:`scorecard.card` (validation); this module only
parses options, shows progress and prints results.

Exit codes: 0 done; 1 a check failed (``validate-card`` on an invalid card, or rows in !=
scored + rejected); 2 the input, the card or an option is wrong (a one-line message, no
traceback); 130 interrupted.
"""

from __future__ import annotations

import os
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

from scorecard import batch
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


class Dialect(str, Enum):
    duckdb = "duckdb"
    spark = "spark"
    ansi = "ansi"


def _stdout() -> Console:
    return Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 120)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def _fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on one red line (stderr) and return the Exit to raise."""
    _stderr().print(f"[bold red]error:[/bold red] [red]{escape(' '.join(str(message).split()))}[/red]",
                    soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def _stop_cleanly_on_signals():
    """Ctrl-C (SIGINT) or SIGTERM during a run: stop it at once, remove its temporary files.

    Python runs signal handlers between bytecodes, which can be many seconds away while
    DuckDB works. So the signal's C-level handler writes to a wakeup pipe (any thread may
    receive it), a watcher thread reading that pipe calls :func:`scorecard.batch.interrupt`,
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
                batch.interrupt()

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
             "the reference implementation, for small files.")] = Engine.duckdb,
    id_column: Annotated[str, typer.Option(
        "--id-column", help="Column that identifies each applicant; must be unique and non-empty.")] = batch.DEFAULT_ID,
    reasons: Annotated[int, typer.Option(
        "--reasons", min=0, help="How many reasons (the features that cost the most points) to give per row.")] = 4,
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
        with _stop_cleanly_on_signals(), bar:
            result = batch.score_file(input, output, card=card, engine=engine.value, id_column=id_column,
                                      n_reasons=reasons, rejects_path=rejects, memory_limit=memory_limit,
                                      threads=threads, progress=report)
    except ScorecardError as error:
        raise _fail(str(error)) from None
    except OSError as error:
        where = f"{error.filename}: {error.strerror}" if error.filename and error.strerror else str(error)
        raise _fail(where) from None
    except KeyboardInterrupt:
        raise _fail("interrupted; no output was written", 130) from None
    _print_summary(result)
    if not result.balanced:
        raise _fail(f"row accounting failed: {result.rows_in:,} rows in but {result.rows_scored:,} scored + "
                    f"{result.rows_rejected:,} rejected; nothing was written", 1)


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
    from scorecard.sql import to_sql

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


def _paragraphs(text: str) -> str:
    """Help text for the terminal: each paragraph of a docstring on one line (rich wraps it)."""
    import inspect

    return "\n\n".join(" ".join(p.split()) for p in inspect.cleandoc(text).split("\n\n"))


app.command("score", help=_paragraphs(score.__doc__), no_args_is_help=True)(score)
app.command("sql", help=_paragraphs(sql.__doc__))(sql)
app.command("validate-card", help=_paragraphs(validate_card.__doc__))(validate_card)


def main() -> None:
    """Entry point of the ``scorecard`` command."""
    app()


if __name__ == "__main__":
    main()
