"""One case key (mã vụ việc), one case, across the partitions of a source kind.

A case's records fall in the partition of their opening year, while the canonical suite
requires a case key to be unique within the source kind: two current records sharing a
key are both quarantined (SOURCE_ID_DUPLICATE, "Trùng mã bản ghi"), as a rebuild of
the whole kind in one piece would do. The suite sees one partition; across partitions,
each partition lists the keys of its official case rows in ``wh_case_candidate``, and
:func:`settle`, when a partition is published, quarantines its rows whose key another
partition also holds, and names the other partitions that must be rebuilt because a
key of theirs became, or stopped being, shared.
"""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from warehouse.schema import fact_case, wh_case_candidate

RULE = "SOURCE_ID_DUPLICATE"
_IN_LIST = 500


def duplicate_reason(kept_raw_id: int) -> str:
    """The reason of a row collapsed into an identical one (DUPLICATE), kept once."""
    return f"bản ghi trùng nội dung với bản ghi raw_id {int(kept_raw_id)}; chỉ tính một lần"


def _chunks(keys):
    keys = sorted(keys)
    for i in range(0, len(keys), _IN_LIST):
        yield keys[i:i + _IN_LIST]


def partition_candidates(source_kind: str, key: str) -> tuple:
    """The condition on wh_case_candidate for partition `key`'s rows (an index serves it)."""
    return (wh_case_candidate.c.source_kind == source_kind, wh_case_candidate.c.partition_key == key)


def settle(conn: sa.Connection, source_kind: str, key: str, candidates: pd.DataFrame | None,
           frame: pd.DataFrame | None) -> tuple[pd.DataFrame | None, list[int], list[str]]:
    """Inside partition `key`'s publishing transaction, after its previous rows were
    deleted: `candidates` are its official case rows (case_key, raw_id; None when it has
    none or is gone), `frame` the case rows it is about to publish. Returns the rows to
    publish, the raw ids to quarantine as sharing a key with another partition, and the
    other partitions to rebuild."""
    cand = wh_case_candidate.c
    mine = partition_candidates(source_kind, key)
    before = set(conn.execute(sa.select(cand.case_key).where(*mine)).scalars())
    conn.execute(wh_case_candidate.delete().where(*mine))
    rows = (candidates[candidates["case_key"].notna()] if candidates is not None
            else pd.DataFrame(columns=["case_key", "raw_id"]))
    recs = [{"source_kind": source_kind, "partition_key": key, "case_key": k, "raw_id": int(r)}
            for k, r in zip(rows["case_key"], rows["raw_id"])]
    for i in range(0, len(recs), 5000):
        conn.execute(wh_case_candidate.insert(), recs[i:i + 5000])
    now = set(rows["case_key"])
    holders: dict[str, set[str]] = {}               # case key → the other partitions holding it
    shown: dict[str, tuple[int, str]] = {}          # case key → a published row of another partition
    for chunk in _chunks(before | now):
        for k, raw_id, part in conn.execute(sa.select(cand.case_key, cand.raw_id, cand.partition_key).where(
                cand.source_kind == source_kind, cand.case_key.in_(chunk), cand.partition_key != key)):
            holders.setdefault(k, set()).add(part)
            for (published,) in conn.execute(sa.select(fact_case.c.raw_id).where(
                    fact_case.c.source_kind == source_kind, fact_case.c.case_key == k, fact_case.c.raw_id == raw_id)):
                shown[k] = (published, part)
    stale: set[str] = set()
    for k in before | now:
        others = holders.get(k, set())
        if not others:
            continue
        if (k in before) != (k in now):
            # Shared before and not now, or the other way round: the others' rows change side.
            stale |= others
        if k in now and k in shown:
            conn.execute(fact_case.delete().where(fact_case.c.source_kind == source_kind,
                                                  fact_case.c.raw_id == shown[k][0]))
            stale.add(shown[k][1])
    shared = {int(r) for k, r in zip(rows["case_key"], rows["raw_id"]) if holders.get(k)}
    if frame is not None and shared:
        frame = frame[~frame["raw_id"].isin(shared)]
    return frame, sorted(shared), sorted(stale)
