"""Run the committed Great Expectations checkpoints and turn their results into
decisions, by the severity of each rule.

The GX file context lives in ``expectations/gx`` (suites, validation definitions and
checkpoints are committed JSON, reviewed like code). Every expectation names its rule
in ``meta.rule``; the rule's entry in ``expectations/rules.yaml`` gives the severity
(critical / error / warning), importance and the Vietnamese instruction. Checkpoints
ask for COMPLETE results indexed by ``raw_id``, so each failed expectation says exactly
which source rows broke it; what happens to them is decided here, not inside GX.

Validation results and Data Docs are outputs: they go under ``paths.data_quality``
(``gx_validations/`` and ``data_docs/``), never into the repository; the callers pass
that folder (or the settings) down.

GX is imported lazily: it costs seconds.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core import environment
from core.dates import today_local
from core.rules import RULES_FILE, rule
from core.settings import Settings

log = logging.getLogger(__name__)

EXPECTATIONS_DIR = environment.PROJECT_ROOT / "expectations"
GX_DIR = EXPECTATIONS_DIR / "gx"


def suite_json(name: str) -> dict:
    with open(GX_DIR / "expectations" / f"{name}.json", encoding="utf-8") as fh:
        return json.load(fh)


def suite_sha(name: str) -> str:
    """Checksum of a suite's JSON and of the rule catalogue: a batch audited under
    other rules is audited again."""
    h = hashlib.sha256((GX_DIR / "expectations" / f"{name}.json").read_bytes())
    h.update(RULES_FILE.read_bytes())
    return h.hexdigest()


def data_docs_index(dq_dir: Path) -> Path:
    """The Data Docs site's index under `dq_dir` (``paths.data_quality``)."""
    return Path(dq_dir) / "data_docs" / "index.html"


def _gx():
    # GX logs every decorator it registers at INFO; keep task logs readable.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx  # noqa: PLC0415 - GX takes seconds to import; only when a suite runs

    return gx


@functools.cache
def _context_for(out_dir: str):
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: PLC0415 - GX, as above

    # great_expectations.yml reads its output folders from these config variables
    # (given to the context, not through the environment).
    folders = {"gx_validations_dir": str(Path(out_dir) / "gx_validations") + os.sep,
               "gx_data_docs_dir": str(Path(out_dir) / "data_docs") + os.sep}
    ctx = gx.get_context(mode="file", project_root_dir=str(EXPECTATIONS_DIR), runtime_environment=folders)
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return ctx


def context(dq_dir: Path):
    """The project's GX file context, writing results under `dq_dir` (``paths.data_quality``)."""
    return _context_for(str(dq_dir))


@dataclass
class Failure:
    """One failed expectation: the rule it enforces and the source rows that broke it."""

    rule: str
    severity: str
    expectation: str
    column: str | None
    unexpected_count: int
    raw_ids: list[int] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "expectation": self.expectation,
                "column": self.column, "unexpected_count": self.unexpected_count}


@dataclass
class Outcome:
    suite: str
    partition: str
    success: bool
    evaluated: int
    rows: int
    failures: list[Failure]

    def raw_ids(self, severity: str) -> dict[int, list[Failure]]:
        """raw_id → the failures of that severity it is part of."""
        out: dict[int, list[Failure]] = {}
        for f in self.failures:
            if f.severity == severity:
                for rid in f.raw_ids:
                    out.setdefault(rid, []).append(f)
        return out

    def record(self, run_id: str | None, now: dt.datetime) -> dict:
        """A dq_validation row (no row values: rule codes and counts only)."""
        return {"run_id": run_id, "suite": self.suite, "partition": self.partition,
                "success": self.success, "evaluated": self.evaluated,
                "failed": len(self.failures),
                "details": json.dumps({"rows": self.rows, "failed": [f.as_dict() for f in self.failures]},
                                      ensure_ascii=False),
                "validated_at": now}


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """GX pandas metrics want plain object / number / datetime columns."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.StringDtype):
            out[col] = out[col].astype(object)
        elif out[col].dtype == object and len(out) and isinstance(
                out[col].dropna().iloc[0] if out[col].notna().any() else None, dt.date):
            out[col] = pd.to_datetime(out[col], errors="coerce")
    return out


def with_references(frame: pd.DataFrame, unit_keys, accepted_batches) -> pd.DataFrame:
    """`frame` with the columns the warehouse suites check references with:
    ``unit_key_in_dim`` (the unit key is in dim_unit) and ``batch_accepted`` (the row's
    batch passed the audit). Computed here rather than handed to GX as value sets:
    GX copies an expectation's parameters on every access, and the accepted batches grow
    with history."""
    out = frame.copy()
    out["unit_key_in_dim"] = out["unit_key"].isin(set(unit_keys))
    out["batch_accepted"] = out["batch_id"].isin(set(accepted_batches))
    return out


def run(suite: str, frame: pd.DataFrame, partition: str, cfg: Settings, *, parameters: dict | None = None,
        run_id: str | None = None) -> Outcome:
    """Run the committed checkpoint `suite` on `frame` (which needs a ``raw_id`` column);
    results under ``cfg.paths.data_quality``."""
    gx = _gx()
    ctx = context(cfg.path("data_quality"))
    # The suites' parameter `series_start` is the earliest day a record may carry
    # (config series.data_from, rule DATE_BEFORE_SERIES), not the reported series' start.
    params = {"today": pd.Timestamp(today_local()), "series_start": pd.Timestamp(cfg.series.data_from)}
    params.update(parameters or {})
    checkpoint = ctx.checkpoints.get(suite)
    from great_expectations.core.run_identifier import RunIdentifier  # noqa: PLC0415 - GX, as above

    result = checkpoint.run(batch_parameters={"dataframe": _plain(frame)}, expectation_parameters=params,
                            run_id=RunIdentifier(run_name=f"{partition} {run_id or ''}".strip()))
    del gx
    failures: list[Failure] = []
    evaluated = 0
    success = True
    for vr in result.run_results.values():
        evaluated += int(vr.statistics["evaluated_expectations"])
        for er in vr.results:
            if er.success:
                continue
            cfg = er.expectation_config
            code = (cfg.meta or {}).get("rule")
            if code is None:
                raise ValueError(f"suite {suite}: expectation {cfg.type} names no rule in meta")
            sev = rule(code)["severity"]
            if er.exception_info and er.exception_info.get("raised_exception"):
                # An expectation that could not run (e.g. a missing column) is a failure
                # of the whole frame, not of some rows.
                msg = er.exception_info.get("exception_message")
                log.warning("GX %s on %s: %s could not run: %s", suite, partition, cfg.type, msg)
                failures.append(Failure(code, sev, cfg.type, cfg.kwargs.get("column"),
                                        int(len(frame)), [int(x) for x in frame["raw_id"]], dict(cfg.meta)))
            else:
                res = er.result or {}
                ids = [int(d["raw_id"]) for d in res.get("unexpected_index_list") or [] if "raw_id" in d]
                failures.append(Failure(code, sev, cfg.type, cfg.kwargs.get("column") or
                                        ",".join(cfg.kwargs.get("column_list") or []) or None,
                                        int(res.get("unexpected_count") or len(ids)), ids, dict(cfg.meta)))
            if sev != "warning":
                success = False
    out = Outcome(suite, partition, success, evaluated, len(frame), failures)
    log.info("GX %s on %s: %d rows, %d expectations, %s", suite, partition, len(frame), evaluated,
             ", ".join(f"{f.rule}×{f.unexpected_count}" for f in failures) or "all passed")
    return out


# Expectations over several rows at once: on a frame gathering several partitions, a row
# breaks them only with rows of its own partition (split_outcome).
_ACROSS_ROWS = ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique")


def split_outcome(outcome: Outcome, frame: pd.DataFrame, part_column: str) -> dict[str, Outcome]:
    """The outcome of a suite run on `frame`, which gathers several partitions (their key
    in `part_column`), as each partition's own run would have given it: every failure
    keeps the partition's rows, and a uniqueness failure only the rows that repeat a
    value *within* their partition (GX reports every occurrence of a repeated value, so
    those are the rows that repeat it with another row of the same partition). A row is
    in one partition; the expectations evaluated are the same for every part."""
    part_of = dict(zip(frame["raw_id"].astype(int), frame[part_column]))
    keys = list(dict.fromkeys(frame[part_column]))
    rows = frame[part_column].value_counts().to_dict()
    by_id = frame.set_index(frame["raw_id"].astype(int), drop=False)
    per: dict[str, list[Failure]] = {k: [] for k in keys}
    for f in outcome.failures:
        ids_by_part: dict[str, list[int]] = {}
        for rid in f.raw_ids:
            ids_by_part.setdefault(part_of[int(rid)], []).append(int(rid))
        for key, ids in ids_by_part.items():
            if f.expectation in _ACROSS_ROWS and f.column and len(ids) > 1:
                cols = f.column.split(",")
                values = by_id.loc[ids, cols]
                ids = [int(r) for r in values.index[values.duplicated(keep=False)]]
            elif f.expectation in _ACROSS_ROWS:
                ids = []            # its other occurrences are in other partitions
            if ids:
                per[key].append(Failure(f.rule, f.severity, f.expectation, f.column, len(ids), ids, dict(f.meta)))
    return {k: Outcome(outcome.suite, k, not any(f.severity != "warning" for f in per[k]), outcome.evaluated,
                       int(rows.get(k, 0)), per[k]) for k in keys}


def build_data_docs(dq_dir: Path) -> Path:
    """Rebuild the Data Docs site under `dq_dir` (``paths.data_quality``) from the
    stored validation results (the latest runs: ``validation_results_limit`` in
    great_expectations.yml)."""
    ctx = context(dq_dir)
    ctx.build_data_docs()
    _rendered_until(dq_dir).write_text(dt.datetime.now(dt.timezone.utc).isoformat(), encoding="utf-8")
    return data_docs_index(dq_dir)


def _rendered_until(dq_dir: Path) -> Path:
    return Path(dq_dir) / "data_docs" / ".rendered_until"


def update_data_docs(dq_dir: Path) -> Path:
    """Render the validation results stored since the site was last updated, and its
    index. The checkpoints do not render Data Docs on every run (each render reads the
    whole history for the index); the tasks call this once, at their end."""
    marker = _rendered_until(dq_dir)
    if not marker.exists():
        return build_data_docs(dq_dir)
    since = dt.datetime.fromisoformat(marker.read_text(encoding="utf-8").strip())
    now = dt.datetime.now(dt.timezone.utc)
    ctx = context(dq_dir)
    new = [k for k in ctx.validation_results_store.list_keys() if _aware(k.run_id.run_time) >= since]
    if new:
        ctx.build_data_docs(resource_identifiers=new)
    marker.write_text(now.isoformat(), encoding="utf-8")
    return data_docs_index(dq_dir)


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.timezone.utc)
