"""The report set behind the report DAGs, as plain functions (tested without Airflow).

- :func:`resolve_periods`: the reporting windows of a run — from its data interval
  (the scheduled quarter, plus the 6-month / 9-month / year window that ends on the
  same cut-off) or from params;
- :func:`build_reports`: every configured form for every report scope of one level
  (own records of each unit; consolidated reports of districts and the city), checked
  against the form's identities, written, and issued into the folder tree with its
  manifest (reports.publish). One scope's failure does not stop the others; the task
  fails at the end if any report was withheld;
- :func:`build_summary`: the multi-year summary workbook and the city's 01/TCD over the
  range in both views (as recorded, remapped to today's units);
- :func:`deliver`: e-mail the period's reports to their recipients (delivery.mail).

Every function returns a small JSON-serialisable summary for XCom.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from core import connections, files, periods, regimes, settings
from core.dates import local_date, today_local, utcnow
from core.levels import LEVELS, NATIONAL_LEVEL, REPORT_LEVELS
from core.settings import Settings
from delivery import mail as delivery
from pipeline import dq
from reports import formdef, levels, mau02, publish, summary
from reports.formdef import IdentityError, form_definition
from transforms import completeness
from warehouse import db, deployment, schema
from warehouse.schema import dq_completeness, dq_validation, raw_batch, rpt_report

log = logging.getLogger(__name__)



# ----------------------------------------------------------------------------- periods
def _period_dict(p) -> dict:
    return {"key": p.key, "kind": p.kind, "year": p.year, "start": p.start.isoformat(),
            "end": p.end.isoformat(), "label": p.label}


def resolve_periods(period: str | None = None, date_from: str | None = None,
                    date_to: str | None = None, *, data_interval_start=None,
                    data_interval_end=None, run_after=None, today: str | None = None) -> list[dict]:
    """The windows one run reports.

    Params win: a custom range (`date_from`/`date_to`) or a period spec (`period`).
    Otherwise the run's data interval is the window (the timetable makes it the
    quarter 15th–14th), and the cumulative window that closes on the same cut-off
    (6 tháng on 14/06, 9 tháng on 14/09, năm on 14/12) is reported with it.
    """
    if date_from or date_to:
        if not (date_from and date_to):
            raise ValueError("a custom range needs both date_from and date_to")
        return [_period_dict(periods.custom(date_from, date_to))]
    day = today or (local_date(run_after) if run_after is not None else today_local())
    if period:
        return [_period_dict(periods.parse(period, day))]
    if data_interval_start is not None and data_interval_end is not None:
        window = periods.from_data_interval(data_interval_start, data_interval_end)
        if window.kind == "custom":
            return [_period_dict(window)]
        same_cutoff = periods.periods_ending_on(window.end + dt.timedelta(days=1))
        return [_period_dict(window)] + [_period_dict(p) for p in same_cutoff if p.key != window.key]
    return [_period_dict(periods.latest_complete(day))]


def official_issue_confs(period: str | None = None, *, run_after=None, today: str | None = None,
                         deliver: bool = True) -> list[dict]:
    """The `report_periodic` runs an official issue triggers: one per window that ended
    on the 14th of the run's month (or the given `period`), each with issue=official."""
    day = dt.date.fromisoformat(today) if today else \
        (local_date(run_after) if run_after is not None else today_local())
    if period:
        keys = [periods.parse(period, day).key]
    else:
        keys = [p.key for p in periods.periods_ending_on(day.replace(day=15))]
        if not keys:
            raise ValueError(f"no reporting window ended on 14/{day:%m/%Y}: give a period")
    return [{"period": k, "issue": "official", "deliver": bool(deliver)} for k in keys]


def summary_range(date_from: str | None = None, date_to: str | None = None, *, run_after=None,
                  today: str | None = None) -> dict:
    """The multi-year range: the series start (``series.start``, 01/07/2021) or `date_from`,
    to the last cut-off (or `date_to`)."""
    day = today or (local_date(run_after) if run_after is not None else today_local())
    end = date_to or periods.latest_complete(day).end.isoformat()
    return _period_dict(periods.custom(date_from or settings.get().series.start.isoformat(), end))


# ----------------------------------------------------------------------------- inputs
@dataclass
class _PeriodInputs:
    """What every report of one window reads, loaded once per task."""

    period: object
    cfg: Settings                                   # the settings, read once by the task function
    units: object
    completeness: object
    cutoff_text: str
    quality: dict
    records: dict = field(default_factory=dict)     # source table → frame with lineage
    unit_index: object = None                       # `units` indexed once (reports.levels.Units)
    reused_codes: set = field(default_factory=set)  # codes of two units in the window
    issue_kind: str = "official"                    # preliminary | official (issue_kind_for)
    # A national deployment reads one province at a time, so memory is a province's
    # history, never the country's: `unit_keys` limits the facts read to a province's
    # territory; `parts` (the national report) reads each territory in turn and keeps
    # only each form's population for the window.
    unit_keys: frozenset | None = None
    parts: list | None = None


# Folder suffix of a pre-reform unit whose code the 2025 reform gave to another unit, in
# a window where both exist (e.g. 2025-Q3: Phường Trúc Bạch 00004 until 30/06/2025,
# Phường Ba Đình 00004 from 01/07/2025): without it both would share one folder.
PRE_REFORM_SUFFIX = "-truoc-sap-xep"


def _reused_codes(scopes) -> set[str]:
    keys: dict[str, set[str]] = {}
    for s in scopes:
        keys.setdefault(s.unit_code, set()).add(s.unit_key)
    return {code for code, ks in keys.items() if len(ks) > 1}


def _unit_folder(scope, reused: set[str]) -> str:
    if scope.unit_code in reused and scope.unit_key.startswith("legacy:"):
        return scope.unit_code + PRE_REFORM_SUFFIX
    return scope.unit_code


def _load_inputs(eng, p, cfg: Settings, unit_frame=None, unit_index=None) -> _PeriodInputs:
    """What every report of window `p` reads; `unit_frame` and its index when the
    caller has them."""
    with eng.connect() as conn:
        cutoff = conn.execute(sa.select(sa.func.max(raw_batch.c.finished_at)).where(
            raw_batch.c.status == "loaded")).scalar_one_or_none()
        comp = pd.read_sql(sa.select(dq_completeness).where(dq_completeness.c.period_key == p.key), conn)
        quality = dq.quality_context(conn, p, cfg)
    if comp.empty:       # a run without the assessment step: compute, do not store
        comp = completeness.compute(eng, p, cfg)
    cutoff_text = f"{cutoff:%d/%m/%Y %H:%M:%S} UTC" if cutoff else ""
    unit_frame = deployment.unit_frame(cfg) if unit_frame is None else unit_frame
    return _PeriodInputs(p, cfg, unit_frame, comp, cutoff_text, quality,
                         unit_index=levels.Units(unit_frame) if unit_index is None else unit_index)


def _records(eng, inputs: _PeriodInputs, table_name: str):
    """Published facts of `table_name` dated up to the window's end, with the raw
    lineage of each (source file and row) — of the territory ``inputs.unit_keys`` when
    set. Forms select their population from these."""
    if table_name not in inputs.records:
        inputs.records[table_name] = _read_facts(eng, inputs, table_name, inputs.unit_keys)
    return inputs.records[table_name]


def _read_facts(eng, inputs: _PeriodInputs, table_name: str, unit_keys=None):
    """The query of :func:`_records`, uncached; `unit_keys`: only those units' facts."""
    table = getattr(schema, table_name)
    date_col = {"fact_reception": "received_date", "fact_petition": "received_date",
                "fact_case": "opened_date", "fact_qlkntc": "window_end",
                "fact_reception_calendar": "announced_date"}[table_name]
    last = inputs.period.end
    if table_name == "fact_reception_calendar":
        # announced in advance: the whole month of the window's end decides coverage
        last = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    if "source_file" in table.c:        # a table that keeps its own lineage columns
        q = sa.select(table).where(table.c[date_col] <= last)
    else:
        q = (sa.select(table, schema.raw_record.c.source_file, schema.raw_record.c.source_row)
             .join(schema.raw_record, schema.raw_record.c.raw_id == table.c.raw_id)
             .where(table.c[date_col] <= last))
    if unit_keys is not None:
        q = q.where(table.c.unit_key.in_(sorted(unit_keys)))
    with eng.connect() as conn:
        return pd.read_sql(q, conn)


def configured_forms(period, cfg: Settings | None = None) -> list[str]:
    """The forms of the regime that governs `period` (core.regimes), less those
    filled in per reporting window (``periodic_only``: 06/QLKNTC, from the units' input
    workbooks of a quarter, 6 tháng, 9 tháng or năm) when `period` is a custom range.
    `cfg`: the settings the task read (default: read them)."""
    cfg = cfg or settings.get()
    codes = regimes.regime_for(period, cfg.regimes).form_codes
    if getattr(period, "kind", None) != "custom":
        return codes
    return [c for c in codes if not form_definition(c, period, cfg).periodic_only]


# ----------------------------------------------------------------------------- report set
def issue_kind_for(period, now: dt.datetime | None = None, cfg: Settings | None = None) -> str:
    """"preliminary" (bản sơ bộ) while the units' deadline of the period's reporting
    regime has not passed (Hà Nội time), else "official" (bản chính thức). The run on
    the 15th, the day after the cut-off, is preliminary under TT 06/2025 (units have
    until the 17th); the run after the deadline issues the official reports. `cfg`: the
    settings the task read (default: read them)."""
    due = regimes.regime_for(period, (cfg or settings.get()).regimes).deadline(period, "units")
    if due is None:
        return "official"
    today = local_date(now) if now else today_local()
    return "preliminary" if today <= due else "official"


def report_batches(levels: list[str] | None = None) -> list[dict]:
    """The report set's pieces, one mapped task each: ``{"level", "province"}`` — per
    level in a province deployment (province None); in a national one the national
    level once, and every other level per province, so the workers share the country
    and each task holds one province's facts."""
    cfg = settings.get()
    wanted = [lv for lv in REPORT_LEVELS if lv in (levels or REPORT_LEVELS)]
    if not deployment.is_national(cfg):
        return [{"level": lv, "province": None} for lv in wanted if lv != NATIONAL_LEVEL]
    codes = deployment.provinces(cfg)
    return [{"level": lv, "province": None} if lv == NATIONAL_LEVEL else {"level": lv, "province": code}
            for lv in wanted for code in ((None,) if lv == NATIONAL_LEVEL else codes)]


def build_reports(period: dict, level: str, run_id: str | None = None,
                  forms: list[str] | None = None, units: list[str] | None = None,
                  scope_kinds: tuple[str, ...] = ("own", "consolidated"), issue_kind: str | None = None,
                  province: str | None = None) -> dict:
    """Every form of `forms` (default: the forms of the reporting regime that governs
    the window, core.regimes) for every report scope of `level` in the window:
    compute, check identities, write, issue into the tree.

    `issue_kind`: "preliminary" or "official"; by default :func:`issue_kind_for` (before
    the units' deadline, preliminary). `province`: only that province's scopes (a
    national deployment's mapped task, :func:`report_batches`). A report that breaks an
    identity is not issued (dq_validation records why); the other reports go on, and the
    task fails at the end naming the withheld ones.
    """
    if level not in REPORT_LEVELS:
        raise ValueError(f"level must be one of {REPORT_LEVELS}, not {level!r}")
    p = dq.period_from_dict(period)
    cfg = settings.get()
    if level == NATIONAL_LEVEL and not deployment.is_national(cfg):
        return {"period": p.key, "level": level, "scopes": 0, "issued": 0,
                "skipped": "a province deployment has no national level (config national:)"}
    eng = db.engine(connections.warehouse_url(cfg))
    unit_frame = deployment.unit_frame(cfg)
    unit_index = levels.Units(unit_frame)
    # A province's task lists only its province's scopes (unit codes never repeat across
    # provinces, so the reused codes are the province's own).
    mine = province if province is not None and level != NATIONAL_LEVEL and deployment.is_national(cfg) else None
    all_scopes = levels.report_scopes(p, unit_index, mine)
    scopes = [s for s in all_scopes if s.level == level and s.kind in scope_kinds
              and (not units or s.unit_code in set(map(str, units)))
              and (province is None or level == NATIONAL_LEVEL or s.province_code == str(province))]
    codes = forms or configured_forms(p, cfg)
    kind = issue_kind or issue_kind_for(p, cfg=cfg)
    if not scopes:       # e.g. the districts after the 2025 reform: nothing to read
        log.info("report set %s %s: no report scope in the window", p.key, level)
        return {"period": p.key, "level": level, **({"province": province} if province else {}),
                "issue_kind": kind, "scopes": 0, "forms": len(codes), "issued": 0, "new_versions": 0,
                "withheld": []}
    inputs = _load_inputs(eng, p, cfg, unit_frame, unit_index)
    inputs.reused_codes = _reused_codes(all_scopes)
    inputs.issue_kind = kind
    issued, withheld = [], []
    staging = Path(tempfile.mkdtemp(prefix="tcd-reports-"))
    # One sync at the end of the task instead of an fsync per file; each form's reports
    # issued together (one manifest write) and recorded in one transaction.
    with files.deferred_fsync():
        try:
            for territory, group in _territories(inputs, scopes, level):
                inputs.records.clear()
                inputs.unit_keys, inputs.parts = territory
                if inputs.parts is not None:
                    _national_populations(eng, inputs, codes)
                _issue_forms(eng, inputs, codes, group, run_id, staging, issued, withheld)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    summary = {"period": p.key, "level": level, **({"province": province} if province else {}),
               "issue_kind": inputs.issue_kind, "scopes": len(scopes),
               "forms": len(codes),
               "issued": len(issued), "new_versions": sum(1 for e in issued if e.get("new")),
               "withheld": withheld}
    log.info("report set %s %s: %d issued (%d new), %d withheld", p.key, level, len(issued),
             summary["new_versions"], len(withheld))
    if withheld:
        raise RuntimeError(f"{len(withheld)} report(s) withheld for {p.key} {level}: "
                           + "; ".join(f"{w['form']} {w['scope']}: {w['reason'][:200]}" for w in withheld[:10]))
    return summary


def _territories(inputs: _PeriodInputs, scopes: list, level: str) -> list[tuple[tuple, list]]:
    """The scopes in groups that read the same facts: ``((unit_keys, parts), scopes)``.
    One group reading everything in a province deployment; in a national one, a group
    per province (its territory's facts only), and the national report reading each
    province's in turn (:func:`_placed`)."""
    if not inputs.unit_index.shared or not scopes:
        return [((None, None), scopes)]
    provinces = inputs.unit_index.provinces()
    territory = {str(r.unit_code): inputs.unit_index.territory(str(r.unit_key)) for r in provinces.itertuples()}
    if level == NATIONAL_LEVEL:
        return [((None, [territory[c] for c in sorted(territory)]), scopes)]
    groups: dict[str, list] = {}
    for s in scopes:
        groups.setdefault(s.province_code, []).append(s)
    return [((territory[c], None), groups[c]) for c in sorted(groups)]


@dataclass
class PreparedReport:
    """One report's inputs: the form version in force, its rows, the records placed on
    them (with lineage), which rows did not report, the quality sheet."""

    form: object
    rows: list
    records: object
    status: dict
    quality: dict
    sources: dict = field(default_factory=dict)     # table → records of the form's second inputs (RecordsByUnit)


def report_inputs(eng, period, cfg: Settings | None = None) -> _PeriodInputs:
    """What every report of `period` reads (see :class:`_PeriodInputs`); `cfg`: the
    settings the task read (default: read them)."""
    return _load_inputs(eng, period, cfg or settings.get())


def _national_populations(eng, inputs: _PeriodInputs, codes: list[str]) -> None:
    """Every form's population for the national report, a province at a time: each
    province's facts of a table are read once for all the forms on that table (not
    once per form), and only each form's population of the window is kept."""
    p = inputs.period
    forms = {code: form_definition(code, p, inputs.cfg) for code in codes}
    selected: dict[str, list] = {code: [] for code in codes}
    for keys in inputs.parts:
        for table in sorted({f.source for f in forms.values()}):
            facts = _read_facts(eng, inputs, table, keys)
            for code, form in forms.items():
                if form.source == table:
                    selected[code].append(form.select(facts, p))
    for code, parts in selected.items():
        inputs.records[("selected", code)] = pd.concat(parts, ignore_index=True)
        inputs.records[("by_unit", code)] = levels.RecordsByUnit(inputs.records[("selected", code)])


def _placed(eng, inputs: _PeriodInputs, code: str, scope):
    """(form, rows, placed records, row status) of form `code` for `scope` over the window."""
    p = inputs.period
    form = form_definition(code, p, inputs.cfg)
    key = ("selected", code)
    if key not in inputs.records:      # the form's population is the same for every scope
        if inputs.parts is None:
            inputs.records[key] = form.select(_records(eng, inputs, form.source), p)
        else:                          # the national report: each province's population in turn
            inputs.records[key] = pd.concat(
                [form.select(_read_facts(eng, inputs, form.source, keys), p) for keys in inputs.parts],
                ignore_index=True)
        # Indexed by unit once: each scope looks only at the records of its units.
        inputs.records[("by_unit", code)] = levels.RecordsByUnit(inputs.records[key])
    records = inputs.records[("by_unit", code)]
    rows, placed = levels.build_rows(scope, p, records, inputs.unit_index, date_column=form.date_column,
                                     preselected=True)
    if ("per_unit", form.source) not in inputs.records:     # which units reported: once per source table
        comp = completeness_for(inputs.completeness, form.source)
        inputs.records[("per_unit", form.source)] = (comp, completeness.unit_reporting(comp, p) if len(comp) else None)
    comp, per_unit = inputs.records[("per_unit", form.source)]
    status = levels.row_status_for(scope, rows, comp, inputs.unit_index, p, records=placed,
                                   per_unit=per_unit) if len(comp) else None
    return form, rows, placed, status


def prepare(eng, inputs: _PeriodInputs, code: str, scope, run_id: str | None = None) -> PreparedReport:
    """The inputs of form `code` for `scope` over the window, from the published warehouse."""
    p = inputs.period
    form, rows, placed, status = _placed(eng, inputs, code, scope)
    if status is None:
        raise ValueError(f"no completeness rows for {p.key}: run the data-quality assessment first")
    unit_codes = set(placed["unit_code"].astype(str)) if len(placed) else set()
    quality = dq.report_quality(None, p, placed, {k: {"reported": s.reported, "missing": s.missing}
                                                  for k, s in status.items()},
                                run_id, inputs.cutoff_text, record_type=_record_type(form.source),
                                context=inputs.quality, unit_codes=unit_codes or {scope.unit_code})
    return PreparedReport(form, rows, placed, status, quality, _source_frames(eng, inputs, form))


def _source_frames(eng, inputs: _PeriodInputs, form) -> dict:
    """The tables of the form's second inputs (FormDef.sources: 01/TCD's reception
    calendar), with lineage, by table name."""
    out = {}
    for s in getattr(form, "sources", {}).values():
        if ("by_unit", s.table) not in inputs.records:
            inputs.records[("by_unit", s.table)] = levels.RecordsByUnit(_records(eng, inputs, s.table))
        out[s.table] = inputs.records[("by_unit", s.table)]
    return out


def _one_report(eng, inputs: _PeriodInputs, code: str, scope, run_id: str | None, staging: Path,
                view: str | None = None) -> dict:
    """Compute, check, write and issue one report, and record it in the warehouse."""
    pending: list = []
    try:
        staged = _stage_reports(inputs, code, [(scope, prepare(eng, inputs, code, scope, run_id))], run_id,
                                staging, view, pending)[0]
        if isinstance(staged, Exception):
            raise staged
        entry = publish.issue_many([staged.publish], root=_reports_root(inputs))[0]
        return _issued(inputs, staged, entry, pending)
    finally:
        _record(eng, pending)


# A form's reports are computed in batches (reports.levels.scope_reports: the measures
# and the lineage run once over a batch's rows); a batch holds at most this many reports
# and records, so that memory stays a batch's whatever the number of units.
BATCH_REPORTS = 500
BATCH_RECORDS = 200_000


def _issue_forms(eng, inputs: _PeriodInputs, codes: list[str], scopes, run_id: str | None, staging: Path,
                 issued: list, withheld: list) -> None:
    """Every report of the forms `codes` for `scopes`: prepared one by one, computed,
    checked and written in batches of a form's reports, then all issued together (one
    lock and one manifest write for the task's territory: the manifest of a national
    quarter lists some 20,000 files, so each write costs) and recorded in the warehouse
    in one transaction. A report that fails is withheld; the others go on."""
    p = inputs.period
    pending: list = []
    staged: list[_StagedReport] = []
    batch: list = []

    def withhold(code, scope, exc) -> None:
        log.error("report %s %s %s withheld: %s", code, scope.slug, p.key, exc)
        withheld.append({"form": code, "scope": scope.slug, "reason": str(exc)[:500]})

    def flush(code) -> None:
        for (scope, _), outcome in zip(batch, _stage_reports(inputs, code, batch, run_id, staging, None, pending),
                                       strict=True):
            if isinstance(outcome, Exception):
                withhold(code, scope, outcome)
            else:
                staged.append(outcome)
        batch.clear()

    try:
        for code in codes:
            records = 0
            for scope in scopes:
                try:
                    prep = prepare(eng, inputs, code, scope, run_id)
                except Exception as exc:  # noqa: BLE001 - one report must not stop the others
                    withhold(code, scope, exc)
                    continue
                batch.append((scope, prep))
                records += len(prep.records)
                if len(batch) >= BATCH_REPORTS or records >= BATCH_RECORDS:
                    flush(code)
                    records = 0
            if batch:
                flush(code)
        entries = publish.issue_many([s.publish for s in staged], root=_reports_root(inputs), errors="return")
        for st, entry in zip(staged, entries, strict=True):
            if isinstance(entry, Exception):
                withhold(st.publish.form_code, st.scope, entry)
                continue
            issued.append(_issued(inputs, st, entry, pending))
    finally:
        _record(eng, pending)


@dataclass
class _StagedReport:
    """A report written to the staging folder, waiting to be issued."""

    scope: object
    publish: publish.Staged
    check: dict              # its dq_validation row (identities passed)
    report: dict             # its rpt_report row, less what issuing decides (path, sha256)


def _stage_reports(inputs: _PeriodInputs, code: str, batch: list, run_id: str | None, staging: Path,
                   view: str | None, pending: list) -> list:
    """Write the reports of `batch` ((scope, PreparedReport) of form `code`) to the
    staging folder: one outcome each, a _StagedReport or the exception that withheld
    it (a failed identity is also recorded in dq_validation, through `pending`)."""
    p = inputs.period
    form = batch[0][1].form
    meta = {"run_id": run_id or "", "data_cutoff": inputs.cutoff_text, **_issue_meta(inputs)}
    items = [levels.ScopeItem(scope, prep.rows, prep.records,
                              staging / f"{code.replace('/', '-')}_{scope.slug}.xlsx", meta, prep.status, prep.quality)
             for scope, prep in batch]
    results = levels.scope_reports(code, items, p, inputs.unit_index, form=form, lineage=True,
                                   source_frames=batch[0][1].sources)
    now = utcnow()
    regime = regimes.regime_for(p, inputs.cfg.regimes)
    out: list = []
    for (scope, prep), item, rep in zip(batch, items, results, strict=True):
        check = {"run_id": run_id, "suite": "report_identities",
                 "partition": f"{code} {scope.slug} {p.key}", "evaluated": 1, "validated_at": now}
        if isinstance(rep, IdentityError):
            pending.append((dq_validation, dict(**check, success=False, failed=len(rep.violations), details=json.dumps(
                {"violations": rep.violations[:200]}, ensure_ascii=False))))
        if isinstance(rep, Exception):
            out.append(rep)
            continue
        placed = prep.records
        to_issue = publish.Staged(item.path, p, scope.level, _unit_folder(scope, inputs.reused_codes), code,
                                  form.version, view or _view(scope), run_id, inputs.cutoff_text, regime,
                                  inputs.issue_kind, rep.cell_values)
        check = dict(**check, success=True, failed=0, details=json.dumps(
            {"rows": len(rep.table), "checks": len(form.checks), "rule": "REPORT_IDENTITY"}))
        batches_json = json.dumps(sorted(placed["batch_id"].unique().tolist()) if len(placed) else [])
        report = dict(form=code, form_version=form.version, unit_code=scope.unit_code, date_from=p.start,
                      date_to=p.end, period_label=p.label, run_id=run_id, batches_read=batches_json, created_at=now)
        out.append(_StagedReport(scope, to_issue, check, report))
    return out


def _issued(inputs: _PeriodInputs, staged: _StagedReport, entry, pending: list) -> dict:
    """After issuing: the lineage file beside a new workbook, the warehouse records."""
    entry_path = entry.absolute_path(_reports_root(inputs))
    lineage_src = Path(staged.publish.path).with_name(Path(staged.publish.path).stem + ".nguon.csv")
    if lineage_src.exists() and entry.outcome == "issued":
        shutil.copyfile(lineage_src, entry_path.with_name(entry_path.stem + ".nguon.csv"))
    pending.append((dq_validation, staged.check))
    pending.append((rpt_report, dict(staged.report, path=str(entry_path), sha256=entry.sha256)))
    return {"form": staged.publish.form_code, "scope": staged.scope.slug, "path": str(entry_path),
            "new": entry.outcome == "issued"}


def _record(eng, pending: list) -> None:
    """Write the identity checks and issued reports of `pending` in one transaction
    (one commit, one sync of the database, for many reports), and empty it: the rows of
    a table in one statement, since a national task records some 20,000 reports. A
    report already recorded at the same path (and form, unit and window) is updated."""
    if not pending:
        return
    inserts: dict[tuple, list[dict]] = {}
    reports: dict[tuple, dict] = {}               # the last values of each report path
    for table, values in pending:
        if table is rpt_report:
            reports[_report_key(values)] = values
        else:
            inserts.setdefault((table, tuple(values)), []).append(values)
    with eng.begin() as conn:
        if reports:
            recorded: dict[tuple, int] = {}          # report key → report_id
            paths = sorted({k[-1] for k in reports})
            for i in range(0, len(paths), 500):
                rows = conn.execute(sa.select(rpt_report.c.report_id, *(rpt_report.c[c] for c in _REPORT_KEY))
                                    .where(rpt_report.c.path.in_(paths[i:i + 500])))
                recorded.update((tuple(r[1:]), r[0]) for r in rows)
            updates = []
            for key, values in reports.items():
                if key in recorded:
                    updates.append(dict(values, recorded_id=recorded[key]))
                else:
                    inserts.setdefault((rpt_report, tuple(values)), []).append(values)
            if updates:
                conn.execute(rpt_report.update().where(rpt_report.c.report_id == sa.bindparam("recorded_id")),
                             updates)
        for (table, _), rows in inserts.items():
            conn.execute(table.insert(), rows)
    pending.clear()


_REPORT_KEY = ("form", "unit_code", "date_from", "date_to", "path")


def _report_key(values: dict) -> tuple:
    return tuple(values[c] for c in _REPORT_KEY)


# ----------------------------------------------------------------------------- Mẫu số 02
NARRATIVE_FORM = "BC-MAU02"        # the narrative report (Mẫu số 02) in the manifest and file names
# Comparison periods whose tables the narrative can read: the 2025 forms, and the
# TT 01/2024 set whose columns reports.mau02.OLD_EQUIVALENTS maps (an older window has
# no equivalent the outline could cite).
COMPARABLE_REGIMES = ("TT01_2024", "TT06_2025")


def comparison_periods(p) -> dict:
    """The periods a narrative of `p` compares with (Mẫu số 02, closing note: "kỳ trước
    (hoặc cùng kỳ của năm trước)"): the previous quarter for a quarter; the same period
    of the previous year for every kind. A cumulative report (6 tháng, 9 tháng, năm) has
    no previous period of its own kind inside the year, so only the year before."""
    out = {"previous": None, "last_year": None}
    if p.kind == "custom":
        # A chuyên đề over any range: the same range one year earlier (29/02 → 28/02).
        def year_before(d):
            return d.replace(year=d.year - 1, day=min(d.day, 28 if d.month == 2 else d.day))

        out["last_year"] = periods.custom(year_before(p.start), year_before(p.end))
        return out
    if p.kind in periods.QUARTERS:
        i = periods.QUARTERS.index(p.kind)
        out["previous"] = periods.period(periods.QUARTERS[i - 1], p.year - (1 if i == 0 else 0))
    out["last_year"] = periods.period(p.kind, p.year - 1)
    return out


def _totals_of_forms(eng, inputs: _PeriodInputs, codes, scope) -> dict:
    """{form code: computed table} of `codes` for `scope` (the narrative reads totals);
    with 06/QLKNTC, also the II.5 protection table (reports.mau02.PROTECTION_CODE) over
    the same rows and records (the workbooks' protection block)."""
    out = {}
    for code in codes:
        form, rows, placed, status = _placed(eng, inputs, code, scope)
        out[code] = formdef.compute(form, levels.count_per_unit(form, placed), rows, status, period=inputs.period)
        if code == "06/QLKNTC":
            out[mau02.PROTECTION_CODE] = mau02.protection_table(rows, placed)
    return out


def build_narratives(period: dict, level: str, run_id: str | None = None, units: list[str] | None = None,
                     issue_kind: str | None = None, on_request: bool = False) -> dict:
    """The narrative report (Mẫu số 02, a Word document) of every official report of
    `level` in the window, when the governing regime asks for one for this kind of
    period (TT 06/2025: Quý I, 6 tháng, 9 tháng, năm) or `on_request` (a chuyên đề over
    any range, or any period, when the regime has a narrative): every figure the outline cites
    from the same tables as the forms, compared with the previous quarter and the same
    period of the previous year (reports.mau02); issued into the tree beside the forms
    (``<tag>_BC-MAU02_<unit>_<from>-<to>.docx`` and its ``.so-lieu.json`` figure record)."""
    p = dq.period_from_dict(period)
    cfg = settings.get()
    regime = regimes.regime_for(p, cfg.regimes)
    asked = regime.has_narrative(p) or (on_request and bool(regime.narrative))
    if not asked or level not in regime.narrative.get("levels", LEVELS):
        return {"period": p.key, "level": level, "issued": 0,
                "skipped": f"{regime.circular}: no narrative report for {p.label} at level {level}"}
    eng = db.engine(connections.warehouse_url(cfg))
    inputs = _load_inputs(eng, p, cfg)
    inputs.issue_kind = issue_kind or issue_kind_for(p, cfg=cfg)
    root = _reports_root(inputs)
    all_scopes = levels.report_scopes(p, inputs.unit_index)
    inputs.reused_codes = _reused_codes(all_scopes)
    scopes = [s for s in all_scopes if s.level == level and _view(s) == "as_recorded"
              and (not units or s.unit_code in set(map(str, units)))]
    others = {}
    for name, q in comparison_periods(p).items():
        if q is not None and regimes.regime_for(q, cfg.regimes).id in COMPARABLE_REGIMES:
            q_inputs = _load_inputs(eng, q, cfg)
            others[name] = (q_inputs, {(s.level, s.unit_key, s.kind): s
                                       for s in levels.report_scopes(q, q_inputs.unit_index)},
                            regimes.regime_for(q, cfg.regimes))
    notes = mau02.na_reasons(formdef.load_form(regimes.definition_path(regime, c, cfg.home))
                             for c in regime.form_codes)
    place = deployment.title(cfg).removeprefix("Thành phố ").removeprefix("Tỉnh ")
    issued, withheld = [], []
    staging = Path(tempfile.mkdtemp(prefix="tcd-narrative-"))
    try:
        for scope in scopes:
            try:
                tables = _totals_of_forms(eng, inputs, configured_forms(p, cfg), scope)
                compared = {}
                for name in ("previous", "last_year"):
                    if name not in others:
                        compared[name] = None
                        continue
                    q_inputs, q_scopes, q_regime = others[name]
                    match = q_scopes.get((scope.level, scope.unit_key, scope.kind))
                    codes = [c for c in q_regime.form_codes if c in mau02.comparison_codes(q_regime.id)]
                    compared[name] = _totals_of_forms(eng, q_inputs, codes, match) if match else None
                staged = staging / f"{NARRATIVE_FORM}_{scope.slug}.docx"
                result = mau02.build_mau02(staged, issuer_name=scope.issuer, place=place, period=p, tables=tables,
                                           previous=compared["previous"], last_year=compared["last_year"],
                                           notes=notes, comparison_note=_comparison_note(p, compared))
                entry = publish.issue(staged, period=p, level=scope.level,
                                      unit_code=_unit_folder(scope, inputs.reused_codes), form_code=NARRATIVE_FORM,
                                      form_version=regime.id, view="as_recorded", run_id=run_id,
                                      data_cutoff=inputs.cutoff_text, regime=regime, issue_kind=inputs.issue_kind,
                                      root=root)
                if entry.outcome == "issued":
                    dest = entry.absolute_path(root)
                    shutil.copyfile(result.figures_path, mau02.figures_path(dest))
                issued.append({"scope": scope.slug, "path": str(entry.absolute_path(root)),
                               "new": entry.outcome == "issued", "figures": len(result.figures)})
            except Exception as exc:  # noqa: BLE001 - one unit's document must not stop the others
                log.error("narrative %s %s withheld: %s", scope.slug, p.key, exc)
                withheld.append({"scope": scope.slug, "reason": str(exc)[:500]})
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    summary = {"period": p.key, "level": level, "issue_kind": inputs.issue_kind, "issued": len(issued),
               "new_versions": sum(1 for e in issued if e["new"]), "withheld": withheld}
    if withheld:
        raise RuntimeError(f"{len(withheld)} narrative report(s) withheld for {p.key} {level}: "
                           + "; ".join(f"{w['scope']}: {w['reason'][:200]}" for w in withheld[:10]))
    return summary


def _comparison_note(p, compared: dict) -> str:
    """What the narrative compares with (Mẫu số 02, closing note), said once under its title."""
    said = []
    periods_of = comparison_periods(p)
    for name, words in (("previous", "kỳ trước"), ("last_year", "cùng kỳ năm trước")):
        q = periods_of[name]
        if compared.get(name) is not None:
            said.append(f"với {words} ({q.label}, {q.start:%d/%m/%Y} – {q.end:%d/%m/%Y})")
    text = "Số liệu được so sánh " + "; ".join(said) + "." if said else "Không có số liệu kỳ so sánh."
    if periods_of["previous"] is None and p.kind != "custom":
        text += (" Báo cáo lũy kế (6 tháng, 9 tháng, năm) không có kỳ trước cùng loại trong năm, nên chỉ so sánh "
                 "với cùng kỳ năm trước.")
    for name, words in (("previous", "kỳ trước"), ("last_year", "cùng kỳ năm trước")):
        q = periods_of[name]
        if q is not None and compared.get(name) is None:
            text += f" Chưa so sánh được với {words} ({q.label}): không có số liệu tương ứng của đơn vị."
    return text


def _reports_root(inputs: _PeriodInputs):
    """The report tree (``paths.reports``) of the task's settings."""
    return inputs.cfg.path("reports")


def _issue_meta(inputs: _PeriodInputs) -> dict:
    """What the workbook says about its issue: official, or preliminary with the units'
    deadline after which the official issue follows (reports.render prints it)."""
    if inputs.issue_kind != "preliminary":
        return {"issue_kind": "official"}
    p = inputs.period
    due = regimes.regime_for(p, inputs.cfg.regimes).deadline(p, "units")
    return {"issue_kind": "preliminary", "units_deadline": f"{due:%d/%m/%Y}"}


def _view(scope) -> str:
    """The manifest view of a scope. The official report of a unit is "as_recorded"
    (no suffix in the file name): a district's or the city's consolidated report, a
    commune's own report. A district's or the city's report over its own records only
    is "own"; the city over today's units is "remapped"."""
    if scope.kind == "consolidated" or (scope.kind == "own" and scope.level == "xa"):
        return "as_recorded"
    return scope.kind


def _record_type(source: str) -> str:
    return {"fact_reception": "reception", "fact_petition": "petition", "fact_case": "case",
            "fact_qlkntc": "qlkntc"}.get(source, source)


# Which source kinds deliver the records of a canonical table: a row of 06/QLKNTC is
# "Chưa báo cáo" when the unit sent no 06/QLKNTC workbook, whatever registers it sent,
# and a missing workbook never makes a unit "not reported" on the other forms.
SOURCE_KINDS_OF_TABLE = {"fact_qlkntc": ("qlkntc_workbook",)}
OWN_INPUT_KINDS = frozenset(k for kinds in SOURCE_KINDS_OF_TABLE.values() for k in kinds)


def completeness_for(completeness_frame, source_table: str):
    """The completeness rows that decide which rows of a form on `source_table` reported."""
    kinds = SOURCE_KINDS_OF_TABLE.get(source_table)
    col = completeness_frame["source_kind"]
    return completeness_frame[col.isin(kinds) if kinds else ~col.isin(OWN_INPUT_KINDS)]


# ----------------------------------------------------------------------------- summary
def build_summary(period: dict, run_id: str | None = None) -> dict:
    """The multi-year summary workbook, and the city's 01/TCD over the range as recorded
    and remapped to today's units; both issued into the tree."""
    p = dq.period_from_dict(period)
    cfg = settings.get()
    if deployment.is_national(cfg):
        # The summary's tables (sheets per level, the heads' duty, skipped levels) are a
        # province's; the country's is not designed yet.
        log.warning("summary %s: not built in a national deployment", p.key)
        return {"period": p.key, "files": [], "skipped": "the multi-year summary is a province's"}
    eng = db.engine(connections.warehouse_url(cfg))
    inputs = _load_inputs(eng, p, cfg)
    root = _reports_root(inputs)
    staging = Path(tempfile.mkdtemp(prefix="tcd-summary-"))
    out = {"period": p.key, "files": []}
    try:
        data = summary.summary_frames(eng, p.start, p.end, inputs.units)
        staged = staging / "tong-hop.xlsx"
        summary.build_summary(data, staged, cfg.regimes, {"run_id": run_id or "", "data_cutoff": inputs.cutoff_text})
        province = inputs.units[inputs.units["level"] == "tinh"].iloc[0]
        entry = publish.issue(staged, period=p, level="tinh", unit_code=str(province["unit_code"]),
                              form_code="TONG-HOP", form_version="1", view="summary", run_id=run_id,
                              data_cutoff=inputs.cutoff_text, root=root)
        out["files"].append(str(entry.absolute_path(root)))
        city_scopes = [s for s in levels.report_scopes(p, inputs.unit_index, include_remapped=True)
                       if s.level == "tinh" and s.kind in ("consolidated", "remapped")]
        for scope in city_scopes:
            res = _one_report(eng, inputs, "01/TCD", scope, run_id, staging)
            out["files"].append(res["path"])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


# ----------------------------------------------------------------------------- delivery
def deliver(period_key: str, run_id: str | None = None) -> dict:
    # Everyone reachable gets their reports first; then a failure for any recipient fails
    # the task, so that administrators are alerted and a retry sends what is still
    # missing (versions already sent are not sent again).
    results = delivery.deliver(period_key, settings.get(), raise_on_failure=True)
    by_status: dict[str, int] = {}
    for r in results:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    return {"period": period_key, "recipients": len(results), "by_status": by_status}
