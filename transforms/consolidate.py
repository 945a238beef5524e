"""Consolidate the raw layer into the canonical fact tables, one source kind at a time,
one partition (the year of the record's date, transforms/partitions.py) at a time:
write – audit – publish.

Each partition is rebuilt from the raw layer (delete and insert in one transaction) when
its current rows or the suites changed, so a run is idempotent, a day of new data
rebuilds only the years it touches, memory is bounded by one year of one source kind,
and the result equals a rebuild of everything (tests/test_partitions.py). Steps, in order:

1. **audit landed batches** with the source kind's batch suite (GX checkpoint
   ``<kind>_batch``, critical rules), a bounded group of batches at a time: a batch that
   fails is rejected whole and nothing from it is published (dq_batch_audit); raw is
   immutable, so each batch is audited once per suite version;
2. keep the current version of every record among accepted batches, in SQL across all
   partitions: for register files the latest accepted version of each file (a rejected
   re-delivery leaves the previous version in force); for databases and services the
   latest version of each record id; then, per partition whose current rows changed:
3. map each payload to the canonical model; rows that cannot be read are quarantined
   under the rule the parser names (DATE_INVALID, CODE_NOT_IN_DOMAIN, …);
4. keep official records only (drafts and deleted records are counted in the stats);
5. resolve the recorded unit code with the record's date against the versioned unit
   dimension;
6. validate with the canonical suite (``<type>_canonical``): rows breaking an *error*
   rule are quarantined with their lineage, rows breaking a *warning* rule are kept
   and flagged (dq_flag); a case key shared with another partition is quarantined as
   one shared within the partition (transforms/cases.py);
7. collapse duplicate entries (same content within one source), keeping the first;
8. audit the frame about to be published with the warehouse suite
   (``<type>_warehouse``: keys, referential integrity, no duplicates); a failure blocks
   the publication of the partition (its previous published state stays; the other
   partitions are published, and the task fails at the end);
9. publish, with every validation's result in dq_validation.

Quarantined rows are not lost: the quarantine is rebuilt with the partition, so a
corrected delivery (new file version, corrected record) replaces them automatically.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import logging
import re
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from core import normalise
from core import rules as rules_catalogue
from core.dates import utcnow
from core.settings import Settings
from transforms import canonical, partitions, quality
from transforms import cases as cases_module
from warehouse import deployment, units
from warehouse.schema import (
    dq_batch_audit,
    dq_flag,
    dq_quarantine,
    dq_validation,
    fact_case,
    fact_petition,
    fact_reception,
    fact_reception_calendar,
    raw_batch,
    wh_partition,
    wh_partition_state,
)

log = logging.getLogger(__name__)

SOURCE_KINDS = ("commune_register", "district_db", "city_service")
# Source kinds with a canonical table of their own, consolidated by their own module's
# consolidate(engine, cfg, run_id=, force=) (kept out of SOURCE_KINDS, which the record facts map over).
OWN_PARTITIONS = {"qlkntc_workbook": "transforms.qlkntc"}          # biểu 06/QLKNTC → fact_qlkntc
FACTS = {"reception": (fact_reception, "reception_key", "received_date"),
         "petition": (fact_petition, "petition_key", "received_date"),
         "case": (fact_case, "case_key", "opened_date"),
         # the head's published reception calendar (optional in every source; 01/TCD cột 10, 16)
         "calendar": (fact_reception_calendar, "calendar_key", "announced_date")}
DATE_FIELDS = partitions.DATE_FIELDS
_FILE_YEAR = re.compile(r"_(\d{4})$")
# Current raw rows of the partitions built together (one run of each suite for them):
# memory stays bounded, and GX's fixed cost per run is paid once for many small
# partitions (a national deployment's province-years).
GROUP_ROWS = 50_000


class PublicationBlocked(RuntimeError):
    """The canonical partition failed validation and was not published."""


@dataclass
class PartitionResult:
    source_kind: str
    skipped: bool = False
    batches: int = 0
    stats: dict = field(default_factory=dict)


def _loaded_batches(conn: sa.Connection, source_kind: str) -> list[str]:
    return sorted(r[0] for r in conn.execute(sa.select(raw_batch.c.batch_id).where(
        raw_batch.c.source_kind == source_kind, raw_batch.c.status == "loaded")))


def current_versions(raw: pd.DataFrame, source_kind: str) -> pd.DataFrame:
    """Rows of the current version of each file (registers) or record (systems)."""
    if raw.empty:
        return raw
    if source_kind == "commune_register":
        latest = (raw.sort_values(["started_at", "batch_id"])
                  .drop_duplicates("logical_key", keep="last")["batch_id"])
        return raw[raw["batch_id"].isin(set(latest))]
    return (raw.sort_values(["record_version", "raw_id"])
            .drop_duplicates(["record_type", "source_name", "record_id"], keep="last"))


def _fingerprint(batch_ids: list[str], source_kind: str) -> str:
    # The suites and rules are part of the input: changed rules re-run consolidation.
    h = hashlib.sha256("\n".join(batch_ids).encode())
    for rt in FACTS:
        for layer in ("canonical", "warehouse"):
            h.update(quality.suite_sha(f"{rt}_{layer}").encode())
    h.update(quality.suite_sha(f"{source_kind}_batch").encode())
    return h.hexdigest()


UNIT_FIELDS = {"commune_register": None, "district_db": "ma_don_vi", "city_service": "unit_code"}


def _lineage(raw_row, source_kind: str) -> dict:
    """Where a raw row came from, plus its unit and date when they can be read (so the
    data-quality workbook can place a quarantined row in a unit and a period)."""
    src_row = raw_row["source_row"]
    payload = raw_row["payload"]
    unit_field = UNIT_FIELDS[source_kind]
    unit = raw_row["source_name"] if unit_field is None else payload.get(unit_field)
    unit = str(unit).strip()[:8] if unit not in (None, "") else None
    return {"raw_id": int(raw_row["raw_id"]), "batch_id": raw_row["batch_id"],
            "source_kind": source_kind, "source_name": raw_row["source_name"],
            "record_type": raw_row["record_type"], "source_file": raw_row["source_file"],
            "source_row": None if src_row is None or pd.isna(src_row) else int(src_row),
            "record_id": raw_row["record_id"], "unit_code": unit,
            "record_date": partitions.safe_date(payload.get(DATE_FIELDS.get((source_kind, raw_row["record_type"]), "")))}


def _quarantine_row(raw_row, source_kind: str, code: str, reason: str, now) -> dict:
    """A dq_quarantine row: the lineage of the raw row, the rule and the reason, no values."""
    return {**_lineage(raw_row, source_kind), "reason_code": code,
            "severity": rules_catalogue.rule(code)["severity"], "reason": reason, "detected_at": now}


def _file_year(logical_key: str) -> float | None:
    m = _FILE_YEAR.search(str(logical_key or ""))
    return float(m.group(1)) if m else None


# ------------------------------------------------------------------ 1. batch audit
def audit_batches(engine: sa.Engine, source_kind: str, batch_ids: list[str], cfg: Settings,
                  run_id: str | None = None) -> set[str]:
    """Audit landed batches not yet audited under the current suite, a bounded group of
    batches at a time (the suite's rules are all per batch); returns the ids of all
    rejected batches of the source kind."""
    suite = f"{source_kind}_batch"
    sha = quality.suite_sha(suite)
    with engine.connect() as conn:
        done = {r.batch_id: r.passed for r in conn.execute(
            sa.select(dq_batch_audit.c.batch_id, dq_batch_audit.c.passed).where(
                dq_batch_audit.c.suite == suite, dq_batch_audit.c.suite_sha == sha))}
        chunks = partitions.batch_chunks(conn, source_kind, [b for b in batch_ids if b not in done])
    for todo in chunks:
        with engine.connect() as conn:
            part = partitions.read_batch_dates(conn, source_kind, todo)
        _audit_chunk(engine, part, source_kind, todo, suite, sha, cfg, run_id)
    with engine.connect() as conn:
        rejected = {r[0] for r in conn.execute(sa.select(dq_batch_audit.c.batch_id).where(
            dq_batch_audit.c.suite == suite, dq_batch_audit.c.passed.is_(False)))}
    return rejected & set(batch_ids)


def _audit_chunk(engine: sa.Engine, part: pd.DataFrame, source_kind: str, todo: list[str], suite: str, sha: str,
                 cfg: Settings, run_id: str | None) -> None:
    frame = pd.DataFrame({
        "raw_id": part["raw_id"].astype("int64"), "batch_id": part["batch_id"],
        "record_type": part["record_type"], "record_id": part["record_id"],
        "record_version": part["record_version"]})
    dates = [partitions.safe_date(v) for v in part["date_value"]]
    frame["date_value"] = pd.to_datetime(pd.Series(dates, index=part.index, dtype=object), errors="coerce")
    frame["date_year"] = frame["date_value"].dt.year.astype("float64")
    frame["file_year"] = [_file_year(k) if source_kind == "commune_register" else None
                          for k in part["logical_key"]]
    frame["file_year"] = frame["file_year"].astype("float64")
    now = utcnow()
    rows_per_batch = frame.groupby("batch_id").size().to_dict()
    verdicts: dict[str, list[dict]] = {b: [] for b in todo}
    validation = None
    if not frame.empty:
        validation = quality.run(suite, frame, f"{source_kind}.batches", cfg, run_id=run_id)
        batch_of = dict(zip(frame["raw_id"], frame["batch_id"]))
        for f in validation.failures:
            per_batch = pd.Series([batch_of[r] for r in f.raw_ids if r in batch_of]).value_counts()
            threshold = float(f.meta.get("batch_reject_share", 0.0))
            for b, n in per_batch.items():
                share = n / rows_per_batch[b]
                if f.severity == "critical" and share > threshold:
                    verdicts[b].append({"rule": f.rule, "failed_rows": int(n), "share": round(share, 3),
                                        "rows": int(rows_per_batch[b])})
    with engine.begin() as conn:
        conn.execute(dq_batch_audit.delete().where(dq_batch_audit.c.batch_id.in_(todo)))
        recs = []
        for b in todo:
            failed = verdicts[b]
            reason = "; ".join(
                f"{rules_catalogue.rule(v['rule'])['title']} ({v['failed_rows']}/{v['rows']} dòng). "
                f"{rules_catalogue.rule(v['rule'])['instruction']}" for v in failed) or None
            recs.append({"batch_id": b, "suite": suite, "suite_sha": sha, "passed": not failed,
                         "rows": int(rows_per_batch.get(b, 0)), "failed_rules": json.dumps(failed),
                         "reason": reason, "run_id": run_id, "audited_at": now})
        for i in range(0, len(recs), 5000):
            conn.execute(dq_batch_audit.insert(), recs[i:i + 5000])
        if validation is not None:
            conn.execute(dq_validation.insert(), [validation.record(run_id, now)])
    log.info("%s: audited %d new batches, %d rejected", source_kind, len(todo), sum(1 for b in todo if verdicts[b]))


# ------------------------------------------------------------------ 3.–8. canonical partition
def _detail(code: str, row, date_col: str) -> str:
    """The reason for one row: the rule's title and, where it helps the unit find the
    row, the offending value (codes, dates and counts only — never personal data)."""
    title = rules_catalogue.rule(code)["title"]
    if code == "UNIT_NOT_VALID_ON_DATE":
        return (f"{title}: mã đơn vị {row['unit_code']} không phải đơn vị hành chính hợp lệ của "
                f"thành phố vào ngày {row[date_col]:%d/%m/%Y}")
    if code in ("DATE_IN_FUTURE", "DATE_BEFORE_SERIES", "DATE_OUTSIDE_FILE_YEAR"):
        return f"{title}: {row[date_col]:%d/%m/%Y}"
    if code in ("PEOPLE_OUT_OF_RANGE", "PEOPLE_UNUSUAL"):
        return f"{title}: số người = {row['people']}"
    if code in ("RESOLVED_BEFORE_RECEIVED", "RESOLVED_BEFORE_OPENED"):
        return f"{title}: giải quyết {row['resolved_date']:%d/%m/%Y}, nhận {row[date_col]:%d/%m/%Y}"
    return title


def build_partition(raw: pd.DataFrame, source_kind: str, cfg: Settings, *,
                    accepted_batches: set[str] | None = None, run_id: str | None = None,
                    partition: str | None = None, candidates: dict | None = None):
    """raw rows of accepted batches → (canonical frames, quarantine rows, flag rows,
    stats, GX outcomes). Runs the canonical and warehouse suites (on `partition`, the
    key :mod:`transforms.partitions` gave the rows, named in the validation results).
    `candidates`, when given, receives the key and raw_id of the official case rows the
    canonical suite checks (``"case"``: transforms.cases settles keys across partitions).
    One partition of :func:`build_partitions`."""
    key = partition or ""
    built = build_partitions({key: raw}, source_kind, cfg, accepted_batches=accepted_batches, run_id=run_id,
                             candidates={key: candidates} if candidates is not None else None)
    return built[key]


_PART = "_partition"        # the partition of a row, in the frames a suite runs on


def build_partitions(raws: dict[str, pd.DataFrame], source_kind: str, cfg: Settings, *,
                     accepted_batches: set[str] | None = None, run_id: str | None = None,
                     candidates: dict[str, dict] | None = None) -> dict[str, tuple]:
    """:func:`build_partition` of several partitions at once (partition key → its raw
    rows): each partition mapped, deduplicated and counted on its own, but each suite run
    once on the rows of all of them, its outcome then split by partition
    (quality.split_outcome). A suite run costs GX about half a second whatever its
    rows, and a national deployment has hundreds of small partitions (a province's
    year), so this is what keeps consolidation's time with its rows, not its partitions.
    The result for each partition is what building it alone gives (tests/test_partitions.py)."""
    now = utcnow()
    keys = list(raws)
    label = "" if keys == [""] else "." + (keys[0] if len(keys) == 1 else f"{keys[0]}_to_{keys[-1]}")
    unit_df = deployment.unit_frame(cfg)
    unit_keys = sorted(unit_df["unit_key"])
    rules = canonical.Rules.of(cfg)           # read once, passed to every row's mapper
    accepted = sorted(accepted_batches if accepted_batches is not None else
                      set().union(*(set(r["batch_id"]) for r in raws.values())))
    cur = {k: current_versions(raw, source_kind) for k, raw in raws.items()}
    quarantine: dict[str, list[dict]] = {k: [] for k in keys}
    flags: dict[str, list[dict]] = {k: [] for k in keys}
    outcomes: dict[str, list[quality.Outcome]] = {k: [] for k in keys}
    frames: dict[str, dict[str, pd.DataFrame]] = {k: {} for k in keys}
    stats: dict[str, dict] = {k: {"raw_rows": int(len(raws[k])), "current_rows": int(len(cur[k]))} for k in keys}
    for record_type in FACTS:
        mapper = canonical.MAPPERS.get((source_kind, record_type))
        if mapper is None:
            continue
        table, key_col, date_col = FACTS[record_type]
        mapped: dict[str, pd.DataFrame] = {}
        raw_by_id: dict[str, pd.DataFrame] = {}
        for k in keys:
            part = cur[k][cur[k]["record_type"] == record_type] if not cur[k].empty else cur[k]
            if part.empty:
                continue
            raw_by_id[k] = part.set_index("raw_id", drop=False)
            rows = []
            for r in part.itertuples(index=False):
                try:
                    rec = mapper(r.payload, r.source_name, rules)
                except normalise.RuleViolation as exc:
                    quarantine[k].append(_quarantine_row(r._asdict(), source_kind, exc.rule, str(exc), now))
                    continue
                except (ValueError, KeyError, TypeError) as exc:
                    quarantine[k].append(_quarantine_row(
                        r._asdict(), source_kind, "VALUE_INVALID",
                        f"{rules_catalogue.rule('VALUE_INVALID')['title']}: {exc}", now))
                    continue
                if record_type != "case":
                    rid = r.record_id if r.record_id is not None else f"{r.source_file}!{int(r.source_row)}"
                    rec[key_col] = f"{source_kind}:{r.source_name}:{rid}"
                rec.update(source_kind=source_kind, source_name=r.source_name, record_id=r.record_id,
                           raw_id=int(r.raw_id), batch_id=r.batch_id,
                           file_year=_file_year(r.logical_key) if source_kind == "commune_register" else None)
                rows.append(rec)
            df = pd.DataFrame(rows)
            s = stats[k].setdefault(record_type, {})
            s["mapped"] = len(df)
            if df.empty:
                continue
            s["not_official"] = int((df["status"] != "official").sum())
            df = df[df["status"] == "official"].drop(columns="status")
            if candidates is not None and record_type == "case" and candidates.get(k) is not None:
                candidates[k]["case"] = df[["case_key", "raw_id"]].copy()
            df["unit_key"] = units.resolve_unit_keys(unit_df, df["unit_code"], df[date_col]).to_numpy()
            df["date_year"] = pd.to_datetime(df[date_col], errors="coerce").dt.year.astype("float64")
            df["file_year"] = df["file_year"].astype("float64")
            mapped[k] = df
        if not mapped:
            continue

        # 6. canonical suite (one run for the partitions): errors quarantine the row,
        # warnings flag it.
        canon = _run_split(f"{record_type}_canonical", mapped, f"{source_kind}.{record_type}", label, cfg, run_id)
        audits: dict[str, pd.DataFrame] = {}
        for k, df in mapped.items():
            outcome = canon[k]
            outcomes[k].append(outcome)
            by_raw = df.set_index("raw_id", drop=False)
            errors = outcome.raw_ids("error")
            for rid, fails in errors.items():
                for f in fails:
                    quarantine[k].append(_quarantine_row(raw_by_id[k].loc[rid], source_kind, f.rule,
                                                         _detail(f.rule, by_raw.loc[rid], date_col), now))
            for rid, fails in outcome.raw_ids("warning").items():
                if rid in errors:
                    continue
                for f in fails:
                    flags[k].append({**_lineage(raw_by_id[k].loc[rid], source_kind),
                                     "unit_key": by_raw.at[rid, "unit_key"], "rule": f.rule,
                                     "reason": _detail(f.rule, by_raw.loc[rid], date_col), "detected_at": now})
            s = stats[k][record_type]
            s["quarantined"] = len(errors)
            s["flagged"] = len(outcome.raw_ids("warning"))
            df = df[~df["raw_id"].isin(set(errors))].sort_values("raw_id")

            # 7. duplicates (within the partition): keep the first entry, name it in the others' reason.
            dup_keys = canonical.DEDUPE_KEYS[record_type]
            dup = df.duplicated(subset=dup_keys, keep="first")
            if dup.any():
                # (rows are sorted by raw_id, so the group minimum is the entry kept)
                first_raw = df.groupby(dup_keys, dropna=False, sort=False)["raw_id"].transform("min")
                for rid, orig in zip(df.loc[dup, "raw_id"], first_raw[dup]):
                    quarantine[k].append(_quarantine_row(
                        raw_by_id[k].loc[rid], source_kind, "DUPLICATE",
                        cases_module.duplicate_reason(orig), now))
            df = df[~dup]
            s.update(duplicates=int(dup.sum()), published=len(df))
            mapped[k] = df

            # 8. the warehouse suite's frame: exactly what is about to be published.
            audit = quality.with_references(df, unit_keys, accepted)
            if record_type == "reception":
                audit["people_ge_group_min"] = audit["people"] >= rules.group_min_people
            audits[k] = audit
        ware = _run_split(f"{record_type}_warehouse", audits, f"{source_kind}.{record_type}", label, cfg, run_id)
        for k, df in mapped.items():
            outcomes[k].append(ware[k])
            frames[k][record_type] = df[[c.name for c in table.columns]]
    for k in keys:
        stats[k]["quarantined"] = len({q["raw_id"] for q in quarantine[k] if q["reason_code"] != "DUPLICATE"})
    return {k: (frames[k], quarantine[k], flags[k], stats[k], outcomes[k]) for k in keys}


def _run_split(suite: str, parts: dict[str, pd.DataFrame], name: str, label: str, cfg: Settings,
               run_id: str | None) -> dict[str, quality.Outcome]:
    """Run `suite` once on the frames of several partitions (the run named `name` +
    `label`); each partition's outcome, named `name`.<partition> as its own run would
    be (a partition without rows gets the run's expectations, all passed)."""
    frame = pd.concat([df.assign(**{_PART: k}) for k, df in parts.items()], ignore_index=True)
    outcome = quality.run(suite, frame.drop(columns=_PART), name + label, cfg, run_id=run_id)
    split = quality.split_outcome(outcome, frame, _PART) if len(frame) else {}
    return {k: dataclasses.replace(split.get(k) or quality.Outcome(suite, k, True, outcome.evaluated, 0, []),
                                   partition=f"{name}.{k}" if k else name) for k in parts}


def consolidate(engine: sa.Engine, source_kind: str, cfg: Settings, *, run_id: str | None = None,
                force: bool = False) -> PartitionResult:
    """Bring the canonical tables of `source_kind` up to date with its raw layer (steps
    above), one partition (year) at a time: only partitions whose current rows or suites
    changed are rebuilt; with the configuration `cfg` (passed down by the task function)."""
    if source_kind in OWN_PARTITIONS:
        return importlib.import_module(OWN_PARTITIONS[source_kind]).consolidate(engine, cfg, run_id=run_id,
                                                                                force=force)
    if source_kind not in SOURCE_KINDS:
        raise ValueError(f"unknown source kind {source_kind!r}")
    with engine.connect() as conn:
        batch_ids = _loaded_batches(conn, source_kind)
        fp = _fingerprint(batch_ids, source_kind)
        state = conn.execute(sa.select(wh_partition_state.c.batch_fingerprint).where(
            wh_partition_state.c.source_kind == source_kind)).scalar_one_or_none()
    if state == fp and not force:
        log.info("%s: published state is up to date with %d batches; nothing to do",
                 source_kind, len(batch_ids))
        return PartitionResult(source_kind, skipped=True, batches=len(batch_ids))
    rejected = audit_batches(engine, source_kind, batch_ids, cfg, run_id=run_id)
    accepted = set(batch_ids) - rejected
    partitions.assign(engine, source_kind, by_province=deployment.is_national(cfg))
    partitions.refresh_current(engine, source_kind)
    wanted = partitions.fingerprints(engine, source_kind, fp_suites(source_kind))
    with engine.connect() as conn:
        published = {r.partition_key: r.fingerprint for r in conn.execute(
            sa.select(wh_partition.c.partition_key, wh_partition.c.fingerprint).where(
                wh_partition.c.source_kind == source_kind))}
    queue = sorted(k for k, (f, _) in wanted.items() if force or published.get(k) != f)
    for key in sorted(set(published) - set(wanted)):       # every record of that year moved or was withdrawn
        queue += [k for k in _publish(engine, source_kind, key, None, run_id) if k not in queue and k in wanted]
    blocked: list[str] = []
    rebuilt: list[str] = []
    while queue:
        # The next partitions, up to GROUP_ROWS rows together (a bigger one alone): built
        # at once, so each suite runs once for them (build_partitions); published one by one.
        group = [queue.pop(0)]
        while queue and sum(wanted[k][1] for k in group) + wanted[queue[0]][1] <= GROUP_ROWS:
            group.append(queue.pop(0))
        with engine.connect() as conn:
            raws = {key: partitions.read_rows(conn, source_kind, key) for key in group}
        candidates: dict[str, dict] = {key: {} for key in group}
        built_all = build_partitions(raws, source_kind, cfg, accepted_batches=accepted, run_id=run_id,
                                     candidates=candidates)
        for i, key in enumerate(group):
            fingerprint, rows = wanted[key]
            built = built_all.pop(key)
            failed = record_outcomes(engine, built[4], run_id)
            if failed:
                blocked.append(f"{key} ({', '.join(o.suite for o in failed)}: "
                               f"{', '.join(f.expectation for o in failed for f in o.failures)})")
                continue
            rebuilt.append(key)
            stale = _publish(engine, source_kind, key, built, run_id, raw=raws[key],
                             cases=candidates[key].get("case"), fingerprint=fingerprint, rows=rows)
            del built
            # (a partition of this group not yet published settles its cases when it is)
            queue += [k for k in stale if k not in queue and k not in group[i + 1:] and k in wanted]
        del raws, built_all
    if blocked:
        raise PublicationBlocked(
            f"{source_kind}: warehouse audit failed in partition {'; '.join(blocked)}; the previously "
            "published data of those partitions stays in place (the others are published). See dq_validation.")
    stats = _kind_stats(engine, source_kind, len(rejected), rebuilt)
    with engine.begin() as conn:
        conn.execute(wh_partition_state.delete().where(wh_partition_state.c.source_kind == source_kind))
        conn.execute(wh_partition_state.insert().values(
            source_kind=source_kind, batch_fingerprint=fp, batches=len(batch_ids),
            stats=json.dumps(stats), consolidated_at=utcnow(), run_id=run_id))
    log.info("%s: published %s", source_kind, json.dumps(stats))
    return PartitionResult(source_kind, batches=len(batch_ids), stats=stats)


def record_outcomes(engine: sa.Engine, outcomes: list[quality.Outcome], run_id: str | None) -> list[quality.Outcome]:
    """Store every validation's result in dq_validation; return the failed warehouse
    audits (they block publication)."""
    if outcomes:
        now = utcnow()
        with engine.begin() as conn:
            conn.execute(dq_validation.insert(), [o.record(run_id, now) for o in outcomes])
    return [o for o in outcomes if o.suite.endswith("_warehouse") and not o.success]


def fp_suites(source_kind: str) -> str:
    """The suites a partition is validated with: changed rules rebuild every partition."""
    return "\n".join(quality.suite_sha(f"{rt}_{layer}") for rt in FACTS for layer in ("canonical", "warehouse"))


def _publish(engine: sa.Engine, source_kind: str, key: str, built, run_id: str | None, *,
             raw: pd.DataFrame | None = None, cases: pd.DataFrame | None = None, fingerprint: str | None = None,
             rows: int = 0) -> list[str]:
    """Replace partition `key` of `source_kind` in the canonical tables, the quarantine
    and the flags by `built` (build_partition's result; None: the partition is gone), in
    one transaction. Returns the partitions whose published cases it made stale."""
    frames, quarantine, flags, stats = (built[:4] if built is not None else ({}, [], [], {}))
    now = utcnow()
    with engine.begin() as conn:
        for statement in partition_deletes(source_kind, key):
            conn.execute(statement)
        published_cases, shared, stale = cases_module.settle(conn, source_kind, key, cases, frames.get("case"))
        if shared:
            # Rows whose case key another partition also holds: quarantined as the
            # canonical suite quarantines a key shared within one partition.
            by_id = raw.set_index("raw_id", drop=False)
            marked = {q["raw_id"] for q in quarantine if q["reason_code"] == cases_module.RULE}
            quarantined = {q["raw_id"] for q in quarantine if q["reason_code"] != "DUPLICATE"}
            title = rules_catalogue.rule(cases_module.RULE)["title"]
            quarantine = quarantine + [_quarantine_row(by_id.loc[r], source_kind, cases_module.RULE, title, now)
                                       for r in shared if r not in marked]
            flags = [f for f in flags if f["raw_id"] not in set(shared)]
            s = stats["case"]
            s["published"] = len(published_cases)
            s["quarantined"] = s.get("quarantined", 0) + len(set(shared) - quarantined)
            stats["quarantined"] += len(set(shared) - quarantined)
            frames = {**frames, "case": published_cases}
        for record_type, (table, _, _) in FACTS.items():
            df = frames.get(record_type)
            if df is not None and not df.empty:
                recs = df.astype(object).where(df.notna(), None).to_dict("records")
                for i in range(0, len(recs), 5000):
                    conn.execute(table.insert(), recs[i:i + 5000])
        for tbl, recs in ((dq_quarantine, quarantine), (dq_flag, flags)):
            for i in range(0, len(recs), 5000):
                conn.execute(tbl.insert(), recs[i:i + 5000])
        conn.execute(wh_partition.delete().where(wh_partition.c.source_kind == source_kind,
                                                 wh_partition.c.partition_key == key))
        if built is not None:
            conn.execute(wh_partition.insert().values(
                source_kind=source_kind, partition_key=key, fingerprint=fingerprint, rows=rows,
                stats=json.dumps(stats), consolidated_at=now, run_id=run_id))
        if stale:
            conn.execute(wh_partition.delete().where(wh_partition.c.source_kind == source_kind,
                                                     wh_partition.c.partition_key.in_(stale)))
    log.info("%s %s: %s", source_kind, key, json.dumps(stats) if built is not None else "withdrawn")
    return stale


def partition_deletes(source_kind: str, key: str) -> list[sa.Delete]:
    """The statements that remove partition `key`'s published rows (facts, quarantine,
    flags) before it is published again: by raw id, through the tables' raw_id indexes
    (warehouse.schema), so their cost does not grow with the rest of history."""
    ids = partitions.raw_ids_in(source_kind, key)
    tables = [table for table, _, _ in FACTS.values()] + [dq_quarantine, dq_flag]
    return [t.delete().where(t.c.source_kind == source_kind, t.c.raw_id.in_(ids)) for t in tables]


def _kind_stats(engine: sa.Engine, source_kind: str, rejected: int, rebuilt: list[str]) -> dict:
    """The counts of every published partition of the kind, added up."""
    total: dict = {"partitions": 0, "partitions_rebuilt": sorted(set(rebuilt)), "batches_rejected_by_audit": rejected}
    with engine.connect() as conn:
        for (raw,) in conn.execute(sa.select(wh_partition.c.stats).where(wh_partition.c.source_kind == source_kind)):
            total["partitions"] += 1
            for k, v in json.loads(raw or "{}").items():
                if isinstance(v, dict):
                    sub = total.setdefault(k, {})
                    for kk, vv in v.items():
                        sub[kk] = sub.get(kk, 0) + vv
                else:
                    total[k] = total.get(k, 0) + v
    return total
