"""The simulators' vocabulary: canonical values, petition templates and the weighted
draws the model and the skip-level plan share (the same values as core/normalise.py
and warehouse/schema.py)."""
from __future__ import annotations

from simulators.core import Weighted

# Canonical values, as in core/normalise.py and warehouse/schema.py.
REGULAR, PERIODIC, UNSCHEDULED = "thuong_xuyen", "dinh_ky", "dot_xuat"
STAFF, HEAD, DEPUTY = "can_bo", "thu_truong", "uy_quyen"
FIRST, REPEAT = "lan_dau", "nhieu_lan"
OFFICIAL, DRAFT, DELETED = "official", "draft", "deleted"
GROUP_MIN = 5   # đoàn đông người (config counting.group_min_people)
# Share of tố cáo receptions that open a case and are followed the same day by a
# co-denouncer of that case (docs/simulated-sources.md "Co-denouncers").
P_CO_DENOUNCER = 0.2
# TT 06/2025 data (forms-2025.md §4.7), from a stream of its own drawn last, after the
# calibration window only: competent KN/TC matters not accepted (không thụ lý), and
# conclusions that sanction people also recommending organisations for handling.
P_NOT_ACCEPTED = 0.07
P_SANCTION_ORGS = 0.3

# (kind, field, summary, weight within kind). Summaries never contain personal data.
TEMPLATES = [
    ("KN", "dat_dai", "Khiếu nại quyết định thu hồi đất và phương án bồi thường, hỗ trợ, tái định cư", 5),
    ("KN", "dat_dai", "Khiếu nại việc không được cấp giấy chứng nhận quyền sử dụng đất", 3),
    ("KN", "dat_dai", "Khiếu nại quyết định xử phạt vi phạm hành chính trong lĩnh vực đất đai", 2),
    ("KN", "dat_dai", "Khiếu nại quyết định cưỡng chế phá dỡ công trình vi phạm trật tự xây dựng", 2),
    ("KN", "dat_dai", "Khiếu nại việc xác định nguồn gốc đất khi giải phóng mặt bằng", 2),
    ("KN", "che_do_chinh_sach", "Khiếu nại việc không được hưởng chế độ trợ cấp người có công", 1.5),
    ("KN", "che_do_chinh_sach", "Khiếu nại việc cắt trợ cấp xã hội hằng tháng", 1),
    ("KN", "cong_chuc", "Khiếu nại quyết định kỷ luật cán bộ, công chức", 0.5),
    ("KN", "khac", "Khiếu nại quyết định xử phạt vi phạm hành chính về trật tự đô thị", 1),
    ("KN", "khac", "Khiếu nại việc thu phí dịch vụ tại nhà chung cư", 0.7),
    ("TC", "tham_nhung", "Tố cáo cán bộ có dấu hiệu nhận tiền khi giải quyết thủ tục hành chính", 1.2),
    ("TC", "tham_nhung", "Tố cáo sai phạm trong quản lý, sử dụng kinh phí xây dựng công trình", 1),
    ("TC", "cong_chuc", "Tố cáo cán bộ địa chính có hành vi sai phạm trong quản lý đất đai", 1.5),
    ("TC", "cong_chuc", "Tố cáo cán bộ thiếu trách nhiệm, gây phiền hà cho người dân", 1),
    ("TC", "dat_dai", "Tố cáo việc lấn chiếm đất công không bị xử lý", 1.5),
    ("TC", "tu_phap", "Tố cáo hành vi vi phạm trong công tác thi hành án dân sự", 0.5),
    ("TC", "dang_doan_the", "Tố cáo đảng viên vi phạm quy định những điều đảng viên không được làm", 0.3),
    ("KNPA", "dat_dai", "Kiến nghị giải quyết tranh chấp ranh giới đất với hộ liền kề", 4),
    ("KNPA", "dat_dai", "Kiến nghị cấp giấy chứng nhận quyền sử dụng đất", 3),
    ("KNPA", "dat_dai", "Phản ánh việc xây dựng không phép, sai phép tại khu dân cư", 2.5),
    ("KNPA", "dat_dai", "Kiến nghị về giá bồi thường giải phóng mặt bằng dự án", 2),
    ("KNPA", "che_do_chinh_sach", "Kiến nghị xem xét chế độ chính sách người có công với cách mạng", 1.5),
    ("KNPA", "che_do_chinh_sach", "Kiến nghị hỗ trợ hộ nghèo, hộ cận nghèo", 1),
    ("KNPA", "khac", "Phản ánh ô nhiễm môi trường từ cơ sở sản xuất", 1.5),
    ("KNPA", "khac", "Phản ánh tình trạng lấn chiếm vỉa hè, lòng đường", 1.5),
    ("KNPA", "khac", "Kiến nghị sửa chữa, nâng cấp đường giao thông trong khu dân cư", 1.2),
    ("KNPA", "khac", "Phản ánh tiếng ồn từ công trình xây dựng ban đêm", 0.8),
    ("KNPA", "khac", "Kiến nghị về việc cấp nước sạch sinh hoạt", 0.8),
    ("KNPA", "khac", "Phản ánh tình trạng ngập úng khi mưa lớn", 0.6),
    ("KNPA", "tu_phap", "Kiến nghị xem xét lại bản án dân sự đã có hiệu lực pháp luật", 0.8),
    ("KNPA", "tu_phap", "Kiến nghị về việc chậm thi hành án dân sự", 0.6),
    ("KNPA", "cong_chuc", "Phản ánh thái độ làm việc của cán bộ tiếp nhận hồ sơ", 0.6),
    ("KNPA", "dang_doan_the", "Kiến nghị về hoạt động của chi hội tại khu dân cư", 0.3),
]
KIND_SHARE = Weighted([("KN", 0.35), ("TC", 0.10), ("KNPA", 0.55)])
TEMPLATE_BY_KIND = {k: Weighted([(t, t[3]) for t in TEMPLATES if t[0] == k]) for k in ("KN", "TC", "KNPA")}
CHANNELS = Weighted([("buu_chinh", 0.45), ("co_quan_khac", 0.25), ("truc_tuyen", 0.30)])
NOT_COMPETENT_HANDLING = Weighted([("huong_dan", 0.45), ("chuyen_don", 0.45), ("don_doc", 0.10)])

# Lần giải quyết of a case, by kind (KNPA: always lần đầu).
ROUNDS = {"KN": Weighted([("lan_dau", 0.82), ("lan_2", 0.14), ("ban_an", 0.04)]),
          "TC": Weighted([("lan_dau", 0.86), ("tiep", 0.14)])}
# Outcomes of competent KN/TC cases by (kind, round) (docs/report-set.md §1): KN lần 2
# confirms or overturns the first decision; đình chỉ (not by withdrawal) is TC only.
_KN_FIRST = Weighted([("dung", 0.16), ("sai", 0.52), ("dung_mot_phan", 0.20), ("rut_don", 0.12)])
OUTCOMES = {
    ("KN", "lan_dau"): _KN_FIRST, ("KN", "ban_an"): _KN_FIRST,
    ("KN", "lan_2"): Weighted([("cong_nhan", 0.78), ("huy_sua", 0.14), ("rut_don", 0.08)]),
    ("TC", "lan_dau"): Weighted([("dung", 0.18), ("sai", 0.46), ("dung_mot_phan", 0.22), ("rut_don", 0.08),
                                 ("dinh_chi", 0.06)]),
    ("TC", "tiep"): Weighted([("dung", 0.10), ("sai", 0.62), ("dung_mot_phan", 0.14), ("rut_don", 0.06),
                              ("dinh_chi", 0.08)]),
}
ON_TIME = 0.88          # share of decisions made within the legal time limit
OUTCOMES_KINDS = ("KN", "TC")   # KNPA cases carry no decision (no KQGQ form)
