"""Vietnamese text typed in the legacy 8-bit font encodings TCVN3 (ABC) and VNI.

Before Unicode (and still on some commune computers) Vietnamese was typed with fonts
whose glyphs sit on the code points of Western letters: the ``.VnTime`` / ``.VnArial``
fonts of TCVN3 (ABC, TCVN 5712:1993 table VN3) and the ``VNI-Times`` / ``VNI-Helve``
fonts of VNI-Windows. Excel stores such text as the cp1252/latin-1 reading of the
bytes, so a cell shows ``TiÕp c«ng d©n`` (TCVN3) or ``Tieáp coâng daân`` (VNI) as soon
as the font is not installed — and the pipeline sees those characters.

- :func:`detect` tells whether a text reads as TCVN3, VNI or neither;
- :func:`to_unicode` converts it (NFC);
- :func:`from_unicode` the reverse (tests, round trips);
- :class:`CellConverter` applies one workbook's verdict cell by cell without touching
  cells that are already Unicode (a template typed in Unicode, data typed in TCVN3).

No maintained package on PyPI does this (searched: ``vniencoder`` handles the VNI
*typing method* — "bi1 chi5" — not the VNI-Windows font encoding; ``viparse`` is a RAG
document loader whose corpus-derived VNI table leaves out ẳ and maps ỵ wrongly), so
the two public character tables are implemented here:

- TCVN3: TCVN 5712:1993, table VN3 (the ABC fonts), as published in the character
  set charts of the VietUnicode project (vietunicode.sourceforge.net/charset) and in
  the charset tables of x-unikey's ``vnconv`` (TCVN3 = "ABC"). VN3 has code points for
  the lower-case letters and seven upper-case bases (Ă Â Ê Ô Ơ Ư Đ) only: upper-case
  accented letters are typed with the lower-case code and drawn upper-case by the
  ``.VnTimeH`` font — see :func:`_restore_upper_words`.
- VNI-Windows: the VNI Software Company's font encoding, from the same two charts: an
  accented vowel is a base letter followed by one mark character (tone, or
  circumflex/breve combined with a tone), and đ ơ ư ỉ ị ĩ ỵ are single characters.

Detection does not guess from character frequencies alone: each word containing a
non-ASCII character is checked against Vietnamese syllable structure (initial
consonant, vowel nucleus, final consonant, at most one tone mark) before and after a
trial conversion. Legacy text is made of words that are *not* syllables as read
(``TiÕp``, ``coâng``) and become syllables when converted; Unicode Vietnamese is made
of syllables already; English has no non-ASCII words at all.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

TCVN3 = "tcvn3"
VNI = "vni"
NAMES = {TCVN3: "TCVN3 (ABC, phông .VnTime)", VNI: "VNI (phông VNI-Windows)"}

# ----------------------------------------------------------------------------- TCVN3
# Code point (as read through cp1252/latin-1) → letter, in the order of the VN3 chart:
# a à á ả ã ạ, ă ằ ắ ẳ ẵ ặ, â ầ ấ ẩ ẫ ậ, đ, è é ẻ ẽ ẹ, ê ề ế ể ễ ệ, ì í ỉ ĩ ị,
# ò ó ỏ õ ọ, ô ồ ố ổ ỗ ộ, ơ ờ ớ ở ỡ ợ, ù ú ủ ũ ụ, ư ừ ứ ử ữ ự, ỳ ý ỷ ỹ ỵ, Ă Â Đ Ê Ô Ơ Ư.
_TCVN3_CODES = ("\u00b5\u00b8\u00b6\u00b7\u00b9"            # µ ¸ ¶ · ¹      à á ả ã ạ
                "\u00a8\u00bb\u00be\u00bc\u00bd\u00c6"      # ¨ » ¾ ¼ ½ Æ    ă ằ ắ ẳ ẵ ặ
                "\u00a9\u00c7\u00ca\u00c8\u00c9\u00cb"      # © Ç Ê È É Ë    â ầ ấ ẩ ẫ ậ
                "\u00ae"                                     # ®              đ
                "\u00cc\u00d0\u00ce\u00cf\u00d1"            # Ì Ð Î Ï Ñ      è é ẻ ẽ ẹ
                "\u00aa\u00d2\u00d5\u00d3\u00d4\u00d6"      # ª Ò Õ Ó Ô Ö    ê ề ế ể ễ ệ
                "\u00d7\u00dd\u00d8\u00dc\u00de"            # × Ý Ø Ü Þ      ì í ỉ ĩ ị
                "\u00df\u00e3\u00e1\u00e2\u00e4"            # ß ã á â ä      ò ó ỏ õ ọ
                "\u00ab\u00e5\u00e8\u00e6\u00e7\u00e9"      # « å è æ ç é    ô ồ ố ổ ỗ ộ
                "\u00ac\u00ea\u00ed\u00eb\u00ec\u00ee"      # ¬ ê í ë ì î    ơ ờ ớ ở ỡ ợ
                "\u00ef\u00f3\u00f1\u00f2\u00f4"            # ï ó ñ ò ô      ù ú ủ ũ ụ
                "\u00ad\u00f5\u00f8\u00f6\u00f7\u00f9"      # (soft hyphen) õ ø ö ÷ ù   ư ừ ứ ử ữ ự
                "\u00fa\u00fd\u00fb\u00fc\u00fe"            # ú ý û ü þ      ỳ ý ỷ ỹ ỵ
                "\u00a1\u00a2\u00a7\u00a3\u00a4\u00a5\u00a6")  # ¡ ¢ § £ ¤ ¥ ¦   Ă Â Đ Ê Ô Ơ Ư
_TCVN3_LETTERS = ("àáảãạ" "ăằắẳẵặ" "âầấẩẫậ" "đ" "èéẻẽẹ" "êềếểễệ" "ìíỉĩị" "òóỏõọ"
                  "ôồốổỗộ" "ơờớởỡợ" "ùúủũụ" "ưừứửữự" "ỳýỷỹỵ" "ĂÂĐÊÔƠƯ")
TCVN3_TO_UNICODE: dict[str, str] = dict(zip(_TCVN3_CODES, _TCVN3_LETTERS, strict=True))
UNICODE_TO_TCVN3: dict[str, str] = {v: k for k, v in TCVN3_TO_UNICODE.items()}
_TCVN3_TRANS = str.maketrans(TCVN3_TO_UNICODE)
_TCVN3_UPPER_CODES = frozenset(_TCVN3_CODES[-7:])          # Ă Â Đ Ê Ô Ơ Ư

# ------------------------------------------------------------------------------- VNI
# Mark characters (lower-case form; the upper-case form is 0x20 lower) → combining marks.
_ACUTE, _GRAVE, _HOOK, _TILDE, _DOT = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
_CIRC, _BREVE, _HORN = "\u0302", "\u0306", "\u031b"
_TONES = {"\u00f9": _ACUTE, "\u00f8": _GRAVE, "\u00fb": _HOOK, "\u00f5": _TILDE, "\u00ef": _DOT}  # ù ø û õ ï
_CIRC_MARKS = {"\u00e2": "", "\u00e1": _ACUTE, "\u00e0": _GRAVE, "\u00e5": _HOOK,             # â á à å
               "\u00e3": _TILDE, "\u00e4": _DOT}                                                # ã ä
_BREVE_MARKS = {"\u00ea": "", "\u00e9": _ACUTE, "\u00e8": _GRAVE, "\u00fa": _HOOK,            # ê é è ú
                "\u00fc": _TILDE, "\u00eb": _DOT}                                               # ü ë
# Single characters: ñ đ, ô ơ, ö ư, ò ị, æ ỉ, ó ĩ, î ỵ (ì í are themselves); upper case 0x20 lower.
_VNI_SINGLES = {"\u00f1": "đ", "\u00f4": "ơ", "\u00f6": "ư", "\u00f2": "ị", "\u00e6": "ỉ",
                "\u00f3": "ĩ", "\u00ee": "ỵ"}


def _build_vni() -> dict[str, str]:
    table: dict[str, str] = {}

    def put(base: str, marks: dict[str, str], extra: str = "") -> None:
        for mark, comb in marks.items():
            for b, m in ((base, mark), (base.upper(), chr(ord(mark) - 0x20))):
                letter = unicodedata.normalize("NFC", b + extra + comb)
                table[b + m] = letter if b.islower() else letter.upper()

    for base in "aeouy":
        tones = dict(_TONES)
        if base == "y":
            tones.pop("\u00ef")                      # ỵ is the single character î
        put(base, tones)
    put("a", _CIRC_MARKS, _CIRC)
    put("e", _CIRC_MARKS, _CIRC)
    put("o", _CIRC_MARKS, _CIRC)
    put("a", _BREVE_MARKS, _BREVE)
    for code, letter in _VNI_SINGLES.items():
        table[code] = letter
        table[chr(ord(code) - 0x20)] = letter.upper()
    for code, horn in (("\u00f4", "o"), ("\u00f6", "u")):     # ơ, ư carry tone marks too
        for mark, comb in _TONES.items():
            for b, m in ((code, mark), (chr(ord(code) - 0x20), chr(ord(mark) - 0x20))):
                letter = unicodedata.normalize("NFC", horn + _HORN + comb)
                table[b + m] = letter if b == code else letter.upper()
    return table


VNI_TO_UNICODE: dict[str, str] = _build_vni()
# (The circumflex mark â after a/e/o gives â ê ô — the "no tone" entries of _CIRC_MARKS;
# the breve mark ê after a gives ă.)
UNICODE_TO_VNI: dict[str, str] = {v: k for k, v in VNI_TO_UNICODE.items()}
# Read, never written: i and y followed by a tone mark. VNI-Windows has ì í ỉ ĩ ị and ỵ
# as single characters, but some converters emit the base-plus-mark form for them;
# neither sequence can occur in Unicode Vietnamese, so accepting it is safe.
for _base, _letters in (("i", {"\u00f9": "í", "\u00f8": "ì", "\u00fb": "ỉ", "\u00f5": "ĩ", "\u00ef": "ị"}),
                        ("y", {"\u00ef": "ỵ"})):
    for _mark, _letter in _letters.items():
        VNI_TO_UNICODE.setdefault(_base + _mark, _letter)
        VNI_TO_UNICODE.setdefault(_base.upper() + chr(ord(_mark) - 0x20), _letter.upper())
_VNI_RE = re.compile("|".join(re.escape(k) for k in sorted(VNI_TO_UNICODE, key=len, reverse=True)))

# --------------------------------------------------------------- Vietnamese syllables
_INITIALS = sorted(["", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n",
                    "ng", "ngh", "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x"],
                   key=len, reverse=True)
_NUCLEI = {
    "a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y",
    "ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iê", "iu", "oa", "oă", "oe", "oi",
    "ôi", "ơi", "oo", "ua", "uâ", "uê", "ui", "uô", "uơ", "ưa", "ưi", "ươ", "ưu", "uy", "yê",
    "iêu", "yêu", "oai", "oao", "oay", "oeo", "uây", "uôi", "ươi", "ươu", "uya", "uyê", "uyu",
}
_FINALS = ("", "c", "ch", "m", "n", "ng", "nh", "p", "t")
_TONE_MARKS = {_ACUTE, _GRAVE, _HOOK, _TILDE, _DOT}


@functools.lru_cache(maxsize=65536)
def is_syllable(word: str) -> bool:
    """True if `word` is a well-formed Vietnamese syllable (any case, NFC or NFD)."""
    d = unicodedata.normalize("NFD", word.lower())
    tones = sum(1 for ch in d if ch in _TONE_MARKS)
    if tones > 1:
        return False
    s = unicodedata.normalize("NFC", "".join(ch for ch in d if ch not in _TONE_MARKS))
    for ini in _INITIALS:
        if not s.startswith(ini):
            continue
        rest = s[len(ini):]
        for fin in _FINALS:
            if fin and not rest.endswith(fin):
                continue
            nucleus = rest[: len(rest) - len(fin)] if fin else rest
            if nucleus in _NUCLEI:
                return True
    return False


# Characters that only Unicode Vietnamese produces: neither legacy reading has them.
_UNICODE_ONLY = re.compile("[\u0102\u0103\u0110\u0111\u0128\u0129\u0168\u0169\u01a0\u01a1\u01af\u01b0"
                           "\u1ea0-\u1ef9\u0300-\u0303\u0309\u0323]")
# A word: ASCII letters plus every character a legacy reading can put inside a word.
_WORD = re.compile("[A-Za-z\u00a1-\u00ff\u0100-\u024f\u0300-\u036f\u1ea0-\u1ef9]+")


def is_unicode_vietnamese(text: str) -> bool:
    """The text holds letters that only Unicode Vietnamese has (ư, ơ, đ, ạ, ế…)."""
    return _UNICODE_ONLY.search(text) is not None


@functools.lru_cache(maxsize=1 << 16)
def _words(text: str) -> tuple[str, ...]:
    """The words with non-ASCII characters (a lone symbol such as © or ½ is no word)."""
    return tuple(w for w in _WORD.findall(text) if not w.isascii() and any(ch.isalpha() for ch in w))


def _case_of(text: str) -> tuple[int, int]:
    """(upper, lower) counts of the letters whose case the codes show (not the accented
    lowercase codes, whose case is the font's)."""
    upper = lower = 0
    for ch in text:
        if ch in _TCVN3_UPPER_CODES:
            upper += 1
        elif ch in TCVN3_TO_UNICODE:
            continue
        elif ch.isupper():
            upper += 1
        elif ch.islower():
            lower += 1
    return upper, lower


def _restore_upper_words(original: str, converted: str) -> str:
    """TCVN3 has no upper-case accented letters: ``TIÕP`` is TIẾP typed in the
    ``.VnTimeH`` font. A cell whose letters are all capitals (at least two) is
    upper-cased whole (``Sæ TIÕP`` → SỔ TIẾP), else each word whose own letters are all
    capitals (at least two); ``TiÕp`` and ``§Ò`` alone (Đề: one capital) are left."""
    upper, lower = _case_of(original)
    if upper >= 2 and not lower:
        return converted.upper()
    out, pos = [], 0
    for m in _WORD.finditer(original):
        upper, lower = _case_of(m.group())
        if upper >= 2 and not lower:
            out.append(converted[pos:m.start()])
            out.append(converted[m.start():m.end()].upper())
            pos = m.end()
    out.append(converted[pos:])
    return "".join(out)


def to_unicode(text: str, encoding: str) -> str:
    """Convert legacy text to Unicode NFC; ASCII is left unchanged."""
    if encoding == TCVN3:
        converted = text.translate(_TCVN3_TRANS)          # one character for one: same offsets
        return unicodedata.normalize("NFC", _restore_upper_words(text, converted))
    if encoding == VNI:
        return unicodedata.normalize("NFC", _VNI_RE.sub(lambda m: VNI_TO_UNICODE[m.group()], text))
    raise ValueError(f"unknown legacy encoding {encoding!r} (use {TCVN3!r} or {VNI!r})")


def from_unicode(text: str, encoding: str) -> str:
    """Unicode → legacy reading (for tests and round trips). TCVN3 upper-case accented
    letters become the lower-case code, as the ABC fonts type them."""
    text = unicodedata.normalize("NFC", text)
    if encoding == TCVN3:
        table = UNICODE_TO_TCVN3
        return "".join(table.get(ch, table.get(ch.lower(), ch)) for ch in text)
    if encoding == VNI:
        return "".join(UNICODE_TO_VNI.get(ch, ch) for ch in text)
    raise ValueError(f"unknown legacy encoding {encoding!r} (use {TCVN3!r} or {VNI!r})")


def gain(words: Iterable[str], encoding: str) -> int:
    """Words that become Vietnamese syllables when converted, minus those that stop being."""
    return sum(_word_gain(w, encoding) for w in words)


@functools.lru_cache(maxsize=1 << 16)
def _word_gain(word: str, encoding: str) -> int:
    # A register repeats a small vocabulary in every row: each word is judged once.
    before, after = is_syllable(word), is_syllable(to_unicode(word, encoding))
    return (after and not before) - (before and not after)


def detect(text: str | Iterable[str], *, min_gain: int = 2) -> str | None:
    """``"tcvn3"``, ``"vni"`` or ``None`` for a text (or several: a workbook's cells).

    Fires only when converting turns at least `min_gain` words — and a quarter of the
    words with non-ASCII letters — from non-syllables into Vietnamese syllables, and
    one encoding clearly does better than the other. Unicode Vietnamese (already
    syllables) and English (no non-ASCII words) never qualify.
    """
    texts = [text] if isinstance(text, str) else list(text)
    words = [w for t in texts for w in _words(t)]
    if not words:
        return None
    scores = {enc: gain(words, enc) for enc in (TCVN3, VNI)}
    best = max(scores, key=scores.get)
    other = VNI if best == TCVN3 else TCVN3
    if scores[best] >= max(min_gain, len(words) / 4) and scores[best] > scores[other]:
        return best
    return None


class CellConverter:
    """Applies a workbook's detected encoding to its text cells.

    A cell with letters only Unicode has (ư, đ, ế…) is Unicode and left alone. Any
    other non-ASCII cell is converted when conversion turns more of its words into
    syllables than it breaks; when it neither gains nor loses (``Cã`` reads as a
    syllable both ways), it is converted only if the workbook has no Unicode cells at
    all — in a workbook mixing a Unicode template with legacy typing, such a cell is
    more likely Unicode (``Có``) and is kept.
    """

    def __init__(self, encoding: str, *, mixed: bool):
        self.encoding, self.mixed = encoding, mixed
        self.converted = 0
        self._cache: dict[str, str] = {}

    def __call__(self, value: str) -> str:
        if value.isascii():
            return value
        hit = self._cache.get(value)
        if hit is None:
            hit = value
            if not is_unicode_vietnamese(value):
                g = gain(_words(value), self.encoding)
                if g > 0 or (g == 0 and not self.mixed):
                    hit = to_unicode(value, self.encoding)
            self._cache[value] = hit
        if hit != value:
            self.converted += 1
        return hit


def workbook_converter(texts: Iterable[str]) -> CellConverter | None:
    """Detect the encoding of a workbook's text (headers and cells) and return the
    converter to apply to its cells, or None when the workbook is Unicode."""
    sample = [t for t in texts if isinstance(t, str) and not t.isascii()]
    enc = detect(sample)
    if enc is None:
        return None
    return CellConverter(enc, mixed=any(is_unicode_vietnamese(t) for t in sample))
