"""The fast lane's promise, enforced by tests/conftest.py: a test not marked integration
or e2e that starts a subprocess, opens an inet socket or runs a GX suite fails, with a
message saying how to mark it. These tests are in the fast lane themselves, so each call below meets the
real guard; a guard that let one through would leave a `pytest.raises` unsatisfied."""
from __future__ import annotations

import multiprocessing
import os
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest

from core import settings

MESSAGE = r"fast-lane test {} \(.*\): mark it integration"


def _refused(guard, what: str, call) -> str:
    with pytest.raises(guard.Violation, match=MESSAGE.format(what)):
        call()
    [msg] = guard.take()              # recorded too; taken here so that this test passes
    return msg


def test_a_subprocess_is_refused(lane_guard):
    assert "(true)" in _refused(lane_guard, "started a subprocess", lambda: subprocess.run(["true"]))
    _refused(lane_guard, "started a subprocess", lambda: subprocess.check_output("echo hi", shell=True))
    _refused(lane_guard, "started a subprocess", lambda: os.system("true"))
    _refused(lane_guard, "started a subprocess", lambda: os.posix_spawnp("true", ["true"], os.environ))


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_a_worker_process_is_refused(lane_guard, method):
    # Were the guard to let it through, the worker would only exit.
    proc = multiprocessing.get_context(method).Process(target=os._exit, args=(0,))
    _refused(lane_guard, "started a subprocess", proc.start)


def test_network_sockets_are_refused(lane_guard):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))              # urllib3's IPv6 probe binds to port 0 at import
        assert "127.0.0.1" in _refused(lane_guard, "opened a listening socket", s.listen)
    with socket.socket() as s:
        _refused(lane_guard, "opened a network connection", lambda: s.connect(("127.0.0.1", 9)))
    with socket.socket() as s:
        _refused(lane_guard, "opened a network connection", lambda: s.connect_ex(("127.0.0.1", 9)))
    with socket.socket(socket.AF_INET6) as s:
        _refused(lane_guard, "bound a network socket", lambda: s.bind(("::1", 8765)))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        _refused(lane_guard, "opened a network connection", lambda: s.connect(("127.0.0.1", 53)))


def test_a_gx_suite_is_refused(lane_guard):
    import pandas as pd

    from transforms import quality

    frame = pd.DataFrame({"raw_id": [1]})
    _refused(lane_guard, "ran the Great Expectations suites", lambda: quality.run("commune_register_batch", frame, "p", settings.get()))


def test_files_and_unix_sockets_are_allowed(lane_guard, tmp_path):
    con = sqlite3.connect(tmp_path / "x.sqlite")
    con.execute("create table t (x)")
    con.close()
    a, b = socket.socketpair()
    with a, b:
        a.sendall(b"x")
        assert b.recv(1) == b"x"
    assert lane_guard.take() == []


INNER = '''
import socket, subprocess
import pytest

def test_swallowed():
    try:
        subprocess.run(["true"])
    except Exception:
        pass

@pytest.fixture
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s

def test_fixture_opens_a_server(server):
    pass

@pytest.mark.integration
def test_integration(server):
    subprocess.run(["true"], check=True)

@pytest.fixture(scope="session")
def database():
    yield
    subprocess.run(["true"], check=True)      # stopping it runs a program (pg_ctl stop)

@pytest.mark.e2e
def test_e2e(database):
    subprocess.run(["true"], check=True)

def test_pure():                              # last: the session's teardown runs in its own
    assert sum(range(4)) == 6
'''


def test_the_guard_fails_tests_in_a_session(pytester, lane_guard):
    """An inner session with this conftest: the fast-lane test fails even though it
    caught the error, so does the one whose fixture opens a server; the marked ones pass,
    and so does the last fast test, whose teardown stops the session's fixtures."""
    pytester.makeconftest(Path(__file__).with_name("conftest.py").read_text(encoding="utf-8"))
    pytester.makeini("[pytest]\naddopts = --strict-markers\nmarkers =\n  integration: x\n  e2e: y\n")
    pytester.makepyfile(test_inner=INNER)
    with lane_guard.paused():        # the marked inner tests really start `true`
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=3, failed=1, errors=1)
    out = result.stdout.str()
    assert "FAILED test_inner.py::test_swallowed" in out
    assert "ERROR at setup of test_fixture_opens_a_server" in out
    assert "fast-lane test started a subprocess (true): mark it integration" in out
    assert "fast-lane test opened a listening socket (('127.0.0.1'," in out
    assert lane_guard.take() == []
    _refused(lane_guard, "started a subprocess", lambda: subprocess.run(["true"]))   # this session's guard is back
