"""Files, one way each: checksums and atomic writes (readers never see half a file)."""
from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Inside deferred_fsync(): atomic writes skip their own fsync; the block ends with one
# sync of everything written (a report set writes thousands of small files, and an
# fsync each cost more than writing them).
_deferred = contextvars.ContextVar("tcd_deferred_fsync", default=False)


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def deferred_fsync() -> Iterator[None]:
    """Atomic writes in the block are not fsync'd one by one; the block ends with one
    ``os.sync()``, so everything it wrote is on disk when it returns (also when it
    raises). Readers still never see half a file: each write is a rename."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)
        os.sync()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, fsync'd
    (unless inside :func:`deferred_fsync`), then renamed over the target."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if not _deferred.get():
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
