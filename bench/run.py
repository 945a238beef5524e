"""`make bench SCALE=…`: run each pipeline stage on a generated data set into a fresh
warehouse; print, per stage, wall time, rows, rows per second and peak resident memory,
and the ratio of ingestion + validation + consolidation to the read-once floor; write the
figures to ``output/bench/<scale>.json``.

- **One stage per process.** Every stage runs in a fresh (spawned) interpreter, so its
  peak RSS is its own (``ru_maxrss`` of that process), not the high-water mark of the
  stages before it, and nothing is cached from one stage to the next — as in Airflow,
  where every task is a process.
- **The DAGs' code.** Each stage calls the function the Airflow task calls
  (``pipeline.tasks``, ``pipeline.dq``, ``pipeline.reporting``); Airflow's own scheduling
  overhead is not what is measured.
- **The floor.** One stage reads every input once and does nothing else: every sheet of
  every register workbook with calamine, every table of every district database, every
  page of every city-service resource over HTTP. ``floor_ratio`` = (ingestion +
  consolidation, which includes validation) ÷ that floor.
- **Fixed data.** The sources end on ``simulators.core.FIXED_END`` unless told
  otherwise, so the benchmark's work does not grow with the calendar.
- **An incremental day.** Last, the same sources generated one day later are landed and
  consolidated on top: ``incremental_day_seconds``.

Figures depend on the machine; nothing is asserted here (the tests check behaviour).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import httpx
import psutil
from python_calamine import CalamineWorkbook

from connectors import city_service
from core import logs, settings
from pipeline import dq, reporting, tasks
from simulators.city_server import serve_in_thread
from simulators.core import FIXED_END
from simulators.generate import generate, generate_provinces
from simulators.sizes import plan as size_plan

# The scales: arguments of simulators.generate.generate (one province), or, with `size`,
# of a national run (simulators.sizes.plan, generate_provinces) served by a national
# deployment (config/national.yaml). `sample` is one district with two communes (a quick
# check of the benchmark itself); `hanoi` is the demo's data set; `national` the 34
# provinces whole (size class national, ≈ 4.4 M records); `national-sample` the 34
# provinces' size class sample (each its first district with two communes, and its
# service: ≈ 0.45 M records), the national deployment end to end in well under an hour.
SCALES: dict[str, dict] = {
    "sample": {"seed": 7, "districts": ["001"], "communes_per_district": 2},
    "hanoi": {"seed": 42},
    "national": {"seed": 42, "size": "national"},
    "national-sample": {"seed": 42, "size": "sample", "provinces": "all"},
}
NATIONAL_CONFIG = Path(__file__).resolve().parent.parent / "config" / "national.yaml"
INGEST_AND_CONSOLIDATE = ("ingest", "consolidate")
# The groups of stages `--stages` picks from, in the order they run. A run without
# `ingest` keeps the warehouse of the previous run in <work>/<scale>/run (to measure the
# later stages again on the same data) instead of starting from an empty one.
STAGE_GROUPS = ("floor", "ingest", "consolidate", "dq", "reports", "summary", "incremental")
INGEST_TASKS = (("commune registers (.xlsx)", "ingest_commune_registers"), ("district databases", "ingest_districts"),
                ("city service (HTTP)", "ingest_city_service"), ("06/QLKNTC workbooks", "ingest_qlkntc_workbooks"))
CONSOLIDATED_KINDS = ("commune_register", "district_db", "city_service", "qlkntc_workbook")


# ----------------------------------------------------------------------------- stages
# Each runs in a child process and returns (rows, details): plain data only.
def _is_national(kwargs: dict) -> bool:
    return "size" in kwargs


def _generate(out: str, end: str, kwargs: dict) -> tuple[int, dict]:

    if _is_national(kwargs):
        run = size_plan(kwargs["size"], None, kwargs.get("provinces"), "01")
        manifest = generate_provinces(Path(out), run.provinces, seed=kwargs["seed"], end=dt.date.fromisoformat(end),
                                      districts=run.districts, communes_per_district=run.communes_per_district)
        return int(manifest["totals"]["source_rows"]), {"provinces": len(run.provinces)}
    manifest = generate(Path(out), end=dt.date.fromisoformat(end), **kwargs)
    rows = {kind: sum(n for key, n in s.get("rows", {}).items() if key.endswith("_rows"))
            for kind, s in manifest["sources"].items()}
    return sum(rows.values()), {"source_rows": rows}


def _floor(sources: str, base_url: str, token: str, national: bool = False) -> tuple[int, dict]:
    """Read every input once, nothing else: the lower bound of ingestion (of every
    province's sources, and each province's service under /<code>, when `national`)."""

    root = Path(sources)
    rows = {"registers": 0, "district": 0, "city": 0}
    inboxes = sorted(root.glob("*/commune_inbox")) if national else [root / "commune_inbox"]
    for path in sorted(p for inbox in inboxes for p in inbox.rglob("*") if p.suffix.lower() in (".xlsx", ".xls")):
        try:
            wb = CalamineWorkbook.from_path(str(path))
            for name in wb.sheet_names:
                rows["registers"] += len(wb.get_sheet_by_name(name).to_python())
        except Exception:  # noqa: BLE001 - a file ingestion refuses (truncated, not a spreadsheet) is read all the same
            rows["unreadable_files"] = rows.get("unreadable_files", 0) + 1
    for path in sorted(root.glob("*/district_db/*.sqlite" if national else "district_db/*.sqlite")):
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = [t for (t,) in con.execute("select name from sqlite_master where type = 'table'")]
            for t in tables:
                rows["district"] += len(con.execute(f'select * from "{t}"').fetchall())
        finally:
            con.close()
    cfg = settings.get().sources.city_service
    urls = [f"{base_url}/{p.parent.parent.name}" for p in sorted(root.glob("*/city_service/city.sqlite"))] \
        if national else [base_url]
    for url in urls:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            for res in cfg.resources:
                try:
                    for body in city_service.fetch_pages(client, res, None, cfg.page_size,
                                                           city_service.AccessPolicy.from_config(cfg)):
                        rows["city"] += len(body["items"])
                except city_service.ResourceAbsent:
                    pass
    return rows["registers"] + rows["district"] + rows["city"], rows


def _task(name: str, *args) -> tuple[int, dict]:
    """A function of pipeline.tasks, as its Airflow task runs it."""

    if name == "ingest_districts":
        out = [tasks.ingest_district(code) for code in tasks.list_district_codes()]
        return sum(o["rows"] for o in out), {"batches": sum(o["batches"] for o in out)}
    if name == "ingest_city_service":        # one task per province's service, as the DAG maps them
        out = [tasks.ingest_city_service(code) for code in tasks.list_city_services()]
        return sum(o["rows"] for o in out), {"batches": sum(o["batches"] for o in out)}
    result = getattr(tasks, name)(*args)
    if name == "consolidate":
        stats = result["stats"]
        return int(stats.get("raw_rows", 0)), {"published": stats.get("published"),
                                               "quarantined": stats.get("quarantined")}
    if name == "prepare_warehouse":
        return int(result["units"]), {}
    return int(result.get("rows", 0)), {"batches": result.get("batches")}


def _assess(spec: dict) -> tuple[int, dict]:

    period = reporting.resolve_periods(**spec)[0]
    r = dq.assess(period)
    return int(r["units_expected"]), {"period": period["key"]}


def _report_set(spec: dict, level: str, forms: list[str] | None, scope_kinds: tuple[str, ...],
                workers: int = 1) -> tuple[int, dict]:
    """The level's report set as report_periodic maps it (reporting.report_batches: a
    batch per province in a national deployment), the batches shared by `workers`
    processes at once — as the mapped tasks are by that many Celery workers."""
    period = reporting.resolve_periods(**spec)[0]
    batches = [(period, b["level"], forms, scope_kinds, b["province"]) for b in reporting.report_batches([level])]
    if workers > 1 and len(batches) > 1:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_report_batch, batches))
    else:
        results = [_report_batch(b) for b in batches]
    issued = sum(int(r["issued"]) for r in results)
    return issued, {"period": period["key"], "level": level, "batches": len(batches),
                    "workers": min(workers, len(batches)), "withheld": sum(len(r["withheld"]) for r in results),
                    "workbooks": issued}


def _report_batch(args: tuple) -> dict:
    period, level, forms, scope_kinds, province = args
    return reporting.build_reports(period, level, forms=forms, scope_kinds=scope_kinds, province=province)


def _summary(end: str) -> tuple[int, dict]:

    r = reporting.build_summary(reporting.summary_range(today=end))
    return len(r["files"]), {}


def _in_child(fn, args: tuple) -> tuple[int, dict, float, int]:
    t0 = time.perf_counter()
    rows, details = fn(*args)
    seconds = time.perf_counter() - t0
    # A stage that runs its tasks on worker processes (the report sets): the largest of
    # them counts, as each is one Airflow task.
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return rows, details, seconds, peak * 1024


class Bench:
    def __init__(self) -> None:
        self.stages: list[dict] = []
        self._ctx = get_context("spawn")

    def stage(self, name: str, fn, *args) -> dict:
        """Run `fn(*args)` alone in a fresh process; record and print its figures."""
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=1, mp_context=self._ctx) as pool:
            rows, details, seconds, peak = pool.submit(_in_child, fn, args).result()
        wall = time.perf_counter() - t0          # with the interpreter's start-up
        entry = {"name": name, "seconds": round(seconds, 2), "rows": rows,
                 "peak_rss_mib": round(peak / 2**20, 1), "process_seconds": round(wall, 2), **details}
        self.stages.append(entry)
        rate = f"{rows / seconds:,.0f}" if rows and seconds else "-"
        print(f"{name:44} {seconds:8.1f} s {entry['peak_rss_mib']:8.0f} MiB {rows:>10,} {rate:>10}/s", flush=True)
        return entry

    def seconds(self, *prefixes: str) -> float:
        return sum(s["seconds"] for s in self.stages if s["name"].startswith(prefixes))


def main(argv: list[str] | None = None) -> int:

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", default=os.environ.get("SCALE") or "hanoi", choices=sorted(SCALES))
    ap.add_argument("--sources", help="the generated sources (default output/bench/<scale>/sources; "
                                      "generated when missing)")
    ap.add_argument("--work", default="output/bench", help="where the warehouse, reports and JSON go")
    ap.add_argument("--end", default=FIXED_END.isoformat(),
                    help="the sources' last day when they are generated (default: the tests' fixed end)")
    ap.add_argument("--reports", choices=("all", "city", "none"), default="all",
                    help="the latest quarter's report set for every level (all), the city's only, or none")
    ap.add_argument("--stages", default=",".join(STAGE_GROUPS),
                    help=f"comma-separated groups of stages to run, of {', '.join(STAGE_GROUPS)} (default: all); "
                         "without ingest, the warehouse of the previous run is reused")
    ap.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS") or 2),
                    help="processes sharing a level's report batches at once, as that many Celery workers share "
                         "report_periodic's mapped tasks (default 2, the machine's cores in docs/performance.md)")
    args = ap.parse_args(argv)
    stages = [g.strip() for g in args.stages.split(",") if g.strip()]
    unknown = sorted(set(stages) - set(STAGE_GROUPS))
    if unknown:
        ap.error(f"unknown stage group(s) {', '.join(unknown)}: choose from {', '.join(STAGE_GROUPS)}")
    gen_kwargs = SCALES[args.scale]
    national = _is_national(gen_kwargs)

    logs.setup()
    work = (Path(args.work) / args.scale).resolve()
    sources = Path(args.sources).resolve() if args.sources else work / "sources"
    run_dir = work / "run"
    if "ingest" in stages:
        if run_dir.exists():
            subprocess.run(["rm", "-rf", str(run_dir)], check=True)
        run_dir.mkdir(parents=True)
    elif not (run_dir / "warehouse.sqlite").exists():
        print(f"no warehouse in {run_dir} to reuse: run the ingest stages first", file=sys.stderr)
        return 2
    # Children inherit the environment at spawn: everything they need is set here.
    os.environ.update({
        "TCD_WAREHOUSE_URL": f"sqlite:///{run_dir / 'warehouse.sqlite'}",
        "TCD_PATH_REPORTS": str(run_dir / "reports"),
        "TCD_PATH_DATA_QUALITY": str(run_dir / "data_quality"),
        "TCD_PATH_LOGS": str(run_dir / "logs"),
        "TCD_COMMUNE_INBOX": str(sources if national else sources / "commune_inbox"),
        "TCD_DISTRICT_DB_DIR": str(sources if national else sources / "district_db"),
    })
    if national:        # every province in one warehouse, with the national level above them
        os.environ["TCD_CONFIG"] = str(NATIONAL_CONFIG)
    os.environ.setdefault("TCD_PSEUDONYM_KEY", "bench-only-key-not-secret-0123456789")
    token = "bench-token"
    os.environ["TCD_CITY_API_TOKEN"] = token
    # The city service is the one served below (TCD_CITY_API_URL), not a connection
    # the environment may define for the demo's server (scripts/env.sh).
    os.environ.pop("AIRFLOW_CONN_TCD_CITY_API", None)

    b = Bench()
    print(f"scale {args.scale}: sources {sources}\n")
    print(f"{'stage':44} {'time':>10} {'peak RSS':>12} {'rows':>10} {'rows/s':>12}")
    manifest = sources / "manifest.json"
    if not manifest.exists():
        b.stage("generate sources", _generate, str(sources), args.end, gen_kwargs)
    end = json.loads(manifest.read_text(encoding="utf-8"))["end"]

    floor = None
    if "floor" in stages or "ingest" in stages:
        base_url, stop = serve_in_thread(sources if national else sources / "city_service" / "city.sqlite", token,
                                         port=0)
        os.environ["TCD_CITY_API_URL"] = base_url
        try:
            if "floor" in stages:
                floor = b.stage("floor: read every input once", _floor, str(sources), base_url, token, national)
            if "ingest" in stages:
                b.stage("prepare warehouse (schema, units)", _task, "prepare_warehouse")
                for label, task in INGEST_TASKS:
                    b.stage(f"ingest {label}", _task, task)
        finally:
            stop()
    if "consolidate" in stages:
        for kind in CONSOLIDATED_KINDS:
            b.stage(f"consolidate {kind}", _task, "consolidate", kind)

    latest = {"period": "latest", "today": end}
    if "dq" in stages:
        b.stage("data quality, latest quarter", _assess, latest)
    workbooks = []
    if args.reports != "none" and "reports" in stages:
        # A fresh report tree: re-issuing over the previous run's would only re-confirm.
        subprocess.run(["rm", "-rf", str(run_dir / "reports")], check=True)
        levels = ("tinh",) if args.reports == "city" else ("tinh", "huyen", "xa")
        if national:
            levels = ("quoc_gia", *levels)
        for level in levels:
            workbooks.append(b.stage(f"report set, latest quarter, {level}", _report_set, latest, level, None,
                                     ("own", "consolidated"), args.workers))
    if args.reports != "none" and "summary" in stages and not national:
        # (the multi-year summary is a province's: not built for the country yet)
        b.stage("summary 2021-07..last cut-off", _summary, end)

    incremental = None
    if "incremental" in stages:
        # A day of new data: the same sources generated one day later (the generator
        # changes only the last weeks), landed and consolidated on top of this warehouse.
        nxt = sources.with_name(sources.name + "-next-day")
        if not (nxt / "manifest.json").exists():
            next_end = (dt.date.fromisoformat(end) + dt.timedelta(days=1)).isoformat()
            b.stage("generate sources, one day later", _generate, str(nxt), next_end, gen_kwargs)
        os.environ.update({"TCD_COMMUNE_INBOX": str(nxt if national else nxt / "commune_inbox"),
                           "TCD_DISTRICT_DB_DIR": str(nxt if national else nxt / "district_db")})
        base_url, stop = serve_in_thread(nxt if national else nxt / "city_service" / "city.sqlite", token, port=0)
        os.environ["TCD_CITY_API_URL"] = base_url
        try:
            for label, task in INGEST_TASKS:
                b.stage(f"incremental day: ingest {label}", _task, task)
        finally:
            stop()
        for kind in CONSOLIDATED_KINDS:
            b.stage(f"incremental day: consolidate {kind}", _task, "consolidate", kind)
        incremental = round(b.seconds("incremental day:"), 2)

    floor_s = floor["seconds"] if floor else None
    pipeline_s = b.seconds(*INGEST_AND_CONSOLIDATE)
    wb_n = sum(s["workbooks"] for s in workbooks)
    wb_s = sum(s["seconds"] for s in workbooks)
    result = {
        "scale": args.scale,
        "records": floor["rows"] if floor else None,
        "sources_end": end,
        "stages": b.stages,
        "floor_seconds": floor_s,
        "floor_ratio": round(pipeline_s / floor_s, 2) if floor_s and pipeline_s else None,
        "workbooks": wb_n,
        "workbooks_per_s": round(wb_n / wb_s, 2) if wb_s else None,
        # Ingestion + consolidation of one more day of every source (stage group `incremental`).
        "incremental_day_seconds": incremental,
        "peak_rss_mib": max((s["peak_rss_mib"] for s in b.stages), default=None),
        "machine": {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
                    "python": platform.python_version(), "platform": platform.platform()},
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    # A run of some stages only does not overwrite the figures of a whole run.
    partial = "" if stages == list(STAGE_GROUPS) else "." + "-".join(stages)
    out = Path(args.work).resolve() / f"{args.scale}{partial}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if result["floor_ratio"] is not None:
        print(f"\ningestion + consolidation {pipeline_s:.1f} s = {result['floor_ratio']}× the read-once floor "
              f"({floor_s:.1f} s, {floor['rows']:,} rows)")
    if wb_n:
        print(f"report workbooks: {wb_n} in {wb_s:.1f} s = {result['workbooks_per_s']}/s")
    if incremental is not None:
        print(f"incremental day (ingestion + consolidation): {incremental:.1f} s")
    print(f"peak RSS of any stage: {result['peak_rss_mib'] or 0:.0f} MiB\nfigures: {out}")
    if "ingest" in stages:
        dag_import_times()
    return 0


def dag_import_times() -> None:
    """Wall time of `python -c` importing each DAG file in a fresh interpreter (what the
    DAG processor pays per file, Airflow's own import included)."""
    print(f"\n{'DAG file (python -c import, fresh process)':44} {'time':>8}")
    for path in sorted((Path(__file__).resolve().parent.parent / "dags").glob("*.py")):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import runpy; runpy.run_path({str(path)!r})"],
                       check=True, capture_output=True)
        print(f"{path.name:44} {time.perf_counter() - t0:6.2f} s")


if __name__ == "__main__":
    sys.exit(main())
