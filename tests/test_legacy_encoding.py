"""Legacy Vietnamese font encodings (TCVN3, VNI): conversion to Unicode and detection."""
from __future__ import annotations

import unicodedata

import pytest

from core import legacy_encoding as le
from core.legacy_encoding import TCVN3, VNI, detect, from_unicode, to_unicode

# Written out by hand as such cells read (the code points of the legacy bytes), from the
# published charts — not produced by this module, so its tables are checked against them.
TCVN3_KNOWN = {
    "TiÕp c«ng d©n": "Tiếp công dân",
    "Céng hoµ x· héi chñ nghÜa ViÖt Nam": "Cộng hoà xã hội chủ nghĩa Việt Nam",
    "§éc lËp - Tù do - H¹nh phóc": "Độc lập - Tự do - Hạnh phúc",
    "B¶o Th¾ng": "Bảo Thắng",
    "M\u00adêng Kh\u00ad\u00acng": "Mường Khương",
    "Th\u00adêng xuyªn": "Thường xuyên",
    "C¸n bé tiÕp c«ng d©n": "Cán bộ tiếp công dân",
    "§¬n th\u00ad": "Đơn thư",
    "TIÕP C¤NG D¢N": "TIẾP CÔNG DÂN",          # .VnTimeH: capitals typed with the lowercase codes
}
VNI_KNOWN = {
    "Tieáp coâng daân": "Tiếp công dân",
    "Xin chaøo caùc baïn": "Xin chào các bạn",
    "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam": "Cộng hòa xã hội chủ nghĩa Việt Nam",
    "Ñoäc laäp - Töï do - Haïnh phuùc": "Độc lập - Tự do - Hạnh phúc",
    "Ñaø Naüng saün coù": "Đà Nẵng sẵn có",
    "ngöôøi khieáu naïi, toá caùo": "người khiếu nại, tố cáo",
    "Thöôøng xuyeân": "Thường xuyên",
    "TIEÁP COÂNG DAÂN": "TIẾP CÔNG DÂN",
    "Kyø hoïp thöù hai, ñaïi bieåu Quoác hoäi": "Kỳ họp thứ hai, đại biểu Quốc hội",
}

SENTENCES = [
    "Tiếp công dân định kỳ của Chủ tịch Ủy ban nhân dân phường Trúc Bạch",
    "Đơn khiếu nại về việc bồi thường, hỗ trợ, tái định cư khi Nhà nước thu hồi đất",
    "Kiến nghị, phản ánh về ô nhiễm môi trường do cơ sở sản xuất gây ra",
    "Tố cáo hành vi vi phạm pháp luật trong quản lý đất đai của cán bộ địa chính xã",
    "Số người cùng nội dung; Hình thức tiếp; Người tiếp; Lần tiếp; Mã vụ việc",
    "Qua tiếp công dân, Bưu chính, Cơ quan khác chuyển đến, Trực tuyến",
    "Thuộc thẩm quyền, chưa giải quyết, đang giải quyết, đã giải quyết xong",
    "Ngày nhận đơn; Tóm tắt nội dung; Hướng dẫn công dân gửi đơn đến cơ quan có thẩm quyền",
    "Quyết định giải quyết khiếu nại lần hai của Giám đốc Sở Tài nguyên và Môi trường",
    "Khuyến khích người dân phản ánh kịp thời; huyện Mỹ Đức, quận Hoàn Kiếm, xã Ứng Hòa",
]
ALL_LETTERS = ("aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ")

NOT_LEGACY = SENTENCES + [
    unicodedata.normalize("NFD", SENTENCES[0]),
    "Nguyễn Văn An, thôn 2; Lê Thị Bình, tổ 5; Hoàng Quân, quê Khoá Toà",
    "Có Khác Quá hoàng quân quê khoá toà",          # Unicode words that look like VNI pairs
    "The citizen reception register was delivered late; see the attached report.",
    "Müller, São Paulo, naïve café, Señor Björk Ørsted, où est-il?",
    "KN TC KNPA 05/03/2024 VV-2024-031 001085012345 0912 345 678",
    "© 2024 UBND — «trích» ½ ¼",
    "",
]


@pytest.mark.parametrize("legacy, text", list(TCVN3_KNOWN.items()))
def test_tcvn3_known_text(legacy, text):
    assert to_unicode(legacy, TCVN3) == text


@pytest.mark.parametrize("legacy, text", list(VNI_KNOWN.items()))
def test_vni_known_text(legacy, text):
    assert to_unicode(legacy, VNI) == text


def test_detects_the_known_texts():
    assert detect(list(TCVN3_KNOWN)) == TCVN3
    assert detect(list(VNI_KNOWN)) == VNI
    for legacy in [*TCVN3_KNOWN][:4]:
        assert detect(legacy) == TCVN3, legacy
    for legacy in [*VNI_KNOWN][:5]:
        assert detect(legacy) == VNI, legacy


@pytest.mark.parametrize("text", SENTENCES)
def test_real_sentences_round_trip_and_are_detected(text):
    vni = from_unicode(text, VNI)
    assert vni != text and detect(vni) == VNI and to_unicode(vni, VNI) == text
    tcvn3 = from_unicode(text, TCVN3)
    assert detect(tcvn3) == TCVN3
    # TCVN3 has no toned capitals: they come back lowercase (Ủ → ủ), all else exact.
    back = to_unicode(tcvn3, TCVN3)
    assert len(back) == len(text)
    assert all(b == t or (t.isupper() and b == t.lower()) for b, t in zip(back, text))


@pytest.mark.parametrize("text", NOT_LEGACY)
def test_unicode_and_english_are_not_detected(text):
    assert detect(text) is None


def test_every_letter_both_cases():
    for ch in ALL_LETTERS:
        for c in (ch, ch.upper()):
            assert to_unicode(from_unicode(c, VNI), VNI) == c
            back = to_unicode(from_unicode(c, TCVN3), TCVN3)
            assert back == c or (c.isupper() and back == c.lower()), c
    # each table is one-to-one: no two codes for a letter, no code for two letters
    assert len(set(le.TCVN3_TO_UNICODE.values())) == len(le.TCVN3_TO_UNICODE) == 134 // 2 + 7
    # VNI writes every letter but a e i o u y (ASCII) and ì í (themselves), both cases
    assert len(le.UNICODE_TO_VNI) == 2 * len(ALL_LETTERS) - 2 * 6 - 2 * 2


def test_tables_agree_with_an_independent_implementation():
    """The simulator writes legacy registers with its own tables (from the xvnkb driver)."""
    from simulators.legacy_encoding import encode

    for ch in ALL_LETTERS + ALL_LETTERS.upper():
        assert to_unicode(encode(ch, VNI), VNI) == ch
        assert to_unicode(encode(ch, TCVN3), TCVN3) in (ch, ch.lower())
    for text in SENTENCES:
        assert to_unicode(encode(text, VNI), VNI) == text
        assert to_unicode(encode(text, TCVN3), TCVN3).lower() == text.lower()


def test_all_caps_tcvn3_words_are_restored_but_not_title_case():
    assert to_unicode("Sæ TIÕP C¤NG D¢N N¡M 2024", TCVN3) == "SỔ TIẾP CÔNG DÂN NĂM 2024"
    assert to_unicode("Sæ theo dâi TIÕP C¤NG D¢N", TCVN3) == "Sổ theo dõi TIẾP CÔNG DÂN"
    assert to_unicode("§Ò nghÞ", TCVN3) == "Đề nghị"            # one capital: the word is not all caps


def test_cell_converter_keeps_unicode_cells_of_a_mixed_workbook():
    cells = ["Ngày tiếp", "Hình thức tiếp", "Th\u00adêng xuyªn", "C¸n bé tiÕp c«ng d©n", "Cã", "Có"]
    conv = le.workbook_converter(cells)
    assert conv is not None and conv.encoding == TCVN3 and conv.mixed
    assert [conv(c) for c in cells] == ["Ngày tiếp", "Hình thức tiếp", "Thường xuyên", "Cán bộ tiếp công dân",
                                        "Cã", "Có"]          # ambiguous cells kept in a mixed workbook
    pure = le.workbook_converter(["Th\u00adêng xuyªn", "C¸n bé tiÕp c«ng d©n", "Cã"])
    assert not pure.mixed and pure("Cã") == "Có"
    assert le.workbook_converter(NOT_LEGACY) is None


def test_syllables():
    for w in ("tiếp", "NGƯỜI", "khuyến", "quốc", "giữ", "gì", "nghiêng", "hoàng", "Ủy", "oai", "xoong"):
        assert le.is_syllable(w), w
    for w in ("tieáp", "coâng", "c«ng", "tiõp", "naïve", "café", "Müller", "street", "ngaøy"):
        assert not le.is_syllable(w), w
