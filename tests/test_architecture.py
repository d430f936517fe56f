"""The package's layout is its architecture: which code builds a card, which applies it, which
watches it and which reports on it (ARCHITECTURE.md). This test reads every module's imports
(at the top and inside functions alike) and fails on an import against the direction below or on
an import circle.

Layers, lowest first; a module may import its own layer and the layers below it, never above:

1. foundation — ``scorecard.errors``, ``scorecard.config`` (params.yaml)
2. card — ``scorecard.card`` (the card format, reader, Python scorer) and its business rules
3. build — ``scorecard.build`` (data, environment, features, binning, model, the card's assembly)
4. apply — ``scorecard.apply`` (SQL, batch engines, Spark, service, calculator)
5. watch — ``scorecard.watch`` (evaluate, explain, drift, monitor, promote, daily)
6. report — ``scorecard.report`` (pages' helpers, plots, images)
7. entry points — ``scorecard`` (``scorecard.load``), ``scorecard.cli``, ``scorecard.pipeline``

So the build side never imports a scoring engine, and nothing but an entry point imports the
command line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "scorecard"
LAYERS = ("foundation", "card", "build", "apply", "watch", "report", "entry")
FOUNDATION = {"scorecard.errors", "scorecard.config"}
ENTRY = {"scorecard", "scorecard.cli", "scorecard.pipeline"}
#: Circles not broken yet, each with the step that breaks it; any other circle fails.
KNOWN_CIRCLES: dict[frozenset[str], str] = {}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    if module in ENTRY:
        return "entry"
    if module in FOUNDATION:
        return "foundation"
    role = module.split(".")[1]
    if role not in LAYERS:
        raise AssertionError(f"{module}: not in a subpackage by role; place it in one (ARCHITECTURE.md)")
    return role


def imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The scorecard modules ``module`` imports anywhere in its source (``from scorecard.x import
    y`` counts ``scorecard.x.y`` when that is a module, else ``scorecard.x``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "scorecard")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] == "scorecard":
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                if node.module == "scorecard" and alias.name == "__version__":
                    continue      # the package's version: every module has the package root loaded
                found.add(child if child in known else node.module)
    return {m for m in found if m in known and m != module}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def test_every_module_sits_in_a_layer(graph):
    assert {layer(m) for m in graph} == set(LAYERS)


def test_no_import_goes_up_a_layer(graph):
    wrong = sorted(f"{m} ({layer(m)}) imports {d} ({layer(d)})" for m, deps in graph.items() for d in deps
                   if LAYERS.index(layer(d)) > LAYERS.index(layer(m)))
    assert not wrong, "imports against the layers' direction:\n  " + "\n  ".join(wrong)


def circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circle_but_the_known_one(graph):
    found = set(circles(graph))
    new = sorted(sorted(c) for c in found - set(KNOWN_CIRCLES))
    assert not new, f"import circles: {new}"
    # a circle broken since is taken off the list, so the list never hides a new one
    assert found == set(KNOWN_CIRCLES), f"no longer circles, drop them from KNOWN_CIRCLES: {set(KNOWN_CIRCLES) - found}"


def test_the_check_finds_a_circle_and_an_upward_import():
    """The checks themselves, on a made-up graph: they can fail."""
    toy = {"scorecard.build.etl": {"scorecard.apply.batch"}, "scorecard.apply.batch": {"scorecard.build.etl"}}
    assert circles(toy) == [frozenset(toy)]
    assert LAYERS.index(layer("scorecard.apply.batch")) > LAYERS.index(layer("scorecard.build.etl"))


def test_each_subpackage_says_what_it_owns_and_may_import():
    for role in LAYERS[1:-1]:
        doc = ast.get_docstring(ast.parse((PACKAGE / role / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "May import" in doc, f"scorecard/{role}/__init__.py: docstring with 'May import'"
