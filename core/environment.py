"""Every environment variable the project reads, declared once, typed.

:class:`Environment` declares every environment variable the code, the scripts, the
Makefile and docker-compose.yaml read (all ``TCD_*``), with its type, default and
meaning (docs/configuration.md is generated from these declarations:
``python -m core.settings_doc --write``). Some override a key of the YAML
(``TCD_PATH_REPORTS`` → ``paths.reports``), some stand alone (``TCD_HOME``,
``TCD_TASK_RETRIES``), some are secrets (:class:`~pydantic.SecretStr`, never logged,
never in a ``repr``). Empty values count as unset. The code reads them through
:func:`core.settings.get` (``.env``), not from here.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "pipeline.yaml"
DEFAULT_RECIPIENTS = PROJECT_ROOT / "config" / "recipients.yaml"


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
