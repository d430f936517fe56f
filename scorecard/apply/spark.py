"""Score files with Spark: the card's Spark SQL on a local session, a cluster or Spark Connect.

``scorecard score --engine spark`` (:func:`scorecard.apply.batch.score_file` with ``engine="spark"``) keeps the contract of the DuckDB
engine of :mod:`scorecard.apply.batch`: the same inputs (CSV, ``.csv.gz``, Parquet), the same checks
and rejects (id, line, reason; rows in = scored + rejected), the same output columns and
values, the same atomic publication and the same :class:`~scorecard.apply.publish.BatchResult`.

How a run goes
--------------
1. A CSV input is read by the engines' one CSV reader (:mod:`scorecard.apply.csv_dialect`: the
   same refusals, values and line numbers as the other engines) into a Parquet copy, with each
   row's line, in the run's hidden folder beside the output; Spark never parses the CSV. A
   Parquet input is read by Spark itself (the first row is line 1).
2. One Spark job checks every row (empty or repeated id, text that is not a number, infinity,
   an integer beyond +/-2^53: the rules of the other engines), scores every row with the
   card's statement :func:`scorecard.apply.sql.to_sql` ``(dialect="spark")`` and writes Parquet
   parts into the run's hidden folder.
3. An embedded DuckDB combines the parts into the single output file (valid rows), in input
   order, with the writer the other engines use: a CSV output is the same bytes the DuckDB
   engine writes. The rejected rows' reasons are worded from the input by the same Python
   code as for the other engines (:func:`scorecard.apply.duckdb_engine._reject_rows`). Both files are
   renamed into place at the very end (:func:`scorecard.apply.batch.score_file` does the
   publishing and the summary).

The session
-----------
* Default: a local session, ``local[*]`` (``local[N]`` with ``--threads N``), started by the
  command and stopped at its end. It listens on 127.0.0.1 only, has no web UI, logs errors
  only (the JVM's own output goes to a temporary file, shown when Spark fails to start) and
  uses UTC.
* ``--master spark://host:7077`` (or ``yarn``, ``k8s://...``): a cluster. Its executors read
  the input and write the parts, so the input and the output's folder must be on a file
  system that the cluster sees at the same paths (shared storage).
* ``SPARK_REMOTE=sc://host:15002``: Spark Connect. It needs the client packages of
  ``pyspark[connect]`` (grpcio, grpcio-status, googleapis-common-protos, zstandard); the
  same shared-storage rule applies.
* When a Spark session is already running in the process (a notebook, the tests), it is
  used and left running; the SQL settings the run needs are set for the run, then put back.

A local session needs a Java runtime, 17 or 21 (``scripts/setup.sh`` installs Debian's
``openjdk-21-jre-headless``, or ``-17-``, when none is found). It is looked up in
``JAVA_HOME``, then in the file ``.java-home`` of the virtual environment (written by the
set-up), then ``java`` on the ``PATH``, then ``/usr/lib/jvm``.

How values are read: as in the other engines (see :mod:`scorecard.apply.batch` and
:mod:`scorecard.apply.csv_dialect`); ``tests/apply/test_odd_files.py`` checks that Spark writes the Python
engine's bytes, or refuses with its message, on 40 generated odd files. Parquet files are
split across tasks.
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scorecard.apply.duckdb_engine import _close, _connect, _copy_options, csv_batches, duckdb_path, _empty_id_sql, _lit, _output_select, _Poller, _read_parquet_sql, _reject_columns, _reject_rows, _run, _source_sql, typed_features
from scorecard.apply.inputs import BatchError, FileFormat, _one_line
from scorecard.apply.interrupt import _ACTIVE, _ACTIVE_LOCK, _check_interrupted, _INTERRUPTED
from scorecard.apply.plan import EXACT_INTEGER, NUMBER_PATTERN, Plan, ProgressCallback
from scorecard.errors import DataValidationError

DEFAULT_MASTER = "local[*]"
#: The Java releases Spark 4 supports.
JAVA_VERSIONS = (17, 21)
JAVA_PACKAGES = ("openjdk-21-jre-headless", "openjdk-17-jre-headless")
#: In the virtual environment (``sys.prefix``): the JAVA_HOME chosen by scripts/setup.sh.
JAVA_HOME_FILE = ".java-home"
JVM_FOLDER = Path("/usr/lib/jvm")
#: Spark Connect's client packages (pip name: module), beyond pandas and pyarrow.
CONNECT_PACKAGES = {"grpcio": "grpc", "grpcio-status": "grpc_status",
                    "googleapis-common-protos": "google.rpc.status_pb2", "zstandard": "zstandard",
                    "pandas": "pandas", "pyarrow": "pyarrow"}
#: SQL settings every run needs, on a session it starts or one it borrows (restored after).
SESSION_SQL_CONF = {
    "spark.sql.caseSensitive": "true",  # 'DTI' and 'dti' are two columns, as in DuckDB
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",  # a cast that cannot be done fails instead of giving NULL
    "spark.sql.parser.escapedStringLiterals": "false",  # the card's SQL escapes with backslashes
    "spark.sql.legacy.exponentLiteralAsDecimal.enabled": "false",  # 3.5E0 is a DOUBLE
    # The card's statement compiles to large methods; HotSpot does not compile methods above
    # 8000 bytes of bytecode, so larger generated code would run interpreted (Spark's advice).
    "spark.sql.codegen.hugeMethodLimit": "8000",
}
#: A number as text, as :data:`scorecard.apply.plan.NUMBER_PATTERN`, anchored for Java's ``RLIKE``.
NUMBER_REGEX = r"\A(?:" + NUMBER_PATTERN + r")\z"
INFINITY = "CAST('Infinity' AS DOUBLE)"


# -- Java -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Java:
    """A Java runtime Spark can use: its home, ``bin/java``, major version and where it was found."""

    home: Path
    executable: Path
    major: int
    source: str


def _pyspark_version() -> str:
    try:
        from importlib.metadata import version

        return version("pyspark")
    except Exception:  # not installed as a distribution
        return "4"


def _install_hint() -> str:
    return (f"install Java 21 or 17 (scripts/setup.sh does it; on Debian/Ubuntu: apt-get install "
            f"{JAVA_PACKAGES[0]}, or {JAVA_PACKAGES[1]}), or set JAVA_HOME to a Java 17 or 21 installation")


def java_major(executable: Path) -> int | None:
    """The major version ``executable -version`` reports (``1.8.0`` is 8), or None if it does not run."""
    try:
        run = subprocess.run([str(executable), "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', run.stderr + run.stdout)
    if run.returncode != 0 or not match:
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def java_home_file() -> Path:
    return Path(sys.prefix) / JAVA_HOME_FILE


def find_java() -> Java:
    """The Java runtime a local session will use.

    ``JAVA_HOME`` when set (it must hold Java 17 or 21); else the home written by
    scripts/setup.sh to ``.venv/.java-home``, ``java`` on the PATH, then ``/usr/lib/jvm/*``:
    the first of them that is Java 17 or 21.

    Raises
    ------
    BatchError
        No such runtime: the message says what was found and what to install.
    """
    spark = f"Spark {_pyspark_version()}"
    home = os.environ.get("JAVA_HOME")
    if home:
        executable = Path(home) / "bin" / "java"
        major = java_major(executable) if executable.is_file() else None
        if major is None:
            raise BatchError(f"the spark engine needs Java 17 or 21, but JAVA_HOME={home} holds no working "
                             f"bin/java; {_install_hint()}")
        if major not in JAVA_VERSIONS:
            raise BatchError(f"JAVA_HOME={home} is Java {major}, which {spark} does not support: it needs Java "
                             f"17 or 21; {_install_hint()}")
        return Java(Path(home), executable, major, "JAVA_HOME")
    candidates: list[tuple[Path, str]] = []
    saved = java_home_file()
    if saved.is_file() and saved.read_text().strip():
        candidates.append((Path(saved.read_text().strip()), str(saved)))
    on_path = shutil.which("java")
    if on_path:
        candidates.append((Path(on_path).resolve().parent.parent, "PATH"))
    if JVM_FOLDER.is_dir():
        # newest supported release first: java-21-..., then java-17-...
        folders = sorted((p for p in JVM_FOLDER.iterdir() if p.is_dir() and not p.is_symlink()),
                         key=lambda p: (-max((int(n) for n in re.findall(r"\d+", p.name) if int(n) in JAVA_VERSIONS),
                                            default=0), p.name))
        candidates += [(p, str(JVM_FOLDER)) for p in folders]
    found, seen = [], set()
    for home_path, source in candidates:
        executable = home_path / "bin" / "java"
        key = executable.resolve() if executable.exists() else executable
        if key in seen:
            continue
        seen.add(key)
        major = java_major(executable) if executable.is_file() else None
        if major in JAVA_VERSIONS:
            return Java(home_path, executable, major, source)
        if major is not None:
            found.append(f"Java {major} at {executable}")
    what = "found only " + ", ".join(found) if found else "found none (no JAVA_HOME, no java on the PATH)"
    raise BatchError(f"the spark engine needs a Java runtime, 17 or 21, for {spark}, and {what}; {_install_hint()}")


# -- the session ----------------------------------------------------------------------------
@contextmanager
def _environ(values: dict[str, str]):
    """Set environment variables for the JVM launch, then put back what was there."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def _quiet():
    """No pyspark chatter on the terminal during a run: its warning that it does not fully
    support pandas 3 (the engine does not use pandas), and the JSON lines its loggers print for
    every failed query (the run reports its errors itself)."""
    from pyspark.logger import PySparkLogger

    loggers = [PySparkLogger.getLogger(name) for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger")]
    before = [logger.disabled for logger in loggers]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark(\.|$)")
        warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas.*")
        for logger in loggers:
            logger.disabled = True
        try:
            yield
        finally:
            for logger, disabled in zip(loggers, before):
                logger.disabled = disabled


def _connect_missing() -> list[str]:
    missing = []
    for package, module in CONNECT_PACKAGES.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a parent package is missing
            found = False
        if not found:
            missing.append(package)
    return missing


def _is_local(master: str) -> bool:
    return master == "local" or master.startswith("local[") or master.startswith("local-cluster[")


def start_session(master: str | None = None, threads: int | None = None,
                  extra_conf: dict[str, str] | None = None):
    """A Spark session for a run: ``(session, owned)``; stop it with :func:`stop_session`.

    ``SPARK_REMOTE`` set: a Spark Connect session to it. A session already running in this
    process: that one (``owned`` False: it is left running). Otherwise a new session on
    ``master`` (default ``local[*]``, or ``local[threads]``), with the settings ``extra_conf``
    on top of the engine's (e.g. ``{"spark.driver.memory": "4g"}``).

    Raises
    ------
    BatchError
        No suitable Java, Spark Connect's packages missing, both ``master`` and
        ``SPARK_REMOTE``, or Spark does not start.
    """
    remote = os.environ.get("SPARK_REMOTE")
    if remote:
        if master:
            raise BatchError(f"give either --master ({master}) or SPARK_REMOTE ({remote}, Spark Connect), not both")
        missing = _connect_missing()
        if missing:
            raise BatchError(f"SPARK_REMOTE={remote} asks for Spark Connect, which needs the Python package(s) "
                             f"{', '.join(missing)}; install them with: .venv/bin/pip install "
                             f"'pyspark[connect]=={_pyspark_version()}' (or unset SPARK_REMOTE to run locally)")
        from pyspark.sql import SparkSession

        try:
            spark = SparkSession.builder.remote(remote).appName("scorecard").getOrCreate()
        except Exception as error:
            raise BatchError(f"cannot open a Spark Connect session at {remote}: {_spark_message(error)}") from None
        return spark, True

    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    active = SparkContext._active_spark_context
    if active is not None:
        if master and master != active.master:
            raise BatchError(f"a Spark session on {active.master} is already running in this process; "
                             f"--master {master} cannot change it")
        return SparkSession.getActiveSession() or SparkSession.builder.getOrCreate(), False

    java = find_java()
    master = master or (f"local[{int(threads)}]" if threads else DEFAULT_MASTER)
    local = _is_local(master)
    spark_conf = SparkConf().setMaster(master).setAppName("scorecard")
    spark_conf.set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
    if local:
        # Nothing listens beyond this machine's loopback interface.
        spark_conf.set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
        # One machine: a few shuffle partitions per core, not Spark's cluster default of 200.
        spark_conf.set("spark.sql.shuffle.partitions", str(2 * (int(threads) if threads else os.cpu_count() or 1)))
    for key, value in {**SESSION_SQL_CONF, **(extra_conf or {})}.items():
        spark_conf.set(key, value)
    env = {"JAVA_HOME": str(java.home)}
    if local:
        env["SPARK_LOCAL_IP"] = "127.0.0.1"
    gateway = None
    with _environ(env):
        if SparkContext._gateway is None:
            from pyspark.java_gateway import launch_gateway

            # The JVM's own output (start-up banners, log lines) goes to an unnamed temporary
            # file: shown when the JVM fails to start, else never on the terminal.
            log = tempfile.TemporaryFile(prefix="scorecard-spark-")
            try:
                gateway = launch_gateway(spark_conf, popen_kwargs={"stdout": log, "stderr": log})
            except Exception as error:
                log.seek(0)
                tail = " ".join(log.read().decode("utf-8", "replace").split())[-600:]
                raise BatchError(f"Spark did not start with Java {java.major} ({java.executable}, from "
                                 f"{java.source}): {_spark_message(error)}{'; JVM output: ' + tail if tail else ''}"
                                 ) from None
        # SparkContext replaces the SIGINT handler with its own (cancel the jobs, raise
        # KeyboardInterrupt at once, in the middle of a call to the JVM): keep the caller's,
        # which for the command line stops the run through scorecard.apply.interrupt.interrupt().
        main = threading.current_thread() is threading.main_thread()
        handler = signal.getsignal(signal.SIGINT) if main else None
        try:
            context = SparkContext(conf=spark_conf, gateway=gateway)
        except Exception as error:
            raise BatchError(f"Spark did not start on {master}: {_spark_message(error)}") from None
        finally:
            if handler is not None:
                signal.signal(signal.SIGINT, handler)
    context.setLogLevel("ERROR")
    return SparkSession(context), True


def stop_session(spark, owned: bool) -> None:
    """Stop a session :func:`start_session` started; leave a borrowed one running."""
    if owned:
        try:
            spark.stop()
        except Exception:  # already stopped, or the JVM is gone
            pass


# -- errors ---------------------------------------------------------------------------------
def _spark_message(error: BaseException) -> str:
    """One line from a Spark error: its message and, for a Java error, the root cause's."""
    text = str(error)
    for marker in ("\nJVM stacktrace:", "\n\tat ", "\n  at "):
        if marker in text:
            head = text[: text.index(marker)]
            break
    else:
        head = text
    head = re.sub(r"^An error occurred while calling [\w.]+\.\s*:\s*", "", head.strip())
    head = re.sub(r"^[\w.$]+(Exception|Error): ", "", head)
    causes = re.findall(r"Caused by: [\w.$]+: ([^\n]*)", text)
    message = head if not causes or causes[-1] in head else f"{head}; caused by: {causes[-1]}"
    return _one_line(message)


def _csv_as_parquet(plan: Plan, folder: Path) -> Path:
    """A CSV input's rows read by the engines' one reader (:func:`scorecard.apply.duckdb_engine.csv_batches`:
    the same refusals, values and line numbers) into ``folder/input.parquet``: ``sc_line`` and
    the required columns as text."""
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "input.parquet"
    schema, batches = csv_batches(plan)
    with pq.ParquetWriter(target, schema) as writer:
        for part in batches:
            writer.write_batch(part)
    return target


class _Cancel:
    """Lets :func:`scorecard.apply.interrupt.interrupt` (Ctrl-C, SIGTERM) cancel this run's Spark jobs."""

    def __init__(self, spark, tag: str):
        self.spark, self.tag = spark, tag

    def interrupt(self) -> None:
        try:
            self.spark.interruptTag(self.tag)
        except Exception:
            try:
                self.spark.sparkContext.cancelAllJobs()
            except Exception:
                pass

    def close(self) -> None:
        pass


# -- SQL pieces (Spark) ---------------------------------------------------------------------
def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _lit(text: str) -> str:
    """A Spark string literal: backslash escapes, as the card's Spark SQL writes them."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _checks(plan: Plan) -> list[str]:
    """The row checks as Spark SQL tests (true = a problem): the rules of
    :func:`scorecard.apply.plan._python_problems`, which words the reasons of the rows they find
    (:func:`scorecard.apply.duckdb_engine._reject_rows`), as for the other engines."""
    idx = "s." + _q(plan.id_column)
    checks = [_empty_id_sql(plan, idx, trim="trim({x})")]  # Spark's trim removes spaces only
    for name in plan.numeric:
        x = "s." + _q(name)
        kind = plan.kind(name)
        if kind == "text":
            is_number = f"({x} RLIKE {_lit(NUMBER_REGEX)})"
            is_finite = f"coalesce(abs(try_cast(trim({x}) AS DOUBLE)) < {INFINITY}, false)"
            checks.append(f"({x} IS NOT NULL AND NOT ({is_number} AND {is_finite}))")
        elif kind == "floating":
            checks.append(f"coalesce(abs({x}) = {INFINITY}, false)")
        elif kind == "integer":
            checks.append(f"coalesce({x} > {EXACT_INTEGER} OR {x} < -{EXACT_INTEGER}, false)")
    return checks


def _path(path: Path, read: bool = True) -> str:
    """A local path for Spark: a file: URI (not the cluster's default file system); for a
    reader, with glob characters escaped (Spark expands globs in the paths it reads)."""
    text = str(Path(path).resolve())
    return "file://" + (re.sub(r"([\\\[\]{}*?])", r"\\\1", text) if read else text)


# -- the engine -------------------------------------------------------------------------------
class _Run:
    """One run on a Spark session: a single job reads, checks and scores every row, and writes
    Parquet parts under ``work`` (one row per input row: its line, id, reason and kinds of
    problem when rejected, else its scores)."""

    def __init__(self, spark, plan: Plan, work: Path):
        self.spark, self.plan, self.work = spark, plan, work
        tag = secrets.token_hex(4)
        self.views = {name: f"scorecard_{name}_{tag}" for name in ("input", "checked")}
        self.tag = f"scorecard-{tag}"

    def act(self, what: str, action):
        """Run a Spark call; its errors become one-line messages."""
        _check_interrupted()
        try:
            return action()
        except Exception as error:
            raise self.failure(error, what) from None

    def failure(self, error: BaseException, what: str) -> BaseException:
        if _INTERRUPTED.is_set():
            return KeyboardInterrupt()
        src = self.plan.source
        return BatchError(f"{src.path}: {what} failed (Spark): {_spark_message(error)}")

    def sql(self, text: str, what: str):
        return self.act(what, lambda: self.spark.sql(text))

    def open_input(self) -> str:
        """The input as a view; returns the SQL numbering its rows as the DuckDB engine does."""
        plan, src, spark = self.plan, self.plan.source, self.spark
        required = list(dict.fromkeys(plan.required))
        view = self.views["input"]
        if src.format.kind == "csv":
            # Read by the engines' one CSV reader into Parquet beside the output (on the storage
            # the cluster shares), with each row's line: Spark never parses the CSV itself.
            converted = _csv_as_parquet(plan, self.work / "input")
            frame = self.act("opening the input", lambda: spark.read.parquet(_path(converted)))
            frame.createOrReplaceTempView(view)
            return f"SELECT * FROM {view}"
        from pyspark.sql import functions as F

        # Parquet rows carry their position in the file (the hidden _metadata column, which a
        # view does not show): the first row is line 1.
        frame = self.act("opening the input", lambda: spark.read.parquet(_path(src.path)).select(
            (F.col("_metadata.row_index") + 1).alias("sc_line"), *(F.col(_q(c)) for c in required)))
        frame.createOrReplaceTempView(view)
        return f"SELECT * FROM {view}"

    def checked_sql(self, source: str) -> str:
        """Every row with ``sc_problem`` (true when a check fails: the row is rejected, and its
        reason worded afterwards from the input) and the features typed for the card's SQL,
        its key a struct (line, id, problem)."""
        plan, idx = self.plan, _q(self.plan.id_column)
        is_dup = f"(NOT {_empty_id_sql(plan, 's.' + idx, trim='trim({x})')} AND s.sc_n > 1)"
        any_problem = " OR ".join([is_dup, *_checks(plan)])
        values = typed_features(plan, "s", quote=_q)
        return f"""
            WITH sc_numbered AS (
              {source}
            ), sc_counted AS (
              -- ids on several rows
              SELECT *, count(*) OVER (PARTITION BY {idx}) AS sc_n FROM sc_numbered
            )
            SELECT named_struct('line', s.sc_line, 'id', s.{idx}, 'problem', {any_problem}) AS sc_key,
              {', '.join(values)}
            FROM sc_counted s"""

    def score(self) -> Path:
        from scorecard.apply.sql import to_sql

        plan = self.plan
        checked = self.views["checked"]
        self.sql(self.checked_sql(self.open_input()), "checking the input").createOrReplaceTempView(checked)
        try:
            # a run without reason texts (plan.reason_texts False) does not compute them
            texts = {} if getattr(plan, "reason_texts", True) else {"reason_texts": False}
            statement = to_sql(plan.card, "spark", table=checked, id_column="sc_key", n_reasons=plan.n_reasons,
                               **texts)
        except ValueError as error:
            raise BatchError(str(error)) from None
        columns = ", ".join(_q(c) for c in plan.output_columns[1:])
        frame = self.sql(f"SELECT sc_key.line AS sc_line, sc_key.id AS sc_id, sc_key.problem AS sc_problem, "
                         f"{columns}\nFROM (\n{statement}\n) AS scored", "scoring")
        folder = self.work / "rows"
        self.act("checking and scoring", lambda: frame.write.mode("overwrite").parquet(_path(folder, read=False)))
        return folder

    def drop_views(self) -> None:
        for view in self.views.values():
            try:
                self.spark.catalog.dropTempView(view)
            except Exception:
                pass


def _parts(folder: Path) -> str:
    """The Parquet parts Spark wrote in ``folder``, as a DuckDB relation."""
    files = sorted(str(p) for p in folder.glob("*.parquet"))
    if not files:
        raise BatchError(f"{folder}: Spark wrote no Parquet part")
    return "read_parquet([" + ", ".join(_lit(duckdb_path(f)) for f in files) + "])"


def _apply_session_conf(spark, owned: bool) -> dict[str, str | None]:
    """Set :data:`SESSION_SQL_CONF`; return a borrowed session's previous values."""
    restore: dict[str, str | None] = {}
    for key, value in SESSION_SQL_CONF.items():
        if not owned:
            try:
                restore[key] = spark.conf.get(key)
            except Exception:  # not set and no default
                restore[key] = None
        try:
            spark.conf.set(key, value)
        except Exception as error:
            raise BatchError(f"cannot set {key} on the Spark session: {_spark_message(error)}") from None
    return restore


def _restore_session_conf(spark, restore: dict[str, str | None]) -> None:
    for key, value in restore.items():
        try:
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
        except Exception:
            pass


def _run_spark(plan: Plan, work: Path, master: str | None, threads: int | None, step) -> Path:
    """The Spark part of a run: the folder of the Parquet parts it wrote."""
    spark, owned = start_session(master, threads)
    restore: dict[str, str | None] = {}
    run = cancel = None
    try:
        restore = _apply_session_conf(spark, owned)
        run = _Run(spark, plan, work)
        cancel = _Cancel(spark, run.tag)
        try:
            spark.addTag(run.tag)
        except Exception:  # a server without tags: cancelled with cancelAllJobs
            pass
        with _ACTIVE_LOCK:
            _ACTIVE.add(cancel)
        step("checking and scoring")
        return run.score()
    finally:
        if run is not None:
            run.drop_views()
        if cancel is not None:
            with _ACTIVE_LOCK:
                _ACTIVE.discard(cancel)
            try:
                spark.removeTag(cancel.tag)
            except Exception:
                pass
        _restore_session_conf(spark, restore)
        stop_session(spark, owned)


def _score_spark(plan: Plan, out: Path, out_fmt: FileFormat, rej: Path, rej_fmt: FileFormat,
                 memory_limit: str | None, threads: int | None, spill: Path,
                 progress: ProgressCallback | None, timings: dict[str, float], *, master: str | None = None):
    """Check and score with Spark, write the files with DuckDB; the same return as the other
    engines: rows in, rejects per kind and an open DuckDB connection (for the summary)."""
    clock: dict = {"step": None, "started": 0.0}

    def step(name: str | None) -> None:
        now = time.perf_counter()
        if clock["step"] is not None:
            timings[clock["step"]] = timings.get(clock["step"], 0.0) + now - clock["started"]
        clock["step"], clock["started"] = name, now
        if name is not None:
            _check_interrupted()
            if progress is not None:
                progress(name, None)

    spill.mkdir(parents=True, exist_ok=True)
    work = spill / "spark"
    con = None
    try:
        with _quiet():
            step("starting Spark")
            rows = _parts(_run_spark(plan, work, master, threads, step))
        step("writing output")
        con = _connect(memory_limit, threads, spill / "duckdb", ordered=True)
        rows_in, first, last, distinct = _run(
            con, f"SELECT count(*), min(sc_line), max(sc_line), count(DISTINCT sc_line) FROM {rows}",
            "counting the rows", plan).fetchone()
        # A CSV's lines come from the reader (a blank line or a line break inside quotes leaves a
        # gap); a Parquet file's rows are numbered 1, 2, ... by Spark.
        numbered = distinct == rows_in if plan.source.format.kind == "csv" else first == 1 and last == rows_in
        if rows_in and not numbered:
            raise BatchError(f"{plan.source.path}: Spark numbered the rows {first}..{last} for {rows_in} rows; "
                             "the line numbers would be wrong, so nothing is written")
        # The parts become the output and rejects files, in input order, with the other engines' writer.
        scored = f"(SELECT * FROM {rows} WHERE NOT sc_problem)"
        with _Poller(con, "writing output", progress):
            _run(con, f"COPY (\n{_output_select(plan, scored, 'sc_id', 'sc_line', nullable=True)}\n) TO "
                            f"{_lit(str(out))} ({_copy_options(out_fmt)})", "writing the output", plan)
        step("writing rejects")
        # The refused rows' values, from the input as Spark read it (the CSV's Parquet copy, or
        # the Parquet file itself), worded as every engine words them.
        if plan.source.format.kind == "csv":
            source = f"SELECT * FROM {_read_parquet_sql(work / 'input' / 'input.parquet')}"
        else:
            source = _source_sql(plan)
        by_reason = _reject_rows(
            con, plan, f"SELECT i.sc_line, {_reject_columns(plan, 'i')} FROM ({source}) i "
                       f"SEMI JOIN (SELECT sc_line FROM {rows} WHERE sc_problem) r ON i.sc_line = r.sc_line",
            rej, rej_fmt)
        step(None)
        shutil.rmtree(work, ignore_errors=True)
        return int(rows_in), {k: int(v) for k, v in by_reason.items()}, con
    except BaseException:
        step(None)
        if con is not None:
            _close(con)
        raise


__all__ = ["DEFAULT_MASTER", "JAVA_VERSIONS", "Java", "find_java", "java_major",
           "start_session", "stop_session"]
