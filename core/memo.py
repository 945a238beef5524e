"""Values derived from an object that must not be made again for every use of it
(:func:`by_identity`): the crosswalk's maps, a completeness frame's lookups — read by
each of the thousands of scopes of a report set."""
from __future__ import annotations

from typing import Any, Callable, TypeVar

T = TypeVar("T")

_CACHE: dict[tuple[int, Callable], tuple[Any, Any]] = {}
_LIMIT = 256


def by_identity(obj: Any, make: Callable[[Any], T]) -> T:
    """``make(obj)``, made once per object (by identity: frames are not hashable). The
    object is kept alive with its value, so that its id stays its own; the cache is
    emptied when full. `obj` must not be modified after, nor the value returned."""
    key = (id(obj), make)
    hit = _CACHE.get(key)
    if hit is None or hit[0] is not obj:
        if len(_CACHE) >= _LIMIT:
            _CACHE.clear()
        hit = _CACHE[key] = (obj, make(obj))
    return hit[1]
