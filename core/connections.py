"""Airflow connections and secrets.

**Secrets.** Nothing secret is ever read from the repository. A secret is the password
(or extra ``url``) of an Airflow connection when one is defined — Airflow connections
are the secrets mechanism: the UI, the CLI, a secrets backend, or an
``AIRFLOW_CONN_<ID>`` environment variable — and otherwise the environment variable
declared for it in :class:`core.environment.Environment` (:func:`secret`,
:func:`warehouse_url`). :func:`connection` reads a connection; :func:`redact_url` makes
a database URL safe to log.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_args
from urllib.parse import urlsplit

from pydantic import SecretStr
from sqlalchemy.engine import make_url

from core.environment import Environment

if TYPE_CHECKING:
    from core.settings import Settings


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


def connection(conn_id: str, env: Environment) -> ConnectionInfo | None:
    """An Airflow connection by id: from the environment first (cheap, works in tests and
    `airflow dags test`), then from Airflow's metadata/secrets backend inside tasks (when
    `env` allows it: TCD_USE_AIRFLOW_CONNECTIONS)."""
    return _from_env_conn(conn_id) or (
        _from_airflow(conn_id) if env.use_airflow_connections
        and os.environ.get("AIRFLOW_CTX_DAG_ID") else None)


def _secret_field(name: str) -> str:
    """The Environment field of a secret given by field or variable name."""
    field = Environment.names().get(name, name)
    if field not in Environment.model_fields or SecretStr not in get_args(Environment.model_fields[field].annotation):
        raise KeyError(f"{name!r} is not a secret declared in core.environment.Environment")
    return field


def secret(conn_id: str, env_name: str, env: Environment, *, required: bool = True) -> str | None:
    """A secret value: the password of connection `conn_id`, else the declared secret
    `env_name` (its variable name, TCD_PSEUDONYM_KEY, or field name, pseudonym_key) of
    the environment `env`."""
    field = _secret_field(env_name)
    c = connection(conn_id, env)
    if c and c.password:
        return c.password
    value = getattr(env, field)
    if value is not None and value.get_secret_value():
        return value.get_secret_value()
    if required:
        raise RuntimeError(
            f"Secret not configured: define Airflow connection '{conn_id}' (password) "
            f"or environment variable {Environment.model_fields[field].validation_alias}.")
    return None


def warehouse_url(s: Settings) -> str:
    """The warehouse's database URL: connection ``warehouse.conn_id`` (extra ``url``),
    else TCD_WAREHOUSE_URL, else the SQLite file ``paths.warehouse_sqlite``."""
    c = connection(s.warehouse.conn_id, s.env)
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
