"""Generate the simulated source systems of a province (or several) and their ground truth.

    python -m simulators.generate --out DIR --seed 42 --start 2021-07-01 --end 2026-11-24 \\
        [--province 48 | --provinces 01,48 | --provinces all] [--size sample|province|national] \\
        [--districts 001,002] [--communes-per-district N] [--only city] [--workers 2] [--no-defects]

Writes under DIR (under DIR/<province code>/ each when several provinces are asked for,
with DIR/manifest.json over them; docs/simulated-sources.md):

    commune_inbox/<year>/<code>_<slug>_<year>.xlsx   commune registers (contract §1)
    district_db/<code>.sqlite                        district databases (contract §2)
    city_service/city.sqlite                         store of the city JSON service (§3)
    ground_truth.sqlite                              what a correct pipeline must count
    manifest.json                                    seed, dates, counts per source
    defects.csv                                      the defects in the sources (simulators.defects)

The same seed and dates give byte-identical files, whatever the number of workers.
"""
from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import multiprocessing
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from simulators import calendar as C
from simulators import defects as D
from simulators.city_store import write_city
from simulators.core import (
    CAL_END,
    CAL_START,
    LAST_LEGACY,
    Rng,
    Unit,
    all_units,
    configured_province,
    new_commune_predecessors,
    province_key,
    province_units,
    select_units,
    simulating,
    unit_slots,
    use_province,
)
from simulators.defects import REGISTER_ROW_DEFECTS
from simulators.district_db import SCHEMA, write_district
from simulators.model import CALIBRATED_PROVINCE, CALIBRATION, simulate
from simulators.population import REFERENCE_PROVINCE
from simulators.qlkntc import deliver as deliver_qlkntc
from simulators.registers import PETITION_SHEET, RECEPTION_SHEET, book_parts, carries_tt06, write_book
from simulators.sizes import SIZES
from simulators.sizes import plan as size_plan
from simulators.skip_level import lower_row, skip_plan, skipped_level_rows
from simulators.truth import truth_progress, write_truth
from simulators.vocabulary import GROUP_MIN, REGULAR

OUTPUTS = ("commune_inbox", "district_db", "city_service", "ground_truth.sqlite", "manifest.json", "defects.csv")


# --------------------------------------------------------------------------- tasks
def _commune_groups(communes: tuple[Unit, ...]) -> list[tuple[Unit, ...]]:
    """Communes that share a workbook name: 23 Hà Nội wards kept both their code and
    their name in 2025, so their 2025 register holds the legacy unit's rows (to 30/6)
    and the new unit's (from 1/7) in one file, as a continuing register would."""
    groups: dict[tuple[str, str], list[Unit]] = {}
    for u in communes:
        groups.setdefault((u.code, u.slug), []).append(u)
    return [tuple(sorted(g, key=lambda u: u.valid_from)) for _, g in sorted(groups.items())]


def _run_task(task: tuple) -> dict:
    """One source (city, one district, or one group of communes); runs in a worker."""
    kind, keys, seed, start, end, out, with_defects, province = task
    use_province(province)
    out = Path(out)
    units = [all_units()[k] for k in keys]
    spikes = D.outlier_plan(seed) if with_defects else {}
    pii: set = set()
    res = {"kind": kind, "keys": keys, "gt_rec": [], "gt_pet": [], "gt_case": [], "gt_cal": [], "files": 0,
           "rows": collections.Counter(), "roles": collections.Counter(), "unit_months": 0,
           "defects": [], "submissions": [], "skip_higher": [], "skip_lower": []}
    if kind == "city":
        sim = simulate(units[0], seed, start, end)
        path = out / "city_service" / "city.sqlite"
        res["gt_rec"], res["gt_pet"], res["gt_case"] = write_city(path, sim, start, end, pii, defects=res["defects"],
                                                                  inject=with_defects, seed=seed,
                                                                  skips=res["skip_higher"])
        res["gt_cal"] = C.write_city_calendar(path, units[0], seed, end)
        res["files"] = 1
        _count_store(path, res["rows"])
        _roles(sim, res, start, end)
    elif kind == "district":
        sim = simulate(units[0], seed, start, min(end, LAST_LEGACY), spike=spikes.get(units[0].key))
        path = out / "district_db" / f"{units[0].code}.sqlite"
        if sim is None:          # --start after the district level ended: an empty database

            path.unlink(missing_ok=True)
            with sqlite3.connect(path) as con:
                con.executescript(SCHEMA)
        else:
            inject = with_defects and units[0].code in D.defect_districts(seed)
            res["gt_rec"], res["gt_pet"], res["gt_case"] = write_district(
                path, sim, start, end, pii, defects=res["defects"], inject=inject, seed=seed,
                skips=res["skip_higher"])
            _roles(sim, res, start, min(end, LAST_LEGACY))
            res["gt_cal"] = C.write_district_calendar(path, units[0], seed, end)
        res["files"] = 1
        _count_store(path, res["rows"])
    else:
        plan = D.file_plan(seed) if with_defects else D.FilePlan({}, {}, {})
        parts: dict[str, list] = {}
        for u in units:
            sim = simulate(u, seed, start, end, spike=spikes.get(u.key))
            if sim is None:
                continue
            _roles(sim, res, start, end)
            for name, part in book_parts(sim, start, end).items():
                parts.setdefault(name, []).append(part)
        for name in sorted(parts):
            year = int(name.rsplit("_", 1)[1][:4])
            code = parts[name][-1].unit.code
            if name in plan.missing:          # never delivered: nothing of it to count
                res["submissions"].append((code, "commune_register", year, name, None, None, 1))
                continue
            folder = out / "commune_inbox" / str(year)
            folder.mkdir(parents=True, exist_ok=True)
            encoding = plan.legacy.get(name)
            cal = C.book_rows([p.unit for p in parts[name]], year, seed, end)
            recs, pets = write_book(folder / name, parts[name], seed, end, pii, defects=res["defects"],
                                    inject=with_defects, encoding=encoding, calendar=cal)
            res["gt_cal"] += C.register_truth(name, cal, bool(encoding))
            delivered, late = D.delivery(seed, name, parts[name][0].first,
                                         D.closes_on([p.unit for p in parts[name]], year), end,
                                         late_share=D.LATE_SHARE if with_defects else 0.0)
            os.utime(folder / name, (delivered.timestamp(), delivered.timestamp()))
            res["submissions"].append((code, "commune_register", year, name, delivered.isoformat(), int(late), 0))
            res["files"] += 1
            if encoding:
                res["defects"].append(D.defect("legacy_encoding", "commune_register", name,
                                               f"commune_inbox/{year}/{name}", D.COUNTED, detail=encoding))
            if name in plan.broken:
                res["defects"].append(_broken_delivery(plan.broken[name], folder, name, parts[name], seed, end,
                                                       delivered, pii))
                res["files"] += 1
            cutoff = dt.datetime.combine(end, dt.time(23, 59, 59))
            for unit, rec, ref in recs:
                sitting = f"{unit.code}:{rec.date.isoformat()}:{rec.receiver}" if rec.mode != REGULAR else None
                res["gt_rec"].append(("commune_register", unit.code, rec.date.isoformat(), rec.mode, rec.receiver,
                                      sitting, rec.people, rec.kind, f"{unit.code}:{rec.case.ref}", rec.visit,
                                      unit.key, ref))
                plant = rec.case.planted
                if plant is not None and rec.date == plant.opened:     # the commune side of a vượt cấp
                    _, resolved = rec.case.status_at(cutoff)
                    res["skip_lower"].append(lower_row(plant, unit, f"{unit.code}:{rec.case.ref}", resolved, ref))
            for unit, pet, ref in pets:
                prog = pet.progress(cutoff)
                reply = pet.reply_received_at(end)
                res["gt_pet"].append(("commune_register", unit.code, pet.date.isoformat(), pet.channel, pet.kind,
                                      pet.signers, f"{unit.code}:{pet.case.ref}", pet.field, int(pet.eligible),
                                      None if pet.competent is None else int(pet.competent), pet.handling,
                                      None if reply is None else int(reply), prog["resolution"],
                                      prog["resolved_date"].isoformat() if prog["resolved_date"] else None,
                                      unit.key, ref, *truth_progress(prog, carries_tt06(name))))
            res["rows"]["register_reception_rows"] += len(recs)
            res["rows"]["register_petition_rows"] += len(pets)
    res["pii"] = sorted(pii)
    return res


def _broken_delivery(kind: str, folder: Path, name: str, parts: list, seed: int, end: dt.date,
                     delivered: dt.datetime, pii: set) -> tuple:
    """An extra, unreadable delivery of a book whose real version is also in the inbox
    (simulators.defects.BROKEN_FILES): written beside it, delivered 1–72 hours later."""
    stem, year = name[:-len(".xlsx")].rsplit("_", 1)
    suffix, outcome, rule = D.BROKEN_FILES[kind]
    real = (folder / name).read_bytes()
    if kind == "file_name_invalid":                      # the year left out of the name
        extra, detail = f"{stem}.xlsx", f"copy of {name}, year missing from the name"
        (folder / extra).write_bytes(real)
    else:
        extra = f"{stem}{suffix}_{year}.xlsx"
        if kind == "file_not_spreadsheet":               # a web page saved under .xlsx
            detail = "HTML page named .xlsx"
            cols = "".join(f"<td>{h}</td>" for h in ("STT", "Ngày tiếp", "Phân loại", "Số người"))
            (folder / extra).write_text(
                f'<html><head><meta charset="utf-8"><title>{RECEPTION_SHEET} {year}</title></head><body>'
                f"<h1>{RECEPTION_SHEET} / {PETITION_SHEET}</h1><table><tr>{cols}</tr></table></body></html>\n",
                encoding="utf-8")
        elif kind == "file_truncated":                   # cut off in transfer
            detail = f"first {len(real) // 2} of {len(real)} bytes of {name}"
            (folder / extra).write_bytes(real[:len(real) // 2])
        else:                                            # columns_missing: a required header renamed
            field, header = D.RENAMED_COLUMN
            detail = f"header of {field} written '{header}'"
            write_book(folder / extra, parts, seed, end, pii, rename=D.RENAMED_COLUMN)
    t = min(delivered + dt.timedelta(hours=Rng(seed, "delivery-extra", extra).randint(1, 72)),
            dt.datetime.combine(end, dt.time(23, 59, 59), tzinfo=delivered.tzinfo))
    os.utime(folder / extra, (t.timestamp(), t.timestamp()))
    return D.defect(kind, "commune_register", extra, f"commune_inbox/{folder.name}/{extra}", outcome, rule,
                    detail=detail)


def _roles(sim, res: dict, start: dt.date, end: dt.date) -> None:
    """Counts for the rates summary: noise records by role, unit-months covered."""
    lo, hi = max(start, sim.first), min(end, sim.last)
    if lo <= hi:
        res["unit_months"] += (hi.year - lo.year) * 12 + hi.month - lo.month + 1
    for r in sim.receptions:
        if lo <= r.date <= hi:
            res["roles"][f"reception_{r.role}"] += 1
            if r.role == "truth" and len(r.events) > 1:
                res["roles"]["reception_versions_gt1"] += 1
    for p in sim.petitions:
        if lo <= p.date <= hi:
            res["roles"][f"petition_{p.role}"] += 1


def _count_store(path: Path, counter: collections.Counter) -> None:
    with sqlite3.connect(path) as con:
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            counter[f"{table}_rows"] += con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            if table in ("receptions", "petitions", "cases"):
                counter[f"{table}_ids"] += con.execute(f"SELECT COUNT(DISTINCT id) FROM {table}").fetchone()[0]


def co_denouncer_cases(gt_rec: list) -> dict[str, int]:
    """Per source kind: tố cáo cases received from two or more citizens on one day at
    one unit (co-denouncers, docs/simulated-sources.md), from the ground truth."""
    days = collections.Counter((r[0], r[8], r[2]) for r in gt_rec if r[7] == "TC")
    return dict(sorted(collections.Counter(src for (src, _, _), n in days.items() if n > 1).items()))


# --------------------------------------------------------------------------- run
def generate(out_dir, seed: int = 42, start: dt.date = dt.date(2021, 7, 1), end: dt.date | None = None,
             districts: list[str] | None = None, communes_per_district: int | None = None,
             only: list[str] | str | None = None, workers: int | None = None, verbose: bool = False,
             defects: bool = True, province: str | None = None) -> dict:
    """Write the simulated sources and the ground truth of `province` (its code; default
    the configured one, Hà Nội) under out_dir; returns the manifest. `only` limits the
    sources (city, districts, communes); `districts` and `communes_per_district` limit
    the units. `defects` (default on) adds the documented
    defects, missing and late register books and the outlier quarter
    (simulators.defects); off, every book is delivered on time and nothing is broken.
    Same arguments → byte-identical files."""
    with simulating(province) as code:
        return _generate(out_dir, seed, start, end, districts, communes_per_district, only, workers, verbose,
                         defects, code)


def _generate(out_dir, seed: int, start: dt.date, end: dt.date | None, districts: list[str] | None,
              communes_per_district: int | None, only: list[str] | str | None, workers: int | None, verbose: bool,
              defects: bool, province: str) -> dict:
    end = end or dt.date.today()
    if isinstance(only, str):
        only = [x.strip() for x in only.split(",") if x.strip()]
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sel = select_units(districts, communes_per_district, only)
    for name in OUTPUTS:                       # a run replaces everything a run writes
        p = out / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    if sel.city:
        (out / "city_service").mkdir(parents=True)
    if sel.districts:
        (out / "district_db").mkdir(parents=True)
    if sel.communes:
        (out / "commune_inbox").mkdir(parents=True)

    # Reference data (and the vượt cấp plan) is loaded before the workers fork, so they inherit it.
    all_units(), unit_slots(), new_commune_predecessors(), skip_plan(seed)
    tasks = []
    if sel.city:
        tasks.append(("city", (province_key(),), seed, start, end, str(out), defects, province))
    tasks += [("district", (u.key,), seed, start, end, str(out), defects, province) for u in sel.districts]
    tasks += [("communes", tuple(u.key for u in g), seed, start, end, str(out), defects, province)
              for g in _commune_groups(sel.communes)]
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if len(tasks) > 8 else 1
    if workers > 1:
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
        with ctx.Pool(workers) as pool:
            results = list(pool.imap(_run_task, tasks, chunksize=1))   # imap keeps task order
    else:
        results = [_run_task(t) for t in tasks]

    gt_rec = [row for r in results for row in r["gt_rec"]]
    gt_pet = [row for r in results for row in r["gt_pet"]]
    gt_case = [row for r in results for row in r["gt_case"]]
    gt_cal = [row for r in results for row in r["gt_cal"]]
    pii = sorted({(k, v) for r in results for k, v in r["pii"]})
    found = sorted((d for r in results for d in r["defects"]), key=D.sort_key)
    submissions = sorted((s for r in results for s in r["submissions"]), key=lambda s: (s[2], s[3]))
    outliers = _outliers(seed, sel, start, end) if defects else []
    skipped = skipped_level_rows([row for r in results for row in r["skip_higher"]],
                                 [row for r in results for row in r["skip_lower"]])
    manifest = _manifest(seed, start, end, sel, districts, communes_per_district, only, results, gt_rec, gt_pet,
                         gt_case, pii)
    manifest["ground_truth"]["co_denouncer_cases"] = co_denouncer_cases(gt_rec)
    manifest["ground_truth"]["gt_skipped_level"] = dict(sorted(collections.Counter(
        f"{r[0]}/{r[3]}" for r in skipped).items()))
    manifest["defects"] = _defect_summary(defects, found, results, submissions, outliers)
    manifest["reception_calendar"] = _calendar_summary(seed, sel, end, gt_cal)
    write_truth(out / "ground_truth.sqlite", gt_rec, gt_pet, gt_case, pii,
                {"seed": seed, "start": start.isoformat(), "end": end.isoformat(), "defects": int(defects)},
                defects=found, submissions=submissions, outliers=outliers, skipped_level=skipped,
                calendar=gt_cal)
    deliver_qlkntc(out, seed, sel, start, end, defects, found=found, manifest=manifest)
    (out / "defects.csv").write_text(D.to_csv(found), encoding="utf-8")
    if province != REFERENCE_PROVINCE:        # (Hà Nội's manifest stays as it always was)
        manifest["province"] = {"code": province, "name": all_units()[province_key()].name}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if verbose:
        print(rates_summary(manifest))
        print(f"generated in {time.perf_counter() - t0:.1f} s ({workers} worker(s)) under {out}")
    return manifest


def generate_provinces(out_dir, provinces: tuple[str, ...], seed: int = 42, start: dt.date = dt.date(2021, 7, 1),
                       end: dt.date | None = None, districts: dict[str, list[str] | None] | None = None,
                       communes_per_district: int | None = None, only: list[str] | str | None = None,
                       workers: int | None = None, verbose: bool = False, defects: bool = True) -> dict:
    """Each province's sources and truth under out_dir/<code>/ (:func:`generate`), then
    out_dir/manifest.json: per province its units, records, seconds and peak memory, and
    the totals. `districts`: per province code, the districts to write (None: all).

    Provinces run `workers` at a time (default 2), each in a process of its own with one
    worker — a province's serial steps (ground truth, 06/QLKNTC workbooks) would leave
    a core idle —, a fresh process per province, so memory is that of the largest
    provinces, never of the country. The files do not depend on `workers`."""
    end = end or dt.date.today()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    jobs = [(str(out / code), code, seed, start, end, (districts or {}).get(code), communes_per_district, only,
             defects) for code in provinces]
    workers = min(workers or min(2, os.cpu_count() or 1), len(jobs))
    per_province = {}
    if workers > 1:
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
        with ctx.Pool(workers, maxtasksperchild=1) as pool:
            done = pool.imap_unordered(_province_job, jobs, chunksize=1)
            for code, summary in done:
                per_province[code] = summary
                if verbose:
                    _print_province(code, summary)
    else:
        for job in jobs:
            code, summary = _province_job(job)
            per_province[code] = summary
            if verbose:
                _print_province(code, summary)
    per_province = dict(sorted(per_province.items()))
    totals = {k: round(sum(p[k] for p in per_province.values()), 1) for k in (
        "district_databases", "communes", "receptions", "petitions", "cases", "source_rows", "cpu_seconds")}
    manifest = {"generator": "simulators.generate", "seed": seed, "start": start.isoformat(), "end": end.isoformat(),
                "provinces": per_province, "totals": totals, "seconds": round(time.perf_counter() - t0, 1),
                "workers": workers, "peak_rss_mib": max(p["peak_rss_mib"] for p in per_province.values())}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if verbose:
        print(f"{len(provinces)} province(s): {totals['receptions'] + totals['petitions']:,} records, "
              f"{totals['source_rows']:,} source rows, in {manifest['seconds']} s ({workers} at a time; "
              f"largest province {manifest['peak_rss_mib']} MiB) under {out}")
    return manifest


def _province_job(job: tuple) -> tuple[str, dict]:
    """One province of :func:`generate_provinces`, in one process: (code, its summary)."""
    out, code, seed, start, end, districts, communes_per_district, only, defects = job
    t = time.perf_counter()
    m = generate(out, seed=seed, start=start, end=end, districts=districts, communes_per_district=communes_per_district,
                 only=only, workers=1, defects=defects, province=code)
    gt = m["ground_truth"]
    return code, {
        "name": province_units(code)[f"province:{code}"].name,
        "district_databases": m["selection"]["district_databases"], "communes": m["selection"]["communes"],
        "receptions": sum(gt["gt_reception"].values()), "petitions": sum(gt["gt_petition"].values()),
        "cases": sum(gt["gt_case"].values()), "source_rows": _source_rows(m),
        "seconds": round(time.perf_counter() - t, 1),
        # the process's own CPU time and peak (KiB on Linux): one province, as each runs in
        # a fresh process; CPU seconds tell the cost on a machine shared with other jobs
        "cpu_seconds": round(_cpu_seconds(), 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _print_province(code: str, p: dict) -> None:
    print(f"{code} {p['name']}: {p['receptions'] + p['petitions']:,} records ({p['source_rows']:,} source rows) "
          f"in {p['seconds']} s ({p['cpu_seconds']} s of CPU), peak {p['peak_rss_mib']} MiB", flush=True)


def _source_rows(manifest: dict) -> int:
    """Rows of receptions and petitions as the sources store them: register rows,
    district database rows, city service versions (drafts, deleted and corrected
    versions included)."""
    rows = {k: v.get("rows", {}) for k, v in manifest["sources"].items()}
    return sum(rows.get("commune_registers", {}).get(k, 0) for k in ("register_reception_rows",
                                                                      "register_petition_rows")) + \
        sum(rows.get("district_databases", {}).get(k, 0) for k in ("tiep_cong_dan_rows", "don_thu_rows")) + \
        sum(rows.get("city_service", {}).get(k, 0) for k in ("receptions_rows", "petitions_rows"))


def _calendar_summary(seed: int, sel, end: dt.date, gt_cal: list) -> dict:
    """The manifest's account of the published reception calendars (simulators.calendar):
    days delivered per source and receiver, the communes that send none, the units whose
    calendar leaves a month out."""
    units = ([all_units()[province_key()]] if sel.city else []) + list(sel.districts) + list(sel.communes)
    gaps = {u.key: C.gap_month(u, seed, end) for u in units}
    return {
        "days": dict(sorted(collections.Counter(f"{r[0]}/{r[4]}" for r in gt_cal).items())),
        "missing_units": sorted(u.key for u in units if C.calendar_missing(u, seed) and C.span(u, end)),
        "gap_months": {k: f"{v[0]:04d}-{v[1]:02d}" for k, v in sorted(gaps.items()) if v is not None
                       and not C.calendar_missing(all_units()[k], seed)},
    }


def _outliers(seed: int, sel, start: dt.date, end: dt.date) -> list[tuple]:
    """gt_outlier rows: the spike units of simulators.defects this run writes."""
    written = {u.key: "commune_register" for u in sel.communes} | {u.key: "district_db" for u in sel.districts}
    out = []
    for key, sp in sorted(D.outlier_plan(seed).items()):
        if key in written and sp.first <= end and sp.last >= start:
            u = all_units()[key]
            out.append((written[key], u.code, key, u.name, sp.quarter, sp.first.isoformat(), sp.last.isoformat(),
                        sp.factor))
    return out


def _defect_summary(enabled: bool, found: list, results: list, submissions: list, outliers: list) -> dict:
    """The manifest's account of the defects: counts by kind and outcome, the shares of
    register row defects, submissions, outliers."""
    by_kind = collections.Counter((d[1], d[0]) for d in found)
    rows = collections.Counter()
    for r in results:
        rows.update(r["rows"])
    sheet_rows = {"reception": rows["register_reception_rows"], "petition": rows["register_petition_rows"]}
    shares = {}
    for kind, (share, sheets, _, _) in REGISTER_ROW_DEFECTS.items():
        n = by_kind.get(("commune_register", kind), 0)
        base = sum(sheet_rows[s] for s in sheets)
        shares[kind] = {"count": n, "share_of_rows": round(n / base, 5) if base else None, "target": share}
    late = [s for s in submissions if s[5]]
    return {
        "enabled": enabled,
        "by_source_and_kind": {f"{k[0]}/{k[1]}": v for k, v in sorted(by_kind.items())},
        "by_outcome": dict(sorted(collections.Counter(d[7] for d in found).items())),
        "register_row_shares": shares,
        "submissions": {"books_expected": len(submissions), "delivered": sum(1 for s in submissions if not s[6]),
                        "late": len(late), "missing": [s[3] for s in submissions if s[6]],
                        "late_books": [s[3] for s in late]},
        "outliers": [dict(zip(("source_kind", "unit_code", "unit_key", "name", "quarter", "from", "to", "factor"), o))
                     for o in outliers],
    }


def _manifest(seed, start, end, sel, districts, communes_per_district, only, results, gt_rec, gt_pet, gt_case, pii):
    by_kind: dict[str, dict] = {}
    for r in results:
        k = {"city": "city_service", "district": "district_databases", "communes": "commune_registers"}[r["kind"]]
        d = by_kind.setdefault(k, {"files": 0, "unit_months": 0, "rows": collections.Counter(),
                                   "records": collections.Counter()})
        d["files"] += r["files"]
        d["unit_months"] += r["unit_months"]
        d["rows"].update(r["rows"])
        d["records"].update(r["roles"])
    sources = {k: {"files": v["files"], "unit_months": v["unit_months"], "rows": dict(sorted(v["rows"].items())),
                   "records_by_role": dict(sorted(v["records"].items()))} for k, v in sorted(by_kind.items())}
    gt = {}
    for name, rows in (("gt_reception", gt_rec), ("gt_petition", gt_pet), ("gt_case", gt_case)):
        gt[name] = dict(sorted(collections.Counter(r[0] for r in rows).items()))
    recs = collections.defaultdict(lambda: {"records": 0, "people": 0, "group_records": 0, "group_people": 0,
                                            "repeat": 0})
    kinds = collections.defaultdict(collections.Counter)
    for r in gt_rec:
        s = recs[(r[0], r[3])]
        s["records"] += 1
        s["people"] += r[6]
        s["repeat"] += r[9] == "nhieu_lan"
        kinds[r[0]][r[7]] += 1
        if r[6] >= GROUP_MIN:
            s["group_records"] += 1
            s["group_people"] += r[6]
    calib = {"regular_records": 0, "regular_people": 0, "regular_group_records": 0, "regular_group_people": 0,
             "periodic_records": 0, "periodic_people": 0, "periodic_group_records": 0}
    for r in gt_rec:
        if r[0] == "city_service" and CAL_START.isoformat() <= r[2] <= CAL_END.isoformat():
            p = "regular" if r[3] == REGULAR else "periodic"
            calib[f"{p}_records"] += 1
            calib[f"{p}_people"] += r[6]
            if r[6] >= GROUP_MIN:
                calib[f"{p}_group_records"] += 1
                if p == "regular":
                    calib["regular_group_people"] += r[6]
    return {
        "generator": "simulators.generate", "seed": seed, "start": start.isoformat(), "end": end.isoformat(),
        "selection": {"city": sel.city, "districts": districts, "communes_per_district": communes_per_district,
                      "only": only, "district_databases": len(sel.districts), "communes": len(sel.communes)},
        "sources": sources,
        "ground_truth": gt,
        "reception_truth": {f"{k[0]}/{k[1]}": v for k, v in sorted(recs.items())},
        "reception_kinds": {k: dict(sorted(v.items())) for k, v in sorted(kinds.items())},
        "pii_values": dict(sorted(collections.Counter(k for k, _ in pii).items())),
        "calibration": {"window": [CAL_START.isoformat(), CAL_END.isoformat()], "expected": CALIBRATION,
                        "ground_truth": calib} if sel.city and province_key() == CALIBRATED_PROVINCE else None,
    }


def rates_summary(manifest: dict) -> str:
    """Per-source rates of the generated truth (per unit and month) and noise shares."""
    lines = ["source               unit-months  receptions/unit-month  petitions/unit-month  "
             "people/reception  đoàn %  repeat %   noise (DB/API records, share of truth)"]
    recs = manifest["reception_truth"]
    for src, key in (("commune_register", "commune_registers"), ("district_db", "district_databases"),
                     ("city_service", "city_service")):
        s = manifest["sources"].get(key)
        if not s or not s["unit_months"]:
            continue
        um = s["unit_months"]
        rows = [v for k, v in recs.items() if k.startswith(src + "/")]
        n = sum(v["records"] for v in rows)
        people = sum(v["people"] for v in rows)
        groups = sum(v["group_records"] for v in rows)
        repeat = sum(v["repeat"] for v in rows)
        pets = manifest["ground_truth"]["gt_petition"].get(src, 0)
        roles = s["records_by_role"]
        truth = roles.get("reception_truth", 0) or 1
        noise = ", ".join(f"{r}={roles.get('reception_' + r, 0) / truth:.1%}" for r in ("draft", "deleted", "duplicate"))
        noise += f", corrected/draft-first={roles.get('reception_versions_gt1', 0) / truth:.1%}"
        if src == "commune_register":
            noise = "registers: no status; duplicated rows, blank and total rows"
        lines.append(f"{src:<20} {um:>11}  {n / um:>21.1f}  {pets / um:>20.1f}  {people / max(n, 1):>16.2f}  "
                     f"{groups / max(n, 1):>6.1%}  {repeat / max(n, 1):>8.1%}   {noise}")
    cal = manifest.get("calibration")
    if cal:
        lines.append("city calibration 01/07/2021–28/02/2025: " + ", ".join(
            f"{k}={cal['ground_truth'][k]} (expected {v})" for k, v in cal["expected"].items()))
    d = manifest.get("defects")
    if d:
        lines.append(f"defects ({'on' if d['enabled'] else 'off'}): " + ", ".join(
            f"{k}={v}" for k, v in d["by_outcome"].items()) + "; " + ", ".join(
            f"{k}={v}" for k, v in d["by_source_and_kind"].items()))
        sub = d["submissions"]
        if sub["books_expected"]:
            lines.append(f"register books: {sub['books_expected']} expected, {sub['delivered']} delivered, "
                         f"{sub['late']} late, missing: {', '.join(sub['missing']) or 'none'}")
        for o in d["outliers"]:
            lines.append(f"outlier: {o['source_kind']} {o['unit_code']} {o['name']} ×{o['factor']} in {o['quarter']} "
                         f"({o['from']} – {o['to']})")
    return "\n".join(lines)


def _date(s: str) -> dt.date:
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {s!r}") from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simulators.generate", description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output folder (e.g. simulated_sources)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--start", type=_date, default=dt.date(2021, 7, 1))
    ap.add_argument("--end", type=_date, default=None, help="last day (default: today)")
    ap.add_argument("--province", help="the province's national code after 01/07/2025, e.g. 48 "
                                       "(default: the configured one, 01 Hà Nội)")
    ap.add_argument("--provinces", help="comma-separated codes, or 'all': each under OUT/<code>/")
    ap.add_argument("--size", choices=SIZES, default=None,
                    help="sample (a district and two communes a province), province (default), "
                         "national (all 34 provinces)")
    ap.add_argument("--districts", help="comma-separated district codes, e.g. 001,002 (default: all)")
    ap.add_argument("--communes-per-district", type=int, default=None,
                    help="only the first N communes (by code) of each selected district")
    ap.add_argument("--only", help="comma-separated: city, districts, communes (default: all)")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: 2 for large runs)")
    ap.add_argument("--no-defects", action="store_true",
                    help="no injected defects, missing or late books, outlier (docs/simulated-sources.md)")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    if "TMPDIR" not in os.environ and os.access("/dev/shm", os.W_OK):
        # openpyxl writes every worksheet through a scratch file: in memory they cost a
        # third of what they cost on disk (tens of thousands of books nationally)
        tempfile.tempdir = "/dev/shm"
    try:
        districts = [c.strip() for c in a.districts.split(",") if c.strip()] if a.districts else None
        run = size_plan(a.size, a.province, a.provinces, configured_province(), districts, a.communes_per_district)
        if run.per_province_folders:
            generate_provinces(a.out, run.provinces, seed=a.seed, start=a.start, end=a.end, districts=run.districts,
                               communes_per_district=run.communes_per_district, only=a.only, workers=a.workers,
                               verbose=not a.quiet, defects=not a.no_defects)
        else:
            code = run.provinces[0]
            generate(a.out, seed=a.seed, start=a.start, end=a.end, districts=run.districts[code],
                     communes_per_district=run.communes_per_district, only=a.only, workers=a.workers,
                     verbose=not a.quiet, defects=not a.no_defects, province=code)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
