"""What every DAG shares: default args, tags, assets. Cheap to import (parse time)."""
from __future__ import annotations

import datetime as dt

import pendulum

from core import settings
from core.dates import TIMEZONE
from pipeline.alerts import on_failure

OWNER = "tcd-data-team"
ALLOWED_TAGS = frozenset({"tcd", "ingest", "consolidate", "report", "commune", "district", "city"})

DEFAULT_ARGS = {
    "owner": OWNER,
    # TCD_TASK_RETRIES lets tests see a failure at once instead of after the back-off.
    "retries": settings.get().env.task_retries,
    "retry_delay": dt.timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "on_failure_callback": on_failure,
}



def start_date(day: dt.date) -> pendulum.DateTime:
    """Midnight of `day` in Hà Nội, as a DAG's start_date."""
    return pendulum.datetime(day.year, day.month, day.day, tz=TIMEZONE)


# The DAGs start with the reported series (config series.start).
SERIES_START = start_date(settings.get().series.start)

# Asset names: one per raw source kind, one for the published warehouse.
RAW_COMMUNE_REGISTERS = "tcd_raw_commune_registers"
RAW_DISTRICT_DATABASES = "tcd_raw_district_databases"
RAW_CITY_SERVICE = "tcd_raw_city_service"
RAW_QLKNTC_WORKBOOKS = "tcd_raw_qlkntc_workbooks"
WAREHOUSE_PUBLISHED = "tcd_warehouse_published"
