"""Warehouse tables, by layer. Table prefixes show where data stands:

- ``raw_*``    immutable landing layer: every source row as received (personal data
               already scrubbed at ingestion), with lineage; append-only.
- ``dim_*``    reference data (administrative units, versioned by validity dates).
- ``fact_*``   the canonical, consolidated model that reports read: official records
               only, normalised, de-duplicated, corrections applied, pseudonymised.
- ``dq_*``     data-quality results and quarantined rows, for auditors.
- ``rpt_*``    what was produced: report files with checksums and the batches they read.
"""
from __future__ import annotations

from sqlalchemy import (
                        Boolean,
                        Column,
                        Date,
                        DateTime,
                        Float,
                        Index,
                        Integer,
                        MetaData,
                        String,
                        Table,
                        Text,
                        UniqueConstraint,
)

metadata = MetaData()

# ---------------------------------------------------------------- reference
dim_unit = Table(
    "dim_unit", metadata,
    Column("unit_key", String(32), primary_key=True),     # "<scheme>:<code>"
    Column("unit_code", String(8), nullable=False),       # national statistical code
    Column("name", String(200), nullable=False),
    Column("unit_type", String(40), nullable=False),      # Thành phố, Quận, Huyện, Phường, Xã, ...
    Column("level", String(8), nullable=False),           # tinh | huyen | xa
    Column("parent_code", String(8)),
    Column("parent_key", String(32)),
    Column("scheme", String(16), nullable=False),         # legacy (3-tier) | 2025 (2-tier) | province
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),                             # inclusive; NULL = still valid
    Column("source", String(80), nullable=False),
)
Index("ix_dim_unit_code", dim_unit.c.unit_code)

# Old → new units across the 2025 reform (vietnamadminunits converter data): where an
# old commune went whole into one new commune (`whole`) or was split among several
# (`split`, one row per new unit; `is_default` marks the unit the package assigns when
# nothing finer is known). Remapped reports use it; records are never recoded in place.
dim_unit_crosswalk = Table(
    "dim_unit_crosswalk", metadata,
    Column("old_unit_key", String(32), primary_key=True),
    Column("new_unit_key", String(32), primary_key=True),
    Column("relation", String(8), nullable=False),        # whole | split
    Column("is_default", Boolean, nullable=False),
    Column("source", String(80), nullable=False),
)

# ---------------------------------------------------------------- raw layer
# raw_batch.status: ``loaded`` = landed, awaiting audit (the batch suite decides in
# dq_batch_audit whether it may be published); ``rejected`` = the delivery could not be
# read at all (not a workbook, truncated, wrong columns…); ``failed`` = the source could
# not be reached or read (HTTP error, locked database…): nothing landed, the watermark
# did not move, the next run tries again.
raw_batch = Table(
    "raw_batch", metadata,
    Column("batch_id", String(40), primary_key=True),
    Column("source_kind", String(24), nullable=False),    # commune_register | district_db | city_service
    Column("source_name", String(120), nullable=False),   # unit code / database / service name
    Column("logical_key", String(200), nullable=False),   # file stem, db table, API resource
    Column("source_ref", Text, nullable=False),           # path / redacted URL / endpoint
    Column("checksum", String(64)),
    Column("watermark_from", String(40)),
    Column("watermark_to", String(40)),
    Column("row_count", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False),         # loaded | rejected | failed (see below)
    Column("reason_code", String(40)),                    # rule code when rejected/failed (expectations/rules.yaml)
    Column("message", Text),                              # reason a person can act on
    # Source-side time the data was delivered: a file's modification time; for systems
    # the end of the extraction. Completeness/timeliness (dq_completeness) use it.
    Column("delivered_at", DateTime),
    Column("run_id", String(250)),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
)
Index("ix_raw_batch_source", raw_batch.c.source_kind, raw_batch.c.logical_key)

raw_file_manifest = Table(
    "raw_file_manifest", metadata,
    Column("logical_key", String(200), nullable=False),   # file name (stem) as delivered
    Column("checksum", String(64), nullable=False),       # sha256 of the file bytes
    Column("path", Text, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("delivered_at", DateTime),                     # file modification time (UTC)
    Column("batch_id", String(40), nullable=False),
    Column("ingested_at", DateTime, nullable=False),
    UniqueConstraint("logical_key", "checksum", name="uq_manifest_file_version"),
)

raw_watermark = Table(
    "raw_watermark", metadata,
    Column("source_kind", String(24), primary_key=True),
    Column("source_name", String(120), primary_key=True),
    Column("stream", String(60), primary_key=True),       # table or API resource
    Column("watermark", String(40), nullable=False),      # last seen last-modified (ISO)
    Column("updated_at", DateTime, nullable=False),
)

raw_record = Table(
    "raw_record", metadata,
    Column("raw_id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", String(40), nullable=False),
    Column("source_kind", String(24), nullable=False),
    Column("source_name", String(120), nullable=False),
    Column("record_type", String(16), nullable=False),    # reception | petition | case | calendar
    Column("source_file", Text, nullable=False),          # file/sheet, db table, API resource
    Column("source_row", Integer),                        # worksheet row number (1-based)
    Column("record_id", String(80)),                      # id in the source system
    Column("record_version", String(40)),                 # last-modified / version in the source
    Column("payload", Text, nullable=False),              # JSON, values as received, PII scrubbed
    Column("ingested_at", DateTime, nullable=False),
    UniqueConstraint("source_kind", "source_name", "record_type", "batch_id", "source_file",
                     "source_row", "record_id", "record_version", name="uq_raw_record"),
)
Index("ix_raw_record_batch", raw_record.c.batch_id)
Index("ix_raw_record_kind", raw_record.c.source_kind, raw_record.c.record_type)
# Partition assignment walks a kind's raw rows in raw-id order, a chunk after the last
# (transforms/partitions.py, unassigned_chunk).
Index("ix_raw_record_kind_id", raw_record.c.source_kind, raw_record.c.raw_id)

# ---------------------------------------------------------------- canonical facts
_lineage = lambda: [
    Column("source_kind", String(24), nullable=False),
    Column("source_name", String(120), nullable=False),
    Column("record_id", String(80)),
    Column("raw_id", Integer, nullable=False),
    Column("batch_id", String(40), nullable=False),
]

fact_reception = Table(
    "fact_reception", metadata,
    Column("reception_key", String(200), primary_key=True),
    Column("unit_code", String(8), nullable=False),       # as recorded
    Column("unit_key", String(32), nullable=False),       # unit version valid on received_date
    Column("received_date", Date, nullable=False),
    Column("mode", String(16), nullable=False),           # thuong_xuyen | dinh_ky | dot_xuat
    Column("receiver", String(16), nullable=False),       # can_bo | thu_truong | uy_quyen
    Column("sitting_key", String(200)),                   # kỳ tiếp, for dinh_ky/dot_xuat
    Column("people", Integer, nullable=False),
    Column("is_group", Boolean, nullable=False),          # đoàn đông người (people >= 5)
    Column("petition_kind", String(8)),                   # KN | TC | KNPA
    Column("case_key", String(200)),
    Column("visit", String(12)),                          # lan_dau | nhieu_lan
    Column("citizen_pseudonym", String(64)),              # HMAC; for denouncers (TC) case-scoped (ADR 0005)
    *_lineage(),
)
Index("ix_fact_reception_unit_date", fact_reception.c.unit_key, fact_reception.c.received_date)

# The head's published reception calendar (lịch tiếp công dân), for Biểu 01/TCD columns
# 10 and 16 of TT 06/2025 (shared/domain/forms-2025.md §3.1): one row per announced day
# per unit and receiver. A source without calendars has no rows here; the report cells
# that need a month a unit has no row for are empty with a note (reports/formdef/,
# `sources:`).
fact_reception_calendar = Table(
    "fact_reception_calendar", metadata,
    Column("calendar_key", String(200), primary_key=True),   # "<source kind>:<source name>:<record id>"
    Column("unit_code", String(8), nullable=False),        # as recorded
    Column("unit_key", String(32), nullable=False),        # unit version valid on announced_date
    Column("announced_date", Date, nullable=False),        # the day announced
    Column("receiver", String(16), nullable=False),        # thu_truong (in person) | uy_quyen (delegated)
    *_lineage(),
)
Index("ix_fact_reception_calendar_unit_date", fact_reception_calendar.c.unit_key,
      fact_reception_calendar.c.announced_date)

fact_petition = Table(
    "fact_petition", metadata,
    Column("petition_key", String(200), primary_key=True),
    Column("unit_code", String(8), nullable=False),
    Column("unit_key", String(32), nullable=False),
    Column("received_date", Date, nullable=False),
    Column("channel", String(16), nullable=False),        # tiep_cong_dan | buu_chinh | co_quan_khac | truc_tuyen
    Column("petition_kind", String(8), nullable=False),   # KN | TC | KNPA
    Column("signers", String(8), nullable=False),         # nhieu | mot | khac
    Column("field", String(32)),                          # lĩnh vực
    Column("case_key", String(200)),
    Column("eligible", Boolean),                          # đủ điều kiện xử lý
    Column("competent", Boolean),                         # thuộc thẩm quyền
    Column("handling", String(16)),                       # thu_ly | huong_dan | chuyen_don | don_doc
    Column("reply_received", Boolean),                    # văn bản phúc đáp
    Column("resolution_status", String(24)),              # chua_giai_quyet | dang_giai_quyet | da_giai_quyet
    Column("resolved_date", Date),
    Column("citizen_pseudonym", String(64)),
    # Handling and resolution dates: a petition's state on any day is computed from
    # these, so a period's figures do not move when later events arrive (docs/report-set.md).
    Column("processed_date", Date),                       # ngày xử lý đơn; NULL = chưa xử lý
    Column("accepted_date", Date),                        # ngày thụ lý giải quyết
    Column("resolution_round", String(12)),               # KN lan_dau|lan_2|ban_an; TC lan_dau|tiep
    # The decision (competent and resolved petitions only; 01/KQGQ, 03/KQGQ).
    Column("outcome", String(16)),                        # dung|sai|dung_mot_phan|cong_nhan|huy_sua|rut_don|dinh_chi
    Column("on_time", Boolean),                           # chấp hành thời hạn giải quyết
    Column("recover_money", Float),                       # kiến nghị thu hồi: tiền (triệu đồng)
    Column("recover_land", Float),                        # … đất (m²)
    Column("return_org_money", Float),                    # trả lại cho tổ chức: tiền
    Column("return_org_land", Float),
    Column("return_person_money", Float),                 # trả lại cho cá nhân
    Column("return_person_land", Float),
    Column("orgs_restored", Integer),                     # số tổ chức được trả lại quyền lợi
    Column("persons_restored", Integer),
    Column("sanction_people", Integer),                   # kiến nghị xử lý hành chính: số người
    Column("sanction_officials", Integer),                # … trong đó CBCCVC
    Column("prosecuted_cases", Integer),                  # chuyển cơ quan điều tra: số vụ
    Column("prosecuted_people", Integer),
    Column("prosecuted_officials", Integer),
    # Execution of the decision (02/KQGQ, 04/KQGQ): only for a decision that orders
    # something (NULL otherwise); done so far (0 = nothing yet), never more than ordered.
    Column("executed_date", Date),                        # thi hành xong; NULL = chưa xong
    Column("collected_money", Float),                     # đã thu cho Nhà nước: tiền (triệu đồng)
    Column("collected_land", Float),                      # … đất (m²)
    Column("returned_org_money", Float),                  # đã trả cho tổ chức
    Column("returned_org_land", Float),
    Column("returned_person_money", Float),               # đã trả cho cá nhân
    Column("returned_person_land", Float),
    Column("sanctioned_people", Integer),                 # đã xử lý hành chính: số người
    Column("sanctioned_officials", Integer),              # … trong đó CBCCVC
    Column("prosecuted_done_cases", Integer),             # đã khởi tố: số vụ
    Column("prosecuted_done_people", Integer),
    Column("prosecuted_done_officials", Integer),
    # TT 06/2025 (03/GQKN, 04/GQTC 3–6 and 20; 05/KQTH 26), optional in every source
    # contract: NULL = the record's source does not carry the field (the form's cell is
    # then empty with a note, never 0). The acceptance status at a window's end is
    # derived from the dates: rút/đình chỉ (outcome + resolved_date), không thụ lý
    # (not_accepted_date), đã thụ lý (accepted_date), else đang xem xét.
    Column("not_accepted_date", Date),                    # ngày thông báo không thụ lý
    Column("acceptance_recorded", Boolean),               # True: the source records (không) thụ lý; NULL: it does not
    Column("sanction_orgs", Integer),                     # kiến nghị xử lý hành chính: số tổ chức
    Column("sanctioned_orgs", Integer),                   # đã xử lý hành chính: số tổ chức
    *_lineage(),
)

fact_case = Table(
    "fact_case", metadata,
    Column("case_key", String(200), primary_key=True),
    Column("unit_code", String(8), nullable=False),
    Column("unit_key", String(32), nullable=False),
    Column("opened_date", Date, nullable=False),
    Column("petition_kind", String(8)),
    Column("field", String(32)),
    Column("resolution_status", String(24)),
    Column("resolved_date", Date),
    *_lineage(),
)

# ---------------------------------------------------------------- data quality
dq_quarantine = Table(
    "dq_quarantine", metadata,
    Column("quarantine_id", Integer, primary_key=True, autoincrement=True),
    Column("raw_id", Integer),
    Column("batch_id", String(40), nullable=False),
    Column("source_kind", String(24), nullable=False),
    Column("source_name", String(120), nullable=False),
    Column("record_type", String(16), nullable=False),
    Column("source_file", Text),
    Column("source_row", Integer),
    Column("record_id", String(80)),
    Column("unit_code", String(8)),                       # as recorded, when readable
    Column("record_date", Date),                          # the record's date, when readable
    Column("reason_code", String(40), nullable=False),     # rule code (expectations/rules.yaml)
    Column("severity", String(10), nullable=False, default="error"),
    Column("reason", Text, nullable=False),               # what to fix, no personal data
    Column("detected_at", DateTime, nullable=False),
)

dq_batch_audit = Table(
    # The batch suite's verdict on a landed batch (raw is immutable, so a batch is
    # audited once per suite version). A rejected batch publishes nothing.
    "dq_batch_audit", metadata,
    Column("batch_id", String(40), primary_key=True),
    Column("suite", String(120), nullable=False),
    Column("suite_sha", String(64), nullable=False),      # suite JSON checksum
    Column("passed", Boolean, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("failed_rules", Text),                         # JSON [{rule, severity, failed_rows, share}]
    Column("reason", Text),                               # Vietnamese, what the unit must fix
    Column("run_id", String(250)),
    Column("audited_at", DateTime, nullable=False),
)

dq_flag = Table(
    # Warning-level findings: the row is published and counted, and flagged for follow-up.
    "dq_flag", metadata,
    Column("flag_id", Integer, primary_key=True, autoincrement=True),
    Column("raw_id", Integer, nullable=False),
    Column("batch_id", String(40), nullable=False),
    Column("source_kind", String(24), nullable=False),
    Column("source_name", String(120), nullable=False),
    Column("record_type", String(16), nullable=False),
    Column("source_file", Text),
    Column("source_row", Integer),
    Column("record_id", String(80)),
    Column("unit_key", String(32)),
    Column("unit_code", String(8)),
    Column("record_date", Date),
    Column("rule", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("detected_at", DateTime, nullable=False),
)

dq_completeness = Table(
    # Expected versus received submissions per unit, period and kind of source.
    "dq_completeness", metadata,
    Column("period_key", String(40), primary_key=True),   # core.periods key, e.g. 2026-Q3
    Column("unit_key", String(32), primary_key=True),
    Column("source_kind", String(24), primary_key=True),
    Column("date_from", Date, nullable=False),
    Column("date_to", Date, nullable=False),
    Column("expected", Integer, nullable=False),          # submissions expected (e.g. yearly books)
    Column("received", Integer, nullable=False),          # accepted submissions covering the window
    Column("rejected", Integer, nullable=False),          # deliveries rejected / failed
    Column("first_arrival", DateTime),                    # source-side time the data was complete
    Column("deadline", DateTime),
    Column("status", String(20), nullable=False),         # dung_han | muon | thieu | chua_bao_cao | bi_tu_choi
    Column("note", Text),
    Column("computed_at", DateTime, nullable=False),
)

dq_outlier = Table(
    # A unit's figure for a period compared with its own history.
    "dq_outlier", metadata,
    Column("period_key", String(40), primary_key=True),
    Column("unit_key", String(32), primary_key=True),
    Column("metric", String(40), primary_key=True),       # receptions | people | petitions
    Column("value", Integer, nullable=False),
    Column("history_periods", Integer, nullable=False),
    Column("history_mean", Integer),
    Column("history_sd", Integer),
    Column("history_min", Integer),
    Column("history_max", Integer),
    Column("z_score", Integer),                           # x100, integer to stay exact across DBs
    Column("flagged", Boolean, nullable=False),
    Column("reason", Text),                               # Vietnamese, with the figures
    Column("computed_at", DateTime, nullable=False),
)

dq_validation = Table(
    "dq_validation", metadata,
    Column("validation_id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(250)),
    Column("suite", String(120), nullable=False),
    Column("partition", String(120), nullable=False),     # e.g. source kind / record type
    Column("success", Boolean, nullable=False),
    Column("evaluated", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("details", Text),                              # JSON summary, no row values
    Column("validated_at", DateTime, nullable=False),
)

# ---------------------------------------------------------------- what was produced
rpt_report = Table(
    "rpt_report", metadata,
    Column("report_id", Integer, primary_key=True, autoincrement=True),
    Column("form", String(20), nullable=False),
    Column("form_version", String(20), nullable=False),
    Column("unit_code", String(8), nullable=False),
    Column("date_from", Date, nullable=False),
    Column("date_to", Date, nullable=False),
    Column("period_label", String(80), nullable=False),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("run_id", String(250)),
    Column("batches_read", Text),                         # JSON list of batch ids
    Column("created_at", DateTime, nullable=False),
)

# A task records some 20,000 reports of a national quarter, and re-issuing finds each by path.
Index("ix_rpt_report_path", rpt_report.c.path)

# ---------------------------------------------------------------- publication state
wh_partition_state = Table(
    "wh_partition_state", metadata,
    Column("source_kind", String(24), primary_key=True),
    Column("batch_fingerprint", String(64), nullable=False),  # sha256 of the batch ids read
    Column("batches", Integer, nullable=False),
    Column("stats", Text),
    Column("run_id", String(250)),
    Column("consolidated_at", DateTime, nullable=False),
)

# Consolidation works in bounded partitions of a source kind: the year of each raw
# row's record date (transforms/partitions.py). These tables are the consolidation's own
# bookkeeping, derived from the raw layer and rebuilt from it at will.
wh_raw_partition = Table(
    # The partition of every raw row, decided once (raw rows never change).
    "wh_raw_partition", metadata,
    Column("raw_id", Integer, primary_key=True),
    Column("source_kind", String(24), nullable=False),
    Column("partition_key", String(16), nullable=False),  # "2024" ("48-2024" national); "none": no date
)
Index("ix_wh_raw_partition_key", wh_raw_partition.c.source_kind, wh_raw_partition.c.partition_key)

wh_current_raw = Table(
    # The current version of every record (registers: of every file) among accepted
    # batches, chosen in SQL at each consolidation; the rows a partition is built from.
    "wh_current_raw", metadata,
    Column("raw_id", Integer, primary_key=True),
    Column("source_kind", String(24), nullable=False),
    Column("partition_key", String(16), nullable=False),
)
Index("ix_wh_current_raw_key", wh_current_raw.c.source_kind, wh_current_raw.c.partition_key)

wh_partition = Table(
    # What each published partition was built from (sha256 of its current raw ids and of
    # the suites); a partition whose fingerprint did not change is not rebuilt.
    "wh_partition", metadata,
    Column("source_kind", String(24), primary_key=True),
    Column("partition_key", String(16), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("stats", Text),
    Column("run_id", String(250)),
    Column("consolidated_at", DateTime, nullable=False),
)

wh_case_candidate = Table(
    # A case (vụ việc) is one row of fact_case per case key, while its records fall in the
    # partition of their opening year: every partition lists its valid case rows here,
    # and the lowest raw_id of a key across partitions is the one published (as a
    # rebuild of the whole source kind would keep it).
    "wh_case_candidate", metadata,
    Column("source_kind", String(24), nullable=False),
    Column("partition_key", String(16), nullable=False),
    Column("case_key", String(200), nullable=False),
    Column("raw_id", Integer, primary_key=True),
)
Index("ix_wh_case_candidate_key", wh_case_candidate.c.source_kind, wh_case_candidate.c.case_key)
Index("ix_wh_case_candidate_partition", wh_case_candidate.c.source_kind, wh_case_candidate.c.partition_key)
# Publishing a partition deletes its previous rows by raw id (transforms/consolidate.py,
# _publish): without these indexes every delete scans the whole table, so each
# partition's publication costs more as history grows.
for _table in (fact_reception, fact_reception_calendar, fact_petition, fact_case, dq_quarantine, dq_flag):
    Index(f"ix_{_table.name}_raw_id", _table.c.raw_id)

# ---------------------------------------------------------------- 06/QLKNTC (TT 06/2025)
# Biểu 06/QLKNTC: state management of citizen reception and complaints/denunciations.
# No source system holds these figures: each unit fills one input workbook per period
# (connectors/qlkntc_template.py, connectors/qlkntc_workbooks.py), consolidated by
# transforms/qlkntc.py. One row per unit and window; a corrected workbook replaces the
# earlier one as a whole; a unit that sent none (or whose workbook is quarantined) has
# no row. The value columns are the form's MS 1–17, in order (transforms.qlkntc.COLUMNS).
fact_qlkntc = Table(
    "fact_qlkntc", metadata,
    Column("qlkntc_key", String(80), primary_key=True),   # "<unit code>:<period key>"
    Column("unit_code", String(8), nullable=False),       # as in the workbook's identification area
    Column("unit_key", String(32), nullable=False),       # unit version valid on window_end
    Column("period_key", String(40), nullable=False),     # core.periods key, e.g. 2025-Q4
    Column("window_start", Date, nullable=False),         # inclusive
    Column("window_end", Date, nullable=False),           # inclusive
    Column("docs_issued", Integer, nullable=False),           # (1) văn bản ban hành mới
    Column("docs_amended", Integer, nullable=False),          # (2) văn bản được sửa đổi, bổ sung
    Column("docs_repealed", Integer, nullable=False),         # (3) văn bản hủy bỏ
    Column("training_classes", Integer, nullable=False),      # (4) tập huấn, tuyên truyền: số lớp
    Column("training_participants", Integer, nullable=False),  # (5) … số người
    Column("inspections", Integer, nullable=False),           # (6) thanh tra trách nhiệm: số cuộc
    Column("inspected_units", Integer, nullable=False),       # (7) … số đơn vị
    Column("inspections_concluded", Integer, nullable=False),  # (8) số cuộc đã ban hành kết luận
    Column("rec_admin_orgs", Integer, nullable=False),        # (9) kiến nghị xử lý hành chính: tổ chức
    Column("rec_admin_persons", Integer, nullable=False),     # (10) … cá nhân
    Column("rec_referred_orgs", Integer, nullable=False),     # (11) kiến nghị chuyển cơ quan điều tra: tổ chức
    Column("rec_referred_persons", Integer, nullable=False),  # (12) … cá nhân
    Column("conclusions_to_implement", Integer, nullable=False),  # (13) tổng số KLTT thực hiện
    Column("handled_admin_orgs", Integer, nullable=False),    # (14) đã xử lý hành chính: tổ chức
    Column("handled_admin_persons", Integer, nullable=False),  # (15) … cá nhân
    Column("prosecuted_cases", Integer, nullable=False),      # (16) đã khởi tố: vụ
    Column("prosecuted_persons", Integer, nullable=False),    # (17) … đối tượng
    # Bảo vệ người tố cáo (Mẫu số 02 II.5), the workbook's optional protection block
    # (template version 2): NULL = the unit did not report them (version-1 workbook or
    # block left empty), never 0. (1) = (2) + (3); (4), (5) <= (1); (4) + (5) may exceed (1).
    Column("protected_persons", Integer),       # (1) tổng số người được bảo vệ
    Column("protected_denouncers", Integer),    # (2) … người tố cáo
    Column("protected_relatives", Integer),     # (3) … thân nhân của người tố cáo
    Column("protected_job", Integer),           # (4) … áp dụng biện pháp bảo vệ vị trí công tác, việc làm
    Column("protected_life", Integer),          # (5) … bảo vệ tính mạng, sức khỏe, tài sản, danh dự, nhân phẩm
    Column("template_version", String(40), nullable=False),
    Column("delivered_at", DateTime),                     # the workbook's delivery time (file mtime, UTC)
    Column("source_file", Text, nullable=False),          # "<file name>#<sheet>"
    Column("source_row", Integer, nullable=False),        # worksheet row of the figures
    Column("file_checksum", String(64)),                  # sha256 of the workbook
    *_lineage(),
    UniqueConstraint("unit_key", "window_start", "window_end", name="uq_fact_qlkntc_unit_window"),
)
