"""Check issued reports the way a recipient sees them: opened by LibreOffice.

``python -m reports.verify 2026-Q3 [2021-07-01..2025-02-28 …]`` takes the latest issue of
every workbook in each period's manifest, has LibreOffice headless open it and write a
PDF (``output/pdf/<period>/…``, mirroring the report tree), re-reads the form sheet as
LibreOffice saved it, and checks the form's identities on those values (rows left empty
— units that did not report — are skipped, as in the pipeline's own check). Exit 1 when
any workbook does not open or breaks an identity.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import openpyxl
import pandas as pd

from core import regimes, settings
from core.settings import Settings
from reports import formdef, libreoffice, publish


def form_by_version(code: str, version: str, cfg: Settings) -> formdef.FormDef:
    """The definition of version `version` of form `code`, in any regime of ``cfg.regimes``."""
    for regime in regimes.all_regimes(cfg.regimes):
        if code in regime.forms:
            form = formdef.load_form(regimes.definition_path(regime, code, cfg.home))
            if str(form.version) == str(version):
                return form
    raise KeyError(f"form {code} version {version} is not configured")


def table_from_sheet(form: formdef.FormDef, rows: list[tuple]) -> pd.DataFrame:
    """The form's number columns, one row per report row, from a sheet's values."""
    ms_at = next(i for i, r in enumerate(rows) if r and r[0] == form.ms_label)
    cols = {}
    for j, v in enumerate(rows[ms_at]):
        head = str(v).split("=")[0].strip() if j and v is not None else ""
        if head.isdigit():
            cols[int(head)] = j
    body = []
    for r in rows[ms_at + 1:]:
        if r and r[0] not in (None, ""):
            body.append(r)
            if r[0] == form.total_label:   # lines under the table (Ghi chú, guide) are not rows
                break
    data = {}
    for ms in form.number_columns:
        values = [r[cols[ms]] if cols[ms] < len(r) else None for r in body]
        data[ms] = pd.array([pd.NA if v in (None, "") else v for v in values],
                            dtype="Float64" if ms in form.decimal_columns else "Int64")
    ids = [formdef.TOTAL_ROW_ID if i == len(body) - 1 else f"r{i}" for i in range(len(body))]
    for ms in form.text_columns:
        data[ms] = [r[cols[ms]] if ms in cols and cols[ms] < len(r) else None for r in body]
    table = pd.DataFrame(data, index=ids)
    table["label"] = [r[0] for r in body]
    table["kind"] = ["total" if i == formdef.TOTAL_ROW_ID else "unit" for i in ids]
    return table


def verify(period_keys: list[str], cfg: Settings, root=None, pdf_root=None, pdf_levels: set[str] | None = None
           ) -> dict:
    """Open every latest workbook of the periods with LibreOffice (re-save, re-read,
    identities); write PDFs of those whose level is in `pdf_levels` (default: all).
    `root`: the report tree (default ``cfg.paths.reports``)."""
    results = {"workbooks": 0, "pdf": 0, "identity_checked": 0, "problems": []}
    root = root if root is not None else cfg.path("reports")
    exe = cfg.env.soffice
    reports_root = publish.reports_root(root)
    pdf_root = Path(pdf_root) if pdf_root else reports_root.parent / "pdf"
    for key in period_keys:
        manifest = publish.load_manifest(key, root)
        entries = manifest.latest()
        issued = {e.absolute_path(root).resolve(): e for e in entries}
        # Word documents (the Mẫu số 02 narrative) are opened and converted to PDF; the
        # workbooks are also re-saved and their identities re-checked.
        books = {p: e for p, e in issued.items() if p.suffix == ".xlsx"}
        documents = [p for p in issued if p.suffix == ".docx"]
        results["workbooks"] += len(books)
        results["documents"] = results.get("documents", 0) + len(documents)
        out_dir = pdf_root / Path(next(iter(issued))).relative_to(reports_root).parts[0] if issued else pdf_root
        to_pdf = [b for b, e in issued.items() if pdf_levels is None or e.level in pdf_levels]
        try:
            pdfs = libreoffice.convert(to_pdf, "pdf", out_dir, exe) if to_pdf else {}
        except libreoffice.LibreOfficeError as exc:
            results["problems"].append(str(exc))
            pdfs = {}
        results["pdf"] += len(pdfs)
        with tempfile.TemporaryDirectory(prefix="tcd-verify-") as tmp:
            try:
                resaved = libreoffice.convert(books, "xlsx", tmp, exe)
            except libreoffice.LibreOfficeError as exc:
                results["problems"].append(str(exc))
                continue
            for src, e in books.items():
                if e.is_summary or src not in resaved:
                    continue
                form = form_by_version(e.form, e.form_version, cfg)
                wb = openpyxl.load_workbook(resaved[src], data_only=True, read_only=True)
                rows = [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
                wb.close()
                problems = formdef.check_identities(form, table_from_sheet(form, rows))
                results["identity_checked"] += 1
                results["problems"] += [f"{e.path}: {p}" for p in problems]
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("periods", nargs="+", help="period keys, e.g. 2026-Q3 or 2021-07-01..2025-02-28")
    ap.add_argument("--pdf-levels", help="write PDFs only for these levels, e.g. tinh,tong-hop "
                                         "(default: every workbook; a PDF takes ~0.4 s)")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    r = verify(args.periods, settings.get(),
               pdf_levels=set(args.pdf_levels.split(",")) if args.pdf_levels else None)
    print(f"LibreOffice opened {r['workbooks']} workbook(s) and {r.get('documents', 0)} document(s): "
          f"{r['pdf']} PDF written, identities re-checked "
          f"on {r['identity_checked']} form(s) as LibreOffice read them; problems: {len(r['problems'])} "
          f"({time.monotonic() - t0:.0f} s, {dt.datetime.now():%H:%M:%S})")
    for p in r["problems"][:30]:
        print("  -", p)
    return 1 if r["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
