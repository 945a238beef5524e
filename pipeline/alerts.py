"""Failure alerts for administrators.

Every DAG's ``on_failure_callback``: writes one JSON line per failed task to
``output/logs/alerts.jsonl`` (what a monitoring agent or a person tails) and logs it.
The message carries ids and the error's own text, which this project's code keeps free
of personal data (it names files, record ids and unit codes, never values).
"""
from __future__ import annotations

import datetime as dt
import json
import logging

from pipeline import settings

log = logging.getLogger(__name__)


def alert_record(context: dict) -> dict:
    ti = context.get("task_instance") or context.get("ti")
    exc = context.get("exception")
    return {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "dag_id": getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "map_index": getattr(ti, "map_index", None),
        "run_id": context.get("run_id"),
        "try_number": getattr(ti, "try_number", None),
        "error": f"{type(exc).__name__}: {exc}"[:2000] if exc else None,
    }


def on_failure(context: dict) -> None:
    record = alert_record(context)
    log.error("TASK FAILED %s", json.dumps(record, ensure_ascii=False))
    try:
        path = settings.path_setting("logs") / "alerts.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    except OSError:  # an alert must never raise from the callback
        log.exception("could not write the alert file")
