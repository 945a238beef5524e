"""The commune inbox (hộp thư của xã): where the registers and the biểu 06/QLKNTC
workbooks arrive, and what both connectors need to read a workbook's cells."""
from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from core import connections
from core.settings import Settings


def inbox_path(s: Settings) -> Path:
    """Connection tcd_commune_inbox (extra ``path``), else ``default_path``
    (env TCD_COMMUNE_INBOX when set)."""
    c = connections.connection(s.sources.commune_registers.conn_id, s.env)
    if c and c.extra and c.extra.get("path"):
        return Path(c.extra["path"])
    return s.resolve(s.sources.commune_registers.default_path)


_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")


def uncomputed_formulas(path: Path, sheet_name: str) -> dict[tuple[int, int], str]:
    """{(row, column) 0-based: formula text} of the formula cells of a sheet that carry no
    calculated value — files written by programs, not by Excel. calamine reads them as
    empty; giving them their formula text (``=F12``) lets the mapping say what is wrong
    (NUMBER_INVALID "không phải là số: '=F12'") instead of "ô trống"."""
    try:
        with zipfile.ZipFile(path) as z:
            rid = next((s.get(f"{_REL_NS}id") for s in ET.fromstring(z.read("xl/workbook.xml")).iter(f"{_MAIN_NS}sheet")
                        if s.get("name") == sheet_name), None)
            target = next((r.get("Target") for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
                           if r.get("Id") == rid), None)
            if not target:
                return {}
            data = z.read(target.lstrip("/") if target.startswith("/") else f"xl/{target}")
    except (KeyError, OSError, zipfile.BadZipFile, ET.ParseError):
        return {}
    if not re.search(rb"<f[ >/]", data):
        return {}
    out: dict[tuple[int, int], str] = {}
    for _, el in ET.iterparse(io.BytesIO(data)):
        if el.tag != f"{_MAIN_NS}c":
            continue
        f, v = el.find(f"{_MAIN_NS}f"), el.find(f"{_MAIN_NS}v")
        m = _CELL_REF.fullmatch(el.get("r") or "")
        if f is not None and (v is None or not v.text) and m:
            col = 0
            for ch in m[1]:
                col = col * 26 + ord(ch) - 64
            out[(int(m[2]) - 1, col - 1)] = f"={f.text}" if f.text else "=(công thức)"
        el.clear()
    return out
