"""Open generated workbooks with a real spreadsheet program: LibreOffice headless.

openpyxl writes files that Excel and LibreOffice are expected to open; this module
checks that they do. ``convert`` asks ``soffice`` to open each workbook and save it as
PDF (what an officer prints) or re-save it as .xlsx (so that the values LibreOffice
computed, formulas included, can be read back with openpyxl). Many files go to one
``soffice`` process: starting it costs ~1 s, a conversion ~0.1 s.

Each call uses its own throw-away LibreOffice profile so that parallel calls (tests,
Airflow tasks) do not fight over the user profile lock.

Install on Debian/Ubuntu: ``apt-get install libreoffice-calc-nogui`` (scripts/system_deps.sh,
run by ``make test``).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterable

import openpyxl

# The export filter names LibreOffice expects after the target extension.
FILTERS = {"pdf": "pdf:calc_pdf_Export", "xlsx": 'xlsx:Calc MS Excel 2007 XML'}
BATCH = 200          # files per soffice process (command-line length, memory)


class LibreOfficeError(RuntimeError):
    """LibreOffice is missing or could not open/convert some workbooks."""


def soffice(configured: str | None) -> str:
    """The soffice executable: `configured` (env TCD_SOFFICE, ``settings.env.soffice``)
    when given, else soffice or libreoffice on the PATH."""
    exe = configured or shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        raise LibreOfficeError("LibreOffice (soffice) not found: install libreoffice-calc-nogui "
                               "(scripts/system_deps.sh)")
    return exe


def convert(paths: Iterable[str | os.PathLike], to: str, outdir: str | os.PathLike, exe: str | None,
            timeout: float = 600) -> dict[Path, Path]:
    """Convert every workbook in `paths` to `to` ("pdf" or "xlsx") into `outdir`, with
    the LibreOffice `exe` (``settings.env.soffice``; None: the one on the PATH).

    Returns {source path: converted path}. Raises LibreOfficeError naming every file
    LibreOffice could not open or convert (an empty or missing output counts as a
    failure), after trying all of them.
    """
    if to not in FILTERS:
        raise ValueError(f"unsupported target {to!r}; one of {sorted(FILTERS)}")
    sources = [Path(p).resolve() for p in paths]
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    stems = [p.stem for p in sources]
    if len(set(stems)) != len(stems):
        # soffice names outputs by stem only: two inputs with one stem would overwrite
        # each other, so convert such sets in separate calls (subfolders).
        out: dict[Path, Path] = {}
        seen: dict[str, int] = {}
        groups: dict[int, list[Path]] = {}
        for p in sources:
            i = seen.get(p.stem, 0)
            seen[p.stem] = i + 1
            groups.setdefault(i, []).append(p)
        for i, group in groups.items():
            out.update(convert(group, to, outdir / f"set{i}", exe, timeout))
        return out
    result: dict[Path, Path] = {}
    failures: list[str] = []
    for start in range(0, len(sources), BATCH):
        chunk = sources[start:start + BATCH]
        with tempfile.TemporaryDirectory(prefix="tcd-lo-profile-") as profile:
            cmd = [soffice(exe), "--headless", "--norestore", "--nologo", "--nolockcheck",
                   f"-env:UserInstallation={Path(profile).as_uri()}",
                   "--convert-to", FILTERS[to], "--outdir", str(outdir), *map(str, chunk)]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                  env={**os.environ, "HOME": profile})
        for src in chunk:
            target = outdir / f"{src.stem}.{to}"
            if target.exists() and target.stat().st_size > 0:
                result[src] = target
            else:
                failures.append(f"{src.name}: {_reason(proc, src)}")
    if failures:
        raise LibreOfficeError(f"LibreOffice could not convert {len(failures)} of {len(sources)} "
                               f"workbook(s) to {to}:\n" + "\n".join(failures[:50]))
    return result


def _reason(proc: subprocess.CompletedProcess, src: Path) -> str:
    lines = [ln for ln in (proc.stderr or "").splitlines() + (proc.stdout or "").splitlines()
             if src.name in ln or "Error" in ln]
    return (lines[0] if lines else f"no output (exit {proc.returncode})")[:300]


def recalculated_values(path: str | os.PathLike, workdir: str | os.PathLike | None = None
                        ) -> dict[str, list[tuple]]:
    """The cell values of every sheet as LibreOffice computes and saves them.

    The workbook is opened and re-saved by LibreOffice (formulas recalculated), then
    read with openpyxl (``data_only``): {sheet title: rows of values}.
    """
    with tempfile.TemporaryDirectory(prefix="tcd-lo-") as tmp:
        out = convert([path], "xlsx", workdir or tmp)[Path(path).resolve()]
        wb = openpyxl.load_workbook(out, data_only=True, read_only=True)
        try:
            return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
        finally:
            wb.close()
