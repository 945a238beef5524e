"""Run DAGs one after the other with `airflow dags test`, failing loudly.

`python -m pipeline.run_dags DAG_ID 'DAG_ID={"param": "value"}' ...` — each argument is a
dag id, optionally with a JSON conf. The Airflow CLI's exit code does not always reflect
a failed run, so the run's final state is read from its log as well.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from core import settings


def run(dag_id: str, conf: dict | None, log_dir: Path) -> None:
    cmd = ["airflow", "dags", "test", dag_id]
    if conf:
        cmd += ["-c", json.dumps(conf)]
    label = dag_id + (f" {json.dumps(conf, ensure_ascii=False)}" if conf else "")
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{dag_id}_{time.strftime('%Y%m%dT%H%M%S')}.log"
    t0 = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=os.environ.copy())
    text = log_path.read_text(encoding="utf-8", errors="replace")
    # The run's own verdict: "DagRun Finished: dag_id=…, state=success, …".
    final = re.findall(r"DagRun Finished: dag_id=\S+ .*?state=(\w+)", text)
    failed = proc.returncode != 0 or not final or final[-1] != "success"
    status = "FAILED" if failed else "ok"
    print(f"   {status:6} {label}  ({time.monotonic() - t0:.0f} s, log: {log_path.relative_to(Path.cwd()) if log_path.is_relative_to(Path.cwd()) else log_path})", flush=True)
    if failed:
        tail = "\n".join(text.splitlines()[-40:])
        sys.exit(f"DAG {dag_id} failed; last lines of its log:\n{tail}")


def main(argv: list[str]) -> None:
    log_dir = settings.path_setting("logs") / "dag_runs"
    for arg in argv:
        dag_id, _, conf = arg.partition("=")
        run(dag_id, json.loads(conf) if conf else None, log_dir)


if __name__ == "__main__":
    main(sys.argv[1:])
