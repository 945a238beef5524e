"""Biểu 06/QLKNTC: the landed input workbooks (connectors.qlkntc_workbooks) consolidated
into ``fact_qlkntc``, one row per unit and window — write, audit, publish, as
transforms.consolidate does for the record sources — and their completeness.

Steps (``consolidate(engine)``, also reached as ``transforms.consolidate.consolidate(
engine, "qlkntc_workbook")``):

1. audit every landed batch once per suite version with ``qlkntc_workbook_batch``
   (critical: one data row per workbook, of record type ``qlkntc``); a failing batch
   publishes nothing;
2. keep the current version of each workbook: per unit and period (the batch's logical
   key ``QLKNTC_<unit>_<period>``) the latest delivered accepted batch. A correction
   replaces the earlier workbook as a whole, even when its own figures are then
   quarantined (the unit has withdrawn the earlier figures); a rejected re-delivery
   never landed, so the earlier version stays in force;
3. read the 17 cells: empty (QLKNTC_VALUE_MISSING), not a number (QLKNTC_VALUE_NOT_NUMBER)
   or not a whole number (QLKNTC_VALUE_FRACTIONAL) quarantines the workbook's row,
   one quarantine line per rule naming every column concerned; then the five cells of
   the optional protection block (sheet "Bảo vệ người tố cáo", template version 2): a
   version-1 workbook, or a block left wholly empty, gives NULL protection figures (not
   reported, never 0); a block filled in part (QLKNTC_PROTECTION_MISSING) or with a cell
   that is not a whole number (the same two rules as the 17 cells) quarantines the row
   like a bad column — the unit sends a corrected workbook, or empties the block;
4. resolve the unit with the window's last day (a 2025 commune's Năm 2025 figures
   belong to the commune in force on 14/12/2025);
5. validate with ``qlkntc_canonical``: a negative value (QLKNTC_VALUE_NEGATIVE, the
   protection cells too), the printed check Cột (8) <= Cột (6) (QLKNTC_FORM_CHECK), the
   protection block's identities (1) = (2) + (3), (4) <= (1), (5) <= (1)
   (QLKNTC_PROTECTION_CHECK; connectors/qlkntc_template.py PROTECTION_ITEMS says why
   there is no check on (4) + (5)) and a unit not in force
   (UNIT_NOT_VALID_ON_DATE) quarantine the row; Cột (7) < Cột (6) flags it
   (QLKNTC_UNITS_BELOW_INSPECTIONS, warning: published and counted);
6. audit what is about to be published with ``qlkntc_warehouse`` (keys, one row per
   unit and window, units in dim_unit, accepted batches only); a failure blocks the
   publication and the previous state stays;
7. publish: ``fact_qlkntc``, the quarantine and the flags of the source kind are
   rebuilt whole, so a corrected workbook re-processes everything of its unit.

A unit that sent no workbook for a window has no row (it is not a row of zeros): the
report leaves it empty as "Chưa báo cáo" (:func:`completeness` says who sent what).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging

import pandas as pd
import sqlalchemy as sa

from connectors import qlkntc_template as T
from connectors.qlkntc_values import (
    COLUMNS,
    PROTECTION_COLUMNS,
    form_check_reason,
    opt_int,
    protection_reason,
    read_values,
    value_label,
)
from connectors.qlkntc_workbooks import RECORD_TYPE, SOURCE_KIND
from core import rules as rules_catalogue
from core.dates import as_date, to_local, utcnow, vn_date
from core.settings import Settings
from transforms import quality
from transforms.completeness import deadline_for
from transforms.consolidate import PartitionResult, PublicationBlocked, audit_batches, record_outcomes
from warehouse import deployment, units
from warehouse.schema import (
    dim_unit,
    dq_batch_audit,
    dq_completeness,
    dq_flag,
    dq_quarantine,
    fact_qlkntc,
    raw_batch,
    raw_record,
    wh_partition_state,
)

log = logging.getLogger(__name__)

# The canonical frame's derived column for the check (1) = (2) + (3) (not published).
PROTECTION_PARTS = "protected_parts"
SUITES = ("qlkntc_workbook_batch", "qlkntc_canonical", "qlkntc_warehouse")


# ------------------------------------------------------------------ consolidation
def _read_raw(conn: sa.Connection) -> pd.DataFrame:
    q = (sa.select(raw_record.c.raw_id, raw_record.c.batch_id, raw_record.c.source_name,
                   raw_record.c.record_type, raw_record.c.source_file, raw_record.c.source_row,
                   raw_record.c.record_id, raw_record.c.record_version, raw_record.c.payload,
                   raw_batch.c.logical_key, raw_batch.c.started_at, raw_batch.c.delivered_at, raw_batch.c.checksum)
         .join(raw_batch, raw_batch.c.batch_id == raw_record.c.batch_id)
         .where(raw_record.c.source_kind == SOURCE_KIND, raw_batch.c.status == "loaded"))
    df = pd.DataFrame(conn.execute(q).mappings().all(), columns=[c.name for c in q.selected_columns])
    df["payload"] = [json.loads(p) for p in df["payload"]]
    return df


def _loaded_batches(conn: sa.Connection) -> list[str]:
    return sorted(r[0] for r in conn.execute(sa.select(raw_batch.c.batch_id).where(
        raw_batch.c.source_kind == SOURCE_KIND, raw_batch.c.status == "loaded")))


def _fingerprint(batch_ids: list[str]) -> str:
    # The suites and the rule catalogue are part of the input: changed rules re-run it.
    h = hashlib.sha256("\n".join(batch_ids).encode())
    for suite in SUITES:
        h.update(quality.suite_sha(suite).encode())
    return h.hexdigest()


def current_versions(raw: pd.DataFrame) -> pd.DataFrame:
    """The latest delivered version of each workbook (unit and period)."""
    if raw.empty:
        return raw
    order = raw.assign(_d=pd.to_datetime(raw["delivered_at"]).fillna(pd.Timestamp.min),
                       _s=pd.to_datetime(raw["started_at"]))
    latest = order.sort_values(["_d", "_s", "batch_id"]).drop_duplicates("logical_key", keep="last")
    return raw[raw["batch_id"].isin(set(latest["batch_id"]))]


def _lineage(r, payload: dict) -> dict:
    return {"raw_id": int(r.raw_id), "batch_id": r.batch_id, "source_kind": SOURCE_KIND,
            "source_name": r.source_name, "record_type": RECORD_TYPE, "source_file": r.source_file,
            "source_row": None if pd.isna(r.source_row) else int(r.source_row), "record_id": r.record_id,
            "unit_code": str(payload.get("ma_don_vi") or r.source_name)[:8] or None,
            "record_date": as_date(payload.get("den_ngay"))}


def _quarantine(r, payload: dict, rule: str, reason: str, now) -> dict:
    return {**_lineage(r, payload), "reason_code": rule, "severity": rules_catalogue.rule(rule)["severity"],
            "reason": reason, "detected_at": now}


def _detail(rule: str, row) -> str:
    """The reason of a canonical-suite failure on one row: numbers and codes only."""
    title = rules_catalogue.rule(rule)["title"]
    if rule == "QLKNTC_VALUE_NEGATIVE":
        neg = [f"{value_label(c)} = {opt_int(row[c])}" for c in (*COLUMNS, *PROTECTION_COLUMNS)
               if opt_int(row[c]) is not None and opt_int(row[c]) < 0]
        return f"{title}: {', '.join(neg)}"
    if rule == "QLKNTC_PROTECTION_CHECK":
        return protection_reason(row)
    if rule == "QLKNTC_FORM_CHECK":
        return form_check_reason(int(row[COLUMNS[T.CHECK_LHS - 1]]), int(row[COLUMNS[T.CHECK_RHS - 1]]))
    if rule == "QLKNTC_UNITS_BELOW_INSPECTIONS":
        return f"{title}: Cột (7) = {int(row['inspected_units'])}, Cột (6) = {int(row['inspections'])}"
    if rule == "UNIT_NOT_VALID_ON_DATE":
        return (f"{title}: mã đơn vị {row['unit_code']} không phải đơn vị của thành phố vào ngày "
                f"{row['window_end']:%d/%m/%Y} (ngày cuối kỳ {row['period_key']})")
    return title


def build_partition(raw: pd.DataFrame, cfg: Settings, *, accepted: set[str], run_id: str | None = None):
    """Accepted raw rows → (frame to publish, quarantine rows, flag rows, stats, GX
    outcomes). Runs the canonical and warehouse suites."""
    now = utcnow()
    cur = current_versions(raw)
    quarantine, flags, outcomes, rows = [], [], [], []
    stats = {"raw_rows": int(len(raw)), "current_rows": int(len(cur)), "superseded_versions": int(len(raw) - len(cur))}
    by_raw = {}
    for r in cur.itertuples(index=False):
        payload = r.payload
        by_raw[int(r.raw_id)] = (r, payload)
        if r.record_type != RECORD_TYPE:
            continue                          # the batch suite rejects such batches
        values, found = read_values(payload)
        start, end = as_date(payload.get("tu_ngay")), as_date(payload.get("den_ngay"))
        if start is None or end is None:
            found.append(("VALUE_INVALID", f"{rules_catalogue.rule('VALUE_INVALID')['title']}: ngày của kỳ báo cáo"))
        if found:
            quarantine.extend(_quarantine(r, payload, rule, reason, now) for rule, reason in found)
            continue
        unit_code, period_key = str(payload.get("ma_don_vi")), str(payload.get("ky_bao_cao"))
        rows.append({"qlkntc_key": f"{unit_code}:{period_key}", "unit_code": unit_code, "period_key": period_key,
                     "window_start": start, "window_end": end, **values,
                     "template_version": str(payload.get("phien_ban_mau") or ""),
                     "delivered_at": None if pd.isna(r.delivered_at) else pd.Timestamp(r.delivered_at).to_pydatetime(),
                     "source_file": r.source_file, "source_row": int(r.source_row), "file_checksum": r.checksum,
                     "source_kind": SOURCE_KIND, "source_name": r.source_name, "record_id": r.record_id,
                     "raw_id": int(r.raw_id), "batch_id": r.batch_id})
    stats["mapped"] = len(rows)
    if not rows:
        stats.update(quarantined=len({q["raw_id"] for q in quarantine}), published=0)
        return pd.DataFrame(columns=[c.name for c in fact_qlkntc.columns]), quarantine, flags, stats, outcomes
    df = pd.DataFrame(rows)
    unit_df = deployment.unit_frame(cfg)
    df["unit_key"] = units.resolve_unit_keys(unit_df, df["unit_code"], pd.Series(df["window_end"])).to_numpy()
    for c in COLUMNS:
        df[c] = df[c].astype("int64")
    for c in PROTECTION_COLUMNS:
        df[c] = pd.array([opt_int(v) for v in df[c]], dtype="Int64")   # NULL: not reported
    # GX reads plain floats (NaN for NULL, which the expectations skip).
    checked = df.assign(**{c: df[c].astype("float64") for c in PROTECTION_COLUMNS})
    checked[PROTECTION_PARTS] = checked["protected_denouncers"] + checked["protected_relatives"]

    outcome = quality.run("qlkntc_canonical", checked, f"{SOURCE_KIND}.{RECORD_TYPE}", cfg, run_id=run_id)
    outcomes.append(outcome)
    rows_by_raw = df.set_index("raw_id", drop=False)
    errors = outcome.raw_ids("error")
    for rid, fails in errors.items():
        r, payload = by_raw[rid]
        for rule in dict.fromkeys(f.rule for f in fails):     # one line per rule (it names every cell)
            quarantine.append(_quarantine(r, payload, rule, _detail(rule, rows_by_raw.loc[rid]), now))
    for rid, fails in outcome.raw_ids("warning").items():
        if rid in errors:
            continue
        r, payload = by_raw[rid]
        for rule in dict.fromkeys(f.rule for f in fails):
            flags.append({**_lineage(r, payload), "unit_key": rows_by_raw.at[rid, "unit_key"], "rule": rule,
                          "reason": _detail(rule, rows_by_raw.loc[rid]), "detected_at": now})
    df = df[~df["raw_id"].isin(set(errors))].sort_values("raw_id")
    stats.update(quarantined=len({q["raw_id"] for q in quarantine}), flagged=len(outcome.raw_ids("warning")),
                 published=len(df), protection_reported=int(df["protected_persons"].notna().sum()))
    outcomes.append(quality.run("qlkntc_warehouse", quality.with_references(df, unit_df["unit_key"], accepted),
                                f"{SOURCE_KIND}.{RECORD_TYPE}", cfg, run_id=run_id))
    return df[[c.name for c in fact_qlkntc.columns]], quarantine, flags, stats, outcomes


def consolidate(engine: sa.Engine, cfg: Settings, *, run_id: str | None = None, force: bool = False):
    """Rebuild ``fact_qlkntc`` (and the source kind's quarantine and flags) from the raw
    layer; idempotent, skipped when neither the batches nor the suites changed."""
    with engine.connect() as conn:
        batch_ids = _loaded_batches(conn)
        fp = _fingerprint(batch_ids)
        state = conn.execute(sa.select(wh_partition_state.c.batch_fingerprint).where(
            wh_partition_state.c.source_kind == SOURCE_KIND)).scalar_one_or_none()
        if state == fp and not force:
            log.info("%s: published state is up to date with %d batches; nothing to do", SOURCE_KIND, len(batch_ids))
            return PartitionResult(SOURCE_KIND, skipped=True, batches=len(batch_ids))
        raw = _read_raw(conn)
    rejected = audit_batches(engine, SOURCE_KIND, batch_ids, cfg, run_id=run_id) if batch_ids else set()
    accepted = set(batch_ids) - rejected
    frame, quarantine, flags, stats, outcomes = build_partition(raw[raw["batch_id"].isin(accepted)], cfg,
                                                                accepted=accepted, run_id=run_id)
    stats["batches_rejected_by_audit"] = len(rejected)
    now = utcnow()
    blocked = record_outcomes(engine, outcomes, run_id)
    if blocked:
        raise PublicationBlocked(
            f"{SOURCE_KIND}: warehouse audit failed ({', '.join(f.expectation for o in blocked for f in o.failures)}); "
            "the previously published data stays in place. See dq_validation.")
    with engine.begin() as conn:
        conn.execute(fact_qlkntc.delete().where(fact_qlkntc.c.source_kind == SOURCE_KIND))
        if not frame.empty:
            conn.execute(fact_qlkntc.insert(), frame.astype(object).where(frame.notna(), None).to_dict("records"))
        for tbl, rows in ((dq_quarantine, quarantine), (dq_flag, flags)):
            conn.execute(tbl.delete().where(tbl.c.source_kind == SOURCE_KIND))
            if rows:
                conn.execute(tbl.insert(), rows)
        conn.execute(wh_partition_state.delete().where(wh_partition_state.c.source_kind == SOURCE_KIND))
        conn.execute(wh_partition_state.insert().values(
            source_kind=SOURCE_KIND, batch_fingerprint=fp, batches=len(batch_ids), stats=json.dumps(stats),
            consolidated_at=now, run_id=run_id))
    log.info("%s: published %s", SOURCE_KIND, json.dumps(stats))
    return PartitionResult(SOURCE_KIND, batches=len(batch_ids), stats=stats)


def published(engine: sa.Engine, period=None) -> pd.DataFrame:
    """The published rows of ``fact_qlkntc`` (of one window when `period` is given)."""
    q = sa.select(fact_qlkntc)
    if period is not None:
        q = q.where(fact_qlkntc.c.window_start == period.start, fact_qlkntc.c.window_end == period.end)
    with engine.connect() as conn:
        return pd.read_sql(q, conn)


# ------------------------------------------------------------------ completeness
def completeness(engine: sa.Engine, period, cfg: Settings, *, now: dt.datetime | None = None) -> pd.DataFrame:
    """Who sent the 06/QLKNTC workbook of `period`, in the columns of ``dq_completeness``
    (source kind ``qlkntc_workbook``): one row per unit of ``sources.qlkntc_workbooks.
    levels`` in force on the window's last day, expected 1 — none at all for a window
    the form does not apply to (a custom range, or one ending before 30/09/2025).

    ``received`` 1 when the current version of the unit's workbook landed and is not
    quarantined; ``rejected`` counts the rejected deliveries and a quarantined current
    version; ``first_arrival`` the delivery time of the version in force (a correction
    completes the data when it arrives); the deadline is that of the period's regime
    (transforms.completeness.deadline_for). Statuses as in transforms.completeness:
    dung_han, muon, chua_bao_cao, bi_tu_choi. (Kept apart from
    transforms.completeness.compute, which treats every configured kind other than the
    registers as a continuous system feed; the caller concatenates the two frames
    before ``transforms.completeness.store``.)"""
    cols = [c.name for c in dq_completeness.columns]
    now = now or utcnow()
    wcfg = cfg.sources.qlkntc_workbooks
    if period.kind == "custom" or period.end < wcfg.applies_from_window_end:
        return pd.DataFrame(columns=cols)
    levels = list(wcfg.levels)
    deadline = deadline_for(period, cfg.regimes)
    with engine.connect() as conn:
        us = conn.execute(sa.select(dim_unit.c.unit_key, dim_unit.c.unit_code, dim_unit.c.level).where(
            dim_unit.c.level.in_(levels), dim_unit.c.valid_from <= period.end,
            sa.or_(dim_unit.c.valid_to.is_(None), dim_unit.c.valid_to >= period.end))).all()
        keys = {f"QLKNTC_{u.unit_code}_{period.key}" for u in us}
        batches = pd.DataFrame(conn.execute(
            sa.select(raw_batch.c.batch_id, raw_batch.c.logical_key, raw_batch.c.status, raw_batch.c.delivered_at,
                      raw_batch.c.started_at, dq_batch_audit.c.passed)
            .select_from(raw_batch.outerjoin(dq_batch_audit, dq_batch_audit.c.batch_id == raw_batch.c.batch_id))
            .where(raw_batch.c.source_kind == SOURCE_KIND, raw_batch.c.logical_key.in_(keys))).all(),
            columns=["batch_id", "logical_key", "status", "delivered_at", "started_at", "passed"])
        quarantined = {r[0] for r in conn.execute(sa.select(dq_quarantine.c.batch_id).where(
            dq_quarantine.c.source_kind == SOURCE_KIND, dq_quarantine.c.severity == "error"))}
    rows = []
    for u in sorted(us, key=lambda u: u.unit_key):
        key = f"QLKNTC_{u.unit_code}_{period.key}"
        mine = batches[batches["logical_key"] == key]
        audit_failed = mine["passed"].map(lambda v: v is False or v == 0)
        accepted = mine[(mine["status"] == "loaded") & ~audit_failed]
        rejected = int((mine["status"].isin(["rejected", "failed"]) | audit_failed).sum())
        current = None
        if not accepted.empty:
            current = accepted.assign(_d=pd.to_datetime(accepted["delivered_at"]),
                                      _s=pd.to_datetime(accepted["started_at"])).sort_values(
                ["_d", "_s", "batch_id"]).iloc[-1]
        in_quarantine = current is not None and current["batch_id"] in quarantined
        received = int(current is not None and not in_quarantine)
        rejected += int(in_quarantine)
        arrival = None if current is None or pd.isna(current["delivered_at"]) else \
            pd.Timestamp(current["delivered_at"]).to_pydatetime()
        due = vn_date(to_local(deadline))
        if received:
            status = "dung_han" if arrival is None or arrival <= deadline else "muon"
            when = vn_date(to_local(arrival)) if arrival else "?"
            note = (f"Nhận biểu 06/QLKNTC ngày {when}, " + ("đúng hạn" if status == "dung_han" else "quá hạn")
                    + f" (hạn {due})" + (f"; {len(accepted) - 1} bản gửi trước đã được thay thế"
                                         if len(accepted) > 1 else "")
                    + (f"; {rejected} lần gửi bị từ chối" if rejected else ""))
        elif rejected:
            status = "bi_tu_choi"
            note = ("Bản biểu 06/QLKNTC đang có hiệu lực bị cách ly (số liệu không hợp lệ)" if in_quarantine
                    else "Chưa có bản biểu 06/QLKNTC hợp lệ") + \
                f"; {rejected} lần gửi bị từ chối hoặc cách ly; hạn {due}"
        else:
            status = "chua_bao_cao"
            note = f"Chưa nhận biểu 06/QLKNTC; hạn {due}"
        rows.append({"period_key": period.key, "unit_key": u.unit_key, "source_kind": SOURCE_KIND,
                     "date_from": period.start, "date_to": period.end, "expected": 1, "received": received,
                     "rejected": rejected, "first_arrival": arrival if received else None, "deadline": deadline,
                     "status": status, "note": note, "computed_at": now})
    return pd.DataFrame(rows, columns=cols)
