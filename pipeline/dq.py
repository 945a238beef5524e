"""What auditors receive for a period: completeness and timeliness, outliers, the
data-quality workbook, the "Chất lượng dữ liệu" sheet of every report, Data Docs.

Reads the warehouse only (dq_* tables, raw lineage, dim_unit); writes dq_completeness
and dq_outlier for the period and the workbook under ``paths.data_quality``. Idempotent
per period. No personal data: quarantine and flags carry lineage and rule codes only.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from core import connections, settings
from core import rules as rules_catalogue
from core.dates import utcnow
from core.levels import LEVEL_ORDER
from core.periods import Period
from core.settings import Settings
from reports.dq_workbook import write_table_workbook
from transforms import completeness, outliers, qlkntc, quality
from warehouse import db, deployment, units
from warehouse.schema import dq_batch_audit, dq_flag, dq_quarantine, fact_petition, fact_reception, raw_batch

log = logging.getLogger(__name__)

SOURCE_LABELS = {"commune_register": "Sổ của xã (Excel)", "district_db": "CSDL cấp huyện",
                 "city_service": "Hệ thống thành phố", "qlkntc_workbook": "Tệp nhập liệu biểu 06/QLKNTC"}
STATUS_LABELS = {"dung_han": "Đúng hạn", "muon": "Muộn", "thieu": "Thiếu",
                 "chua_bao_cao": "Chưa báo cáo", "bi_tu_choi": "Bị từ chối"}
SEVERITY_LABELS = {"critical": "Nghiêm trọng (loại cả lô)", "error": "Lỗi (cách ly dòng)",
                   "warning": "Cảnh báo (giữ, đánh dấu)"}
IMPORTANCE_LABELS = {"cao": "Cao", "trung_binh": "Trung bình", "thap": "Thấp"}
NOT_REPORTED = ("chua_bao_cao", "bi_tu_choi")


def period_from_dict(d: dict) -> Period:
    return Period(d["kind"], int(d["year"]), dt.date.fromisoformat(d["start"]),
                  dt.date.fromisoformat(d["end"]), d["label"])


def _unit_names(cfg: Settings) -> pd.DataFrame:
    u = deployment.unit_frame(cfg)
    return u[["unit_key", "unit_code", "name", "level"]]


def _years(p: Period) -> list[int]:
    return list(range(p.start.year, p.end.year + 1))


def quarantine_in_window(conn: sa.Connection, p: Period, table) -> pd.DataFrame:
    """Quarantined (or flagged) rows whose record date is in the window, plus rows whose
    date could not be read and that came from a delivery concerning the window (register
    books of the window's years; any extract of a system)."""
    df = pd.read_sql(sa.select(table), conn)
    if df.empty:
        return df
    d = pd.to_datetime(df["record_date"], errors="coerce").dt.date
    in_window = d.notna() & (d >= p.start) & (d <= p.end)
    undated = d.isna()
    if undated.any():
        years = tuple(str(y) for y in _years(p))
        from_books = df["source_kind"].eq("commune_register") & df["source_file"].fillna("").str.contains(
            "|".join(f"_{y}\\." for y in years))
        undated &= from_books | df["source_kind"].ne("commune_register")
    return df[in_window | undated].copy()


def rejected_batches(conn: sa.Connection, p: Period) -> pd.DataFrame:
    """Deliveries refused at landing (rejected / failed) or by the batch audit that
    concern the window: register books of its years; system extracts attempted after
    its start."""
    landed = pd.read_sql(sa.select(
        raw_batch.c.batch_id, raw_batch.c.source_kind, raw_batch.c.source_name, raw_batch.c.logical_key,
        raw_batch.c.source_ref, raw_batch.c.status, raw_batch.c.reason_code, raw_batch.c.message,
        raw_batch.c.started_at, raw_batch.c.delivered_at, raw_batch.c.checksum), conn)
    audit = pd.read_sql(sa.select(dq_batch_audit.c.batch_id, dq_batch_audit.c.passed,
                                  dq_batch_audit.c.failed_rules, dq_batch_audit.c.reason), conn)
    df = landed.merge(audit, on="batch_id", how="left")
    refused = df["status"].isin(["rejected", "failed"]) | df["passed"].eq(False)
    df = df[refused].copy()
    if df.empty:
        return df
    audit_rejected = df["status"].eq("loaded")
    df.loc[audit_rejected, "status"] = "audit_rejected"
    df.loc[audit_rejected, "message"] = df.loc[audit_rejected, "reason"]
    df.loc[audit_rejected, "reason_code"] = [
        ",".join(sorted({v["rule"] for v in json.loads(x)})) if isinstance(x, str) else None
        for x in df.loc[audit_rejected, "failed_rules"]]
    years = _years(p)
    is_book = df["source_kind"].eq("commune_register")
    book_year = df["logical_key"].str.extract(r"_(\d{4})$")[0].astype("float")
    relevant = (is_book & (book_year.isin(years) | book_year.isna())) | (
        ~is_book & (pd.to_datetime(df["started_at"]).dt.date >= p.start))
    return df[relevant].sort_values(["source_kind", "source_name", "logical_key", "started_at"])


def _resolve_keys(df: pd.DataFrame, unit_df: pd.DataFrame) -> pd.Series:
    if df.empty:
        return pd.Series(dtype=object)
    dates = pd.to_datetime(df["record_date"], errors="coerce")
    ok = dates.notna() & df["unit_code"].notna()
    out = pd.Series([None] * len(df), index=df.index, dtype=object)
    if ok.any():
        out[ok] = units.resolve_unit_keys(unit_df, df.loc[ok, "unit_code"].astype(str), dates[ok].dt.date).to_numpy()
    return out


def _counts_by_rule(df: pd.DataFrame, rule_col: str) -> str:
    """"RULE × n, …": most rows first, equal counts in the rule catalogue's order — never
    in the order the rows happen to be stored (consolidation stores them partition by
    partition)."""
    if df.empty:
        return ""
    order = {code: i for i, code in enumerate(rules_catalogue.rules())}
    vc = df[rule_col].value_counts()
    ranked = sorted(vc.items(), key=lambda kv: (-kv[1], order.get(kv[0], len(order)), str(kv[0])))
    return ", ".join(f"{k} × {v}" for k, v in ranked)


def assess(period: dict, run_id: str | None = None) -> dict:
    """Compute completeness and outliers for the window, store them, write the
    data-quality workbook and rebuild Data Docs. Returns paths and headline counts."""
    p = period_from_dict(period)
    cfg = settings.get()
    eng = db.engine(connections.warehouse_url(cfg))
    comp = completeness.compute(eng, p, cfg)
    # The 06/QLKNTC input workbooks: one per unit and window (none before TT 06/2025).
    own_inputs = qlkntc.completeness(eng, p, cfg)
    if len(own_inputs):
        comp = pd.concat([comp, own_inputs.astype(comp.dtypes.to_dict(), errors="ignore")], ignore_index=True)
    completeness.store(eng, p, comp)
    outl = outliers.compute(eng, p, cfg.outliers, cfg.series.start)
    outliers.store(eng, p, outl)
    path = write_workbook(eng, p, comp, outl, run_id, cfg)
    docs = quality.update_data_docs(cfg.path("data_quality"))
    summary = {"workbook": str(path), "data_docs": str(docs),
               "units_expected": int(comp["unit_key"].nunique()) if len(comp) else 0,
               "not_reported": int(comp["status"].isin(NOT_REPORTED).sum()) if len(comp) else 0,
               "late": int(comp["status"].eq("muon").sum()) if len(comp) else 0,
               "outliers": int(outl["flagged"].sum()) if len(outl) else 0}
    log.info("data quality for %s: %s", p.key, summary)
    return summary


def workbook_path(p: Period, cfg: Settings) -> Path:
    province = "VN" if deployment.is_national(cfg) else cfg.province.code
    return (cfg.path("data_quality") / p.key.replace("..", "_")
            / f"Chat-luong-du-lieu_{province}_{p.start:%Y%m%d}-{p.end:%Y%m%d}.xlsx")


def write_workbook(eng: sa.Engine, p: Period, comp: pd.DataFrame, outl: pd.DataFrame,
                   run_id: str | None, cfg: Settings) -> Path:
    names = _unit_names(cfg)
    rules = rules_catalogue.rules()
    with eng.connect() as conn:
        quar = quarantine_in_window(conn, p, dq_quarantine)
        flags = quarantine_in_window(conn, p, dq_flag)
        rejected = rejected_batches(conn, p)
        published = []
        for t in (fact_reception, fact_petition):
            published.append(pd.read_sql(sa.select(t.c.unit_key, sa.func.count().label("n")).where(
                t.c.received_date.between(p.start, p.end)).group_by(t.c.unit_key), conn))
    pub = pd.concat(published).groupby("unit_key")["n"].sum() if published else pd.Series(dtype=int)
    quar["unit_key"] = _resolve_keys(quar, deployment.unit_frame(cfg))

    # ---- per unit
    comp = comp.merge(names, on="unit_key", how="left")
    per_unit = (comp.assign(src=comp["source_kind"].map(SOURCE_LABELS),
                            st=comp["status"].map(STATUS_LABELS))
                .groupby(["unit_key", "unit_code", "name", "level"], dropna=False)
                .agg(sources=("src", lambda s: "; ".join(s)), status=("st", lambda s: "; ".join(s)),
                     expected=("expected", "sum"), received=("received", "sum"),
                     rejected=("rejected", "sum"))
                .reset_index())
    per_unit["published"] = per_unit["unit_key"].map(pub).fillna(0).astype(int)
    qn = quar.groupby("unit_key").size() if len(quar) else pd.Series(dtype=int)
    per_unit["quarantined"] = per_unit["unit_key"].map(qn).fillna(0).astype(int)
    per_unit["quarantine_reasons"] = per_unit["unit_key"].map(
        {k: _counts_by_rule(g, "reason_code") for k, g in quar.groupby("unit_key")} if len(quar) else {}).fillna("")
    fn = flags.groupby("unit_key").size() if len(flags) else pd.Series(dtype=int)
    per_unit["flagged"] = per_unit["unit_key"].map(fn).fillna(0).astype(int)
    flagged_outl = outl[outl["flagged"]] if len(outl) else outl
    per_unit["outliers"] = per_unit["unit_key"].map(
        flagged_outl.groupby("unit_key")["metric"].apply(lambda s: ", ".join(s)) if len(flagged_outl) else {}).fillna("")
    per_unit = per_unit.assign(_lv=per_unit["level"].map(LEVEL_ORDER)).sort_values(["_lv", "unit_code"])
    per_unit["level"] = per_unit["level"].map({"tinh": "Thành phố", "huyen": "Huyện", "xa": "Xã"})

    # ---- completeness detail
    comp_out = comp.assign(source=comp["source_kind"].map(SOURCE_LABELS),
                           status_label=comp["status"].map(STATUS_LABELS)).sort_values(
        ["status", "unit_code"])

    # ---- quarantine, flags, rules
    def rule_cols(df: pd.DataFrame, col: str) -> pd.DataFrame:
        df = df.copy()
        df["severity_label"] = df[col].map(lambda c: SEVERITY_LABELS[rules[c]["severity"]] if c in rules else "")
        df["instruction"] = df[col].map(lambda c: rules.get(c, {}).get("instruction", ""))
        return df

    # Every row has its place whatever order the warehouse returns them in: raw_id and
    # the rule break the ties of rows without a file row (systems' records).
    place = ["source_kind", "source_name", "source_file", "source_row", "raw_id"]
    quar_out = rule_cols(quar, "reason_code").sort_values(place + ["reason_code"], kind="stable") \
        if len(quar) else quar
    flags_out = rule_cols(flags, "rule").sort_values(place + ["rule"], kind="stable") if len(flags) else flags
    used = pd.concat([quar[["reason_code"]].rename(columns={"reason_code": "rule"}) if len(quar) else pd.DataFrame(columns=["rule"]),
                      flags[["rule"]] if len(flags) else pd.DataFrame(columns=["rule"])])
    counts = used["rule"].value_counts()
    rej_codes = rejected["reason_code"].dropna().str.split(",").explode().value_counts() if len(rejected) else pd.Series(dtype=int)
    rules_out = pd.DataFrame([{
        "rule": code, "title": r["title"], "severity": SEVERITY_LABELS[r["severity"]],
        "importance": IMPORTANCE_LABELS.get(r["importance"], r["importance"]),
        "rows": int(counts.get(code, 0)), "batches": int(rej_codes.get(code, 0)),
        "instruction": r["instruction"]} for code, r in rules.items()])
    rules_out = rules_out.sort_values(["rows", "batches"], ascending=False)

    rej_out = rejected.assign(source=rejected["source_kind"].map(SOURCE_LABELS)) if len(rejected) else rejected
    outl_out = outl.merge(names, on="unit_key", how="left").sort_values(
        ["flagged", "unit_code"], ascending=[False, True]) if len(outl) else outl
    if len(outl_out):
        outl_out = outl_out[outl_out["flagged"]]
        outl_out["z"] = outl_out["z_score"].map(lambda z: None if pd.isna(z) else z / 100)

    title = [f"BÁO CÁO CHẤT LƯỢNG DỮ LIỆU — {deployment.title(cfg).upper()}",
             f"Kỳ: {p.label} (từ ngày {p.start:%d/%m/%Y} đến ngày {p.end:%d/%m/%Y})"]
    sheets = [
        ("Tổng hợp theo đơn vị", per_unit, {
            "unit_code": "Mã đơn vị", "name": "Tên đơn vị", "level": "Cấp", "sources": "Nguồn dữ liệu",
            "status": "Tình trạng báo cáo", "expected": "Số lần gửi phải có", "received": "Đã nhận",
            "rejected": "Bị từ chối", "published": "Bản ghi được tính", "quarantined": "Dòng bị cách ly",
            "quarantine_reasons": "Lý do cách ly", "flagged": "Dòng cảnh báo", "outliers": "Số liệu bất thường"}),
        ("Đầy đủ và kịp thời", comp_out, {
            "unit_code": "Mã đơn vị", "name": "Tên đơn vị", "source": "Nguồn dữ liệu", "expected": "Phải gửi",
            "received": "Đã nhận", "rejected": "Bị từ chối", "first_arrival": "Thời điểm nhận",
            "deadline": "Hạn gửi", "status_label": "Tình trạng", "note": "Ghi chú"}),
        ("Lô bị từ chối", rej_out, {
            "source": "Nguồn", "source_name": "Đơn vị / CSDL", "logical_key": "Tệp / bảng / tài nguyên",
            "status": "Kết quả", "reason_code": "Mã quy tắc", "message": "Lý do và cách khắc phục",
            "delivered_at": "Thời điểm gửi", "started_at": "Thời điểm đọc", "checksum": "SHA-256"}),
        ("Dữ liệu bị cách ly", quar_out, {
            "source_kind": "Loại nguồn", "source_name": "Nguồn", "source_file": "Tệp / bảng", "source_row": "Dòng",
            "record_id": "Mã bản ghi", "unit_code": "Mã đơn vị", "record_date": "Ngày bản ghi",
            "reason_code": "Mã quy tắc", "severity_label": "Mức độ", "reason": "Lý do",
            "instruction": "Đơn vị cần làm", "raw_id": "raw_id"}),
        ("Cảnh báo", flags_out, {
            "source_kind": "Loại nguồn", "source_name": "Nguồn", "source_file": "Tệp / bảng", "source_row": "Dòng",
            "record_id": "Mã bản ghi", "unit_code": "Mã đơn vị", "record_date": "Ngày bản ghi",
            "rule": "Mã quy tắc", "reason": "Nội dung", "instruction": "Đề nghị", "raw_id": "raw_id"}),
        ("Số liệu bất thường", outl_out, {
            "unit_code": "Mã đơn vị", "name": "Tên đơn vị", "metric": "Chỉ tiêu", "value": "Kỳ này",
            "history_periods": "Số kỳ so sánh", "history_mean": "Trung bình", "history_min": "Thấp nhất",
            "history_max": "Cao nhất", "z": "z", "reason": "Nhận xét"}),
        ("Quy tắc kiểm tra", rules_out, {
            "rule": "Mã quy tắc", "title": "Quy tắc", "severity": "Mức độ", "importance": "Tầm quan trọng",
            "rows": "Số dòng vi phạm trong kỳ", "batches": "Số lô bị từ chối", "instruction": "Hướng dẫn khắc phục"}),
    ]
    meta = {"run_id": run_id or "", "generated_at": utcnow().replace(microsecond=0),
            "period": p.label, "data_docs": str(quality.data_docs_index(cfg.path("data_quality")))}
    # An empty frame (nothing rejected, no outliers…) still shows its header.
    sheets = [(name, df.reindex(columns=list(labels)) if any(c not in df.columns for c in labels) else df, labels)
              for name, df, labels in sheets]
    path = workbook_path(p, cfg)
    write_table_workbook(path, title, sheets, meta)
    log.info("wrote %s", path)
    return path


def quality_context(conn: sa.Connection, p: Period, cfg: Settings) -> dict:
    """What every report over window `p` shares on its "Chất lượng dữ liệu" sheet, read
    once per period: quarantined and flagged rows in the window, the batches table."""
    batches = pd.read_sql(sa.select(
        raw_batch.c.batch_id, raw_batch.c.source_kind, raw_batch.c.source_name, raw_batch.c.logical_key,
        raw_batch.c.checksum, raw_batch.c.row_count, raw_batch.c.delivered_at), conn)
    return {"quarantine": quarantine_in_window(conn, p, dq_quarantine),
            "flags": quarantine_in_window(conn, p, dq_flag), "batches": batches,
            "names": dict(zip(*_unit_names(cfg)[["unit_key", "name"]].T.values))}


def report_quality(conn: sa.Connection | None, p: Period, records: pd.DataFrame, row_status: dict,
                   run_id: str | None, cutoff: str, *, record_type: str = "reception",
                   context: dict, unit_codes: set[str] | None = None) -> dict:
    """Content of the "Chất lượng dữ liệu" sheet of a report over window `p`.

    `record_type` selects the quarantine and flags of the form's records (reception,
    petition); `unit_codes`, when given, limits them to the units behind the report
    (a commune's own report shows that commune's quarantined rows). `context` is
    :func:`quality_context` of the period, to read the warehouse once for many reports.
    """
    ctx = context

    def scoped(name: str) -> pd.DataFrame:
        df = ctx[name]
        if df.empty:
            return df
        # Grouped by unit once per record type: a report set asks for every unit's rows.
        key = ("by_unit", name, record_type)
        if key not in ctx:
            mine = df[df["record_type"] == record_type]
            ctx[key] = (mine, {str(code): part for code, part in mine.groupby(mine["unit_code"].astype("string"),
                                                                              sort=False)})
        mine, by_unit = ctx[key]
        if unit_codes is None:
            return mine
        parts = [by_unit[c] for c in sorted(map(str, unit_codes)) if c in by_unit]
        return pd.concat(parts).sort_index() if parts else mine.iloc[0:0]

    quar, flags = scoped("quarantine"), scoped("flags")
    batch_ids = sorted(records["batch_id"].unique().tolist()) if len(records) else []
    if "batch_rows" not in ctx:
        # Each batch's row of the table, with its sort key, made once per period: a
        # national deployment has thousands of batches and some 20,000 reports.
        ctx["batch_rows"] = {b.batch_id: ((b.source_kind, b.source_name, b.logical_key, b.batch_id), [
            b.batch_id, SOURCE_LABELS.get(b.source_kind, b.source_kind), b.source_name, b.logical_key,
            b.checksum or "", int(b.row_count), b.delivered_at]) for b in ctx["batches"].itertuples()}
    batch_rows = ctx["batch_rows"]
    read = sorted((batch_rows[b] for b in batch_ids if b in batch_rows), key=lambda kr: kr[0])
    not_rep = [k for k, s in row_status.items() if not s.get("reported", True)]
    partial = [k for k, s in row_status.items() if s.get("reported", True) and s.get("missing", 0)]
    names = ctx["names"]
    summary = [
        ("Mã lần chạy (run id)", run_id or ""),
        ("Thời điểm chốt số liệu", cutoff),
        ("Số bản ghi được tính", len(records)),
        ("Số lô dữ liệu nguồn được đọc", len(batch_ids)),
        ("Dòng bị cách ly trong kỳ (không tính)", len(quar)),
        ("— theo lý do", _counts_by_rule(quar, "reason_code") or "không có"),
        ("Dòng có cảnh báo (vẫn tính)", len(flags)),
        ("— theo quy tắc", _counts_by_rule(flags, "rule") or "không có"),
        ("Dòng chưa báo cáo", len(not_rep)),
        ("— gồm", ", ".join(names.get(k, k) for k in not_rep[:40]) + (" …" if len(not_rep) > 40 else "") or "không có"),
        ("Dòng thiếu số liệu của một số đơn vị", len(partial)),
        ("Chi tiết", "Sổ chất lượng dữ liệu của kỳ (thư mục data_quality) và trang Data Docs"),
    ]
    table = {"title": "Các lô dữ liệu nguồn được đọc",
             "columns": ["Mã lô", "Loại nguồn", "Nguồn", "Tệp / bảng / tài nguyên", "SHA-256", "Số dòng", "Thời điểm gửi"],
             "rows": [list(row) for _, row in read]}
    return {"summary": summary, "tables": [table]}
