#!/usr/bin/env bash
# scripts/setup.sh - create or refresh the project environment. Safe to run again: when
# nothing changed it only checks and finishes in a few seconds.
#
# Usage: scripts/setup.sh [--test]
#   (no option)  .venv with the pinned packages (requirements.lock) and the project (-e .),
#                the Jupyter kernel "scorecard", Quarto (path written to .venv/.quarto-path) and
#                a Java runtime, 17 or 21, for the spark engine (path written to .venv/.java-home;
#                Debian's openjdk-21-jre-headless, or -17-, is installed when none is found),
#                and Debian's chromium (/usr/bin/chromium: the report's static images, the browser tests)
#   --test       also what only the tests use (shellcheck for the workflow checks)
#
# Environment:
#   PYTHON       the interpreter that creates .venv (default: python3; must be Python 3.11)
#   JAVA_HOME    a Java 17 or 21 to use (default: java on the PATH, else one in /usr/lib/jvm)
set -euo pipefail

ROOT="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { echo "setup: $*"; }
# pip, minus one harmless warning: a pip.conf that names a local index directory which does not
# exist makes pip warn once per package. Everything else pip prints is shown; its status is kept.
pip_q() {
  { "$VPY" -m pip "$@" 2>&1; } \
    | { grep -Ev "^WARNING: Location 'file:[^']*' is ignored: it is neither a file nor a directory\.$" || true; }
}
die() { echo "setup: error: $*" >&2; exit 1; }

WITH_TEST=0
for arg in "$@"; do
  case "$arg" in
    --test) WITH_TEST=1 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$arg' (usage: scripts/setup.sh [--test])" ;;
  esac
done

VENV="$ROOT/.venv"
VPY="$VENV/bin/python"
# `make` puts .venv/bin first on PATH; the interpreter that creates .venv must not come from it.
PATH="$(printf '%s' ":$PATH:" | sed "s#:$VENV/bin:#:#g; s#^:##; s#:\$##")"
STAMP="$VENV/.setup-stamp"
QUARTO_PATH_FILE="$VENV/.quarto-path"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# --- 1. virtual environment -------------------------------------------------------------
if [ -x "$VPY" ] && "$VPY" -c '' 2>/dev/null; then
  say "venv ok ($("$VPY" --version 2>&1))"
else
  PYTHON="${PYTHON:-python3}"
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found; install Python 3.11 or set PYTHON=/path/to/python3.11"
  PYVER="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  [ "$PYVER" = "3.11" ] || die "$PYTHON is Python $PYVER; the project pins Python 3.11 (set PYTHON=/path/to/python3.11)"
  if [ -e "$VENV" ]; then
    say "creating .venv with $PYTHON ($PYVER); the existing .venv is broken and is cleared"
    "$PYTHON" -m venv --clear "$VENV"
  else
    say "creating .venv with $PYTHON ($PYVER)"
    "$PYTHON" -m venv "$VENV"
  fi
  say "upgrading pip"
  pip_q install -q --upgrade pip
fi

# --- 2. packages (skipped while requirements.lock and pyproject.toml are unchanged) ------
[ -f requirements.lock ] || die "requirements.lock not found in $ROOT"
[ -f pyproject.toml ] || die "pyproject.toml not found in $ROOT"
WANT="$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)"
HAVE="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$WANT" = "$HAVE" ]; then
  say "packages ok (requirements.lock and pyproject.toml unchanged)"
else
  rm -f "$STAMP"
  # requirements.lock is a pip freeze. A freeze taken inside an installed checkout can carry
  # the project itself ("-e ...", "scorecard==...", "scorecard @ file://..."): such lines are
  # dropped here, because the project is installed from this checkout just below.
  REQ="requirements.lock"
  SELF_RE='^[[:space:]]*(-e[[:space:]]|--editable[[:space:]=]|scorecard([[:space:]]*[=<>!~@;[]|[[:space:]]*$))'
  if grep -Eqi "$SELF_RE" requirements.lock; then
    REQ="$(mktemp "${TMPDIR:-/tmp}/scorecard-req.XXXXXX")"
    trap 'rm -f "$REQ"' EXIT
    grep -Evi "$SELF_RE" requirements.lock > "$REQ" || true
    say "note: requirements.lock names the project itself; ignoring: $(grep -Ei "$SELF_RE" requirements.lock | tr '\n' ' ')"
  fi
  say "installing pinned packages from requirements.lock (a few minutes the first time)"
  pip_q install -q -r "$REQ"
  [ -f scorecard/__init__.py ] || die "scorecard/__init__.py not found: the package is missing from this checkout"
  say "installing the project (pip install --no-deps -e .)"
  # the build backend's warnings are shown only when the install fails
  if ! LOG="$("$VPY" -m pip install -q --no-deps -e . 2>&1)"; then
    echo "$LOG" >&2; die "pip install --no-deps -e . failed"
  fi
  if ! "$VPY" -m pip check >/dev/null 2>&1; then
    say "warning: pip check reports problems:"; "$VPY" -m pip check || true
  fi
  echo "$WANT" > "$STAMP"
  say "packages installed"
fi

# --- 2b. Java for the spark engine (pyspark 4 runs on Java 17 or 21) ----------------------
# order: JAVA_HOME -> the home chosen last time (.venv/.java-home) -> java on the PATH
#        -> /usr/lib/jvm/* (newest of 21, 17 first) -> apt-get install openjdk-21-jre-headless
#        (or openjdk-17-jre-headless where Debian has no 21). The chosen home is written to
#        .venv/.java-home, which scorecard.apply.spark reads when JAVA_HOME is not set.
JAVA_HOME_FILE="$VENV/.java-home"
java_major() {  # the major version "$1 -version" reports (1.8.0 -> 8), or nothing
  local v
  v="$("$1" -version 2>&1 | grep -oE 'version "[0-9]+(\.[0-9]+)?' | head -n 1 | sed 's/^version "//')" || true
  case "$v" in 1.*) echo "${v#1.}" ;; *) echo "${v%%.*}" ;; esac
}
java_ok() { [ -x "$1/bin/java" ] && case "$(java_major "$1/bin/java")" in 17|21) true ;; *) false ;; esac; }
find_java_home() {
  local home
  for home in "$(cat "$JAVA_HOME_FILE" 2>/dev/null || true)" \
              "$(command -v java >/dev/null 2>&1 && dirname "$(dirname "$(readlink -f "$(command -v java)")")")" \
              /usr/lib/jvm/*21* /usr/lib/jvm/*17*; do
    if [ -n "$home" ] && [ ! -L "$home" ] && java_ok "$home"; then echo "$home"; return 0; fi
  done
  return 1
}
JHOME=""
if [ -n "${JAVA_HOME:-}" ]; then
  if java_ok "$JAVA_HOME"; then
    JHOME="$JAVA_HOME"
  else
    say "warning: JAVA_HOME=$JAVA_HOME is not Java 17 or 21 ($(java_major "$JAVA_HOME/bin/java" || true)); the spark engine uses JAVA_HOME when it is set: unset it or point it to Java 17 or 21"
  fi
fi
[ -n "$JHOME" ] || JHOME="$(find_java_home || true)"
if [ -z "$JHOME" ]; then
  JAVA_HINT="the spark engine needs Java 17 or 21 and none was found (java: $(command -v java >/dev/null 2>&1 && echo "Java $(java_major java)" || echo none))"
  if [ "$(id -u)" = 0 ]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    SUDO=(none)
  fi
  if [ "${SUDO[*]}" = none ] || ! command -v apt-get >/dev/null 2>&1; then
    HINT="$JAVA_HINT; install it (Debian/Ubuntu: apt-get install openjdk-21-jre-headless, or openjdk-17-jre-headless) or set JAVA_HOME"
    [ "$WITH_TEST" = 1 ] && die "$HINT"
    say "warning: $HINT (only the spark engine needs it)"
  else
    say "$JAVA_HINT; installing it with apt-get (a minute or two)"
    "${SUDO[@]}" apt-get update -qq
    JAVA_PKG=openjdk-21-jre-headless
    # Debian 12 has no Java 21: take 17 there
    apt-cache show "$JAVA_PKG" >/dev/null 2>&1 || JAVA_PKG=openjdk-17-jre-headless
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$JAVA_PKG" >/dev/null
    JHOME="$(find_java_home || true)"
    [ -n "$JHOME" ] || die "apt-get installed $JAVA_PKG but no Java 17 or 21 is found in /usr/lib/jvm"
    say "$JAVA_PKG installed"
  fi
fi
if [ -n "$JHOME" ]; then
  echo "$JHOME" > "$JAVA_HOME_FILE"
  say "java $(java_major "$JHOME/bin/java") ok ($JHOME, for the spark engine; in .venv/.java-home)"
fi

# --- 3. Jupyter kernel "scorecard" (inside the venv: papermill, nbval, JupyterLab) -------
KERNEL_JSON="$VENV/share/jupyter/kernels/scorecard/kernel.json"
if [ -f "$KERNEL_JSON" ] && grep -qF "\"$VPY\"" "$KERNEL_JSON"; then
  say "jupyter kernel 'scorecard' ok"
else
  say "registering jupyter kernel 'scorecard'"
  "$VPY" -m ipykernel install --sys-prefix --name scorecard --display-name "Python (scorecard)" >/dev/null
fi

# --- 4. Quarto --------------------------------------------------------------------------
# order: quarto on PATH -> ~/.local/bin/quarto -> offline bundle in ../shared/vendor/quarto
#        -> a quarto-cli installed earlier into .venv -> pip install quarto-cli (internet)
QUARTO=""
BUNDLE_INSTALLER="$ROOT/../shared/vendor/quarto/install-quarto.sh"
if command -v quarto >/dev/null 2>&1; then
  QUARTO="$(command -v quarto)"
elif [ -x "$HOME/.local/bin/quarto" ]; then
  QUARTO="$HOME/.local/bin/quarto"
elif [ -f "$BUNDLE_INSTALLER" ]; then
  say "installing Quarto from the offline bundle ($(cd "$(dirname "$BUNDLE_INSTALLER")" && pwd))"
  # The installer only reads next to itself and writes to $HOME/.local/{quarto,bin}: it works
  # from a read-only directory.
  bash "$BUNDLE_INSTALLER" | sed 's/^/setup:   /'
  QUARTO="$HOME/.local/bin/quarto"
elif [ -x "$VENV/bin/quarto" ]; then
  QUARTO="$VENV/bin/quarto"
else
  say "installing Quarto with pip install quarto-cli (downloads Quarto from GitHub: needs internet)"
  pip_q install -q quarto-cli
  QUARTO="$VENV/bin/quarto"
fi
case "$QUARTO" in /*) ;; *) QUARTO="$PWD/$QUARTO" ;; esac
[ -x "$QUARTO" ] || die "quarto not found at $QUARTO"
QVER="$("$QUARTO" --version 2>/dev/null)" || die "$QUARTO --version failed"
echo "$QUARTO" > "$QUARTO_PATH_FILE"
say "quarto $QVER ($QUARTO)"

# --- 5. Chromium: the report's static images (kaleido, the images stage) and the browser tests
if true; then
  if [ -x /usr/bin/chromium ]; then
    say "chromium ok (/usr/bin/chromium)"
  else
    if [ "$(id -u)" = 0 ]; then
      SUDO=()
    elif command -v sudo >/dev/null 2>&1; then
      SUDO=(sudo)
    else
      die "the report images and the tests need Chromium at /usr/bin/chromium and it is missing; installing it needs root and sudo is not available. Ask an administrator to run: apt-get install chromium"
    fi
    command -v apt-get >/dev/null 2>&1 || die "the report images and the tests need Chromium at /usr/bin/chromium; install it with your system's package manager"
    say "installing chromium with apt-get (a minute or two)"
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    [ -x /usr/bin/chromium ] || die "apt-get installed chromium but /usr/bin/chromium is missing"
    say "chromium installed: $(/usr/bin/chromium --version 2>/dev/null || echo '?')"
  fi
fi

# --- 6. shellcheck (tests; CI/CD issue) --------------------------------------------------
# tests/test_workflows.py runs actionlint, which also checks the workflows' run: scripts
# when the shellcheck program is on PATH. Optional: without it the rest is still checked.
if [ "$WITH_TEST" = 1 ]; then
  if command -v shellcheck >/dev/null 2>&1; then
    say "shellcheck ok ($(command -v shellcheck))"
  elif command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1; }; then
    AS_ROOT=(); [ "$(id -u)" = 0 ] || AS_ROOT=(sudo)
    say "installing shellcheck with apt-get (for actionlint)"
    if "${AS_ROOT[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1 \
      || { "${AS_ROOT[@]}" apt-get update -qq && "${AS_ROOT[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }; then
      say "shellcheck installed: $(shellcheck --version | sed -n 's/^version: //p')"
    else
      say "note: shellcheck could not be installed; actionlint runs without it"
    fi
  else
    say "note: shellcheck not found (apt-get install shellcheck); actionlint runs without it"
  fi
fi
# --- end of 6 ----------------------------------------------------------------------------

say "done"
