"""core.memo.by_identity: made once per object, again for another object."""
from __future__ import annotations

import pandas as pd

from core import memo


def test_made_once_per_object():
    calls = []

    def make(df):
        calls.append(id(df))
        return int(df["x"].sum())

    a = pd.DataFrame({"x": [1, 2]})
    assert memo.by_identity(a, make) == 3 and memo.by_identity(a, make) == 3
    assert len(calls) == 1
    b = pd.DataFrame({"x": [1, 2, 3]})           # another frame: made again
    assert memo.by_identity(b, make) == 6 and len(calls) == 2
    del a                                        # the cache keeps its object: no other frame takes its id
    assert memo.by_identity(pd.DataFrame({"x": [5]}), make) == 5 and len(calls) == 3
