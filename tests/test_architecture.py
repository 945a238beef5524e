"""docs/architecture.md matches the code: every module of the shipped package has its
line, and every module the document names exists. (The layer contracts themselves run
in `make lint`: ruff and import-linter, before the tests.)"""
from __future__ import annotations

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
