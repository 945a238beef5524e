"""`make bench`: run each pipeline stage on the demo data into a fresh warehouse and
print wall time, peak resident memory and records per second for each.

The stages are the same functions the Airflow tasks call, run in this process so that
each can be timed alone (Airflow's own scheduling overhead is not what is measured).
Figures depend on the machine; no targets are asserted here.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psutil

from connectors import city_service, commune_registers, district_db
from core import logs
from pipeline import dq, reporting, tasks
from simulators import generate
from simulators.city_server import serve_in_thread
from simulators.core import FIXED_END
from transforms.consolidate import consolidate
from warehouse import db


class PeakRSS:
    """Sample this process's RSS every 20 ms during a stage; report the peak."""

    def __init__(self) -> None:
        self._proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            time.sleep(0.02)

    def __enter__(self):
        self.peak = self._proc.memory_info().rss
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


RESULTS: list[tuple[str, float, int, int]] = []


@contextmanager
def stage(name: str, records_fn=lambda r: 0):
    holder: dict = {}
    t0 = time.perf_counter()
    with PeakRSS() as mem:
        yield holder
    elapsed = time.perf_counter() - t0
    n = records_fn(holder.get("result"))
    RESULTS.append((name, elapsed, mem.peak, n))
    rate = f"{n / elapsed:,.0f}" if n and elapsed else "-"
    print(f"{name:38} {elapsed:8.1f} s {mem.peak / 2**20:8.0f} MiB {n:>10,} {rate:>12}/s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sources", default="simulated_sources")
    ap.add_argument("--work", default="output/bench")
    ap.add_argument("--end", default=FIXED_END.isoformat(),
                    help="generate sources up to this date if missing (default: the fixed end the tests "
                         "use, simulators.core.FIXED_END, so that the benchmark's work does not grow with the calendar)")
    args = ap.parse_args()


    logs.setup()

    logging.getLogger().setLevel(logging.WARNING)
    sources = Path(args.sources).resolve()
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    wh = work / "warehouse.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{wh}{suffix}").unlink(missing_ok=True)
    os.environ["TCD_WAREHOUSE_URL"] = f"sqlite:///{wh}"
    os.environ["TCD_PATH_REPORTS"] = str(work / "reports")
    os.environ.setdefault("TCD_PSEUDONYM_KEY", "bench-only-key-not-secret-0123456789")

    print(f"{'stage':38} {'time':>10} {'peak RSS':>12} {'records':>10} {'records/s':>14}")
    if not (sources / "manifest.json").exists():
        with stage("generate simulated sources", lambda r: sum((r or {}).get("counts", {}).values())
                   if isinstance((r or {}).get("counts"), dict) else 0) as h:
            h["result"] = generate.generate(sources, seed=42, end=dt.date.fromisoformat(args.end))
    # The periods follow the data, not the clock: the latest complete ones before the sources' end.
    end = json.loads((sources / "manifest.json").read_text(encoding="utf-8"))["end"]


    rows = lambda r: sum(b["rows"] for b in r) if r else 0
    with stage("prepare warehouse (schema, units)", lambda r: r["units"]) as h:
        h["result"] = tasks.prepare_warehouse()
    eng = db.engine()
    with stage("ingest commune registers (.xlsx)", rows) as h:
        h["result"] = commune_registers.ingest(eng, inbox=sources / "commune_inbox")
    os.environ["TCD_DISTRICT_DB_DIR"] = str(sources / "district_db")
    with stage("ingest district databases", rows) as h:
        h["result"] = [b for code, url in district_db.district_sources().items()
                       for b in district_db.ingest_district(eng, code, url)]
    token = "bench-token"
    base_url, stop = serve_in_thread(sources / "city_service" / "city.sqlite", token, port=0)
    try:
        with stage("ingest city service (HTTP)", rows) as h:
            h["result"] = city_service.ingest(eng, base_url=base_url, token=token)
    finally:
        stop()
    for kind in ("commune_register", "district_db", "city_service"):
        with stage(f"consolidate {kind}", lambda r: r.stats.get("raw_rows", 0)) as h:
            h["result"] = consolidate(eng, kind, force=True)

    os.environ["TCD_PATH_DATA_QUALITY"] = str(work / "data_quality")
    for spec, label in (({"period": "latest", "today": end}, "latest quarter"),
                        ({"date_from": "2021-07-01", "date_to": "2025-02-28"}, "2021-07..2025-02")):
        period = reporting.resolve_periods(**spec)[0]
        with stage(f"data quality {label}", lambda r: r["units_expected"]) as h:
            h["result"] = dq.assess(period)
        # the city's 01/TCD through the DAG's path (report_periodic's build_reports)
        with stage(f"report 01/TCD city {label}", lambda r: r["issued"]) as h:
            h["result"] = reporting.build_reports(period, "tinh", forms=["01/TCD"], scope_kinds=("consolidated",))

    # The whole report set of the latest quarter: every form × every scope of each level.
    os.environ["TCD_PATH_REPORTS"] = str(work / "report_set")
    period = reporting.resolve_periods("latest", today=end)[0]
    for level in reporting.LEVELS:
        with stage(f"report set {period['key']} {level}", lambda r: r["issued"]) as h:
            h["result"] = reporting.build_reports(period, level)
    with stage("summary 2021-07..last cut-off", lambda r: len(r["files"])) as h:
        h["result"] = reporting.build_summary(reporting.summary_range(today=end))
    total = sum(r[1] for r in RESULTS)
    print(f"{'total':38} {total:8.1f} s {max(r[2] for r in RESULTS) / 2**20:8.0f} MiB (peak)")
    dag_import_times()


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
    main()
