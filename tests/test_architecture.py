"""docs/architecture.md matches the code: every module of the shipped package has its
line, and every module the document names exists. (The layer contracts themselves run
in `make lint`: ruff and import-linter, before the tests.)"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("core", "warehouse", "connectors", "transforms", "reports", "delivery", "pipeline")
DOC = ROOT / "docs" / "architecture.md"


def _modules() -> set[str]:
    return {p.relative_to(ROOT).as_posix() for layer in LAYERS for p in (ROOT / layer).rglob("*.py")
            if p.name != "__init__.py"}


def test_every_module_has_its_line():
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:%s)/[\w/]+\.py)`" % "|".join(LAYERS), text))
    # a line may name two sibling modules: `reports/libreoffice.py`, `reports/verify.py`
    missing = sorted(_modules() - named)
    assert missing == [], f"modules without a line in docs/architecture.md: {missing}"


def test_every_named_module_exists():
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:%s)/[\w/]+\.py)`" % "|".join(LAYERS), text))
    gone = sorted(n for n in named if not (ROOT / n).exists())
    assert gone == [], f"docs/architecture.md names modules that do not exist: {gone}"


def test_every_dag_file_is_named():
    text = DOC.read_text(encoding="utf-8")
    dags = sorted(p.stem for p in (ROOT / "dags").glob("*.py") if p.name != "__init__.py")
    assert [d for d in dags if f"`{d}`" not in text] == []


# ---------------------------------------------------------------- settings are passed down
# Only the task functions (pipeline/), the DAG files (dags/), the command-line entry
# points (a main() function, an `if __name__ == "__main__":` block) and core/settings.py
# read the settings; every other module receives what it needs as a parameter. (The
# tools — tests, simulators/, bench/ — read them as they please.)
SETTINGS_READERS = frozenset({"get", "path_setting", "config", "resolve", "home", "register_columns"})
READ_ONCE_LAYERS = ("core", "warehouse", "connectors", "transforms", "reports", "delivery")
# (module, enclosing function): why it still reads the settings itself.
SETTINGS_ALLOWED = {
    # The period calendar: the window rules (periods.kinds) are consulted by every
    # constructor of a Period (period, parse, latest_complete, periods_ending_on,
    # from_window, from_data_interval), called from some 150 places across every layer,
    # the DAG files and the tests. Passing the rules to each would be a redesign of the
    # periods API (a calendar object the task builds), left for its own change.
    ("core/periods.py", "_rules"),
}


def _is_main_block(node: ast.AST) -> bool:
    t = getattr(node, "test", None)
    return (isinstance(node, ast.If) and isinstance(t, ast.Compare) and isinstance(t.left, ast.Name)
            and t.left.id == "__name__" and any(isinstance(c, ast.Constant) and c.value == "__main__"
                                                for c in t.comparators))


def settings_reads(source: str) -> list[tuple[int, str | None, str]]:
    """(line, enclosing function, call) of every read of the settings in `source` outside
    a main() function or a __main__ block: ``settings.get()`` and the other readers of
    core.settings, by module (``settings.x``, ``core.settings.x``) or imported by name."""
    tree = ast.parse(source)
    imported = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                and n.module == "core.settings" for a in n.names if a.name in SETTINGS_READERS}
    found: list[tuple[int, str | None, str]] = []

    def visit(node: ast.AST, func: str | None) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name == "main":
                return
            func = node.name if func is None else func
        if _is_main_block(node):
            return
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr in SETTINGS_READERS and (
                    (isinstance(f.value, ast.Name) and f.value.id == "settings")
                    or (isinstance(f.value, ast.Attribute) and f.value.attr == "settings"
                        and isinstance(f.value.value, ast.Name) and f.value.value.id == "core")):
                found.append((node.lineno, func, ast.unparse(f)))
            elif isinstance(f, ast.Name) and f.id in imported:
                found.append((node.lineno, func, f.id))
        for child in ast.iter_child_nodes(node):
            visit(child, func)

    visit(tree, None)
    return found


def test_settings_are_read_once_and_passed_down():
    offenders = []
    for layer in READ_ONCE_LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel == "core/settings.py":
                continue
            for line, func, call in settings_reads(path.read_text(encoding="utf-8")):
                if (rel, func) not in SETTINGS_ALLOWED:
                    offenders.append(f"{rel}:{line} {call}() in {func or 'module level'}")
    assert offenders == [], ("settings read below the task functions (take what is needed as a parameter; "
                             "see docs/architecture.md):\n" + "\n".join(offenders))


def test_settings_check_sees_reads():
    src = ("from core import settings\nfrom core.settings import path_setting as ps\n"
           "X = settings.get().counting\n"
           "def f():\n    return ps('reports')\n"
           "def g():\n    import core.settings\n    return core.settings.resolve('x')\n"
           "def main():\n    return settings.get()\n"
           "if __name__ == '__main__':\n    settings.home()\n")
    assert [(line, func) for line, func, _ in settings_reads(src)] == [(3, None), (5, "f"), (8, "g")]
