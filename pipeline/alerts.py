"""Failure alerts for administrators.

Every DAG's ``on_failure_callback``: writes one JSON line per failed task to
``output/logs/alerts.jsonl`` (what a monitoring agent or a person tails) and logs it.
The message carries ids and the error's own text, which this project's code keeps free
of personal data (it names files, record ids and unit codes, never values).
"""
from __future__ import annotations

import json
import logging

from core import settings
from core.dates import utc_now_iso

log = logging.getLogger(__name__)


def alert_record(context: dict) -> dict:
    ti = context.get("task_instance") or context.get("ti")
    exc = context.get("exception")
    return {
        "at": utc_now_iso(),
        "dag_id": getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "map_index": getattr(ti, "map_index", None),
        "run_id": context.get("run_id"),
        "try_number": getattr(ti, "try_number", None),
        "error": f"{type(exc).__name__}: {exc}"[:2000] if exc else None,
    }


def _append(record: dict) -> None:
    try:
        path = settings.path_setting("logs") / "alerts.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    except OSError:  # an alert must never raise
        log.exception("could not write the alert file")


def on_failure(context: dict) -> None:
    record = alert_record(context)
    log.error("TASK FAILED %s", json.dumps(record, ensure_ascii=False))
    _append(record)


def source_problems(task: str, batches: list[dict], run_id: str | None = None) -> None:
    """A task that succeeded although some deliveries were refused (a locked database,
    an unreachable service, an unreadable file): the others were processed, and the
    administrators are told which were not, with the rule code and reason."""
    refused = [b for b in batches if b.get("status") in ("rejected", "failed")]
    if not refused:
        return
    record = {"at": utc_now_iso(), "task": task, "run_id": run_id,
              "level": "warning",
              "refused": [{"source": b.get("logical_key"), "status": b.get("status"),
                           "reason_code": b.get("reason_code"), "reason": (b.get("message") or "")[:500]}
                          for b in refused[:50]],
              "refused_count": len(refused)}
    log.warning("SOURCE PROBLEMS %s", json.dumps(record, ensure_ascii=False))
    _append(record)
