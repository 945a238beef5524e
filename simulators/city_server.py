"""The city's reception system as a JSON web service (contract §3), over city.sqlite.

    python -m simulators.city_server --db DIR/city_service/city.sqlite \\
        --host 127.0.0.1 --port 8765 [--token TOKEN] [--pidfile FILE] [--background | --stop]

The token comes from --token or env TCD_CITY_API_TOKEN (prefer the env: argv is visible
to every user of the machine). Foreground by default; SIGTERM/SIGINT shut it down
cleanly and remove the pid file. ``--background`` starts a detached server, waits until
it answers /api/v1/health and returns (for Makefiles); ``--stop`` stops it by pid file.

Behaviour (what the connector relies on):

- ``GET /api/v1/health`` → ``{"status": "ok"}``, no token needed;
- ``GET /api/v1/{receptions|petitions|cases}`` with ``Authorization: Bearer <token>``
  (401 with a JSON error otherwise); ``changed_since`` is exclusive and must be ISO 8601
  with a UTC offset (a naive time is ambiguous → 400; a '+' sent unencoded arrives as a
  space and is accepted); ``page`` ≥ 1, ``page_size`` 1..1000 (default 500); anything
  else → 400 with a JSON error. Pages past the end are empty;
- the feed holds every version, ordered by ``updated_at``, ``id``, ``version``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hmac
import math
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import uvicorn

# Module level: FastAPI resolves the `Request` annotation from module globals.
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

TOKEN_ENV = "TCD_CITY_API_TOKEN"
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 500
RESOURCES = ("receptions", "petitions", "cases", "reception-calendar")
# resource → table of the store; reception-calendar (the head's published reception
# calendar) is optional: a store without its table answers 404, as a service without
# calendars would.
TABLES = {"receptions": "receptions", "petitions": "petitions", "cases": "cases",
          "reception-calendar": "reception_calendar"}
# What a resolved petition's decision ordered (numbers; 0 when nothing).
DECISION_FIELDS = ("recover_money", "recover_land", "return_org_money", "return_org_land", "return_person_money",
                   "return_person_land", "orgs_restored", "persons_restored", "sanction_people",
                   "sanction_officials", "prosecuted_cases", "prosecuted_people", "prosecuted_officials")
# Execution of the decision (thi hành); executed_on: fully carried out.
EXECUTION_FIELDS = ("collected_money", "collected_land", "returned_org_money", "returned_org_land",
                    "returned_person_money", "returned_person_land", "sanctioned_people", "sanctioned_officials",
                    "prosecuted_done_cases", "prosecuted_done_people", "prosecuted_done_officials")
_COLUMNS = {
    "receptions": "id, version, updated_at, status, unit_code, received_on, mode, receiver, sitting_id, people, "
                  "kind, case_id, visit, citizen_full_name, citizen_id_number, citizen_address, citizen_phone, summary",
    "petitions": "id, version, updated_at, status, unit_code, received_on, channel, kind, signers, field, case_id, "
                 "reception_id, eligible, competent, handling, reply_received, citizen_full_name, "
                 "citizen_id_number, citizen_address, citizen_phone, summary, processed_on, accepted_on, "
                 "resolved_on, round, outcome, on_time, " + ", ".join(DECISION_FIELDS)
                 + ", executed_on, " + ", ".join(EXECUTION_FIELDS) + ", not_accepted_on, sanction_orgs, sanctioned_orgs",
    "cases": "id, version, updated_at, status, unit_code, opened_on, kind, field, resolution, resolved_on",
    "reception-calendar": "id, version, updated_at, status, unit_code, announced_on, receiver",
}
_UNENCODED_PLUS = re.compile(r"^(.+[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


class BadRequest(ValueError):
    pass


def _bool(v):
    return None if v is None else bool(v)


def _citizen(r: sqlite3.Row) -> dict:
    return {"full_name": r["citizen_full_name"], "id_number": r["citizen_id_number"],
            "address": r["citizen_address"], "phone": r["citizen_phone"]}


def _item(resource: str, r: sqlite3.Row) -> dict:
    head = {"id": r["id"], "version": r["version"], "updated_at": r["updated_at"], "status": r["status"],
            "unit_code": r["unit_code"]}
    if resource == "receptions":
        return {**head, "received_on": r["received_on"], "mode": r["mode"], "receiver": r["receiver"],
                "sitting_id": r["sitting_id"], "people": r["people"], "kind": r["kind"], "case_id": r["case_id"],
                "visit": r["visit"], "citizen": _citizen(r), "summary": r["summary"]}
    if resource == "petitions":
        return {**head, "received_on": r["received_on"], "channel": r["channel"], "kind": r["kind"],
                "signers": r["signers"], "field": r["field"], "case_id": r["case_id"],
                "reception_id": r["reception_id"], "eligible": bool(r["eligible"]),
                "competent": _bool(r["competent"]), "handling": r["handling"],
                "reply_received": _bool(r["reply_received"]), "citizen": _citizen(r), "summary": r["summary"],
                "processed_on": r["processed_on"], "accepted_on": r["accepted_on"], "resolved_on": r["resolved_on"],
                "round": r["round"], "outcome": r["outcome"], "on_time": _bool(r["on_time"]),
                **{f: r[f] for f in DECISION_FIELDS}, "executed_on": r["executed_on"],
                **{f: r[f] for f in EXECUTION_FIELDS},
                # TT 06/2025 fields (contract §3: optional for a client)
                "not_accepted_on": r["not_accepted_on"], "sanction_orgs": r["sanction_orgs"],
                "sanctioned_orgs": r["sanctioned_orgs"]}
    if resource == "reception-calendar":
        return {**head, "announced_on": r["announced_on"], "receiver": r["receiver"]}
    return {**head, "opened_on": r["opened_on"], "kind": r["kind"], "field": r["field"],
            "resolution": r["resolution"], "resolved_on": r["resolved_on"]}


def parse_changed_since(raw: str | None) -> tuple[str | None, float | None]:
    """(normalised ISO text, epoch seconds) or (None, None) when omitted."""
    if raw is None or raw == "":
        return None, None
    text = raw.strip()
    m = _UNENCODED_PLUS.match(text)
    if m:
        text = f"{m.group(1)}+{m.group(2)}"
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"changed_since is not an ISO 8601 timestamp: {raw[:40]!r}") from None
    if t.tzinfo is None:
        raise BadRequest("changed_since must include a UTC offset, e.g. 2021-07-06T09:12:00+07:00")
    return t.isoformat(), t.timestamp()


def _int_param(raw: str | None, name: str, default: int, lo: int, hi: int | None) -> int:
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"\d+", raw.strip()):
        raise BadRequest(f"{name} must be an integer, got {raw[:20]!r}")
    v = int(raw)
    if v < lo or (hi is not None and v > hi):
        raise BadRequest(f"{name} must be between {lo} and {hi}" if hi else f"{name} must be ≥ {lo}")
    return v


def create_app(db_path: str | os.PathLike, token: str):
    """The FastAPI application serving one city.sqlite."""
    if not token:
        raise ValueError(f"an API token is required (--token or env {TOKEN_ENV})")
    db = Path(db_path)
    if not db.is_file():
        raise FileNotFoundError(f"city service database not found: {db}")
    uri = f"file:{db.resolve()}?mode=ro"
    expected = f"Bearer {token}".encode()
    app = FastAPI(title="Hệ thống tiếp công dân thành phố (simulated)", docs_url=None, redoc_url=None,
                  openapi_url=None)

    def error(status: int, code: str, message: str, headers: dict | None = None):
        return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)

    @app.get("/api/v1/health")
    def health():
        return {"status": "ok"}

    @app.get("/api/v1/{resource}")
    def feed(resource: str, request: Request):
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return error(401, "unauthorized", "missing or invalid bearer token",
                         {"WWW-Authenticate": 'Bearer realm="tcd-city"'})
        if resource not in RESOURCES:
            return error(404, "not_found", f"unknown resource {resource[:40]!r}; use {', '.join(RESOURCES)}")
        q = request.query_params
        try:
            unknown = sorted(set(q.keys()) - {"changed_since", "page", "page_size"})
            if unknown:
                raise BadRequest(f"unknown query parameter(s): {', '.join(unknown)[:80]}")
            since_text, since = parse_changed_since(q.get("changed_since"))
            page = _int_param(q.get("page"), "page", 1, 1, None)
            size = _int_param(q.get("page_size"), "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        except BadRequest as exc:
            return error(400, "bad_request", str(exc))
        where, args = ("WHERE updated_ts > ?", [since]) if since is not None else ("", [])
        con = sqlite3.connect(uri, uri=True, check_same_thread=False)
        try:
            con.row_factory = sqlite3.Row
            table = TABLES[resource]
            if not con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone():
                return error(404, "not_found", f"this service has no resource {resource!r}")
            total = con.execute(f"SELECT COUNT(*) FROM {table} {where}", args).fetchone()[0]
            rows = con.execute(f"SELECT {_COLUMNS[resource]} FROM {table} {where} "
                               "ORDER BY updated_ts, id, version LIMIT ? OFFSET ?",
                               [*args, size, (page - 1) * size]).fetchall()
        finally:
            con.close()
        return {"resource": resource, "changed_since": since_text, "page": page, "page_size": size,
                "total_items": total, "total_pages": math.ceil(total / size),
                "items": [_item(resource, r) for r in rows]}

    return app


def create_national_app(root: str | os.PathLike, token: str):
    """Every province's service of a national set of sources (``python -m
    simulators.generate --provinces ...``: ROOT/<code>/city_service/city.sqlite), each
    under ``/<code>`` (``/48/api/v1/receptions``) — one process standing in for the 34
    provinces' own services; ``/api/v1/health`` answers for all."""
    if not token:
        raise ValueError(f"an API token is required (--token or env {TOKEN_ENV})")
    stores = sorted(Path(root).glob("[0-9][0-9]/city_service/city.sqlite"))
    if not stores:
        raise FileNotFoundError(f"no <code>/city_service/city.sqlite under {root}")
    app = FastAPI(title="Hệ thống tiếp công dân các tỉnh (simulated)", docs_url=None, redoc_url=None,
                  openapi_url=None)

    @app.get("/api/v1/health")
    def health():
        return {"status": "ok", "provinces": [p.parent.parent.name for p in stores]}

    for db in stores:
        app.mount(f"/{db.parent.parent.name}", create_app(db, token))
    return app


def app_for(path: str | os.PathLike, token: str):
    """The service of a city.sqlite, or of every province under a national folder."""
    return create_national_app(path, token) if Path(path).is_dir() else create_app(path, token)


# --------------------------------------------------------------------------- running it
def serve_in_thread(db_path, token: str, port: int = 0, host: str = "127.0.0.1"):
    """Run the service in a background thread (tests). Returns (base_url, stop_fn);
    port 0 picks a free port. `db_path` a folder: every province's (create_national_app)."""
    app = app_for(db_path, token)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name="city-server")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the city service did not start")
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    return f"http://{host}:{sock.getsockname()[1]}", stop


def _wait_healthy(url: str, proc: subprocess.Popen | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the city service exited with code {proc.returncode} (see its log)")
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the city service did not answer on {url} within {timeout:.0f} s")


def start_background(db, port: int, token: str, pidfile, host: str = "127.0.0.1", log_file=None,
                     timeout: float = 20.0) -> str:
    """Start a detached server process (its pid in `pidfile`), wait until it is healthy,
    and return its base URL. The token reaches the child through its environment."""
    pidfile = Path(pidfile)
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text().strip()), 0)
            raise RuntimeError(f"a city service already runs with pid file {pidfile}; stop it first")
        except (ProcessLookupError, ValueError):
            pidfile.unlink()             # stale pid file
    if not token:
        raise ValueError(f"an API token is required (--token or env {TOKEN_ENV})")
    if not Path(db).exists():
        raise FileNotFoundError(f"city service database not found: {db}")
    log_path = Path(log_file) if log_file else pidfile.with_suffix(".log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, TOKEN_ENV: token}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "simulators.city_server", "--db", str(db), "--host", host, "--port", str(port),
             "--pidfile", str(pidfile)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True,
            cwd=str(Path(__file__).resolve().parent.parent))
    url = f"http://{host}:{port}"
    try:
        _wait_healthy(url, proc, timeout)
    except RuntimeError:
        if proc.poll() is None:
            proc.terminate()
        raise
    return url


def stop_background(pidfile, timeout: float = 10.0) -> bool:
    """Stop the server recorded in `pidfile` with SIGTERM; False if none was running."""
    pidfile = Path(pidfile)
    if not pidfile.exists():
        return False
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, signal.SIGTERM)
    except (ValueError, ProcessLookupError):
        pidfile.unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise RuntimeError(f"the city service (pid {pid}) did not stop within {timeout:.0f} s")
    pidfile.unlink(missing_ok=True)
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simulators.city_server", description=__doc__.split("\n")[0])
    ap.add_argument("--db", help="path to city_service/city.sqlite, or a national folder of sources "
                                 "(every <code>/city_service/city.sqlite, each under /<code>)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--token", default=None, help=f"bearer token (default: env {TOKEN_ENV})")
    ap.add_argument("--pidfile", default=None)
    ap.add_argument("--log-file", default=None, help="with --background (default: <pidfile>.log)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--background", action="store_true", help="start detached, wait until healthy, return")
    mode.add_argument("--stop", action="store_true", help="stop the server of --pidfile")
    a = ap.parse_args(argv)
    token = a.token or os.environ.get(TOKEN_ENV, "")
    try:
        if a.stop:
            if not a.pidfile:
                ap.error("--stop needs --pidfile")
            print("stopped" if stop_background(a.pidfile) else "not running")
            return 0
        if not a.db:
            ap.error("--db is required")
        if a.background:
            if not a.pidfile:
                ap.error("--background needs --pidfile")
            print(start_background(a.db, a.port, token, a.pidfile, a.host, a.log_file))
            return 0
        app = app_for(a.db, token)
        if a.pidfile:
            Path(a.pidfile).write_text(f"{os.getpid()}\n")
        # uvicorn traps SIGTERM/SIGINT while serving (in-flight requests finish), then
        # restores these handlers and re-raises the signal: exit 0 through `finally`
        # (pid file removed) instead of dying by the default SIGTERM action.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: sys.exit(0))
        try:
            uvicorn.run(app, host=a.host, port=a.port, log_level="info", lifespan="off")
        finally:
            if a.pidfile:
                p = Path(a.pidfile)
                if p.exists() and p.read_text().strip() == str(os.getpid()):
                    p.unlink()
        return 0
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
