"""The models of config/pipeline.yaml and config/commune_register_columns.yaml.

:class:`PipelineConfig` is config/pipeline.yaml (or the file in ``TCD_CONFIG``),
section by section, each key with its type, default and meaning (docs/configuration.md
is generated from them: ``python -m core.settings_doc --write``). Validated on load
(:func:`core.yaml_files.validate_yaml`): an unknown key, a missing key, a value of the
wrong type or a rule across keys broken stops the load naming the key. The code reads
the configuration through :func:`core.settings.get`, which applies the environment's
overrides first.

:class:`RegisterColumns` is config/commune_register_columns.yaml, the accepted column
headers of the commune registers (:func:`load_register_columns`; the configured file:
:func:`core.settings.register_columns`).
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.levels import Level
from core.yaml_files import ConfigError, validate_yaml


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _pattern(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    return value


class Province(_Section):
    code: str = Field(pattern=r"^\d{2}$", description="National statistical code of the province (quoted: \"01\").")
    name: str = Field(description="Its name as printed on reports.")


class National(_Section):
    """A national deployment (toàn quốc): the provinces in one warehouse, the national
    level above them in every form (config/national.yaml; docs/national.md)."""

    provinces: Literal["all"] | list[str] = Field(
        "all", description="`all` (the 34 provinces since 01/07/2025) or a list of their codes (quoted).")

    @field_validator("provinces")
    @classmethod
    def _codes(cls, value):
        if isinstance(value, list):
            bad = [c for c in value if not re.fullmatch(r"\d{2}", str(c))]
            if bad or not value:
                raise ValueError(f"province codes are two digits, quoted (\"01\"): {bad or 'none given'}")
            if len(set(value)) != len(value):
                raise ValueError("a province is listed twice")
        return value


class Reform(_Section):
    """Two-tier local government (Nghị quyết 202/2025/QH15)."""

    last_day_three_tier: dt.date = Field(description="Last day of districts (huyện).")
    first_day_two_tier: dt.date = Field(description="First day of the two-tier scheme (communes under the city).")


class Paths(_Section):
    """Relative paths are resolved against TCD_HOME."""

    sources: str = Field(description="Simulated source systems (demo only).")
    reports: str = Field(description="Published reports (the tree with manifests).")
    logs: str = Field(description="Alert log, demo DAG-run logs.")
    data_quality: str = Field(description="Data Docs, GX validation results, data-quality workbooks.")
    warehouse_sqlite: str = Field(description="SQLite warehouse file (when no warehouse URL is configured).")


class CommuneRegisters(_Section):
    conn_id: str = Field(description="Airflow connection of the commune inbox (conn_type fs, extra `path`).")
    default_path: str = Field(description="The inbox folder when the connection is not defined.")
    file_glob: str = Field(description="Which files of the inbox are registers.")
    reception_sheet: list[str] = Field(min_length=1, description="Accepted names of the reception sheet.")
    petition_sheet: list[str] = Field(min_length=1, description="Accepted names of the petition sheet.")
    calendar_sheet: list[str] = Field([], description="Accepted names of the optional reception-calendar sheet "
                                                      "(none: the sheet is not read).")
    columns: str = Field(description="The column aliases file (relative to the project).")
    file_name_pattern: str = Field(description="Regular expression of a register's file name (groups unit_code, "
                                               "year).")

    _check_pattern = field_validator("file_name_pattern")(_pattern)


class DistrictDatabases(_Section):
    conn_prefix: str = Field(description="Airflow connections <prefix><district code>, extra `url`.")
    default_dir: str = Field(description="Folder of <code>.sqlite databases.")
    file_glob: str = Field("*.sqlite", description="Which files of the folder are district databases (a national "
                                                   "deployment: `*/district_db/*.sqlite`).")
    lock_timeout_seconds: float = Field(5.0, gt=0, description="Driver lock/connect timeout of one attempt.")
    retry_attempts: int = Field(3, ge=1, description="Attempts to open a busy database.")
    retry_max_wait_seconds: float = Field(5.0, ge=0, description="Longest back-off between attempts.")


class CityService(_Section):
    conn_id: str = Field(description="Airflow connection: host, port, schema; password = bearer token.")
    default_url: str = Field(description="Base URL when neither the connection nor TCD_CITY_API_URL is set; "
                                         "`{province}` in it is the province's code (a national deployment "
                                         "reads one service per province).")
    page_size: int = Field(gt=0, description="Records per page of the change feed.")
    timeout_seconds: float = Field(30.0, gt=0, description="Timeout of one request.")
    retry_attempts: int = Field(5, ge=1, description="Attempts of a request that fails transiently.")
    retry_max_wait_seconds: float = Field(10.0, ge=0, description="Longest back-off between attempts.")
    resources: list[Literal["receptions", "petitions", "cases", "reception-calendar"]] = Field(
        min_length=1, description="Resources read, in order.")


class QlkntcWorkbooks(_Section):
    file_prefix: str = Field(description="File names of 06/QLKNTC workbooks start with this (case ignored).")
    file_name_pattern: str = Field(description="Regular expression of their name (groups unit_code, period_key).")
    levels: list[Level] = Field(min_length=1, description="Levels whose units fill one in.")
    applies_from_window_end: dt.date = Field(description="Windows ending on or after this day have the form.")

    _check_pattern = field_validator("file_name_pattern")(_pattern)


class Sources(_Section):
    commune_registers: CommuneRegisters
    district_databases: DistrictDatabases
    city_service: CityService
    qlkntc_workbooks: QlkntcWorkbooks


class Warehouse(_Section):
    conn_id: str = Field(description="Airflow connection whose extra `url` is the warehouse's SQLAlchemy URL.")


class Pseudonymisation(_Section):
    conn_id: str = Field(description="Airflow connection whose password is the pseudonym key.")


class Counting(_Section):
    group_min_people: int = Field(gt=1, description="Đoàn đông người: a record of this many people or more.")


class PeriodKind(_Section):
    start: tuple[int, int, int] = Field(description="[year offset, month, day] of the first day.")
    end: tuple[int, int, int] = Field(description="[year offset, month, day] of the last day.")
    label: str = Field(description="Its name (Quý I, 6 tháng …).")
    title: str | None = Field(None, description="Title template ({label}, {year}); default by kind.")


class Periods(_Section):
    cutoff_day: int = Field(ge=1, le=28, description="Day of the month reporting windows end on (the kinds' "
                                                     "ends must agree; checked).")
    kinds: dict[str, PeriodKind] = Field(min_length=1, description="The periodic windows by kind.")

    @model_validator(mode="after")
    def _ends_on_cutoff(self) -> Periods:
        bad = [k for k, v in self.kinds.items() if v.end[2] != self.cutoff_day]
        if bad:
            raise ValueError(f"kinds {bad} do not end on cutoff_day {self.cutoff_day}")
        return self


class Deadline(_Section):
    day: int | None = Field(None, ge=1, le=31, description="A day of the period's last month.")
    days_after_cutoff: int | None = Field(None, ge=0, description="Days after the window's end.")

    @model_validator(mode="after")
    def _one(self) -> Deadline:
        if (self.day is None) == (self.days_after_cutoff is None):
            raise ValueError("give exactly one of day, days_after_cutoff")
        return self


class Narrative(_Section):
    template: str = Field(description="The narrative report (Mẫu số 02).")
    periods: list[str] = Field(description="Period kinds whose reports carry it.")
    levels: list[Level] | None = Field(None, description="Levels whose reports carry it; default every level.")


class RegimeEntry(_Section):
    id: str = Field(description="Identifier (TT06_2025).")
    circular: str = Field(description="The circular's name, as printed.")
    in_force_from: dt.date = Field(description="Governs the windows ending on or after this day.")
    file_tag: str = Field("", description="Prefix of issued file names; empty: none.")
    deadlines: dict[Literal["units", "province"], Deadline] = Field(
        default_factory=dict, description="Units' data to the province; the province's report.")
    narrative: Narrative | None = Field(None, description="Which periodic reports carry the narrative.")
    forms: dict[str, str] = Field(min_length=1, description="Form code → definition file.")


class ExpectedSource(_Section):
    level: Level = Field(description="Every unit of this level in force must deliver.")


class Completeness(_Section):
    expected: dict[Literal["commune_register", "district_db", "city_service"], ExpectedSource] = Field(
        min_length=1, description="Who must submit what, per source kind.")


class Outliers(_Section):
    history_periods: int = Field(ge=1, description="Previous windows a figure is compared with.")
    min_history: int = Field(ge=2, description="Fewer usable history windows: not assessed.")
    z_threshold: float = Field(gt=0, description="|z| from which a figure is flagged.")
    min_value: int = Field(ge=0, description="Below this (value and mean), swings are noise.")
    metrics: list[Literal["receptions", "people", "petitions"]] = Field(min_length=1, description="Figures compared.")


class Series(_Section):
    """Two dates, two notions."""

    data_from: dt.date = Field(description="Earliest day a record may carry (rule DATE_BEFORE_SERIES); the legacy "
                                           "units of the unit dimension are valid from it.")
    start: dt.date = Field(description="Start of the reported series: default start of the multi-year summary, "
                                       "first window of an outlier history, the DAGs' start date.")

    @model_validator(mode="after")
    def _order(self) -> Series:
        if self.start < self.data_from:
            raise ValueError("start is before data_from")
        return self


class PipelineConfig(_Section):
    """config/pipeline.yaml."""

    province: Province | None = Field(None, description="The province served (a province deployment).")
    national: National | None = Field(None, description="A national deployment, in place of `province`.")
    reform: Reform
    paths: Paths
    sources: Sources
    warehouse: Warehouse
    pseudonymisation: Pseudonymisation
    counting: Counting
    periods: Periods
    regimes: list[RegimeEntry] = Field(min_length=1, description="Reporting regimes (docs/adr/0006).")
    completeness: Completeness
    outliers: Outliers
    series: Series

    @model_validator(mode="after")
    def _one_deployment(self) -> PipelineConfig:
        if (self.province is None) == (self.national is None):
            raise ValueError("give either `province:` (one province) or `national:` (the country), not "
                             + ("both" if self.province else "neither"))
        return self

    @model_validator(mode="after")
    def _regimes_distinct(self) -> PipelineConfig:
        for what, values in (("ids", [r.id for r in self.regimes]),
                             ("in_force_from dates", [r.in_force_from for r in self.regimes]),
                             ("file tags", [r.file_tag for r in self.regimes if r.file_tag])):
            if len(set(values)) != len(values):
                raise ValueError(f"regimes: {what} repeat: {[str(v) for v in values]}")
        return self


# ---------------------------------------------------------------------------- config/commune_register_columns.yaml
class SheetColumns(BaseModel):
    """One sheet of config/commune_register_columns.yaml (docs/data-contracts.md §1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    required: list[str]
    date_field: str
    merged_not_filled: list[str] = []
    columns: dict[str, list[str]]

    @model_validator(mode="after")
    def _known_fields(self) -> SheetColumns:
        unknown = [f for f in [*self.required, self.date_field, *self.merged_not_filled] if f not in self.columns]
        if unknown:
            raise ValueError(f"fields {unknown} have no entry under columns")
        empty = [f for f, names in self.columns.items() if not names]
        if empty:
            raise ValueError(f"columns {empty} list no header")
        return self


class RegisterColumns(BaseModel):
    """config/commune_register_columns.yaml: the accepted headers of each sheet."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reception: SheetColumns
    petition: SheetColumns
    calendar: SheetColumns
    total_row_labels: list[str]


@functools.lru_cache(maxsize=4)
def _register_columns_at(path: str, _stamp: tuple[int, int]) -> RegisterColumns:
    return validate_yaml(RegisterColumns, path)


def load_register_columns(path: Path) -> RegisterColumns:
    """The accepted column headers of the commune registers, from the file `path`,
    validated; read again only when the file changes."""
    try:
        st = path.stat()
    except OSError:
        raise ConfigError(f"{path}: file not found (sources.commune_registers.columns)") from None
    return _register_columns_at(str(path), (st.st_mtime_ns, st.st_size))
