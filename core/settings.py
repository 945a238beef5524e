"""Configuration and secrets, declared once, typed, read in one place.

Everything the pipeline can be told is declared here, with its type, its default and
what it does (docs/configuration.md is generated from these declarations:
``python -m core.settings doc --write``):

- :class:`Environment` — every environment variable the code, the scripts, the
  Makefile and docker-compose.yaml read (all ``TCD_*``). Some override a key of the
  YAML (``TCD_PATH_REPORTS`` → ``paths.reports``), some stand alone (``TCD_HOME``,
  ``TCD_TASK_RETRIES``), some are secrets (:class:`~pydantic.SecretStr`, never logged,
  never in a ``repr``).
- :class:`PipelineConfig` — config/pipeline.yaml (or the file in ``TCD_CONFIG``),
  section by section. Validated on load: an unknown key (a typo), a missing key or a
  value of the wrong type stops the load with a :class:`ConfigError` naming the key,
  e.g. ``sources.city_service.page_sise: unknown key``.
- :class:`Settings` — the two together, as the code sees them: the YAML's sections
  with the environment's overrides applied, and the environment itself (``.env``).

**Loaded once.** :func:`get` builds the :class:`Settings` on first use and returns the
same object afterwards, as long as what it was built from is unchanged: the cache key
is a snapshot of the declared environment variables and of the configuration file (its
path, modification time and size). A test that changes ``TCD_WAREHOUSE_URL`` with
``monkeypatch`` or points ``TCD_CONFIG`` at another file therefore gets fresh settings
on its next call, with no fixture to remember; the snapshot costs a few dictionary
look-ups and one ``stat``. :func:`reload` drops the cache (for a file rewritten within
the file system's time resolution).

**Secrets.** Nothing secret is ever read from the repository. A secret is the password
(or extra ``url``) of an Airflow connection when one is defined — Airflow connections
are the secrets mechanism: the UI, the CLI, a secrets backend, or an
``AIRFLOW_CONN_<ID>`` environment variable — and otherwise the environment variable
declared for it (:func:`secret`, :func:`warehouse_url`).

The older helpers (:func:`config`, :func:`path_setting`, :func:`resolve`,
:func:`home`, :func:`connection`, :func:`secret`, :func:`warehouse_url`) stay and read
from the typed object. :func:`load_yaml` is the one reader of the project's YAML files.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import to_jsonable_python
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from core.levels import Level

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "pipeline.yaml"
DEFAULT_RECIPIENTS = PROJECT_ROOT / "config" / "recipients.yaml"


class ConfigError(ValueError):
    """A configuration file or environment variable that cannot be used; the message
    names the file or variable and every key at fault."""


# ---------------------------------------------------------------------------- YAML files
def load_yaml(path: str | os.PathLike) -> Any:
    """The content of one of the project's YAML files (configuration, recipients,
    column aliases, rules, code lists, form definitions). A missing file or invalid
    YAML raises ConfigError naming the file. Validation is the caller's (each file has
    its model)."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None


def _where(loc: tuple, data: Any = None) -> str:
    """('sources', 'city_service', 'page_size') → 'sources.city_service.page_size';
    list items as [i], with the item's id when it has one (regimes[2] (TT06_2025))."""
    out, node = "", data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            try:
                node = node[part]
                if isinstance(node, dict) and "id" in node:
                    out += f" ({node['id']})"
            except (IndexError, KeyError, TypeError):
                node = None
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def describe_errors(err: ValidationError, data: Any = None) -> str:
    """One line per problem, naming the key: what a person fixes in the file."""
    lines = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        where = _where(loc, data) or "(top level)"
        if e["type"] == "extra_forbidden":
            msg = "unknown key (not a setting: check the spelling and docs/configuration.md)"
        elif e["type"] == "missing":
            msg = "missing (required)"
        elif e["type"] == "value_error" or isinstance(e.get("input"), (dict, list)):
            msg = e["msg"].removeprefix("Value error, ")
        else:
            msg = f"{e['msg']}, got {e.get('input')!r}"
        lines.append(f"  - {where}: {msg}")
    return "\n".join(lines)


def validate_yaml(model: type[BaseModel], path: str | os.PathLike, data: Any = None) -> Any:
    """`model` validated from the YAML file `path` (or from `data` read from it);
    ConfigError listing every key at fault."""
    data = load_yaml(path) if data is None else data
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(f"{path}: invalid configuration:\n{describe_errors(err, data)}") from None


# ---------------------------------------------------------------------------- the environment
def _env(name: str, default: Any, description: str, *, overrides: str | None = None, used_by: str = "pipeline",
         **kw: Any) -> Any:
    """An environment variable: its name, default and meaning; `overrides` names the
    YAML key it replaces; `used_by` "scripts" for variables only the shell reads."""
    extra = {"used_by": used_by}
    if overrides:
        extra["overrides"] = overrides
    return Field(default, validation_alias=name, description=description, json_schema_extra=extra, **kw)


class Environment(BaseSettings):
    """Every environment variable of the project. Empty values count as unset."""

    model_config = SettingsConfigDict(case_sensitive=True, env_ignore_empty=True, extra="ignore", frozen=True,
                                      populate_by_name=False)

    # -- where things are
    home: Path = _env("TCD_HOME", PROJECT_ROOT,
                      "Folder against which relative paths of the configuration are resolved (outputs, "
                      "simulated sources, form definitions that override the shipped ones).")
    config_file: Path = _env("TCD_CONFIG", DEFAULT_CONFIG,
                             "The pipeline configuration file (YAML, validated on load).")
    path_sources: str | None = _env("TCD_PATH_SOURCES", None, "Folder of the simulated source systems.",
                                    overrides="paths.sources")
    path_reports: str | None = _env("TCD_PATH_REPORTS", None, "Root of the published report tree.",
                                    overrides="paths.reports")
    path_logs: str | None = _env("TCD_PATH_LOGS", None, "Folder of the alert log and the demo's DAG-run logs.",
                                 overrides="paths.logs")
    path_data_quality: str | None = _env("TCD_PATH_DATA_QUALITY", None,
                                         "Folder of Data Docs, GX validation results and data-quality workbooks.",
                                         overrides="paths.data_quality")
    path_warehouse_sqlite: str | None = _env("TCD_PATH_WAREHOUSE_SQLITE", None,
                                             "The SQLite warehouse file, when no warehouse URL is given.",
                                             overrides="paths.warehouse_sqlite")
    # -- sources (an Airflow connection, when defined, comes first)
    commune_inbox: str | None = _env("TCD_COMMUNE_INBOX", None,
                                     "Folder of the commune inbox (registers and 06/QLKNTC workbooks) when "
                                     "connection tcd_commune_inbox has no extra `path`.",
                                     overrides="sources.commune_registers.default_path")
    district_db_dir: str | None = _env("TCD_DISTRICT_DB_DIR", None,
                                       "Folder of district databases as <code>.sqlite files.",
                                       overrides="sources.district_databases.default_dir")
    district_codes: str = _env("TCD_DISTRICT_CODES", "",
                               "Comma-separated district codes (001,002,…) whose databases are Airflow "
                               "connections tcd_district_<code> (extra `url`).")
    city_api_url: str | None = _env("TCD_CITY_API_URL", None,
                                    "Base URL of the city's web service when connection tcd_city_api is not "
                                    "defined.", overrides="sources.city_service.default_url")
    # -- secrets
    city_api_token: SecretStr | None = _env("TCD_CITY_API_TOKEN", None,
                                            "Secret. Bearer token of the city's web service when connection "
                                            "tcd_city_api has no password.")
    warehouse_url: SecretStr | None = _env("TCD_WAREHOUSE_URL", None,
                                           "Secret (may hold a password). SQLAlchemy URL of the warehouse when "
                                           "connection tcd_warehouse has no extra `url`; unset: the SQLite "
                                           "file paths.warehouse_sqlite.")
    pseudonym_key: SecretStr | None = _env("TCD_PSEUDONYM_KEY", None,
                                           "Secret. HMAC key of the citizen pseudonyms (16 characters or more) "
                                           "when connection tcd_pseudonym_key has no password.")
    # -- delivery
    recipients_file: Path = _env("TCD_RECIPIENTS_FILE", DEFAULT_RECIPIENTS,
                                 "Who receives which reports by e-mail (docs/delivery.md).")
    smtp_conn_id: str = _env("TCD_SMTP_CONN_ID", "smtp_default",
                             "Airflow SMTP connection the reports are sent through.")
    # -- running
    task_retries: int = _env("TCD_TASK_RETRIES", 2, "Retries of a failed DAG task (with back-off).", ge=0)
    use_airflow_connections: bool = _env("TCD_USE_AIRFLOW_CONNECTIONS", True,
                                         "Inside an Airflow task, look connections up in Airflow's metadata "
                                         "database and secrets backends too (else AIRFLOW_CONN_* only).")
    soffice: str | None = _env("TCD_SOFFICE", None,
                               "The LibreOffice executable that opens issued files as a recipient would "
                               "(default: soffice or libreoffice on the PATH).")
    # -- read by the shell scripts only (scripts/env.sh, scripts/demo.sh, …)
    city_api_port: int = _env("TCD_CITY_API_PORT", 8765,
                              "Port of the simulated city service (scripts/city_service.sh; scripts/env.sh "
                              "builds AIRFLOW_CONN_TCD_CITY_API from it).", used_by="scripts")
    smtp_port: int = _env("TCD_SMTP_PORT", 8025,
                          "Port of the local SMTP sink of the demo (scripts/mail_sink.sh; scripts/env.sh builds "
                          "AIRFLOW_CONN_SMTP_DEFAULT from it unless that is set).", used_by="scripts")
    demo_end: dt.date | None = _env("TCD_DEMO_END", None,
                                    "Last day of the demo's simulated data (scripts/demo.sh; default today in "
                                    "Hà Nội).", used_by="scripts")
    demo_seed: int = _env("TCD_DEMO_SEED", 42, "Random seed of the demo's simulated sources (scripts/demo.sh).",
                          used_by="scripts")

    @classmethod
    def names(cls) -> dict[str, str]:
        """{environment variable: field name} of every declared variable."""
        return {f.validation_alias: name for name, f in cls.model_fields.items()}

    @property
    def district_code_list(self) -> list[str]:
        return [c.strip() for c in self.district_codes.split(",") if c.strip()]


ENV_NAMES: tuple[str, ...] = tuple(Environment.names())


def env_name(field: str) -> str:
    """The environment variable of an Environment field (smtp_conn_id → TCD_SMTP_CONN_ID)."""
    return Environment.model_fields[field].validation_alias


# ---------------------------------------------------------------------------- config/pipeline.yaml
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
    lock_timeout_seconds: float = Field(5.0, gt=0, description="Driver lock/connect timeout of one attempt.")
    retry_attempts: int = Field(3, ge=1, description="Attempts to open a busy database.")
    retry_max_wait_seconds: float = Field(5.0, ge=0, description="Longest back-off between attempts.")


class CityService(_Section):
    conn_id: str = Field(description="Airflow connection: host, port, schema; password = bearer token.")
    default_url: str = Field(description="Base URL when neither the connection nor TCD_CITY_API_URL is set.")
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

    province: Province
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


def register_columns() -> RegisterColumns:
    """The accepted column headers of the commune registers (the file named by
    ``sources.commune_registers.columns``, relative to the project), validated; read
    again only when the file changes."""
    path = PROJECT_ROOT / get().sources.commune_registers.columns
    try:
        st = path.stat()
    except OSError:
        raise ConfigError(f"{path}: file not found (sources.commune_registers.columns)") from None
    return _register_columns_at(str(path), (st.st_mtime_ns, st.st_size))


# ---------------------------------------------------------------------------- the settings
class Settings(PipelineConfig):
    """What the code reads: the configuration file's sections, the environment's
    overrides applied (``paths.reports`` is ``TCD_PATH_REPORTS`` when that is set), and
    the environment itself as ``env``."""

    config_file: Path
    env: Environment

    @property
    def home(self) -> Path:
        return self.env.home.resolve()

    def resolve(self, path: str | os.PathLike) -> Path:
        p = Path(path)
        return p if p.is_absolute() else self.home / p

    def path(self, name: str) -> Path:
        """A path of the ``paths:`` section, resolved."""
        if name not in Paths.model_fields:
            raise KeyError(f"no path {name!r} in the paths: section ({', '.join(Paths.model_fields)})")
        return self.resolve(getattr(self.paths, name))


def _set(data: dict, dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = data
    for key in parents:
        if not isinstance(node.get(key), dict):
            return                          # the section is missing or wrong: validation says so
        node = node[key]
    node[leaf] = value


def _environment() -> Environment:
    try:
        return Environment()
    except ValidationError as err:
        raise ConfigError(f"environment: invalid variable:\n{describe_errors(err)}") from None


def build(env: Environment | None = None) -> Settings:
    """Settings from the environment (or `env`) and its configuration file, uncached."""
    env = env or _environment()
    data = load_yaml(env.config_file)
    if not isinstance(data, dict):
        raise ConfigError(f"{env.config_file}: invalid configuration: a mapping of sections is expected")
    for name, field in Environment.model_fields.items():
        target = (field.json_schema_extra or {}).get("overrides")
        value = getattr(env, name)
        if target and value is not None:
            _set(data, target, str(value))
    pipeline = validate_yaml(PipelineConfig, env.config_file, data)
    return Settings(**dict(pipeline), config_file=env.config_file, env=env)


# os.environ.get costs ~2 µs a name (a KeyError per unset one); the snapshot reads
# os.environ's own mapping (CPython's os._Environ) when it has one, a dict look-up each.
_ENVIRON_DATA = getattr(os.environ, "_data", None)
_ENV_KEYS = (tuple(os.environ.encodekey(n) for n in ENV_NAMES)
             if isinstance(_ENVIRON_DATA, dict) and hasattr(os.environ, "encodekey") else None)


_CONFIG_INDEX = ENV_NAMES.index("TCD_CONFIG")


def _snapshot() -> tuple:
    if _ENV_KEYS is not None:
        values = tuple(map(_ENVIRON_DATA.get, _ENV_KEYS))
    else:
        values = tuple(os.environ.get(n) for n in ENV_NAMES)
    path = values[_CONFIG_INDEX]
    path = (os.fsdecode(path) if isinstance(path, bytes) else path) or str(DEFAULT_CONFIG)
    try:
        st = os.stat(path)
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None
    return values, path, stamp


_cached: tuple[tuple, Settings, dict] | None = None


def get() -> Settings:
    """The settings, built once per state of the environment and configuration file."""
    global _cached
    key = _snapshot()
    if _cached is None or _cached[0] != key:
        s = build()
        _cached = (key, s, s.model_dump(mode="json", exclude={"env", "config_file"}))
    return _cached[1]


def reload() -> Settings:
    """Drop the cache and build again."""
    global _cached
    _cached = None
    return get()


# ---------------------------------------------------------------------------- older helpers
def home() -> Path:
    """Folder against which relative configured paths are resolved (TCD_HOME)."""
    return get().home


def config() -> dict[str, Any]:
    """The configuration as plain data (the YAML's structure, overrides applied, dates
    as ISO text). New code reads the typed :func:`get`."""
    get()
    return _cached[2]


def resolve(path: str | os.PathLike) -> Path:
    return get().resolve(path)


def path_setting(name: str) -> Path:
    """A path from the `paths:` section, overridable with TCD_PATH_<NAME>."""
    return get().path(name)


@dataclass(frozen=True)
class ConnectionInfo:
    """The parts of an Airflow connection this project uses."""

    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    port: int | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = None
    extra: dict[str, Any] | None = None

    def __repr__(self) -> str:  # never the password
        return (f"ConnectionInfo(conn_id={self.conn_id!r}, conn_type={self.conn_type!r}, host={self.host!r}, "
                f"port={self.port!r}, schema={self.schema!r}, login={self.login!r}, "
                f"password={'***' if self.password else None})")

    @property
    def base_url(self) -> str | None:
        if not self.host:
            return None
        if "://" in self.host:
            return self.host.rstrip("/")
        scheme = self.schema or "http"
        port = f":{self.port}" if self.port else ""
        return f"{scheme}://{self.host}{port}"


def _from_env_conn(conn_id: str) -> ConnectionInfo | None:
    """Parse AIRFLOW_CONN_<ID> (JSON or URI form) without needing Airflow."""
    raw = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if not raw:
        return None
    raw = raw.strip()
    if raw.startswith("{"):
        d = json.loads(raw)
        extra = d.get("extra")
        if isinstance(extra, str):
            extra = json.loads(extra) if extra else None
        return ConnectionInfo(conn_id, d.get("conn_type"), d.get("host"), d.get("port"),
                              d.get("schema"), d.get("login"), d.get("password"), extra)
    u = urlsplit(raw)
    return ConnectionInfo(conn_id, u.scheme, u.hostname, u.port, (u.path or "/")[1:] or None,
                          u.username, u.password, None)


def _from_airflow(conn_id: str) -> ConnectionInfo | None:
    """Look the connection up through Airflow's secrets backends, when in a task."""
    try:
        from airflow.sdk import BaseHook  # noqa: PLC0415 - only inside Airflow tasks
    except Exception:  # noqa: BLE001 - Airflow absent or half-configured: no connection from it
        return None
    try:
        c = BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001 - an undefined connection raises Airflow's own error types
        return None
    return ConnectionInfo(conn_id, c.conn_type, c.host, c.port, c.schema, c.login,
                          c.password, c.extra_dejson or None)


def connection(conn_id: str) -> ConnectionInfo | None:
    """An Airflow connection by id: from the environment first (cheap, works in tests and
    `airflow dags test`), then from Airflow's metadata/secrets backend inside tasks."""
    return _from_env_conn(conn_id) or (
        _from_airflow(conn_id) if get().env.use_airflow_connections
        and os.environ.get("AIRFLOW_CTX_DAG_ID") else None)


def _secret_field(name: str) -> str:
    """The Environment field of a secret given by field or variable name."""
    field = Environment.names().get(name, name)
    if field not in Environment.model_fields or SecretStr not in get_args(Environment.model_fields[field].annotation):
        raise KeyError(f"{name!r} is not a secret declared in core.settings.Environment")
    return field


def secret(conn_id: str, env_name: str, *, required: bool = True) -> str | None:
    """A secret value: the password of connection `conn_id`, else the declared secret
    `env_name` (its variable name, TCD_PSEUDONYM_KEY, or field name, pseudonym_key)."""
    field = _secret_field(env_name)
    c = connection(conn_id)
    if c and c.password:
        return c.password
    value = getattr(get().env, field)
    if value is not None and value.get_secret_value():
        return value.get_secret_value()
    if required:
        raise RuntimeError(
            f"Secret not configured: define Airflow connection '{conn_id}' (password) "
            f"or environment variable {Environment.model_fields[field].validation_alias}.")
    return None


def warehouse_url() -> str:
    s = get()
    c = connection(s.warehouse.conn_id)
    if c and c.extra and c.extra.get("url"):
        return c.extra["url"]
    if s.env.warehouse_url is not None:
        return s.env.warehouse_url.get_secret_value()
    path = s.path("warehouse_sqlite")
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def redact_url(url: str) -> str:
    """A database URL safe to log: the password replaced."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL that cannot be parsed must still not be logged
        return "<unparseable url>"


# ---------------------------------------------------------------------------- docs/configuration.md
DOC_FILE = PROJECT_ROOT / "docs" / "configuration.md"
DOC_BEGIN = "<!-- BEGIN GENERATED by `python -m core.settings doc --write`: edit core/settings.py, not this -->"
DOC_END = "<!-- END GENERATED -->"


def _cell(text: str) -> str:
    """Text in a Markdown table cell (a | would end the cell)."""
    return text.replace("|", "\\|")


def _type_name(annotation: Any) -> str:
    text = repr(annotation) if not isinstance(annotation, type) else annotation.__name__
    text = re.sub(r"\b(?:[a-z_]\w*\.)+", "", text)          # typing., datetime., core.settings. …
    return _cell(text.replace("NoneType", "None"))


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Path):
        try:
            return f"`<project>/{value.relative_to(PROJECT_ROOT)}`" if value != PROJECT_ROOT else "`<project>`"
        except ValueError:
            return f"`{value}`"
    value = to_jsonable_python(value)
    if isinstance(value, str):
        return _cell(f"`{value}`" if value else '`""`')
    return _cell(f"`{json.dumps(value, ensure_ascii=False)}`")


def _yaml_rows(model: type[BaseModel], prefix: str, shipped: Any, env_of: dict[str, str]) -> list[str]:
    rows = []
    for name, f in model.model_fields.items():
        key = f"{prefix}{name}"
        value = getattr(shipped, name, None) if shipped is not None else None
        sub = f.annotation
        args = getattr(sub, "__args__", ())
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            rows += _yaml_rows(sub, f"{key}.", value, env_of)
            continue
        item = args[-1] if args else None
        if isinstance(item, type) and issubclass(item, BaseModel) and getattr(sub, "__origin__", None) in (list, dict):
            marker = "[]" if sub.__origin__ is list else ".<key>"
            shown = _shown(value) if sub.__origin__ is dict else ""
            rows.append(f"| `{key}` | {_type_name(sub)} | {shown if 0 < len(shown) <= 160 else '(see the file)'}"
                        f" | | {_cell(f.description or '')} |")
            rows += _yaml_rows(item, f"{key}{marker}.", None, env_of)
            continue
        default = "required" if f.is_required() else _shown(f.get_default(call_default_factory=True))
        shown = _shown(value) if shipped is not None else ""
        env = f"`{env_of[key]}`" if key in env_of else ""
        rows.append(f"| `{key}` | {_type_name(sub)} | {shown if shown else default} | {env} | "
                    f"{_cell(f.description or '')}{'' if f.is_required() or not shown else f' (default {default})'} |")
        optional = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if optional:                                        # Model | None: its keys too
            rows += _yaml_rows(optional[0], f"{key}.", None, env_of)
    return rows


def doc_tables() -> str:
    """The generated part of docs/configuration.md: every environment variable and every
    key of config/pipeline.yaml, from the declarations above."""
    out = [DOC_BEGIN, "", "### Environment variables", "",
           "| variable | type | default | overrides | read by | what it does |", "|---|---|---|---|---|---|"]
    env_of = {}
    for name, f in Environment.model_fields.items():
        extra = f.json_schema_extra or {}
        if extra.get("overrides"):
            env_of[extra["overrides"]] = f.validation_alias
        out.append(f"| `{f.validation_alias}` | {_type_name(f.annotation)} | {_shown(f.default)} | "
                   f"{'`' + extra['overrides'] + '`' if extra.get('overrides') else ''} | {extra['used_by']} | "
                   f"{_cell(f.description)} |")
    shipped = validate_yaml(PipelineConfig, DEFAULT_CONFIG)
    out += ["", "### config/pipeline.yaml", "",
            "Value: as shipped in config/pipeline.yaml; \"required\": the key must be present.", "",
            "| key | type | value | environment | what it does |", "|---|---|---|---|---|"]
    out += _yaml_rows(PipelineConfig, "", shipped, env_of)
    out += ["", DOC_END]
    return "\n".join(out)


def _write_doc() -> bool:
    text = DOC_FILE.read_text(encoding="utf-8")
    head, _, rest = text.partition(DOC_BEGIN)
    _, _, tail = rest.partition(DOC_END)
    new = head + doc_tables() + tail
    if new != text:
        DOC_FILE.write_text(new, encoding="utf-8")
        return True
    return False


def main(argv: list[str] | None = None) -> int:
    """``python -m core.settings doc [--write]``: print (or write into
    docs/configuration.md) the generated tables; ``python -m core.settings check``:
    load and validate the configuration, print where it came from (never secrets)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["doc"]:
        if "--write" in argv:
            print("docs/configuration.md " + ("updated" if _write_doc() else "up to date"))
        else:
            print(doc_tables())
        return 0
    if argv[:1] == ["check"]:
        try:
            s = get()
        except ConfigError as err:
            print(err, file=sys.stderr)
            return 1
        print(f"configuration {s.config_file}: valid; TCD_HOME {s.home}")
        return 0
    print("usage: python -m core.settings doc [--write] | check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
