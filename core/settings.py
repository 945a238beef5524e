"""Read configuration (config/pipeline.yaml) and secrets in one place.

Configuration is data in the repository; secrets (tokens, passwords, the pseudonym key,
database URLs with credentials) come from an Airflow connection when one is defined, or
else from an environment variable. Nothing secret is ever read from the repository.
"""
from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def home() -> Path:
    """Folder against which relative configured paths are resolved (TCD_HOME)."""
    return Path(os.environ.get("TCD_HOME", PROJECT_ROOT)).resolve()


@functools.lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def config() -> dict[str, Any]:
    path = os.environ.get("TCD_CONFIG", str(PROJECT_ROOT / "config" / "pipeline.yaml"))
    return _load(path)


def resolve(path: str | os.PathLike) -> Path:
    p = Path(path)
    return p if p.is_absolute() else home() / p


def path_setting(name: str) -> Path:
    """A path from the `paths:` section, overridable with TCD_PATH_<NAME>."""
    override = os.environ.get(f"TCD_PATH_{name.upper()}")
    return resolve(override or config()["paths"][name])


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
        _from_airflow(conn_id) if os.environ.get("TCD_USE_AIRFLOW_CONNECTIONS", "1") == "1"
        and os.environ.get("AIRFLOW_CTX_DAG_ID") else None)


def secret(conn_id: str, env_name: str, *, required: bool = True) -> str | None:
    """A secret value: the password of connection `conn_id`, else env `env_name`."""
    c = connection(conn_id)
    if c and c.password:
        return c.password
    value = os.environ.get(env_name)
    if value:
        return value
    if required:
        raise RuntimeError(
            f"Secret not configured: define Airflow connection '{conn_id}' (password) "
            f"or environment variable {env_name}.")
    return None


def warehouse_url() -> str:
    cfg = config()["warehouse"]
    c = connection(cfg["conn_id"])
    if c and c.extra and c.extra.get("url"):
        return c.extra["url"]
    url = os.environ.get(cfg["url_env"])
    if url:
        return url
    path = path_setting("warehouse_sqlite")
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def redact_url(url: str) -> str:
    """A database URL safe to log: the password replaced."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL that cannot be parsed must still not be logged
        return "<unparseable url>"
