"""The old → new unit crosswalk (dim_unit_crosswalk) from the vietnamadminunits converter
data: every legacy commune of Hà Nội has a successor, whole vs split as in the package."""
from __future__ import annotations

import json
from importlib import resources

import pytest
import sqlalchemy as sa

from core import settings
from warehouse import units as U

HANOI_KEY = "thanhphohanoi"


@pytest.fixture(scope="module")
def converter() -> dict:
    text = resources.files("vietnamadminunits").joinpath("data/converter_2025.json").read_text(encoding="utf-8")
    return json.loads(text)


@pytest.fixture(scope="module")
def xw():
    return U.crosswalk_frame("01")


def test_every_legacy_commune_has_a_successor(xw):
    units = U.unit_frame(settings.get(), "01")
    legacy = set(units.loc[(units["scheme"] == "legacy") & (units["level"] == "xa"), "unit_key"])
    current = set(units.loc[units["scheme"] == "2025", "unit_key"])
    assert len(legacy) == 526 and len(current) == 126
    assert set(xw["old_unit_key"]) == legacy
    assert set(xw["new_unit_key"]) <= current
    # Every old commune has exactly one default successor (where its records go in the
    # remapped view); every new commune takes something from an old one.
    defaults = xw[xw["is_default"]].groupby("old_unit_key").size()
    assert len(defaults) == 526 and (defaults == 1).all()
    assert set(xw["new_unit_key"]) == current
    assert list(xw.columns) == U.CROSSWALK_COLUMNS
    assert xw["source"].str.startswith("vietnamadminunits").all()


def test_relations_are_the_packages(xw, converter):
    whole_keys = [o for olds in converter["DICT_PROVINCE_WARD_NO_DIVIDED"][HANOI_KEY].values() for o in olds]
    divided = converter["DICT_PROVINCE_WARD_DIVIDED"][HANOI_KEY]
    by_old = xw.groupby("old_unit_key")["relation"].agg(lambda s: set(s))
    assert (by_old.map(len) == 1).all()                          # never both
    relation = by_old.map(lambda s: next(iter(s)))
    assert int((relation == "whole").sum()) == len(whole_keys) == 327
    assert int((relation == "split").sum()) == len(divided) == 199
    assert (xw[xw["relation"] == "whole"].groupby("old_unit_key").size() == 1).all()
    # A known split commune: Phường Cống Vị (Ba Đình, 00007) went partly to Phường Ngọc
    # Hà (the package's default) and partly to Phường Giảng Võ.
    entry = divided["thanhphohanoi_quanbadinh_phuongcongvi"]
    assert {t["newWardKey"]: t["isDefaultNewWard"] for t in entry} == {"phuongngocha": True,
                                                                       "phuonggiangvo": False}
    rows = xw[xw["old_unit_key"] == "legacy:00007"].set_index("new_unit_key")
    assert set(rows["relation"]) == {"split"}
    assert rows["is_default"].to_dict() == {"2025:00008": True, "2025:00025": False}
    # A known whole one: Phường Trúc Bạch (00004) went entirely into Phường Ba Đình
    # (new code 00004: the code was reused).
    assert "thanhphohanoi_quanbadinh_phuongtrucbach" in converter[
        "DICT_PROVINCE_WARD_NO_DIVIDED"][HANOI_KEY]["phuongbadinh"]
    trb = xw[xw["old_unit_key"] == "legacy:00004"]
    assert trb[["new_unit_key", "relation", "is_default"]].values.tolist() == [["2025:00004", "whole", True]]


def test_unmapped_commune_is_an_error(monkeypatch, converter):
    """If the reference data left a legacy commune without a successor, the crosswalk
    says which one instead of silently losing its records in the remapped view."""
    broken = json.loads(json.dumps(converter))
    olds = broken["DICT_PROVINCE_WARD_NO_DIVIDED"][HANOI_KEY]["phuongbadinh"]
    olds.remove("thanhphohanoi_quanbadinh_phuongtrucbach")
    monkeypatch.setattr(U, "_converter_data", lambda: broken)
    U.crosswalk_frame.cache_clear()
    try:
        with pytest.raises(U.CrosswalkError, match=r"1 legacy commune.*Phường Trúc Bạch \(Quận Ba Đình, 00004\)"):
            U.crosswalk_frame("01")
        two_defaults = json.loads(json.dumps(converter))
        for t in two_defaults["DICT_PROVINCE_WARD_DIVIDED"][HANOI_KEY]["thanhphohanoi_quanbadinh_phuongcongvi"]:
            t["isDefaultNewWard"] = True
        monkeypatch.setattr(U, "_converter_data", lambda: two_defaults)
        U.crosswalk_frame.cache_clear()
        with pytest.raises(U.CrosswalkError, match="2 default successors"):
            U.crosswalk_frame("01")
    finally:
        U.crosswalk_frame.cache_clear()


def test_loaded_with_dim_unit_idempotently(warehouse):
    from warehouse.schema import dim_unit, dim_unit_crosswalk

    U.load_dim_unit(warehouse, settings.get())                    # the fixture loaded once already
    with warehouse.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(dim_unit_crosswalk)).scalar_one()
        rows = conn.execute(sa.select(dim_unit_crosswalk).where(
            dim_unit_crosswalk.c.old_unit_key == "legacy:00007")).mappings().all()
        orphans = conn.execute(sa.select(sa.func.count()).select_from(dim_unit_crosswalk).where(
            ~dim_unit_crosswalk.c.new_unit_key.in_(sa.select(dim_unit.c.unit_key)))).scalar_one()
    assert n == len(U.crosswalk_frame("01")) == 794
    assert {(r["new_unit_key"], r["relation"], r["is_default"]) for r in rows} == {
        ("2025:00008", "split", True), ("2025:00025", "split", False)}
    assert orphans == 0
