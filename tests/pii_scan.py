"""Find personal data from the sources (the generator's gt_pii list) in output files.

Text is taken from every file under the given roots (.xlsx parts unzipped, binary files
such as SQLite databases decoded leniently). Numbers (ID numbers, phone numbers in any
formatting) are compared digit-for-digit; names and street addresses word-for-word
(Unicode NFC, case-folded), so "Nguyễn Văn An" in NFD or in capitals is still found.
"""
from __future__ import annotations

import re
import sqlite3
import unicodedata
import zipfile
from collections import defaultdict
from pathlib import Path

WORD = re.compile(r"[^\W\d_]+|\d+")
NUMBER = re.compile(r"\d(?:[\d. ]*\d)?")


def _words(text: str) -> list[str]:
    return WORD.findall(unicodedata.normalize("NFC", text).casefold())


def load_pii(ground_truth: Path) -> dict[str, set]:
    con = sqlite3.connect(ground_truth)
    out: dict[str, set] = defaultdict(set)
    for kind, value in con.execute("select kind, value from gt_pii"):
        if kind in ("id_number", "phone"):
            digits = re.sub(r"\D", "", value)
            if len(digits) >= 9:
                out["numbers"].add(digits)
        elif kind == "name":
            # Two-word names ("Hoàng Mai") can be place names too; full names have three or more.
            w = tuple(_words(value))
            if len(w) >= 3:
                out["phrases"].add(w)
        elif kind == "address":
            street = tuple(_words(value.split(",")[0]))   # "Số 12 ngõ 5 phố Huế"
            if len(street) >= 3:
                out["phrases"].add(street)
    return out


def file_texts(roots: list[Path]):
    for root in roots:
        for path in sorted(Path(root).rglob("*")):
            if not path.is_file():
                continue
            data = path.read_bytes()
            if data[:2] == b"PK":
                try:
                    with zipfile.ZipFile(path) as z:
                        yield path, " ".join(z.read(n).decode("utf-8", "ignore") for n in z.namelist())
                    continue
                except zipfile.BadZipFile:
                    pass
            yield path, data.decode("utf-8", "ignore")


def find_pii(roots: list[Path], pii: dict[str, set]) -> list[tuple[Path, str]]:
    by_first: dict[str, list[tuple]] = defaultdict(list)
    for phrase in pii["phrases"]:
        by_first[phrase[0]].append(phrase)
    hits = []
    for path, text in file_texts(roots):
        for m in NUMBER.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if digits in pii["numbers"]:
                hits.append((path, "number"))
        words = _words(text)
        for i, w in enumerate(words):
            for phrase in by_first.get(w, ()):
                if tuple(words[i:i + len(phrase)]) == phrase:
                    hits.append((path, "name/address"))
    return hits
