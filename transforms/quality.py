"""Run the committed Great Expectations suites (expectations/suites/*.json) on a
canonical partition before it is published. GX is imported lazily: it costs seconds."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from pipeline import settings

log = logging.getLogger(__name__)
SUITES_DIR = settings.PROJECT_ROOT / "expectations" / "suites"


def _gx():
    # GX logs every decorator it registers at INFO; keep task logs readable.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx  # noqa: PLC0415

    return gx


def load_suite_json(name: str) -> dict:
    with open(SUITES_DIR / f"{name}.json", encoding="utf-8") as fh:
        return json.load(fh)


def validate(df: pd.DataFrame, suite_name: str, partition: str) -> dict:
    """Validate a frame; returns {suite, partition, success, evaluated, failed, details}."""
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: PLC0415
    from great_expectations.expectations.expectation_configuration import (  # noqa: PLC0415
        ExpectationConfiguration)

    spec = load_suite_json(suite_name)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    suite = ctx.suites.add(gx.ExpectationSuite(name=spec["name"], meta=spec.get("meta", {}), expectations=[
        ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"]).to_domain_obj()
        for e in spec["expectations"]]))
    frame = df.copy()
    if "denouncer_pseudonym" not in frame.columns and "petition_kind" in frame.columns \
            and "citizen_pseudonym" in frame.columns:
        # A tố cáo record must carry no identity at all, not even a pseudonym.
        frame["denouncer_pseudonym"] = frame["citizen_pseudonym"].where(frame["petition_kind"] == "TC")
    for col in frame.columns:   # GX pandas metrics want plain object/number columns
        if isinstance(frame[col].dtype, pd.StringDtype):
            frame[col] = frame[col].astype(object)
    asset = ctx.data_sources.add_pandas("canonical").add_dataframe_asset(partition)
    batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(
        batch_parameters={"dataframe": frame})
    result = batch.validate(suite, result_format="SUMMARY")
    failed = [{"expectation": r.expectation_config.type,
               "column": r.expectation_config.kwargs.get("column"),
               "unexpected_count": r.result.get("unexpected_count")}
              for r in result.results if not r.success]
    out = {"suite": suite_name, "partition": partition, "success": bool(result.success),
           "evaluated": int(result.statistics["evaluated_expectations"]),
           "failed": len(failed), "details": failed, "rows": len(frame)}
    log.info("GX %s on %s: %s (%d rows, %d/%d expectations failed)", suite_name, partition,
             "passed" if out["success"] else "FAILED", len(frame), out["failed"], out["evaluated"])
    return out
