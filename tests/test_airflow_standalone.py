"""Under the real scheduler, as administrators run it: `airflow standalone` (API server,
scheduler with LocalExecutor, DAG processor, triggerer) in a temporary AIRFLOW_HOME.
Through the REST API v2: create the city service's connection, check there are no
import errors, trigger the city ingestion, see it succeed,
and see the asset it emits trigger the consolidation, which succeeds too. This is where
a task touching Airflow's metadata database directly would fail."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e   # airflow standalone: scheduler, API server, REST calls


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what, fn, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = fn()
            if value:
                return value
        except (httpx.HTTPError, OSError, KeyError, ValueError):
            pass
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def standalone(small_sources, city_server, tmp_path_factory):
    home = tmp_path_factory.mktemp("standalone")
    url, token = city_server
    host, port = url.removeprefix("http://").split(":")
    api_port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("AIRFLOW_CONN_TCD_CITY_API", "TCD_CITY_API_TOKEN")}
    env.update({
        "AIRFLOW_HOME": str(home / "airflow"), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{api_port}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__API_AUTH__JWT_SECRET": "test-only-jwt-secret-0123456789abcdef",
        "TCD_HOME": str(home),
        "TCD_WAREHOUSE_URL": f"sqlite:///{home / 'warehouse.sqlite'}",
        "TCD_COMMUNE_INBOX": str(small_sources / "commune_inbox"),
        "TCD_DISTRICT_DB_DIR": str(small_sources / "district_db"),
        "PYTHONPATH": str(ROOT), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    })
    log = open(home / "standalone.log", "w")
    proc = subprocess.Popen(["airflow", "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{api_port}"
    try:
        _wait("the API server", lambda: httpx.get(f"{base}/api/v2/monitor/health", timeout=5).status_code == 200, 240)
        pw_file = home / "airflow" / "simple_auth_manager_passwords.json.generated"
        password = _wait("the admin password", lambda: json.loads(pw_file.read_text())["admin"], 60)
        tok = httpx.post(f"{base}/auth/token", json={"username": "admin", "password": password}, timeout=10)
        tok.raise_for_status()
        client = httpx.Client(base_url=base, timeout=20,
                              headers={"Authorization": f"Bearer {tok.json()['access_token']}"})
        # The city service is configured the way an administrator would: an Airflow
        # connection created through the REST API, stored in the metadata database.
        client.post("/api/v2/connections", json={
            "connection_id": "tcd_city_api", "conn_type": "http", "host": host, "port": int(port),
            "schema": "http", "password": token}).raise_for_status()
        yield client, home
        client.close()
    finally:
        # Stop `standalone` itself first so that it shuts its components down (signalled
        # all at once, it restarts the ones that die first), then sweep the group.
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        _kill_group(proc.pid)
        log.close()


def _kill_group(pgid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        time.sleep(3)


def _run_state(client, dag_id, run_id):
    return client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").json()["state"]


def test_dags_run_under_the_scheduler_and_assets_chain(standalone):
    client, home = standalone
    dags = _wait("the DAG processor", lambda: {d["dag_id"] for d in client.get("/api/v2/dags").json()["dags"]}
                 >= {"ingest_city_service", "consolidate_warehouse", "report_periodic"}, 180)
    assert dags
    assert client.get("/api/v2/importErrors").json()["total_entries"] == 0
    for dag_id in ("ingest_city_service", "consolidate_warehouse"):
        client.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}).raise_for_status()

    run = client.post("/api/v2/dags/ingest_city_service/dagRuns", json={"logical_date": None})
    run.raise_for_status()
    run_id = run.json()["dag_run_id"]
    state = _wait("the ingest run", lambda: (s := _run_state(client, "ingest_city_service", run_id))
                  in ("success", "failed") and s, 300)
    assert state == "success", (home / "standalone.log").read_text()[-3000:]

    # The asset the ingestion emitted schedules the consolidation.
    def consolidated():
        runs = client.get("/api/v2/dags/consolidate_warehouse/dagRuns").json()["dag_runs"]
        done = [r for r in runs if r["run_type"] == "asset_triggered" and r["state"] in ("success", "failed")]
        return done and done[0]["state"]
    assert _wait("the asset-triggered consolidation", consolidated, 300) == "success"

    eng = sa.create_engine(f"sqlite:///{home / 'warehouse.sqlite'}")  # the DAGs' own warehouse
    with eng.connect() as c:
        assert c.execute(sa.text("select count(*) from fact_reception where source_kind='city_service'")).scalar_one() > 0
    eng.dispose()


def teardown_module(module):
    """After the fixture is torn down, no Airflow process of this test may remain."""
    leftovers = subprocess.run(["pgrep", "-f", "airflow (scheduler|api_server|triggerer|dag-processor|standalone)"],
                               capture_output=True, text=True).stdout.split()
    mine = [p for p in leftovers if Path(f"/proc/{p}/environ").exists()
            and b"standalone" in Path(f"/proc/{p}/environ").read_bytes()]
    assert not mine, f"Airflow processes left running: {mine}"
