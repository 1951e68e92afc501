"""The shape of the library (issue 12): one home for each idea, checked on the source itself.

- no module over about 800 lines, no function over about 80 (docstrings not counted);
- no import cycle between modules at import time;
- the generator (``synth``) and ``data`` import no analysis stage, not even lazily;
- no private name imported from another package;
- an import inside a function only where it is documented as deliberate (below);
- the formula of the reliable change and the numbers of the rulebook in one place each.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "mentorlib"

MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 80

#: Functions allowed to run a little over, with the reason (none today; long numpydoc
#: parameters do not count: these are bodies).
LONG_FUNCTIONS: dict[str, str] = {}

#: Analysis stages: what synth and data must never import.
STAGES = ("progress", "effectiveness", "grouping", "compliance", "report", "scales")

#: Imports inside functions that are deliberate: module (or package prefix) -> what it may
#: import lazily, and why.
LAZY_OK: dict[str, tuple[tuple[str, ...], str]] = {
    "mentorlib.cli": (("*",), "the command line starts in a blink: stages load per command"),
    "mentorlib.cli_tools": (("mentorlib.io",), "the command line starts in a blink (as cli)"),
    "mentorlib.cli_plan": (
        ("mentorlib.io", "mentorlib.progress"),
        "the command line starts in a blink (as cli)",
    ),
    "mentorlib.cli_synth": (
        ("mentorlib.synth", "mentorlib.outputs", "mentorlib.district", "pandas"),
        "the command line starts in a blink (as cli)",
    ),
    "mentorlib.cli_district": (
        ("mentorlib.district", "pandas"),
        "the command line starts in a blink (as cli): Dask loads when a district runs",
    ),
    "mentorlib.district.tasks": (
        ("mentorlib.district.stages",),
        "a clean-only district run's workers start without the analysis libraries",
    ),
    "mentorlib.report.document": (("mentorlib.report.render",), "renderers import the model"),
    "mentorlib.synth.params": (("mentorlib.synth.export",), "export imports params"),
    "mentorlib.io.readers": (("openpyxl", "python_calamine"), "heavy readers on use"),
    "mentorlib.plots": (("mplfonts",), "the font package is found on first figure"),
}
#: Anywhere: plotting and model-fitting libraries load on first use (start-up time).
LAZY_ANYWHERE = ("matplotlib", "statsmodels", "mentorlib.plots", "tqdm")


def _modules() -> dict[str, Path]:
    out = {}
    for p in ROOT.rglob("*.py"):
        parts = p.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


MODULES = _modules()
TREES = {n: ast.parse(p.read_text(encoding="utf-8")) for n, p in MODULES.items()}


def _target(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    pkg = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    base = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str, node: ast.AST) -> list[str]:
    """Modules named by one import statement (``from . import x`` names ``pkg.x``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    assert isinstance(node, ast.ImportFrom)
    t = _target(module, node)
    out = [t]
    out += [f"{t}.{a.name}" for a in node.names if f"{t}.{a.name}" in MODULES]
    return out


def _top_level_imports(module: str) -> set[str]:
    """mentorlib modules imported when ``module`` is imported (not under TYPE_CHECKING)."""
    found: set[str] = set()

    def visit(body):
        for node in body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.update(m for m in _imports(module, node) if m in MODULES)
            elif isinstance(node, ast.If):
                test = ast.unparse(node.test)
                if "TYPE_CHECKING" not in test:
                    visit(node.body)
                    visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)

    visit(TREES[module].body)
    return found - {module}


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def test_every_module_was_found():
    assert {"mentorlib.rules", "mentorlib.progress.change", "mentorlib.report.annual"} <= set(
        MODULES
    )


def test_no_module_over_800_lines():
    long = {
        n: len(p.read_text(encoding="utf-8").splitlines())
        for n, p in MODULES.items()
        if len(p.read_text(encoding="utf-8").splitlines()) > MAX_MODULE_LINES
    }
    assert not long


def test_no_function_over_80_lines():
    long = []
    for n, tree in TREES.items():
        for f in _functions(tree):
            body = f.body
            if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]  # the docstring
            if body and body[-1].end_lineno - body[0].lineno + 1 > MAX_FUNCTION_LINES:
                if f"{n}.{f.name}" not in LONG_FUNCTIONS:
                    long.append(f"{n}.{f.name}")
    assert not long


def test_no_import_cycle():
    graph = {m: _top_level_imports(m) for m in MODULES}
    # a package's __init__ importing its own submodules is how re-exports work, not a cycle
    for m in graph:
        graph[m] = {t for t in graph[m] if not t.startswith(m + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                return stack[stack.index(t) :] + [t]
            if t not in state and (cyc := dfs(t)):
                return cyc
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            cycle = dfs(m)
            assert cycle is None, " -> ".join(cycle)


@pytest.mark.parametrize("package", ["mentorlib.synth", "mentorlib.data", "mentorlib.matching"])
def test_synth_and_data_import_no_analysis_stage(package):
    bad = []
    for n, tree in TREES.items():
        if n != package and not n.startswith(package + "."):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for m in _imports(n, node):
                    if any(
                        m == f"mentorlib.{s}" or m.startswith(f"mentorlib.{s}.") for s in STAGES
                    ):
                        bad.append(f"{n} imports {m}")
    assert not bad


def test_no_private_name_imported_from_another_package():
    bad = []
    for n, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                t = _target(n, node)
                if not t.startswith("mentorlib"):
                    continue
                for a in node.names:
                    if a.name.startswith("_") and not a.name.startswith("__"):
                        if t.split(".")[:2] != n.split(".")[:2]:
                            bad.append(f"{n}: from {t} import {a.name}")
    assert not bad


def test_imports_inside_functions_are_deliberate():
    bad = []
    for n, tree in TREES.items():
        allowed, _ = LAZY_OK.get(n, ((), ""))
        for f in _functions(tree):
            for node in ast.walk(f):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                for m in _imports(n, node)[:1]:
                    ok = "*" in allowed or any(
                        m == a or m.startswith(a + ".") for a in allowed + LAZY_ANYWHERE
                    )
                    if not ok:
                        bad.append(f"{n}.{f.name} imports {m}")
    assert not bad


def _code_constants(tree: ast.AST):
    """Numeric constants in code: not docstrings, not a function's keyword defaults."""
    defaults = set()
    for f in _functions(tree):
        for d in f.args.defaults + [d for d in f.args.kw_defaults if d is not None]:
            defaults.add(id(d))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and type(node.value) is float
            and id(node) not in defaults
        ):
            yield node


@pytest.mark.parametrize(
    ("value", "rule"), [(1.96, "rci_z"), (0.85, "target_share"), (0.15, "max_regroup_share")]
)
def test_rule_numbers_are_not_typed_into_analysis_code(value, rule):
    """The rulebook's numbers live in rules.py; analysis code reads them (defaults of low-level,
    data-first functions may name a published value, documented in their docstring)."""
    analysis = ("progress", "effectiveness", "grouping", "compliance", "report", "plots", "cli")
    bad = [
        f"{n}:{c.lineno}"
        for n, tree in TREES.items()
        if n.count(".") and n.split(".")[1] in analysis
        for c in _code_constants(tree)
        if c.value == value
    ]
    assert not bad, f"{value} typed in code; use rules.{rule}: {bad}"


def test_the_reliable_change_formula_has_one_home():
    """sqrt(2) * SD * sqrt(1 - r) is written once (progress.change.change_se)."""
    homes = []
    for n, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("sqrt"):
                arg = ast.unparse(node.args[0]) if node.args else ""
                if arg in ("2", "2.0"):
                    homes.append(n)
    assert homes == ["mentorlib.progress.change"]
