"""Shared fixtures and the test lanes. Tests never touch the project's own output/ or
.airflow/: each session works in a temporary TCD_HOME with its own warehouse and secrets.

Lanes (markers declared in pyproject.toml): a test marked ``integration`` or ``e2e`` runs
only in its lane; every other test is in the fast lane (``make test-fast``), which
promises no subprocess, no network and no Great Expectations suite. The promise is
enforced here, not trusted: while a fast-lane test runs (its fixtures included),
starting a subprocess, opening an inet socket or running a GX suite fails the test, even
when the code under test catches the error.
"""
from __future__ import annotations

import multiprocessing.util
import os
import secrets
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from core import settings

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["pytester"]           # tests/test_lanes.py runs the guard in an inner session

# ------------------------------------------------------------------------------ lanes
LANES = ("integration", "e2e")          # pyproject.toml, [tool.pytest.ini_options] markers


def lane(item: pytest.Item) -> str:
    """The lane a test runs in: its lane marker, or "fast"."""
    return next((m for m in LANES if item.get_closest_marker(m)), "fast")


class FastLaneViolation(RuntimeError):
    """A fast-lane test did what only integration and e2e tests may do."""


class LaneGuard:
    """Refuses subprocesses and inet sockets while a fast-lane test runs.

    Guarded: ``subprocess.Popen`` (so ``run``, ``check_output``, asyncio's subprocesses),
    ``os.system``, ``os.fork``/``forkpty`` (multiprocessing's fork workers, ``os.spawn*``),
    ``os.posix_spawn[p]``, multiprocessing's spawn and forkserver starts; for AF_INET and
    AF_INET6 sockets, ``connect``, ``connect_ex``, ``listen`` and ``bind`` to a given port.
    A bind to port 0 alone is let through: urllib3 probes IPv6 support at import with
    ``bind(("::1", 0))``, and a server on an ephemeral port is refused at ``listen``.
    Unix sockets and SQLite files are allowed. GX suites: _fast_lane_runs_no_gx_suite.
    """

    Violation = FastLaneViolation

    def __init__(self) -> None:
        self.test: str | None = None        # nodeid of the fast-lane test running, if any
        self.violations: list[str] = []
        self._paused = threading.local()
        self._saved: list[tuple[object, str, object]] = []

    def check(self, what: str, detail: str) -> None:
        if self.test is None or getattr(self._paused, "on", False):
            return
        msg = f"fast-lane test {what} ({detail}): mark it integration (or e2e), see pyproject.toml markers"
        self.violations.append(msg)
        raise FastLaneViolation(msg)

    def take(self) -> list[str]:
        """The violations recorded since the last call, forgotten."""
        out, self.violations = self.violations, []
        return out

    class _Pause:
        def __init__(self, guard):
            self.guard = guard

        def __enter__(self):
            self.guard._paused.on = True

        def __exit__(self, *exc):
            self.guard._paused.on = False

    def paused(self):
        """Let this thread through (the guard's own tests run an inner session)."""
        return self._Pause(self)

    # -------------------------------------------------------------- installation
    def _wrap(self, owner, name: str, make) -> None:
        original = getattr(owner, name, None)
        if original is None:
            return
        self._saved.append((owner, name, original))
        setattr(owner, name, make(original))

    def install(self) -> None:
        guard = self

        def subprocess_(what):
            def make(original):
                def wrapper(*args, **kwargs):
                    guard.check("started a subprocess", what(args))
                    return original(*args, **kwargs)
                return wrapper
            return make

        def argv(args):          # Popen._execute_child(self, args, executable, ...)
            a = args[1]
            return str(a if isinstance(a, (str, bytes, os.PathLike)) else (list(a) or ["?"])[0])

        self._wrap(subprocess.Popen, "_execute_child", subprocess_(argv))
        self._wrap(os, "system", subprocess_(lambda a: f"os.system {a[0]!r}"[:120]))
        self._wrap(os, "posix_spawn", subprocess_(lambda a: str(a[0])))
        self._wrap(os, "posix_spawnp", subprocess_(lambda a: str(a[0])))
        self._wrap(os, "fork", subprocess_(lambda a: "os.fork"))
        self._wrap(os, "forkpty", subprocess_(lambda a: "os.forkpty"))
        self._wrap(multiprocessing.util, "spawnv_passfds", subprocess_(lambda a: str(a[0])))

        def sock(what, refuse=lambda address: True):
            def make(original):
                def wrapper(self, *args):
                    if self.family in (socket.AF_INET, socket.AF_INET6):
                        address = args[0] if what != "opened a listening socket" else _name(self)
                        if refuse(address):
                            guard.check(what, str(address))
                    return original(self, *args)
                return wrapper
            return make

        self._wrap(socket.socket, "connect", sock("opened a network connection"))
        self._wrap(socket.socket, "connect_ex", sock("opened a network connection"))
        self._wrap(socket.socket, "listen", sock("opened a listening socket"))
        self._wrap(socket.socket, "bind", sock("bound a network socket",
                                               lambda address: not isinstance(address, tuple) or address[1] != 0))

    def uninstall(self) -> None:
        while self._saved:
            owner, name, original = self._saved.pop()
            setattr(owner, name, original)


def _name(sock: socket.socket):
    try:
        return sock.getsockname()
    except OSError:
        return "?"


GUARD = LaneGuard()


def pytest_configure(config):
    GUARD.install()


def pytest_unconfigure(config):
    GUARD.uninstall()


# Setup (the module and session fixtures a fast test brings up included) and call are
# guarded. Teardown is not: the last test of a module or of the session also ends the
# fixtures of the tests before it, which may stop a server or a database (pg_ctl).
@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    GUARD.test = item.nodeid if lane(item) == "fast" else None
    try:
        return (yield)
    finally:
        GUARD.test = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    GUARD.test = item.nodeid if lane(item) == "fast" else None
    try:
        return (yield)
    finally:
        GUARD.test = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    found = GUARD.take()
    if found:                        # failed even if the code under test caught the error
        text = "\n".join(dict.fromkeys(found))
        if report.failed:
            report.sections.append(("fast lane", text))
        else:
            report.outcome, report.longrepr = "failed", text
    return report


@pytest.fixture()
def lane_guard():
    """The lane guard, for the guard's own tests."""
    return GUARD


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


@pytest.fixture(autouse=True)
def _fast_lane_runs_no_gx_suite(request, monkeypatch):
    """The fast lane runs no Great Expectations suite either: GX takes seconds to import
    and ~0.4 s a suite run, whatever the frame; tests through the consolidation, which
    runs the committed suites, are integration tests."""
    if lane(request.node) != "fast":
        return
    from transforms import quality

    def refuse(*args, **kwargs):
        GUARD.check("ran the Great Expectations suites", "transforms.quality")

    monkeypatch.setattr(quality, "_gx", refuse)


@pytest.fixture()
def warehouse(tmp_path):
    """A fresh SQLite warehouse engine (schema created, units loaded)."""
    from warehouse import db, units

    eng = db.engine(f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
    units.load_dim_unit(eng, settings.get())
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
