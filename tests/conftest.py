"""Shared fixtures. Tests never touch the project's own output/ or .airflow/: each
session works in a temporary TCD_HOME with its own warehouse and secrets."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _isolated_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("tcd_home")
    saved = dict(os.environ)
    os.environ["TCD_HOME"] = str(home)
    os.environ["TCD_PSEUDONYM_KEY"] = secrets.token_hex(32)
    os.environ["TCD_CITY_API_TOKEN"] = secrets.token_urlsafe(16)
    for var in ("TCD_WAREHOUSE_URL", "TCD_COMMUNE_INBOX", "TCD_DISTRICT_DB_DIR", "TCD_CITY_API_URL",
                "AIRFLOW_CONN_TCD_CITY_API", "TCD_DISTRICT_CODES"):
        os.environ.pop(var, None)
    yield home
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture()
def warehouse(tmp_path):
    """A fresh SQLite warehouse engine (schema created, units loaded)."""
    from warehouse import db, units

    eng = db.engine(f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    units.load_dim_unit(eng)
    return eng


SMALL_END = "2025-10-31"
SMALL_SEED, SMALL_DISTRICTS, SMALL_COMMUNES = 7, ["001"], 2


@pytest.fixture(scope="session")
def small_sources(tmp_path_factory):
    """A small generated data set: district 001 (Ba Đình) with 2 communes, the 2025
    communes that succeed them, and the whole city service, to 31/10/2025."""
    import datetime as dt

    from simulators.generate import generate

    out = tmp_path_factory.mktemp("sources")
    generate(out, seed=SMALL_SEED, districts=SMALL_DISTRICTS, communes_per_district=SMALL_COMMUNES,
             end=dt.date.fromisoformat(SMALL_END))
    return out


@pytest.fixture(scope="session")
def city_server(small_sources):
    """The simulated city service, a real HTTP server on localhost."""
    from simulators.city_server import serve_in_thread

    token = os.environ["TCD_CITY_API_TOKEN"]
    url, stop = serve_in_thread(small_sources / "city_service" / "city.sqlite", token, port=0)
    yield url, token
    stop()
