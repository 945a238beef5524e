"""Legacy Vietnamese 8-bit encodings as they survive in old Excel files.

Before Unicode, Vietnamese offices typed with fonts whose glyphs sat on the byte values
of an 8-bit code: **TCVN3** (TCVN 5712:1993, the "ABC" code, fonts ``.VnTime`` and, for
capitals, ``.VnTimeH``) and **VNI-Windows** (fonts ``VNI-Times`` …). Opened in a modern
Excel, such a cell holds the *bytes* of that code read as Windows-1252 (for the bytes
used here, 0xA0–0xFF, identical to Latin-1): "Tiếp công dân" is stored as
``"TiÕp c«ng d©n"`` (TCVN3) or ``"Tieáp coâng daân"`` (VNI). This module writes such
text for the simulated registers (``encode``) and reads it back (``decode``, used by
the tests only; the pipeline has its own reader in ``core/legacy_encoding.py``).

Sources of the tables: the TCVN 5712:1993 VN3 code chart (the subset implemented by
the ABC fonts) and the VNI-Windows font encoding of VNI Software, as published in the
code tables of Vietnamese keyboard drivers (cross-checked against the ``tcvn.h`` and
``vni.h`` tables of the open-source xvnkb driver, lamdao/xvnkb). Both are written out
below by vowel and tone, in the order: no tone, sắc, huyền, hỏi, ngã, nặng.

- **TCVN3** gives one byte per letter. It has codes for every *lowercase* letter with
  a tone and for the seven toneless capitals Ă Â Ê Ô Ơ Ư Đ; it has **no codes for
  capitals with a tone** (Á, Ấ, Ủ, …): those were typed in a ``.VnTimeH`` font, whose
  glyphs at the lowercase codes are capitals. ``encode`` therefore writes such a
  capital with the lowercase code (and whole upper-case lines, e.g. titles, entirely
  with lowercase codes when ``caps_font=True``), so ``decode`` returns it in lowercase:
  the round trip is exact for text without toned capitals, and exact up to case
  otherwise.
- **VNI** writes a base letter followed by one modifier byte (tone, or vowel mark, or
  both combined), except for ơ ư đ í ì ỉ ĩ ị ỵ (one byte each, and their capitals). It
  covers capitals fully: the round trip is exact.
"""
from __future__ import annotations

import unicodedata

ENCODINGS = ("tcvn3", "vni")
# The fonts a legacy workbook's cells were formatted with (body text, all-caps lines).
FONTS = {"tcvn3": (".VnTime", ".VnTimeH"), "vni": ("VNI-Times", "VNI-Times")}

# Unicode letters by vowel, tones in the order: none, sắc, huyền, hỏi, ngã, nặng.
_VOWELS = {
    "a": "aáàảãạ", "â": "âấầẩẫậ", "ă": "ăắằẳẵặ", "e": "eéèẻẽẹ", "ê": "êếềểễệ",
    "o": "oóòỏõọ", "ô": "ôốồổỗộ", "ơ": "ơớờởỡợ", "u": "uúùủũụ", "ư": "ưứừửữự",
    "i": "iíìỉĩị", "y": "yýỳỷỹỵ",
}

# TCVN3 byte values (as Latin-1 characters) of the lowercase letters, same order.
_TCVN3_LOWER = {
    "a": "a\xb8\xb5\xb6\xb7\xb9",      # a á à ả ã ạ
    "â": "\xa9\xca\xc7\xc8\xc9\xcb",   # â ấ ầ ẩ ẫ ậ
    "ă": "\xa8\xbe\xbb\xbc\xbd\xc6",   # ă ắ ằ ẳ ẵ ặ
    "e": "e\xd0\xcc\xce\xcf\xd1",      # e é è ẻ ẽ ẹ
    "ê": "\xaa\xd5\xd2\xd3\xd4\xd6",   # ê ế ề ể ễ ệ
    "o": "o\xe3\xdf\xe1\xe2\xe4",      # o ó ò ỏ õ ọ
    "ô": "\xab\xe8\xe5\xe6\xe7\xe9",   # ô ố ồ ổ ỗ ộ
    "ơ": "\xac\xed\xea\xeb\xec\xee",   # ơ ớ ờ ở ỡ ợ
    "u": "u\xf3\xef\xf1\xf2\xf4",      # u ú ù ủ ũ ụ
    "ư": "\xad\xf8\xf5\xf6\xf7\xf9",   # ư ứ ừ ử ữ ự
    "i": "i\xdd\xd7\xd8\xdc\xde",      # i í ì ỉ ĩ ị
    "y": "y\xfd\xfa\xfb\xfc\xfe",      # y ý ỳ ỷ ỹ ỵ
}
# The toneless capitals TCVN3 has codes for.
_TCVN3_CAPS = {"Ă": "\xa1", "Â": "\xa2", "Ê": "\xa3", "Ô": "\xa4", "Ơ": "\xa5", "Ư": "\xa6", "Đ": "\xa7"}

# VNI-Windows: (base letter, modifier) per vowel and tone, lowercase; capitals use the
# upper-case forms of the same characters (Latin-1 pairs: ù/Ù, ø/Ø, …).
_VNI_TONES = ("", "\xf9", "\xf8", "\xfb", "\xf5", "\xef")          # (none) ù ø û õ ï
_VNI_LOWER = {
    "a": ["a" + m for m in _VNI_TONES],
    "â": ["a\xe2", "a\xe1", "a\xe0", "a\xe5", "a\xe3", "a\xe4"],       # aâ aá aà aå aã aä
    "ă": ["a\xea", "a\xe9", "a\xe8", "a\xfa", "a\xfc", "a\xeb"],       # aê aé aè aú aü aë
    "e": ["e" + m for m in _VNI_TONES],
    "ê": ["e\xe2", "e\xe1", "e\xe0", "e\xe5", "e\xe3", "e\xe4"],
    "o": ["o" + m for m in _VNI_TONES],
    "ô": ["o\xe2", "o\xe1", "o\xe0", "o\xe5", "o\xe3", "o\xe4"],
    "ơ": ["\xf4" + m for m in _VNI_TONES],                           # ô (0xF4) is ơ in VNI
    "u": ["u" + m for m in _VNI_TONES],
    "ư": ["\xf6" + m for m in _VNI_TONES],                           # ö (0xF6) is ư in VNI
    "i": ["i", "\xed", "\xec", "\xe6", "\xf3", "\xf2"],                # i í ì æ ó ò
    "y": ["y" + m for m in _VNI_TONES[:5]] + ["\xee"],               # ỵ is î (0xEE)
}


def _build() -> tuple[dict, dict]:
    tcvn3: dict[str, str] = {"đ": "\xae", **_TCVN3_CAPS}
    vni: dict[str, str] = {"đ": "\xf1", "Đ": "\xd1"}
    for base, letters in _VOWELS.items():
        for k, ch in enumerate(letters):
            code = _TCVN3_LOWER[base][k]
            tcvn3.setdefault(ch, code)
            cap = ch.upper()
            if cap != ch and cap not in tcvn3:
                # No code for a toned capital: the lowercase code (shown as a capital
                # by the .VnTimeH fonts). Toneless capitals of plain letters stay ASCII.
                tcvn3[cap] = code if k else (cap if cap.isascii() else code)
            vni[ch] = _VNI_LOWER[base][k]
            vni[cap] = _VNI_LOWER[base][k].upper()
    # ASCII letters are themselves in both codes.
    return ({k: v for k, v in tcvn3.items() if not k.isascii()},
            {k: v for k, v in vni.items() if not k.isascii()})


_ENCODE = dict(zip(ENCODINGS, _build()))
# Decoding: TCVN3 one character → letter (lowercase wins where a code is shared);
# VNI the longest sequence first (two characters, then one).
_DECODE = {
    "tcvn3": {v: k for k, v in sorted(_ENCODE["tcvn3"].items(), key=lambda kv: kv[0].islower())},
    "vni": {v: k for k, v in _ENCODE["vni"].items()},
}


def encode(text: str, encoding: str, *, caps_font: bool = False) -> str:
    """Unicode text → the string a legacy-encoded cell holds (its bytes read as
    Windows-1252). ``caps_font``: the text is an all-caps line typed in the capitals
    font (TCVN3 ``.VnTimeH``): written with lowercase codes. Characters outside
    Vietnamese (ASCII, punctuation) are kept as they are."""
    table = _ENCODE[encoding]
    text = unicodedata.normalize("NFC", text)
    if caps_font and encoding == "tcvn3":
        text = text.lower()
    return "".join(table.get(ch, ch) for ch in text)


def decode(text: str, encoding: str) -> str:
    """The inverse of ``encode`` (capitals with a tone come back lowercase in TCVN3)."""
    table = _DECODE[encoding]
    out, i = [], 0
    while i < len(text):
        if encoding == "vni" and text[i:i + 2] in table:
            out.append(table[text[i:i + 2]])
            i += 2
            continue
        out.append(table.get(text[i], text[i]))
        i += 1
    return "".join(out)
