"""What every DAG shares: default args, tags, assets. Cheap to import (parse time)."""
from __future__ import annotations

import datetime as dt
import os

from pipeline.alerts import on_failure

OWNER = "tcd-data-team"
TIMEZONE = "Asia/Ho_Chi_Minh"
ALLOWED_TAGS = frozenset({"tcd", "ingest", "consolidate", "report", "commune", "district", "city"})

DEFAULT_ARGS = {
    "owner": OWNER,
    # TCD_TASK_RETRIES lets tests see a failure at once instead of after the back-off.
    "retries": int(os.environ.get("TCD_TASK_RETRIES", "2")),
    "retry_delay": dt.timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "on_failure_callback": on_failure,
}

# Asset names: one per raw source kind, one for the published warehouse.
RAW_COMMUNE_REGISTERS = "tcd_raw_commune_registers"
RAW_DISTRICT_DATABASES = "tcd_raw_district_databases"
RAW_CITY_SERVICE = "tcd_raw_city_service"
RAW_QLKNTC_WORKBOOKS = "tcd_raw_qlkntc_workbooks"
WAREHOUSE_PUBLISHED = "tcd_warehouse_published"
